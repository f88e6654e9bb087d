// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-malformed: bad input must give a PX_IMAGE_ERROR naming the file, never a crash or a
// half-loaded image: truncated copies of real PNG, DICOM (uncompressed, RLE, JPEG-LS,
// JPEG) files at many lengths, single flipped bytes in a PNG, random bytes, an empty file,
// a nonexistent path and a directory.
#include "io-test-util.h"
#include "peac-test-cli.h"

// Loads every truncation of @rel at @n_cuts lengths spread over the file (plus a few
// fixed ones) from a temp copy; each must fail with the copy's name in the message.
static void
check_truncations (const char *rel, int n_cuts)
{
  g_autofree char *path = peac_test_shared_path (rel);
  g_autofree char *data = NULL;
  gsize len = 0;
  char *dir;
  int codes[PX_IMAGE_ERROR_TOO_LARGE + 1] = { 0 };

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  dir = io_test_tmpdir ();
  for (int i = 0; i <= n_cuts + 4; i++)
    {
      // 1, 8, 100, 200 bytes, then evenly spread up to 16 bytes short of the end.
      static const gsize fixed[] = { 1, 8, 100, 200 };
      gsize cut = i < 4 ? fixed[i] : (len - 16) * (gsize) (i - 3) / (gsize) (n_cuts + 1);
      g_autofree char *name = g_strdup_printf ("cut-%zu", cut);
      g_autofree char *copy = NULL;

      if (cut == 0 || cut >= len)
        continue;
      copy = io_test_write (dir, name, data, cut);
      codes[io_test_expect_failure (copy)]++;
    }
  g_test_message ("%s: %d open, %d format, %d corrupt, %d unsupported, %d too large", rel,
                  codes[0], codes[1], codes[2], codes[3], codes[4]);
  // Short prefixes are not recognisable; the rest are recognised and called corrupt.
  g_assert_cmpint (codes[PX_IMAGE_ERROR_CORRUPT], >=, n_cuts / 2);
  io_test_rmdir (dir);
}

static void
test_truncated_png (void)
{
  check_truncations ("cxr/nih-chestxray14/00000001_000.png", 12);
}

static void
test_truncated_dicom_native (void)
{
  check_truncations ("dicom/chest/gdcm-CR-MONO1-10-chest.dcm", 12);
}

// A DICOM cut in its pixel data is told in plain words, not in DCMTK's "I/O suspension or
// premature end of stream".
static void
test_truncated_dicom_words (void)
{
  g_autofree char *path = peac_test_shared_path ("dicom/chest/gdcm-CR-MONO1-10-chest.dcm");
  g_autofree char *data = NULL, *copy = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PxImage) image = NULL;
  gsize len = 0;
  char *dir;

  g_assert_nonnull (path);
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  dir = io_test_tmpdir ();
  copy = io_test_write (dir, "half.dcm", data, len / 2);
  image = px_image_load (copy, &error);
  g_assert_null (image);
  g_assert_error (error, PX_IMAGE_ERROR, PX_IMAGE_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "half.dcm"));
  g_assert_nonnull (strstr (error->message, "the file ends before its data does"));
  g_assert_null (strstr (error->message, "suspension"));
  io_test_rmdir (dir);
}

static void
test_truncated_dicom_rle (void)
{
  check_truncations ("dicom/non-chest-format-coverage/WG04_RG2_RLE.dcm", 6);
}

static void
test_truncated_dicom_jpegls (void)
{
  check_truncations ("dicom/chest/WG04_RG1_JLSN.dcm", 6);
}

static void
test_truncated_dicom_jpeg (void)
{
  check_truncations (
    "dicom/chest/siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm", 8);
}

static void
test_flipped_png (void)
{
  // A flipped byte anywhere after the signature must be caught (CRC or zlib check).
  g_autofree char *path = peac_test_shared_path ("cxr/nih-chestxray14/00027426_000.png");
  g_autofree char *data = NULL;
  gsize len = 0;
  char *dir;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  dir = io_test_tmpdir ();
  for (int i = 1; i <= 6; i++)
    {
      gsize at = 8 + (len - 20) * (gsize) i / 7;
      g_autofree char *name = g_strdup_printf ("flip-%zu.png", at);
      g_autofree char *copy = NULL;

      data[at] ^= 0x5a;
      copy = io_test_write (dir, name, data, len);
      data[at] ^= 0x5a;
      g_assert_cmpint (io_test_expect_failure (copy), ==, PX_IMAGE_ERROR_CORRUPT);
    }
  io_test_rmdir (dir);
}

static void
test_random_bytes (void)
{
  char *dir = io_test_tmpdir ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (1234);
  guint8 buf[4096];

  for (int round = 0; round < 8; round++)
    {
      g_autofree char *name = g_strdup_printf ("random-%d.bin", round);
      g_autofree char *path = NULL;

      for (gsize i = 0; i < sizeof buf; i++)
        buf[i] = (guint8) g_rand_int_range (rand, 0, 256);
      // Rounds 4–7 carry a valid signature so the bytes reach each decoder.
      if (round == 4)
        memcpy (buf, "\x89PNG\r\n\x1a\n", 8);
      else if (round == 5)
        buf[0] = 0xff, buf[1] = 0xd8, buf[2] = 0xff;
      else if (round == 6)
        memcpy (buf + 128, "DICM", 4);
      else if (round == 7)
        memcpy (buf, "\x08\x00\x05\x00" "CS", 6);
      path = io_test_write (dir, name, buf, sizeof buf);
      int code = io_test_expect_failure (path);
      if (round < 4)
        g_assert_cmpint (code, ==, PX_IMAGE_ERROR_FORMAT);
      else
        g_assert_cmpint (code, !=, PX_IMAGE_ERROR_FORMAT);
    }
  io_test_rmdir (dir);
}

static void
test_empty_missing_dir (void)
{
  char *dir = io_test_tmpdir ();
  g_autofree char *empty = io_test_write (dir, "empty.png", "", 0);
  g_autofree char *missing = g_build_filename (dir, "does-not-exist.dcm", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (io_test_expect_failure (empty), ==, PX_IMAGE_ERROR_FORMAT);
  g_assert_cmpint (io_test_expect_failure (missing), ==, PX_IMAGE_ERROR_OPEN);
  g_assert_cmpint (io_test_expect_failure (dir), ==, PX_IMAGE_ERROR_OPEN);
  g_assert_null (px_image_load (missing, &error));
  g_assert_nonnull (strstr (error->message, "No such file"));
  io_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/malformed/truncated-png", test_truncated_png);
  g_test_add_func ("/io/malformed/truncated-dicom-native", test_truncated_dicom_native);
  g_test_add_func ("/io/malformed/truncated-dicom-words", test_truncated_dicom_words);
  g_test_add_func ("/io/malformed/truncated-dicom-rle", test_truncated_dicom_rle);
  g_test_add_func ("/io/malformed/truncated-dicom-jpegls", test_truncated_dicom_jpegls);
  g_test_add_func ("/io/malformed/truncated-dicom-jpeg", test_truncated_dicom_jpeg);
  g_test_add_func ("/io/malformed/flipped-png", test_flipped_png);
  g_test_add_func ("/io/malformed/random-bytes", test_random_bytes);
  g_test_add_func ("/io/malformed/empty-missing-directory", test_empty_missing_dir);
  return g_test_run ();
}
