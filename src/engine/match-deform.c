// SPDX-License-Identifier: GPL-3.0-or-later
//
// match-deform: the deformable refinement of a target's registration. After the affine A
// (match-affine.c) the source → target map becomes T(p) = A·p + D(p), D a smooth
// displacement field: a uniform cubic B-spline over a lattice of control points, fitted
// coarse to fine. At each level every source cell looks for its token's similarity peak
// within a radius of where the current map sends it, sub-cell refined (soft-argmax), and
// keeps it only when the match is mutual there: among the source cells the current map
// sends within the radius of that target cell, the cell itself is the most similar. Each
// kept match weighs by its distinctiveness within the window; the field is the weighted
// least-squares fit of the displacements those matches ask for, with a membrane penalty on
// neighbouring control points (a field that bends only where the matches agree) and a
// small pull towards zero (no matches nearby: the affine), then refitted twice with
// Tukey-biweight weights on the residuals so that a wrong match does not drag its
// neighbours. Levels halve the lattice spacing and the radius. Cell coordinates as in
// match-affine.c: source cell (r, c) sits at (c + ½, r + ½).
#include "match-internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// The four uniform cubic B-spline weights at fraction s ∈ [0, 1).
static void
bspline (double s, double w[4])
{
  const double s2 = s * s, s3 = s2 * s, t = 1.0 - s;
  w[0] = t * t * t / 6.0;
  w[1] = (3.0 * s3 - 6.0 * s2 + 4.0) / 6.0;
  w[2] = (-3.0 * s3 + 3.0 * s2 + 3.0 * s + 1.0) / 6.0;
  w[3] = s3 / 6.0;
}

// Lattice index of the first of the 4×4 control points around (u, v) and their 16 weights
// (row-major, 4 along v × 4 along u). Points outside the grid are clamped to its edge.
static void
lattice_weights (const MatchField *f, double u, double v, int *a0, int *b0, double w[16])
{
  double x = u / f->h, y = v / f->h;
  const double xmax = (f->nx - 3) - 1e-9, ymax = (f->ny - 3) - 1e-9;
  x = x < 0 ? 0 : x > xmax ? xmax : x;
  y = y < 0 ? 0 : y > ymax ? ymax : y;
  int ia = (int) floor (x), ib = (int) floor (y);
  double wu[4], wv[4];
  bspline (x - ia, wu);
  bspline (y - ib, wv);
  for (int j = 0; j < 4; j++)
    for (int i = 0; i < 4; i++)
      w[j * 4 + i] = wv[j] * wu[i];
  *a0 = ia;
  *b0 = ib;
}

void
match_field_apply (const MatchField *f, double u, double v, double *du, double *dv)
{
  *du = *dv = 0.0;
  if (!f->phi)
    return;
  int a0, b0;
  double w[16];
  lattice_weights (f, u, v, &a0, &b0, w);
  for (int j = 0; j < 4; j++)
    for (int i = 0; i < 4; i++)
      {
        const float *p = f->phi + 2 * ((size_t) (b0 + j) * f->nx + a0 + i);
        *du += w[j * 4 + i] * p[0];
        *dv += w[j * 4 + i] * p[1];
      }
}

void
match_map_apply (const MatchGrid *t, double u, double v, double *u2, double *v2)
{
  double du, dv;
  match_affine_apply (t->A, u, v, u2, v2);
  match_field_apply (&t->field, u, v, &du, &dv);
  *u2 += du;
  *v2 += dv;
}

// Cholesky solve of the symmetric positive-definite n×n M (row-major, overwritten by its
// factor) for two right-hand sides b [n, 2], in place. M is banded: M[i][j] = 0 for
// |i − j| > band (a control point only meets those within three lattice steps), and so is
// its factor, which keeps the solve at n·band² rather than n³. −1 when M is not positive
// definite.
static int
cholesky_solve2 (double *M, int n, int band, double *b)
{
#define L(i, j) M[(size_t) (i) * n + (j)]
  for (int j = 0; j < n; j++)
    {
      const int lo = j - band > 0 ? j - band : 0, hi = j + band < n - 1 ? j + band : n - 1;
      double d = L (j, j);
      for (int k = lo; k < j; k++)
        d -= L (j, k) * L (j, k);
      if (!(d > 1e-12))
        return -1;
      d = sqrt (d);
      L (j, j) = d;
      for (int i = j + 1; i <= hi; i++)
        {
          const int lo_i = i - band > 0 ? i - band : 0;
          double s = L (i, j);
          for (int k = lo_i; k < j; k++)
            s -= L (i, k) * L (j, k);
          L (i, j) = s / d;
        }
    }
  for (int c = 0; c < 2; c++)
    {
      for (int i = 0; i < n; i++)
        {
          double s = b[2 * i + c];
          for (int k = i - band > 0 ? i - band : 0; k < i; k++)
            s -= L (i, k) * b[2 * k + c];
          b[2 * i + c] = s / L (i, i);
        }
      for (int i = n - 1; i >= 0; i--)
        {
          double s = b[2 * i + c];
          for (int k = i + 1; k <= i + band && k < n; k++)
            s -= L (k, i) * b[2 * k + c];
          b[2 * i + c] = s / L (i, i);
        }
    }
#undef L
  return 0;
}

// One match per source cell: where it asks to go (target cells) and how much it counts.
typedef struct {
  double u, v;     // source cell centre
  double du, dv;   // displacement asked for, on top of the affine
  double w;        // 0: no usable match
} Pull;

// Weighted least squares of the field on the pulls, membrane penalty lambda·Σw per
// neighbouring control pair (scaled so that it does not depend on how many cells match)
// and a ridge of lambda·Σw / 100 towards zero. 0, 1 when the system is singular (the
// field is then left as it was), −1 when out of memory.
static int
fit_field (MatchField *f, const Pull *pull, int n, double lambda)
{
  const int nc = f->nx * f->ny;
  double *M = calloc ((size_t) nc * nc, sizeof *M), *b = calloc ((size_t) nc * 2, sizeof *b);
  if (!M || !b)
    {
      free (M), free (b);
      return -1;
    }
  double wsum = 0.0;
  for (int k = 0; k < n; k++)
    {
      if (!(pull[k].w > 0))
        continue;
      wsum += pull[k].w;
      int a0, b0;
      double w[16];
      int idx[16];
      lattice_weights (f, pull[k].u, pull[k].v, &a0, &b0, w);
      for (int j = 0; j < 16; j++)
        idx[j] = (b0 + j / 4) * f->nx + a0 + j % 4;
      for (int i = 0; i < 16; i++)
        {
          const double wi = pull[k].w * w[i];
          for (int j = 0; j < 16; j++)
            M[(size_t) idx[i] * nc + idx[j]] += wi * w[j];
          b[2 * idx[i]] += wi * pull[k].du;
          b[2 * idx[i] + 1] += wi * pull[k].dv;
        }
    }
  // Penalties, relative to the mean data weight per control point.
  const double unit = (wsum > 0 ? wsum : 1.0) / nc;
  const double mem = lambda * unit, ridge = 0.01 * lambda * unit + 1e-9;
  for (int y = 0; y < f->ny; y++)
    for (int x = 0; x < f->nx; x++)
      {
        const int i = y * f->nx + x;
        M[(size_t) i * nc + i] += ridge;
        for (int d = 0; d < 2; d++)
          {
            const int x2 = x + (d == 0), y2 = y + (d == 1);
            if (x2 >= f->nx || y2 >= f->ny)
              continue;
            const int j = y2 * f->nx + x2;
            M[(size_t) i * nc + i] += mem;
            M[(size_t) j * nc + j] += mem;
            M[(size_t) i * nc + j] -= mem;
            M[(size_t) j * nc + i] -= mem;
          }
      }
  const int singular = cholesky_solve2 (M, nc, 3 * f->nx + 3, b) < 0;
  if (!singular)
    for (int i = 0; i < 2 * nc; i++)
      f->phi[i] = (float) b[i];
  free (M);
  free (b);
  return singular; // 1: the field is left as it was
}

// The pulls of one pass: every source cell's peak within `radius` of its current image,
// kept when mutual within the same radius (see the file comment).
static void
find_pulls (const MatchGrid *s, const MatchGrid *t, const float *sim, double radius,
            const double *img, Pull *pull, int *best_src, float *best_sim)
{
  const int Ns = s->n, Nt = t->n;
  const double r2 = radius * radius;
  // Backward: for every target cell, the most similar source cell among those whose
  // image lies within the radius of it.
  for (int j = 0; j < Nt; j++)
    best_src[j] = -1, best_sim[j] = -INFINITY;
  for (int i = 0; i < Ns; i++)
    {
      const double cu = img[2 * i], cv = img[2 * i + 1];
      const int c0 = (int) floor (cu - radius), c1 = (int) ceil (cu + radius);
      const int r0 = (int) floor (cv - radius), r1 = (int) ceil (cv + radius);
      const float *row = sim + (size_t) i * Nt;
      for (int r = r0 < 0 ? 0 : r0; r <= r1 && r < t->gh; r++)
        for (int c = c0 < 0 ? 0 : c0; c <= c1 && c < t->gw; c++)
          {
            const double dx = c + 0.5 - cu, dy = r + 0.5 - cv;
            const int j = r * t->gw + c;
            if (dx * dx + dy * dy <= r2 && row[j] > best_sim[j])
              best_sim[j] = row[j], best_src[j] = i;
          }
    }
  for (int i = 0; i < Ns; i++)
    {
      Pull *p = &pull[i];
      p->u = i % s->gw + 0.5;
      p->v = i / s->gw + 0.5;
      p->w = 0.0;
      const double cu = img[2 * i], cv = img[2 * i + 1];
      const float *row = sim + (size_t) i * Nt;
      if (cu < 0 || cv < 0 || cu > t->gw || cv > t->gh)
        continue;
      float s1, s2;
      const int j = match_find_peak (row, t->gh, t->gw, 1, (float) cu, (float) cv,
                                     (float) radius, &s1, &s2);
      if (best_src[j] != i)
        continue;
      // Sub-cell: per axis, the vertex of the parabola through the peak and its two
      // neighbours (half a cell at most).
      const int br = j / t->gw, bc = j % t->gw;
      double pu = bc + 0.5, pv = br + 0.5;
      if (bc > 0 && bc < t->gw - 1)
        {
          const double sm = row[j - 1], sp = row[j + 1], d = sm - 2.0 * s1 + sp;
          if (d < -1e-9)
            pu += fmax (-0.5, fmin (0.5, 0.5 * (sm - sp) / d));
        }
      if (br > 0 && br < t->gh - 1)
        {
          const double sm = row[j - t->gw], sp = row[j + t->gw], d = sm - 2.0 * s1 + sp;
          if (d < -1e-9)
            pv += fmax (-0.5, fmin (0.5, 0.5 * (sm - sp) / d));
        }
      double au, av;
      match_affine_apply (t->A, p->u, p->v, &au, &av);
      p->du = pu - au;
      p->dv = pv - av;
      p->w = 0.05 + match_margin (s1, s2);
    }
}

// How well the final map registers the grids: the mean similarity (centred tokens when
// the context has them) of each source cell with the target cell under its image, over the
// cells that land on the target; −1 when under half of them do.
static double
map_score (const MatchGrid *s, const MatchGrid *t, const float *sim)
{
  double sum = 0.0;
  int on = 0;
  for (int i = 0; i < s->n; i++)
    {
      double u, v;
      match_map_apply (t, i % s->gw + 0.5, i / s->gw + 0.5, &u, &v);
      if (!(u >= 0 && v >= 0 && u < t->gw && v < t->gh))
        continue;
      sum += sim[(size_t) i * t->n + (int) v * t->gw + (int) u];
      on++;
    }
  return 2 * on >= s->n ? sum / on : -1.0;
}

int
match_fit_deform (const PeacMatchContext *ctx, MatchGrid *t)
{
  const MatchGrid *s = &ctx->src;
  const int levels = ctx->p.deform_levels;
  const float *sim = t->csim ? t->csim : t->sim;
  if (levels <= 0)
    {
      t->score = map_score (s, t, sim);
      return 0;
    }
  const int Ns = s->n;
  double *img = malloc ((size_t) Ns * 2 * sizeof *img);
  Pull *pull = malloc ((size_t) Ns * sizeof *pull);
  int *best_src = malloc ((size_t) t->n * sizeof *best_src);
  float *best_sim = malloc ((size_t) t->n * sizeof *best_sim);
  int rc = -1;
  if (!img || !pull || !best_src || !best_sim)
    goto out;
  MatchField *f = &t->field;
  const double extent = s->gw > s->gh ? s->gw : s->gh;
  double h = extent / 4.0, radius = ctx->p.deform_radius;
  for (int level = 0; level < levels; level++, h *= 0.5, radius *= 0.5)
    {
      if (radius < 1.5)
        radius = 1.5;
      // Each pass fits the level's lattice afresh to the whole displacement the pulls ask
      // for; the pulls themselves are searched around the current map (the previous
      // pass's or level's field), so the search window follows the refinement.
      MatchField next = { .h = h, .nx = (int) floor (s->gw / h) + 4,
                          .ny = (int) floor (s->gh / h) + 4 };
      next.phi = calloc ((size_t) next.nx * next.ny * 2, sizeof *next.phi);
      if (!next.phi)
        goto out;
      for (int pass = 0; pass < 3; pass++)
        {
          for (int i = 0; i < Ns; i++)
            match_map_apply (t, i % s->gw + 0.5, i / s->gw + 0.5, &img[2 * i], &img[2 * i + 1]);
          find_pulls (s, t, sim, radius, img, pull, best_src, best_sim);
          // Fit, then twice more with Tukey-biweight weights (c = 1.5 cells) on the residuals.
          for (int irls = 0; irls < 3; irls++)
            {
              if (fit_field (&next, pull, Ns, ctx->p.deform_lambda) < 0)
                {
                  free (next.phi);
                  goto out;
                }
              for (int i = 0; i < Ns && irls < 2; i++)
                if (pull[i].w > 0)
                  {
                    double du, dv;
                    match_field_apply (&next, pull[i].u, pull[i].v, &du, &dv);
                    const double r = hypot (du - pull[i].du, dv - pull[i].dv) / 1.5;
                    pull[i].w *= r < 1 ? (1 - r * r) * (1 - r * r) : 0.0;
                  }
            }
          free (f->phi);
          *f = next;
          next.phi = calloc ((size_t) next.nx * next.ny * 2, sizeof *next.phi);
          if (!next.phi)
            goto out;
        }
      free (next.phi);
    }
  t->score = map_score (s, t, sim);
  rc = 0;
out:
  free (img), free (pull), free (best_src), free (best_sim);
  return rc;
}
