// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-train: `peac train` — PEAC self-supervised training of a ViT on radiographs, driven
// through the engine's session API (train.h). This file is the command's flow: options
// (cli-train-opts.c) resolved into a configuration or, with --resume, the checkpoint's;
// output paths (--out DIR holds checkpoint.safetensors and log.csv); data loaded once
// (cli-train-data.c), each image squeezed to a square of (G + max_shift)·patch pixels so
// that crop pairs fit; progress on stdout (a bar redrawn with \r on a terminal, plain
// lines otherwise), every step in the CSV log, the held-out loss every --val-every steps.
// Checkpoints are written atomically every --save-every steps and at the end, with the
// data folders and thread count as `peac.run`, so `--resume CKPT` needs nothing else;
// SIGINT/SIGTERM stop between steps, save, and exit 130/143; a non-finite loss stops
// without saving over the last good checkpoint (exit 1).
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "checkpoint.h"
#include "cli-train.h"
#include "cli.h"
#include "ops.h"

// The only process state: set by the signal handler, read by the session between steps
// (a lock-free atomic, so the store is async-signal-safe).
static atomic_int stop_signal;

static void
on_signal (int sig)
{
  stop_signal = sig;
}

#define VAL_SEED 0x7a1d5eedULL

typedef struct {
  const TrainArgs  *a;
  PeacTrainSession *s;
  const char       *ckpt;
  TrainLog          log;
  const PeacGrey   *val;
  int               n_val, n_images, tty, bar_drawn, save_failed;
  long              start;
  gint64            t0, last_draw, val_us;
} RunCtx;

static void
format_eta (char *buf, size_t n, double s)
{
  if (!isfinite (s) || s < 0)
    snprintf (buf, n, "?");
  else if (s >= 3600)
    snprintf (buf, n, "%d:%02d:%02d", (int) (s / 3600), (int) fmod (s / 60, 60), (int) fmod (s, 60));
  else
    snprintf (buf, n, "%d:%02d", (int) (s / 60), (int) fmod (s, 60));
}

static void
progress (void *user, const PeacTrainProgress *p)
{
  RunCtx *c = user;
  const TrainArgs *a = c->a;
  const int batch = peac_train_config (c->s)->batch;
  const double epoch = (double) p->step * batch / c->n_images;
  const int last = p->step == p->total_steps;
  char err[512];

  PeacLossTerms val, *vp = NULL;
  if (c->n_val && ((a->val_every > 0 && p->step % a->val_every == 0) || last))
    {
      const gint64 t = g_get_monotonic_time ();
      if (peac_train_evaluate (c->s, c->val, c->n_val, VAL_SEED, &val, err, sizeof err) == 0)
        vp = &val;
      else
        fprintf (stderr, "peac train: %s\n", err);
      c->val_us += g_get_monotonic_time () - t;
    }
  train_log_row (&c->log, p, epoch, vp);

  const gint64 now = g_get_monotonic_time ();
  const double secs = (double) (now - c->t0 - c->val_us) / 1e6, done = (double) (p->step - c->start);
  const double ips = secs > 0 ? done * batch / secs : 0;
  char eta[32];
  format_eta (eta, sizeof eta, secs / done * (double) (p->total_steps - p->step));
  if (!a->quiet && vp)
    printf ("%sval at step %ld: loss %.5f  order %.4f  restore %.4f  global %.4f  local %.4f\n",
            c->tty && c->bar_drawn ? "\r\033[K" : "", p->step, vp->total, vp->order, vp->restore,
            vp->global, vp->local);
  if (a->quiet)
    ;
  else if (c->tty && (last || vp || now - c->last_draw > 100000))
    {
      char bar[13], line[256];
      const int fill = (int) (12.0 * (double) p->step / (double) p->total_steps);
      for (int i = 0; i < 12; i++)
        bar[i] = i < fill ? '#' : '.';
      bar[12] = 0;
      snprintf (line, sizeof line, "[%s] %ld/%ld ep %.2f loss %.4f o %.3f r %.3f g %.3f "
                "l %.3f  %.1f img/s  ETA %s", bar, p->step, p->total_steps, epoch,
                p->loss.total, p->loss.order, p->loss.restore, p->loss.global, p->loss.local,
                ips, eta);
      // One line, never wrapped (which would break the \r redraw); ASCII only.
      struct winsize ws;
      const int cols = ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 80;
      if ((int) strlen (line) > cols - 1)
        line[cols - 1] = 0;
      printf ("\r%s\033[K", line);
      c->bar_drawn = 1, c->last_draw = now;
    }
  else if (!c->tty && (p->step % a->log_every == 0 || last))
    {
      // The position term only where the run has the head (its loss is then never 0).
      char pos[32] = "";
      if (p->loss.position != 0.0)
        snprintf (pos, sizeof pos, "  position %.4f", p->loss.position);
      printf ("step %ld/%ld  epoch %.2f  loss %.5f  order %.4f  restore %.4f  global %.4f  "
              "local %.4f%s  lr %.3g  |g| %.3g  %.1f img/s  ETA %s\n", p->step, p->total_steps,
              epoch, p->loss.total, p->loss.order, p->loss.restore, p->loss.global,
              p->loss.local, pos, p->lr, p->grad_norm, ips, eta);
    }
  fflush (stdout);

  if (a->save_every > 0 && p->step % a->save_every == 0 && !last)
    if (peac_train_save (c->s, c->ckpt, err, sizeof err) != 0)
      fprintf (stderr, "peac train: %s\n", err), c->save_failed = 1, stop_signal = SIGINT;
  if (a->stop_after > 0 && p->step - c->start >= a->stop_after)
    stop_signal = SIGINT;
}

// What a checkpoint to resume holds besides tensors: its configuration (model, crop
// shift, jitter: the engine's reader) and run info.
static int
read_resume (const char *path, PeacTrainConfig *c, json_t **run, char *err, size_t errlen)
{
  long step;
  PeacRng rng;
  if (peac_train_read_config (path, c, &step, &rng, err, errlen) != 0)
    return -1;
  PeacSafetensors *st = peac_st_open (path, err, errlen);
  if (!st)
    return -1;
  const char *r = peac_st_meta (st, "peac.run");
  *run = r ? json_loads (r, 0, NULL) : NULL;
  peac_st_close (st);
  return 0;
}

// A checkpoint's configuration for --print-config: its architecture, model configuration,
// training state and run, as stored (the state's doubles at full precision).
static char *
checkpoint_config (const char *path)
{
  char err[512];
  PeacSafetensors *st = peac_st_open (path, err, sizeof err);
  json_t *j = json_object ();
  const char *arch = st ? peac_st_meta (st, "peac.arch") : NULL;
  if (arch)
    json_object_set_new (j, "arch", json_string (arch));
  const char *keys[][2] = { { "model", "peac.config" }, { "train", "peac.train" }, { "run", "peac.run" } };
  for (size_t i = 0; st && i < G_N_ELEMENTS (keys); i++)
    {
      const char *m = peac_st_meta (st, keys[i][1]);
      json_t *v = m ? json_loads (m, 0, NULL) : NULL;
      if (v)
        json_object_set_new (j, keys[i][0], v);
    }
  if (st)
    peac_st_close (st);
  char *r = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (17));
  json_decref (j);
  return r;
}

static char *
run_info (const TrainArgs *a, GPtrArray *data, const char *val, long val_every)
{
  json_t *d = json_array ();
  for (guint i = 0; i < data->len; i++)
    json_array_append_new (d, json_string (data->pdata[i]));
  json_t *j = json_pack ("{s:s?, s:o, s:s?, s:I, s:i, s:I}", "preset", a->preset, "data", d, "val", val, "val_every",
                         (json_int_t) val_every, "threads", peac_threads_get (),
                         "save_every", (json_int_t) a->save_every);
  char *r = json_dumps (j, JSON_COMPACT);
  json_decref (j);
  return r;
}

// --out: a .safetensors file, or a folder holding checkpoint.safetensors; the log beside.
static int
output_paths (const char *out, const char *log, char **ckpt, char **log_path)
{
  char *dir;
  if (g_str_has_suffix (out, ".safetensors"))
    {
      *ckpt = g_strdup (out);
      dir = g_path_get_dirname (out);
      char *base = g_path_get_basename (out);
      base[strlen (base) - strlen (".safetensors")] = 0;
      char *name = strcmp (base, "checkpoint") == 0 ? g_strdup ("log.csv")
                                                    : g_strconcat (base, ".log.csv", NULL);
      *log_path = g_build_filename (dir, name, NULL);
      g_free (base), g_free (name);
    }
  else
    {
      dir = g_strdup (out);
      *ckpt = g_build_filename (dir, "checkpoint.safetensors", NULL);
      *log_path = g_build_filename (dir, "log.csv", NULL);
    }
  if (log)
    g_free (*log_path), *log_path = g_strdup (log);
  // An --out folder is created; a file's folder must exist (a typo should not make one).
  int rc = 0;
  if (!g_str_has_suffix (out, ".safetensors") && g_mkdir_with_parents (dir, 0755) != 0)
    fprintf (stderr, "peac train: cannot create the folder %s: %s\n", dir, g_strerror (errno)), rc = -1;
  else if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    fprintf (stderr, "peac train: cannot write %s: no folder %s\n", *ckpt, dir), rc = -1;
  g_free (dir);
  return rc;
}

// The run's configuration: the checkpoint's (--resume: *resume_file, *run and *c set), or
// the preset's with the options applied (*c set). Returns 0, or the exit status after a
// message.
static int
resolve_config (TrainArgs *a, char **resume_file, json_t **run, PeacTrainConfig *c)
{
  char err[1024];
  if (a->resume && a->hyper_name)
    {
      fprintf (stderr, "peac train: %s cannot be given with --resume: the run continues with "
               "the configuration stored in %s\n", a->hyper_name, a->resume);
      return 2;
    }
  if (a->resume)
    {
      *resume_file = g_file_test (a->resume, G_FILE_TEST_IS_DIR)
                       ? g_build_filename (a->resume, "checkpoint.safetensors", NULL)
                       : g_strdup (a->resume);
      if (read_resume (*resume_file, c, run, err, sizeof err) != 0)
        {
          fprintf (stderr, "peac train: %s\n", err);
          return 1; // a file that cannot be used, not a bad command line
        }
      return 0;
    }
  PeacModelSpec model;
  if (peac_preset_resolve (&model, a->preset, a->config_json, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac train: --%s: %s\n", a->config_json ? "config" : "preset", err);
      return 2;
    }
  train_args_apply (a, &model, c);
  if (c->obj.jitter >= c->model.cell)
    {
      fprintf (stderr, "peac train: --jitter: %d px is not below one cell (%d px)\n",
               c->obj.jitter, c->model.cell);
      return 2;
    }
  return 0;
}

// Runs session s to its end (or a signal) with the progress display and the CSV log, then
// saves the checkpoint. Returns the exit status: 0, 1, or 128 + the signal.
static int
run_session (TrainArgs *a, PeacTrainSession *s, const char *ckpt, const char *log_path,
             PeacGrey *vimgs, int n_val, int n, int side)
{
  char err[1024];
  RunCtx ctx = { .a = a, .s = s, .ckpt = ckpt, .val = vimgs, .n_val = n_val, .n_images = n,
                 .tty = isatty (STDOUT_FILENO), .start = peac_train_step_count (s),
                 .t0 = g_get_monotonic_time () };
  if (train_log_open (&ctx.log, log_path, a->resume != NULL, ctx.start, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac train: cannot write the log: %s\n", err);
      return 1;
    }
  if (!a->quiet)
    printf ("peac train: %d images of %d×%d%s, %s from step %ld of %ld; log %s\n", n, side,
            side, n_val ? " (+ held-out)" : "", a->resume ? "resuming" : "starting",
            ctx.start, peac_train_config (s)->opt.total_steps, log_path);
  fflush (stdout);

  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  PeacTrainStatus st = peac_train_run (s, progress, &ctx, &stop_signal, err, sizeof err);
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  train_log_close (&ctx.log);
  if (ctx.tty && ctx.bar_drawn && !a->quiet)
    printf ("\n");
  if (st == PEAC_TRAIN_NAN || st == PEAC_TRAIN_ERROR || ctx.save_failed)
    {
      if (!ctx.save_failed)
        fprintf (stderr, "peac train: %s\n", err);
      return 1;
    }
  if (peac_train_save (s, ckpt, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac train: %s\n", err);
      return 1;
    }
  if (st == PEAC_TRAIN_ABORTED)
    {
      fprintf (stderr, "peac train: stopped at step %ld; checkpoint saved to %s\n",
               peac_train_step_count (s), ckpt);
      return 128 + (stop_signal ? stop_signal : SIGINT);
    }
  if (!a->quiet)
    printf ("peac train: done, %ld steps; checkpoint %s\n", peac_train_step_count (s), ckpt);
  return 0;
}

int
peac_cmd_train (int argc, char **argv)
{
  TrainArgs a;
  train_args_init (&a);
  int status = train_args_parse (&a, argc, argv);
  char err[1024];
  char *ckpt = NULL, *log_path = NULL, *resume_file = NULL, *info = NULL, *val_abs = NULL;
  json_t *run = NULL;
  GPtrArray *data = g_ptr_array_new_with_free_func (g_free), *files = NULL, *vfiles = NULL;
  PeacGrey *imgs = NULL, *vimgs = NULL;
  int n = 0, n_val = 0;
  PeacTrainSession *s = NULL;
  PeacTrainConfig c;
  if (status != 0)
    goto out;
  if (a.help)
    {
      train_usage (stdout);
      goto out;
    }
  if ((status = resolve_config (&a, &resume_file, &run, &c)) != 0)
    goto out;
  status = 2;
  if (a.print_config)
    {
      char *j = a.resume ? checkpoint_config (resume_file) : peac_train_config_json (&c);
      printf ("%s\n", j);
      free (j);
      status = 0;
      goto out;
    }

  if (!a.out && !a.resume)
    {
      fprintf (stderr, "peac train: --out DIR is required (see peac train --help)\n");
      goto out;
    }

  // The run's options: the command line's, else those the checkpoint recorded.
  const char *val = a.val;
  long val_every = a.val_every;
  if (run && !a.data->len)
    for (size_t i = 0; i < json_array_size (json_object_get (run, "data")); i++)
      g_ptr_array_add (data, g_strdup (json_string_value (json_array_get (json_object_get (run, "data"), i))));
  for (guint i = 0; i < a.data->len; i++)
    g_ptr_array_add (data, g_canonicalize_filename (a.data->pdata[i], NULL));
  if (run && !val)
    val = json_string_value (json_object_get (run, "val"));
  val_abs = val ? g_canonicalize_filename (val, NULL) : NULL;
  if (run && !train_args_given (&a, "--val-every") && json_object_get (run, "val_every"))
    val_every = (long) json_integer_value (json_object_get (run, "val_every"));
  a.val_every = val_every;
  int threads = a.threads;
  if (run && !a.threads_given)
    threads = (int) json_integer_value (json_object_get (run, "threads"));
  if (!data->len)
    {
      fprintf (stderr, "peac train: no training images: give --data DIR (see peac train --help)\n");
      goto out;
    }
  if (output_paths (a.out ? a.out : a.resume, a.log, &ckpt, &log_path) != 0)
    goto out;
  peac_threads_set (threads);

  // Images, squeezed to the side the crops need (plus the lattice's jitter).
  const int side = peac_train_image_side (&c);
  files = train_collect (data);
  n = train_load (files, side, &imgs);
  if (n == 0)
    {
      fprintf (stderr, "peac train: no usable image among %u file(s) found\n", files->len);
      goto out;
    }
  if (val_abs)
    {
      GPtrArray *vp = g_ptr_array_new ();
      g_ptr_array_add (vp, val_abs);
      vfiles = train_collect (vp);
      g_ptr_array_unref (vp);
      n_val = train_load (vfiles, side, &vimgs);
      if (n_val == 0)
        {
          fprintf (stderr, "peac train: --val %s: no usable image\n", val_abs);
          goto out;
        }
    }
  s = a.resume ? peac_train_resume (resume_file, imgs, n,
                                    train_args_given (&a, "--steps") ? a.steps : 0, err, sizeof err)
               : peac_train_new (&c, imgs, n, err, sizeof err);
  if (!s)
    {
      fprintf (stderr, "peac train: %s\n", err);
      status = 1;
      goto out;
    }
  // The preset's name, for the record: a new run's (tiny unless given), or the one recorded.
  char *preset = a.resume ? g_strdup (json_string_value (json_object_get (run, "preset")))
                          : g_strdup (a.preset ? a.preset : PEAC_PRESET_DEFAULT);
  g_free (a.preset);
  a.preset = preset;
  info = run_info (&a, data, val_abs, val_every);
  peac_train_set_run_info (s, info);

  status = run_session (&a, s, ckpt, log_path, vimgs, n_val, n, side);
out:
  peac_train_free (s);
  train_images_free (imgs, n);
  train_images_free (vimgs, n_val);
  if (files)
    g_ptr_array_unref (files);
  if (vfiles)
    g_ptr_array_unref (vfiles);
  g_ptr_array_unref (data);
  json_decref (run);
  g_free (ckpt), g_free (log_path), g_free (resume_file), free (info), g_free (val_abs);
  train_args_clear (&a);
  return status;
}
