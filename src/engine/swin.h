// SPDX-License-Identifier: GPL-3.0-or-later
//
// swin: the Swin Transformer backbone as PEAC uses it (Microsoft/SimMIM layout: PatchMerging
// at the end of stage s as `layers.{s}.downsample.*`; timm ≥ 0.9 files are mapped by name).
// Parameters are registered under Microsoft names in one PeacParams table. `attn_mask` and
// `relative_position_index` are computed here, never read from checkpoints. No shift when a
// stage's resolution ≤ window size. Output: final-norm tokens NHWC and their mean.
#pragma once

#include <stddef.h>
#include "params.h"
#include "model.h"

#define SWIN_MAX_STAGES 8

typedef struct {
  int   img_size;
  int   patch_size;
  int   in_chans;
  int   embed_dim;
  int   num_stages;
  int   depths[SWIN_MAX_STAGES];
  int   num_heads[SWIN_MAX_STAGES];
  int   window_size;
  float mlp_ratio;
  float ln_eps;
  int   qkv_bias;
} SwinConfig;

typedef struct SwinModel SwinModel;

// Parses `peac.config` JSON. Returns 0, or −1 with a message in err.
int        swin_config_parse (SwinConfig *cfg, const char *json, char *err, size_t errlen);
SwinModel *swin_create (const SwinConfig *cfg, char *err, size_t errlen);
void       swin_free (SwinModel *m);
PeacParams *swin_params (SwinModel *m);
const SwinConfig *swin_config (const SwinModel *m);
// Maps a checkpoint name in `layout` ("timm" or "microsoft") to the canonical Microsoft
// name in buf. Returns buf, or NULL for tensors to skip (attn_mask, relative_position_index,
// head.*).
const char *swin_canonical_name (const char *name, const char *layout, char *buf, size_t n);
// Token grid and width of the output for an H×W input.
void       swin_output_shape (const SwinModel *m, int H, int W, int *grid_h, int *grid_w, int *dim);
// input [B, 3, H, W] (NCHW, normalised) → features [B, gh, gw, dim], pooled [B, dim].
// act (may be NULL) receives intermediate outputs under the layout's fixture names.
int        swin_forward (SwinModel *m, const float *input, int B, int H, int W,
                         float *features, float *pooled, PeacActFn act, void *user,
                         char *err, size_t errlen);
