// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-peac-distort: the student's appearance distortions. Local shuffling keeps the
// image's values and moves them only inside the window; a straight Bézier curve is the
// identity (inverted: v → 1 − v) and any curve maps equal values equally and stays in
// [0, 1]; in-painting leaves a 3-pixel border alone, out-painting keeps one box intact and
// replaces the border; the combined sampler applies each kind at about its probability
// and repeats itself for the same seed.
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "distort.h"

static int
cmp_f (const void *a, const void *b)
{
  float d = *(const float *) a - *(const float *) b;
  return d < 0 ? -1 : d > 0;
}

static void
test_local_shuffle (void)
{
  const int S = 48;
  float *a = g_new (float, S * S), *b = g_new (float, S * S);
  PeacRng rng;
  peac_rng_seed (&rng, 3);
  for (int trial = 0; trial < 50; trial++)
    {
      for (int i = 0; i < S * S; i++)
        a[i] = b[i] = (float) i;
      peac_distort_local_shuffle (b, S, 1, 8, &rng);
      int y0 = S, y1 = -1, x0 = S, x1 = -1, changed = 0;
      for (int i = 0; i < S * S; i++)
        if (a[i] != b[i])
          {
            int y = i / S, x = i % S;
            y0 = MIN (y0, y), y1 = MAX (y1, y), x0 = MIN (x0, x), x1 = MAX (x1, x);
            changed++;
            // the value came from inside the same window
            int sy = (int) b[i] / S, sx = (int) b[i] % S;
            g_assert_cmpint (ABS (sy - y), <, 8);
            g_assert_cmpint (ABS (sx - x), <, 8);
          }
      if (changed)
        {
          g_assert_cmpint (y1 - y0, <, 8);
          g_assert_cmpint (x1 - x0, <, 8);
        }
    }
  // Many windows: the multiset of values is unchanged, but the image is not.
  peac_distort_local_shuffle (b, S, 200, 8, &rng);
  g_assert_cmpint (memcmp (a, b, S * S * sizeof (float)), !=, 0);
  qsort (b, S * S, sizeof (float), cmp_f);
  g_assert_cmpint (memcmp (a, b, S * S * sizeof (float)), ==, 0);
  g_free (a), g_free (b);
}

static void
test_bezier (void)
{
  const int S = 32;
  float *img = g_new (float, S * S), *orig = g_new (float, S * S);
  for (int i = 0; i < S * S; i++)
    orig[i] = (float) ((i * 37) % 1000) / 999.0f;
  const float l1[2] = { 1.0f / 3, 1.0f / 3 }, l2[2] = { 2.0f / 3, 2.0f / 3 };
  for (int inv = 0; inv < 2; inv++)
    {
      memcpy (img, orig, S * S * sizeof (float));
      peac_distort_bezier (img, S, l1, l2, inv);
      for (int i = 0; i < S * S; i++)
        g_assert_cmpfloat (fabsf (img[i] - (inv ? 1.0f - orig[i] : orig[i])), <, 1e-4);
    }
  PeacRng rng;
  peac_rng_seed (&rng, 4);
  for (int trial = 0; trial < 20; trial++)
    {
      float p1[2] = { (float) peac_rng_uniform (&rng), (float) peac_rng_uniform (&rng) };
      float p2[2] = { (float) peac_rng_uniform (&rng), (float) peac_rng_uniform (&rng) };
      memcpy (img, orig, S * S * sizeof (float));
      peac_distort_bezier (img, S, p1, p2, trial % 2);
      int differs = 0;
      for (int i = 0; i < S * S; i++)
        {
          g_assert_cmpfloat (img[i], >=, 0.0f);
          g_assert_cmpfloat (img[i], <=, 1.0f);
          differs |= fabsf (img[i] - orig[i]) > 1e-3f;
          // pixel i and i + 1000 hold equal values (period 1000 of the pattern)
          if (i + 1000 < S * S)
            g_assert_cmpfloat (img[i], ==, img[i + 1000]);
        }
      g_assert_true (differs);
    }
  g_free (img), g_free (orig);
}

static void
test_painting (void)
{
  const int S = 56;
  float *img = g_new (float, S * S);
  PeacRng rng;
  peac_rng_seed (&rng, 5);
  for (int trial = 0; trial < 50; trial++)
    {
      for (int i = 0; i < S * S; i++)
        img[i] = -1.0f; // noise is in [0, 1): every replaced pixel shows
      peac_distort_inpaint (img, S, &rng);
      int changed = 0;
      for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
          if (img[y * S + x] != -1.0f)
            {
              changed++;
              g_assert_true (y >= 3 && y < S - 2 && x >= 3 && x < S - 2);
            }
      g_assert_cmpint (changed, >=, (S / 8) * (S / 8));
      for (int i = 0; i < S * S; i++)
        img[i] = -1.0f;
      peac_distort_outpaint (img, S, &rng);
      int kept = 0;
      for (int i = 0; i < S * S; i++)
        kept += img[i] == -1.0f;
      for (int x = 0; x < S; x++) // the border is always replaced
        g_assert_true (img[x] != -1.0f && img[(S - 1) * S + x] != -1.0f);
      g_assert_cmpint (kept, >=, (3 * S / 7) * (3 * S / 7));
      g_assert_cmpint (kept, <=, (4 * S / 7) * (4 * S / 7));
    }
  g_free (img);
}

static void
test_apply (void)
{
  const int S = 32, N = 2000;
  PeacDistortConfig cfg;
  peac_distort_defaults (&cfg, S);
  PeacRng rng, again;
  peac_rng_seed (&rng, 6), peac_rng_seed (&again, 6);
  float *a = g_new (float, S * S), *b = g_new (float, S * S);
  int count[4] = { 0 };
  for (int n = 0; n < N; n++)
    {
      for (int i = 0; i < S * S; i++)
        a[i] = b[i] = (float) i / (S * S);
      int m = peac_distort_apply (a, S, &cfg, &rng);
      g_assert_cmpint (peac_distort_apply (b, S, &cfg, &again), ==, m);
      g_assert_cmpint (memcmp (a, b, S * S * sizeof (float)), ==, 0);
      g_assert_false ((m & 4) && (m & 8));
      for (int k = 0; k < 4; k++)
        count[k] += (m >> k) & 1;
    }
  g_test_message ("shuffle %d, bezier %d, inpaint %d, outpaint %d of %d", count[0], count[1],
                  count[2], count[3], N);
  g_assert_cmpint (ABS (count[0] - N / 2), <, N / 20);
  g_assert_cmpint (ABS (count[1] - 9 * N / 10), <, N / 20);
  g_assert_cmpint (ABS (count[2] - 9 * N / 20), <, N / 20);
  g_assert_cmpint (ABS (count[3] - 9 * N / 20), <, N / 20);
  g_free (a), g_free (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/distort/local-shuffle", test_local_shuffle);
  g_test_add_func ("/distort/bezier", test_bezier);
  g_test_add_func ("/distort/painting", test_painting);
  g_test_add_func ("/distort/apply", test_apply);
  return g_test_run ();
}
