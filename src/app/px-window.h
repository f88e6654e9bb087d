// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxWindow: the main window — study sidebar, viewer, DICOM tag panel, toasts for errors,
// the model in use, the view stack of pages, and the window-scoped actions (zoom, invert,
// window presets, tag panel, close, open model, show page).
#pragma once

#include <adwaita.h>

#include "px-correspondence-page.h"
#include "px-embedder.h"
#include "px-embedding-map-page.h"
#include "px-grid-matching-page.h"
#include "px-train-page.h"
#include "px-viewer.h"

G_BEGIN_DECLS

#define PX_TYPE_WINDOW (px_window_get_type ())

G_DECLARE_FINAL_TYPE (PxWindow, px_window, PX, WINDOW, AdwApplicationWindow)

PxWindow   *px_window_new          (GtkApplication *application);
void        px_window_open_files   (PxWindow       *self,
                                    GFile         **files,
                                    guint           n_files);
GListModel *px_window_get_studies  (PxWindow       *self);
PxStudy    *px_window_get_study    (PxWindow       *self);
PxViewer   *px_window_get_viewer   (PxWindow       *self);
gboolean    px_window_get_loading  (PxWindow       *self);
PxEmbedder *px_window_get_embedder (PxWindow       *self);
PxCorrespondencePage *px_window_get_correspondence_page (PxWindow *self);
PxEmbeddingMapPage   *px_window_get_embedding_map_page  (PxWindow *self);
PxGridMatchingPage   *px_window_get_grid_matching_page  (PxWindow *self);
PxTrainPage          *px_window_get_train_page          (PxWindow *self);
void        px_window_open_model   (PxWindow       *self,
                                    GFile          *file);
void        px_window_show_page    (PxWindow       *self,
                                    const char     *name);
void        px_window_show_toast   (PxWindow       *self,
                                    const char     *message);
void        px_window_show_error   (PxWindow       *self,
                                    const char     *message);

G_END_DECLS
