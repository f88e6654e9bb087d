// SPDX-License-Identifier: GPL-3.0-or-later
//
// What a clinician reads on the correspondence page (issue 23): the per-answer confidence
// in words and numbers and the export columns that carry it, from scenes built by hand,
// so that every expected value is a hand derivation from the documented formulas
// (docs/correspondence.md), never the program's output pasted back.
#include "config.h"

#include <glib/gstdio.h>
#include <adwaita.h>
#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "px-answer-confidence.h"
#include "px-application.h"
#include "px-correspondence-page.h"
#include "px-embedding-map-page.h"
#include "px-viewer.h"
#include "px-export.h"
#include "px-match-scene.h"
#include "px-tag-panel.h"
#include "px-test-util.h"
#include "px-window.h"

#define SIIM "siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"

static PxApplication *app;
static char *tmp_dir;

static PeacMatch
match_of (float margin, float cycle)
{
  PeacMatch m = { 0 };

  m.margin = margin;
  m.cycle = cycle;
  return m;
}

// score = ½·min(1, margin / 0.4) + ½·clamp(1 − max(0, cycle − 1) / 2, 0, 1)
static void
test_match_score (void)
{
  PeacMatch a = match_of (0.2f, 0.0f);   // ½·0.5 + ½·1 = 0.75: high (the engine's threshold)
  PeacMatch b = match_of (0.1f, 2.0f);   // ½·0.25 + ½·0.5 = 0.375: low
  PeacMatch c = match_of (0.5f, 3.0f);   // ½·1 + ½·0 = 0.5: medium
  PeacMatch d = match_of (0.0f, 1.0f);   // ½·0 + ½·1 = 0.5: medium (peak at the answer)
  PeacMatch e = match_of (0.0f, 4.0f);   // 0: low
  PxConfidence ca = px_confidence_of_match (&a);

  g_assert_cmpfloat_with_epsilon (ca.score, 0.75, 1e-6);
  g_assert_cmpint (ca.grade, ==, PX_CONFIDENCE_GRADE_HIGH);
  g_assert_cmpfloat (ca.spread_px, <, 0);
  g_assert_cmpfloat_with_epsilon (px_confidence_match_score (&b), 0.375, 1e-6);
  g_assert_cmpint (px_confidence_of_match (&b).grade, ==, PX_CONFIDENCE_GRADE_LOW);
  g_assert_cmpfloat_with_epsilon (px_confidence_match_score (&c), 0.5, 1e-6);
  g_assert_cmpint (px_confidence_of_match (&c).grade, ==, PX_CONFIDENCE_GRADE_MEDIUM);
  g_assert_cmpfloat_with_epsilon (px_confidence_match_score (&d), 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (px_confidence_match_score (&e), 0.0, 1e-6);
  g_assert_cmpint (px_confidence_grade_of (0.7499), ==, PX_CONFIDENCE_GRADE_MEDIUM);
  g_assert_cmpint (px_confidence_grade_of (0.4999), ==, PX_CONFIDENCE_GRADE_LOW);
}

// A hand-built scene: source and four 1000 × 800 targets on a 10 × 8 grid (cells of
// 100 px, so the confirmation threshold τ = 0.5 cells = 50 px), target 1 calibrated at
// 0.2 mm per pixel. One pin: target 1 propagated with a spread of 25 px, target 2
// corrected by hand, target 3 a matcher answer (margin 0.1, cycle 2), target 4 propagated
// and left unconfirmed with a spread of 60 px.
static void
build_scene (PxMatchScene *scene)
{
  PxMatchPin pin = { 0 };

  memset (scene, 0, sizeof *scene);
  scene->n_panels = 5;
  for (int i = 0; i < 5; i++)
    {
      scene->panels[i].width = 1000;
      scene->panels[i].height = 800;
      scene->panels[i].gw = 10;
      scene->panels[i].gh = 8;
    }
  scene->panels[1].mm = 0.2;
  scene->pins = g_array_new (FALSE, TRUE, sizeof (PxMatchPin));
  pin.name = (char *) "Apex, \"left\"";
  pin.x = 100.5;
  pin.y = 200.5;
  pin.match[0].x = 110.5, pin.match[0].y = 210.5;
  pin.fused[1] = TRUE, pin.spread[1] = 25.0;
  pin.match[1].x = 120.5, pin.match[1].y = 220.5;
  pin.moved[1] = TRUE;
  pin.match[2] = match_of (0.1f, 2.0f);
  pin.match[2].x = 130.5, pin.match[2].y = 230.5;
  pin.match[3].x = 140.5, pin.match[3].y = 240.5;
  pin.moved[3] = TRUE;
  pin.fused[4] = TRUE, pin.spread[4] = 60.0, pin.doubtful[4] = TRUE;
  g_array_append_val (scene->pins, pin);
}

static void
test_pin_confidence (void)
{
  PxMatchScene scene;
  const PxMatchPin *pin;
  PxConfidence c;
  g_autofree char *words = NULL, *words4 = NULL, *manual = NULL;

  build_scene (&scene);
  pin = &g_array_index (scene.pins, PxMatchPin, 0);

  c = px_confidence_of_pin (&scene, pin, 1);      // 1 − 25 / 100 = 0.75
  g_assert_cmpfloat_with_epsilon (c.score, 0.75, 1e-9);
  g_assert_cmpint (c.grade, ==, PX_CONFIDENCE_GRADE_HIGH);
  g_assert_cmpfloat_with_epsilon (c.spread_px, 25.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (c.spread_mm, 5.0, 1e-9);   // 25 px × 0.2 mm
  words = px_confidence_describe (&c);
  g_assert_cmpstr (words, ==, "match confidence: high (0.75), ±5.0 mm");

  c = px_confidence_of_pin (&scene, pin, 4);      // (1 − 60 / 100) · ½ = 0.2, no spacing
  g_assert_cmpfloat_with_epsilon (c.score, 0.2, 1e-9);
  g_assert_cmpint (c.grade, ==, PX_CONFIDENCE_GRADE_LOW);
  g_assert_cmpfloat (c.spread_mm, <, 0);
  words4 = px_confidence_short (&c);
  g_assert_cmpstr (words4, ==, "low 0.20, ±60 px");

  c = px_confidence_of_pin (&scene, pin, 2);
  g_assert_cmpint (c.grade, ==, PX_CONFIDENCE_GRADE_MANUAL);
  manual = px_confidence_describe (&c);
  g_assert_cmpstr (manual, ==, "set by hand");
  g_assert_cmpint (px_confidence_of_pin (&scene, pin, 0).grade, ==, PX_CONFIDENCE_GRADE_MANUAL);
  c = px_confidence_of_pin (&scene, pin, 3);
  g_assert_cmpfloat_with_epsilon (c.score, 0.375, 1e-6);
  g_array_unref (scene.pins);
}

static void
test_export_columns (void)
{
  g_autofree char *dir = g_dir_make_tmp ("px-readable-XXXXXX", NULL);
  g_autofree char *csv = g_build_filename (dir, "points.csv", NULL);
  g_autofree char *json = g_build_filename (dir, "points.json", NULL);
  const char *const names[5] = { "src", "t1", "t2", "t3", "t4" };
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL, *jtext = NULL;
  PxMatchScene scene;
  // Pixel-centre coordinates (x − 0.5); found unless low; spreads only where propagated.
  // mm only on t1 (0.2 mm per pixel): 110.5 × 0.2 = 22.10, 210.5 × 0.2 = 42.10.
  const char *expected =
    "pin,image,role,x,y,found,confidence,grade,spread_px,spread_mm,corrected,x_mm,y_mm,similarity\n"
    "\"Apex, \"\"left\"\"\",\"src\",source,100.00,200.00,1,1.0000,manual,,,0,,,\n"
    "\"Apex, \"\"left\"\"\",\"t1\",target,110.00,210.00,1,0.7500,high,25.00,5.00,0,22.10,42.10,\n"
    "\"Apex, \"\"left\"\"\",\"t2\",target,120.00,220.00,1,1.0000,manual,,,1,,,\n"
    "\"Apex, \"\"left\"\"\",\"t3\",target,130.00,230.00,0,0.3750,low,,,0,,,\n"
    "\"Apex, \"\"left\"\"\",\"t4\",target,140.00,240.00,0,0.2000,low,60.00,,0,,,\n";

  build_scene (&scene);
  g_assert_true (px_export_match_points (&scene, names, csv, "csv", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, expected);

  g_assert_true (px_export_match_points (&scene, names, json, "json", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (json, &jtext, NULL, NULL));
  g_assert_nonnull (strstr (jtext, "\"version\": 2"));
  g_assert_nonnull (strstr (jtext, "\"image\": \"t1\", \"role\": \"target\", \"x\": 110.00, \"y\": 210.00,"
                                   " \"found\": true, \"confidence\": 0.7500, \"grade\": \"high\","
                                   " \"spread_px\": 25.00, \"spread_mm\": 5.00, \"corrected\": false,"
                                   " \"x_mm\": 22.10, \"y_mm\": 42.10 }"));
  g_assert_null (strstr (jtext, "\"buddies\""));   // none drawn, none written
  g_assert_nonnull (strstr (jtext, "\"grade\": \"low\", \"spread_px\": 60.00, \"spread_mm\": null"));
  g_assert_null (strstr (jtext, "0.0000"));
  g_array_unref (scene.pins);
  g_unlink (csv);
  g_unlink (json);
  g_rmdir (dir);
}

static void
draw_scene (gpointer  data,
            cairo_t  *cr,
            double    width,
            double    height)
{
  px_match_scene_draw (data, cr, width, height);
}

static const guint8 *
pixel (cairo_surface_t *surface,
       double           x,
       double           y)
{
  return cairo_image_surface_get_data (surface) + (gsize) y * cairo_image_surface_get_stride (surface)
         + (gsize) x * 4;
}

// Viridis' ends as matplotlib publishes them: #440154 (least alike) and #FDE725 (most).
static void
assert_colour (const guint8 *p,
               guint32       rgb)
{
  // Cairo's RGB24 in memory is B, G, R, x on a little-endian machine.
  g_assert_cmpint (abs (p[2] - (int) (rgb >> 16)), <=, 12);
  g_assert_cmpint (abs (p[1] - (int) ((rgb >> 8) & 0xff)), <=, 12);
  g_assert_cmpint (abs (p[0] - (int) (rgb & 0xff)), <=, 12);
}

// A source and one 400 × 400 target on a 4 × 4 grid whose similarities run from −0.25 to
// 0.75 in steps of 1/15: the legend's range is those two, its bar runs from viridis' purple
// to its yellow, and it lies below both images, in the exported PNG as on screen.
static void
test_heatmap_legend (void)
{
  const double W = 800, H = 500;
  g_autofree char *dir = g_dir_make_tmp ("px-legend-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "view.png", NULL);
  g_autofree char *text = NULL, *idle = NULL;
  g_autoptr(GError) error = NULL;
  float sim[16];
  PxMatchScene scene;
  double lo, hi, rect[4];
  cairo_surface_t *surface;

  memset (&scene, 0, sizeof scene);
  scene.n_panels = 2;
  for (int i = 0; i < 2; i++)
    {
      scene.panels[i].width = scene.panels[i].height = 400;
      scene.panels[i].gw = scene.panels[i].gh = 4;
    }
  for (int i = 0; i < 16; i++)
    sim[i] = (float) (-0.25 + i / 15.0);
  scene.sim[0] = sim;
  scene.heatmap = TRUE;
  scene.opacity = 0.6;

  // No query yet: a legend that says how to get one, no range.
  g_assert_false (px_match_scene_sim_range (&scene, &lo, &hi));
  idle = px_match_scene_legend_text (&scene);
  g_assert_nonnull (strstr (idle, "point at the source"));

  scene.has_query = TRUE;
  scene.qx = scene.qy = 150;
  scene.answers[0].found = TRUE;
  g_assert_true (px_match_scene_sim_range (&scene, &lo, &hi));
  g_assert_cmpfloat_with_epsilon (lo, -0.25, 1e-6);
  g_assert_cmpfloat_with_epsilon (hi, 0.75, 1e-6);
  text = px_match_scene_legend_text (&scene);
  g_assert_nonnull (strstr (text, "-0.25 to 0.75"));
  g_assert_nonnull (strstr (text, "purple least alike"));

  g_assert_true (px_match_scene_legend_area (&scene, W, H, rect));
  for (int p = 0; p < 2; p++)
    {
      double x0, y0, x1, y1;

      px_match_scene_to_view (&scene, W, H, p, 0, 0, &x0, &y0);
      px_match_scene_to_view (&scene, W, H, p, 400, 400, &x1, &y1);
      g_test_message ("panel %d: (%.0f, %.0f)–(%.0f, %.0f); legend from y %.0f", p, x0, y0, x1, y1, rect[1]);
      g_assert_cmpfloat (y1, <=, rect[1]);   // the legend covers no image
      g_assert_cmpfloat (rect[1] + rect[3], <=, H);
    }

  g_assert_true (px_export_drawing (png, "png", W, H, draw_scene, &scene, &error));
  g_assert_no_error (error);
  surface = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  assert_colour (pixel (surface, rect[0] + 1, rect[1] + 8), 0x440154);
  assert_colour (pixel (surface, rect[0] + MIN (200, rect[2] / 3) - 2, rect[1] + 8), 0xFDE725);
  cairo_surface_destroy (surface);

  // Without the heat map, no legend and the panels take the whole height back.
  scene.heatmap = FALSE;
  g_assert_false (px_match_scene_legend_area (&scene, W, H, rect));
  g_unlink (png);
  g_rmdir (dir);
}

// Positions in image pixels (the pixel the point lies in), and in mm where the spacing is
// known: 100.7 × 0.2 = 20.14, 200.2 × 0.2 = 40.04.
static void
test_coordinates (void)
{
  PxMatchScene scene;
  g_autofree char *mm = NULL, *px = NULL;

  memset (&scene, 0, sizeof scene);
  scene.n_panels = 2;
  scene.panels[1].mm = 0.2;
  mm = px_match_scene_describe_point (&scene, 1, 100.7, 200.2);
  g_assert_cmpstr (mm, ==, "at x 100, y 200 px (20.1, 40.0 mm)");
  px = px_match_scene_describe_point (&scene, 0, 100.7, 200.2);
  g_assert_cmpstr (px, ==, "at x 100, y 200 px");
}

// Best-buddy pairs are labelled B1, B2…: never a pin's number.
static void
test_buddy_labels (void)
{
  char text[16];

  px_match_scene_buddy_label (0, text, sizeof text);
  g_assert_cmpstr (text, ==, "B1");
  px_match_scene_buddy_label (11, text, sizeof text);
  g_assert_cmpstr (text, ==, "B12");
}

// The values dcmdump (DCMTK's own dump, not the app's reader) gives for the basic
// de-identification profile's kinds of attribute (PS3.15 E.1) that the app may display:
// person names (VR PN), dates and times (DA, DT, TM), instance, frame-of-reference and
// device UIDs, IDs, institution and device serials. Values of four characters or more, and
// dates also as YYYY-MM-DD.
static GPtrArray *
identifying_values (const char *path)
{
  const char *argv[] = { "dcmdump", "-q", path, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *values = g_ptr_array_new_with_free_func (g_free);
  int status;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i], *open = strchr (l, '['), *close, *name = strrchr (l, ' ');
      char vr[3] = { 0 };
      g_autofree char *value = NULL;
      gboolean keep;

      if (l[0] != '(' || strlen (l) < 15 || open == NULL || (close = strchr (open, ']')) == NULL || name == NULL)
        continue;
      memcpy (vr, l + 12, 2);
      name++;
      keep = g_str_equal (vr, "PN") || g_str_equal (vr, "DA") || g_str_equal (vr, "DT") || g_str_equal (vr, "TM") ||
             (g_str_equal (vr, "UI") && (g_str_has_suffix (name, "InstanceUID") || strstr (name, "FrameOfReference") ||
                                         g_str_equal (name, "DeviceUID"))) ||
             (g_str_has_suffix (name, "ID") && !g_str_has_suffix (name, "UID")) || strstr (name, "Institution") || strstr (name, "Serial");
      value = g_strstrip (g_strndup (open + 1, close - open - 1));
      if (!keep || strlen (value) < 4)
        continue;
      g_test_message ("identifying %s %s: %s", vr, name, value);
      if (g_str_equal (vr, "DA") && strlen (value) == 8)
        g_ptr_array_add (values, g_strdup_printf ("%.4s-%.2s-%.2s", value, value + 4, value + 6));
      g_ptr_array_add (values, g_steal_pointer (&value));
    }
  return values;
}

static void
assert_hides (const char *where,
              const char *text,
              GPtrArray  *values)
{
  for (guint i = 0; text != NULL && i < values->len; i++)
    if (strstr (text, g_ptr_array_index (values, i)) != NULL)
      g_error ("%s shows “%s” in privacy mode: %s", where, (char *) g_ptr_array_index (values, i), text);
}

static gboolean
two_studies (gpointer window)
{
  return g_list_model_get_n_items (px_window_get_studies (window)) == 2 && px_test_window_is_idle (window);
}

// Two real DICOMs read in place from ../shared (one named by its SOP Instance UID): with
// privacy on, no identifying value appears in any label, the window title, the tag panel's
// lines, the points export or the landmark files (their names and contents).
static void
test_privacy_everywhere (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("PEAC_SHARED_DIR"), "data", "dicom", "chest", NULL);
  g_autofree char *siim = g_build_filename (dir, SIIM, NULL);
  g_autofree char *gdcm = g_build_filename (dir, "gdcm-CR-MONO1-10-chest.dcm", NULL);
  g_autofree char *csv = g_build_filename (tmp_dir, "points.csv", NULL);
  g_autofree char *folder = g_build_filename (tmp_dir, "landmarks", NULL);
  g_autoptr(GPtrArray) values = identifying_values (siim);
  g_autoptr(GPtrArray) more = identifying_values (gdcm);
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GError) error = NULL;
  GFile *files[2];
  PxWindow *window;
  PxCorrespondencePage *page;
  PxTagPanel *panel;
  GListModel *lines;
  g_autofree char *text = NULL;
  const char *name;
  GDir *d;

  g_assert_true (g_file_test (siim, G_FILE_TEST_IS_REGULAR));   // a missing fixture fails
  g_assert_true (g_file_test (gdcm, G_FILE_TEST_IS_REGULAR));
  for (guint i = 0; i < more->len; i++)
    g_ptr_array_add (values, g_strdup (g_ptr_array_index (more, i)));
  // The oracle found what matters: the UID in the file name, the patient's name, a date.
  g_assert_true (g_ptr_array_find_with_equal_func (values, "1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819",
                                                   g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (values, "Anonymized", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (values, "FUJI PHOTO FILM CO.,", g_str_equal, NULL));

  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", TRUE);
  g_settings_set_boolean (px_application_get_settings (app), "show-tags", TRUE);
  g_application_activate (G_APPLICATION (app));
  window = PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 700);
  gtk_window_present (GTK_WINDOW (window));
  files[0] = g_file_new_for_path (siim);
  files[1] = g_file_new_for_path (gdcm);
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  g_assert_true (px_test_wait_for (two_studies, window, 60));
  px_test_settle ();

  // Every label of the window (sidebar, title, subtitle, tag rows, pages) and its title.
  labels = px_test_collect_labels (GTK_WIDGET (window));
  g_assert_cmpuint (labels->len, >, 10);
  for (guint i = 0; i < labels->len; i++)
    assert_hides ("a label", g_ptr_array_index (labels, i), values);
  assert_hides ("the window title", gtk_window_get_title (GTK_WINDOW (window)), values);
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "Radiograph "));

  // The tag panel's model, not only the rows on screen.
  panel = PX_TAG_PANEL (px_test_find_child (GTK_WIDGET (window), PX_TYPE_TAG_PANEL));
  g_assert_nonnull (panel);
  lines = px_tag_panel_get_lines (panel);
  g_assert_cmpuint (g_list_model_get_n_items (lines), >, 10);
  for (guint i = 0; i < g_list_model_get_n_items (lines); i++)
    {
      g_autoptr(GtkStringObject) line = g_list_model_get_item (lines, i);

      assert_hides ("the tag panel", gtk_string_object_get_string (line), values);
    }

  // Exports: the points and the landmark files, names and contents.
  page = PX_CORRESPONDENCE_PAGE (px_test_find_child (GTK_WIDGET (window), PX_TYPE_CORRESPONDENCE_PAGE));
  g_assert_nonnull (page);
  g_assert_true (px_correspondence_page_export_points (page, csv, "csv", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  assert_hides ("the points export", text, values);
  g_assert_cmpint (g_mkdir (folder, 0700), ==, 0);
  if (px_correspondence_page_save_landmarks (page, folder, &error))
    {
      d = g_dir_open (folder, 0, NULL);
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *path = g_build_filename (folder, name, NULL);
          g_autofree char *contents = NULL;

          assert_hides ("a landmark file's name", name, values);
          g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
          assert_hides ("a landmark file", contents, values);
        }
      g_dir_close (d);
    }
  else
    g_test_message ("no landmark files without points: %s", error->message);

  // The same window without privacy shows the file name (the oracle's UID) again.
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", FALSE);
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "8323329.6904.1517875201.850819"));
  g_settings_set_boolean (px_application_get_settings (app), "show-tags", FALSE);
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

// A file's bytes (a PNG holds NULs) searched for each identifying value.
static void
assert_file_hides (const char *where,
                   const char *path,
                   GPtrArray  *values)
{
  g_autofree char *bytes = NULL;
  gsize length;

  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  g_assert_cmpuint (length, >, 0);
  for (guint i = 0; i < values->len; i++)
    {
      const char *v = g_ptr_array_index (values, i);

      if (memmem (bytes, length, v, strlen (v)) != NULL)
        g_error ("%s shows “%s” in privacy mode", where, v);
    }
}

static GtkWindow *
find_message_dialog (void)
{
  GListModel *windows = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (windows); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (windows, i);

      if (ADW_IS_MESSAGE_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return GTK_WINDOW (w);
    }
  return NULL;
}

static gboolean
has_one_study (gpointer window)
{
  return g_list_model_get_n_items (px_window_get_studies (window)) == 1 && px_test_window_is_idle (window);
}

// A fresh window (no toast left from before) with the gdcm file open.
static PxWindow *
window_with_gdcm (const char *gdcm,
                  gboolean    privacy)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  g_autoptr(GFile) file = g_file_new_for_path (gdcm);

  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", privacy);
  g_application_open (G_APPLICATION (app), &file, 1, "");
  g_assert_true (px_test_wait_for (has_one_study, window, 60));
  px_test_settle ();
  return window;
}

// The same two DICOMs (one named by its SOP Instance UID, the other's patient “Anonymized”)
// with privacy on: the embedding map of three pins names its images as the sidebar does, so
// no identifying value appears in any hover text or in the map's CSV, SVG or PNG; files
// that cannot be opened, named by a UID (dcmdump's, of the SIIM file) or by the open
// patient's name, are not named so in the toast nor in its Details.
static void
test_privacy_map_and_toasts (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("PEAC_SHARED_DIR"), "data", "dicom", "chest", NULL);
  g_autofree char *siim = g_build_filename (dir, SIIM, NULL);
  g_autofree char *gdcm = g_build_filename (dir, "gdcm-CR-MONO1-10-chest.dcm", NULL);
  g_autofree char *bad_dir = g_build_filename (tmp_dir, "bad", NULL);
  g_autofree char *bad_uid = NULL, *bad_name = NULL, *uid_value = NULL;
  g_autoptr(GPtrArray) values = identifying_values (siim);
  g_autoptr(GPtrArray) more = identifying_values (gdcm);
  g_autoptr(GError) error = NULL;
  const char *formats[] = { "csv", "svg", "png" };
  GFile *files[2];
  PxWindow *window;
  PxCorrespondencePage *page;
  PxEmbeddingMapPage *map;
  GtkWindow *dialog;
  const char *body;
  guint n_points, n_masked = 0;

  g_assert_true (g_file_test (siim, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (gdcm, G_FILE_TEST_IS_REGULAR));
  for (guint i = 0; i < more->len; i++)
    g_ptr_array_add (values, g_strdup (g_ptr_array_index (more, i)));
  // The UID that names the SIIM file, as the oracle read it from inside the file.
  for (guint i = 0; i < values->len && uid_value == NULL; i++)
    if (strstr (SIIM, g_ptr_array_index (values, i)) != NULL && strlen (g_ptr_array_index (values, i)) > 20)
      uid_value = g_strdup (g_ptr_array_index (values, i));
  g_assert_nonnull (uid_value);

  window = px_test_fresh_window (app, 1200, 700);
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", TRUE);
  page = px_window_get_correspondence_page (window);
  px_window_show_page (window, "correspondence");
  files[0] = g_file_new_for_path (siim);
  files[1] = g_file_new_for_path (gdcm);
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  g_assert_true (px_test_wait_for (two_studies, window, 60));
  g_assert_true (px_test_wait_for (px_test_correspondence_ready, page, 120));
  px_test_settle ();
  for (int k = 0; k < 3; k++)
    {
      gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-cell", "(ii)", 2 + 3 * k, 3 + 2 * k);
      gtk_widget_activate_action (GTK_WIDGET (page), "corr.pin", NULL);
    }
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 3);

  map = px_window_get_embedding_map_page (window);
  px_window_show_page (window, "embedding-map");
  px_test_settle ();
  gtk_widget_activate_action (GTK_WIDGET (map), "map.run-pins", NULL);
  g_assert_true (px_test_wait_for (px_test_map_idle, map, 120));
  g_assert_null (px_embedding_map_page_get_error (map));
  n_points = px_embedding_map_page_get_n_points (map);
  g_assert_cmpuint (n_points, ==, 6);
  for (guint i = 0; i < n_points; i++)
    {
      g_autofree char *text = px_embedding_map_page_dup_point_text (map, i);

      assert_hides ("the map's hover text", text, values);
      n_masked += g_str_has_prefix (text, "Radiograph ");
    }
  g_assert_cmpuint (n_masked, ==, 3);   // the SIIM file's three points
  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    {
      g_autofree char *name = g_strdup_printf ("map.%s", formats[f]);
      g_autofree char *path = g_build_filename (tmp_dir, name, NULL);

      g_assert_true (px_embedding_map_page_export (map, path, formats[f], 800, 600, &error));
      g_assert_no_error (error);
      assert_file_hides (name, path, values);
    }
  // Without privacy the hover names the file again: the check above can fail.
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", FALSE);
  {
    gboolean named = FALSE;

    for (guint i = 0; i < n_points; i++)
      {
        g_autofree char *text = px_embedding_map_page_dup_point_text (map, i);

        named |= strstr (text, uid_value) != NULL;
      }
    g_assert_true (named);
  }
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", TRUE);

  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();

  // Files that cannot be opened, beside the open gdcm file (whose patient is “Anonymized”).
  g_assert_cmpint (g_mkdir (bad_dir, 0700), ==, 0);
  bad_uid = g_strdup_printf ("%s/%s.dcm", bad_dir, uid_value);
  bad_name = g_build_filename (bad_dir, "Anonymized-follow-up.png", NULL);
  g_assert_true (g_file_set_contents (bad_uid, "not a DICOM file", -1, NULL));
  g_assert_true (g_file_set_contents (bad_name, "not a PNG file", -1, NULL));
  files[0] = g_file_new_for_path (bad_uid);
  files[1] = g_file_new_for_path (bad_name);

  // Two in one batch: one toast, then its Details.
  window = window_with_gdcm (gdcm, TRUE);
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "2 files could not be opened"));
  {
    g_autoptr(GPtrArray) labels = px_test_collect_labels (GTK_WIDGET (window));

    for (guint i = 0; i < labels->len; i++)
      assert_hides ("a label after the failed batch", g_ptr_array_index (labels, i), values);
  }
  g_action_group_activate_action (G_ACTION_GROUP (window), "show-load-errors", NULL);
  px_test_settle ();
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  body = adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog));
  g_test_message ("Details: %s", body);
  assert_hides ("the Details of the failed files", body, values);
  g_assert_nonnull (strstr (body, "Radiograph "));
  g_assert_null (strstr (body, "Anonymized"));
  gtk_window_destroy (dialog);

  // One alone: its own toast, which names it by the same rule.
  window = window_with_gdcm (gdcm, TRUE);
  g_application_open (G_APPLICATION (app), &files[1], 1, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "Could not open “Radiograph "));
  g_assert_false (px_test_labels_contain (GTK_WIDGET (window), "Anonymized-follow-up"));

  // Without privacy the same file is named: the rule, not a lost name, hid it.
  window = window_with_gdcm (gdcm, FALSE);
  g_application_open (G_APPLICATION (app), &files[1], 1, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "Could not open “Anonymized-follow-up.png”"));
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

// The five JSRT structures in words; any other name as it is.
static void
test_structure_words (void)
{
  static const char *const expected[5][2] = {
    { "RL", "RL — right lung outline" }, { "LL", "LL — left lung outline" }, { "H", "H — heart outline" },
    { "RCLA", "RCLA — right clavicle" }, { "LCLA", "LCLA — left clavicle" },
  };
  g_autofree char *other = px_match_structure_words ("Apex");

  for (int i = 0; i < 5; i++)
    {
      g_autofree char *words = px_match_structure_words (expected[i][0]);

      g_assert_cmpstr (words, ==, expected[i][1]);
    }
  g_assert_cmpstr (other, ==, "Apex");
}

// A marker's tooltip: 110.5 × 0.2 = 22.1 mm, 210.5 × 0.2 = 42.1 mm; the confidence of
// test_pin_confidence's target 1.
static void
test_pin_summary (void)
{
  PxMatchScene scene;
  PxMatchPin *pin;
  g_autofree char *text = NULL, *source = NULL;

  build_scene (&scene);
  pin = &g_array_index (scene.pins, PxMatchPin, 0);
  pin->name = (char *) "H.3";
  pin->structure = (char *) "H";
  text = px_confidence_pin_summary (&scene, pin, 1);
  g_assert_cmpstr (text, ==, "H.3 (H — heart outline)\nmatch confidence: high (0.75), ±5.0 mm\n"
                             "at x 110, y 210 px (22.1, 42.1 mm)");
  source = px_confidence_pin_summary (&scene, pin, 0);
  g_assert_cmpstr (source, ==, "H.3 (H — heart outline)\nset by hand\nat x 100, y 200 px");
  g_array_unref (scene.pins);
}

static gboolean
has_tooltip_above (GtkWidget *widget,
                   int        levels)
{
  for (int i = 0; widget != NULL && i <= levels; i++, widget = gtk_widget_get_parent (widget))
    if (gtk_widget_get_tooltip_text (widget) != NULL || gtk_widget_get_tooltip_markup (widget) != NULL)
      return TRUE;
  return FALSE;
}

// A label that uses a researcher's term: one that @regexes (two GRegex *) match.
static gboolean
label_has_jargon (GtkWidget     *widget,
                  gconstpointer  regexes)
{
  GRegex * const *re = regexes;
  const char *text;

  if (!GTK_IS_LABEL (widget))
    return FALSE;
  text = gtk_label_get_text (GTK_LABEL (widget));
  return g_regex_match (re[0], text, 0, NULL) || g_regex_match (re[1], text, 0, NULL);
}

// Every label under @widget that uses a researcher's term has a tooltip on itself or a
// close ancestor (a keyboard shortcut such as Shift+Ctrl+H is not a term).
static void
check_jargon (GtkWidget *widget,
              GRegex    *words,
              GRegex    *terms,
              guint     *n_checked)
{
  GRegex *regexes[2] = { words, terms };
  g_autoptr(GPtrArray) labels = px_test_find_widgets (widget, label_has_jargon, regexes);

  for (guint i = 0; i < labels->len; i++)
    {
      GtkWidget *label = g_ptr_array_index (labels, i);

      g_test_message ("“%s”: %s", gtk_label_get_text (GTK_LABEL (label)),
                      has_tooltip_above (label, 4) ? "explained" : "NO TOOLTIP");
      g_assert_true (has_tooltip_above (label, 4));
      (*n_checked)++;
    }
}

// Every page of a window showing a DICOM with its header panel open: the training words,
// the loss terms, the DICOM header's technical names and the landmark structures are
// explained wherever a label shows them. The header's transfer syntax is among them.
static void
test_jargon_explained (void)
{
  g_autofree char *path = g_build_filename (g_getenv ("PEAC_SHARED_DIR"), "data", "dicom", "chest",
                                            "gdcm-CR-MONO1-10-chest.dcm", NULL);
  g_autoptr(GRegex) words = g_regex_new ("\\b(teacher|student|transfer ?syntax|I/O suspension)",
                                         G_REGEX_CASELESS, 0, NULL);
  g_autoptr(GRegex) terms = g_regex_new ("(?<![+\\w])(Order|Restoration|Global|Local|RL|LL|H|RCLA|LCLA)\\b",
                                         0, 0, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  PxWindow *window;
  guint n_checked = 0;

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", FALSE);
  g_settings_set_boolean (px_application_get_settings (app), "show-tags", TRUE);
  g_application_activate (G_APPLICATION (app));
  window = PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 2000);
  gtk_window_present (GTK_WINDOW (window));
  g_application_open (G_APPLICATION (app), &file, 1, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "TransferSyntaxUID"));
  check_jargon (GTK_WIDGET (window), words, terms, &n_checked);
  g_assert_cmpuint (n_checked, >=, 1);
  g_settings_set_boolean (px_application_get_settings (app), "show-tags", FALSE);
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

// The documented schemes (docs/correspondence.md, "Mouse"): radiology — left window/level,
// middle pan, right zoom; classic — left and middle pan, right window/level.
static void
test_drag_roles (void)
{
  g_assert_cmpint (px_viewer_drag_role (TRUE, GDK_BUTTON_PRIMARY), ==, PX_DRAG_WINDOW);
  g_assert_cmpint (px_viewer_drag_role (TRUE, GDK_BUTTON_MIDDLE), ==, PX_DRAG_PAN);
  g_assert_cmpint (px_viewer_drag_role (TRUE, GDK_BUTTON_SECONDARY), ==, PX_DRAG_ZOOM);
  g_assert_cmpint (px_viewer_drag_role (FALSE, GDK_BUTTON_PRIMARY), ==, PX_DRAG_PAN);
  g_assert_cmpint (px_viewer_drag_role (FALSE, GDK_BUTTON_MIDDLE), ==, PX_DRAG_PAN);
  g_assert_cmpint (px_viewer_drag_role (FALSE, GDK_BUTTON_SECONDARY), ==, PX_DRAG_WINDOW);
}

static gboolean
has_name (GtkWidget     *widget,
          gconstpointer  name)
{
  return g_strcmp0 (gtk_widget_get_name (widget), name) == 0;
}

static GtkEventController *
scroll_controller (GtkWidget *widget)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_SCROLL (c))
        return GTK_EVENT_CONTROLLER (c);
    }
  return NULL;
}

// The Preferences window (app.preferences) changes each key it shows, and each key does
// what it says: the theme reaches the style manager, the mouse switch the viewer, the
// matching mode a new correspondence page; with the radiology bindings the wheel moves
// the sidebar's selection to the next image.
static void
test_preferences (void)
{
  GSettings *settings = px_application_get_settings (app);
  g_autoptr(GFile) a = g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", "nih-00000001_000.png", NULL);
  g_autoptr(GFile) b = g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", "nih-00027426_000.png", NULL);
  GFile *files[2] = { a, b };
  GtkWidget *theme, *mouse, *matching;
  PxCorrespondencePage *page;
  GtkEventController *scroll;
  PxWindow *window;
  GtkWindow *prefs;
  gboolean handled = FALSE;

  g_settings_set_boolean (settings, "privacy-mode", FALSE);
  g_application_activate (G_APPLICATION (app));
  window = PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  gtk_window_present (GTK_WINDOW (window));
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  px_test_settle ();
  prefs = GTK_WINDOW (px_test_find_toplevel (ADW_TYPE_PREFERENCES_WINDOW));
  g_assert_nonnull (prefs);
  g_assert_true (gtk_window_get_transient_for (prefs) == GTK_WINDOW (window));

  theme = px_test_find_widget (GTK_WIDGET (prefs), has_name, "color-scheme");
  g_assert_true (ADW_IS_COMBO_ROW (theme));
  adw_combo_row_set_selected (ADW_COMBO_ROW (theme), 2);
  g_assert_cmpstr (g_settings_get_string (settings, "color-scheme"), ==, "dark");
  g_assert_cmpint (adw_style_manager_get_color_scheme (adw_style_manager_get_default ()), ==,
                   ADW_COLOR_SCHEME_FORCE_DARK);
  adw_combo_row_set_selected (ADW_COMBO_ROW (theme), 0);
  g_assert_cmpint (adw_style_manager_get_color_scheme (adw_style_manager_get_default ()), ==,
                   ADW_COLOR_SCHEME_DEFAULT);

  mouse = px_test_find_widget (GTK_WIDGET (prefs), has_name, "radiology-mouse");
  g_assert_true (GTK_IS_SWITCH (mouse));
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (mouse)));   // the default
  gtk_switch_set_active (GTK_SWITCH (mouse), FALSE);
  g_assert_false (g_settings_get_boolean (settings, "radiology-mouse"));
  {
    gboolean radiology = TRUE;

    g_object_get (px_window_get_viewer (window), "radiology-mouse", &radiology, NULL);
    g_assert_false (radiology);
  }
  gtk_switch_set_active (GTK_SWITCH (mouse), TRUE);

  matching = px_test_find_widget (GTK_WIDGET (prefs), has_name, "matching-mode");
  g_assert_true (ADW_IS_COMBO_ROW (matching));
  adw_combo_row_set_selected (ADW_COMBO_ROW (matching), 1);
  g_assert_cmpstr (g_settings_get_string (settings, "matching-mode"), ==, "nearest");
  page = g_object_ref_sink (g_object_new (PX_TYPE_CORRESPONDENCE_PAGE, NULL));
  g_assert_cmpint (px_correspondence_page_get_mode (page), ==, PEAC_MATCH_NEAREST);
  g_object_unref (page);
  g_settings_reset (settings, "matching-mode");
  gtk_window_destroy (prefs);

  // The wheel over the viewer: the next image, then no further than the last.
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_assert_true (px_test_wait_for (two_studies, window, 60));
  px_test_settle ();
  {
    g_autoptr(PxStudy) first = g_list_model_get_item (px_window_get_studies (window), 0);
    g_autoptr(PxStudy) second = g_list_model_get_item (px_window_get_studies (window), 1);

    scroll = scroll_controller (GTK_WIDGET (px_window_get_viewer (window)));
    g_assert_nonnull (scroll);
    // Back to the first through the window's handler of the step signal, whichever was shown.
    g_signal_emit_by_name (px_window_get_viewer (window), "step", -1);
    g_signal_emit_by_name (px_window_get_viewer (window), "step", -1);
    px_test_settle ();
    g_assert_true (px_window_get_study (window) == first);
    g_signal_emit_by_name (scroll, "scroll", 0.0, 1.0, &handled);
    px_test_settle ();
    g_assert_true (handled);
    g_assert_true (px_window_get_study (window) == second);
    g_signal_emit_by_name (scroll, "scroll", 0.0, 1.0, &handled);
    px_test_settle ();
    g_assert_true (px_window_get_study (window) == second);
  }
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  // The words are checked untranslated: px_test_app_setup() sets LANGUAGE=C.
  app = px_test_app_setup (&argc, &argv, "readable", &tmp_dir);

  g_test_add_func ("/readable/match-score", test_match_score);
  g_test_add_func ("/readable/pin-confidence", test_pin_confidence);
  g_test_add_func ("/readable/export-columns", test_export_columns);
  g_test_add_func ("/readable/heatmap-legend", test_heatmap_legend);
  g_test_add_func ("/readable/coordinates", test_coordinates);
  g_test_add_func ("/readable/buddy-labels", test_buddy_labels);
  g_test_add_func ("/readable/privacy-everywhere", test_privacy_everywhere);
  g_test_add_func ("/readable/privacy-map-and-toasts", test_privacy_map_and_toasts);
  g_test_add_func ("/readable/structure-words", test_structure_words);
  g_test_add_func ("/readable/pin-summary", test_pin_summary);
  g_test_add_func ("/readable/jargon-explained", test_jargon_explained);
  g_test_add_func ("/readable/drag-roles", test_drag_roles);
  g_test_add_func ("/readable/preferences", test_preferences);
  ret = g_test_run ();
  px_test_app_teardown (app, tmp_dir);
  return ret;
}
