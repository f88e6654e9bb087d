// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-peac-distort: the student's appearance distortions. Local shuffling keeps the
// image's values and moves them only inside the window; a straight Bézier curve is the
// identity (inverted: v → 1 − v) and any curve maps equal values equally and stays in
// [0, 1]; in-painting leaves a 3-pixel border alone, out-painting keeps one box intact and
// replaces the border; the combined sampler applies each kind at about its probability
// and repeats itself for the same seed. The reference style: the gamma is v^γ (checked
// against pow), grey in-painting leaves 1–4 constant blocks no larger than 70·S/224,
// out-painting keeps one window of 80–160 px (S = 224), and the sampler applies gamma
// always, inversion, in- and out-painting at their probabilities.
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

static void
test_gamma (void)
{
  const int S = 8;
  float img[64], orig[64];
  for (int i = 0; i < S * S; i++)
    orig[i] = img[i] = (float) i / (S * S - 1);
  orig[5] = img[5] = -0.25f; // below 0 (never in a crop, but defined): clamps to 0
  peac_distort_gamma (img, S, 2.0);
  for (int i = 0; i < S * S; i++)
    g_assert_cmpfloat_with_epsilon (img[i], i == 5 ? 0.0 : orig[i] * orig[i], 1e-6);
  memcpy (img, orig, sizeof img);
  peac_distort_gamma (img, S, 0.5);
  for (int i = 0; i < S * S; i++)
    if (i != 5)
      g_assert_cmpfloat_with_epsilon (img[i], sqrt (orig[i]), 1e-6);
}

static void
test_reference_painting (void)
{
  const int S = 224;
  float *img = g_new (float, S * S);
  PeacRng rng;
  peac_rng_seed (&rng, 11);
  int seen_blocks[5] = { 0 };
  for (int trial = 0; trial < 200; trial++)
    {
      for (int i = 0; i < S * S; i++)
        img[i] = -1.0f;
      peac_distort_inpaint_grey (img, S, &rng);
      // Each grey value is one block (possibly partly covered by a later one): its
      // pixels' bounding box is at most 70 px a side, and there are 1 to 4 of them.
      float greys[8];
      int n = 0, changed = 0;
      for (int i = 0; i < S * S; i++)
        {
          if (img[i] == -1.0f)
            continue;
          changed++;
          g_assert_cmpfloat (img[i], >=, 0.0f);
          g_assert_cmpfloat (img[i], <, 1.0f);
          int k = 0;
          while (k < n && greys[k] != img[i])
            k++;
          if (k == n)
            {
              g_assert_cmpint (n, <, 4);
              greys[n++] = img[i];
            }
        }
      seen_blocks[n]++;
      g_assert_cmpint (changed, >=, 30 * 30); // the last block is whole
      for (int k = 0; k < n; k++)
        {
          int y0 = S, y1 = -1, x0 = S, x1 = -1;
          for (int i = 0; i < S * S; i++)
            if (img[i] == greys[k])
              y0 = MIN (y0, i / S), y1 = MAX (y1, i / S), x0 = MIN (x0, i % S), x1 = MAX (x1, i % S);
          g_assert_cmpint (y1 - y0 + 1, <=, 70);
          g_assert_cmpint (x1 - x0 + 1, <=, 70);
        }
      for (int i = 0; i < S * S; i++)
        img[i] = -1.0f;
      peac_distort_outpaint_window (img, S, &rng);
      int kept = 0, ky0 = S, ky1 = -1, kx0 = S, kx1 = -1;
      for (int i = 0; i < S * S; i++)
        if (img[i] == -1.0f)
          kept++, ky0 = MIN (ky0, i / S), ky1 = MAX (ky1, i / S), kx0 = MIN (kx0, i % S),
          kx1 = MAX (kx1, i % S);
      // One whole rectangle with sides in [80, 160] is kept, noise everywhere else.
      g_assert_cmpint (kept, ==, (ky1 - ky0 + 1) * (kx1 - kx0 + 1));
      g_assert_cmpint (ky1 - ky0 + 1, >=, 80);
      g_assert_cmpint (ky1 - ky0 + 1, <=, 160);
      g_assert_cmpint (kx1 - kx0 + 1, >=, 80);
      g_assert_cmpint (kx1 - kx0 + 1, <=, 160);
    }
  for (int n = 1; n <= 4; n++) // every block count occurs
    g_assert_cmpint (seen_blocks[n], >, 10);
  g_free (img);
}

static void
test_reference_apply (void)
{
  const int S = 32, N = 2000;
  PeacDistortConfig cfg;
  peac_distort_reference_defaults (&cfg, S);
  g_assert_cmpint (cfg.style, ==, PEAC_DISTORT_REFERENCE);
  g_assert_cmpint (peac_distort_style_parse ("reference"), ==, PEAC_DISTORT_REFERENCE);
  g_assert_cmpint (peac_distort_style_parse ("genesis"), ==, PEAC_DISTORT_GENESIS);
  g_assert_cmpint (peac_distort_style_parse ("Reference"), ==, -1);
  PeacRng rng;
  peac_rng_seed (&rng, 9);
  float *a = g_new (float, S * S);
  int count[6] = { 0 };
  double log_gamma_sum = 0, log_gamma_sq = 0;
  for (int n = 0; n < N; n++)
    {
      for (int i = 0; i < S * S; i++)
        a[i] = 0.5f;
      int m = peac_distort_apply (a, S, &cfg, &rng);
      g_assert_false ((m & 4) && (m & 8));
      g_assert_true ((m & 4) || (m & 8)); // painting always
      g_assert_cmpint (m & 3, ==, 0);     // no pixel shuffle, no Bézier
      for (int k = 0; k < 6; k++)
        count[k] += (m >> k) & 1;
    }
  g_test_message ("inpaint %d, outpaint %d, gamma %d, invert %d of %d", count[2], count[3],
                  count[4], count[5], N);
  g_assert_cmpint (count[4], ==, N);
  g_assert_cmpint (ABS (count[5] - N / 4), <, N / 20);
  g_assert_cmpint (ABS (count[2] - N / 5), <, N / 20);
  g_assert_cmpint (ABS (count[3] - 4 * N / 5), <, N / 20);
  // The gamma alone (no painting, no inversion) on a constant 0.5: every pixel is 0.5^γ,
  // and ln γ = ln(ln v / ln 0.5) follows N(0, σ²).
  cfg.p_paint = 0.0, cfg.p_invert = 0.0, cfg.gamma_sigma = 0.5;
  for (int n = 0; n < N; n++)
    {
      for (int i = 0; i < S * S; i++)
        a[i] = 0.5f;
      g_assert_cmpint (peac_distort_apply (a, S, &cfg, &rng), ==, 16);
      g_assert_cmpfloat (a[0], ==, a[S * S - 1]);
      double lg = log (log ((double) a[0]) / log (0.5));
      log_gamma_sum += lg, log_gamma_sq += lg * lg;
    }
  const double mean = log_gamma_sum / N, sd = sqrt (log_gamma_sq / N - mean * mean);
  g_test_message ("ln gamma: mean %.4f, sd %.4f", mean, sd);
  g_assert_cmpfloat (fabs (mean), <, 0.04);
  g_assert_cmpfloat (fabs (sd - 0.5), <, 0.03);
  g_free (a);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/distort/local-shuffle", test_local_shuffle);
  g_test_add_func ("/distort/bezier", test_bezier);
  g_test_add_func ("/distort/painting", test_painting);
  g_test_add_func ("/distort/apply", test_apply);
  g_test_add_func ("/distort/gamma", test_gamma);
  g_test_add_func ("/distort/reference-painting", test_reference_painting);
  g_test_add_func ("/distort/reference-apply", test_reference_apply);
  return g_test_run ();
}
