// SPDX-License-Identifier: GPL-3.0-or-later
//
// stats: the helpers declared in stats.h. Sums of squares are taken in double, so that a
// row's length does not depend on its width's rounding.
#include "stats.h"

#include <math.h>
#include <stdlib.h>

void
peac_normalise_rows (float *x, int n, int dim)
{
  for (int i = 0; i < n; i++)
    {
      float *y = x + (size_t) i * dim;
      double ss = 0;
      for (int k = 0; k < dim; k++)
        ss += (double) y[k] * y[k];
      float s = ss > 1e-24 ? (float) (1.0 / sqrt (ss)) : 0.0f;
      for (int k = 0; k < dim; k++)
        y[k] *= s;
    }
}

int
peac_cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
quantile (const double *sorted, int m, double q, PeacRankRule rule, int upper)
{
  double pos = q * (m - 1);
  int i;
  switch (rule)
    {
    case PEAC_RANK_NEAREST:
      i = (int) floor (pos + 0.5);
      break;
    case PEAC_RANK_OUTWARD:
      i = (int) (upper ? ceil (pos) : floor (pos));
      break;
    case PEAC_RANK_LINEAR:
    default:
      i = (int) floor (pos);
      if (i >= m - 1)
        return sorted[m - 1];
      return sorted[i] * (1 - (pos - i)) + sorted[i + 1] * (pos - i);
    }
  return sorted[i < 0 ? 0 : i > m - 1 ? m - 1 : i];
}

double
peac_quantile (const double *sorted, int m, double q, PeacRankRule rule)
{
  return quantile (sorted, m, q, rule, 0);
}

double
peac_median (double *v, int m)
{
  if (m <= 0)
    return 0;
  qsort (v, (size_t) m, sizeof *v, peac_cmp_double);
  return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

void
peac_percentile_interval (double *v, int m, double q_lo, double q_hi, PeacRankRule rule,
                          double ci[2])
{
  qsort (v, (size_t) m, sizeof *v, peac_cmp_double);
  ci[0] = quantile (v, m, q_lo, rule, 0);
  ci[1] = quantile (v, m, q_hi, rule, 1);
}
