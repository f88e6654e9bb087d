// SPDX-License-Identifier: GPL-3.0-or-later
//
// What the two halves of PxTrainer share: the instance struct (its main-thread fields and
// those shared with the worker under the lock), the job one run's worker owns, and the
// functions each half calls in the other (px-trainer.c, px-trainer-worker.c).
#pragma once

#include <stdatomic.h>
#include <stdio.h>

#include "px-trainer.h"
#include "rng.h"
#include "model.h"
#include "peac-loss.h"
#include "train.h"

G_BEGIN_DECLS

struct _PxTrainer
{
  GObject         parent_instance;

  // Main thread only.
  PxTrainerState  state;
  long            step, total_steps, saved_step;
  double          images_per_second, eta;
  char           *message;
  char           *checkpoint;
  GArray         *points;          // PxLossPoint
  PxTrainSample  *sample;
  GThread        *thread;          // the run's own thread (px-trainer.c says why), NULL when none
  GTask          *task;            // the run, returned by the worker as it ends
  GCancellable   *cancellable;     // of the run
  gboolean        watching_shutdown;

  // Shared with the worker, under lock.
  GMutex          lock;
  GCond           cond;
  atomic_int      abort_flag;      // raised by the cancellable or a failed save
  gboolean        paused;
  gboolean        flush_scheduled;
  GArray         *pending;         // PxLossPoint not yet in points
  PxTrainSample  *pending_sample;
  PxTrainerState  worker_state;
  long            worker_step, worker_total, worker_saved;
  double          worker_rate, worker_eta;
  char           *worker_message;
};

typedef struct {
  PxTrainer        *self;          // strong: released with the task's data
  GTask            *task;          // borrowed from the trainer: untouched after its return
  PxTrainOptions    options;
  char            **paths;
  char             *checkpoint;
  char             *log_path;
  gboolean          resume;
  PeacTrainSession *session;
  FILE             *log;
  long              first_step;
  gint64            started, paused_us;
  const PeacGrey   *images;
  int               n_images;
  PeacObjConfig     obj;
  PeacRng           sample_rng;
  gint64            last_sample;
  PeacModel        *init;          // fine-tuning: the model whose weights start the run
  char             *run_info;      // a new run's `peac.run` record (px-train-run.c)
} PxTrainerJob;

// px-trainer.c
void     px_trainer_sample_free           (PxTrainSample   *sample);
void     px_trainer_schedule_flush_locked (PxTrainer       *self);
void     px_trainer_post                  (PxTrainerJob    *job,
                                           PxTrainerState   state,
                                           char            *message);

// px-trainer-worker.c
gboolean px_trainer_run_geometry          (PxTrainerJob    *job,
                                           PeacModelSpec   *model,
                                           int             *max_shift,
                                           int             *jitter,
                                           long            *step,
                                           long            *total,
                                           char            *err,
                                           gsize            errlen);
gpointer px_trainer_thread                (gpointer         data);

G_END_DECLS
