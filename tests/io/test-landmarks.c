// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-landmarks: the landmark readers on the shared files (JSRT .npy sets in float64, the
// float32 files of the landmark data set, Shenzhen and Montgomery per-image CSVs), checked
// against values decoded independently from the raw bytes; malformed .npy and CSV input;
// and the JSON format: exact round trip, atomic replacement, and a table of malformed
// documents that must be refused with a message naming the file.
#include <glib.h>
#include <math.h>
#include <string.h>

#include "io-test-util.h"
#include "peac-test-cli.h"
#include "px-landmarks.h"

// Row i of an (N, 2) little-endian .npy, decoded here from the bytes (header length at
// offset 8, data after it) so the reader is checked against an independent decoding.
static void
raw_npy_point (const char *path, int i, double *x, double *y)
{
  g_autofree char *buf = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &buf, &len, NULL));
  guint16 hlen = (guint8) buf[8] | (guint16) ((guint8) buf[9] << 8);
  const char *data = buf + 10 + hlen;
  if (strstr (buf + 10, "'<f8'"))
    {
      double v[2];
      memcpy (v, data + 16 * i, 16);
      *x = v[0], *y = v[1];
    }
  else
    {
      g_assert_nonnull (strstr (buf + 10, "'<f4'"));
      float v[2];
      memcpy (v, data + 8 * i, 8);
      *x = v[0], *y = v[1];
    }
}

static void
test_jsrt (void)
{
  g_autofree char *img = peac_test_shared_path ("landmarks/jsrt/images_2048/JPCLN004.IMG.png");
  g_autofree char *dir = g_path_get_dirname (img);
  g_autofree char *jsrt = g_path_get_dirname (dir);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ids = px_landmarks_jsrt_list (jsrt, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ids), ==, 65);
  g_assert_cmpstr (ids[0], ==, "JPCLN004");
  g_assert_true (g_strv_contains ((const char *const *) ids, "JPCNN093"));

  g_autoptr (PxLandmarkSet) set = px_landmarks_load_jsrt (jsrt, "JPCLN004", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (set->image_path, ==, img);
  g_assert_cmpint (set->image_width, ==, 2048);
  g_assert_cmpint (set->image_height, ==, 2048);
  g_assert_cmpuint (px_landmark_set_size (set), ==, 44 + 50 + 26 + 23 + 23);
  const int first[5] = { 0, 44, 94, 120, 143 };
  for (int s = 0; s < 5; s++)
    {
      const char *st = px_landmarks_jsrt_structures[s];
      PxLandmark *l = px_landmark_set_get (set, first[s] + 1);
      g_autofree char *name = g_strdup_printf ("%s.1", st);
      g_assert_cmpstr (l->name, ==, name);
      g_assert_cmpstr (l->structure, ==, st);
      g_assert_cmpint (l->index, ==, 1);
      g_autofree char *npy = g_strdup_printf ("%s/hybridgnet_landmarks_1024/%s/JPCLN004.npy",
                                              jsrt, st);
      double x, y;
      raw_npy_point (npy, 1, &x, &y);
      // 1024 frame → 2048 image, pixel centres: (x + ½)·2 − ½.
      g_assert_cmpfloat (fabs (l->x - (2 * x + 0.5)), <, 1e-3);
      g_assert_cmpfloat (fabs (l->y - (2 * y + 0.5)), <, 1e-3);
      g_assert_cmpfloat (l->x, >, 0);
      g_assert_cmpfloat (l->x, <, 2048);
    }
  // Anatomy: the patient's right lung (RL) lies on the image's left of the left lung.
  double rl = 0, ll = 0;
  for (int i = 0; i < 44; i++)
    rl += px_landmark_set_get (set, i)->x / 44;
  for (int i = 44; i < 94; i++)
    ll += px_landmark_set_get (set, i)->x / 50;
  g_assert_cmpfloat (rl + 300, <, ll);

  g_autoptr (PxLandmarkSet) none = px_landmarks_load_jsrt (jsrt, "JPCLN999", &error);
  g_assert_null (none);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "JPCLN999"));
}

static void
test_npy_float32_and_malformed (void)
{
  g_autofree char *f4 = peac_test_shared_path (
    "landmarks/hybridgnet-landmark-dataset/RL/100469495785351489872749036114751610212_rfyvv7.npy");
  g_autoptr (GError) error = NULL;
  g_autoptr (PxLandmarkSet) set = px_landmark_set_new ();
  set->image_width = set->image_height = 1024;   // the frame itself: coordinates unchanged
  g_assert_true (px_landmarks_add_npy (set, f4, "RL", 1024, 1024, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (px_landmark_set_size (set), ==, 44);
  for (int i = 0; i < 44; i += 43)
    {
      double x, y;
      raw_npy_point (f4, i, &x, &y);
      g_assert_cmpfloat (px_landmark_set_get (set, i)->x, ==, x);
      g_assert_cmpfloat (px_landmark_set_get (set, i)->y, ==, y);
    }

  // Wrong shape, big-endian data and a short payload are refused with the file named.
  char *dir = io_test_tmpdir ();
  struct { const char *descr, *shape; gsize payload; int code; } bad[] = {
    { "<f8", "(4, 3)", 96, PX_LANDMARKS_ERROR_INVALID },
    { ">f8", "(4, 2)", 64, PX_LANDMARKS_ERROR_PARSE },
    { "<f8", "(4, 2)", 40, PX_LANDMARKS_ERROR_PARSE },
    { "<i4", "(4, 2)", 32, PX_LANDMARKS_ERROR_PARSE },
  };
  for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      g_autofree char *head = g_strdup_printf ("{'descr': '%s', 'fortran_order': False, "
                                               "'shape': %s, }", bad[k].descr, bad[k].shape);
      GString *h = g_string_new (head);
      while ((10 + h->len + 1) % 64)
        g_string_append_c (h, ' ');
      g_string_append_c (h, '\n');
      GByteArray *b = g_byte_array_new ();
      guint8 magic[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (guint8) h->len, (guint8) (h->len >> 8) };
      g_byte_array_append (b, magic, 10);
      g_byte_array_append (b, (guint8 *) h->str, h->len);
      for (gsize i = 0; i < bad[k].payload; i++)
        g_byte_array_append (b, (const guint8 *) "\0", 1);
      g_autofree char *name = g_strdup_printf ("bad%u.npy", k);
      g_autofree char *p = io_test_write (dir, name, b->data, b->len);
      g_autoptr (GError) e = NULL;
      g_assert_false (px_landmarks_add_npy (set, p, "RL", 1024, 1024, &e));
      g_assert_error (e, PX_LANDMARKS_ERROR, bad[k].code);
      g_assert_nonnull (strstr (e->message, p));
      g_string_free (h, TRUE);
      g_byte_array_unref (b);
    }
  g_assert_cmpuint (px_landmark_set_size (set), ==, 44);

  // CSV: a non-number on line 3 is reported with its line.
  g_autofree char *csv = io_test_write (dir, "bad.csv", "x,y\n1.5,2\n3,abc\n", 16);
  g_autoptr (GError) e = NULL;
  g_assert_false (px_landmarks_add_csv (set, csv, "LL", &e));
  g_assert_error (e, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE);
  g_autofree char *where = g_strdup_printf ("%s:3", csv);
  g_assert_nonnull (strstr (e->message, where));
  io_test_rmdir (dir);
}

static void
check_nlm (const char *set_name, const char *id, int w, int h, double x0, double y0,
           double lx0, double ly0)
{
  g_autofree char *rel = g_strdup_printf ("landmarks/%s/geometry.csv", set_name);
  g_autofree char *geo = peac_test_shared_path (rel);
  g_autofree char *dir = g_path_get_dirname (geo);
  g_autofree char *landmarks = g_path_get_dirname (dir);
  g_autofree char *data = g_path_get_dirname (landmarks);
  g_autoptr (GError) error = NULL;
  g_autoptr (PxLandmarkSet) set = px_landmarks_load_nlm (dir, data, id, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (set->image_path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (set->image_width, ==, w);
  g_assert_cmpint (set->image_height, ==, h);
  g_assert_cmpuint (px_landmark_set_size (set), ==, 44 + 50);
  PxLandmark *rl = px_landmark_set_get (set, 0), *ll = px_landmark_set_get (set, 44);
  g_assert_cmpstr (rl->name, ==, "RL.0");
  g_assert_cmpstr (ll->name, ==, "LL.0");
  g_assert_cmpfloat (rl->x, ==, x0);
  g_assert_cmpfloat (rl->y, ==, y0);
  g_assert_cmpfloat (ll->x, ==, lx0);
  g_assert_cmpfloat (ll->y, ==, ly0);
  // The id list: one per data row of geometry.csv, sorted, this id among them.
  g_auto (GStrv) ids = px_landmarks_nlm_list (dir, &error);
  g_assert_no_error (error);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (geo, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint rows = 0;
  for (guint i = 0; lines[i]; i++)
    rows += lines[i][0] != '\0';
  g_assert_cmpuint (g_strv_length (ids), ==, rows - 1);
  gboolean seen = FALSE;
  for (guint i = 0; ids[i]; i++)
    {
      seen |= !strcmp (ids[i], id);
      if (i)
        g_assert_cmpint (strcmp (ids[i - 1], ids[i]), <, 0);
    }
  g_assert_true (seen);
  g_autoptr (PxLandmarkSet) none = px_landmarks_load_nlm (dir, data, "NOPE_0000", &error);
  g_assert_null (none);
  g_assert_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_MISSING);
}

static void
test_nlm (void)
{
  // First rows of the CSVs, as printed in the files.
  check_nlm ("shenzhen", "CHNCXR_0005_0", 750, 733, 292.597, 118.084, 455.854, 121.277);
}

static void
test_montgomery (void)
{
  check_nlm ("montgomery", "MCUCXR_0196_1", 1005, 1223, 358.934, 72.541, 614.174, 79.233);
}

static void
test_json_round_trip (void)
{
  char *dir = io_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "marks.json", NULL);
  g_autoptr (PxLandmarkSet) set = px_landmark_set_new ();
  set->image_path = g_strdup ("studies/Brustbild ä.png");
  set->image_width = 640;
  set->image_height = 524;
  px_landmark_set_add (set, "carina", NULL, -1, 320.125, 200.0 / 3.0, "#e01b24");
  px_landmark_set_add (set, "RL.3", "RL", 3, -0.5, 1e-7, NULL);
  px_landmark_set_add (set, "Zwerchfell rechts", NULL, -1, 639.5, 523.25, "#00FF7f");
  px_landmark_set_get (set, 2)->unconfirmed = TRUE;
  px_landmark_set_get (set, 1)->spread_px = 12.25;
  px_landmark_set_get (set, 1)->spread_mm = 0.1 * 12.25;
  set->ctr = (PxLandmarkCtr) { TRUE, 0.5, 100.0, 200.0, { 10, 20.5, 110, 20.5 },
                               { 1, 30, 201, 30 } };
  g_autoptr (GError) error = NULL;
  g_assert_true (px_landmarks_save_json (set, path, &error));
  g_assert_no_error (error);
  // Saving again replaces the file and leaves nothing else behind.
  px_landmark_set_get (set, 0)->x = 321.0;
  g_assert_true (px_landmarks_save_json (set, path, &error));
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  int files = 0;
  while (g_dir_read_name (d))
    files++;
  g_assert_cmpint (files, ==, 1);

  g_autoptr (PxLandmarkSet) back = px_landmarks_load_json (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->image_path, ==, set->image_path);
  g_assert_cmpint (back->image_width, ==, 640);
  g_assert_cmpint (back->image_height, ==, 524);
  g_assert_cmpuint (px_landmark_set_size (back), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      PxLandmark *a = px_landmark_set_get (set, i), *b = px_landmark_set_get (back, i);
      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpstr (a->structure, ==, b->structure);
      g_assert_cmpstr (a->color, ==, b->color);
      g_assert_cmpint (a->index, ==, b->index);
      g_assert_cmpint (a->unconfirmed, ==, b->unconfirmed);
      g_assert_cmpfloat (a->x, ==, b->x);   // exact: written with 17 significant digits
      g_assert_cmpfloat (a->y, ==, b->y);
      g_assert_cmpfloat (a->spread_px, ==, b->spread_px);
      g_assert_cmpfloat (a->spread_mm, ==, b->spread_mm);
    }
  g_assert_cmpfloat (px_landmark_set_get (back, 0)->spread_px, <, 0); // absent stays absent
  g_assert_true (back->ctr.valid);
  g_assert_cmpfloat (back->ctr.ratio, ==, 0.5);
  g_assert_cmpfloat (back->ctr.heart_width_px, ==, 100.0);
  g_assert_cmpfloat (back->ctr.thorax_width_px, ==, 200.0);
  for (int k = 0; k < 4; k++)
    {
      g_assert_cmpfloat (back->ctr.heart_line[k], ==, set->ctr.heart_line[k]);
      g_assert_cmpfloat (back->ctr.thorax_line[k], ==, set->ctr.thorax_line[k]);
    }
  g_assert_cmpfloat (px_landmark_set_get (back, 0)->x, ==, 321.0);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"format\": \"peac-landmarks\""));
  g_assert_nonnull (strstr (text, "\"version\": 1"));
  // Only the unconfirmed point carries the key.
  g_assert_nonnull (strstr (text, "\"confirmed\": false"));
  g_assert_null (strstr (text, "\"confirmed\": true"));
  g_assert_true (strstr (text, "\"confirmed\"") == g_strrstr (text, "\"confirmed\""));
  g_assert_true (strstr (text, "\"spread_px\"") == g_strrstr (text, "\"spread_px\""));
  g_assert_nonnull (strstr (text, "\"cardiothoracic_ratio\""));

  // Unsaveable: a point without a name.
  px_landmark_set_add (set, "", NULL, -1, 1, 1, NULL);
  g_assert_false (px_landmarks_save_json (set, path, &error));
  g_assert_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_INVALID);
  g_clear_error (&error);
  g_autoptr (PxLandmarkSet) still = px_landmarks_load_json (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (px_landmark_set_size (still), ==, 3);
  io_test_rmdir (dir);
}

static void
test_json_malformed (void)
{
  struct { const char *text, *says; int code; } bad[] = {
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [", "", PX_LANDMARKS_ERROR_PARSE },
    { "[]", "top level", PX_LANDMARKS_ERROR_INVALID },
    { "{\"version\": 1, \"landmarks\": []}", "\"format\"", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 2, \"landmarks\": []}", "newer", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1}", "\"landmarks\"", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [{\"name\": \"a\", \"x\": \"1\", \"y\": 2}]}",
      "\"x\"", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [{\"x\": 1, \"y\": 2}]}",
      "landmark 0", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [{\"name\": \"a\", \"x\": 1, \"y\": 2},"
      " {\"name\": \"a\", \"x\": 3, \"y\": 4}]}", "duplicate", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [{\"name\": \"a\", \"x\": 1, \"y\": 2,"
      " \"color\": \"red\"}]}", "#rrggbb", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"image\": {\"width\": 3}, \"landmarks\": []}",
      "height", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [{\"name\": \"a\", \"x\": 1, \"y\": 2,"
      " \"index\": -1}]}", "index", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [{\"name\": \"a\", \"x\": 1, \"y\": 2,"
      " \"confirmed\": 0}]}", "\"confirmed\"", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [{\"name\": \"a\", \"x\": 1, \"y\": 2,"
      " \"spread_px\": -3}]}", "\"spread_px\"", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [], \"measurements\": 3}",
      "\"measurements\"", PX_LANDMARKS_ERROR_INVALID },
    { "{\"format\": \"peac-landmarks\", \"version\": 1, \"landmarks\": [], \"measurements\":"
      " {\"cardiothoracic_ratio\": {\"ratio\": 0.5, \"heart_width_px\": 1, \"thorax_width_px\": 2,"
      " \"heart_line\": [1, 2, 3], \"thorax_line\": [1, 2, 3, 4]}}}", "heart_line", PX_LANDMARKS_ERROR_INVALID },
  };
  char *dir = io_test_tmpdir ();
  for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      g_autofree char *name = g_strdup_printf ("bad%u.json", k);
      g_autofree char *p = io_test_write (dir, name, bad[k].text, strlen (bad[k].text));
      g_autoptr (GError) error = NULL;
      g_autoptr (PxLandmarkSet) set = px_landmarks_load_json (p, &error);
      g_assert_null (set);
      g_assert_error (error, PX_LANDMARKS_ERROR, bad[k].code);
      g_assert_nonnull (strstr (error->message, p));
      if (strstr (error->message, bad[k].says) == NULL)
        g_error ("case %u: message \"%s\" lacks \"%s\"", k, error->message, bad[k].says);
    }
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (dir, "absent.json", NULL);
  g_assert_null (px_landmarks_load_json (missing, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  io_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/landmarks/jsrt", test_jsrt);
  g_test_add_func ("/landmarks/npy-float32-and-malformed", test_npy_float32_and_malformed);
  g_test_add_func ("/landmarks/shenzhen", test_nlm);
  g_test_add_func ("/landmarks/montgomery", test_montgomery);
  g_test_add_func ("/landmarks/json-round-trip", test_json_round_trip);
  g_test_add_func ("/landmarks/json-malformed", test_json_malformed);
  return g_test_run ();
}
