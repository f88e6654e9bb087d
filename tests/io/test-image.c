// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-image: the format-independent parts of px-image: content sniffing (PNG, JPEG, DICOM
// with and without preamble, and things that are none of these), the default window, and
// presentation (windowing, MONOCHROME1 inversion, explicit inversion) on small images
// whose expected output is computed by hand.
#include "io-test-util.h"

static PxImage *
make_image (int w, int h, const float *values)
{
  PxImage *im = g_new0 (PxImage, 1);

  im->width = w;
  im->height = h;
  im->pixels = g_memdup2 (values, sizeof (float) * (gsize) w * (gsize) h);
  im->data_min = values[0];
  im->data_max = values[0];
  for (int i = 0; i < w * h; i++)
    {
      im->data_min = MIN (im->data_min, values[i]);
      im->data_max = MAX (im->data_max, values[i]);
    }
  return im;
}

static void
test_sniff (void)
{
  guint8 buf[200] = { 0 };
  static const guint8 png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  // (0008,0005) CS explicit VR little endian, and (0008,0016) implicit with length 26.
  static const guint8 explicit_le[8] = { 0x08, 0x00, 0x05, 0x00, 'C', 'S', 0x0a, 0x00 };
  static const guint8 implicit_le[8] = { 0x08, 0x00, 0x16, 0x00, 26, 0, 0, 0 };

  memcpy (buf, png, 8);
  g_assert_cmpint (px_image_sniff_format (buf, sizeof buf), ==, PX_FORMAT_PNG);
  g_assert_cmpint (px_image_sniff_format (buf, 7), ==, PX_FORMAT_UNKNOWN);

  memset (buf, 0, sizeof buf);
  buf[0] = 0xff, buf[1] = 0xd8, buf[2] = 0xff;
  g_assert_cmpint (px_image_sniff_format (buf, sizeof buf), ==, PX_FORMAT_JPEG);

  memset (buf, 0, sizeof buf);
  memcpy (buf + 128, "DICM", 4);
  g_assert_cmpint (px_image_sniff_format (buf, sizeof buf), ==, PX_FORMAT_DICOM);
  g_assert_cmpint (px_image_sniff_format (buf, 131), ==, PX_FORMAT_UNKNOWN);

  memset (buf, 0, sizeof buf);
  memcpy (buf, explicit_le, 8);
  g_assert_cmpint (px_image_sniff_format (buf, sizeof buf), ==, PX_FORMAT_DICOM);
  memcpy (buf, implicit_le, 8);
  g_assert_cmpint (px_image_sniff_format (buf, sizeof buf), ==, PX_FORMAT_DICOM);

  // Text, an all-zero block and a group that is neither 0002 nor 0008.
  g_assert_cmpint (px_image_sniff_format ((const guint8 *) "hello, world", 12), ==,
                   PX_FORMAT_UNKNOWN);
  memset (buf, 0, sizeof buf);
  g_assert_cmpint (px_image_sniff_format (buf, sizeof buf), ==, PX_FORMAT_UNKNOWN);
  buf[0] = 0x10;
  buf[4] = 'P', buf[5] = 'N';
  g_assert_cmpint (px_image_sniff_format (buf, sizeof buf), ==, PX_FORMAT_UNKNOWN);

  g_assert_cmpstr (px_format_to_string (PX_FORMAT_DICOM), ==, "DICOM");
  g_assert_cmpstr (px_format_to_string (PX_FORMAT_PNG), ==, "PNG");
  g_assert_cmpstr (px_format_to_string (PX_FORMAT_JPEG), ==, "JPEG");
}

static void
test_default_window (void)
{
  const float v[4] = { 100, 300, 200, 500 };
  g_autoptr (PxImage) im = make_image (2, 2, v);
  double c = 0, w = 0;

  // No presets: the data range.
  px_image_default_window (im, &c, &w);
  g_assert_cmpfloat (c, ==, 300.0);
  g_assert_cmpfloat (w, ==, 400.0);

  // A preset from the file wins.
  im->windows = g_new0 (PxWindowPreset, 1);
  im->n_windows = 1;
  im->windows[0].center = 40;
  im->windows[0].width = 80;
  px_image_default_window (im, &c, &w);
  g_assert_cmpfloat (c, ==, 40.0);
  g_assert_cmpfloat (w, ==, 80.0);
}

static void
test_render (void)
{
  // Values below, inside and above a window centred at 512, width 257 (so the linear part
  // runs from 383.5 to 639.5 over 256 steps).
  const float v[6] = { 0, 383.5f, 575.5f, 639.5f, 1000, 447.5f };
  g_autoptr (PxImage) im = make_image (3, 2, v);
  guint8 out[6];
  const guint8 expect[6] = { 0, 0, 191, 255, 255, 64 };

  px_image_render_u8 (im, 512, 257, FALSE, out);
  for (int i = 0; i < 6; i++)
    g_assert_cmpint (out[i], ==, expect[i]);

  // Explicit inversion flips; MONOCHROME1 flips; both cancel.
  px_image_render_u8 (im, 512, 257, TRUE, out);
  for (int i = 0; i < 6; i++)
    g_assert_cmpint (out[i], ==, 255 - expect[i]);
  im->monochrome1 = TRUE;
  px_image_render_u8 (im, 512, 257, FALSE, out);
  for (int i = 0; i < 6; i++)
    g_assert_cmpint (out[i], ==, 255 - expect[i]);
  px_image_render_u8 (im, 512, 257, TRUE, out);
  for (int i = 0; i < 6; i++)
    g_assert_cmpint (out[i], ==, expect[i]);
}

static void
test_to_unit (void)
{
  const float v[4] = { 10, 20, 30, 50 };
  g_autoptr (PxImage) im = make_image (2, 2, v);
  float out[4];

  // Default window = data range 10..50 (centre 30, width 40): linear from 10 over 39.
  px_image_to_unit (im, out);
  g_assert_cmpfloat_with_epsilon (out[0], 0.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[1], (20 - 10) / 39.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[2], (30 - 10) / 39.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[3], 1.0, 1e-6);

  im->monochrome1 = TRUE;
  px_image_to_unit (im, out);
  g_assert_cmpfloat_with_epsilon (out[0], 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[2], 1.0 - (30 - 10) / 39.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (out[3], 0.0, 1e-6);

  // A flat image must not divide by zero.
  const float flat[4] = { 7, 7, 7, 7 };
  g_autoptr (PxImage) f = make_image (2, 2, flat);
  px_image_to_unit (f, out);
  for (int i = 0; i < 4; i++)
    g_assert_true (out[i] >= 0.f && out[i] <= 1.f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/image/sniff", test_sniff);
  g_test_add_func ("/io/image/default-window", test_default_window);
  g_test_add_func ("/io/image/render-u8", test_render);
  g_test_add_func ("/io/image/to-unit", test_to_unit);
  return g_test_run ();
}
