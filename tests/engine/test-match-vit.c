// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-match-vit: the matcher on token grids of a real network — a random-init ViT micro
// model (peac_model_new, fixed seed) — over crops of a real radiograph. Crop B is crop A
// moved by whole cells inside the same radiograph, so every overlap cell of A has a partner
// in B holding identical pixels. The partners must be found with high confidence; where B
// is blanked, the answer must be "no match"; landmark propagation through the context must
// carry points by the shift.
#include <glib.h>
#include <math.h>
#include <string.h>

#include "match.h"
#include "model.h"
#include "peac-test-cli.h"
#include "px-image.h"

#define SIDE 224
#define CELL 16
#define G (SIDE / CELL)

static const char *config =
  "{\"img_size\": 224, \"patch_size\": 16, \"embed_dim\": 64, \"depth\": 2, \"num_heads\": 2}";

// Crop at (x0, y0) of the presentation image, PEAC-normalised, grey replicated ×3.
static void
crop_input (const PxImage *img, const float *unit, int x0, int y0, float *x)
{
  const size_t n = SIDE * SIDE;
  for (int y = 0; y < SIDE; y++)
    for (int c = 0; c < SIDE; c++)
      {
        float v = (unit[(size_t) (y0 + y) * img->width + x0 + c] - 0.5056f) / 0.252f;
        x[y * SIDE + c] = x[n + y * SIDE + c] = x[2 * n + y * SIDE + c] = v;
      }
}

static PxImage *
load_radiograph (float **unit)
{
  // A missing radiograph fails the test, naming it (peac_test_shared_path).
  g_autofree char *path = peac_test_shared_path ("cxr/hannover-covid19/png/0a7faa2a.png");
  g_autoptr (GError) error = NULL;
  PxImage *img = px_image_load (path, &error);
  g_assert_no_error (error);
  *unit = g_new (float, (gsize) img->width * img->height);
  for (gsize i = 0; i < (gsize) img->width * img->height; i++)
    (*unit)[i] = img->pixels[i] / 255.0f;
  return img;
}

static void
run_shift (gboolean blank)
{
  float *unit;
  PxImage *img = load_radiograph (&unit);
  char err[256];
  PeacModel *m = peac_model_new (PEAC_ARCH_VIT, "timm", config, 5, err, sizeof err);
  g_assert_nonnull (m);
  int gh, gw, dim;
  peac_model_output_shape (m, SIDE, SIDE, &gh, &gw, &dim);
  g_assert_cmpint (gh, ==, G);
  g_assert_cmpint (gw, ==, G);
  float *x = g_new (float, 3 * SIDE * SIDE), *ta = g_new (float, G * G * dim),
        *tb = g_new (float, G * G * dim);
  const int ax = 160, ay = 140, dx = 2, dy = 1;  // B starts dx, dy cells right of/below A
  crop_input (img, unit, ax, ay, x);
  g_assert_cmpint (peac_model_forward (m, x, 1, SIDE, SIDE, ta, NULL, NULL, NULL, err,
                                       sizeof err), ==, 0);
  crop_input (img, unit, ax + dx * CELL, ay + dy * CELL, x);
  // Blanked: B's cells rows 5..8, cols 4..7 set to a constant (0 after normalisation).
  if (blank)
    for (int c = 0; c < 3; c++)
      for (int y = 5 * CELL; y < 9 * CELL; y++)
        for (int xx = 4 * CELL; xx < 8 * CELL; xx++)
          x[c * SIDE * SIDE + y * SIDE + xx] = 0.0f;
  g_assert_cmpint (peac_model_forward (m, x, 1, SIDE, SIDE, tb, NULL, NULL, NULL, err,
                                       sizeof err), ==, 0);
  PeacGrid a = { ta, G, G, SIDE, SIDE }, b = { tb, G, G, SIDE, SIDE };
  PeacMatchContext *ctx = peac_match_context_new (&a, &b, 1, dim, NULL, err, sizeof err);
  g_assert_nonnull (ctx);

  // The fitted affine is the shift: p' = p − (dx, dy)·CELL.
  double A[6];
  g_assert_cmpint (peac_match_affine (ctx, 0, A), >=, 100);
  g_assert_cmpfloat (fabs (A[0] - 1) + fabs (A[1]) + fabs (A[3]) + fabs (A[4] - 1), <, 0.01);
  g_assert_cmpfloat (fabs (A[2] + dx * CELL), <, 0.5);
  g_assert_cmpfloat (fabs (A[5] + dy * CELL), <, 0.5);

  for (int mode = 0; mode < 2; mode++)
    {
      int n = 0, blanked = 0;
      double conf = 0;
      for (int r = 0; r < G; r++)
        for (int c = 0; c < G; c++)
          {
            int pr = r - dy, pc = c - dx;
            if (pr < 0 || pc < 0)
              continue;
            PeacMatch q;
            g_assert_cmpint (peac_match_query_cell (ctx, 0, r, c, mode, &q, NULL), ==, 0);
            if (blank && pr >= 5 && pr < 9 && pc >= 4 && pc < 8)
              {
                g_assert_false (q.found);
                blanked++;
                continue;
              }
            g_assert_true (q.found);
            g_assert_cmpint (q.row, ==, pr);
            g_assert_cmpint (q.col, ==, pc);
            conf += q.confidence;
            n++;
          }
      g_assert_cmpint (blanked, ==, blank ? 16 : 0);
      g_assert_cmpint (n + blanked, ==, (G - dx) * (G - dy));
      g_test_message ("mode %d: mean confidence %.2f over %d cells", mode, conf / n, n);
      g_assert_cmpfloat (conf / n, >, 0.4);
    }

  // Landmark propagation: points anywhere in the overlap move by the shift.
  float pts[2 * 40];
  GRand *rng = g_rand_new_with_seed (9);
  for (int i = 0; i < 40; i++)
    {
      pts[2 * i] = (float) g_rand_double_range (rng, dx * CELL, SIDE);
      pts[2 * i + 1] = (float) g_rand_double_range (rng, dy * CELL, SIDE);
    }
  g_rand_free (rng);
  PeacMatch out[40];
  g_assert_cmpint (peac_match_propagate (ctx, pts, 40, PEAC_MATCH_GUIDED, out), ==, 0);
  double e = 0;
  int used = 0;
  for (int i = 0; i < 40; i++)
    {
      double tx = pts[2 * i] - dx * CELL, ty = pts[2 * i + 1] - dy * CELL;
      if (blank && tx >= 4 * CELL - CELL && tx < 8 * CELL + CELL && ty >= 5 * CELL - CELL
          && ty < 9 * CELL + CELL)
        continue;   // near the blanked block
      e += hypot (out[i].x - tx, out[i].y - ty) / CELL;
      used++;
    }
  g_test_message ("propagation: mean error %.3f cells over %d points", e / used, used);
  g_assert_cmpint (used, >=, 20);
  g_assert_cmpfloat (e / used, <, 0.35);

  peac_match_context_free (ctx);
  peac_model_free (m);
  g_free (x), g_free (ta), g_free (tb), g_free (unit);
  px_image_free (img);
}

static void
test_vit_shift (void)
{
  run_shift (FALSE);
}

static void
test_vit_blanked (void)
{
  run_shift (TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/match-vit/shift", test_vit_shift);
  g_test_add_func ("/match-vit/blanked", test_vit_blanked);
  return g_test_run ();
}
