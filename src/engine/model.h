// SPDX-License-Identifier: GPL-3.0-or-later
//
// model: the one interface the CLI and the app use for any backbone (ViT or Swin). It
// builds a model from a checkpoint's `peac.*` metadata, loads its weights through the
// name/shape table, and runs forward passes that yield the token grid and a pooled vector,
// with intermediate outputs reported through a callback.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "params.h"

typedef enum {
  PEAC_ARCH_VIT = 1,
  PEAC_ARCH_SWIN = 2,
} PeacArch;

// Receives an intermediate output named as in the reference fixtures' `act.*` keys
// (e.g. "patch_embed", "blocks.3", "norm"; Swin: "layers.1" or "stage1.blocks").
typedef void (*PeacActFn) (void *user, const char *name, const float *data,
                           int ndim, const int64_t *shape);

typedef struct PeacModel PeacModel;

// Builds a model from a safetensors checkpoint carrying `peac.arch`, `peac.layout` and
// `peac.config`; loads its weights (F32/F16/BF16 → float) through the name table. NULL with
// a message (naming the file and, where relevant, the tensor) in err on failure.
PeacModel  *peac_model_load (const char *path, char *err, size_t errlen);
// Builds a model from an explicit description, weights initialised from `seed` (timm-like
// init: truncated normal std 0.02 for weights, zeros for biases, ones for norm weights).
PeacModel  *peac_model_new (PeacArch arch, const char *layout, const char *config_json,
                            uint64_t seed, char *err, size_t errlen);
void        peac_model_free (PeacModel *m);
PeacArch    peac_model_arch (const PeacModel *m);
int         peac_model_img_size (const PeacModel *m);   // configured input side (pixels)
// Token grid and width for an H×W input (ViT: without the class token).
void        peac_model_output_shape (const PeacModel *m, int H, int W,
                                     int *grid_h, int *grid_w, int *dim);
// Multiply-add count ×2 of one forward pass on one H×W image (for GFLOP/s figures).
double      peac_model_flops (const PeacModel *m, int H, int W);
// input [B, 3, H, W] NCHW normalised → features [B, grid_h, grid_w, dim] (final norm; ViT
// without the class token) and pooled [B, dim] (ViT: class token after the final norm;
// Swin: token mean). Either output may be NULL. Returns 0, or −1 with err set.
int         peac_model_forward (PeacModel *m, const float *input, int B, int H, int W,
                                float *features, float *pooled, PeacActFn act, void *user,
                                char *err, size_t errlen);

// ---- Added with the inference engine (declarations above are unchanged) ----

typedef struct {
  // ViT: patch stride in pixels (0 = the patch size; smaller = overlapping patches, the
  // position embedding resampled to the denser grid). Swin: must be 0.
  int stride;
  // −1 = the model's output. k ≥ 0: ViT stops after block k and applies the final norm
  // (the class token after that norm is the pooled vector); Swin returns stage k's block
  // output (NHWC, width embed·2^k, no norm) and its token mean.
  int layer;
} PeacForwardOptions;

#define PEAC_FORWARD_DEFAULT ((PeacForwardOptions) { 0, -1 })

// peac_model_load with a branch ("teacher", the default when NULL, or "student") and the
// unexpected checkpoint tensors listed in warn (may be NULL; truncated to warnlen).
PeacModel  *peac_model_load_ex (const char *path, const char *branch, char *warn,
                                size_t warnlen, char *err, size_t errlen);
// Writes the weights (F32) with `peac.arch`, `peac.layout` and `peac.config` metadata,
// atomically, so that peac_model_load reads the file back.
int         peac_model_save (const PeacModel *m, const char *path, char *err, size_t errlen);
PeacParams *peac_model_params (PeacModel *m);
const char *peac_model_layout (const PeacModel *m);
const char *peac_model_config_json (const PeacModel *m);
// Output grid and width with options (see PeacForwardOptions). 0 sizes = not valid.
void        peac_model_output_shape_ex (const PeacModel *m, const PeacForwardOptions *opt,
                                        int H, int W, int *grid_h, int *grid_w, int *dim);
double      peac_model_flops_ex (const PeacModel *m, const PeacForwardOptions *opt, int H,
                                 int W);
// peac_model_forward with options (opt NULL = defaults).
int         peac_model_forward_ex (PeacModel *m, const PeacForwardOptions *opt,
                                   const float *input, int B, int H, int W, float *features,
                                   float *pooled, PeacActFn act, void *user, char *err,
                                   size_t errlen);

// ---- Added with the backbone table (backbone.h) ----

// The backbone row of the model's architecture (name, label, layouts, functions).
typedef struct PeacBackbone PeacBackbone;
const PeacBackbone *peac_model_backbone (const PeacModel *m);
// Its `peac.arch` name ("vit", "swin"), as checkpoints and reports write it.
const char         *peac_model_arch_name (const PeacModel *m);

// Training through the model's own weights (the trainer reads and the optimiser updates
// peac_model_params): a trainer for batches of up to B images of H×W, its forward giving
// the final-norm grid [B, gh, gw, dim] (peac_model_output_shape) and the pooled vector
// [B, dim] (*pooled, may be NULL) as the inference forward defines them, and its backward
// from their gradients (either may be NULL for zero) into grads (mirror of the parameter
// memory, +=) and dinput [B, 3, H, W] (+=, may be NULL). Outputs are owned by the trainer
// until its next forward; the model must outlive it.
typedef struct PeacModelTrain PeacModelTrain;
PeacModelTrain *peac_model_train_new (PeacModel *m, int B, int H, int W, char *err,
                                      size_t errlen);
void            peac_model_train_free (PeacModelTrain *t);
const float    *peac_model_train_forward (PeacModelTrain *t, const float *input, int B,
                                          const float **pooled);
void            peac_model_train_backward (PeacModelTrain *t, const float *dgrid,
                                           const float *dpooled, float *grads, float *dinput);
