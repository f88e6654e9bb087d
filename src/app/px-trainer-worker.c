// SPDX-License-Identifier: GPL-3.0-or-later
//
// The worker of PxTrainer, in a thread of its own (px-trainer.c says why): it loads the
// radiographs (each squeezed to the square the crop pairs need, px-train-images.h),
// creates or resumes an engine session (train.h) and runs it. The session's progress
// callback appends a row to the folder's log.csv, queues a loss point, writes the
// checkpoint at every interval, and is where pausing happens: the worker waits there on a
// GCond, between two steps, until resumed or cancelled. About once a second it also cuts
// one fresh crop pair (own rng) and runs the student and its restoration decoder on it, for
// the page's live sample. A non-finite loss writes nothing, so the last good checkpoint
// stays. The thread count is the engine's process-wide setting.
#include "config.h"

#include <glib/gi18n.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ops.h"
#include "preprocess.h"
#include "presets.h"
#include "px-train-images.h"
#include "px-trainer-private.h"

// The model, crop shift and lattice jitter of a run: the preset's of the engine's registry
// (or the model file's), or those stored in the checkpoint.
gboolean
px_trainer_run_geometry (PxTrainerJob  *job,
                         PeacModelSpec *model,
                         int           *max_shift,
                         int           *jitter,
                         long          *step,
                         long          *total,
                         char          *err,
                         gsize          errlen)
{
  PeacTrainConfig c = { 0 };
  PeacRng rng;

  if (!job->resume)
    {
      json_t *override = job->options.img_size > 0
                           ? json_pack ("{s:i}", "img_size", job->options.img_size)
                           : NULL;
      g_autofree char *size = override != NULL ? json_dumps (override, JSON_COMPACT) : NULL;
      PeacObjConfig obj;

      if (job->init != NULL
          ? peac_model_spec_parse (model, peac_model_arch_name (job->init),
                                   peac_model_config_json (job->init), err, errlen) != 0
          : peac_preset_resolve (model, job->options.preset, size, err, errlen) != 0)
        {
          json_decref (override);
          return FALSE;
        }
      json_decref (override);
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
copy_init_weights (PxTrainerJob *job,
                   char         *err,
                   gsize         errlen)
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

// On resume, the log keeps only the rows the checkpoint has seen (a run stopped after its
// last checkpoint repeats those steps); they are also the curve's history.
static void
trim_log (PxTrainerJob *job,
          long          step,
          GArray       *history)
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
make_sample (PxTrainerJob *job,
             long          step)
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
  PxTrainerJob *job = user;
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
          px_trainer_post (job, PX_TRAINER_STOPPING, g_strdup_printf (_("The checkpoint cannot be written: %s"), err));
          atomic_store (&self->abort_flag, 1);
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
      px_trainer_sample_free (self->pending_sample);
      self->pending_sample = sample;
    }
  px_trainer_schedule_flush_locked (self);

  // Pausing: the session is between two steps here, so waiting costs nothing but time.
  if (self->paused && !atomic_load (&self->abort_flag))
    {
      gint64 since = g_get_monotonic_time ();

      self->worker_state = PX_TRAINER_PAUSED;
      px_trainer_schedule_flush_locked (self);
      while (self->paused && !atomic_load (&self->abort_flag))
        g_cond_wait (&self->cond, &self->lock);
      self->worker_state = atomic_load (&self->abort_flag) ? PX_TRAINER_STOPPING : PX_TRAINER_RUNNING;
      px_trainer_schedule_flush_locked (self);
      job->paused_us += g_get_monotonic_time () - since;
    }
  g_mutex_unlock (&self->lock);
}

// Loads the fine-tuning model and the images, and creates or resumes the session, with its
// log and (on resume) the curve's history. Returns NULL, or the message of the failure
// (*final then says whether it failed or was cancelled).
static char *
open_session (PxTrainerJob    *job,
              PeacGrey       **images,
              int             *n,
              int             *side,
              long            *step,
              GArray          *history,
              PxTrainerState  *final)
{
  PxTrainer *self = job->self;
  PeacTrainConfig config;
  PeacModelSpec model;
  char err[1024] = "";
  long total = 0;
  int max_shift = 0, jitter = 0;

  if (job->options.init_from != NULL && !job->resume)
    {
      job->init = peac_model_load (job->options.init_from, err, sizeof err);
      if (job->init == NULL)
        return g_strdup (err);
    }
  if (!px_trainer_run_geometry (job, &model, &max_shift, &jitter, step, &total, err, sizeof err))
    return g_strdup (err);
  *side = (model.grid + max_shift) * model.cell + jitter;
  *images = px_train_images_load ((const char * const *) job->paths, g_strv_length (job->paths),
                                  *side, &self->abort_flag, NULL, NULL, n);
  if (atomic_load (&self->abort_flag))
    {
      *final = PX_TRAINER_CANCELLED;
      return g_strdup (_("Cancelled before training started"));
    }
  if (*n == 0)
    return g_strdup (_("None of the dataset’s files could be read"));

  peac_threads_set (job->options.threads);
  if (job->resume)
    job->session = peac_train_resume (job->checkpoint, *images, *n, 0, err, sizeof err);
  else
    {
      peac_train_defaults (&config, &model, job->options.steps);
      config.batch = job->options.batch;
      config.seed = job->options.seed;
      config.opt.lr = job->options.lr;
      job->session = peac_train_new (&config, *images, *n, err, sizeof err);
    }
  if (job->session == NULL || (job->init != NULL && !copy_init_weights (job, err, sizeof err)))
    return g_strdup (err);
  // A resumed session keeps the record its checkpoint had.
  if (job->run_info != NULL)
    peac_train_set_run_info (job->session, job->run_info);
  if (job->resume)
    trim_log (job, *step, history);
  job->images = *images;
  job->n_images = *n;
  peac_obj_defaults (&job->obj, &model);
  job->obj.max_shift = max_shift;
  peac_rng_seed (&job->sample_rng, job->options.seed ^ 0x5eed5a3b1eULL);
  job->log = fopen (job->log_path, job->resume ? "a" : "w");
  if (job->log != NULL && !job->resume)
    fputs ("step,total,order,restore,global,local,lr,grad_norm\n", job->log);

  g_mutex_lock (&self->lock);
  g_array_append_vals (self->pending, history->data, history->len);
  self->worker_step = *step;
  self->worker_total = total;
  self->worker_saved = job->resume ? *step : -1;
  g_mutex_unlock (&self->lock);
  return NULL;
}

// After the session's run: the final checkpoint, and the message that ends the run.
static char *
close_session (PxTrainerJob    *job,
               PeacTrainStatus  status,
               const char      *err,
               PxTrainerState  *final)
{
  PxTrainer *self = job->self;
  long step = peac_train_step_count (job->session), saved;
  char save_err[512];

  if (status == PEAC_TRAIN_DONE || status == PEAC_TRAIN_ABORTED)
    {
      if (peac_train_save (job->session, job->checkpoint, save_err, sizeof save_err) != 0)
        return g_strdup_printf (_("The checkpoint cannot be written: %s"), save_err);
      g_mutex_lock (&self->lock);
      self->worker_saved = step;
      g_mutex_unlock (&self->lock);
      *final = status == PEAC_TRAIN_DONE ? PX_TRAINER_DONE : PX_TRAINER_CANCELLED;
      return status == PEAC_TRAIN_DONE
        ? g_strdup_printf (_("Done: %ld steps; checkpoint saved"), step)
        : g_strdup_printf (_("Stopped at step %ld; checkpoint saved"), step);
    }
  if (status != PEAC_TRAIN_NAN)
    return g_strdup (err);
  g_mutex_lock (&self->lock);
  saved = self->worker_saved;
  g_mutex_unlock (&self->lock);
  return saved >= 0
    ? g_strdup_printf (_("Training stopped at step %ld: the loss is no longer a finite number (try a lower learning rate). The checkpoint of step %ld is kept."), step + 1, saved)
    : g_strdup_printf (_("Training stopped at step %ld: the loss is no longer a finite number (try a lower learning rate). No checkpoint had been written yet."), step + 1);
}

gpointer
px_trainer_thread (gpointer data)
{
  PxTrainerJob *job = data;
  PxTrainer *self = job->self;
  g_autoptr(GArray) history = g_array_new (FALSE, FALSE, sizeof (PxLossPoint));
  PeacGrey *images = NULL;
  PeacTrainStatus status;
  PxTrainerState final = PX_TRAINER_FAILED;
  char *message;
  char err[1024] = "";
  long step = 0;
  int n = 0, side = 0;

  // Below the main thread, so that on a machine with as many cores as training threads
  // the window still gets the CPU when it needs it (Linux: nice is per thread, and the
  // engine's pool threads started from here inherit it).
  setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 10);
  message = open_session (job, &images, &n, &side, &step, history, &final);
  if (message == NULL)
    {
      px_trainer_post (job, PX_TRAINER_RUNNING,
                       g_strdup_printf (ngettext ("Training on %d radiograph of %d × %d pixels",
                                                  "Training on %d radiographs of %d × %d pixels", n),
                                        n, side, side));
      job->first_step = step;
      job->started = g_get_monotonic_time ();
      status = peac_train_run (job->session, on_progress, job, &self->abort_flag, err, sizeof err);
      message = close_session (job, status, err, &final);
    }

  px_train_images_free (images, n);
  g_clear_pointer (&job->session, peac_train_free);
  px_trainer_post (job, final, message);
  // The last touch of the job: the task's callback frees it on the main thread.
  g_task_return_boolean (job->task, final == PX_TRAINER_DONE);
  return NULL;
}
