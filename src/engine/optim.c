// SPDX-License-Identifier: GPL-3.0-or-later
//
// optim: AdamW and SGD-momentum updates, the warm-up + cosine schedule, gradient clipping
// and the weight-decay mask (see optim.h). The update loops are elementwise and run in
// a fixed order, so a step is bit-identical for identical inputs on any thread count.
//   AdamW (decoupled decay): p ← p − lr·wd·p;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
//                            p ← p − lr · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
//   SGD (PyTorch):           g ← g + wd·p;  b ← μb + g (b = g on the first step);  p ← p − lr·b
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

double
peac_grad_norm (const float *g, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double) g[i] * g[i];
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

double
peac_optim_step (PeacOptimizer *o, float *params, float *grads, const unsigned char *mask)
{
  const PeacOptConfig *c = &o->cfg;
  const size_t n = o->n;
  const double norm = peac_grad_norm (grads, n);
  if (c->clip_norm > 0 && norm > c->clip_norm)
    {
      const float s = (float) (c->clip_norm / (norm + 1e-6));
      for (size_t i = 0; i < n; i++)
        grads[i] *= s;
    }
  const float lr = (float) peac_optim_lr (c, o->step);
  const float wd = (float) c->weight_decay;
  o->step++;
  if (c->kind == PEAC_OPT_ADAMW)
    {
      const float b1 = (float) c->beta1, b2 = (float) c->beta2, eps = (float) c->eps;
      const float bc1 = (float) (1.0 - pow (c->beta1, (double) o->step));
      const float bc2 = (float) (1.0 - pow (c->beta2, (double) o->step));
      for (size_t i = 0; i < n; i++)
        {
          const float g = grads[i];
          float p = params[i];
          if (!mask || mask[i])
            p -= lr * wd * p;
          const float m = o->m[i] = b1 * o->m[i] + (1.0f - b1) * g;
          const float v = o->v[i] = b2 * o->v[i] + (1.0f - b2) * g * g;
          params[i] = p - lr * (m / bc1) / (sqrtf (v / bc2) + eps);
        }
    }
  else
    {
      const float mu = (float) c->momentum;
      const int first = o->step == 1;
      for (size_t i = 0; i < n; i++)
        {
          float g = grads[i];
          if (!mask || mask[i])
            g += wd * params[i];
          const float b = o->m[i] = first ? g : mu * o->m[i] + g;
          params[i] -= lr * b;
        }
    }
  return norm;
}
