// SPDX-License-Identifier: GPL-3.0-or-later
//
// vit-backbone: the ViT's row of the backbone table (backbone.h) over vit.h and
// vit-train.h. Layout "timm" only, names as the checkpoint has them. Options: a patch
// stride (dense, overlapping tokens) and a stopping block. Training: the grid is the
// final-norm tokens without the class token, the pooled vector the class token after the
// final norm; the trainer splits and joins them around vit-train's [B, 1 + G, D] tokens.
#include "backbone.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vit-train.h"
#include "vit.h"

// The canonical text: every key timm names, doubles at full precision.
static char *
describe (const char *config_json, int *img, int *grid_h, int *grid_w, int *dim, char *err,
          size_t errlen)
{
  VitConfig v;
  if (vit_config_parse (&v, config_json, err, errlen) != 0)
    return NULL;
  *img = v.img_size, *dim = v.embed_dim;
  *grid_h = *grid_w = v.img_size % v.patch_size ? 0 : v.img_size / v.patch_size;
  json_t *o = json_pack ("{s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:b, s:f, s:s}",
                         "img_size", v.img_size, "patch_size", v.patch_size, "in_chans",
                         v.in_chans, "embed_dim", v.embed_dim, "depth", v.depth,
                         "num_heads", v.num_heads, "mlp_ratio",
                         (double) v.mlp_hidden / v.embed_dim, "qkv_bias", v.qkv_bias,
                         "layernorm_eps", (double) v.ln_eps, "gelu", "erf");
  char *s = o ? json_dumps (o, JSON_COMPACT | JSON_REAL_PRECISION (17)) : NULL;
  json_decref (o);
  if (!s)
    snprintf (err, errlen, "ViT configuration: out of memory");
  return s;
}

static void *
create (const char *config_json, const char *layout, char *err, size_t errlen)
{
  (void) layout;
  VitConfig cfg;
  if (vit_config_parse (&cfg, config_json, err, errlen) != 0)
    return NULL;
  return vit_create (&cfg, err, errlen);
}

static void destroy (void *m) { vit_free (m); }
static PeacParams *params (void *m) { return vit_params (m); }
static int img_size (const void *m) { return vit_config (m)->img_size; }

static void
output_shape (const void *m, const PeacForwardOptions *o, int H, int W, int *grid_h,
              int *grid_w, int *dim)
{
  vit_output_shape (m, H, W, o->stride, grid_h, grid_w, dim);
  if (o->layer >= vit_config (m)->depth || o->stride > vit_config (m)->patch_size)
    *grid_h = *grid_w = *dim = 0;
}

static double
flops (const void *m, const PeacForwardOptions *o, int H, int W)
{
  return vit_flops (m, H, W, o->stride);
}

static int
forward (void *m, const PeacForwardOptions *o, const float *input, int B, int H, int W,
         float *features, float *pooled, PeacActFn act, void *user, char *err, size_t errlen)
{
  VitRunOptions v = { o->stride, o->layer };
  return vit_forward (m, input, B, H, W, &v, features, pooled, act, user, err, errlen);
}

typedef struct {
  VitTrain *t;
  int       B, T, D;       // batch of the last forward, tokens (1 + G), width
  float    *grid, *pooled, *dtok;
} Trainer;

static void
train_free (void *p)
{
  Trainer *t = p;
  if (!t)
    return;
  vit_train_free (t->t);
  free (t->grid), free (t->pooled), free (t->dtok);
  free (t);
}

static void *
train_new (void *m, int B, int H, int W, char *err, size_t errlen)
{
  Trainer *t = calloc (1, sizeof *t);
  if (!t || !(t->t = vit_train_new (m, B, H, W, err, errlen)))
    {
      if (!t)
        snprintf (err, errlen, "ViT training: out of memory");
      train_free (t);
      return NULL;
    }
  t->T = vit_train_tokens (t->t), t->D = vit_train_dim (t->t);
  const size_t n = (size_t) B * t->T * t->D;
  t->grid = malloc (n * sizeof (float));
  t->pooled = malloc ((size_t) B * t->D * sizeof (float));
  t->dtok = malloc (n * sizeof (float));
  if (!t->grid || !t->pooled || !t->dtok)
    {
      snprintf (err, errlen, "ViT training: out of memory");
      train_free (t);
      return NULL;
    }
  return t;
}

static const float *
train_forward (void *p, const float *input, int B, const float **pooled)
{
  Trainer *t = p;
  const float *tok = vit_train_forward (t->t, input, B);
  const size_t D = t->D, G = t->T - 1;
  t->B = B;
  for (int b = 0; b < B; b++)
    {
      memcpy (t->pooled + b * D, tok + b * t->T * D, D * sizeof (float));
      memcpy (t->grid + b * G * D, tok + (b * t->T + 1) * D, G * D * sizeof (float));
    }
  if (pooled)
    *pooled = t->pooled;
  return t->grid;
}

static void
train_backward (void *p, const float *dgrid, const float *dpooled, float *grads,
                float *dinput)
{
  Trainer *t = p;
  const size_t D = t->D, G = t->T - 1;
  for (int b = 0; b < t->B; b++)
    {
      float *d = t->dtok + b * t->T * D;
      if (dpooled)
        memcpy (d, dpooled + b * D, D * sizeof (float));
      else
        memset (d, 0, D * sizeof (float));
      if (dgrid)
        memcpy (d + D, dgrid + b * G * D, G * D * sizeof (float));
      else
        memset (d + D, 0, G * D * sizeof (float));
    }
  vit_train_backward (t->t, t->dtok, grads, dinput);
}

const PeacBackbone peac_backbone_vit = {
  .name = "vit", .arch = PEAC_ARCH_VIT, .label = "ViT", .layouts = { "timm", NULL },
  .class_token = 1, .strides = 1,
  .describe = describe, .create = create, .destroy = destroy, .params = params, .img_size = img_size,
  .map_name = NULL, .output_shape = output_shape, .flops = flops, .forward = forward,
  .train_new = train_new, .train_free = train_free, .train_forward = train_forward,
  .train_backward = train_backward,
};
