// SPDX-License-Identifier: GPL-3.0-or-later
//
// Window/level on the correspondence page. The left button places and moves points here,
// so window/level is the right-button drag (as in the viewer's classic bindings; this page
// has no zoom or pan for the radiology bindings' right drag to clash with): sideways for
// the width, up and down for the level, at the viewer's rate (a sweep of the image's data
// range per 512 pixels of travel). It changes the panel under the pointer only — the
// panels are different radiographs, often of different scanners and bit depths, so one
// window for all would suit none of them. The window belongs to the image and stays with
// it when the source or the targets change. A double right-click resets the panel under
// the pointer to the image's default window; "corr.reset-window" resets every panel.
#include "config.h"

#include <math.h>

#include "px-correspondence-page-private.h"

#define WINDOW_KEY "px-correspondence-window"

typedef struct {
  double center, width;
} PanelWindow;

static PxStudy *
panel_study (PxCorrespondencePage *self,
             int                   panel)
{
  return panel == 0 ? self->source : g_ptr_array_index (self->targets, panel - 1);
}

static void
render_panel (PxCorrespondencePage *self,
              int                   panel)
{
  PxStudy *study = panel_study (self, panel);
  const PanelWindow *win = g_object_get_data (G_OBJECT (study), WINDOW_KEY);
  cairo_surface_t *cached = g_object_get_data (G_OBJECT (study), "px-match-surface");

  g_clear_pointer (&self->scene.panels[panel].surface, cairo_surface_destroy);
  if (win != NULL)
    self->scene.panels[panel].surface = px_match_surface_for_window (px_study_get_image (study),
                                                                     PX_CORRESPONDENCE_SURFACE_SIDE,
                                                                     win->center, win->width);
  else if (cached != NULL)
    self->scene.panels[panel].surface = cairo_surface_reference (cached);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

/**
 * px_correspondence_page_get_panel_window:
 * @panel: 0 for the source, t + 1 for target t
 * @center: (out): the window centre (level) in modality units
 * @width: (out): the window width in modality units
 *
 * Returns: %FALSE when @panel is out of range
 */
gboolean
px_correspondence_page_get_panel_window (PxCorrespondencePage *self,
                                         int                   panel,
                                         double               *center,
                                         double               *width)
{
  const PanelWindow *win;
  PxStudy *study;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);

  if (panel < 0 || panel >= self->scene.n_panels)
    return FALSE;
  study = panel_study (self, panel);
  win = g_object_get_data (G_OBJECT (study), WINDOW_KEY);
  if (win != NULL)
    {
      *center = win->center;
      *width = win->width;
    }
  else
    px_image_default_window (px_study_get_image (study), center, width);
  return TRUE;
}

static void
set_panel_window (PxCorrespondencePage *self,
                  int                   panel,
                  double                center,
                  double                width)
{
  PanelWindow *win = g_new (PanelWindow, 1);

  win->center = center;
  win->width = MAX (width, 1.0);
  g_object_set_data_full (G_OBJECT (panel_study (self, panel)), WINDOW_KEY, win, g_free);
  render_panel (self, panel);
}

static void
reset_panel_window (PxCorrespondencePage *self,
                    int                   panel)
{
  g_object_set_data (G_OBJECT (panel_study (self, panel)), WINDOW_KEY, NULL);
  render_panel (self, panel);
}

// After a rebuild: the panels whose images have a window of their own show it.
void
_px_correspondence_page_window_apply (PxCorrespondencePage *self)
{
  for (int p = 0; p < self->scene.n_panels; p++)
    if (g_object_get_data (G_OBJECT (panel_study (self, p)), WINDOW_KEY) != NULL)
      render_panel (self, p);
}

static int
panel_at (PxCorrespondencePage *self,
          double                x,
          double                y)
{
  double ix, iy;

  return px_match_scene_locate (&self->scene, gtk_widget_get_width (GTK_WIDGET (self->area)),
                                gtk_widget_get_height (GTK_WIDGET (self->area)), x, y, &ix, &iy);
}

static void
on_window_drag_begin (GtkGestureDrag       *gesture,
                      double                x,
                      double                y,
                      PxCorrespondencePage *self)
{
  self->window_panel = panel_at (self, x, y);
  if (self->window_panel < 0)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  px_correspondence_page_get_panel_window (self, self->window_panel, &self->window_start[0],
                                           &self->window_start[1]);
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self->area), "all-scroll");
}

static void
on_window_drag_update (GtkGestureDrag       *gesture,
                       double                dx,
                       double                dy,
                       PxCorrespondencePage *self)
{
  const PxImage *image;
  double step;

  if (self->window_panel < 0 || self->window_panel >= self->scene.n_panels)
    return;
  image = px_study_get_image (panel_study (self, self->window_panel));
  // The viewer's rate: a full-range sweep takes 512 pixels of pointer travel.
  step = MAX (1e-3, (image->data_max - image->data_min) / 512.0);
  set_panel_window (self, self->window_panel, self->window_start[0] + dy * step,
                    self->window_start[1] + dx * step);
}

static void
on_window_drag_end (GtkGestureDrag       *gesture,
                    double                dx,
                    double                dy,
                    PxCorrespondencePage *self)
{
  self->window_panel = -1;
  gtk_widget_set_cursor (GTK_WIDGET (self->area), NULL);
}

static void
on_right_pressed (GtkGestureClick      *click,
                  int                   n_press,
                  double                x,
                  double                y,
                  PxCorrespondencePage *self)
{
  int panel = panel_at (self, x, y);

  if (n_press == 2 && panel >= 0)
    reset_panel_window (self, panel);
}

static void
reset_window_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  PxCorrespondencePage *self = user_data;

  for (int p = 0; p < self->scene.n_panels; p++)
    reset_panel_window (self, p);
}

static const GActionEntry window_actions[] = {
  { "reset-window", reset_window_action },
};

void
_px_correspondence_page_window_init (PxCorrespondencePage *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  self->window_panel = -1;
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_SECONDARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_window_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_window_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_window_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), GTK_EVENT_CONTROLLER (drag));
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (on_right_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), GTK_EVENT_CONTROLLER (click));
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), window_actions,
                                   G_N_ELEMENTS (window_actions), self);
}
