// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-cli-info: runs the built `peac info` (path from argv) on shared DICOM and PNG files
// and checks what it prints: dimensions, bits, spacing with its source tag, presets and
// range on stdout; both JPEG 2000 files with their transfer syntax and OpenJPEG as the
// decoder, their values against the same film's RLE file; "peac info: FILE: reason" on
// stderr and a non-zero exit for missing files while good files are still printed;
// --json parsed back; --help. The value ranges are not copied from peac's output: GDCM
// (`gdcmraw -P`, a decoder independent of DCMTK and of our OpenJPEG glue) writes each
// file's decoded pixel data, whose minimum and maximum the test computes itself (these
// files are unsigned 16-bit allocated with no rescale, so stored values are the modality
// values peac reports).
#include "io-test-util.h"

#include <jansson.h>

#include "peac-test-cli.h"

static const char *peac_path;

static void
assert_contains (const char *haystack, const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("expected \"%s\" in:\n%s", needle, haystack);
}

// "MIN .. MAX" of the pixel data of a 16-bit unsigned DICOM as decoded by GDCM, which has
// width × height samples.
static char *
gdcm_range (const char *dcm, int width, int height)
{
  g_autofree char *dir = io_test_tmpdir ();
  g_autofree char *raw = g_build_filename (dir, "pixels.raw", NULL);
  g_autofree char *bytes = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "gdcmraw", "-P", "-i", dcm, "-o", raw, NULL };
  gsize len = 0;
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &status, &error))
    g_error ("cannot run gdcmraw (libgdcm-tools): %s", error->message);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (g_file_get_contents (raw, &bytes, &len, NULL));
  g_remove (raw);
  g_rmdir (dir);
  g_assert_cmpuint (len, ==, (gsize) width * height * 2);
  const guchar *b = (const guchar *) bytes;
  int lo = G_MAXINT, hi = G_MININT;
  for (gsize i = 0; i < len; i += 2)
    {
      const int v = b[i] | b[i + 1] << 8;
      lo = MIN (lo, v), hi = MAX (hi, v);
    }
  return g_strdup_printf ("%-18s %d .. %d\n", "value range:", lo, hi);
}

static void
test_dicom_summary (void)
{
  g_autofree char *rle = peac_test_shared_path ("dicom/non-chest-format-coverage/WG04_RG2_RLE.dcm");
  g_auto (PeacTestRun) r = { 0 };

  peac_test_run (&r, peac_path, "info", (const char *[]) { rle, NULL });
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.err, ==, "");
  assert_contains (r.out, rle);
  assert_contains (r.out, "DICOM RLE Lossless (transfer syntax 1.2.840.10008.1.2.5)");
  assert_contains (r.out, "decoder:           DCMTK 3.6.7 RLE decoder");
  assert_contains (r.out, "1760x2140 (width x height)");
  assert_contains (r.out, "10 stored / 16 allocated");
  assert_contains (r.out, "MONOCHROME2");
  assert_contains (r.out, "0.2 x 0.2 mm (row x column) from PixelSpacing (0028,0030), calibrated");
  assert_contains (r.out, "CompressedSamples^RG2");
  assert_contains (r.out, "20031208");
  assert_contains (r.out, "centre 511 width 1024");
  g_autofree char *range = gdcm_range (rle, 1760, 2140);
  assert_contains (r.out, range);
  g_assert_null (strstr (r.out, "ImagerPixelSpacing"));
}

// The lossless file prints what the RLE file of the same film prints (range, spacing,
// window); the lossy one its own header's values and a range within its 10 bits.
static void
test_jpeg2000 (void)
{
  g_autofree char *j2kr = peac_test_shared_path ("dicom/non-chest-format-coverage/WG04_RG2_J2KR.dcm");
  g_autofree char *j2ki = peac_test_shared_path ("dicom/non-chest-format-coverage/WG04_RG3_J2KI.dcm");
  g_auto (PeacTestRun) r = { 0 };
  g_auto (GStrv) parts = NULL;

  peac_test_run (&r, peac_path, "info", (const char *[]) { j2kr, j2ki, NULL });
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.err, ==, "");
  parts = g_strsplit (r.out, "\n\n", -1);
  // Each part's lines end in a newline again (the split took the last one).
  for (int i = 0; parts[i]; i++)
    {
      char *t = g_strconcat (parts[i], "\n", NULL);
      g_free (parts[i]);
      parts[i] = t;
    }
  g_assert_cmpuint (g_strv_length (parts), ==, 2);
  assert_contains (parts[0], "DICOM JPEG 2000 (Lossless only) (transfer syntax 1.2.840.10008.1.2.4.90)");
  assert_contains (parts[0], "decoder:           OpenJPEG 2.5");
  assert_contains (parts[0], "1760x2140 (width x height)");
  assert_contains (parts[0], "10 stored / 16 allocated");
  assert_contains (parts[0], "0.2 x 0.2 mm (row x column) from PixelSpacing");
  assert_contains (parts[0], "centre 511 width 1024");
  g_autofree char *range_r = gdcm_range (j2kr, 1760, 2140);
  assert_contains (parts[0], range_r);
  assert_contains (parts[1], "DICOM JPEG 2000 (Lossless or Lossy) (transfer syntax 1.2.840.10008.1.2.4.91)");
  assert_contains (parts[1], "decoder:           OpenJPEG 2.5");
  assert_contains (parts[1], "1760x1760 (width x height)");
  assert_contains (parts[1], "inverted at display (MONOCHROME1");
  assert_contains (parts[1], "centre 550 width 1024");
  g_autofree char *range_i = gdcm_range (j2ki, 1760, 1760);
  assert_contains (parts[1], range_i);
}

static void
test_mixed (void)
{
  g_autofree char *mono1 = peac_test_shared_path ("dicom/chest/gdcm-CR-MONO1-10-chest.dcm");
  g_autofree char *png = peac_test_shared_path ("landmarks/jsrt/images_2048/JPCLN004.IMG.png");
  g_auto (PeacTestRun) r = { 0 };
  g_auto (GStrv) err_lines = NULL;
  g_autofree char *dir = NULL, *notdicom = NULL;

  dir = g_dir_make_tmp ("peac-info-XXXXXX", NULL);
  g_assert_nonnull (dir);
  notdicom = g_build_filename (dir, "x.dcm", NULL);
  g_assert_true (g_file_set_contents (notdicom, "not an image", -1, NULL));
  peac_test_run (&r, peac_path, "info", (const char *[]) { mono1, notdicom, "/nonexistent/x.dcm", png, NULL });
  g_remove (notdicom);
  g_rmdir (dir);
  g_assert_cmpint (r.status, ==, 1);
  // Both good files are printed, in order.
  assert_contains (r.out, "440x440");
  assert_contains (r.out, "inverted at display (MONOCHROME1");
  assert_contains (r.out, "centre 550 width 1024");
  assert_contains (r.out, "PNG palette 8-bit");
  assert_contains (r.out, "2048x2048");
  g_assert_true (strstr (r.out, "440x440") < strstr (r.out, "2048x2048"));
  err_lines = g_strsplit (g_strchomp (r.err), "\n", -1);
  g_assert_cmpuint (g_strv_length (err_lines), ==, 2);
  assert_contains (err_lines[0], notdicom);
  assert_contains (err_lines[0], "not a PNG, JPEG or DICOM file");
  assert_contains (err_lines[1], "peac info: /nonexistent/x.dcm: cannot open");
}

static void
test_json (void)
{
  g_autofree char *mono1 = peac_test_shared_path ("dicom/chest/gdcm-CR-MONO1-10-chest.dcm");
  g_auto (PeacTestRun) r = { 0 };
  json_t *root, *o, *w;

  peac_test_run (&r, peac_path, "info", (const char *[]) { "--json", mono1, "/nonexistent.png", NULL });
  g_assert_cmpint (r.status, ==, 1);
  root = peac_test_parse_json (r.out);
  g_assert_true (json_is_array (root));
  g_assert_cmpuint (json_array_size (root), ==, 2);
  o = json_array_get (root, 0);
  g_assert_cmpint (json_integer_value (json_object_get (o, "width")), ==, 440);
  g_assert_cmpint (json_integer_value (json_object_get (o, "bits_stored")), ==, 10);
  g_assert_cmpstr (json_string_value (json_object_get (o, "decoder")), ==,
                   "DCMTK 3.6.7 (uncompressed pixel data)");
  g_assert_true (json_is_true (json_object_get (o, "monochrome1")));
  g_assert_true (json_is_null (json_object_get (o, "pixel_spacing")));
  g_autofree char *range = gdcm_range (mono1, 440, 440);
  g_autofree char *ours = g_strdup_printf ("%-18s %g .. %g\n", "value range:",
                                           json_real_value (json_object_get (o, "min")),
                                           json_real_value (json_object_get (o, "max")));
  g_assert_cmpstr (ours, ==, range);
  w = json_array_get (json_object_get (o, "windows"), 0);
  g_assert_cmpfloat (json_real_value (json_object_get (w, "center")), ==, 550);
  g_assert_cmpfloat (json_real_value (json_object_get (w, "width")), ==, 1024);
  assert_contains (json_string_value (json_object_get (json_array_get (root, 1), "error")),
                   "/nonexistent.png");
  json_decref (root);
}

static void
test_help_and_usage (void)
{
  g_auto (PeacTestRun) help = { 0 };
  g_auto (PeacTestRun) none = { 0 };

  peac_test_run (&help, peac_path, "info", (const char *[]) { "--help", NULL });
  g_assert_cmpint (help.status, ==, 0);
  assert_contains (help.out, "--json");
  assert_contains (help.out, "FILE...");
  peac_test_run (&none, peac_path, "info", (const char *[]) { NULL });
  g_assert_cmpint (none.status, ==, 2);
  assert_contains (none.err, "no files");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_path = argc > 1 ? argv[1] : g_getenv ("PEAC_CLI");
  if (peac_path == NULL)
    {
      g_printerr ("usage: test-cli-info PATH-TO-PEAC (or set PEAC_CLI)\n");
      return 2;
    }
  g_test_add_func ("/cli/info/dicom-summary", test_dicom_summary);
  g_test_add_func ("/cli/info/jpeg2000", test_jpeg2000);
  g_test_add_func ("/cli/info/mixed-good-and-bad", test_mixed);
  g_test_add_func ("/cli/info/json", test_json);
  g_test_add_func ("/cli/info/help", test_help_and_usage);
  return g_test_run ();
}
