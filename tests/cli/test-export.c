// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-export: `peac export` and the default-model lookup, with the built `peac` (path from
// argv) run as a real process. A micro checkpoint is trained for 3 steps on 2 NIH
// radiographs of $PEAC_SHARED_DIR read in place (failing without them); its F16 export
// loads with peac_model_load and gives the teacher's token grid and pooled vector within
// F16 rounding (and not bit-identical: the weights were rounded), --dtype f32 gives them
// exactly, --branch student the student's (which differs from the teacher after 3 steps);
// the provenance names the step, seed, preset and data. Bad input exits non-zero naming the
// file or option. The lookup: PEAC_MODEL wins, then the first search folder holding the
// bundled file; none gives an error listing the folders; `peac embed` without --model
// uses $PEAC_MODEL and names it when it is missing.
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "model-find.h"
#include "model.h"
#include "peac-test-cli.h"

static const char *peac_path;
static char *tmp_dir, *ckpt, *img[2];

static char *
tmp_file (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

// Grid and pooled vector of a model on a fixed pseudo-random input [1, 3, S, S].
static void
forward (PeacModel *m, float **grid, float **pooled, size_t *n_grid, int *dim)
{
  const int S = peac_model_img_size (m);
  int gh, gw;
  peac_model_output_shape (m, S, S, &gh, &gw, dim);
  *n_grid = (size_t) gh * gw * *dim;
  float *x = g_new (float, 3 * S * S);
  GRand *r = g_rand_new_with_seed (7);
  for (int i = 0; i < 3 * S * S; i++)
    x[i] = (float) g_rand_double_range (r, -2, 2);
  g_rand_free (r);
  *grid = g_new (float, *n_grid);
  *pooled = g_new (float, *dim);
  char err[256];
  g_assert_cmpint (peac_model_forward (m, x, 1, S, S, *grid, *pooled, NULL, NULL, err,
                                       sizeof err), ==, 0);
  g_free (x);
}

static double
max_diff (const float *a, const float *b, size_t n)
{
  double m = 0;
  for (size_t i = 0; i < n; i++)
    m = fmax (m, fabs ((double) a[i] - b[i]));
  return m;
}

// The export at path against the branch of the checkpoint: max |Δ| of grid and pooled.
static void
compare (const char *path, const char *branch, double *d_grid, double *d_pooled)
{
  char err[512];
  PeacModel *ref = peac_model_load_ex (ckpt, branch, NULL, 0, err, sizeof err);
  g_assert_nonnull (ref);
  PeacModel *m = peac_model_load (path, err, sizeof err);
  if (!m)
    g_error ("%s", err);
  float *g0, *p0, *g1, *p1;
  size_t n0, n1;
  int d0, d1;
  forward (ref, &g0, &p0, &n0, &d0);
  forward (m, &g1, &p1, &n1, &d1);
  g_assert_cmpuint (n0, ==, n1);
  g_assert_cmpint (d0, ==, d1);
  *d_grid = max_diff (g0, g1, n0);
  *d_pooled = max_diff (p0, p1, (size_t) d0);
  g_free (g0), g_free (p0), g_free (g1), g_free (p1);
  peac_model_free (ref), peac_model_free (m);
}

static void
train_checkpoint (void)
{
  g_autofree char *out = tmp_file ("run.safetensors");
  const char *args[] = { "--preset", "micro", "--steps", "3", "--batch", "2", "--seed", "5",
                         "--threads", "1", "--quiet", "--out", out, img[0], img[1], NULL };
  g_auto (PeacTestRun) r = { 0 };
  peac_test_run (&r, peac_path, "train", args);
  g_assert_cmpint (r.status, ==, 0);
  ckpt = g_strdup (out);
}

// The checkpoint trained on two NIH radiographs, on first use; a missing radiograph fails
// the test, naming it (peac_test_shared_path).
static void
need_checkpoint (void)
{
  if (ckpt)
    return;
  img[0] = peac_test_shared_path ("cxr/nih-chestxray14/00000001_000.png");
  img[1] = peac_test_shared_path ("cxr/nih-chestxray14/00027426_000.png");
  train_checkpoint ();
}

static void
test_f16 (void)
{
  need_checkpoint ();
  g_autofree char *out = tmp_file ("f16.safetensors");
  const char *args[] = { ckpt, "-o", out, NULL };
  g_auto (PeacTestRun) r = { 0 };
  peac_test_run (&r, peac_path, "export", args);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "f16"));
  double dg, dp;
  compare (out, "teacher", &dg, &dp);
  // Weights rounded to 11 significant bits: outputs of unit scale move by ~1e-3.
  g_assert_cmpfloat (dg, <, 2e-2);
  g_assert_cmpfloat (dp, <, 2e-2);
  g_assert_cmpfloat (dg, >, 0);

  char err[512];
  PeacSafetensors *st = peac_st_open (out, err, sizeof err);
  g_assert_nonnull (st);
  for (int i = 0; i < st->n; i++)
    {
      g_assert_cmpint (st->tensors[i].dtype, ==, PEAC_DT_F16);
      g_assert_false (g_str_has_prefix (st->tensors[i].name, "student"));
      g_assert_false (g_str_has_prefix (st->tensors[i].name, "optim"));
    }
  g_assert_cmpstr (peac_st_meta (st, "peac.arch"), ==, "vit");
  g_assert_cmpstr (peac_st_meta (st, "peac.layout"), ==, "timm");
  json_t *prov = json_loads (peac_st_meta (st, "peac.provenance"), 0, NULL);
  g_assert_nonnull (prov);
  g_assert_cmpint (json_integer_value (json_object_get (prov, "step")), ==, 3);
  g_assert_cmpstr (json_string_value (json_object_get (prov, "branch")), ==, "teacher");
  g_assert_cmpstr (json_string_value (json_object_get (prov, "source")), ==, "run.safetensors");
  json_t *train = json_object_get (prov, "train"), *run = json_object_get (prov, "run");
  g_assert_cmpint (json_integer_value (json_object_get (train, "seed")), ==, 5);
  g_assert_cmpint (json_integer_value (json_object_get (train, "batch")), ==, 2);
  g_assert_cmpstr (json_string_value (json_object_get (run, "preset")), ==, "micro");
  g_assert_cmpuint (json_array_size (json_object_get (run, "data")), ==, 2);
  json_decref (prov);
  peac_st_close (st);
}

static void
test_f32_exact (void)
{
  need_checkpoint ();
  const char *branches[] = { "teacher", "student" };
  double d[2][2];
  for (int b = 0; b < 2; b++)
    {
      g_autofree char *name = g_strdup_printf ("%s-f32.safetensors", branches[b]);
      g_autofree char *out = tmp_file (name);
      const char *args[] = { ckpt, "-o", out, "--dtype", "f32", "--branch", branches[b], "-q", NULL };
      g_auto (PeacTestRun) r = { 0 };
      peac_test_run (&r, peac_path, "export", args);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_cmpstr (r.err, ==, "");
      compare (out, branches[b], &d[b][0], &d[b][1]);
      g_assert_cmpfloat (d[b][0], ==, 0);
      g_assert_cmpfloat (d[b][1], ==, 0);
    }
  // The student export is not the teacher: 3 optimiser steps separate them.
  g_autofree char *student = tmp_file ("student-f32.safetensors");
  double dg, dp;
  compare (student, "teacher", &dg, &dp);
  g_assert_cmpfloat (dg, >, 1e-6);
}

static void
test_bad_input (void)
{
  g_autofree char *missing = tmp_file ("missing.safetensors");
  g_autofree char *out = tmp_file ("never.safetensors");
  {
    const char *args[] = { missing, "-o", out, NULL };
    g_auto (PeacTestRun) r = { 0 };
    peac_test_run (&r, peac_path, "export", args);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, missing));
  }
  {
    const char *args[] = { missing, "-o", out, "--dtype", "f8", NULL };
    g_auto (PeacTestRun) r = { 0 };
    peac_test_run (&r, peac_path, "export", args);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "--dtype"));
  }
  {
    const char *args[] = { missing, "-o", out, "--branch", "ema", NULL };
    g_auto (PeacTestRun) r = { 0 };
    peac_test_run (&r, peac_path, "export", args);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "--branch"));
  }
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_find_default (void)
{
  g_autofree char *a = tmp_file ("models-a"), *b = tmp_file ("models-b");
  g_assert_cmpint (g_mkdir_with_parents (a, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (b, 0755), ==, 0);
  const char *dirs[] = { a, b, NULL };
  char path[1024], err[1024];
  g_unsetenv (PEAC_MODEL_ENV);
  g_assert_cmpint (peac_model_find_default (dirs, path, sizeof path, err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, a));
  g_assert_nonnull (strstr (err, b));
  g_assert_nonnull (strstr (err, PEAC_MODEL_ENV));

  g_autofree char *in_b = g_build_filename (b, PEAC_MODEL_BUNDLED_NAME, NULL);
  g_assert_true (g_file_set_contents (in_b, "x", 1, NULL));
  g_assert_cmpint (peac_model_find_default (dirs, path, sizeof path, err, sizeof err), ==, 0);
  g_assert_cmpstr (path, ==, in_b);
  g_autofree char *in_a = g_build_filename (a, PEAC_MODEL_BUNDLED_NAME, NULL);
  g_assert_true (g_file_set_contents (in_a, "x", 1, NULL));
  g_assert_cmpint (peac_model_find_default (dirs, path, sizeof path, err, sizeof err), ==, 0);
  g_assert_cmpstr (path, ==, in_a);

  g_autofree char *other = tmp_file ("other.safetensors");
  g_assert_true (g_file_set_contents (other, "x", 1, NULL));
  g_setenv (PEAC_MODEL_ENV, other, TRUE);
  g_assert_cmpint (peac_model_find_default (dirs, path, sizeof path, err, sizeof err), ==, 0);
  g_assert_cmpstr (path, ==, other);
  g_autofree char *gone = tmp_file ("gone.safetensors");
  g_setenv (PEAC_MODEL_ENV, gone, TRUE);
  g_assert_cmpint (peac_model_find_default (dirs, path, sizeof path, err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, gone));
  // "none": no default even though the folders hold one.
  g_setenv (PEAC_MODEL_ENV, "none", TRUE);
  g_assert_cmpint (peac_model_find_default (dirs, path, sizeof path, err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "none"));
  g_assert_cmpstr (path, ==, "");
  g_unsetenv (PEAC_MODEL_ENV);
  g_unlink (in_a), g_unlink (in_b), g_unlink (other);
  g_rmdir (a), g_rmdir (b);
}

// `peac embed` without --model takes $PEAC_MODEL (the child inherits the environment).
static void
test_embed_default (void)
{
  need_checkpoint ();
  g_autofree char *micro = peac_test_write_micro_vit (tmp_dir);
  g_autofree char *out = tmp_file ("emb.safetensors");
  const char *args[] = { img[0], "-o", out, "-q", NULL };
  g_setenv (PEAC_MODEL_ENV, micro, TRUE);
  {
    g_auto (PeacTestRun) r = { 0 };
    peac_test_run (&r, peac_path, "embed", args);
    g_assert_cmpint (r.status, ==, 0);
  }
  char err[512];
  PeacSafetensors *st = peac_st_open (out, err, sizeof err);
  g_assert_nonnull (st);
  json_t *j = json_loads (peac_st_meta (st, "peac.embed"), 0, NULL);
  g_assert_cmpstr (json_string_value (json_object_get (j, "model")), ==, micro);
  json_decref (j);
  // The micro ViT: 224 px, 16-px patches, width 64 → a 14×14×64 grid.
  const PeacStTensor *t = peac_st_find (st, "grid.0");
  g_assert_nonnull (t);
  g_assert_cmpint (t->shape[0], ==, 14);
  g_assert_cmpint (t->shape[2], ==, 64);
  peac_st_close (st);
  g_unlink (out);

  g_autofree char *gone = tmp_file ("gone.safetensors");
  g_setenv (PEAC_MODEL_ENV, gone, TRUE);
  {
    g_auto (PeacTestRun) r = { 0 };
    peac_test_run (&r, peac_path, "embed", args);
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, gone));
    g_assert_nonnull (strstr (r.err, PEAC_MODEL_ENV));
  }
  g_unsetenv (PEAC_MODEL_ENV);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  g_unsetenv (PEAC_MODEL_ENV);
  tmp_dir = g_dir_make_tmp ("peac-export-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  g_test_add_func ("/export/f16", test_f16);
  g_test_add_func ("/export/f32-exact", test_f32_exact);
  g_test_add_func ("/export/bad-input", test_bad_input);
  g_test_add_func ("/export/find-default", test_find_default);
  g_test_add_func ("/export/embed-default", test_embed_default);
  int rc = g_test_run ();
  peac_test_remove_tree (tmp_dir);
  g_free (tmp_dir), g_free (ckpt), g_free (img[0]), g_free (img[1]);
  return rc;
}
