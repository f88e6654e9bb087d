// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxViewer: the radiograph canvas. Shows one PxStudy with zoom, pan, window/level and
// inversion, and optionally a crosshair on one image point; everything it shows is exposed
// so that actions, the overlay label and tests can bind to it.
#pragma once

#include <gtk/gtk.h>

#include "px-study.h"

G_BEGIN_DECLS

#define PX_TYPE_VIEWER (px_viewer_get_type ())

G_DECLARE_FINAL_TYPE (PxViewer, px_viewer, PX, VIEWER, GtkWidget)

// What a mouse drag does on the viewer.
typedef enum {
  PX_DRAG_PAN,
  PX_DRAG_WINDOW,   // window/level: horizontal = width, vertical = centre
  PX_DRAG_ZOOM,     // up zooms in
} PxDragRole;

#define PX_VIEWER_ZOOM_MIN 0.02
#define PX_VIEWER_ZOOM_MAX 32.0

GtkWidget *px_viewer_new                (void);
PxDragRole px_viewer_drag_role          (gboolean  radiology,
                                         guint     button);
PxStudy   *px_viewer_get_study          (PxViewer *self);
void       px_viewer_set_study          (PxViewer *self,
                                         PxStudy  *study);
double     px_viewer_get_zoom           (PxViewer *self);
void       px_viewer_set_zoom           (PxViewer *self,
                                         double    zoom);
gboolean   px_viewer_get_zoom_to_fit    (PxViewer *self);
void       px_viewer_zoom_to_fit        (PxViewer *self);
void       px_viewer_zoom_in            (PxViewer *self);
void       px_viewer_zoom_out           (PxViewer *self);
double     px_viewer_get_window_center  (PxViewer *self);
double     px_viewer_get_window_width   (PxViewer *self);
void       px_viewer_set_window         (PxViewer *self,
                                         double    center,
                                         double    width);
void       px_viewer_reset_window       (PxViewer *self);
void       px_viewer_set_full_range     (PxViewer *self);
gboolean   px_viewer_get_inverted       (PxViewer *self);
void       px_viewer_set_inverted       (PxViewer *self,
                                         gboolean  inverted);
gboolean   px_viewer_widget_to_image    (PxViewer *self,
                                         double    x,
                                         double    y,
                                         double   *image_x,
                                         double   *image_y);
void       px_viewer_image_to_widget    (PxViewer *self,
                                         double    x,
                                         double    y,
                                         double   *widget_x,
                                         double   *widget_y);
void       px_viewer_set_crosshair      (PxViewer *self,
                                         gboolean  shown,
                                         double    x,
                                         double    y,
                                         gboolean  confident);
gboolean   px_viewer_get_crosshair      (PxViewer *self,
                                         double   *x,
                                         double   *y);

G_END_DECLS
