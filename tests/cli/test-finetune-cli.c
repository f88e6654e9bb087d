// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-finetune-cli: runs the built `peac finetune` (path from argv) with the random-init
// ViT micro checkpoint on 16 NIH radiographs of $PEAC_SHARED_DIR read in place, with a
// label CSV written to a temp folder (two made-up findings, a split column). The linear
// probe with --compare, two seeds and --json reports both rows with AUCs in [0, 1], the
// ROC CSV holds a curve from (0, 0) to (1, 1) per class and model, the PNG is a PNG, and
// the saved model reloads (backbone through peac_model_load, head through
// peac_finetune_load_head) to the very scores of scores.csv; the same for --mode full,
// with the ViT and with a small Swin (Microsoft layout);
// --views adds cached augmented views to the probe's training rows. One seed reports no
// spread (std null).
// Bad label files fail with exit 1 naming the file, the line and the reason, and so do
// validation rows that are training rows too.
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "finetune.h"
#include "model.h"
#include "peac-test-cli.h"
#include "preprocess.h"
#include "px-image.h"

// g_ptr_array_sort hands its function pointers to the elements, not the strings.
static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

enum { N_TRAIN = 10, N_VAL = 6 };

static const char *peac_path;
static char *tmp_dir, *model_path, *csv_path, *nih;
static char *names[N_TRAIN + N_VAL];

static char *
tmp_file (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

// image,split,a,b: image paths relative to the NIH folder (found through --images), a
// alternating, b in pairs, so that both findings have both outcomes in both splits.
static void
write_csv (void)
{
  GString *s = g_string_new ("image,split,a,b\n");
  for (int i = 0; i < N_TRAIN + N_VAL; i++)
    g_string_append_printf (s, "%s,%s,%d,%d\n", names[i], i < N_TRAIN ? "train" : "val",
                            i % 2, (i / 2) % 2);
  csv_path = tmp_file ("labels.csv");
  g_assert_true (g_file_set_contents (csv_path, s->str, -1, NULL));
  g_string_free (s, TRUE);
}

// The temp folder: files and one level of output folders.
// scores.csv (first row's evaluation scores) against the saved model's own predictions on
// the validation images: backbone + head reloaded from the file, same preprocessing.
static void
check_saved_scores (const char *saved, const char *scores_csv)
{
  char err[512];
  PeacModel *m = peac_model_load (saved, err, sizeof err);
  g_assert_nonnull (m);
  PeacHead h;
  char **cls;
  g_assert_cmpint (peac_finetune_load_head (saved, &h, &cls, err, sizeof err), ==, 0);
  g_assert_cmpint (h.k, ==, 2);
  g_assert_cmpstr (cls[0], ==, "a");
  g_assert_cmpstr (cls[1], ==, "b");
  g_strfreev (cls);
  const int S = peac_model_img_size (m);
  float *x = g_new (float, 3 * S * S), *pooled = g_new (float, h.dim);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (scores_csv, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "image,a,b");
  PeacPreprocess pp = { S, PEAC_MEAN, PEAC_STD, 1 };
  for (int i = 0; i < N_VAL; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i + 1], ",", -1);
      g_assert_cmpuint (g_strv_length (f), ==, 3);
      g_autofree char *quoted = g_strdup_printf ("\"%s\"", names[N_TRAIN + i]);
      g_assert_cmpstr (f[0], ==, quoted);
      g_autofree char *path = g_build_filename (nih, names[N_TRAIN + i], NULL);
      PxImage *img = px_image_load (path, NULL);
      g_assert_nonnull (img);
      float *unit = g_new (float, (size_t) img->width * img->height);
      px_image_to_unit (img, unit);
      g_assert_cmpint (peac_preprocess (unit, img->width, img->height, &pp, x), ==, 0);
      g_assert_cmpint (peac_model_forward (m, x, 1, S, S, NULL, pooled, NULL, NULL, err,
                                           sizeof err), ==, 0);
      float prob[2];
      peac_head_predict (&h, pooled, 1, prob);
      for (int c = 0; c < 2; c++)
        g_assert_cmpfloat_with_epsilon (prob[c], g_ascii_strtod (f[1 + c], NULL), 1e-6);
      g_free (unit);
      px_image_free (img);
    }
  g_assert_cmpstr (lines[N_VAL + 1], ==, "");
  g_free (x), g_free (pooled);
  peac_head_free (&h);
  peac_model_free (m);
}

static void
test_linear_compare (void)
{
  g_autofree char *out = tmp_file ("linear"), *saved = tmp_file ("linear.safetensors");
  const char *args[] = { "--model", model_path, "--train", csv_path, "--val", csv_path,
                         "--images", nih, "--seeds", "2", "--compare", "--epochs", "20",
                         "--json", "--out-dir", out, "--save", saved, "--threads", "1",
                         "--bootstrap", "200", NULL };
  json_t *j = peac_test_run_json (peac_path, "finetune", args);
  g_assert_cmpstr (json_string_value (json_object_get (j, "mode")), ==, "linear");
  g_assert_cmpint (json_integer_value (json_object_get (j, "n_train")), ==, N_TRAIN);
  g_assert_cmpint (json_integer_value (json_object_get (j, "n_val")), ==, N_VAL);
  g_assert_cmpstr (json_string_value (json_object_get (j, "eval_split")), ==, "val");
  json_t *res = json_object_get (j, "results");
  g_assert_cmpuint (json_array_size (res), ==, 2);
  g_assert_false (json_is_true (json_object_get (json_array_get (res, 0), "random_init")));
  g_assert_true (json_is_true (json_object_get (json_array_get (res, 1), "random_init")));
  for (size_t i = 0; i < 2; i++)
    {
      json_t *o = json_array_get (res, i);
      double m = json_real_value (json_object_get (o, "mean_auc"));
      double s = json_real_value (json_object_get (o, "std_auc"));
      json_t *per = json_object_get (o, "mean_auc_per_seed");
      g_assert_cmpuint (json_array_size (per), ==, 2);
      double a0 = json_real_value (json_array_get (per, 0));
      double a1 = json_real_value (json_array_get (per, 1));
      g_assert_cmpfloat_with_epsilon (m, (a0 + a1) / 2, 2e-6);
      g_assert_cmpfloat_with_epsilon (s, fabs (a0 - a1) / sqrt (2), 2e-6);
      g_assert_cmpfloat (a0, >=, 0);
      g_assert_cmpfloat (a0, <=, 1);
      // A percentile interval need not contain the estimate; it is ordered and in [0, 1].
      json_t *ci = json_object_get (o, "ci95_seed0");
      double lo = json_real_value (json_array_get (ci, 0)), hi = json_real_value (json_array_get (ci, 1));
      g_assert_cmpfloat (lo, >=, 0);
      g_assert_cmpfloat (lo, <=, hi);
      g_assert_cmpfloat (hi, <=, 1);
      json_t *pc = json_object_get (o, "per_class");
      double ca = json_real_value (json_object_get (json_object_get (pc, "a"), "auc"));
      double cb = json_real_value (json_object_get (json_object_get (pc, "b"), "auc"));
      g_assert_cmpfloat_with_epsilon ((ca + cb) / 2, m, 2e-6);
      g_assert_cmpfloat (json_real_value (json_object_get (o, "embed_ms_per_image")), >, 0);
    }
  json_decref (j);

  // roc.csv: per model and class a curve from (0, 0) to (1, 1) with fpr, tpr not falling.
  g_autofree char *roc = g_build_filename (out, "roc.csv", NULL), *text = NULL;
  g_assert_true (g_file_get_contents (roc, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "model,class,fpr,tpr,threshold");
  int curves = 0;
  double pf = 0, pt = 0;
  for (int i = 1; lines[i] && lines[i][0]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      double fpr = g_ascii_strtod (f[2], NULL), tpr = g_ascii_strtod (f[3], NULL);
      if (strcmp (f[4], "inf") == 0)
        {
          g_assert_cmpfloat (fpr, ==, 0);
          g_assert_cmpfloat (tpr, ==, 0);
          curves++;
        }
      else
        {
          g_assert_cmpfloat (fpr, >=, pf);
          g_assert_cmpfloat (tpr, >=, pt);
        }
      pf = fpr, pt = tpr;
      if (!lines[i + 1][0] || g_str_has_suffix (lines[i + 1], ",inf"))
        {
          g_assert_cmpfloat (fpr, ==, 1);
          g_assert_cmpfloat (tpr, ==, 1);
        }
    }
  g_assert_cmpint (curves, ==, 4);   // 2 models × 2 classes

  g_autofree char *png = g_build_filename (out, "roc.png", NULL), *bytes = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (png, &bytes, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_cmpint (memcmp (bytes, "\x89PNG", 4), ==, 0);

  g_autofree char *scores = g_build_filename (out, "scores.csv", NULL);
  check_saved_scores (saved, scores);

  // peac embed loads the fine-tuned file as a backbone.
  g_autofree char *img = g_build_filename (nih, names[0], NULL);
  g_autofree char *emb = tmp_file ("emb.safetensors");
  const char *eargs[] = { "--model", saved, img, "-o", emb, "-q", NULL };
  g_auto (PeacTestRun) e;
  peac_test_run (&e, peac_path, "embed", eargs);
  g_assert_cmpint (e.status, ==, 0);
}

// --views 2: two cached augmented views per training image join the probe's training
// rows; the evaluation scores move away from the plain probe's (same seed, same epochs).
static void
test_linear_views (void)
{
  g_autofree char *out = tmp_file ("views"), *plain = tmp_file ("plain");
  const char *args[] = { "--model", model_path, "--train", csv_path, "--val", csv_path,
                         "--images", nih, "--epochs", "20", "--json", "--out-dir", out,
                         "--views", "2", "-q", NULL };
  const char *args0[] = { "--model", model_path, "--train", csv_path, "--val", csv_path,
                          "--images", nih, "--epochs", "20", "--json", "--out-dir", plain,
                          "-q", NULL };
  json_t *j = peac_test_run_json (peac_path, "finetune", args);
  json_t *j0 = peac_test_run_json (peac_path, "finetune", args0);
  g_assert_cmpint (json_integer_value (json_object_get (j, "views")), ==, 2);
  g_assert_cmpint (json_integer_value (json_object_get (j0, "views")), ==, 0);
  double m = json_real_value (json_object_get (json_array_get (json_object_get (j, "results"), 0), "mean_auc"));
  g_assert_cmpfloat (m, >=, 0);
  g_assert_cmpfloat (m, <=, 1);
  json_decref (j), json_decref (j0);
  g_autofree char *sv = g_build_filename (out, "scores.csv", NULL), *s0 = g_build_filename (plain, "scores.csv", NULL);
  g_autofree char *tv = NULL, *t0 = NULL;
  g_assert_true (g_file_get_contents (sv, &tv, NULL, NULL));
  g_assert_true (g_file_get_contents (s0, &t0, NULL, NULL));
  g_assert_cmpstr (tv, !=, t0);
  // Out of range: exit 2.
  const char *bad[] = { "--model", model_path, "--train", csv_path, "--val", csv_path,
                        "--views", "99", NULL };
  g_auto (PeacTestRun) rb;
  peac_test_run (&rb, peac_path, "finetune", bad);
  g_assert_cmpint (rb.status, ==, 2);
}

static void
test_full (void)
{
  g_autofree char *out = tmp_file ("full"), *saved = tmp_file ("full.safetensors");
  const char *args[] = { "--model", model_path, "--train", csv_path, "--val", csv_path,
                         "--images", nih, "--mode", "full", "--epochs", "2", "--batch", "5",
                         "--label-fraction", "0.5", "--backbone-lr", "1e-3",
                         "--json", "--out-dir", out, "--save", saved, "-q", NULL };
  json_t *j = peac_test_run_json (peac_path, "finetune", args);
  g_assert_cmpstr (json_string_value (json_object_get (j, "mode")), ==, "full");
  g_assert_cmpint (json_integer_value (json_object_get (j, "n_train_used")), ==, N_TRAIN / 2);
  json_t *o = json_array_get (json_object_get (j, "results"), 0);
  g_assert_cmpint (json_integer_value (json_array_get (json_object_get (o, "epochs_per_seed"), 0)),
                   ==, 2);
  double m = json_real_value (json_object_get (o, "mean_auc"));
  g_assert_cmpfloat (m, >=, 0);
  g_assert_cmpfloat (m, <=, 1);
  // One seed has no spread: null, not 0.
  g_assert_true (json_is_null (json_object_get (o, "std_auc")));
  json_decref (j);
  g_autofree char *scores = g_build_filename (out, "scores.csv", NULL);
  check_saved_scores (saved, scores);

  // The backbone moved: its weights differ from the checkpoint it started from.
  char err[256];
  PeacModel *a = peac_model_load (model_path, err, sizeof err), *b = peac_model_load (saved, err, sizeof err);
  PeacParams *pa = peac_model_params (a), *pb = peac_model_params (b);
  g_assert_cmpuint (pa->total, ==, pb->total);
  g_assert_cmpint (memcmp (pa->memory, pb->memory, pa->total * sizeof (float)), !=, 0);
  peac_model_free (a), peac_model_free (b);
}

// --mode full with a Swin backbone in the Microsoft layout (a small random one written
// here): it trains, the saved file is a Swin that reloads to the very scores, and its
// backbone moved.
static void
test_full_swin (void)
{
  char err[256];
  g_autofree char *swin = tmp_file ("swin-micro.safetensors");
  PeacModel *m0 = peac_model_new (PEAC_ARCH_SWIN, "microsoft",
    "{\"img_size\": 64, \"patch_size\": 4, \"embed_dim\": 16, \"depths\": [2, 2], "
    "\"num_heads\": [1, 2], \"window_size\": 4}", 3, err, sizeof err);
  g_assert_nonnull (m0);
  g_assert_cmpint (peac_model_save (m0, swin, err, sizeof err), ==, 0);
  peac_model_free (m0);
  g_autofree char *out = tmp_file ("full-swin"), *saved = tmp_file ("full-swin.safetensors");
  const char *args[] = { "--model", swin, "--train", csv_path, "--val", csv_path,
                         "--images", nih, "--mode", "full", "--epochs", "2", "--batch", "5",
                         "--backbone-lr", "1e-3", "--json", "--out-dir", out, "--save", saved,
                         "-q", NULL };
  json_t *j = peac_test_run_json (peac_path, "finetune", args);
  g_assert_cmpstr (json_string_value (json_object_get (j, "mode")), ==, "full");
  json_decref (j);
  g_autofree char *scores = g_build_filename (out, "scores.csv", NULL);
  check_saved_scores (saved, scores);
  PeacModel *a = peac_model_load (swin, err, sizeof err), *b = peac_model_load (saved, err, sizeof err);
  g_assert_nonnull (b);
  g_assert_cmpint (peac_model_arch (b), ==, PEAC_ARCH_SWIN);
  g_assert_cmpstr (peac_model_layout (b), ==, "microsoft");
  PeacParams *pa = peac_model_params (a), *pb = peac_model_params (b);
  g_assert_cmpuint (pa->total, ==, pb->total);
  g_assert_cmpint (memcmp (pa->memory, pb->memory, pa->total * sizeof (float)), !=, 0);
  peac_model_free (a), peac_model_free (b);
}

static void
expect_error (const char *csv_text, const char *const *extra, const char *message)
{
  g_autofree char *bad = tmp_file ("bad.csv");
  g_assert_true (g_file_set_contents (bad, csv_text, -1, NULL));
  const char *args[32] = { "--model", model_path, "--train", bad, "--val", bad, "--images",
                           nih ? nih : tmp_dir, "-q" };
  int n = 9;
  for (int i = 0; extra && extra[i]; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  g_auto (PeacTestRun) r;
  peac_test_run (&r, peac_path, "finetune", args);
  g_assert_cmpint (r.status, ==, 1);
  g_autofree char *want = g_strdup_printf ("%s%s", bad, message);
  if (!strstr (r.err, want))
    g_test_message ("stderr: %s\nwanted: %s", r.err, want);
  g_assert_nonnull (strstr (r.err, want));
}

static void
test_bad_labels (void)
{
  g_autofree char *good = g_strdup_printf ("image,tb\n%s,1\n%s,0\n", names[0], names[1]);
  g_autofree char *missing = g_strdup_printf ("image,tb\n%s,1\nnope.png,0\n", names[0]);
  g_autofree char *not01 = g_strdup_printf ("image,tb\n%s,1\n%s,yes\n", names[0], names[1]);
  expect_error (missing, NULL, ":3: image 'nope.png' not found");
  expect_error (not01, (const char *[]) { "--labels", "tb", NULL },
                ":3: column 'tb' is 'yes', not 0 or 1");
  expect_error (good, (const char *[]) { "--labels", "tb,Mass", NULL },
                ": unknown label column 'Mass'");
  // Without a split column, one file given to --train and --val would score the
  // training images themselves: refused, naming the first shared row.
  {
    g_autofree char *msg = g_strdup_printf (":2, %s); give separate files", names[0]);
    expect_error (good, NULL, msg);
  }
  // Options out of range exit 2.
  const char *args[] = { "--model", model_path, "--train", csv_path, "--val", csv_path,
                         "--mode", "fast", NULL };
  g_auto (PeacTestRun) r;
  peac_test_run (&r, peac_path, "finetune", args);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--mode is linear or full, not 'fast'"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  // Every test needs the NIH folder: a missing one fails, naming it (peac_test_shared_path).
  nih = peac_test_shared_path ("cxr/nih-more/png_512");
  GPtrArray *all = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (nih, 0, NULL);
  g_assert_nonnull (d);
  const char *nm;
  while ((nm = g_dir_read_name (d)))
    g_ptr_array_add (all, g_strdup (nm));
  g_dir_close (d);
  if (all->len < N_TRAIN + N_VAL)
    g_error ("shared data incomplete: %s holds %u files, the test needs %d", nih, all->len,
             N_TRAIN + N_VAL);
  g_ptr_array_sort (all, compare_names);
  for (int i = 0; i < N_TRAIN + N_VAL; i++)
    names[i] = g_strdup (g_ptr_array_index (all, i * 7));
  g_ptr_array_unref (all);
  tmp_dir = g_dir_make_tmp ("test-finetune-cli-XXXXXX", NULL);
  model_path = peac_test_write_micro_vit (tmp_dir);
  write_csv ();
  g_test_add_func ("/finetune-cli/linear-compare", test_linear_compare);
  g_test_add_func ("/finetune-cli/linear-views", test_linear_views);
  g_test_add_func ("/finetune-cli/full", test_full);
  g_test_add_func ("/finetune-cli/full-swin", test_full_swin);
  g_test_add_func ("/finetune-cli/bad-labels", test_bad_labels);
  int rc = g_test_run ();
  peac_test_remove_tree (tmp_dir);
  return rc;
}
