// SPDX-License-Identifier: GPL-3.0-or-later
//
// auc: ROC AUC, ROC curves and the bootstrap interval of the mean AUC (see auc.h). All
// start from one sort of the scores (descending, ties kept together); the AUC is the
// Mann–Whitney U over mid-ranks, U / (P·N), which gives ties a half win. O(n log n).
#include "auc.h"

#include <math.h>
#include <stdlib.h>

#include "rng.h"
#include "stats.h"

typedef struct {
  float s;
  int   pos;
} Scored;

// Descending by score; equal scores are one group whatever their order.
static int
cmp_desc (const void *a, const void *b)
{
  float x = ((const Scored *) a)->s, y = ((const Scored *) b)->s;
  return (x < y) - (x > y);
}

// Sorted copy of the (score, label) pairs; counts of positives and negatives.
static Scored *
sorted_pairs (const float *score, int ss, const float *label, int ls, int n, long *P, long *N)
{
  Scored *v = malloc ((size_t) (n > 0 ? n : 1) * sizeof *v);
  if (!v)
    return NULL;
  *P = *N = 0;
  for (int i = 0; i < n; i++)
    {
      v[i].s = score[(size_t) i * ss];
      v[i].pos = label[(size_t) i * ls] >= 0.5f;
      *P += v[i].pos;
    }
  *N = n - *P;
  qsort (v, (size_t) n, sizeof *v, cmp_desc);
  return v;
}

// U statistic over a descending sort: a positive wins against every negative below its
// tie group and half of the negatives inside it. Walking from the top, count negatives
// seen so far (all above) and split each tie group's pairs one half each way.
static double
auc_sorted (const Scored *v, int n, long P, long N)
{
  if (P == 0 || N == 0)
    return NAN;
  double losses = 0;   // positive below (or tied with, ×½) a negative
  long neg_above = 0;
  for (int i = 0; i < n;)
    {
      int j = i;
      long p = 0, q = 0;
      for (; j < n && v[j].s == v[i].s; j++)
        p += v[j].pos, q += !v[j].pos;
      losses += (double) p * neg_above + 0.5 * (double) p * q;
      neg_above += q;
      i = j;
    }
  return 1.0 - losses / ((double) P * (double) N);
}

double
peac_auc (const float *score, int ss, const float *label, int ls, int n)
{
  long P, N;
  Scored *v = sorted_pairs (score, ss, label, ls, n, &P, &N);
  if (!v)
    return NAN;
  double a = auc_sorted (v, n, P, N);
  free (v);
  return a;
}

int
peac_roc_curve (const float *score, int ss, const float *label, int ls, int n, float *fpr,
                float *tpr, float *thr)
{
  long P, N;
  Scored *v = sorted_pairs (score, ss, label, ls, n, &P, &N);
  if (!v)
    return 0;
  if (P == 0 || N == 0)
    return free (v), 0;
  int m = 0;
  fpr[m] = 0, tpr[m] = 0;
  if (thr)
    thr[m] = INFINITY;
  m++;
  long tp = 0, fp = 0;
  for (int i = 0; i < n;)
    {
      int j = i;
      for (; j < n && v[j].s == v[i].s; j++)
        tp += v[j].pos, fp += !v[j].pos;
      fpr[m] = (float) ((double) fp / N);
      tpr[m] = (float) ((double) tp / P);
      if (thr)
        thr[m] = v[i].s;
      m++;
      i = j;
    }
  free (v);
  return m;
}

double
peac_auc_multi (const float *score, const float *label, int n, int k, double *auc)
{
  double sum = 0;
  int defined = 0;
  for (int c = 0; c < k; c++)
    {
      double a = peac_auc (score + c, k, label + c, k, n);
      if (auc)
        auc[c] = a;
      if (!isnan (a))
        sum += a, defined++;
    }
  return defined ? sum / defined : NAN;
}

int
peac_auc_bootstrap (const float *score, const float *label, int n, int k, int reps,
                    double level, uint64_t seed, double *lo, double *hi)
{
  *lo = *hi = NAN;
  if (n <= 0 || k <= 0 || reps <= 0)
    return 0;
  float *s = malloc ((size_t) n * k * sizeof *s), *l = malloc ((size_t) n * k * sizeof *l);
  double *means = malloc ((size_t) reps * sizeof *means);
  if (!s || !l || !means)
    {
      free (s), free (l), free (means);
      return 0;
    }
  PeacRng r;
  peac_rng_seed (&r, seed);
  int m = 0;
  for (int t = 0; t < reps; t++)
    {
      for (int i = 0; i < n; i++)
        {
          int src = (int) (peac_rng_u64 (&r) % (uint64_t) n);
          for (int c = 0; c < k; c++)
            {
              s[(size_t) i * k + c] = score[(size_t) src * k + c];
              l[(size_t) i * k + c] = label[(size_t) src * k + c];
            }
        }
      double a = peac_auc_multi (s, l, n, k, NULL);
      if (!isnan (a))
        means[m++] = a;
    }
  if (m > 0)
    {
      double ci[2];

      peac_percentile_interval (means, m, (1 - level) / 2, (1 + level) / 2, PEAC_RANK_LINEAR, ci);
      *lo = ci[0];
      *hi = ci[1];
    }
  free (s), free (l), free (means);
  return m;
}
