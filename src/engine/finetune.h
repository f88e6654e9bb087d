// SPDX-License-Identifier: GPL-3.0-or-later
//
// finetune: transfer of a backbone to labelled downstream tasks, as in the paper's
// tables. A multi-label linear head (one logit per finding) on the pooled embedding,
// trained with binary cross-entropy and AdamW (linear warm-up, cosine decay, optim.h)
// either as a linear probe on cached embeddings (backbone frozen; features standardised
// during training and the scaling folded back into the head) or end to end through
// vit-train.h with radiograph augmentation (random resized crop, small rotation, no flip
// by default). Both keep the head (and weights) of the epoch with the best validation
// mean AUC and stop after `patience` epochs without improvement (the label tables they
// train on are read by px-labels.h in io). A fine-tuned model is one safetensors file: the
// backbone under its usual names (so `peac embed` and the app load it), `head.weight`,
// `head.bias` and a `peac.finetune` JSON metadata entry with the class names.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "rng.h"
#include "train.h"

// ---- The head and the linear probe (finetune.c) ----

typedef struct {
  int    dim, k;
  float *w;       // [k, dim]
  float *b;       // [k]
} PeacHead;

int  peac_head_init (PeacHead *h, int dim, int k);   // zeros; −1 on OOM
void peac_head_free (PeacHead *h);
// Weights zero, each bias at the log-odds of its class's prevalence in y [n, k]
// (smoothed: (positives + ½) / (n + 1)).
void peac_head_prior (PeacHead *h, const float *y, int n);
// x [n, dim] → prob [n, k] = σ(x·wᵀ + b).
void peac_head_predict (const PeacHead *h, const float *x, int n, float *prob);

typedef struct {
  double   lr, min_lr, weight_decay;
  double   warmup;    // fraction of the steps spent warming up
  int      epochs, batch, patience;
  uint64_t seed;
} PeacProbeConfig;

// Linear probe: AdamW lr 1e-2 → 1e-4 (on standardised features), wd 1e-4, 5 % warm-up,
// 100 epochs, batch 32, patience 10.
void peac_probe_defaults (PeacProbeConfig *c);

typedef struct {
  int    epoch, epochs;
  double train_loss, val_auc;   // val_auc NaN without validation rows
  double best_auc;
} PeacFtProgress;

typedef void (*PeacFtProgressFn) (void *user, const PeacFtProgress *p);

// Trains h (dim = feature width, k classes) on features xtr [ntr, dim] with labels
// ytr [ntr, k]; early-stops on the mean AUC of xva [nva, dim] / yva (nva may be 0: all
// epochs, the last head kept). The head starts at zero weights and the log-odds of each
// class's prevalence. *best_auc (may be NULL) gets the best validation mean AUC. abort
// (may be NULL) is checked between epochs. Returns 0, 1 when aborted, −1 with err.
int  peac_probe_train (PeacHead *h, const PeacProbeConfig *c, const float *xtr,
                       const float *ytr, int ntr, const float *xva, const float *yva, int nva,
                       PeacFtProgressFn cb, void *user, const atomic_int *abort,
                       double *best_auc, char *err, size_t errlen);

// Saves backbone + head + metadata atomically: peac.arch/layout/config as the model's,
// peac.finetune = {"classes": [...], ...extra} (extra_json: an object or NULL).
int  peac_finetune_save (const char *path, PeacModel *m, const PeacHead *h,
                         const char *const *classes, const char *extra_json, char *err,
                         size_t errlen);
// Reads the head of a file written by peac_finetune_save (the backbone loads through
// peac_model_load). classes (may be NULL) gets k strings and a NULL (free each and the
// array, or g_strfreev).
int  peac_finetune_load_head (const char *path, PeacHead *h, char ***classes, char *err,
                              size_t errlen);

// ---- End-to-end fine-tuning (finetune-full.c) ----

typedef struct {
  double scale_min;     // random resized crop: area fraction in [scale_min, 1]
  double ratio_max;     // aspect ratio in [1/ratio_max, ratio_max]
  double rotate_deg;    // rotation uniform in ±rotate_deg
  int    hflip;         // 1: horizontal flip with probability ½ (off by default)
} PeacAugConfig;

void peac_aug_defaults (PeacAugConfig *a);   // 0.6, 4/3, 10°, no flip
// One augmented view of a grey image [h, w] in [0, 1] as the network input [3, S, S]
// normalised (v − mean) / std: a random crop of the centred short-side square's
// neighbourhood, rotated, resampled bilinearly (the caller pre-shrinks images to about
// S·1.15 on the short side so that bilinear does not alias).
void peac_aug_view (const float *grey, int w, int h, int S, float mean, float std,
                    const PeacAugConfig *a, PeacRng *r, float *out);

// A copy of grey [h, w] shrunk (antialiased, preprocess.h's filter) so that its short
// side is round(1.15·S), or unchanged when already that small; malloc'd, NULL on OOM.
float *peac_aug_prepare (const float *grey, int w, int h, int S, int *ow, int *oh);

typedef struct {
  PeacProbeConfig opt;       // the head's schedule; epochs, batch, patience, seed
  double          backbone_lr;
  int             size;      // input side (the model's configured size)
  float           mean, std;
  PeacAugConfig   aug;
} PeacFinetuneConfig;

// Full fine-tune: AdamW lr 1e-4 (backbone 1e-5 peak → 0), wd 0.05, 10 % warm-up,
// 20 epochs, batch 8, patience 5, default augmentation.
void peac_finetune_defaults (PeacFinetuneConfig *c);

// Trains the model pm end to end through its backbone's trainer (model.h: ViT, Swin or
// any row of the backbone table) — its weights are updated in place to the best epoch's,
// so the caller goes on with its inference forward and peac_finetune_save — and the head
// h (initialised as peac_probe_train does) on its pooled vector, from grey training
// images with labels ytr [ntr, k], early-stopping on the mean AUC of preprocessed
// validation inputs val [nva, 3, S, S] (may be 0 rows). c->size 0 = the model's input
// size. Returns 0, 1 when aborted (best weights kept), −1 with err (the model then holds
// the best epoch's weights so far, the original ones before the first epoch ends).
int  peac_finetune_model (PeacModel *pm, PeacHead *h, const PeacFinetuneConfig *c,
                          const PeacGrey *train, const float *ytr, int ntr, const float *val,
                          const float *yva, int nva, PeacFtProgressFn cb, void *user,
                          const atomic_int *abort, double *best_auc, char *err,
                          size_t errlen);
