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
#include "px-correspondence-page.h"
#include "px-export.h"
#include "px-landmark-save.h"
#include "px-landmarks.h"
#include "px-match-scene.h"
#include "px-pin-history.h"
#include "px-window.h"

#define SURFACE_SIDE 1024
#define GRAB_RADIUS 12.0

struct _PxCorrespondencePage
{
  GtkWidget             parent_instance;

  GListModel           *studies;
  PxEmbedder           *embedder;
  gboolean              privacy;

  PxStudy              *source;
  GPtrArray            *targets;     // PxStudy
  GHashTable           *excluded;    // PxStudy the user unticked as targets
  PeacMatchContext     *ctx;
  PxMatchScene          scene;
  PeacMatchMode         mode;
  guint                 pin_counter;

  PxPinHistory         *history;     // pins per source image, undo and redo
  gboolean              drag_recorded;
  int                   drag_pin;    // pin being corrected, −1 when none
  int                   drag_target;
  double                drag_x, drag_y;

  GtkDropDown          *source_dropdown;
  GtkBox               *targets_box;
  GtkStack             *stack;
  GtkDrawingArea       *area;
  GtkLabel             *status_label;
  GtkAdjustment        *opacity;
  GtkAdjustment        *buddies_k;
  GSimpleActionGroup   *actions;
};

G_DEFINE_FINAL_TYPE (PxCorrespondencePage, px_correspondence_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_PRIVACY,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void rebuild (PxCorrespondencePage *self);
static void update_target_list (PxCorrespondencePage *self);

static gboolean
get_flag (PxCorrespondencePage *self,
          const char           *name)
{
  g_autoptr(GVariant) state = g_action_group_get_action_state (G_ACTION_GROUP (self->actions), name);

  return g_variant_get_boolean (state);
}

static void
pin_clear (gpointer data)
{
  g_free (((PxMatchPin *) data)->name);
}

static char *
panel_label (PxCorrespondencePage *self,
             int                   panel)
{
  PxStudy *study = panel == 0 ? self->source : g_ptr_array_index (self->targets, panel - 1);

  if (self->privacy)
    return panel == 0 ? g_strdup (_("Source")) :
      /* Translators: a target radiograph of the correspondence page, by number */
      g_strdup_printf (_("Target %d"), panel);
  return g_strdup (px_study_get_title (study));
}

// The file-name-safe counterpart of panel_label, for exports.
static char *
export_name (PxCorrespondencePage *self,
             int                   panel)
{
  PxStudy *study = panel == 0 ? self->source : g_ptr_array_index (self->targets, panel - 1);

  if (self->privacy)
    return panel == 0 ? g_strdup ("source") : g_strdup_printf ("target-%d", panel);
  return g_strdup (px_study_get_title (study));
}

static void
update_status (PxCorrespondencePage *self)
{
  g_autoptr(GString) text = g_string_new (NULL);

  if (self->source == NULL || self->targets->len == 0)
    ;
  else if (self->ctx == NULL)
    g_string_append (text, _("Embedding the radiographs with the model in use…"));
  else if (!self->scene.has_query)
    g_string_append (text, _("Point at the source to match; click or press Enter to pin; arrow keys move the query"));
  else
    for (guint t = 0; t < self->targets->len; t++)
      {
        const PeacMatch *a = &self->scene.answers[t];
        g_autofree char *name = panel_label (self, t + 1);

        if (t > 0)
          g_string_append (text, "   ");
        if (a->found)
          /* Translators: target name, the match in image pixels (x, y) and its confidence */
          g_string_append_printf (text, _("%s: at x %.0f, y %.0f px, confidence %.2f"),
                                  name, a->x, a->y, a->confidence);
        else if (self->mode != PEAC_MATCH_NEAREST)
          /* The registration always answers; the embedding just does not single the
           * answer out locally. */
          /* Translators: target name and the match in image pixels (x, y) */
          g_string_append_printf (text, _("%s: at x %.0f, y %.0f px, not confirmed by the embedding"),
                                  name, a->x, a->y);
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

static void
answer_pin (PxCorrespondencePage *self,
            PxMatchPin           *pin)
{
  for (guint t = 0; self->ctx != NULL && t < self->targets->len; t++)
    if (!pin->moved[t])
      peac_match_query (self->ctx, t, pin->x, pin->y, self->mode, &pin->match[t], NULL);
}

static void
update_buddies (PxCorrespondencePage *self)
{
  int k = (int) gtk_adjustment_get_value (self->buddies_k);

  self->scene.n_buddies = 0;
  if (self->ctx != NULL && self->targets->len > 0 && get_flag (self, "buddies"))
    self->scene.n_buddies = peac_match_buddies_spread (self->ctx, 0, MIN (k, PX_MATCH_MAX_BUDDIES),
                                                       self->scene.buddies);
}

static void
refresh (PxCorrespondencePage *self)
{
  update_status (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
set_query (PxCorrespondencePage *self,
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
  refresh (self);
}

static void
add_pin (PxCorrespondencePage *self,
         const char           *name,
         double                x,
         double                y,
         int                   colour)
{
  PxMatchPin pin = { 0 };

  self->pin_counter++;
  if (name != NULL)
    pin.name = g_strdup (name);
  else if (get_flag (self, "landmarks"))
    /* Translators: default name of a landmark pin, by number */
    pin.name = g_strdup_printf (_("Landmark %u"), self->pin_counter);
  else
    pin.name = g_strdup_printf ("%u", self->pin_counter);
  pin.colour = colour >= 0 ? colour : (int) (self->pin_counter - 1) % PX_MATCH_N_COLOURS;
  pin.x = x;
  pin.y = y;
  answer_pin (self, &pin);
  g_array_append_val (self->scene.pins, pin);
  refresh (self);
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
static void
record_pins (PxCorrespondencePage *self)
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
    answer_pin (self, &g_array_index (self->scene.pins, PxMatchPin, i));
  update_history_actions (self);
  refresh (self);
}

static void
undo_redo_action (GSimpleAction *action,
                  GVariant      *param,
                  gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;
  gboolean undo = g_str_equal (g_action_get_name (G_ACTION (action)), "undo");
  g_autoptr(GArray) pins = NULL;

  if (self->source == NULL)
    return;
  pins = undo ? px_pin_history_undo (self->history, self->source, take_pins (self))
              : px_pin_history_redo (self->history, self->source, take_pins (self));
  if (pins != NULL)
    restore_pins (self, pins);
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
    answer_pin (self, &g_array_index (self->scene.pins, PxMatchPin, i));
  update_buddies (self);
  refresh (self);
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
                                                           SURFACE_SIDE));
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
  rebuild (data);
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
      button = gtk_check_button_new_with_label (px_study_get_title (study));
      gtk_check_button_set_active (GTK_CHECK_BUTTON (button), active);
      gtk_widget_set_sensitive (button, active || self->targets->len < PX_MATCH_MAX_TARGETS);
      g_object_set_data_full (G_OBJECT (button), "px-study", g_object_ref (study), g_object_unref);
      g_signal_connect (button, "toggled", G_CALLBACK (on_target_toggled), self);
      gtk_box_append (self->targets_box, button);
    }
}

static void
rebuild (PxCorrespondencePage *self)
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
      refresh (self);
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
      self->scene.panels[i].label = panel_label (self, i);
      self->scene.panels[i].gh = self->scene.panels[i].gw = 1;
      g_ptr_array_add (wanted, study);
    }
  if (self->scene.has_query)
    set_query (self, self->scene.qx, self->scene.qy);
  px_pin_snapshot_apply (pins, self->scene.pins, self->targets);
  update_history_actions (self);

  render_surfaces (self, wanted);
  if (self->embedder != NULL)
    px_embedder_request (self->embedder, (PxStudy **) wanted->pdata, wanted->len);
  try_build_context (self);
  refresh (self);
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
  rebuild (self);
  kept = px_pin_history_unstash (self->history, study);
  restore_pins (self, kept);
}

static void
on_studies_changed (PxCorrespondencePage *self)
{
  rebuild (self);
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
  rebuild (self);
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
  self->scene.heatmap = get_flag (self, "heatmap");
  self->scene.grid_layout = get_flag (self, "grid");
  px_match_scene_draw (&self->scene, cr, width, height);
}

static void
on_motion (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           PxCorrespondencePage     *self)
{
  double ix, iy;

  if (self->drag_pin < 0 &&
      px_match_scene_locate (&self->scene, gtk_widget_get_width (GTK_WIDGET (self->area)),
                             gtk_widget_get_height (GTK_WIDGET (self->area)), x, y, &ix, &iy) == 0)
    set_query (self, ix, iy);
}

static void
on_drag_begin (GtkGestureDrag       *gesture,
               double                x,
               double                y,
               PxCorrespondencePage *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self->area));
  double h = gtk_widget_get_height (GTK_WIDGET (self->area));
  double best = GRAB_RADIUS;

  gtk_widget_grab_focus (GTK_WIDGET (self->area));
  self->drag_pin = -1;
  self->drag_recorded = FALSE;
  self->drag_x = x;
  self->drag_y = y;
  if (!get_flag (self, "landmarks"))
    return;
  for (guint i = 0; i < self->scene.pins->len; i++)
    for (guint t = 0; t < self->targets->len; t++)
      {
        PxMatchPin *pin = &g_array_index (self->scene.pins, PxMatchPin, i);
        double vx, vy;

        px_match_scene_to_view (&self->scene, w, h, (int) t + 1, pin->match[t].x, pin->match[t].y, &vx, &vy);
        if (hypot (vx - x, vy - y) < best)
          {
            best = hypot (vx - x, vy - y);
            self->drag_pin = (int) i;
            self->drag_target = (int) t;
          }
      }
}

static void
on_drag_update (GtkGestureDrag       *gesture,
                double                dx,
                double                dy,
                PxCorrespondencePage *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self->area));
  double h = gtk_widget_get_height (GTK_WIDGET (self->area));
  double ix, iy;
  PxMatchPin *pin;

  if (self->drag_pin < 0 ||
      px_match_scene_locate (&self->scene, w, h, self->drag_x + dx, self->drag_y + dy, &ix, &iy) != self->drag_target + 1)
    return;
  if (!self->drag_recorded)
    record_pins (self);
  self->drag_recorded = TRUE;
  pin = &g_array_index (self->scene.pins, PxMatchPin, self->drag_pin);
  pin->moved[self->drag_target] = TRUE;
  pin->match[self->drag_target].x = (float) ix;
  pin->match[self->drag_target].y = (float) iy;
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
on_drag_end (GtkGestureDrag       *gesture,
             double                dx,
             double                dy,
             PxCorrespondencePage *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self->area));
  double h = gtk_widget_get_height (GTK_WIDGET (self->area));
  double ix, iy;

  // A press that did not move is a click: on the source it pins the point.
  if (self->drag_pin < 0 && hypot (dx, dy) < 4 &&
      px_match_scene_locate (&self->scene, w, h, self->drag_x, self->drag_y, &ix, &iy) == 0)
    {
      set_query (self, ix, iy);
      record_pins (self);
      add_pin (self, NULL, ix, iy, -1);
    }
  self->drag_pin = -1;
}

static void
move_query_cells (PxCorrespondencePage *self,
                  int                   drow,
                  int                   dcol)
{
  const PxMatchPanel *src = &self->scene.panels[0];
  double cw, ch;
  int row, col;

  if (self->scene.n_panels == 0)
    return;
  cw = src->width / src->gw;
  ch = src->height / src->gh;
  row = self->scene.has_query ? (int) (self->scene.qy / ch) : src->gh / 2;
  col = self->scene.has_query ? (int) (self->scene.qx / cw) : src->gw / 2;
  if (self->scene.has_query)
    row += drow, col += dcol;
  row = CLAMP (row, 0, src->gh - 1);
  col = CLAMP (col, 0, src->gw - 1);
  set_query (self, (col + 0.5) * cw, (row + 0.5) * ch);
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                PxCorrespondencePage  *self)
{
  switch (keyval)
    {
    case GDK_KEY_Left:
      move_query_cells (self, 0, -1);
      return TRUE;
    case GDK_KEY_Right:
      move_query_cells (self, 0, 1);
      return TRUE;
    case GDK_KEY_Up:
      move_query_cells (self, -1, 0);
      return TRUE;
    case GDK_KEY_Down:
      move_query_cells (self, 1, 0);
      return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
      g_action_group_activate_action (G_ACTION_GROUP (self->actions), "pin", NULL);
      return TRUE;
    default:
      return FALSE;
    }
}

static void
toggle_change_state (GSimpleAction *action,
                     GVariant      *state,
                     gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  g_simple_action_set_state (action, state);
  update_buddies (self);
  refresh (self);
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
  set_query (self, (col + 0.5) * src->width / src->gw, (row + 0.5) * src->height / src->gh);
}

static void
query_point_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  double x, y;

  g_variant_get (param, "(dd)", &x, &y);
  set_query (user_data, x, y);
}

static void
move_query_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  int drow, dcol;

  g_variant_get (param, "(ii)", &drow, &dcol);
  move_query_cells (user_data, drow, dcol);
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
  rebuild (self);
}

static void
pin_action (GSimpleAction *action,
            GVariant      *param,
            gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  if (self->scene.has_query)
    {
      record_pins (self);
      add_pin (self, NULL, self->scene.qx, self->scene.qy, -1);
    }
}

static void
clear_pins_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  if (self->scene.pins->len > 0)
    record_pins (self);
  g_array_set_size (self->scene.pins, 0);
  self->pin_counter = 0;
  refresh (self);
}

static void
mode_change_state (GSimpleAction *action,
                   GVariant      *state,
                   gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  g_simple_action_set_state (action, state);
  self->mode = MAX (peac_match_mode_parse (g_variant_get_string (state, NULL)), PEAC_MATCH_GUIDED);
  self->scene.mode = self->mode;
  answer_query (self);
  for (guint i = 0; i < self->scene.pins->len; i++)
    answer_pin (self, &g_array_index (self->scene.pins, PxMatchPin, i));
  refresh (self);
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
show_error (PxCorrespondencePage *self,
            GError               *error)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (PX_IS_WINDOW (root))
    px_window_show_error (PX_WINDOW (root), error->message);
  else
    g_warning ("%s", error->message);
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
    show_error (self, error);
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
    show_error (self, error);
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
    show_error (self, error);
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
  { "undo", undo_redo_action },
  { "redo", undo_redo_action },
};

static void
px_correspondence_page_dispose (GObject *object)
{
  PxCorrespondencePage *self = (PxCorrespondencePage *)object;
  GtkWidget *child;

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
              self->scene.panels[i].label = panel_label (self, i);
            }
          refresh (self);
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
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK, "corr.undo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "corr.redo", NULL);
}

static void
px_correspondence_page_init (PxCorrespondencePage *self)
{
  GtkEventController *motion, *key;
  GtkGesture *drag;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->targets = g_ptr_array_new_with_free_func (g_object_unref);
  self->excluded = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->scene.pins = g_array_new (FALSE, TRUE, sizeof (PxMatchPin));
  g_array_set_clear_func (self->scene.pins, pin_clear);
  self->scene.opacity = 0.5;
  self->scene.mode = self->mode;
  self->drag_pin = -1;
  self->history = px_pin_history_new ();

  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), page_actions,
                                   G_N_ELEMENTS (page_actions), self);
  update_history_actions (self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "corr", G_ACTION_GROUP (self->actions));

  gtk_drop_down_set_expression (self->source_dropdown,
                                gtk_property_expression_new (PX_TYPE_STUDY, NULL, "title"));
  g_signal_connect_swapped (self->source_dropdown, "notify::selected-item",
                            G_CALLBACK (on_source_selected), self);
  g_signal_connect_swapped (self->opacity, "value-changed", G_CALLBACK (gtk_widget_queue_draw), self->area);
  g_signal_connect_swapped (self->buddies_k, "value-changed", G_CALLBACK (update_buddies), self);
  g_signal_connect_swapped (self->buddies_k, "value-changed", G_CALLBACK (refresh), self);

  gtk_drawing_area_set_draw_func (self->area, draw_area, self, NULL);
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), motion);
  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), GTK_EVENT_CONTROLLER (drag));
  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), key);

  rebuild (self);
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
  rebuild (self);
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

  set_query (self, x, y);
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

  self->scene.grid_layout = get_flag (self, "grid");
  px_match_scene_to_view (&self->scene, width, height, panel, x, y, view_x, view_y);
}

static void
draw_export (gpointer  data,
             cairo_t  *cr,
             double    width,
             double    height)
{
  PxCorrespondencePage *self = data;

  self->scene.opacity = gtk_adjustment_get_value (self->opacity);
  self->scene.heatmap = get_flag (self, "heatmap");
  self->scene.grid_layout = get_flag (self, "grid");
  px_match_scene_draw (&self->scene, cr, width, height);
}

/**
 * px_correspondence_page_export_view:
 * @format: "png" or "svg"
 *
 * Draws the view as it is on screen (without the tool bar) into a file.
 */
gboolean
px_correspondence_page_export_view (PxCorrespondencePage *self,
                                    const char           *path,
                                    const char           *format,
                                    double                width,
                                    double                height,
                                    GError              **error)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);
  return px_export_drawing (path, format, width, height, draw_export, self, error);
}

/**
 * px_correspondence_page_export_points:
 * @format: "csv" or "json"
 *
 * Writes every pin with its answer in every target (see px_export_match_points()). With
 * privacy on, images are named "source" and "target-N" instead of by their titles.
 */
gboolean
px_correspondence_page_export_points (PxCorrespondencePage *self,
                                      const char           *path,
                                      const char           *format,
                                      GError              **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);

  for (int p = 0; p < self->scene.n_panels; p++)
    g_ptr_array_add (names, export_name (self, p));
  g_ptr_array_add (names, NULL);
  if (!px_export_match_points (&self->scene, (const char * const *) names->pdata, path, format, error))
    return FALSE;
  if (self->source != NULL)
    px_pin_history_mark_saved (self->history, self->source);
  return TRUE;
}

/**
 * px_correspondence_page_get_panel_study:
 * @panel: 0 for the source, t + 1 for target t
 *
 * Returns: (transfer none) (nullable): the study shown in @panel
 */
PxStudy *
px_correspondence_page_get_panel_study (PxCorrespondencePage *self,
                                        int                   panel)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), NULL);

  if (panel < 0 || panel >= self->scene.n_panels)
    return NULL;
  return panel == 0 ? self->source : g_ptr_array_index (self->targets, panel - 1);
}

/**
 * px_correspondence_page_dup_landmarks:
 * @panel: 0 for the source, t + 1 for target t
 *
 * The pins as landmarks of @panel's image (pixel-centre convention, palette colours). On a
 * target: the answers found there or corrected by hand; the guided mode's unconfirmed
 * answers (a registration always answers), marked unconfirmed; and, when @with_rejected
 * asks for them, the rejected candidates of nearest-mode "no match" answers, marked so too.
 * The image path is the file's base name, left out with privacy on.
 *
 * Returns: (transfer full): a new landmark set
 */
PxLandmarkSet *
px_correspondence_page_dup_landmarks (PxCorrespondencePage *self,
                                      int                   panel,
                                      gboolean              with_rejected)
{
  PxLandmarkSet *set;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), NULL);
  g_return_val_if_fail (panel >= 0 && panel < self->scene.n_panels, NULL);

  set = px_landmark_set_new ();
  if (!self->privacy)
    set->image_path = g_file_get_basename (px_study_get_file (px_correspondence_page_get_panel_study (self, panel)));
  set->image_width = (int) self->scene.panels[panel].width;
  set->image_height = (int) self->scene.panels[panel].height;
  for (guint i = 0; i < self->scene.pins->len; i++)
    {
      const PxMatchPin *pin = &g_array_index (self->scene.pins, PxMatchPin, i);
      const PeacMatch *m = panel > 0 ? &pin->match[panel - 1] : NULL;
      double r, g, b;
      char colour[8];

      gboolean unconfirmed = panel > 0 && !m->found && !pin->moved[panel - 1];

      if (unconfirmed && self->scene.mode == PEAC_MATCH_NEAREST && !with_rejected)
        continue;
      px_match_palette (pin->colour, &r, &g, &b);
      g_snprintf (colour, sizeof colour, "#%02x%02x%02x", (int) lround (r * 255),
                  (int) lround (g * 255), (int) lround (b * 255));
      PxLandmark *l = px_landmark_set_add (set, pin->name, NULL, -1,
                                           (panel == 0 ? pin->x : m->x) - 0.5,
                                           (panel == 0 ? pin->y : m->y) - 0.5, colour);
      l->unconfirmed = unconfirmed;
    }
  return set;
}

/**
 * px_correspondence_page_dup_landmark_file_names:
 *
 * Returns: (transfer full): the names px_correspondence_page_save_landmarks() gives the
 *   files of the panels, in panel order: the image's name, or "source" and "target-N"
 *   with privacy on, then ".landmarks.json"
 */
GStrv
px_correspondence_page_dup_landmark_file_names (PxCorrespondencePage *self)
{
  GStrv names;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), NULL);

  names = g_new0 (char *, self->scene.n_panels + 1);
  for (int p = 0; p < self->scene.n_panels; p++)
    {
      g_autofree char *name = export_name (self, p);

      names[p] = g_strdup_printf ("%s.landmarks.json", name);
    }
  return names;
}

/**
 * px_correspondence_page_save_landmarks:
 *
 * Writes one landmark JSON file per panel into @folder (see
 * px_correspondence_page_dup_landmarks()), named as
 * px_correspondence_page_dup_landmark_file_names() says. Existing files are replaced:
 * px-landmark-save.c asks first.
 */
gboolean
px_correspondence_page_save_landmarks (PxCorrespondencePage *self,
                                       const char           *folder,
                                       GError              **error)
{
  g_auto(GStrv) names = NULL;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);

  names = px_correspondence_page_dup_landmark_file_names (self);
  for (int p = 0; p < self->scene.n_panels; p++)
    {
      g_autoptr(PxLandmarkSet) set = px_correspondence_page_dup_landmarks (self, p, FALSE);
      g_autofree char *path = g_build_filename (folder, names[p], NULL);

      if (!px_landmarks_save_json (set, path, error))
        return FALSE;
    }
  if (self->source != NULL)
    px_pin_history_mark_saved (self->history, self->source);
  return TRUE;
}

/**
 * px_correspondence_page_get_unsaved:
 * @study: (nullable): one image, or %NULL for any
 *
 * Returns: whether pins on @study as the source were placed, moved or removed since
 *   they were last saved (Save Landmarks, Export Points)
 */
gboolean
px_correspondence_page_get_unsaved (PxCorrespondencePage *self,
                                    PxStudy              *study)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);
  return px_pin_history_get_unsaved (self->history, study);
}

/**
 * px_correspondence_page_load_landmarks:
 *
 * Replaces the pins with the landmarks of a JSON file placed on the source, and answers
 * them in every target. Landmark mode is switched on.
 */
gboolean
px_correspondence_page_load_landmarks (PxCorrespondencePage *self,
                                       const char           *path,
                                       GError              **error)
{
  g_autoptr(PxLandmarkSet) set = NULL;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);

  set = px_landmarks_load_json (path, error);
  if (set == NULL)
    return FALSE;
  g_action_group_change_action_state (G_ACTION_GROUP (self->actions), "landmarks", g_variant_new_boolean (TRUE));
  record_pins (self);
  g_array_set_size (self->scene.pins, 0);
  self->pin_counter = 0;
  for (guint i = 0; i < px_landmark_set_size (set); i++)
    {
      const PxLandmark *l = px_landmark_set_get (set, i);
      int colour = -1;

      for (int k = 0; l->color != NULL && k < PX_MATCH_N_COLOURS; k++)
        {
          double r, g, b;
          char hex[8];

          px_match_palette (k, &r, &g, &b);
          g_snprintf (hex, sizeof hex, "#%02x%02x%02x", (int) lround (r * 255),
                      (int) lround (g * 255), (int) lround (b * 255));
          if (g_ascii_strcasecmp (hex, l->color) == 0)
            colour = k;
        }
      add_pin (self, l->name, l->x + 0.5, l->y + 0.5, colour);
    }
  return TRUE;
}
