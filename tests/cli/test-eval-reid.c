// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-eval-reid: patient re-identification. peac_reid_score on planted 2-D embeddings
// (unit vectors at chosen angles, some rescaled, one single-image patient that is only a
// distractor) gives the top-1 and top-5 counts worked out by hand. The built `peac
// eval-reid` (path from argv) on a pairs file written to a temp folder (3 Hannover
// patients of $PEAC_SHARED_DIR, read in place; one image repeated across pairs) counts the
// unique images (7) and patients (3), honours --patients, and reports the very accuracy that
// peac_reid_score gives on pooled embeddings computed here through the same preprocessing;
// --random-init runs; a pairs file without the needed columns fails naming file and line.
// The patient-level bootstrap on planted hits: a constant difference has a zero-width
// interval; two patients, one always won and one tied, give the three outcomes worked out
// by hand (AA 1, AB ½, BB 0 with probabilities ¼, ½, ¼); --bootstrap in the CLI reports the
// random-init score that --random-init gives alone.
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "cli-eval-reid.h"
#include "model.h"
#include "peac-test-cli.h"
#include "preprocess.h"
#include "px-image.h"

static const char *peac_path;
static char *tmp_dir, *data_dir;

static char *
tmp_file (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

// Angles (degrees) and patients: A 0, 5; B 60, 180; C 62, 90; E 320 (alone).
// Nearest others, by angle: q0→5 (A ✓), q1→0 (A ✓), q2→62 (C ✗; five nearest 62, 90, 5,
// 0, 320: no B ✗), q3→90 (C ✗; five nearest 90, 62, 60, 320, 5: B ✓), q4→60 (B ✗; 90 among
// five ✓), q5→62 (C ✓). E has no mate: not a query. top-1 3/6, top-5 5/6.
static void
test_planted (void)
{
  const double deg[] = { 0, 5, 60, 180, 62, 90, 320 };
  const int patient[] = { 10, 10, 20, 20, 30, 30, 40 };
  const double scale[] = { 1, 3, 0.5, 1, 7, 1, 2 };
  float emb[7 * 2];
  for (int i = 0; i < 7; i++)
    {
      emb[2 * i] = (float) (scale[i] * cos (deg[i] * G_PI / 180));
      emb[2 * i + 1] = (float) (scale[i] * sin (deg[i] * G_PI / 180));
    }
  PeacReidScore s;
  g_assert_cmpint (peac_reid_score (emb, 7, 2, patient, &s), ==, 0);
  g_assert_cmpint (s.n_images, ==, 7);
  g_assert_cmpint (s.n_patients, ==, 4);
  g_assert_cmpint (s.n_queries, ==, 6);
  g_assert_cmpint (s.top1_hits, ==, 3);
  g_assert_cmpint (s.top5_hits, ==, 5);
  g_assert_cmpfloat_with_epsilon (s.top1, 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (s.top5, 5.0 / 6, 1e-12);

  // Every image its own patient: no query, accuracies 0; n < 1 is refused.
  const int alone[] = { 1, 2, 3, 4, 5, 6, 7 };
  g_assert_cmpint (peac_reid_score (emb, 7, 2, alone, &s), ==, 0);
  g_assert_cmpint (s.n_queries, ==, 0);
  g_assert_cmpfloat (s.top1, ==, 0);
  g_assert_cmpint (peac_reid_score (emb, 0, 2, alone, &s), ==, -1);
}

// Pooled vector of one image as peac eval-reid computes it.
static void
pooled_of (PeacModel *m, const char *path, float *out)
{
  GError *e = NULL;
  PxImage *img = px_image_load (path, &e);
  g_assert_no_error (e);
  const int S = peac_model_img_size (m);
  float *unit = g_new (float, (size_t) img->width * img->height);
  float *x = g_new (float, 3 * S * S);
  px_image_to_unit (img, unit);
  PeacPreprocess pp = { S, PEAC_MEAN, PEAC_STD, 1 };
  g_assert_cmpint (peac_preprocess (unit, img->width, img->height, &pp, x), ==, 0);
  char err[256];
  g_assert_cmpint (peac_model_forward (m, x, 1, S, S, NULL, out, NULL, NULL, err, sizeof err), ==, 0);
  g_free (unit), g_free (x);
  px_image_free (img);
}

static void
test_bootstrap (void)
{
  // Six images of three patients (7 alone, no query): a wins every query, b none.
  const int patient[] = { 1, 1, 2, 2, 3, 3, 7 };
  const int a[] = { 1, 1, 1, 1, 1, 1, -1 }, b[] = { 0, 0, 0, 0, 0, 0, -1 };
  PeacReidBootstrap bs;
  g_assert_cmpint (peac_reid_bootstrap (a, b, patient, 7, 200, 5, &bs), ==, 0);
  g_assert_cmpfloat (bs.diff, ==, 1.0);
  g_assert_cmpfloat (bs.diff_ci[0], ==, 1.0);
  g_assert_cmpfloat (bs.diff_ci[1], ==, 1.0);
  g_assert_cmpfloat (bs.b_ci[1], ==, 0.0);
  // Patient 1: two queries a wins; patient 2: two queries, both hit (a tie). Resamples of
  // two patients: {1,1} → 1, {1,2} → ½, {2,2} → 0 with probabilities ¼, ½, ¼.
  const int p2[] = { 1, 1, 2, 2 }, a2[] = { 1, 1, 1, 1 }, b2[] = { 0, 0, 1, 1 };
  g_assert_cmpint (peac_reid_bootstrap (a2, b2, p2, 4, 4000, 9, &bs), ==, 0);
  g_assert_cmpfloat (bs.diff, ==, 0.5);
  g_assert_cmpfloat (bs.diff_ci[0], ==, 0.0);
  g_assert_cmpfloat (bs.diff_ci[1], ==, 1.0);
  g_assert_cmpfloat (bs.a_ci[0], ==, 1.0); // a always hits
  g_assert_cmpfloat (bs.b_ci[0], ==, 0.0);
  g_assert_cmpfloat (bs.b_ci[1], ==, 1.0);
  // No query at all, or no resample: refused.
  const int none[] = { -1, -1 };
  g_assert_cmpint (peac_reid_bootstrap (none, none, p2, 2, 10, 1, &bs), ==, -1);
  g_assert_cmpint (peac_reid_bootstrap (a2, b2, p2, 4, 0, 1, &bs), ==, -1);
}

static void
test_cli (void)
{
  // A missing folder or image fails the test, naming it (peac_test_shared_path).
  data_dir = peac_test_shared_path ("");
  // Images of three patients; 0664ee2b's c4a0e11a appears in two pairs.
  static const char *rows[][3] = {
    { "0664ee2b", "c4a0e11a", "33ad0dcb" },
    { "0664ee2b", "c4a0e11a", "26e8db49" },
    { "042f06a9", "b343e657", "c9280a30" },
    { "177330aa", "4d98e1de", "80b5f00f" },
  };
  GString *s = g_string_new ("patient_id,image_a,image_b,day_a\n");
  const char *files[8];
  int pid[8], n = 0;
  for (int i = 0; i < 4; i++)
    {
      g_string_append_printf (s, "%s,cxr/hannover-covid19/png/%s.png,cxr/hannover-covid19/png/%s.png,0\n",
                              rows[i][0], rows[i][1], rows[i][2]);
      for (int k = 1; k < 3; k++)
        {
          int seen = 0;
          for (int t = 0; t < n; t++)
            seen |= strcmp (files[t], rows[i][k]) == 0;
          if (!seen)
            files[n] = rows[i][k], pid[n] = i < 2 ? 0 : i - 1, n++;
        }
    }
  g_assert_cmpint (n, ==, 7);
  g_autofree char *pairs = tmp_file ("pairs.csv");
  g_assert_true (g_file_set_contents (pairs, s->str, -1, NULL));
  g_string_free (s, TRUE);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *rel = g_strdup_printf ("cxr/hannover-covid19/png/%s.png", files[i]);
      g_free (peac_test_shared_path (rel));
    }

  g_autofree char *model = peac_test_write_micro_vit (tmp_dir);
  const char *args[] = { "--model", model, "--pairs", pairs, "--root", data_dir, "--json",
                         "-q", NULL };
  json_t *j = peac_test_run_json (peac_path, "eval-reid", args);
  g_assert_cmpint (json_integer_value (json_object_get (j, "images")), ==, 7);
  g_assert_cmpint (json_integer_value (json_object_get (j, "patients")), ==, 3);
  g_assert_cmpint (json_integer_value (json_object_get (j, "queries")), ==, 7);
  g_assert_cmpint (json_integer_value (json_object_get (j, "dim")), ==, 64);

  // The same score from embeddings computed here.
  char err[256];
  PeacModel *m = peac_model_load (model, err, sizeof err);
  g_assert_nonnull (m);
  float emb[7 * 64];
  for (int i = 0; i < n; i++)
    {
      g_autofree char *p = g_strdup_printf ("%s/cxr/hannover-covid19/png/%s.png", data_dir, files[i]);
      pooled_of (m, p, emb + i * 64);
    }
  peac_model_free (m);
  PeacReidScore sc;
  g_assert_cmpint (peac_reid_score (emb, n, 64, pid, &sc), ==, 0);
  g_assert_cmpfloat_with_epsilon (json_real_value (json_object_get (j, "top1")), sc.top1, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_real_value (json_object_get (j, "top5")), sc.top5, 1e-9);
  g_assert_cmpint (sc.n_images, ==, 7);
  g_assert_cmpfloat (sc.top5, >=, sc.top1);
  json_decref (j);

  // --patients: two of the three (comments and blank lines ignored).
  g_autofree char *keep = tmp_file ("keep.txt");
  g_assert_true (g_file_set_contents (keep, "# held out\n0664ee2b\n\n177330aa\n", -1, NULL));
  const char *kargs[] = { "--model", model, "--pairs", pairs, "--root", data_dir,
                          "--patients", keep, "--random-init", "--json", "-q", NULL };
  j = peac_test_run_json (peac_path, "eval-reid", kargs);
  g_assert_cmpint (json_integer_value (json_object_get (j, "images")), ==, 5);
  g_assert_cmpint (json_integer_value (json_object_get (j, "patients")), ==, 2);
  g_assert_true (json_is_true (json_object_get (j, "random_init")));
  double t1 = json_real_value (json_object_get (j, "top1"));
  g_assert_cmpfloat (fabs (t1 * 5 - round (t1 * 5)), <, 1e-9);
  json_decref (j);
  // --bootstrap: the model and, on the same images, the random init that --random-init
  // scores alone; the difference is theirs and lies in its interval.
  const char *bsargs[] = { "--model", model, "--pairs", pairs, "--root", data_dir,
                           "--patients", keep, "--bootstrap", "300", "--json", "-q", NULL };
  j = peac_test_run_json (peac_path, "eval-reid", bsargs);
  double m1 = json_real_value (json_object_get (j, "top1"));
  double r1 = json_real_value (json_object_get (j, "random_init_top1"));
  double d = json_real_value (json_object_get (j, "top1_diff"));
  json_t *ci = json_object_get (j, "top1_diff_ci95");
  g_assert_cmpfloat_with_epsilon (r1, t1, 1e-9);
  g_assert_cmpfloat_with_epsilon (d, m1 - r1, 1e-9);
  g_assert_cmpfloat (json_real_value (json_array_get (ci, 0)), <=, d);
  g_assert_cmpfloat (json_real_value (json_array_get (ci, 1)), >=, d);
  g_assert_cmpint (json_integer_value (json_object_get (j, "bootstrap")), ==, 300);
  json_decref (j);
  const char *both[] = { "--model", model, "--pairs", pairs, "--random-init", "--bootstrap",
                         "10", NULL };
  g_auto (PeacTestRun) rb = { 0 };
  peac_test_run (&rb, peac_path, "eval-reid", both);
  g_assert_cmpint (rb.status, ==, 2);
  g_assert_nonnull (strstr (rb.err, "--random-init"));

  // Bad pairs file: no image_b column.
  g_autofree char *bad = tmp_file ("bad.csv");
  g_assert_true (g_file_set_contents (bad, "patient_id,image_a\nx,y.png\n", -1, NULL));
  const char *bargs[] = { "--model", model, "--pairs", bad, NULL };
  g_auto (PeacTestRun) r = { 0 };
  peac_test_run (&r, peac_path, "eval-reid", bargs);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, bad));
  g_assert_nonnull (strstr (r.err, "line 1"));
  g_unlink (bad), g_unlink (keep), g_unlink (pairs), g_unlink (model);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  tmp_dir = g_dir_make_tmp ("peac-reid-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  g_test_add_func ("/eval-reid/planted", test_planted);
  g_test_add_func ("/eval-reid/bootstrap", test_bootstrap);
  g_test_add_func ("/eval-reid/cli", test_cli);
  int rc = g_test_run ();
  g_rmdir (tmp_dir);
  g_free (tmp_dir), g_free (data_dir);
  return rc;
}
