// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-finetune: `peac finetune --model M --train CSV --val CSV [--test CSV] --mode
// linear|full` measures how a backbone transfers to a labelled downstream task, as in the
// paper's tables: a multi-label linear head on the pooled embedding, trained as a linear
// probe on embeddings computed once per image (backbone frozen) or end to end with
// augmentation, early-stopped on the validation mean AUC, over `--seeds N` seeds and a
// seeded `--label-fraction` of the training rows. `--compare [M2...]` runs the same
// protocol on a random-init model of the same architecture and on other checkpoints and
// prints one table. It reports per-class ROC AUC, the mean AUC ± std over seeds with a
// bootstrap 95 % interval, and optionally JSON, ROC curves (CSV and a Cairo PNG), the
// evaluation scores and the fine-tuned model (backbone + head, safetensors).
#include <cairo.h>
#include <errno.h>
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auc.h"
#include "cli.h"
#include "finetune.h"
#include "model.h"
#include "ops.h"
#include "preprocess.h"
#include "px-image.h"

static void
usage (FILE *to)
{
  fprintf (to,
    "Usage: peac finetune --model M.safetensors --train CSV --val CSV [--test CSV] [OPTIONS]\n\n"
    "Multi-label classification with a linear head on the pooled embedding, early-stopped\n"
    "on the validation mean AUC; reports ROC AUC on --test (else on --val).\n\n"
    "Label files: CSV with an image column (image, path, file, filename) and one 0/1\n"
    "column per finding. A 'split' or 'official_split' column selects the rows: train,\n"
    "val (valid, validation), test; the same file may be given to --train and --val.\n"
    "Relative image paths are looked up in --images, then beside the CSV and its parents.\n\n"
    "Options:\n"
    "  --mode linear|full     linear probe on frozen embeddings (default) or end-to-end\n"
    "  --labels A,B,...       label columns (default: every 0/1 column)\n"
    "  --image-column NAME    the image column (default: found by name)\n"
    "  --images DIR           folder the image paths are relative to\n"
    "  --label-fraction F     train on a seeded subset of F of the training rows (default 1)\n"
    "  --seeds N              repeat with seeds 0..N-1, report mean ± std (default 1)\n"
    "  --views N              linear: also N cached augmented views per training image\n"
    "  --random-init          use a random-init model of M's architecture instead of M\n"
    "  --compare [M2 ...]     also run a random-init model and the checkpoints M2...\n"
    "  --epochs N             (default: linear 100, full 20)\n"
    "  --batch N              (default: linear 32, full 8)\n"
    "  --lr X                 head learning rate (default: linear 1e-2, full 1e-4)\n"
    "  --backbone-lr X        full: backbone learning rate (default 1e-5)\n"
    "  --weight-decay X       (default: linear 1e-4, full 0.05)\n"
    "  --patience N           epochs without improvement before stopping (default 10/5)\n"
    "  --rotate DEG           full: rotation range ±DEG (default 10)\n"
    "  --min-scale S          full: random resized crop area fraction (default 0.6)\n"
    "  --hflip                full: random horizontal flips (off: anatomy is not symmetric)\n"
    "  --bootstrap N          resamples of the confidence interval (default 1000)\n"
    "  --out-dir DIR          write roc.csv, roc.png and scores.csv there\n"
    "  --save OUT.safetensors the fine-tuned model of M (seed 0): backbone + head\n"
    "  --json                 results as JSON on stdout instead of the table\n"
    "  --threads N            threads (default: all cores)\n"
    "  -q, --quiet            no progress on stderr\n");
}

enum { MODE_LINEAR = 0, MODE_FULL = 1 };

typedef struct {
  const char *model, *train, *val, *test, *images, *image_col, *labels, *out_dir, *save;
  const char **compare;
  int n_compare, compare_random;
  int mode, seeds, random_init, json, threads, quiet, bootstrap, hflip, views;
  int epochs, batch, patience;
  double fraction, lr, backbone_lr, wd, rotate, min_scale;
} FtArgs;

static volatile int stop_flag;

static void
on_sigint (int sig)
{
  (void) sig;
  stop_flag = 1;
}

static int
parse_args (FtArgs *a, int argc, char **argv)
{
  *a = (FtArgs) { .seeds = 1, .fraction = 1, .bootstrap = 1000, .epochs = -1, .batch = -1,
                  .patience = -1, .lr = -1, .backbone_lr = -1, .wd = -1, .rotate = -1,
                  .min_scale = -1 };
  a->compare = calloc ((size_t) argc, sizeof (char *));
  for (int i = 1; i < argc; i++)
    {
      const char *s = argv[i];
      int more = i + 1 < argc;
#define OPT(name) (strcmp (s, name) == 0 && more)
      if (strcmp (s, "--help") == 0 || strcmp (s, "-h") == 0)
        return usage (stdout), 1;
      else if (OPT ("--model"))
        a->model = argv[++i];
      else if (OPT ("--train"))
        a->train = argv[++i];
      else if (OPT ("--val"))
        a->val = argv[++i];
      else if (OPT ("--test"))
        a->test = argv[++i];
      else if (OPT ("--mode"))
        {
          const char *m = argv[++i];
          if (strcmp (m, "linear") == 0)
            a->mode = MODE_LINEAR;
          else if (strcmp (m, "full") == 0)
            a->mode = MODE_FULL;
          else
            return fprintf (stderr, "peac finetune: --mode is linear or full, not '%s'\n", m), 2;
        }
      else if (OPT ("--labels"))
        a->labels = argv[++i];
      else if (OPT ("--image-column"))
        a->image_col = argv[++i];
      else if (OPT ("--images"))
        a->images = argv[++i];
      else if (OPT ("--label-fraction"))
        a->fraction = strtod (argv[++i], NULL);
      else if (OPT ("--seeds"))
        a->seeds = atoi (argv[++i]);
      else if (OPT ("--views"))
        a->views = atoi (argv[++i]);
      else if (strcmp (s, "--random-init") == 0)
        a->random_init = 1;
      else if (strcmp (s, "--compare") == 0)
        {
          a->compare_random = 1;
          while (i + 1 < argc && argv[i + 1][0] != '-')
            a->compare[a->n_compare++] = argv[++i];
        }
      else if (OPT ("--epochs"))
        a->epochs = atoi (argv[++i]);
      else if (OPT ("--batch"))
        a->batch = atoi (argv[++i]);
      else if (OPT ("--lr"))
        a->lr = strtod (argv[++i], NULL);
      else if (OPT ("--backbone-lr"))
        a->backbone_lr = strtod (argv[++i], NULL);
      else if (OPT ("--weight-decay"))
        a->wd = strtod (argv[++i], NULL);
      else if (OPT ("--patience"))
        a->patience = atoi (argv[++i]);
      else if (OPT ("--rotate"))
        a->rotate = strtod (argv[++i], NULL);
      else if (OPT ("--min-scale"))
        a->min_scale = strtod (argv[++i], NULL);
      else if (strcmp (s, "--hflip") == 0)
        a->hflip = 1;
      else if (OPT ("--bootstrap"))
        a->bootstrap = atoi (argv[++i]);
      else if (OPT ("--out-dir"))
        a->out_dir = argv[++i];
      else if (OPT ("--save"))
        a->save = argv[++i];
      else if (strcmp (s, "--json") == 0)
        a->json = 1;
      else if (OPT ("--threads"))
        a->threads = atoi (argv[++i]);
      else if (strcmp (s, "-q") == 0 || strcmp (s, "--quiet") == 0)
        a->quiet = 1;
      else
        return fprintf (stderr, "peac finetune: unknown or incomplete option '%s'\n", s), 2;
#undef OPT
    }
  if (!a->model || !a->train || !a->val)
    return usage (stderr), 2;
  if (!(a->fraction > 0 && a->fraction <= 1))
    return fprintf (stderr, "peac finetune: --label-fraction must be in (0, 1]\n"), 2;
  if (a->seeds < 1 || a->seeds > 1000 || a->bootstrap < 0 || a->threads < 0)
    return fprintf (stderr, "peac finetune: --seeds, --bootstrap or --threads out of range\n"), 2;
  if ((a->epochs != -1 && a->epochs < 1) || (a->batch != -1 && a->batch < 1))
    return fprintf (stderr, "peac finetune: --epochs and --batch must be at least 1\n"), 2;
  if (a->views < 0 || a->views > 16)
    return fprintf (stderr, "peac finetune: --views must be in 0…16\n"), 2;
  if (a->min_scale != -1 && !(a->min_scale > 0 && a->min_scale <= 1))
    return fprintf (stderr, "peac finetune: --min-scale must be in (0, 1]\n"), 2;
  return 0;
}

// ---- Label files and images

typedef struct {
  const char *file;   // the CSV
  const char *role;   // train, val or test
  PeacLabels  lab;
  char      **resolved; // [n] image paths that exist
} Split;

static void
split_free (Split *s)
{
  for (int i = 0; s->resolved && i < s->lab.n; i++)
    g_free (s->resolved[i]);
  g_free (s->resolved);
  peac_labels_free (&s->lab);
}

// The image path of a row: absolute as is, else the first of --images, the CSV's folder
// and its parents (up to three) under which it exists.
static char *
resolve_image (const char *csv, const char *images, const char *path)
{
  if (g_path_is_absolute (path))
    return g_file_test (path, G_FILE_TEST_IS_REGULAR) ? g_strdup (path) : NULL;
  if (images)
    {
      char *p = g_build_filename (images, path, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        return p;
      g_free (p);
    }
  char *dir = g_path_get_dirname (csv);
  for (int up = 0; up < 4; up++)
    {
      char *p = g_build_filename (dir, path, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
        return g_free (dir), p;
      g_free (p);
      char *parent = g_path_get_dirname (dir);
      int same = strcmp (parent, dir) == 0;
      g_free (dir);
      dir = parent;
      if (same)
        break;
    }
  g_free (dir);
  return NULL;
}

static int
split_load (Split *s, const FtArgs *a, const char *file, const char *role)
{
  *s = (Split) { file, role };
  char *text = NULL;
  GError *e = NULL;
  char err[1024];
  if (!g_file_get_contents (file, &text, NULL, &e))
    {
      fprintf (stderr, "peac finetune: %s\n", e->message);
      g_error_free (e);
      return -1;
    }
  int rc = peac_labels_parse (&s->lab, text, file, a->image_col, a->labels, role, err,
                              sizeof err);
  g_free (text);
  if (rc != 0)
    return fprintf (stderr, "peac finetune: %s\n", err), -1;
  s->resolved = g_new0 (char *, s->lab.n);
  for (int i = 0; i < s->lab.n; i++)
    if (!(s->resolved[i] = resolve_image (file, a->images, s->lab.paths[i])))
      {
        fprintf (stderr, "peac finetune: %s:%d: image '%s' not found%s%s%s\n", file,
                 s->lab.line[i], s->lab.paths[i],
                 a->images ? " (looked in " : " (looked beside the CSV and in its parents;"
                             " give the folder with --images",
                 a->images ? a->images : "", ")");
        return -1;
      }
  return 0;
}

// A radiograph as grey [h, w] in [0, 1]; NULL with a message naming the row.
static float *
load_grey (const Split *s, int i, int *w, int *h)
{
  GError *e = NULL;
  PxImage *img = px_image_load (s->resolved[i], &e);
  if (!img)
    {
      fprintf (stderr, "peac finetune: %s:%d: %s\n", s->file, s->lab.line[i], e->message);
      g_error_free (e);
      return NULL;
    }
  float *g = malloc ((size_t) img->width * img->height * sizeof *g);
  if (g)
    px_image_to_unit (img, g), *w = img->width, *h = img->height;
  px_image_free (img);
  return g;
}

// Network inputs [3, S, S] of a split's images (short side, centre crop).
static int
split_input (const Split *s, int i, int S, float *dst)
{
  int w, h;
  float *g = load_grey (s, i, &w, &h);
  if (!g)
    return -1;
  PeacPreprocess pp = { S, PEAC_MEAN, PEAC_STD, 1 };
  int rc = peac_preprocess (g, w, h, &pp, dst);
  free (g);
  if (rc != 0)
    fprintf (stderr, "peac finetune: %s:%d: %s: cannot preprocess\n", s->file, s->lab.line[i],
             s->resolved[i]);
  return rc;
}

// Pooled embeddings [n, D] of every image of a split, 8 per forward pass.
static int
split_embed (PeacModel *m, const Split *s, int S, int D, float *pooled, int quiet)
{
  enum { B = 8 };
  float *x = malloc ((size_t) B * 3 * S * S * sizeof *x);
  char err[512];
  int rc = x ? 0 : -1;
  for (int i0 = 0; i0 < s->lab.n && rc == 0; i0 += B)
    {
      int nb = s->lab.n - i0 < B ? s->lab.n - i0 : B;
      for (int b = 0; b < nb && rc == 0; b++)
        rc = split_input (s, i0 + b, S, x + (size_t) b * 3 * S * S);
      if (rc == 0 && peac_model_forward (m, x, nb, S, S, NULL, pooled + (size_t) i0 * D, NULL,
                                         NULL, err, sizeof err) != 0)
        {
          fprintf (stderr, "peac finetune: %s\n", err);
          rc = -1;
        }
      if (!quiet && rc == 0 && isatty (STDERR_FILENO))
        fprintf (stderr, "\rpeac finetune: embedding %s: %d/%d", s->role, i0 + nb, s->lab.n);
    }
  if (!quiet && isatty (STDERR_FILENO))
    fprintf (stderr, "\n");
  free (x);
  return rc;
}

// V augmented views of every image of a split (the fine-tuning augmentation), pooled:
// view v of image i goes to out[(v·n + i)·D]. Seeded per image: the same views for every
// model and seed.
static int
split_embed_views (PeacModel *m, const Split *s, int S, int D, int V, const PeacAugConfig *aug,
                   float *out, int quiet)
{
  const int n = s->lab.n;
  float *x = malloc ((size_t) V * 3 * S * S * sizeof *x), *pooled = malloc ((size_t) V * D * sizeof *pooled);
  char err[512];
  int rc = x && pooled ? 0 : -1;
  for (int i = 0; i < n && rc == 0; i++)
    {
      int w, h, pw, ph;
      float *g = load_grey (s, i, &w, &h), *small = NULL;
      if (!g || !(small = peac_aug_prepare (g, w, h, S, &pw, &ph)))
        rc = -1;
      PeacRng rng;
      peac_rng_seed (&rng, 0x7f4a7c15ull * (uint64_t) (i + 1));
      for (int v = 0; v < V && rc == 0; v++)
        peac_aug_view (small, pw, ph, S, PEAC_MEAN, PEAC_STD, aug, &rng, x + (size_t) v * 3 * S * S);
      if (rc == 0 && peac_model_forward (m, x, V, S, S, NULL, pooled, NULL, NULL, err, sizeof err) != 0)
        {
          fprintf (stderr, "peac finetune: %s\n", err);
          rc = -1;
        }
      for (int v = 0; v < V && rc == 0; v++)
        memcpy (out + ((size_t) v * n + i) * D, pooled + (size_t) v * D, (size_t) D * sizeof *out);
      free (g), free (small);
      if (!quiet && rc == 0 && isatty (STDERR_FILENO))
        fprintf (stderr, "\rpeac finetune: augmented views of %s: %d/%d", s->role, i + 1, n);
    }
  if (!quiet && isatty (STDERR_FILENO))
    fprintf (stderr, "\n");
  free (x), free (pooled);
  return rc;
}

// ---- One model through the protocol

typedef struct {
  char   *name;
  char   *path;          // NULL: random init
  double *mean;          // [seeds] evaluation mean AUC
  double *cls;           // [seeds, k] per-class AUC
  int    *epochs;        // [seeds] epochs run
  double  ci_lo, ci_hi;  // bootstrap interval of seed 0
  double  embed_ms;      // per image (linear probe)
  double  train_s;       // per seed, mean
  float  *scores;        // [n_eval, k] seed 0
  GArray *loss0;         // double: the training loss of each epoch of seed 0
} Row;

typedef struct {
  const FtArgs *a;
  Split tr, va, te;
  const Split *ev;       // evaluation split: te when given, else va
  int k;
  PeacArch arch;
  char *layout, *config;
} Task;

typedef struct {
  int epochs;
  const char *name;
  int seed, quiet;
  GArray *losses;        // NULL, or each epoch's training loss appended
} EpochLog;

static void
on_epoch (void *user, const PeacFtProgress *p)
{
  EpochLog *l = user;
  l->epochs = p->epoch;
  if (l->losses)
    g_array_append_val (l->losses, p->train_loss);
  if (!l->quiet && isatty (STDERR_FILENO))
    fprintf (stderr, "\rpeac finetune: %s seed %d: epoch %d/%d, loss %.4f, val AUC %.4f "
             "(best %.4f)", l->name, l->seed, p->epoch, p->epochs, p->train_loss, p->val_auc,
             p->best_auc);
}

static PeacModel *
row_model (const Task *t, const Row *r)
{
  char err[1024], warn[1024];
  PeacModel *m = r->path ? peac_model_load_ex (r->path, NULL, warn, sizeof warn, err, sizeof err)
                         : peac_model_new (t->arch, t->layout, t->config, 0, err, sizeof err);
  if (!m)
    fprintf (stderr, "peac finetune: %s\n", err);
  return m;
}

static void
configure (const FtArgs *a, PeacFinetuneConfig *fc, PeacProbeConfig *pc)
{
  peac_probe_defaults (pc);
  peac_finetune_defaults (fc);
  PeacProbeConfig *o = a->mode == MODE_FULL ? &fc->opt : pc;
  if (a->epochs > 0) o->epochs = a->epochs;
  if (a->batch > 0) o->batch = a->batch;
  if (a->lr > 0) o->lr = a->lr;
  if (a->wd >= 0) o->weight_decay = a->wd;
  if (a->patience >= 0) o->patience = a->patience;
  if (a->backbone_lr >= 0) fc->backbone_lr = a->backbone_lr;
  if (a->rotate >= 0) fc->aug.rotate_deg = a->rotate;
  if (a->min_scale > 0) fc->aug.scale_min = a->min_scale;
  fc->aug.hflip = a->hflip;
  fc->size = 0;
}

// Rows of y [n, k] listed in idx → out [m, k]; the same for features x [n, D].
static void
gather (const float *src, int width, const int *idx, int m, float *out)
{
  for (int i = 0; i < m; i++)
    memcpy (out + (size_t) i * width, src + (size_t) idx[i] * width, (size_t) width * sizeof *out);
}

static int
run_row (Task *t, Row *r, int is_main)
{
  const FtArgs *a = t->a;
  const int k = t->k, ntr = t->tr.lab.n, nva = t->va.lab.n, nev = t->ev->lab.n;
  PeacFinetuneConfig fc;
  PeacProbeConfig pc;
  configure (a, &fc, &pc);
  PeacModel *m = row_model (t, r);
  if (!m)
    return -1;
  const int S = peac_model_img_size (m);
  int gh, gw, D;
  peac_model_output_shape (m, S, S, &gh, &gw, &D);
  int rc = -1, *idx = g_new (int, ntr);
  const int V1 = a->mode == MODE_LINEAR ? 1 + a->views : 1;   // blocks of training rows
  float *ysub = g_new (float, (size_t) V1 * ntr * k), *prob = g_new (float, (size_t) nev * k);
  float *xtr = NULL, *xva = NULL, *xev = NULL, *xsub = NULL, *val = NULL;
  PeacGrey *grey = NULL;
  char err[1024];
  r->mean = g_new0 (double, a->seeds);
  r->cls = g_new0 (double, (size_t) a->seeds * k);
  r->epochs = g_new0 (int, a->seeds);
  r->scores = g_new0 (float, (size_t) nev * k);
  r->ci_lo = r->ci_hi = NAN;

  if (a->mode == MODE_LINEAR)
    {
      // Every image embedded once; the probe runs on the cached vectors.
      xtr = g_new (float, (size_t) V1 * ntr * D), xva = g_new (float, (size_t) nva * D);
      xsub = g_new (float, (size_t) V1 * ntr * D);
      double t0 = peac_cli_now_s ();
      if (split_embed (m, &t->tr, S, D, xtr, a->quiet) != 0
          || split_embed (m, &t->va, S, D, xva, a->quiet) != 0
          || (a->views > 0 && split_embed_views (m, &t->tr, S, D, a->views, &fc.aug,
                                                 xtr + (size_t) ntr * D, a->quiet) != 0))
        goto out;
      int n_emb = ntr * V1 + nva;
      if (t->ev == &t->te)
        {
          xev = g_new (float, (size_t) nev * D);
          if (split_embed (m, &t->te, S, D, xev, a->quiet) != 0)
            goto out;
          n_emb += nev;
        }
      r->embed_ms = (peac_cli_now_s () - t0) * 1e3 / n_emb;
    }
  else
    {
      size_t bytes = (size_t) nva * 3 * S * S * sizeof (float);
      if (bytes > ((size_t) 4 << 30))
        {
          fprintf (stderr, "peac finetune: %s: %d validation images need %zu MB of inputs; "
                   "use a smaller validation file\n", t->va.file, nva, bytes >> 20);
          goto out;
        }
      val = g_new (float, (size_t) nva * 3 * S * S);
      for (int i = 0; i < nva; i++)
        if (split_input (&t->va, i, S, val + (size_t) i * 3 * S * S) != 0)
          goto out;
      grey = g_new0 (PeacGrey, ntr);
      for (int i = 0; i < ntr; i++)
        {
          int w, h;
          float *g = load_grey (&t->tr, i, &w, &h);
          if (!g)
            goto out;
          grey[i].px = peac_aug_prepare (g, w, h, S, &grey[i].w, &grey[i].h);
          free (g);
          if (!grey[i].px)
            goto out;
        }
    }

  double train_total = 0;
  for (int s = 0; s < a->seeds && !stop_flag; s++)
    {
      int n = peac_labels_subset (ntr, a->fraction, (uint64_t) s, idx);
      for (int v = 0; v < V1; v++)   // the chosen rows' labels, once per block of views
        gather (t->tr.lab.y, k, idx, n, ysub + (size_t) v * n * k);
      PeacHead h;
      if (peac_head_init (&h, D, k) != 0)
        goto out;
      if (s == 0 && !r->loss0)
        r->loss0 = g_array_new (FALSE, FALSE, sizeof (double));
      EpochLog log = { 0, r->name, s, a->quiet, s == 0 ? r->loss0 : NULL };
      double best, t0 = peac_cli_now_s ();
      int st;
      if (a->mode == MODE_LINEAR)
        {
          for (int v = 0; v < V1; v++)
            gather (xtr + (size_t) v * ntr * D, D, idx, n, xsub + (size_t) v * n * D);
          pc.seed = (uint64_t) s;
          st = peac_probe_train (&h, &pc, xsub, ysub, n * V1, xva, t->va.lab.y, nva, on_epoch,
                                 &log, &stop_flag, &best, err, sizeof err);
        }
      else
        {
          if (s > 0)   // every seed starts from the same weights
            {
              peac_model_free (m);
              if (!(m = row_model (t, r)))
                {
                  peac_head_free (&h);
                  goto out;
                }
            }
          PeacGrey *sub = g_new (PeacGrey, n);
          for (int i = 0; i < n; i++)
            sub[i] = grey[idx[i]];
          fc.opt.seed = (uint64_t) s;
          st = peac_finetune_model (m, &h, &fc, sub, ysub, n, val, t->va.lab.y, nva, on_epoch,
                                    &log, &stop_flag, &best, err, sizeof err);
          g_free (sub);
        }
      train_total += peac_cli_now_s () - t0;
      if (!a->quiet && isatty (STDERR_FILENO))
        fprintf (stderr, "\n");
      if (st < 0)
        {
          fprintf (stderr, "peac finetune: %s: %s\n", r->name, err);
          peac_head_free (&h);
          goto out;
        }
      // Evaluation scores: cached embeddings (linear) or the fine-tuned backbone (full).
      if (a->mode == MODE_LINEAR)
        peac_head_predict (&h, t->ev == &t->te ? xev : xva, nev, prob);
      else
        {
          float *pe = g_new (float, (size_t) nev * D);
          int e = split_embed (m, t->ev, S, D, pe, 1);
          if (e == 0)
            peac_head_predict (&h, pe, nev, prob);
          g_free (pe);
          if (e != 0)
            {
              peac_head_free (&h);
              goto out;
            }
        }
      r->mean[s] = peac_auc_multi (prob, t->ev->lab.y, nev, k, r->cls + (size_t) s * k);
      r->epochs[s] = log.epochs;
      if (s == 0)
        {
          memcpy (r->scores, prob, (size_t) nev * k * sizeof *prob);
          if (a->bootstrap > 0)
            peac_auc_bootstrap (prob, t->ev->lab.y, nev, k, a->bootstrap, 0.95, 12345,
                                &r->ci_lo, &r->ci_hi);
          if (is_main && a->save)
            {
              char extra[512];
              snprintf (extra, sizeof extra,
                        "{\"mode\": \"%s\", \"source\": \"%s\", \"label_fraction\": %g, "
                        "\"val_mean_auc\": %.6f, \"size\": %d}",
                        a->mode == MODE_FULL ? "full" : "linear",
                        r->path ? "checkpoint" : "random-init", a->fraction,
                        isnan (best) ? -1.0 : best, S);
              if (peac_finetune_save (a->save, m, &h, (const char *const *) t->tr.lab.names,
                                      extra, err, sizeof err) != 0)
                {
                  fprintf (stderr, "peac finetune: %s\n", err);
                  peac_head_free (&h);
                  goto out;
                }
              if (!a->quiet)
                fprintf (stderr, "peac finetune: saved backbone + head to %s\n", a->save);
            }
        }
      if (!a->quiet)
        fprintf (stderr, "peac finetune: %s seed %d: %d of %d training rows, %d epochs, best "
                 "val AUC %.4f, %s mean AUC %.4f\n", r->name, s, n, ntr, log.epochs, best,
                 t->ev->role, r->mean[s]);
      peac_head_free (&h);
    }
  if (stop_flag)
    {
      fprintf (stderr, "peac finetune: interrupted\n");
      goto out;
    }
  r->train_s = train_total / a->seeds;
  rc = 0;
out:
  if (grey)
    for (int i = 0; i < ntr; i++)
      free ((float *) grey[i].px);
  g_free (grey), g_free (val);
  g_free (idx), g_free (ysub), g_free (prob), g_free (xtr), g_free (xva), g_free (xev);
  g_free (xsub);
  peac_model_free (m);
  return rc;
}

static void
mean_std (const double *v, int n, int stride, double *mean, double *std)
{
  double s = 0, s2 = 0;
  int c = 0;
  for (int i = 0; i < n; i++)
    if (!isnan (v[(size_t) i * stride]))
      s += v[(size_t) i * stride], c++;
  *mean = c ? s / c : NAN;
  for (int i = 0; i < n; i++)
    if (!isnan (v[(size_t) i * stride]))
      s2 += (v[(size_t) i * stride] - *mean) * (v[(size_t) i * stride] - *mean);
  // Sample standard deviation (n − 1), as tables of repeated runs report; one run has
  // no spread (NaN: null in JSON, n/a in the table), rather than a misleading 0.
  *std = c > 1 ? sqrt (s2 / (c - 1)) : NAN;
}

// ---- Outputs

static const double palette[][3] = {
  { 0.12, 0.47, 0.71 }, { 1.00, 0.50, 0.05 }, { 0.17, 0.63, 0.17 }, { 0.84, 0.15, 0.16 },
  { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 }, { 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
  { 0.74, 0.74, 0.13 }, { 0.09, 0.75, 0.81 },
};

// ROC curves of the first row (one per class), the chance diagonal, axes with ticks and a
// legend with each class's AUC.
static int
write_roc_png (const char *path, const Task *t, const Row *r, char *err, size_t errlen)
{
  const int W = 820, H = 600, L = 60, T = 30, P = 520;   // plot square P×P at (L, T)
  const int n = t->ev->lab.n, k = t->k;
  cairo_surface_t *surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (surf);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
  for (int i = 0; i <= 10; i++)
    {
      cairo_move_to (cr, L + P * i / 10.0, T);
      cairo_line_to (cr, L + P * i / 10.0, T + P);
      cairo_move_to (cr, L, T + P * i / 10.0);
      cairo_line_to (cr, L + P, T + P * i / 10.0);
    }
  cairo_stroke (cr);
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  cairo_rectangle (cr, L, T, P, P);
  cairo_stroke (cr);
  for (int i = 0; i <= 5; i++)
    {
      char lab[8];
      snprintf (lab, sizeof lab, "%.1f", i / 5.0);
      cairo_move_to (cr, L + P * i / 5.0 - 8, T + P + 16);
      cairo_show_text (cr, lab);
      cairo_move_to (cr, L - 28, T + P - P * i / 5.0 + 4);
      cairo_show_text (cr, lab);
    }
  cairo_move_to (cr, L + P / 2 - 60, T + P + 34);
  cairo_show_text (cr, "false positive rate");
  cairo_save (cr);
  cairo_move_to (cr, L - 40, T + P / 2 + 50);
  cairo_rotate (cr, -M_PI / 2);
  cairo_show_text (cr, "true positive rate");
  cairo_restore (cr);
  cairo_move_to (cr, L, T - 10);
  char title[256];
  snprintf (title, sizeof title, "%s on %s: mean AUC %.4f", r->name, t->ev->role, r->mean[0]);
  cairo_show_text (cr, title);
  const double dash[] = { 4, 4 };
  cairo_set_dash (cr, dash, 2, 0);
  cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
  cairo_move_to (cr, L, T + P);
  cairo_line_to (cr, L + P, T);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  float *fpr = g_new (float, n + 1), *tpr = g_new (float, n + 1);
  cairo_set_line_width (cr, 1.5);
  for (int c = 0; c < k; c++)
    {
      const double *col = palette[c % 10];
      int m = peac_roc_curve (r->scores + c, k, t->ev->lab.y + c, k, n, fpr, tpr, NULL);
      cairo_set_source_rgb (cr, col[0], col[1], col[2]);
      if (c >= 10)
        cairo_set_dash (cr, dash, 2, 0);
      for (int i = 0; i < m; i++)
        (i ? cairo_line_to : cairo_move_to) (cr, L + P * fpr[i], T + P - P * tpr[i]);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      cairo_rectangle (cr, L + P + 12, T + 6 + 16 * c, 10, 10);
      cairo_fill (cr);
      char lab[128];
      double auc = r->cls[c];
      snprintf (lab, sizeof lab, isnan (auc) ? "%.18s (n/a)" : "%.18s %.3f",
                t->tr.lab.names[c], auc);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_move_to (cr, L + P + 26, T + 15 + 16 * c);
      cairo_show_text (cr, lab);
    }
  g_free (fpr), g_free (tpr);
  cairo_destroy (cr);
  cairo_status_t st = cairo_surface_write_to_png (surf, path);
  cairo_surface_destroy (surf);
  if (st != CAIRO_STATUS_SUCCESS)
    return snprintf (err, errlen, "%s: %s", path, cairo_status_to_string (st)), -1;
  return 0;
}

// roc.csv: model,class,fpr,tpr,threshold for every row (seed 0); scores.csv: the first
// row's evaluation scores, one line per image.
static int
write_csvs (const char *dir, const Task *t, const Row *rows, int nrows)
{
  const int n = t->ev->lab.n, k = t->k;
  char *path = g_build_filename (dir, "roc.csv", NULL);
  FILE *f = fopen (path, "w");
  if (!f)
    {
      fprintf (stderr, "peac finetune: %s: %s\n", path, strerror (errno));
      g_free (path);
      return -1;
    }
  float *fpr = g_new (float, n + 1), *tpr = g_new (float, n + 1), *thr = g_new (float, n + 1);
  fprintf (f, "model,class,fpr,tpr,threshold\n");
  for (int r = 0; r < nrows; r++)
    for (int c = 0; c < k; c++)
      {
        int m = peac_roc_curve (rows[r].scores + c, k, t->ev->lab.y + c, k, n, fpr, tpr, thr);
        for (int i = 0; i < m; i++)
          fprintf (f, "\"%s\",%s,%.6g,%.6g,%.9g\n", rows[r].name, t->tr.lab.names[c], fpr[i],
                   tpr[i], thr[i]);
      }
  g_free (fpr), g_free (tpr), g_free (thr);
  int bad = ferror (f) | (fclose (f) != 0);
  if (bad)
    fprintf (stderr, "peac finetune: %s: write failed\n", path);
  g_free (path);
  if (bad)
    return -1;
  path = g_build_filename (dir, "scores.csv", NULL);
  f = fopen (path, "w");
  if (!f)
    {
      fprintf (stderr, "peac finetune: %s: %s\n", path, strerror (errno));
      g_free (path);
      return -1;
    }
  fprintf (f, "image");
  for (int c = 0; c < k; c++)
    fprintf (f, ",%s", t->tr.lab.names[c]);
  fprintf (f, "\n");
  for (int i = 0; i < n; i++)
    {
      fprintf (f, "\"%s\"", t->ev->lab.paths[i]);
      for (int c = 0; c < k; c++)
        fprintf (f, ",%.9g", rows[0].scores[(size_t) i * k + c]);
      fprintf (f, "\n");
    }
  bad = ferror (f) | (fclose (f) != 0);
  if (bad)
    fprintf (stderr, "peac finetune: %s: write failed\n", path);
  g_free (path);
  return bad ? -1 : 0;
}

static json_t *
num (double v)
{
  return isnan (v) ? json_null () : json_real (round (v * 1e6) / 1e6);
}

static void
print_json (const Task *t, const Row *rows, int nrows)
{
  const FtArgs *a = t->a;
  json_t *j = json_object (), *cls = json_array (), *jr = json_array ();
  for (int c = 0; c < t->k; c++)
    json_array_append_new (cls, json_string (t->tr.lab.names[c]));
  json_object_set_new (j, "mode", json_string (a->mode == MODE_FULL ? "full" : "linear"));
  json_object_set_new (j, "classes", cls);
  json_object_set_new (j, "eval_split", json_string (t->ev->role));
  json_object_set_new (j, "n_train", json_integer (t->tr.lab.n));
  int *idx = g_new (int, t->tr.lab.n);
  json_object_set_new (j, "n_train_used",
                       json_integer (peac_labels_subset (t->tr.lab.n, a->fraction, 0, idx)));
  g_free (idx);
  json_object_set_new (j, "n_val", json_integer (t->va.lab.n));
  json_object_set_new (j, "n_eval", json_integer (t->ev->lab.n));
  json_object_set_new (j, "label_fraction", json_real (a->fraction));
  json_object_set_new (j, "seeds", json_integer (a->seeds));
  if (a->mode == MODE_LINEAR)
    json_object_set_new (j, "views", json_integer (a->views));
  for (int r = 0; r < nrows; r++)
    {
      const Row *w = &rows[r];
      json_t *o = json_object (), *per = json_array (), *pc = json_object (), *ep = json_array ();
      double m, s;
      mean_std (w->mean, a->seeds, 1, &m, &s);
      json_object_set_new (o, "model", json_string (w->name));
      json_object_set_new (o, "random_init", json_boolean (w->path == NULL));
      json_object_set_new (o, "mean_auc", num (m));
      json_object_set_new (o, "std_auc", num (s));
      for (int i = 0; i < a->seeds; i++)
        {
          json_array_append_new (per, num (w->mean[i]));
          json_array_append_new (ep, json_integer (w->epochs[i]));
        }
      json_object_set_new (o, "mean_auc_per_seed", per);
      json_object_set_new (o, "epochs_per_seed", ep);
      json_t *tl = json_array ();
      for (guint e = 0; w->loss0 && e < w->loss0->len; e++)
        json_array_append_new (tl, num (g_array_index (w->loss0, double, e)));
      json_object_set_new (o, "train_loss_seed0", tl);
      json_object_set_new (o, "ci95_seed0", json_pack ("[o, o]", num (w->ci_lo), num (w->ci_hi)));
      for (int c = 0; c < t->k; c++)
        {
          double cm, cs;
          mean_std (w->cls + c, a->seeds, t->k, &cm, &cs);
          json_object_set_new (pc, t->tr.lab.names[c], json_pack ("{s:o, s:o}", "auc", num (cm),
                                                                  "std", num (cs)));
        }
      json_object_set_new (o, "per_class", pc);
      if (a->mode == MODE_LINEAR)
        json_object_set_new (o, "embed_ms_per_image", num (w->embed_ms));
      json_object_set_new (o, "train_s_per_seed", num (w->train_s));
      json_array_append_new (jr, o);
    }
  json_object_set_new (j, "results", jr);
  char *s = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (10));
  puts (s);
  free (s);
  json_decref (j);
}

static void
print_table (const Task *t, const Row *rows, int nrows)
{
  const FtArgs *a = t->a;
  printf ("%s, %d classes, %d training rows (fraction %g), %d seed%s, evaluated on %s "
          "(%d images)\n\n", a->mode == MODE_FULL ? "Fine-tune" : "Linear probe", t->k,
          t->tr.lab.n, a->fraction, a->seeds, a->seeds == 1 ? "" : "s", t->ev->role,
          t->ev->lab.n);
  printf ("%-28s %-18s %-18s %s\n", "model", "mean AUC ± std", "95% CI (seed 0)",
          a->mode == MODE_LINEAR ? "embed ms/image" : "train s/seed");
  for (int r = 0; r < nrows; r++)
    {
      double m, s;
      mean_std (rows[r].mean, a->seeds, 1, &m, &s);
      char spread[16] = "n/a   ";
      if (!isnan (s))
        snprintf (spread, sizeof spread, "%.4f", s);
      printf ("%-28.28s %.4f ± %s    [%.4f, %.4f]   %.1f\n", rows[r].name, m, spread,
              rows[r].ci_lo, rows[r].ci_hi,
              a->mode == MODE_LINEAR ? rows[r].embed_ms : rows[r].train_s);
    }
  printf ("\n%-20s", "class AUC");
  for (int r = 0; r < nrows; r++)
    printf (" %14.14s", rows[r].name);
  printf ("\n");
  for (int c = 0; c < t->k; c++)
    {
      printf ("%-20.20s", t->tr.lab.names[c]);
      for (int r = 0; r < nrows; r++)
        {
          double m, s;
          mean_std (rows[r].cls + c, a->seeds, t->k, &m, &s);
          if (isnan (m))
            printf (" %14s", "n/a");   // one outcome only among the evaluation images
          else
            printf (" %14.4f", m);
        }
      printf ("\n");
    }
}

// The three splits agree on the classes, in order.
static int
same_classes (const Split *a, const Split *b)
{
  if (a->lab.k != b->lab.k)
    goto differ;
  for (int c = 0; c < a->lab.k; c++)
    if (strcmp (a->lab.names[c], b->lab.names[c]) != 0)
      goto differ;
  return 1;
differ:
  fprintf (stderr, "peac finetune: %s and %s have different label columns; name them with "
           "--labels\n", a->file, b->file);
  return 0;
}

// Training images that are also validation or test images make the AUC meaningless (a
// file without a split column given to both --train and --val, say): refused, named.
static int
overlap (const Split *tr, const Split *other)
{
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  int shared = 0, first = -1;
  for (int i = 0; i < tr->lab.n; i++)
    g_hash_table_add (seen, tr->resolved[i]);
  for (int i = 0; i < other->lab.n; i++)
    if (g_hash_table_contains (seen, other->resolved[i]))
      {
        shared++;
        if (first < 0)
          first = i;
      }
  g_hash_table_destroy (seen);
  if (shared)
    fprintf (stderr, "peac finetune: %d %s images are also training images (first: %s:%d, "
             "%s); give separate files or a split column (train/val/test)\n", shared,
             other->role, other->file, other->lab.line[first], other->lab.paths[first]);
  return shared;
}

int
peac_cmd_finetune (int argc, char **argv)
{
  FtArgs a;
  int rc = parse_args (&a, argc, argv);
  if (rc)
    {
      free (a.compare);
      return rc == 1 ? 0 : rc;
    }
  peac_threads_set (a.threads);
  Task t = { &a };
  Row *rows = g_new0 (Row, 2 + a.n_compare);
  int nrows = 0, status = 1;
  char err[1024], *base = NULL;
  if (split_load (&t.tr, &a, a.train, "train") != 0 || split_load (&t.va, &a, a.val, "val") != 0
      || (a.test && split_load (&t.te, &a, a.test, "test") != 0)
      || !same_classes (&t.tr, &t.va) || (a.test && !same_classes (&t.tr, &t.te)))
    goto out;
  t.ev = a.test ? &t.te : &t.va;
  t.k = t.tr.lab.k;
  if (overlap (&t.tr, &t.va) || (a.test && overlap (&t.tr, &t.te)))
    goto out;

  // The architecture of --model, for its random-init twin.
  PeacModel *m0 = peac_model_load_ex (a.model, NULL, NULL, 0, err, sizeof err);
  if (!m0)
    {
      fprintf (stderr, "peac finetune: %s\n", err);
      goto out;
    }
  t.arch = peac_model_arch (m0);
  t.layout = g_strdup (peac_model_layout (m0));
  t.config = g_strdup (peac_model_config_json (m0));
  peac_model_free (m0);

  base = g_path_get_basename (a.model);
  if (!a.random_init)
    rows[nrows++] = (Row) { g_strdup (base), g_strdup (a.model) };
  if (a.random_init || a.compare_random)
    rows[nrows++] = (Row) { g_strdup_printf ("random init (%s)", base), NULL };
  for (int i = 0; i < a.n_compare; i++)
    rows[nrows++] = (Row) { g_path_get_basename (a.compare[i]), g_strdup (a.compare[i]) };

  struct sigaction sa = { 0 }, old;
  sa.sa_handler = on_sigint;
  sigaction (SIGINT, &sa, &old);
  for (int r = 0; r < nrows; r++)
    if (run_row (&t, &rows[r], r == 0) != 0)
      {
        sigaction (SIGINT, &old, NULL);
        nrows = r + 1;
        goto out;
      }
  sigaction (SIGINT, &old, NULL);

  if (a.out_dir)
    {
      g_mkdir_with_parents (a.out_dir, 0755);
      g_autofree char *png = g_build_filename (a.out_dir, "roc.png", NULL);
      if (write_csvs (a.out_dir, &t, rows, nrows) != 0)
        goto out;
      if (write_roc_png (png, &t, &rows[0], err, sizeof err) != 0)
        {
          fprintf (stderr, "peac finetune: %s\n", err);
          goto out;
        }
      if (!a.quiet)
        fprintf (stderr, "peac finetune: wrote roc.csv, roc.png and scores.csv to %s\n",
                 a.out_dir);
    }
  if (a.json)
    print_json (&t, rows, nrows);
  else
    print_table (&t, rows, nrows);
  status = 0;
out:
  for (int r = 0; r < nrows; r++)
    {
      g_free (rows[r].name), g_free (rows[r].path), g_free (rows[r].mean);
      g_free (rows[r].cls), g_free (rows[r].epochs), g_free (rows[r].scores);
      if (rows[r].loss0)
        g_array_unref (rows[r].loss0);
    }
  g_free (rows);
  g_free (t.layout), g_free (t.config), g_free (base);
  split_free (&t.tr), split_free (&t.va), split_free (&t.te);
  free (a.compare);
  return status;
}
