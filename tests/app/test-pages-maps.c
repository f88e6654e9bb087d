// SPDX-License-Identifier: GPL-3.0-or-later
//
// GUI tests under Xvfb of the embedding-map and grid-matching pages and of opening a model,
// driven through their actions with the deterministic micro model (the correspondence page
// has test-pages.c). The map runs on the JSRT landmarks in ../shared: its points, exports,
// a further image placed without moving the others, hover and click; its legend colours are
// checked in CIELAB. Grid matching checks its crop pairs against the pairing rule written
// out here, and its tool bar in a 1024-pixel window. A probe on the main loop reports the
// longest gap while workers run; it reports and does not assert.
#include "config.h"

#include <adwaita.h>
#include <math.h>

#include "px-application.h"
#include "px-embedding-map-page.h"
#include "px-grid-matching-page.h"
#include "px-landmark-save.h"
#include "px-match-scene.h"
#include "peac-test-cli.h"
#include "px-test-util.h"
#include "model.h"
#include "px-window.h"

#define SAMPLE "hannover-4d98e1de.png"

static PxApplication *app;
static char *tmp_dir;

// Landmarks per JSRT image on the map: every second point of each structure.
static guint
expected_points (const char *dir,
                 const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PxLandmarkSet) set = px_landmarks_load_jsrt (dir, id, &error);
  guint n = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < px_landmark_set_size (set); i++)
    n += px_landmark_set_get (set, i)->index % 2 == 0;
  return n;
}

static void
test_embedding_map (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxEmbeddingMapPage *page = px_window_get_embedding_map_page (window);
  // A missing shared folder fails the test (peac_test_shared_path aborts naming it).
  g_autofree char *dir = peac_test_shared_path ("landmarks/jsrt");
  g_autofree char *csv = g_build_filename (tmp_dir, "map.csv", NULL);
  g_autofree char *png = g_build_filename (tmp_dir, "map.png", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *text = NULL;
  g_autofree float *before = NULL;
  guint n_points, expected = 0;
  PxTestStallProbe probe;

  ids = px_landmarks_jsrt_list (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ids), >=, 5);
  for (guint i = 0; i < 4; i++)
    expected += expected_points (dir, ids[i]);

  px_window_show_page (window, "embedding-map");
  px_test_settle ();
  g_assert_true (px_embedding_map_page_set_folder (page, dir, &error));
  g_assert_no_error (error);
  gtk_widget_activate_action (GTK_WIDGET (page), "map.run", NULL);
  g_assert_false (px_test_map_idle (page));   // "4 images": set below before the job reads it
  gtk_widget_activate_action (GTK_WIDGET (page), "map.stop", NULL);
  g_assert_true (px_test_wait_for (px_test_map_idle, page, 60));
  g_assert_cmpuint (px_embedding_map_page_get_n_points (page), ==, 0);

  // Four images: one point per (image, landmark), the scatter drawn while converging.
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (px_test_find_child (GTK_WIDGET (page), GTK_TYPE_SPIN_BUTTON)),
                             4);
  px_test_probe_start (&probe, G_PRIORITY_DEFAULT);
  gtk_widget_activate_action (GTK_WIDGET (page), "map.run", NULL);
  g_assert_true (px_test_wait_for (px_test_map_idle, page, 120));
  g_test_message ("worst main-loop gap while embedding 4 images and running t-SNE: %.1f ms",
                  px_test_probe_stop (&probe));
  g_assert_null (px_embedding_map_page_get_error (page));
  n_points = px_embedding_map_page_get_n_points (page);
  g_assert_cmpuint (px_embedding_map_page_get_n_images (page), ==, 4);
  g_assert_cmpuint (n_points, ==, expected);
  g_test_message ("%u points, %u layouts drawn while converging", n_points,
                  px_embedding_map_page_get_n_frames (page));
  g_assert_cmpuint (px_embedding_map_page_get_n_frames (page), >=, 5);

  // Rectangle selection over everything lists every image.
  g_assert_cmpuint (px_embedding_map_page_select_rect (page, -1e6, -1e6, 1e6, 1e6), ==, 4);

  // CSV: a header and one row per point with finite numbers.
  g_assert_true (px_embedding_map_page_export (page, csv, "csv", 800, 600, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "image,landmark,label,x,y,map_x,map_y");
  g_assert_cmpuint (g_strv_length (lines), ==, n_points + 2);   // last line is empty
  for (guint i = 1; i <= n_points; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], ",", -1);

      g_assert_cmpuint (g_strv_length (fields), ==, 7);
      for (int k = 3; k < 7; k++)
        {
          char *end;
          double v = g_ascii_strtod (fields[k], &end);

          g_assert_true (*end == '\0' && isfinite (v));
        }
    }
  g_assert_true (px_embedding_map_page_export (page, png, "png", 800, 600, &error));
  g_assert_no_error (error);

  // Placing one more image keeps the existing points where they were.
  before = g_new (float, 2 * n_points);
  for (guint i = 0; i < n_points; i++)
    {
      const char *image, *landmark;
      g_assert_true (px_embedding_map_page_get_point (page, i, &image, &landmark, &before[2 * i], &before[2 * i + 1]));
    }
  px_test_probe_start (&probe, G_PRIORITY_DEFAULT);
  gtk_widget_activate_action (GTK_WIDGET (page), "map.place-more", NULL);
  g_assert_true (px_test_wait_for (px_test_map_idle, page, 120));
  g_test_message ("worst main-loop gap while placing one more image: %.1f ms", px_test_probe_stop (&probe));
  g_assert_null (px_embedding_map_page_get_error (page));
  g_assert_cmpuint (px_embedding_map_page_get_n_images (page), ==, 5);
  g_assert_cmpuint (px_embedding_map_page_get_n_points (page), ==, n_points + expected_points (dir, ids[4]));
  for (guint i = 0; i < n_points; i++)
    {
      const char *image, *landmark;
      float x, y;

      g_assert_true (px_embedding_map_page_get_point (page, i, &image, &landmark, &x, &y));
      g_assert_cmpfloat (x, ==, before[2 * i]);
      g_assert_cmpfloat (y, ==, before[2 * i + 1]);
    }

  // The state survives switching pages.
  px_window_show_page (window, "viewer");
  px_test_settle ();
  g_assert_cmpuint (px_embedding_map_page_get_n_points (page), ==, n_points + expected_points (dir, ids[4]));

  // A click on a point opens its image on the correspondence page.
  {
    g_autoptr(GError) load_error = NULL;
    g_autoptr(PxLandmarkSet) set = px_landmarks_load_jsrt (dir, ids[0], &load_error);
    g_autoptr(GFile) expected_file = NULL;
    g_autoptr(PxStudy) study = NULL;

    GtkWidget *area = px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA);
    GtkEventController *motion = NULL;
    g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (area);
    g_autoptr(GdkTexture) before_hover = NULL, after_hover = NULL;
    g_autofree guint8 *a = NULL, *b = NULL;
    double w, h, vx, vy;
    guint changed = 0;

    g_assert_no_error (load_error);
    expected_file = g_file_new_for_path (set->image_path);

    px_window_show_page (window, "embedding-map");
    px_test_settle ();
    w = gtk_widget_get_width (area);
    h = gtk_widget_get_height (area);
    for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
      {
        g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);
        if (GTK_IS_EVENT_CONTROLLER_MOTION (controller))
          motion = GTK_EVENT_CONTROLLER (controller);
      }
    g_assert_nonnull (motion);

    // Hovering point 0 (of the first image) draws its patch in a framed box beside it.
    g_assert_true (px_embedding_map_page_view_point (page, 0, w, h, &vx, &vy));
    before_hover = px_test_render_widget (area);
    a = px_test_texture_to_grey (before_hover);
    // Real crossing events from the X server would move the hover: the controller stops
    // listening while the frame is drawn. On a loaded machine such an event can still
    // slip in before that, so the hover is sent again (up to 5 s) until the box is drawn.
    for (gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
         changed <= 2000 && g_get_monotonic_time () < end;)
      {
        g_signal_emit_by_name (motion, "motion", vx, vy);
        gtk_event_controller_set_propagation_phase (motion, GTK_PHASE_NONE);
        px_test_settle ();
        g_clear_object (&after_hover);
        g_clear_pointer (&b, g_free);
        after_hover = px_test_render_widget (area);
        gtk_event_controller_set_propagation_phase (motion, GTK_PHASE_BUBBLE);
        b = px_test_texture_to_grey (after_hover);

        // The box sits below right of the pointer, pushed inside the view near its edges.
        int bx = (int) MIN (vx + 14, w - 112 - 4), by = (int) MIN (vy + 14, h - 112 - 40);
        changed = 0;
        for (int y = MAX (by, 0); y < MIN (by + 112, (int) h); y++)
          for (int x = MAX (bx, 0); x < MIN (bx + 112, (int) w); x++)
            changed += a[y * (int) w + x] != b[y * (int) w + x];
      }
    g_test_message ("hover at (%.0f, %.0f) in %.0f × %.0f: %u pixels of the box changed", vx, vy, w, h, changed);
    g_assert_cmpuint (changed, >, 2000);

    // A click on it opens the image on the correspondence page.
    g_signal_emit_by_name (px_test_find_drag_gesture (area), "drag-begin", vx, vy);
    g_signal_emit_by_name (px_test_find_drag_gesture (area), "drag-end", 0.0, 0.0);
    g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
    px_test_settle ();
    g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 1);
    study = g_list_model_get_item (px_window_get_studies (window), 0);
    g_assert_true (g_file_equal (px_study_get_file (study), expected_file));
    g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (px_window_get_correspondence_page (window))));
    g_assert_true (px_correspondence_page_get_panel_study (px_window_get_correspondence_page (window), 0) == NULL);
  }
}

static gboolean
shows_model_error (gpointer data)
{
  return px_test_labels_contain (data, "Could not open the model");
}

static gboolean
model_is (gpointer data)
{
  PxWindow *window = data;
  const char *name = px_model_get_name (px_embedder_get_model (px_window_get_embedder (window)));

  return g_str_equal (name, "vit-32.safetensors");
}

static void
test_open_model (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  g_autofree char *path = g_build_filename (tmp_dir, "vit-32.safetensors", NULL);
  g_autofree char *bad_path = g_build_filename (tmp_dir, "broken.safetensors", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) bad = g_file_new_for_path (bad_path);
  PxModel *model;
  PeacModel *m;
  char err[256];
  int gh, gw, dim;

  // The starting model is the labelled micro model.
  model = px_embedder_get_model (px_window_get_embedder (window));
  g_assert_false (px_model_get_trained (model));
  g_assert_nonnull (strstr (px_model_get_name (model), "untrained"));

  m = peac_model_new (PEAC_ARCH_VIT, "timm",
                      "{\"img_size\": 224, \"patch_size\": 32, \"embed_dim\": 48, \"depth\": 1, \"num_heads\": 2}",
                      4, err, sizeof err);
  g_assert_nonnull (m);
  g_assert_cmpint (peac_model_save (m, path, err, sizeof err), ==, 0);
  peac_model_free (m);

  px_window_open_model (window, file);
  g_assert_true (px_test_wait_for (model_is, window, 60));
  model = px_embedder_get_model (px_window_get_embedder (window));
  px_model_get_grid (model, &gh, &gw, &dim);
  g_assert_cmpint (gh, ==, 7);
  g_assert_cmpint (dim, ==, 48);
  g_assert_nonnull (strstr (px_model_get_description (model), "7 × 7 grid"));
  g_assert_true (px_model_get_trained (model));

  // A file that is not a checkpoint: a toast, and the model stays.
  g_assert_true (g_file_set_contents (bad_path, "not a checkpoint", -1, NULL));
  px_window_open_model (window, bad);
  g_assert_true (px_test_wait_for (shows_model_error, window, 30));
  g_assert_true (model_is (window));
}

static guint8 *
export_pixels (PxGridMatchingPage *page,
               const char         *png)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  guint8 *bgra = g_malloc (1200 * 360 * 4);

  g_assert_true (px_grid_matching_page_export (page, png, "png", 1200, 360, &error));
  g_assert_no_error (error);
  texture = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  gdk_texture_download (texture, bgra, 1200 * 4);
  return bgra;
}

// The pairing rule of DESIGN.md, written out here independently of the engine.
static void
check_pairs (PxGridMatchingPage *page)
{
  int G = px_grid_matching_page_get_grid (page);
  g_autofree int *pair = g_new (int, G * G);
  int dr1, dc1, dr2, dc2, n, expected = 0;

  px_grid_matching_page_get_offsets (page, &dr1, &dc1, &dr2, &dc2);
  n = px_grid_matching_page_get_pairs (page, pair);
  for (int r = 0; r < G; r++)
    for (int c = 0; c < G; c++)
      {
        int r2 = r + dr1 - dr2, c2 = c + dc1 - dc2;
        int want = r2 >= 0 && r2 < G && c2 >= 0 && c2 < G ? r2 * G + c2 : -1;

        g_assert_cmpint (pair[r * G + c], ==, want);
        expected += want >= 0;
      }
  g_assert_cmpint (n, ==, expected);
  g_assert_cmpint (n, ==, (G - abs (dr1 - dr2)) * (G - abs (dc1 - dc2)));
}

static void
test_grid_matching (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxGridMatchingPage *page = px_window_get_grid_matching_page (window);
  g_autoptr(GFile) file = g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", SAMPLE, NULL);
  g_autofree char *png = g_build_filename (tmp_dir, "grid.png", NULL);
  g_autoptr(GError) error = NULL;
  double matched, unmatched;
  int dr1, dc1, dr2, dc2;
  PxTestStallProbe probe;

  px_window_show_page (window, "grid-matching");
  px_test_settle ();
  px_test_probe_start (&probe, G_PRIORITY_DEFAULT);
  g_application_open (G_APPLICATION (app), &file, 1, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_true (px_test_wait_for (px_test_grid_ready, page, 60));
  px_test_settle ();
  g_test_message ("worst main-loop gap while loading, preparing and embedding both crops: %.1f ms",
                  px_test_probe_stop (&probe));
  g_assert_cmpint (px_grid_matching_page_get_grid (page), ==, 14);

  // The pair sampled from the default seed, then fixed offsets, then another seed.
  check_pairs (page);
  gtk_widget_activate_action (GTK_WIDGET (page), "grid.set-offsets", "(iiii)", 0, 0, 2, 1);
  px_grid_matching_page_get_offsets (page, &dr1, &dc1, &dr2, &dc2);
  g_assert_cmpint (dr2, ==, 2);
  g_assert_cmpint (dc2, ==, 1);
  check_pairs (page);
  g_assert_true (px_test_wait_for (px_test_grid_ready, page, 60));
  g_assert_true (px_grid_matching_page_get_similarity (page, &matched, &unmatched));
  g_test_message ("mean cosine: matched %.3f, unmatched %.3f", matched, unmatched);
  // Matched cells hold identical pixels: the untrained model already sees them as closer.
  g_assert_cmpfloat (matched, >, unmatched);
  g_assert_cmpfloat (matched, <=, 1.0 + 1e-6);

  for (int seed = 2; seed < 6; seed++)
    {
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (px_test_find_child (GTK_WIDGET (page),
                                                                      GTK_TYPE_SPIN_BUTTON)),
                                 seed);
      gtk_widget_activate_action (GTK_WIDGET (page), "grid.resample", NULL);
      check_pairs (page);
    }

  // The student panel (the rightmost quarter) changes with the shuffled and the distorted
  // input; the crops do not.
  {
    g_autofree guint8 *clean = NULL, *shuffled = NULL, *distorted = NULL;
    gsize n_bytes = 1200 * 360 * 4;
    guint64 d_shuffled = 0, d_distorted = 0, d_crops = 0;

    clean = export_pixels (page, png);
    gtk_widget_activate_action (GTK_WIDGET (page), "grid.student", "s", "shuffled");
    shuffled = export_pixels (page, png);
    gtk_widget_activate_action (GTK_WIDGET (page), "grid.student", "s", "distorted");
    distorted = export_pixels (page, png);
    for (gsize i = 0; i < n_bytes; i++)
      {
        int x = (int) (i / 4 % 1200);

        if (x >= 900)
          d_shuffled += clean[i] != shuffled[i], d_distorted += clean[i] != distorted[i];
        else
          d_crops += clean[i] != shuffled[i] || clean[i] != distorted[i];
      }
    g_test_message ("student panel bytes changed: shuffled %" G_GUINT64_FORMAT ", distorted %" G_GUINT64_FORMAT,
                    d_shuffled, d_distorted);
    g_assert_cmpuint (d_shuffled, >, 10000);
    g_assert_cmpuint (d_distorted, >, 1000);
    g_assert_cmpuint (d_crops, ==, 0);
  }
  g_assert_true (px_grid_matching_page_export (page, png, "svg", 1200, 360, &error));
  g_assert_no_error (error);
}

static gboolean
is_spin_button (GtkWidget     *widget,
                gconstpointer  data)
{
  return GTK_IS_SPIN_BUTTON (widget);
}

// The grid-matching tool bar as a new user meets it in a 1024-pixel window: every control on
// screen, every spin button labelled, a new seed drawing its crops at once and Resample
// drawing new ones (the next seed), and the lines between matched cells thinned unless asked.
static void
test_grid_matching_toolbar (void)
{
  PxWindow *window = px_test_fresh_window (app, 1024, 700);
  PxGridMatchingPage *page = px_window_get_grid_matching_page (window);
  g_autoptr(GFile) file = g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", SAMPLE, NULL);
  g_autofree char *png = g_build_filename (tmp_dir, "toolbar.png", NULL);
  g_autoptr(GPtrArray) spins = NULL;
  g_autofree guint8 *seed1 = NULL, *seed2 = NULL, *again = NULL, *resampled = NULL, *lines = NULL;
  const char *controls[] = { "Clean", "_Shuffled", "_Distorted", "_Resample", "All _Lines" };
  gsize n_bytes = 1200 * 360 * 4;
  GtkSpinButton *seed;
  int width;

  px_window_show_page (window, "grid-matching");
  g_application_open (G_APPLICATION (app), &file, 1, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_true (px_test_wait_for (px_test_grid_ready, page, 60));
  px_test_settle ();
  // 1024 wide with the frame: the window's content is a little narrower.
  width = gtk_widget_get_width (GTK_WIDGET (window));
  g_assert_cmpint (width, <=, 1024);
  g_assert_cmpint (width, >, 1000);

  for (guint i = 0; i < G_N_ELEMENTS (controls); i++)
    {
      GtkWidget *button = px_test_find_widget (GTK_WIDGET (page), px_test_button_has_label, controls[i]);
      graphene_rect_t bounds;

      g_assert_nonnull (button);
      g_assert_true (gtk_widget_get_mapped (button));
      g_assert_true (gtk_widget_compute_bounds (button, GTK_WIDGET (window), &bounds));
      g_test_message ("%s: x %.0f to %.0f", controls[i], bounds.origin.x, bounds.origin.x + bounds.size.width);
      g_assert_cmpfloat (bounds.origin.x, >=, 0);
      g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, width);
    }

  spins = px_test_find_widgets (GTK_WIDGET (page), is_spin_button, NULL);
  g_assert_cmpuint (spins->len, ==, 5);
  for (guint i = 0; i < spins->len; i++)
    {
      g_autoptr(GList) labels = gtk_widget_list_mnemonic_labels (g_ptr_array_index (spins, i));
      g_assert_nonnull (labels);
    }

  seed = g_ptr_array_index (spins, 0);
  g_assert_cmpfloat (gtk_spin_button_get_value (seed), ==, 1);
  seed1 = export_pixels (page, png);
  gtk_spin_button_set_value (seed, 2);
  check_pairs (page);
  g_assert_true (px_test_wait_for (px_test_grid_ready, page, 60));
  seed2 = export_pixels (page, png);
  g_assert_true (memcmp (seed1, seed2, n_bytes) != 0);
  gtk_spin_button_set_value (seed, 1);
  g_assert_true (px_test_wait_for (px_test_grid_ready, page, 60));
  again = export_pixels (page, png);
  g_assert_true (memcmp (seed1, again, n_bytes) == 0);
  gtk_widget_activate_action (GTK_WIDGET (page), "grid.resample", NULL);
  g_assert_cmpfloat (gtk_spin_button_get_value (seed), ==, 2);
  check_pairs (page);
  g_assert_true (px_test_wait_for (px_test_grid_ready, page, 60));
  resampled = export_pixels (page, png);
  g_assert_true (memcmp (seed2, resampled, n_bytes) == 0);

  gtk_widget_activate_action (GTK_WIDGET (page), "grid.lines", NULL);
  lines = export_pixels (page, png);
  g_assert_true (memcmp (resampled, lines, n_bytes) != 0);
}

// CIELAB (D65) of an sRGB colour, written out here from the standard formulas.
static void
srgb_to_lab (double  r,
             double  g,
             double  b,
             double *lab)
{
  double c[3] = { r, g, b }, xyz[3], f[3];

  for (int i = 0; i < 3; i++)
    c[i] = c[i] > 0.04045 ? pow ((c[i] + 0.055) / 1.055, 2.4) : c[i] / 12.92;
  xyz[0] = (0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2]) / 0.95047;
  xyz[1] = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  xyz[2] = (0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2]) / 1.08883;
  for (int i = 0; i < 3; i++)
    f[i] = xyz[i] > 0.008856 ? cbrt (xyz[i]) : 7.787 * xyz[i] + 16.0 / 116;
  lab[0] = 116 * f[1] - 16;
  lab[1] = 500 * (f[0] - f[1]);
  lab[2] = 200 * (f[1] - f[2]);
}

// The five landmark structures of a JSRT map (RL, LL, H, RCLA, LCLA) take the first five
// colours of the legend: no two of them alike (CIE76 ΔE at least 30; the two Okabe–Ito
// blues, once both among them, are 26 apart).
static void
test_legend_colours (void)
{
  double lab[5][3];

  for (int i = 0; i < 5; i++)
    {
      double r, g, b;

      px_match_palette (i, &r, &g, &b);
      srgb_to_lab (r, g, b, lab[i]);
    }
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++)
      {
        double d = sqrt ((lab[i][0] - lab[j][0]) * (lab[i][0] - lab[j][0]) +
                         (lab[i][1] - lab[j][1]) * (lab[i][1] - lab[j][1]) +
                         (lab[i][2] - lab[j][2]) * (lab[i][2] - lab[j][2]));

        g_test_message ("colours %d and %d: ΔE %.1f", i, j, d);
        g_assert_cmpfloat (d, >=, 30);
      }
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = px_test_app_setup (&argc, &argv, "pages-maps", &tmp_dir);

  g_test_add_func ("/pages/embedding-map/run-place-export", test_embedding_map);
  g_test_add_func ("/pages/embedding-map/legend-colours", test_legend_colours);
  g_test_add_func ("/pages/grid-matching/pairs", test_grid_matching);
  g_test_add_func ("/pages/grid-matching/toolbar", test_grid_matching_toolbar);
  g_test_add_func ("/pages/model/open", test_open_model);

  ret = g_test_run ();

  px_test_app_teardown (app, tmp_dir);
  return ret;
}
