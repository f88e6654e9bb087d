// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-train-opts: the command line of `peac train`. One table lists every option — its
// value type and range, whether it belongs to the training configuration (and which field
// of PeacTrainConfig it sets) or to the run, and its --help line — so that parsing,
// range checks, the --resume refusal of configuration options and the help text cannot
// drift apart; the parser itself is getopt_long (cli-options.c) over a table made from
// it. Values are checked whole ("--lr 1e-3x" is an error, not 1e-3); any bad
// option or value is reported with its name and makes the command exit 2. The model
// presets are the engine's registry (presets.h), listed in --help from there.
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli-train.h"
#include "cli.h"

typedef enum {
  K_SECTION, K_FLAG, K_INT, K_LONG, K_U64, K_REAL, K_STR, K_LIST, K_OPTIM, K_DISTORT
} Kind;

typedef struct {
  const char *name, *arg;
  Kind        kind;
  int         cfg;     // 1: a PeacTrainConfig field at off; 0: a TrainArgs field at off
  size_t      off;
  int         hyper;   // part of the run's configuration (fixed once training started)
  double      lo, hi;
  const char *help;
} Spec;

#define CFG(f) 1, offsetof (PeacTrainConfig, f), 1
#define ARG(f) 0, offsetof (TrainArgs, f), 0
#define HYP(f) 0, offsetof (TrainArgs, f), 1
#define SECTION(t) { NULL, NULL, K_SECTION, 0, 0, 0, 0, 0, t }

static const Spec specs[] = {
  SECTION ("Data and output"),
  { "--data", "DIR", K_LIST, ARG (data), 0, 0,
    "training images: a PNG, JPEG or DICOM file, or a folder read recursively\n"
    "(repeatable; bare paths after the options work the same); unreadable or\n"
    "undecodable files are listed as 'skipped FILE: reason' and left out" },
  { "--val", "DIR", K_STR, ARG (val), 0, 0,
    "held-out images: their loss (same objective, fixed crops, no update) is\n"
    "logged every --val-every steps and at the end" },
  { "--val-every", "N", K_LONG, ARG (val_every), 0, 1e9,
    "steps between held-out evaluations (default 100; 0 = only at the end)" },
  { "--out", "DIR|FILE", K_STR, ARG (out), 0, 0,
    "a folder (created; holds checkpoint.safetensors and log.csv) or a file\n"
    "ending in .safetensors in an existing folder (its log: NAME.log.csv beside\n"
    "it). With --resume, default: the checkpoint resumed" },
  { "--log", "FILE", K_STR, ARG (log), 0, 0, "the CSV loss log elsewhere than beside the checkpoint" },
  { "--resume", "CKPT", K_STR, ARG (resume), 0, 0,
    "continue a checkpoint (file or --out folder) bit-exactly; its configuration,\n"
    "data folders and thread count are used (data, threads and --steps may be\n"
    "given anew)" },
  { "--save-every", "N", K_LONG, ARG (save_every), 0, 1e12,
    "checkpoint every N steps (default 100; 0 = only at the end)" },
  SECTION ("Model"),
  { "--preset", "NAME", K_STR, HYP (preset), 0, 0,
    "the model (default tiny; the list below)" },
  { "--config", "JSON", K_STR, HYP (config_json), 0, 0,
    "configuration keys overriding the preset's: ViT (timm names: img_size,\n"
    "patch_size, embed_dim, depth, num_heads, mlp_ratio, qkv_bias) or Swin\n"
    "(img_size, patch_size, embed_dim, depths, num_heads, window_size, mlp_ratio)" },
  SECTION ("Objective"),
  { "--proj-hidden", "N", K_INT, CFG (obj.proj_hidden), 1, PEAC_PROJ_MAX,
    "hidden width of the global projector (default 2 × embed_dim; reference 8192)" },
  { "--proj-out", "N", K_INT, CFG (obj.proj_out), 1, PEAC_PROJ_MAX,
    "output width of the global projector (default embed_dim; reference 8192)" },
  { "--local-hidden", "N", K_INT, CFG (obj.local_hidden), 1, PEAC_PROJ_MAX,
    "hidden width of the local (per-token) projector (default 2 × embed_dim;\n"
    "reference 512)" },
  { "--local-out", "N", K_INT, CFG (obj.local_out), 1, PEAC_PROJ_MAX,
    "output width of the local projector (default embed_dim; reference 512)" },
  { "--w-order", "X", K_REAL, CFG (obj.w_order), 0, 1e12, "weight of the order loss (default 1)" },
  { "--w-restore", "X", K_REAL, CFG (obj.w_restore), 0, 1e12,
    "weight of the restoration loss (default 1)" },
  { "--w-global", "X", K_REAL, CFG (obj.w_global), 0, 1e12,
    "weight of the global term, which is the squared distance of unit vectors\n"
    "summed over both directions (= 2w × the element mean over w outputs); the\n"
    "default 1e5/8192 ≈ 12.2 is the issue's 1e5·w/8192 on the element mean, for\n"
    "any projector width w" },
  { "--w-local", "X", K_REAL, CFG (obj.w_local), 0, 1e12,
    "weight of the local term (same form as the global one; default 1)" },
  { "--local-temp", "T", K_REAL, CFG (obj.local_temp), 0, 100,
    "0 (default): the paper's local term, the MSE of matched projections; T > 0:\n"
    "dense InfoNCE at temperature T instead (the partner cell is the positive,\n"
    "every other cell of the other crop a negative; 0.1 is a usual choice)" },
  { "--p-shuffle", "P", K_REAL, CFG (obj.p_shuffle), 0, 1,
    "probability that a sample's crop 1 is cell-shuffled for the order branch\n"
    "(default 0.5); other samples get the appearance distortions" },
  { "--max-shift", "N", K_INT, CFG (obj.max_shift), 1, 64,
    "largest offset between the two crops, in cells (default grid/2)" },
  { "--ema-momentum", "M", K_REAL, CFG (obj.momentum0), 0, 1,
    "the teacher's EMA momentum at step 0, rising on a half cosine to 1 at the\n"
    "last step (default 0.999)" },
  { "--jitter", "PX", K_INT, CFG (obj.jitter), 0, 63,
    "pixels added to the stored image's side beyond grid + max-shift cells, below\n"
    "one cell: the crop lattice then starts 0…PX px into it (default 0; the\n"
    "reference run: 15)" },
  { "--teacher-sees-shuffled", "0|1", K_INT, CFG (obj.teacher_sees_shuffled), 0, 1,
    "1: the teacher sees the student's cell-shuffled crop 1 of shuffled samples\n"
    "(the reference run's rule); 0 (default): always the clean crop 1" },
  { "--w-position", "X", K_REAL, CFG (obj.w_position), 0, 1e12,
    "weight of the position term: a Linear(D → 2) head on every student token\n"
    "predicts the centre of its cell in the whole training image, in [−1, 1]²\n"
    "(mean over tokens of the squared distance); 0 (default): no such head" },
  SECTION ("Appearance distortions (samples not cell-shuffled)"),
  { "--distortions", "STYLE", K_DISTORT, CFG (obj.distort.style), 0, 0,
    "genesis (default: pixel shuffle, Bézier mapping, noise painting) or\n"
    "reference (gamma exp(N(0, σ)), inversion, then out-painting around one\n"
    "80–160 px window or 1–4 grey blocks of 30–70 px; its defaults: --p-paint\n"
    "1, --p-inpaint 0.2, the options below still apply)" },
  { "--gamma-sigma", "S", K_REAL, CFG (obj.distort.gamma_sigma), 0, 10,
    "reference style: σ of the log-normal gamma (default 0.5)" },
  { "--p-invert", "P", K_REAL, CFG (obj.distort.p_invert), 0, 1,
    "reference style: probability of inverting the crop (default 0.25)" },
  { "--p-pixel-shuffle", "P", K_REAL, CFG (obj.distort.p_shuffle), 0, 1,
    "probability of local pixel shuffling (default 0.5)" },
  { "--shuffle-windows", "N", K_INT, CFG (obj.distort.shuffle_windows), 1, 1e6,
    "windows shuffled per crop (default img_size²/64)" },
  { "--shuffle-max", "N", K_INT, CFG (obj.distort.shuffle_max), 2, 64,
    "largest window side in pixels (default img_size/8, at most 64)" },
  { "--p-bezier", "P", K_REAL, CFG (obj.distort.p_bezier), 0, 1,
    "probability of the Bézier intensity mapping (default 0.9)" },
  { "--p-paint", "P", K_REAL, CFG (obj.distort.p_paint), 0, 1,
    "probability of in- or out-painting (default 0.9)" },
  { "--p-inpaint", "P", K_REAL, CFG (obj.distort.p_inpaint), 0, 1,
    "given painting, probability of in-painting rather than out-painting (0.5)" },
  SECTION ("Optimiser"),
  { "--optimizer", "NAME", K_OPTIM, CFG (opt.kind), 0, 0, "adamw (default) or sgd (with momentum)" },
  { "--lr", "X", K_REAL, CFG (opt.lr), 0, 10, "peak learning rate (default 5e-4)" },
  { "--min-lr", "X", K_REAL, CFG (opt.min_lr), 0, 10, "floor of the cosine decay (default 1e-6)" },
  { "--warmup", "N", K_LONG, CFG (opt.warmup_steps), 0, 1e12,
    "linear warm-up steps (default steps/10)" },
  { "--weight-decay", "X", K_REAL, CFG (opt.weight_decay), 0, 10,
    "decoupled weight decay on matrices (default 0.05)" },
  { "--clip", "X", K_REAL, CFG (opt.clip_norm), 0, 1e12,
    "clip the joint gradient norm to X (default 3; 0 = off)" },
  { "--beta1", "X", K_REAL, CFG (opt.beta1), 0, 0.999999, "AdamW β1 (default 0.9)" },
  { "--beta2", "X", K_REAL, CFG (opt.beta2), 0, 0.999999999, "AdamW β2 (default 0.999)" },
  { "--eps", "X", K_REAL, CFG (opt.eps), 1e-30, 1, "AdamW ε (default 1e-8)" },
  { "--momentum", "X", K_REAL, CFG (opt.momentum), 0, 0.999999, "SGD momentum (default 0.9)" },
  { "--batch", "N", K_INT, CFG (batch), 1, 4096, "images per step (default 8)" },
  { "--steps", "N", K_LONG, ARG (steps), 1, 1e12,
    "optimiser steps of the run (default 1000). With --resume: end the run at\n"
    "step N instead, past the checkpoint's step; the LR's cosine is refitted to\n"
    "end there, the teacher's EMA schedule is kept (stretched if N is later)" },
  { "--seed", "N", K_U64, CFG (seed), 0, 0, "weights and sampling (default 1)" },
  SECTION ("Run"),
  { "--threads", "N", K_INT, ARG (threads), 0, 1024,
    "threads (default: all cores; bit-exact resumption needs the same count)" },
  { "--log-every", "N", K_LONG, ARG (log_every), 1, 1e12,
    "print a progress line every N steps when stdout is not a terminal (1)" },
  { "--stop-after", "N", K_LONG, ARG (stop_after), 1, 1e12,
    "stop after N steps of this run and save, exactly as on SIGINT (exit 130)" },
  { "--quiet", NULL, K_FLAG, ARG (quiet), 0, 0, "no progress output" },
  { "--print-config", NULL, K_FLAG, ARG (print_config), 0, 0,
    "print the resolved configuration as JSON and exit" },
  { "--help", NULL, K_FLAG, ARG (help), 0, 0, "this text" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (specs) <= TRAIN_MAX_OPTS);

void
train_args_init (TrainArgs *a)
{
  memset (a, 0, sizeof *a);
  a->data = g_ptr_array_new_with_free_func (g_free);
  a->steps = 1000;
  a->val_every = 100;
  a->save_every = 100;
  a->log_every = 1;
}

void
train_args_clear (TrainArgs *a)
{
  g_ptr_array_unref (a->data);
  g_free (a->preset), g_free (a->config_json), g_free (a->val);
  g_free (a->out), g_free (a->log), g_free (a->resume);
}

static int
bad_value (const Spec *s, const char *v, const char *why)
{
  fprintf (stderr, "peac train: %s: '%s' %s (see peac train --help)\n", s->name, v, why);
  return 2;
}

// Parses v for spec s into *out (numbers) or the field it names (strings, lists, flags).
static int
parse_value (TrainArgs *a, const Spec *s, const char *v, TrainValue *out)
{
  char *end = NULL;
  char range[96];
  snprintf (range, sizeof range, "is out of range (%g … %g)", s->lo, s->hi);
  errno = 0;
  switch (s->kind)
    {
    case K_INT:
    case K_LONG:
      {
        long long x = strtoll (v, &end, 10);
        if (!*v || *end || errno)
          return bad_value (s, v, "is not a whole number");
        if (x < s->lo || x > s->hi)
          return bad_value (s, v, range);
        out->l = (long) x;
        return 0;
      }
    case K_U64:
      if (!*v || *v == '-' || (out->u = strtoull (v, &end, 10), *end) || errno)
        return bad_value (s, v, "is not a whole number ≥ 0");
      return 0;
    case K_REAL:
      out->d = strtod (v, &end);
      if (!*v || *end || errno || !isfinite (out->d))
        return bad_value (s, v, "is not a finite number");
      if (out->d < s->lo || out->d > s->hi)
        return bad_value (s, v, range);
      return 0;
    case K_OPTIM:
      if (strcmp (v, "adamw") && strcmp (v, "sgd"))
        return bad_value (s, v, "is not an optimiser (adamw or sgd)");
      out->l = strcmp (v, "sgd") == 0 ? PEAC_OPT_SGD : PEAC_OPT_ADAMW;
      return 0;
    case K_DISTORT:
      if ((out->l = peac_distort_style_parse (v)) < 0)
        return bad_value (s, v, "is not a distortion style (genesis or reference)");
      return 0;
    case K_STR:
      {
        char **field = (char **) ((char *) a + s->off);
        g_free (*field);
        *field = g_strdup (v);
        return 0;
      }
    case K_LIST:
      g_ptr_array_add (*(GPtrArray **) ((char *) a + s->off), g_strdup (v));
      return 0;
    default:
      return 0;
    }
}

int
train_args_parse (TrainArgs *a, int argc, char **argv)
{
  // getopt's table, made from specs: option k has val 1000 + k.
  struct option longs[G_N_ELEMENTS (specs) + 1];
  const char *metavars[G_N_ELEMENTS (specs) + 1];
  int n = 0;
  for (size_t k = 0; k < G_N_ELEMENTS (specs); k++)
    if (specs[k].name)
      {
        metavars[n] = specs[k].arg;
        longs[n++] = (struct option) { specs[k].name + 2,
                                       specs[k].kind == K_FLAG ? no_argument : required_argument,
                                       NULL, 1000 + (int) k };
      }
  longs[n] = (struct option) { NULL, 0, NULL, 0 };
  metavars[n] = NULL;

  int c;
  optind = 0;
  while ((c = peac_cli_getopt ("train", argc, argv, "h", longs, metavars)) != -1)
    {
      if (c == 'h')
        {
          a->help = 1;
          continue;
        }
      if (c < 1000)
        return 2;
      const int k = c - 1000;
      const Spec *s = &specs[k];
      if (s->kind == K_FLAG)
        {
          *(int *) ((char *) a + s->off) = 1;
          continue;
        }
      TrainValue x = { 0 };
      if (parse_value (a, s, optarg, &x) != 0)
        return 2;
      if (s->cfg)
        a->value[k] = x;
      else if (s->kind == K_INT)
        *(int *) ((char *) a + s->off) = (int) x.l;
      else if (s->kind == K_LONG)
        *(long *) ((char *) a + s->off) = x.l;
      a->given[k] = 1;
      if (s->hyper && !a->hyper_name)
        a->hyper_name = s->name;
      if (strcmp (s->name, "--threads") == 0)
        a->threads_given = 1;
    }
  // Bare paths are training data, like --data.
  for (int i = optind; i < argc; i++)
    g_ptr_array_add (a->data, g_strdup (argv[i]));
  if (a->preset && !peac_preset_find (a->preset))
    {
      char names[256];
      peac_preset_names (names, sizeof names);
      fprintf (stderr, "peac train: --preset: '%s' is not a preset (%s)\n", a->preset, names);
      return 2;
    }
  return 0;
}

void
train_args_apply (TrainArgs *a, const PeacModelSpec *model, PeacTrainConfig *c)
{
  peac_train_defaults (c, model, a->steps);
  for (size_t k = 0; k < G_N_ELEMENTS (specs); k++)
    {
      const Spec *s = &specs[k];
      if (!a->given[k] || !s->cfg)
        continue;
      char *field = (char *) c + s->off;
      switch (s->kind)
        {
        case K_INT: *(int *) field = (int) a->value[k].l; break;
        case K_LONG: *(long *) field = a->value[k].l; break;
        case K_U64: *(uint64_t *) field = a->value[k].u; break;
        case K_REAL: *(double *) field = a->value[k].d; break;
        case K_OPTIM: *(PeacOptKind *) field = (PeacOptKind) a->value[k].l; break;
        case K_DISTORT:
          // The style's defaults first; the distortion options after it in the table
          // then override them.
          if (a->value[k].l == PEAC_DISTORT_REFERENCE)
            peac_distort_reference_defaults (&c->obj.distort, model->img_size);
          else
            peac_distort_defaults (&c->obj.distort, model->img_size);
          break;
        default: break;
        }
    }
}

int
train_args_given (const TrainArgs *a, const char *name)
{
  for (size_t k = 0; k < G_N_ELEMENTS (specs); k++)
    if (specs[k].name && strcmp (specs[k].name, name) == 0)
      return a->given[k];
  return 0;
}

void
train_usage (FILE *to)
{
  fprintf (to,
    "Usage: peac train [OPTIONS] --data DIR... [--val DIR] --out DIR\n"
    "       peac train --resume CKPT [--out DIR] [--stop-after N] [--threads N]\n"
    "                  [--steps N]\n\n"
    "PEAC self-supervised training of a ViT or Swin on radiographs: a student and its EMA\n"
    "teacher, order, restoration, global and local consistency losses. Progress goes\n"
    "to stdout (a bar on a terminal, plain lines otherwise), every loss term of\n"
    "every step to a CSV log. SIGINT/SIGTERM save a checkpoint and exit 130/143; a\n"
    "loss that is not finite stops the run (exit 1) and keeps the last checkpoint.\n"
    "Bad options exit 2. Only train on images you may use. The checkpoint holds the\n"
    "student, the teacher (what peac embed and match load), heads, optimiser state\n"
    "and the full configuration. See docs/training.md.\n");
  for (size_t k = 0; k < G_N_ELEMENTS (specs); k++)
    {
      const Spec *s = &specs[k];
      if (s->kind == K_SECTION)
        {
          fprintf (to, "\n%s:\n", s->help);
          continue;
        }
      char head[48];
      snprintf (head, sizeof head, "%s%s%s", s->name, s->arg ? " " : "", s->arg ? s->arg : "");
      // A head wider than its column gets a line of its own.
      if (strlen (head) > 21)
        fprintf (to, "  %s\n%24s", head, "");
      else
        fprintf (to, "  %-22s", head);
      // The help wrapped at 56 columns (counting bytes: a line with × or ≈ wraps early).
      int col = 0;
      for (const char *p = s->help; *p;)
        {
          while (*p == ' ' || *p == '\n')
            p++;
          const size_t w = strcspn (p, " \n");
          if (col > 0 && col + 1 + (int) w > 56)
            fprintf (to, "\n%24s", ""), col = 0;
          fprintf (to, "%s%.*s", col ? " " : "", (int) w, p);
          col += (col ? 1 : 0) + (int) w;
          p += w;
        }
      fputc ('\n', to);
    }
  fprintf (to, "\nPresets (--preset NAME):\n");
  for (const PeacPreset *const *p = peac_presets (); *p; p++)
    fprintf (to, "  %-22s%s\n", (*p)->name, (*p)->summary);
}
