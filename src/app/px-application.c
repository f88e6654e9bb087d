// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxApplication owns what outlives a window: the app actions and their accelerators,
// the file choosers (which remember the last folder), the "Recent" menu kept in step
// with GtkRecentManager, the privacy toggle backed by GSettings, the theme, and the about,
// shortcuts and preferences windows. Files given on the command line or through GApplication's open
// path go to the active window. It also finds the settings schema (installed, or the one
// the build compiles when the binary runs uninstalled) and sends notifications only where
// a session bus can carry them.
#include "config.h"

#include <glib/gi18n.h>

#include "px-application.h"
#include "px-preferences.h"
#include "px-resources.h"
#include "px-window.h"

struct _PxApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  GMenu          *recent_menu;
};

G_DEFINE_FINAL_TYPE (PxApplication, px_application, ADW_TYPE_APPLICATION)

static PxWindow *
get_window (PxApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (PX_IS_WINDOW (window))
    return PX_WINDOW (window);
  return px_window_new (GTK_APPLICATION (self));
}

static void
remember_folder (PxApplication *self,
                 GFile         *folder)
{
  g_autofree char *path = folder ? g_file_get_path (folder) : NULL;

  if (path != NULL)
    g_settings_set_string (self->settings, "last-folder", path);
}

static void
set_chooser_folder (PxApplication  *self,
                    GtkFileChooser *chooser)
{
  g_autofree char *last = g_settings_get_string (self->settings, "last-folder");

  if (last[0] != '\0' && g_file_test (last, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GFile) folder = g_file_new_for_path (last);
      gtk_file_chooser_set_current_folder (chooser, folder, NULL);
    }
}

static void
add_filter (GtkFileChooser     *chooser,
            const char         *name,
            const char * const *mime_types,
            const char * const *patterns)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, name);
  for (guint i = 0; mime_types && mime_types[i]; i++)
    gtk_file_filter_add_mime_type (filter, mime_types[i]);
  for (guint i = 0; patterns && patterns[i]; i++)
    gtk_file_filter_add_pattern (filter, patterns[i]);
  gtk_file_chooser_add_filter (chooser, filter);
}

static void
on_open_response (GtkNativeDialog *dialog,
                  int              response,
                  PxApplication   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      GtkFileChooser *chooser = GTK_FILE_CHOOSER (dialog);
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (chooser);
      g_autoptr(GPtrArray) array = g_ptr_array_new_with_free_func (g_object_unref);
      guint n = g_list_model_get_n_items (files);
      PxWindow *window = get_window (self);

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (array, g_list_model_get_item (files, i));

      if (array->len > 0)
        {
          GtkFileChooserAction action = gtk_file_chooser_get_action (chooser);
          g_autoptr(GFile) parent = NULL;

          if (action == GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER)
            remember_folder (self, g_ptr_array_index (array, 0));
          else if ((parent = g_file_get_parent (g_ptr_array_index (array, 0))))
            remember_folder (self, parent);
        }

      px_window_open_files (window, (GFile **) array->pdata, array->len);
      gtk_window_present (GTK_WINDOW (window));
    }

  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
run_chooser (PxApplication        *self,
             GtkFileChooserAction  action)
{
  static const char * const png[] = { "image/png", NULL };
  static const char * const jpeg[] = { "image/jpeg", NULL };
  static const char * const dicom[] = { "application/dicom", NULL };
  static const char * const dicom_patterns[] = { "*.dcm", "*.DCM", "*.dicom", NULL };
  static const char * const all_images[] = { "image/png", "image/jpeg", "application/dicom", NULL };
  static const char * const all[] = { "*", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkFileChooserNative *native;
  gboolean folder = action == GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER;

  native = gtk_file_chooser_native_new (folder ? _("Open Folder") : _("Open Radiographs"),
                                        parent, action, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);

  if (!folder)
    {
      gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (native), TRUE);
      add_filter (GTK_FILE_CHOOSER (native), _("Radiographs"), all_images, dicom_patterns);
      add_filter (GTK_FILE_CHOOSER (native), _("PNG Images"), png, NULL);
      add_filter (GTK_FILE_CHOOSER (native), _("JPEG Images"), jpeg, NULL);
      add_filter (GTK_FILE_CHOOSER (native), _("DICOM Files"), dicom, dicom_patterns);
      add_filter (GTK_FILE_CHOOSER (native), _("All Files"), NULL, all);
    }
  set_chooser_folder (self, GTK_FILE_CHOOSER (native));

  g_signal_connect (native, "response", G_CALLBACK (on_open_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
open_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  run_chooser (PX_APPLICATION (user_data), GTK_FILE_CHOOSER_ACTION_OPEN);
}

static void
open_folder_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  run_chooser (PX_APPLICATION (user_data), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
}

// app.open-file takes a URI: the recent menu's items use it, and so can scripts.
static void
open_file_action (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  PxApplication *self = user_data;
  g_autoptr(GFile) file = g_file_new_for_uri (g_variant_get_string (param, NULL));
  PxWindow *window = get_window (self);

  px_window_open_files (window, &file, 1);
  gtk_window_present (GTK_WINDOW (window));
}

static void
privacy_change_state (GSimpleAction *action,
                      GVariant      *state,
                      gpointer       user_data)
{
  PxApplication *self = user_data;

  g_settings_set_boolean (self->settings, "privacy-mode", g_variant_get_boolean (state));
}

static void
on_privacy_changed (PxApplication *self,
                    const char    *key,
                    GSettings     *settings)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "privacy");

  g_simple_action_set_state (G_SIMPLE_ACTION (action),
                             g_variant_new_boolean (g_settings_get_boolean (settings, key)));
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  static const char *developers[] = { "The PEAC Explorer contributors", NULL };
  static const char *method[] = {
    "PEAC: Learning Anatomically Consistent Embedding for Chest Radiography (BMVC 2023)",
    NULL
  };
  PxApplication *self = user_data;
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "application-name", _("PEAC Explorer"),
                        "application-icon", APP_ID,
                        "developer-name", _("The PEAC Explorer contributors"),
                        "version", PACKAGE_VERSION,
                        "comments", _("Explore how a self-supervised model sees anatomy consistently across chest radiographs."),
                        "copyright", "© The PEAC Explorer contributors",
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "developers", developers,
                        /* Translators: replace with your names, one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);

  adw_about_window_add_acknowledgement_section (ADW_ABOUT_WINDOW (about), _("Method"), method);
  adw_about_window_add_legal_section (ADW_ABOUT_WINDOW (about),
                                      _("Sample Radiographs: Hannover Medical School"),
                                      "Institute for Diagnostic and Interventional Radiology, Hannover Medical School",
                                      GTK_LICENSE_CUSTOM,
                                      _("The hannover-*.png samples come from the COVID-19 image repository of Hannover Medical School (DOI 10.6084/m9.figshare.12275009), licensed under <a href=\"https://creativecommons.org/licenses/by/3.0/\">Creative Commons Attribution 3.0 Unported</a>."));
  adw_about_window_add_legal_section (ADW_ABOUT_WINDOW (about),
                                      _("Sample Radiographs: NIH ChestX-ray14"),
                                      "NIH Clinical Center",
                                      GTK_LICENSE_CUSTOM,
                                      _("The nih-*.png samples are from the NIH ChestX-ray14 data set (Wang et al., ChestX-ray8, IEEE CVPR 2017), provided by the NIH Clinical Center without restrictions on use."));

  gtk_window_present (GTK_WINDOW (about));
}

static void
shortcuts_action (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  PxApplication *self = user_data;
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/org/peac/Explorer/px-shortcuts-window.ui");
  GtkWindow *window = GTK_WINDOW (gtk_builder_get_object (builder, "shortcuts_window"));
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));

  // Only a help overlay learns the application's accelerators for the shortcuts that name
  // an action; a plain transient window showed none.
  if (GTK_IS_APPLICATION_WINDOW (parent))
    gtk_application_window_set_help_overlay (GTK_APPLICATION_WINDOW (parent), GTK_SHORTCUTS_WINDOW (window));
  else
    gtk_window_set_transient_for (window, parent);
  gtk_window_present (window);
}

static void
on_theme_changed (GSettings  *settings,
                  const char *key,
                  gpointer    user_data)
{
  px_preferences_apply_theme (settings);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  PxApplication *self = user_data;

  gtk_window_present (px_preferences_window_new (gtk_application_get_active_window (GTK_APPLICATION (self)),
                                                 self->settings));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  PxApplication *self = user_data;
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));

  // Closing (rather than quitting outright) lets each window save its size.
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_list_free (windows);
}

static const GActionEntry app_actions[] = {
  { "open", open_action },
  { "open-folder", open_folder_action },
  { "open-file", open_file_action, "s" },
  { "privacy", NULL, NULL, "false", privacy_change_state },
  { "about", about_action },
  { "shortcuts", shortcuts_action },
  { "preferences", preferences_action },
  { "quit", quit_action },
};

static int
compare_recent (gconstpointer a,
                gconstpointer b)
{
  GDateTime *ma = gtk_recent_info_get_modified (*(GtkRecentInfo **) a);
  GDateTime *mb = gtk_recent_info_get_modified (*(GtkRecentInfo **) b);

  return g_date_time_compare (mb, ma);
}

static void
update_recent_menu (PxApplication    *self,
                    GtkRecentManager *manager)
{
  g_autoptr(GPtrArray) infos = g_ptr_array_new_with_free_func ((GDestroyNotify) gtk_recent_info_unref);
  GList *items = gtk_recent_manager_get_items (manager);
  guint shown = 0;

  for (GList *l = items; l != NULL; l = l->next)
    {
      GtkRecentInfo *info = l->data;

      if (gtk_recent_info_has_application (info, PX_RECENT_APP_NAME) && gtk_recent_info_exists (info))
        g_ptr_array_add (infos, gtk_recent_info_ref (info));
    }
  g_list_free_full (items, (GDestroyNotify) gtk_recent_info_unref);
  g_ptr_array_sort (infos, compare_recent);

  g_menu_remove_all (self->recent_menu);
  for (guint i = 0; i < infos->len && shown < PX_RECENT_MAX_ITEMS; i++, shown++)
    {
      GtkRecentInfo *info = g_ptr_array_index (infos, i);
      g_autoptr(GMenuItem) item = NULL;
      g_autofree char *label = NULL;

      g_auto(GStrv) parts = NULL;

      // Double the underscores so that file names are not read as mnemonics.
      parts = g_strsplit (gtk_recent_info_get_display_name (info), "_", -1);
      label = g_strjoinv ("__", parts);
      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target_value (item, "app.open-file",
                                               g_variant_new_string (gtk_recent_info_get_uri (info)));
      g_menu_append_item (self->recent_menu, item);
    }

  if (shown == 0)
    g_menu_append (self->recent_menu, _("No Recent Files"), "app.no-recent");
}

static void
px_application_startup (GApplication *application)
{
  static const struct {
    const char *action;
    const char *accels[4];
  } accels[] = {
    { "app.open", { "<Control>o", NULL } },
    { "app.open-folder", { "<Control><Shift>o", NULL } },
    { "app.privacy", { "<Control><Shift>h", NULL } },
    { "app.shortcuts", { "<Control>question", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "app.quit", { "<Control>q", NULL } },
    { "win.zoom-in", { "<Control>plus", "<Control>equal", "<Control>KP_Add", NULL } },
    { "win.zoom-out", { "<Control>minus", "<Control>KP_Subtract", NULL } },
    { "win.zoom-fit", { "<Control>0", "<Control>KP_0", NULL } },
    { "win.zoom-original", { "<Control>1", "<Control>KP_1", NULL } },
    { "win.invert", { "<Control>i", NULL } },
    { "win.show-tags", { "F9", NULL } },
    { "win.close-study", { "<Control>w", NULL } },
    { "win.show-page::viewer", { "<Alt>1", NULL } },
    { "win.show-page::correspondence", { "<Alt>2", NULL } },
    { "win.show-page::grid-matching", { "<Alt>3", NULL } },
    { "win.show-page::embedding-map", { "<Alt>4", NULL } },
  };
  PxApplication *self = PX_APPLICATION (application);
  GtkRecentManager *manager;
  g_autoptr(GSimpleAction) no_recent = NULL;

  G_APPLICATION_CLASS (px_application_parent_class)->startup (application);

  g_set_application_name (_("PEAC Explorer"));
  gtk_window_set_default_icon_name (APP_ID);

  self->settings = px_settings_new ();

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  no_recent = g_simple_action_new ("no-recent", NULL);
  g_simple_action_set_enabled (no_recent, FALSE);
  g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (no_recent));

  g_signal_connect_object (self->settings, "changed::privacy-mode",
                           G_CALLBACK (on_privacy_changed), self, G_CONNECT_SWAPPED);
  on_privacy_changed (self, "privacy-mode", self->settings);
  g_signal_connect (self->settings, "changed::color-scheme", G_CALLBACK (on_theme_changed), NULL);
  px_preferences_apply_theme (self->settings);

  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action, accels[i].accels);

  manager = gtk_recent_manager_get_default ();
  g_signal_connect_object (manager, "changed", G_CALLBACK (update_recent_menu), self, G_CONNECT_SWAPPED);
  update_recent_menu (self, manager);
}

static void
px_application_activate (GApplication *application)
{
  gtk_window_present (GTK_WINDOW (get_window (PX_APPLICATION (application))));
}

static void
px_application_open (GApplication  *application,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  PxWindow *window = get_window (PX_APPLICATION (application));

  px_window_open_files (window, files, (guint) n_files);
  gtk_window_present (GTK_WINDOW (window));
}

static void
px_application_dispose (GObject *object)
{
  PxApplication *self = (PxApplication *)object;

  g_clear_object (&self->settings);
  g_clear_object (&self->recent_menu);

  G_OBJECT_CLASS (px_application_parent_class)->dispose (object);
}

static void
px_application_class_init (PxApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = px_application_dispose;

  app_class->startup = px_application_startup;
  app_class->activate = px_application_activate;
  app_class->open = px_application_open;

  px_ensure_resources ();
}

static void
px_application_init (PxApplication *self)
{
  self->recent_menu = g_menu_new ();
}

PxApplication *
px_application_new (const char        *application_id,
                    GApplicationFlags  flags)
{
  g_return_val_if_fail (application_id != NULL, NULL);

  return g_object_new (PX_TYPE_APPLICATION,
                       "application-id", application_id,
                       "flags", flags | G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/org/peac/Explorer",
                       NULL);
}

/**
 * px_application_get_recent_menu:
 *
 * Returns: (transfer none): the "Recent" menu, kept up to date with GtkRecentManager
 */
GMenuModel *
px_application_get_recent_menu (PxApplication *self)
{
  g_return_val_if_fail (PX_IS_APPLICATION (self), NULL);
  return G_MENU_MODEL (self->recent_menu);
}

/**
 * px_application_get_settings:
 *
 * Returns: (transfer none) (nullable): the app's settings, once started up
 */
GSettings *
px_application_get_settings (PxApplication *self)
{
  g_return_val_if_fail (PX_IS_APPLICATION (self), NULL);
  return self->settings;
}

/**
 * px_ensure_resources:
 *
 * Registers the app's GResource once; every class with a template calls it first.
 */
void
px_ensure_resources (void)
{
  static gsize registered;

  if (g_once_init_enter (&registered))
    {
      px_register_resource ();
      g_once_init_leave (&registered, 1);
    }
}

static GSettingsSchema *
lookup_schema (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  GSettingsSchema *schema = source ? g_settings_schema_source_lookup (source, APP_ID, TRUE) : NULL;
  g_autoptr(GSettingsSchemaSource) build = NULL;

  if (schema != NULL)
    return schema;
  // Uninstalled: the schema compiled next to the build (data/ of the build tree).
  build = g_settings_schema_source_new_from_directory (PEAC_BUILD_DIR G_DIR_SEPARATOR_S "data",
                                                       source, FALSE, NULL);
  return build ? g_settings_schema_source_lookup (build, APP_ID, FALSE) : NULL;
}

/**
 * px_settings_find_schema:
 *
 * Returns: (transfer none) (nullable): the app's settings schema, installed or from the
 *   build tree, or %NULL with @error saying where it was looked for
 */
GSettingsSchema *
px_settings_find_schema (GError **error)
{
  static GSettingsSchema *schema;
  static gsize done;

  if (g_once_init_enter (&done))
    {
      schema = lookup_schema ();
      g_once_init_leave (&done, 1);
    }
  if (schema == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("The settings schema %s is neither installed nor in the build folder %s: install the app (meson install) or set GSETTINGS_SCHEMA_DIR"),
                 APP_ID, PEAC_BUILD_DIR G_DIR_SEPARATOR_S "data");
  return schema;
}

/**
 * px_settings_new:
 *
 * The app's settings; main() has made sure the schema exists (px_settings_find_schema()).
 *
 * Returns: (transfer full): a new #GSettings
 */
GSettings *
px_settings_new (void)
{
  GSettingsSchema *schema = px_settings_find_schema (NULL);

  g_return_val_if_fail (schema != NULL, NULL);
  return g_settings_new_full (schema, NULL, NULL);
}

/**
 * px_send_notification:
 *
 * g_application_send_notification() where a session bus can carry it; without one (a
 * bare X server, a container) the notification is dropped with a debug message instead
 * of GIO's criticals.
 *
 * Returns: whether it was sent
 */
gboolean
px_send_notification (GApplication  *app,
                      const char    *id,
                      GNotification *notification)
{
  g_return_val_if_fail (G_IS_APPLICATION (app), FALSE);

  if (!g_application_get_is_registered (app) || g_application_get_dbus_connection (app) == NULL)
    {
      g_debug ("no session bus: notification %s not sent", id);
      return FALSE;
    }
  g_application_send_notification (app, id, notification);
  return TRUE;
}
