// SPDX-License-Identifier: GPL-3.0-or-later
//
// optim: the optimisers of PEAC training over one flat parameter array and its mirrored
// gradient array (params.h): AdamW and SGD with momentum, as PyTorch defines them, a
// learning rate that warms up linearly and then follows a half cosine down to a floor,
// optional clipping of the global gradient norm, and a weight-decay mask (decay only on
// matrices, not on biases, norms, class token or position embedding). The moments live in
// one allocation of 2·n floats so that checkpoints save and restore them bit-exactly.
#pragma once

#include <stddef.h>

#include "params.h"

typedef enum {
  PEAC_OPT_ADAMW = 0,
  PEAC_OPT_SGD = 1,
} PeacOptKind;

typedef struct {
  PeacOptKind kind;
  double lr;            // peak learning rate (after warm-up)
  double min_lr;        // floor of the cosine
  long   warmup_steps;  // linear from lr/warmup to lr over these steps
  long   total_steps;   // end of the cosine (warm-up included)
  double weight_decay;
  double beta1, beta2, eps; // AdamW
  double momentum;      // SGD
  double clip_norm;     // > 0: scale gradients so that their global L2 norm ≤ clip_norm
} PeacOptConfig;

typedef struct {
  PeacOptConfig cfg;
  size_t n;
  float *m, *v;         // AdamW moments / SGD momentum buffer (m); one allocation of 2n
  long   step;          // steps taken
} PeacOptimizer;

// Defaults: AdamW, lr 1e-4, β (0.9, 0.999), eps 1e-8, wd 0.05, momentum 0.9, no clipping.
void   peac_optim_defaults (PeacOptConfig *cfg);
int    peac_optim_init (PeacOptimizer *o, const PeacOptConfig *cfg, size_t n);
void   peac_optim_free (PeacOptimizer *o);
// Learning rate of step s (0-based): (s + 1)/warmup · lr during warm-up, then
// min_lr + ½ (lr − min_lr)(1 + cos(π · (s − warmup)/(total − warmup))), min_lr after.
double peac_optim_lr (const PeacOptConfig *cfg, long step);
// Global L2 norm of g[n] (double accumulation).
double peac_grad_norm (const float *g, size_t n);
// mask[i] = 1 where weight decay applies: tensors of 2 or more dimensions except
// cls_token and pos_embed. mask has p->total entries.
void   peac_optim_decay_mask (const PeacParams *p, unsigned char *mask);
// One update of params[n] from grads[n] (clipped in place when clip_norm > 0). mask may
// be NULL (decay everywhere). Returns the gradient norm before clipping.
double peac_optim_step (PeacOptimizer *o, float *params, float *grads,
                        const unsigned char *mask);
