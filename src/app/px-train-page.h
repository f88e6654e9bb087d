// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxTrainPage: training a PEAC model from the app, from scratch or fine-tuning a ViT model
// file — dataset folders, the run's settings, start, pause, continue and stop, progress
// with ETA and images/s, a live sample, loss curves, checkpoints, resuming an earlier run,
// and making a checkpoint the model in use.
#pragma once

#include <gtk/gtk.h>

#include "px-embedder.h"
#include "px-loss-plot.h"
#include "px-trainer.h"

G_BEGIN_DECLS

#define PX_TYPE_TRAIN_PAGE (px_train_page_get_type ())

G_DECLARE_FINAL_TYPE (PxTrainPage, px_train_page, PX, TRAIN_PAGE, GtkWidget)

GtkWidget  *px_train_page_new                   (void);
void        px_train_page_set_embedder          (PxTrainPage          *self,
                                                 PxEmbedder           *embedder);
void        px_train_page_add_folder            (PxTrainPage          *self,
                                                 GFile                *folder);
gboolean    px_train_page_get_scanning          (PxTrainPage          *self);
guint       px_train_page_get_n_usable          (PxTrainPage          *self);
guint       px_train_page_get_n_unreadable      (PxTrainPage          *self);
void        px_train_page_set_checkpoint_folder (PxTrainPage          *self,
                                                 const char           *folder);
const char *px_train_page_get_checkpoint_folder (PxTrainPage          *self);
void        px_train_page_set_options           (PxTrainPage          *self,
                                                 const PxTrainOptions *options);
void        px_train_page_get_options           (PxTrainPage          *self,
                                                 PxTrainOptions       *options);
void        px_train_page_set_init_from         (PxTrainPage          *self,
                                                 const char           *path);
gboolean    px_train_page_get_can_resume        (PxTrainPage          *self);
gboolean    px_train_page_confirm_close         (PxTrainPage          *self);
PxTrainer  *px_train_page_get_trainer           (PxTrainPage          *self);
PxLossPlot *px_train_page_get_loss_plot         (PxTrainPage          *self);

G_END_DECLS
