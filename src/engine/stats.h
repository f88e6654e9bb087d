// SPDX-License-Identifier: GPL-3.0-or-later
//
// stats: the small numeric pieces the evaluations share — rows scaled to unit length for
// cosine similarity, the qsort comparator for doubles, and quantiles of a sample, among
// them the median and the percentile interval of a bootstrap. Quantile positions follow
// one of three rank rules, each the rule one evaluation has always reported with.
#pragma once

// Rows of x [n, dim] scaled to unit length; a row of length ≤ 1e-12 (a zero row) becomes
// zero.
void   peac_normalise_rows (float *x, int n, int dim);

// qsort comparator: doubles in ascending order.
int    peac_cmp_double (const void *a, const void *b);

typedef enum {
  PEAC_RANK_LINEAR,   // interpolate between the order statistics at q·(m − 1) (numpy's default)
  PEAC_RANK_NEAREST,  // the order statistic nearest to q·(m − 1)
  PEAC_RANK_OUTWARD,  // the one below q·(m − 1) for a lower bound, above it for an upper
} PeacRankRule;

// The q-quantile (0 ≤ q ≤ 1) of sorted[m] (ascending, m ≥ 1) by rule; OUTWARD rounds down.
double peac_quantile (const double *sorted, int m, double q, PeacRankRule rule);

// Sorts v[m] in place and returns its median: the middle value for odd m, the mean of the
// two middle values for even m (for finite values the same number as the LINEAR
// 0.5-quantile); 0 for an empty sample (m = 0).
double peac_median (double *v, int m);

// Sorts v[m] (m ≥ 1) in place and writes its q_lo- and q_hi-quantiles to ci[0] and ci[1]:
// a percentile interval (e.g. 0.025 and 0.975 for 95 %), OUTWARD rounding each bound away
// from the middle.
void   peac_percentile_interval (double *v, int m, double q_lo, double q_hi, PeacRankRule rule,
                                 double ci[2]);
