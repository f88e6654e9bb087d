// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxTagPanel: the side panel listing the DICOM header of the shown study, searchable,
// with identifying values masked while privacy mode is on.
#pragma once

#include <gtk/gtk.h>

#include "px-study.h"

G_BEGIN_DECLS

#define PX_TYPE_TAG_PANEL (px_tag_panel_get_type ())

G_DECLARE_FINAL_TYPE (PxTagPanel, px_tag_panel, PX, TAG_PANEL, GtkWidget)

PxStudy    *px_tag_panel_get_study   (PxTagPanel *self);
void        px_tag_panel_set_study   (PxTagPanel *self,
                                      PxStudy    *study);
gboolean    px_tag_panel_get_privacy (PxTagPanel *self);
void        px_tag_panel_set_privacy (PxTagPanel *self,
                                      gboolean    privacy);
GListModel *px_tag_panel_get_lines   (PxTagPanel *self);

G_END_DECLS
