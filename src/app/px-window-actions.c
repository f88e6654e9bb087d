// SPDX-License-Identifier: GPL-3.0-or-later
//
// The win.* actions of PxWindow: the viewer's zoom, inversion and window presets, closing
// a study (asking first when it holds unsaved pins), the model in use (open a file, make
// it the default model, the micro model, cancel embedding), the load errors' Details and switching pages.
#include "config.h"

#include <glib/gi18n.h>

#include "px-window-private.h"

// The Details of the last batch's toast: every file that failed, with the reason.
static void
show_load_errors_action (GSimpleAction *action,
                         GVariant      *param,
                         gpointer       user_data)
{
  PxWindow *self = user_data;
  g_autoptr(GString) body = g_string_new (NULL);
  GtkWidget *dialog;

  for (guint i = 0; self->last_failures != NULL && i < self->last_failures->len; i++)
    g_string_append_printf (body, "%s%s", i > 0 ? "\n" : "", (char *) g_ptr_array_index (self->last_failures, i));
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Files That Could Not Be Opened"), body->str);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
zoom_in_action (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  px_viewer_zoom_in (PX_WINDOW (user_data)->viewer);
}

static void
zoom_out_action (GSimpleAction *action,
                 GVariant      *param,
                 gpointer       user_data)
{
  px_viewer_zoom_out (PX_WINDOW (user_data)->viewer);
}

static void
zoom_fit_action (GSimpleAction *action,
                 GVariant      *param,
                 gpointer       user_data)
{
  px_viewer_zoom_to_fit (PX_WINDOW (user_data)->viewer);
}

static void
zoom_original_action (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  px_viewer_set_zoom (PX_WINDOW (user_data)->viewer, 1.0);
}

static void
invert_change_state (GSimpleAction *action,
                     GVariant      *state,
                     gpointer       user_data)
{
  px_viewer_set_inverted (PX_WINDOW (user_data)->viewer, g_variant_get_boolean (state));
  g_simple_action_set_state (action, state);
}

static void
window_preset_action (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  PxWindow *self = user_data;
  PxStudy *study = px_window_get_study (self);
  const char *which = g_variant_get_string (param, NULL);
  const PxImage *image;
  guint64 index;

  if (study == NULL)
    return;
  image = px_study_get_image (study);

  if (g_str_equal (which, "default"))
    px_viewer_reset_window (self->viewer);
  else if (g_str_equal (which, "full"))
    px_viewer_set_full_range (self->viewer);
  else if (g_ascii_string_to_unsigned (which, 10, 0, G_MAXINT, &index, NULL) &&
           index < (guint64) image->n_windows)
    px_viewer_set_window (self->viewer, image->windows[index].center, image->windows[index].width);
}

static void
on_discard_response (AdwMessageDialog *dialog,
                     const char       *response,
                     gpointer          data)
{
  g_autoptr(PxWindow) self = data;
  PxStudy *study = g_object_get_data (G_OBJECT (dialog), "px-study");
  int found;

  if (!g_str_equal (response, "discard"))
    return;
  if (study == NULL)
    {
      self->discard_confirmed = TRUE;
      gtk_window_close (GTK_WINDOW (self));
    }
  else if ((found = px_window_find_study (self, px_study_get_file (study))) >= 0)
    g_list_store_remove (self->studies, (guint) found);
}

// Pins placed on the correspondence page and not saved are not thrown away unasked: closing
// @study (or, with %NULL, the window) asks first.
gboolean
px_window_ask_discard_pins (PxWindow *self,
                            PxStudy  *study)
{
  GtkWidget *dialog;

  if (!px_correspondence_page_get_unsaved (self->correspondence_page, study))
    return FALSE;
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Discard Unsaved Points?"),
                                   study != NULL
                                   ? _("The points placed on this radiograph on the Correspondence page have not been saved. Closing it discards them.")
                                   : _("Points placed on the Correspondence page have not been saved. Closing the window discards them."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "discard", _("_Discard"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "discard",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  if (study != NULL)
    g_object_set_data_full (G_OBJECT (dialog), "px-study", g_object_ref (study), g_object_unref);
  g_signal_connect (dialog, "response", G_CALLBACK (on_discard_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

static void
close_study_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  PxWindow *self = user_data;
  guint selected = gtk_single_selection_get_selected (self->selection);

  if (selected != GTK_INVALID_LIST_POSITION &&
      !px_window_ask_discard_pins (self, gtk_single_selection_get_selected_item (self->selection)))
    g_list_store_remove (self->studies, selected);
}

static void
on_model_loaded (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PxWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PxModel) model = px_model_load_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (model == NULL)
    {
      /* Translators: %s is the reason a model checkpoint could not be opened */
      g_autofree char *message = g_strdup_printf (_("Could not open the model: %s"), error->message);
      px_window_show_error (self, message);
      return;
    }
  px_embedder_set_model (self->embedder, model);
  {
    /* Translators: %s is a model checkpoint's file name */
    g_autofree char *message = g_strdup_printf (_("Model “%s” in use"), px_model_get_name (model));
    g_autofree char *escaped = g_markup_escape_text (message, -1);
    AdwToast *toast = adw_toast_new (escaped);

    adw_toast_set_timeout (toast, 8);
    adw_toast_set_button_label (toast, _("Use as _Default"));
    adw_toast_set_action_name (toast, "win.use-model-as-default");
    adw_toast_overlay_add_toast (self->toast_overlay, toast);
  }
}

// The model in use becomes the Preferences' default model (the "default-model" key).
static void
use_model_as_default_action (GSimpleAction *action,
                             GVariant      *param,
                             gpointer       user_data)
{
  PxWindow *self = user_data;
  const char *path = px_model_get_path (px_embedder_get_model (self->embedder));

  if (path != NULL)
    g_settings_set_string (self->settings, "default-model", path);
}

static void
on_model_chosen (GtkNativeDialog *dialog,
                 int              response,
                 PxWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      px_window_open_model (self, file);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
open_model_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  PxWindow *self = user_data;
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Open Model"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Model checkpoints (safetensors)"));
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_model_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
use_micro_model_action (GSimpleAction *action,
                        GVariant      *param,
                        gpointer       user_data)
{
  PxWindow *self = user_data;
  g_autoptr(PxModel) model = px_model_new_micro ();

  px_embedder_set_model (self->embedder, model);
}

static void
cancel_embedding_action (GSimpleAction *action,
                         GVariant      *param,
                         gpointer       user_data)
{
  px_embedder_cancel (PX_WINDOW (user_data)->embedder);
}

static void
show_page_action (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  PxWindow *self = user_data;
  const char *name = g_variant_get_string (param, NULL);

  if (adw_view_stack_get_child_by_name (self->view_stack, name) != NULL)
    adw_view_stack_set_visible_child_name (self->view_stack, name);
}

static const GActionEntry win_actions[] = {
  { "zoom-in", zoom_in_action },
  { "zoom-out", zoom_out_action },
  { "zoom-fit", zoom_fit_action },
  { "zoom-original", zoom_original_action },
  { "invert", NULL, NULL, "false", invert_change_state },
  { "window-preset", window_preset_action, "s" },
  { "close-study", close_study_action },
  { "open-model", open_model_action },
  { "use-micro-model", use_micro_model_action },
  { "use-model-as-default", use_model_as_default_action },
  { "cancel-embedding", cancel_embedding_action },
  { "show-page", show_page_action, "s" },
  { "show-load-errors", show_load_errors_action },
};

void
px_window_add_actions (PxWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);
}

/**
 * px_window_open_model:
 *
 * Loads a safetensors checkpoint in the background and makes it the model in use; a file
 * that is not a usable model leaves the current one and shows why in a toast.
 */
void
px_window_open_model (PxWindow *self,
                      GFile    *file)
{
  g_return_if_fail (PX_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  px_model_load_async (file, self->cancellable, on_model_loaded, g_object_ref (self));
}
