// SPDX-License-Identifier: GPL-3.0-or-later
//
// What the new user's walk-through (tests/app/walk-through.c, issue 23) found, each as the
// step that found it, with GTK warnings and criticals fatal: the Keyboard Shortcuts window
// shows the key of every shortcut that names an action (it showed none: a plain transient
// window never learns the application's accelerators) and fits a 1024 × 700 screen (its
// long mouse descriptions made it 1,653 px wide); the correspondence page's menu (export,
// Save Landmarks, propagation) is in view in a 1024 × 700 window with the samples open
// (it sat past the window's edge at the end of the sideways-scrolling tool bar), and so is
// every other button of the tool bar, also with a DICOM named by its UID as the source
// (read in place from ../shared/data) — the source's title is shortened on the button; a
// training folder with nothing usable says what it holds and why each entry was passed over;
// the training sample's captions fit their columns in that window during a run.
#include "config.h"

#include <adwaita.h>
#include <unistd.h>

#include "px-application.h"
#include "px-test-util.h"
#include "px-train-page.h"
#include "px-trainer.h"
#include "px-window.h"

static PxApplication *app;
static char *home;

static gboolean
is_shortcut (GtkWidget     *widget,
             gconstpointer  data)
{
  return GTK_IS_SHORTCUTS_SHORTCUT (widget);
}

static void
test_shortcuts (void)
{
  PxWindow *window = px_test_fresh_window (app, 1024, 700);
  g_autoptr(GPtrArray) shortcuts = NULL;
  GtkWidget *shortcuts_window;
  guint n_named = 0;

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "app.shortcuts", NULL));
  px_test_settle ();
  shortcuts_window = px_test_find_toplevel (GTK_TYPE_SHORTCUTS_WINDOW);
  g_assert_nonnull (shortcuts_window);
  g_assert_true (gtk_widget_get_mapped (shortcuts_window));
  g_test_message ("shortcuts window %d × %d", gtk_widget_get_width (shortcuts_window),
                  gtk_widget_get_height (shortcuts_window));
  g_assert_cmpint (gtk_widget_get_width (shortcuts_window), <=, 1024);
  g_assert_cmpint (gtk_widget_get_height (shortcuts_window), <=, 700);

  shortcuts = px_test_find_widgets (shortcuts_window, is_shortcut, NULL);
  for (guint i = 0; i < shortcuts->len; i++)
    {
      GObject *shortcut = g_ptr_array_index (shortcuts, i);
      g_autofree char *action = NULL, *shown = NULL, *title = NULL;
      g_auto(GStrv) accels = NULL;
      g_autofree char *expected = NULL;

      g_object_get (shortcut, "action-name", &action, "accelerator", &shown, "title", &title, NULL);
      if (action == NULL)
        continue;
      accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), action);
      expected = g_strjoinv (" ", accels);
      g_test_message ("%s (%s): shows '%s', registered '%s'", title, action, shown, expected);
      // Every shortcut that names an action names one with a key.
      g_assert_cmpstr (expected, !=, "");
      g_assert_cmpstr (shown, ==, expected);
      n_named++;
    }
  // Files 4, viewer 5, general 3 + Preferences + four pages.
  g_assert_cmpuint (n_named, >=, 17);
  // The README's Ctrl+O, as GTK writes it.
  for (guint i = 0; i < shortcuts->len; i++)
    {
      g_autofree char *action = NULL, *shown = NULL;

      g_object_get (g_ptr_array_index (shortcuts, i), "action-name", &action, "accelerator", &shown, NULL);
      if (g_strcmp0 (action, "app.open") == 0)
        g_assert_cmpstr (shown, ==, "<Control>o");
    }
  gtk_window_close (GTK_WINDOW (shortcuts_window));
  px_test_settle ();
  g_assert_false (gtk_widget_get_visible (shortcuts_window));
}

// A #PxTestWidgetPredicate: a menu button whose tooltip is @tooltip.
static gboolean
is_menu_button_with_tooltip (GtkWidget     *widget,
                             gconstpointer  tooltip)
{
  return GTK_IS_MENU_BUTTON (widget) && g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0;
}

#define LONG_NAME "siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"

// A #PxTestWidgetPredicate: a button, toggle or drop-down on screen that does not lie wholly
// inside @window (a widget is mapped only when everything above it is).
static gboolean
is_button_out_of_view (GtkWidget     *widget,
                       gconstpointer  window)
{
  GtkWidget *win = GTK_WIDGET (window);
  graphene_rect_t bounds;

  if (!gtk_widget_get_mapped (widget) || !(GTK_IS_BUTTON (widget) || GTK_IS_DROP_DOWN (widget)) ||
      !gtk_widget_compute_bounds (widget, win, &bounds))
    return FALSE;
  if (bounds.origin.x >= 0 && bounds.origin.x + bounds.size.width <= gtk_widget_get_width (win))
    return FALSE;
  g_test_message ("%s %s at x %.0f–%.0f, outside the window's %d px", G_OBJECT_TYPE_NAME (widget),
                  GTK_IS_BUTTON (widget) ? gtk_button_get_label (GTK_BUTTON (widget)) : "",
                  bounds.origin.x, bounds.origin.x + bounds.size.width, gtk_widget_get_width (win));
  return TRUE;
}

// Every button and toggle of the page's tool bar lies wholly inside the window.
static gboolean
all_buttons_in_view (GtkWidget *root,
                     GtkWidget *window)
{
  return px_test_find_widget (root, is_button_out_of_view, window) == NULL;
}

static void
test_correspondence_menu_in_view (void)
{
  static const char *samples[] = {
    "hannover-4d98e1de.png", "hannover-80b5f00f.png", "hannover-7afaaccc.png",
    "hannover-ec083e35.png", "nih-00000001_000.png", "nih-00027426_000.png",
  };
  PxWindow *window = px_test_fresh_window (app, 1024, 700);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  PxCorrespondencePage *page = px_window_get_correspondence_page (window);
  GtkWidget *menu;
  graphene_rect_t bounds;

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    g_ptr_array_add (files, g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples",
                                                      samples[i], NULL));
  px_window_open_files (window, (GFile **) files->pdata, files->len);
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 6);
  px_window_show_page (window, "correspondence");
  g_assert_true (px_test_wait_for (px_test_correspondence_ready, page, 120));
  px_test_settle ();

  menu = px_test_find_widget (GTK_WIDGET (page), is_menu_button_with_tooltip, "Export and Landmarks");
  g_assert_nonnull (menu);
  g_assert_true (gtk_widget_compute_bounds (menu, GTK_WIDGET (window), &bounds));
  g_test_message ("window %d × %d, page menu at %.0f,%.0f %.0f × %.0f",
                  gtk_widget_get_width (GTK_WIDGET (window)), gtk_widget_get_height (GTK_WIDGET (window)),
                  bounds.origin.x, bounds.origin.y, bounds.size.width, bounds.size.height);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, 1024);
  // Wholly inside the window, and not hidden by the tool bar's scrolling.
  g_assert_cmpfloat (bounds.size.width, >, 0);
  g_assert_cmpfloat (bounds.origin.x, >=, 0);
  g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, gtk_widget_get_width (GTK_WIDGET (window)));
  g_assert_true (gtk_widget_is_drawable (menu));
  // Nothing on the tool bar needs scrolling sideways, even with a source named by a long
  // DICOM UID (the titles on the button are shortened in the middle).
  g_assert_true (all_buttons_in_view (GTK_WIDGET (page), GTK_WIDGET (window)));
  {
    g_autoptr(GFile) dicom = g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "..", "shared", "data", "dicom",
                                                        "chest", LONG_NAME, NULL);
    g_autoptr(PxStudy) study = NULL;

    px_window_open_files (window, &dicom, 1);
    g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
    g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 7);
    study = g_list_model_get_item (px_window_get_studies (window), 6);
    g_assert_cmpstr (px_study_get_title (study), ==, LONG_NAME);
    px_window_show_page (window, "correspondence");
    px_correspondence_page_set_source (page, study);
    px_test_settle ();
    g_assert_true (px_test_labels_contain (GTK_WIDGET (page), LONG_NAME));
    g_assert_true (all_buttons_in_view (GTK_WIDGET (page), GTK_WIDGET (window)));
  }
  // And the menu opens its popover there.
  gtk_menu_button_popup (GTK_MENU_BUTTON (menu));
  px_test_settle ();
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (menu)))));
  gtk_menu_button_popdown (GTK_MENU_BUTTON (menu));
  px_test_settle ();
}

// A dataset folder of links to nothing and a text file: the page says why nothing is usable
// (it said "0 usable radiographs" and nothing more; the walk's links were relative to a
// folder they did not lie in).
static void
test_training_nothing_usable (void)
{
  PxWindow *window = px_test_fresh_window (app, 1024, 700);
  PxTrainPage *page = px_window_get_train_page (window);
  g_autofree char *folder = g_build_filename (home, "links", NULL);
  g_autofree char *a = g_build_filename (folder, "a.png", NULL);
  g_autofree char *b = g_build_filename (folder, "b.dcm", NULL);
  g_autofree char *notes = g_build_filename (folder, "notes.txt", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (folder);

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_cmpint (symlink ("../gone/a.png", a), ==, 0);
  g_assert_cmpint (symlink ("/nonexistent/b.dcm", b), ==, 0);
  g_assert_true (g_file_set_contents (notes, "not an image\n", -1, NULL));

  px_window_show_page (window, "training");
  px_train_page_add_folder (page, file);
  g_assert_true (px_test_wait_for (px_test_scan_done, page, 60));
  px_test_settle ();
  g_assert_cmpuint (px_train_page_get_n_usable (page), ==, 0);
  g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "No usable radiographs; 3 entries passed over"));
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (px_test_find_child (GTK_WIDGET (page), ADW_TYPE_EXPANDER_ROW)),
                                 TRUE);
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "a.png: a symbolic link to nothing"));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "b.dcm: a symbolic link to nothing"));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "notes.txt: not a PNG, JPEG or DICOM file"));
}

static gboolean
has_sample (gpointer page)
{
  return px_trainer_get_sample (px_train_page_get_trainer (page)) != NULL;
}

static gboolean
run_finished (gpointer page)
{
  return !px_trainer_get_active (px_train_page_get_trainer (page));
}

// A #PxTestWidgetPredicate: a label on screen whose text begins with @prefix.
static gboolean
is_label_starting (GtkWidget     *widget,
                   gconstpointer  prefix)
{
  return GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget) &&
         g_str_has_prefix (gtk_label_get_text (GTK_LABEL (widget)), prefix);
}

// The live sample's captions in a 1024 × 700 window, during a micro run on the bundled
// samples: each lies inside the window and its whole text, as Pango lays it out in the
// label, fits the label's allocation ("Student input (dist…)" was cut off).
static void
test_training_sample_captions (void)
{
  static const char *captions[] = { "Crop 1", "Student input (", "Restoration", "Crop 2" };
  PxWindow *window = px_test_fresh_window (app, 1024, 700);
  PxTrainPage *page = px_window_get_train_page (window);
  g_autofree char *checkpoints = g_build_filename (home, "captions-run", NULL);
  g_autoptr(GFile) samples = g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples", NULL);
  PxTrainOptions options;
  double previous_x = -1;

  px_window_show_page (window, "training");
  px_train_page_add_folder (page, samples);
  g_assert_true (px_test_wait_for (px_test_scan_done, page, 60));
  g_assert_cmpuint (px_train_page_get_n_usable (page), ==, 6);
  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = 400;
  options.batch = 2;
  options.threads = 1;
  options.save_every = 0;
  px_train_page_set_options (page, &options);
  px_train_page_set_checkpoint_folder (page, checkpoints);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "train.start", NULL));
  g_assert_true (px_test_wait_for (has_sample, page, 120));
  px_test_settle ();

  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, 1024);
  for (guint i = 0; i < G_N_ELEMENTS (captions); i++)
    {
      GtkWidget *label = px_test_find_widget (GTK_WIDGET (page), is_label_starting, captions[i]);
      PangoRectangle ink, logical;
      graphene_rect_t bounds;

      g_assert_nonnull (label);
      g_assert_true (gtk_widget_compute_bounds (label, GTK_WIDGET (window), &bounds));
      pango_layout_get_pixel_extents (gtk_label_get_layout (GTK_LABEL (label)), &ink, &logical);
      g_test_message ("“%s” at %.0f,%.0f %.0f × %.0f, its text %d × %d in %d line(s)",
                      gtk_label_get_text (GTK_LABEL (label)), bounds.origin.x, bounds.origin.y,
                      bounds.size.width, bounds.size.height, logical.width, logical.height,
                      pango_layout_get_line_count (gtk_label_get_layout (GTK_LABEL (label))));
      g_assert_cmpfloat (bounds.origin.x, >=, 0);
      g_assert_cmpfloat (bounds.origin.y, >=, 0);
      g_assert_cmpfloat (bounds.origin.x + bounds.size.width, <=, gtk_widget_get_width (GTK_WIDGET (window)));
      g_assert_cmpfloat (bounds.origin.y + bounds.size.height, <=, gtk_widget_get_height (GTK_WIDGET (window)));
      g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (label))));
      g_assert_cmpint (logical.width, <=, gtk_widget_get_width (label));
      g_assert_cmpint (logical.height, <=, gtk_widget_get_height (label));
      // Left to right, in the order the images are drawn.
      g_assert_cmpfloat (bounds.origin.x, >, previous_x);
      previous_x = bounds.origin.x;
    }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "train.cancel", NULL));
  g_assert_true (px_test_wait_for (run_finished, page, 60));
  px_test_settle ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = px_test_app_setup (&argc, &argv, "new-user", &home);

  g_test_add_func ("/new-user/shortcuts", test_shortcuts);
  g_test_add_func ("/new-user/correspondence-menu-in-view", test_correspondence_menu_in_view);
  g_test_add_func ("/new-user/training-nothing-usable", test_training_nothing_usable);
  g_test_add_func ("/new-user/training-sample-captions", test_training_sample_captions);
  ret = g_test_run ();

  px_test_app_teardown (app, home);
  return ret;
}
