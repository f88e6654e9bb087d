// SPDX-License-Identifier: GPL-3.0-or-later
//
// Test helpers for the GUI suite. px_test_wait_for() iterates the default main context
// until a condition holds or a generous timeout passes (the timeout only turns a hang
// into a failure; no test asserts on time). px_test_render_widget() snapshots a mapped
// widget through its own GskRenderer, i.e. the pixels the window would show.
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>

#include "px-test-util.h"
#include "px-window.h"

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
px_test_wait_for (PxTestCondition  condition,
                  gpointer         data,
                  guint            timeout_seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (timeout_seconds, on_timeout, &timed_out);

  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (id);
  return condition (data);
}

// The #PxTestCondition the tests wait on, each defined once here.

// @window (a #PxWindow) has finished loading files.
gboolean
px_test_window_is_idle (gpointer window)
{
  return !px_window_get_loading (window);
}

// @window (a #PxWindow) has a model; its default one loads in a worker.
gboolean
px_test_window_has_model (gpointer window)
{
  return px_embedder_get_model (px_window_get_embedder (window)) != NULL;
}

// @page (a #PxCorrespondencePage) has its match contexts.
gboolean
px_test_correspondence_ready (gpointer page)
{
  return px_correspondence_page_get_ready (page);
}

// @page (a #PxGridMatchingPage) has drawn a pair and has the model's similarities.
gboolean
px_test_grid_ready (gpointer page)
{
  return px_grid_matching_page_get_ready (page);
}

// @page (a #PxEmbeddingMapPage) runs no map job.
gboolean
px_test_map_idle (gpointer page)
{
  return !px_embedding_map_page_get_busy (page);
}

// @page (a #PxProbePage) runs no probe.
gboolean
px_test_probe_idle (gpointer page)
{
  return !px_probe_page_get_running (page);
}

// @page (a #PxTrainPage) has finished scanning its folders.
gboolean
px_test_scan_done (gpointer page)
{
  return !px_train_page_get_scanning (page);
}

// @trainer (a #PxTrainer) is not running.
gboolean
px_test_trainer_idle (gpointer trainer)
{
  return !px_trainer_get_active (trainer);
}

// @wait (a #PxTestStepWait): its trainer reached the step, or stopped before.
gboolean
px_test_step_reached (gpointer wait)
{
  PxTestStepWait *w = wait;

  return px_trainer_get_step (w->trainer) >= w->step || !px_trainer_get_active (w->trainer);
}

static gboolean
on_frames_done (gpointer data)
{
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (data), "px-test-done"));
}

static gboolean
mark_done (gpointer data)
{
  g_object_set_data (G_OBJECT (data), "px-test-done", GINT_TO_POINTER (TRUE));
  return G_SOURCE_REMOVE;
}

// Lets pending layout and drawing run: a low-priority idle fires after them.
void
px_test_settle (void)
{
  g_autoptr(GObject) token = g_object_new (G_TYPE_OBJECT, NULL);

  for (guint i = 0; i < 3; i++)
    {
      g_object_set_data (token, "px-test-done", GINT_TO_POINTER (FALSE));
      g_timeout_add_full (G_PRIORITY_LOW, 50, mark_done, token, NULL);
      px_test_wait_for (on_frames_done, token, 10);
    }
}

GdkTexture *
px_test_render_widget (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

// Mean of R, G and B per pixel (the viewer is grey anyway), width × height bytes.
guint8 *
px_test_texture_to_grey (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guint8 *bgra = g_malloc ((gsize) width * height * 4);
  guint8 *grey = g_malloc ((gsize) width * height);

  gdk_texture_download (texture, bgra, (gsize) width * 4);
  for (gsize i = 0; i < (gsize) width * height; i++)
    grey[i] = (guint8) ((bgra[4 * i] + bgra[4 * i + 1] + bgra[4 * i + 2]) / 3);
  return grey;
}

// Depth first, @widget before its children: the first widget @predicate picks, or, with
// @all, every one added to it (and NULL returned).
static GtkWidget *
walk (GtkWidget             *widget,
      PxTestWidgetPredicate  predicate,
      gconstpointer          data,
      GPtrArray             *all)
{
  if (predicate (widget, data))
    {
      if (all == NULL)
        return widget;
      g_ptr_array_add (all, widget);
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = walk (child, predicate, data, all);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/**
 * px_test_find_widget:
 * @predicate: called with each widget and @data, @root first, then depth first
 *
 * Returns: (transfer none) (nullable): the first widget at or under @root that @predicate
 *   picks
 */
GtkWidget *
px_test_find_widget (GtkWidget             *root,
                     PxTestWidgetPredicate  predicate,
                     gconstpointer          data)
{
  return walk (root, predicate, data, NULL);
}

/**
 * px_test_find_widgets:
 *
 * As px_test_find_widget(), every widget @predicate picks.
 *
 * Returns: (transfer container) (element-type GtkWidget): the widgets, in that order
 */
GPtrArray *
px_test_find_widgets (GtkWidget             *root,
                      PxTestWidgetPredicate  predicate,
                      gconstpointer          data)
{
  GPtrArray *all = g_ptr_array_new ();

  walk (root, predicate, data, all);
  return all;
}

// A #PxTestWidgetPredicate: a button whose label is @label (a const char *, mnemonic as set).
gboolean
px_test_button_has_label (GtkWidget     *widget,
                          gconstpointer  label)
{
  return GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0;
}

static gboolean
is_mapped_label (GtkWidget     *widget,
                 gconstpointer  data)
{
  return GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget);
}

// Texts of the labels that are on screen under @root.
GPtrArray *
px_test_collect_labels (GtkWidget *root)
{
  g_autoptr(GPtrArray) labels = px_test_find_widgets (root, is_mapped_label, NULL);
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < labels->len; i++)
    g_ptr_array_add (texts, g_strdup (gtk_label_get_text (g_ptr_array_index (labels, i))));
  return texts;
}

static gboolean
label_contains (GtkWidget     *widget,
                gconstpointer  needle)
{
  return is_mapped_label (widget, NULL) && strstr (gtk_label_get_text (GTK_LABEL (widget)), needle) != NULL;
}

// Whether a label on screen under @root shows @needle.
gboolean
px_test_labels_contain (GtkWidget  *root,
                        const char *needle)
{
  return px_test_find_widget (root, label_contains, needle) != NULL;
}

static gboolean
probe_tick (gpointer data)
{
  PxTestStallProbe *probe = data;
  gint64 now = g_get_monotonic_time ();

  probe->worst = MAX (probe->worst, now - probe->last);
  probe->last = now;
  return G_SOURCE_CONTINUE;
}

/**
 * px_test_probe_start:
 * @priority: of the 5 ms timeout whose longest gap between runs is the worst stall
 */
void
px_test_probe_start (PxTestStallProbe *probe,
                     int               priority)
{
  probe->last = g_get_monotonic_time ();
  probe->worst = 0;
  probe->id = g_timeout_add_full (priority, 5, probe_tick, probe, NULL);
}

/**
 * px_test_probe_stop:
 *
 * Returns: the worst main-loop gap since px_test_probe_start(), in milliseconds
 */
double
px_test_probe_stop (PxTestStallProbe *probe)
{
  g_source_remove (probe->id);
  return probe->worst / 1000.0;
}

// Removes @path and everything under it; symbolic links are removed, not followed.
void
px_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        px_test_remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

/**
 * px_test_make_home:
 * @tmpl: a g_dir_make_tmp() template
 *
 * Makes a temporary folder the home, data, config and cache folder of this process, so a
 * test neither reads nor writes the user's, and turns the accessibility backend off
 * unless asked for (without a session bus it would warn on every window). Call before
 * gtk_init(): GLib caches the user directories.
 *
 * Returns: the folder; hand it to px_test_remove_home() at the end
 */
char *
px_test_make_home (const char *tmpl)
{
  char *home = g_dir_make_tmp (tmpl, NULL);

  g_assert_nonnull (home);
  g_setenv ("HOME", home, TRUE);
  g_setenv ("XDG_DATA_HOME", home, TRUE);
  g_setenv ("XDG_CONFIG_HOME", home, TRUE);
  g_setenv ("XDG_CACHE_HOME", home, TRUE);
  g_setenv ("GTK_A11Y", "none", FALSE);
  return home;
}

// Removes and frees @home, unless PEAC_KEEP_TEST_OUTPUT keeps it for a human to look at.
void
px_test_remove_home (char *home)
{
  if (g_getenv ("PEAC_KEEP_TEST_OUTPUT") == NULL)
    px_test_remove_tree (home);
  else
    g_printerr ("# test output kept in %s\n", home);
  g_free (home);
}

static gboolean
is_of_type (GtkWidget     *widget,
            gconstpointer  type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type));
}

// The first widget of @type at or under @root, depth first; NULL if there is none.
GtkWidget *
px_test_find_child (GtkWidget *root,
                    GType      type)
{
  return px_test_find_widget (root, is_of_type, GSIZE_TO_POINTER (type));
}

// The first visible toplevel window of @type (a dialog, a chooser); NULL if there is none.
GtkWidget *
px_test_find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();   // (transfer none)

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) window = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) && gtk_widget_get_visible (window))
        return window;
    }
  return NULL;
}

// The first drag gesture among @widget's own controllers; NULL if it has none.
GtkGesture *
px_test_find_drag_gesture (GtkWidget *widget)
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

// A fresh main window for each test: every open window of @app closed, privacy mode off,
// then the window that activation opens, presented at @width × @height, with its default
// model loaded, and settled.
PxWindow *
px_test_fresh_window (PxApplication *app,
                      int            width,
                      int            height)
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
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (px_test_wait_for (px_test_window_has_model, window, 60));
  px_test_settle ();
  return window;
}

/**
 * px_test_app_setup:
 * @argc: main()'s, for g_test_init()
 * @argv: main()'s, for g_test_init()
 * @name: the test's name, e.g. "pages": its home is a temporary `peac-NAME-XXXXXX` folder
 *   and its application is `org.peac.Explorer.Test.NAME`
 * @home: (out): the temporary home (px_test_make_home()), for the test's own files too
 *
 * What every GUI test's main() does first: English messages (LANGUAGE=C, the C.UTF-8
 * locale), a temporary home, the Cairo renderer (unless
 * GSK_RENDERER names another), g_test_init() and gtk_init(), and the application created
 * and registered, every warning fatal from then on. Call it before adding the tests and
 * px_test_app_teardown() after g_test_run().
 *
 * Returns: (transfer full): the registered application
 */
PxApplication *
px_test_app_setup (int          *argc,
                   char       ***argv,
                   const char   *name,
                   char        **home)
{
  g_autofree char *tmpl = g_strdup_printf ("peac-%s-XXXXXX", name);
  g_autofree char *id = g_strdup_printf ("org.peac.Explorer.Test.%s", name);
  PxApplication *app;

  // English messages and a UTF-8 locale, whatever the developer's own: the tests read the
  // window's texts. gtk_init() below still takes the locale from the environment where it
  // names one that is installed.
  g_setenv ("LANGUAGE", "C", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  *home = px_test_make_home (tmpl);
  // Xvfb offers only llvmpipe, whose GL frames of a full window take ~100 ms on a 2-core
  // machine and would drown what the stall probes are meant to see (the pages' own work);
  // the Cairo renderer draws the same pixels without that cost.
  g_setenv ("GSK_RENDERER", "cairo", FALSE);

  g_test_init (argc, argv, NULL);
  gtk_init ();

  g_assert_true (g_application_id_is_valid (id));
  app = px_application_new (id, G_APPLICATION_NON_UNIQUE);
  // Xvfb has no session bus and GtkApplication warns about that once while registering;
  // every other warning stays fatal.
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return app;
}

/**
 * px_test_app_teardown:
 * @app: (transfer full) (nullable): from px_test_app_setup()
 * @home: (transfer full): from px_test_app_setup(); removed unless PEAC_KEEP_TEST_OUTPUT
 *   keeps it for a human to look at
 */
void
px_test_app_teardown (PxApplication *app,
                      char          *home)
{
  g_clear_object (&app);
  px_test_remove_home (home);
}

static void
px_test_action_free (PxTestAction *a)
{
  g_object_unref (a->widget);
  g_free (a->name);
  g_clear_pointer (&a->target, g_variant_unref);
  g_free (a);
}

/**
 * px_test_actions_new:
 *
 * Returns: a list of #PxTestAction, for px_test_actions_add() and px_test_actions_collect()
 */
GPtrArray *
px_test_actions_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) px_test_action_free);
}

/**
 * px_test_actions_add:
 * @target: (transfer floating) (nullable): sunk here
 *
 * Adds @name with @target, activated from @widget, unless the list holds that action with an
 * equal target already (the same action from two widgets is activated once).
 */
void
px_test_actions_add (GPtrArray  *list,
                     GtkWidget  *widget,
                     const char *name,
                     GVariant   *target)
{
  PxTestAction *a;

  if (target != NULL)
    g_variant_ref_sink (target);
  for (guint i = 0; i < list->len; i++)
    {
      PxTestAction *other = g_ptr_array_index (list, i);

      if (g_str_equal (other->name, name) && (target == NULL) == (other->target == NULL) &&
          (target == NULL || g_variant_equal (target, other->target)))
        {
          g_clear_pointer (&target, g_variant_unref);
          return;
        }
    }
  a = g_new0 (PxTestAction, 1);
  a->widget = g_object_ref (widget);
  a->name = g_strdup (name);
  a->target = target;
  g_ptr_array_add (list, a);
}

static void
collect_menu (GPtrArray  *list,
              GtkWidget  *widget,
              GMenuModel *menu)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autoptr(GMenuLinkIter) links = g_menu_model_iterate_item_links (menu, i);
      g_autofree char *action = NULL;

      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &action))
        px_test_actions_add (list, widget, action,
                             g_menu_model_get_item_attribute_value (menu, i, G_MENU_ATTRIBUTE_TARGET, NULL));
      while (g_menu_link_iter_next (links))
        {
          g_autoptr(GMenuModel) link = g_menu_link_iter_get_value (links);
          collect_menu (list, widget, link);
        }
    }
}

static gboolean
any_widget (GtkWidget     *widget,
            gconstpointer  data)
{
  return TRUE;
}

/**
 * px_test_actions_collect:
 *
 * Adds every action a button, toggle or menu item at or under @root names, with its target.
 */
void
px_test_actions_collect (GPtrArray *list,
                         GtkWidget *root)
{
  g_autoptr(GPtrArray) widgets = px_test_find_widgets (root, any_widget, NULL);

  for (guint i = 0; i < widgets->len; i++)
    {
      GtkWidget *widget = g_ptr_array_index (widgets, i);

      if (GTK_IS_ACTIONABLE (widget) && gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)) != NULL)
        {
          GVariant *target = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (widget));

          px_test_actions_add (list, widget, gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)),
                               target ? g_variant_ref (target) : NULL);
        }
      if (GTK_IS_MENU_BUTTON (widget) && gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (widget)) != NULL)
        collect_menu (list, widget, gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (widget)));
    }
}

/**
 * px_test_window_stack:
 *
 * Returns: (transfer none): the window's page stack
 */
AdwViewStack *
px_test_window_stack (PxWindow *window)
{
  return ADW_VIEW_STACK (px_test_find_child (GTK_WIDGET (window), ADW_TYPE_VIEW_STACK));
}

/**
 * px_test_show_page_of:
 *
 * Shows the page of @window that holds @widget, if a page does, and lets it settle.
 */
void
px_test_show_page_of (PxWindow  *window,
                      GtkWidget *widget)
{
  g_autoptr(GtkSelectionModel) pages = adw_view_stack_get_pages (px_test_window_stack (window));

  for (guint p = 0; p < g_list_model_get_n_items (G_LIST_MODEL (pages)); p++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), p);
      GtkWidget *child = adw_view_stack_page_get_child (page);

      if (widget == child || gtk_widget_is_ancestor (widget, child))
        {
          px_window_show_page (window, adw_view_stack_page_get_name (page));
          px_test_settle ();
          return;
        }
    }
}
