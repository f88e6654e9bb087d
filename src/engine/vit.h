// SPDX-License-Identifier: GPL-3.0-or-later
//
// vit: the Vision Transformer backbone in timm's layout (patch_embed.proj, cls_token,
// pos_embed, blocks.{i}.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm), any
// image size, patch size, width, depth and heads, pre-norm blocks with exact GELU. Inputs
// whose patch grid differs from the configured one (another size, or a patch stride below
// the patch size for dense, overlapping tokens) get the position embedding resampled as
// timm does. The forward can stop after any block. Activations live in one buffer kept
// across calls and regrown only when the batch or grid grows.
#pragma once

#include <stddef.h>

#include "model.h"
#include "params.h"

typedef struct {
  int   img_size;
  int   patch_size;
  int   in_chans;
  int   embed_dim;
  int   depth;
  int   num_heads;
  int   mlp_hidden;   // mlp_ratio × embed_dim
  int   qkv_bias;
  float ln_eps;
} VitConfig;

// Named pointers into the parameter table (timm names in the comments).
typedef struct {
  float *norm1_w, *norm1_b; // blocks.i.norm1.{weight,bias} [D]
  float *qkv_w, *qkv_b;     // blocks.i.attn.qkv.{weight [3D, D], bias [3D] or NULL}
  float *proj_w, *proj_b;   // blocks.i.attn.proj.{weight [D, D], bias [D]}
  float *norm2_w, *norm2_b; // blocks.i.norm2.{weight,bias} [D]
  float *fc1_w, *fc1_b;     // blocks.i.mlp.fc1.{weight [Hd, D], bias [Hd]}
  float *fc2_w, *fc2_b;     // blocks.i.mlp.fc2.{weight [D, Hd], bias [D]}
} VitBlockWeights;

typedef struct {
  float *patch_w, *patch_b; // patch_embed.proj.{weight [D, C, P, P], bias [D]}
  float *cls_token;         // cls_token [1, 1, D]
  float *pos_embed;         // pos_embed [1, 1 + G², D], G = img_size / patch_size
  VitBlockWeights *blocks;  // [depth]
  float *norm_w, *norm_b;   // norm.{weight,bias} [D]
} VitWeights;

typedef struct {
  int stride;     // patch stride in pixels; 0 = patch size
  int layer;      // −1 = all blocks; k ≥ 0 = stop after block k (final norm still applied)
} VitRunOptions;

typedef struct VitModel VitModel;

// Parses `peac.config` JSON (timm keys: img_size, patch_size, in_chans, embed_dim, depth,
// num_heads, mlp_ratio, qkv_bias, layernorm_eps, gelu, global_pool, class_token); absent
// keys take timm's ViT-B/16 defaults. Refuses variants the engine does not run.
int         vit_config_parse (VitConfig *cfg, const char *json, char *err, size_t errlen);
VitModel   *vit_create (const VitConfig *cfg, char *err, size_t errlen);
void        vit_free (VitModel *m);
PeacParams *vit_params (VitModel *m);
const VitConfig *vit_config (const VitModel *m);
const VitWeights *vit_weights (const VitModel *m);
// Token grid (without class token) and width for an H×W input at a stride (0 = patch).
void        vit_output_shape (const VitModel *m, int H, int W, int stride, int *grid_h,
                              int *grid_w, int *dim);
double      vit_flops (const VitModel *m, int H, int W, int stride);
// input [B, C, H, W] NCHW → features [B, gh, gw, D] (final-norm tokens without the class
// token) and pooled [B, D] (class token after the final norm); either may be NULL. act
// receives "patch_embed" [B, G, D], "blocks.{i}.norm1", "blocks.{i}.attn" (after proj),
// "blocks.{i}.mlp", "blocks.{i}" and "norm" (all [B, 1 + G, D]). opt may be NULL.
int         vit_forward (VitModel *m, const float *input, int B, int H, int W,
                         const VitRunOptions *opt, float *features, float *pooled,
                         PeacActFn act, void *user, char *err, size_t errlen);
