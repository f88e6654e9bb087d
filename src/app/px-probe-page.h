// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxProbePage: how well the model in use transfers to a labelled task. Given a label CSV
// (an image column and one 0/1 column per finding, an optional train/val split column),
// a worker embeds every radiograph with the model in use, trains a linear probe (the
// engine's finetune.h) on the training rows and shows, for the validation rows, the ROC
// AUC of each finding, the mean AUC with its bootstrap interval, and the ROC curves;
// the curves export as PNG or SVG and the figures as CSV. Instead of a CSV, a labelled
// folder works too: one subfolder of radiographs per finding.
#pragma once

#include <gtk/gtk.h>

#include "px-embedder.h"

G_BEGIN_DECLS

#define PX_TYPE_PROBE_PAGE (px_probe_page_get_type ())

G_DECLARE_FINAL_TYPE (PxProbePage, px_probe_page, PX, PROBE_PAGE, GtkWidget)

void        px_probe_page_set_embedder    (PxProbePage *self,
                                           PxEmbedder  *embedder);
// A label CSV or a labelled folder.
void        px_probe_page_set_labels_file (PxProbePage *self,
                                           GFile       *file);
void        px_probe_page_set_images_folder (PxProbePage *self,
                                             GFile       *folder);
gboolean    px_probe_page_run             (PxProbePage *self);
void        px_probe_page_cancel          (PxProbePage *self);
gboolean    px_probe_page_get_running     (PxProbePage *self);
const char *px_probe_page_get_status      (PxProbePage *self);
int         px_probe_page_get_n_classes   (PxProbePage *self);
double      px_probe_page_get_class_auc   (PxProbePage *self,
                                           int          index,
                                           const char **name);
double      px_probe_page_get_mean_auc    (PxProbePage *self,
                                           double      *lo,
                                           double      *hi);
int         px_probe_page_get_embedding_dim (PxProbePage *self);
gboolean    px_probe_page_export          (PxProbePage *self,
                                           const char  *path,
                                           const char  *format,
                                           GError     **error);

G_END_DECLS
