// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-png: PNG decoding. Synthesised files (written here with libpng into a temp folder)
// cover 16-bit grey (kept exactly, values that 8 bits could not hold), Adam7 interlace,
// 1-bit grey, grey+alpha, RGB and RGBA to grey, palettes applied; real files cover the
// JSRT inverted-palette radiographs (lungs must come out darker than the mediastinum) and
// an NIH grey PNG; a header that claims 100000×100000 must be refused before allocating.
#include "io-test-util.h"
#include "peac-test-cli.h"

#include <png.h>

typedef struct {
  int          color_type;
  int          depth;
  gboolean     interlace;
  png_color   *palette;
  int          n_palette;
} PngSpec;

// Writes a PNG whose rows are given in libpng's packed, big-endian layout.
static char *
write_png (const char *dir, const char *name, int w, int h, const PngSpec *spec,
           const guint8 *rows, gsize rowbytes)
{
  char *path = g_build_filename (dir, name, NULL);
  FILE *f = fopen (path, "wb");
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);

  g_assert_nonnull (f);
  g_assert_nonnull (png);
  g_assert_nonnull (info);
  if (setjmp (png_jmpbuf (png)))
    g_error ("libpng failed to write %s", path);
  png_init_io (png, f);
  png_set_IHDR (png, info, w, h, spec->depth, spec->color_type,
                spec->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (spec->palette)
    png_set_PLTE (png, info, spec->palette, spec->n_palette);
  png_write_info (png, info);
  {
    g_autofree png_bytep *ptrs = g_new (png_bytep, h);
    for (int y = 0; y < h; y++)
      ptrs[y] = (png_bytep) rows + (gsize) y * rowbytes;
    png_write_image (png, ptrs);
  }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  fclose (f);
  return path;
}

static guint
grey16 (int x, int y)
{
  // Odd step sizes so most values are not multiples of 257 (an 8→16 bit scale).
  return (guint) ((x * 4099 + y * 131 + 7) % 65536);
}

static void
check_16bit_grey (gboolean interlace)
{
  const int w = 37, h = 23;
  g_autofree guint8 *rows = g_malloc ((gsize) w * h * 2);
  char *dir = io_test_tmpdir ();
  PngSpec spec = { PNG_COLOR_TYPE_GRAY, 16, interlace, NULL, 0 };
  g_autofree char *path = NULL;
  g_autoptr (PxImage) im = NULL;
  int not_257 = 0;
  guint lo = 65535, hi = 0;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint v = grey16 (x, y);
        rows[(y * w + x) * 2] = v >> 8;
        rows[(y * w + x) * 2 + 1] = v & 0xff;
        not_257 += v % 257 != 0;
        lo = MIN (lo, v);
        hi = MAX (hi, v);
      }
  g_assert_cmpint (not_257, >, w * h / 2);
  path = write_png (dir, "grey16.png", w, h, &spec, rows, (gsize) w * 2);
  im = io_test_load_ok (path);
  g_assert_cmpint (im->width, ==, w);
  g_assert_cmpint (im->height, ==, h);
  g_assert_cmpint (im->format, ==, PX_FORMAT_PNG);
  g_assert_cmpint (im->bits_stored, ==, 16);
  g_assert_cmpstr (im->photometric, ==, "GRAY");
  g_assert_false (im->monochrome1);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      g_assert_cmpfloat (im->pixels[y * w + x], ==, (float) grey16 (x, y));
  g_assert_cmpfloat (im->data_min, ==, (float) lo);
  g_assert_cmpfloat (im->data_max, ==, (float) hi);
  io_test_rmdir (dir);
}

static void
test_grey16 (void)
{
  check_16bit_grey (FALSE);
}

static void
test_grey16_interlaced (void)
{
  check_16bit_grey (TRUE);
}

static void
test_grey1 (void)
{
  // 9 pixels wide: one full byte and one bit of the next per row.
  const guint8 rows[2 * 2] = { 0xa5, 0x80, 0x0f, 0x00 };
  const int expect[2][9] = { { 1, 0, 1, 0, 0, 1, 0, 1, 1 }, { 0, 0, 0, 0, 1, 1, 1, 1, 0 } };
  char *dir = io_test_tmpdir ();
  PngSpec spec = { PNG_COLOR_TYPE_GRAY, 1, FALSE, NULL, 0 };
  g_autofree char *path = write_png (dir, "grey1.png", 9, 2, &spec, rows, 2);
  g_autoptr (PxImage) im = io_test_load_ok (path);

  g_assert_cmpint (im->bits_stored, ==, 1);
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 9; x++)
      g_assert_cmpfloat (im->pixels[y * 9 + x], ==, expect[y][x] ? 255.f : 0.f);
  io_test_rmdir (dir);
}

static void
test_grey_alpha (void)
{
  const int w = 16, h = 4;
  guint8 rows[16 * 4 * 2];
  char *dir = io_test_tmpdir ();
  PngSpec spec = { PNG_COLOR_TYPE_GRAY_ALPHA, 8, FALSE, NULL, 0 };
  g_autofree char *path = NULL;
  g_autoptr (PxImage) im = NULL;

  for (int i = 0; i < w * h; i++)
    {
      rows[2 * i] = (guint8) (i * 3 + 1);
      rows[2 * i + 1] = (guint8) (255 - i * 4); // alpha must be ignored, not blended
    }
  path = write_png (dir, "ga.png", w, h, &spec, rows, w * 2);
  im = io_test_load_ok (path);
  for (int i = 0; i < w * h; i++)
    g_assert_cmpfloat (im->pixels[i], ==, (float) (i * 3 + 1));
  io_test_rmdir (dir);
}

static void
test_rgb (void)
{
  // Row 0: grey pixels (R = G = B) must come back exactly; row 1: colours become luma.
  const guint8 rows[2 * 3 * 3] = {
    0, 0, 0,       128, 128, 128,  201, 201, 201,
    255, 0, 0,     0, 255, 0,      10, 20, 200,
  };
  const float expect[6] = { 0, 128, 201, 0.299f * 255, 0.587f * 255,
                            0.299f * 10 + 0.587f * 20 + 0.114f * 200 };
  char *dir = io_test_tmpdir ();
  PngSpec spec = { PNG_COLOR_TYPE_RGB, 8, FALSE, NULL, 0 };
  g_autofree char *path = write_png (dir, "rgb.png", 3, 2, &spec, rows, 9);
  g_autoptr (PxImage) im = io_test_load_ok (path);

  g_assert_cmpstr (im->photometric, ==, "RGB");
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (im->pixels[i], ==, expect[i]);
  for (int i = 3; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (im->pixels[i], expect[i], 1e-3);
  io_test_rmdir (dir);
}

static void
test_rgba16 (void)
{
  // 16-bit RGBA grey pixels keep all 16 bits; alpha is dropped.
  const guint v[3] = { 1, 40000, 65534 };
  guint8 rows[3 * 8];
  char *dir = io_test_tmpdir ();
  PngSpec spec = { PNG_COLOR_TYPE_RGB_ALPHA, 16, FALSE, NULL, 0 };
  g_autofree char *path = NULL;
  g_autoptr (PxImage) im = NULL;

  for (int i = 0; i < 3; i++)
    for (int c = 0; c < 4; c++)
      {
        guint s = c == 3 ? 1000u * (guint) i : v[i];
        rows[i * 8 + c * 2] = s >> 8;
        rows[i * 8 + c * 2 + 1] = s & 0xff;
      }
  path = write_png (dir, "rgba16.png", 3, 1, &spec, rows, sizeof rows);
  im = io_test_load_ok (path);
  g_assert_cmpint (im->bits_stored, ==, 16);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (im->pixels[i], ==, (float) v[i]);
  io_test_rmdir (dir);
}

static void
test_palette (void)
{
  // An inverted grey palette (like JSRT) plus one colour entry.
  png_color pal[256];
  guint8 rows[4 * 4];
  char *dir = io_test_tmpdir ();
  PngSpec spec = { PNG_COLOR_TYPE_PALETTE, 8, FALSE, pal, 256 };
  g_autofree char *path = NULL;
  g_autoptr (PxImage) im = NULL;

  for (int i = 0; i < 256; i++)
    pal[i].red = pal[i].green = pal[i].blue = (png_byte) (255 - i);
  pal[200].red = 100, pal[200].green = 50, pal[200].blue = 0;
  for (int i = 0; i < 16; i++)
    rows[i] = (guint8) (i * 13);
  rows[15] = 200;
  path = write_png (dir, "pal.png", 4, 4, &spec, rows, 4);
  im = io_test_load_ok (path);
  g_assert_cmpstr (im->photometric, ==, "PALETTE");
  g_assert_cmpint (im->bits_stored, ==, 8);
  for (int i = 0; i < 15; i++)
    g_assert_cmpfloat (im->pixels[i], ==, (float) (255 - i * 13));
  g_assert_cmpfloat_with_epsilon (im->pixels[15], 0.299f * 100 + 0.587f * 50, 1e-3);
  io_test_rmdir (dir);
}

static double
region_mean (const PxImage *im, int x0, int y0, int x1, int y1)
{
  double s = 0;

  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      s += im->pixels[(gsize) y * im->width + x];
  return s / ((double) (x1 - x0) * (y1 - y0));
}

static void
test_jsrt_palette (void)
{
  g_autofree char *path = peac_test_shared_path ("landmarks/jsrt/images_2048/JPCLN004.IMG.png");
  g_autoptr (PxImage) im = NULL;
  double lung_r, lung_l, mediastinum;

  im = io_test_load_ok (path);
  g_assert_cmpint (im->width, ==, 2048);
  g_assert_cmpint (im->height, ==, 2048);
  g_assert_cmpstr (im->photometric, ==, "PALETTE");
  // Right and left lung fields against the mediastinum, rows through the mid-thorax.
  lung_r = region_mean (im, 450, 600, 700, 1100);
  lung_l = region_mean (im, 1350, 600, 1600, 1100);
  mediastinum = region_mean (im, 900, 600, 1150, 1100);
  g_test_message ("JSRT means: lungs %.1f / %.1f, mediastinum %.1f", lung_r, lung_l,
                  mediastinum);
  g_assert_cmpfloat (lung_r + 25, <, mediastinum);
  g_assert_cmpfloat (lung_l + 25, <, mediastinum);
}

static void
test_nih_grey (void)
{
  g_autofree char *path = peac_test_shared_path ("cxr/nih-chestxray14/00000001_000.png");
  g_autoptr (PxImage) im = NULL;

  im = io_test_load_ok (path);
  g_assert_cmpint (im->width, ==, 512);
  g_assert_cmpint (im->height, ==, 512);
  g_assert_cmpint (im->bits_stored, ==, 8);
  g_assert_cmpstr (im->photometric, ==, "GRAY");
  g_assert_cmpfloat (im->data_min, >=, 0);
  g_assert_cmpfloat (im->data_max, <=, 255);
  g_assert_cmpfloat (im->data_max - im->data_min, >, 100);
  g_assert_nonnull (strstr (im->path, "00000001_000.png"));
}

// PNG CRC-32 (ISO 3309), bitwise: enough for one IHDR chunk.
static guint32
crc32_png (const guint8 *p, gsize n)
{
  guint32 c = 0xffffffffu;

  for (gsize i = 0; i < n; i++)
    {
      c ^= p[i];
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
  return c ^ 0xffffffffu;
}

static void
put32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24, p[1] = (v >> 16) & 0xff, p[2] = (v >> 8) & 0xff, p[3] = v & 0xff;
}

static void
test_huge_header (void)
{
  // Signature, then a valid IHDR (with CRC) for 100000×100000 8-bit grey, then nothing.
  guint8 buf[8 + 25] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  char *dir = io_test_tmpdir ();
  g_autofree char *path = NULL;

  put32 (buf + 8, 13);
  memcpy (buf + 12, "IHDR", 4);
  put32 (buf + 16, 100000);
  put32 (buf + 20, 100000);
  buf[24] = 8;  // depth
  buf[25] = 0;  // grey
  put32 (buf + 29, crc32_png (buf + 12, 17));
  path = io_test_write (dir, "huge.png", buf, sizeof buf);
  g_assert_cmpint (io_test_expect_failure (path), ==, PX_IMAGE_ERROR_TOO_LARGE);
  io_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io/png/grey16-exact", test_grey16);
  g_test_add_func ("/io/png/grey16-interlaced", test_grey16_interlaced);
  g_test_add_func ("/io/png/grey1", test_grey1);
  g_test_add_func ("/io/png/grey-alpha", test_grey_alpha);
  g_test_add_func ("/io/png/rgb-to-grey", test_rgb);
  g_test_add_func ("/io/png/rgba16", test_rgba16);
  g_test_add_func ("/io/png/palette-applied", test_palette);
  g_test_add_func ("/io/png/jsrt-inverted-palette", test_jsrt_palette);
  g_test_add_func ("/io/png/nih-grey", test_nih_grey);
  g_test_add_func ("/io/png/huge-header-refused", test_huge_header);
  return g_test_run ();
}
