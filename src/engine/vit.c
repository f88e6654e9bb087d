// SPDX-License-Identifier: GPL-3.0-or-later
//
// vit: configuration, parameter table and forward pass of the timm Vision Transformer
// (see vit.h). One block, pre-norm:
//   x ← x + proj(attention(qkv(LN₁(x))))
//   x ← x + fc2(GELU(fc1(LN₂(x))))
// with x the [B·T, D] token matrix, T = 1 + gh·gw (class token first). Every matrix
// product is one GEMM over all B·T rows; attention parallelises images × heads.
#include "vit.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

struct VitModel {
  VitConfig  cfg;
  PeacParams params;
  VitWeights w;
  // Activation buffer for the last shape run (regrown when a call needs more).
  float     *act_mem;
  size_t     act_cap;          // floats
  // Position embedding resampled for grid pos_gh × pos_gw (NULL until needed).
  float     *pos_resampled;
  int        pos_gh, pos_gw;
};

// ---------------------------------------------------------------------------------------
// Configuration

static int
get_int (json_t *o, const char *k, int def, int *out, char *err, size_t errlen)
{
  json_t *v = json_object_get (o, k);
  if (!v || json_is_null (v))
    return *out = def, 0;
  // Every size is far below 2^20; larger values would overflow the int products below.
  if (json_is_integer (v) && llabs (json_integer_value (v)) <= PEAC_CONFIG_INT_MAX)
    return *out = (int) json_integer_value (v), 0;
  // timm writes img_size/patch_size as [h, w] pairs in some configs: accept squares.
  if (json_is_array (v) && json_array_size (v) == 2
      && json_is_integer (json_array_get (v, 0))
      && json_integer_value (json_array_get (v, 0)) == json_integer_value (json_array_get (v, 1))
      && llabs (json_integer_value (json_array_get (v, 0))) <= PEAC_CONFIG_INT_MAX)
    return *out = (int) json_integer_value (json_array_get (v, 0)), 0;
  snprintf (err, errlen, "peac.config: '%s' must be an integer of at most %d", k,
            PEAC_CONFIG_INT_MAX);
  return -1;
}

int
vit_config_parse (VitConfig *cfg, const char *json, char *err, size_t errlen)
{
  json_error_t je;
  json_t *o = json_loads (json ? json : "{}", 0, &je);
  if (!o || !json_is_object (o))
    {
      snprintf (err, errlen, "peac.config is not a JSON object: %s", o ? "" : je.text);
      json_decref (o);
      return -1;
    }
  int rc = -1;
  if (get_int (o, "img_size", 224, &cfg->img_size, err, errlen)
      || get_int (o, "patch_size", 16, &cfg->patch_size, err, errlen)
      || get_int (o, "in_chans", 3, &cfg->in_chans, err, errlen)
      || get_int (o, "embed_dim", 768, &cfg->embed_dim, err, errlen)
      || get_int (o, "depth", 12, &cfg->depth, err, errlen)
      || get_int (o, "num_heads", 12, &cfg->num_heads, err, errlen))
    goto out;
  json_t *v;
  double ratio = 4.0;
  if ((v = json_object_get (o, "mlp_ratio")) && json_is_number (v))
    ratio = json_number_value (v);
  if (!(ratio > 0.0 && ratio <= 64.0))
    {
      snprintf (err, errlen, "peac.config: mlp_ratio %g is outside (0, 64]", ratio);
      goto out;
    }
  cfg->mlp_hidden = (int) (ratio * cfg->embed_dim + 0.5);
  cfg->qkv_bias = !(v = json_object_get (o, "qkv_bias")) || json_is_true (v);
  cfg->ln_eps = 1e-6f;
  if ((v = json_object_get (o, "layernorm_eps")) && json_is_number (v))
    cfg->ln_eps = (float) json_number_value (v);
  if ((v = json_object_get (o, "gelu")) && !(json_is_string (v)
      && strcmp (json_string_value (v), "erf") == 0))
    {
      snprintf (err, errlen, "peac.config: only the exact (erf) GELU is supported");
      goto out;
    }
  if ((v = json_object_get (o, "global_pool")) && json_is_string (v)
      && strcmp (json_string_value (v), "token") != 0 && json_string_length (v) > 0)
    {
      snprintf (err, errlen, "peac.config: global_pool '%s' is not supported (only 'token')",
                json_string_value (v));
      goto out;
    }
  if ((v = json_object_get (o, "class_token")) && json_is_false (v))
    {
      snprintf (err, errlen, "peac.config: ViTs without a class token are not supported");
      goto out;
    }
  if ((v = json_object_get (o, "reg_tokens")) && json_is_integer (v) && json_integer_value (v))
    {
      snprintf (err, errlen, "peac.config: register tokens are not supported");
      goto out;
    }
  if (cfg->img_size <= 0 || cfg->patch_size <= 0 || cfg->img_size % cfg->patch_size
      || cfg->in_chans <= 0 || cfg->embed_dim <= 0 || cfg->depth <= 0 || cfg->num_heads <= 0
      || cfg->embed_dim % cfg->num_heads || cfg->mlp_hidden <= 0 || cfg->depth > 1000)
    {
      snprintf (err, errlen, "peac.config: inconsistent ViT (img %d, patch %d, width %d, "
                "depth %d, heads %d)", cfg->img_size, cfg->patch_size, cfg->embed_dim,
                cfg->depth, cfg->num_heads);
      goto out;
    }
  rc = 0;
out:
  json_decref (o);
  return rc;
}

// ---------------------------------------------------------------------------------------
// Parameters

static void
reg (PeacParams *p, int *idx, const char *name, int ndim, int64_t a, int64_t b, int64_t c,
     int64_t d)
{
  int64_t shape[4] = { a, b, c, d };
  *idx = peac_params_add (p, name, ndim, shape);
}

VitModel *
vit_create (const VitConfig *cfg, char *err, size_t errlen)
{
  VitModel *m = calloc (1, sizeof *m);
  m->cfg = *cfg;
  PeacParams *p = &m->params;
  peac_params_init (p);
  const int D = cfg->embed_dim, P = cfg->patch_size, C = cfg->in_chans, Hd = cfg->mlp_hidden;
  const int G = cfg->img_size / P;
  // Registration order = timm's state-dict order; indices resolved after allocation.
  int ix[8], bad = 0;
  reg (p, &ix[0], "cls_token", 3, 1, 1, D, 0);
  reg (p, &ix[1], "pos_embed", 3, 1, 1 + (int64_t) G * G, D, 0);
  reg (p, &ix[2], "patch_embed.proj.weight", 4, D, C, P, P);
  reg (p, &ix[3], "patch_embed.proj.bias", 1, D, 0, 0, 0);
  for (int i = 0; i < 4; i++)
    bad |= ix[i] < 0;
  int (*bix)[12] = calloc ((size_t) cfg->depth, sizeof *bix);
  char n[PEAC_NAME_MAX];
  for (int l = 0; l < cfg->depth; l++)
    {
      int *b = bix[l];
#define R(k, suffix, nd, s0, s1)                                    \
  snprintf (n, sizeof n, "blocks.%d.%s", l, suffix);               \
  reg (p, &b[k], n, nd, s0, s1, 0, 0);                             \
  bad |= b[k] < 0;
      R (0, "norm1.weight", 1, D, 0);
      R (1, "norm1.bias", 1, D, 0);
      R (2, "attn.qkv.weight", 2, 3 * D, D);
      b[3] = -2;
      if (cfg->qkv_bias)
        {
          R (3, "attn.qkv.bias", 1, 3 * D, 0);
        }
      R (4, "attn.proj.weight", 2, D, D);
      R (5, "attn.proj.bias", 1, D, 0);
      R (6, "norm2.weight", 1, D, 0);
      R (7, "norm2.bias", 1, D, 0);
      R (8, "mlp.fc1.weight", 2, Hd, D);
      R (9, "mlp.fc1.bias", 1, Hd, 0);
      R (10, "mlp.fc2.weight", 2, D, Hd);
      R (11, "mlp.fc2.bias", 1, D, 0);
#undef R
    }
  reg (p, &ix[4], "norm.weight", 1, D, 0, 0, 0);
  reg (p, &ix[5], "norm.bias", 1, D, 0, 0, 0);
  bad |= ix[4] < 0 || ix[5] < 0;
  if (bad || peac_params_alloc (p) != 0)
    {
      snprintf (err, errlen, "cannot build the ViT parameter table (out of memory?)");
      free (bix);
      vit_free (m);
      return NULL;
    }
#define PTR(i) (p->list[i].data)
  m->w.cls_token = PTR (ix[0]);
  m->w.pos_embed = PTR (ix[1]);
  m->w.patch_w = PTR (ix[2]);
  m->w.patch_b = PTR (ix[3]);
  m->w.norm_w = PTR (ix[4]);
  m->w.norm_b = PTR (ix[5]);
  m->w.blocks = calloc ((size_t) cfg->depth, sizeof *m->w.blocks);
  for (int l = 0; l < cfg->depth; l++)
    {
      VitBlockWeights *w = &m->w.blocks[l];
      int *b = bix[l];
      w->norm1_w = PTR (b[0]), w->norm1_b = PTR (b[1]);
      w->qkv_w = PTR (b[2]), w->qkv_b = b[3] >= 0 ? PTR (b[3]) : NULL;
      w->proj_w = PTR (b[4]), w->proj_b = PTR (b[5]);
      w->norm2_w = PTR (b[6]), w->norm2_b = PTR (b[7]);
      w->fc1_w = PTR (b[8]), w->fc1_b = PTR (b[9]);
      w->fc2_w = PTR (b[10]), w->fc2_b = PTR (b[11]);
    }
#undef PTR
  free (bix);
  return m;
}

void
vit_free (VitModel *m)
{
  if (!m)
    return;
  peac_params_free (&m->params);
  free (m->w.blocks);
  free (m->act_mem);
  free (m->pos_resampled);
  free (m);
}

PeacParams *vit_params (VitModel *m) { return &m->params; }
const VitConfig *vit_config (const VitModel *m) { return &m->cfg; }
const VitWeights *vit_weights (const VitModel *m) { return &m->w; }

void
vit_output_shape (const VitModel *m, int H, int W, int stride, int *grid_h, int *grid_w,
                  int *dim)
{
  const int P = m->cfg.patch_size, S = stride > 0 ? stride : P;
  *grid_h = H >= P ? (H - P) / S + 1 : 0;
  *grid_w = W >= P ? (W - P) / S + 1 : 0;
  *dim = m->cfg.embed_dim;
}

double
vit_flops (const VitModel *m, int H, int W, int stride)
{
  int gh, gw, D;
  vit_output_shape (m, H, W, stride, &gh, &gw, &D);
  const double G = (double) gh * gw, T = G + 1, Hd = m->cfg.mlp_hidden;
  const double K = (double) m->cfg.in_chans * m->cfg.patch_size * m->cfg.patch_size;
  double per_block = 2 * T * D * 3 * D      // qkv
                     + 2 * 2 * T * T * D    // Q·Kᵀ and P·V
                     + 2 * T * D * D        // proj
                     + 2 * 2 * T * D * Hd;  // fc1, fc2
  return 2 * G * K * D + m->cfg.depth * per_block;
}

// ---------------------------------------------------------------------------------------
// Forward

static void
emit (PeacActFn act, void *user, const char *name, const float *x, int B, int T, int D)
{
  if (!act)
    return;
  int64_t shape[3] = { B, T, D };
  act (user, name, x, 3, shape);
}

// x[b, 0] = cls + pos[0];  x[b, 1 + i] = patches[b, i] + pos[1 + i]
static void
add_cls_pos (float *x, const float *patches, const float *cls, const float *pos, int B,
             int G, int D)
{
  const int T = G + 1;
  for (int b = 0; b < B; b++)
    {
      float *xb = x + (size_t) b * T * D;
      for (int d = 0; d < D; d++)
        xb[d] = cls[d] + pos[d];
      op_add (xb + D, patches + (size_t) b * G * D, pos + D, (size_t) G * D);
    }
}

int
vit_forward (VitModel *m, const float *input, int B, int H, int W, const VitRunOptions *opt,
             float *features, float *pooled, PeacActFn act, void *user, char *err,
             size_t errlen)
{
  const VitConfig *c = &m->cfg;
  const int P = c->patch_size, D = c->embed_dim, Hd = c->mlp_hidden, NH = c->num_heads;
  const int S = opt && opt->stride > 0 ? opt->stride : P;
  const int last = opt && opt->layer >= 0 ? opt->layer : c->depth - 1;
  if (B <= 0 || H < P || W < P || S > P)
    {
      snprintf (err, errlen, "ViT: input %d×%d (batch %d, stride %d) is not valid for patch %d",
                H, W, B, S, P);
      return -1;
    }
  if (last >= c->depth)
    {
      snprintf (err, errlen, "ViT: layer %d requested, the model has %d blocks (0…%d)", last,
                c->depth, c->depth - 1);
      return -1;
    }
  int gh, gw, dim;
  vit_output_shape (m, H, W, S, &gh, &gw, &dim);
  const int G = gh * gw, T = G + 1, G0 = c->img_size / P;
  const size_t BT = (size_t) B * T;

  // Activation layout, one buffer: x, xn, y [BT, D]; qkv [BT, 3D]; hid [BT, Hd];
  // col [B·G, C·P·P]; attention scratch. Regrown only when a call needs more.
  const size_t n_x = BT * D, n_qkv = BT * 3 * D, n_hid = BT * Hd;
  const size_t n_col = op_patch_embed_col_floats (B, c->in_chans, H, W, P, S);
  const size_t n_sc = op_attention_scratch_floats (T);
  const size_t need = 3 * n_x + n_qkv + n_hid + n_col + n_sc + 6 * 16;
  if (need > m->act_cap)
    {
      free (m->act_mem);
      m->act_mem = aligned_alloc (64, ((need * sizeof (float)) + 63) & ~(size_t) 63);
      m->act_cap = m->act_mem ? need : 0;
      if (!m->act_mem)
        {
          snprintf (err, errlen, "ViT: out of memory for activations (%zu MB)",
                    need * sizeof (float) >> 20);
          return -1;
        }
    }
  float *cur = m->act_mem;
#define TAKE(n) (cur += (((n) + 15) & ~(size_t) 15), cur - (((n) + 15) & ~(size_t) 15))
  float *x = TAKE (n_x), *xn = TAKE (n_x), *y = TAKE (n_x);
  float *qkv = TAKE (n_qkv), *hid = TAKE (n_hid), *col = TAKE (n_col), *sc = TAKE (n_sc);
#undef TAKE

  // Position embedding for this grid: the stored one, or timm's bicubic resample.
  const float *pos = m->w.pos_embed;
  if (gh != G0 || gw != G0)
    {
      if (m->pos_gh != gh || m->pos_gw != gw || !m->pos_resampled)
        {
          free (m->pos_resampled);
          m->pos_resampled = malloc ((size_t) T * D * sizeof (float));
          if (!m->pos_resampled)
            {
              snprintf (err, errlen, "ViT: out of memory");
              return -1;
            }
          m->pos_gh = gh, m->pos_gw = gw;
        }
      // Recomputed every call: the weights may have changed since (training).
      op_pos_embed_resample (m->pos_resampled, m->w.pos_embed, 1, G0, G0, gh, gw, D);
      pos = m->pos_resampled;
    }

  // Patch embedding [B·G, D] (into y), then class token and position embedding → x [B, T, D].
  op_patch_embed_forward (y, col, input, m->w.patch_w, m->w.patch_b, B, c->in_chans, H, W,
                          P, S, D);
  if (act)
    {
      int64_t shape[3] = { B, G, D };
      act (user, "patch_embed", y, 3, shape);
    }
  add_cls_pos (x, y, m->w.cls_token, pos, B, G, D);

  char name[64];
  for (int l = 0; l <= last; l++)
    {
      const VitBlockWeights *w = &m->w.blocks[l];
      // Attention branch: xn = LN₁(x); qkv = xn·Wqkvᵀ + b; a = MHSA(qkv); y = a·Wprojᵀ + b
      op_layernorm_forward (xn, NULL, NULL, x, w->norm1_w, w->norm1_b, (int) BT, D, c->ln_eps);
      snprintf (name, sizeof name, "blocks.%d.norm1", l);
      emit (act, user, name, xn, B, T, D);
      op_linear_forward (qkv, xn, w->qkv_w, w->qkv_b, (int) BT, D, 3 * D);
      op_attention_forward (xn, NULL, sc, qkv, NULL, NULL, 1, B, T, NH, D / NH);
      // Without an observer the residual adds are fused into the GEMMs (β = 1).
      if (act)
        {
          op_linear_forward (y, xn, w->proj_w, w->proj_b, (int) BT, D, D);
          snprintf (name, sizeof name, "blocks.%d.attn", l);
          emit (act, user, name, y, B, T, D);
          op_add (x, x, y, n_x);
        }
      else
        op_linear_residual_forward (x, xn, w->proj_w, w->proj_b, (int) BT, D, D);
      // MLP branch: y = GELU(LN₂(x)·W₁ᵀ + b₁)·W₂ᵀ + b₂
      op_layernorm_forward (xn, NULL, NULL, x, w->norm2_w, w->norm2_b, (int) BT, D, c->ln_eps);
      op_linear_gelu_forward (hid, xn, w->fc1_w, w->fc1_b, (int) BT, D, Hd);
      if (act)
        {
          op_linear_forward (y, hid, w->fc2_w, w->fc2_b, (int) BT, Hd, D);
          snprintf (name, sizeof name, "blocks.%d.mlp", l);
          emit (act, user, name, y, B, T, D);
          op_add (x, x, y, n_x);
        }
      else
        op_linear_residual_forward (x, hid, w->fc2_w, w->fc2_b, (int) BT, Hd, D);
      snprintf (name, sizeof name, "blocks.%d", l);
      emit (act, user, name, x, B, T, D);
    }
  op_layernorm_forward (xn, NULL, NULL, x, m->w.norm_w, m->w.norm_b, (int) BT, D, c->ln_eps);
  emit (act, user, "norm", xn, B, T, D);
  for (int b = 0; b < B; b++)
    {
      const float *t = xn + (size_t) b * T * D;
      if (pooled)
        memcpy (pooled + (size_t) b * D, t, (size_t) D * sizeof (float));
      if (features)
        memcpy (features + (size_t) b * G * D, t + D, (size_t) G * D * sizeof (float));
    }
  return 0;
}
