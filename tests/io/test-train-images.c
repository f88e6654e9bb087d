// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-train-images: the training-image loader of `peac train` and the training page.
// Oracles by hand: a PNG (written here with libpng's own writer) whose left half is one
// grey and right half another is windowed to its range, so it becomes 0 and 1; squeezed
// to a square, columns farther from the middle than the resize filter reaches stay exactly
// 0 and 1, and by symmetry every row averages 1/2. A set keeps the order of its paths, leaves out (and
// reports, naming the file) what cannot be read, and loads nothing once the abort flag is
// raised. The pixel parity with PyTorch's resize is tests/pretrain's (grey-square).
#include <png.h>
#include <stdatomic.h>

#include "io-test-util.h"
#include "px-train-images.h"

// A w × h 8-bit grey PNG: the left half @left, the right half @right.
static char *
write_halves (const char *dir,
              const char *name,
              int         w,
              int         h,
              guint8      left,
              guint8      right)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autofree guint8 *px = g_malloc ((gsize) w * h);
  png_image image = { 0 };

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      px[(gsize) y * w + x] = x < w / 2 ? left : right;
  image.version = PNG_IMAGE_VERSION;
  image.width = w;
  image.height = h;
  image.format = PNG_FORMAT_GRAY;
  g_assert_true (png_image_write_to_file (&image, path, 0, px, w, NULL));
  return path;
}

static void
test_halves (void)
{
  g_autofree char *dir = io_test_tmpdir ();
  g_autofree char *path = write_halves (dir, "halves.png", 128, 96, 40, 200);
  g_autoptr(GError) error = NULL;
  g_autofree float *grey = px_train_image_load (path, 16, &error);

  g_assert_no_error (error);
  g_assert_nonnull (grey);
  for (int y = 0; y < 16; y++)
    {
      double sum = 0;

      for (int x = 0; x < 16; x++)
        {
          float v = grey[y * 16 + x];

          if (x < 5)
            g_assert_cmpfloat_with_epsilon (v, 0, 1e-5);
          else if (x > 10)
            g_assert_cmpfloat_with_epsilon (v, 1, 1e-5);
          g_assert_cmpfloat (v, >=, -1e-5);
          g_assert_cmpfloat (v, <=, 1 + 1e-5);
          sum += v;
        }
      g_assert_cmpfloat_with_epsilon (sum / 16, 0.5, 1e-4);
    }
  io_test_rmdir (g_steal_pointer (&dir));
}

typedef struct {
  GPtrArray *paths;     // told to the skip function
  gboolean   prefixed;  // every message started with its path
} Skips;

static void
on_skipped (const char   *path,
            const GError *error,
            gpointer      data)
{
  Skips *skips = data;

  g_ptr_array_add (skips->paths, g_strdup (path));
  skips->prefixed = skips->prefixed && g_str_has_prefix (error->message, path);
}

static void
test_set (void)
{
  g_autofree char *dir = io_test_tmpdir ();
  g_autofree char *light = write_halves (dir, "light.png", 64, 64, 250, 10);
  g_autofree char *dark = write_halves (dir, "dark.png", 48, 80, 10, 250);
  g_autofree char *broken = io_test_write (dir, "broken.png", "\x89PNG\r\n\x1a\nnot a PNG", 17);
  g_autofree char *missing = g_build_filename (dir, "missing.png", NULL);
  const char *paths[] = { light, broken, missing, dark };
  Skips skips = { g_ptr_array_new_with_free_func (g_free), TRUE };
  atomic_int abort_flag = 0;
  PeacGrey *images;
  int n = -1;

  images = px_train_images_load (paths, G_N_ELEMENTS (paths), 16, &abort_flag, on_skipped,
                                 &skips, &n);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpint (images[0].w, ==, 16);
  g_assert_cmpint (images[0].h, ==, 16);
  // In the order of the paths: light (left half bright) first.
  g_assert_cmpfloat_with_epsilon (images[0].px[0], 1, 1e-5);
  g_assert_cmpfloat_with_epsilon (images[1].px[0], 0, 1e-5);
  g_assert_cmpuint (skips.paths->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (skips.paths, 0), ==, broken);
  g_assert_cmpstr (g_ptr_array_index (skips.paths, 1), ==, missing);
  g_assert_true (skips.prefixed);
  px_train_images_free (images, n);

  // Raised before the first file: nothing is loaded, nothing reported.
  atomic_store (&abort_flag, 1);
  images = px_train_images_load (paths, G_N_ELEMENTS (paths), 16, &abort_flag, on_skipped,
                                 &skips, &n);
  g_assert_cmpint (n, ==, 0);
  g_assert_cmpuint (skips.paths->len, ==, 2);
  px_train_images_free (images, n);

  g_ptr_array_unref (skips.paths);
  io_test_rmdir (g_steal_pointer (&dir));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train-images/halves", test_halves);
  g_test_add_func ("/train-images/set", test_set);
  return g_test_run ();
}
