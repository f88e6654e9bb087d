// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-peac-reference: the engine's PEAC objective against our PyTorch reference
// (tools/reference/peac_reference.py → tests/fixtures/peac_objective.safetensors): with
// the fixture's weights, crops, permutation, pairing and fixed distortion, every loss term
// agrees to rel 1e-4, the gradient of the total loss with respect to every student weight
// (backbone and heads) to 1e-3 · max(1, max|ref|), and the teacher after one EMA step to
// 1e-6. A perturbed teacher weight must break the agreement, so the check can fail.
// PEAC_OBJECTIVE_FIXTURE names another fixture of the same kind: test-pretrain-objective
// (tests/pretrain) makes variants with the trainer's current code (the contrastive local
// term, the teacher seeing shuffled crops) and runs this program on each. A missing or
// unreadable fixture fails the run.
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "peac.h"

static PeacSafetensors *st;

static float *
tensor (const char *name, size_t numel)
{
  char err[256];
  const PeacStTensor *t = peac_st_find (st, name);
  if (!t)
    g_error ("fixture lacks %s", name);
  g_assert_cmpuint (t->numel, ==, numel);
  float *x = g_new (float, numel);
  g_assert_cmpint (peac_st_read_f32 (st, t, x, err, sizeof err), ==, 0);
  return x;
}

static double
max_rel (const float *ours, const float *ref, size_t n, double *big)
{
  double e = 0, m = 0;
  for (size_t i = 0; i < n; i++)
    e = fmax (e, fabs ((double) ours[i] - ref[i])), m = fmax (m, fabs (ref[i]));
  *big = m;
  return e / fmax (1.0, m);
}

// Loads prefix.<name> of the fixture into every entry of p.
static void
load_table (PeacParams *p, const char *prefix)
{
  for (int i = 0; i < p->n; i++)
    {
      g_autofree char *n = g_strconcat (prefix, p->list[i].name, NULL);
      float *x = tensor (n, p->list[i].numel);
      memcpy (p->list[i].data, x, p->list[i].numel * sizeof (float));
      g_free (x);
    }
}

static PeacObjective *
build (PeacBatch *b, PeacObjConfig *c)
{
  char err[256];
  PeacModelSpec model;
  g_assert_cmpint (peac_model_spec_parse (&model, "vit", peac_st_meta (st, "peac.config"), err,
                                          sizeof err), ==, 0);
  json_t *o = json_loads (peac_st_meta (st, "peac.objective"), 0, NULL);
  g_assert_nonnull (o);
  peac_obj_defaults (c, &model);
#define NUM(k) json_number_value (json_object_get (o, k))
  c->proj_hidden = (int) NUM ("proj_hidden"), c->proj_out = (int) NUM ("proj_out");
  c->local_hidden = (int) NUM ("local_hidden"), c->local_out = (int) NUM ("local_out");
  c->w_order = NUM ("w_order"), c->w_restore = NUM ("w_restore");
  c->w_global = NUM ("w_global"), c->w_local = NUM ("w_local");
  c->momentum0 = NUM ("momentum0"), c->total_steps = (long) NUM ("ema_total");
  // Variants (absent, i.e. 0, in the committed fixture).
  c->local_temp = NUM ("local_temp");
  c->teacher_sees_shuffled = (int) NUM ("teacher_sees_shuffled");
  c->w_position = NUM ("w_position");
#undef NUM
  json_decref (o);
  PeacObjective *obj = peac_objective_new (PEAC_ARCH_VIT, "timm", peac_st_meta (st, "peac.config"),
                                           c, 2, 1, err, sizeof err);
  g_assert_nonnull (obj);
  load_table (peac_model_params (peac_objective_student (obj)), "student.");
  load_table (peac_model_params (peac_objective_teacher (obj)), "teacher.");
  load_table (peac_objective_heads (obj, 0), "student_head.");
  load_table (peac_objective_heads (obj, 1), "teacher_head.");
  const int G = model.grid, GG = G * G;
  g_assert_cmpint (peac_batch_alloc (b, 2, G, model.cell), ==, 0);
  const size_t n = (size_t) 2 * 3 * b->S * b->S;
  float *x;
  memcpy (b->x1, x = tensor ("input.x1", n), n * 4), g_free (x);
  memcpy (b->x1s, x = tensor ("input.x1s", n), n * 4), g_free (x);
  memcpy (b->x2, x = tensor ("input.x2", n), n * 4), g_free (x);
  float *perm = tensor ("input.perm", 2 * GG), *pair = tensor ("input.pair", 2 * GG);
  float *sh = tensor ("input.shuffled", 2);
  for (int i = 0; i < 2 * GG; i++)
    b->perm[i] = (int) perm[i], b->pair[i] = (int) pair[i];
  b->shuffled[0] = (int) sh[0], b->shuffled[1] = (int) sh[1];
  g_free (perm), g_free (pair), g_free (sh);
  // The position head's targets, made by the reference from the crops' offsets.
  if (c->w_position > 0)
    memcpy (b->where, x = tensor ("input.where", 2 * 2 * GG * 2), 2 * 2 * GG * 2 * 4), g_free (x);
  return obj;
}

static void
test_parity (void)
{
  PeacBatch b;
  PeacObjConfig c;
  PeacObjective *o = build (&b, &c);
  PeacLossTerms t;
  peac_objective_step (o, &b, &t);
  const char *names[6] = { "loss.total", "loss.order", "loss.restore", "loss.global", "loss.local",
                           "loss.position" };
  const double ours[6] = { t.total, t.order, t.restore, t.global, t.local, t.position };
  for (int k = 0; k < (c.w_position > 0 ? 6 : 5); k++)
    {
      float *ref = tensor (names[k], 1);
      double rel = fabs (ours[k] - ref[0]) / fabs (ref[0]);
      g_test_message ("%-13s engine %.7g  reference %.7g  rel %.2g", names[k], ours[k], ref[0], rel);
      g_assert_cmpfloat (rel, <=, 1e-4);
      g_free (ref);
    }
  // Gradients of every student weight.
  double worst = 0;
  for (int h = 0; h < 2; h++)
    {
      PeacParams *p = h ? peac_objective_heads (o, 0) : peac_model_params (peac_objective_student (o));
      const float *g = peac_objective_grads (o, h);
      for (int i = 0; i < p->n; i++)
        {
          g_autofree char *n = g_strconcat (h ? "grad.student_head." : "grad.student.",
                                            p->list[i].name, NULL);
          float *ref = tensor (n, p->list[i].numel);
          double big, rel = max_rel (g + p->list[i].offset, ref, p->list[i].numel, &big);
          g_test_message ("%-40s max|ref| %9.4g rel %.2g", n, big, rel);
          g_assert_cmpfloat (rel, <=, 1e-3);
          worst = fmax (worst, rel);
          g_free (ref);
        }
    }
  g_test_message ("worst gradient rel err %.3g", worst);
  // One EMA step of the teacher (backbone and heads).
  peac_objective_ema (o, 3);
  for (int h = 0; h < 2; h++)
    {
      PeacParams *p = h ? peac_objective_heads (o, 1) : peac_model_params (peac_objective_teacher (o));
      for (int i = 0; i < p->n; i++)
        {
          g_autofree char *n = g_strconcat (h ? "ema.teacher_head." : "ema.teacher.",
                                            p->list[i].name, NULL);
          float *ref = tensor (n, p->list[i].numel);
          double big;
          g_assert_cmpfloat (max_rel (p->list[i].data, ref, p->list[i].numel, &big), <=, 1e-6);
          g_free (ref);
        }
    }
  peac_batch_free (&b);
  peac_objective_free (o);
}

static void
test_detects_error (void)
{
  PeacBatch b;
  PeacObjConfig c;
  PeacObjective *o = build (&b, &c);
  // The first output row of the teacher's global projector off by 0.05 (a single entry
  // may meet a ReLU that is off) changes the global term beyond 1e-4.
  PeacParam *w = peac_params_find (peac_objective_heads (o, 1), "proj_global.6.weight");
  for (int64_t i = 0; i < w->shape[1]; i++)
    w->data[i] += 0.05f;
  PeacLossTerms t;
  peac_objective_step (o, &b, &t);
  float *ref = tensor ("loss.global", 1);
  g_assert_cmpfloat (fabs (t.global - ref[0]) / fabs (ref[0]), >, 1e-4);
  g_free (ref);
  peac_batch_free (&b);
  peac_objective_free (o);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *src = g_getenv ("PEAC_SOURCE_DIR"), *other = g_getenv ("PEAC_OBJECTIVE_FIXTURE");
  g_autofree char *path = other ? g_strdup (other)
                                : g_build_filename (src ? src : ".", "tests", "fixtures",
                                                    "peac_objective.safetensors", NULL);
  char err[256];
  st = peac_st_open (path, err, sizeof err);
  if (!st)
    g_error ("the fixture cannot be read: %s", err);
  g_test_message ("fixture %s", path);
  g_test_add_func ("/peac-reference/parity", test_parity);
  g_test_add_func ("/peac-reference/detects-error", test_detects_error);
  int rc = g_test_run ();
  if (st)
    peac_st_close (st);
  return rc;
}
