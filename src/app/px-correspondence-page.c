// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxCorrespondencePage keeps the page's whole state — source, targets, match context,
// query, pins, toggles — in the widget, so it survives switching pages. The targets are the
// open studies that follow the source in the sidebar, up to eight, less those the user
// unticked in the Targets popover. Once the embedder has
// every grid under the model in use, one PeacMatchContext is built on the main thread (a
// few milliseconds: one sgemm and RANSAC per target); queries against it take microseconds,
// so hovering answers live. Pins keep their source point and are answered again whenever
// the context changes, except on targets where the user dragged them into place.
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>

#include "px-application.h"
#include "px-answer-confidence.h"
#include "px-correspondence-page-private.h"
#include "px-study-dropdown.h"
#include "px-window.h"

G_DEFINE_FINAL_TYPE (PxCorrespondencePage, px_correspondence_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_PRIVACY,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void update_target_list (PxCorrespondencePage *self);

gboolean
_px_correspondence_page_get_flag (PxCorrespondencePage *self,
                                  const char           *name)
{
  g_autoptr(GVariant) state = g_action_group_get_action_state (G_ACTION_GROUP (self->actions), name);

  return g_variant_get_boolean (state);
}

static void
pin_clear (gpointer data)
{
  g_free (((PxMatchPin *) data)->name);
  g_free (((PxMatchPin *) data)->structure);
}

// The name of @panel's image on the page, in its exports and in the files it writes: the
// sidebar's (px_study_dup_display_title), so that privacy mode names an image the same way
// everywhere (px_privacy_mask_name). Which panel is the source is said apart from the name
// (the panel's place; the exports' role column and fields).
char *
_px_correspondence_page_panel_label (PxCorrespondencePage *self,
                                     int                   panel)
{
  PxStudy *study = panel == 0 ? self->source : g_ptr_array_index (self->targets, panel - 1);

  return px_study_dup_display_title (study, self->privacy);
}

// The source list's text for a study (none while nothing is chosen).
static char *
source_title (PxStudy  *study,
              gboolean  privacy)
{
  return study != NULL ? px_study_dup_display_title (study, privacy) : g_strdup ("");
}

static void
update_status (PxCorrespondencePage *self)
{
  g_autoptr(GString) text = g_string_new (NULL);

  if (self->source == NULL || self->targets->len == 0)
    ;
  else if (self->ctx == NULL && (self->embedder == NULL || px_embedder_get_model (self->embedder) == NULL))
    g_string_append (text, _("Waiting for the model to load…"));
  else if (self->ctx == NULL)
    g_string_append (text, _("Embedding the radiographs with the model in use…"));
  else if (!self->scene.has_query)
    g_string_append (text, _("Point at the source to match; click or press Enter to pin; arrow keys move the query"));
  else
    for (guint t = 0; t < self->targets->len; t++)
      {
        const PeacMatch *a = &self->scene.answers[t];
        g_autofree char *name = _px_correspondence_page_panel_label (self, t + 1);

        if (t == 0)
          {
            g_autofree char *where = px_match_scene_describe_point (&self->scene, 0, self->scene.qx,
                                                                           self->scene.qy);

            /* Translators: the query's position on the source ("at x 12, y 34 px") */
            g_string_append_printf (text, _("Source %s →"), where);
          }
        g_string_append (text, "   ");
        if (a->found || self->mode != PEAC_MATCH_NEAREST)
          {
            // The registration always answers; the embedding grades it.
            PxConfidence c = px_confidence_of_match (a);
            g_autofree char *words = px_confidence_describe (&c);

            g_autofree char *where = px_match_scene_describe_point (&self->scene, t + 1, a->x, a->y);

            /* Translators: target name, the match's position ("at x 12, y 34 px") and
             * its confidence in words ("match confidence: medium (0.62)") */
            g_string_append_printf (text, _("%s: %s, %s"), name, where, words);
          }
        else
          /* Translators: target name; the model found no confident match there */
          g_string_append_printf (text, _("%s: no match"), name);
      }
  gtk_label_set_text (self->status_label, text->str);
}

static void
answer_query (PxCorrespondencePage *self)
{
  if (self->ctx == NULL || !self->scene.has_query)
    return;
  for (guint t = 0; t < self->targets->len; t++)
    peac_match_query (self->ctx, t, self->scene.qx, self->scene.qy, self->mode,
                      &self->scene.answers[t], self->scene.sim[t]);
}

void
_px_correspondence_page_answer_pin (PxCorrespondencePage *self,
                                    PxMatchPin           *pin)
{
  for (guint t = 0; self->ctx != NULL && t < self->targets->len; t++)
    if (!pin->moved[t])
      peac_match_query (self->ctx, t, pin->x, pin->y, self->mode, &pin->match[t], NULL);
}

void
_px_correspondence_page_update_buddies (PxCorrespondencePage *self)
{
  int k = (int) gtk_adjustment_get_value (self->buddies_k);

  self->scene.n_buddies = 0;
  if (self->ctx != NULL && self->targets->len > 0 && _px_correspondence_page_get_flag (self, "buddies"))
    self->scene.n_buddies = peac_match_buddies_spread (self->ctx, 0, MIN (k, PX_MATCH_MAX_BUDDIES),
                                                       self->scene.buddies);
}

void
_px_correspondence_page_refresh (PxCorrespondencePage *self)
{
  update_status (self);
  _px_correspondence_page_measure (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

void
_px_correspondence_page_set_query (PxCorrespondencePage *self,
                                   double                x,
                                   double                y)
{
  const PxMatchPanel *src = &self->scene.panels[0];

  if (self->scene.n_panels == 0)
    return;
  self->scene.has_query = TRUE;
  self->scene.qx = CLAMP (x, 0, src->width - 1e-3);
  self->scene.qy = CLAMP (y, 0, src->height - 1e-3);
  answer_query (self);
  _px_correspondence_page_refresh (self);
}

// Returns the new pin (valid until the pins change); the caller refreshes the view.
PxMatchPin *
_px_correspondence_page_add_pin (PxCorrespondencePage *self,
                                 const char           *name,
                                 double                x,
                                 double                y,
                                 int                   colour)
{
  PxMatchPin pin = { 0 };

  self->pin_counter++;
  if (name != NULL)
    pin.name = g_strdup (name);
  else if (_px_correspondence_page_get_flag (self, "landmarks"))
    /* Translators: default name of a landmark pin, by number */
    pin.name = g_strdup_printf (_("Landmark %u"), self->pin_counter);
  else
    pin.name = g_strdup_printf ("%u", self->pin_counter);
  pin.colour = colour >= 0 ? colour : (int) (self->pin_counter - 1) % PX_MATCH_N_COLOURS;
  pin.x = x;
  pin.y = y;
  _px_correspondence_page_answer_pin (self, &pin);
  g_array_append_val (self->scene.pins, pin);
  return &g_array_index (self->scene.pins, PxMatchPin, self->scene.pins->len - 1);
}

// Pins as the user's work (px-pin-history.c): each change is recorded first, so that it
// can be undone; a source image's pins are put aside while another one is the source.

static void
update_history_actions (PxCorrespondencePage *self)
{
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "undo")),
                               px_pin_history_can_undo (self->history, self->source));
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "redo")),
                               px_pin_history_can_redo (self->history, self->source));
}

static GArray *
take_pins (PxCorrespondencePage *self)
{
  return px_pin_snapshot_take (self->scene.pins, self->targets);
}

// Before a change to the pins: the pins as they are become an undo step.
void
_px_correspondence_page_record_pins (PxCorrespondencePage *self)
{
  if (self->source == NULL)
    return;
  px_pin_history_record (self->history, self->source, take_pins (self));
  update_history_actions (self);
}

static void
restore_pins (PxCorrespondencePage *self,
              GArray               *snapshot)
{
  px_pin_snapshot_apply (snapshot, self->scene.pins, self->targets);
  self->pin_counter = self->scene.pins->len;
  for (guint i = 0; i < self->scene.pins->len; i++)
    _px_correspondence_page_answer_pin (self, &g_array_index (self->scene.pins, PxMatchPin, i));
  update_history_actions (self);
  _px_correspondence_page_refresh (self);
}

// A landmark structure's palette colour: the JSRT structures (RL, LL, H, RCLA, LCLA) the
// first five, as on the embedding map; others by a hash of the name; −1 for none.
int
_px_correspondence_page_structure_colour (const char *structure)
{
  if (structure == NULL)
    return -1;
  for (int s = 0; s < 5; s++)
    if (g_str_equal (structure, px_landmarks_jsrt_structures[s]))
      return s;
  return (int) (g_str_hash (structure) % PX_MATCH_N_COLOURS);
}

void
_px_correspondence_page_undo_redo (PxCorrespondencePage *self,
                                   gboolean              undo)
{
  g_autoptr(GArray) pins = NULL;

  if (self->source == NULL)
    return;
  pins = undo ? px_pin_history_undo (self->history, self->source, take_pins (self))
              : px_pin_history_redo (self->history, self->source, take_pins (self));
  if (pins != NULL)
    restore_pins (self, pins);
}

// The query and every pin answered again (after a change of mode or context).
void
_px_correspondence_page_answer_all (PxCorrespondencePage *self)
{
  self->scene.mode = self->mode;
  answer_query (self);
  for (guint i = 0; i < self->scene.pins->len; i++)
    _px_correspondence_page_answer_pin (self, &g_array_index (self->scene.pins, PxMatchPin, i));
  _px_correspondence_page_refresh (self);
}

void
_px_correspondence_page_show_error (PxCorrespondencePage *self,
                                    const char           *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (PX_IS_WINDOW (root))
    px_window_show_error (PX_WINDOW (root), message);
  else
    g_warning ("%s", message);
}

static void
try_build_context (PxCorrespondencePage *self)
{
  g_autofree PeacGrid *grids = NULL;
  PxEmbedding *source;
  char err[256];

  if (self->ctx != NULL || self->source == NULL || self->targets->len == 0 || self->embedder == NULL)
    return;
  source = px_embedder_lookup (self->embedder, self->source);
  if (source == NULL)
    return;
  grids = g_new0 (PeacGrid, self->targets->len);
  for (guint t = 0; t < self->targets->len; t++)
    {
      PxEmbedding *e = px_embedder_lookup (self->embedder, g_ptr_array_index (self->targets, t));

      if (e == NULL)
        return;
      grids[t] = (PeacGrid) { e->tokens, e->gh, e->gw, e->width, e->height };
      self->scene.panels[t + 1].gh = e->gh;
      self->scene.panels[t + 1].gw = e->gw;
      g_free (self->scene.sim[t]);
      self->scene.sim[t] = g_new0 (float, (gsize) e->gh * e->gw);
    }
  self->scene.panels[0].gh = source->gh;
  self->scene.panels[0].gw = source->gw;
  self->ctx = peac_match_context_new (&(PeacGrid) { source->tokens, source->gh, source->gw,
                                                    source->width, source->height },
                                      grids, (int) self->targets->len, source->dim, NULL,
                                      err, sizeof err);
  if (self->ctx == NULL)
    {
      gtk_label_set_text (self->status_label, err);
      return;
    }
  answer_query (self);
  for (guint i = 0; i < self->scene.pins->len; i++)
    _px_correspondence_page_answer_pin (self, &g_array_index (self->scene.pins, PxMatchPin, i));
  _px_correspondence_page_update_buddies (self);
  _px_correspondence_page_refresh (self);
}

static void
surfaces_thread (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GPtrArray *studies = task_data;
  GPtrArray *surfaces = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);

  for (guint i = 0; i < studies->len; i++)
    g_ptr_array_add (surfaces, px_match_surface_for_image (px_study_get_image (g_ptr_array_index (studies, i)),
                                                           PX_CORRESPONDENCE_SURFACE_SIDE));
  g_task_return_pointer (task, surfaces, (GDestroyNotify) g_ptr_array_unref);
}

static void
on_surfaces (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PxCorrespondencePage) self = user_data;
  g_autoptr(GPtrArray) surfaces = g_task_propagate_pointer (G_TASK (result), NULL);
  GPtrArray *studies = g_task_get_task_data (G_TASK (result));

  for (guint i = 0; surfaces != NULL && i < studies->len; i++)
    {
      PxStudy *study = g_ptr_array_index (studies, i);
      cairo_surface_t *surface = g_ptr_array_index (surfaces, i);

      g_object_set_data_full (G_OBJECT (study), "px-match-surface", cairo_surface_reference (surface),
                              (GDestroyNotify) cairo_surface_destroy);
      g_object_set_data (G_OBJECT (study), "px-match-surface-pending", NULL);
      for (int p = 0; p < self->scene.n_panels; p++)
        if (self->scene.panels[p].surface == NULL &&
            (p == 0 ? self->source : g_ptr_array_index (self->targets, p - 1)) == study)
          self->scene.panels[p].surface = cairo_surface_reference (surface);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

// The presentation of a large radiograph takes tens of milliseconds to render and shrink:
// missing ones are made in a worker and cached on their studies.
static void
render_surfaces (PxCorrespondencePage *self,
                 GPtrArray            *studies)
{
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GTask) task = NULL;

  for (guint i = 0; i < studies->len; i++)
    {
      GObject *study = g_ptr_array_index (studies, i);

      if (g_object_get_data (study, "px-match-surface") == NULL &&
          g_object_get_data (study, "px-match-surface-pending") == NULL)
        {
          g_object_set_data (study, "px-match-surface-pending", GINT_TO_POINTER (TRUE));
          g_ptr_array_add (missing, g_object_ref (study));
        }
    }
  if (missing->len == 0)
    return;
  task = g_task_new (NULL, NULL, on_surfaces, g_object_ref (self));
  g_task_set_source_tag (task, render_surfaces);
  g_task_set_task_data (task, g_steal_pointer (&missing), (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (task, surfaces_thread);
}

static void
clear_scene_panels (PxCorrespondencePage *self)
{
  for (int i = 0; i < self->scene.n_panels; i++)
    {
      g_clear_pointer (&self->scene.panels[i].surface, cairo_surface_destroy);
      g_clear_pointer (&self->scene.panels[i].label, g_free);
    }
  for (int t = 0; t < PX_MATCH_MAX_TARGETS; t++)
    g_clear_pointer (&self->scene.sim[t], g_free);
  self->scene.n_panels = 0;
  self->scene.n_buddies = 0;
  g_clear_pointer (&self->ctx, peac_match_context_free);
}

// Takes the source and targets from the studies and asks for their grids; the context is
// built when the last one lands.
static gboolean
rebuild_idle (gpointer data)
{
  _px_correspondence_page_rebuild (data);
  return G_SOURCE_REMOVE;
}

static void
on_target_toggled (GtkCheckButton       *button,
                   PxCorrespondencePage *self)
{
  PxStudy *study = g_object_get_data (G_OBJECT (button), "px-study");

  if (gtk_check_button_get_active (button))
    g_hash_table_remove (self->excluded, study);
  else
    g_hash_table_add (self->excluded, g_object_ref (study));
  // The rebuild replaces this very button: not from inside its own signal.
  g_idle_add_full (G_PRIORITY_DEFAULT, rebuild_idle, g_object_ref (self), g_object_unref);
}

// One check button per open study other than the source; once eight are ticked the
// others cannot be.
static void
update_target_list (PxCorrespondencePage *self)
{
  guint n = self->studies != NULL ? g_list_model_get_n_items (self->studies) : 0;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->targets_box))))
    gtk_box_remove (self->targets_box, child);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PxStudy) study = g_list_model_get_item (self->studies, i);
      GtkWidget *button;
      gboolean active;

      if (study == self->source)
        continue;
      active = g_ptr_array_find (self->targets, study, NULL);
      g_autofree char *title = px_study_dup_display_title (study, self->privacy);

      button = gtk_check_button_new_with_label (title);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (button), active);
      gtk_widget_set_sensitive (button, active || self->targets->len < PX_MATCH_MAX_TARGETS);
      g_object_set_data_full (G_OBJECT (button), "px-study", g_object_ref (study), g_object_unref);
      g_signal_connect (button, "toggled", G_CALLBACK (on_target_toggled), self);
      gtk_box_append (self->targets_box, button);
    }
}

void
_px_correspondence_page_rebuild (PxCorrespondencePage *self)
{
  guint n = self->studies != NULL ? g_list_model_get_n_items (self->studies) : 0;
  g_autoptr(GPtrArray) wanted = g_ptr_array_new ();
  g_autoptr(GArray) pins = take_pins (self);  // corrections follow their target image
  int source_index = -1;

  clear_scene_panels (self);
  g_ptr_array_set_size (self->targets, 0);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PxStudy) study = g_list_model_get_item (self->studies, i);

      if (study == self->source)
        source_index = (int) i;
    }
  if (source_index < 0)
    {
      // The source was closed: its pins go with it.
      if (self->source != NULL)
        px_pin_history_forget (self->history, self->source);
      g_clear_object (&self->source);
      g_array_set_size (self->scene.pins, 0);
      g_array_set_size (pins, 0);
      if (n > 0)
        {
          self->source = g_list_model_get_item (self->studies, 0);
          source_index = 0;
        }
    }
  for (guint k = 1; k < n && self->targets->len < PX_MATCH_MAX_TARGETS; k++)
    {
      PxStudy *study = g_list_model_get_item (self->studies, (source_index + k) % n);

      if (g_hash_table_contains (self->excluded, study))
        g_object_unref (study);
      else
        g_ptr_array_add (self->targets, study);
    }
  update_target_list (self);

  gtk_stack_set_visible_child_name (self->stack, self->targets->len > 0 ? "view" : "empty");
  if (self->targets->len == 0)
    {
      _px_correspondence_page_refresh (self);
      return;
    }

  self->scene.n_panels = 1 + (int) self->targets->len;
  for (int i = 0; i < self->scene.n_panels; i++)
    {
      PxStudy *study = i == 0 ? self->source : g_ptr_array_index (self->targets, i - 1);
      const PxImage *image = px_study_get_image (study);

      cairo_surface_t *surface = g_object_get_data (G_OBJECT (study), "px-match-surface");

      self->scene.panels[i].surface = surface != NULL ? cairo_surface_reference (surface) : NULL;
      self->scene.panels[i].width = image->width;
      self->scene.panels[i].height = image->height;
      self->scene.panels[i].label = _px_correspondence_page_panel_label (self, i);
      self->scene.panels[i].gh = self->scene.panels[i].gw = 1;
      self->scene.panels[i].mm = _px_correspondence_page_pixel_mm (study);
      g_ptr_array_add (wanted, study);
    }
  _px_correspondence_page_window_apply (self);
  if (self->scene.has_query)
    _px_correspondence_page_set_query (self, self->scene.qx, self->scene.qy);
  px_pin_snapshot_apply (pins, self->scene.pins, self->targets);
  update_history_actions (self);

  render_surfaces (self, wanted);
  if (self->embedder != NULL)
    px_embedder_request (self->embedder, (PxStudy **) wanted->pdata, wanted->len);
  try_build_context (self);
  _px_correspondence_page_refresh (self);
}

static void
on_source_selected (PxCorrespondencePage *self)
{
  PxStudy *study = gtk_drop_down_get_selected_item (self->source_dropdown);

  g_autoptr(GArray) kept = NULL;

  if (study == NULL || study == self->source)
    return;
  // The pins stay with their image: put aside, and brought back when it is the source again.
  if (self->source != NULL)
    px_pin_history_stash (self->history, self->source, take_pins (self));
  g_set_object (&self->source, study);
  g_array_set_size (self->scene.pins, 0);
  self->scene.has_query = FALSE;
  _px_correspondence_page_rebuild (self);
  kept = px_pin_history_unstash (self->history, study);
  restore_pins (self, kept);
}

static void
on_studies_changed (PxCorrespondencePage *self)
{
  _px_correspondence_page_rebuild (self);
  if (self->source != NULL)
    for (guint i = 0; i < g_list_model_get_n_items (self->studies); i++)
      {
        g_autoptr(PxStudy) study = g_list_model_get_item (self->studies, i);

        if (study == self->source)
          gtk_drop_down_set_selected (self->source_dropdown, i);
      }
}

static void
on_model_changed (PxCorrespondencePage *self)
{
  _px_correspondence_page_rebuild (self);
}

static void
draw_area (GtkDrawingArea *area,
           cairo_t        *cr,
           int             width,
           int             height,
           gpointer        user_data)
{
  PxCorrespondencePage *self = user_data;

  self->scene.opacity = gtk_adjustment_get_value (self->opacity);
  self->scene.heatmap = _px_correspondence_page_get_flag (self, "heatmap");
  self->scene.grid_layout = _px_correspondence_page_get_flag (self, "grid");
  px_match_scene_draw (&self->scene, cr, width, height);
}

static void
px_correspondence_page_dispose (GObject *object)
{
  PxCorrespondencePage *self = (PxCorrespondencePage *)object;
  GtkWidget *child;

  _px_correspondence_page_propagate_cancel (self);
  clear_scene_panels (self);
  if (self->embedder != NULL)
    g_signal_handlers_disconnect_by_data (self->embedder, self);
  g_clear_object (&self->embedder);
  g_clear_object (&self->studies);
  g_clear_object (&self->source);
  g_clear_object (&self->actions);
  g_clear_pointer (&self->history, px_pin_history_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), PX_TYPE_CORRESPONDENCE_PAGE);
  // The template's top box has no id, so it is unparented here.
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (px_correspondence_page_parent_class)->dispose (object);
}

static void
px_correspondence_page_finalize (GObject *object)
{
  PxCorrespondencePage *self = (PxCorrespondencePage *)object;

  g_clear_pointer (&self->targets, g_ptr_array_unref);
  g_clear_pointer (&self->excluded, g_hash_table_unref);
  g_clear_pointer (&self->scene.pins, g_array_unref);

  G_OBJECT_CLASS (px_correspondence_page_parent_class)->finalize (object);
}

static void
px_correspondence_page_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  PxCorrespondencePage *self = PX_CORRESPONDENCE_PAGE (object);

  switch (prop_id)
    {
    case PROP_PRIVACY:
      g_value_set_boolean (value, self->privacy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_correspondence_page_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  PxCorrespondencePage *self = PX_CORRESPONDENCE_PAGE (object);

  switch (prop_id)
    {
    case PROP_PRIVACY:
      if (self->privacy != g_value_get_boolean (value))
        {
          self->privacy = g_value_get_boolean (value);
          for (int i = 0; i < self->scene.n_panels; i++)
            {
              g_free (self->scene.panels[i].label);
              self->scene.panels[i].label = _px_correspondence_page_panel_label (self, i);
            }
          update_target_list (self);
          _px_correspondence_page_refresh (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_correspondence_page_class_init (PxCorrespondencePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = px_correspondence_page_dispose;
  object_class->finalize = px_correspondence_page_finalize;
  object_class->get_property = px_correspondence_page_get_property;
  object_class->set_property = px_correspondence_page_set_property;

  properties [PROP_PRIVACY] =
    g_param_spec_boolean ("privacy", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  px_ensure_resources ();
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/peac/Explorer/px-correspondence-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PxCorrespondencePage, source_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PxCorrespondencePage, targets_box);
  gtk_widget_class_bind_template_child (widget_class, PxCorrespondencePage, stack);
  gtk_widget_class_bind_template_child (widget_class, PxCorrespondencePage, area);
  gtk_widget_class_bind_template_child (widget_class, PxCorrespondencePage, status_label);
  gtk_widget_class_bind_template_child (widget_class, PxCorrespondencePage, opacity);
  gtk_widget_class_bind_template_child (widget_class, PxCorrespondencePage, buddies_k);
  gtk_widget_class_bind_template_child (widget_class, PxCorrespondencePage, ctr_label);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK, "corr.undo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "corr.redo", NULL);
}

static void
px_correspondence_page_init (PxCorrespondencePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->targets = g_ptr_array_new_with_free_func (g_object_unref);
  self->excluded = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->scene.pins = g_array_new (FALSE, TRUE, sizeof (PxMatchPin));
  g_array_set_clear_func (self->scene.pins, pin_clear);
  self->scene.opacity = 0.5;
  self->scene.mode = self->mode;
  self->drag_pin = -1;
  self->history = px_pin_history_new ();

  _px_correspondence_page_actions_init (self);
  update_history_actions (self);

  {
    // The source list follows the privacy switch (px_study_dup_display_title).
    GtkExpression *privacy = gtk_property_expression_new (PX_TYPE_CORRESPONDENCE_PAGE,
                                                          gtk_object_expression_new (G_OBJECT (self)),
                                                          "privacy");

    px_study_dropdown_setup (self->source_dropdown,
                             gtk_cclosure_expression_new (G_TYPE_STRING, NULL, 1, &privacy,
                                                          G_CALLBACK (source_title), NULL, NULL));
  }
  g_signal_connect_swapped (self->source_dropdown, "notify::selected-item",
                            G_CALLBACK (on_source_selected), self);
  g_signal_connect_swapped (self->opacity, "value-changed", G_CALLBACK (gtk_widget_queue_draw), self->area);
  g_signal_connect_swapped (self->buddies_k, "value-changed", G_CALLBACK (_px_correspondence_page_update_buddies), self);
  g_signal_connect_swapped (self->buddies_k, "value-changed", G_CALLBACK (_px_correspondence_page_refresh), self);

  gtk_drawing_area_set_draw_func (self->area, draw_area, self, NULL);
  // The window/level gestures first: tests find the left-button drag as the first one.
  _px_correspondence_page_window_init (self);
  _px_correspondence_page_input_init (self);

  _px_correspondence_page_rebuild (self);
}

void
px_correspondence_page_set_studies (PxCorrespondencePage *self,
                                    GListModel           *studies)
{
  g_return_if_fail (PX_IS_CORRESPONDENCE_PAGE (self));

  if (self->studies != NULL)
    g_signal_handlers_disconnect_by_data (self->studies, self);
  g_set_object (&self->studies, studies);
  gtk_drop_down_set_model (self->source_dropdown, studies);
  if (studies != NULL)
    g_signal_connect_object (studies, "items-changed", G_CALLBACK (on_studies_changed), self,
                             G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  on_studies_changed (self);
}

static void
on_embedded (PxCorrespondencePage *self)
{
  try_build_context (self);
}

void
px_correspondence_page_set_embedder (PxCorrespondencePage *self,
                                     PxEmbedder           *embedder)
{
  g_return_if_fail (PX_IS_CORRESPONDENCE_PAGE (self));

  if (self->embedder != NULL)
    g_signal_handlers_disconnect_by_data (self->embedder, self);
  g_set_object (&self->embedder, embedder);
  if (embedder != NULL)
    {
      g_signal_connect_swapped (embedder, "embedded", G_CALLBACK (on_embedded), self);
      g_signal_connect_swapped (embedder, "notify::model", G_CALLBACK (on_model_changed), self);
    }
  _px_correspondence_page_rebuild (self);
}

/**
 * px_correspondence_page_set_source:
 *
 * Makes @study (one of the open studies) the source; the studies after it become targets.
 */
void
px_correspondence_page_set_source (PxCorrespondencePage *self,
                                   PxStudy              *study)
{
  g_return_if_fail (PX_IS_CORRESPONDENCE_PAGE (self));

  for (guint i = 0; self->studies != NULL && i < g_list_model_get_n_items (self->studies); i++)
    {
      g_autoptr(PxStudy) item = g_list_model_get_item (self->studies, i);

      if (item == study)
        gtk_drop_down_set_selected (self->source_dropdown, i);
    }
}

int
px_correspondence_page_get_n_panels (PxCorrespondencePage *self)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), 0);
  return self->scene.n_panels;
}

/**
 * px_correspondence_page_focus_point:
 *
 * Makes (@x, @y) of the source (continuous pixels) the query and gives the view the focus.
 */
void
px_correspondence_page_focus_point (PxCorrespondencePage *self,
                                    double                x,
                                    double                y)
{
  g_return_if_fail (PX_IS_CORRESPONDENCE_PAGE (self));

  _px_correspondence_page_set_query (self, x, y);
  gtk_widget_grab_focus (GTK_WIDGET (self->area));
}

gboolean
px_correspondence_page_get_ready (PxCorrespondencePage *self)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);
  return self->ctx != NULL;
}

guint
px_correspondence_page_get_n_targets (PxCorrespondencePage *self)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), 0);
  return self->targets->len;
}

/**
 * px_correspondence_page_get_answer:
 * @answer: (out): the current query's answer in @target
 *
 * Returns: %FALSE when there is no answered query
 */
gboolean
px_correspondence_page_get_answer (PxCorrespondencePage *self,
                                   guint                 target,
                                   PeacMatch            *answer)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);

  if (self->ctx == NULL || !self->scene.has_query || target >= self->targets->len)
    return FALSE;
  *answer = self->scene.answers[target];
  return TRUE;
}

/**
 * px_correspondence_page_get_buddies:
 * @buddies: (array length=max) (out caller-allocates): the best-buddy pairs drawn
 *
 * Returns: how many are drawn (0 while the best-buddies toggle is off)
 */
int
px_correspondence_page_get_buddies (PxCorrespondencePage *self,
                                    PeacBuddy            *buddies,
                                    int                   max)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), 0);

  memcpy (buddies, self->scene.buddies, sizeof (PeacBuddy) * MIN (max, self->scene.n_buddies));
  return MIN (max, self->scene.n_buddies);
}

// The matching mode in use ("corr.mode"; its default is the "matching-mode" setting).
PeacMatchMode
px_correspondence_page_get_mode (PxCorrespondencePage *self)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), PEAC_MATCH_GUIDED);
  return self->mode;
}

guint
px_correspondence_page_get_n_pins (PxCorrespondencePage *self)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), 0);
  return self->scene.pins->len;
}

/**
 * px_correspondence_page_get_pin:
 * @target: the target whose answer to return in @answer
 * @x: (out): the pin's source point (continuous pixels)
 *
 * Returns: %FALSE when @pin or @target is out of range
 */
gboolean
px_correspondence_page_get_pin (PxCorrespondencePage *self,
                                guint                 pin,
                                guint                 target,
                                double               *x,
                                double               *y,
                                PeacMatch            *answer)
{
  const PxMatchPin *p;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);

  if (pin >= self->scene.pins->len || target >= self->targets->len)
    return FALSE;
  p = &g_array_index (self->scene.pins, PxMatchPin, pin);
  *x = p->x;
  *y = p->y;
  *answer = p->match[target];
  return TRUE;
}

/**
 * px_correspondence_page_view_point:
 * @panel: 0 for the source, t + 1 for target t
 *
 * Where image point (@x, @y) of @panel lies in a view (or export) of @width × @height.
 */
void
px_correspondence_page_view_point (PxCorrespondencePage *self,
                                   double                width,
                                   double                height,
                                   int                   panel,
                                   double                x,
                                   double                y,
                                   double               *view_x,
                                   double               *view_y)
{
  g_return_if_fail (PX_IS_CORRESPONDENCE_PAGE (self));

  self->scene.grid_layout = _px_correspondence_page_get_flag (self, "grid");
  px_match_scene_to_view (&self->scene, width, height, panel, x, y, view_x, view_y);
}

