// SPDX-License-Identifier: GPL-3.0-or-later
//
// swin: the Swin Transformer backbone (Liu et al. 2021) as PEAC uses it: config parsing,
// the named parameter table under Microsoft/SimMIM names (PatchMerging at the end of stage
// s as `layers.{s}.downsample.*`), the timm → Microsoft name map, and the forward pass
// patch embed → stages of (shifted) window blocks → PatchMerging → final norm → token mean.
// GEMMs, LayerNorm, GELU and the attention itself are the shared ops (ops.h); the window
// geometry lives in swin-ops.c. attn_mask and relative_position_index are recomputed per
// forward from the stage resolution, never read from a checkpoint.
#include "swin.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

struct SwinModel {
  SwinConfig cfg;
  PeacParams params;
  int        timm_names;      // activation names in timm layout
  SwinWeights w;
  float     *ws;              // forward workspace, kept across calls
  size_t     ws_cap;          // its size in floats
};

// ---------------------------------------------------------------------------------------
// config

static int
json_int (json_t *o, const char *key, int def)
{
  json_t *v = json_object_get (o, key);
  if (!json_is_integer (v))
    return def;
  // Out of range (sizes are far below 2^20; larger ones overflow int products such as
  // embed_dim << stage): −1, which the checks below refuse.
  return llabs (json_integer_value (v)) <= PEAC_CONFIG_INT_MAX ? (int) json_integer_value (v) : -1;
}

static double
json_num (json_t *o, const char *key, double def)
{
  json_t *v = json_object_get (o, key);
  return json_is_number (v) ? json_number_value (v) : def;
}

static int
json_int_array (json_t *o, const char *key, int *out, int max)
{
  json_t *a = json_object_get (o, key);
  if (!json_is_array (a) || json_array_size (a) == 0 || json_array_size (a) > (size_t) max)
    return -1;
  for (size_t i = 0; i < json_array_size (a); i++)
    {
      json_t *v = json_array_get (a, i);
      if (!json_is_integer (v) || json_integer_value (v) <= 0
          || json_integer_value (v) > PEAC_CONFIG_INT_MAX)
        return -1;
      out[i] = (int) json_integer_value (v);
    }
  return (int) json_array_size (a);
}

int
swin_config_parse (SwinConfig *cfg, const char *json, char *err, size_t errlen)
{
  json_error_t jerr;
  json_t *o = json_loads (json ? json : "", 0, &jerr);
  if (!json_is_object (o))
    {
      snprintf (err, errlen, "Swin config is not a JSON object: %s", jerr.text);
      json_decref (o);
      return -1;
    }
  memset (cfg, 0, sizeof *cfg);
  cfg->img_size = json_int (o, "img_size", 224);
  cfg->patch_size = json_int (o, "patch_size", 4);
  cfg->in_chans = json_int (o, "in_chans", 3);
  cfg->embed_dim = json_int (o, "embed_dim", 96);
  cfg->window_size = json_int (o, "window_size", 7);
  cfg->mlp_ratio = (float) json_num (o, "mlp_ratio", 4.0);
  cfg->ln_eps = (float) json_num (o, "layernorm_eps", json_num (o, "ln_eps", 1e-5));
  json_t *qb = json_object_get (o, "qkv_bias");
  cfg->qkv_bias = qb ? json_is_true (qb) : 1;
  int nd = json_int_array (o, "depths", cfg->depths, SWIN_MAX_STAGES);
  int nh = json_int_array (o, "num_heads", cfg->num_heads, SWIN_MAX_STAGES);
  json_t *gelu = json_object_get (o, "gelu");
  const char *bad = NULL;
  if (nd < 0 || nh != nd)
    bad = "depths and num_heads must be lists of the same length (1 to 8 positive integers)";
  else if (gelu && !(json_is_string (gelu) && strcmp (json_string_value (gelu), "erf") == 0))
    bad = "only the exact (erf) GELU is supported";
  cfg->num_stages = nd;
  if (!bad && (cfg->img_size <= 0 || cfg->patch_size <= 0 || cfg->in_chans <= 0
               || cfg->embed_dim <= 0 || cfg->window_size <= 0 || !(cfg->mlp_ratio > 0 && cfg->mlp_ratio <= 64)
               || !(cfg->ln_eps > 0)))
    bad = "img_size, patch_size, in_chans, embed_dim, window_size, mlp_ratio (at most 64) "
          "and layernorm_eps must be positive, and sizes at most 2^20";
  for (int s = 0; !bad && s < nd; s++)
    if (((cfg->embed_dim << s) % cfg->num_heads[s]) != 0)
      bad = "every stage's width must be divisible by its number of heads";
  json_decref (o);
  if (bad)
    {
      snprintf (err, errlen, "Swin config: %s", bad);
      return -1;
    }
  return 0;
}

// ---------------------------------------------------------------------------------------
// parameters

static int
add (PeacParams *p, int *ok, const char *fmt, int s, int b, const char *leaf, int ndim,
     int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
  char name[64], full[PEAC_NAME_MAX];
  int64_t shape[4] = { d0, d1, d2, d3 };
  if ((size_t) snprintf (name, sizeof name, fmt, s, b) >= sizeof name
      || (size_t) snprintf (full, sizeof full, "%s%s", name, leaf) >= sizeof full)
    {
      *ok = 0;
      return -1;
    }
  int i = peac_params_add (p, full, ndim, shape);
  if (i < 0)
    *ok = 0;
  return i;
}

#define BLK "layers.%d.blocks.%d."

SwinModel *
swin_create (const SwinConfig *cfg, char *err, size_t errlen)
{
  int valid = cfg->num_stages >= 1 && cfg->num_stages <= SWIN_MAX_STAGES && cfg->img_size > 0
              && cfg->patch_size > 0 && cfg->in_chans > 0 && cfg->embed_dim > 0
              && cfg->window_size > 0 && cfg->mlp_ratio > 0;
  for (int s = 0; valid && s < cfg->num_stages; s++)
    valid = cfg->depths[s] > 0 && cfg->num_heads[s] > 0
            && ((cfg->embed_dim << s) % cfg->num_heads[s]) == 0;
  if (!valid)
    {
      snprintf (err, errlen, "Swin: invalid config (stages, sizes, depths or heads)");
      return NULL;
    }
  SwinModel *m = calloc (1, sizeof *m);
  if (!m)
    {
      snprintf (err, errlen, "out of memory");
      return NULL;
    }
  m->cfg = *cfg;
  peac_params_init (&m->params);
  PeacParams *p = &m->params;
  int ok = 1, E = cfg->embed_dim, P = cfg->patch_size;
  // Indices first; pointers are resolved after the single allocation.
  int i_pw = add (p, &ok, "patch_embed.proj.", 0, 0, "weight", 4, E, cfg->in_chans, P, P);
  int i_pb = add (p, &ok, "patch_embed.proj.", 0, 0, "bias", 1, E, 0, 0, 0);
  int i_pnw = add (p, &ok, "patch_embed.norm.", 0, 0, "weight", 1, E, 0, 0, 0);
  int i_pnb = add (p, &ok, "patch_embed.norm.", 0, 0, "bias", 1, E, 0, 0, 0);
  int nblocks = 0, nidx = 0, i_down[SWIN_MAX_STAGES][3];
  for (int s = 0; s < cfg->num_stages; s++)
    nblocks += cfg->depths[s];
  int *idx = malloc (sizeof (int) * 13 * (size_t) nblocks);
  int res = cfg->img_size / P;
  for (int s = 0; ok && idx && s < cfg->num_stages; s++, res /= 2)
    {
      SwinStageWeights *st = &m->w.stages[s];
      int C = E << s, hid = (int) (C * cfg->mlp_ratio);
      st->dim = C;
      st->heads = cfg->num_heads[s];
      st->depth = cfg->depths[s];
      st->hidden = hid;
      st->table_window = res > 0 && res < cfg->window_size ? res : cfg->window_size;
      int t = 2 * st->table_window - 1;
      for (int b = 0; b < st->depth; b++)
        {
          idx[nidx++] = add (p, &ok, BLK, s, b, "norm1.weight", 1, C, 0, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "norm1.bias", 1, C, 0, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "attn.qkv.weight", 2, 3 * C, C, 0, 0);
          idx[nidx++] = cfg->qkv_bias ? add (p, &ok, BLK, s, b, "attn.qkv.bias", 1, 3 * C, 0, 0, 0) : -1;
          idx[nidx++] = add (p, &ok, BLK, s, b, "attn.relative_position_bias_table", 2,
                             (int64_t) t * t, st->heads, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "attn.proj.weight", 2, C, C, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "attn.proj.bias", 1, C, 0, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "norm2.weight", 1, C, 0, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "norm2.bias", 1, C, 0, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "mlp.fc1.weight", 2, hid, C, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "mlp.fc1.bias", 1, hid, 0, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "mlp.fc2.weight", 2, C, hid, 0, 0);
          idx[nidx++] = add (p, &ok, BLK, s, b, "mlp.fc2.bias", 1, C, 0, 0, 0);
        }
      if (s + 1 < cfg->num_stages)
        {
          i_down[s][0] = add (p, &ok, "layers.%d.downsample.", s, 0, "norm.weight", 1, 4 * C, 0, 0, 0);
          i_down[s][1] = add (p, &ok, "layers.%d.downsample.", s, 0, "norm.bias", 1, 4 * C, 0, 0, 0);
          i_down[s][2] = add (p, &ok, "layers.%d.downsample.", s, 0, "reduction.weight", 2, 2 * C, 4 * C, 0, 0);
        }
      st->blocks = calloc ((size_t) st->depth, sizeof (SwinBlockWeights));
      ok = ok && st->blocks;
    }
  int C_last = E << (cfg->num_stages - 1);
  int i_nw = add (p, &ok, "norm.", 0, 0, "weight", 1, C_last, 0, 0, 0);
  int i_nb = add (p, &ok, "norm.", 0, 0, "bias", 1, C_last, 0, 0, 0);
  if (!ok || !idx || peac_params_alloc (p) != 0)
    {
      snprintf (err, errlen, "Swin: cannot build the parameter table (too deep or out of memory)");
      free (idx);
      swin_free (m);
      return NULL;
    }
#define PTR(i) ((i) >= 0 ? p->list[i].data : NULL)
  m->w.patch_w = PTR (i_pw);
  m->w.patch_b = PTR (i_pb);
  m->w.patch_norm_w = PTR (i_pnw);
  m->w.patch_norm_b = PTR (i_pnb);
  m->w.norm_w = PTR (i_nw);
  m->w.norm_b = PTR (i_nb);
  int k = 0;
  for (int s = 0; s < cfg->num_stages; s++)
    {
      SwinStageWeights *st = &m->w.stages[s];
      for (int b = 0; b < st->depth; b++)
        {
          SwinBlockWeights *bl = &st->blocks[b];
          float **f[13] = { &bl->norm1_w, &bl->norm1_b, &bl->qkv_w, &bl->qkv_b, &bl->rpb_table,
                            &bl->proj_w, &bl->proj_b, &bl->norm2_w, &bl->norm2_b, &bl->fc1_w,
                            &bl->fc1_b, &bl->fc2_w, &bl->fc2_b };
          for (int j = 0; j < 13; j++, k++)
            *f[j] = PTR (idx[k]);
        }
      if (s + 1 < cfg->num_stages)
        {
          st->down_norm_w = PTR (i_down[s][0]);
          st->down_norm_b = PTR (i_down[s][1]);
          st->down_red_w = PTR (i_down[s][2]);
        }
    }
#undef PTR
  free (idx);
  return m;
}

void
swin_free (SwinModel *m)
{
  if (!m)
    return;
  for (int s = 0; s < SWIN_MAX_STAGES; s++)
    free (m->w.stages[s].blocks);
  peac_params_free (&m->params);
  free (m->ws);
  free (m);
}

PeacParams *swin_params (SwinModel *m) { return &m->params; }
const SwinConfig *swin_config (const SwinModel *m) { return &m->cfg; }
const SwinWeights *swin_weights (const SwinModel *m) { return &m->w; }

void
swin_set_layout (SwinModel *m, const char *layout)
{
  m->timm_names = layout && strcmp (layout, "timm") == 0;
}

const char *
swin_canonical_name (const char *name, const char *layout, char *buf, size_t n)
{
  while (strncmp (name, "module.", 7) == 0)
    name += 7;
  const char *leaf = strrchr (name, '.');
  leaf = leaf ? leaf + 1 : name;
  if (strcmp (leaf, "attn_mask") == 0 || strcmp (leaf, "relative_position_index") == 0
      || strncmp (name, "head.", 5) == 0 || strcmp (name, "head") == 0
      || strcmp (name, "mask_token") == 0)
    return NULL;
  int s, off = 0;
  // timm ≥ 0.9: PatchMerging opens stage s+1 → Microsoft: it closes stage s.
  if (layout && strcmp (layout, "timm") == 0
      && sscanf (name, "layers.%d.downsample.%n", &s, &off) == 1 && off > 0 && s > 0)
    {
      if ((size_t) snprintf (buf, n, "layers.%d.downsample.%s", s - 1, name + off) >= n)
        return NULL;
      return buf;
    }
  if ((size_t) snprintf (buf, n, "%s", name) >= n)
    return NULL;
  return buf;
}

void
swin_output_shape (const SwinModel *m, int H, int W, int *grid_h, int *grid_w, int *dim)
{
  int S = m->cfg.num_stages;
  *grid_h = (H / m->cfg.patch_size) >> (S - 1);
  *grid_w = (W / m->cfg.patch_size) >> (S - 1);
  *dim = m->w.stages[S - 1].dim;
}

double
swin_flops (const SwinModel *m, int H, int W)
{
  const SwinConfig *c = &m->cfg;
  int Hs = H / c->patch_size, Ws = W / c->patch_size;
  double f = 2.0 * Hs * Ws * c->embed_dim * c->in_chans * c->patch_size * c->patch_size;
  for (int s = 0; s < c->num_stages; s++, Hs /= 2, Ws /= 2)
    {
      const SwinStageWeights *st = &m->w.stages[s];
      int wh, ww, sh, sw;
      swin_stage_window (Hs, Ws, c->window_size, &wh, &ww, &sh, &sw);
      double M = (double) Hs * Ws, C = st->dim;
      // qkv + proj + fc1 + fc2, and Q·Kᵀ, P·V over windows of wh·ww tokens.
      double blk = 2.0 * M * (3 * C * C + C * C + 2 * C * st->hidden) + 4.0 * M * wh * ww * C;
      f += st->depth * blk;
      if (s + 1 < c->num_stages)
        f += 2.0 * (M / 4) * (4 * C) * (2 * C);
    }
  return f;
}

// ---------------------------------------------------------------------------------------
// forward

static void
emit (PeacActFn act, void *user, const char *name, const float *x, int B, int h, int w, int c)
{
  if (act)
    {
      int64_t shape[4] = { B, h, w, c };
      act (user, name, x, 4, shape);
    }
}

// Checks that every stage's windows tile its resolution and fit the bias tables.
int
swin_check_input (const SwinModel *m, int H, int W, char *err, size_t errlen)
{
  const SwinConfig *c = &m->cfg;
  if (H <= 0 || W <= 0 || H % c->patch_size || W % c->patch_size)
    {
      snprintf (err, errlen, "Swin: input %d×%d is not a multiple of the patch size %d",
                H, W, c->patch_size);
      return -1;
    }
  int Hs = H / c->patch_size, Ws = W / c->patch_size;
  for (int s = 0; s < c->num_stages; s++, Hs /= 2, Ws /= 2)
    {
      int wh, ww, sh, sw;
      swin_stage_window (Hs, Ws, c->window_size, &wh, &ww, &sh, &sw);
      int tw = m->w.stages[s].table_window;
      if (Hs < 1 || Ws < 1 || Hs % wh || Ws % ww || wh > tw || ww > tw
          || (s + 1 < c->num_stages && (Hs % 2 || Ws % 2)))
        {
          snprintf (err, errlen, "Swin: input %d×%d gives stage %d a %d×%d grid that windows "
                    "of %d (bias table for %d) and patch merging cannot tile; use a size "
                    "whose stage grids are multiples of the window", H, W, s, Hs, Ws,
                    c->window_size, tw);
          return -1;
        }
    }
  return 0;
}

int
swin_forward (SwinModel *m, const float *input, int B, int H, int W, float *features,
              float *pooled, PeacActFn act, void *user, char *err, size_t errlen)
{
  const SwinConfig *c = &m->cfg;
  if (B <= 0 || swin_check_input (m, H, W, err, errlen) != 0)
    {
      if (B <= 0)
        snprintf (err, errlen, "Swin: batch size must be positive");
      return -1;
    }
  int Hs = H / c->patch_size, Ws = W / c->patch_size, E = c->embed_dim;
  size_t M0 = (size_t) B * Hs * Ws, MC = M0 * E;
  float wide = c->mlp_ratio > 3 ? c->mlp_ratio : 3;
  int maxN = c->window_size * c->window_size, maxH = 1;
  for (int s = 0; s < c->num_stages; s++)
    maxH = c->num_heads[s] > maxH ? c->num_heads[s] : maxH;
  size_t col_n = op_patch_embed_col_floats (B, c->in_chans, H, W, c->patch_size, c->patch_size);
  size_t nW0 = (size_t) (Hs / (Hs < c->window_size ? Hs : c->window_size))
               * (size_t) (Ws / (Ws < c->window_size ? Ws : c->window_size));
  // One workspace kept across calls (regrown when a larger batch or image arrives):
  // x, a, w [M0·E] token buffers; big [M0·E·max(3, mlp)] for qkv / MLP hidden / im2col;
  // bias [heads, N, N]; mask [nW, N, N]; attention scratch; index [N, N] (as floats' room).
  size_t big_n = (size_t) ((double) MC * wide) + (size_t) E;
  big_n = big_n > col_n ? big_n : col_n;
  size_t nN = (size_t) maxN * maxN, att_n = op_attention_scratch_floats (maxN);
  size_t need[8] = { MC, MC, MC, big_n, (size_t) maxH * nN, nW0 * nN, att_n, nN };
  size_t total = 0;
  for (int i = 0; i < 8; i++)
    total += (need[i] + 15) & ~(size_t) 15;   // 64-byte aligned pieces
  if (total > m->ws_cap)
    {
      free (m->ws);
      m->ws = aligned_alloc (64, total * sizeof (float));
      m->ws_cap = m->ws ? total : 0;
      if (!m->ws)
        {
          snprintf (err, errlen, "Swin: out of memory for a %d×%d×%d batch", B, H, W);
          return -1;
        }
    }
  float *piece[8], *at = m->ws;
  for (int i = 0; i < 8; i++)
    piece[i] = at, at += (need[i] + 15) & ~(size_t) 15;
  float *x = piece[0], *a = piece[1], *w = piece[2], *big = piece[3], *bias = piece[4];
  float *mask = piece[5], *scratch = piece[6];
  int *index = (int *) piece[7];
  char name[64];

  // Patch embedding: Conv2d(Cin → E, P, stride P) as im2col + GEMM, then LayerNorm.
  // input [B, Cin, H, W] → a [B, Hs, Ws, E] → x = LN(a)
  op_patch_embed_forward (a, big, input, m->w.patch_w, m->w.patch_b, B, c->in_chans, H, W,
                          c->patch_size, c->patch_size, E);
  op_layernorm_forward (x, NULL, NULL, a, m->w.patch_norm_w, m->w.patch_norm_b, (int) M0, E,
                        c->ln_eps);
  emit (act, user, "patch_embed", x, B, Hs, Ws, E);

  for (int s = 0; s < c->num_stages; s++)
    {
      const SwinStageWeights *st = &m->w.stages[s];
      int C = st->dim, nh = st->heads, Dh = C / nh, hid = st->hidden;
      int wh, ww, sh, sw;
      swin_stage_window (Hs, Ws, c->window_size, &wh, &ww, &sh, &sw);
      int N = wh * ww, nW = (Hs / wh) * (Ws / ww), M = B * Hs * Ws;
      swin_relative_position_index (index, wh, ww, st->table_window);
      if (sh || sw)
        swin_attn_mask (mask, Hs, Ws, wh, ww, sh, sw);
      for (int b = 0; b < st->depth; b++)
        {
          const SwinBlockWeights *bl = &st->blocks[b];
          // Odd blocks shift by half a window (when the stage is larger than one window).
          int bsh = b % 2 ? sh : 0, bsw = b % 2 ? sw : 0;
          int shifted = bsh || bsw;
          // bias[h, i, j] = table[index[i, j], h]
          for (int h = 0; h < nh; h++)
            for (int ij = 0; ij < N * N; ij++)
              bias[(size_t) h * N * N + ij] = bl->rpb_table[(size_t) index[ij] * nh + h];

          // a = LN1(x); w = windows(roll(a, −shift))           [B·nW·N, C]
          op_layernorm_forward (a, NULL, NULL, x, bl->norm1_w, bl->norm1_b, M, C, c->ln_eps);
          swin_window_partition (w, a, B, Hs, Ws, C, wh, ww, bsh, bsw);
          // big = w · Wqkvᵀ + b                                 [B·nW·N, 3C]
          op_linear_forward (big, w, bl->qkv_w, bl->qkv_b, M, C, 3 * C);
          // a = softmax(Q·Kᵀ/√Dh + bias + mask) · V per window and head    [B·nW·N, C]
          op_attention_forward (a, NULL, scratch, big, bias, shifted ? mask : NULL, nW,
                                B * nW, N, nh, Dh);
          // w = a · Wprojᵀ + b; x += reverse(roll back(w))
          op_linear_forward (w, a, bl->proj_w, bl->proj_b, M, C, C);
          if (act)
            {
              int64_t shape[3] = { (int64_t) B * nW, N, C };
              snprintf (name, sizeof name, "layers.%d.blocks.%d.attn", s, b);
              act (user, name, w, 3, shape);
            }
          swin_window_reverse_add (x, w, B, Hs, Ws, C, wh, ww, bsh, bsw);
          // x += fc2(GELU(fc1(LN2(x))))
          op_layernorm_forward (a, NULL, NULL, x, bl->norm2_w, bl->norm2_b, M, C, c->ln_eps);
          op_linear_forward (big, a, bl->fc1_w, bl->fc1_b, M, C, hid);
          op_gelu_forward (big, big, (size_t) M * hid);
          op_linear_forward (a, big, bl->fc2_w, bl->fc2_b, M, hid, C);
          op_add (x, x, a, (size_t) M * C);
        }
      if (m->timm_names)
        snprintf (name, sizeof name, "layers.%d", s);
      else
        snprintf (name, sizeof name, "stage%d.blocks", s);
      emit (act, user, name, x, B, Hs, Ws, C);

      if (s + 1 < c->num_stages)
        {
          // PatchMerging: a = gather 2×2 [B, Hs/2, Ws/2, 4C]; w = LN(a); x = w · Wredᵀ
          swin_merge_gather (a, x, B, Hs, Ws, C);
          Hs /= 2, Ws /= 2;
          M = B * Hs * Ws;
          op_layernorm_forward (w, NULL, NULL, a, st->down_norm_w, st->down_norm_b, M, 4 * C,
                                c->ln_eps);
          op_linear_forward (x, w, st->down_red_w, NULL, M, 4 * C, 2 * C);
        }
    }

  // Final norm → features [B, Hs, Ws, C]; pooled [B, C] = mean over the Hs·Ws tokens.
  int C = m->w.stages[c->num_stages - 1].dim, T = Hs * Ws;
  float *f = features ? features : a;
  op_layernorm_forward (f, NULL, NULL, x, m->w.norm_w, m->w.norm_b, B * T, C, c->ln_eps);
  emit (act, user, "norm", f, B, Hs, Ws, C);
  if (pooled)
    for (int b = 0; b < B; b++)
      for (int k = 0; k < C; k++)
        {
          double acc = 0;
          for (int t = 0; t < T; t++)
            acc += f[((size_t) b * T + t) * C + k];
          pooled[(size_t) b * C + k] = (float) (acc / T);
        }
  return 0;
}
