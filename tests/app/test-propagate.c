// SPDX-License-Identifier: GPL-3.0-or-later
//
// GUI tests of Propagate from References and of the cardiothoracic ratio on the
// correspondence page, under Xvfb with the deterministic micro model. The atlas is three
// JSRT radiographs read in place from ../shared/data (a JSRT-layout folder of symbolic
// links in the test's temporary home); the page shows two other JSRT radiographs. The
// oracle of the propagated points is the engine's atlas API called by the test itself on
// the same files and model (px-atlas.h, landmark-atlas.h), and JSRT's own landmarks bound
// them loosely; the oracle of the ratio is a hand computation from the true landmarks.
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <glib/gstdio.h>

#include "landmark-atlas.h"
#include "peac-test-cli.h"
#include "px-application.h"
#include "px-atlas.h"
#include "px-correspondence-page.h"
#include "px-match-scene.h"
#include "px-propagate-dialog.h"
#include "px-test-util.h"
#include "px-window.h"

#define K 3

static const char *const refs[3] = { "JPCLN004", "JPCLN007", "JPCLN008" };
static const char *const shown[2] = { "JPCLN010", "JPCLN012" };

static PxApplication *app;
static char *tmp_dir;

static char *
jsrt_image (const char *id)
{
  g_autofree char *rel = g_strdup_printf ("landmarks/jsrt/images_2048/%s.IMG.png", id);

  return peac_test_shared_path (rel);
}

// A JSRT-layout folder holding only the three references, as links into ../shared.
static char *
make_atlas (void)
{
  g_autofree char *jsrt = peac_test_shared_path ("landmarks/jsrt");
  char *dir = g_build_filename (tmp_dir, "atlas", NULL);
  g_autofree char *images = g_build_filename (dir, "images_2048", NULL);

  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    return dir;
  g_assert_cmpint (g_mkdir_with_parents (images, 0700), ==, 0);
  for (int s = 0; s < 5; s++)
    {
      g_autofree char *sub = g_build_filename (dir, "hybridgnet_landmarks_1024",
                                               px_landmarks_jsrt_structures[s], NULL);

      g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
      for (int i = 0; i < 3; i++)
        {
          g_autofree char *name = g_strconcat (refs[i], ".npy", NULL);
          g_autofree char *from = g_build_filename (jsrt, "hybridgnet_landmarks_1024",
                                                    px_landmarks_jsrt_structures[s], name, NULL);
          g_autofree char *to = g_build_filename (sub, name, NULL);

          g_assert_cmpint (symlink (from, to), ==, 0);
        }
    }
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *from = jsrt_image (refs[i]);
      g_autofree char *base = g_path_get_basename (from);
      g_autofree char *to = g_build_filename (images, base, NULL);

      g_assert_cmpint (symlink (from, to), ==, 0);
    }
  return dir;
}

// The two JSRT radiographs under the micro model: the first is the source.
static PxCorrespondencePage *
open_shown (PxWindow *window)
{
  PxCorrespondencePage *page = px_window_get_correspondence_page (window);
  g_autoptr(PxModel) model = px_model_new_micro ();
  GFile *files[2];

  px_embedder_set_model (px_window_get_embedder (window), model);
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *path = jsrt_image (shown[i]);

      files[i] = g_file_new_for_path (path);
    }
  px_window_show_page (window, "correspondence");
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 120));
  g_assert_true (px_test_wait_for (px_test_correspondence_ready, page, 120));
  px_test_settle ();
  g_assert_cmpint (px_correspondence_page_get_n_panels (page), ==, 2);
  return page;
}

// Opens the dialog through the page's action, as its menu item does.
static PxPropagateDialog *
open_dialog (PxCorrespondencePage *page)
{
  GtkWidget *dialog;

  gtk_widget_activate_action (GTK_WIDGET (page), "corr.propagate", NULL);
  px_test_settle ();
  dialog = px_test_find_toplevel (PX_TYPE_PROPAGATE_DIALOG);
  g_assert_nonnull (dialog);
  g_assert_true (gtk_widget_get_mapped (dialog));
  return g_object_ref (PX_PROPAGATE_DIALOG (dialog));
}

static gboolean
counted (gpointer data)
{
  return px_propagate_dialog_get_n_references (data) > 0;
}

static gboolean
dialog_done (gpointer data)
{
  return !px_propagate_dialog_get_busy (data);
}

static int
find_point (const PxLandmarkSet *set,
            const char          *name)
{
  for (guint i = 0; i < px_landmark_set_size (set); i++)
    if (g_strcmp0 (px_landmark_set_get (set, i)->name, name) == 0)
      return (int) i;
  return -1;
}

// The dialog propagates the three references onto both radiographs: every point equals
// the engine's answer computed here on the same files (position, spread, confirmation),
// lies near JSRT's own point, and the Save Landmarks flow writes the spreads and the ratio.
static void
test_propagate (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = open_shown (window);
  g_autofree char *atlas_dir = make_atlas ();
  g_autofree char *jsrt = peac_test_shared_path ("landmarks/jsrt");
  g_autoptr(PxPropagateDialog) dialog = open_dialog (page);
  PxModel *model = px_embedder_get_model (px_window_get_embedder (window));
  g_autofree char *saved = g_build_filename (tmp_dir, "propagated", NULL);
  PeacAtlas atlas = { 0 };
  PxAtlasEmbedder e = { 0 };
  PxTestStallProbe probe;
  char err[1024];
  gint64 t0;

  px_propagate_dialog_set_folder (dialog, atlas_dir);
  // The folder's annotated images are counted at once: K is bounded by them.
  g_assert_true (px_test_wait_for (counted, dialog, 60));
  g_assert_cmpint (px_propagate_dialog_get_n_references (dialog), ==, 3);
  g_assert_true (px_test_labels_contain (GTK_WIDGET (dialog), "3 annotated radiographs"));
  px_propagate_dialog_set_k (dialog, 5);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (px_test_find_child (GTK_WIDGET (dialog), GTK_TYPE_SPIN_BUTTON))), ==, K);
  px_test_probe_start (&probe, G_PRIORITY_DEFAULT);
  t0 = g_get_monotonic_time ();
  px_propagate_dialog_start (dialog);
  g_assert_true (px_propagate_dialog_get_busy (dialog));
  g_assert_true (px_test_wait_for (dialog_done, dialog, 300));
  g_test_message ("propagation of %d references onto 2 radiographs in the app: %.2f s; "
                  "worst main-loop gap %.1f ms", K, (g_get_monotonic_time () - t0) / 1e6,
                  px_test_probe_stop (&probe));
  px_test_settle ();
  // Done: the dialog closed and a toast says what was applied.
  g_assert_null (px_test_find_toplevel (PX_TYPE_PROPAGATE_DIALOG));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "from 3 of 3 references on 2 radiographs"));
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 166);

  // The oracle: the engine's atlas on the same references and radiographs.
  g_assert_cmpint (px_atlas_load (&atlas, atlas_dir, NULL, err, sizeof err), ==, 0);
  g_assert_cmpint (px_atlas_embedder_init (&e, px_model_lock_engine (model), -1, err, sizeof err), ==, 0);
  g_assert_cmpint (px_atlas_embed (&atlas, &e, err, sizeof err), ==, 0);
  for (int p = 0; p < 2; p++)
    {
      g_autofree char *path = g_file_get_path (px_study_get_file (px_correspondence_page_get_panel_study (page, p)));
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *id = g_strndup (base, strcspn (base, "."));
      g_autoptr(PxLandmarkSet) got = px_correspondence_page_dup_landmarks (page, p, FALSE);
      g_autoptr(GError) error = NULL;
      g_autoptr(PxLandmarkSet) truth = px_landmarks_load_jsrt (jsrt, id, &error);
      g_autofree float *tok = g_new (float, (gsize) e.grid.gh * e.grid.gw * e.grid.dim);
      g_autofree float *global = g_new (float, (gsize) e.grid.dim);
      int pick[2 * K], found[200], w, h, nc, n_unconfirmed = 0;
      double xy[400], spread[200], weight[2 * K], sum = 0;
      const PeacAtlasImage *r0;

      g_assert_no_error (error);
      g_assert_cmpint (px_atlas_embedder_run (&e, path, tok, global, &w, &h, err, sizeof err), ==, 0);
      nc = peac_atlas_pick (&atlas, global, e.grid.dim, -1, 2 * K, pick);
      g_assert_cmpint (nc, ==, 3);
      r0 = &atlas.img[pick[0]];
      g_assert_cmpint (r0->n, ==, 166);
      g_assert_cmpint (peac_atlas_propagate (&atlas, pick, nc, K, &e.grid, tok, w, h, NULL, xy, spread,
                                             found, weight, NULL, err, sizeof err), ==, 0);
      g_assert_cmpuint (px_landmark_set_size (got), ==, 166);
      for (int i = 0; i < r0->n; i++)
        {
          int q = find_point (got, r0->point[i]);
          int t = find_point (truth, r0->point[i]);
          const PxLandmark *l;

          g_assert_cmpint (q, >=, 0);
          g_assert_cmpint (t, >=, 0);
          l = px_landmark_set_get (got, (guint) q);
          g_assert_cmpstr (l->structure, ==, r0->structure[i]);
          // Points travel as floats on the page: a thousandth of a pixel.
          g_assert_cmpfloat (fabs (l->x - xy[2 * i]), <, 1e-3);
          g_assert_cmpfloat (fabs (l->y - xy[2 * i + 1]), <, 1e-3);
          g_assert_cmpfloat (fabs (l->spread_px - spread[i]), <, 1e-9);
          g_assert_cmpint (l->unconfirmed, ==, !peac_atlas_confirmed (spread[i], K, found[i], w, &e.grid));
          n_unconfirmed += l->unconfirmed;
          sum += hypot (l->x - px_landmark_set_get (truth, (guint) t)->x,
                        l->y - px_landmark_set_get (truth, (guint) t)->y);
        }
      // Loose: the untrained micro model with three references; a tenth of the width.
      g_test_message ("%s: mean radial error %.1f px of %d, %d of 166 unconfirmed", id,
                      sum / r0->n, w, n_unconfirmed);
      g_assert_cmpfloat (sum / r0->n, <, 0.1 * w);
      g_assert_true (got->ctr.valid);
    }
  px_model_unlock_engine (model);
  px_atlas_clear (&atlas);
  px_atlas_embedder_clear (&e);

  // Saved through the one writer: spreads and the ratio come back.
  g_assert_cmpint (g_mkdir_with_parents (saved, 0700), ==, 0);
  {
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) names = px_correspondence_page_dup_landmark_file_names (page);
    g_autofree char *file = NULL;
    g_autoptr(PxLandmarkSet) back = NULL;
    g_autoptr(PxLandmarkSet) shown_set = px_correspondence_page_dup_landmarks (page, 1, FALSE);

    g_assert_true (px_correspondence_page_save_landmarks (page, saved, &error));
    g_assert_no_error (error);
    file = g_build_filename (saved, names[1], NULL);
    back = px_landmarks_load_json (file, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (px_landmark_set_size (back), ==, 166);
    g_assert_cmpfloat (px_landmark_set_get (back, 7)->spread_px, ==, px_landmark_set_get (shown_set, 7)->spread_px);
    g_assert_cmpstr (px_landmark_set_get (back, 7)->structure, ==, px_landmark_set_get (shown_set, 7)->structure);
    g_assert_true (back->ctr.valid);
    g_assert_cmpfloat (fabs (back->ctr.ratio - shown_set->ctr.ratio), <, 1e-4);
  }
}

// A fused point on the target is dragged into place (it is then the user's, no longer
// fused), and Undo puts the references' answer back, spread and all.
static void
test_drag_and_undo (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = open_shown (window);
  g_autofree char *atlas_dir = make_atlas ();
  g_autoptr(PxPropagateDialog) dialog = open_dialog (page);
  GtkWidget *area = px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA);
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (area);
  GtkGesture *drag = NULL;
  g_autoptr(PxLandmarkSet) before = NULL;
  g_autoptr(PxLandmarkSet) after = NULL;
  g_autoptr(PxLandmarkSet) undone = NULL;
  const PxLandmark *l;
  double w, h, vx, vy, x, y, sx, sy;
  PeacMatch answer;
  int heart = -1;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      // The left-button drag: the right one sets window/level.
      if (GTK_IS_GESTURE_DRAG (controller) &&
          gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (controller)) == GDK_BUTTON_PRIMARY)
        drag = GTK_GESTURE (controller);
    }
  g_assert_nonnull (drag);
  px_propagate_dialog_set_folder (dialog, atlas_dir);
  px_propagate_dialog_set_k (dialog, K);
  px_propagate_dialog_start (dialog);
  g_assert_true (px_test_wait_for (dialog_done, dialog, 300));
  px_test_settle ();
  before = px_correspondence_page_dup_landmarks (page, 1, FALSE);
  heart = find_point (before, "H.0");
  g_assert_cmpint (heart, >=, 0);
  l = px_landmark_set_get (before, (guint) heart);
  g_assert_cmpfloat (l->spread_px, >=, 0);

  // Drag H.0 on the target 60 px right and 40 px down (image pixels).
  w = gtk_widget_get_width (area);
  h = gtk_widget_get_height (area);
  g_assert_true (px_correspondence_page_get_pin (page, (guint) heart, 0, &sx, &sy, &answer));
  px_correspondence_page_view_point (page, w, h, 1, answer.x, answer.y, &vx, &vy);
  px_correspondence_page_view_point (page, w, h, 1, answer.x + 60, answer.y + 40, &x, &y);
  g_signal_emit_by_name (drag, "drag-begin", vx, vy);
  g_signal_emit_by_name (drag, "drag-update", x - vx, y - vy);
  g_signal_emit_by_name (drag, "drag-end", x - vx, y - vy);
  after = px_correspondence_page_dup_landmarks (page, 1, FALSE);
  l = px_landmark_set_get (after, (guint) heart);
  // One view pixel is several image pixels of a 2048-px radiograph.
  g_assert_cmpfloat (fabs (l->x - (px_landmark_set_get (before, (guint) heart)->x + 60)), <, 8);
  g_assert_cmpfloat (fabs (l->y - (px_landmark_set_get (before, (guint) heart)->y + 40)), <, 8);
  g_assert_cmpfloat (l->spread_px, <, 0);
  g_assert_false (l->unconfirmed);
  // The other points stay the references' answers.
  g_assert_cmpfloat (px_landmark_set_get (after, 0)->x, ==, px_landmark_set_get (before, 0)->x);

  gtk_widget_activate_action (GTK_WIDGET (page), "corr.undo", NULL);
  undone = px_correspondence_page_dup_landmarks (page, 1, FALSE);
  l = px_landmark_set_get (undone, (guint) heart);
  g_assert_cmpfloat (l->x, ==, px_landmark_set_get (before, (guint) heart)->x);
  g_assert_cmpfloat (l->y, ==, px_landmark_set_get (before, (guint) heart)->y);
  g_assert_cmpfloat (l->spread_px, ==, px_landmark_set_get (before, (guint) heart)->spread_px);
  g_assert_cmpint (l->unconfirmed, ==, px_landmark_set_get (before, (guint) heart)->unconfirmed);
  // On the source too, and a corrected point can be dragged again.
  {
    g_autoptr(PxLandmarkSet) src0 = px_correspondence_page_dup_landmarks (page, 0, FALSE);
    const PxLandmark *l0 = px_landmark_set_get (src0, (guint) heart);

    for (int step = 1; step <= 2; step++)
      {
        g_autoptr(PxLandmarkSet) moved = NULL;
        double ox = l0->x + 0.5 + 50 * (step - 1), oy = l0->y + 0.5;

        px_correspondence_page_view_point (page, w, h, 0, ox, oy, &vx, &vy);
        px_correspondence_page_view_point (page, w, h, 0, ox + 50, oy, &x, &y);
        g_signal_emit_by_name (drag, "drag-begin", vx, vy);
        g_signal_emit_by_name (drag, "drag-update", x - vx, y - vy);
        g_signal_emit_by_name (drag, "drag-end", x - vx, y - vy);
        moved = px_correspondence_page_dup_landmarks (page, 0, FALSE);
        g_assert_cmpfloat (fabs (px_landmark_set_get (moved, (guint) heart)->x - (l0->x + 50 * step)), <, 8);
        g_assert_cmpfloat (px_landmark_set_get (moved, (guint) heart)->spread_px, <, 0);
      }
    gtk_widget_activate_action (GTK_WIDGET (page), "corr.undo", NULL);
    gtk_widget_activate_action (GTK_WIDGET (page), "corr.undo", NULL);
    g_clear_pointer (&undone, px_landmark_set_free);
    undone = px_correspondence_page_dup_landmarks (page, 0, FALSE);
    g_assert_cmpfloat (px_landmark_set_get (undone, (guint) heart)->x, ==, l0->x);
    g_assert_cmpfloat (px_landmark_set_get (undone, (guint) heart)->spread_px, ==, l0->spread_px);
  }

  // And the propagation itself is one undo step: before it, the page had no points.
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.undo", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 0);
}

// A reference file of the JSON layout with the given points ("structure" per point).
static void
write_reference (const char  *dir,
                 const char  *name,
                 const char  *image,
                 const char **structures,
                 int          n)
{
  g_autoptr(PxLandmarkSet) set = px_landmark_set_new ();
  g_autofree char *file = g_strconcat (name, ".landmarks.json", NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GError) error = NULL;

  set->image_path = g_strdup (image);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *point = g_strdup_printf ("%s.%d", structures[i], i);

      px_landmark_set_add (set, point, structures[i], i, 100 + 10 * i, 200, NULL);
    }
  g_assert_true (px_landmarks_save_json (set, path, &error));
  g_assert_no_error (error);
}

typedef struct {
  GtkWidget  *window;
  const char *needle;
} Toast;

static gboolean
toast_shown (gpointer data)
{
  Toast *toast = data;

  return px_test_labels_contain (toast->window, toast->needle);
}

// Each bad folder: an error toast naming the file and the reason, the dialog stays open
// with the message, and the page's points are as they were.
// Choose… opens a folder chooser modal to the dialog, whose button says Select; the
// folder accepted there becomes the dialog's.
static void
choose_folder (PxPropagateDialog *dialog,
               const char        *folder)
{
  GtkWidget *choose = px_test_find_widget (GTK_WIDGET (dialog), px_test_button_has_label, "C_hoose…");
  g_autoptr(GFile) file = g_file_new_for_path (folder);
  GtkWidget *chooser, *accept;

  g_assert_nonnull (choose);
  g_signal_emit_by_name (choose, "clicked");
  px_test_settle ();
  chooser = px_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
  g_assert_nonnull (chooser);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (chooser)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (chooser)) == GTK_WINDOW (dialog));
  g_assert_cmpint (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (chooser)), ==,
                   GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
  accept = gtk_dialog_get_widget_for_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (accept)), ==, "_Select");
  g_assert_true (gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), file, NULL));
  px_test_settle ();
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  px_test_settle ();
  g_assert_null (px_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG));
}

static void
test_bad_folders (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = open_shown (window);
  g_autofree char *image = jsrt_image (refs[0]);
  g_autofree char *empty = g_build_filename (tmp_dir, "empty", NULL);
  g_autofree char *bare = g_build_filename (tmp_dir, "bare", NULL);
  g_autofree char *apart = g_build_filename (tmp_dir, "apart", NULL);
  g_autofree char *bare_file = g_build_filename (bare, "b.landmarks.json", NULL);
  g_autofree char *apart_a = g_build_filename (apart, "a.landmarks.json", NULL);
  g_autofree char *apart_b = g_build_filename (apart, "b.landmarks.json", NULL);
  const char *rl[2] = { "RL", "RL" }, *h[2] = { "H", "H" };
  struct { const char *folder, *needle1, *needle2; } cases[3] = {
    { empty, empty, "no annotated image" },
    { bare, bare_file, "no landmarks" },
    { apart, apart_b, "no landmark structure in common" },
  };
  double x0, y0, x, y;
  PeacMatch answer;
  Toast toast;

  g_assert_cmpint (g_mkdir_with_parents (empty, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (bare, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (apart, 0700), ==, 0);
  write_reference (bare, "a", image, rl, 2);
  write_reference (bare, "b", image, rl, 0);
  write_reference (apart, "a", image, rl, 2);
  write_reference (apart, "b", image, h, 2);
  g_assert_nonnull (apart_a);

  gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-cell", "(ii)", 10, 12);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.pin", NULL);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &x0, &y0, &answer));
  for (int c = 0; c < 3; c++)
    {
      g_autoptr(PxPropagateDialog) dialog = open_dialog (page);

      // The first folder as a user picks it, in the folder chooser of Choose…
      if (c == 0)
        choose_folder (dialog, cases[c].folder);
      else
        px_propagate_dialog_set_folder (dialog, cases[c].folder);
      px_propagate_dialog_start (dialog);
      g_assert_true (px_test_wait_for (dialog_done, dialog, 60));
      px_test_settle ();
      g_test_message ("%s: error shown", cases[c].folder);
      // The dialog says it at once; the toast may wait for the previous one (8 s).
      g_assert_true (px_test_labels_contain (GTK_WIDGET (dialog), cases[c].needle1));
      g_assert_true (px_test_labels_contain (GTK_WIDGET (dialog), cases[c].needle2));
      toast.window = GTK_WIDGET (window);
      toast.needle = cases[c].needle1;
      g_assert_true (px_test_wait_for (toast_shown, &toast, 30));
      g_assert_true (px_test_labels_contain (GTK_WIDGET (window), cases[c].needle2));
      g_assert_true (gtk_widget_get_visible (GTK_WIDGET (dialog)));
      // Nothing applied: the one pin, where it was.
      g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
      g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &x, &y, &answer));
      g_assert_cmpfloat (x, ==, x0);
      g_assert_cmpfloat (y, ==, y0);
      gtk_window_destroy (GTK_WINDOW (dialog));
      px_test_settle ();
    }
}

// Cancel while it runs: the dialog stays, says so, and the page is as it was; a radiograph
// whose file went away after it was opened: an error naming it, nothing applied.
static void
test_cancel_and_vanished (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page;
  g_autofree char *atlas_dir = make_atlas ();
  g_autofree char *links = g_build_filename (tmp_dir, "vanishing", NULL);
  g_autofree char *gone = NULL;
  GFile *files[2];
  Toast toast;

  // The two radiographs opened through links in the temporary folder.
  g_assert_cmpint (g_mkdir_with_parents (links, 0700), ==, 0);
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *from = jsrt_image (shown[i]);
      g_autofree char *base = g_path_get_basename (from);
      g_autofree char *to = g_build_filename (links, base, NULL);

      g_assert_cmpint (symlink (from, to), ==, 0);
      files[i] = g_file_new_for_path (to);
      if (i == 1)
        gone = g_steal_pointer (&to);
    }
  {
    g_autoptr(PxModel) model = px_model_new_micro ();

    px_embedder_set_model (px_window_get_embedder (window), model);
  }
  page = px_window_get_correspondence_page (window);
  px_window_show_page (window, "correspondence");
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 120));
  g_assert_true (px_test_wait_for (px_test_correspondence_ready, page, 120));
  px_test_settle ();
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 0);

  {
    g_autoptr(PxPropagateDialog) dialog = open_dialog (page);
    GtkWidget *cancel = px_test_find_widget (GTK_WIDGET (dialog), px_test_button_has_label, "_Cancel");

    g_assert_nonnull (cancel);
    px_propagate_dialog_set_folder (dialog, atlas_dir);
    px_propagate_dialog_start (dialog);
    g_assert_true (px_propagate_dialog_get_busy (dialog));
    g_signal_emit_by_name (cancel, "clicked");
    g_assert_true (px_test_wait_for (dialog_done, dialog, 60));
    px_test_settle ();
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (dialog)));
    g_assert_true (px_test_labels_contain (GTK_WIDGET (dialog), "Cancelled"));
    g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 0);

    // Closing a second dialog while it runs cancels it as well.
    {
      g_autoptr(PxPropagateDialog) other = NULL;

      gtk_window_destroy (GTK_WINDOW (dialog));
      px_test_settle ();
      other = open_dialog (page);
      px_propagate_dialog_set_folder (other, atlas_dir);
      px_propagate_dialog_start (other);
      gtk_window_close (GTK_WINDOW (other));
      g_assert_true (px_test_wait_for (dialog_done, other, 60));
      px_test_settle ();
      g_assert_null (px_test_find_toplevel (PX_TYPE_PROPAGATE_DIALOG));
      g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 0);
    }
    g_clear_object (&dialog);
    dialog = open_dialog (page);
    cancel = px_test_find_widget (GTK_WIDGET (dialog), px_test_button_has_label, "_Cancel");
    px_propagate_dialog_set_folder (dialog, atlas_dir);

    // The target's file is gone: its error, and still no points.
    g_assert_cmpint (g_unlink (gone), ==, 0);
    px_propagate_dialog_start (dialog);
    g_assert_true (px_test_wait_for (dialog_done, dialog, 120));
    px_test_settle ();
    g_assert_true (px_test_labels_contain (GTK_WIDGET (dialog), gone));
    toast.window = GTK_WIDGET (window);
    toast.needle = gone;
    g_assert_true (px_test_wait_for (toast_shown, &toast, 30));
    g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 0);
    // Cancel with nothing running closes the dialog.
    g_signal_emit_by_name (cancel, "clicked");
    px_test_settle ();
    g_assert_null (px_test_find_toplevel (PX_TYPE_PROPAGATE_DIALOG));
  }
}

static gboolean
label_has_prefix (GtkWidget     *widget,
                  gconstpointer  prefix)
{
  return GTK_IS_LABEL (widget) && g_str_has_prefix (gtk_label_get_text (GTK_LABEL (widget)), prefix);
}

// Hand computation of one measured line: the extreme x of the points of the structures
// named, the line at the mean height of the two extreme points.
static double
hand_line (const PxLandmarkSet *set,
           const char          *s1,
           const char          *s2,
           double               line[4])
{
  int lo = -1, hi = -1;

  for (guint i = 0; i < px_landmark_set_size (set); i++)
    {
      const PxLandmark *l = px_landmark_set_get (set, i);

      if (g_strcmp0 (l->structure, s1) != 0 && g_strcmp0 (l->structure, s2) != 0)
        continue;
      if (lo < 0 || l->x < px_landmark_set_get (set, (guint) lo)->x)
        lo = (int) i;
      if (hi < 0 || l->x > px_landmark_set_get (set, (guint) hi)->x)
        hi = (int) i;
    }
  line[0] = px_landmark_set_get (set, (guint) lo)->x;
  line[2] = px_landmark_set_get (set, (guint) hi)->x;
  line[1] = line[3] = (px_landmark_set_get (set, (guint) lo)->y + px_landmark_set_get (set, (guint) hi)->y) / 2;
  return line[2] - line[0];
}

// JSRT's true landmarks loaded onto the source: the two lines and the value equal a hand
// computation from those landmarks, are drawn, and are labelled with the caveat.
static void
test_ctr (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = open_shown (window);
  g_autofree char *jsrt = peac_test_shared_path ("landmarks/jsrt");
  g_autofree char *json = g_build_filename (tmp_dir, "truth.landmarks.json", NULL);
  g_autofree char *png = g_build_filename (tmp_dir, "ctr.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PxLandmarkSet) truth = px_landmarks_load_jsrt (jsrt, shown[0], &error);
  g_autoptr(PxLandmarkSet) got = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree guint32 *pixels = NULL;
  g_autofree char *value = NULL;
  GtkWidget *label;
  double heart[4], thorax[4], ratio, W = 1200, H = 700;
  int tw, th;

  g_assert_no_error (error);
  g_assert_true (px_landmarks_save_json (truth, json, &error));
  g_assert_true (px_correspondence_page_load_landmarks (page, json, &error));
  g_assert_no_error (error);
  ratio = hand_line (truth, "H", NULL, heart) / hand_line (truth, "RL", "LL", thorax);
  g_test_message ("%s: hand-computed cardiothoracic ratio %.4f", shown[0], ratio);
  g_assert_cmpfloat (ratio, >, 0.3);
  g_assert_cmpfloat (ratio, <, 0.7);

  got = px_correspondence_page_dup_landmarks (page, 0, FALSE);
  g_assert_true (got->ctr.valid);
  g_assert_cmpfloat (fabs (got->ctr.ratio - ratio), <, 1e-9);
  for (int k = 0; k < 4; k++)
    {
      g_assert_cmpfloat (fabs (got->ctr.heart_line[k] - heart[k]), <, 1e-9);
      g_assert_cmpfloat (fabs (got->ctr.thorax_line[k] - thorax[k]), <, 1e-9);
    }

  // The value, with the caveat in its tooltip.
  px_test_settle ();
  value = g_strdup_printf ("%s %.2f", px_study_get_title (px_correspondence_page_get_panel_study (page, 0)), ratio);
  label = px_test_find_widget (GTK_WIDGET (page), label_has_prefix, "Cardiothoracic ratio: ");
  g_assert_nonnull (label);
  g_assert_true (gtk_widget_get_visible (label));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (label)), value));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (label), "not a diagnosis"));

  // The two lines are drawn: along each, the view shows its colour.
  g_assert_true (px_correspondence_page_export_view (page, png, "png", W, H, &error));
  g_assert_no_error (error);
  texture = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  tw = gdk_texture_get_width (texture);
  th = gdk_texture_get_height (texture);
  pixels = g_new (guint32, (gsize) tw * th);
  gdk_texture_download (texture, (guchar *) pixels, (gsize) tw * 4);
  for (int k = 0; k < 2; k++)
    {
      const double *line = k == 0 ? heart : thorax;
      double r, g, b;
      int hits = 0;

      px_match_palette (k + 4, &r, &g, &b);
      for (int j = 1; j < 20; j++)
        {
          double vx, vy, x = line[0] + (line[2] - line[0]) * j / 20.0;
          guint32 px;

          px_correspondence_page_view_point (page, W, H, 0, x + 0.5, line[1] + 0.5, &vx, &vy);
          // The 2-px line covers [vy − 1, vy + 1]: the pixel row from floor (vy) lies inside.
          px = pixels[(gsize) floor (vy) * tw + (gsize) floor (vx)];
          hits += abs ((int) ((px >> 16) & 0xff) - (int) lround (r * 255)) < 24 &&
                  abs ((int) ((px >> 8) & 0xff) - (int) lround (g * 255)) < 24 &&
                  abs ((int) (px & 0xff) - (int) lround (b * 255)) < 24;
        }
      g_test_message ("line %d: %d of 19 samples in its colour", k, hits);
      g_assert_cmpint (hits, >=, 10);
    }
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = px_test_app_setup (&argc, &argv, "propagate", &tmp_dir);

  g_test_add_func ("/propagate/references-onto-open-radiographs", test_propagate);
  g_test_add_func ("/propagate/drag-and-undo", test_drag_and_undo);
  g_test_add_func ("/propagate/bad-folders", test_bad_folders);
  g_test_add_func ("/propagate/cancel-and-vanished-target", test_cancel_and_vanished);
  g_test_add_func ("/propagate/cardiothoracic-ratio", test_ctr);

  ret = g_test_run ();

  px_test_app_teardown (app, tmp_dir);
  return ret;
}
