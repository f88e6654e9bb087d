// SPDX-License-Identifier: GPL-3.0-or-later
//
// The pointer and the keyboard on the correspondence view: hovering the source makes the
// query, a click pins it, arrow keys move it by cells and Enter pins it; in landmark mode
// a marker is dragged to correct it — on a target, or on the source where propagation
// placed it — each correction one undo step.
#include "config.h"

#include <math.h>

#include "px-correspondence-page-private.h"

#define GRAB_RADIUS 12.0

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
    _px_correspondence_page_set_query (self, ix, iy);
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
  if (!_px_correspondence_page_get_flag (self, "landmarks"))
    return;
  // A marker on a target, or a landmark's on the source (−1: the source) — propagated or
  // loaded; the user's own pins stay where they were placed on the source.
  for (guint i = 0; i < self->scene.pins->len; i++)
    for (int t = -1; t < (int) self->targets->len; t++)
      {
        PxMatchPin *pin = &g_array_index (self->scene.pins, PxMatchPin, i);
        double vx, vy;

        if (t < 0 && !pin->fused[0] && pin->structure == NULL)
          continue;
        px_match_scene_to_view (&self->scene, w, h, t + 1, t < 0 ? pin->x : pin->match[t].x,
                                t < 0 ? pin->y : pin->match[t].y, &vx, &vy);
        if (hypot (vx - x, vy - y) < best)
          {
            best = hypot (vx - x, vy - y);
            self->drag_pin = (int) i;
            self->drag_target = t;
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
    _px_correspondence_page_record_pins (self);
  self->drag_recorded = TRUE;
  pin = &g_array_index (self->scene.pins, PxMatchPin, self->drag_pin);
  // Corrected by hand: no longer the references' answer.
  pin->fused[self->drag_target + 1] = pin->doubtful[self->drag_target + 1] = FALSE;
  pin->spread[self->drag_target + 1] = 0;
  if (self->drag_target < 0)
    {
      pin->x = ix;
      pin->y = iy;
      _px_correspondence_page_answer_pin (self, pin);
    }
  else
    {
      pin->moved[self->drag_target] = TRUE;
      pin->match[self->drag_target].x = (float) ix;
      pin->match[self->drag_target].y = (float) iy;
    }
  _px_correspondence_page_refresh (self);
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
      _px_correspondence_page_set_query (self, ix, iy);
      _px_correspondence_page_record_pins (self);
      _px_correspondence_page_add_pin (self, NULL, ix, iy, -1);
      _px_correspondence_page_refresh (self);
    }
  self->drag_pin = -1;
}

void
_px_correspondence_page_move_query_cells (PxCorrespondencePage *self,
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
  _px_correspondence_page_set_query (self, (col + 0.5) * cw, (row + 0.5) * ch);
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
      _px_correspondence_page_move_query_cells (self, 0, -1);
      return TRUE;
    case GDK_KEY_Right:
      _px_correspondence_page_move_query_cells (self, 0, 1);
      return TRUE;
    case GDK_KEY_Up:
      _px_correspondence_page_move_query_cells (self, -1, 0);
      return TRUE;
    case GDK_KEY_Down:
      _px_correspondence_page_move_query_cells (self, 1, 0);
      return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
      g_action_group_activate_action (G_ACTION_GROUP (self->actions), "pin", NULL);
      return TRUE;
    default:
      return FALSE;
    }
}

void
_px_correspondence_page_input_init (PxCorrespondencePage *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkEventController *key = gtk_event_controller_key_new ();
  GtkGesture *drag = gtk_gesture_drag_new ();

  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), motion);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), GTK_EVENT_CONTROLLER (drag));
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), key);
}
