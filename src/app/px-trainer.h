// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxTrainer: one PEAC training run in a worker thread, seen from the main thread as
// properties (state, step, rate, ETA, message, checkpoint) and a growing array of loss
// points. Start, pause, resume and cancel; checkpoints and a CSV log in a folder.
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  PX_TRAINER_IDLE,
  PX_TRAINER_LOADING,
  PX_TRAINER_RUNNING,
  PX_TRAINER_PAUSED,
  PX_TRAINER_STOPPING,
  PX_TRAINER_DONE,
  PX_TRAINER_CANCELLED,
  PX_TRAINER_FAILED,
} PxTrainerState;

typedef struct {
  const char   *preset;       // a preset of the engine's registry (presets.h): "tiny", …
  int           img_size;     // pixels per side, replacing the preset's; 0: the preset's
  int           steps;
  int           batch;
  double        lr;
  guint64       seed;
  int           threads;      // 0: all cores
  int           save_every;   // steps between checkpoints; 0: only at the end
  const char   *init_from;    // a model file whose (teacher) weights start both branches,
                              // its configuration replacing preset and image size; NULL: random
  const char * const *data_folders; // nullable: stored with the checkpoint (`peac.run`) so
                                    // that the run can be resumed without adding them again
} PxTrainOptions;

typedef struct {
  long   step;
  double total, order, restore, global, local;
} PxLossPoint;

// One training sample as the network saw it a moment ago: grey crops of side × side pixels.
typedef struct {
  int      grid, cell, side;
  long     step;
  gboolean shuffled;      // the student's crop 1 has its cells shuffled (else distorted)
  guint8  *clean;         // crop 1
  guint8  *input;         // the student's crop 1
  guint8  *restored;      // the decoder's restoration of crop 1 from the student's tokens
  guint8  *crop2;         // crop 2 (the teacher's)
  int     *pair;          // [grid²]: crop-1 cell i ↔ crop-2 cell pair[i], or −1
} PxTrainSample;

#define PX_TYPE_TRAINER_STATE (px_trainer_state_get_type ())
GType px_trainer_state_get_type (void) G_GNUC_CONST;

#define PX_TYPE_TRAINER (px_trainer_get_type ())

G_DECLARE_FINAL_TYPE (PxTrainer, px_trainer, PX, TRAINER, GObject)

#define PX_TRAINER_CHECKPOINT_NAME "checkpoint.safetensors"
#define PX_TRAINER_LOG_NAME "log.csv"

void            px_trainer_options_defaults   (PxTrainOptions        *options);
PxTrainer      *px_trainer_new                (void);
gboolean        px_trainer_start              (PxTrainer             *self,
                                               const PxTrainOptions  *options,
                                               GPtrArray             *paths,
                                               const char            *folder,
                                               gboolean               resume,
                                               GError               **error);
void            px_trainer_pause              (PxTrainer             *self);
void            px_trainer_resume             (PxTrainer             *self);
void            px_trainer_cancel             (PxTrainer             *self);
PxTrainerState  px_trainer_get_state          (PxTrainer             *self);
gboolean        px_trainer_get_active         (PxTrainer             *self);
long            px_trainer_get_step           (PxTrainer             *self);
long            px_trainer_get_total_steps    (PxTrainer             *self);
double          px_trainer_get_fraction       (PxTrainer             *self);
double          px_trainer_get_images_per_second (PxTrainer          *self);
double          px_trainer_get_eta            (PxTrainer             *self);
const char     *px_trainer_get_message        (PxTrainer             *self);
const char     *px_trainer_get_checkpoint     (PxTrainer             *self);
long            px_trainer_get_saved_step     (PxTrainer             *self);
GArray         *px_trainer_get_points         (PxTrainer             *self);
const PxTrainSample *px_trainer_get_sample    (PxTrainer             *self);
gboolean        px_trainer_probe_checkpoint   (const char            *folder,
                                               long                  *step,
                                               long                  *total_steps);

G_END_DECLS
