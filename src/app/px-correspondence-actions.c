// SPDX-License-Identifier: GPL-3.0-or-later
//
// The correspondence page's actions (the corr.* group): view toggles, the query, pins,
// undo and redo, exports, Save and Load Landmarks, and Propagate from References. Each
// handler only turns its parameter into a call on the page's state
// (px-correspondence-page-private.h).
#include "config.h"

#include <glib/gi18n.h>

#include "px-application.h"
#include "px-correspondence-page-private.h"
#include "px-export.h"
#include "px-landmark-save.h"
#include "px-propagate-dialog.h"

static void
toggle_change_state (GSimpleAction *action,
                     GVariant      *state,
                     gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  g_simple_action_set_state (action, state);
  _px_correspondence_page_update_buddies (self);
  _px_correspondence_page_refresh (self);
}

static void
query_cell_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;
  const PxMatchPanel *src = &self->scene.panels[0];
  int row, col;

  g_variant_get (param, "(ii)", &row, &col);
  if (self->scene.n_panels == 0)
    return;
  row = CLAMP (row, 0, src->gh - 1);
  col = CLAMP (col, 0, src->gw - 1);
  _px_correspondence_page_set_query (self, (col + 0.5) * src->width / src->gw, (row + 0.5) * src->height / src->gh);
}

static void
query_point_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  double x, y;

  g_variant_get (param, "(dd)", &x, &y);
  _px_correspondence_page_set_query (user_data, x, y);
}

static void
move_query_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  int drow, dcol;

  g_variant_get (param, "(ii)", &drow, &dcol);
  _px_correspondence_page_move_query_cells (user_data, drow, dcol);
}

static void
toggle_target_action (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;
  g_autoptr(PxStudy) study = NULL;
  guint index = (guint) g_variant_get_int32 (param);

  if (self->studies == NULL || index >= g_list_model_get_n_items (self->studies))
    return;
  study = g_list_model_get_item (self->studies, index);
  if (!g_hash_table_remove (self->excluded, study))
    g_hash_table_add (self->excluded, g_object_ref (study));
  _px_correspondence_page_rebuild (self);
}

static void
pin_action (GSimpleAction *action,
            GVariant      *param,
            gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  if (self->scene.has_query)
    {
      _px_correspondence_page_record_pins (self);
      _px_correspondence_page_add_pin (self, NULL, self->scene.qx, self->scene.qy, -1);
      _px_correspondence_page_refresh (self);
    }
}

static void
clear_pins_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  if (self->scene.pins->len > 0)
    _px_correspondence_page_record_pins (self);
  g_array_set_size (self->scene.pins, 0);
  self->pin_counter = 0;
  _px_correspondence_page_refresh (self);
}

static void
mode_change_state (GSimpleAction *action,
                   GVariant      *state,
                   gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  g_simple_action_set_state (action, state);
  self->mode = MAX (peac_match_mode_parse (g_variant_get_string (state, NULL)), PEAC_MATCH_GUIDED);
  _px_correspondence_page_answer_all (self);
}

static void
opacity_action (GSimpleAction *action,
                GVariant      *param,
                gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  gtk_adjustment_set_value (self->opacity, g_variant_get_double (param));
}

static void
export_view_chosen (gpointer    data,
                    GFile      *file,
                    const char *format)
{
  PxCorrespondencePage *self = data;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GError) error = NULL;
  double w = MAX (gtk_widget_get_width (GTK_WIDGET (self->area)), 800);
  double h = MAX (gtk_widget_get_height (GTK_WIDGET (self->area)), 500);

  if (!px_correspondence_page_export_view (self, path, format, w, h, &error))
    _px_correspondence_page_show_error (self, error->message);
}

static void
export_points_chosen (gpointer    data,
                      GFile      *file,
                      const char *format)
{
  PxCorrespondencePage *self = data;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GError) error = NULL;

  if (!px_correspondence_page_export_points (self, path, format, &error))
    _px_correspondence_page_show_error (self, error->message);
}

static void
load_landmarks_chosen (gpointer    data,
                       GFile      *file,
                       const char *format)
{
  PxCorrespondencePage *self = data;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GError) error = NULL;

  if (!px_correspondence_page_load_landmarks (self, path, &error))
    _px_correspondence_page_show_error (self, error->message);
}

static void
export_view_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  const char *format = g_variant_get_string (param, NULL);
  g_autofree char *name = g_strdup_printf ("correspondence.%s", format);

  px_export_choose_file (user_data, _("Export View"), GTK_FILE_CHOOSER_ACTION_SAVE, name, format,
                         export_view_chosen, user_data);
}

static void
export_points_action (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  const char *format = g_variant_get_string (param, NULL);
  g_autofree char *name = g_strdup_printf ("points.%s", format);

  px_export_choose_file (user_data, _("Export Points"), GTK_FILE_CHOOSER_ACTION_SAVE, name, format,
                         export_points_chosen, user_data);
}

static void
save_landmarks_action (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  px_landmark_save_choose (user_data);
}

static void
load_landmarks_action (GSimpleAction *action,
                       GVariant      *param,
                       gpointer       user_data)
{
  px_export_choose_file (user_data, _("Load Landmarks of the Source"), GTK_FILE_CHOOSER_ACTION_OPEN,
                         NULL, NULL, load_landmarks_chosen, user_data);
}

static void
undo_redo_action (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  _px_correspondence_page_undo_redo (user_data, g_str_equal (g_action_get_name (G_ACTION (action)), "undo"));
}

static void
propagate_action (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  PxPropagateDialog *dialog = px_propagate_dialog_new (self);

  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (dialog));
}

static const GActionEntry page_actions[] = {
  { "grid", NULL, NULL, "false", toggle_change_state },
  { "heatmap", NULL, NULL, "false", toggle_change_state },
  { "buddies", NULL, NULL, "false", toggle_change_state },
  { "landmarks", NULL, NULL, "false", toggle_change_state },
  { "mode", NULL, "s", "'guided'", mode_change_state },
  { "query-cell", query_cell_action, "(ii)" },
  { "query-point", query_point_action, "(dd)" },
  { "move-query", move_query_action, "(ii)" },
  { "opacity", opacity_action, "d" },
  { "pin", pin_action },
  { "toggle-target", toggle_target_action, "i" },
  { "clear-pins", clear_pins_action },
  { "export-view", export_view_action, "s" },
  { "export-points", export_points_action, "s" },
  { "save-landmarks", save_landmarks_action },
  { "load-landmarks", load_landmarks_action },
  { "propagate", propagate_action },
  { "undo", undo_redo_action },
  { "redo", undo_redo_action },
};

void
_px_correspondence_page_actions_init (PxCorrespondencePage *self)
{
  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), page_actions,
                                   G_N_ELEMENTS (page_actions), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "corr", G_ACTION_GROUP (self->actions));

  // The default matching mode of the Preferences window (px-preferences.c).
  if (PX_IS_APPLICATION (g_application_get_default ()) &&
      px_application_get_settings (PX_APPLICATION (g_application_get_default ())) != NULL)
    {
      GSettings *settings = px_application_get_settings (PX_APPLICATION (g_application_get_default ()));
      g_autofree char *mode = g_settings_get_string (settings, "matching-mode");

      if (!g_str_equal (mode, "guided"))
        g_action_group_change_action_state (G_ACTION_GROUP (self->actions), "mode", g_variant_new_string (mode));
    }
}
