// SPDX-License-Identifier: GPL-3.0-or-later
//
// GUI tests of the main window under Xvfb. Each test opens files through the paths a
// user has (GApplication's open, app.open-file, the win.* actions), waits for the
// worker, then checks what the window actually draws and shows: viewer pixels against
// px_image_render_u8() of the same image, inversion, zoom, privacy in every label, toasts
// for bad files, and the window size round trip through GSettings.
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "px-application.h"
#include "px-tag-panel.h"
#include "peac-test-cli.h"
#include "px-test-util.h"
#include "px-window.h"

#define SAMPLE "hannover-4d98e1de.png"
#define DICOM_CHEST "dicom/chest/gdcm-CR-MONO1-10-chest.dcm"
#define DICOM_J2K "dicom/non-chest-format-coverage/WG04_RG3_J2KI.dcm"

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
  g_settings_set_boolean (px_application_get_settings (app), "show-tags", FALSE);
  g_application_activate (G_APPLICATION (app));
  window = PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (PX_IS_WINDOW (window));
  return window;
}

static gboolean
viewer_ready (gpointer data)
{
  PxViewer *viewer = px_window_get_viewer (data);

  return gtk_widget_get_mapped (GTK_WIDGET (viewer)) &&
         gtk_widget_get_width (GTK_WIDGET (viewer)) > 100 &&
         px_viewer_get_study (viewer) != NULL;
}

static GFile *
sample_file (const char *name)
{
  return g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", name, NULL);
}

static void
open_and_wait (PxWindow *window,
               GFile    *file)
{
  g_application_open (G_APPLICATION (app), &file, 1, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  px_test_settle ();
}

typedef struct {
  double corr;
  double centre_mean;  // mediastinum band
  double lung_mean;    // both lung fields
  double variance;
} ViewerStats;

// Samples the rendered viewer on a grid, maps each point to image coordinates through
// the viewer and compares with the 8-bit rendering of the same image.
static ViewerStats
measure_viewer (PxWindow   *window,
                const char *save_as)
{
  PxViewer *viewer = px_window_get_viewer (window);
  PxStudy *study = px_viewer_get_study (viewer);
  const PxImage *image = px_study_get_image (study);
  g_autoptr(GdkTexture) texture = px_test_render_widget (GTK_WIDGET (viewer));
  g_autofree guint8 *shown = px_test_texture_to_grey (texture);
  g_autofree guint8 *expected = g_malloc ((gsize) image->width * image->height);
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, n = 0;
  double centre = 0, lung = 0, n_centre = 0, n_lung = 0;
  ViewerStats stats;

  if (save_as != NULL)
    {
      g_autofree char *path = g_build_filename (tmp_dir, save_as, NULL);
      g_assert_true (gdk_texture_save_to_png (texture, path));
    }

  px_image_render_u8 (image, px_viewer_get_window_center (viewer),
                      px_viewer_get_window_width (viewer),
                      px_viewer_get_inverted (viewer), expected);

  for (int y = 2; y < h - 2; y += 7)
    for (int x = 2; x < w - 2; x += 7)
      {
        double ix, iy, a, b, fx, fy;

        if (!px_viewer_widget_to_image (viewer, x + 0.5, y + 0.5, &ix, &iy))
          continue;
        a = shown[(gsize) y * w + x];
        b = expected[(gsize) (int) iy * image->width + (int) ix];
        sx += a; sy += b; sxx += a * a; syy += b * b; sxy += a * b; n++;

        // Anatomy bands in image fractions: mediastinum 45–55 %, lungs 22–32 % and
        // 68–78 % of the width, all in 35–60 % of the height.
        fx = ix / image->width;
        fy = iy / image->height;
        if (fy > 0.35 && fy < 0.60)
          {
            if (fx > 0.45 && fx < 0.55)
              centre += a, n_centre++;
            else if ((fx > 0.22 && fx < 0.32) || (fx > 0.68 && fx < 0.78))
              lung += a, n_lung++;
          }
      }

  g_assert_cmpfloat (n, >, 1000);
  g_assert_cmpfloat (n_centre, >, 20);
  g_assert_cmpfloat (n_lung, >, 20);
  stats.variance = sxx / n - (sx / n) * (sx / n);
  stats.corr = (sxy / n - sx / n * sy / n) /
               sqrt (stats.variance * (syy / n - (sy / n) * (sy / n)) + 1e-9);
  stats.centre_mean = centre / n_centre;
  stats.lung_mean = lung / n_lung;
  return stats;
}

static void
test_open_shows_pixels (void)
{
  PxWindow *window = new_window ();
  g_autoptr(GFile) file = sample_file (SAMPLE);
  ViewerStats stats;

  open_and_wait (window, file);
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 1);
  g_assert_true (px_test_wait_for (viewer_ready, window, 30));
  px_test_settle ();
  g_assert_cmpstr (px_study_get_title (px_window_get_study (window)), ==, SAMPLE);

  stats = measure_viewer (window, "viewer.png");
  g_test_message ("variance %.1f corr %.3f centre %.1f lung %.1f",
                  stats.variance, stats.corr, stats.centre_mean, stats.lung_mean);
  g_assert_cmpfloat (stats.variance, >, 200.0);
  g_assert_cmpfloat (stats.corr, >, 0.9);
  g_assert_cmpfloat (stats.centre_mean, >, stats.lung_mean + 20);

  g_action_group_activate_action (G_ACTION_GROUP (window), "invert", NULL);
  px_test_settle ();
  g_assert_true (px_viewer_get_inverted (px_window_get_viewer (window)));
  g_assert_true (g_variant_get_boolean (g_action_group_get_action_state (G_ACTION_GROUP (window), "invert")));

  stats = measure_viewer (window, "viewer-inverted.png");
  g_assert_cmpfloat (stats.corr, >, 0.9);
  g_assert_cmpfloat (stats.lung_mean, >, stats.centre_mean + 20);
}

// A JPEG 2000 DICOM (lossy, MONOCHROME1) opens like any other: OpenJPEG decoded it, the
// viewer starts at the file's window and draws what px_image_render_u8 gives.
static void
test_open_jpeg2000 (void)
{
  PxWindow *window = new_window ();
  g_autofree char *path = peac_test_shared_path (DICOM_J2K);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  const PxImage *image;
  PxViewer *viewer;
  ViewerStats stats;

  open_and_wait (window, file);
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 1);
  g_assert_true (px_test_wait_for (viewer_ready, window, 30));
  px_test_settle ();
  viewer = px_window_get_viewer (window);
  image = px_study_get_image (px_viewer_get_study (viewer));
  g_assert_true (g_str_has_prefix (image->decoder, "OpenJPEG"));
  g_assert_cmpint (image->width, ==, 1760);
  g_assert_true (image->monochrome1);
  g_assert_cmpfloat (px_viewer_get_window_center (viewer), ==, 550);
  g_assert_cmpfloat (px_viewer_get_window_width (viewer), ==, 1024);
  stats = measure_viewer (window, "viewer-j2k.png");
  g_test_message ("variance %.1f corr %.3f", stats.variance, stats.corr);
  g_assert_cmpfloat (stats.variance, >, 200.0);
  g_assert_cmpfloat (stats.corr, >, 0.9);
}

static void
test_zoom_actions (void)
{
  PxWindow *window = new_window ();
  g_autoptr(GFile) file = sample_file (SAMPLE);
  PxViewer *viewer;
  double fit;

  open_and_wait (window, file);
  g_assert_true (px_test_wait_for (viewer_ready, window, 30));
  viewer = px_window_get_viewer (window);
  g_assert_true (px_viewer_get_zoom_to_fit (viewer));
  fit = px_viewer_get_zoom (viewer);
  // The fitted image fills one dimension of the viewer exactly.
  g_assert_cmpfloat (fabs (MIN (gtk_widget_get_width (GTK_WIDGET (viewer)) / 640.0,
                                gtk_widget_get_height (GTK_WIDGET (viewer)) / 547.0) - fit), <, 1e-6);

  g_action_group_activate_action (G_ACTION_GROUP (window), "zoom-in", NULL);
  g_assert_cmpfloat (fabs (px_viewer_get_zoom (viewer) - fit * 1.25), <, 1e-9);
  g_assert_false (px_viewer_get_zoom_to_fit (viewer));

  g_action_group_activate_action (G_ACTION_GROUP (window), "zoom-out", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (window), "zoom-out", NULL);
  g_assert_cmpfloat (fabs (px_viewer_get_zoom (viewer) - fit / 1.25), <, 1e-9);

  g_action_group_activate_action (G_ACTION_GROUP (window), "zoom-original", NULL);
  g_assert_cmpfloat (px_viewer_get_zoom (viewer), ==, 1.0);

  g_action_group_activate_action (G_ACTION_GROUP (window), "zoom-fit", NULL);
  g_assert_true (px_viewer_get_zoom_to_fit (viewer));
  g_assert_cmpfloat (fabs (px_viewer_get_zoom (viewer) - fit), <, 1e-9);

  // Full range of an 8-bit PNG spans 0..255; the preset action applies it.
  g_action_group_activate_action (G_ACTION_GROUP (window), "window-preset", g_variant_new_string ("full"));
  g_assert_cmpfloat (px_viewer_get_window_width (viewer), >=,
                     px_study_get_image (px_window_get_study (window))->data_max -
                     px_study_get_image (px_window_get_study (window))->data_min);
}

static void
test_bad_file_toast (void)
{
  PxWindow *window = new_window ();
  g_autoptr(GFile) good = sample_file ("nih-00000001_000.png");
  g_autofree char *bad_path = g_build_filename (tmp_dir, "noise.png", NULL);
  g_autoptr(GFile) bad = g_file_new_for_path (bad_path);
  g_autofree char *bad_uri = g_file_get_uri (bad);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint8 noise[4096];
  GFile *both[2];

  for (guint i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_assert_true (g_file_set_contents (bad_path, (const char *) noise, sizeof noise, NULL));

  g_action_group_activate_action (G_ACTION_GROUP (app), "open-file", g_variant_new_string (bad_uri));
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  px_test_settle ();

  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 0);
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "Could not open “noise.png”"));

  // A bad file among good ones: the good one still opens, in the same window.
  both[0] = bad;
  both[1] = good;
  g_application_open (G_APPLICATION (app), both, 2, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_true (gtk_application_get_active_window (GTK_APPLICATION (app)) == GTK_WINDOW (window));
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 1);
  g_assert_cmpstr (px_study_get_title (px_window_get_study (window)), ==, "nih-00000001_000.png");
}

// Several bad files opened together give one toast, not one each (nine bad files once took
// 45 s of toasts); its Details list every file with its reason.
static void
test_bad_files_one_toast (void)
{
  PxWindow *window = new_window ();
  GFile *files[3];
  GListModel *toplevels = gtk_window_get_toplevels ();
  AdwMessageDialog *dialog = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *name = g_strdup_printf ("broken-%u.png", i);
      g_autofree char *path = g_build_filename (tmp_dir, name, NULL);

      g_assert_true (g_file_set_contents (path, "\x89PNG\r\n\x1a\nnot really", -1, NULL));
      files[i] = g_file_new_for_path (path);
    }
  g_application_open (G_APPLICATION (app), files, G_N_ELEMENTS (files), "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "3 files could not be opened"));
  g_assert_false (px_test_labels_contain (GTK_WIDGET (window), "Could not open “broken-0.png”"));

  g_action_group_activate_action (G_ACTION_GROUP (window), "show-load-errors", NULL);
  px_test_settle ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (item) && gtk_widget_get_visible (GTK_WIDGET (item)))
        dialog = ADW_MESSAGE_DIALOG (item);
    }
  g_assert_nonnull (dialog);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *expected = g_strdup_printf ("Could not open “broken-%u.png”: ", i);

      g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), expected));
      g_object_unref (files[i]);
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_open_folder (void)
{
  PxWindow *window = new_window ();
  g_autofree char *dir = g_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autoptr(GFile) again = sample_file (SAMPLE);

  open_and_wait (window, folder);
  // Six sample PNGs; README and licence text are not radiographs and are not tried.
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 6);
  g_assert_false (px_test_labels_contain (GTK_WIDGET (window), "could not be opened"));

  // Opening an already open file selects it instead of adding a twin.
  open_and_wait (window, again);
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 6);
  g_assert_cmpstr (px_study_get_title (px_window_get_study (window)), ==, SAMPLE);

  g_action_group_activate_action (G_ACTION_GROUP (window), "close-study", NULL);
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 5);
}

// A folder's symbolic links are followed, to files and to folders, and a link back up (a
// loop) ends there; a folder with nothing to open says what it held and why each was skipped.
static void
test_folder_links (void)
{
  PxWindow *window = new_window ();
  g_autofree char *linked = g_build_filename (tmp_dir, "linked", NULL);
  g_autofree char *sub = g_build_filename (linked, "sub", NULL);
  g_autofree char *nothing = g_build_filename (tmp_dir, "nothing", NULL);
  g_autofree char *link = g_build_filename (sub, "a.png", NULL);
  g_autofree char *loop = g_build_filename (sub, "loop", NULL);
  g_autofree char *notes = g_build_filename (nothing, "notes.txt", NULL);
  g_autofree char *gone = g_build_filename (nothing, "gone.png", NULL);
  g_autofree char *target = g_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", SAMPLE, NULL);
  g_autoptr(GFile) linked_file = g_file_new_for_path (linked);
  g_autoptr(GFile) nothing_file = g_file_new_for_path (nothing);

  g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (nothing, 0700), ==, 0);
  g_assert_cmpint (symlink (target, link), ==, 0);
  g_assert_cmpint (symlink (linked, loop), ==, 0);
  g_assert_true (g_file_set_contents (notes, "not a radiograph", -1, NULL));
  g_assert_cmpint (symlink ("/nonexistent/peac-test.png", gone), ==, 0);

  open_and_wait (window, linked_file);
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 1);
  g_assert_cmpstr (px_study_get_title (px_window_get_study (window)), ==, "a.png");

  open_and_wait (window, nothing_file);
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 1);
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "only 2 other entries"));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "gone.png: a symbolic link to nothing"));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "notes.txt: not a PNG, JPEG or DICOM file"));
}

static void
test_privacy_hides_patient (void)
{
  PxWindow *window = new_window ();
  g_autofree char *path = peac_test_shared_path (DICOM_CHEST);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  PxTagPanel *panel;
  GListModel *lines;
  const char *patient, *date;
  gboolean masked = FALSE;
  guint n_masked_uids = 0;


  g_action_group_activate_action (G_ACTION_GROUP (window), "show-tags", NULL);
  open_and_wait (window, file);
  if (g_list_model_get_n_items (px_window_get_studies (window)) == 0)
    {
      g_test_fail_printf ("%s did not open", path);
      return;
    }
  g_assert_true (px_test_wait_for (viewer_ready, window, 30));
  px_test_settle ();

  patient = px_study_get_patient_name (px_window_get_study (window));
  date = px_study_get_date (px_window_get_study (window));
  g_test_message ("study date shown as %s", date ? date : "(none)");
  if (date != NULL)
    g_assert_true (px_test_labels_contain (GTK_WIDGET (window), date));
  g_assert_nonnull (patient);
  g_assert_cmpstr (patient, ==, "Anonymized");
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), patient));

  g_action_group_change_action_state (G_ACTION_GROUP (app), "privacy", g_variant_new_boolean (TRUE));
  px_test_settle ();
  g_assert_true (g_settings_get_boolean (px_application_get_settings (app), "privacy-mode"));
  g_assert_false (px_test_labels_contain (GTK_WIDGET (window), patient));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "Patient hidden"));

  // The tag panel's model, not only its rows on screen, must be masked.
  panel = PX_TAG_PANEL (px_test_find_child (GTK_WIDGET (window), PX_TYPE_TAG_PANEL));
  g_assert_nonnull (panel);
  lines = px_tag_panel_get_lines (panel);
  g_assert_cmpuint (g_list_model_get_n_items (lines), >, 10);
  for (guint i = 0; i < g_list_model_get_n_items (lines); i++)
    {
      g_autoptr(GtkStringObject) line = g_list_model_get_item (lines, i);
      const char *text = gtk_string_object_get_string (line);

      g_assert_null (strstr (text, patient));
      if (g_str_has_prefix (text, "(0010,0010)") && strstr (text, "Hidden"))
        masked = TRUE;
      // The basic de-identification profile's dates and UIDs go too (PS3.15 E.1).
      if (g_str_has_prefix (text, "(0008,0018)") || g_str_has_prefix (text, "(0008,0020)") ||
          g_str_has_prefix (text, "(0020,000D)") || g_str_has_prefix (text, "(0020,000d)"))
        {
          g_assert_nonnull (strstr (text, "Hidden"));
          n_masked_uids++;
        }
    }
  g_assert_true (masked);
  // Every DICOM file has its SOP Instance UID; this one also a study UID and date.
  g_assert_cmpuint (n_masked_uids, >=, 1);
  if (date != NULL)
    g_assert_false (px_test_labels_contain (GTK_WIDGET (window), date));

  g_action_group_change_action_state (G_ACTION_GROUP (app), "privacy", g_variant_new_boolean (FALSE));
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), patient));
}

// "label\taction\ttarget" for every item of @menu and the sections and submenus below it.
static void
collect_menu_items (GMenuModel *menu,
                    GPtrArray  *items)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autoptr(GMenuLinkIter) links = g_menu_model_iterate_item_links (menu, i);
      g_autofree char *label = NULL, *action = NULL;
      g_autoptr(GVariant) target = g_menu_model_get_item_attribute_value (menu, i, G_MENU_ATTRIBUTE_TARGET,
                                                                          G_VARIANT_TYPE_STRING);

      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &label))
        {
          g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &action);
          g_ptr_array_add (items, g_strdup_printf ("%s\t%s\t%s", label, action ? action : "",
                                                   target ? g_variant_get_string (target, NULL) : ""));
        }
      while (g_menu_link_iter_next (links))
        {
          g_autoptr(GMenuModel) link = g_menu_link_iter_get_value (links);
          collect_menu_items (link, items);
        }
    }
}

typedef struct {
  GMenuModel *menu;
  const char *expected;
} MenuWait;

static gboolean
menu_has_item (gpointer data)
{
  MenuWait *w = data;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);

  collect_menu_items (w->menu, items);
  for (guint i = 0; i < items->len; i++)
    if (g_str_equal (g_ptr_array_index (items, i), w->expected))
      return TRUE;
  return FALSE;
}

// A #PxTestWidgetPredicate: a menu button whose tooltip is @tooltip.
static gboolean
menu_button_has_tooltip (GtkWidget     *widget,
                         gconstpointer  tooltip)
{
  return GTK_IS_MENU_BUTTON (widget) && g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0;
}

// The Open button's menu and the main menu's Open Recent list the files opened before,
// each opening its file through app.open-file, and say "No Recent Files" when there are none.
static void
test_recent_files (void)
{
  PxWindow *window;
  GtkWidget *split, *primary;
  GMenuModel *open_menu;
  g_autoptr(GFile) file = sample_file ("nih-00000001_000.png");
  g_autofree char *uri = g_file_get_uri (file);
  // Underscores doubled: a menu label would read a single one as a mnemonic.
  g_autofree char *expected = g_strdup_printf ("nih-00000001__000.png\tapp.open-file\t%s", uri);
  MenuWait wait;

  gtk_recent_manager_purge_items (gtk_recent_manager_get_default (), NULL);
  window = new_window ();
  split = px_test_find_child (GTK_WIDGET (window), ADW_TYPE_SPLIT_BUTTON);
  g_assert_nonnull (split);
  open_menu = adw_split_button_get_menu_model (ADW_SPLIT_BUTTON (split));
  primary = px_test_find_widget (GTK_WIDGET (window), menu_button_has_tooltip, "Main Menu");
  g_assert_nonnull (primary);

  wait = (MenuWait) { open_menu, "No Recent Files\tapp.no-recent\t" };
  g_assert_true (px_test_wait_for (menu_has_item, &wait, 10));

  // Opened by hand (not from a folder): it becomes a recent file of this app.
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-file", g_variant_new_string (uri));
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  wait = (MenuWait) { open_menu, expected };
  g_assert_true (px_test_wait_for (menu_has_item, &wait, 30));
  wait.expected = "No Recent Files\tapp.no-recent\t";
  g_assert_false (menu_has_item (&wait));

  wait = (MenuWait) { gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (primary)), expected };
  g_assert_true (menu_has_item (&wait));
}

static void
test_window_size_saved (void)
{
  PxWindow *window = new_window ();
  GSettings *settings = px_application_get_settings (app);
  int width, height;

  gtk_window_set_default_size (GTK_WINDOW (window), 1010, 707);
  px_test_settle ();
  gtk_window_close (GTK_WINDOW (window));
  px_test_settle ();
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 1010);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 707);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));

  window = new_window ();
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 1010);
  g_assert_cmpint (height, ==, 707);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  // Recent files, caches and configuration go to a temporary home.
  app = px_test_app_setup (&argc, &argv, "window", &tmp_dir);

  g_test_add_func ("/window/open-shows-pixels", test_open_shows_pixels);
  g_test_add_func ("/window/open-jpeg2000", test_open_jpeg2000);
  g_test_add_func ("/window/zoom-actions", test_zoom_actions);
  g_test_add_func ("/window/bad-file-toast", test_bad_file_toast);
  g_test_add_func ("/window/bad-files-one-toast", test_bad_files_one_toast);
  g_test_add_func ("/window/open-folder", test_open_folder);
  g_test_add_func ("/window/folder-links", test_folder_links);
  g_test_add_func ("/window/privacy-hides-patient", test_privacy_hides_patient);
  g_test_add_func ("/window/recent-files", test_recent_files);
  g_test_add_func ("/window/size-saved", test_window_size_saved);

  ret = g_test_run ();

  px_test_app_teardown (app, tmp_dir);
  return ret;
}
