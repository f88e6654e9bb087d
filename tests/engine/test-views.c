// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-views: PEAC's grid-based matching. For thousands of random crop pairs (random image
// sizes, grids, cell sizes, shifts) over images of distinct random pixels: every paired
// cell holds identical pixels in the two crops, every crop-1 cell whose pixels occur
// anywhere in crop 2 is paired (no unpaired overlap cell remains), and the pair count is
// the overlap area. The transposed rule of the reference code fails the same check, so
// the check can fail. Also: cell shuffling moves cells where the permutation says, and
// the sampler is deterministic given the seed.
#include <glib.h>
#include <string.h>

#include "views.h"

// Same pixels in crop-1 cell i and crop-2 cell j?
static int
same_cell (const float *a, const float *b, int i, int j, int C, int G, int cell)
{
  const int S = G * cell;
  for (int ch = 0; ch < C; ch++)
    for (int y = 0; y < cell; y++)
      if (memcmp (a + ((size_t) ch * S + (i / G) * cell + y) * S + (i % G) * cell,
                  b + ((size_t) ch * S + (j / G) * cell + y) * S + (j % G) * cell,
                  (size_t) cell * sizeof (float)) != 0)
        return 0;
  return 1;
}

// Checks pairing `pair` against pixel content; returns the number of violations.
static int
violations (const float *c1, const float *c2, const int *pair, int C, int G, int cell)
{
  int bad = 0;
  for (int i = 0; i < G * G; i++)
    {
      if (pair[i] >= 0)
        bad += !same_cell (c1, c2, i, pair[i], C, G, cell);
      else
        for (int j = 0; j < G * G; j++)
          bad += same_cell (c1, c2, i, j, C, G, cell);
    }
  return bad;
}

static void
test_pairing (void)
{
  PeacRng rng;
  peac_rng_seed (&rng, 2023);
  GRand *gr = g_rand_new_with_seed (5);
  int draws = 0, transposed_bad_draws = 0, asymmetric = 0;
  for (int d = 0; d < 10000; d++)
    {
      PeacViewConfig cfg = { .grid = g_rand_int_range (gr, 2, 8),
                             .cell = g_rand_int_range (gr, 1, 5) };
      cfg.max_shift = g_rand_int_range (gr, 1, cfg.grid);
      const int C = g_rand_int_range (gr, 1, 4);
      const int h = (cfg.grid + cfg.max_shift) * cfg.cell + g_rand_int_range (gr, 0, 20);
      const int w = (cfg.grid + cfg.max_shift) * cfg.cell + g_rand_int_range (gr, 0, 20);
      float *img = g_new (float, (size_t) C * h * w);
      for (size_t i = 0; i < (size_t) C * h * w; i++)
        img[i] = (float) i; // every pixel distinct
      PeacViewPair v;
      g_assert_cmpint (peac_views_sample (&cfg, h, w, &rng, &v), ==, 0);
      const int G = cfg.grid, S = G * cfg.cell;
      // Offsets differ by at most max_shift cells; crops lie inside the image.
      g_assert_cmpint (ABS (v.dr[0] - v.dr[1]), <=, cfg.max_shift);
      g_assert_cmpint (ABS (v.dc[0] - v.dc[1]), <=, cfg.max_shift);
      for (int k = 0; k < 2; k++)
        {
          g_assert_cmpint (v.oy + v.dr[k] * cfg.cell + S, <=, h);
          g_assert_cmpint (v.ox + v.dc[k] * cfg.cell + S, <=, w);
        }
      float *c1 = g_new (float, (size_t) C * S * S), *c2 = g_new (float, (size_t) C * S * S);
      peac_views_cut (&v, 0, img, C, h, w, c1);
      peac_views_cut (&v, 1, img, C, h, w, c2);
      int pair[PEAC_VIEWS_MAX_GRID * PEAC_VIEWS_MAX_GRID];
      int n = peac_views_pairs (&v, pair);
      g_assert_cmpint (n, ==, (G - ABS (v.dr[0] - v.dr[1])) * (G - ABS (v.dc[0] - v.dc[1])));
      g_assert_cmpint (n, >, 0);
      g_assert_cmpint (violations (c1, c2, pair, C, G, cfg.cell), ==, 0);
      // The reference code's masks: rows and columns of the offset swapped.
      if (v.dr[0] - v.dr[1] != v.dc[0] - v.dc[1])
        {
          PeacViewPair t = v;
          t.dr[0] = v.dc[0], t.dr[1] = v.dc[1], t.dc[0] = v.dr[0], t.dc[1] = v.dr[1];
          int tp[PEAC_VIEWS_MAX_GRID * PEAC_VIEWS_MAX_GRID];
          peac_views_pairs (&t, tp);
          transposed_bad_draws += violations (c1, c2, tp, C, G, cfg.cell) > 0;
          asymmetric++;
        }
      draws++;
      g_free (img), g_free (c1), g_free (c2);
    }
  g_test_message ("%d draws; transposed rule wrong in %d of %d asymmetric draws", draws,
                  transposed_bad_draws, asymmetric);
  g_assert_cmpint (asymmetric, >, 5000);
  g_assert_cmpint (transposed_bad_draws, ==, asymmetric);
  g_rand_free (gr);
}

static void
test_refuses_small (void)
{
  PeacRng rng;
  peac_rng_seed (&rng, 1);
  PeacViewPair v;
  PeacViewConfig cfg = { .grid = 7, .cell = 32, .max_shift = 3 };
  g_assert_cmpint (peac_views_sample (&cfg, 319, 400, &rng, &v), ==, -1);
  g_assert_cmpint (peac_views_sample (&cfg, 320, 320, &rng, &v), ==, 0);
  cfg.max_shift = 7; // must stay below the grid, or crops may not overlap
  g_assert_cmpint (peac_views_sample (&cfg, 1000, 1000, &rng, &v), ==, -1);
}

static void
test_deterministic (void)
{
  PeacViewConfig cfg = { .grid = 14, .cell = 16, .max_shift = 6 };
  PeacRng a, b;
  peac_rng_seed (&a, 77), peac_rng_seed (&b, 77);
  for (int i = 0; i < 100; i++)
    {
      PeacViewPair va, vb;
      g_assert_cmpint (peac_views_sample (&cfg, 512, 600, &a, &va), ==, 0);
      g_assert_cmpint (peac_views_sample (&cfg, 512, 600, &b, &vb), ==, 0);
      g_assert_cmpint (memcmp (&va, &vb, sizeof va), ==, 0);
    }
}

static void
test_shuffle (void)
{
  PeacRng rng;
  peac_rng_seed (&rng, 9);
  const int G = 5, cell = 3, C = 2, S = G * cell;
  float *in = g_new (float, C * S * S), *out = g_new (float, C * S * S);
  for (int i = 0; i < C * S * S; i++)
    in[i] = (float) i;
  int perm[25], seen[25] = { 0 };
  peac_views_permutation (&rng, perm, G * G);
  int moved = 0;
  for (int i = 0; i < G * G; i++)
    seen[perm[i]]++, moved += perm[i] != i;
  for (int i = 0; i < G * G; i++)
    g_assert_cmpint (seen[i], ==, 1);
  g_assert_cmpint (moved, >, 0);
  peac_views_shuffle_cells (in, out, perm, C, G, cell);
  // out cell i holds in cell perm[i]: pixel (ch, y, x) of out cell i equals the pixel at
  // the same place inside in cell perm[i].
  for (int i = 0; i < G * G; i++)
    for (int ch = 0; ch < C; ch++)
      for (int y = 0; y < cell; y++)
        for (int x = 0; x < cell; x++)
          {
            int oy = (i / G) * cell + y, ox = (i % G) * cell + x;
            int sy = (perm[i] / G) * cell + y, sx = (perm[i] % G) * cell + x;
            g_assert_cmpfloat (out[(ch * S + oy) * S + ox], ==, in[(ch * S + sy) * S + sx]);
          }
  g_free (in), g_free (out);
}

// The reference run's geometry: a 303² image, 14 cells of 16 px and shifts up to 4. The
// lattice origin takes every value in 0 … 15 (the jitter), crop offsets lie in 0 … 4 cells
// and every crop fits: 18 whole cells follow the origin.
static void
test_jitter (void)
{
  PeacRng rng;
  peac_rng_seed (&rng, 77);
  PeacViewConfig cfg = { .grid = 14, .cell = 16, .max_shift = 4 };
  int seen_oy[16] = { 0 }, seen_ox[16] = { 0 }, max_off = 0;
  for (int d = 0; d < 4000; d++)
    {
      PeacViewPair v;
      g_assert_cmpint (peac_views_sample (&cfg, 303, 303, &rng, &v), ==, 0);
      g_assert_cmpint (v.oy, >=, 0);
      g_assert_cmpint (v.oy, <=, 15);
      g_assert_cmpint (v.ox, >=, 0);
      g_assert_cmpint (v.ox, <=, 15);
      seen_oy[v.oy]++, seen_ox[v.ox]++;
      for (int k = 0; k < 2; k++)
        {
          g_assert_cmpint (v.dr[k], >=, 0);
          g_assert_cmpint (v.dc[k], >=, 0);
          g_assert_cmpint (v.dr[k], <=, 4);
          g_assert_cmpint (v.dc[k], <=, 4);
          g_assert_cmpint (v.oy + (v.dr[k] + 14) * 16, <=, 303);
          g_assert_cmpint (v.ox + (v.dc[k] + 14) * 16, <=, 303);
          max_off = MAX (max_off, MAX (v.dr[k], v.dc[k]));
        }
    }
  for (int j = 0; j < 16; j++) // uniform: 250 expected each
    {
      g_assert_cmpint (seen_oy[j], >, 150);
      g_assert_cmpint (seen_ox[j], >, 150);
    }
  g_assert_cmpint (max_off, ==, 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/views/pairing", test_pairing);
  g_test_add_func ("/views/refuses-small", test_refuses_small);
  g_test_add_func ("/views/deterministic", test_deterministic);
  g_test_add_func ("/views/shuffle", test_shuffle);
  g_test_add_func ("/views/jitter", test_jitter);
  return g_test_run ();
}
