// SPDX-License-Identifier: GPL-3.0-or-later
//
// GUI tests of the correspondence page under Xvfb, driven through its actions with the
// deterministic micro model (the other analysis pages are test-pages-maps.c's). The page
// gets a pair of radiograph crops in which the target is the source moved by whole cells,
// so the right answer of every query is known: the shifted cell. Drawing is checked on
// exported PNGs at points computed from the page's own layout. A probe on the main loop
// (a 5 ms timeout) reports the longest gap while workers run; it reports and does not
// assert, timing being the machine's business.
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <glib/gstdio.h>

#include "px-application.h"
#include "px-correspondence-page.h"
#include "px-landmark-save.h"
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
// The crops' file names. The target's holds digits in four or more dot-separated parts,
// the shape of a DICOM UID, which privacy mode hides (px_privacy_mask_name); the source's
// holds nothing identifying and is shown as it is, in privacy mode too.
#define NAME_A "crop-a.png"
#define NAME_B "crop-b-1.2.826.0.1.3680043.png"
#define UID_B "1.2.826.0.1.3680043"

static PxApplication *app;
static char *tmp_dir;

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
  a = write_crop (image, CROP_X, CROP_Y, NAME_A);
  b = write_crop (image, CROP_X + SHIFT_X * CELL, CROP_Y + SHIFT_Y * CELL, NAME_B);
  files[0] = a;
  files[1] = b;

  // The page is on screen first, so that the probe sees the loading and embedding, not
  // GTK's first layout of the page.
  px_window_show_page (window, "correspondence");
  px_test_settle ();
  px_test_probe_start (&probe, G_PRIORITY_DEFAULT);
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_true (px_test_wait_for (px_test_correspondence_ready, page, 60));
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
    g_assert_true (px_test_wait_for (px_test_correspondence_ready, page, 60));
    g_test_message ("worst main-loop gap while embedding again after a model change: %.1f ms",
                    px_test_probe_stop (&probe));
  }
  g_assert_cmpuint (px_correspondence_page_get_n_targets (page), ==, 1);
  return page;
}

static void
test_shifted_match (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
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


// The pointer, through the drawing area's own drag gesture: a click on the source pins a
// point; in landmark mode a pin's marker on a target can be dragged to correct it.
static void
test_pointer (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = open_shifted_pair (window);
  GtkWidget *area = px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA);
  GtkGesture *drag = px_test_find_drag_gesture (area);
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

static gboolean
message_dialog_shown (gpointer data)
{
  return px_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG) != NULL;
}

// What a click on a dialog's button does: the response, then the dialog closes.
static void
respond (const char *response)
{
  GtkWidget *dialog = px_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG);

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
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = open_shifted_pair (window);
  g_autofree char *folder = g_build_filename (tmp_dir, "saved-landmarks", NULL);
  g_autofree char *typed = g_build_filename (folder, "landmarks.json", NULL);
  g_autofree char *source_json = g_build_filename (folder, NAME_A ".landmarks.json", NULL);
  g_autofree char *target_json = g_build_filename (folder, NAME_B ".landmarks.json", NULL);
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
  chooser = px_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
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
    g_autofree char *png = g_build_filename (tmp_dir, NAME_A, NULL);
    g_autofree char *resolved = px_landmark_save_resolve_folder (png, &error);

    g_assert_null (resolved);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
    g_assert_nonnull (strstr (error->message, "is a file, not a folder"));
  }
}

static gboolean
two_targets_ready (gpointer data)
{
  return px_correspondence_page_get_n_targets (data) == 2 && px_test_correspondence_ready (data);
}

// Landmark files are named after their images; two images of one name (crop-a.png in two
// folders) get two files, the later one numbered, not one file written twice.
static void
test_landmark_file_names (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = open_shifted_pair (window);
  g_autofree char *sample = g_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", SAMPLE, NULL);
  g_autofree char *again = g_build_filename (tmp_dir, "again", NULL);
  g_autofree char *folder = g_build_filename (tmp_dir, "twice-named", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PxImage) image = px_image_load (sample, &error);
  g_autoptr(GFile) c = NULL;
  g_auto(GStrv) names = NULL;
  const char *want[] = { NAME_A ".landmarks.json", NAME_B ".landmarks.json",
                         NAME_A " (2).landmarks.json" };

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (again, 0700), ==, 0);
  c = write_crop (image, CROP_X + CELL, CROP_Y, "again" G_DIR_SEPARATOR_S NAME_A);
  g_application_open (G_APPLICATION (app), &c, 1, "");
  g_assert_true (px_test_wait_for (two_targets_ready, page, 60));
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-cell", "(ii)", 6, 7);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.pin", NULL);

  names = px_correspondence_page_dup_landmark_file_names (page);
  g_assert_cmpuint (g_strv_length (names), ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    g_assert_cmpstr (names[i], ==, want[i]);
  g_assert_cmpint (g_mkdir (folder, 0700), ==, 0);
  g_assert_true (px_correspondence_page_save_landmarks (page, folder, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_autofree char *path = g_build_filename (folder, want[i], NULL);
      g_autoptr(PxLandmarkSet) set = px_landmarks_load_json (path, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (px_landmark_set_size (set), ==, 1);
    }
}

// Pins are the user's work: they stay with their image when another one becomes the source,
// every placing, correction and clearing can be undone and redone, and closing the image or
// the window with unsaved pins asks first.
static void
test_pins_kept_and_undone (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = open_shifted_pair (window);
  GtkWidget *area = px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA);
  GtkGesture *drag = px_test_find_drag_gesture (area);
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
  g_assert_true (px_test_wait_for (px_test_correspondence_ready, page, 60));
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
  g_assert_null (px_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.close-study", NULL);
  px_test_settle ();
  g_assert_null (px_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
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
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = open_shifted_pair (window);
  const double W = 1800, H = 900;  // large enough that a dense cell shows around its markers
  const int qr = 6, qc = 7;
  g_autofree char *png = g_build_filename (tmp_dir, "view.png", NULL);
  g_autofree char *svg = g_build_filename (tmp_dir, "view.svg", NULL);
  g_autofree char *csv = g_build_filename (tmp_dir, "points.csv", NULL);
  g_autofree char *json = g_build_filename (tmp_dir, "points.json", NULL);
  g_autofree char *folder = g_build_filename (tmp_dir, "landmarks", NULL);
  g_autofree char *source_json = NULL;
  g_autofree char *sum_b = g_compute_checksum_for_string (G_CHECKSUM_SHA256, NAME_B, -1);
  g_autofree char *masked_b = NULL, *row_a = NULL, *row_b = NULL;
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

  // Points: one row per (pin, image). Privacy names the images as the sidebar does, by
  // px_privacy_mask_name's documented rule: the source's name identifies no one and stays;
  // the target's holds a UID and becomes "Radiograph" and the first six hex digits of the
  // name's SHA-256. The role column says which image is the source.
  masked_b = g_strdup_printf ("Radiograph %.6s", sum_b);
  row_a = g_strdup_printf ("\"1\",\"%s\",source,", NAME_A);
  row_b = g_strdup_printf ("\"1\",\"%s\",target,", masked_b);
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", TRUE);
  {
    g_autoptr(PxStudy) study_b = g_list_model_get_item (px_window_get_studies (window), 1);
    g_autofree char *sidebar_b = px_study_dup_display_title (study_b, TRUE);

    g_assert_cmpstr (sidebar_b, ==, masked_b);
  }
  g_assert_true (px_correspondence_page_export_points (page, csv, "csv", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_null (strstr (text, UID_B));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "pin,image,role,x,y,found,confidence,grade,spread_px,spread_mm,corrected,x_mm,y_mm,"
                                "similarity");
  g_assert_true (g_str_has_prefix (lines[1], row_a));
  g_assert_true (g_str_has_prefix (lines[2], row_b));
  g_assert_cmpstr (lines[3], ==, "");
  g_clear_pointer (&text, g_free);
  g_assert_true (px_correspondence_page_export_points (page, json, "json", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (json, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"format\": \"peac-correspondence\""));
  g_assert_null (strstr (text, UID_B));
  {
    g_autofree char *image_b = g_strdup_printf ("\"image\": \"%s\", \"role\": \"target\"", masked_b);

    g_assert_nonnull (strstr (text, image_b));
  }
  g_clear_pointer (&text, g_free);
  // The landmark files are named so too.
  {
    g_autofree char *private_folder = g_build_filename (tmp_dir, "private-landmarks", NULL);
    g_autofree char *file_a = g_build_filename (private_folder, NAME_A ".landmarks.json", NULL);
    g_autofree char *name_b = g_strdup_printf ("%s.landmarks.json", masked_b);
    g_autofree char *file_b = g_build_filename (private_folder, name_b, NULL);

    g_assert_cmpint (g_mkdir (private_folder, 0700), ==, 0);
    g_assert_true (px_correspondence_page_save_landmarks (page, private_folder, &error));
    g_assert_no_error (error);
    g_assert_true (g_file_test (file_a, G_FILE_TEST_IS_REGULAR));
    g_assert_true (g_file_test (file_b, G_FILE_TEST_IS_REGULAR));
  }
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", FALSE);

  // Landmarks: saved per image, loaded back onto the source.
  g_assert_cmpint (g_mkdir (folder, 0700), ==, 0);
  g_assert_true (px_correspondence_page_save_landmarks (page, folder, &error));
  g_assert_no_error (error);
  source_json = g_build_filename (folder, NAME_A ".landmarks.json", NULL);
  g_assert_true (g_file_test (source_json, G_FILE_TEST_IS_REGULAR));
  {
    // The target's file holds the pin's confident answer, without a "confirmed": false.
    g_autofree char *target_json = g_build_filename (folder, NAME_B ".landmarks.json", NULL);
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
  g_assert_true (px_test_wait_for (px_test_correspondence_ready, page, 60));
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);

  // The page's state survives a visit to another page.
  px_window_show_page (window, "viewer");
  px_test_settle ();
  px_window_show_page (window, "correspondence");
  px_test_settle ();
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
  g_assert_true (px_correspondence_page_get_answer (page, 0, &answer));
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = px_test_app_setup (&argc, &argv, "pages", &tmp_dir);

  g_test_add_func ("/pages/correspondence/shifted-match", test_shifted_match);
  g_test_add_func ("/pages/correspondence/drawing-and-exports", test_drawing_and_exports);
  g_test_add_func ("/pages/correspondence/pointer", test_pointer);
  g_test_add_func ("/pages/correspondence/save-landmarks", test_save_landmarks);
  g_test_add_func ("/pages/correspondence/landmark-file-names", test_landmark_file_names);
  g_test_add_func ("/pages/correspondence/pins-kept-and-undone", test_pins_kept_and_undone);

  ret = g_test_run ();

  px_test_app_teardown (app, tmp_dir);
  return ret;
}
