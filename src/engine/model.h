// SPDX-License-Identifier: GPL-3.0-or-later
//
// model: the one interface the CLI and the app use for any backbone (ViT or Swin). It
// builds a model from a checkpoint's `peac.*` metadata, loads its weights through the
// name/shape table, and runs forward passes that yield the token grid and a pooled vector,
// with intermediate outputs reported through a callback.
#pragma once

#include <stddef.h>
#include <stdint.h>

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
