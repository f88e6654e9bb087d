// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-propagate: `peac propagate` and `peac eval-landmarks --atlas` as real processes, with
// a random-init micro ViT and references written here as *.landmarks.json beside a JSRT
// radiograph read in place (no image is copied). A radiograph propagated onto itself from
// its own points gives them back; two references on the same image, one shifted by 10 px,
// fuse to the midpoint with a spread of 5 px (equal weights, a median of two: worked out by
// hand); the cardiothoracic ratio written matches the one computed here from the true
// points; bad input (K beyond the atlas, a reference without landmarks, a structure with
// another point count, a missing target, an existing output) fails with the documented exit
// code and writes nothing. eval-landmarks --atlas on three JSRT images, leave-one-out:
// every target scored, RMS at least the mean error, the mean-shape baseline present.
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

// Writes set (optionally shifted by dx and truncated to its first n points) as
// dir/name.landmarks.json.
static void
write_ref (const PxLandmarkSet *set, const char *dir, const char *name, double dx, int n)
{
  g_autoptr (PxLandmarkSet) out = px_landmark_set_new ();
  out->image_path = g_strdup (set->image_path);
  out->image_width = set->image_width;
  out->image_height = set->image_height;
  for (guint i = 0; i < px_landmark_set_size (set) && (n < 0 || (int) i < n); i++)
    {
      const PxLandmark *l = px_landmark_set_get (set, i);
      px_landmark_set_add (out, l->name, l->structure, l->index, l->x + dx, l->y, NULL);
    }
  g_autofree char *file = g_strconcat (name, ".landmarks.json", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (px_landmarks_save_json (out, path, &error));
}

// Cardiothoracic ratio by hand: the heart's x extent over the x extent of both lungs.
static double
ctr_of (const PxLandmarkSet *set)
{
  double h0 = INFINITY, h1 = -INFINITY, l0 = INFINITY, l1 = -INFINITY;
  for (guint i = 0; i < px_landmark_set_size (set); i++)
    {
      const PxLandmark *l = px_landmark_set_get (set, i);
      if (!g_strcmp0 (l->structure, "H"))
        h0 = MIN (h0, l->x), h1 = MAX (h1, l->x);
      else if (!g_strcmp0 (l->structure, "RL") || !g_strcmp0 (l->structure, "LL"))
        l0 = MIN (l0, l->x), l1 = MAX (l1, l->x);
    }
  return (h1 - h0) / (l1 - l0);
}

static PxLandmarkSet *
load_out (const char *dir, const char *stem)
{
  g_autofree char *file = g_strconcat (stem, ".landmarks.json", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (GError) error = NULL;
  PxLandmarkSet *set = px_landmarks_load_json (path, &error);
  g_assert_no_error (error);
  return set;
}

static void
test_propagate (void)
{
  g_autofree char *jsrt = peac_test_shared_path ("landmarks/jsrt");
  g_autoptr (GError) error = NULL;
  g_autoptr (PxLandmarkSet) truth = px_landmarks_load_jsrt (jsrt, "JPCLN004", &error);
  g_assert_no_error (error);
  const guint n = px_landmark_set_size (truth);
  const double cell = 2048.0 / 14;  // the micro ViT's patch cell on a 2048-px image

  g_autofree char *one = g_build_filename (tmp_dir, "one", NULL);
  g_autofree char *two = g_build_filename (tmp_dir, "two", NULL);
  g_autofree char *out = g_build_filename (tmp_dir, "out", NULL);
  g_assert_cmpint (g_mkdir (one, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (two, 0755), ==, 0);
  write_ref (truth, one, "a", 0, -1);
  write_ref (truth, two, "a", 0, -1);
  write_ref (truth, two, "b", 10, -1);

  // K = 1: the image onto itself gives its own points back.
  PeacTestRun r = { 0 };
  const char *self[] = { "propagate", "--model", model_path, "--atlas", one, "-k", "1",
                         "-o", out, truth->image_path, NULL };
  peac_test_run (&r, peac_path, NULL, self);
  if (r.status != 0)
    g_error ("propagate failed: %s", r.err);
  g_free (r.out), g_free (r.err);
  g_autofree char *stem = g_strdup ("JPCLN004.IMG");
  {
    g_autoptr (PxLandmarkSet) got = load_out (out, stem);
    g_assert_cmpuint (px_landmark_set_size (got), ==, n);
    double err = 0;
    for (guint i = 0; i < n; i++)
      {
        const PxLandmark *a = px_landmark_set_get (got, i), *b = px_landmark_set_get (truth, i);
        g_assert_cmpstr (a->name, ==, b->name);
        g_assert_cmpstr (a->structure, ==, b->structure);
        g_assert_cmpint (a->index, ==, b->index);
        g_assert_cmpfloat (a->spread_px, ==, 0.0);
        err += hypot (a->x - b->x, a->y - b->y);
      }
    g_test_message ("self-propagation: mean error %.2f px", err / n);
    g_assert_cmpfloat (err / n, <, 0.1 * cell);
    g_assert_true (got->ctr.valid);
    g_assert_cmpfloat (fabs (got->ctr.ratio - ctr_of (truth)), <, 0.02);
  }

  // The token cache: the reference and the target are one image, so one file; a second
  // run reads it back and answers exactly the same, as does a run without the cache.
  g_autofree char *tokens = g_build_filename (tmp_dir, "cache", "peac-explorer", "tokens", NULL);
  int cached = 0;
  {
    g_autoptr (GDir) d = g_dir_open (tokens, 0, NULL);
    g_assert_nonnull (d);
    while (g_dir_read_name (d))
      cached++;
  }
  g_assert_cmpint (cached, ==, 1);
  {
    g_autoptr (PxLandmarkSet) first = load_out (out, stem);
    for (int run = 0; run < 2; run++)
      {
        const char *again[] = { "propagate", "--model", model_path, "--atlas", one, "-k", "1",
                                "-o", out, "--force", run ? "--no-cache" : "--force",
                                truth->image_path, NULL };
        peac_test_run (&r, peac_path, NULL, again);
        g_assert_cmpint (r.status, ==, 0);
        g_free (r.out), g_free (r.err);
        g_autoptr (PxLandmarkSet) got = load_out (out, stem);
        for (guint i = 0; i < n; i++)
          {
            g_assert_cmpfloat (px_landmark_set_get (got, i)->x, ==, px_landmark_set_get (first, i)->x);
            g_assert_cmpfloat (px_landmark_set_get (got, i)->y, ==, px_landmark_set_get (first, i)->y);
          }
      }
  }

  // An existing output is refused without --force; --force replaces it.
  peac_test_run (&r, peac_path, NULL, self);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "--force"));
  g_free (r.out), g_free (r.err);

  // K = 2 on the same image, one copy shifted by 10 px: the weighted median of two equal
  // weights is their midpoint, 5 px from each.
  const char *pair[] = { "propagate", "--model", model_path, "--atlas", two, "-k", "2",
                         "-o", out, "--force", truth->image_path, NULL };
  peac_test_run (&r, peac_path, NULL, pair);
  if (r.status != 0)
    g_error ("propagate failed: %s", r.err);
  g_free (r.out), g_free (r.err);
  {
    g_autoptr (PxLandmarkSet) got = load_out (out, stem);
    double dx = 0, sp = 0;
    for (guint i = 0; i < n; i++)
      {
        const PxLandmark *a = px_landmark_set_get (got, i), *b = px_landmark_set_get (truth, i);
        dx += a->x - b->x;
        sp += a->spread_px;
        g_assert_false (a->unconfirmed);
        g_assert_cmpfloat (a->spread_mm, <, 0); // a PNG has no calibrated spacing
      }
    g_test_message ("two references: mean shift %.2f px, mean spread %.2f px", dx / n, sp / n);
    g_assert_cmpfloat (fabs (dx / n - 5.0), <, 1.0);
    g_assert_cmpfloat (fabs (sp / n - 5.0), <, 1.0);
  }

  // Bad input.
  const char *too_many[] = { "propagate", "--model", model_path, "--atlas", two, "-k", "3",
                             "-o", out, "--force", truth->image_path, NULL };
  peac_test_run (&r, peac_path, NULL, too_many);
  g_assert_cmpint (r.status, ==, 2);
  g_free (r.out), g_free (r.err);

  g_autofree char *gone = g_build_filename (tmp_dir, "gone", NULL);
  const char *missing[] = { "propagate", "--model", model_path, "--atlas", one, "-k", "1",
                            "-o", gone, truth->image_path, "/nonexistent/x.png", NULL };
  peac_test_run (&r, peac_path, NULL, missing);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "/nonexistent/x.png"));
  g_assert_false (g_file_test (gone, G_FILE_TEST_EXISTS)); // nothing written, not even one
  g_free (r.out), g_free (r.err);

  g_autofree char *bad = g_build_filename (tmp_dir, "bad", NULL);
  g_assert_cmpint (g_mkdir (bad, 0755), ==, 0);
  write_ref (truth, bad, "a", 0, -1);
  write_ref (truth, bad, "b", 0, 30);   // RL cut to 30 of its 44 points
  const char *count[] = { "propagate", "--model", model_path, "--atlas", bad, "-k", "1",
                          "-o", gone, truth->image_path, NULL };
  peac_test_run (&r, peac_path, NULL, count);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "b.landmarks.json"));
  g_assert_nonnull (strstr (r.err, "RL"));
  g_free (r.out), g_free (r.err);
  write_ref (truth, bad, "b", 0, 0);    // no landmarks at all
  peac_test_run (&r, peac_path, NULL, count);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "b.landmarks.json"));
  g_assert_nonnull (strstr (r.err, "no landmarks"));
  g_assert_false (g_file_test (gone, G_FILE_TEST_EXISTS));
  g_free (r.out), g_free (r.err);
}

static void
test_eval_atlas (void)
{
  g_autofree char *jsrt = peac_test_shared_path ("landmarks/jsrt");
  PeacTestRun r = { 0 };
  const char *args[] = { "eval-landmarks", "--model", model_path, "--data", jsrt, "--atlas",
                         jsrt, "--atlas-k", "2", "--images", "3", "--protocol", "hybridgnet",
                         "--json", NULL };
  json_t *o = peac_test_run_json (peac_path, NULL, args);
  json_t *rows[2] = { json_object_get (o, "model_atlas"),
                      json_object_get (json_object_get (o, "baselines"), "mean_shape_atlas") };
  for (int k = 0; k < 2; k++)
    {
      g_assert_nonnull (rows[k]);
      g_assert_cmpint (json_integer_value (json_object_get (rows[k], "images")), ==, 3);
      g_assert_cmpint (json_integer_value (json_object_get (rows[k], "points")), ==, 3 * 166);
      const double mre = json_real_value (json_object_get (rows[k], "mre_px"));
      const double rms = json_real_value (json_object_get (rows[k], "rms_px"));
      const double con = json_real_value (json_object_get (rows[k], "contour_px"));
      g_assert_cmpfloat (mre, >, 0);
      g_assert_cmpfloat (rms, >=, mre * 0.999); // per image RMS ≥ mean, and so their means
      g_assert_cmpfloat (con, <=, mre + 1e-9);  // the true point lies on its contour
      json_t *p = json_object_get (rows[k], "protocol");
      g_assert_cmpstr (json_string_value (json_object_get (p, "name")), ==, "hybridgnet");
    }
  json_t *ctr = json_object_get (o, "ctr");
  g_assert_cmpint (json_integer_value (json_object_get (ctr, "images")), ==, 3);
  g_assert_cmpint (json_array_size (json_object_get (ctr, "per_image")), ==, 3);
  json_decref (o);

  // K beyond the leave-one-out atlas (3 images, 2 references each) is a bad command line.
  const char *big[] = { "eval-landmarks", "--model", model_path, "--data", jsrt, "--atlas",
                        jsrt, "--atlas-k", "3", "--images", "3", NULL };
  peac_test_run (&r, peac_path, NULL, big);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--atlas-k"));
  g_free (r.out), g_free (r.err);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  tmp_dir = g_dir_make_tmp ("peac-propagate-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  // The token cache goes to the user's cache folder: here, a temporary one.
  g_autofree char *cache = g_build_filename (tmp_dir, "cache", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  model_path = peac_test_write_micro_vit (tmp_dir);
  g_test_add_func ("/propagate/files", test_propagate);
  g_test_add_func ("/propagate/eval-atlas", test_eval_atlas);
  int rc = g_test_run ();
  peac_test_remove_tree (tmp_dir);
  g_free (model_path);
  g_free (tmp_dir);
  return rc;
}
