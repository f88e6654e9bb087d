// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxViewerCompare: the viewer's side-by-side comparison. Beside the window's viewer it shows
// a second open radiograph in a viewer of its own (chosen in its header) and, with Link on,
// a crosshair at the model's match of the place the pointer is on in the other image —
// either way. The matches come from the correspondence page's matcher (match.h): one
// PeacMatchContext each way, built once per pair in a worker, then queried on every pointer
// move (microseconds).
#pragma once

#include <gtk/gtk.h>

#include "match.h"
#include "px-embedder.h"
#include "px-viewer.h"

G_BEGIN_DECLS

#define PX_TYPE_VIEWER_COMPARE (px_viewer_compare_get_type ())

G_DECLARE_FINAL_TYPE (PxViewerCompare, px_viewer_compare, PX, VIEWER_COMPARE, GtkWidget)

void      px_viewer_compare_setup      (PxViewerCompare *self,
                                        PxViewer        *primary,
                                        GListModel      *studies,
                                        PxEmbedder      *embedder);
gboolean  px_viewer_compare_get_active (PxViewerCompare *self);
void      px_viewer_compare_set_active (PxViewerCompare *self,
                                        gboolean         active);
PxViewer *px_viewer_compare_get_viewer (PxViewerCompare *self);
void      px_viewer_compare_set_study  (PxViewerCompare *self,
                                        PxStudy         *study);
gboolean  px_viewer_compare_get_linked (PxViewerCompare *self);
void      px_viewer_compare_set_linked (PxViewerCompare *self,
                                        gboolean         linked);
gboolean  px_viewer_compare_get_busy   (PxViewerCompare *self);
gboolean  px_viewer_compare_get_ready  (PxViewerCompare *self);
PeacMatchMode px_viewer_compare_get_mode (PxViewerCompare *self);
const char *px_viewer_compare_get_status (PxViewerCompare *self);

G_END_DECLS
