// SPDX-License-Identifier: GPL-3.0-or-later
//
// swin-backbone: the Swin Transformer's row of the backbone table (backbone.h) over
// swin.h and swin-train.h. Layouts "microsoft" (the default: PEAC/SimMIM checkpoints) and
// "timm" (≥ 0.9), mapped onto one parameter table by swin_canonical_name. Options: no
// patch stride; a stopping layer k returns stage k's block output (NHWC, no norm) and its
// token mean, captured from the activation stream. Training: the grid is the final-norm
// tokens and the pooled vector their mean, whose gradient is spread evenly over the grid.
#include "backbone.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swin-train.h"
#include "swin.h"

typedef struct {
  SwinModel *m;
  int        timm;     // layout "timm" (activation names layers.{s})
} Swin;

// The canonical text: every key of the Microsoft config, doubles at full precision. The
// configured input must window and merge at every stage.
static char *
describe (const char *config_json, int *img, int *grid_h, int *grid_w, int *dim, char *err,
          size_t errlen)
{
  SwinConfig c;
  if (swin_config_parse (&c, config_json, err, errlen) != 0)
    return NULL;
  const int S = c.num_stages;
  *img = c.img_size, *dim = c.embed_dim << (S - 1);
  *grid_h = *grid_w = 0;
  int side = c.img_size % c.patch_size ? 0 : c.img_size / c.patch_size;
  for (int s = 0; s < S && side > 0; s++, side /= 2)
    {
      int wh, ww, sh, sw;
      swin_stage_window (side, side, c.window_size, &wh, &ww, &sh, &sw);
      if (side % wh || (s + 1 < S && side % 2))
        {
          snprintf (err, errlen, "Swin configuration: a %d px input gives stage %d a %d×%d "
                    "grid that windows of %d and patch merging cannot tile", c.img_size, s,
                    side, side, c.window_size);
          return NULL;
        }
      if (s == S - 1)
        *grid_h = *grid_w = side;
    }
  json_t *depths = json_array (), *heads = json_array ();
  for (int s = 0; s < S; s++)
    {
      json_array_append_new (depths, json_integer (c.depths[s]));
      json_array_append_new (heads, json_integer (c.num_heads[s]));
    }
  json_t *o = json_pack ("{s:i, s:i, s:i, s:i, s:o, s:o, s:i, s:f, s:b, s:f, s:s}",
                         "img_size", c.img_size, "patch_size", c.patch_size, "in_chans",
                         c.in_chans, "embed_dim", c.embed_dim, "depths", depths,
                         "num_heads", heads, "window_size", c.window_size, "mlp_ratio",
                         (double) c.mlp_ratio, "qkv_bias", c.qkv_bias, "layernorm_eps",
                         (double) c.ln_eps, "gelu", "erf");
  char *s = o ? json_dumps (o, JSON_COMPACT | JSON_REAL_PRECISION (17)) : NULL;
  json_decref (o);
  if (!s)
    snprintf (err, errlen, "Swin configuration: out of memory");
  return s;
}

static void *
create (const char *config_json, const char *layout, char *err, size_t errlen)
{
  SwinConfig cfg;
  Swin *s = calloc (1, sizeof *s);
  if (!s)
    {
      snprintf (err, errlen, "out of memory");
      return NULL;
    }
  if (swin_config_parse (&cfg, config_json, err, errlen) != 0
      || !(s->m = swin_create (&cfg, err, errlen)))
    {
      free (s);
      return NULL;
    }
  s->timm = layout && strcmp (layout, "timm") == 0;
  swin_set_layout (s->m, s->timm ? "timm" : "microsoft");
  return s;
}

static void
destroy (void *p)
{
  Swin *s = p;
  if (s)
    swin_free (s->m);
  free (s);
}

static PeacParams *params (void *p) { return swin_params (((Swin *) p)->m); }
static int img_size (const void *p) { return swin_config (((const Swin *) p)->m)->img_size; }

static const char *
map_name (const char *name, void *layout, char *buf, size_t n)
{
  return swin_canonical_name (name, layout, buf, n);
}

static void
output_shape (const void *p, const PeacForwardOptions *o, int H, int W, int *grid_h,
              int *grid_w, int *dim)
{
  const SwinModel *m = ((const Swin *) p)->m;
  const SwinConfig *c = swin_config (m);
  if (o->stride > 0 || o->layer >= c->num_stages)
    *grid_h = *grid_w = *dim = 0;
  else if (o->layer < 0)
    swin_output_shape (m, H, W, grid_h, grid_w, dim);
  else
    {
      *grid_h = H / c->patch_size >> o->layer;
      *grid_w = W / c->patch_size >> o->layer;
      *dim = c->embed_dim << o->layer;
    }
}

static double
flops (const void *p, const PeacForwardOptions *o, int H, int W)
{
  (void) o;
  return swin_flops (((const Swin *) p)->m, H, W);
}

// A stage's block output, captured from the activation stream under the layout's name
// and passed on to the caller's callback.
typedef struct {
  char       want[32];
  float     *features, *pooled;
  int        found;
  PeacActFn  act;
  void      *user;
} StageCapture;

static void
capture_stage (void *user, const char *name, const float *data, int ndim,
               const int64_t *shape)
{
  StageCapture *c = user;
  if (c->act)
    c->act (c->user, name, data, ndim, shape);
  if (strcmp (name, c->want) != 0 || ndim != 4)
    return;
  const size_t B = (size_t) shape[0], G = (size_t) (shape[1] * shape[2]), D = (size_t) shape[3];
  if (c->features)
    memcpy (c->features, data, B * G * D * sizeof (float));
  if (c->pooled)
    for (size_t b = 0; b < B; b++)
      for (size_t d = 0; d < D; d++)
        {
          double s = 0;
          for (size_t t = 0; t < G; t++)
            s += data[(b * G + t) * D + d];
          c->pooled[b * D + d] = (float) (s / (double) G);
        }
  c->found = 1;
}

static int
forward (void *p, const PeacForwardOptions *o, const float *input, int B, int H, int W,
         float *features, float *pooled, PeacActFn act, void *user, char *err, size_t errlen)
{
  Swin *s = p;
  if (o->stride > 0)
    {
      snprintf (err, errlen, "Swin has no dense (strided) mode");
      return -1;
    }
  if (o->layer < 0)
    return swin_forward (s->m, input, B, H, W, features, pooled, act, user, err, errlen);
  const SwinConfig *c = swin_config (s->m);
  if (o->layer >= c->num_stages)
    {
      snprintf (err, errlen, "Swin: stage %d requested, the model has %d (0…%d)", o->layer,
                c->num_stages, c->num_stages - 1);
      return -1;
    }
  StageCapture cap = { "", features, pooled, 0, act, user };
  snprintf (cap.want, sizeof cap.want, s->timm ? "layers.%d" : "stage%d.blocks", o->layer);
  int gh, gw, dim;
  swin_output_shape (s->m, H, W, &gh, &gw, &dim);
  float *f = malloc ((size_t) B * gh * gw * dim * sizeof (float));
  if (!f)
    {
      snprintf (err, errlen, "Swin: out of memory for a batch of %d", B);
      return -1;
    }
  int r = swin_forward (s->m, input, B, H, W, f, NULL, capture_stage, &cap, err, errlen);
  free (f);
  if (r == 0 && !cap.found)
    {
      snprintf (err, errlen, "Swin: stage %d output was not reported", o->layer);
      return -1;
    }
  return r;
}

typedef struct {
  SwinTrain *t;
  int        B, G, D;       // batch of the last forward, grid tokens, width
  float     *pooled, *dgrid;
} Trainer;

static void
train_free (void *p)
{
  Trainer *t = p;
  if (!t)
    return;
  swin_train_free (t->t);
  free (t->pooled), free (t->dgrid);
  free (t);
}

static void *
train_new (void *p, int B, int H, int W, char *err, size_t errlen)
{
  Trainer *t = calloc (1, sizeof *t);
  if (!t || !(t->t = swin_train_new (((Swin *) p)->m, B, H, W, err, errlen)))
    {
      if (!t)
        snprintf (err, errlen, "Swin training: out of memory");
      train_free (t);
      return NULL;
    }
  int gh, gw;
  swin_train_shape (t->t, &gh, &gw, &t->D);
  t->G = gh * gw;
  t->pooled = malloc ((size_t) B * t->D * sizeof (float));
  t->dgrid = malloc ((size_t) B * t->G * t->D * sizeof (float));
  if (!t->pooled || !t->dgrid)
    {
      snprintf (err, errlen, "Swin training: out of memory");
      train_free (t);
      return NULL;
    }
  return t;
}

static const float *
train_forward (void *p, const float *input, int B, const float **pooled)
{
  Trainer *t = p;
  const float *out = swin_train_forward (t->t, input, B);
  const size_t G = t->G, D = t->D;
  t->B = B;
  for (int b = 0; b < B; b++)
    for (size_t d = 0; d < D; d++)
      {
        double s = 0;
        for (size_t g = 0; g < G; g++)
          s += out[(b * G + g) * D + d];
        t->pooled[b * D + d] = (float) (s / (double) G);
      }
  if (pooled)
    *pooled = t->pooled;
  return out;
}

static void
train_backward (void *p, const float *dgrid, const float *dpooled, float *grads,
                float *dinput)
{
  Trainer *t = p;
  const size_t G = t->G, D = t->D;
  if (dpooled || !dgrid)
    {
      const float inv = 1.0f / (float) G;
      for (int b = 0; b < t->B; b++)
        for (size_t g = 0; g < G; g++)
          for (size_t d = 0; d < D; d++)
            t->dgrid[(b * G + g) * D + d] = (dgrid ? dgrid[(b * G + g) * D + d] : 0.0f)
                                            + (dpooled ? dpooled[b * D + d] * inv : 0.0f);
      dgrid = t->dgrid;
    }
  swin_train_backward (t->t, dgrid, grads, dinput);
}

const PeacBackbone peac_backbone_swin = {
  .name = "swin", .arch = PEAC_ARCH_SWIN, .label = "Swin",
  .layouts = { "microsoft", "timm", NULL },
  .class_token = 0, .strides = 0,
  .describe = describe, .create = create, .destroy = destroy, .params = params, .img_size = img_size,
  .map_name = map_name, .output_shape = output_shape, .flops = flops, .forward = forward,
  .train_new = train_new, .train_free = train_free, .train_forward = train_forward,
  .train_backward = train_backward,
};
