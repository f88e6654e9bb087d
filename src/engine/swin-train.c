// SPDX-License-Identifier: GPL-3.0-or-later
//
// swin-train: training forward with caches and the backward of the Swin Transformer (see
// swin-train.h). Per block, with x the block input [B·Hs·Ws, C] in NHWC order, Π the
// (cyclically shifted) window partition and Π⁻¹ its reverse:
//   u = Π(LN₁(x));  qkv = u·Wqkvᵀ + b;  o = softmax(QKᵀ/√d + T[idx] + mask)·V
//   m = x + Π⁻¹(o·Wprojᵀ + b);  x' = m + GELU(LN₂(m)·W₁ᵀ + b₁)·W₂ᵀ + b₂
// PatchMerging between stages: x_{s+1} = LN(gather₂ₓ₂(x_s))·Wredᵀ; out = LN(x_S). The
// backward walks the same steps in reverse. The gradient of Π is Π⁻¹ and of Π⁻¹ is Π
// (permutations), the gather's is the scatter, and the bias table T receives the score
// gradient dS summed over the batch's windows and scattered through idx.
#include "swin-train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "ops-train.h"
#include "pool.h"

typedef struct {
  float *x, *mean1, *rstd1, *win, *qkv, *att, *o, *mid, *mean2, *rstd2, *ln2, *h, *hg;
} SwinBlockCache;

typedef struct {
  int             Hs, Ws, wh, ww, sh, sw, N, nW; // tokens, window, shift for this input
  int            *index;                         // [N, N] relative position index
  float          *mask;                          // [nW, N, N] (shifted stages only)
  SwinBlockCache *blk;                           // [depth]
  float          *y;                             // [M, C] output of the stage's blocks
  float          *g, *meang, *rstdg, *lng;       // PatchMerging gather, LN stats, LN out
} SwinStageCache;

struct SwinTrain {
  SwinModel     *m;
  int            B, Bmax, H, W, S;
  float         *arena;
  SwinStageCache st[SWIN_MAX_STAGES];
  float         *col, *pe, *mean0, *rstd0, *out, *meanf, *rstdf, *bias, *tmp;
  // backward scratch
  float         *dxa, *dxb, *dln, *dwin, *dqkv, *dh, *ds, *dbias;
};

// Assigns every buffer from base (or only counts when base is NULL); returns the floats
// used. Pieces are rounded to 16 floats so that each starts 64-byte aligned.
static size_t
layout (SwinTrain *t, float *base)
{
  const SwinConfig *c = swin_config (t->m);
  const SwinWeights *w = swin_weights (t->m);
  const size_t B = (size_t) t->Bmax;
  size_t used = 0, maxMC = 0, maxMH = 0, maxAtt = 0, maxBias = 0;
#define TAKE(p, n) (p = base ? base + used : NULL, used += ((size_t) (n) + 15) & ~(size_t) 15)
  for (int s = 0; s < t->S; s++)
    {
      SwinStageCache *sc = &t->st[s];
      const SwinStageWeights *sw = &w->stages[s];
      const size_t M = B * sc->Hs * sc->Ws, C = sw->dim, hid = sw->hidden;
      const size_t att = B * sc->nW * sw->heads * (size_t) sc->N * sc->N;
      for (int b = 0; b < sw->depth; b++)
        {
          SwinBlockCache *k = &sc->blk[b];
          TAKE (k->x, M * C), TAKE (k->mean1, M), TAKE (k->rstd1, M), TAKE (k->win, M * C);
          TAKE (k->qkv, 3 * M * C), TAKE (k->att, att), TAKE (k->o, M * C);
          TAKE (k->mid, M * C), TAKE (k->mean2, M), TAKE (k->rstd2, M);
          TAKE (k->ln2, M * C), TAKE (k->h, M * hid), TAKE (k->hg, M * hid);
        }
      TAKE (sc->y, M * C);
      if (sc->sh || sc->sw)
        TAKE (sc->mask, (size_t) sc->nW * sc->N * sc->N);
      if (s + 1 < t->S)
        TAKE (sc->g, M * C), TAKE (sc->meang, M / 4), TAKE (sc->rstdg, M / 4),
          TAKE (sc->lng, M * C);
      maxMC = M * C > maxMC ? M * C : maxMC;
      maxMH = M * hid > maxMH ? M * hid : maxMH;
      maxAtt = att > maxAtt ? att : maxAtt;
      maxBias = (size_t) sw->heads * sc->N * sc->N > maxBias ? (size_t) sw->heads * sc->N * sc->N
                                                               : maxBias;
    }
  const size_t M0 = B * t->st[0].Hs * t->st[0].Ws, E = c->embed_dim;
  const SwinStageCache *last = &t->st[t->S - 1];
  const size_t ML = B * last->Hs * last->Ws, CL = w->stages[t->S - 1].dim;
  TAKE (t->col, op_patch_embed_col_floats (t->Bmax, c->in_chans, t->H, t->W, c->patch_size,
                                           c->patch_size));
  TAKE (t->pe, M0 * E), TAKE (t->mean0, M0), TAKE (t->rstd0, M0);
  TAKE (t->out, ML * CL), TAKE (t->meanf, ML), TAKE (t->rstdf, ML);
  TAKE (t->bias, maxBias), TAKE (t->tmp, maxMC);
  TAKE (t->dxa, maxMC), TAKE (t->dxb, maxMC), TAKE (t->dln, maxMC), TAKE (t->dwin, maxMC);
  TAKE (t->dqkv, 3 * maxMC), TAKE (t->dh, maxMH), TAKE (t->ds, maxAtt);
  TAKE (t->dbias, maxBias);
#undef TAKE
  return used;
}

SwinTrain *
swin_train_new (SwinModel *m, int B, int H, int W, char *err, size_t errlen)
{
  const SwinConfig *c = swin_config (m);
  const SwinWeights *w = swin_weights (m);
  if (B <= 0)
    {
      snprintf (err, errlen, "Swin training: batch size must be positive");
      return NULL;
    }
  if (swin_check_input (m, H, W, err, errlen) != 0)
    return NULL;
  SwinTrain *t = calloc (1, sizeof *t);
  if (!t)
    {
      snprintf (err, errlen, "Swin training: out of memory");
      return NULL;
    }
  t->m = m, t->B = t->Bmax = B, t->H = H, t->W = W, t->S = c->num_stages;
  int Hs = H / c->patch_size, Ws = W / c->patch_size, ok = 1;
  for (int s = 0; s < t->S; s++, Hs /= 2, Ws /= 2)
    {
      SwinStageCache *sc = &t->st[s];
      sc->Hs = Hs, sc->Ws = Ws;
      swin_stage_window (Hs, Ws, c->window_size, &sc->wh, &sc->ww, &sc->sh, &sc->sw);
      sc->N = sc->wh * sc->ww, sc->nW = (Hs / sc->wh) * (Ws / sc->ww);
      sc->blk = calloc ((size_t) w->stages[s].depth, sizeof *sc->blk);
      sc->index = malloc ((size_t) sc->N * sc->N * sizeof (int));
      ok = ok && sc->blk && sc->index;
      if (sc->index)
        swin_relative_position_index (sc->index, sc->wh, sc->ww, w->stages[s].table_window);
    }
  size_t total = ok ? layout (t, NULL) : 0;
  t->arena = ok ? aligned_alloc (64, total * sizeof (float)) : NULL;
  if (!t->arena)
    {
      snprintf (err, errlen, "Swin training: out of memory (%zu MB of activations for a "
                "batch of %d at %d×%d)", total * sizeof (float) >> 20, B, H, W);
      swin_train_free (t);
      return NULL;
    }
  layout (t, t->arena);
  for (int s = 0; s < t->S; s++)
    if (t->st[s].mask)
      swin_attn_mask (t->st[s].mask, t->st[s].Hs, t->st[s].Ws, t->st[s].wh, t->st[s].ww,
                      t->st[s].sh, t->st[s].sw);
  return t;
}

void
swin_train_free (SwinTrain *t)
{
  if (!t)
    return;
  for (int s = 0; s < SWIN_MAX_STAGES; s++)
    free (t->st[s].blk), free (t->st[s].index);
  free (t->arena);
  free (t);
}

void
swin_train_shape (const SwinTrain *t, int *gh, int *gw, int *dim)
{
  *gh = t->st[t->S - 1].Hs;
  *gw = t->st[t->S - 1].Ws;
  *dim = swin_weights (t->m)->stages[t->S - 1].dim;
}

const float *
swin_train_forward (SwinTrain *t, const float *input, int B)
{
  const SwinConfig *c = swin_config (t->m);
  const SwinWeights *w = swin_weights (t->m);
  const int E = c->embed_dim, P = c->patch_size;
  t->B = B;
  op_patch_embed_forward (t->pe, t->col, input, w->patch_w, w->patch_b, B, c->in_chans, t->H,
                          t->W, P, P, E);
  op_layernorm_forward (t->st[0].blk[0].x, t->mean0, t->rstd0, t->pe, w->patch_norm_w,
                        w->patch_norm_b, B * t->st[0].Hs * t->st[0].Ws, E, c->ln_eps);
  for (int s = 0; s < t->S; s++)
    {
      SwinStageCache *sc = &t->st[s];
      const SwinStageWeights *sw = &w->stages[s];
      const int C = sw->dim, nh = sw->heads, hid = sw->hidden, N = sc->N, nW = sc->nW;
      const int M = B * sc->Hs * sc->Ws;
      const size_t MC = (size_t) M * C * sizeof (float);
      for (int b = 0; b < sw->depth; b++)
        {
          const SwinBlockWeights *bw = &sw->blocks[b];
          SwinBlockCache *k = &sc->blk[b];
          float *next = b + 1 < sw->depth ? sc->blk[b + 1].x : sc->y;
          const int bsh = b % 2 ? sc->sh : 0, bsw = b % 2 ? sc->sw : 0;
          for (int h = 0; h < nh; h++)
            for (int ij = 0; ij < N * N; ij++)
              t->bias[(size_t) h * N * N + ij] = bw->rpb_table[(size_t) sc->index[ij] * nh + h];
          op_layernorm_forward (t->tmp, k->mean1, k->rstd1, k->x, bw->norm1_w, bw->norm1_b, M,
                                C, c->ln_eps);
          swin_window_partition (k->win, t->tmp, B, sc->Hs, sc->Ws, C, sc->wh, sc->ww, bsh, bsw);
          op_linear_forward (k->qkv, k->win, bw->qkv_w, bw->qkv_b, M, C, 3 * C);
          op_attention_forward (k->o, k->att, NULL, k->qkv, t->bias, bsh || bsw ? sc->mask : NULL,
                                nW, B * nW, N, nh, C / nh);
          op_linear_forward (t->tmp, k->o, bw->proj_w, bw->proj_b, M, C, C);
          memcpy (k->mid, k->x, MC);
          swin_window_reverse_add (k->mid, t->tmp, B, sc->Hs, sc->Ws, C, sc->wh, sc->ww, bsh,
                                   bsw);
          op_layernorm_forward (k->ln2, k->mean2, k->rstd2, k->mid, bw->norm2_w, bw->norm2_b, M,
                                C, c->ln_eps);
          op_linear_forward (k->h, k->ln2, bw->fc1_w, bw->fc1_b, M, C, hid);
          op_gelu_forward (k->hg, k->h, (size_t) M * hid);
          memcpy (next, k->mid, MC);
          op_linear_residual_forward (next, k->hg, bw->fc2_w, bw->fc2_b, M, hid, C);
        }
      if (s + 1 < t->S)
        {
          swin_merge_gather (sc->g, sc->y, B, sc->Hs, sc->Ws, C);
          op_layernorm_forward (sc->lng, sc->meang, sc->rstdg, sc->g, sw->down_norm_w,
                                sw->down_norm_b, M / 4, 4 * C, c->ln_eps);
          op_linear_forward (t->st[s + 1].blk[0].x, sc->lng, sw->down_red_w, NULL, M / 4, 4 * C,
                             2 * C);
        }
    }
  const SwinStageCache *last = &t->st[t->S - 1];
  op_layernorm_forward (t->out, t->meanf, t->rstdf, last->y, w->norm_w, w->norm_b,
                        B * last->Hs * last->Ws, w->stages[t->S - 1].dim, c->ln_eps);
  return t->out;
}

// dT[idx[i, j], h] += Σ_windows dS[window, h, i, j]: one task per head, which owns column
// h of the table, so no value is summed from two threads.
typedef struct {
  float       *dtable, *acc;     // acc: [nh, N, N] sums
  const float *ds;
  const int   *index;
  int          nB, nh, N;
} BiasJob;

static void
bias_table_backward_head (void *ctx, int h, int thread)
{
  (void) thread;
  const BiasJob *j = ctx;
  const size_t NN = (size_t) j->N * j->N;
  float *acc = j->acc + (size_t) h * NN;
  memset (acc, 0, NN * sizeof (float));
  for (int b = 0; b < j->nB; b++)
    {
      const float *d = j->ds + ((size_t) b * j->nh + h) * NN;
      for (size_t ij = 0; ij < NN; ij++)
        acc[ij] += d[ij];
    }
  for (size_t ij = 0; ij < NN; ij++)
    j->dtable[(size_t) j->index[ij] * j->nh + h] += acc[ij];
}

void
swin_train_backward (SwinTrain *t, const float *dout, float *grads, float *dinput)
{
  const SwinConfig *c = swin_config (t->m);
  const SwinWeights *w = swin_weights (t->m);
  const float *base = swin_params (t->m)->memory;
  const int B = t->B, S = t->S;
#define GR(ptr) ((ptr) ? grads + ((ptr) - base) : NULL)
  float *dx = t->dxa;
  {
    const SwinStageCache *last = &t->st[S - 1];
    const int M = B * last->Hs * last->Ws, C = w->stages[S - 1].dim;
    memset (dx, 0, (size_t) M * C * sizeof (float));
    op_layernorm_backward_fused (dx, GR (w->norm_w), GR (w->norm_b), dout, last->y, w->norm_w,
                                 t->meanf, t->rstdf, M, C);
  }
  for (int s = S - 1; s >= 0; s--)
    {
      SwinStageCache *sc = &t->st[s];
      const SwinStageWeights *sw = &w->stages[s];
      const int C = sw->dim, nh = sw->heads, hid = sw->hidden, N = sc->N, nW = sc->nW;
      const int M = B * sc->Hs * sc->Ws;
      if (s + 1 < S)
        {
          // dx = dL/d(stage s+1 input) [M/4, 2C] → through reduction, LN and the gather.
          op_linear_backward_fused (t->dwin, 0, NULL, GR (sw->down_red_w), NULL, dx, sc->lng,
                                    sw->down_red_w, M / 4, 4 * C, 2 * C);
          memset (t->dln, 0, (size_t) M * C * sizeof (float));
          op_layernorm_backward_fused (t->dln, GR (sw->down_norm_w), GR (sw->down_norm_b),
                                       t->dwin, sc->g, sw->down_norm_w, sc->meang, sc->rstdg,
                                       M / 4, 4 * C);
          dx = dx == t->dxa ? t->dxb : t->dxa;
          swin_merge_scatter (dx, t->dln, B, sc->Hs, sc->Ws, C);
        }
      for (int b = sw->depth - 1; b >= 0; b--)
        {
          const SwinBlockWeights *bw = &sw->blocks[b];
          SwinBlockCache *k = &sc->blk[b];
          const int bsh = b % 2 ? sc->sh : 0, bsw = b % 2 ? sc->sw : 0;
          // MLP branch; dx = dL/dx' = dL/dm through the residual after LN₂'s backward.
          op_linear_backward_fused (t->dh, 0, k->h, GR (bw->fc2_w), GR (bw->fc2_b), dx, k->hg,
                                    bw->fc2_w, M, hid, C);
          op_linear_backward_fused (t->dln, 0, NULL, GR (bw->fc1_w), GR (bw->fc1_b), t->dh,
                                    k->ln2, bw->fc1_w, M, C, hid);
          op_layernorm_backward_fused (dx, GR (bw->norm2_w), GR (bw->norm2_b), t->dln, k->mid,
                                       bw->norm2_w, k->mean2, k->rstd2, M, C);
          // Attention branch in window order: the gradient of Π⁻¹ is Π.
          swin_window_partition (t->dwin, dx, B, sc->Hs, sc->Ws, C, sc->wh, sc->ww, bsh, bsw);
          op_linear_backward_fused (t->dln, 0, NULL, GR (bw->proj_w), GR (bw->proj_b), t->dwin,
                                    k->o, bw->proj_w, M, C, C);
          op_attention_backward_ds (t->dqkv, t->ds, t->dln, k->qkv, k->att, B * nW, N, nh,
                                    C / nh);
          BiasJob bj = { GR (bw->rpb_table), t->dbias, t->ds, sc->index, B * nW, nh, N };
          peac_parallel_for (nh, peac_threads_get (), bias_table_backward_head, &bj);
          op_linear_backward_fused (t->dwin, 0, NULL, GR (bw->qkv_w), GR (bw->qkv_b), t->dqkv,
                                    k->win, bw->qkv_w, M, C, 3 * C);
          memset (t->dln, 0, (size_t) M * C * sizeof (float));
          swin_window_reverse_add (t->dln, t->dwin, B, sc->Hs, sc->Ws, C, sc->wh, sc->ww, bsh,
                                   bsw);
          op_layernorm_backward_fused (dx, GR (bw->norm1_w), GR (bw->norm1_b), t->dln, k->x,
                                       bw->norm1_w, k->mean1, k->rstd1, M, C);
        }
    }
  const int M0 = B * t->st[0].Hs * t->st[0].Ws, E = c->embed_dim;
  memset (t->dln, 0, (size_t) M0 * E * sizeof (float));
  op_layernorm_backward_fused (t->dln, GR (w->patch_norm_w), GR (w->patch_norm_b), dx, t->pe,
                               w->patch_norm_w, t->mean0, t->rstd0, M0, E);
  op_patch_embed_backward (dinput, GR (w->patch_w), GR (w->patch_b), t->col, t->dln,
                           w->patch_w, B, c->in_chans, t->H, t->W, c->patch_size,
                           c->patch_size, E);
#undef GR
}
