// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxStudy: one opened radiograph as the app sees it — the loaded PxImage, where it came
// from, a thumbnail for the sidebar and its descriptive fields. Privacy is not applied
// here: views decide what to show. Loading happens off the main thread.
#pragma once

#include <gtk/gtk.h>

#include "px-image.h"

G_BEGIN_DECLS

#define PX_TYPE_STUDY (px_study_get_type ())

G_DECLARE_FINAL_TYPE (PxStudy, px_study, PX, STUDY, GObject)

#define PX_STUDY_THUMBNAIL_SIZE 96

GFile          *px_study_get_file           (PxStudy *self);
const char     *px_study_get_title          (PxStudy *self);
const char     *px_study_get_patient_name   (PxStudy *self);
const char     *px_study_get_patient_id     (PxStudy *self);
const char     *px_study_get_view           (PxStudy *self);
const char     *px_study_get_date           (PxStudy *self);
const char     *px_study_get_format         (PxStudy *self);
GdkTexture     *px_study_get_thumbnail      (PxStudy *self);
const PxImage  *px_study_get_image          (PxStudy *self);
char           *px_study_dup_summary        (PxStudy *self,
                                             gboolean privacy);
char           *px_study_dup_display_title  (PxStudy *self,
                                             gboolean privacy);
char          **px_study_dup_tags           (PxStudy *self,
                                             gboolean privacy);
gboolean        px_tag_is_identifying       (const char *line);
char           *px_privacy_mask_name        (const char     *name,
                                             PxStudy *const *studies,
                                             guint           n_studies);

void            px_study_load_async         (GFile               *file,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
PxStudy        *px_study_load_finish        (GAsyncResult        *result,
                                             GError             **error);

G_END_DECLS
