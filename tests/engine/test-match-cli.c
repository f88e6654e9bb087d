// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-match-cli: runs the built `peac match` and `peac eval-landmarks` (path from argv)
// with a random-init ViT micro checkpoint written to a temp folder. match: a radiograph
// against itself answers the point where it was asked, confidently; bad points and files
// fail with a message and a non-zero exit. eval-landmarks on two JSRT images: the JSON
// layout, both ordered pairs, the identity baseline equal to the landmark distance computed
// here from the files, ordered PCK values, and model-minus-baseline margins that agree with
// the tables, and an affine bound below identity.
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "peac-test-cli.h"
#include "px-landmarks.h"

static const char *peac_path;
static char *model_path;
static char *tmp_dir;

static void
test_match_self (void)
{
  g_autofree char *img = peac_test_shared_path ("cxr/hannover-covid19/png/0a7faa2a.png");
  PeacTestRun r = { 0 };
  const char *args[] = { "match", "--model", model_path, "--point", "300,260", "--json",
                         img, img, NULL };
  json_t *o = peac_test_run_json (peac_path, NULL, args);
  g_assert_cmpstr (json_string_value (json_object_get (o, "mode")), ==, "guided");
  json_t *t = json_array_get (json_object_get (o, "targets"), 0);
  g_assert_true (json_is_true (json_object_get (t, "found")));
  double cell = 640.0 / 14;   // 0a7faa2a is 640 px wide; 14 cells across
  g_assert_cmpfloat (fabs (json_real_value (json_object_get (t, "x")) - 300), <, 0.25 * cell);
  g_assert_cmpfloat (fabs (json_real_value (json_object_get (t, "sim")) - 1.0), <, 1e-4);
  // The affine of an image onto itself is the identity.
  json_t *A = json_object_get (t, "affine");
  g_assert_cmpfloat (fabs (json_real_value (json_array_get (A, 0)) - 1), <, 1e-3);
  g_assert_cmpfloat (fabs (json_real_value (json_array_get (A, 2))), <, 0.5);
  json_decref (o);

  const char *outside[] = { "match", "--model", model_path, "--point", "5000,10", img, img, NULL };
  peac_test_run (&r, peac_path, NULL, outside);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "outside"));
  g_free (r.out), g_free (r.err);

  const char *missing[] = { "match", "--model", model_path, "--point", "5,5", img,
                            "/nonexistent/x.png", NULL };
  peac_test_run (&r, peac_path, NULL, missing);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "/nonexistent/x.png"));
  g_free (r.out), g_free (r.err);
}

static void
test_eval_two_images (void)
{
  g_autofree char *jsrt = peac_test_shared_path ("landmarks/jsrt");
  PeacTestRun r = { 0 };
  const char *args[] = { "eval-landmarks", "--model", model_path, "--data", jsrt,
                         "--images", "2", "--json", NULL };
  json_t *o = peac_test_run_json (peac_path, NULL, args);
  json_t *base = json_object_get (o, "baselines");
  json_t *methods[6] = { json_object_get (o, "model"), json_object_get (o, "model_nearest"),
                         json_object_get (base, "identity"), json_object_get (base, "ncc"),
                         json_object_get (base, "random_init"),
                         json_object_get (json_object_get (o, "bounds"), "affine_oracle") };
  for (int k = 0; k < 6; k++)
    {
      g_assert_nonnull (methods[k]);
      g_assert_cmpint (json_integer_value (json_object_get (methods[k], "pairs")), ==, 2);
      double p1 = json_real_value (json_object_get (methods[k], "pck1"));
      double p2 = json_real_value (json_object_get (methods[k], "pck2"));
      double p4 = json_real_value (json_object_get (methods[k], "pck4"));
      g_assert_cmpfloat (p1, >=, 0);
      g_assert_cmpfloat (p1, <=, p2);
      g_assert_cmpfloat (p2, <=, p4);
      g_assert_cmpfloat (p4, <=, 1);
      double mre = json_real_value (json_object_get (methods[k], "mre_px"));
      // Per pair, the root mean square is at least the mean; the true point lies on its
      // structure's contour, so the distance to the contour is at most the radial error.
      g_assert_cmpfloat (json_real_value (json_object_get (methods[k], "rms_px")), >=, mre - 1e-6);
      g_assert_cmpfloat (json_real_value (json_object_get (methods[k], "contour_px")), <=, mre + 1e-6);
      g_assert_cmpfloat (fabs (json_real_value (json_object_get (methods[k], "mre_mm")) - 0.35 * mre), <, 1e-3);
    }

  // Identity: the mean distance between the two images' landmarks in the 1024 frame.
  g_autoptr (GError) error = NULL;
  g_autoptr (PxLandmarkSet) a = px_landmarks_load_jsrt (jsrt, "JPCLN004", &error);
  g_autoptr (PxLandmarkSet) b = px_landmarks_load_jsrt (jsrt, "JPCLN007", &error);
  g_assert_no_error (error);
  double sum = 0;
  guint n = px_landmark_set_size (a);
  for (guint i = 0; i < n; i++)
    sum += hypot (px_landmark_set_get (a, i)->x - px_landmark_set_get (b, i)->x,
                  px_landmark_set_get (a, i)->y - px_landmark_set_get (b, i)->y) / 2.0;
  double want = sum / n;   // 2048 → 1024: distances halve
  double got = json_real_value (json_object_get (methods[2], "mre_px"));
  g_assert_cmpfloat (fabs (got - want), <, 1e-3 * want);
  g_assert_cmpint (json_integer_value (json_object_get (methods[2], "points")), ==, 2 * n);
  // Landmark retrieval: every landmark of both ordered pairs is one query, per model; the
  // shares are counts over 2n (ranks themselves: test-retrieval).
  json_t *lr = json_object_get (o, "landmark_retrieval");
  for (int k = 0; k < 2; k++)
    {
      json_t *m = json_object_get (lr, k ? "random_init" : "model");
      g_assert_nonnull (m);
      g_assert_cmpint (json_integer_value (json_object_get (m, "queries")), ==, 2 * n);
      double t1 = json_real_value (json_object_get (m, "top1"));
      double t5 = json_real_value (json_object_get (m, "top5"));
      g_assert_cmpfloat (t1, >=, 0);
      g_assert_cmpfloat (t1, <=, t5);
      g_assert_cmpfloat (t5, <=, 1);
      g_assert_cmpfloat (fabs (t1 * 2 * n - round (t1 * 2 * n)), <, 1e-3); // 6 digits
    }
  // The affine bound: identity is an affine, so the least-squares one fits these two
  // landmark sets well inside it (measured: 20.9 against 37.9 px), and never exactly.
  double oracle = json_real_value (json_object_get (methods[5], "mre_px"));
  g_test_message ("affine oracle %.2f px, identity %.2f px", oracle, got);
  g_assert_cmpfloat (oracle, >, 0);
  g_assert_cmpfloat (oracle, <, 0.8 * got);

  // Margins: model minus each baseline. With two images, every resample that keeps a pair
  // draws each image once, so the interval collapses onto the estimate.
  json_t *margins = json_object_get (o, "margins");
  for (int k = 2; k < 5; k++)
    {
      const char *name = k == 2 ? "identity" : k == 3 ? "ncc" : "random_init";
      json_t *mj = json_object_get (margins, name);
      g_assert_nonnull (mj);
      double d = json_real_value (json_object_get (mj, "mre_diff_px"));
      double want_d = json_real_value (json_object_get (methods[0], "mre_px"))
                      - json_real_value (json_object_get (methods[k], "mre_px"));
      g_assert_cmpfloat (fabs (d - want_d), <, 1e-3);
      double dk = json_real_value (json_object_get (mj, "pck1_diff"));
      double want_k = json_real_value (json_object_get (methods[0], "pck1"))
                      - json_real_value (json_object_get (methods[k], "pck1"));
      g_assert_cmpfloat (fabs (dk - want_k), <, 1e-5);
      json_t *ci = json_object_get (mj, "mre_diff_ci95");
      g_assert_cmpfloat (fabs (json_real_value (json_array_get (ci, 0)) - d), <, 1e-3);
      g_assert_cmpfloat (fabs (json_real_value (json_array_get (ci, 1)) - d), <, 1e-3);
      double won = json_real_value (json_object_get (mj, "pairs_better"));
      g_assert_true (won == 0 || won == 0.5 || won == 1);
    }
  json_decref (o);

  // --input: the radiographs fed at 288 px (18 × 18 cells of the 16-px patch); the
  // identity baseline does not involve the model and stays what the landmarks give, and
  // PCK's cell stays the model's own (1024 · 16 / 224).
  const char *scaled[] = { "eval-landmarks", "--model", model_path, "--data", jsrt,
                           "--images", "2", "--input", "288", "--json", NULL };
  o = peac_test_run_json (peac_path, NULL, scaled);
  json_t *cfg = json_object_get (o, "config");
  g_assert_cmpint (json_integer_value (json_object_get (cfg, "input")), ==, 288);
  g_assert_cmpint (json_integer_value (json_object_get (cfg, "grid")), ==, 18);
  g_assert_cmpfloat (fabs (json_real_value (json_object_get (cfg, "cell_px")) - 1024.0 * 16 / 224), <, 1e-3);
  double id2 = json_real_value (json_object_get (json_object_get (json_object_get (o, "baselines"), "identity"), "mre_px"));
  g_assert_cmpfloat (fabs (id2 - want), <, 1e-3 * want);
  json_decref (o);
  const char *odd[] = { "eval-landmarks", "--model", model_path, "--data", jsrt, "--input",
                        "100", NULL };
  peac_test_run (&r, peac_path, NULL, odd);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "not a multiple of the patch size"));
  g_free (r.out), g_free (r.err);

  const char *none[] = { "eval-landmarks", "--model", model_path, "--data", tmp_dir, NULL };
  peac_test_run (&r, peac_path, NULL, none);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, tmp_dir));
  g_free (r.out), g_free (r.err);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  tmp_dir = g_dir_make_tmp ("peac-match-cli-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  model_path = peac_test_write_micro_vit (tmp_dir);
  g_test_add_func ("/match-cli/self", test_match_self);
  g_test_add_func ("/match-cli/eval-two-images", test_eval_two_images);
  int rc = g_test_run ();
  g_remove (model_path);
  g_rmdir (tmp_dir);
  g_free (model_path);
  g_free (tmp_dir);
  return rc;
}
