// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-train: `peac train` — PEAC self-supervised training of a ViT on radiographs, driven
// through the engine's session API (train.h). Images (files or folders of PNG, JPEG or
// DICOM) are loaded once, each squeezed to a square of (G + max_shift)·patch pixels so
// that crop pairs fit; progress goes to stdout, one line per logged step. Checkpoints are
// written atomically every --save-every steps and at the end; SIGINT/SIGTERM stop the run
// between steps, save, and exit 130/143; a non-finite loss stops without saving over the
// last good checkpoint (exit 1). --resume continues a checkpoint bit-exactly (same thread
// count) with the configuration stored in it.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "checkpoint.h"
#include "cli.h"
#include "ops.h"
#include "preprocess.h"
#include "px-image.h"
#include "train.h"

// The only process state: set by the signal handler, read by the session between steps.
static volatile int stop_signal;

static void
on_signal (int sig)
{
  stop_signal = sig;
}

typedef struct {
  int   every;
  int   quiet;
  long  stop_after;   // > 0: stop (as if interrupted) once this many steps are done
  long  start;
  volatile int *flag;
  PeacTrainSession *s;
  const char *out;
  int   save_every;
  int   save_failed;
} RunCtx;

static void
progress (void *user, const PeacTrainProgress *p)
{
  RunCtx *c = user;
  if (!c->quiet && (p->step % c->every == 0 || p->step == p->total_steps))
    {
      printf ("step %ld/%ld  loss %.5f  order %.4f  restore %.4f  global %.4f  local %.4f  "
              "lr %.3g  ema %.6f  |g| %.3g\n", p->step, p->total_steps, p->loss.total,
              p->loss.order, p->loss.restore, p->loss.global, p->loss.local, p->lr,
              p->momentum, p->grad_norm);
      fflush (stdout);
    }
  if (c->save_every > 0 && p->step % c->save_every == 0 && p->step < p->total_steps)
    {
      char err[512];
      if (peac_train_save (c->s, c->out, err, sizeof err) != 0)
        fprintf (stderr, "peac train: %s\n", err), c->save_failed = 1, *c->flag = 1;
    }
  if (c->stop_after > 0 && p->step - c->start >= c->stop_after)
    *c->flag = SIGINT;
}

static int
is_image_name (const char *n)
{
  const char *ext[] = { ".png", ".jpg", ".jpeg", ".dcm", ".PNG", ".JPG", ".JPEG", ".DCM" };
  for (size_t i = 0; i < G_N_ELEMENTS (ext); i++)
    if (g_str_has_suffix (n, ext[i]))
      return 1;
  return 0;
}

// Files given, and the image files of folders given (sorted, not recursive).
// g_ptr_array_sort hands the comparator pointers to the elements.
static int
cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static GPtrArray *
collect (char **paths, int n)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < n; i++)
    {
      if (!g_file_test (paths[i], G_FILE_TEST_IS_DIR))
        {
          g_ptr_array_add (out, g_strdup (paths[i]));
          continue;
        }
      GDir *d = g_dir_open (paths[i], 0, NULL);
      GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
      const char *e;
      while (d && (e = g_dir_read_name (d)))
        if (is_image_name (e))
          g_ptr_array_add (names, g_build_filename (paths[i], e, NULL));
      if (d)
        g_dir_close (d);
      g_ptr_array_sort (names, cmp_names);
      for (guint k = 0; k < names->len; k++)
        g_ptr_array_add (out, g_strdup (names->pdata[k]));
      g_ptr_array_unref (names);
    }
  return out;
}

// Loads an image as grey [side, side] in [0, 1] (whole image squeezed, antialiased).
static float *
load_grey (const char *path, int side)
{
  GError *error = NULL;
  PxImage *img = px_image_load (path, &error);
  if (!img)
    {
      fprintf (stderr, "peac train: %s\n", error->message);
      g_error_free (error);
      return NULL;
    }
  float *unit = malloc ((size_t) img->width * img->height * sizeof (float));
  float *x = malloc ((size_t) 3 * side * side * sizeof (float));
  float *g = malloc ((size_t) side * side * sizeof (float));
  PeacPreprocess pp = { side, PEAC_MEAN, PEAC_STD, 0 };
  int ok = unit && x && g;
  if (ok)
    {
      px_image_to_unit (img, unit);
      ok = peac_preprocess (unit, img->width, img->height, &pp, x) == 0;
    }
  if (ok)
    for (size_t i = 0; i < (size_t) side * side; i++)
      g[i] = x[i] * PEAC_STD + PEAC_MEAN;
  else
    fprintf (stderr, "peac train: %s: cannot preprocess\n", path), free (g), g = NULL;
  free (unit), free (x);
  px_image_free (img);
  return g;
}

// The crop geometry a checkpoint was trained with (its ViT and max_shift).
static int
resume_geometry (const char *path, VitConfig *vit, int *max_shift, char *err, size_t errlen)
{
  PeacSafetensors *st = peac_st_open (path, err, errlen);
  if (!st)
    return -1;
  int rc = vit_config_parse (vit, peac_st_meta (st, "peac.config"), err, errlen);
  json_t *j = rc ? NULL : json_loads (peac_st_meta (st, "peac.train") ? peac_st_meta (st, "peac.train") : "", 0, NULL);
  json_t *v = json_object_get (json_object_get (j, "objective"), "max_shift");
  if (!rc && !json_is_integer (v))
    {
      snprintf (err, errlen, "%s: not a peac train checkpoint (no peac.train state)", path);
      rc = -1;
    }
  if (!rc)
    *max_shift = (int) json_integer_value (v);
  json_decref (j);
  peac_st_close (st);
  return rc;
}

static void
usage (FILE *to)
{
  fprintf (to,
    "Usage: peac train [OPTIONS] --out CKPT IMAGE|FOLDER...\n"
    "       peac train [OPTIONS] --resume CKPT [--out CKPT2] IMAGE|FOLDER...\n\n"
    "PEAC self-supervised training of a ViT (student + EMA teacher).\n\n"
    "  --config JSON       ViT config (timm keys; default ViT-Ti/16 at 224:\n"
    "                      {\"embed_dim\":192,\"depth\":12,\"num_heads\":3})\n"
    "  --steps N           optimiser steps (default 1000)   --batch N (default 8)\n"
    "  --optimizer NAME    adamw (default) or sgd           --lr X (default 5e-4)\n"
    "  --warmup N          warm-up steps (default steps/10) --weight-decay X (0.05)\n"
    "  --clip X            clip the gradient norm (default 3; 0 = off)\n"
    "  --max-shift N       largest crop offset in cells (default grid/2)\n"
    "  --seed N            (default 1)                      --threads N (default: all)\n"
    "  --save-every N      checkpoint every N steps (default 100; 0 = only at the end)\n"
    "  --log-every N       print every N steps (default 1)  --quiet\n"
    "  --stop-after N      stop after N steps of this run and save, as on SIGINT\n"
    "Only train on data you may use; the file written holds student.* and teacher.*\n"
    "weights (peac embed and match load the teacher), heads and optimiser state.\n");
}

int
peac_cmd_train (int argc, char **argv)
{
  const char *out = NULL, *resume = NULL, *cfg_json = NULL, *optim = "adamw";
  long steps = 1000, warmup = -1, stop_after = 0;
  int batch = 8, threads = 0, save_every = 100, every = 1, quiet = 0, max_shift = 0;
  double lr = 5e-4, wd = 0.05, clip = 3.0;
  unsigned long long seed = 1;
  int first_path = argc;
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      int has = i + 1 < argc;
#define OPT(name) (strcmp (a, name) == 0 && has)
      if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0)
        return usage (stdout), 0;
      else if (OPT ("--out")) out = argv[++i];
      else if (OPT ("--resume")) resume = argv[++i];
      else if (OPT ("--config")) cfg_json = argv[++i];
      else if (OPT ("--optimizer")) optim = argv[++i];
      else if (OPT ("--steps")) steps = atol (argv[++i]);
      else if (OPT ("--warmup")) warmup = atol (argv[++i]);
      else if (OPT ("--stop-after")) stop_after = atol (argv[++i]);
      else if (OPT ("--batch")) batch = atoi (argv[++i]);
      else if (OPT ("--threads")) threads = atoi (argv[++i]);
      else if (OPT ("--save-every")) save_every = atoi (argv[++i]);
      else if (OPT ("--log-every")) every = atoi (argv[++i]);
      else if (OPT ("--max-shift")) max_shift = atoi (argv[++i]);
      else if (OPT ("--lr")) lr = atof (argv[++i]);
      else if (OPT ("--weight-decay")) wd = atof (argv[++i]);
      else if (OPT ("--clip")) clip = atof (argv[++i]);
      else if (OPT ("--seed")) seed = strtoull (argv[++i], NULL, 10);
      else if (strcmp (a, "--quiet") == 0) quiet = 1;
      else if (a[0] == '-')
        return fprintf (stderr, "peac train: unknown option or missing value '%s'\n", a), 2;
      else
        {
          first_path = i;
          break;
        }
#undef OPT
    }
  if (!out)
    out = resume;
  if (!out || first_path >= argc || steps <= 0 || batch <= 0 || every <= 0
      || (strcmp (optim, "adamw") != 0 && strcmp (optim, "sgd") != 0))
    return usage (stderr), 2;
  peac_threads_set (threads);

  char err[1024];
  PeacTrainConfig c;
  VitConfig vit;
  if (vit_config_parse (&vit, cfg_json ? cfg_json
                        : "{\"embed_dim\":192,\"depth\":12,\"num_heads\":3}", err, sizeof err))
    return fprintf (stderr, "peac train: %s\n", err), 2;
  peac_train_defaults (&c, &vit, steps);
  c.batch = batch, c.seed = seed;
  c.opt.kind = strcmp (optim, "sgd") == 0 ? PEAC_OPT_SGD : PEAC_OPT_ADAMW;
  c.opt.lr = lr, c.opt.weight_decay = wd, c.opt.clip_norm = clip;
  if (warmup >= 0)
    c.opt.warmup_steps = warmup;
  if (max_shift > 0)
    c.obj.max_shift = max_shift;
  if (resume && resume_geometry (resume, &vit, &c.obj.max_shift, err, sizeof err) != 0)
    return fprintf (stderr, "peac train: %s\n", err), 2;

  // Images, squeezed to the side the crops need.
  const int G = vit.img_size / vit.patch_size;
  int side = (G + c.obj.max_shift) * vit.patch_size;
  GPtrArray *files = collect (argv + first_path, argc - first_path);
  PeacGrey *imgs = calloc (files->len ? files->len : 1, sizeof *imgs);
  int n = 0, status = 2;
  PeacTrainSession *s = NULL;
  for (guint i = 0; i < files->len; i++)
    {
      float *g = load_grey (files->pdata[i], side);
      if (g)
        imgs[n++] = (PeacGrey) { g, side, side };
    }
  if (n == 0)
    {
      fprintf (stderr, "peac train: no usable image among %u file(s)\n", files->len);
      goto out;
    }
  s = resume ? peac_train_resume (resume, imgs, n, err, sizeof err)
             : peac_train_new (&c, imgs, n, err, sizeof err);
  if (!s)
    {
      fprintf (stderr, "peac train: %s\n", err);
      goto out;
    }
  if (!quiet)
    printf ("peac train: %d images of %d×%d, %s from step %ld\n", n, side, side,
            resume ? "resuming" : "starting", peac_train_step_count (s));

  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  RunCtx ctx = { every, quiet, stop_after, peac_train_step_count (s), &stop_signal, s, out,
                 save_every, 0 };
  PeacTrainStatus st = peac_train_run (s, progress, &ctx, &stop_signal, err, sizeof err);
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  if (st == PEAC_TRAIN_NAN || st == PEAC_TRAIN_ERROR || ctx.save_failed)
    {
      if (!ctx.save_failed)
        fprintf (stderr, "peac train: %s\n", err);
      status = 1;
      goto out;
    }
  if (peac_train_save (s, out, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac train: %s\n", err);
      status = 1;
      goto out;
    }
  if (st == PEAC_TRAIN_ABORTED)
    {
      fprintf (stderr, "peac train: stopped at step %ld; checkpoint saved to %s\n",
               peac_train_step_count (s), out);
      status = 128 + (stop_signal ? stop_signal : SIGINT);
    }
  else
    {
      if (!quiet)
        printf ("peac train: done, %ld steps; checkpoint %s\n", peac_train_step_count (s), out);
      status = 0;
    }
out:
  peac_train_free (s);
  for (int i = 0; i < n; i++)
    free ((float *) imgs[i].px);
  free (imgs);
  g_ptr_array_unref (files);
  return status;
}
