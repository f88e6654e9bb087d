// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxCorrespondencePage: a source radiograph and up to eight targets from the open studies;
// pointing at the source shows the matched cell, its confidence (or "no match") and the
// similarity heat map on every target; pins, best buddies, landmark mode with correction
// by dragging, exports of the view (PNG, SVG) and of the points (CSV, JSON), landmarks
// propagated from a folder of annotated references, and the cardiothoracic ratio of the
// points shown.
#pragma once

#include <gtk/gtk.h>

#include "match.h"
#include "px-embedder.h"
#include "px-landmarks.h"

G_BEGIN_DECLS

#define PX_TYPE_CORRESPONDENCE_PAGE (px_correspondence_page_get_type ())

G_DECLARE_FINAL_TYPE (PxCorrespondencePage, px_correspondence_page, PX, CORRESPONDENCE_PAGE, GtkWidget)

void     px_correspondence_page_set_studies   (PxCorrespondencePage *self,
                                               GListModel           *studies);
void     px_correspondence_page_set_embedder  (PxCorrespondencePage *self,
                                               PxEmbedder           *embedder);
void     px_correspondence_page_set_source    (PxCorrespondencePage *self,
                                               PxStudy              *study);
int      px_correspondence_page_get_n_panels  (PxCorrespondencePage *self);
gboolean px_correspondence_page_get_ready     (PxCorrespondencePage *self);
guint    px_correspondence_page_get_n_targets (PxCorrespondencePage *self);
gboolean px_correspondence_page_get_answer    (PxCorrespondencePage *self,
                                               guint                 target,
                                               PeacMatch            *answer);
int      px_correspondence_page_get_buddies   (PxCorrespondencePage *self,
                                               PeacBuddy            *buddies,
                                               int                   max);
guint    px_correspondence_page_get_n_pins    (PxCorrespondencePage *self);
PeacMatchMode px_correspondence_page_get_mode (PxCorrespondencePage *self);
gboolean px_correspondence_page_get_pin       (PxCorrespondencePage *self,
                                               guint                 pin,
                                               guint                 target,
                                               double               *x,
                                               double               *y,
                                               PeacMatch            *answer);
void     px_correspondence_page_view_point    (PxCorrespondencePage *self,
                                               double                width,
                                               double                height,
                                               int                   panel,
                                               double                x,
                                               double                y,
                                               double               *view_x,
                                               double               *view_y);
gboolean px_correspondence_page_export_view   (PxCorrespondencePage *self,
                                               const char           *path,
                                               const char           *format,
                                               double                width,
                                               double                height,
                                               GError              **error);
gboolean px_correspondence_page_export_points (PxCorrespondencePage *self,
                                               const char           *path,
                                               const char           *format,
                                               GError              **error);
gboolean px_correspondence_page_get_panel_window (PxCorrespondencePage *self,
                                                  int                   panel,
                                                  double               *center,
                                                  double               *width);
PxStudy       *px_correspondence_page_get_panel_study (PxCorrespondencePage *self,
                                                       int                   panel);
PxLandmarkSet *px_correspondence_page_dup_landmarks   (PxCorrespondencePage *self,
                                                       int                   panel,
                                                       gboolean              with_rejected);
void     px_correspondence_page_focus_point   (PxCorrespondencePage *self,
                                               double                x,
                                               double                y);
GStrv    px_correspondence_page_dup_landmark_file_names (PxCorrespondencePage *self);
gboolean px_correspondence_page_get_unsaved (PxCorrespondencePage *self,
                                             PxStudy              *study);
gboolean px_correspondence_page_save_landmarks (PxCorrespondencePage *self,
                                                const char           *folder,
                                                GError              **error);
gboolean px_correspondence_page_load_landmarks (PxCorrespondencePage *self,
                                                const char           *path,
                                                GError              **error);

typedef void (*PxPropagateProgress) (double   fraction,
                                     gpointer progress_data);

void     px_correspondence_page_propagate_async  (PxCorrespondencePage  *self,
                                                  const char            *folder,
                                                  int                    k,
                                                  GCancellable          *cancellable,
                                                  PxPropagateProgress    progress,
                                                  gpointer               progress_data,
                                                  GAsyncReadyCallback    callback,
                                                  gpointer               user_data);
gboolean px_correspondence_page_propagate_finish (PxCorrespondencePage  *self,
                                                  GAsyncResult          *result,
                                                  GError               **error);

G_END_DECLS
