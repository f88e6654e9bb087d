// SPDX-License-Identifier: GPL-3.0-or-later
//
// optim: AdamW and SGD-momentum updates, the warm-up + cosine schedule, gradient clipping
// and the weight-decay mask (see optim.h). The update loops are elementwise and run in
// a fixed order, so a step is bit-identical for identical inputs on any thread count;
// they are split over the engine's pool in fixed chunks.
//   AdamW (decoupled decay): p ← p − lr·wd·p;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
//                            p ← p − lr · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
//   SGD (PyTorch):           g ← g + wd·p;  b ← μb + g (b = g on the first step);  p ← p − lr·b
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "pool.h"

void
peac_optim_defaults (PeacOptConfig *cfg)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->kind = PEAC_OPT_ADAMW;
  cfg->lr = 1e-4;
  cfg->beta1 = 0.9, cfg->beta2 = 0.999, cfg->eps = 1e-8;
  cfg->weight_decay = 0.05;
  cfg->momentum = 0.9;
  cfg->total_steps = 1;
}

int
peac_optim_init (PeacOptimizer *o, const PeacOptConfig *cfg, size_t n)
{
  memset (o, 0, sizeof *o);
  o->cfg = *cfg;
  o->n = n;
  o->m = calloc (2 * (n ? n : 1), sizeof (float));
  if (!o->m)
    return -1;
  o->v = o->m + n;
  return 0;
}

void
peac_optim_free (PeacOptimizer *o)
{
  free (o->m);
  o->m = o->v = NULL;
}

double
peac_optim_lr (const PeacOptConfig *c, long s)
{
  if (s < c->warmup_steps)
    return c->lr * (double) (s + 1) / (double) c->warmup_steps;
  const long span = c->total_steps - c->warmup_steps;
  if (span <= 0 || s >= c->total_steps)
    return span <= 0 ? c->lr : c->min_lr;
  const double t = (double) (s - c->warmup_steps) / (double) span;
  return c->min_lr + 0.5 * (c->lr - c->min_lr) * (1.0 + cos (M_PI * t));
}

// Work is cut into fixed chunks of OPT_CHUNK values handed to the engine's pool (pool.h),
// so that the partial sums of the norm, added in chunk order, do not depend on the thread
// count either.
enum { OPT_CHUNK = 1 << 15 };

typedef struct {
  const float *g;
  size_t n;
  double *part;
} NormJob;

static void
norm_chunk (void *ctx, int t, int thread)
{
  const NormJob *j = ctx;
  (void) thread;
  const size_t a = (size_t) t * OPT_CHUNK, e = a + OPT_CHUNK < j->n ? a + OPT_CHUNK : j->n;
  double s = 0.0;
  for (size_t i = a; i < e; i++)
    s += (double) j->g[i] * j->g[i];
  j->part[t] = s;
}

static int
chunks (size_t n)
{
  return (int) ((n + OPT_CHUNK - 1) / OPT_CHUNK);
}

static int
threads_for (size_t n)
{
  return n >= 4 * (size_t) OPT_CHUNK ? peac_threads_get () : 1;
}

double
peac_grad_norm (const float *g, size_t n)
{
  const int nc = chunks (n);
  double stack[64], *part = nc <= 64 ? stack : malloc ((size_t) nc * sizeof *part);
  if (!part)
    {
      double s = 0.0; // no memory for the partials: the same sum in one pass
      for (size_t i = 0; i < n; i++)
        s += (double) g[i] * g[i];
      return sqrt (s);
    }
  NormJob j = { g, n, part };
  peac_parallel_for (nc, threads_for (n), norm_chunk, &j);
  double s = 0.0;
  for (int t = 0; t < nc; t++)
    s += part[t];
  if (part != stack)
    free (part);
  return sqrt (s);
}

void
peac_optim_decay_mask (const PeacParams *p, unsigned char *mask)
{
  memset (mask, 0, p->total);
  for (int i = 0; i < p->n; i++)
    {
      const PeacParam *e = &p->list[i];
      int decay = e->ndim >= 2 && !strstr (e->name, "cls_token") && !strstr (e->name, "pos_embed");
      memset (mask + e->offset, decay, e->numel);
    }
}

typedef struct {
  PeacOptimizer *o;
  float *params, *grads;
  const unsigned char *mask;
  float lr, wd, clip, b1, b2, eps, bc1, bc2, mu;
  int first;
} StepJob;

static void
step_chunk (void *ctx, int t, int thread)
{
  const StepJob *j = ctx;
  (void) thread;
  const size_t a = (size_t) t * OPT_CHUNK, e = a + OPT_CHUNK < j->o->n ? a + OPT_CHUNK : j->o->n;
  float *params = j->params, *grads = j->grads, *M = j->o->m, *V = j->o->v;
  const unsigned char *mask = j->mask;
  const float lr = j->lr, wd = j->wd;
  if (j->clip != 1.0f)
    for (size_t i = a; i < e; i++)
      grads[i] *= j->clip;
  if (j->o->cfg.kind == PEAC_OPT_ADAMW)
    for (size_t i = a; i < e; i++)
      {
        const float g = grads[i];
        float p = params[i];
        if (!mask || mask[i])
          p -= lr * wd * p;
        const float m = M[i] = j->b1 * M[i] + (1.0f - j->b1) * g;
        const float v = V[i] = j->b2 * V[i] + (1.0f - j->b2) * g * g;
        params[i] = p - lr * (m / j->bc1) / (sqrtf (v / j->bc2) + j->eps);
      }
  else
    for (size_t i = a; i < e; i++)
      {
        float g = grads[i];
        if (!mask || mask[i])
          g += wd * params[i];
        const float b = M[i] = j->first ? g : j->mu * M[i] + g;
        params[i] -= lr * b;
      }
}

double
peac_optim_step (PeacOptimizer *o, float *params, float *grads, const unsigned char *mask)
{
  const PeacOptConfig *c = &o->cfg;
  const size_t n = o->n;
  const double norm = peac_grad_norm (grads, n);
  StepJob j = { o, params, grads, mask, 0, 0, 1.0f, 0, 0, 0, 0, 0, 0, 0 };
  if (c->clip_norm > 0 && norm > c->clip_norm)
    j.clip = (float) (c->clip_norm / (norm + 1e-6));
  j.lr = (float) peac_optim_lr (c, o->step);
  j.wd = (float) c->weight_decay;
  o->step++;
  j.b1 = (float) c->beta1, j.b2 = (float) c->beta2, j.eps = (float) c->eps;
  j.bc1 = (float) (1.0 - pow (c->beta1, (double) o->step));
  j.bc2 = (float) (1.0 - pow (c->beta2, (double) o->step));
  j.mu = (float) c->momentum;
  j.first = o->step == 1;
  peac_parallel_for (chunks (n), threads_for (n), step_chunk, &j);
  return norm;
}
