// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-jpeg: JPEG decoding of files written here with libjpeg: a grey gradient (baseline
// and progressive) must decode close to what was written, a colour file must decode to its
// luma, and a truncated copy must be an error (libjpeg would otherwise pad it with grey).
#include "io-test-util.h"

#include <math.h>
#include <stdio.h>
#include <jpeglib.h>

static char *
write_jpeg (const char *dir, const char *name, int w, int h, int components,
            gboolean progressive, const guint8 *pixels)
{
  char *path = g_build_filename (dir, name, NULL);
  FILE *f = fopen (path, "wb");
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;

  g_assert_nonnull (f);
  c.err = jpeg_std_error (&err);
  jpeg_create_compress (&c);
  jpeg_stdio_dest (&c, f);
  c.image_width = w;
  c.image_height = h;
  c.input_components = components;
  c.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults (&c);
  jpeg_set_quality (&c, 100, TRUE);
  if (progressive)
    jpeg_simple_progression (&c);
  jpeg_start_compress (&c, TRUE);
  while (c.next_scanline < c.image_height)
    {
      JSAMPROW row = (JSAMPROW) pixels + (gsize) c.next_scanline * w * components;
      jpeg_write_scanlines (&c, &row, 1);
    }
  jpeg_finish_compress (&c);
  jpeg_destroy_compress (&c);
  fclose (f);
  return path;
}

static guint8
gradient (int x, int y)
{
  return (guint8) ((x * 2 + y) & 0xff);
}

static void
check_grey (gboolean progressive)
{
  const int w = 96, h = 64;
  g_autofree guint8 *px = g_malloc (w * h);
  char *dir = io_test_tmpdir ();
  g_autofree char *path = NULL;
  g_autoptr (PxImage) im = NULL;
  float worst = 0;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      px[y * w + x] = gradient (x, y);
  path = write_jpeg (dir, "grey.jpg", w, h, 1, progressive, px);
  im = io_test_load_ok (path);
  g_assert_cmpint (im->format, ==, PX_FORMAT_JPEG);
  g_assert_cmpint (im->width, ==, w);
  g_assert_cmpint (im->height, ==, h);
  g_assert_cmpint (im->bits_stored, ==, 8);
  g_assert_cmpstr (im->photometric, ==, "GRAY");
  g_assert_nonnull (strstr (im->format_detail, progressive ? "progressive" : "baseline"));
  for (int i = 0; i < w * h; i++)
    worst = MAX (worst, fabsf (im->pixels[i] - px[i]));
  g_test_message ("quality-100 grey JPEG: worst error %.0f", worst);
  g_assert_cmpfloat (worst, <=, 3);
  // 8-bit samples are integers in 0..255.
  g_assert_cmpfloat (im->data_min, >=, 0);
  g_assert_cmpfloat (im->data_max, <=, 255);
  g_assert_cmpfloat (im->pixels[5], ==, floorf (im->pixels[5]));
  io_test_rmdir (dir);
}

static void
test_grey_baseline (void)
{
  check_grey (FALSE);
}

static void
test_grey_progressive (void)
{
  check_grey (TRUE);
}

static void
test_colour (void)
{
  // Four flat 16×16 colour blocks: flat blocks survive JPEG nearly exactly.
  const guint8 colours[4][3] = { { 200, 30, 30 }, { 30, 200, 30 }, { 30, 30, 200 },
                                 { 120, 120, 120 } };
  const int w = 64, h = 16;
  g_autofree guint8 *px = g_malloc (w * h * 3);
  char *dir = io_test_tmpdir ();
  g_autofree char *path = NULL;
  g_autoptr (PxImage) im = NULL;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      memcpy (px + (y * w + x) * 3, colours[x / 16], 3);
  path = write_jpeg (dir, "colour.jpg", w, h, 3, FALSE, px);
  im = io_test_load_ok (path);
  g_assert_nonnull (strstr (im->format_detail, "colour"));
  for (int b = 0; b < 4; b++)
    {
      float luma = 0.299f * colours[b][0] + 0.587f * colours[b][1] + 0.114f * colours[b][2];
      float v = im->pixels[8 * w + b * 16 + 8];
      g_assert_cmpfloat_with_epsilon (v, luma, 2.5);
    }
  io_test_rmdir (dir);
}

static void
test_truncated (void)
{
  const int w = 64, h = 64;
  g_autofree guint8 *px = g_malloc (w * h);
  char *dir = io_test_tmpdir ();
  g_autofree char *path = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  for (int i = 0; i < w * h; i++)
    px[i] = gradient (i % w, i / w);
  path = write_jpeg (dir, "full.jpg", w, h, 1, FALSE, px);
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  // Cut in the headers, just after them and in the middle of the entropy-coded data.
  const gsize cuts[] = { 3, 20, 200, len / 2, len - 3 };
  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autofree char *name = g_strdup_printf ("cut-%zu.jpg", cuts[i]);
      g_autofree char *cut = io_test_write (dir, name, data, cuts[i]);
      int code = io_test_expect_failure (cut);
      g_assert_cmpint (code, ==, PX_IMAGE_ERROR_CORRUPT);
    }
  io_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/jpeg/grey-baseline", test_grey_baseline);
  g_test_add_func ("/io/jpeg/grey-progressive", test_grey_progressive);
  g_test_add_func ("/io/jpeg/colour-to-luma", test_colour);
  g_test_add_func ("/io/jpeg/truncated", test_truncated);
  return g_test_run ();
}
