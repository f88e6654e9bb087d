// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxTrainer owns a training run: a GThread loads the radiographs (each squeezed to the
// square the crop pairs need), creates or resumes an engine session (train.h) and runs it.
// The session's progress callback, in the worker, appends a row to the folder's log.csv,
// queues a loss point, writes the checkpoint at every interval, and is where pausing
// happens: the worker waits there on a GCond, between two steps, until resumed or
// cancelled. About once a second it also cuts one fresh crop pair (own rng) and runs the
// student and its restoration decoder on it, for the page's live sample. Cancel raises the session's abort flag; the run then stops before its next
// step and the checkpoint is written (atomically, by peac_train_save). A non-finite loss
// writes nothing, so the last good checkpoint stays. Everything the worker learns reaches
// the main thread in idle sources (not g_main_context_invoke, which runs the function in
// the calling thread when the main context is not being iterated), and only there do
// properties change. The worker holds a reference to the trainer until its last idle has
// run, and the application is held meanwhile, so closing the last window does not quit
// before the checkpoint is on disk; on the application's shutdown (a quit) the run is
// stopped and waited for, checkpoint included. The thread count is the engine's process-wide setting.
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "checkpoint.h"
#include "model.h"
#include "ops.h"
#include "peac-loss.h"
#include "preprocess.h"
#include "presets.h"
#include "px-image.h"
#include "px-train-run.h"
#include "px-trainer.h"
#include "train.h"

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
  GThread        *thread;
  gboolean        watching_shutdown;

  // Shared with the worker, under lock.
  GMutex          lock;
  GCond           cond;
  volatile int    abort_flag;
  gboolean        paused;
  gboolean        flush_scheduled;
  GArray         *pending;         // PxLossPoint not yet in points
  PxTrainSample  *pending_sample;
  PxTrainerState  worker_state;
  long            worker_step, worker_total, worker_saved;
  double          worker_rate, worker_eta;
  char           *worker_message;
};

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

typedef struct {
  PxTrainer        *self;          // strong: released on the main thread by finish_idle
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
} Job;

static void
job_free (Job *job)
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

static void
sample_free (PxTrainSample *sample)
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
      sample_free (self->sample);
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
static void
schedule_flush_locked (PxTrainer *self)
{
  if (self->flush_scheduled)
    return;
  self->flush_scheduled = TRUE;
  g_idle_add_full (G_PRIORITY_DEFAULT, flush_idle, g_object_ref (self), g_object_unref);
}

static void
post (Job            *job,
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
  schedule_flush_locked (self);
  g_mutex_unlock (&self->lock);
}

static gboolean
finish_idle (gpointer data)
{
  Job *job = data;
  PxTrainer *self = job->self;
  GApplication *app = g_application_get_default ();

  // The shutdown handler may have joined the thread already.
  if (self->thread != NULL)
    g_thread_join (g_steal_pointer (&self->thread));
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
  job_free (job);
  return G_SOURCE_REMOVE;
}

// ---------------------------------------------------------------------------------------
// Worker

// The model, crop shift and lattice jitter of a run: the preset's (or the model file's), or
// those stored in the checkpoint.
static gboolean
run_geometry (Job           *job,
              PeacModelSpec *model,
              int           *max_shift,
              int        *jitter,
              long       *step,
              long       *total,
              char       *err,
              gsize       errlen)
{
  PeacTrainConfig c = { 0 };
  PeacRng rng;

  if (!job->resume)
    {
      g_autofree char *size = job->options.img_size > 0
                                ? g_strdup_printf ("{\"img_size\": %d}", job->options.img_size)
                                : NULL;
      PeacObjConfig obj;

      if (job->init != NULL
          ? peac_model_spec_parse (model, peac_model_arch_name (job->init),
                                   peac_model_config_json (job->init), err, errlen) != 0
          : peac_preset_resolve (model, job->options.preset, size, err, errlen) != 0)
        return FALSE;
      peac_obj_defaults (&obj, model);
      *max_shift = obj.max_shift;
      *jitter = obj.jitter;
      *step = 0;
      *total = job->options.steps;
      return TRUE;
    }

  // The engine's own reader of the configuration (range-checked, the one resume uses).
  if (peac_train_read_config (job->checkpoint, &c, step, &rng, err, errlen) != 0)
    return FALSE;
  *model = c.model;
  *max_shift = c.obj.max_shift;
  *jitter = c.obj.jitter;
  *total = c.opt.total_steps;
  job->options.batch = c.batch;
  return TRUE;
}

// Fine-tuning: every backbone weight of the new session's student and teacher is taken from
// the model file; the heads stay freshly initialised. Fails unless every tensor matches.
static gboolean
copy_init_weights (Job   *job,
                   char  *err,
                   gsize  errlen)
{
  PeacObjective *o = peac_train_objective (job->session);
  PeacParams *from = peac_model_params (job->init);
  PeacParams *to[2] = { peac_model_params (peac_objective_student (o)),
                        peac_model_params (peac_objective_teacher (o)) };

  for (int k = 0; k < 2; k++)
    for (int i = 0; i < to[k]->n; i++)
      {
        PeacParam *dst = &to[k]->list[i];
        PeacParam *src = peac_params_find (from, dst->name);

        if (src == NULL || src->numel != dst->numel)
          {
            g_snprintf (err, errlen, _("%s has no tensor %s of the right shape"),
                        job->options.init_from, dst->name);
            return FALSE;
          }
        memcpy (dst->data, src->data, dst->numel * sizeof (float));
      }
  return TRUE;
}

// A radiograph squeezed to side × side grey in [0, 1], as the network's preprocessing
// sees it (antialiased resize), or NULL.
static float *
load_grey (const char *path,
           int         side)
{
  g_autoptr(PxImage) image = px_image_load (path, NULL);
  g_autofree float *unit = NULL;
  g_autofree float *input = NULL;
  PeacPreprocess pp = { side, PEAC_MEAN, PEAC_STD, 0 };
  float *grey;

  if (image == NULL)
    return NULL;
  unit = g_new (float, (gsize) image->width * image->height);
  input = g_new (float, (gsize) 3 * side * side);
  px_image_to_unit (image, unit);
  if (peac_preprocess (unit, image->width, image->height, &pp, input) != 0)
    return NULL;
  grey = g_new (float, (gsize) side * side);
  for (gsize i = 0; i < (gsize) side * side; i++)
    grey[i] = input[i] * PEAC_STD + PEAC_MEAN;
  return grey;
}

// On resume, the log keeps only the rows the checkpoint has seen (a run stopped after its
// last checkpoint repeats those steps); they are also the curve's history.
static void
trim_log (Job    *job,
          long    step,
          GArray *history)
{
  g_autofree char *text = NULL;
  g_autoptr(GString) kept = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (job->log_path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      PxLossPoint p;

      if (i == 0)
        {
          g_string_append_printf (kept, "%s\n", lines[0]);
          continue;
        }
      if (sscanf (lines[i], "%ld,%lf,%lf,%lf,%lf,%lf", &p.step, &p.total, &p.order,
                  &p.restore, &p.global, &p.local) != 6 || p.step > step)
        continue;
      g_string_append_printf (kept, "%s\n", lines[i]);
      g_array_append_val (history, p);
    }
  g_file_set_contents (job->log_path, kept->str, kept->len, NULL);
}

// Channel 0 of a normalised [3, side, side] crop as grey bytes.
static guint8 *
to_grey (const float *x,
         int          side)
{
  guint8 *out = g_malloc ((gsize) side * side);

  for (gsize i = 0; i < (gsize) side * side; i++)
    out[i] = (guint8) (CLAMP (x[i] * PEAC_STD + PEAC_MEAN, 0, 1) * 255 + 0.5);
  return out;
}

// Between two steps: one fresh crop pair from the session's images, through the student and
// its restoration decoder, with the session's own sampling rules but a separate rng (the
// run's stays untouched, so resuming remains bit-exact).
static PxTrainSample *
make_sample (Job  *job,
             long  step)
{
  PeacObjective *o = peac_train_objective (job->session);
  PeacModel *student = peac_objective_student (o);
  PeacParam *w = peac_params_find (peac_objective_heads (o, 0), "decoder.weight");
  PeacParam *b = peac_params_find (peac_objective_heads (o, 0), "decoder.bias");
  int G = peac_objective_grid (o), cell = peac_objective_cell (o), S = G * cell;
  int gh, gw, D, K = cell * cell * 3;
  peac_model_output_shape (student, S, S, &gh, &gw, &D);
  const PeacGrey *image = &job->images[peac_rng_u64 (&job->sample_rng) % (guint64) job->n_images];
  g_autofree float *tokens = g_new (float, (gsize) G * G * D);
  g_autofree float *dec = g_new (float, (gsize) G * G * K);
  g_autofree float *restored = g_new (float, (gsize) 3 * S * S);
  PxTrainSample *sample;
  PeacBatch batch;
  char err[256];

  if (w == NULL || b == NULL || peac_batch_alloc (&batch, 1, G, cell) != 0)
    return NULL;
  if (peac_batch_fill (&batch, 0, image->px, image->h, image->w, &job->obj, &job->sample_rng) != 0 ||
      peac_model_forward (student, batch.x1s, 1, S, S, tokens, NULL, NULL, NULL, err, sizeof err) != 0)
    {
      peac_batch_free (&batch);
      return NULL;
    }
  op_linear_forward (dec, tokens, w->data, b->data, G * G, D, K);
  peac_pixel_shuffle_forward (restored, dec, 1, G, 3, cell);

  sample = g_new0 (PxTrainSample, 1);
  sample->grid = G;
  sample->cell = cell;
  sample->side = S;
  sample->step = step;
  sample->shuffled = batch.shuffled[0];
  sample->clean = to_grey (batch.x1, S);
  sample->input = to_grey (batch.x1s, S);
  sample->restored = to_grey (restored, S);
  sample->crop2 = to_grey (batch.x2, S);
  sample->pair = g_memdup2 (batch.pair, sizeof (int) * G * G);
  peac_batch_free (&batch);
  return sample;
}

static void
on_progress (void                    *user,
             const PeacTrainProgress *p)
{
  Job *job = user;
  PxTrainer *self = job->self;
  PxLossPoint point = { p->step, p->loss.total, p->loss.order, p->loss.restore,
                        p->loss.global, p->loss.local };
  gint64 now = g_get_monotonic_time ();
  double seconds = (now - job->started - job->paused_us) / 1e6;
  double steps_per_s = seconds > 0 ? (p->step - job->first_step) / seconds : 0;
  gboolean save = job->options.save_every > 0 && p->step % job->options.save_every == 0
                  && p->step < p->total_steps;
  long saved = -1;
  PxTrainSample *sample = NULL;

  // About once a second, so the sample costs a small share of a step on any model.
  if (now - job->last_sample > G_USEC_PER_SEC || p->step == p->total_steps)
    {
      sample = make_sample (job, p->step);
      job->last_sample = g_get_monotonic_time ();
    }

  if (job->log != NULL)
    {
      fprintf (job->log, "%ld,%.9g,%.9g,%.9g,%.9g,%.9g,%.6g,%.6g\n", p->step, p->loss.total,
               p->loss.order, p->loss.restore, p->loss.global, p->loss.local, p->lr,
               p->grad_norm);
      fflush (job->log);
    }
  if (save)
    {
      char err[512];

      if (peac_train_save (job->session, job->checkpoint, err, sizeof err) == 0)
        saved = p->step;
      else
        {
          post (job, PX_TRAINER_STOPPING, g_strdup_printf (_("The checkpoint cannot be written: %s"), err));
          job->self->abort_flag = 1;
        }
    }

  g_mutex_lock (&self->lock);
  g_array_append_val (self->pending, point);
  self->worker_step = p->step;
  self->worker_total = p->total_steps;
  self->worker_rate = steps_per_s * job->options.batch;
  self->worker_eta = steps_per_s > 0 ? (p->total_steps - p->step) / steps_per_s : -1;
  if (saved >= 0)
    self->worker_saved = saved;
  if (sample != NULL)
    {
      sample_free (self->pending_sample);
      self->pending_sample = sample;
    }
  schedule_flush_locked (self);

  // Pausing: the session is between two steps here, so waiting costs nothing but time.
  if (self->paused && !self->abort_flag)
    {
      gint64 since = g_get_monotonic_time ();

      self->worker_state = PX_TRAINER_PAUSED;
      schedule_flush_locked (self);
      while (self->paused && !self->abort_flag)
        g_cond_wait (&self->cond, &self->lock);
      self->worker_state = self->abort_flag ? PX_TRAINER_STOPPING : PX_TRAINER_RUNNING;
      schedule_flush_locked (self);
      job->paused_us += g_get_monotonic_time () - since;
    }
  g_mutex_unlock (&self->lock);
}

static gpointer
train_thread (gpointer data)
{
  Job *job = data;
  PxTrainer *self = job->self;
  g_autoptr(GArray) history = g_array_new (FALSE, FALSE, sizeof (PxLossPoint));
  PeacGrey *images = NULL;
  PeacTrainConfig config;
  PeacTrainStatus status;
  PxTrainerState final = PX_TRAINER_FAILED;
  char *message = NULL;
  PeacModelSpec model;
  char err[1024] = "";
  long step = 0, total = 0;
  int max_shift = 0, jitter = 0, n = 0, side;
  guint n_paths = g_strv_length (job->paths);

  // Below the main thread, so that on a machine with as many cores as training threads
  // the window still gets the CPU when it needs it (Linux: nice is per thread, and the
  // engine's pool threads started from here inherit it).
  setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 10);
  if (job->options.init_from != NULL && !job->resume)
    {
      job->init = peac_model_load (job->options.init_from, err, sizeof err);
      if (job->init == NULL)
        {
          message = g_strdup (err);
          goto out;
        }
    }
  if (!run_geometry (job, &model, &max_shift, &jitter, &step, &total, err, sizeof err))
    {
      message = g_strdup (err);
      goto out;
    }
  side = (model.grid + max_shift) * model.cell + jitter;
  images = g_new0 (PeacGrey, MAX (n_paths, 1));
  for (guint i = 0; i < n_paths && !self->abort_flag; i++)
    {
      float *grey = load_grey (job->paths[i], side);

      if (grey != NULL)
        images[n++] = (PeacGrey) { grey, side, side };
    }
  if (self->abort_flag)
    {
      final = PX_TRAINER_CANCELLED;
      message = g_strdup (_("Cancelled before training started"));
      goto out;
    }
  if (n == 0)
    {
      message = g_strdup (_("None of the dataset’s files could be read"));
      goto out;
    }

  peac_threads_set (job->options.threads);
  if (job->resume)
    job->session = peac_train_resume (job->checkpoint, images, n, 0, err, sizeof err);
  else
    {
      peac_train_defaults (&config, &model, job->options.steps);
      config.batch = job->options.batch;
      config.seed = job->options.seed;
      config.opt.lr = job->options.lr;
      job->session = peac_train_new (&config, images, n, err, sizeof err);
    }
  if (job->session == NULL || (job->init != NULL && !copy_init_weights (job, err, sizeof err)))
    {
      message = g_strdup (err);
      goto out;
    }
  // A resumed session keeps the record its checkpoint had.
  if (job->run_info != NULL)
    peac_train_set_run_info (job->session, job->run_info);
  if (job->resume)
    trim_log (job, step, history);
  job->images = images;
  job->n_images = n;
  peac_obj_defaults (&job->obj, &model);
  job->obj.max_shift = max_shift;
  peac_rng_seed (&job->sample_rng, job->options.seed ^ 0x5eed5a3b1eULL);
  job->log = fopen (job->log_path, job->resume ? "a" : "w");
  if (job->log != NULL && !job->resume)
    fputs ("step,total,order,restore,global,local,lr,grad_norm\n", job->log);

  g_mutex_lock (&self->lock);
  g_array_append_vals (self->pending, history->data, history->len);
  self->worker_step = step;
  self->worker_total = total;
  self->worker_saved = job->resume ? step : -1;
  g_mutex_unlock (&self->lock);
  post (job, PX_TRAINER_RUNNING,
        g_strdup_printf (ngettext ("Training on %d radiograph of %d × %d pixels",
                                   "Training on %d radiographs of %d × %d pixels", n),
                         n, side, side));

  job->first_step = step;
  job->started = g_get_monotonic_time ();
  status = peac_train_run (job->session, on_progress, job, &self->abort_flag, err, sizeof err);
  step = peac_train_step_count (job->session);
  if (status == PEAC_TRAIN_DONE || status == PEAC_TRAIN_ABORTED)
    {
      char save_err[512];

      if (peac_train_save (job->session, job->checkpoint, save_err, sizeof save_err) != 0)
        message = g_strdup_printf (_("The checkpoint cannot be written: %s"), save_err);
      else
        {
          g_mutex_lock (&self->lock);
          self->worker_saved = step;
          g_mutex_unlock (&self->lock);
          final = status == PEAC_TRAIN_DONE ? PX_TRAINER_DONE : PX_TRAINER_CANCELLED;
          message = status == PEAC_TRAIN_DONE
            ? g_strdup_printf (_("Done: %ld steps; checkpoint saved"), step)
            : g_strdup_printf (_("Stopped at step %ld; checkpoint saved"), step);
        }
    }
  else if (status == PEAC_TRAIN_NAN)
    {
      long saved;

      g_mutex_lock (&self->lock);
      saved = self->worker_saved;
      g_mutex_unlock (&self->lock);
      message = saved >= 0
        ? g_strdup_printf (_("Training stopped at step %ld: the loss is no longer a finite number (try a lower learning rate). The checkpoint of step %ld is kept."), step + 1, saved)
        : g_strdup_printf (_("Training stopped at step %ld: the loss is no longer a finite number (try a lower learning rate). No checkpoint had been written yet."), step + 1);
    }
  else
    message = g_strdup (err);

out:
  for (int i = 0; i < n; i++)
    g_free ((float *) images[i].px);
  g_free (images);
  if (job->session != NULL)
    {
      peac_train_free (job->session);
      job->session = NULL;
    }
  post (job, final, message);
  g_idle_add (finish_idle, job);
  return NULL;
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

  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_array_unref (self->points);
  g_array_unref (self->pending);
  sample_free (self->sample);
  sample_free (self->pending_sample);
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
  Job *job;
  GApplication *app = g_application_get_default ();

  g_return_val_if_fail (PX_IS_TRAINER (self), FALSE);
  g_return_val_if_fail (paths != NULL && folder != NULL, FALSE);

  if (self->thread != NULL)
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

  job = g_new0 (Job, 1);
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

  self->abort_flag = 0;
  self->paused = FALSE;
  self->worker_state = PX_TRAINER_LOADING;
  self->worker_saved = -1;
  self->worker_step = 0;
  self->worker_total = options->steps;
  self->worker_rate = 0;
  self->worker_eta = -1;
  g_array_set_size (self->points, 0);
  g_array_set_size (self->pending, 0);
  g_clear_pointer (&self->checkpoint, g_free);
  self->state = PX_TRAINER_LOADING;
  self->step = 0;
  self->saved_step = -1;
  self->total_steps = options->steps;
  g_free (self->message);
  self->message = g_strdup (_("Loading radiographs…"));
  if (app != NULL)
    {
      g_application_hold (app);
      if (!self->watching_shutdown)
        g_signal_connect_object (app, "shutdown", G_CALLBACK (on_app_shutdown), self, G_CONNECT_SWAPPED);
      self->watching_shutdown = TRUE;
    }
  self->thread = g_thread_new ("px-trainer", train_thread, job);

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

  if (self->thread == NULL || self->abort_flag)
    return;
  g_mutex_lock (&self->lock);
  self->abort_flag = 1;
  // The worker may have posted its final state already; that one stands.
  if (self->worker_state == PX_TRAINER_LOADING || self->worker_state == PX_TRAINER_RUNNING ||
      self->worker_state == PX_TRAINER_PAUSED)
    self->worker_state = PX_TRAINER_STOPPING;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
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
  Job job = { .checkpoint = path, .resume = TRUE };
  PeacModelSpec model;
  int shift, jitter;
  long s, t;
  char err[256];

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) ||
      !run_geometry (&job, &model, &shift, &jitter, &s, &t, err, sizeof err))
    return FALSE;
  if (step != NULL)
    *step = s;
  if (total_steps != NULL)
    *total_steps = t;
  return TRUE;
}
