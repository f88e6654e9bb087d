// SPDX-License-Identifier: GPL-3.0-or-later
//
// What the two files of PxTrainPage share: the instance struct and the functions each calls
// in the other (px-train-page.c: the type, the dataset and the run's display;
// px-train-page-actions.c: the train.* actions).
#pragma once

#include <adwaita.h>

#include "px-embedder.h"
#include "px-loss-plot.h"
#include "px-train-page.h"
#include "px-trainer.h"

G_BEGIN_DECLS

struct _PxTrainPage
{
  GtkWidget       parent_instance;

  PxTrainer      *trainer;
  PxEmbedder     *embedder;
  GPtrArray      *folders;        // GFile
  GPtrArray      *usable;         // char * paths
  GPtrArray      *unreadable;     // char * "path: reason"
  GPtrArray      *passed_over;    // char * "path: reason": what the folder scans did not take
  guint           scanning;
  GCancellable   *cancellable;
  char           *checkpoint_folder;
  gboolean        can_resume;
  gboolean        loading_model;
  gboolean        closing;        // the user chose to stop and close
  gint64          run_started;

  GtkWidget      *paned;
  AdwActionRow   *dataset_row;
  GtkSpinner     *scan_spinner;
  AdwExpanderRow *unreadable_row;
  GtkLabel       *unreadable_label;
  AdwComboRow    *preset_row;
  GtkAdjustment  *img_size;
  GtkAdjustment  *steps;
  GtkAdjustment  *batch;
  GtkAdjustment  *lr;
  GtkAdjustment  *seed;
  GtkAdjustment  *threads;
  GtkAdjustment  *save_every;
  AdwActionRow   *folder_row;
  AdwActionRow   *steps_row;
  AdwActionRow   *init_row;
  char           *init_from;
  GtkWidget      *resume_bar;
  GtkLabel       *resume_label;
  char          **resume_folders; // the data folders the checkpoint's run trained on
  gboolean        resume_when_scanned;
  GtkProgressBar *progress_bar;
  GtkLabel       *message_label;
  PxLossPlot     *plot;
  GtkWidget      *sample_box;     // the captions and the drawing of the live sample
  GtkLabel       *sample_input_label;
  GtkDrawingArea *sample_area;
  GtkToggleButton *log_toggle;
  GtkAdjustment  *smoothing;
};

// px-train-page.c
void px_train_page_update_actions  (PxTrainPage    *self);
void px_train_page_update_dataset  (PxTrainPage    *self);

// px-train-page-actions.c
void px_train_page_install_actions (GtkWidgetClass *widget_class);
void px_train_page_start_run       (PxTrainPage    *self,
                                    gboolean        resume);

G_END_DECLS
