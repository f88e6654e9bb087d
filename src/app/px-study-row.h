// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxStudyRow: one entry of the study sidebar — thumbnail, file name and a summary line
// that leaves out patient identifiers while privacy mode is on.
#pragma once

#include <gtk/gtk.h>

#include "px-study.h"

G_BEGIN_DECLS

#define PX_TYPE_STUDY_ROW (px_study_row_get_type ())

G_DECLARE_FINAL_TYPE (PxStudyRow, px_study_row, PX, STUDY_ROW, GtkWidget)

GtkWidget *px_study_row_new         (void);
PxStudy   *px_study_row_get_study   (PxStudyRow *self);
void       px_study_row_set_study   (PxStudyRow *self,
                                     PxStudy    *study);
gboolean   px_study_row_get_privacy (PxStudyRow *self);
void       px_study_row_set_privacy (PxStudyRow *self,
                                     gboolean    privacy);

G_END_DECLS
