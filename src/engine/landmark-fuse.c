// SPDX-License-Identifier: GPL-3.0-or-later
//
// landmark-fuse: the weighted median, the fusion of K propagated answers into one point
// with its spread, the top-K reference choice, the contour distance and the
// cardiothoracic ratio declared in
// landmark-fuse.h. Small n (K references, a few hundred contour points): sorting copies is
// all the machinery needed.
#include "landmark-fuse.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
  double v, w;
} Pair;

static int
cmp_pair (const void *a, const void *b)
{
  const Pair *x = a, *y = b;
  return (x->v > y->v) - (x->v < y->v);
}

double
peac_weighted_median (const double *v, const double *w, int n)
{
  Pair *p = malloc ((size_t) (n > 0 ? n : 1) * sizeof *p);
  if (!p)
    return NAN;
  int m = 0;
  double total = 0.0;
  for (int i = 0; i < n; i++)
    if (w[i] > 0)
      {
        p[m].v = v[i];
        p[m++].w = w[i];
        total += w[i];
      }
  double out = NAN;
  if (m > 0)
    {
      qsort (p, (size_t) m, sizeof *p, cmp_pair);
      double acc = 0.0;
      const double half = 0.5 * total, eps = 1e-12 * total;
      for (int i = 0; i < m; i++)
        {
          acc += p[i].w;
          if (acc >= half - eps)
            {
              // Exactly half reached: the median lies between this value and the next.
              out = fabs (acc - half) <= eps && i + 1 < m ? 0.5 * (p[i].v + p[i + 1].v)
                                                          : p[i].v;
              break;
            }
        }
    }
  free (p);
  return out;
}

int
peac_fuse_points (const double *xy, const double *w, int k, double out[2], double *spread)
{
  double *c = malloc ((size_t) (k > 0 ? k : 1) * sizeof *c);
  if (!c)
    return -1;
  for (int d = 0; d < 2; d++)
    {
      for (int i = 0; i < k; i++)
        c[i] = xy[2 * i + d];
      out[d] = peac_weighted_median (c, w, k);
    }
  int rc = isnan (out[0]) ? -1 : 0;
  if (rc == 0 && spread)
    {
      for (int i = 0; i < k; i++)
        c[i] = hypot (xy[2 * i] - out[0], xy[2 * i + 1] - out[1]);
      *spread = peac_weighted_median (c, w, k);
    }
  free (c);
  return rc;
}

int
peac_top_k (const double *sim, int n, int k, int *out)
{
  int m = 0;
  if (k > n)
    k = n;
  for (int i = 0; i < n; i++)
    {
      // Insertion into the sorted list of the best so far (strictly better moves up, so
      // equal values keep index order).
      int pos = m;
      while (pos > 0 && sim[out[pos - 1]] < sim[i])
        pos--;
      if (pos >= k)
        continue;
      for (int j = (m < k ? m : k - 1); j > pos; j--)
        out[j] = out[j - 1];
      out[pos] = i;
      if (m < k)
        m++;
    }
  return m;
}

double
peac_contour_distance (const double *poly, int n, const double p[2])
{
  if (n < 1)
    return INFINITY;
  double best = hypot (p[0] - poly[0], p[1] - poly[1]);
  const int segs = n > 2 ? n : n - 1;
  for (int i = 0; i < segs; i++)
    {
      const double *a = poly + 2 * i, *b = poly + 2 * ((i + 1) % n);
      const double dx = b[0] - a[0], dy = b[1] - a[1], l2 = dx * dx + dy * dy;
      double u = l2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2 : 0.0;
      u = u < 0 ? 0 : u > 1 ? 1 : u;
      const double d = hypot (p[0] - a[0] - u * dx, p[1] - a[1] - u * dy);
      if (d < best)
        best = d;
    }
  return best;
}

// The horizontal extremes of pts [n, 2]: indices of the smallest and the largest x.
static void
extremes (const double *pts, int n, int *lo, int *hi)
{
  *lo = *hi = 0;
  for (int i = 1; i < n; i++)
    {
      if (pts[2 * i] < pts[2 * *lo])
        *lo = i;
      if (pts[2 * i] > pts[2 * *hi])
        *hi = i;
    }
}

int
peac_ctr (const double *heart, int nh, const double *lungs, int nl, PeacCtr *out)
{
  if (nh < 2 || nl < 2)
    return -1;
  int hl, hh, tl, th;
  extremes (heart, nh, &hl, &hh);
  extremes (lungs, nl, &tl, &th);
  out->heart_width = heart[2 * hh] - heart[2 * hl];
  out->thorax_width = lungs[2 * th] - lungs[2 * tl];
  if (!(out->thorax_width > 0))
    return -1;
  out->ratio = out->heart_width / out->thorax_width;
  const double yh = 0.5 * (heart[2 * hl + 1] + heart[2 * hh + 1]);
  const double yt = 0.5 * (lungs[2 * tl + 1] + lungs[2 * th + 1]);
  out->heart[0] = heart[2 * hl], out->heart[1] = yh;
  out->heart[2] = heart[2 * hh], out->heart[3] = yh;
  out->thorax[0] = lungs[2 * tl], out->thorax[1] = yt;
  out->thorax[2] = lungs[2 * th], out->thorax[3] = yt;
  return 0;
}
