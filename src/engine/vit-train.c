// SPDX-License-Identifier: GPL-3.0-or-later
//
// vit-train: training forward with caches and the backward of the timm ViT (see
// vit-train.h). Per block l, with x_l the block input [B·T, D]:
//   a = LN₁(x_l);  qkv = a·Wqkvᵀ + b;  o = MHSA(qkv);  m = x_l + o·Wprojᵀ + b
//   n = LN₂(m);    h = n·W₁ᵀ + b₁;     x_{l+1} = m + GELU(h)·W₂ᵀ + b₂
// and out = LN(x_L). The backward walks the same steps in reverse; residual adds pass the
// gradient through unchanged, so dx is one buffer that every branch accumulates into.
#include "vit-train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "ops-train.h"

typedef struct {
  float *x, *ln1, *mean1, *rstd1, *qkv, *att, *o, *mid, *ln2, *mean2, *rstd2, *h, *hg;
} BlockCache;

struct VitTrain {
  VitModel  *m;
  int        B, H, W, G, T, D, Hd, NH, P;
  float     *arena;
  BlockCache *blk;          // [depth]
  float     *col, *patches, *xL, *out, *meanf, *rstdf;
  // backward scratch
  float     *dx, *dln, *dqkv, *dh, *dpatches, *scratch;
};

VitTrain *
vit_train_new (VitModel *m, int B, int H, int W, char *err, size_t errlen)
{
  const VitConfig *c = vit_config (m);
  const int P = c->patch_size, G0 = c->img_size / P;
  if (B <= 0 || H != W || H % P || H / P != G0)
    {
      snprintf (err, errlen, "ViT training: input %d×%d (batch %d) must be the configured "
                "%d×%d", H, W, B, c->img_size, c->img_size);
      return NULL;
    }
  VitTrain *t = calloc (1, sizeof *t);
  t->m = m, t->B = B, t->H = H, t->W = W, t->P = P;
  t->G = G0 * G0, t->T = t->G + 1, t->D = c->embed_dim, t->Hd = c->mlp_hidden;
  t->NH = c->num_heads;
  const size_t BT = (size_t) B * t->T, D = t->D, Hd = t->Hd, NT = (size_t) t->T * t->T;
  const size_t K = (size_t) c->in_chans * P * P, BG = (size_t) B * t->G;
  const size_t per_block = 5 * BT * D + 4 * BT + 3 * BT * D + B * t->NH * NT + 2 * BT * Hd
                           + 13 * 16;
  const size_t sc = op_attention_scratch_floats (t->T);
  const size_t total = c->depth * per_block + BG * K + BG * D + 2 * BT * D + 2 * BT
                       + 2 * BT * D + 3 * BT * D + BT * Hd + BG * D + sc + 16 * 16;
  t->arena = aligned_alloc (64, (total * sizeof (float) + 63) & ~(size_t) 63);
  t->blk = calloc ((size_t) c->depth, sizeof *t->blk);
  if (!t->arena || !t->blk)
    {
      snprintf (err, errlen, "ViT training: out of memory (%zu MB of activations)",
                total * sizeof (float) >> 20);
      vit_train_free (t);
      return NULL;
    }
  float *cur = t->arena;
#define TAKE(n) (cur += (((n) + 15) & ~(size_t) 15), cur - (((n) + 15) & ~(size_t) 15))
  for (int l = 0; l < c->depth; l++)
    {
      BlockCache *k = &t->blk[l];
      k->x = TAKE (BT * D), k->ln1 = TAKE (BT * D), k->mean1 = TAKE (BT), k->rstd1 = TAKE (BT);
      k->qkv = TAKE (3 * BT * D), k->att = TAKE (B * t->NH * NT), k->o = TAKE (BT * D);
      k->mid = TAKE (BT * D), k->ln2 = TAKE (BT * D), k->mean2 = TAKE (BT);
      k->rstd2 = TAKE (BT), k->h = TAKE (BT * Hd), k->hg = TAKE (BT * Hd);
    }
  t->col = TAKE (BG * K), t->patches = TAKE (BG * D), t->xL = TAKE (BT * D);
  t->out = TAKE (BT * D), t->meanf = TAKE (BT), t->rstdf = TAKE (BT);
  t->dx = TAKE (BT * D), t->dln = TAKE (BT * D), t->dqkv = TAKE (3 * BT * D);
  t->dh = TAKE (BT * Hd), t->dpatches = TAKE (BG * D);
  t->scratch = TAKE (sc);
#undef TAKE
  return t;
}

void
vit_train_free (VitTrain *t)
{
  if (!t)
    return;
  free (t->arena);
  free (t->blk);
  free (t);
}

int vit_train_tokens (const VitTrain *t) { return t->T; }
int vit_train_dim (const VitTrain *t) { return t->D; }

const float *
vit_train_forward (VitTrain *t, const float *input, int B)
{
  const VitConfig *c = vit_config (t->m);
  const VitWeights *w = vit_weights (t->m);
  const int D = t->D, Hd = t->Hd, T = t->T, P = t->P;
  const int BT = B * T;
  t->B = B;
  op_patch_embed_forward (t->patches, t->col, input, w->patch_w, w->patch_b, B, c->in_chans,
                          t->H, t->W, P, P, D);
  float *x = c->depth > 0 ? t->blk[0].x : t->xL;
  op_cls_pos_forward (x, t->patches, w->cls_token, w->pos_embed, B, t->G, D);
  for (int l = 0; l < c->depth; l++)
    {
      const VitBlockWeights *bw = &w->blocks[l];
      BlockCache *k = &t->blk[l];
      float *next = l + 1 < c->depth ? t->blk[l + 1].x : t->xL;
      op_layernorm_forward (k->ln1, k->mean1, k->rstd1, k->x, bw->norm1_w, bw->norm1_b, BT, D,
                            c->ln_eps);
      op_linear_forward (k->qkv, k->ln1, bw->qkv_w, bw->qkv_b, BT, D, 3 * D);
      op_attention_forward (k->o, k->att, NULL, k->qkv, NULL, NULL, 1, B, T, t->NH, D / t->NH);
      memcpy (k->mid, k->x, (size_t) BT * D * sizeof (float));
      op_linear_residual_forward (k->mid, k->o, bw->proj_w, bw->proj_b, BT, D, D);
      op_layernorm_forward (k->ln2, k->mean2, k->rstd2, k->mid, bw->norm2_w, bw->norm2_b, BT,
                            D, c->ln_eps);
      op_linear_forward (k->h, k->ln2, bw->fc1_w, bw->fc1_b, BT, D, Hd);
      op_gelu_forward (k->hg, k->h, (size_t) BT * Hd);
      memcpy (next, k->mid, (size_t) BT * D * sizeof (float));
      op_linear_residual_forward (next, k->hg, bw->fc2_w, bw->fc2_b, BT, Hd, D);
    }
  op_layernorm_forward (t->out, t->meanf, t->rstdf, t->xL, w->norm_w, w->norm_b, BT, D,
                        c->ln_eps);
  return t->out;
}

void
vit_train_backward (VitTrain *t, const float *dout, float *grads, float *dinput)
{
  const VitConfig *c = vit_config (t->m);
  const VitWeights *w = vit_weights (t->m);
  const float *base = vit_params (t->m)->memory;
  const int D = t->D, Hd = t->Hd, T = t->T, B = t->B, BT = B * T;
  const size_t nD = (size_t) BT * D;
#define GR(ptr) ((ptr) ? grads + ((ptr) - base) : NULL)
  memset (t->dx, 0, nD * sizeof (float));
  op_layernorm_backward_fused (t->dx, GR (w->norm_w), GR (w->norm_b), dout, t->xL, w->norm_w,
                               t->meanf, t->rstdf, BT, D);
  for (int l = c->depth - 1; l >= 0; l--)
    {
      const VitBlockWeights *bw = &w->blocks[l];
      BlockCache *k = &t->blk[l];
      // MLP branch: dx is dL/dx_{l+1} = dL/dm through the residual. The fused backwards
      // write their input gradients (no zeroing); dh = (dx · W₂) ⊙ GELU'(h) in one pass.
      op_linear_backward_fused (t->dh, 0, k->h, GR (bw->fc2_w), GR (bw->fc2_b), t->dx, k->hg,
                                bw->fc2_w, BT, Hd, D);
      op_linear_backward_fused (t->dln, 0, NULL, GR (bw->fc1_w), GR (bw->fc1_b), t->dh, k->ln2,
                                bw->fc1_w, BT, D, Hd);
      op_layernorm_backward_fused (t->dx, GR (bw->norm2_w), GR (bw->norm2_b), t->dln, k->mid,
                                   bw->norm2_w, k->mean2, k->rstd2, BT, D);
      // Attention branch: dx is now dL/dm = dL/dx_l through the residual.
      op_linear_backward_fused (t->dln, 0, NULL, GR (bw->proj_w), GR (bw->proj_b), t->dx, k->o,
                                bw->proj_w, BT, D, D);
      op_attention_backward_set (t->dqkv, t->scratch, t->dln, k->qkv, k->att, B, T, t->NH,
                                 D / t->NH);
      op_linear_backward_fused (t->dln, 0, NULL, GR (bw->qkv_w), GR (bw->qkv_b), t->dqkv, k->ln1,
                                bw->qkv_w, BT, D, 3 * D);
      op_layernorm_backward_fused (t->dx, GR (bw->norm1_w), GR (bw->norm1_b), t->dln, k->x,
                                   bw->norm1_w, k->mean1, k->rstd1, BT, D);
    }
  memset (t->dpatches, 0, (size_t) B * t->G * D * sizeof (float));
  op_cls_pos_backward (t->dpatches, GR (w->cls_token), GR (w->pos_embed), t->dx, B, t->G, D);
  op_patch_embed_backward (dinput, GR (w->patch_w), GR (w->patch_b), t->col, t->dpatches,
                           w->patch_w, B, c->in_chans, t->H, t->W, t->P, t->P, D);
#undef GR
}
