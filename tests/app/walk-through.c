// SPDX-License-Identifier: GPL-3.0-or-later
//
// walk-through: the new user's walk through the app (issue 23), as a tool run by hand, not
// a test. In a 1024 × 700 window, in light and then in dark mode, it opens the bundled
// samples, radiographs and DICOMs from ../shared/data that no test opens, and bad files
// (truncated, empty, text named .dcm, a symbolic-link loop, a folder of them); shows every
// page, opens every menu button's popover, and works each page (points, pins, undo, a
// changed source, Grid Matching's toggles, a map over the pins, a training run stopped and
// started again on its own folder); then activates every action the app, the window and the
// pages register or name, and opens and closes every window and dialog, Preferences' rows
// changed one by one. Each step is printed with every log message (GTK, GLib, Adwaita, the
// app) it caused, widgets that fall outside the window or get less than their minimum size,
// and windows larger than 1024 × 700. Nothing is fatal (G_DEBUG must not make it so), so
// the whole walk shows everything; a crash names the step it happened in. The page of each
// step is saved as a PNG to OUTPUT_FOLDER for a human to look at. Exit status 1 if any
// message of level WARNING or worse, or any layout finding, was seen. Usage: see
// tests/app/meson.build.
#include "config.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "px-application.h"
#include "px-correspondence-page.h"
#include "px-propagate-dialog.h"
#include "px-test-util.h"
#include "px-train-page.h"
#include "px-window.h"

#define WIDTH 1024
#define HEIGHT 700

static PxApplication *app;
static const char *out_dir, *data_dir, *theme;
static char *tmp_dir;
static char step[128];
static guint n_warnings, n_findings, n_shots;

// ---- what is seen

static GLogWriterOutput
writer (GLogLevelFlags   level,
        const GLogField *fields,
        gsize            n_fields,
        gpointer         data)
{
  const char *domain = "", *message = "";

  if (level & G_LOG_LEVEL_DEBUG || level & G_LOG_LEVEL_INFO)
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
    else if (g_str_equal (fields[i].key, "MESSAGE"))
      message = fields[i].value;
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    n_warnings++;
  g_printerr ("  [%s %s] %s %s: %s\n", theme, step,
              level & G_LOG_LEVEL_ERROR ? "ERROR" : level & G_LOG_LEVEL_CRITICAL ? "CRITICAL" :
              level & G_LOG_LEVEL_WARNING ? "WARNING" : "MESSAGE", domain, message);
  return G_LOG_WRITER_HANDLED;
}

static void
begin (const char *format,
       ...)
{
  va_list args;

  va_start (args, format);
  g_vsnprintf (step, sizeof step, format, args);
  va_end (args);
  g_print ("[%s] %s\n", theme, step);
}

static void
finding (const char *format,
         ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  n_findings++;
  g_print ("  [%s %s] FINDING: %s\n", theme, step, text);
}

static const char *
describe (GtkWidget *widget)
{
  static char buf[160];
  const char *text = NULL;

  if (GTK_IS_LABEL (widget))
    text = gtk_label_get_text (GTK_LABEL (widget));
  else if (GTK_IS_BUTTON (widget))
    text = gtk_button_get_label (GTK_BUTTON (widget));
  if (text == NULL)
    text = gtk_widget_get_tooltip_text (widget);
  g_snprintf (buf, sizeof buf, "%s%s%s%s", G_OBJECT_TYPE_NAME (widget),
              text ? " \"" : "", text ? text : "", text ? "\"" : "");
  return buf;
}

// Widgets that stick out of @window (unless a scrolled window holds them) or are given less
// than they ask for; one finding per widget, its children left out.
static void
check_layout (GtkWidget *widget,
              GtkWidget *window,
              gboolean   scrolled)
{
  graphene_rect_t bounds;
  GtkAllocation allocation;
  int min_w, min_h, w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);

  GtkWidget *parent = gtk_widget_get_parent (widget);

  // A toast slides in from outside the window.
  if (!gtk_widget_get_mapped (widget) || GTK_IS_POPOVER (widget) ||
      g_str_equal (G_OBJECT_TYPE_NAME (widget), "AdwToastWidget"))
    return;
  // A revealer's child slides in or out across the window's edge while its transition runs.
  if (GTK_IS_REVEALER (widget) &&
      gtk_revealer_get_child_revealed (GTK_REVEALER (widget)) != gtk_revealer_get_reveal_child (GTK_REVEALER (widget)))
    return;
  // A scrolled window's child may be larger than the window; what it holds is scrolled to.
  if (GTK_IS_SCROLLED_WINDOW (parent) || GTK_IS_VIEWPORT (parent))
    {
      for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
           child = gtk_widget_get_next_sibling (child))
        check_layout (child, window, TRUE);
      return;
    }
  scrolled = scrolled || GTK_IS_SCROLLED_WINDOW (widget) || GTK_IS_VIEWPORT (widget);
  // A button that only scrolling sideways brings into view is one a user does not find.
  if (scrolled && GTK_IS_BUTTON (widget) && gtk_widget_compute_bounds (widget, window, &bounds) &&
      (bounds.origin.x + bounds.size.width > gtk_widget_get_width (window) + 1 || bounds.origin.x < -1))
    finding ("%s is scrolled out of the window (at x %.0f of %d)", describe (widget),
             bounds.origin.x, gtk_widget_get_width (window));
  if (!scrolled && w > 0 && h > 0 && gtk_widget_compute_bounds (widget, window, &bounds) &&
      (bounds.origin.x < -1 || bounds.origin.y < -1 ||
       bounds.origin.x + bounds.size.width > gtk_widget_get_width (window) + 1 ||
       bounds.origin.y + bounds.size.height > gtk_widget_get_height (window) + 1))
    {
      finding ("%s (in a %s) lies at %.0f,%.0f %.0f × %.0f, outside the %d × %d window", describe (widget),
               parent != NULL ? G_OBJECT_TYPE_NAME (parent) : "window",
               bounds.origin.x, bounds.origin.y, bounds.size.width, bounds.size.height,
               gtk_widget_get_width (window), gtk_widget_get_height (window));
      return;
    }
  // The allocation, like the measured minimum, includes the margins.
  gtk_widget_get_allocation (widget, &allocation);
  allocation.width += gtk_widget_get_margin_start (widget) + gtk_widget_get_margin_end (widget);
  allocation.height += gtk_widget_get_margin_top (widget) + gtk_widget_get_margin_bottom (widget);
  gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, NULL, NULL, NULL);
  gtk_widget_measure (widget, GTK_ORIENTATION_VERTICAL, allocation.width, &min_h, NULL, NULL, NULL);
  if (allocation.width + 1 < min_w || allocation.height + 1 < min_h)
    {
      finding ("%s has %d × %d, less than its minimum %d × %d", describe (widget),
               allocation.width, allocation.height, min_w, min_h);
      return;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    check_layout (child, window, scrolled);
}

static void
check_window (GtkWidget *window)
{
  int w = gtk_widget_get_width (window), h = gtk_widget_get_height (window);

  if (w > WIDTH || h > HEIGHT)
    finding ("%s \"%s\" is %d × %d, larger than %d × %d", G_OBJECT_TYPE_NAME (window),
             gtk_window_get_title (GTK_WINDOW (window)), w, h, WIDTH, HEIGHT);
  // The window's own box includes its shadow; its content starts at 0, 0.
  for (GtkWidget *child = gtk_widget_get_first_child (window); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    check_layout (child, window, FALSE);
}

static void
shot (GtkWidget  *widget,
      const char *name)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *file = NULL, *path = NULL;

  px_test_settle ();
  if (gtk_widget_get_width (widget) <= 0)
    return;
  file = g_strdup_printf ("%s-%02u-%s.png", theme, ++n_shots, name);
  path = g_build_filename (out_dir, file, NULL);
  texture = px_test_render_widget (widget);
  gdk_texture_save_to_png (texture, path);
}

// ---- windows and dialogs

static GPtrArray *
list_toplevels (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      GtkWidget *window = g_list_model_get_item (toplevels, i);

      if (gtk_widget_get_visible (window))
        g_ptr_array_add (list, window);
      else
        g_object_unref (window);
    }
  return list;
}

static gboolean
in_list (GPtrArray *list,
         gpointer   item)
{
  return g_ptr_array_find (list, item, NULL);
}

// A message dialog's response as a user gives it: a click on its button.
static void
click_response (AdwMessageDialog *dialog,
                const char       *response)
{
  GtkWidget *button = px_test_find_widget (GTK_WIDGET (dialog), px_test_button_has_label,
                                           adw_message_dialog_get_response_label (dialog, response));

  if (button == NULL)
    {
      finding ("no button for the response %s", response);
      adw_message_dialog_response (dialog, response);
      gtk_window_destroy (GTK_WINDOW (dialog));
      return;
    }
  g_signal_emit_by_name (button, "clicked");
}

// Every window opened since @before: checked, photographed, then closed the way a user
// would (Cancel, the close response, the close button). Returns how many there were.
static guint
close_new_windows (GPtrArray  *before,
                   const char *what)
{
  g_autoptr(GPtrArray) now = NULL;
  guint n = 0;

  px_test_settle ();
  now = list_toplevels ();
  for (guint i = 0; i < now->len; i++)
    {
      GtkWidget *window = g_ptr_array_index (now, i);
      g_autofree char *name = NULL;

      if (in_list (before, window) || GTK_IS_POPOVER (window))
        continue;
      n++;
      g_print ("  opened %s \"%s\"\n", G_OBJECT_TYPE_NAME (window), gtk_window_get_title (GTK_WINDOW (window)));
      check_window (window);
      name = g_strdelimit (g_strdup (what), "./: ", '-');
      shot (window, name);
      if (GTK_IS_DIALOG (window))
        gtk_dialog_response (GTK_DIALOG (window), GTK_RESPONSE_CANCEL);
      else if (ADW_IS_MESSAGE_DIALOG (window))
        click_response (ADW_MESSAGE_DIALOG (window),
                        adw_message_dialog_get_close_response (ADW_MESSAGE_DIALOG (window)));
      else
        gtk_window_close (GTK_WINDOW (window));
      px_test_settle ();
      if (gtk_widget_get_visible (window))
        {
          finding ("%s stayed open after its close response", G_OBJECT_TYPE_NAME (window));
          gtk_window_destroy (GTK_WINDOW (window));
        }
    }
  px_test_settle ();
  return n;
}

// ---- the pages

static PxWindow *
main_window (void)
{
  return PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
}

// A #PxTestWidgetPredicate: a widget of the GType @type holds.
static gboolean
is_of_type (GtkWidget     *widget,
            gconstpointer  type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type));
}

static void
open_popovers (PxWindow   *window,
               const char *page)
{
  g_autoptr(GPtrArray) buttons = px_test_find_widgets (GTK_WIDGET (window), is_of_type,
                                                       GSIZE_TO_POINTER (GTK_TYPE_MENU_BUTTON));

  for (guint i = 0; i < buttons->len; i++)
    {
      GtkMenuButton *button = g_ptr_array_index (buttons, i);
      GtkWidget *popover;
      int min_h;

      if (!gtk_widget_is_drawable (GTK_WIDGET (button)) || !gtk_widget_is_sensitive (GTK_WIDGET (button)))
        continue;
      gtk_menu_button_popup (button);
      px_test_settle ();
      popover = GTK_WIDGET (gtk_menu_button_get_popover (button));
      if (popover == NULL || !gtk_widget_get_mapped (popover))
        {
          finding ("the menu button %s opened nothing", describe (GTK_WIDGET (button)));
          continue;
        }
      gtk_widget_measure (popover, GTK_ORIENTATION_VERTICAL, -1, &min_h, NULL, NULL, NULL);
      g_print ("  popover of %s: %d × %d\n", describe (GTK_WIDGET (button)),
               gtk_widget_get_width (popover), gtk_widget_get_height (popover));
      if (min_h > HEIGHT || gtk_widget_get_width (popover) > WIDTH)
        finding ("the popover of %s needs %d px of height", describe (GTK_WIDGET (button)), min_h);
      if (gtk_widget_get_width (popover) > 0)
        {
          g_autofree char *name = g_strdup_printf ("%s-popover-%u", page, i);
          shot (popover, name);
        }
      gtk_menu_button_popdown (button);
      px_test_settle ();
    }
}

static void
show_every_page (PxWindow   *window,
                 const char *when)
{
  g_autoptr(GtkSelectionModel) pages = adw_view_stack_get_pages (px_test_window_stack (window));

  for (guint p = 0; p < g_list_model_get_n_items (G_LIST_MODEL (pages)); p++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), p);
      const char *name = adw_view_stack_page_get_name (page);
      g_autofree char *shot_name = g_strdup_printf ("%s-%s", when, name);

      begin ("%s: page %s", when, name);
      px_window_show_page (window, name);
      px_test_settle ();
      check_window (GTK_WIDGET (window));
      shot (GTK_WIDGET (window), shot_name);
      open_popovers (window, shot_name);
    }
}

// ---- files

static gboolean
copy_head (const char *from,
           const char *to,
           gsize       n)
{
  g_autofree char *contents = NULL;
  gsize length;

  return g_file_get_contents (from, &contents, &length, NULL) &&
         g_file_set_contents (to, contents, MIN (n, length), NULL);
}

static void
open_and_wait (PxWindow   *window,
               GPtrArray  *paths,
               const char *what)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) before = list_toplevels ();
  guint n_before = g_list_model_get_n_items (px_window_get_studies (window));

  for (guint i = 0; i < paths->len; i++)
    g_ptr_array_add (files, g_file_new_for_path (g_ptr_array_index (paths, i)));
  px_window_open_files (window, (GFile **) files->pdata, files->len);
  if (!px_test_wait_for (px_test_window_is_idle, window, 300))
    finding ("still loading after 300 s");
  px_test_settle ();
  g_print ("  %u paths given, %u radiographs opened\n", paths->len,
           g_list_model_get_n_items (px_window_get_studies (window)) - n_before);
  check_window (GTK_WIDGET (window));
  shot (GTK_WIDGET (window), what);
  // The toast's Details.
  if (g_action_group_get_action_enabled (G_ACTION_GROUP (window), "show-load-errors"))
    {
      gtk_widget_activate_action (GTK_WIDGET (window), "win.show-load-errors", NULL);
      close_new_windows (before, "load-errors");
    }
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

static void
add_listing (GPtrArray  *paths,
             const char *folder,
             guint       max)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    g_error ("%s is missing: the walk needs ../shared/data", folder);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len && i < max; i++)
    g_ptr_array_add (paths, g_build_filename (folder, (char *) g_ptr_array_index (names, i), NULL));
}

static char *
make_bad_folder (void)
{
  char *bad = g_build_filename (tmp_dir, "bad", NULL);
  g_autofree char *sample = g_build_filename (PEAC_SOURCE_DIR, "data", "samples", "nih-00000001_000.png", NULL);
  g_autofree char *p = NULL;

  g_mkdir_with_parents (bad, 0700);
  p = g_build_filename (bad, "truncated.png", NULL);
  copy_head (sample, p, 3000);
  g_free (p), p = g_build_filename (bad, "empty.png", NULL);
  g_file_set_contents (p, "", 0, NULL);
  g_free (p), p = g_build_filename (bad, "notes.dcm", NULL);
  g_file_set_contents (p, "Findings: none. This is a text file.\n", -1, NULL);
  g_free (p), p = g_build_filename (bad, "loop-a.png", NULL);
  symlink ("loop-b.png", p);
  g_free (p), p = g_build_filename (bad, "loop-b.png", NULL);
  symlink ("loop-a.png", p);
  g_free (p), p = g_build_filename (bad, "self", NULL);
  symlink (".", p);
  g_free (p), p = g_build_filename (bad, "linked.png", NULL);
  symlink (sample, p);
  return bad;
}

static void
walk_files (PxWindow *window)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bad = make_bad_folder ();
  g_autofree char *folder = NULL;
  static const char *bad_names[] = { "truncated.png", "empty.png", "notes.dcm", "loop-a.png" };

  begin ("open the samples");
  add_listing (paths, PEAC_SOURCE_DIR "/data/samples", 100);
  open_and_wait (window, paths, "samples");

  begin ("open unseen radiographs and DICOMs");
  g_ptr_array_set_size (paths, 0);
  folder = g_build_filename (data_dir, "cxr", "hannover-covid19", "png", NULL);
  add_listing (paths, folder, 3);
  g_free (folder), folder = g_build_filename (data_dir, "cxr", "nih-chestxray14", NULL);
  add_listing (paths, folder, 2);
  g_free (folder), folder = g_build_filename (data_dir, "dicom", "chest", NULL);
  add_listing (paths, folder, 100);
  g_free (folder), folder = g_build_filename (data_dir, "dicom", "non-chest-format-coverage", NULL);
  add_listing (paths, folder, 100);
  open_and_wait (window, paths, "unseen");

  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      begin ("open the bad file %s", bad_names[i]);
      g_ptr_array_set_size (paths, 0);
      g_ptr_array_add (paths, g_build_filename (bad, bad_names[i], NULL));
      open_and_wait (window, paths, bad_names[i]);
    }
  begin ("open the folder of bad files");
  g_ptr_array_set_size (paths, 0);
  g_ptr_array_add (paths, g_strdup (bad));
  open_and_wait (window, paths, "bad-folder");
}

// ---- working the pages

static void
act (GtkWidget  *widget,
     const char *name,
     GVariant   *parameter)
{
  g_autoptr(GPtrArray) before = list_toplevels ();

  if (!gtk_widget_activate_action_variant (widget, name, parameter))
    finding ("%s is not reachable from %s", name, G_OBJECT_TYPE_NAME (widget));
  px_test_settle ();
  close_new_windows (before, name);
}

static void
walk_correspondence (PxWindow *window)
{
  GtkWidget *page = GTK_WIDGET (px_window_get_correspondence_page (window));
  GListModel *studies = px_window_get_studies (window);
  g_autofree char *landmarks_name = g_strdup_printf ("landmarks-%s", theme);
  g_autofree char *landmarks = g_build_filename (tmp_dir, landmarks_name, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) before = NULL;

  begin ("correspondence: points, pins, undo, a new source");
  px_window_show_page (window, "correspondence");
  if (!px_test_wait_for (px_test_correspondence_ready, page, 300))
    finding ("the correspondence page is not ready after 300 s");
  act (page, "corr.query-point", g_variant_new ("(dd)", 250.0, 260.0));
  act (page, "corr.pin", NULL);
  act (page, "corr.query-point", g_variant_new ("(dd)", 390.0, 250.0));
  act (page, "corr.pin", NULL);
  act (page, "corr.heatmap", NULL);
  act (page, "corr.buddies", NULL);
  act (page, "corr.grid", NULL);
  act (page, "corr.landmarks", NULL);
  act (page, "corr.mode", g_variant_new_string ("nearest"));
  check_window (GTK_WIDGET (window));
  shot (GTK_WIDGET (window), "correspondence-worked");
  act (page, "corr.undo", NULL);
  act (page, "corr.redo", NULL);
  g_print ("  %u pins\n", px_correspondence_page_get_n_pins (PX_CORRESPONDENCE_PAGE (page)));
  px_correspondence_page_set_source (PX_CORRESPONDENCE_PAGE (page), g_list_model_get_item (studies, 1));
  px_test_wait_for (px_test_correspondence_ready, page, 300);
  g_print ("  %u pins after the source changed\n", px_correspondence_page_get_n_pins (PX_CORRESPONDENCE_PAGE (page)));
  px_correspondence_page_set_source (PX_CORRESPONDENCE_PAGE (page), g_list_model_get_item (studies, 0));
  px_test_wait_for (px_test_correspondence_ready, page, 300);
  g_print ("  %u pins with the first source again\n", px_correspondence_page_get_n_pins (PX_CORRESPONDENCE_PAGE (page)));
  act (page, "corr.mode", g_variant_new_string ("guided"));
  g_mkdir_with_parents (landmarks, 0700);
  if (!px_correspondence_page_save_landmarks (PX_CORRESPONDENCE_PAGE (page), landmarks, &error))
    finding ("Save Landmarks failed: %s", error->message);
  shot (GTK_WIDGET (window), "correspondence-saved");

  begin ("correspondence: propagate from the saved points");
  before = list_toplevels ();
  gtk_widget_activate_action (page, "corr.propagate", NULL);
  px_test_settle ();
  {
    g_autoptr(GPtrArray) now = list_toplevels ();

    for (guint i = 0; i < now->len; i++)
      if (PX_IS_PROPAGATE_DIALOG (g_ptr_array_index (now, i)))
        {
          PxPropagateDialog *dialog = g_ptr_array_index (now, i);

          px_propagate_dialog_set_folder (dialog, landmarks);
          px_test_settle ();
          check_window (GTK_WIDGET (dialog));
          g_print ("  %d references in the saved folder\n", px_propagate_dialog_get_n_references (dialog));
          shot (GTK_WIDGET (dialog), "propagate-dialog");
        }
  }
  close_new_windows (before, "propagate");
}

static void
walk_grid_and_map (PxWindow *window)
{
  GtkWidget *grid = GTK_WIDGET (px_window_get_grid_matching_page (window));
  GtkWidget *map = GTK_WIDGET (px_window_get_embedding_map_page (window));

  begin ("grid matching: shuffled, lines, resample, offsets");
  px_window_show_page (window, "grid-matching");
  px_test_wait_for (px_test_grid_ready, grid, 300);
  act (grid, "grid.student", g_variant_new_string ("shuffled"));
  act (grid, "grid.lines", NULL);
  act (grid, "grid.resample", NULL);
  act (grid, "grid.set-offsets", g_variant_new ("(iiii)", 0, 0, 1, 1));
  px_test_wait_for (px_test_grid_ready, grid, 300);
  check_window (GTK_WIDGET (window));
  shot (GTK_WIDGET (window), "grid-worked");

  begin ("embedding map over the pins");
  px_window_show_page (window, "embedding-map");
  act (map, "map.run-pins", NULL);
  if (!px_test_wait_for (px_test_map_idle, map, 600))
    finding ("the map is still busy after 600 s");
  g_print ("  %u points\n", px_embedding_map_page_get_n_points (PX_EMBEDDING_MAP_PAGE (map)));
  check_window (GTK_WIDGET (window));
  shot (GTK_WIDGET (window), "map-worked");
}

static gboolean
trainer_active (gpointer data)
{
  return px_trainer_get_active (data);
}

static void
walk_training (PxWindow *window)
{
  PxTrainPage *page = px_window_get_train_page (window);
  PxTrainer *trainer = px_train_page_get_trainer (page);
  g_autofree char *run_name = g_strdup_printf ("run-%s", theme);
  g_autofree char *dataset_name = g_strdup_printf ("dataset-%s", theme);
  g_autofree char *run = g_build_filename (tmp_dir, run_name, NULL);
  g_autofree char *dataset = g_build_filename (tmp_dir, dataset_name, NULL);
  g_autofree char *nih = g_build_filename (data_dir, "cxr", "nih-more", "png_512", NULL);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GFile) folder = NULL;
  PxTrainOptions options;
  PxTestStepWait wait = { trainer, 8 };

  begin ("training: a run, pause, resume, stop");
  px_window_show_page (window, "training");
  g_mkdir_with_parents (run, 0700);
  g_mkdir_with_parents (dataset, 0700);
  add_listing (paths, nih, 12);
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *base = g_path_get_basename (g_ptr_array_index (paths, i));
      g_autofree char *link = g_build_filename (dataset, base, NULL);

      symlink (g_ptr_array_index (paths, i), link);
    }
  px_train_page_set_checkpoint_folder (page, run);
  folder = g_file_new_for_path (dataset);
  px_train_page_add_folder (page, folder);
  px_test_wait_for (px_test_scan_done, page, 120);
  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = 400;
  options.batch = 2;
  options.threads = 2;
  options.save_every = 4;
  px_train_page_set_options (page, &options);
  act (GTK_WIDGET (page), "train.start", NULL);
  g_print ("  %u usable, %u unreadable; training: %d\n", px_train_page_get_n_usable (page),
           px_train_page_get_n_unreadable (page), px_trainer_get_active (trainer));
  px_test_wait_for (px_test_step_reached, &wait, 120);
  act (GTK_WIDGET (page), "train.pause", NULL);
  check_window (GTK_WIDGET (window));
  shot (GTK_WIDGET (window), "training-paused");
  act (GTK_WIDGET (page), "train.resume", NULL);
  wait.step = 12;
  px_test_wait_for (px_test_step_reached, &wait, 120);
  act (GTK_WIDGET (page), "train.cancel", NULL);
  px_test_wait_for (px_test_trainer_idle, trainer, 120);
  g_print ("  stopped at step %ld: %s\n", px_trainer_get_step (trainer), px_trainer_get_message (trainer));
  check_window (GTK_WIDGET (window));
  shot (GTK_WIDGET (window), "training-stopped");

  begin ("training: Start again on the same folder");
  before = list_toplevels ();
  gtk_widget_activate_action (GTK_WIDGET (page), "train.start", NULL);
  px_test_settle ();
  {
    g_autoptr(GPtrArray) now = list_toplevels ();
    gboolean asked = FALSE;

    for (guint i = 0; i < now->len; i++)
      if (ADW_IS_MESSAGE_DIALOG (g_ptr_array_index (now, i)) && !in_list (before, g_ptr_array_index (now, i)))
        {
          AdwMessageDialog *dialog = g_ptr_array_index (now, i);

          asked = TRUE;
          check_window (GTK_WIDGET (dialog));
          shot (GTK_WIDGET (dialog), "keep-earlier-run");
          g_print ("  asked \"%s\"; Resume enabled: %d\n", adw_message_dialog_get_heading (dialog),
                   adw_message_dialog_get_response_enabled (dialog, "resume"));
          click_response (dialog, "resume");
        }
    if (!asked)
      finding ("Start on a folder with a run did not ask");
  }
  px_test_settle ();
  px_test_wait_for (trainer_active, trainer, 60);
  wait.step = px_trainer_get_step (trainer) + 4;
  px_test_wait_for (px_test_step_reached, &wait, 120);
  g_print ("  resumed, at step %ld\n", px_trainer_get_step (trainer));
  act (GTK_WIDGET (page), "train.cancel", NULL);
  px_test_wait_for (px_test_trainer_idle, trainer, 120);
  shot (GTK_WIDGET (window), "training-resumed-stopped");
}

// ---- every action

static gboolean
is_last_action (const char *name)
{
  return g_str_equal (name, "win.close-study") || g_str_equal (name, "app.quit") ||
         g_str_equal (name, "window.close") || g_str_equal (name, "app.preferences");
}

static void
walk_actions (PxWindow *window)
{
  g_autoptr(GPtrArray) list = px_test_actions_new ();
  g_autoptr(GtkSelectionModel) pages = adw_view_stack_get_pages (px_test_window_stack (window));

  px_test_actions_collect (list, GTK_WIDGET (window));
  for (guint p = 0; p < g_list_model_get_n_items (G_LIST_MODEL (pages)); p++)
    {
      g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), p);

      px_test_actions_collect (list, adw_view_stack_page_get_child (page));
    }
  {
    g_auto(GStrv) names = g_action_group_list_actions (G_ACTION_GROUP (app));

    for (guint i = 0; names[i] != NULL; i++)
      if (g_action_group_get_action_parameter_type (G_ACTION_GROUP (app), names[i]) == NULL)
        {
          g_autofree char *full = g_strconcat ("app.", names[i], NULL);
          px_test_actions_add (list, GTK_WIDGET (window), full, NULL);
        }
  }
  for (guint i = 0; i < list->len; i++)
    {
      PxTestAction *r = g_ptr_array_index (list, i);
      g_autofree char *shown = r->target ? g_variant_print (r->target, FALSE) : g_strdup ("");
      g_autoptr(GPtrArray) before = NULL;

      if (is_last_action (r->name))
        continue;
      begin ("action %s %s", r->name, shown);
      // A toast's button is gone with its toast: the window activates its action instead.
      if (gtk_widget_get_root (r->widget) == NULL)
        g_set_object (&r->widget, GTK_WIDGET (window));
      px_test_show_page_of (window, r->widget);
      before = list_toplevels ();
      if (!gtk_widget_activate_action_variant (r->widget, r->name, r->target))
        g_print ("  (disabled or not reachable here)\n");
      px_test_settle ();
      close_new_windows (before, r->name);
      gtk_widget_activate_action (GTK_WIDGET (window), "win.cancel-embedding", NULL);
      gtk_widget_activate_action (GTK_WIDGET (px_window_get_train_page (window)), "train.cancel", NULL);
    }
}

// Preferences: open, each row changed through every value and put back, closed.
static void
walk_preferences (PxWindow *window)
{
  g_autoptr(GPtrArray) before = list_toplevels ();
  g_autoptr(GPtrArray) now = NULL;

  begin ("preferences: every row");
  gtk_widget_activate_action (GTK_WIDGET (window), "app.preferences", NULL);
  px_test_settle ();
  now = list_toplevels ();
  for (guint i = 0; i < now->len; i++)
    {
      GtkWidget *prefs = g_ptr_array_index (now, i);
      GPtrArray *rows;

      if (in_list (before, prefs))
        continue;
      check_window (prefs);
      rows = px_test_find_widgets (prefs, is_of_type, GSIZE_TO_POINTER (ADW_TYPE_COMBO_ROW));
      for (guint r = 0; r < rows->len; r++)
        {
          AdwComboRow *row = g_ptr_array_index (rows, r);
          guint old = adw_combo_row_get_selected (row);
          GListModel *model = adw_combo_row_get_model (row);

          g_print ("  combo row \"%s\"\n", adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));
          for (guint k = 0; model != NULL && k < g_list_model_get_n_items (model); k++)
            {
              adw_combo_row_set_selected (row, k);
              px_test_settle ();
            }
          adw_combo_row_set_selected (row, old);
        }
      g_ptr_array_unref (rows);
      rows = px_test_find_widgets (prefs, is_of_type, GSIZE_TO_POINTER (GTK_TYPE_SWITCH));
      for (guint r = 0; r < rows->len; r++)
        {
          GtkSwitch *sw = g_ptr_array_index (rows, r);

          g_print ("  switch %s\n", describe (gtk_widget_get_parent (GTK_WIDGET (sw))));
          gtk_switch_set_active (sw, !gtk_switch_get_active (sw));
          px_test_settle ();
          shot (prefs, "preferences-switched");
          gtk_switch_set_active (sw, !gtk_switch_get_active (sw));
          px_test_settle ();
        }
      g_ptr_array_unref (rows);
    }
  close_new_windows (before, "preferences");
}

static void
walk_close (PxWindow *window)
{
  g_autoptr(GPtrArray) before = list_toplevels ();

  begin ("close the window with unsaved points");
  gtk_widget_activate_action (GTK_WIDGET (px_window_get_correspondence_page (window)), "corr.query-point",
                              "(dd)", 200.0, 300.0);
  gtk_widget_activate_action (GTK_WIDGET (px_window_get_correspondence_page (window)), "corr.pin", NULL);
  gtk_window_close (GTK_WINDOW (window));
  px_test_settle ();
  if (close_new_windows (before, "close-window") == 0)
    finding ("closing the window with unsaved points did not ask");
  if (!gtk_widget_get_visible (GTK_WIDGET (window)))
    finding ("the window closed although the question was cancelled");

  begin ("close every radiograph, quit");
  while (g_list_model_get_n_items (px_window_get_studies (window)) > 0)
    {
      guint n = g_list_model_get_n_items (px_window_get_studies (window));
      g_autoptr(GPtrArray) open = list_toplevels ();
      g_autoptr(GPtrArray) now = NULL;

      gtk_widget_activate_action (GTK_WIDGET (window), "win.close-study", NULL);
      px_test_settle ();
      now = list_toplevels ();
      // An image with unsaved points asks: its Discard.
      for (guint i = 0; i < now->len; i++)
        if (ADW_IS_MESSAGE_DIALOG (g_ptr_array_index (now, i)) && !in_list (open, g_ptr_array_index (now, i)))
          {
            AdwMessageDialog *d = g_ptr_array_index (now, i);
            g_print ("  asked \"%s\"\n", adw_message_dialog_get_heading (d));
            click_response (d, adw_message_dialog_has_response (d, "discard") ? "discard"
                            : adw_message_dialog_get_close_response (d));
          }
      px_test_settle ();
      if (g_list_model_get_n_items (px_window_get_studies (window)) == n)
        {
          finding ("Close did not close the radiograph");
          break;
        }
    }
  show_every_page (window, "closed");
  begin ("quit");
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  px_test_settle ();
  close_new_windows (before, "quit");
}

static void
walk (void)
{
  PxWindow *window;

  begin ("start");
  g_settings_set_string (px_application_get_settings (app), "color-scheme", theme);
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", FALSE);
  g_application_activate (G_APPLICATION (app));
  window = main_window ();
  gtk_window_set_default_size (GTK_WINDOW (window), WIDTH, HEIGHT);
  gtk_window_present (GTK_WINDOW (window));
  px_test_wait_for (px_test_window_has_model, window, 60);
  px_test_settle ();
  show_every_page (window, "empty");
  walk_files (window);
  show_every_page (window, "open");
  walk_correspondence (window);
  walk_grid_and_map (window);
  walk_training (window);
  walk_actions (window);
  walk_preferences (window);
  begin ("privacy on");
  g_action_group_change_action_state (G_ACTION_GROUP (app), "privacy", g_variant_new_boolean (TRUE));
  {
    g_autoptr(GtkSelectionModel) pages = adw_view_stack_get_pages (px_test_window_stack (window));

    // The SIIM DICOM is named by its SOP Instance UID, which privacy mode hides.
    for (guint p = 0; p < g_list_model_get_n_items (G_LIST_MODEL (pages)); p++)
      {
        g_autoptr(AdwViewStackPage) page = g_list_model_get_item (G_LIST_MODEL (pages), p);
        g_autofree char *name = g_strdup_printf ("privacy-%s", adw_view_stack_page_get_name (page));

        px_window_show_page (window, adw_view_stack_page_get_name (page));
        px_test_settle ();
        if (px_test_labels_contain (GTK_WIDGET (window), "8323329.6904"))
          finding ("the page %s shows a UID in privacy mode", adw_view_stack_page_get_name (page));
        shot (GTK_WIDGET (window), name);
      }
  }
  g_action_group_change_action_state (G_ACTION_GROUP (app), "privacy", g_variant_new_boolean (FALSE));
  walk_close (window);
}

int
main (int   argc,
      char *argv[])
{
  static const char *themes[] = { "light", "dark" };

  if (argc != 3)
    {
      g_printerr ("usage: walk-through OUTPUT_FOLDER SHARED_DATA_FOLDER\n");
      return 2;
    }
  out_dir = argv[1];
  // Absolute, for the links the walk makes to it.
  data_dir = g_canonicalize_filename (argv[2], NULL);
  theme = "setup";
  g_mkdir_with_parents (out_dir, 0755);
  g_log_set_writer_func (writer, NULL, NULL);
  tmp_dir = px_test_make_home ("peac-walk-XXXXXX");
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  gtk_init ();
  app = px_application_new ("org.peac.Explorer.Walk", G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (app), NULL, NULL))
    return 1;
  for (guint i = 0; i < G_N_ELEMENTS (themes); i++)
    {
      theme = themes[i];
      n_shots = 0;
      walk ();
    }
  g_print ("walk-through: %u warnings or criticals, %u findings; pictures in %s\n",
           n_warnings, n_findings, out_dir);
  px_test_app_teardown (app, tmp_dir);
  return n_warnings + n_findings > 0;
}
