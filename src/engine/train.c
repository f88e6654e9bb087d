// SPDX-License-Identifier: GPL-3.0-or-later
//
// train: the PEAC training session (see train.h). One step: B images drawn uniformly
// with replacement from the session rng, a batch of crop pairs (peac_batch_fill), the
// objective's forward and backward, the joint gradient norm (clipped when asked), AdamW or
// SGD on the backbone and on the heads with the same learning rate, then the teacher's
// EMA. Everything that shapes the next step (weights, moments, rng, step) is in the
// checkpoint, so a resumed run repeats the uninterrupted one bit for bit on the same
// thread count.
#include "train.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"

struct PeacTrainSession {
  PeacTrainConfig c;
  const PeacGrey *images;
  int             n_images;
  PeacObjective  *obj;
  PeacOptimizer   opt[2];    // backbone, heads
  unsigned char  *mask[2];
  PeacRng         rng;
  PeacBatch       batch;
  long            step;
  char           *run_info; // the caller's JSON, saved as `peac.run`
};

void
peac_train_defaults (PeacTrainConfig *c, const PeacModelSpec *model, long steps)
{
  memset (c, 0, sizeof *c);
  c->model = *model;
  peac_obj_defaults (&c->obj, model);
  c->obj.total_steps = steps;
  peac_optim_defaults (&c->opt);
  c->opt.lr = 5e-4, c->opt.min_lr = 1e-6, c->opt.clip_norm = 3.0;
  c->opt.total_steps = steps, c->opt.warmup_steps = steps / 10;
  c->batch = 8;
  c->seed = 1;
}

int
peac_train_image_side (const PeacTrainConfig *c)
{
  return (c->model.grid + c->obj.max_shift) * c->model.cell + c->obj.jitter;
}

PeacTrainSession *
peac_train_new (const PeacTrainConfig *c, const PeacGrey *images, int n, char *err,
                size_t errlen)
{
  const int cell = c->model.cell, G = c->model.grid;
  const int need = (G + c->obj.max_shift) * cell;
  if (!c->model.backbone)
    {
      snprintf (err, errlen, "training needs a model configuration");
      return NULL;
    }
  if (n <= 0 || c->batch <= 0 || c->opt.total_steps <= 0)
    {
      snprintf (err, errlen, "training needs images, a batch and a step count");
      return NULL;
    }
  if (c->obj.jitter < 0 || c->obj.jitter >= cell)
    {
      snprintf (err, errlen, "jitter %d px is not below one cell (%d px)", c->obj.jitter, cell);
      return NULL;
    }
  for (int i = 0; i < n; i++)
    if (images[i].w < need || images[i].h < need)
      {
        snprintf (err, errlen, "training image %d is %d×%d; crops need at least %d×%d", i,
                  images[i].w, images[i].h, need, need);
        return NULL;
      }
  PeacTrainSession *s = calloc (1, sizeof *s);
  s->c = *c, s->images = images, s->n_images = n;
  // The teacher's momentum follows the run's length unless given its own (a run whose end
  // was moved on resume keeps the schedule it started with).
  if (s->c.obj.total_steps <= 0)
    s->c.obj.total_steps = c->opt.total_steps;
  s->obj = peac_objective_new (c->model.backbone->arch, NULL, c->model.config, &s->c.obj,
                               c->batch, c->seed, err, errlen);
  if (!s->obj)
    goto fail;
  PeacParams *p[2] = { peac_model_params (peac_objective_student (s->obj)),
                       peac_objective_heads (s->obj, 0) };
  PeacOptConfig oc = s->c.opt;
  oc.clip_norm = 0; // clipped jointly in peac_train_run
  for (int k = 0; k < 2; k++)
    {
      s->mask[k] = malloc (p[k]->total);
      if (!s->mask[k] || peac_optim_init (&s->opt[k], &oc, p[k]->total) != 0)
        {
          snprintf (err, errlen, "training: out of memory");
          goto fail;
        }
      peac_optim_decay_mask (p[k], s->mask[k]);
    }
  if (peac_batch_alloc (&s->batch, c->batch, G, cell) != 0)
    {
      snprintf (err, errlen, "training: out of memory");
      goto fail;
    }
  peac_rng_seed (&s->rng, c->seed ^ 0x5eed5eedULL);
  return s;
fail:
  peac_train_free (s);
  return NULL;
}

void
peac_train_free (PeacTrainSession *s)
{
  if (!s)
    return;
  peac_objective_free (s->obj);
  for (int k = 0; k < 2; k++)
    peac_optim_free (&s->opt[k]), free (s->mask[k]);
  peac_batch_free (&s->batch);
  free (s->run_info);
  free (s);
}

long peac_train_step_count (const PeacTrainSession *s) { return s->step; }
PeacObjective *peac_train_objective (PeacTrainSession *s) { return s->obj; }
const PeacTrainConfig *peac_train_config (const PeacTrainSession *s) { return &s->c; }
const char *peac_train_run_info (const PeacTrainSession *s) { return s->run_info; }

void
peac_train_set_run_info (PeacTrainSession *s, const char *json)
{
  free (s->run_info);
  s->run_info = json ? strdup (json) : NULL;
}

int
peac_train_evaluate (PeacTrainSession *s, const PeacGrey *images, int n, uint64_t seed,
                     PeacLossTerms *mean, char *err, size_t errlen)
{
  const int cell = s->c.model.cell, G = s->c.model.grid;
  memset (mean, 0, sizeof *mean);
  if (n <= 0)
    {
      snprintf (err, errlen, "evaluation needs images");
      return -1;
    }
  PeacRng rng;
  peac_rng_seed (&rng, seed);
  for (int i0 = 0; i0 < n; i0 += s->c.batch)
    {
      const int m = n - i0 < s->c.batch ? n - i0 : s->c.batch;
      PeacBatch b;
      PeacLossTerms t;
      if (peac_batch_alloc (&b, m, G, cell) != 0)
        {
          snprintf (err, errlen, "evaluation: out of memory");
          return -1;
        }
      int bad = 0;
      for (int k = 0; k < m && !bad; k++)
        {
          const PeacGrey *g = &images[i0 + k];
          bad = peac_batch_fill (&b, k, g->px, g->h, g->w, &s->c.obj, &rng) != 0;
        }
      // The step fills the gradient buffers only; the next training step zeroes them.
      if (!bad)
        peac_objective_step (s->obj, &b, &t);
      peac_batch_free (&b);
      if (bad)
        {
          snprintf (err, errlen, "evaluation: image %d is too small for the crops", i0);
          return -1;
        }
      mean->order += m * t.order, mean->restore += m * t.restore;
      mean->global += m * t.global, mean->local += m * t.local, mean->total += m * t.total;
      mean->position += m * t.position;
      mean->n_shuffled += t.n_shuffled, mean->n_matched += t.n_matched;
    }
  mean->order /= n, mean->restore /= n, mean->global /= n, mean->local /= n;
  mean->position /= n;
  mean->total /= n;
  return 0;
}

PeacTrainStatus
peac_train_run (PeacTrainSession *s, PeacTrainProgressFn cb, void *user,
                const atomic_int *abort_flag, char *err, size_t errlen)
{
  PeacParams *p[2] = { peac_model_params (peac_objective_student (s->obj)),
                       peac_objective_heads (s->obj, 0) };
  while (s->step < s->c.opt.total_steps)
    {
      if (abort_flag && atomic_load (abort_flag))
        return PEAC_TRAIN_ABORTED;
      for (int k = 0; k < s->c.batch; k++)
        {
          const PeacGrey *g = &s->images[peac_rng_u64 (&s->rng) % (uint64_t) s->n_images];
          if (peac_batch_fill (&s->batch, k, g->px, g->h, g->w, &s->c.obj, &s->rng) != 0)
            {
              snprintf (err, errlen, "training: an image is too small for the crops");
              return PEAC_TRAIN_ERROR;
            }
        }
      PeacTrainProgress pr = { 0 };
      peac_objective_step (s->obj, &s->batch, &pr.loss);
      float *g[2] = { peac_objective_grads (s->obj, 0), peac_objective_grads (s->obj, 1) };
      const double n0 = peac_grad_norm (g[0], p[0]->total), n1 = peac_grad_norm (g[1], p[1]->total);
      pr.grad_norm = sqrt (n0 * n0 + n1 * n1);
      if (!isfinite (pr.loss.total) || !isfinite (pr.grad_norm))
        {
          snprintf (err, errlen, "training: the loss became non-finite at step %ld (%g); "
                    "the step was not applied", s->step + 1, pr.loss.total);
          return PEAC_TRAIN_NAN;
        }
      const double clip = s->c.opt.clip_norm;
      if (clip > 0 && pr.grad_norm > clip)
        {
          const float k = (float) (clip / (pr.grad_norm + 1e-6));
          for (int j = 0; j < 2; j++)
            for (size_t i = 0; i < p[j]->total; i++)
              g[j][i] *= k;
        }
      pr.lr = peac_optim_lr (&s->c.opt, s->step);
      for (int j = 0; j < 2; j++)
        peac_optim_step (&s->opt[j], p[j]->memory, g[j], s->mask[j]);
      pr.momentum = peac_objective_ema (s->obj, s->step);
      s->step++;
      pr.step = s->step, pr.total_steps = s->c.opt.total_steps;
      if (cb)
        cb (user, &pr);
    }
  return PEAC_TRAIN_DONE;
}

// ---------------------------------------------------------------------------------------
// Checkpoints

// The configuration: every number of it, doubles at full precision.
static json_t *
config_object (const PeacTrainConfig *c)
{
  const PeacObjConfig *o = &c->obj;
  const PeacOptConfig *p = &c->opt;
  json_t *j = json_pack (
      "{s:I, s:i, s:{s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:i, s:f, s:I,"
      " s:{s:f, s:i, s:i, s:f, s:f, s:f}}, s:{s:i, s:f, s:f, s:I, s:I, s:f, s:f, s:f, s:f,"
      " s:f, s:f}}",
      "seed", (json_int_t) c->seed, "batch", c->batch,
      "objective", "proj_hidden", o->proj_hidden, "proj_out", o->proj_out,
      "local_hidden", o->local_hidden, "local_out", o->local_out, "w_order",
      o->w_order, "w_restore", o->w_restore, "w_global", o->w_global, "w_local", o->w_local,
      "local_temp", o->local_temp, "p_shuffle", o->p_shuffle, "max_shift", o->max_shift, "momentum0", o->momentum0,
      "total_steps", (json_int_t) o->total_steps, "distort", "p_shuffle",
      o->distort.p_shuffle, "shuffle_windows", o->distort.shuffle_windows, "shuffle_max",
      o->distort.shuffle_max, "p_bezier", o->distort.p_bezier, "p_paint",
      o->distort.p_paint, "p_inpaint", o->distort.p_inpaint,
      "optimiser", "kind", (int) p->kind, "lr", p->lr, "min_lr", p->min_lr, "warmup_steps",
      (json_int_t) p->warmup_steps, "total_steps", (json_int_t) p->total_steps,
      "weight_decay", p->weight_decay, "beta1", p->beta1, "beta2", p->beta2, "eps", p->eps,
      "momentum", p->momentum, "clip_norm", p->clip_norm);
  // Keys added after the first checkpoints: written only when they differ from what a
  // checkpoint without them means, so older configurations keep their exact text.
  json_t *oj = json_object_get (j, "objective"), *dj = json_object_get (oj, "distort");
  if (oj && o->jitter)
    json_object_set_new (oj, "jitter", json_integer (o->jitter));
  if (oj && o->teacher_sees_shuffled)
    json_object_set_new (oj, "teacher_sees_shuffled", json_integer (1));
  if (oj && o->w_position != 0.0)
    json_object_set_new (oj, "w_position", json_real (o->w_position));
  if (dj && o->distort.style != PEAC_DISTORT_GENESIS)
    {
      json_object_set_new (dj, "style", json_string (peac_distort_style_name (o->distort.style)));
      json_object_set_new (dj, "gamma_sigma", json_real (o->distort.gamma_sigma));
      json_object_set_new (dj, "p_invert", json_real (o->distort.p_invert));
    }
  return j;
}

char *
peac_train_config_json (const PeacTrainConfig *c)
{
  json_t *j = config_object (c);
  json_object_set_new (j, "arch", json_string (c->model.backbone->name));
  json_object_set_new (j, "model", json_loads (c->model.config, 0, NULL));
  char *r = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (15));
  json_decref (j);
  return r;
}

char *
peac_train_state_json (const PeacTrainConfig *c, long step, const PeacRng *rng)
{
  json_t *j = config_object (c);
  if (!j)
    return NULL;
  json_t *r = json_array ();
  for (int i = 0; i < 4; i++)
    {
      char v[24];
      snprintf (v, sizeof v, "%" PRIu64, rng->s[i]);
      json_array_append_new (r, json_string (v));
    }
  json_object_set_new (j, "step", json_integer ((json_int_t) step));
  json_object_set_new (j, "rng", r);
  char *t = json_dumps (j, JSON_COMPACT | JSON_REAL_PRECISION (17));
  json_decref (j);
  return t;
}

int
peac_train_save (PeacTrainSession *s, const char *path, char *err, size_t errlen)
{
  PeacParams *tab[4] = { peac_model_params (peac_objective_student (s->obj)),
                         peac_model_params (peac_objective_teacher (s->obj)),
                         peac_objective_heads (s->obj, 0), peac_objective_heads (s->obj, 1) };
  const char *pre[4] = { "student.", "teacher.", "student_head.", "teacher_head." };
  int n = 0;
  for (int k = 0; k < 4; k++)
    n += tab[k]->n;
  PeacStWrite *w = calloc ((size_t) n + 4, sizeof *w);
  char (*names)[PEAC_NAME_MAX + 16] = calloc ((size_t) n + 4, sizeof *names);
  int64_t shapes[4];
  int i = 0;
  for (int k = 0; k < 4; k++)
    for (int e = 0; e < tab[k]->n; e++, i++)
      {
        const PeacParam *q = &tab[k]->list[e];
        snprintf (names[i], sizeof names[i], "%s%s", pre[k], q->name);
        w[i] = (PeacStWrite) { names[i], q->ndim, q->shape, q->data, PEAC_DT_F32 };
      }
  const char *on[4] = { "optim.backbone.m", "optim.backbone.v", "optim.heads.m", "optim.heads.v" };
  for (int k = 0; k < 4; k++, i++)
    {
      const PeacOptimizer *o = &s->opt[k / 2];
      shapes[k] = (int64_t) o->n;
      w[i] = (PeacStWrite) { on[k], 1, &shapes[k], k % 2 ? o->v : o->m, PEAC_DT_F32 };
    }
  char *st = peac_train_state_json (&s->c, s->step, &s->rng);
  const PeacBackbone *bb = s->c.model.backbone;
  const char *meta[] = { "peac.arch", bb->name, "peac.layout", bb->layouts[0], "peac.config",
                         s->c.model.config, "peac.train", st, "peac.source", "peac train",
                         s->run_info ? "peac.run" : NULL, s->run_info, NULL };
  int rc = peac_st_write (path, w, i, meta, err, errlen);
  free (st), free (w), free (names);
  return rc;
}

static double
jnum (json_t *o, const char *k)
{
  return json_number_value (json_object_get (o, k));
}

// A whole number of the state in [0, hi], or −1 (and *bad set): a checkpoint is untrusted
// input, and converting an out-of-range double to an integer is undefined behaviour.
static long
jint (json_t *o, const char *k, double hi, int *bad)
{
  double v = jnum (o, k);
  if (!(v >= 0.0 && v <= hi))
    {
      *bad = 1;
      return -1;
    }
  return (long) v;
}

#define STATE_INT_MAX  ((double) (1 << 20))
#define STATE_LONG_MAX 9.0e15

int
peac_train_state_parse (PeacTrainConfig *c, long *step, PeacRng *rng, const char *text)
{
  int bad = 0;
  json_error_t je;
  json_t *j = json_loads (text ? text : "", 0, &je);
  json_t *o = json_object_get (j, "objective"), *p = json_object_get (j, "optimiser");
  json_t *d = json_object_get (o, "distort"), *r = json_object_get (j, "rng");
  if (!j || !o || !p || !d || json_array_size (r) != 4)
    return json_decref (j), -1;
  *step = jint (j, "step", STATE_LONG_MAX, &bad);
  c->seed = (uint64_t) json_integer_value (json_object_get (j, "seed"));
  c->batch = (int) jint (j, "batch", STATE_INT_MAX, &bad);
  for (int i = 0; i < 4; i++)
    {
      const char *v = json_string_value (json_array_get (r, i));
      rng->s[i] = strtoull (v ? v : "0", NULL, 10);
    }
  PeacObjConfig *b = &c->obj;
  b->proj_hidden = (int) jint (o, "proj_hidden", STATE_INT_MAX, &bad);
  b->proj_out = (int) jint (o, "proj_out", STATE_INT_MAX, &bad);
  // Checkpoints written before the local projector had widths of its own share the
  // global ones.
  b->local_hidden = json_object_get (o, "local_hidden")
                        ? (int) jint (o, "local_hidden", STATE_INT_MAX, &bad) : b->proj_hidden;
  b->local_out = json_object_get (o, "local_out")
                     ? (int) jint (o, "local_out", STATE_INT_MAX, &bad) : b->proj_out;
  b->w_order = jnum (o, "w_order"), b->w_restore = jnum (o, "w_restore");
  b->w_global = jnum (o, "w_global"), b->w_local = jnum (o, "w_local");
  // Checkpoints from before the contrastive local term trained the paper's MSE (τ = 0).
  b->local_temp = json_object_get (o, "local_temp") ? jnum (o, "local_temp") : 0.0;
  if (!(b->local_temp >= 0.0 && b->local_temp <= 1e6))
    bad = 1;
  b->p_shuffle = jnum (o, "p_shuffle"), b->max_shift = (int) jint (o, "max_shift", STATE_INT_MAX, &bad);
  b->momentum0 = jnum (o, "momentum0"), b->total_steps = jint (o, "total_steps", STATE_LONG_MAX, &bad);
  b->distort.p_shuffle = jnum (d, "p_shuffle");
  b->distort.shuffle_windows = (int) jint (d, "shuffle_windows", STATE_INT_MAX, &bad);
  b->distort.shuffle_max = (int) jint (d, "shuffle_max", STATE_INT_MAX, &bad);
  b->distort.p_bezier = jnum (d, "p_bezier"), b->distort.p_paint = jnum (d, "p_paint");
  b->distort.p_inpaint = jnum (d, "p_inpaint");
  // Absent in checkpoints of the default recipe (see config_object).
  b->jitter = json_object_get (o, "jitter") ? (int) jint (o, "jitter", STATE_INT_MAX, &bad) : 0;
  b->teacher_sees_shuffled = json_object_get (o, "teacher_sees_shuffled")
                                 ? (int) jint (o, "teacher_sees_shuffled", 1, &bad) : 0;
  b->w_position = json_object_get (o, "w_position") ? jnum (o, "w_position") : 0.0;
  if (!(b->w_position >= 0.0 && b->w_position <= 1e12))
    bad = 1;
  json_t *style = json_object_get (d, "style");
  int st = style ? peac_distort_style_parse (json_string_value (style)) : PEAC_DISTORT_GENESIS;
  if (st < 0)
    bad = 1;
  b->distort.style = st < 0 ? PEAC_DISTORT_GENESIS : (PeacDistortStyle) st;
  b->distort.gamma_sigma = json_object_get (d, "gamma_sigma") ? jnum (d, "gamma_sigma") : 0.5;
  b->distort.p_invert = json_object_get (d, "p_invert") ? jnum (d, "p_invert") : 0.25;
  PeacOptConfig *q = &c->opt;
  q->kind = (PeacOptKind) jint (p, "kind", 16, &bad);
  q->lr = jnum (p, "lr"), q->min_lr = jnum (p, "min_lr");
  q->warmup_steps = jint (p, "warmup_steps", STATE_LONG_MAX, &bad);
  q->total_steps = jint (p, "total_steps", STATE_LONG_MAX, &bad);
  q->weight_decay = jnum (p, "weight_decay"), q->beta1 = jnum (p, "beta1");
  q->beta2 = jnum (p, "beta2"), q->eps = jnum (p, "eps"), q->momentum = jnum (p, "momentum");
  q->clip_norm = jnum (p, "clip_norm");
  json_decref (j);
  return bad ? -1 : 0;
}

static int
read_into (const PeacSafetensors *st, const char *name, float *dst, size_t numel, char *err,
           size_t errlen)
{
  const PeacStTensor *t = peac_st_find (st, name);
  if (!t || t->numel != numel)
    {
      snprintf (err, errlen, "%s: %s '%s'", st->path, t ? "wrong size of" : "no tensor", name);
      return -1;
    }
  return peac_st_read_f32 (st, t, dst, err, errlen);
}

// The configuration of an open checkpoint (see peac_train_read_config).
static int
config_of (const PeacSafetensors *st, PeacTrainConfig *c, long *step, PeacRng *rng, char *err,
           size_t errlen)
{
  memset (c, 0, sizeof *c);
  char why[400];
  if (peac_model_spec_parse (&c->model, peac_st_meta (st, "peac.arch"),
                             peac_st_meta (st, "peac.config"), why, sizeof why) != 0)
    {
      snprintf (err, errlen, "%s: %s", st->path, why);
      return -1;
    }
  if (peac_train_state_parse (c, step, rng, peac_st_meta (st, "peac.train")) != 0)
    {
      snprintf (err, errlen, "%s: not a peac train checkpoint (%s)", st->path,
                peac_st_meta (st, "peac.train") ? "its peac.train state is not readable"
                                                : "no peac.train state");
      return -1;
    }
  return 0;
}

int
peac_train_read_config (const char *path, PeacTrainConfig *c, long *step, PeacRng *rng,
                        char *err, size_t errlen)
{
  PeacSafetensors *st = peac_st_open (path, err, errlen);
  if (!st)
    return -1;
  const int rc = config_of (st, c, step, rng, err, errlen);
  peac_st_close (st);
  return rc;
}

PeacTrainSession *
peac_train_resume (const char *path, const PeacGrey *images, int n, long end_step, char *err,
                   size_t errlen)
{
  PeacSafetensors *st = peac_st_open (path, err, errlen);
  if (!st)
    return NULL;
  PeacTrainConfig c;
  long step = 0;
  PeacRng rng;
  PeacTrainSession *s = NULL;
  if (config_of (st, &c, &step, &rng, err, errlen) != 0)
    goto out;
  // A new end: only the LR's cosine moves (lr(s) = min + ½(lr − min)(1 + cos π(s − w)/(E − w))
  // with E the new end); the EMA momentum keeps obj.total_steps, so the teacher goes on
  // averaging the student through a shortened decay instead of freezing.
  if (end_step > 0)
    {
      if (end_step <= step || end_step <= c.opt.warmup_steps)
        {
          snprintf (err, errlen, "%s: cannot end the run at step %ld: it is at step %ld, with %ld "
                    "warm-up steps", path, end_step, step, c.opt.warmup_steps);
          goto out;
        }
      c.opt.total_steps = end_step;
      if (end_step > c.obj.total_steps)
        c.obj.total_steps = end_step; // a longer run: the momentum reaches 1 at its new end
    }
  if (!(s = peac_train_new (&c, images, n, err, errlen)))
    goto out;
  PeacParams *tab[4] = { peac_model_params (peac_objective_student (s->obj)),
                         peac_model_params (peac_objective_teacher (s->obj)),
                         peac_objective_heads (s->obj, 0), peac_objective_heads (s->obj, 1) };
  const char *pre[4] = { "student.", "teacher.", "student_head.", "teacher_head." };
  char name[PEAC_NAME_MAX + 16];
  for (int k = 0; k < 4; k++)
    for (int e = 0; e < tab[k]->n; e++)
      {
        const PeacParam *q = &tab[k]->list[e];
        snprintf (name, sizeof name, "%s%s", pre[k], q->name);
        if (read_into (st, name, q->data, q->numel, err, errlen) != 0)
          goto fail;
      }
  const char *on[4] = { "optim.backbone.m", "optim.backbone.v", "optim.heads.m", "optim.heads.v" };
  for (int k = 0; k < 4; k++)
    {
      PeacOptimizer *o = &s->opt[k / 2];
      if (read_into (st, on[k], k % 2 ? o->v : o->m, o->n, err, errlen) != 0)
        goto fail;
      o->step = step;
    }
  s->step = step;
  s->rng = rng;
  peac_train_set_run_info (s, peac_st_meta (st, "peac.run"));
  goto out;
fail:
  peac_train_free (s);
  s = NULL;
out:
  peac_st_close (st);
  return s;
}
