// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxWindow shows the opened studies in a sidebar, the selected one in the viewer and its
// DICOM header in a toggleable panel. Files opened by any route (file chooser, command
// line, drag and drop, recent files, folders) go through one queue that loads them one
// at a time in a worker, so the order on the command line is the order in the sidebar
// and a bad file only produces a toast. Privacy mode follows the GSettings key and is
// passed down to every view that could show an identifier. The window also owns the model
// in use (through its PxEmbedder, shared by the analysis pages; the default model loads in
// a worker while the window is already up) and the view stack that switches between the
// viewer and those pages. Opening files is px-window-open.c, the win.* actions
// px-window-actions.c; px-window-private.h holds what they share.
#include "config.h"

#include <glib/gi18n.h>

#include "px-application.h"
#include "px-study-row.h"
#include "px-window-private.h"

G_DEFINE_FINAL_TYPE (PxWindow, px_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_PRIVACY,
  PROP_LOADING,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

// The header's spinner turns while files load and while the default model does.
static void
update_spinner (PxWindow *self)
{
  gboolean busy = px_window_get_loading (self) ||
                  (self->embedder != NULL && px_embedder_get_model (self->embedder) == NULL);

  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
}

void
px_window_update_loading (PxWindow *self)
{
  gboolean loading = px_window_get_loading (self);

  update_spinner (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_LOADING]);

  // One toast per batch of files, however many failed: the reasons are behind Details.
  if (!loading && self->failures->len == 1 && !self->failures_from_folder)
    {
      px_window_show_error (self, g_ptr_array_index (self->failures, 0));
      g_ptr_array_set_size (self->failures, 0);
    }
  else if (!loading && self->failures->len > 0)
    {
      g_autofree char *message =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                      "%u file could not be opened",
                                      "%u files could not be opened",
                                      self->failures->len),
                         self->failures->len);
      g_autofree char *escaped = g_markup_escape_text (message, -1);
      AdwToast *toast = adw_toast_new (escaped);

      g_clear_pointer (&self->last_failures, g_ptr_array_unref);
      self->last_failures = g_steal_pointer (&self->failures);
      self->failures = g_ptr_array_new_with_free_func (g_free);
      adw_toast_set_timeout (toast, 8);
      adw_toast_set_button_label (toast, _("_Details"));
      adw_toast_set_action_name (toast, "win.show-load-errors");
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
    }
  if (!loading)
    self->failures_from_folder = FALSE;
}

static void
update_title (PxWindow *self)
{
  PxStudy *study = px_window_get_study (self);
  g_autofree char *summary = NULL, *title = NULL;

  if (study == NULL)
    {
      adw_view_switcher_title_set_title (self->window_title, _("PEAC Explorer"));
      adw_view_switcher_title_set_subtitle (self->window_title, NULL);
      gtk_window_set_title (GTK_WINDOW (self), _("PEAC Explorer"));
      return;
    }

  summary = px_study_dup_summary (study, self->privacy);
  title = px_study_dup_display_title (study, self->privacy);
  adw_view_switcher_title_set_title (self->window_title, title);
  adw_view_switcher_title_set_subtitle (self->window_title, summary);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static void
update_info (PxWindow *self)
{
  g_autoptr(GString) text = NULL;

  if (px_viewer_get_study (self->viewer) == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->info_label), FALSE);
      return;
    }

  text = g_string_new (NULL);
  /* Translators: zoom level of the radiograph, e.g. "125 %" */
  g_string_append_printf (text, _("%.0f %%"), px_viewer_get_zoom (self->viewer) * 100.0);
  g_string_append (text, "  ·  ");
  /* Translators: W is the window width and L the level (window centre) of the greyscale */
  g_string_append_printf (text, _("W %.0f  L %.0f"),
                          px_viewer_get_window_width (self->viewer),
                          px_viewer_get_window_center (self->viewer));
  if (px_viewer_get_inverted (self->viewer))
    {
      g_string_append (text, "  ·  ");
      g_string_append (text, _("Inverted"));
    }
  gtk_label_set_text (self->info_label, text->str);
  gtk_widget_set_visible (GTK_WIDGET (self->info_label), TRUE);

  g_action_group_change_action_state (G_ACTION_GROUP (self), "invert",
                                      g_variant_new_boolean (px_viewer_get_inverted (self->viewer)));
}

static void
update_presets (PxWindow *self)
{
  PxStudy *study = px_window_get_study (self);
  const PxImage *image = study ? px_study_get_image (study) : NULL;
  g_autoptr(GMenuItem) item = NULL;

  g_menu_remove_all (self->presets_section);

  item = g_menu_item_new (_("_Default"), NULL);
  g_menu_item_set_action_and_target_value (item, "win.window-preset", g_variant_new_string ("default"));
  g_menu_append_item (self->presets_section, item);
  g_clear_object (&item);

  item = g_menu_item_new (_("Full _Range"), NULL);
  g_menu_item_set_action_and_target_value (item, "win.window-preset", g_variant_new_string ("full"));
  g_menu_append_item (self->presets_section, item);
  g_clear_object (&item);

  for (int i = 0; image != NULL && i < image->n_windows; i++)
    {
      const PxWindowPreset *preset = &image->windows[i];
      g_autofree char *name = NULL;
      g_autofree char *label = NULL;
      char target[16];

      if (preset->explanation != NULL && *preset->explanation != '\0')
        name = g_strdup (preset->explanation);
      else
        /* Translators: a window/level preset stored in a DICOM file without a name */
        name = g_strdup_printf (_("Preset %d"), i + 1);
      /* Translators: preset name, then its window width and level */
      label = g_strdup_printf (_("%s (W %g, L %g)"), name, preset->width, preset->center);
      g_snprintf (target, sizeof target, "%d", i);

      item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target_value (item, "win.window-preset", g_variant_new_string (target));
      g_menu_append_item (self->presets_section, item);
      g_clear_object (&item);
    }
}

static void
update_actions (PxWindow *self)
{
  static const char * const image_actions[] = {
    "zoom-in", "zoom-out", "zoom-fit", "zoom-original", "invert", "window-preset", "close-study",
  };
  gboolean has_study = px_window_get_study (self) != NULL;

  for (guint i = 0; i < G_N_ELEMENTS (image_actions); i++)
    {
      GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), image_actions[i]);
      g_simple_action_set_enabled (G_SIMPLE_ACTION (action), has_study);
    }
}

static void
on_selected_item_changed (PxWindow           *self,
                          GParamSpec         *pspec,
                          GtkSingleSelection *selection)
{
  PxStudy *study = px_window_get_study (self);

  px_viewer_set_study (self->viewer, study);
  px_tag_panel_set_study (self->tag_panel, study);
  update_title (self);
  update_presets (self);
  update_actions (self);
  update_info (self);
}

static void
on_studies_changed (PxWindow   *self,
                    guint       position,
                    guint       removed,
                    guint       added,
                    GListModel *model)
{
  gtk_stack_set_visible_child_name (self->stack,
                                    g_list_model_get_n_items (model) > 0 ? "studies" : "empty");
}

static void
setup_study_row (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 PxWindow                 *self)
{
  GtkWidget *row = px_study_row_new ();

  g_object_bind_property (self, "privacy", row, "privacy", G_BINDING_SYNC_CREATE);
  gtk_list_item_set_child (item, row);
}

static void
bind_study_row (GtkSignalListItemFactory *factory,
                GtkListItem              *item,
                PxWindow                 *self)
{
  px_study_row_set_study (PX_STUDY_ROW (gtk_list_item_get_child (item)),
                          gtk_list_item_get_item (item));
}

static void
unbind_study_row (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  PxWindow                 *self)
{
  px_study_row_set_study (PX_STUDY_ROW (gtk_list_item_get_child (item)), NULL);
}

static void
update_model (PxWindow *self)
{
  PxModel *model = px_embedder_get_model (self->embedder);
  GAction *use_micro = g_action_map_lookup_action (G_ACTION_MAP (self), "use-micro-model");
  GAction *use_as_default = g_action_map_lookup_action (G_ACTION_MAP (self), "use-model-as-default");
  g_autofree char *summary = NULL;
  int size, gh = 0, gw = 0, dim = 0;

  update_spinner (self);
  if (model == NULL)
    {
      gtk_label_set_text (self->model_name_label, _("Loading the default model…"));
      gtk_label_set_text (self->model_summary_label, "");
      gtk_label_set_text (self->model_description_label, "");
      g_simple_action_set_enabled (G_SIMPLE_ACTION (use_micro), FALSE);
      g_simple_action_set_enabled (G_SIMPLE_ACTION (use_as_default), FALSE);
      return;
    }

  size = px_model_get_input_size (model);
  px_model_get_grid (model, &gh, &gw, &dim);
  /* Translators: the model in use: input size in pixels, its token grid, trained or not */
  summary = g_strdup_printf (_("Input %d × %d px, token grid %d × %d. %s"), size, size, gh, gw,
                             px_model_get_trained (model) ? _("Trained.")
                                                          : _("Untrained (random weights): for trying the pages out."));
  gtk_label_set_text (self->model_name_label, px_model_get_name (model));
  gtk_label_set_text (self->model_summary_label, summary);
  gtk_label_set_text (self->model_description_label, px_model_get_description (model));
  g_simple_action_set_enabled (G_SIMPLE_ACTION (use_micro), px_model_get_trained (model));
  g_simple_action_set_enabled (G_SIMPLE_ACTION (use_as_default), px_model_get_path (model) != NULL);
}

static void
update_embedding (PxWindow *self)
{
  gboolean busy = px_embedder_get_busy (self->embedder);

  gtk_widget_set_visible (self->embedding_box, busy);
  gtk_progress_bar_set_fraction (self->embedding_progress, px_embedder_get_progress (self->embedder));
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self), "cancel-embedding")),
                               busy);
}

static void
on_embedding_failed (PxWindow   *self,
                     PxStudy    *study,
                     const char *reason,
                     PxEmbedder *embedder)
{
  /* Translators: the first %s is a radiograph's name, the second the reason */
  g_autofree char *title = px_study_dup_display_title (study, self->privacy);
  g_autofree char *message = g_strdup_printf (_("Could not embed “%s”: %s"), title, reason);

  px_window_show_error (self, message);
}

static void
on_open_point (PxWindow           *self,
               const char         *path,
               double              x,
               double              y,
               PxEmbeddingMapPage *page)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  int found = px_window_find_study (self, file);

  g_set_object (&self->focus_file, file);
  self->focus_x = x;
  self->focus_y = y;
  if (found >= 0)
    {
      g_autoptr(PxStudy) study = g_list_model_get_item (G_LIST_MODEL (self->studies), found);
      px_window_apply_focus (self, study);
    }
  else
    px_window_open_files (self, &file, 1);
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         PxWindow      *self)
{
  GSList *list = gdk_file_list_get_files (g_value_get_boxed (value));
  g_autoptr(GPtrArray) files = g_ptr_array_new ();

  for (GSList *l = list; l != NULL; l = l->next)
    g_ptr_array_add (files, l->data);
  g_slist_free (list);

  if (files->len == 0)
    return FALSE;

  px_window_open_files (self, (GFile **) files->pdata, files->len);
  return TRUE;
}

static gboolean
px_window_close_request (GtkWindow *window)
{
  PxWindow *self = PX_WINDOW (window);
  int width, height;

  // Unsaved pins, then a training run, ask first.
  if (!self->discard_confirmed && px_window_ask_discard_pins (self, NULL))
    return TRUE;
  if (px_train_page_confirm_close (self->train_page))
    return TRUE;

  g_cancellable_cancel (self->cancellable);

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  if (!gtk_window_is_maximized (window) && width > 0 && height > 0)
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }

  return GTK_WINDOW_CLASS (px_window_parent_class)->close_request (window);
}

// GtkWindow:application is not a construct property: it is set after constructed(), so the
// application's recent menu is attached when the property changes, once.
static void
on_application_changed (PxWindow   *self,
                        GParamSpec *pspec,
                        gpointer    data)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  GMenuModel *recent;

  if (!PX_IS_APPLICATION (app) || g_menu_model_get_n_items (G_MENU_MODEL (self->recent_menu)) > 0)
    return;
  recent = px_application_get_recent_menu (PX_APPLICATION (app));
  g_menu_append_section (self->recent_menu, NULL, recent);
  g_menu_append_section (self->recent_submenu, NULL, recent);
}

static void
px_window_dispose (GObject *object)
{
  PxWindow *self = (PxWindow *)object;

  g_cancellable_cancel (self->cancellable);
  if (self->embedder != NULL)
    px_embedder_cancel (self->embedder);
  px_window_clear_pending (self);
  // The settings-backed action outlives a closed window unless removed: it would go on
  // reporting state changes to the window's dead action group.
  g_action_map_remove_action (G_ACTION_MAP (self), "show-tags");

  gtk_widget_dispose_template (GTK_WIDGET (self), PX_TYPE_WINDOW);
  g_clear_object (&self->embedder);
  g_clear_object (&self->focus_file);

  G_OBJECT_CLASS (px_window_parent_class)->dispose (object);
}

static void
px_window_finalize (GObject *object)
{
  PxWindow *self = (PxWindow *)object;

  g_clear_object (&self->settings);
  g_clear_object (&self->studies);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->failures, g_ptr_array_unref);
  g_clear_pointer (&self->last_failures, g_ptr_array_unref);

  G_OBJECT_CLASS (px_window_parent_class)->finalize (object);
}

static void
px_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PxWindow *self = PX_WINDOW (object);

  switch (prop_id)
    {
    case PROP_PRIVACY:
      g_value_set_boolean (value, self->privacy);
      break;

    case PROP_LOADING:
      g_value_set_boolean (value, px_window_get_loading (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PxWindow *self = PX_WINDOW (object);

  switch (prop_id)
    {
    case PROP_PRIVACY:
      if (self->privacy != g_value_get_boolean (value))
        {
          self->privacy = g_value_get_boolean (value);
          update_title (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_window_class_init (PxWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = px_window_dispose;
  object_class->finalize = px_window_finalize;
  object_class->get_property = px_window_get_property;
  object_class->set_property = px_window_set_property;

  window_class->close_request = px_window_close_request;

  properties [PROP_PRIVACY] =
    g_param_spec_boolean ("privacy", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (PX_TYPE_VIEWER);
  g_type_ensure (PX_TYPE_VIEWER_COMPARE);
  g_type_ensure (PX_TYPE_TAG_PANEL);
  g_type_ensure (PX_TYPE_CORRESPONDENCE_PAGE);
  g_type_ensure (PX_TYPE_EMBEDDING_MAP_PAGE);
  g_type_ensure (PX_TYPE_GRID_MATCHING_PAGE);
  g_type_ensure (PX_TYPE_TRAIN_PAGE);
  g_type_ensure (PX_TYPE_PROBE_PAGE);

  px_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class, "/org/peac/Explorer/px-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PxWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, correspondence_page);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, embedding_map_page);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, grid_matching_page);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, train_page);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, probe_page);
  gtk_widget_class_bind_template_callback (widget_class, on_open_point);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, model_name_label);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, model_description_label);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, model_summary_label);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, embedding_box);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, embedding_progress);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, study_list);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, selection);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, viewer);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, compare);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, info_label);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, tags_revealer);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, tag_panel);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, presets_section);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, recent_menu);
  gtk_widget_class_bind_template_child (widget_class, PxWindow, recent_submenu);
  gtk_widget_class_bind_template_callback (widget_class, on_selected_item_changed);
  gtk_widget_class_bind_template_callback (widget_class, setup_study_row);
  gtk_widget_class_bind_template_callback (widget_class, bind_study_row);
  gtk_widget_class_bind_template_callback (widget_class, unbind_study_row);
  gtk_widget_class_bind_template_callback (widget_class, update_info);
}

// The default model, from its worker. The window holds only a weak reference meanwhile, and
// its dispose cancels the load, so a window closed first is never touched here.
static void
on_default_model_loaded (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  GWeakRef *weak = user_data;
  g_autoptr(PxWindow) self = g_weak_ref_get (weak);
  g_autoptr(GError) error = NULL;
  g_autoptr(PxModel) model = px_model_new_default_finish (result, &error);

  g_weak_ref_clear (weak);
  g_free (weak);
  // Cancelled (the window closes), or a model chosen meanwhile (Open Model…) stays.
  if (model == NULL || self == NULL || px_embedder_get_model (self->embedder) != NULL)
    return;
  px_embedder_set_model (self->embedder, model);
  if (error != NULL)
    {
      /* Translators: why the default model failed, then the model used instead */
      g_autofree char *message = g_strdup_printf (_("%s. Using “%s” instead."), error->message,
                                                  px_model_get_name (model));

      px_window_show_error (self, message);
    }
}

// The wheel under the radiology mouse bindings: the next or previous study, no wrap.
static void
on_viewer_step (PxWindow *self,
                int       direction)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->studies));
  guint selected = gtk_single_selection_get_selected (self->selection);

  if (selected == GTK_INVALID_LIST_POSITION || n == 0)
    return;
  if ((direction > 0 && selected + 1 < n) || (direction < 0 && selected > 0))
    gtk_single_selection_set_selected (self->selection, selected + (direction > 0 ? 1 : -1));
}

static void
px_window_init (PxWindow *self)
{
  g_autoptr(GAction) show_tags = NULL;
  g_autofree char *default_model = NULL;
  GWeakRef *weak;
  GtkDropTarget *drop;
  int width, height;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = px_settings_new ();
  self->studies = g_list_store_new (PX_TYPE_STUDY);
  self->cancellable = g_cancellable_new ();
  self->failures = g_ptr_array_new_with_free_func (g_free);
  // No model until the default one has loaded in a worker (on_default_model_loaded).
  self->embedder = px_embedder_new_with_model (NULL);
  g_queue_init (&self->pending);

  px_window_add_actions (self);
  show_tags = g_settings_create_action (self->settings, "show-tags");
  g_action_map_add_action (G_ACTION_MAP (self), show_tags);

  g_settings_bind (self->settings, "privacy-mode", self, "privacy", G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "show-tags", self->tags_revealer, "reveal-child", G_SETTINGS_BIND_GET);
  g_object_bind_property (self, "privacy", self->tag_panel, "privacy", G_BINDING_SYNC_CREATE);

  width = g_settings_get_int (self->settings, "window-width");
  height = g_settings_get_int (self->settings, "window-height");
  gtk_window_set_default_size (GTK_WINDOW (self), MAX (width, 360), MAX (height, 294));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  g_signal_connect (self, "notify::application", G_CALLBACK (on_application_changed), NULL);
  g_settings_bind (self->settings, "radiology-mouse", self->viewer, "radiology-mouse", G_SETTINGS_BIND_GET);
  g_signal_connect_object (self->viewer, "step", G_CALLBACK (on_viewer_step), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->studies, "items-changed", G_CALLBACK (on_studies_changed),
                           self, G_CONNECT_SWAPPED);
  gtk_single_selection_set_model (self->selection, G_LIST_MODEL (self->studies));

  px_correspondence_page_set_studies (self->correspondence_page, G_LIST_MODEL (self->studies));
  px_correspondence_page_set_embedder (self->correspondence_page, self->embedder);
  g_object_bind_property (self, "privacy", self->correspondence_page, "privacy", G_BINDING_SYNC_CREATE);
  px_embedding_map_page_set_embedder (self->embedding_map_page, self->embedder);
  px_grid_matching_page_set_studies (self->grid_matching_page, G_LIST_MODEL (self->studies));
  px_grid_matching_page_set_embedder (self->grid_matching_page, self->embedder);
  px_train_page_set_embedder (self->train_page, self->embedder);
  px_probe_page_set_embedder (self->probe_page, self->embedder);
  px_embedding_map_page_set_correspondence_page (self->embedding_map_page, self->correspondence_page);
  // The viewer's side-by-side comparison (win.compare) and its linked crosshair.
  px_viewer_compare_setup (self->compare, self->viewer, G_LIST_MODEL (self->studies), self->embedder);
  g_object_bind_property (self, "privacy", self->compare, "privacy", G_BINDING_SYNC_CREATE);
  g_settings_bind (self->settings, "radiology-mouse", px_viewer_compare_get_viewer (self->compare),
                   "radiology-mouse", G_SETTINGS_BIND_GET);
  {
    g_autoptr(GPropertyAction) compare = g_property_action_new ("compare", self->compare, "active");

    g_action_map_add_action (G_ACTION_MAP (self), G_ACTION (compare));
  }
  g_object_bind_property (self, "privacy", self->embedding_map_page, "privacy", G_BINDING_SYNC_CREATE);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  g_signal_connect_object (self->embedder, "notify::model", G_CALLBACK (update_model),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->embedder, "notify::busy", G_CALLBACK (update_embedding),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->embedder, "notify::progress", G_CALLBACK (update_embedding),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->embedder, "failed", G_CALLBACK (on_embedding_failed),
                           self, G_CONNECT_SWAPPED);

  on_selected_item_changed (self, NULL, self->selection);
  px_window_update_loading (self);
  update_model (self);
  update_embedding (self);

  // The Preferences' default model, unless $PEAC_MODEL says otherwise (px_model_new_default).
  default_model = g_settings_get_string (self->settings, "default-model");
  weak = g_new0 (GWeakRef, 1);
  g_weak_ref_init (weak, self);
  px_model_new_default_async (default_model, self->cancellable, on_default_model_loaded, weak);
}

PxWindow *
px_window_new (GtkApplication *application)
{
  return g_object_new (PX_TYPE_WINDOW, "application", application, NULL);
}

/**
 * px_window_open_files:
 * @files: (array length=n_files): files or folders
 *
 * Loads @files in the background, in order, adding each readable radiograph to the
 * sidebar and showing the first. Folders are searched recursively. Failures are shown
 * as toasts; nothing already open is affected.
 */
/**
 * px_window_get_studies:
 *
 * Returns: (transfer none): the open studies, a #GListModel of #PxStudy
 */
GListModel *
px_window_get_studies (PxWindow *self)
{
  g_return_val_if_fail (PX_IS_WINDOW (self), NULL);
  return G_LIST_MODEL (self->studies);
}

/**
 * px_window_get_study:
 *
 * Returns: (transfer none) (nullable): the study shown in the viewer
 */
PxStudy *
px_window_get_study (PxWindow *self)
{
  g_return_val_if_fail (PX_IS_WINDOW (self), NULL);
  return gtk_single_selection_get_selected_item (self->selection);
}

/**
 * px_window_get_viewer:
 *
 * Returns: (transfer none): the window's viewer
 */
PxViewer *
px_window_get_viewer (PxWindow *self)
{
  g_return_val_if_fail (PX_IS_WINDOW (self), NULL);
  return self->viewer;
}

/**
 * px_window_get_embedder:
 *
 * Returns: (transfer none): the model in use and the studies' token grids
 */
PxEmbedder *
px_window_get_embedder (PxWindow *self)
{
  g_return_val_if_fail (PX_IS_WINDOW (self), NULL);
  return self->embedder;
}

/**
 * px_window_get_correspondence_page:
 *
 * Returns: (transfer none): the correspondence page
 */
PxCorrespondencePage *
px_window_get_correspondence_page (PxWindow *self)
{
  g_return_val_if_fail (PX_IS_WINDOW (self), NULL);
  return self->correspondence_page;
}

/**
 * px_window_get_embedding_map_page:
 *
 * Returns: (transfer none): the embedding map page
 */
PxEmbeddingMapPage *
px_window_get_embedding_map_page (PxWindow *self)
{
  g_return_val_if_fail (PX_IS_WINDOW (self), NULL);
  return self->embedding_map_page;
}

/**
 * px_window_get_grid_matching_page:
 *
 * Returns: (transfer none): the grid-matching page
 */
PxGridMatchingPage *
px_window_get_grid_matching_page (PxWindow *self)
{
  g_return_val_if_fail (PX_IS_WINDOW (self), NULL);
  return self->grid_matching_page;
}

/**
 * px_window_get_train_page:
 *
 * Returns: (transfer none): the training page
 */
PxTrainPage *
px_window_get_train_page (PxWindow *self)
{
  g_return_val_if_fail (PX_IS_WINDOW (self), NULL);
  return self->train_page;
}

/**
 * px_window_show_page:
 * @name: "viewer", "correspondence", "grid-matching" or "embedding-map"
 */
void
px_window_show_page (PxWindow   *self,
                     const char *name)
{
  g_return_if_fail (PX_IS_WINDOW (self));
  g_action_group_activate_action (G_ACTION_GROUP (self), "show-page", g_variant_new_string (name));
}

gboolean
px_window_get_loading (PxWindow *self)
{
  g_return_val_if_fail (PX_IS_WINDOW (self), FALSE);
  return self->load_in_flight || self->n_scans > 0 || self->pending.length > 0;
}

void
px_window_show_error (PxWindow   *self,
                      const char *message)
{
  px_window_show_toast (self, message);
}

/**
 * px_window_show_toast:
 *
 * Shows @message (plain text) in a toast for eight seconds.
 */
void
px_window_show_toast (PxWindow   *self,
                      const char *message)
{
  g_autofree char *escaped = NULL;
  AdwToast *toast;

  g_return_if_fail (PX_IS_WINDOW (self));
  g_return_if_fail (message != NULL);

  // libadwaita 1.2 always parses toast titles as markup; file names may contain '&'.
  escaped = g_markup_escape_text (message, -1);
  toast = adw_toast_new (escaped);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}
