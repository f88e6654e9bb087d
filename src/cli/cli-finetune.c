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
#include "cli-finetune.h"
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


static atomic_int stop_flag;

static void
on_sigint (int sig)
{
  (void) sig;
  stop_flag = 1;
}

// Fills a from argv. Returns -1 to run, else the exit status (0 after --help).
static int
parse_args (FtArgs *a, int argc, char **argv)
{
  *a = (FtArgs) { .seeds = 1, .fraction = 1, .bootstrap = 1000, .epochs = -1, .batch = -1,
                  .patience = -1, .lr = -1, .backbone_lr = -1, .wd = -1, .rotate = -1,
                  .min_scale = -1 };
  enum { O_MODEL = 1000, O_TRAIN, O_VAL, O_TEST, O_MODE, O_LABELS, O_IMAGE_COLUMN, O_IMAGES,
         O_FRACTION, O_SEEDS, O_VIEWS, O_RANDOM_INIT, O_COMPARE, O_EPOCHS, O_BATCH, O_LR,
         O_BACKBONE_LR, O_WD, O_PATIENCE, O_ROTATE, O_MIN_SCALE, O_HFLIP, O_BOOTSTRAP,
         O_OUT_DIR, O_SAVE, O_JSON, O_THREADS };
  static const struct option opts[] = {
    { "model", required_argument, NULL, O_MODEL },
    { "train", required_argument, NULL, O_TRAIN },
    { "val", required_argument, NULL, O_VAL },
    { "test", required_argument, NULL, O_TEST },
    { "mode", required_argument, NULL, O_MODE },
    { "labels", required_argument, NULL, O_LABELS },
    { "image-column", required_argument, NULL, O_IMAGE_COLUMN },
    { "images", required_argument, NULL, O_IMAGES },
    { "label-fraction", required_argument, NULL, O_FRACTION },
    { "seeds", required_argument, NULL, O_SEEDS },
    { "views", required_argument, NULL, O_VIEWS },
    { "random-init", no_argument, NULL, O_RANDOM_INIT },
    { "compare", no_argument, NULL, O_COMPARE },
    { "epochs", required_argument, NULL, O_EPOCHS },
    { "batch", required_argument, NULL, O_BATCH },
    { "lr", required_argument, NULL, O_LR },
    { "backbone-lr", required_argument, NULL, O_BACKBONE_LR },
    { "weight-decay", required_argument, NULL, O_WD },
    { "patience", required_argument, NULL, O_PATIENCE },
    { "rotate", required_argument, NULL, O_ROTATE },
    { "min-scale", required_argument, NULL, O_MIN_SCALE },
    { "hflip", no_argument, NULL, O_HFLIP },
    { "bootstrap", required_argument, NULL, O_BOOTSTRAP },
    { "out-dir", required_argument, NULL, O_OUT_DIR },
    { "save", required_argument, NULL, O_SAVE },
    { "json", no_argument, NULL, O_JSON },
    { "threads", required_argument, NULL, O_THREADS },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  optind = 0;
  while ((c = peac_cli_getopt ("finetune", argc, argv, "qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'h': return usage (stdout), 0;
      case O_MODEL: a->model = optarg; break;
      case O_TRAIN: a->train = optarg; break;
      case O_VAL: a->val = optarg; break;
      case O_TEST: a->test = optarg; break;
      case O_MODE:
        if (strcmp (optarg, "linear") == 0)
          a->mode = MODE_LINEAR;
        else if (strcmp (optarg, "full") == 0)
          a->mode = MODE_FULL;
        else
          return fprintf (stderr, "peac finetune: --mode is linear or full, not '%s'\n", optarg), 2;
        break;
      case O_LABELS: a->labels = optarg; break;
      case O_IMAGE_COLUMN: a->image_col = optarg; break;
      case O_IMAGES: a->images = optarg; break;
      case O_FRACTION: a->fraction = strtod (optarg, NULL); break;
      case O_SEEDS: a->seeds = atoi (optarg); break;
      case O_VIEWS: a->views = atoi (optarg); break;
      case O_RANDOM_INIT: a->random_init = 1; break;
      case O_COMPARE: a->compare_random = 1; break;
      case O_EPOCHS: a->epochs = atoi (optarg); break;
      case O_BATCH: a->batch = atoi (optarg); break;
      case O_LR: a->lr = strtod (optarg, NULL); break;
      case O_BACKBONE_LR: a->backbone_lr = strtod (optarg, NULL); break;
      case O_WD: a->wd = strtod (optarg, NULL); break;
      case O_PATIENCE: a->patience = atoi (optarg); break;
      case O_ROTATE: a->rotate = strtod (optarg, NULL); break;
      case O_MIN_SCALE: a->min_scale = strtod (optarg, NULL); break;
      case O_HFLIP: a->hflip = 1; break;
      case O_BOOTSTRAP: a->bootstrap = atoi (optarg); break;
      case O_OUT_DIR: a->out_dir = optarg; break;
      case O_SAVE: a->save = optarg; break;
      case O_JSON: a->json = 1; break;
      case O_THREADS: a->threads = atoi (optarg); break;
      case 'q': a->quiet = 1; break;
      default: return 2;
      }
  // The checkpoints of --compare are the positional arguments.
  if (optind < argc && !a->compare_random)
    return fprintf (stderr, "peac finetune: unexpected argument '%s' (checkpoints to "
                    "compare follow --compare)\n", argv[optind]), 2;
  a->compare = (const char **) argv + optind;
  a->n_compare = argc - optind;
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
  return -1;
}

// ---- Label files and images


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
              json_t *meta = json_pack ("{s:s, s:s, s:f, s:f, s:i}",
                                        "mode", a->mode == MODE_FULL ? "full" : "linear",
                                        "source", r->path ? "checkpoint" : "random-init",
                                        "label_fraction", a->fraction,
                                        "val_mean_auc", isnan (best) ? -1.0 : best, "size", S);
              char *extra = json_dumps (meta, JSON_COMPACT | JSON_REAL_PRECISION (9));
              json_decref (meta);
              const int save_rc = peac_finetune_save (a->save, m, &h,
                                                      (const char *const *) t->tr.lab.names,
                                                      extra, err, sizeof err);
              free (extra);
              if (save_rc != 0)
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
  const int rc = parse_args (&a, argc, argv);
  if (rc >= 0)
    return rc;
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
      if (ft_write_csvs (a.out_dir, &t, rows, nrows) != 0)
        goto out;
      if (ft_write_roc_png (png, &t, &rows[0], err, sizeof err) != 0)
        {
          fprintf (stderr, "peac finetune: %s\n", err);
          goto out;
        }
      if (!a.quiet)
        fprintf (stderr, "peac finetune: wrote roc.csv, roc.png and scores.csv to %s\n",
                 a.out_dir);
    }
  if (a.json)
    ft_print_json (&t, rows, nrows);
  else
    ft_print_table (&t, rows, nrows);
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
  return status;
}
