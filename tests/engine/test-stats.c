// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-stats: the shared numeric helpers against values worked out by hand — rows scaled to
// unit length (a 3-4-5 row, a zero row, a row too short to have a direction), doubles
// sorted by the comparator, the median of small samples (odd, even, unsorted, one value,
// ties, empty), and the three rank rules' quantiles and percentile intervals on small
// samples whose order statistics can be read off.
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "stats.h"

static void
test_normalise_rows (void)
{
  // (3, 4) has length 5; (0, 0) stays zero; (1e-13, 0) is below the 1e-12 floor: zero.
  float x[6] = { 3, 4, 0, 0, 1e-13f, 0 };

  peac_normalise_rows (x, 3, 2);
  g_assert_cmpfloat_with_epsilon (x[0], 0.6, 1e-7);
  g_assert_cmpfloat_with_epsilon (x[1], 0.8, 1e-7);
  g_assert_cmpfloat (x[2], ==, 0);
  g_assert_cmpfloat (x[3], ==, 0);
  g_assert_cmpfloat (x[4], ==, 0);
  g_assert_cmpfloat (x[5], ==, 0);
}

static void
test_cmp_double (void)
{
  double v[5] = { 2.5, -1, 7, 0, -1 };
  const double want[5] = { -1, -1, 0, 2.5, 7 };

  qsort (v, 5, sizeof *v, peac_cmp_double);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat (v[i], ==, want[i]);
  g_assert_cmpint (peac_cmp_double (&want[3], &want[4]), <, 0);
  g_assert_cmpint (peac_cmp_double (&want[4], &want[3]), >, 0);
  g_assert_cmpint (peac_cmp_double (&want[0], &want[1]), ==, 0);
}

static void
test_quantiles (void)
{
  // 10, 20, 30, 40, 50: q = 0.1 sits at position 0.4 (between 10 and 20), q = 0.6 at 2.4.
  const double s[5] = { 10, 20, 30, 40, 50 };

  g_assert_cmpfloat_with_epsilon (peac_quantile (s, 5, 0.1, PEAC_RANK_LINEAR), 14, 1e-12);
  g_assert_cmpfloat_with_epsilon (peac_quantile (s, 5, 0.6, PEAC_RANK_LINEAR), 34, 1e-12);
  g_assert_cmpfloat (peac_quantile (s, 5, 1, PEAC_RANK_LINEAR), ==, 50);
  g_assert_cmpfloat (peac_quantile (s, 5, 0, PEAC_RANK_LINEAR), ==, 10);
  g_assert_cmpfloat (peac_quantile (s, 5, 0.1, PEAC_RANK_NEAREST), ==, 10);
  g_assert_cmpfloat (peac_quantile (s, 5, 0.15, PEAC_RANK_NEAREST), ==, 20);   // 0.6 → 1
  g_assert_cmpfloat (peac_quantile (s, 5, 0.6, PEAC_RANK_NEAREST), ==, 30);
  g_assert_cmpfloat (peac_quantile (s, 5, 0.6, PEAC_RANK_OUTWARD), ==, 30);    // rounds down
  g_assert_cmpfloat (peac_quantile (s, 1, 0.9, PEAC_RANK_LINEAR), ==, 10);
}

static void
test_percentile_interval (void)
{
  // 41 values 0..40 shuffled: the 2.5 % and 97.5 % positions are 1 and 39 exactly.
  double v[41], ci[2];
  int m = 41;

  for (int rule = PEAC_RANK_LINEAR; rule <= PEAC_RANK_OUTWARD; rule++)
    {
      for (int i = 0; i < m; i++)
        v[i] = (i * 17) % m;
      peac_percentile_interval (v, m, 0.025, 0.975, rule, ci);
      g_assert_cmpfloat_with_epsilon (ci[0], 1, 1e-12);
      g_assert_cmpfloat_with_epsilon (ci[1], 39, 1e-12);
      for (int i = 0; i < m; i++)
        g_assert_cmpfloat (v[i], ==, i);    // sorted in place
    }

  // 0..10 (positions 0.25 and 9.75): linear 0.25 and 9.75; nearest 0 and 10; outward 0 and 10.
  // 0..20 at q = 0.1, 0.9 (positions 2 and 18): every rule 2 and 18.
  {
    struct { int rule; double lo, hi; } cases[3] = {
      { PEAC_RANK_LINEAR, 0.25, 9.75 }, { PEAC_RANK_NEAREST, 0, 10 }, { PEAC_RANK_OUTWARD, 0, 10 },
    };

    for (int c = 0; c < 3; c++)
      {
        for (int i = 0; i < 11; i++)
          v[i] = 10 - i;
        peac_percentile_interval (v, 11, 0.025, 0.975, cases[c].rule, ci);
        g_assert_cmpfloat_with_epsilon (ci[0], cases[c].lo, 1e-12);
        g_assert_cmpfloat_with_epsilon (ci[1], cases[c].hi, 1e-12);
      }
  }
  // Outward takes the wider side where nearest rounds in: positions 0.3 and 2.7 of 0..3.
  for (int i = 0; i < 4; i++)
    v[i] = i;
  peac_percentile_interval (v, 4, 0.1, 0.9, PEAC_RANK_OUTWARD, ci);
  g_assert_cmpfloat (ci[0], ==, 0);
  g_assert_cmpfloat (ci[1], ==, 3);
  peac_percentile_interval (v, 4, 0.1, 0.9, PEAC_RANK_NEAREST, ci);
  g_assert_cmpfloat (ci[0], ==, 0);
  g_assert_cmpfloat (ci[1], ==, 3);
  peac_percentile_interval (v, 4, 0.2, 0.8, PEAC_RANK_NEAREST, ci);   // 0.6 and 2.4
  g_assert_cmpfloat (ci[0], ==, 1);
  g_assert_cmpfloat (ci[1], ==, 2);
  peac_percentile_interval (v, 4, 0.2, 0.8, PEAC_RANK_OUTWARD, ci);
  g_assert_cmpfloat (ci[0], ==, 0);
  g_assert_cmpfloat (ci[1], ==, 3);
}

static void
test_median (void)
{
  // Odd, unsorted: 9 4 7 1 5 sorts to 1 4 5 7 9; the middle (third) value is 5.
  double odd[5] = { 9, 4, 7, 1, 5 };
  g_assert_cmpfloat (peac_median (odd, 5), ==, 5);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat (odd[i], <=, odd[i + 1]);    // sorted in place

  // Even, unsorted: 8 2 6 3 sorts to 2 3 6 8; the mean of 3 and 6 is 4.5.
  double even[4] = { 8, 2, 6, 3 };
  g_assert_cmpfloat (peac_median (even, 4), ==, 4.5);

  // Even with a negative value: -3 1 sorts as is; the mean is -1.
  double two[2] = { 1, -3 };
  g_assert_cmpfloat (peac_median (two, 2), ==, -1);

  // One value is its own median.
  double one[1] = { 2.25 };
  g_assert_cmpfloat (peac_median (one, 1), ==, 2.25);

  // Ties: 3 1 3 3 sorts to 1 3 3 3, the two middle values are both 3; 2 2 5 5 has middle
  // values 2 and 5, mean 3.5 — a value not in the sample.
  double ties[4] = { 3, 1, 3, 3 };
  g_assert_cmpfloat (peac_median (ties, 4), ==, 3);
  double split[4] = { 5, 2, 5, 2 };
  g_assert_cmpfloat (peac_median (split, 4), ==, 3.5);

  // An outlier moves the mean, not the median: 1 2 1000 → 2.
  double outlier[3] = { 1000, 1, 2 };
  g_assert_cmpfloat (peac_median (outlier, 3), ==, 2);

  // Fractions: 0.3, 0.1, 0.7, 0.5 → middle values 0.3 and 0.5, mean 0.4.
  double fine[4] = { 0.3, 0.1, 0.7, 0.5 };
  g_assert_cmpfloat_with_epsilon (peac_median (fine, 4), 0.4, 1e-15);

  // An empty sample: 0, and the array (here NULL) is not touched.
  g_assert_cmpfloat (peac_median (NULL, 0), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stats/normalise-rows", test_normalise_rows);
  g_test_add_func ("/stats/cmp-double", test_cmp_double);
  g_test_add_func ("/stats/median", test_median);
  g_test_add_func ("/stats/quantiles", test_quantiles);
  g_test_add_func ("/stats/percentile-interval", test_percentile_interval);
  return g_test_run ();
}
