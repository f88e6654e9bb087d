// SPDX-License-Identifier: GPL-3.0-or-later
//
// The Preferences window, built in code from libadwaita 1.2 rows (no AdwSwitchRow, which
// came later): each row is bound to its GSettings key, so a change takes effect at once
// and is kept. The theme is applied through AdwStyleManager (px_preferences_apply_theme,
// also at startup and whenever the key changes). The default model is chosen with a file
// chooser and kept only once it has loaded as a model (px_model_load_async).
#include "config.h"

#include <glib/gi18n.h>

#include "model-find.h"
#include "px-model.h"
#include "px-preferences.h"

static const char *const themes[] = { "default", "light", "dark", NULL };
static const char *const modes[] = { "guided", "nearest", NULL };

// A combo row's "selected" index ↔ a string key, through the row's list of key values.
static gboolean
get_index (GValue   *value,
           GVariant *variant,
           gpointer  user_data)
{
  const char *const *values = user_data;
  const char *s = g_variant_get_string (variant, NULL);

  for (guint i = 0; values[i] != NULL; i++)
    if (g_str_equal (s, values[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
set_index (const GValue       *value,
           const GVariantType *type,
           gpointer            user_data)
{
  const char *const *values = user_data;
  guint i = g_value_get_uint (value);

  if (i >= g_strv_length ((char **) values))
    return NULL;
  return g_variant_new_string (values[i]);
}

static GtkWidget *
combo_row (GSettings          *settings,
           const char         *key,
           const char         *title,
           const char         *subtitle,
           const char *const  *labels,
           const char *const  *values)
{
  GtkWidget *row = adw_combo_row_new ();
  g_autoptr(GtkStringList) model = gtk_string_list_new (labels);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (model));
  gtk_widget_set_name (row, key);
  g_settings_bind_with_mapping (settings, key, row, "selected", G_SETTINGS_BIND_DEFAULT,
                                get_index, set_index, (gpointer) values, NULL);
  return row;
}

static GtkWidget *
switch_row (GSettings  *settings,
            const char *key,
            const char *title,
            const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *toggle = gtk_switch_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
  gtk_widget_set_name (toggle, key);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
  g_settings_bind (settings, key, toggle, "active", G_SETTINGS_BIND_DEFAULT);
  return row;
}

// The default model's row: what a new window starts with, in words.
static void
update_model_row (GSettings  *settings,
                  const char *key,
                  GtkWidget  *row)
{
  g_autofree char *path = g_settings_get_string (settings, "default-model");
  const char *env = g_getenv (PEAC_MODEL_ENV);
  g_autofree char *choice = NULL, *subtitle = NULL;
  GtkWidget *reset = g_object_get_data (G_OBJECT (row), "reset");

  /* Translators: the model the app ships with, and its file name */
  choice = *path ? g_strdup (path) : g_strdup_printf (_("The bundled model (%s)"), PEAC_MODEL_BUNDLED_NAME);
  if (env != NULL && *env != '\0')
    /* Translators: %s is a model file; PEAC_MODEL an environment variable, not to translate */
    subtitle = g_strdup_printf (_("%s — not used now: PEAC_MODEL is set and wins"), choice);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle ? subtitle : choice);
  gtk_widget_set_sensitive (reset, *path != '\0');
}

typedef struct {
  GSettings  *settings;
  GtkWindow  *window;
} ModelChoice;

static void
model_choice_free (ModelChoice *choice)
{
  g_object_unref (choice->settings);
  g_object_unref (choice->window);
  g_free (choice);
}

// Kept only when the file opens as a model; otherwise the window says why.
static void
on_default_model_loaded (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  ModelChoice *choice = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PxModel) model = px_model_load_finish (result, &error);

  if (model != NULL)
    g_settings_set_string (choice->settings, "default-model", px_model_get_path (model));
  else
    {
      /* Translators: %s is the reason a model file could not be opened */
      g_autofree char *message = g_strdup_printf (_("Not a usable model: %s"), error->message);
      g_autofree char *escaped = g_markup_escape_text (message, -1);
      AdwToast *toast = adw_toast_new (escaped);

      adw_toast_set_timeout (toast, 8);
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (choice->window), toast);
    }
  model_choice_free (choice);
}

static void
on_model_file_chosen (GtkNativeDialog *dialog,
                      int              response,
                      ModelChoice     *choice)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      px_model_load_async (file, NULL, on_default_model_loaded, choice);
    }
  else
    model_choice_free (choice);
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
choose_model (GtkButton *button,
              GSettings *settings)
{
  GtkWindow *window = GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (button)));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *chooser;
  ModelChoice *choice = g_new0 (ModelChoice, 1);

  choice->settings = g_object_ref (settings);
  choice->window = g_object_ref (window);
  chooser = gtk_file_chooser_native_new (_("Choose the Default Model"), window, GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Choose"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Model checkpoints (safetensors)"));
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_model_file_chosen), choice);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
use_bundled_model (GtkButton *button,
                   GSettings *settings)
{
  g_settings_reset (settings, "default-model");
}

static GtkWidget *
model_row (GSettings *settings)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *choose = gtk_button_new_with_mnemonic (_("_Choose…"));
  GtkWidget *reset = gtk_button_new_from_icon_name ("edit-undo-symbolic");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Default Model"));
  gtk_widget_set_name (row, "default-model");
  gtk_widget_set_name (choose, "default-model-choose");
  gtk_widget_set_name (reset, "default-model-reset");
  gtk_widget_set_tooltip_text (choose, _("Choose a model checkpoint (.safetensors) for new windows"));
  gtk_widget_set_tooltip_text (reset, _("Go back to the bundled model"));
  gtk_widget_set_valign (choose, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (reset, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (reset, "flat");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), choose);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), reset);
  g_object_set_data (G_OBJECT (row), "reset", reset);
  g_signal_connect_object (choose, "clicked", G_CALLBACK (choose_model), settings, 0);
  g_signal_connect_object (reset, "clicked", G_CALLBACK (use_bundled_model), settings, 0);
  g_signal_connect_object (settings, "changed::default-model", G_CALLBACK (update_model_row), row, 0);
  update_model_row (settings, "default-model", row);
  return row;
}

/**
 * px_preferences_window_new:
 * @parent: (nullable): the window it belongs to
 *
 * Returns: (transfer none): a new Preferences window, not yet shown
 */
GtkWindow *
px_preferences_window_new (GtkWindow *parent,
                           GSettings *settings)
{
  const char *theme_labels[] = { C_("theme", "Follow System"), C_("theme", "Light"), C_("theme", "Dark"), NULL };
  const char *mode_labels[] = { _("Guided (registration)"), _("Nearest token"), NULL };
  GtkWidget *window = adw_preferences_window_new ();
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *general = adw_preferences_group_new ();
  GtkWidget *model = adw_preferences_group_new ();
  GtkWidget *matching = adw_preferences_group_new ();
  GtkWidget *mouse = adw_preferences_group_new ();

  gtk_window_set_title (GTK_WINDOW (window), _("Preferences"));
  if (parent != NULL)
    {
      gtk_window_set_transient_for (GTK_WINDOW (window), parent);
      gtk_window_set_modal (GTK_WINDOW (window), TRUE);
    }
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (page), _("General"));
  adw_preferences_page_set_icon_name (ADW_PREFERENCES_PAGE (page), "preferences-system-symbolic");

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (general), _("Appearance and Privacy"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (general),
                             combo_row (settings, "color-scheme", _("Theme"),
                                        _("Light or dark, or as the system is set"), theme_labels, themes));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (general),
                             switch_row (settings, "privacy-mode", _("Hide Patient Identifiers"),
                                         _("Names, IDs, dates, UIDs, institution and device serials, "
                                           "everywhere and in exports")));

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (model), _("Model"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (model),
                                         _("What a new window starts with; Open Model… in the main menu "
                                           "changes the model of one window."));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (model), model_row (settings));

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (matching), _("Correspondence"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (matching),
                             combo_row (settings, "matching-mode", _("Default Matching Mode"),
                                        _("How a point is answered when the page opens: through the "
                                          "registration of the images, or by the most similar token alone"),
                                        mode_labels, modes));

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (mouse), _("Mouse"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (mouse),
                             switch_row (settings, "radiology-mouse", _("Radiology Mouse Bindings"),
                                         _("Viewer: left drag window/level, middle drag pan, right drag "
                                           "zoom, wheel next image. Off: left drag pan, right drag "
                                           "window/level, wheel zoom. The point-placing pages keep the "
                                           "left button for points.")));

  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (general));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (model));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (matching));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (mouse));
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (window), ADW_PREFERENCES_PAGE (page));
  return GTK_WINDOW (window);
}

/**
 * px_preferences_apply_theme:
 *
 * Sets the style manager's colour scheme from the "color-scheme" key.
 */
void
px_preferences_apply_theme (GSettings *settings)
{
  g_autofree char *theme = g_settings_get_string (settings, "color-scheme");
  AdwColorScheme scheme = g_str_equal (theme, "light") ? ADW_COLOR_SCHEME_FORCE_LIGHT :
                          g_str_equal (theme, "dark") ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_DEFAULT;

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), scheme);
}
