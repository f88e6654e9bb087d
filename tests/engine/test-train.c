// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-train: the training session on real radiographs (Hannover COVID-19 PNGs, resized
// to 64 px) with a small ViT and the swin-micro preset. 80 (Swin: 150) steps lower the
// restoration and total loss of a held-out batch; a run stopped by the abort flag, saved,
// and resumed from its checkpoint ends bit-identical to the uninterrupted run (both
// architectures); a NaN weight stops the run cleanly without a step; the
// checkpoint loads as a model (the teacher branch) and leaves no temporary file behind.
// Held-out evaluation between steps sees the same crops every time and changes nothing
// the run depends on; the caller's run description survives save and resume.
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "model.h"
#include "peac-test-cli.h"
#include "preprocess.h"
#include "presets.h"
#include "px-image.h"
#include "train.h"

#define N_IMAGES 12
#define SIDE 64

static PeacGrey images[N_IMAGES];
static float *pixels[N_IMAGES];
static int have_images;
static double c_wg; // the global weight of the evaluation test's config

#define SMALL_VIT "{\"img_size\": 32, \"patch_size\": 8, \"embed_dim\": 32, \"depth\": 2, " \
                  "\"num_heads\": 2, \"mlp_ratio\": 2, \"layernorm_eps\": 1e-6}"

// g_ptr_array_sort hands the comparator pointers to the elements.
static int
cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

// The first N_IMAGES Hannover radiographs, loaded on first use; a missing folder fails the
// test, naming it (peac_test_shared_path), and so does one with fewer readable images.
static void
need_images (void)
{
  if (have_images)
    return;
  g_autofree char *dir = peac_test_shared_path ("cxr/hannover-covid19/png");
  GDir *d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *n;
  while ((n = g_dir_read_name (d)))
    if (g_str_has_suffix (n, ".png"))
      g_ptr_array_add (names, g_strdup (n));
  g_dir_close (d);
  g_ptr_array_sort (names, cmp_names);
  PeacPreprocess pp = { SIDE, PEAC_MEAN, PEAC_STD, 0 };
  int k = 0;
  for (guint i = 0; i < names->len && k < N_IMAGES; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      PxImage *img = px_image_load (path, NULL);
      if (!img)
        continue;
      float *unit = g_new (float, (size_t) img->width * img->height);
      float *x = g_new (float, 3 * SIDE * SIDE);
      px_image_to_unit (img, unit);
      g_assert_cmpint (peac_preprocess (unit, img->width, img->height, &pp, x), ==, 0);
      pixels[k] = g_new (float, SIDE * SIDE);
      for (int j = 0; j < SIDE * SIDE; j++) // back to grey [0, 1]
        pixels[k][j] = x[j] * PEAC_STD + PEAC_MEAN;
      images[k] = (PeacGrey) { pixels[k], SIDE, SIDE };
      k++;
      g_free (unit), g_free (x);
      px_image_free (img);
    }
  g_ptr_array_unref (names);
  if (k < N_IMAGES)
    g_error ("shared data incomplete: %s holds %d readable radiographs, the test needs %d",
             dir, k, N_IMAGES);
  have_images = 1;
}

// The small ViT (swin = 0) or the swin-micro preset: both 4 × 4 grids of 8-px cells.
static void
config_arch (PeacTrainConfig *c, long steps, int swin)
{
  PeacModelSpec m;
  char err[256];
  if ((swin ? peac_preset_resolve (&m, "swin-micro", NULL, err, sizeof err)
            : peac_model_spec_parse (&m, "vit", SMALL_VIT, err, sizeof err)) != 0)
    g_error ("%s", err);
  g_assert_cmpint (m.grid, ==, 4);
  g_assert_cmpint (m.cell, ==, 8);
  peac_train_defaults (c, &m, steps);
  c->batch = 4;
  c->obj.max_shift = 2;
  c->opt.lr = 2e-3, c->opt.warmup_steps = 5;
  c->seed = 11;
}

static void
config (PeacTrainConfig *c, long steps)
{
  config_arch (c, steps, 0);
}

typedef struct { int n; long stop_at; atomic_int *flag; } Log;

static void
on_step (void *user, const PeacTrainProgress *p)
{
  Log *l = user;
  g_assert_true (isfinite (p->loss.total) && p->lr > 0 && p->momentum >= 0.999);
  if (g_getenv ("PEAC_TRAIN_TRACE"))
    g_printerr ("%ld order %.4f restore %.4f global %.4f local %.4f gn %.3g\n", p->step,
                p->loss.order, p->loss.restore, p->loss.global, p->loss.local, p->grad_norm);
  if (l->flag && p->step == l->stop_at)
    *l->flag = 1;
  l->n++;
}

static void
learns (int swin, int steps)
{
  need_images ();
  PeacTrainConfig c;
  config_arch (&c, steps, swin);
  char err[512];
  PeacTrainSession *s = peac_train_new (&c, images, N_IMAGES, err, sizeof err);
  g_assert_nonnull (s);
  // A fixed held-out batch (its own rng), scored before and after training.
  PeacBatch fixed;
  PeacRng rng;
  peac_rng_seed (&rng, 99);
  g_assert_cmpint (peac_batch_alloc (&fixed, 4, 4, 8), ==, 0);
  for (int k = 0; k < 4; k++)
    g_assert_cmpint (peac_batch_fill (&fixed, k, images[k].px, SIDE, SIDE, &c.obj, &rng), ==, 0);
  PeacLossTerms t0, t1;
  peac_objective_step (peac_train_objective (s), &fixed, &t0);
  Log l = { 0 };
  g_assert_cmpint (peac_train_run (s, on_step, &l, NULL, err, sizeof err), ==, PEAC_TRAIN_DONE);
  g_assert_cmpint (l.n, ==, steps);
  peac_objective_step (peac_train_objective (s), &fixed, &t1);
  g_test_message ("%s held-out batch before → after %d steps: order %.4f → %.4f, restore %.4f → "
                  "%.4f, global %.4f → %.4f, local %.4f → %.4f, total %.4f → %.4f",
                  c.model.backbone->label, steps, t0.order,
                  t1.order, t0.restore, t1.restore, t0.global, t1.global, t0.local, t1.local,
                  t0.total, t1.total);
  g_assert_cmpfloat (t1.restore, <, 0.8 * t0.restore);
  g_assert_cmpfloat (t1.total, <, t0.total);
  peac_batch_free (&fixed);
  peac_train_free (s);
}

static void test_learns (void) { learns (0, 80); }
static void test_swin_learns (void) { learns (1, 150); }

static void
resume_bit_exact (int swin)
{
  need_images ();
  PeacTrainConfig c;
  config_arch (&c, 6, swin);
  c.obj.local_hidden = 40, c.obj.local_out = 24; // widths of its own for the local projector
  char err[512];
  PeacTrainSession *a = peac_train_new (&c, images, N_IMAGES, err, sizeof err);
  g_assert_cmpint (peac_train_run (a, NULL, NULL, NULL, err, sizeof err), ==, PEAC_TRAIN_DONE);
  atomic_int flag = 0;
  Log l = { .stop_at = 3, .flag = &flag };
  PeacTrainSession *b = peac_train_new (&c, images, N_IMAGES, err, sizeof err);
  g_assert_cmpint (peac_train_run (b, on_step, &l, &flag, err, sizeof err), ==, PEAC_TRAIN_ABORTED);
  g_assert_cmpint (peac_train_step_count (b), ==, 3);
  g_autofree char *dir = g_dir_make_tmp ("peac-train-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ckpt.safetensors", NULL);
  g_assert_cmpint (peac_train_save (b, path, err, sizeof err), ==, 0);
  peac_train_free (b);
  PeacTrainSession *r = peac_train_resume (path, images, N_IMAGES, 0, err, sizeof err);
  if (!r)
    g_error ("%s", err);
  g_assert_cmpint (peac_train_step_count (r), ==, 3);
  g_assert_cmpint (peac_train_config (r)->obj.local_hidden, ==, 40);
  g_assert_cmpint (peac_train_config (r)->obj.local_out, ==, 24);
  g_assert_cmpint (peac_train_config (r)->obj.proj_hidden, ==, 64);
  g_assert_cmpint (peac_train_run (r, NULL, NULL, NULL, err, sizeof err), ==, PEAC_TRAIN_DONE);
  PeacObjective *oa = peac_train_objective (a), *or = peac_train_objective (r);
  for (int t = 0; t < 2; t++)
    {
      PeacParams *pa = peac_model_params (t ? peac_objective_teacher (oa) : peac_objective_student (oa));
      PeacParams *pr = peac_model_params (t ? peac_objective_teacher (or) : peac_objective_student (or));
      g_assert_cmpint (memcmp (pa->memory, pr->memory, pa->total * 4), ==, 0);
      PeacParams *ha = peac_objective_heads (oa, t), *hr = peac_objective_heads (or, t);
      g_assert_cmpint (memcmp (ha->memory, hr->memory, ha->total * 4), ==, 0);
    }
  // The checkpoint is a model file: its teacher branch loads, weight for weight.
  PeacModel *m = peac_model_load (path, err, sizeof err);
  g_assert_nonnull (m);
  PeacParams *mp = peac_model_params (m);
  g_assert_cmpuint (mp->total, ==, peac_model_params (peac_objective_teacher (or))->total);
  peac_model_free (m);
  // Only the checkpoint is in the folder (atomic write, no leftovers).
  GDir *d = g_dir_open (dir, 0, NULL);
  int files = 0;
  while (g_dir_read_name (d))
    files++;
  g_dir_close (d);
  g_assert_cmpint (files, ==, 1);
  g_unlink (path), g_rmdir (dir);
  peac_train_free (a), peac_train_free (r);
}

static void test_resume_bit_exact (void) { resume_bit_exact (0); }
static void test_swin_resume_bit_exact (void) { resume_bit_exact (1); }

static void
test_nan_stops (void)
{
  need_images ();
  PeacTrainConfig c;
  config (&c, 5);
  char err[512];
  PeacTrainSession *s = peac_train_new (&c, images, N_IMAGES, err, sizeof err);
  PeacObjective *o = peac_train_objective (s);
  PeacParams *p = peac_model_params (peac_objective_student (o));
  p->memory[p->list[2].offset] = NAN; // one patch-embedding weight
  float *before = g_memdup2 (p->memory, p->total * 4);
  g_assert_cmpint (peac_train_run (s, NULL, NULL, NULL, err, sizeof err), ==, PEAC_TRAIN_NAN);
  g_assert_nonnull (strstr (err, "non-finite"));
  g_assert_cmpint (peac_train_step_count (s), ==, 0);
  g_assert_cmpint (memcmp (before, p->memory, p->total * 4), ==, 0); // no update applied
  g_free (before);
  peac_train_free (s);
}


typedef struct { PeacTrainSession *s; PeacLossTerms first; int calls; } EvalCtx;

static void
on_step_eval (void *user, const PeacTrainProgress *p)
{
  EvalCtx *e = user;
  PeacLossTerms t, again;
  char err[256];
  (void) p;
  g_assert_cmpint (peac_train_evaluate (e->s, images + 8, 4, 77, &t, err, sizeof err), ==, 0);
  g_assert_cmpint (peac_train_evaluate (e->s, images + 8, 4, 77, &again, err, sizeof err), ==, 0);
  g_assert_true (isfinite (t.total) && t.restore > 0 && t.global > 0);
  g_assert_cmpfloat (t.total, ==, again.total); // same crops, same weights
  // Averages of weighted sums: equal up to rounding.
  g_assert_cmpfloat_with_epsilon (t.total, t.order + t.restore + c_wg * t.global + t.local,
                                  1e-12 * t.total);
  if (e->calls++ == 0)
    e->first = t;
}

static void
test_evaluate_changes_nothing (void)
{
  need_images ();
  PeacTrainConfig c;
  config (&c, 5);
  c.batch = 3; // 4 held-out images: batches of 3 and 1
  c_wg = c.obj.w_global;
  char err[512];
  PeacTrainSession *a = peac_train_new (&c, images, 8, err, sizeof err);
  PeacTrainSession *b = peac_train_new (&c, images, 8, err, sizeof err);
  g_assert_cmpint (peac_train_run (a, NULL, NULL, NULL, err, sizeof err), ==, PEAC_TRAIN_DONE);
  EvalCtx e = { b };
  g_assert_cmpint (peac_train_run (b, on_step_eval, &e, NULL, err, sizeof err), ==, PEAC_TRAIN_DONE);
  g_assert_cmpint (e.calls, ==, 5);
  PeacParams *pa = peac_model_params (peac_objective_student (peac_train_objective (a)));
  PeacParams *pb = peac_model_params (peac_objective_student (peac_train_objective (b)));
  g_assert_cmpint (memcmp (pa->memory, pb->memory, pa->total * 4), ==, 0);
  PeacLossTerms t;
  g_assert_cmpint (peac_train_evaluate (b, images, 0, 1, &t, err, sizeof err), ==, -1);
  peac_train_free (a), peac_train_free (b);
}

static void
test_run_info_kept (void)
{
  need_images ();
  PeacTrainConfig c;
  config (&c, 2);
  char err[512];
  PeacTrainSession *s = peac_train_new (&c, images, N_IMAGES, err, sizeof err);
  g_assert_null (peac_train_run_info (s));
  peac_train_set_run_info (s, "{\"data\":[\"/x\"],\"threads\":2}");
  g_autofree char *dir = g_dir_make_tmp ("peac-train-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ckpt.safetensors", NULL);
  g_assert_cmpint (peac_train_save (s, path, err, sizeof err), ==, 0);
  PeacTrainSession *r = peac_train_resume (path, images, N_IMAGES, 0, err, sizeof err);
  g_assert_nonnull (r);
  g_assert_cmpstr (peac_train_run_info (r), ==, "{\"data\":[\"/x\"],\"threads\":2}");
  g_assert_cmpint (peac_train_config (r)->batch, ==, 4);
  g_assert_cmpfloat (peac_train_config (r)->opt.lr, ==, 2e-3);
  g_autofree char *json = peac_train_config_json (peac_train_config (r));
  g_assert_nonnull (strstr (json, "\"embed_dim\": 32"));
  g_assert_nonnull (strstr (json, "\"max_shift\": 2"));
  peac_train_free (s), peac_train_free (r);
  g_unlink (path), g_rmdir (dir);
}

// The peac.train state: written and read back field for field; a state from before the
// local projector had widths of its own reads with the global ones; integers out of range
// are refused.
static void
test_state_parse (void)
{
  PeacTrainConfig c, r;
  config (&c, 9);
  c.obj.proj_hidden = 96, c.obj.proj_out = 48, c.obj.local_hidden = 20, c.obj.local_out = 12;
  c.opt.lr = 1.0 / 3.0;
  PeacRng rng = { { 1, UINT64_MAX, 3, 4 } }, rng2;
  long step = -1;
  g_autofree char *text = peac_train_state_json (&c, 7, &rng);
  memset (&r, 0, sizeof r);
  g_assert_cmpint (peac_train_state_parse (&r, &step, &rng2, text), ==, 0);
  g_assert_cmpint (step, ==, 7);
  g_assert_cmpint (memcmp (&rng, &rng2, sizeof rng), ==, 0);
  g_assert_cmpint (r.obj.proj_hidden, ==, 96);
  g_assert_cmpint (r.obj.proj_out, ==, 48);
  g_assert_cmpint (r.obj.local_hidden, ==, 20);
  g_assert_cmpint (r.obj.local_out, ==, 12);
  g_assert_cmpfloat (r.opt.lr, ==, 1.0 / 3.0);
  g_assert_cmpint (r.batch, ==, 4);
  g_assert_cmpint (r.opt.total_steps, ==, 9);
  // The older state: no local_hidden / local_out keys.
  GString *old = g_string_new (text);
  g_assert_cmpint (g_string_replace (old, "\"local_hidden\":20,\"local_out\":12,", "", 1), ==, 1);
  memset (&r, 0, sizeof r);
  g_assert_cmpint (peac_train_state_parse (&r, &step, &rng2, old->str), ==, 0);
  g_assert_cmpint (r.obj.local_hidden, ==, 96);
  g_assert_cmpint (r.obj.local_out, ==, 48);
  g_string_free (old, TRUE);
  // The reference recipe's keys round-trip; without them a state means the default recipe.
  g_assert_null (strstr (text, "jitter"));
  g_assert_null (strstr (text, "style"));
  g_assert_cmpint (r.obj.jitter, ==, 0);
  g_assert_cmpint (r.obj.teacher_sees_shuffled, ==, 0);
  g_assert_cmpint (r.obj.distort.style, ==, PEAC_DISTORT_GENESIS);
  PeacTrainConfig ref = c;
  ref.obj.jitter = 3, ref.obj.teacher_sees_shuffled = 1;
  peac_distort_reference_defaults (&ref.obj.distort, 16);
  ref.obj.distort.gamma_sigma = 0.75, ref.obj.distort.p_invert = 0.125;
  g_autofree char *rtext = peac_train_state_json (&ref, 7, &rng);
  memset (&r, 0, sizeof r);
  g_assert_cmpint (peac_train_state_parse (&r, &step, &rng2, rtext), ==, 0);
  g_assert_cmpint (r.obj.jitter, ==, 3);
  g_assert_cmpint (r.obj.teacher_sees_shuffled, ==, 1);
  g_assert_cmpint (r.obj.distort.style, ==, PEAC_DISTORT_REFERENCE);
  g_assert_cmpfloat (r.obj.distort.gamma_sigma, ==, 0.75);
  g_assert_cmpfloat (r.obj.distort.p_invert, ==, 0.125);
  g_assert_cmpfloat (r.obj.distort.p_paint, ==, 1.0);
  g_assert_cmpfloat (r.obj.distort.p_inpaint, ==, 0.2);
  GString *unknown = g_string_new (rtext);
  g_assert_cmpint (g_string_replace (unknown, "\"reference\"", "\"sepia\"", 1), ==, 1);
  g_assert_cmpint (peac_train_state_parse (&r, &step, &rng2, unknown->str), ==, -1);
  g_string_free (unknown, TRUE);
  // Out of range or not a state.
  const char *bad[][2] = { { "\"step\":7", "\"step\":-7" }, { "\"batch\":4", "\"batch\":1e300" },
                           { "\"local_out\":12", "\"local_out\":-12" } };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GString *t = g_string_new (text);
      g_assert_cmpint (g_string_replace (t, bad[i][0], bad[i][1], 1), ==, 1);
      g_assert_cmpint (peac_train_state_parse (&r, &step, &rng2, t->str), ==, -1);
      g_string_free (t, TRUE);
    }
  g_assert_cmpint (peac_train_state_parse (&r, &step, &rng2, "[]"), ==, -1);
  g_assert_cmpint (peac_train_state_parse (&r, &step, &rng2, NULL), ==, -1);
}

// A jitter of one cell or more would change the crops' offsets, not only their phase.
static void
test_jitter_refused (void)
{
  need_images ();
  PeacTrainConfig c;
  config (&c, 2);
  c.obj.jitter = c.model.cell;
  char err[256] = "";
  g_assert_null (peac_train_new (&c, images, N_IMAGES, err, sizeof err));
  g_assert_nonnull (strstr (err, "jitter"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train/learns", test_learns);
  g_test_add_func ("/train/resume-bit-exact", test_resume_bit_exact);
  g_test_add_func ("/train/swin-learns", test_swin_learns);
  g_test_add_func ("/train/swin-resume-bit-exact", test_swin_resume_bit_exact);
  g_test_add_func ("/train/nan-stops", test_nan_stops);
  g_test_add_func ("/train/evaluate-changes-nothing", test_evaluate_changes_nothing);
  g_test_add_func ("/train/run-info-kept", test_run_info_kept);
  g_test_add_func ("/train/state-parse", test_state_parse);
  g_test_add_func ("/train/jitter-refused", test_jitter_refused);
  int rc = g_test_run ();
  for (int i = 0; i < N_IMAGES; i++)
    g_free (pixels[i]);
  return rc;
}
