// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxViewerCompare owns the comparison pane of the viewer page (win.compare shows it): a
// header with the compared image's list, the Link toggle and a spinner, a status line, and
// a second PxViewer. With Link on, the pair's token grids are asked of the window's
// embedder; once both are there a worker builds the two match contexts (the first image as
// source and the second as target, and the other way round) — the correspondence page's
// matcher, under the default matching mode of Preferences — and the main thread only
// queries them: a pointer move over one viewer puts a crosshair on the other at the
// answer, graded as the correspondence page grades it (px-answer-confidence.c). Without a
// model the toggle is insensitive and its tooltip says why.
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "px-answer-confidence.h"
#include "px-application.h"
#include "px-viewer-compare.h"

struct _PxViewerCompare
{
  GtkWidget         parent_instance;

  PxViewer         *primary;
  PxViewer         *viewer;
  GListModel       *studies;
  PxEmbedder       *embedder;
  gboolean          privacy;

  GtkDropDown      *dropdown;
  GtkToggleButton  *link;
  GtkSpinner       *spinner;
  GtkLabel         *status;

  PeacMatchContext *ctx[2];     // [0]: primary → compared, [1]: compared → primary
  PxStudy          *pair[2];    // the studies the contexts were built for
  PeacMatchMode     mode;
  GCancellable     *building;   // the running worker, NULL when none
};

G_DEFINE_FINAL_TYPE (PxViewerCompare, px_viewer_compare, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ACTIVE,
  PROP_PRIVACY,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void try_link (PxViewerCompare *self);

static void
set_status (PxViewerCompare *self,
            const char      *text,
            gboolean         busy)
{
  gtk_label_set_text (self->status, text);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
}

static void
clear_contexts (PxViewerCompare *self)
{
  if (self->building != NULL)
    g_cancellable_cancel (self->building);
  g_clear_object (&self->building);
  for (int i = 0; i < 2; i++)
    {
      g_clear_pointer (&self->ctx[i], peac_match_context_free);
      g_clear_object (&self->pair[i]);
    }
  if (self->primary != NULL)
    px_viewer_set_crosshair (self->primary, FALSE, 0, 0, FALSE);
  px_viewer_set_crosshair (self->viewer, FALSE, 0, 0, FALSE);
}

typedef struct {
  PeacGrid grid[2];
  float   *tokens[2];
  int      dim;
  PeacMatchContext *ctx[2];
} BuildData;

static void
build_data_free (BuildData *data)
{
  for (int i = 0; i < 2; i++)
    {
      g_free (data->tokens[i]);
      g_clear_pointer (&data->ctx[i], peac_match_context_free);
    }
  g_free (data);
}

static void
build_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  BuildData *data = task_data;
  char err[256];

  for (int i = 0; i < 2; i++)
    {
      data->ctx[i] = peac_match_context_new (&data->grid[i], &data->grid[1 - i], 1, data->dim,
                                             NULL, err, sizeof err);
      if (data->ctx[i] == NULL)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_built (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  PxViewerCompare *self = PX_VIEWER_COMPARE (object);
  BuildData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = g_strdup_printf (_("The images could not be matched: %s"), error->message);

          g_clear_object (&self->building);
          set_status (self, text, FALSE);
        }
      return;
    }
  g_clear_object (&self->building);
  for (int i = 0; i < 2; i++)
    self->ctx[i] = g_steal_pointer (&data->ctx[i]);
  set_status (self, _("Linked: point at either image to see the matched place in the other"), FALSE);
}

static PxStudy *
compared_study (PxViewerCompare *self)
{
  return gtk_drop_down_get_selected_item (self->dropdown);
}

// With Link on and both grids at hand: the worker builds the pair's contexts.
static void
try_link (PxViewerCompare *self)
{
  PxStudy *studies[2] = { px_viewer_get_study (self->primary), compared_study (self) };
  g_autoptr(GTask) task = NULL;
  BuildData *data;

  if (!gtk_toggle_button_get_active (self->link) || !px_viewer_compare_get_active (self) ||
      studies[0] == NULL || studies[1] == NULL || self->embedder == NULL ||
      px_embedder_get_model (self->embedder) == NULL)
    return;
  if (self->pair[0] == studies[0] && self->pair[1] == studies[1] && (self->ctx[0] != NULL || self->building != NULL))
    return;
  clear_contexts (self);
  for (int i = 0; i < 2; i++)
    if (px_embedder_lookup (self->embedder, studies[i]) == NULL)
      {
        px_embedder_request (self->embedder, studies, 2);
        set_status (self, _("Embedding the radiographs with the model in use…"), TRUE);
        return;
      }
  data = g_new0 (BuildData, 1);
  for (int i = 0; i < 2; i++)
    {
      PxEmbedding *e = px_embedder_lookup (self->embedder, studies[i]);

      self->pair[i] = g_object_ref (studies[i]);
      data->tokens[i] = g_memdup2 (e->tokens, sizeof (float) * e->gh * e->gw * e->dim);
      data->grid[i] = (PeacGrid) { data->tokens[i], e->gh, e->gw, e->width, e->height };
      data->dim = e->dim;
    }
  self->mode = PEAC_MATCH_GUIDED;
  if (PX_IS_APPLICATION (g_application_get_default ()) &&
      px_application_get_settings (PX_APPLICATION (g_application_get_default ())) != NULL)
    {
      GSettings *settings = px_application_get_settings (PX_APPLICATION (g_application_get_default ()));
      g_autofree char *mode = g_settings_get_string (settings, "matching-mode");

      if (peac_match_mode_parse (mode) >= 0)
        self->mode = (PeacMatchMode) peac_match_mode_parse (mode);
    }
  self->building = g_cancellable_new ();
  task = g_task_new (self, self->building, on_built, NULL);
  g_task_set_source_tag (task, try_link);
  g_task_set_task_data (task, data, (GDestroyNotify) build_data_free);
  set_status (self, _("Matching the two radiographs…"), TRUE);
  g_task_run_in_thread (task, build_thread);
}

static void
update_link (PxViewerCompare *self)
{
  gboolean model = self->embedder != NULL && px_embedder_get_model (self->embedder) != NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->link), model);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->link),
                               model ? _("Show the matched place in the other image")
                                     : _("Linking waits for the model to load"));
  if (!model || !gtk_toggle_button_get_active (self->link))
    {
      clear_contexts (self);
      // Without a model the window's default is still loading (it always ends with one).
      set_status (self, model ? "" : _("Waiting for the model to load…"), FALSE);
      return;
    }
  try_link (self);
}

static void
on_pair_changed (PxViewerCompare *self)
{
  px_viewer_set_study (self->viewer, compared_study (self));
  clear_contexts (self);
  update_link (self);
}

static void
on_model_changed (PxViewerCompare *self)
{
  clear_contexts (self);
  update_link (self);
}

// A pointer position on one viewer: the crosshair on the other at the match.
static void
point_at (PxViewerCompare *self,
          int              from,
          double           wx,
          double           wy)
{
  PxViewer *viewers[2] = { self->primary, self->viewer };
  PxViewer *to = viewers[1 - from];
  double x, y;
  PeacMatch m;

  if (self->ctx[from] == NULL || !gtk_toggle_button_get_active (self->link))
    return;
  // The pointer is on this one: the crosshair belongs on the other only.
  px_viewer_set_crosshair (viewers[from], FALSE, 0, 0, FALSE);
  if (!px_viewer_widget_to_image (viewers[from], wx, wy, &x, &y) ||
      peac_match_query (self->ctx[from], 0, x, y, self->mode, &m, NULL) != 0)
    {
      px_viewer_set_crosshair (to, FALSE, 0, 0, FALSE);
      return;
    }
  {
    PxConfidence c = px_confidence_of_match (&m);
    gboolean shown = m.found || self->mode != PEAC_MATCH_NEAREST;
    g_autofree char *words = px_confidence_describe (&c);
    g_autofree char *text = NULL;

    px_viewer_set_crosshair (to, shown, m.x, m.y, c.grade != PX_CONFIDENCE_GRADE_LOW);
    if (shown)
      /* Translators: where the pointer is, where its match is in the other image, and the
       * match's confidence in words ("match confidence: medium (0.62)") */
      text = g_strdup_printf (_("x %.0f, y %.0f → x %.0f, y %.0f px, %s"),
                              x, y, m.x, m.y, words);
    else
      text = g_strdup_printf (_("x %.0f, y %.0f px: no match in the other image"), x, y);
    set_status (self, text, FALSE);
  }
}

static void
on_primary_motion (GtkEventControllerMotion *motion,
                   double                    x,
                   double                    y,
                   PxViewerCompare          *self)
{
  point_at (self, 0, x, y);
}

static void
on_compared_motion (GtkEventControllerMotion *motion,
                    double                    x,
                    double                    y,
                    PxViewerCompare          *self)
{
  point_at (self, 1, x, y);
}

static void
on_leave (GtkEventControllerMotion *motion,
          PxViewerCompare          *self)
{
  if (self->primary != NULL)
    px_viewer_set_crosshair (self->primary, FALSE, 0, 0, FALSE);
  px_viewer_set_crosshair (self->viewer, FALSE, 0, 0, FALSE);
}

static void
add_motion (PxViewerCompare *self,
            PxViewer        *viewer,
            GCallback        callback)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();

  g_signal_connect_object (motion, "motion", callback, self, 0);
  g_signal_connect_object (motion, "leave", G_CALLBACK (on_leave), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (viewer), motion);
}

// The wheel under the radiology bindings steps the compared image through the open ones.
static void
on_step (PxViewerCompare *self,
         int              direction)
{
  guint n = self->studies != NULL ? g_list_model_get_n_items (self->studies) : 0;
  guint i = gtk_drop_down_get_selected (self->dropdown);

  if (n > 1 && i != GTK_INVALID_LIST_POSITION)
    gtk_drop_down_set_selected (self->dropdown, (i + (direction > 0 ? 1 : n - 1)) % n);
}

// The compared image's list: titles ellipsized, so that a long one never widens the pane,
// and following the privacy switch.
static void
setup_title (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             PxViewerCompare          *self)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_list_item_set_child (item, label);
}

static void
bind_title (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            PxViewerCompare          *self)
{
  g_autofree char *title = px_study_dup_display_title (gtk_list_item_get_item (item), self->privacy);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), title);
}

static void
set_title_factory (PxViewerCompare *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (setup_title), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_title), self);
  gtk_drop_down_set_factory (self->dropdown, factory);
}

static void
px_viewer_compare_dispose (GObject *object)
{
  PxViewerCompare *self = (PxViewerCompare *)object;
  GtkWidget *child;

  if (self->building != NULL)
    g_cancellable_cancel (self->building);
  g_clear_object (&self->building);
  for (int i = 0; i < 2; i++)
    {
      g_clear_pointer (&self->ctx[i], peac_match_context_free);
      g_clear_object (&self->pair[i]);
    }
  if (self->embedder != NULL)
    g_signal_handlers_disconnect_by_data (self->embedder, self);
  if (self->primary != NULL)
    g_signal_handlers_disconnect_by_data (self->primary, self);
  g_clear_object (&self->embedder);
  g_clear_object (&self->studies);
  g_clear_object (&self->primary);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (px_viewer_compare_parent_class)->dispose (object);
}

static void
px_viewer_compare_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  PxViewerCompare *self = PX_VIEWER_COMPARE (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      g_value_set_boolean (value, px_viewer_compare_get_active (self));
      break;

    case PROP_PRIVACY:
      g_value_set_boolean (value, self->privacy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_viewer_compare_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  PxViewerCompare *self = PX_VIEWER_COMPARE (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      px_viewer_compare_set_active (self, g_value_get_boolean (value));
      break;

    case PROP_PRIVACY:
      if (self->privacy != g_value_get_boolean (value))
        {
          self->privacy = g_value_get_boolean (value);
          set_title_factory (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_viewer_compare_class_init (PxViewerCompareClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = px_viewer_compare_dispose;
  object_class->get_property = px_viewer_compare_get_property;
  object_class->set_property = px_viewer_compare_set_property;

  properties [PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_PRIVACY] =
    g_param_spec_boolean ("privacy", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
}

static void
px_viewer_compare_init (PxViewerCompare *self)
{
  GtkWidget *pane = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_parent (gtk_separator_new (GTK_ORIENTATION_VERTICAL), GTK_WIDGET (self));
  gtk_widget_set_hexpand (pane, TRUE);
  gtk_widget_set_parent (pane, GTK_WIDGET (self));

  gtk_widget_set_margin_start (header, 6);
  gtk_widget_set_margin_end (header, 6);
  gtk_widget_set_margin_top (header, 6);
  self->dropdown = GTK_DROP_DOWN (gtk_drop_down_new (NULL, NULL));
  set_title_factory (self);
  gtk_widget_set_hexpand (GTK_WIDGET (self->dropdown), TRUE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->dropdown), _("The radiograph compared with the one on the left"));
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->dropdown));
  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->spinner));
  self->link = GTK_TOGGLE_BUTTON (gtk_toggle_button_new ());
  {
    GtkWidget *content = adw_button_content_new ();

    adw_button_content_set_icon_name (ADW_BUTTON_CONTENT (content), "insert-link-symbolic");
    adw_button_content_set_label (ADW_BUTTON_CONTENT (content), _("_Link"));
    adw_button_content_set_use_underline (ADW_BUTTON_CONTENT (content), TRUE);
    gtk_button_set_child (GTK_BUTTON (self->link), content);
  }
  gtk_box_append (GTK_BOX (header), GTK_WIDGET (self->link));
  gtk_box_append (GTK_BOX (pane), header);

  self->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->status, 0);
  // Wrapped, and narrow by nature: the pane asks for no more width than the left viewer,
  // so the two images get the same share of the window.
  gtk_label_set_wrap (self->status, TRUE);
  gtk_label_set_wrap_mode (self->status, PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (self->status, 20);
  gtk_widget_set_margin_start (GTK_WIDGET (self->status), 6);
  gtk_widget_set_margin_end (GTK_WIDGET (self->status), 6);
  gtk_widget_set_margin_top (GTK_WIDGET (self->status), 3);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->status), 3);
  gtk_widget_add_css_class (GTK_WIDGET (self->status), "caption");
  gtk_box_append (GTK_BOX (pane), GTK_WIDGET (self->status));

  self->viewer = PX_VIEWER (px_viewer_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->viewer), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->viewer), TRUE);
  gtk_box_append (GTK_BOX (pane), GTK_WIDGET (self->viewer));

  g_signal_connect_swapped (self->dropdown, "notify::selected-item", G_CALLBACK (on_pair_changed), self);
  g_signal_connect_swapped (self->link, "toggled", G_CALLBACK (update_link), self);
  g_signal_connect_swapped (self->viewer, "step", G_CALLBACK (on_step), self);
  add_motion (self, self->viewer, G_CALLBACK (on_compared_motion));
  update_link (self);
}

static void
on_embedded (PxViewerCompare *self)
{
  if (self->ctx[0] == NULL && self->building == NULL)
    {
      g_clear_object (&self->pair[0]);
      try_link (self);
    }
}

// Waiting for the pair's grids: the embedder gave up on one, or was stopped.
static gboolean
waiting_for_grids (PxViewerCompare *self)
{
  return gtk_spinner_get_spinning (self->spinner) && self->ctx[0] == NULL && self->building == NULL;
}

static void
on_embedding_failed (PxViewerCompare *self,
                     PxStudy         *study,
                     const char      *reason)
{
  g_autofree char *text = NULL;

  if (!waiting_for_grids (self) || (study != px_viewer_get_study (self->primary) && study != compared_study (self)))
    return;
  /* Translators: why a radiograph could not be embedded, so the pair cannot be linked */
  text = g_strdup_printf (_("Not linked: %s"), reason);
  set_status (self, text, FALSE);
}

static void
on_embedder_busy (PxViewerCompare *self)
{
  if (!px_embedder_get_busy (self->embedder) && waiting_for_grids (self))
    set_status (self, _("Not linked: the radiographs were not embedded (turn Link off and on to try again)"), FALSE);
}

/**
 * px_viewer_compare_setup:
 * @primary: the window's viewer, shown on the left
 * @studies: the open studies (PxStudy)
 * @embedder: the window's embedder, whose model matches
 */
void
px_viewer_compare_setup (PxViewerCompare *self,
                         PxViewer        *primary,
                         GListModel      *studies,
                         PxEmbedder      *embedder)
{
  g_return_if_fail (PX_IS_VIEWER_COMPARE (self));
  g_return_if_fail (self->primary == NULL);

  self->primary = g_object_ref (primary);
  self->studies = g_object_ref (studies);
  self->embedder = g_object_ref (embedder);
  add_motion (self, primary, G_CALLBACK (on_primary_motion));
  g_signal_connect_swapped (primary, "notify::study", G_CALLBACK (on_pair_changed), self);
  g_signal_connect_swapped (embedder, "embedded", G_CALLBACK (on_embedded), self);
  g_signal_connect_swapped (embedder, "notify::model", G_CALLBACK (on_model_changed), self);
  g_signal_connect_swapped (embedder, "failed", G_CALLBACK (on_embedding_failed), self);
  g_signal_connect_swapped (embedder, "notify::busy", G_CALLBACK (on_embedder_busy), self);
  gtk_drop_down_set_model (self->dropdown, studies);
  update_link (self);
}

gboolean
px_viewer_compare_get_active (PxViewerCompare *self)
{
  g_return_val_if_fail (PX_IS_VIEWER_COMPARE (self), FALSE);
  return gtk_widget_get_visible (GTK_WIDGET (self));
}

/**
 * px_viewer_compare_set_active:
 *
 * Shows or hides the comparison pane (win.compare). Shown, it compares the image after the
 * viewer's in the sidebar unless another one was chosen.
 */
void
px_viewer_compare_set_active (PxViewerCompare *self,
                              gboolean         active)
{
  g_return_if_fail (PX_IS_VIEWER_COMPARE (self));

  if (active == px_viewer_compare_get_active (self))
    return;
  gtk_widget_set_visible (GTK_WIDGET (self), active);
  if (active && self->studies != NULL && self->primary != NULL &&
      (compared_study (self) == NULL || compared_study (self) == px_viewer_get_study (self->primary)))
    {
      guint n = g_list_model_get_n_items (self->studies);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(PxStudy) study = g_list_model_get_item (self->studies, i);

          if (study == px_viewer_get_study (self->primary))
            gtk_drop_down_set_selected (self->dropdown, (i + 1) % n);
        }
    }
  if (active)
    on_pair_changed (self);
  else
    clear_contexts (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ACTIVE]);
}

/**
 * px_viewer_compare_get_viewer:
 *
 * Returns: (transfer none): the viewer of the compared image
 */
PxViewer *
px_viewer_compare_get_viewer (PxViewerCompare *self)
{
  g_return_val_if_fail (PX_IS_VIEWER_COMPARE (self), NULL);
  return self->viewer;
}

// Compares @study (one of the open studies) with the viewer's image.
void
px_viewer_compare_set_study (PxViewerCompare *self,
                             PxStudy         *study)
{
  g_return_if_fail (PX_IS_VIEWER_COMPARE (self));

  for (guint i = 0; self->studies != NULL && i < g_list_model_get_n_items (self->studies); i++)
    {
      g_autoptr(PxStudy) item = g_list_model_get_item (self->studies, i);

      if (item == study)
        gtk_drop_down_set_selected (self->dropdown, i);
    }
}

gboolean
px_viewer_compare_get_linked (PxViewerCompare *self)
{
  g_return_val_if_fail (PX_IS_VIEWER_COMPARE (self), FALSE);
  return gtk_toggle_button_get_active (self->link);
}

// As the Link button does; without a model the button is insensitive and this does nothing.
void
px_viewer_compare_set_linked (PxViewerCompare *self,
                              gboolean         linked)
{
  g_return_if_fail (PX_IS_VIEWER_COMPARE (self));

  if (gtk_widget_get_sensitive (GTK_WIDGET (self->link)))
    gtk_toggle_button_set_active (self->link, linked);
}

// Whether the pair is being embedded or matched.
gboolean
px_viewer_compare_get_busy (PxViewerCompare *self)
{
  g_return_val_if_fail (PX_IS_VIEWER_COMPARE (self), FALSE);
  return gtk_spinner_get_spinning (self->spinner);
}

// Whether the pair's matches are ready for the pointer.
gboolean
px_viewer_compare_get_ready (PxViewerCompare *self)
{
  g_return_val_if_fail (PX_IS_VIEWER_COMPARE (self), FALSE);
  return self->ctx[0] != NULL && self->ctx[1] != NULL;
}

// The matching mode the crosshair answers in (the Preferences default).
PeacMatchMode
px_viewer_compare_get_mode (PxViewerCompare *self)
{
  g_return_val_if_fail (PX_IS_VIEWER_COMPARE (self), PEAC_MATCH_GUIDED);
  return self->mode;
}

const char *
px_viewer_compare_get_status (PxViewerCompare *self)
{
  g_return_val_if_fail (PX_IS_VIEWER_COMPARE (self), NULL);
  return gtk_label_get_text (self->status);
}
