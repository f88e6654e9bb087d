// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-tsne-landmarks: runs the built `peac tsne --model M --landmarks DIR` (path from argv)
// with a random-init ViT micro checkpoint written to a temp folder, on the JSRT landmark
// folder of $PEAC_SHARED_DIR read in place. The CSV holds exactly one row per (image,
// selected landmark) — the first N images of the folder and, per structure, the points
// ⌊k·n/K⌋ — with finite coordinates; --json reports a finite KL; the PNG is written; named
// images and every point (K = 0) give 166 rows per image; a missing folder fails, naming it.
// Also the engine's token sampler the landmark mode uses (peac_match_sample_token).
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "match.h"
#include "peac-test-cli.h"
#include "px-landmarks.h"

static const char *peac_path;
static char *model_path;
static char *tmp_dir;

static char *
jsrt_dir (void)
{
  return peac_test_shared_path ("landmarks/jsrt");
}

// The "ID,name" keys the CLI should emit for image id with K points per structure.
static void
expected_keys (const char *dir, const char *id, int K, GHashTable *keys)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PxLandmarkSet) set = px_landmarks_load_jsrt (dir, id, &error);
  g_assert_no_error (error);
  for (int s = 0; s < 5; s++)
    {
      const char *st = px_landmarks_jsrt_structures[s];
      int n = 0;
      for (guint i = 0; i < px_landmark_set_size (set); i++)
        n += g_strcmp0 (px_landmark_set_get (set, i)->structure, st) == 0;
      g_assert_cmpint (n, >, 0);
      int k_n = K > 0 && K < n ? K : n;
      for (int k = 0; k < k_n; k++)
        g_hash_table_add (keys, g_strdup_printf ("%s,%s.%d", id, st,
                                                 k_n == n ? k : (int) ((long) k * n / k_n)));
    }
}

// Parses the CSV; every row's "image,landmark" must be in keys and appear once; returns rows.
static int
check_csv (const char *path, GHashTable *keys)
{
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "image,landmark,x,y");
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  int rows = 0;
  double spread = 0;
  for (int i = 1; lines[i] && lines[i][0]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      g_assert_cmpint (g_strv_length (f), ==, 4);
      char *key = g_strdup_printf ("%s,%s", f[0], f[1]);
      if (!g_hash_table_contains (keys, key))
        g_error ("unexpected row '%s'", lines[i]);
      g_assert_false (g_hash_table_contains (seen, key));
      g_hash_table_add (seen, key);
      for (int c = 2; c < 4; c++)
        {
          char *end;
          double v = g_ascii_strtod (f[c], &end);
          g_assert_cmpint (*end, ==, '\0');
          g_assert_true (isfinite (v));
          spread = fmax (spread, fabs (v));
        }
      rows++;
    }
  g_assert_cmpfloat (spread, >, 1e-3);   // a real layout, not every point at the origin
  g_assert_cmpint (rows, ==, g_hash_table_size (keys));
  return rows;
}

static void
test_three_images (void)
{
  g_autofree char *dir = jsrt_dir ();
  g_autofree char *csv = g_build_filename (tmp_dir, "map.csv", NULL);
  g_autofree char *png = g_build_filename (tmp_dir, "map.png", NULL);
  const char *args[] = { "tsne", "--model", model_path, "--landmarks", dir, "--max-images",
                         "3", "--threads", "2", "--json", "-o", csv, "--png", png, NULL };
  json_t *o = peac_test_run_json (peac_path, NULL, args);
  g_assert_cmpint (json_integer_value (json_object_get (o, "n")), ==, 60);
  g_assert_cmpint (json_integer_value (json_object_get (o, "images")), ==, 3);
  double kl = json_real_value (json_object_get (o, "kl_divergence"));
  g_assert_true (isfinite (kl) && kl > 0);
  json_decref (o);

  // The first three IDs of the folder, four points of each of the five structures.
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ids = px_landmarks_jsrt_list (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_strv_length (ids), >=, 3);
  g_autoptr (GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < 3; i++)
    expected_keys (dir, ids[i], 4, keys);
  g_assert_cmpint (check_csv (csv, keys), ==, 3 * 5 * 4);

  g_autofree char *head = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (png, &head, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_cmpmem (head, 8, "\x89PNG\r\n\x1a\n", 8);
  g_unlink (csv);
  g_unlink (png);
}

static void
test_named_all_points (void)
{
  g_autofree char *dir = jsrt_dir ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ids = px_landmarks_jsrt_list (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_strv_length (ids), >=, 5);
  // One image by its file path, one by ID; every point, tokens averaged over a crop.
  g_autofree char *file = g_strdup_printf ("%s/images_2048/%s.IMG.png", dir, ids[4]);
  g_autofree char *csv = g_build_filename (tmp_dir, "all.csv", NULL);
  PeacTestRun r = { 0 };
  const char *args[] = { "tsne", "--model", model_path, "--landmarks", dir, "-q",
                         "--points-per-structure", "0", "--sample", "crop", "--threads", "2",
                         file, ids[2], "-o", csv, NULL };
  peac_test_run (&r, peac_path, NULL, args);
  g_assert_cmpint (r.status, ==, 0);
  peac_test_run_clear (&r);
  g_autoptr (GHashTable) keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  expected_keys (dir, ids[4], 0, keys);
  expected_keys (dir, ids[2], 0, keys);
  g_assert_cmpint (check_csv (csv, keys), ==, 2 * (44 + 50 + 26 + 23 + 23));
  g_unlink (csv);
}

static void
test_sample_token (void)
{
  // 2×3 grid, two channels: channel 0 = column, channel 1 = 10·row.
  float tok[2 * 3 * 2], out[2];
  for (int r = 0; r < 2; r++)
    for (int c = 0; c < 3; c++)
      {
        tok[(r * 3 + c) * 2] = (float) c;
        tok[(r * 3 + c) * 2 + 1] = 10.0f * r;
      }
  const double at[][4] = {
    // u, v → expected channel 0, channel 1
    { 0.5, 0.5, 0.0, 0.0 },     // a cell centre is that cell's token
    { 2.5, 1.5, 2.0, 10.0 },
    { 1.0, 1.0, 0.5, 5.0 },     // midway between four centres
    { 1.75, 0.75, 1.25, 2.5 },
    { -4.0, 9.0, 0.0, 10.0 },   // clamped to the border
  };
  for (guint i = 0; i < G_N_ELEMENTS (at); i++)
    {
      peac_match_sample_token (tok, 2, 3, 2, at[i][0], at[i][1], out);
      g_assert_cmpfloat (fabs (out[0] - at[i][2]), <, 1e-6);
      g_assert_cmpfloat (fabs (out[1] - at[i][3]), <, 1e-5);
    }
}

static void
test_bad_input (void)
{
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such-folder", NULL);
  g_autofree char *csv = g_build_filename (tmp_dir, "bad.csv", NULL);
  PeacTestRun r = { 0 };
  const char *args[] = { "tsne", "--model", model_path, "--landmarks", missing, "-o", csv, NULL };
  peac_test_run (&r, peac_path, NULL, args);
  g_assert_cmpint (r.status, !=, 0);
  g_assert_nonnull (strstr (r.err, missing));
  g_assert_false (g_file_test (csv, G_FILE_TEST_EXISTS));
  peac_test_run_clear (&r);
  // --landmarks without --model is a usage error.
  const char *args2[] = { "tsne", "--landmarks", tmp_dir, NULL };
  peac_test_run (&r, peac_path, NULL, args2);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--model"));
  peac_test_run_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  tmp_dir = g_dir_make_tmp ("peac-tsne-lm-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);
  model_path = peac_test_write_micro_vit (tmp_dir);
  g_test_add_func ("/tsne-landmarks/sample-token", test_sample_token);
  g_test_add_func ("/tsne-landmarks/three-images", test_three_images);
  g_test_add_func ("/tsne-landmarks/named-all-points", test_named_all_points);
  g_test_add_func ("/tsne-landmarks/bad-input", test_bad_input);
  int rc = g_test_run ();
  g_remove (model_path);
  g_rmdir (tmp_dir);
  g_free (model_path);
  g_free (tmp_dir);
  return rc;
}
