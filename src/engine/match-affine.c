// SPDX-License-Identifier: GPL-3.0-or-later
//
// match-affine: what a match context derives from each similarity matrix beyond argmaxes —
// the best buddies (mutual nearest neighbours) with their distinctiveness, the robust
// source→target affine fitted by RANSAC over them (deterministic splitmix64 sampling,
// minimal 3-point hypotheses, least-squares refit on the inliers), the feature-metric
// registration that then sets the affine the guided mode uses (the affine under which the
// source cells are, on average, most similar to the target where they land), and the
// selection of a few distinctive buddies spread over the image (k-means with a
// farthest-point start).
// All geometry is in cell coordinates: source cell (r, c) sits at (c + ½, r + ½).
#include "match-internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
match_affine_apply (const double A[6], double u, double v, double *u2, double *v2)
{
  *u2 = A[0] * u + A[1] * v + A[2];
  *v2 = A[3] * u + A[4] * v + A[5];
}

static uint64_t
splitmix64 (uint64_t *state)
{
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Solves M x = b for a 3×3 M (row-major) by Gaussian elimination with partial pivoting.
// Returns −1 when M is (near) singular.
static int
solve3 (double M[9], double b[3], double x[3])
{
  for (int k = 0; k < 3; k++)
    {
      int piv = k;
      for (int i = k + 1; i < 3; i++)
        if (fabs (M[i * 3 + k]) > fabs (M[piv * 3 + k]))
          piv = i;
      if (fabs (M[piv * 3 + k]) < 1e-9)
        return -1;
      if (piv != k)
        {
          for (int j = 0; j < 3; j++)
            {
              double t = M[k * 3 + j];
              M[k * 3 + j] = M[piv * 3 + j];
              M[piv * 3 + j] = t;
            }
          double t = b[k];
          b[k] = b[piv];
          b[piv] = t;
        }
      for (int i = k + 1; i < 3; i++)
        {
          double f = M[i * 3 + k] / M[k * 3 + k];
          for (int j = k; j < 3; j++)
            M[i * 3 + j] -= f * M[k * 3 + j];
          b[i] -= f * b[k];
        }
    }
  for (int k = 2; k >= 0; k--)
    {
      double s = b[k];
      for (int j = k + 1; j < 3; j++)
        s -= M[k * 3 + j] * x[j];
      x[k] = s / M[k * 3 + k];
    }
  return 0;
}

// Least-squares affine through the pairs idx[0..m) (m ≥ 3): normal equations
// Σ [u v 1]ᵀ[u v 1] · (A0 A1 A2)ᵀ = Σ [u v 1]ᵀ u', and the same for v'.
static int
fit_affine (const double *P, const double *Q, const int *idx, int m, double A[6])
{
  double N[9] = { 0 }, bx[3] = { 0 }, by[3] = { 0 };
  for (int k = 0; k < m; k++)
    {
      const double *p = P + 2 * idx[k], *q = Q + 2 * idx[k];
      double row[3] = { p[0], p[1], 1.0 };
      for (int i = 0; i < 3; i++)
        {
          for (int j = 0; j < 3; j++)
            N[i * 3 + j] += row[i] * row[j];
          bx[i] += row[i] * q[0];
          by[i] += row[i] * q[1];
        }
    }
  double N2[9];
  memcpy (N2, N, sizeof N);
  if (solve3 (N, bx, A) < 0 || solve3 (N2, by, A + 3) < 0)
    return -1;
  return 0;
}

// A hypothesis is plausible when it keeps orientation and its area scale stays within 4×
// of the plain grid rescale `expect` (radiographs of the same anatomy, not a mirror).
static int
plausible (const double A[6], double expect)
{
  double det = A[0] * A[4] - A[1] * A[3];
  return det > 0.25 * expect && det < 4.0 * expect;
}

static int
count_inliers (const double *P, const double *Q, int n, const double A[6], double tol,
               int *idx, double *resid)
{
  int m = 0;
  double rs = 0;
  for (int k = 0; k < n; k++)
    {
      double u, v;
      match_affine_apply (A, P[2 * k], P[2 * k + 1], &u, &v);
      double d2 = (u - Q[2 * k]) * (u - Q[2 * k]) + (v - Q[2 * k + 1]) * (v - Q[2 * k + 1]);
      if (d2 <= tol * tol)
        {
          if (idx)
            idx[m] = k;
          rs += sqrt (d2);
          m++;
        }
    }
  if (resid)
    *resid = rs;
  return m;
}

// RANSAC over the buddies; leaves t->A and t->inliers.
static int
fit_ransac (const PeacMatchContext *ctx, MatchGrid *t)
{
  const MatchGrid *s = &ctx->src;
  double sx = (double) t->gw / s->gw, sy = (double) t->gh / s->gh;
  double rescale[6] = { sx, 0, 0, 0, sy, 0 };
  memcpy (t->A, rescale, sizeof rescale);
  t->inliers = 0;
  int n = t->n_buddies;
  const int min_inliers = 6;
  if (n >= min_inliers)
    {
      double *P = malloc ((size_t) n * 4 * sizeof *P), *Q = P ? P + 2 * n : NULL;
      int *idx = malloc ((size_t) n * sizeof *idx);
      if (!P || !idx)
        {
          free (P);
          free (idx);
          return -1;
        }
      for (int k = 0; k < n; k++)
        {
          const PeacBuddy *b = &t->buddies[k];
          P[2 * k] = b->src % s->gw + 0.5;
          P[2 * k + 1] = b->src / s->gw + 0.5;
          Q[2 * k] = b->tgt % t->gw + 0.5;
          Q[2 * k + 1] = b->tgt / t->gw + 0.5;
        }
      uint64_t rng = ctx->p.seed;
      double tol = ctx->p.ransac_tol, best[6];
      int best_m = 0;
      double best_r = INFINITY;
      for (int it = 0; it < ctx->p.ransac_iters; it++)
        {
          int k[3];
          k[0] = (int) (splitmix64 (&rng) % (uint64_t) n);
          do
            k[1] = (int) (splitmix64 (&rng) % (uint64_t) n);
          while (k[1] == k[0]);
          do
            k[2] = (int) (splitmix64 (&rng) % (uint64_t) n);
          while (k[2] == k[0] || k[2] == k[1]);
          // Skip near-collinear samples (triangle area under half a cell²).
          double area = (P[2 * k[1]] - P[2 * k[0]]) * (P[2 * k[2] + 1] - P[2 * k[0] + 1])
                      - (P[2 * k[2]] - P[2 * k[0]]) * (P[2 * k[1] + 1] - P[2 * k[0] + 1]);
          double A[6];
          if (fabs (area) < 1.0 || fit_affine (P, Q, k, 3, A) < 0 || !plausible (A, sx * sy))
            continue;
          double r;
          int m = count_inliers (P, Q, n, A, tol, NULL, &r);
          if (m > best_m || (m == best_m && r < best_r))
            {
              best_m = m;
              best_r = r;
              memcpy (best, A, sizeof best);
            }
        }
      // Least-squares refit on the inliers, twice (the inlier set may grow after a refit).
      for (int pass = 0; pass < 2 && best_m >= min_inliers; pass++)
        {
          double A[6];
          int m = count_inliers (P, Q, n, best, tol, idx, NULL);
          if (m < min_inliers || fit_affine (P, Q, idx, m, A) < 0 || !plausible (A, sx * sy))
            break;
          memcpy (best, A, sizeof best);
          best_m = count_inliers (P, Q, n, best, tol, NULL, NULL);
        }
      if (best_m >= min_inliers)
        {
          memcpy (t->A, best, sizeof best);
          t->inliers = best_m;
        }
      free (P);
      free (idx);
    }
  return 0;
}

// Feature-metric registration score of a source-cells → target-cells affine A, on the
// centred similarities when the context has them:
//   R(A) = mean over the source cells i that land on the target of bilerp(sim[i, ·], A·(u_i, v_i))
// the target similarity at the cell centre's image, bilinear between target cell centres
// (a mix of unit tokens, not renormalised, so bilinear on the similarity row equals the dot
// with the interpolated token). Cells that land off the target have no partner and are left
// out rather than counted as 0 (which would favour maps that keep every cell on the target
// over the right one); under 60 % of the cells on the target scores −∞.
// The backward registration (target cells → source cells) reads the same matrix by
// columns: Dir names the grid mapped from, the grid mapped onto, and the strides of
// sim[from cell i, onto cell k] = sim[i·row + k·col].
typedef struct {
  const MatchGrid *from, *onto;
  const float     *sim;
  size_t           row, col;
} RegDir;

static double
reg_score (const RegDir *d, const double A[6])
{
  const MatchGrid *s = d->from, *t = d->onto;
  double sum = 0.0;
  int on = 0;
  for (int i = 0; i < s->n; i++)
    {
      double x, y;
      match_affine_apply (A, i % s->gw + 0.5, i / s->gw + 0.5, &x, &y);
      x -= 0.5, y -= 0.5; // index space: the centre of target cell c is at c
      if (!(x >= 0.0 && y >= 0.0 && x <= t->gw - 1 && y <= t->gh - 1))
        continue;
      on++;
      int x0 = (int) x, y0 = (int) y;
      int x1 = x0 + 1 < t->gw ? x0 + 1 : x0, y1 = y0 + 1 < t->gh ? y0 + 1 : y0;
      double fx = x - x0, fy = y - y0;
      const float *row = d->sim + (size_t) i * d->row;
      const size_t c = d->col;
      sum += (1 - fy) * ((1 - fx) * row[(size_t) (y0 * t->gw + x0) * c]
                         + fx * row[(size_t) (y0 * t->gw + x1) * c])
             + fy * ((1 - fx) * row[(size_t) (y1 * t->gw + x0) * c]
                     + fx * row[(size_t) (y1 * t->gw + x1) * c]);
    }
  return on >= 0.6 * s->n ? sum / on : -INFINITY;
}

// The inverse of an affine with a non-zero determinant (plausible() guarantees one).
static void
affine_invert (const double A[6], double out[6])
{
  const double det = A[0] * A[4] - A[1] * A[3];
  out[0] = A[4] / det, out[1] = -A[1] / det, out[3] = -A[3] / det, out[4] = A[0] / det;
  out[2] = -(out[0] * A[2] + out[1] * A[5]);
  out[5] = -(out[3] * A[2] + out[4] * A[5]);
}

// Registration one way: a coarse search over axis scales (0.8–1.2 of the grid rescale,
// about the grid centres) and translations (±18 % of the grid mapped onto), plus the
// starting affine in A_io as a candidate, then coordinate ascent on all six parameters with
// halving steps. Replaces A_io when it scores higher. Deterministic.
static void
register_dir (const RegDir *d, double A_io[6])
{
  const MatchGrid *s = d->from, *t = d->onto;
  const double rw = (double) t->gw / s->gw, rh = (double) t->gh / s->gh;
  const double csu = s->gw / 2.0, csv = s->gh / 2.0, ctu = t->gw / 2.0, ctv = t->gh / 2.0;
  double best[6], best_r = reg_score (d, A_io);
  memcpy (best, A_io, sizeof best);
  for (int a = 0; a < 5; a++)
    for (int b = 0; b < 5; b++)
      for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++)
          {
            const double kx = (0.8 + 0.1 * a) * rw, ky = (0.8 + 0.1 * b) * rh;
            const double tx = (i - 3) * 0.06 * t->gw, ty = (j - 3) * 0.06 * t->gh;
            const double A[6] = { kx, 0, ctu - kx * csu + tx, 0, ky, ctv - ky * csv + ty };
            const double r = reg_score (d, A);
            if (r > best_r)
              best_r = r, memcpy (best, A, sizeof best);
          }
  // Steps: linear terms in units of the rescale, offsets in target cells.
  double step[6] = { 0.04 * rw, 0.04 * rw, 0.5, 0.04 * rh, 0.04 * rh, 0.5 };
  for (int round = 0; round < 200; round++)
    {
      int improved = 0;
      for (int k = 0; k < 6; k++)
        for (int sign = -1; sign <= 1; sign += 2)
          {
            double A[6];
            memcpy (A, best, sizeof A);
            A[k] += sign * step[k];
            if (!plausible (A, rw * rh))
              continue;
            const double r = reg_score (d, A);
            if (r > best_r + 1e-12)
              best_r = r, memcpy (best, A, sizeof best), improved = 1;
          }
      if (!improved)
        {
          for (int k = 0; k < 6; k++)
            step[k] *= 0.5;
          if (step[2] < 0.01)
            break;
        }
    }
  memcpy (A_io, best, sizeof best);
}

// The source → target registration, starting from the RANSAC affine in t->A. Symmetric
// (p.symmetric): also target → source, from the RANSAC affine's inverse, and t->A becomes
// the mean of the forward affine and the backward one's inverse, so that neither grid's
// border cells nor its own idiosyncrasies decide the answer alone.
static void
fit_registration (const PeacMatchContext *ctx, MatchGrid *t)
{
  const MatchGrid *s = &ctx->src;
  const float *sim = t->csim ? t->csim : t->sim;
  const RegDir fwd = { s, t, sim, (size_t) t->n, 1 };
  double back[6], inv[6];
  if (ctx->p.symmetric)
    affine_invert (t->A, back);
  register_dir (&fwd, t->A);
  if (!ctx->p.symmetric)
    return;
  const RegDir bwd = { t, s, sim, 1, (size_t) t->n };
  register_dir (&bwd, back);
  affine_invert (back, inv);
  for (int k = 0; k < 6; k++)
    t->A[k] = 0.5 * (t->A[k] + inv[k]);
}

int
match_fit_target (PeacMatchContext *ctx, MatchGrid *t)
{
  const MatchGrid *s = &ctx->src;
  int Ns = s->n, Nt = t->n;
  int count = 0;
  for (int i = 0; i < Ns; i++)
    count += t->bwd[t->fwd[i]] == i;
  t->buddies = malloc ((size_t) (count ? count : 1) * sizeof *t->buddies);
  if (!t->buddies)
    return -1;
  t->n_buddies = 0;
  for (int i = 0; i < Ns; i++)
    {
      int j = t->fwd[i];
      if (t->bwd[j] != i)
        continue;
      // Distinctiveness: the smaller of the forward margin (row i, around j) and the
      // backward margin (column j, around i).
      const float *row = t->sim + (size_t) i * Nt;
      float s1, s2;
      match_find_peak (row, t->gh, t->gw, 1, 0, 0, -1.0f, &s1, &s2);
      float mf = match_margin (s1, s2);
      match_find_peak (t->sim + j, s->gh, s->gw, (size_t) Nt, 0, 0, -1.0f, &s1, &s2);
      float mb = match_margin (s1, s2);
      PeacBuddy *b = &t->buddies[t->n_buddies++];
      b->src = i;
      b->tgt = j;
      b->sim = row[j];
      b->distinct = mf < mb ? mf : mb;
    }
  if (fit_ransac (ctx, t) < 0)
    return -1;
  fit_registration (ctx, t);
  return 0;
}

int
peac_match_buddies (const PeacMatchContext *ctx, int target, PeacBuddy *out, int max)
{
  if (target < 0 || target >= ctx->n_targets)
    return 0;
  const MatchGrid *t = &ctx->tgt[target];
  int n = t->n_buddies < max ? t->n_buddies : max;
  memcpy (out, t->buddies, (size_t) (n > 0 ? n : 0) * sizeof *out);
  return n;
}

static int
cmp_distinct (const void *a, const void *b)
{
  const PeacBuddy *x = a, *y = b;
  if (x->distinct != y->distinct)
    return x->distinct < y->distinct ? 1 : -1;
  return (x->src > y->src) - (x->src < y->src);
}

int
peac_match_buddies_spread (const PeacMatchContext *ctx, int target, int k, PeacBuddy *out)
{
  if (target < 0 || target >= ctx->n_targets || k <= 0)
    return 0;
  const MatchGrid *s = &ctx->src, *t = &ctx->tgt[target];
  int n = t->n_buddies;
  if (n <= k)
    {
      memcpy (out, t->buddies, (size_t) n * sizeof *out);
      qsort (out, (size_t) n, sizeof *out, cmp_distinct);
      return n;
    }
  double *cen = malloc ((size_t) k * 2 * sizeof *cen);
  double *acc = malloc ((size_t) k * 3 * sizeof *acc);
  int *lab = malloc ((size_t) n * sizeof *lab);
  double *dmin = malloc ((size_t) n * sizeof *dmin);
  if (!cen || !acc || !lab || !dmin)
    {
      free (cen), free (acc), free (lab), free (dmin);
      return 0;
    }
#define BU(i) (t->buddies[i].src % s->gw + 0.5)
#define BV(i) (t->buddies[i].src / s->gw + 0.5)
  // Farthest-point start from the most distinctive buddy.
  int first = 0;
  for (int i = 1; i < n; i++)
    if (t->buddies[i].distinct > t->buddies[first].distinct)
      first = i;
  cen[0] = BU (first);
  cen[1] = BV (first);
  for (int i = 0; i < n; i++)
    dmin[i] = INFINITY;
  for (int c = 1; c < k; c++)
    {
      int far = 0;
      for (int i = 0; i < n; i++)
        {
          double du = BU (i) - cen[2 * (c - 1)], dv = BV (i) - cen[2 * (c - 1) + 1];
          double d = du * du + dv * dv;
          if (d < dmin[i])
            dmin[i] = d;
          if (dmin[i] > dmin[far])
            far = i;
        }
      cen[2 * c] = BU (far);
      cen[2 * c + 1] = BV (far);
    }
  // Lloyd iterations; an empty cluster keeps its centre.
  for (int it = 0; it < 20; it++)
    {
      memset (acc, 0, (size_t) k * 3 * sizeof *acc);
      for (int i = 0; i < n; i++)
        {
          int bc = 0;
          double bd = INFINITY;
          for (int c = 0; c < k; c++)
            {
              double du = BU (i) - cen[2 * c], dv = BV (i) - cen[2 * c + 1];
              double d = du * du + dv * dv;
              if (d < bd)
                bd = d, bc = c;
            }
          lab[i] = bc;
          acc[3 * bc] += BU (i);
          acc[3 * bc + 1] += BV (i);
          acc[3 * bc + 2] += 1;
        }
      for (int c = 0; c < k; c++)
        if (acc[3 * c + 2] > 0)
          {
            cen[2 * c] = acc[3 * c] / acc[3 * c + 2];
            cen[2 * c + 1] = acc[3 * c + 1] / acc[3 * c + 2];
          }
    }
#undef BU
#undef BV
  int m = 0;
  for (int c = 0; c < k; c++)
    {
      int pick = -1;
      for (int i = 0; i < n; i++)
        if (lab[i] == c && (pick < 0 || t->buddies[i].distinct > t->buddies[pick].distinct))
          pick = i;
      if (pick >= 0)
        out[m++] = t->buddies[pick];
    }
  qsort (out, (size_t) m, sizeof *out, cmp_distinct);
  free (cen), free (acc), free (lab), free (dmin);
  return m;
}
