// SPDX-License-Identifier: GPL-3.0-or-later
//
// match: the match context and its queries. Creation normalises every grid, computes each
// target's similarity matrix S = Src · Tgtᵀ ([Ns, Nt], one sgemm) and its row/column
// argmaxes, then hands over to match-affine.c for the best buddies and the
// RANSAC affine and to match-deform.c for the deformable refinement on top of it. A query reads one row of S (or, with bilinear tokens, one sgemv), finds the
// peak over the whole map (nearest) or within a radius of the affine-mapped query (guided),
// refines it to sub-cell precision, scores the margin against the second best outside the
// peak's 3×3 neighbourhood and checks that the peak matches back to within one cell of the
// query. Queries only read the context.
#include "match-internal.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

void
peac_match_params_default (PeacMatchParams *p)
{
  p->radius = 2.0f;
  p->subcell = PEAC_SUBCELL_SOFTARGMAX;
  p->temperature = 0.05f;
  p->min_confidence = 0.2f;
  p->bilinear = 0;
  p->centre = 1;
  p->symmetric = 1;
  p->deform_levels = 3;
  p->deform_radius = 3.0f;
  p->deform_lambda = 1.0f;
  p->ransac_iters = 512;
  p->ransac_tol = 1.0f;
  p->seed = 1;
}

// ---------------------------------------------------------------------------------------
// Small helpers shared with match-affine.c

float
match_margin (float s1, float s2)
{
  // Lowe's ratio test on the Euclidean distances of unit vectors, ‖a − b‖² = 2 − 2·s:
  // margin = 1 − d₁/d₂. An exact match (s1 = 1) is fully distinctive; s1 = s2 is not at all.
  if (!isfinite (s2))
    return 1.0f;
  double d1 = 1.0 - s1, d2 = 1.0 - s2;
  if (d1 < 0)
    d1 = 0;
  if (d2 <= 1e-12)
    return 0.0f;
  double m = 1.0 - sqrt (d1 / d2);
  return m < 0 ? 0.0f : m > 1 ? 1.0f : (float) m;
}

static inline int
in_window (int r, int c, float cu, float cv, float radius)
{
  float dx = (float) c + 0.5f - cu, dy = (float) r + 0.5f - cv;
  return radius < 0.0f || dx * dx + dy * dy <= radius * radius;
}

static inline float
clampf (float x, float lo, float hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

int
match_find_peak (const float *map, int gh, int gw, size_t stride, float cu, float cv,
                 float radius, float *s1, float *s2)
{
  cu = clampf (cu, 0.5f, (float) gw - 0.5f);
  cv = clampf (cv, 0.5f, (float) gh - 0.5f);
  int best = -1;
  float b = -INFINITY;
  for (int r = 0; r < gh; r++)
    for (int c = 0; c < gw; c++)
      if (in_window (r, c, cu, cv, radius))
        {
          float s = map[(size_t) (r * gw + c) * stride];
          if (best < 0 || s > b)
            b = s, best = r * gw + c;
        }
  if (best < 0)
    {
      // The window holds no cell centre: take the cell under the (clamped) centre.
      int r = (int) cv, c = (int) cu;
      best = r * gw + c;
      b = map[(size_t) best * stride];
    }
  int br = best / gw, bc = best % gw;
  float second = -INFINITY;
  for (int r = 0; r < gh; r++)
    for (int c = 0; c < gw; c++)
      if ((abs (r - br) > 1 || abs (c - bc) > 1) && in_window (r, c, cu, cv, radius))
        {
          float s = map[(size_t) (r * gw + c) * stride];
          if (s > second)
            second = s;
        }
  *s1 = b;
  *s2 = second;
  return best;
}

// Sub-cell position (cell coordinates) of the peak at cell `best` of map [gh, gw].
static void
subcell (const float *map, int gh, int gw, int best, PeacSubcell how, float temp,
         float *pu, float *pv)
{
  int br = best / gw, bc = best % gw;
  float s0 = map[best];
  *pu = (float) bc + 0.5f;
  *pv = (float) br + 0.5f;
  if (how == PEAC_SUBCELL_SOFTARGMAX)
    {
      // Position = Σ w·centre / Σ w over the 3×3 neighbourhood, w = exp((s − s_peak) / T).
      double sw = 0, su = 0, sv = 0;
      for (int dr = -1; dr <= 1; dr++)
        for (int dc = -1; dc <= 1; dc++)
          {
            int r = br + dr, c = bc + dc;
            if (r < 0 || r >= gh || c < 0 || c >= gw)
              continue;
            double w = exp ((double) (map[r * gw + c] - s0) / (double) temp);
            sw += w;
            su += w * (c + 0.5);
            sv += w * (r + 0.5);
          }
      *pu = (float) (su / sw);
      *pv = (float) (sv / sw);
    }
  else if (how == PEAC_SUBCELL_QUADRATIC)
    {
      // Vertex of the parabola through (−1, s₋), (0, s₀), (+1, s₊): (s₋ − s₊) / (2(s₋ − 2s₀ + s₊)).
      if (bc > 0 && bc < gw - 1)
        {
          float sm = map[best - 1], sp = map[best + 1], d = sm - 2 * s0 + sp;
          if (d < -1e-9f)
            *pu += clampf (0.5f * (sm - sp) / d, -0.5f, 0.5f);
        }
      if (br > 0 && br < gh - 1)
        {
          float sm = map[best - gw], sp = map[best + gw], d = sm - 2 * s0 + sp;
          if (d < -1e-9f)
            *pv += clampf (0.5f * (sm - sp) / d, -0.5f, 0.5f);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Context

static int
grid_init (MatchGrid *g, const PeacGrid *in, int dim, int centre, char *err, size_t errlen)
{
  if (!in->tokens || in->gh <= 0 || in->gw <= 0 || !(in->width > 0) || !(in->height > 0))
    {
      snprintf (err, errlen, "match: empty grid or image extent");
      return -1;
    }
  g->gh = in->gh;
  g->gw = in->gw;
  g->n = in->gh * in->gw;
  g->cw = in->width / in->gw;
  g->ch = in->height / in->gh;
  g->tok = malloc ((size_t) g->n * dim * sizeof *g->tok);
  if (!g->tok)
    {
      snprintf (err, errlen, "match: out of memory");
      return -1;
    }
  memcpy (g->tok, in->tokens, (size_t) g->n * dim * sizeof *g->tok);
  if (centre)
    {
      // The registration's copy: minus the grid's mean token, then normalised.
      g->ctok = malloc ((size_t) g->n * dim * sizeof *g->ctok);
      if (!g->ctok)
        {
          snprintf (err, errlen, "match: out of memory");
          return -1;
        }
      memcpy (g->ctok, in->tokens, (size_t) g->n * dim * sizeof *g->ctok);
      for (int k = 0; k < dim; k++)
        {
          double m = 0;
          for (int i = 0; i < g->n; i++)
            m += g->ctok[(size_t) i * dim + k];
          m /= g->n;
          for (int i = 0; i < g->n; i++)
            g->ctok[(size_t) i * dim + k] -= (float) m;
        }
      peac_normalise_rows (g->ctok, g->n, dim);
    }
  peac_normalise_rows (g->tok, g->n, dim);
  return 0;
}

static void
grid_clear (MatchGrid *g)
{
  free (g->tok);
  free (g->ctok);
  free (g->sim);
  free (g->csim);
  free (g->fwd);
  free (g->bwd);
  free (g->buddies);
  free (g->field.phi);
}

PeacMatchContext *
peac_match_context_new (const PeacGrid *source, const PeacGrid *targets, int n_targets,
                        int dim, const PeacMatchParams *params, char *err, size_t errlen)
{
  if (!source || n_targets < 0 || (n_targets > 0 && !targets) || dim <= 0)
    {
      snprintf (err, errlen, "match: bad arguments");
      return NULL;
    }
  PeacMatchContext *ctx = calloc (1, sizeof *ctx);
  if (!ctx)
    goto oom;
  ctx->dim = dim;
  if (params)
    ctx->p = *params;
  else
    peac_match_params_default (&ctx->p);
  if (grid_init (&ctx->src, source, dim, ctx->p.centre, err, errlen) < 0)
    goto fail;
  ctx->tgt = calloc ((size_t) (n_targets ? n_targets : 1), sizeof *ctx->tgt);
  if (!ctx->tgt)
    goto oom;
  ctx->n_targets = n_targets;
  int Ns = ctx->src.n;
  for (int t = 0; t < n_targets; t++)
    {
      MatchGrid *g = &ctx->tgt[t];
      if (grid_init (g, &targets[t], dim, ctx->p.centre, err, errlen) < 0)
        goto fail;
      int Nt = g->n;
      g->sim = malloc ((size_t) Ns * Nt * sizeof *g->sim);
      g->fwd = malloc ((size_t) Ns * sizeof *g->fwd);
      g->bwd = malloc ((size_t) Nt * sizeof *g->bwd);
      if (!g->sim || !g->fwd || !g->bwd)
        goto oom;
      // S[Ns, Nt] = Src[Ns, dim] · Tgt[Nt, dim]ᵀ
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, Ns, Nt, dim, 1.0f,
                   ctx->src.tok, dim, g->tok, dim, 0.0f, g->sim, Nt);
      if (g->ctok)
        {
          // The same for the centred copies, which only the registration reads.
          if (!(g->csim = malloc ((size_t) Ns * Nt * sizeof *g->csim)))
            goto oom;
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, Ns, Nt, dim, 1.0f,
                       ctx->src.ctok, dim, g->ctok, dim, 0.0f, g->csim, Nt);
        }
      for (int i = 0; i < Ns; i++)
        {
          const float *row = g->sim + (size_t) i * Nt;
          int b = 0;
          for (int j = 1; j < Nt; j++)
            if (row[j] > row[b])
              b = j;
          g->fwd[i] = b;
        }
      for (int j = 0; j < Nt; j++)
        {
          int b = 0;
          for (int i = 1; i < Ns; i++)
            if (g->sim[(size_t) i * Nt + j] > g->sim[(size_t) b * Nt + j])
              b = i;
          g->bwd[j] = b;
        }
      if (match_fit_target (ctx, g) < 0 || match_fit_deform (ctx, g) < 0)
        goto oom;
    }
  return ctx;

oom:
  snprintf (err, errlen, "match: out of memory");
fail:
  peac_match_context_free (ctx);
  return NULL;
}

void
peac_match_context_free (PeacMatchContext *ctx)
{
  if (!ctx)
    return;
  grid_clear (&ctx->src);
  if (ctx->tgt)
    for (int t = 0; t < ctx->n_targets; t++)
      grid_clear (&ctx->tgt[t]);
  free (ctx->tgt);
  free (ctx);
}

int
peac_match_n_targets (const PeacMatchContext *ctx)
{
  return ctx->n_targets;
}

void
peac_match_target_grid (const PeacMatchContext *ctx, int target, int *gh, int *gw)
{
  *gh = ctx->tgt[target].gh;
  *gw = ctx->tgt[target].gw;
}

int
peac_match_affine (const PeacMatchContext *ctx, int target, double a[6])
{
  const MatchGrid *s = &ctx->src, *t = &ctx->tgt[target];
  // pixels → source cells → target cells → pixels
  a[0] = t->A[0] * t->cw / s->cw;
  a[1] = t->A[1] * t->cw / s->ch;
  a[2] = t->A[2] * t->cw;
  a[3] = t->A[3] * t->ch / s->cw;
  a[4] = t->A[4] * t->ch / s->ch;
  a[5] = t->A[5] * t->ch;
  return t->inliers;
}

double
peac_match_score (const PeacMatchContext *ctx, int target)
{
  return target >= 0 && target < ctx->n_targets ? ctx->tgt[target].score : -1.0;
}

// ---------------------------------------------------------------------------------------
// Queries

void
peac_match_sample_token (const float *tokens, int gh, int gw, int dim, double u, double v,
                         float *out)
{
  // Bilinear weights between the four cell centres around (u, v), clamped at the border.
  double fu = u - 0.5, fv = v - 0.5;
  int c0 = (int) floor (fu), r0 = (int) floor (fv);
  double wu = fu - c0, wv = fv - r0;
  memset (out, 0, (size_t) dim * sizeof *out);
  for (int k = 0; k < 4; k++)
    {
      int r = r0 + (k >> 1), c = c0 + (k & 1);
      double w = ((k & 1) ? wu : 1 - wu) * ((k >> 1) ? wv : 1 - wv);
      r = r < 0 ? 0 : r >= gh ? gh - 1 : r;
      c = c < 0 ? 0 : c >= gw ? gw - 1 : c;
      cblas_saxpy (dim, (float) w, tokens + (size_t) (r * gw + c) * dim, 1, out, 1);
    }
}

static int
query (const PeacMatchContext *ctx, int target, double u, double v, PeacMatchMode mode,
       PeacMatch *out, float *sim_map)
{
  if (target < 0 || target >= ctx->n_targets)
    return -1;
  const MatchGrid *s = &ctx->src, *t = &ctx->tgt[target];
  const PeacMatchParams *p = &ctx->p;
  int qc = (int) floor (u), qr = (int) floor (v);
  qc = qc < 0 ? 0 : qc >= s->gw ? s->gw - 1 : qc;
  qr = qr < 0 ? 0 : qr >= s->gh ? s->gh - 1 : qr;
  int qi = qr * s->gw + qc;

  // The similarity map of the query token against every target cell.
  const float *map;
  float *own = NULL;
  double au = u, av = v;   // where the matched token sits in the source (cell coordinates)
  if (p->bilinear)
    {
      own = malloc ((size_t) (t->n + ctx->dim) * sizeof *own);
      if (!own)
        return -1;
      float *q = own + t->n;
      peac_match_sample_token (s->tok, s->gh, s->gw, ctx->dim, u, v, q);
      float nq = cblas_snrm2 (ctx->dim, q, 1);
      if (nq > 1e-12f)
        cblas_sscal (ctx->dim, 1.0f / nq, q, 1);
      cblas_sgemv (CblasRowMajor, CblasNoTrans, t->n, ctx->dim, 1.0f, t->tok, ctx->dim, q, 1,
                   0.0f, own, 1);
      map = own;
    }
  else
    {
      map = t->sim + (size_t) qi * t->n;
      au = qc + 0.5;
      av = qr + 0.5;
    }
  if (sim_map)
    memcpy (sim_map, map, (size_t) t->n * sizeof *sim_map);

  // Forward search.
  float radius = -1.0f;
  double cu = 0, cv = 0;
  const int guided = mode == PEAC_MATCH_GUIDED || mode == PEAC_MATCH_AFFINE;
  if (guided)
    {
      if (mode == PEAC_MATCH_GUIDED)
        match_map_apply (t, au, av, &cu, &cv);
      else
        match_affine_apply (t->A, au, av, &cu, &cv);
      radius = p->radius;
    }
  float s1, s2;
  int best = match_find_peak (map, t->gh, t->gw, 1, (float) cu, (float) cv, radius, &s1, &s2);

  // Nearest: the peak and its runner-up (the guided answer sets its own below).
  memset (out, 0, sizeof *out);
  out->row = best / t->gw;
  out->col = best % t->gw;
  out->sim = s1;
  out->second = s2;
  out->margin = match_margin (s1, s2);

  // Top-k of the searched set (insertion into a short sorted list).
  float wcu = (float) cu, wcv = (float) cv;
  if (radius >= 0)
    {
      wcu = clampf (wcu, 0.5f, (float) t->gw - 0.5f);
      wcv = clampf (wcv, 0.5f, (float) t->gh - 0.5f);
    }
  for (int j = 0; j < t->n; j++)
    {
      if (j != best && !in_window (j / t->gw, j % t->gw, wcu, wcv, radius))
        continue;
      float sj = map[j];
      int pos = out->n_top;
      while (pos > 0 && out->top_sim[pos - 1] < sj)
        pos--;
      if (pos >= PEAC_MATCH_TOPK)
        continue;
      int last = out->n_top < PEAC_MATCH_TOPK ? out->n_top : PEAC_MATCH_TOPK - 1;
      for (int k = last; k > pos; k--)
        {
          out->top[k] = out->top[k - 1];
          out->top_sim[k] = out->top_sim[k - 1];
        }
      out->top[pos] = j;
      out->top_sim[pos] = sj;
      if (out->n_top < PEAC_MATCH_TOPK)
        out->n_top++;
    }

  int dr, dc;
  if (guided)
    {
      // The answer is the registration's image of the query point itself. The similarity
      // map only grades it: the similarity of its cell against the best elsewhere (outside
      // its 3×3 neighbourhood) and how far the peak within the radius lies from it.
      double mu, mv;
      if (mode == PEAC_MATCH_GUIDED)
        match_map_apply (t, u, v, &mu, &mv);
      else
        match_affine_apply (t->A, u, v, &mu, &mv);
      int mc = (int) floor (mu), mr = (int) floor (mv);
      mc = mc < 0 ? 0 : mc >= t->gw ? t->gw - 1 : mc;
      mr = mr < 0 ? 0 : mr >= t->gh ? t->gh - 1 : mr;
      out->x = (float) (mu * t->cw);
      out->y = (float) (mv * t->ch);
      out->row = mr, out->col = mc;
      out->sim = map[mr * t->gw + mc];
      float other = -INFINITY;
      for (int j = 0; j < t->n; j++)
        if ((abs (j / t->gw - mr) > 1 || abs (j % t->gw - mc) > 1) && map[j] > other)
          other = map[j];
      out->second = other;
      out->margin = match_margin (out->sim, other);
      // Consistency: the peak within the radius against the answer's cell.
      dr = abs (best / t->gw - mr), dc = abs (best % t->gw - mc);
    }
  else
    {
      // Sub-cell refinement, then the query's own offset from the matched token's
      // position, carried through the grid rescale.
      float pu, pv;
      subcell (map, t->gh, t->gw, best, p->subcell, p->temperature, &pu, &pv);
      pu += (float) ((u - au) * t->gw / s->gw);
      pv += (float) ((v - av) * t->gh / s->gh);
      out->x = (float) (pu * t->cw);
      out->y = (float) (pv * t->ch);
      // Cycle check: the peak cell's best source cell against the query's cell.
      int back = t->bwd[best];
      dr = abs (back / s->gw - qr), dc = abs (back % s->gw - qc);
    }
  out->cycle = (float) (dr > dc ? dr : dc);
  out->confidence = out->cycle <= 1.0f ? out->margin : 0.0f;
  out->found = out->confidence >= p->min_confidence;
  free (own);
  return 0;
}

int
peac_match_query (const PeacMatchContext *ctx, int target, double x, double y,
                  PeacMatchMode mode, PeacMatch *out, float *sim_map)
{
  return query (ctx, target, x / ctx->src.cw, y / ctx->src.ch, mode, out, sim_map);
}

int
peac_match_query_cell (const PeacMatchContext *ctx, int target, int row, int col,
                       PeacMatchMode mode, PeacMatch *out, float *sim_map)
{
  return query (ctx, target, col + 0.5, row + 0.5, mode, out, sim_map);
}

int
peac_match_propagate (const PeacMatchContext *ctx, const float *xy, int n,
                      PeacMatchMode mode, PeacMatch *out)
{
  for (int t = 0; t < ctx->n_targets; t++)
    for (int i = 0; i < n; i++)
      if (peac_match_query (ctx, t, xy[2 * i], xy[2 * i + 1], mode,
                            &out[(size_t) t * n + i], NULL) < 0)
        return -1;
  return 0;
}

static const char *const mode_names[] = { [PEAC_MATCH_GUIDED] = "guided",
                                          [PEAC_MATCH_NEAREST] = "nearest",
                                          [PEAC_MATCH_AFFINE] = "affine" };

const char *
peac_match_mode_name (PeacMatchMode mode)
{
  return (unsigned) mode < sizeof mode_names / sizeof *mode_names ? mode_names[mode] : "";
}

int
peac_match_mode_parse (const char *name)
{
  for (int i = 0; name && i < (int) (sizeof mode_names / sizeof *mode_names); i++)
    if (strcmp (name, mode_names[i]) == 0)
      return i;
  return -1;
}
