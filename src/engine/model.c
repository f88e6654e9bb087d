// SPDX-License-Identifier: GPL-3.0-or-later
//
// model: dispatch from the backbone-independent API (model.h) to vit_* and swin_*. It
// reads `peac.arch`, `peac.layout` and `peac.config` from a checkpoint, builds the model,
// loads its tensors through the checkpoint name mapping (Swin names go through
// swin_canonical_name), initialises fresh models deterministically from a seed, and
// saves models with the metadata needed to load them back.
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "rng.h"
#include "swin.h"
#include "vit.h"

struct PeacModel {
  PeacArch   arch;
  char       layout[32];
  char      *config_json;
  VitModel  *vit;
  SwinModel *swin;
};

static PeacModel *
model_build (PeacArch arch, const char *layout, const char *config_json, char *err,
             size_t errlen)
{
  if (arch == PEAC_ARCH_VIT && layout && strcmp (layout, "timm") != 0)
    {
      snprintf (err, errlen, "ViT layout '%s' is not supported (only 'timm')", layout);
      return NULL;
    }
  if (arch == PEAC_ARCH_SWIN && layout && strcmp (layout, "timm") != 0
      && strcmp (layout, "microsoft") != 0)
    {
      snprintf (err, errlen, "Swin layout '%s' is not supported ('timm' or 'microsoft')",
                layout);
      return NULL;
    }
  PeacModel *m = calloc (1, sizeof *m);
  m->arch = arch;
  snprintf (m->layout, sizeof m->layout, "%s",
            layout ? layout : arch == PEAC_ARCH_VIT ? "timm" : "microsoft");
  m->config_json = strdup (config_json ? config_json : "{}");
  if (arch == PEAC_ARCH_VIT)
    {
      VitConfig cfg;
      if (vit_config_parse (&cfg, config_json, err, errlen) == 0)
        m->vit = vit_create (&cfg, err, errlen);
    }
  else if (arch == PEAC_ARCH_SWIN)
    {
      SwinConfig cfg;
      if (swin_config_parse (&cfg, config_json, err, errlen) == 0)
        m->swin = swin_create (&cfg, err, errlen);
      if (m->swin)
        swin_set_layout (m->swin, m->layout);
    }
  else
    snprintf (err, errlen, "unknown architecture %d", (int) arch);
  if (!m->vit && !m->swin)
    {
      peac_model_free (m);
      return NULL;
    }
  return m;
}

void
peac_model_free (PeacModel *m)
{
  if (!m)
    return;
  vit_free (m->vit);
  swin_free (m->swin);
  free (m->config_json);
  free (m);
}

PeacParams *
peac_model_params (PeacModel *m)
{
  return m->vit ? vit_params (m->vit) : swin_params (m->swin);
}

PeacArch peac_model_arch (const PeacModel *m) { return m->arch; }
const char *peac_model_layout (const PeacModel *m) { return m->layout; }
const char *peac_model_config_json (const PeacModel *m) { return m->config_json; }

int
peac_model_img_size (const PeacModel *m)
{
  return m->vit ? vit_config (m->vit)->img_size : swin_config (m->swin)->img_size;
}

// timm-like initialisation by name: LayerNorm weights 1, biases 0, everything else
// (Linear/conv weights, cls_token, pos_embed, relative position tables) truncated normal
// std 0.02 cut at ±2σ. One stream in table order: deterministic for a seed.
static void
init_params (PeacParams *p, uint64_t seed)
{
  PeacRng r;
  peac_rng_seed (&r, seed);
  for (int i = 0; i < p->n; i++)
    {
      PeacParam *e = &p->list[i];
      size_t l = strlen (e->name);
      int is_bias = l >= 5 && strcmp (e->name + l - 5, ".bias") == 0;
      int is_weight = l >= 7 && strcmp (e->name + l - 7, ".weight") == 0;
      if (is_bias)
        memset (e->data, 0, e->numel * sizeof (float));
      else if (is_weight && e->ndim == 1)
        for (size_t k = 0; k < e->numel; k++)
          e->data[k] = 1.0f;
      else
        peac_rng_trunc_normal (&r, e->data, e->numel, 0.02, -0.04, 0.04);
    }
}

PeacModel *
peac_model_new (PeacArch arch, const char *layout, const char *config_json, uint64_t seed,
                char *err, size_t errlen)
{
  PeacModel *m = model_build (arch, layout, config_json, err, errlen);
  if (m)
    init_params (peac_model_params (m), seed);
  return m;
}

static const char *
swin_map (const char *name, void *user, char *buf, size_t n)
{
  return swin_canonical_name (name, (const char *) user, buf, n);
}

PeacModel *
peac_model_load_ex (const char *path, const char *branch, char *warn, size_t warnlen,
                    char *err, size_t errlen)
{
  PeacSafetensors *st = peac_st_open (path, err, errlen);
  if (!st)
    return NULL;
  const char *arch_s = peac_st_meta (st, "peac.arch");
  const char *layout = peac_st_meta (st, "peac.layout");
  const char *config = peac_st_meta (st, "peac.config");
  PeacArch arch = 0;
  if (!arch_s)
    snprintf (err, errlen, "%s: no 'peac.arch' metadata: not a PEAC model file", path);
  else if (strcmp (arch_s, "vit") == 0)
    arch = PEAC_ARCH_VIT;
  else if (strcmp (arch_s, "swin") == 0)
    arch = PEAC_ARCH_SWIN;
  else
    snprintf (err, errlen, "%s: unknown peac.arch '%s'", path, arch_s);
  if (!arch)
    {
      peac_st_close (st);
      return NULL;
    }
  // Every parameter comes from a float tensor of the file: a configuration that needs far
  // more than the file holds is refused before its table is allocated (a 300-byte file
  // could otherwise declare gigabytes of parameters). Up to 16 Mi floats (64 MiB) of slack,
  // so that a small model short of a few tensors still gets the list of missing names.
  size_t have = 0;
  for (int i = 0; i < st->n; i++)
    if (st->tensors[i].dtype == PEAC_DT_F32 || st->tensors[i].dtype == PEAC_DT_F16
        || st->tensors[i].dtype == PEAC_DT_BF16 || st->tensors[i].dtype == PEAC_DT_F64)
      have += st->tensors[i].numel;
  char e2[400];
  peac_params_limit (have + ((size_t) 16 << 20));
  PeacModel *m = model_build (arch, layout, config, e2, sizeof e2);
  size_t refused = peac_params_limit (0);
  if (!m && refused)
    {
      snprintf (err, errlen, "%s: its configuration declares %zu parameters, far more than "
                "the %zu float values the file holds", path, refused, have);
      peac_st_close (st);
      return NULL;
    }
  if (!m)
    {
      snprintf (err, errlen, "%s: %s", path, e2);
      peac_st_close (st);
      return NULL;
    }
  PeacLoadOptions opt = { branch, NULL, NULL };
  if (arch == PEAC_ARCH_SWIN)
    opt.map = swin_map, opt.map_user = m->layout;
  if (peac_st_load_params (st, peac_model_params (m), &opt, warn, warnlen, NULL, err,
                           errlen) != 0)
    {
      peac_model_free (m);
      m = NULL;
    }
  peac_st_close (st);
  return m;
}

PeacModel *
peac_model_load (const char *path, char *err, size_t errlen)
{
  return peac_model_load_ex (path, NULL, NULL, 0, err, errlen);
}

int
peac_model_save (const PeacModel *m, const char *path, char *err, size_t errlen)
{
  const char *meta[] = { "peac.arch", m->arch == PEAC_ARCH_VIT ? "vit" : "swin",
                         "peac.layout", m->layout, "peac.config", m->config_json, NULL };
  PeacParams *p = m->vit ? vit_params (m->vit) : swin_params (m->swin);
  return peac_st_write_params (path, p, PEAC_DT_F32, meta, err, errlen);
}

// ---------------------------------------------------------------------------------------
// Shapes and forward

void
peac_model_output_shape_ex (const PeacModel *m, const PeacForwardOptions *opt, int H, int W,
                            int *grid_h, int *grid_w, int *dim)
{
  PeacForwardOptions o = opt ? *opt : PEAC_FORWARD_DEFAULT;
  if (m->vit)
    {
      vit_output_shape (m->vit, H, W, o.stride, grid_h, grid_w, dim);
      if (o.layer >= vit_config (m->vit)->depth || o.stride > vit_config (m->vit)->patch_size)
        *grid_h = *grid_w = *dim = 0;
      return;
    }
  const SwinConfig *c = swin_config (m->swin);
  if (o.stride > 0 || o.layer >= c->num_stages)
    {
      *grid_h = *grid_w = *dim = 0;
      return;
    }
  if (o.layer < 0)
    {
      swin_output_shape (m->swin, H, W, grid_h, grid_w, dim);
      return;
    }
  *grid_h = H / c->patch_size >> o.layer;
  *grid_w = W / c->patch_size >> o.layer;
  *dim = c->embed_dim << o.layer;
}

void
peac_model_output_shape (const PeacModel *m, int H, int W, int *grid_h, int *grid_w, int *dim)
{
  peac_model_output_shape_ex (m, NULL, H, W, grid_h, grid_w, dim);
}

double
peac_model_flops_ex (const PeacModel *m, const PeacForwardOptions *opt, int H, int W)
{
  if (m->vit)
    return vit_flops (m->vit, H, W, opt ? opt->stride : 0);
  return swin_flops (m->swin, H, W);
}

double
peac_model_flops (const PeacModel *m, int H, int W)
{
  return peac_model_flops_ex (m, NULL, H, W);
}

// Swin `layer` = a stage's block output, captured from the activation stream under the
// layout's name and passed on to the caller's callback.
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

int
peac_model_forward_ex (PeacModel *m, const PeacForwardOptions *opt, const float *input, int B,
                       int H, int W, float *features, float *pooled, PeacActFn act,
                       void *user, char *err, size_t errlen)
{
  PeacForwardOptions o = opt ? *opt : PEAC_FORWARD_DEFAULT;
  if (m->vit)
    {
      VitRunOptions v = { o.stride, o.layer };
      return vit_forward (m->vit, input, B, H, W, &v, features, pooled, act, user, err, errlen);
    }
  if (o.stride > 0)
    {
      snprintf (err, errlen, "Swin has no dense (strided) mode");
      return -1;
    }
  if (o.layer < 0)
    return swin_forward (m->swin, input, B, H, W, features, pooled, act, user, err, errlen);
  const SwinConfig *c = swin_config (m->swin);
  if (o.layer >= c->num_stages)
    {
      snprintf (err, errlen, "Swin: stage %d requested, the model has %d (0…%d)", o.layer,
                c->num_stages, c->num_stages - 1);
      return -1;
    }
  StageCapture cap = { "", features, pooled, 0, act, user };
  if (strcmp (m->layout, "timm") == 0)
    snprintf (cap.want, sizeof cap.want, "layers.%d", o.layer);
  else
    snprintf (cap.want, sizeof cap.want, "stage%d.blocks", o.layer);
  int gh, gw, dim;
  swin_output_shape (m->swin, H, W, &gh, &gw, &dim);
  float *f = malloc ((size_t) B * gh * gw * dim * sizeof (float));
  int r = swin_forward (m->swin, input, B, H, W, f, NULL, capture_stage, &cap, err, errlen);
  free (f);
  if (r == 0 && !cap.found)
    {
      snprintf (err, errlen, "Swin: stage %d output was not reported", o.layer);
      return -1;
    }
  return r;
}

int
peac_model_forward (PeacModel *m, const float *input, int B, int H, int W, float *features,
                    float *pooled, PeacActFn act, void *user, char *err, size_t errlen)
{
  return peac_model_forward_ex (m, NULL, input, B, H, W, features, pooled, act, user, err,
                                errlen);
}
