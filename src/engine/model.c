// SPDX-License-Identifier: GPL-3.0-or-later
//
// model: the backbone-independent API (model.h) over the backbone table (backbone.h). It
// reads `peac.arch`, `peac.layout` and `peac.config` from a checkpoint, picks the row of
// that architecture, builds the model, loads its tensors through the row's checkpoint
// name map, initialises fresh models deterministically from a seed, saves models with the
// metadata needed to load them back, and runs training through the row's trainer. It
// names no architecture.
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backbone.h"
#include "checkpoint.h"
#include "rng.h"

struct PeacModel {
  const PeacBackbone *bb;
  char                layout[32];
  char               *config_json;
  void               *impl;
};

static PeacModel *
model_build (const PeacBackbone *bb, const char *layout, const char *config_json, char *err,
             size_t errlen)
{
  int ok = !layout;
  for (int i = 0; !ok && bb->layouts[i]; i++)
    ok = strcmp (layout, bb->layouts[i]) == 0;
  if (!ok)
    {
      char list[128] = "";
      for (int i = 0; bb->layouts[i]; i++)
        snprintf (list + strlen (list), sizeof list - strlen (list), "%s'%s'", i ? ", " : "",
                  bb->layouts[i]);
      snprintf (err, errlen, "%s layout '%s' is not supported (%s)", bb->label, layout, list);
      return NULL;
    }
  PeacModel *m = calloc (1, sizeof *m);
  if (!m)
    {
      snprintf (err, errlen, "out of memory");
      return NULL;
    }
  m->bb = bb;
  snprintf (m->layout, sizeof m->layout, "%s", layout ? layout : bb->layouts[0]);
  m->config_json = strdup (config_json ? config_json : "{}");
  m->impl = m->config_json ? bb->create (config_json, m->layout, err, errlen) : NULL;
  if (!m->impl)
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
  if (m->impl)
    m->bb->destroy (m->impl);
  free (m->config_json);
  free (m);
}

PeacParams *
peac_model_params (PeacModel *m)
{
  return m->bb->params (m->impl);
}

PeacArch peac_model_arch (const PeacModel *m) { return m->bb->arch; }
const PeacBackbone *peac_model_backbone (const PeacModel *m) { return m->bb; }
const char *peac_model_arch_name (const PeacModel *m) { return m->bb->name; }
const char *peac_model_layout (const PeacModel *m) { return m->layout; }
const char *peac_model_config_json (const PeacModel *m) { return m->config_json; }

int
peac_model_img_size (const PeacModel *m)
{
  return m->bb->img_size (m->impl);
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
  const PeacBackbone *bb = peac_backbone_of (arch);
  if (!bb)
    {
      snprintf (err, errlen, "unknown architecture %d", (int) arch);
      return NULL;
    }
  PeacModel *m = model_build (bb, layout, config_json, err, errlen);
  if (m)
    init_params (peac_model_params (m), seed);
  return m;
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
  const PeacBackbone *bb = peac_backbone_find (arch_s);
  if (!arch_s)
    snprintf (err, errlen, "%s: no 'peac.arch' metadata: not a PEAC model file", path);
  else if (!bb)
    {
      char list[128] = "";
      for (const PeacBackbone *const *r = peac_backbones (); *r; r++)
        snprintf (list + strlen (list), sizeof list - strlen (list), "%s'%s'",
                  r == peac_backbones () ? "" : ", ", (*r)->name);
      snprintf (err, errlen, "%s: unknown peac.arch '%s' (known: %s)", path, arch_s, list);
    }
  if (!bb)
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
  PeacModel *m = model_build (bb, layout, config, e2, sizeof e2);
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
  PeacLoadOptions opt = { branch, bb->map_name, m->layout };
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
  const char *meta[] = { "peac.arch", m->bb->name, "peac.layout", m->layout, "peac.config",
                         m->config_json, NULL };
  PeacParams *p = m->bb->params (m->impl);
  return peac_st_write_params (path, p, PEAC_DT_F32, meta, err, errlen);
}

// ---------------------------------------------------------------------------------------
// Shapes and forward

void
peac_model_output_shape_ex (const PeacModel *m, const PeacForwardOptions *opt, int H, int W,
                            int *grid_h, int *grid_w, int *dim)
{
  PeacForwardOptions o = opt ? *opt : PEAC_FORWARD_DEFAULT;
  m->bb->output_shape (m->impl, &o, H, W, grid_h, grid_w, dim);
}

void
peac_model_output_shape (const PeacModel *m, int H, int W, int *grid_h, int *grid_w, int *dim)
{
  peac_model_output_shape_ex (m, NULL, H, W, grid_h, grid_w, dim);
}

double
peac_model_flops_ex (const PeacModel *m, const PeacForwardOptions *opt, int H, int W)
{
  PeacForwardOptions o = opt ? *opt : PEAC_FORWARD_DEFAULT;
  return m->bb->flops (m->impl, &o, H, W);
}

double
peac_model_flops (const PeacModel *m, int H, int W)
{
  return peac_model_flops_ex (m, NULL, H, W);
}

int
peac_model_forward_ex (PeacModel *m, const PeacForwardOptions *opt, const float *input, int B,
                       int H, int W, float *features, float *pooled, PeacActFn act,
                       void *user, char *err, size_t errlen)
{
  PeacForwardOptions o = opt ? *opt : PEAC_FORWARD_DEFAULT;
  return m->bb->forward (m->impl, &o, input, B, H, W, features, pooled, act, user, err,
                         errlen);
}

int
peac_model_forward (PeacModel *m, const float *input, int B, int H, int W, float *features,
                    float *pooled, PeacActFn act, void *user, char *err, size_t errlen)
{
  return peac_model_forward_ex (m, NULL, input, B, H, W, features, pooled, act, user, err,
                                errlen);
}

// ---------------------------------------------------------------------------------------
// Training

struct PeacModelTrain {
  const PeacBackbone *bb;
  void               *t;
};

PeacModelTrain *
peac_model_train_new (PeacModel *m, int B, int H, int W, char *err, size_t errlen)
{
  PeacModelTrain *t = calloc (1, sizeof *t);
  if (!t)
    {
      snprintf (err, errlen, "out of memory");
      return NULL;
    }
  t->bb = m->bb;
  if (!(t->t = m->bb->train_new (m->impl, B, H, W, err, errlen)))
    {
      free (t);
      return NULL;
    }
  return t;
}

void
peac_model_train_free (PeacModelTrain *t)
{
  if (!t)
    return;
  t->bb->train_free (t->t);
  free (t);
}

const float *
peac_model_train_forward (PeacModelTrain *t, const float *input, int B, const float **pooled)
{
  return t->bb->train_forward (t->t, input, B, pooled);
}

void
peac_model_train_backward (PeacModelTrain *t, const float *dgrid, const float *dpooled,
                           float *grads, float *dinput)
{
  t->bb->train_backward (t->t, dgrid, dpooled, grads, dinput);
}
