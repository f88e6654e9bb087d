// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-limits: inputs that declare more than they hold are refused before anything of
// their declared size is allocated. Each case runs in a subprocess whose address space is
// capped (RLIMIT_AS) at what it already maps plus 192 MiB, so an allocation of the
// declared size would fail and show up as an "out of memory" error (or a crash) instead of
// the specific refusal asserted here: images beyond PX_IMAGE_MAX_SIDE / PX_IMAGE_MAX_PIXELS
// (PNG, JPEG, DICOM), a DICOM whose pixel data element declares 512 MiB in a file of a few
// hundred bytes, safetensors files whose tensor table declares gigabytes past the end of
// the file, and a model file whose configuration declares 8 GiB of parameters in 16 bytes. Skipped under AddressSanitizer, which reserves terabytes of shadow memory.
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jpeglib.h>

#include "checkpoint.h"
#include "model.h"
#include "px-image.h"

#define HEADROOM (192u << 20)

static char *tmp_dir;

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

// Caps the address space at its current size plus HEADROOM.
static void
cap_address_space (void)
{
  unsigned long pages = 0;
  FILE *f = fopen ("/proc/self/statm", "r");
  g_assert_nonnull (f);
  g_assert_cmpint (fscanf (f, "%lu", &pages), ==, 1);
  fclose (f);
  rlim_t now = (rlim_t) pages * (rlim_t) sysconf (_SC_PAGESIZE);
  struct rlimit rl = { now + HEADROOM, now + HEADROOM };
  g_assert_cmpint (setrlimit (RLIMIT_AS, &rl), ==, 0);
  // The cap bites: one allocation of the headroom fails.
  void *big = g_try_malloc (HEADROOM);
  g_assert_null (big);
}

static char *
write_file (const char *name, const void *data, gsize len)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return path;
}

// Loads @path under the cap and asserts the error code and that the message names the
// file and contains @reason.
static void
expect_refused (const char *path, int code, const char *reason)
{
  cap_address_space ();
  g_autoptr (GError) error = NULL;
  PxImage *image = px_image_load (path, &error);
  g_assert_null (image);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_cmpint (error->code, ==, code);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_nonnull (strstr (error->message, reason));
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24), p[1] = (guint8) (v >> 16), p[2] = (guint8) (v >> 8), p[3] = (guint8) v;
}

static void
test_png_huge (void)
{
  if (g_test_subprocess ())
    {
      // Signature and an IHDR for 32768×32768 16-bit grey (2^30 pixels: past the pixel
      // limit, 4 GiB as floats), then a few bytes.
      guint8 buf[64] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
      put_be32 (buf + 8, 13);
      memcpy (buf + 12, "IHDR", 4);
      put_be32 (buf + 16, 32768);
      put_be32 (buf + 20, 32768);
      buf[24] = 16;
      g_autofree char *path = write_file ("huge.png", buf, sizeof buf);
      expect_refused (path, PX_IMAGE_ERROR_TOO_LARGE, "exceeds the limit");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_jpeg_huge (void)
{
  if (g_test_subprocess ())
    {
      // A real 16×16 grey JPEG whose SOF0 is patched to say 60000×60000.
      struct jpeg_compress_struct c;
      struct jpeg_error_mgr jerr;
      unsigned char *out = NULL;
      unsigned long out_len = 0;
      guint8 row[16] = { 0 };
      c.err = jpeg_std_error (&jerr);
      jpeg_create_compress (&c);
      jpeg_mem_dest (&c, &out, &out_len);
      c.image_width = c.image_height = 16;
      c.input_components = 1;
      c.in_color_space = JCS_GRAYSCALE;
      jpeg_set_defaults (&c);
      jpeg_start_compress (&c, TRUE);
      while (c.next_scanline < 16)
        {
          JSAMPROW r = row;
          jpeg_write_scanlines (&c, &r, 1);
        }
      jpeg_finish_compress (&c);
      jpeg_destroy_compress (&c);
      guint8 *buf = out;
      gsize n = out_len, sof = 0;
      for (gsize i = 2; i + 9 < n && !sof; i++)
        if (buf[i] == 0xff && buf[i + 1] == 0xc0)
          sof = i;
      g_assert_cmpuint (sof, >, 0);
      buf[sof + 5] = 0xea, buf[sof + 6] = 0x60; // height 60000
      buf[sof + 7] = 0xea, buf[sof + 8] = 0x60; // width 60000
      g_autofree char *path = write_file ("huge.jpg", buf, n);
      free (out);
      expect_refused (path, PX_IMAGE_ERROR_TOO_LARGE, "exceeds the limit");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

// A preamble-less explicit-VR little-endian dataset: Modality, the image pixel module
// for @rows × @cols 16-bit grey, and a Pixel Data element declaring @declared bytes of
// which only @present follow.
static GByteArray *
dicom_bytes (guint16 rows, guint16 cols, guint32 declared, guint present)
{
  GByteArray *b = g_byte_array_new ();
#define EL(g, e, vr, ...)                                                                  \
  do                                                                                       \
    {                                                                                      \
      const guint8 v[] = { __VA_ARGS__ };                                                  \
      const guint8 h[] = { (g) & 0xff, (g) >> 8, (e) & 0xff, (e) >> 8, vr[0], vr[1],       \
                           sizeof v, 0 };                                                  \
      g_byte_array_append (b, h, 8);                                                       \
      g_byte_array_append (b, v, sizeof v);                                                \
    }                                                                                      \
  while (0)
  EL (0x0008, 0x0060, "CS", 'C', 'R');
  EL (0x0028, 0x0002, "US", 1, 0);
  EL (0x0028, 0x0004, "CS", 'M', 'O', 'N', 'O', 'C', 'H', 'R', 'O', 'M', 'E', '2', ' ');
  EL (0x0028, 0x0010, "US", rows & 0xff, rows >> 8);
  EL (0x0028, 0x0011, "US", cols & 0xff, cols >> 8);
  EL (0x0028, 0x0100, "US", 16, 0);
  EL (0x0028, 0x0101, "US", 16, 0);
  EL (0x0028, 0x0102, "US", 15, 0);
  EL (0x0028, 0x0103, "US", 0, 0);
#undef EL
  const guint8 px[] = { 0xe0, 0x7f, 0x10, 0x00, 'O', 'W', 0, 0, declared & 0xff,
                        (declared >> 8) & 0xff, (declared >> 16) & 0xff, declared >> 24 };
  g_byte_array_append (b, px, sizeof px);
  for (guint i = 0; i < present; i++)
    g_byte_array_append (b, (const guint8 *) "\x01", 1);
  return b;
}

static void
test_dicom_huge (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr (GByteArray) b = dicom_bytes (65535, 65535, 64, 64);
      g_autofree char *path = write_file ("huge.dcm", b->data, b->len);
      expect_refused (path, PX_IMAGE_ERROR_TOO_LARGE, "exceeds the limit");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_dicom_pixel_data_beyond_file (void)
{
  if (g_test_subprocess ())
    {
      // 16384×16384 16-bit is within the image limits and declares exactly its 512 MiB of
      // pixel data, but the file ends 100 bytes into it.
      g_autoptr (GByteArray) b = dicom_bytes (16384, 16384, 16384u * 16384u * 2u, 100);
      g_autofree char *path = write_file ("short.dcm", b->data, b->len);
      expect_refused (path, PX_IMAGE_ERROR_CORRUPT, "truncated");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

// A safetensors file: header JSON padded to 8 bytes, then @data_len zero bytes.
static char *
write_safetensors (const char *name, const char *json, gsize data_len)
{
  gsize hl = strlen (json), padded = (hl + 7) & ~(gsize) 7;
  g_autofree guint8 *buf = g_malloc0 (8 + padded + data_len);
  for (int i = 0; i < 8; i++)
    buf[i] = (guint8) ((guint64) padded >> (8 * i));
  memcpy (buf + 8, json, hl);
  memset (buf + 8 + hl, ' ', padded - hl);
  return write_file (name, buf, 8 + padded + data_len);
}

static void
test_safetensors_beyond_file (void)
{
  if (g_test_subprocess ())
    {
      // A 2^30-float tensor (4 GiB) in a file with 16 bytes of data, as a tensor table and
      // as a model file: both refused by the header check.
      g_autofree char *path = write_safetensors ("big.safetensors",
        "{\"__metadata__\":{\"peac.arch\":\"vit\",\"peac.config\":\"{}\"},"
        "\"w\":{\"dtype\":\"F32\",\"shape\":[1073741824],\"data_offsets\":[0,4294967296]}}", 16);
      cap_address_space ();
      char err[512];
      PeacSafetensors *st = peac_st_open (path, err, sizeof err);
      g_assert_null (st);
      g_test_message ("%s", err);
      g_assert_true (g_str_has_prefix (err, path));
      g_assert_nonnull (strstr (err, "outside the data section of 16 bytes"));
      PeacModel *m = peac_model_load (path, err, sizeof err);
      g_assert_null (m);
      g_assert_nonnull (strstr (err, "outside the data section"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_model_config_beyond_file (void)
{
  if (g_test_subprocess ())
    {
      // A valid 16-byte tensor table whose model configuration declares a ViT of about two
      // billion parameters (8 GiB): refused before the parameter table is allocated.
      g_autofree char *path = write_safetensors ("config.safetensors",
        "{\"__metadata__\":{\"peac.arch\":\"vit\",\"peac.config\":\"{\\\"img_size\\\":224,"
        "\\\"patch_size\\\":16,\\\"embed_dim\\\":2048,\\\"depth\\\":40,\\\"num_heads\\\":1}\"},"
        "\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16);
      cap_address_space ();
      char err[512];
      g_assert_null (peac_model_load (path, err, sizeof err));
      g_test_message ("%s", err);
      g_assert_true (g_str_has_prefix (err, path));
      g_assert_nonnull (strstr (err, "far more than the 4 float values the file holds"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_safetensors_header_beyond_file (void)
{
  if (g_test_subprocess ())
    {
      // The header length itself claims 64 MiB (under the 100 MiB header limit) in a
      // 40-byte file.
      guint8 buf[40] = { 0 };
      guint64 hl = 64u << 20;
      for (int i = 0; i < 8; i++)
        buf[i] = (guint8) (hl >> (8 * i));
      memcpy (buf + 8, "{\"a\":", 5);
      g_autofree char *path = write_file ("hdr.safetensors", buf, sizeof buf);
      cap_address_space ();
      char err[512];
      g_assert_null (peac_st_open (path, err, sizeof err));
      g_test_message ("%s", err);
      g_assert_nonnull (strstr (err, "truncated file: header length 67108864"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
skip_under_asan (void)
{
  g_test_skip ("RLIMIT_AS caps cannot run under AddressSanitizer");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (UNDER_ASAN)
    g_test_add_func ("/limits/skipped-under-asan", skip_under_asan);
  tmp_dir = g_dir_make_tmp ("peac-limits-XXXXXX", NULL);
  if (!UNDER_ASAN)
    {
      g_test_add_func ("/limits/png-beyond-max-size", test_png_huge);
      g_test_add_func ("/limits/jpeg-beyond-max-size", test_jpeg_huge);
      g_test_add_func ("/limits/dicom-beyond-max-size", test_dicom_huge);
      g_test_add_func ("/limits/dicom-pixel-data-beyond-file", test_dicom_pixel_data_beyond_file);
      g_test_add_func ("/limits/safetensors-tensor-beyond-file", test_safetensors_beyond_file);
      g_test_add_func ("/limits/model-config-beyond-file", test_model_config_beyond_file);
      g_test_add_func ("/limits/safetensors-header-beyond-file",
                       test_safetensors_header_beyond_file);
    }
  int rc = g_test_run ();
  GDir *d = g_dir_open (tmp_dir, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (tmp_dir, n, NULL);
      g_unlink (p);
    }
  if (d)
    g_dir_close (d);
  g_rmdir (tmp_dir);
  return rc;
}
