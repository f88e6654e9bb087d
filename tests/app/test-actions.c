// SPDX-License-Identifier: GPL-3.0-or-later
//
// The walk-through a new user makes, as a test: every action the app and its window
// register, every action a button or a menu item of any page names, every .ui file in the
// resources, every menu button's popover on every page. Each action is activated the way
// its widget would (menu items with their targets); a window or dialog it opens must be
// mapped and is then closed again the way a user would (Cancel, the close response). Any
// GTK warning or critical aborts the test, and so does a template GTK 4.8 rejects, e.g. a
// property that only a newer GTK has (the shortcuts window once had one and crashed the app).
#include "config.h"

#include <adwaita.h>

#include "px-application.h"
#include "px-correspondence-page.h"
#include "px-embedding-map-page.h"
#include "px-grid-matching-page.h"
#include "px-probe-page.h"
#include "px-propagate-dialog.h"
#include "px-study-row.h"
#include "px-tag-panel.h"
#include "px-test-util.h"
#include "px-train-page.h"
#include "px-window.h"

#define SAMPLE "hannover-4d98e1de.png"
#define RESOURCE_DIR "/org/peac/Explorer"

static PxApplication *app;
static char *tmp_dir;

static GPtrArray *
list_toplevels (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GPtrArray *list = g_ptr_array_new ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) window = g_list_model_get_item (toplevels, i);

      if (gtk_widget_get_visible (window))
        g_ptr_array_add (list, window);
    }
  return list;
}

// Closes every visible toplevel that is not in @before as a user would and returns the
// type of the first one (G_TYPE_INVALID if the action opened none).
static GType
close_new_toplevels (GPtrArray *before)
{
  g_autoptr(GPtrArray) now = list_toplevels ();
  GType first = G_TYPE_INVALID;

  for (guint i = 0; i < now->len; i++)
    {
      GtkWidget *window = g_ptr_array_index (now, i);

      if (g_ptr_array_find (before, window, NULL))
        continue;
      g_assert_true (gtk_widget_get_mapped (window));
      if (first == G_TYPE_INVALID)
        first = G_OBJECT_TYPE (window);
      g_test_message ("  opened a %s: %s", G_OBJECT_TYPE_NAME (window),
                      gtk_window_get_title (GTK_WINDOW (window)));
      if (GTK_IS_DIALOG (window))
        gtk_dialog_response (GTK_DIALOG (window), GTK_RESPONSE_CANCEL);
      else if (ADW_IS_MESSAGE_DIALOG (window))
        {
          adw_message_dialog_response (ADW_MESSAGE_DIALOG (window),
                                       adw_message_dialog_get_close_response (ADW_MESSAGE_DIALOG (window)));
          gtk_window_destroy (GTK_WINDOW (window));
        }
      else
        gtk_window_destroy (GTK_WINDOW (window));
    }
  px_test_settle ();
  return first;
}

static char *
sample_uri (void)
{
  g_autoptr(GFile) file = g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples",
                                                      SAMPLE, NULL);
  return g_file_get_uri (file);
}

// A parameter of the right type for an action that the UI does not give one.
static GVariant *
default_parameter (const char         *name,
                   const GVariantType *type)
{
  if (type == NULL)
    return NULL;
  if (g_str_equal (name, "app.open-file"))
    {
      g_autofree char *uri = sample_uri ();
      return g_variant_new_string (uri);
    }
  if (g_str_equal (name, "win.window-preset"))
    return g_variant_new_string ("default");
  if (g_str_equal (name, "win.show-page"))
    return g_variant_new_string ("viewer");
  if (g_variant_type_equal (type, G_VARIANT_TYPE ("(ii)")))
    return g_variant_new ("(ii)", 3, 4);
  if (g_variant_type_equal (type, G_VARIANT_TYPE ("(dd)")))
    return g_variant_new ("(dd)", 40.0, 50.0);
  if (g_variant_type_equal (type, G_VARIANT_TYPE ("(iiii)")))
    return g_variant_new ("(iiii)", 0, 0, 0, 0);
  if (g_variant_type_equal (type, G_VARIANT_TYPE_DOUBLE))
    return g_variant_new_double (0.5);
  if (g_variant_type_equal (type, G_VARIANT_TYPE_INT32))
    return g_variant_new_int32 (0);
  g_assert_cmpstr (g_variant_type_peek_string (type), ==, "s");
  return g_variant_new_string ("");
}

// The windows some actions must open; everything else may open nothing.
static GType
expected_window (const char *name)
{
  if (g_str_equal (name, "app.about"))
    return ADW_TYPE_ABOUT_WINDOW;
  if (g_str_equal (name, "app.shortcuts"))
    return GTK_TYPE_SHORTCUTS_WINDOW;
  if (g_str_equal (name, "app.open") || g_str_equal (name, "app.open-folder") ||
      g_str_equal (name, "win.open-model"))
    return GTK_TYPE_FILE_CHOOSER_DIALOG;
  return G_TYPE_INVALID;
}

static void
activate (PxWindow  *window,
          PxTestAction *r)
{
  g_autoptr(GPtrArray) before = NULL;
  g_autofree char *shown = r->target ? g_variant_print (r->target, FALSE) : g_strdup ("");
  GType opened, expected = expected_window (r->name);

  px_test_show_page_of (window, r->widget);
  before = list_toplevels ();
  g_test_message ("activating %s %s", r->name, shown);
  g_assert_true (gtk_widget_activate_action_variant (r->widget, r->name, r->target));
  px_test_settle ();
  opened = close_new_toplevels (before);
  if (expected != G_TYPE_INVALID)
    g_assert_true (g_type_is_a (opened, expected));
  // Whatever it started (a training run, an embedding) is stopped before the next one.
  gtk_widget_activate_action (GTK_WIDGET (window), "win.cancel-embedding", NULL);
  g_assert_true (gtk_application_get_active_window (GTK_APPLICATION (app)) == GTK_WINDOW (window));
}

static gboolean
has_reachable (GPtrArray  *list,
               const char *name)
{
  for (guint i = 0; i < list->len; i++)
    if (g_str_equal (((PxTestAction *) g_ptr_array_index (list, i))->name, name))
      return TRUE;
  return FALSE;
}

static void
add_group_actions (GPtrArray    *list,
                   GtkWidget    *widget,
                   GActionGroup *group,
                   const char   *prefix)
{
  g_auto(GStrv) names = g_action_group_list_actions (group);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *full = g_strconcat (prefix, ".", names[i], NULL);
      const GVariantType *type = g_action_group_get_action_parameter_type (group, names[i]);

      if (!has_reachable (list, full))
        px_test_actions_add (list, widget, full, default_parameter (full, type));
    }
}

// Activated after all others: closing the radiograph, then quitting. The title bar's
// window.close is app.quit's twin for one window and is left to it.
static gboolean
is_stop_action (const char *name)
{
  return g_str_equal (name, "win.close-study") || g_str_equal (name, "app.quit") ||
         g_str_equal (name, "window.close");
}

static void
test_every_action (void)
{
  PxWindow *window = px_test_fresh_window (app, 1024, 700);
  g_autoptr(GPtrArray) list = px_test_actions_new ();
  g_autofree char *uri = sample_uri ();
  GtkWidget *train_page = GTK_WIDGET (px_window_get_train_page (window));
  GType train_type = G_OBJECT_TYPE (train_page);
  g_autoptr(GtkSelectionModel) pages = adw_view_stack_get_pages (px_test_window_stack (window));
  const GVariantType *parameter_type;
  const char *name, *property;
  GType owner;
  guint n_open;

  // An open radiograph first, so that the image actions are enabled.
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-file", g_variant_new_string (uri));
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 1);
  px_test_settle ();

  px_test_actions_collect (list, GTK_WIDGET (window));
  for (guint p = 0; p < g_list_model_get_n_items (G_LIST_MODEL (pages)); p++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), p);
      px_test_actions_add (list, GTK_WIDGET (window), "win.show-page",
                     g_variant_new_string (adw_view_stack_page_get_name (page)));
    }
  add_group_actions (list, GTK_WIDGET (window), G_ACTION_GROUP (app), "app");
  add_group_actions (list, GTK_WIDGET (window), G_ACTION_GROUP (window), "win");
  // GTK 4.8 writes every out argument of gtk_widget_class_query_action().
  for (guint i = 0; gtk_widget_class_query_action (g_type_class_peek (train_type), i, &owner, &name,
                                                   &parameter_type, &property); i++)
    if (!has_reachable (list, name))
      px_test_actions_add (list, train_page, name, NULL);

  // Each page's actions through the page's own widgets: the page is shown first.
  for (guint i = 0; i < list->len; i++)
    {
      PxTestAction *r = g_ptr_array_index (list, i);

      if (is_stop_action (r->name))
        continue;
      activate (window, r);
    }
  g_test_message ("%u actions activated", list->len);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (pages)), >=, 6);
  g_assert_true (has_reachable (list, "app.about"));
  g_assert_true (has_reachable (list, "app.shortcuts"));
  g_assert_true (has_reachable (list, "corr.save-landmarks"));
  g_assert_true (has_reachable (list, "train.start"));

  // Last, closing the radiograph (the recent menu may have opened a second one) and
  // quitting, which closes the window.
  n_open = g_list_model_get_n_items (px_window_get_studies (window));
  g_assert_cmpuint (n_open, >=, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.close-study", NULL));
  px_test_settle ();
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, n_open - 1);
  g_assert_true (has_reachable (list, "app.quit"));
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  px_test_settle ();
  g_assert_null (gtk_application_get_active_window (GTK_APPLICATION (app)));
}

static gboolean
is_menu_button (GtkWidget     *widget,
                gconstpointer  data)
{
  return GTK_IS_MENU_BUTTON (widget);
}

// Every menu button on every page opens its popover, which fits in the window.
static void
test_every_popover (void)
{
  PxWindow *window = px_test_fresh_window (app, 1024, 700);
  g_autoptr(GtkSelectionModel) pages = adw_view_stack_get_pages (px_test_window_stack (window));
  g_autofree char *uri = sample_uri ();
  guint n_opened = 0;

  // Two radiographs, so that every page shows its content rather than its empty state.
  g_action_group_activate_action (G_ACTION_GROUP (app), "open-file", g_variant_new_string (uri));
  {
    g_autoptr(GFile) other = g_file_new_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "samples",
                                                        "nih-00000001_000.png", NULL);
    g_autofree char *other_uri = g_file_get_uri (other);

    g_action_group_activate_action (G_ACTION_GROUP (app), "open-file", g_variant_new_string (other_uri));
  }
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 2);

  for (guint p = 0; p < g_list_model_get_n_items (G_LIST_MODEL (pages)); p++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), p);
      g_autoptr(GPtrArray) buttons = NULL;

      px_window_show_page (window, adw_view_stack_page_get_name (page));
      px_test_settle ();
      // Every page fits a 1024 × 700 window: none makes the window grow past it.
      g_test_message ("page %s: window %d × %d", adw_view_stack_page_get_name (page),
                      gtk_widget_get_width (GTK_WIDGET (window)), gtk_widget_get_height (GTK_WIDGET (window)));
      g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, 1024);
      g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (window)), <=, 700);
      buttons = px_test_find_widgets (GTK_WIDGET (window), is_menu_button, NULL);
      for (guint i = 0; i < buttons->len; i++)
        {
          GtkMenuButton *button = g_ptr_array_index (buttons, i);
          GtkPopover *popover = gtk_menu_button_get_popover (button);

          if (!gtk_widget_is_drawable (GTK_WIDGET (button)) || !gtk_widget_is_sensitive (GTK_WIDGET (button)))
            continue;
          gtk_menu_button_popup (button);
          px_test_settle ();
          popover = gtk_menu_button_get_popover (button);
          g_assert_nonnull (popover);
          g_test_message ("page %s: popover of %s mapped %d", adw_view_stack_page_get_name (page),
                          gtk_widget_get_tooltip_text (GTK_WIDGET (button)),
                          gtk_widget_get_mapped (GTK_WIDGET (popover)));
          g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (popover)));
          // The model popover reads as a summary (the micro ViT: 224-px input in 16-px patches,
          // untrained); the raw metadata waits behind its expander.
          if (g_strcmp0 (gtk_widget_get_tooltip_text (GTK_WIDGET (button)), "Model in Use") == 0)
            {
              g_autoptr(GPtrArray) texts = px_test_collect_labels (GTK_WIDGET (popover));

              for (guint k = 0; k < texts->len; k++)
                g_test_message ("  model popover: %s", (char *) g_ptr_array_index (texts, k));
              g_assert_true (px_test_labels_contain (GTK_WIDGET (popover), "Input 224 × 224 px, token grid 14 × 14"));
              g_assert_true (px_test_labels_contain (GTK_WIDGET (popover), "Untrained"));
              g_assert_false (gtk_expander_get_expanded (GTK_EXPANDER (px_test_find_child (GTK_WIDGET (popover),
                                                                                          GTK_TYPE_EXPANDER))));
            }
          n_opened++;
          gtk_menu_button_popdown (button);
          px_test_settle ();
        }
    }
  g_test_message ("%u popovers opened", n_opened);
  // The header bar's three (recent files, main menu, model) on every page at least.
  g_assert_cmpuint (n_opened, >=, 3 * g_list_model_get_n_items (G_LIST_MODEL (pages)));
}

static const char *templates[] = {
  "PxWindow", "PxCorrespondencePage", "PxEmbeddingMapPage", "PxGridMatchingPage",
  "PxProbePage", "PxTrainPage", "PxTagPanel", "PxStudyRow", "PxPropagateDialog",
};

// Every .ui file in the resources: a plain builder file must build without an error, a
// template must be one that /actions/template/ builds.
static void
test_ui_files (void)
{
  g_auto(GStrv) names = g_resources_enumerate_children (RESOURCE_DIR, 0, NULL);
  guint n_checked = 0;

  g_assert_nonnull (names);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_strconcat (RESOURCE_DIR "/", names[i], NULL);
      g_autoptr(GBytes) bytes = NULL;
      const char *xml, *start;

      if (!g_str_has_suffix (names[i], ".ui"))
        continue;
      bytes = g_resources_lookup_data (path, 0, NULL);
      g_assert_nonnull (bytes);
      xml = g_bytes_get_data (bytes, NULL);
      start = strstr (xml, "<template class=\"");
      if (start == NULL)
        {
          g_autoptr(GtkBuilder) builder = gtk_builder_new ();
          g_autoptr(GError) error = NULL;

          g_test_message ("%s: a plain builder file", names[i]);
          gtk_builder_add_from_resource (builder, path, &error);
          g_assert_no_error (error);
        }
      else
        {
          g_autofree char *class_name = g_strndup (start + 17, strcspn (start + 17, "\""));

          g_test_message ("%s: template of %s", names[i], class_name);
          g_assert_true (g_strv_contains (templates, class_name));
        }
      n_checked++;
    }
  // Ten .ui files: the window, five pages, the tag panel, a study row, the shortcuts, the
  // propagation dialog.
  g_assert_cmpuint (n_checked, >=, 10);
}

// A template is built in a child process: GTK aborts on a bad one, and does so there.
static void
test_template (gconstpointer data)
{
  if (g_test_subprocess ())
    {
      GType type = g_type_from_name (data);
      g_autoptr(GtkWidget) widget = NULL;

      g_assert_true (type != G_TYPE_INVALID);
      widget = g_object_ref_sink (g_object_new (type, NULL));
      g_assert_true (GTK_IS_WIDGET (widget));
      if (GTK_IS_WINDOW (widget))
        gtk_window_destroy (GTK_WINDOW (widget));
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr_unmatched ("*Gtk-*");
}

// The chooser an action opened: modal to @window, of @mode, accepting with @accept.
static GtkWidget *
opened_chooser (PxWindow             *window,
                GtkWidget            *widget,
                const char           *action,
                GtkFileChooserAction  mode,
                const char           *accept)
{
  GtkWidget *chooser;

  g_assert_true (gtk_widget_activate_action (widget, action, NULL));
  px_test_settle ();
  chooser = px_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
  g_assert_nonnull (chooser);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (chooser)));
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (chooser)) == GTK_WINDOW (window));
  g_assert_cmpint (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (chooser)), ==, mode);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (gtk_dialog_get_widget_for_response (
                     GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT))), ==, accept);
  return chooser;
}

static void
cancel_chooser (GtkWidget *chooser)
{
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_CANCEL);
  px_test_settle ();
  g_assert_null (px_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG));
}

// The training and embedding-map pages' folder choosers (px_export_choose_folder): each
// opens modal to the window, and the folder accepted in the checkpoint chooser becomes the
// page's checkpoint folder.
static void
test_folder_choosers (void)
{
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  GtkWidget *train = GTK_WIDGET (px_window_get_train_page (window));
  GtkWidget *map = px_test_find_child (GTK_WIDGET (window), PX_TYPE_EMBEDDING_MAP_PAGE);
  g_autofree char *folder = g_build_filename (tmp_dir, "chosen-checkpoints", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (folder);
  GtkWidget *chooser;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_nonnull (map);
  px_window_show_page (window, "training");
  px_test_settle ();
  g_assert_cmpstr (px_train_page_get_checkpoint_folder (PX_TRAIN_PAGE (train)), !=, folder);
  chooser = opened_chooser (window, train, "train.choose-folder", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                            "_Select");
  g_assert_true (gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), file, NULL));
  px_test_settle ();
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  px_test_settle ();
  g_assert_null (px_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG));
  g_assert_cmpstr (px_train_page_get_checkpoint_folder (PX_TRAIN_PAGE (train)), ==, folder);

  cancel_chooser (opened_chooser (window, train, "train.add-folder", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                  "_Select"));
  // The model to fine-tune is a file.
  cancel_chooser (opened_chooser (window, train, "train.choose-init", GTK_FILE_CHOOSER_ACTION_OPEN, "_Open"));
  g_assert_cmpstr (px_train_page_get_checkpoint_folder (PX_TRAIN_PAGE (train)), ==, folder);

  px_window_show_page (window, "embedding-map");
  px_test_settle ();
  cancel_chooser (opened_chooser (window, map, "map.choose-folder", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                  "_Choose"));
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = px_test_app_setup (&argc, &argv, "actions", &tmp_dir);
  // The app's types, so that the template check can name them.
  g_type_ensure (PX_TYPE_WINDOW);
  g_type_ensure (PX_TYPE_CORRESPONDENCE_PAGE);
  g_type_ensure (PX_TYPE_EMBEDDING_MAP_PAGE);
  g_type_ensure (PX_TYPE_GRID_MATCHING_PAGE);
  g_type_ensure (PX_TYPE_PROBE_PAGE);
  g_type_ensure (PX_TYPE_TRAIN_PAGE);
  g_type_ensure (PX_TYPE_TAG_PANEL);
  g_type_ensure (PX_TYPE_STUDY_ROW);
  g_type_ensure (PX_TYPE_PROPAGATE_DIALOG);

  g_test_add_func ("/actions/ui-files", test_ui_files);
  for (guint i = 0; i < G_N_ELEMENTS (templates); i++)
    {
      g_autofree char *path = g_strdup_printf ("/actions/template/%s", templates[i]);
      g_test_add_data_func (path, templates[i], test_template);
    }
  g_test_add_func ("/actions/every-popover", test_every_popover);
  g_test_add_func ("/actions/every-action", test_every_action);
  g_test_add_func ("/actions/folder-choosers", test_folder_choosers);

  ret = g_test_run ();

  px_test_app_teardown (app, tmp_dir);
  return ret;
}
