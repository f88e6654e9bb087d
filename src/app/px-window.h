// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxWindow: the main window — study sidebar, viewer, DICOM tag panel, toasts for errors,
// and the window-scoped actions (zoom, invert, window presets, tag panel, close).
#pragma once

#include <adwaita.h>

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
void        px_window_show_error   (PxWindow       *self,
                                    const char     *message);

G_END_DECLS
