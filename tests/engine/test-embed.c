// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-embed: the preprocessing filter against hand-computed weights and crop geometry, and
// `peac embed` on real radiographs from $PEAC_SHARED_DIR/data with the vit_micro fixture
// as the model: the stored grids have the right shapes (standard and dense --stride 8,
// --layer) and equal the library path (px_image_load → px_image_to_unit →
// peac_preprocess → peac_model_forward_ex).
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "model.h"
#include "ops.h"
#include "peac-test-cli.h"
#include "preprocess.h"
#include "px-image.h"

static void
test_resample (void)
{
  // 8 → 4: triangle of half-width 2 centred on 2i + 1 → interior weights 1/8, 3/8, 3/8, 1/8.
  const float x[8] = { 1, 2, 4, 8, 16, 32, 64, 128 };
  float y[4];
  peac_resample_1d (x, 8, y, 4, 0, 4);
  g_assert_cmpfloat (fabs (y[1] - (2 + 3 * 4 + 3 * 8 + 16) / 8.0), <, 1e-5);
  g_assert_cmpfloat (fabs (y[2] - (8 + 3 * 16 + 3 * 32 + 64) / 8.0), <, 1e-5);
  // Border: the tap outside is dropped and the rest renormalised: (3·1 + 3·2 + 4)/7.
  g_assert_cmpfloat (fabs (y[0] - (3 * 1 + 3 * 2 + 4) / 7.0), <, 1e-5);
  // Same size is the identity; a partial window gives the same samples.
  float z[8], w[3];
  peac_resample_1d (x, 8, z, 8, 0, 8);
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (fabs (z[i] - x[i]), <, 1e-5);
  peac_resample_1d (x, 8, w, 4, 1, 3);
  g_assert_cmpfloat (w[0], ==, y[1]);
  // Upscaling 2 → 4: bilinear between samples, clamped at the ends: 1, 1.25, 1.75, 2.
  const float two[2] = { 1, 2 };
  float four[4];
  peac_resample_1d (two, 2, four, 4, 0, 4);
  g_assert_cmpfloat (fabs (four[0] - 1.0), <, 1e-6);
  g_assert_cmpfloat (fabs (four[1] - 1.25), <, 1e-6);
  g_assert_cmpfloat (fabs (four[2] - 1.75), <, 1e-6);
  g_assert_cmpfloat (fabs (four[3] - 2.0), <, 1e-6);
}

static void
test_preprocess (void)
{
  // 64 × 32 image: left and right quarters 1, middle half 0. With crop, 16 px: resized to
  // 32 × 16, window x ∈ [8, 24) = input columns 16…47 → the middle (0) away from the edges.
  enum { W = 64, H = 32, S = 16 };
  float img[W * H], out[3 * S * S];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      img[y * W + x] = x < 16 || x >= 48 ? 1.0f : 0.0f;
  PeacPreprocess p = { S, PEAC_MEAN, PEAC_STD, 1 };
  g_assert_cmpint (peac_preprocess (img, W, H, &p, out), ==, 0);
  const float zero = (0 - PEAC_MEAN) / PEAC_STD, one = (1 - PEAC_MEAN) / PEAC_STD;
  for (int y = 0; y < S; y++)
    for (int x = 1; x < S - 1; x++)
      g_assert_cmpfloat (fabs (out[y * S + x] - zero), <, 1e-5);
  g_assert_cmpfloat (out[0], >, zero + 0.1f); // the first column sees a bit of the 1s
  // Three identical channels.
  g_assert_cmpmem (out, S * S * 4, out + S * S, S * S * 4);
  g_assert_cmpmem (out, S * S * 4, out + 2 * S * S, S * S * 4);
  // Without crop the whole width is squeezed in: the 1s are at both edges.
  p.crop = 0;
  g_assert_cmpint (peac_preprocess (img, W, H, &p, out), ==, 0);
  g_assert_cmpfloat (fabs (out[5 * S + 0] - one), <, 1e-5);
  g_assert_cmpfloat (fabs (out[5 * S + S - 1] - one), <, 1e-5);
  g_assert_cmpfloat (fabs (out[5 * S + S / 2] - zero), <, 1e-5);
  // Bad arguments are refused.
  p.std = 0;
  g_assert_cmpint (peac_preprocess (img, W, H, &p, out), ==, -1);
}

static float *
read_named (PeacSafetensors *st, const char *name, int ndim, const int64_t *shape)
{
  const PeacStTensor *t = peac_st_find (st, name);
  g_assert_nonnull (t);
  g_assert_cmpint (t->ndim, ==, ndim);
  for (int i = 0; i < ndim; i++)
    g_assert_cmpint (t->shape[i], ==, shape[i]);
  float *x = g_new (float, t->numel);
  char err[256];
  g_assert_cmpint (peac_st_read_f32 (st, t, x, err, sizeof err), ==, 0);
  return x;
}

// Runs `peac embed` with extra options on two images and checks it against the library.
static void
check_embed (int stride, int layer, int want_g)
{
  // A missing fixture or radiograph fails the test, naming it.
  g_autofree char *model = peac_test_reference_path ("vit_micro.safetensors");
  g_autofree char *img0 = peac_test_shared_path ("cxr/nih-chestxray14/00000001_000.png");
  g_autofree char *img1 = peac_test_shared_path ("cxr/hannover-covid19/png/262a70ca.png");
  g_autofree char *dir = g_dir_make_tmp ("peac-embed-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (dir, "emb.safetensors", NULL);
  g_autofree char *s_stride = g_strdup_printf ("%d", stride);
  g_autofree char *s_layer = g_strdup_printf ("%d", layer);
  char *argv[] = { "embed", "--model", model, "--threads", "2", "--batch", "2", "-q",
                   "--stride", s_stride, "--layer", s_layer, img0, img1, "-o", out, NULL };
  g_assert_cmpint (peac_cmd_embed (G_N_ELEMENTS (argv) - 1, argv), ==, 0);

  char err[1024];
  PeacSafetensors *st = peac_st_open (out, err, sizeof err);
  g_assert_nonnull (st);
  const char *meta = peac_st_meta (st, "peac.embed");
  g_assert_nonnull (meta);
  g_assert_nonnull (strstr (meta, "00000001_000.png"));
  g_assert_nonnull (strstr (meta, "\"size\":224"));

  PeacModel *m = peac_model_load (model, err, sizeof err);
  g_assert_nonnull (m);
  PeacForwardOptions fo = { stride, layer };
  int gh, gw, D;
  peac_model_output_shape_ex (m, &fo, 224, 224, &gh, &gw, &D);
  g_assert_cmpint (gh, ==, want_g);
  g_assert_cmpint (gw, ==, want_g);
  g_assert_cmpint (D, ==, 64);
  const char *paths[2] = { img0, img1 };
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *gname = g_strdup_printf ("grid.%d", i);
      g_autofree char *pname = g_strdup_printf ("pooled.%d", i);
      int64_t gs[3] = { gh, gw, D }, ps[1] = { D };
      float *grid = read_named (st, gname, 3, gs), *pool = read_named (st, pname, 1, ps);
      // The library path, one image at a time.
      GError *error = NULL;
      PxImage *img = px_image_load (paths[i], &error);
      g_assert_no_error (error);
      float *unit = g_new (float, (gsize) img->width * img->height);
      px_image_to_unit (img, unit);
      float *in = g_new (float, 3 * 224 * 224);
      PeacPreprocess pp = { 224, PEAC_MEAN, PEAC_STD, 1 };
      g_assert_cmpint (peac_preprocess (unit, img->width, img->height, &pp, in), ==, 0);
      float *f = g_new (float, (gsize) gh * gw * D), *p = g_new (float, D);
      g_assert_cmpint (peac_model_forward_ex (m, &fo, in, 1, 224, 224, f, p, NULL, NULL, err,
                                              sizeof err), ==, 0);
      double e = 0, big = 0;
      for (int k = 0; k < gh * gw * D; k++)
        {
          e = fmax (e, fabs (f[k] - grid[k]));
          big = fmax (big, fabs (f[k]));
        }
      for (int k = 0; k < D; k++)
        e = fmax (e, fabs (p[k] - pool[k]));
      g_test_message ("image %d stride %d layer %d: max |cli − library| = %.3g (max %.3g)", i,
                      stride, layer, e, big);
      g_assert_cmpfloat (big, >, 0.1);    // real features, not zeros
      g_assert_cmpfloat (e, <=, 1e-5);    // batch of 2 vs 1 may round differently
      g_free (grid), g_free (pool), g_free (unit), g_free (in), g_free (f), g_free (p);
      px_image_free (img);
    }
  peac_model_free (m);
  peac_st_close (st);
  g_unlink (out);
  g_rmdir (dir);
}

static void test_embed_default (void) { check_embed (0, -1, 14); }
static void test_embed_dense (void) { check_embed (8, -1, 27); }
static void test_embed_layer (void) { check_embed (0, 0, 14); }

static void
test_embed_errors (void)
{
  g_autofree char *model = peac_test_reference_path ("vit_micro.safetensors");
  g_autofree char *dir = g_dir_make_tmp ("peac-embed-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (dir, "emb.safetensors", NULL);
  g_autofree char *junk = g_build_filename (dir, "junk.png", NULL);
  g_assert_true (g_file_set_contents (junk, "not an image", -1, NULL));
  char *a1[] = { "embed", "--model", model, "-q", junk, "-o", out, NULL };
  g_assert_cmpint (peac_cmd_embed (7, a1), !=, 0);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  char *a2[] = { "embed", "--model", model, "-q", "--layer", "7", junk, "-o", out, NULL };
  g_assert_cmpint (peac_cmd_embed (9, a2), !=, 0);
  char *a3[] = { "embed", "--model", junk, "-q", junk, "-o", out, NULL };
  g_assert_cmpint (peac_cmd_embed (7, a3), !=, 0);
  g_unlink (junk);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_threads_set (2);
  g_test_add_func ("/embed/resample", test_resample);
  g_test_add_func ("/embed/preprocess", test_preprocess);
  g_test_add_func ("/embed/cli-default", test_embed_default);
  g_test_add_func ("/embed/cli-dense-stride8", test_embed_dense);
  g_test_add_func ("/embed/cli-layer0", test_embed_layer);
  g_test_add_func ("/embed/errors", test_embed_errors);
  return g_test_run ();
}
