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

// Named pointers into the parameter table (Microsoft names in the comments; s = stage,
// b = block, C = embed_dim·2^s, tw = the stage's table window).
typedef struct {
  float *norm1_w, *norm1_b;   // layers.s.blocks.b.norm1.{weight,bias} [C]
  float *qkv_w, *qkv_b;       // ….attn.qkv.{weight [3C, C], bias [3C] or NULL}
  float *rpb_table;           // ….attn.relative_position_bias_table [(2·tw − 1)², heads]
  float *proj_w, *proj_b;     // ….attn.proj.{weight [C, C], bias [C]}
  float *norm2_w, *norm2_b;   // ….norm2.{weight,bias} [C]
  float *fc1_w, *fc1_b;       // ….mlp.fc1.{weight [hid, C], bias [hid]}
  float *fc2_w, *fc2_b;       // ….mlp.fc2.{weight [C, hid], bias [C]}
} SwinBlockWeights;

typedef struct {
  int               dim, heads, depth, hidden;
  int               table_window;   // tw: window the bias table was built for
  SwinBlockWeights *blocks;         // [depth]
  float *down_norm_w, *down_norm_b; // layers.s.downsample.norm.{weight,bias} [4C] (NULL last)
  float *down_red_w;                // layers.s.downsample.reduction.weight [2C, 4C], no bias
} SwinStageWeights;

typedef struct {
  float *patch_w, *patch_b;           // patch_embed.proj.{weight [E, Cin, P, P], bias [E]}
  float *patch_norm_w, *patch_norm_b; // patch_embed.norm.{weight,bias} [E]
  float *norm_w, *norm_b;             // norm.{weight,bias} [C_last]
  SwinStageWeights stages[SWIN_MAX_STAGES];
} SwinWeights;

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

// ---- Added with the Swin forward (declarations above are unchanged) ----

// Activation names passed to `act` follow `layout`: "timm" → "patch_embed", "layers.{s}"
// (NHWC output of stage s's blocks), "layers.0.blocks.1.attn", "norm"; "microsoft" (the
// default) → the same with "stage{s}.blocks" for "layers.{s}". model.c calls this after
// swin_create with the checkpoint's `peac.layout`.
void       swin_set_layout (SwinModel *m, const char *layout);
// 2 × multiply-adds of one forward pass on one H×W image (Linears, patch embedding,
// attention matmuls), for GFLOP/s figures.
double     swin_flops (const SwinModel *m, int H, int W);

// Window geometry of a stage with resolution H×W (tokens), exposed for tests.
// timm/Microsoft rule: the window is clamped to the resolution, and a stage whose
// resolution ≤ window size is not shifted (per axis, as timm does for non-square inputs).
void       swin_stage_window (int H, int W, int window, int *wh, int *ww, int *sh, int *sw);
// Relative position index [wh·ww, wh·ww] into a bias table of (2·tw − 1)² rows
// (tw = the table's window, ≥ wh and ww): (Δrow + tw − 1)·(2·tw − 1) + (Δcol + tw − 1), with
// Δ = token i − token j (the Microsoft formula when wh = ww = tw).
void       swin_relative_position_index (int *index, int wh, int ww, int tw);
// Shifted-window attention mask [nW, N, N], nW = (H/wh)·(W/ww), N = wh·ww: 0 where tokens
// i and j of window w came from the same region of the un-rolled image, −100 otherwise
// (Microsoft's img_mask slices (0, −w), (−w, −s), (−s, ∞) per axis).
void       swin_attn_mask (float *mask, int H, int W, int wh, int ww, int sh, int sw);
// x [B, H, W, C] → win [B·nW, wh·ww, C] after torch.roll(x, (−sh, −sw), (1, 2)).
void       swin_window_partition (float *win, const float *x, int B, int H, int W, int C,
                                  int wh, int ww, int sh, int sw);
// x [B, H, W, C] += reverse(win) rolled back by (+sh, +sw): the residual add fused with
// window reverse.
void       swin_window_reverse_add (float *x, const float *win, int B, int H, int W, int C,
                                    int wh, int ww, int sh, int sw);
// PatchMerging gather: x [B, H, W, C] → out [B, H/2, W/2, 4C] with channel blocks
// x0 = (0::2, 0::2), x1 = (1::2, 0::2), x2 = (0::2, 1::2), x3 = (1::2, 1::2) (row, col).
void       swin_merge_gather (float *out, const float *x, int B, int H, int W, int C);

// ---- Added with the Swin backward (swin-train.c) ----

const SwinWeights *swin_weights (const SwinModel *m);
// 0 when an H×W input tiles every stage (patch size, windows, bias tables, merging);
// −1 with a message naming the sizes otherwise.
int        swin_check_input (const SwinModel *m, int H, int W, char *err, size_t errlen);
// Backward of swin_merge_gather: dx [B, H, W, C] = the gradient dout [B, H/2, W/2, 4C]
// scattered back (every entry of dx is written; each came from exactly one output).
void       swin_merge_scatter (float *dx, const float *dout, int B, int H, int W, int C);
