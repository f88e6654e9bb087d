// SPDX-License-Identifier: GPL-3.0-or-later
//
// GUI tests of the analysis pages under Xvfb, driven through their actions with the
// deterministic micro model. The correspondence page gets a pair of radiograph crops in
// which the target is the source moved by whole cells, so the right answer of every query
// is known: the shifted cell. Drawing is checked on exported PNGs at points computed from
// the page's own layout. A probe on the main loop (a 5 ms timeout) reports the longest gap
// while workers run; it reports and does not assert, timing being the machine's business.
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <glib/gstdio.h>

#include "px-application.h"
#include "px-correspondence-page.h"
#include "px-embedding-map-page.h"
#include "px-grid-matching-page.h"
#include "px-landmark-save.h"
#include "px-match-scene.h"
#include "px-test-util.h"
#include "model.h"
#include "px-window.h"

#define SAMPLE "hannover-4d98e1de.png"
#define SIDE 224
#define CELL 16
#define SHIFT_X 2
#define SHIFT_Y 1
// The page embeds at half the patch stride: its grid has cells of CELL / 2 pixels.
#define DCELL (CELL / 2)
#define DG (SIDE / DCELL)
#define DSHIFT_X (SHIFT_X * CELL / DCELL)
#define DSHIFT_Y (SHIFT_Y * CELL / DCELL)
#define CROP_X 60
#define CROP_Y 100

static PxApplication *app;
static char *tmp_dir;

static PxWindow *
new_window (void)
{
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (app)));
  PxWindow *window;

  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free (windows);

  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", FALSE);
  g_application_activate (G_APPLICATION (app));
  window = PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (PX_IS_WINDOW (window));
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 700);
  gtk_window_present (GTK_WINDOW (window));
  px_test_settle ();
  return window;
}

static gboolean
page_ready (gpointer data)
{
  return px_correspondence_page_get_ready (data);
}

// A SIDE × SIDE crop of the sample at (x0, y0) as an RGB PNG. The corner pixels are set to
// black and white so that both crops have the same data range, hence the same default
// window: the pixels of partner cells then reach the network identical.
static GFile *
write_crop (const PxImage *image,
            int            x0,
            int            y0,
            const char    *name)
{
  g_autofree guint8 *rgb = g_malloc (SIDE * SIDE * 3);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = g_build_filename (tmp_dir, name, NULL);

  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++)
      {
        guint8 v = (guint8) image->pixels[(gsize) (y0 + y) * image->width + x0 + x];

        rgb[(y * SIDE + x) * 3] = rgb[(y * SIDE + x) * 3 + 1] = rgb[(y * SIDE + x) * 3 + 2] = v;
      }
  memset (rgb, 0, 3);
  memset (rgb + (SIDE * SIDE - 1) * 3, 255, 3);
  bytes = g_bytes_new (rgb, SIDE * SIDE * 3);
  texture = gdk_memory_texture_new (SIDE, SIDE, GDK_MEMORY_R8G8B8, bytes, SIDE * 3);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  return g_file_new_for_path (path);
}

static PxCorrespondencePage *
open_shifted_pair (PxWindow *window)
{
  g_autofree char *sample = g_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", SAMPLE, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PxImage) image = px_image_load (sample, &error);
  g_autoptr(GFile) a = NULL;
  g_autoptr(GFile) b = NULL;
  PxCorrespondencePage *page = px_window_get_correspondence_page (window);
  GFile *files[2];
  PxTestStallProbe probe;

  g_assert_no_error (error);
  a = write_crop (image, CROP_X, CROP_Y, "crop-a.png");
  b = write_crop (image, CROP_X + SHIFT_X * CELL, CROP_Y + SHIFT_Y * CELL, "crop-b.png");
  files[0] = a;
  files[1] = b;

  // The page is on screen first, so that the probe sees the loading and embedding, not
  // GTK's first layout of the page.
  px_window_show_page (window, "correspondence");
  px_test_settle ();
  px_test_probe_start (&probe, G_PRIORITY_DEFAULT);
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_true (px_test_wait_for (page_ready, page, 60));
  px_test_settle ();
  g_test_message ("worst main-loop gap while loading and embedding two crops: %.1f ms",
                  px_test_probe_stop (&probe));

  // A model change drops the context; the grids are computed again in the worker while
  // the page stays on screen.
  {
    g_autoptr(PxModel) model = px_model_new_micro ();

    px_test_probe_start (&probe, G_PRIORITY_DEFAULT);
    px_embedder_set_model (px_window_get_embedder (window), model);
    // Nothing computed under the old model is taken for the new one.
    for (guint i = 0; i < 2; i++)
      {
        g_autoptr(PxStudy) study = g_list_model_get_item (px_window_get_studies (window), i);
        g_assert_null (px_embedder_lookup (px_window_get_embedder (window), study));
      }
    g_assert_false (px_correspondence_page_get_ready (page));
    g_assert_true (px_test_wait_for (page_ready, page, 60));
    g_test_message ("worst main-loop gap while embedding again after a model change: %.1f ms",
                    px_test_probe_stop (&probe));
  }
  g_assert_cmpuint (px_correspondence_page_get_n_targets (page), ==, 1);
  return page;
}

static void
test_shifted_match (void)
{
  PxWindow *window = new_window ();
  PxCorrespondencePage *page = open_shifted_pair (window);
  PeacMatch answer, nearest;
  PeacBuddy buddies[32];
  int n = 0, n_found = 0;

  // Every interior source cell whose partner lies inside the target: the peak is the
  // shifted cell; the random-init model is confident about most of them.
  for (int r = DSHIFT_Y + 1; r < DG - 1; r++)
    for (int c = DSHIFT_X + 1; c < DG - 1; c++)
      {
        gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-cell", "(ii)", r, c);
        g_assert_true (px_correspondence_page_get_answer (page, 0, &answer));
        g_assert_cmpint (answer.row, ==, r - DSHIFT_Y);
        g_assert_cmpint (answer.col, ==, c - DSHIFT_X);
        n_found += answer.found;
        n++;
      }
  g_test_message ("%d of %d shifted cells matched confidently", n_found, n);
  g_assert_cmpint (n_found, >=, n * 8 / 10);
  g_assert_cmpint (n, >=, 20);

  // The arrow keys' action moves the query by whole cells.
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-cell", "(ii)", 6, 6);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.move-query", "(ii)", 1, -1);
  g_assert_true (px_correspondence_page_get_answer (page, 0, &answer));
  g_assert_cmpint (answer.row, ==, 7 - DSHIFT_Y);
  g_assert_cmpint (answer.col, ==, 5 - DSHIFT_X);

  // The nearest mode searches the whole target: its peak is at least as similar as the
  // guided answer, the point mapped through the registration.
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.mode", "s", "nearest");
  g_assert_true (px_correspondence_page_get_answer (page, 0, &nearest));
  g_assert_cmpfloat (nearest.sim, >=, answer.sim);

  // Best buddies: drawn only when asked, as many as asked, and where a source cell has a
  // partner in the target, its buddy is that shifted cell.
  g_assert_cmpint (px_correspondence_page_get_buddies (page, buddies, G_N_ELEMENTS (buddies)), ==, 0);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.buddies", NULL);
  n = px_correspondence_page_get_buddies (page, buddies, G_N_ELEMENTS (buddies));
  g_assert_cmpint (n, ==, 12);
  n_found = 0;
  for (int i = 0; i < n; i++)
    {
      int r = buddies[i].src / DG, c = buddies[i].src % DG;

      // The last row and column hold the white corner pixel both crops carry; the dense
      // padding repeats it, so those corner cells are alike in both and may pair up.
      if (r < DSHIFT_Y || c < DSHIFT_X || r == DG - 1 || c == DG - 1)
        continue;
      g_assert_cmpint (buddies[i].tgt, ==, (r - DSHIFT_Y) * DG + c - DSHIFT_X);
      n_found++;
    }
  g_test_message ("%d of %d best buddies have a partner in the target, all of them right", n_found, n);
  g_assert_cmpint (n_found, >=, n / 2);
}

static GtkGesture *
find_drag_gesture (GtkWidget *widget)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_DRAG (controller))
        return GTK_GESTURE (controller);
    }
  return NULL;
}

// The pointer, through the drawing area's own drag gesture: a click on the source pins a
// point; in landmark mode a pin's marker on a target can be dragged to correct it.
static void
test_pointer (void)
{
  PxWindow *window = new_window ();
  PxCorrespondencePage *page = open_shifted_pair (window);
  GtkWidget *area = px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA);
  GtkGesture *drag = find_drag_gesture (area);
  g_autofree char *json = g_build_filename (tmp_dir, "corrected.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  double w, h, vx, vy, x, y, px, py;
  PeacMatch answer, moved;

  g_assert_nonnull (drag);
  g_assert_true (gtk_widget_get_mapped (area));
  w = gtk_widget_get_width (area);
  h = gtk_widget_get_height (area);

  // Click at the centre of source dense cell (13, 15).
  const double cx = 15.5 * DCELL, cy = 13.5 * DCELL;
  px_correspondence_page_view_point (page, w, h, 0, cx, cy, &vx, &vy);
  g_signal_emit_by_name (drag, "drag-begin", vx, vy);
  g_signal_emit_by_name (drag, "drag-end", 0.0, 0.0);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &px, &py, &answer));
  g_assert_cmpfloat (fabs (px - cx), <, 1.0);
  g_assert_cmpfloat (fabs (py - cy), <, 1.0);
  g_assert_cmpint (answer.row, ==, 13 - DSHIFT_Y);
  g_assert_cmpint (answer.col, ==, 15 - DSHIFT_X);

  // Landmark mode: drag the pin's marker on the target by 3 cells right, 2 down.
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.landmarks", NULL);
  px_correspondence_page_view_point (page, w, h, 1, answer.x, answer.y, &vx, &vy);
  px_correspondence_page_view_point (page, w, h, 1, answer.x + 3 * CELL, answer.y + 2 * CELL, &x, &y);
  g_signal_emit_by_name (drag, "drag-begin", vx, vy);
  g_signal_emit_by_name (drag, "drag-update", x - vx, y - vy);
  g_signal_emit_by_name (drag, "drag-end", x - vx, y - vy);
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &px, &py, &moved));
  g_assert_cmpfloat (fabs (moved.x - (answer.x + 3 * CELL)), <, 1.0);
  g_assert_cmpfloat (fabs (moved.y - (answer.y + 2 * CELL)), <, 1.0);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);

  // A corrected answer is kept when the pins are answered again, and exported as such.
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.mode", "s", "nearest");
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &px, &py, &moved));
  g_assert_cmpfloat (fabs (moved.x - (answer.x + 3 * CELL)), <, 1.0);
  g_assert_true (px_correspondence_page_export_points (page, json, "json", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (json, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"corrected\": true"));
}

static GtkWidget *
find_visible_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) window = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) && gtk_widget_get_visible (window))
        return window;
    }
  return NULL;
}

static gboolean
message_dialog_shown (gpointer data)
{
  return find_visible_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL;
}

// What a click on a dialog's button does: the response, then the dialog closes.
static void
respond (const char *response)
{
  GtkWidget *dialog = find_visible_toplevel (ADW_TYPE_MESSAGE_DIALOG);

  g_assert_nonnull (dialog);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), response);
  gtk_window_destroy (GTK_WINDOW (dialog));
  px_test_settle ();
}

// Save Landmarks as a user meets it: the folder chooser's button says what it does; a name
// typed as a file (which the chooser turns into an empty folder) is read as the folder it
// was typed in; existing files are replaced only after asking; a toast says where they went.
static void
test_save_landmarks (void)
{
  PxWindow *window = new_window ();
  PxCorrespondencePage *page = open_shifted_pair (window);
  g_autofree char *folder = g_build_filename (tmp_dir, "saved-landmarks", NULL);
  g_autofree char *typed = g_build_filename (folder, "landmarks.json", NULL);
  g_autofree char *source_json = g_build_filename (folder, "crop-a.png.landmarks.json", NULL);
  g_autofree char *target_json = g_build_filename (folder, "crop-b.png.landmarks.json", NULL);
  g_autofree char *text = NULL;
  g_autofree char *toast = g_strdup_printf ("Saved 2 landmark files to %s", folder);
  g_autoptr(GError) error = NULL;
  g_autoptr(PxLandmarkSet) set = NULL;
  GtkWidget *chooser, *accept;

  gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-cell", "(ii)", 6, 7);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.pin", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);

  gtk_widget_activate_action (GTK_WIDGET (page), "corr.save-landmarks", NULL);
  px_test_settle ();
  chooser = find_visible_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
  g_assert_nonnull (chooser);
  g_assert_cmpint (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (chooser)), ==,
                   GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
  accept = gtk_dialog_get_widget_for_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (accept)), ==, "Save _Here");
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_CANCEL);
  px_test_settle ();

  // "landmarks.json" typed in the chooser, which made an empty folder of it.
  g_assert_cmpint (g_mkdir_with_parents (typed, 0700), ==, 0);
  px_landmark_save_to (page, typed);
  px_test_settle ();
  g_assert_false (g_file_test (typed, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (source_json, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (target_json, G_FILE_TEST_IS_REGULAR));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), toast));

  // Saving again over the same files asks; Cancel keeps what is there.
  g_assert_true (g_file_set_contents (target_json, "kept", -1, NULL));
  px_landmark_save_to (page, folder);
  g_assert_true (px_test_wait_for (message_dialog_shown, NULL, 10));
  respond ("cancel");
  g_assert_true (g_file_get_contents (target_json, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "kept");

  // Replace writes the landmark file again: one landmark, the pin's answer.
  px_landmark_save_to (page, folder);
  g_assert_true (px_test_wait_for (message_dialog_shown, NULL, 10));
  respond ("replace");
  set = px_landmarks_load_json (target_json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (px_landmark_set_size (set), ==, 1);

  // An existing JSON file chosen means its folder; a file that is not JSON is no folder
  // to save into: refused with the reason.
  {
    g_autofree char *resolved = px_landmark_save_resolve_folder (target_json, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (resolved, ==, folder);
  }
  {
    g_autofree char *png = g_build_filename (tmp_dir, "crop-a.png", NULL);
    g_autofree char *resolved = px_landmark_save_resolve_folder (png, &error);

    g_assert_null (resolved);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
    g_assert_nonnull (strstr (error->message, "is a file, not a folder"));
  }
}

// Pins are the user's work: they stay with their image when another one becomes the source,
// every placing, correction and clearing can be undone and redone, and closing the image or
// the window with unsaved pins asks first.
static void
test_pins_kept_and_undone (void)
{
  PxWindow *window = new_window ();
  PxCorrespondencePage *page = open_shifted_pair (window);
  GtkWidget *area = px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA);
  GtkGesture *drag = find_drag_gesture (area);
  g_autoptr(PxStudy) study_a = g_list_model_get_item (px_window_get_studies (window), 0);
  g_autoptr(PxStudy) study_b = g_list_model_get_item (px_window_get_studies (window), 1);
  g_autofree char *folder = g_build_filename (tmp_dir, "undo-landmarks", NULL);
  g_autoptr(GError) error = NULL;
  double w = gtk_widget_get_width (area), h = gtk_widget_get_height (area);
  double px, py, vx, vy, x, y;
  PeacMatch first, second, moved, again;

  g_assert_true (px_study_get_file (study_a) != NULL);
  g_assert_true (px_correspondence_page_get_panel_study (page, 0) == study_a);
  g_assert_false (px_correspondence_page_get_unsaved (page, NULL));

  // Two pins, then the second one's answer moved by hand 2 cells right, 1 down.
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-cell", "(ii)", 6, 7);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.pin", NULL);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-cell", "(ii)", 12, 14);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.pin", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 2);
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &px, &py, &first));
  g_assert_true (px_correspondence_page_get_pin (page, 1, 0, &px, &py, &second));
  g_assert_cmpint (second.row, ==, 12 - DSHIFT_Y);
  g_assert_cmpint (second.col, ==, 14 - DSHIFT_X);
  // The status line names the live query's answer in image pixels, not grid cells: the
  // pixel the point lies in (pixel i spans [i, i + 1), match.h).
  {
    g_autofree char *where = g_strdup_printf ("at x %d, y %d px", (int) floor (second.x), (int) floor (second.y));

    px_test_settle ();
    g_assert_true (px_test_labels_contain (GTK_WIDGET (page), where));
    g_assert_false (px_test_labels_contain (GTK_WIDGET (page), ": cell ("));
  }
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.landmarks", NULL);
  px_correspondence_page_view_point (page, w, h, 1, second.x, second.y, &vx, &vy);
  px_correspondence_page_view_point (page, w, h, 1, second.x + 2 * CELL, second.y + CELL, &x, &y);
  g_signal_emit_by_name (drag, "drag-begin", vx, vy);
  g_signal_emit_by_name (drag, "drag-update", x - vx, y - vy);
  g_signal_emit_by_name (drag, "drag-end", x - vx, y - vy);
  g_assert_true (px_correspondence_page_get_pin (page, 1, 0, &px, &py, &moved));
  g_assert_cmpfloat (fabs (moved.x - (second.x + 2 * CELL)), <, 1.0);
  g_assert_cmpfloat (fabs (moved.y - (second.y + CELL)), <, 1.0);
  g_assert_true (px_correspondence_page_get_unsaved (page, study_a));

  // Undo: the correction, then the second pin; redo brings both back.
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.undo", NULL);
  g_assert_true (px_correspondence_page_get_pin (page, 1, 0, &px, &py, &again));
  g_assert_cmpfloat (fabs (again.x - second.x) + fabs (again.y - second.y), <, 1e-3);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.undo", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.redo", NULL);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.redo", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 2);
  g_assert_true (px_correspondence_page_get_pin (page, 1, 0, &px, &py, &again));
  g_assert_cmpfloat (fabs (again.x - moved.x) + fabs (again.y - moved.y), <, 1e-3);
  // Clearing is undone too.
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.clear-pins", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 0);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.undo", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 2);

  // Another source (as a click on the embedding map makes it): its own, empty, pins; back
  // on the first image, both pins and the correction are there.
  px_correspondence_page_set_source (page, study_b);
  px_test_settle ();
  g_assert_true (px_correspondence_page_get_panel_study (page, 0) == study_b);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 0);
  px_correspondence_page_set_source (page, study_a);
  g_assert_true (px_test_wait_for (page_ready, page, 60));
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 2);
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &px, &py, &again));
  g_assert_cmpint (again.row, ==, first.row);
  g_assert_cmpint (again.col, ==, first.col);
  g_assert_true (px_correspondence_page_get_pin (page, 1, 0, &px, &py, &again));
  g_assert_cmpfloat (fabs (again.x - moved.x) + fabs (again.y - moved.y), <, 1e-3);

  // Unsaved: closing the image or the window asks, and Cancel keeps both.
  gtk_single_selection_set_selected (GTK_SINGLE_SELECTION (gtk_list_view_get_model (
    GTK_LIST_VIEW (px_test_find_child (GTK_WIDGET (window), GTK_TYPE_LIST_VIEW)))), 0);
  g_assert_true (px_window_get_study (window) == study_a);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.close-study", NULL);
  g_assert_true (px_test_wait_for (message_dialog_shown, NULL, 10));
  respond ("cancel");
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 2);
  gtk_window_close (GTK_WINDOW (window));
  g_assert_true (px_test_wait_for (message_dialog_shown, NULL, 10));
  respond ("cancel");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));

  // Saved, the image closes without a question.
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_true (px_correspondence_page_save_landmarks (page, folder, &error));
  g_assert_no_error (error);
  g_assert_false (px_correspondence_page_get_unsaved (page, NULL));
  g_assert_null (find_visible_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.close-study", NULL);
  px_test_settle ();
  g_assert_null (find_visible_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 1);
}

static gboolean
is_yellow (const guint8 *bgra)
{
  return bgra[2] > 200 && bgra[1] > 180 && bgra[0] < 90;
}

static const guint8 *
pixel_at (const guint8 *bgra,
          int           width,
          double        x,
          double        y)
{
  return bgra + ((gsize) lround (y - 0.5) * width + (gsize) lround (x - 0.5)) * 4;
}

static void
test_drawing_and_exports (void)
{
  PxWindow *window = new_window ();
  PxCorrespondencePage *page = open_shifted_pair (window);
  const double W = 1800, H = 900;  // large enough that a dense cell shows around its markers
  const int qr = 6, qc = 7;
  g_autofree char *png = g_build_filename (tmp_dir, "view.png", NULL);
  g_autofree char *svg = g_build_filename (tmp_dir, "view.svg", NULL);
  g_autofree char *csv = g_build_filename (tmp_dir, "points.csv", NULL);
  g_autofree char *json = g_build_filename (tmp_dir, "points.json", NULL);
  g_autofree char *folder = g_build_filename (tmp_dir, "landmarks", NULL);
  g_autofree char *source_json = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guint8 *bgra = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  double px, py, vx, vy, x, y;
  int yellow = 0, cells = 0;
  PeacMatch answer;

  gtk_widget_activate_action (GTK_WIDGET (page), "corr.heatmap", NULL);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.opacity", "d", 1.0);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-cell", "(ii)", qr, qc);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.pin", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &px, &py, &answer));
  g_assert_true (answer.found);
  g_assert_cmpint (answer.row, ==, qr - DSHIFT_Y);
  g_assert_cmpint (answer.col, ==, qc - DSHIFT_X);

  g_assert_true (px_correspondence_page_export_view (page, png, "png", W, H, &error));
  g_assert_no_error (error);
  texture = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, (int) W);
  bgra = g_malloc ((gsize) W * H * 4);
  gdk_texture_download (texture, bgra, (gsize) W * 4);

  // The pin: filled with the first Okabe–Ito colour (orange, #E69F00) at its source point.
  px_correspondence_page_view_point (page, W, H, 0, px, py, &vx, &vy);
  {
    const guint8 *p = pixel_at (bgra, (int) W, vx, vy);
    g_test_message ("pin pixel at (%.0f, %.0f): %d %d %d", vx, vy, p[2], p[1], p[0]);
    g_assert_cmpint (abs (p[2] - 0xE6), <, 30);
    g_assert_cmpint (abs (p[1] - 0x9F), <, 30);
    g_assert_cmpint (p[0], <, 40);
  }

  // The heat map: the matched cell is the most similar (viridis yellow); few others are.
  for (int r = 0; r < DG; r++)
    for (int c = 0; c < DG; c++)
      {
        // A point inside the cell, clear of the marker at its centre (and of the label
        // below right) and of the outline of a matched cell.
        px_correspondence_page_view_point (page, W, H, 1, c * DCELL + 1.2, r * DCELL + 1.2, &x, &y);
        if (is_yellow (pixel_at (bgra, (int) W, x, y)))
          {
            yellow++;
            if (r == qr - DSHIFT_Y && c == qc - DSHIFT_X)
              g_test_message ("matched cell is yellow");
          }
        cells++;
      }
  px_correspondence_page_view_point (page, W, H, 1, (qc - DSHIFT_X) * DCELL + 1.2,
                                     (qr - DSHIFT_Y) * DCELL + 1.2, &x, &y);
  {
    const guint8 *p = pixel_at (bgra, (int) W, x, y);
    g_test_message ("matched cell pixel at (%.1f, %.1f): %d %d %d", x, y, p[2], p[1], p[0]);
  }
  g_assert_true (is_yellow (pixel_at (bgra, (int) W, x, y)));
  g_test_message ("%d of %d target cells drawn yellow", yellow, cells);
  g_assert_cmpint (yellow, <, cells / 5);

  // SVG: a well-formed file with the image embedded.
  g_assert_true (px_correspondence_page_export_view (page, svg, "svg", W, H, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (svg, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "<svg"));
  g_assert_nonnull (strstr (text, "</svg>"));
  g_clear_pointer (&text, g_free);

  // Points: one row per (pin, image); privacy replaces the file names.
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", TRUE);
  g_assert_true (px_correspondence_page_export_points (page, csv, "csv", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_null (strstr (text, "crop-a"));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "pin,image,role,x,y,found,confidence,grade,spread_px,spread_mm,corrected");
  g_assert_true (g_str_has_prefix (lines[1], "\"1\",\"source\",source,"));
  g_assert_true (g_str_has_prefix (lines[2], "\"1\",\"target-1\",target,"));
  g_assert_cmpstr (lines[3], ==, "");
  g_clear_pointer (&text, g_free);
  g_assert_true (px_correspondence_page_export_points (page, json, "json", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (json, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"format\": \"peac-correspondence\""));
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", FALSE);

  // Landmarks: saved per image, loaded back onto the source.
  g_assert_cmpint (g_mkdir (folder, 0700), ==, 0);
  g_assert_true (px_correspondence_page_save_landmarks (page, folder, &error));
  g_assert_no_error (error);
  source_json = g_build_filename (folder, "crop-a.png.landmarks.json", NULL);
  g_assert_true (g_file_test (source_json, G_FILE_TEST_IS_REGULAR));
  {
    // The target's file holds the pin's confident answer, without a "confirmed": false.
    g_autofree char *target_json = g_build_filename (folder, "crop-b.png.landmarks.json", NULL);
    g_autoptr (PxLandmarkSet) target = px_landmarks_load_json (target_json, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (px_landmark_set_size (target), ==, 1);
    g_assert_false (px_landmark_set_get (target, 0)->unconfirmed);
  }
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.clear-pins", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 0);
  g_assert_true (px_correspondence_page_load_landmarks (page, source_json, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &x, &y, &answer));
  g_assert_cmpfloat (fabs (x - px) + fabs (y - py), <, 0.02);
  g_assert_cmpint (answer.row, ==, qr - DSHIFT_Y);

  // Unticking the only target leaves none (the empty state); ticking it again restores
  // the match, and the pins.
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.toggle-target", "i", 1);
  g_assert_cmpuint (px_correspondence_page_get_n_targets (page), ==, 0);
  g_assert_false (px_correspondence_page_get_ready (page));
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.toggle-target", "i", 1);
  g_assert_cmpuint (px_correspondence_page_get_n_targets (page), ==, 1);
  g_assert_true (px_test_wait_for (page_ready, page, 60));
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);

  // The page's state survives a visit to another page.
  px_window_show_page (window, "viewer");
  px_test_settle ();
  px_window_show_page (window, "correspondence");
  px_test_settle ();
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
  g_assert_true (px_correspondence_page_get_answer (page, 0, &answer));
}

static gboolean
map_idle (gpointer data)
{
  return !px_embedding_map_page_get_busy (data);
}

static char *
jsrt_folder (void)
{
  char *dir = g_build_filename (g_getenv ("PEAC_SHARED_DIR"), "data", "landmarks", "jsrt", NULL);

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    g_clear_pointer (&dir, g_free);
  return dir;
}

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
  PxWindow *window = new_window ();
  PxEmbeddingMapPage *page = px_window_get_embedding_map_page (window);
  g_autofree char *dir = jsrt_folder ();
  g_autofree char *csv = g_build_filename (tmp_dir, "map.csv", NULL);
  g_autofree char *png = g_build_filename (tmp_dir, "map.png", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *text = NULL;
  g_autofree float *before = NULL;
  guint n_points, expected = 0;
  PxTestStallProbe probe;

  if (dir == NULL)
    {
      g_test_skip ("the JSRT landmark folder is not available");
      return;
    }
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
  g_assert_false (map_idle (page));   // "4 images": set below before the job reads it
  gtk_widget_activate_action (GTK_WIDGET (page), "map.stop", NULL);
  g_assert_true (px_test_wait_for (map_idle, page, 60));
  g_assert_cmpuint (px_embedding_map_page_get_n_points (page), ==, 0);

  // Four images: one point per (image, landmark), the scatter drawn while converging.
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (px_test_find_child (GTK_WIDGET (page), GTK_TYPE_SPIN_BUTTON)),
                             4);
  px_test_probe_start (&probe, G_PRIORITY_DEFAULT);
  gtk_widget_activate_action (GTK_WIDGET (page), "map.run", NULL);
  g_assert_true (px_test_wait_for (map_idle, page, 120));
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
  g_assert_true (px_test_wait_for (map_idle, page, 120));
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
    g_signal_emit_by_name (find_drag_gesture (area), "drag-begin", vx, vy);
    g_signal_emit_by_name (find_drag_gesture (area), "drag-end", 0.0, 0.0);
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
  PxWindow *window = new_window ();
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

static gboolean
grid_ready (gpointer data)
{
  return px_grid_matching_page_get_ready (data);
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
  PxWindow *window = new_window ();
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
  g_assert_true (px_test_wait_for (grid_ready, page, 60));
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
  g_assert_true (px_test_wait_for (grid_ready, page, 60));
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

static GtkWidget *
find_button_labelled (GtkWidget  *root,
                      const char *label)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), label) == 0)
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button_labelled (child, label);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
collect_spin_buttons (GtkWidget *root,
                      GPtrArray *spins)
{
  if (GTK_IS_SPIN_BUTTON (root))
    g_ptr_array_add (spins, root);
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_spin_buttons (child, spins);
}

// The grid-matching tool bar as a new user meets it in a 1024-pixel window: every control on
// screen, every spin button labelled, a new seed drawing its crops at once and Resample
// drawing new ones (the next seed), and the lines between matched cells thinned unless asked.
static void
test_grid_matching_toolbar (void)
{
  PxWindow *window = new_window ();
  PxGridMatchingPage *page = px_window_get_grid_matching_page (window);
  g_autoptr(GFile) file = g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", SAMPLE, NULL);
  g_autofree char *png = g_build_filename (tmp_dir, "toolbar.png", NULL);
  g_autoptr(GPtrArray) spins = g_ptr_array_new ();
  g_autofree guint8 *seed1 = NULL, *seed2 = NULL, *again = NULL, *resampled = NULL, *lines = NULL;
  const char *controls[] = { "Clean", "_Shuffled", "_Distorted", "_Resample", "All _Lines" };
  gsize n_bytes = 1200 * 360 * 4;
  GtkSpinButton *seed;
  int width;

  gtk_window_set_default_size (GTK_WINDOW (window), 1024, 700);
  px_window_show_page (window, "grid-matching");
  g_application_open (G_APPLICATION (app), &file, 1, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_true (px_test_wait_for (grid_ready, page, 60));
  px_test_settle ();
  // 1024 wide with the frame: the window's content is a little narrower.
  width = gtk_widget_get_width (GTK_WIDGET (window));
  g_assert_cmpint (width, <=, 1024);
  g_assert_cmpint (width, >, 1000);

  for (guint i = 0; i < G_N_ELEMENTS (controls); i++)
    {
      GtkWidget *button = find_button_labelled (GTK_WIDGET (page), controls[i]);
      graphene_rect_t bounds;

      g_assert_nonnull (button);
      g_assert_true (gtk_widget_get_mapped (button));
      g_assert_true (gtk_widget_compute_bounds (button, GTK_WIDGET (window), &bounds));
      g_test_message ("%s: x %.0f to %.0f", controls[i], bounds.origin.x, bounds.origin.x + bounds.size.width);
      g_assert_cmpfloat (bounds.origin.x, >=, 0);
      g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, width);
    }

  collect_spin_buttons (GTK_WIDGET (page), spins);
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
  g_assert_true (px_test_wait_for (grid_ready, page, 60));
  seed2 = export_pixels (page, png);
  g_assert_true (memcmp (seed1, seed2, n_bytes) != 0);
  gtk_spin_button_set_value (seed, 1);
  g_assert_true (px_test_wait_for (grid_ready, page, 60));
  again = export_pixels (page, png);
  g_assert_true (memcmp (seed1, again, n_bytes) == 0);
  gtk_widget_activate_action (GTK_WIDGET (page), "grid.resample", NULL);
  g_assert_cmpfloat (gtk_spin_button_get_value (seed), ==, 2);
  check_pairs (page);
  g_assert_true (px_test_wait_for (grid_ready, page, 60));
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

  tmp_dir = px_test_make_home ("peac-pages-XXXXXX");
  // Xvfb offers only llvmpipe, whose GL frames of this window take ~100 ms on a 2-core
  // machine and would drown what the stall probe is meant to see (the pages' own work);
  // the Cairo renderer draws the same pixels without that cost.
  g_setenv ("GSK_RENDERER", "cairo", FALSE);

  g_test_init (&argc, &argv, NULL);
  gtk_init ();

  app = px_application_new ("org.peac.Explorer.PagesTest", G_APPLICATION_NON_UNIQUE);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  g_test_add_func ("/pages/correspondence/shifted-match", test_shifted_match);
  g_test_add_func ("/pages/correspondence/drawing-and-exports", test_drawing_and_exports);
  g_test_add_func ("/pages/correspondence/pointer", test_pointer);
  g_test_add_func ("/pages/correspondence/save-landmarks", test_save_landmarks);
  g_test_add_func ("/pages/correspondence/pins-kept-and-undone", test_pins_kept_and_undone);
  g_test_add_func ("/pages/embedding-map/run-place-export", test_embedding_map);
  g_test_add_func ("/pages/embedding-map/legend-colours", test_legend_colours);
  g_test_add_func ("/pages/grid-matching/pairs", test_grid_matching);
  g_test_add_func ("/pages/grid-matching/toolbar", test_grid_matching_toolbar);
  g_test_add_func ("/pages/model/open", test_open_model);

  ret = g_test_run ();

  g_clear_object (&app);
  // PEAC_KEEP_TEST_OUTPUT keeps the output for a human to look at.
  px_test_remove_home (tmp_dir);
  return ret;
}
