// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxTrainer owns a training run (see px-trainer-worker.c for what the worker does): this
// file holds the type, the state the page binds to, and the main thread's side. The
// worker's news reach the main thread through px-main-thread.h, and only there do
// properties change; the run ends as a GTask whose callback runs there too. Cancelling the
// run's GCancellable raises the session's abort flag (an atomic_int); the run then stops
// before its next step and the checkpoint is written. The GTask holds a reference to the
// trainer until that callback has run, and the application is held meanwhile, so closing
// the last window does not quit before the checkpoint is on disk; on the application's
// shutdown (a quit) the run is stopped and its thread joined, checkpoint included.
//
// Unlike the other workers the GTask does not run in GLib's thread pool
// (g_task_run_in_thread) but in a thread of its own: the worker lowers its own priority
// (nice 10, so the window keeps the CPU), which an unprivileged process cannot undo, and a
// pool thread would keep it for whatever task it runs next; a run also lasts hours, and
// the shutdown handler must be able to join it.
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "px-main-thread.h"
#include "px-train-run.h"
#include "px-trainer-private.h"

G_DEFINE_FINAL_TYPE (PxTrainer, px_trainer, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (PxTrainerState, px_trainer_state,
                    G_DEFINE_ENUM_VALUE (PX_TRAINER_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (PX_TRAINER_LOADING, "loading"),
                    G_DEFINE_ENUM_VALUE (PX_TRAINER_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (PX_TRAINER_PAUSED, "paused"),
                    G_DEFINE_ENUM_VALUE (PX_TRAINER_STOPPING, "stopping"),
                    G_DEFINE_ENUM_VALUE (PX_TRAINER_DONE, "done"),
                    G_DEFINE_ENUM_VALUE (PX_TRAINER_CANCELLED, "cancelled"),
                    G_DEFINE_ENUM_VALUE (PX_TRAINER_FAILED, "failed"))

enum {
  PROP_0,
  PROP_STATE,
  PROP_ACTIVE,
  PROP_STEP,
  PROP_TOTAL_STEPS,
  PROP_FRACTION,
  PROP_IMAGES_PER_SECOND,
  PROP_ETA,
  PROP_MESSAGE,
  PROP_CHECKPOINT,
  PROP_N_POINTS,
  PROP_SAMPLE_STEP,
  N_PROPS
};

enum {
  FINISHED,
  N_SIGNALS
};

static GParamSpec *properties [N_PROPS];
static guint signals [N_SIGNALS];


static void
job_free (PxTrainerJob *job)
{
  g_free ((char *) job->options.init_from);
  g_free ((char *) job->options.preset);
  g_free (job->run_info);
  if (job->session != NULL)
    peac_train_free (job->session);
  if (job->log != NULL)
    fclose (job->log);
  if (job->init != NULL)
    peac_model_free (job->init);
  g_strfreev (job->paths);
  g_free (job->checkpoint);
  g_free (job->log_path);
  g_object_unref (job->self);
  g_free (job);
}

void
px_trainer_sample_free (PxTrainSample *sample)
{
  if (sample == NULL)
    return;
  g_free (sample->clean);
  g_free (sample->input);
  g_free (sample->restored);
  g_free (sample->crop2);
  g_free (sample->pair);
  g_free (sample);
}

// ---------------------------------------------------------------------------------------
// Main thread: the worker's news become properties.

static void
take_pending (PxTrainer *self)
{
  g_autofree char *message = NULL;
  PxTrainerState state;
  guint added;

  g_mutex_lock (&self->lock);
  added = self->pending->len;
  g_array_append_vals (self->points, self->pending->data, self->pending->len);
  g_array_set_size (self->pending, 0);
  self->flush_scheduled = FALSE;
  if (self->pending_sample != NULL)
    {
      px_trainer_sample_free (self->sample);
      self->sample = g_steal_pointer (&self->pending_sample);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_SAMPLE_STEP]);
    }
  state = self->worker_state;
  self->step = self->worker_step;
  self->total_steps = self->worker_total;
  self->images_per_second = self->worker_rate;
  self->eta = self->worker_eta;
  self->saved_step = self->worker_saved;
  message = g_steal_pointer (&self->worker_message);
  g_mutex_unlock (&self->lock);

  g_object_freeze_notify (G_OBJECT (self));
  if (state != self->state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STATE]);
    }
  if (message != NULL)
    {
      g_free (self->message);
      self->message = g_steal_pointer (&message);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_MESSAGE]);
    }
  if (self->saved_step >= 0 && self->checkpoint == NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_CHECKPOINT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STEP]);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_TOTAL_STEPS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_FRACTION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_IMAGES_PER_SECOND]);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ETA]);
  if (added > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_N_POINTS]);
  g_object_thaw_notify (G_OBJECT (self));
}

static gboolean
flush_idle (gpointer data)
{
  take_pending (data);
  return G_SOURCE_REMOVE;
}

// Worker side; call with the lock held.
void
px_trainer_schedule_flush_locked (PxTrainer *self)
{
  if (self->flush_scheduled)
    return;
  self->flush_scheduled = TRUE;
  px_main_thread_post (flush_idle, g_object_ref (self), g_object_unref);
}

void
px_trainer_post (PxTrainerJob   *job,
                 PxTrainerState  state,
                 char           *message)
{
  PxTrainer *self = job->self;

  g_mutex_lock (&self->lock);
  self->worker_state = state;
  if (message != NULL)
    {
      g_free (self->worker_message);
      self->worker_message = message;
    }
  px_trainer_schedule_flush_locked (self);
  g_mutex_unlock (&self->lock);
}

// The task's callback: the worker has returned it, and its thread is about to end.
static void
on_run_finished (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  PxTrainer *self = PX_TRAINER (source);
  PxTrainerJob *job = g_task_get_task_data (G_TASK (result));
  GApplication *app = g_application_get_default ();

  // The shutdown handler may have joined the thread already.
  if (self->thread != NULL)
    g_thread_join (g_steal_pointer (&self->thread));
  g_clear_object (&self->task);
  g_clear_object (&self->cancellable);
  self->state = PX_TRAINER_IDLE; // take_pending takes the worker's final state
  take_pending (self);
  if (self->saved_step >= 0)
    {
      g_free (self->checkpoint);
      self->checkpoint = g_strdup (job->checkpoint);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_CHECKPOINT]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ACTIVE]);
  g_signal_emit (self, signals [FINISHED], 0);
  if (app != NULL)
    g_application_release (app);
}

static PxTrainerJob *
job_new (PxTrainer            *self,
         const PxTrainOptions *options,
         GPtrArray            *paths,
         const char           *folder,
         gboolean              resume)
{
  PxTrainerJob *job = g_new0 (PxTrainerJob, 1);

  job->self = g_object_ref (self);
  job->options = *options;
  job->options.preset = g_strdup (options->preset);
  job->options.init_from = g_strdup (options->init_from);
  job->options.data_folders = NULL;
  if (!resume)
    job->run_info = px_train_run_info_json (options->data_folders, options->threads,
                                            options->save_every);
  job->paths = g_new0 (char *, paths->len + 1);
  for (guint i = 0; i < paths->len; i++)
    job->paths[i] = g_strdup (g_ptr_array_index (paths, i));
  job->checkpoint = g_build_filename (folder, PX_TRAINER_CHECKPOINT_NAME, NULL);
  job->log_path = g_build_filename (folder, PX_TRAINER_LOG_NAME, NULL);
  job->resume = resume;
  return job;
}

// A new run starts from nothing: both the worker's side and the properties.
static void
reset_for_run (PxTrainer *self,
               long       steps)
{
  atomic_store (&self->abort_flag, 0);
  self->paused = FALSE;
  self->worker_state = PX_TRAINER_LOADING;
  self->worker_saved = -1;
  self->worker_step = 0;
  self->worker_total = steps;
  self->worker_rate = 0;
  self->worker_eta = -1;
  g_array_set_size (self->points, 0);
  g_array_set_size (self->pending, 0);
  g_clear_pointer (&self->checkpoint, g_free);
  self->state = PX_TRAINER_LOADING;
  self->step = 0;
  self->saved_step = -1;
  self->total_steps = steps;
  g_free (self->message);
  self->message = g_strdup (_("Loading radiographs…"));
}

// The run's cancellable, on the thread that cancels it: raise the flag the session polls
// and wake a paused worker.
static void
on_cancelled (GCancellable *cancellable,
              PxTrainer    *self)
{
  g_mutex_lock (&self->lock);
  atomic_store (&self->abort_flag, 1);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

// Quitting ends the main loop at once, whatever is held: stop the run here and wait for
// its checkpoint, so that quitting during training never loses the steps done.
static void
on_app_shutdown (PxTrainer *self)
{
  if (self->thread == NULL)
    return;
  px_trainer_cancel (self);
  g_thread_join (g_steal_pointer (&self->thread));
}

// ---------------------------------------------------------------------------------------

static void
px_trainer_finalize (GObject *object)
{
  PxTrainer *self = (PxTrainer *)object;

  g_clear_object (&self->task);
  g_clear_object (&self->cancellable);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_array_unref (self->points);
  g_array_unref (self->pending);
  px_trainer_sample_free (self->sample);
  px_trainer_sample_free (self->pending_sample);
  g_free (self->message);
  g_free (self->worker_message);
  g_free (self->checkpoint);

  G_OBJECT_CLASS (px_trainer_parent_class)->finalize (object);
}

static void
px_trainer_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  PxTrainer *self = PX_TRAINER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_ACTIVE:
      g_value_set_boolean (value, px_trainer_get_active (self));
      break;

    case PROP_STEP:
      g_value_set_long (value, self->step);
      break;

    case PROP_TOTAL_STEPS:
      g_value_set_long (value, self->total_steps);
      break;

    case PROP_FRACTION:
      g_value_set_double (value, px_trainer_get_fraction (self));
      break;

    case PROP_IMAGES_PER_SECOND:
      g_value_set_double (value, self->images_per_second);
      break;

    case PROP_ETA:
      g_value_set_double (value, self->eta);
      break;

    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;

    case PROP_CHECKPOINT:
      g_value_set_string (value, self->checkpoint);
      break;

    case PROP_N_POINTS:
      g_value_set_uint (value, self->points->len);
      break;

    case PROP_SAMPLE_STEP:
      g_value_set_long (value, self->sample != NULL ? self->sample->step : -1);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_trainer_class_init (PxTrainerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = px_trainer_finalize;
  object_class->get_property = px_trainer_get_property;

  properties [PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, PX_TYPE_TRAINER_STATE, PX_TRAINER_IDLE, flags);
  properties [PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE, flags);
  properties [PROP_STEP] =
    g_param_spec_long ("step", NULL, NULL, 0, G_MAXLONG, 0, flags);
  properties [PROP_TOTAL_STEPS] =
    g_param_spec_long ("total-steps", NULL, NULL, 0, G_MAXLONG, 0, flags);
  properties [PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0, 1, 0, flags);
  properties [PROP_IMAGES_PER_SECOND] =
    g_param_spec_double ("images-per-second", NULL, NULL, 0, G_MAXDOUBLE, 0, flags);
  properties [PROP_ETA] =
    g_param_spec_double ("eta", NULL, NULL, -1, G_MAXDOUBLE, -1, flags);
  properties [PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL, flags);
  properties [PROP_CHECKPOINT] =
    g_param_spec_string ("checkpoint", NULL, NULL, NULL, flags);
  properties [PROP_N_POINTS] =
    g_param_spec_uint ("n-points", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties [PROP_SAMPLE_STEP] =
    g_param_spec_long ("sample-step", NULL, NULL, -1, G_MAXLONG, -1, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PxTrainer::finished:
   *
   * The run is over (done, cancelled or failed; see #PxTrainer:state) and its worker has
   * exited.
   */
  signals [FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
px_trainer_init (PxTrainer *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->points = g_array_new (FALSE, FALSE, sizeof (PxLossPoint));
  self->pending = g_array_new (FALSE, FALSE, sizeof (PxLossPoint));
  self->saved_step = -1;
  self->eta = -1;
}

void
px_trainer_options_defaults (PxTrainOptions *options)
{
  *options = (PxTrainOptions) {
    .preset = "mini",     // the registry's quick ViT (224 px, width 64, 2 blocks)
    .img_size = 0,
    .steps = 1000,
    .batch = 8,
    .lr = 5e-4,
    .seed = 1,
    .threads = 0,
    .save_every = 100,
  };
}

PxTrainer *
px_trainer_new (void)
{
  return g_object_new (PX_TYPE_TRAINER, NULL);
}

/**
 * px_trainer_start:
 * @paths: (element-type filename): the radiographs to train on
 * @folder: where checkpoint.safetensors and log.csv go (created if missing)
 * @resume: continue the checkpoint in @folder (its stored configuration wins over
 *   @options, except threads and the checkpoint interval)
 *
 * Returns: %FALSE with @error when a run is already going or @folder cannot be made
 */
gboolean
px_trainer_start (PxTrainer             *self,
                  const PxTrainOptions  *options,
                  GPtrArray             *paths,
                  const char            *folder,
                  gboolean               resume,
                  GError               **error)
{
  PxTrainerJob *job;
  GApplication *app = g_application_get_default ();

  g_return_val_if_fail (PX_IS_TRAINER (self), FALSE);
  g_return_val_if_fail (paths != NULL && folder != NULL, FALSE);

  if (self->thread != NULL || self->task != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, _("A training run is already going"));
      return FALSE;
    }
  if (g_mkdir_with_parents (folder, 0755) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("The checkpoint folder %s cannot be created: %s"), folder, g_strerror (saved));
      return FALSE;
    }

  job = job_new (self, options, paths, folder, resume);
  reset_for_run (self, options->steps);
  if (app != NULL)
    {
      g_application_hold (app);
      if (!self->watching_shutdown)
        g_signal_connect_object (app, "shutdown", G_CALLBACK (on_app_shutdown), self, G_CONNECT_SWAPPED);
      self->watching_shutdown = TRUE;
    }
  self->cancellable = g_cancellable_new ();
  g_cancellable_connect (self->cancellable, G_CALLBACK (on_cancelled), self, NULL);
  self->task = g_task_new (self, self->cancellable, on_run_finished, NULL);
  g_task_set_source_tag (self->task, px_trainer_start);
  g_task_set_task_data (self->task, job, (GDestroyNotify) job_free);
  job->task = self->task;
  self->thread = g_thread_new ("px-trainer", px_trainer_thread, job);

  g_object_freeze_notify (G_OBJECT (self));
  for (guint i = 1; i < N_PROPS; i++)
    g_object_notify_by_pspec (G_OBJECT (self), properties [i]);
  g_object_thaw_notify (G_OBJECT (self));
  return TRUE;
}

/**
 * px_trainer_pause:
 *
 * Asks the worker to wait after the step it is on; #PxTrainer:state becomes paused when
 * it does, so no step completes after that.
 */
void
px_trainer_pause (PxTrainer *self)
{
  g_return_if_fail (PX_IS_TRAINER (self));

  if (self->state != PX_TRAINER_RUNNING)
    return;
  g_mutex_lock (&self->lock);
  self->paused = TRUE;
  g_mutex_unlock (&self->lock);
}

void
px_trainer_resume (PxTrainer *self)
{
  g_return_if_fail (PX_IS_TRAINER (self));

  if (self->state != PX_TRAINER_PAUSED)
    return;
  g_mutex_lock (&self->lock);
  self->paused = FALSE;
  self->worker_state = PX_TRAINER_RUNNING;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  self->state = PX_TRAINER_RUNNING;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STATE]);
}

/**
 * px_trainer_cancel:
 *
 * Stops the run before its next step; the worker then writes the checkpoint.
 */
void
px_trainer_cancel (PxTrainer *self)
{
  g_return_if_fail (PX_IS_TRAINER (self));

  if (self->thread == NULL || atomic_load (&self->abort_flag))
    return;
  g_mutex_lock (&self->lock);
  // The worker may have posted its final state already; that one stands.
  if (self->worker_state == PX_TRAINER_LOADING || self->worker_state == PX_TRAINER_RUNNING ||
      self->worker_state == PX_TRAINER_PAUSED)
    self->worker_state = PX_TRAINER_STOPPING;
  g_mutex_unlock (&self->lock);
  g_cancellable_cancel (self->cancellable);
  self->state = PX_TRAINER_STOPPING;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STATE]);
}

PxTrainerState
px_trainer_get_state (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), PX_TRAINER_IDLE);
  return self->state;
}

/**
 * px_trainer_get_active:
 *
 * Returns: whether a worker is running (loading, training, paused or stopping)
 */
gboolean
px_trainer_get_active (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), FALSE);
  return self->thread != NULL;
}

long
px_trainer_get_step (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), 0);
  return self->step;
}

long
px_trainer_get_total_steps (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), 0);
  return self->total_steps;
}

double
px_trainer_get_fraction (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), 0);
  return self->total_steps > 0 ? CLAMP ((double) self->step / self->total_steps, 0, 1) : 0;
}

double
px_trainer_get_images_per_second (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), 0);
  return self->images_per_second;
}

/**
 * px_trainer_get_eta:
 *
 * Returns: seconds left at the current rate, or -1 when not known yet
 */
double
px_trainer_get_eta (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), -1);
  return self->eta;
}

const char *
px_trainer_get_message (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), NULL);
  return self->message;
}

/**
 * px_trainer_get_checkpoint:
 *
 * Returns: (nullable): the checkpoint the last run left, once it has ended
 */
const char *
px_trainer_get_checkpoint (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), NULL);
  return self->checkpoint;
}

/**
 * px_trainer_get_saved_step:
 *
 * Returns: the step of the last checkpoint written by this run, or -1
 */
long
px_trainer_get_saved_step (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), -1);
  return self->saved_step;
}

/**
 * px_trainer_get_points:
 *
 * Returns: (transfer none) (element-type PxLossPoint): the loss of every step so far
 */
GArray *
px_trainer_get_points (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), NULL);
  return self->points;
}

/**
 * px_trainer_get_sample:
 *
 * Returns: (nullable): the latest crop pair with the student's input and restoration
 */
const PxTrainSample *
px_trainer_get_sample (PxTrainer *self)
{
  g_return_val_if_fail (PX_IS_TRAINER (self), NULL);
  return self->sample;
}

/**
 * px_trainer_probe_checkpoint:
 * @step: (out) (optional): the checkpoint's step
 * @total_steps: (out) (optional): the run's length
 *
 * Returns: whether @folder holds a training checkpoint that a run can resume
 */
gboolean
px_trainer_probe_checkpoint (const char *folder,
                             long       *step,
                             long       *total_steps)
{
  g_autofree char *path = g_build_filename (folder, PX_TRAINER_CHECKPOINT_NAME, NULL);
  PxTrainerJob job = { .checkpoint = path, .resume = TRUE };
  PeacModelSpec model;
  int shift, jitter;
  long s, t;
  char err[256];

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) ||
      !px_trainer_run_geometry (&job, &model, &shift, &jitter, &s, &t, err, sizeof err))
    return FALSE;
  if (step != NULL)
    *step = s;
  if (total_steps != NULL)
    *total_steps = t;
  return TRUE;
}
