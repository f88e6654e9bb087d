// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-bench-train: the PEAC training rows of `peac bench`. The engine's side is a real
// training session (train.h) on synthetic grey images: each timed step draws the batch,
// runs the student's forward and backward on both crops of every sample, the EMA teacher's
// forward on both, the four heads and losses, the joint gradient clipping, AdamW on
// backbone and heads and the teacher's EMA — everything `peac train` does per step except
// logging, for any backbone row. The work is counted in GEMM-equivalent FLOPs: the
// student's backbone 3× its forward (the backward is two GEMMs per forward GEMM; the patch
// embedding's input gradient is not needed and not counted), the teacher's 1×, the heads likewise (3× on the
// student side, 1× on the teacher's projectors). The PyTorch peer is
// tools/bench/torch_train_bench.py: the same modules, losses and AdamW step.
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cli-bench.h"
#include "presets.h"
#include "stats.h"
#include "train.h"

// Synthetic radiograph-like grey images: smooth ramps and blobs plus a little noise, so
// the distortions and crops see texture. Side 2·224 covers any crop pair at 224.
enum { SYN_SIDE = 448, SYN_IMAGES = 8 };

static float *
synthetic_images (PeacGrey *g)
{
  const size_t n = (size_t) SYN_SIDE * SYN_SIDE;
  float *px = malloc (SYN_IMAGES * n * sizeof (float));
  if (!px)
    return NULL;
  unsigned long long s = 0x2545f4914f6cdd1dull;
  for (int k = 0; k < SYN_IMAGES; k++)
    {
      float *p = px + k * n;
      for (int y = 0; y < SYN_SIDE; y++)
        for (int x = 0; x < SYN_SIDE; x++)
          {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double) (s >> 40) / (double) (1ull << 24);
            double v = 0.5 + 0.25 * sin (0.03 * (x + 7 * k)) * cos (0.021 * (y - 5 * k))
                       + 0.1 * u;
            p[(size_t) y * SYN_SIDE + x] = (float) (v < 0 ? 0 : v > 1 ? 1 : v);
          }
      g[k] = (PeacGrey) { p, SYN_SIDE, SYN_SIDE };
    }
  return px;
}

// GFLOP of one step (see the file comment).
static double
step_gflop (const PeacTrainConfig *c, PeacObjective *o)
{
  PeacModel *m = peac_objective_student (o);
  const PeacModelSpec *v = &c->model;
  json_t *j = json_loads (v->config, 0, NULL);
  const double P = (double) json_integer_value (json_object_get (j, "patch_size"));
  const double E = (double) json_integer_value (json_object_get (j, "embed_dim"));
  json_decref (j);
  const double S = v->img_size, G = (double) v->grid * v->grid, D = v->dim;
  const double cell = v->cell, K = 3.0 * cell * cell, B2 = 2.0 * c->batch;
  const double rows1 = c->batch * G, rows2 = B2 * G;
  const double F = peac_model_flops (m, v->img_size, v->img_size);
  // the patch embedding's dinput, skipped: (S/P)² patches of 3·P² inputs, E outputs
  const double patch_din = 2.0 * (S / P) * (S / P) * 3.0 * P * P * E;
  const double Hd = c->obj.proj_hidden, O = c->obj.proj_out;
  const double Hl = c->obj.local_hidden, Ol = c->obj.local_out;
  const double pg = 2.0 * (D * Hd + Hd * Hd + Hd * O); // one global projector row, forward
  const double pl = 2.0 * (D * Hl + Hl * Hl + Hl * Ol); // one local projector row
  double f = B2 * (3.0 * F - patch_din) + B2 * F;         // student fwd+bwd, teacher fwd
  f += 3.0 * 2.0 * rows1 * D * (G + K);                   // order and decoder heads
  f += 4.0 * (pg * B2 + pl * rows2);                      // both projectors, both branches
  return f / 1e9;
}

// The session's run loop checks its abort flag before each step: the callback raises it
// after one step, so each peac_train_run call runs exactly one step.
typedef struct {
  double       t0, dt;
  atomic_int   stop;
} StepClock;

static void
on_step (void *user, const PeacTrainProgress *p)
{
  StepClock *c = user;
  (void) p;
  c->dt = bench_now () - c->t0;
  c->stop = 1;
}

int
bench_train_peac (BenchTrainRow *row, const BenchPlan *plan, char *err, size_t errlen)
{
  PeacModelSpec model;
  if (peac_preset_resolve (&model, row->preset, NULL, err, errlen) != 0)
    return -1;
  PeacGrey g[SYN_IMAGES];
  float *px = synthetic_images (g);
  if (!px)
    {
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  // One session per timed step count: warm-up steps first, then steps until reps or the
  // budget, one session step at a time (the session's run loop stops at total_steps).
  const int cap = plan->warmup + (plan->reps > 0 ? plan->reps : 1);
  PeacTrainConfig c;
  peac_train_defaults (&c, &model, cap);
  c.batch = row->batch;
  PeacTrainSession *s = peac_train_new (&c, g, SYN_IMAGES, err, errlen);
  if (!s)
    {
      free (px);
      return -1;
    }
  row->gflop = step_gflop (&c, peac_train_objective (s));
  double *t = calloc ((size_t) cap, sizeof *t);
  StepClock clk = { 0 };
  int rc = 0, timed = 0;
  double spent = 0;
  for (int k = 0; k < cap && rc == 0; k++)
    {
      if (k >= plan->warmup + 3 && spent >= plan->budget_s)
        break;
      atomic_store (&clk.stop, 0);
      clk.dt = -1, clk.t0 = bench_now ();
      PeacTrainStatus st = peac_train_run (s, on_step, &clk, &clk.stop, err, errlen);
      if (st == PEAC_TRAIN_NAN || st == PEAC_TRAIN_ERROR || clk.dt < 0)
        {
          if (clk.dt < 0 && st != PEAC_TRAIN_ERROR)
            snprintf (err, errlen, "training step %d did not run (status %d)", k + 1, st);
          rc = -1;
        }
      else if (k >= plan->warmup)
        spent += clk.dt, t[timed++] = clk.dt;
    }
  if (rc == 0)
    row->peac_ms = 1e3 * peac_median (t, timed);
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  row->maxrss_kb = ru.ru_maxrss;
  peac_train_free (s);
  free (t);
  free (px);
  return rc;
}

const char *
bench_train_torch (BenchTrainRow *row, int tthreads, int blas, const BenchPlan *plan,
                   char *note, size_t notelen)
{
  const char *script = getenv ("PEAC_TORCH_TRAIN_BENCH");
  char path[1024], cmd[4096];
  if (!script)
    {
      snprintf (path, sizeof path, "%s/tools/bench/torch_train_bench.py", PEAC_SOURCE_DIR);
      script = path;
    }
  bench_child_threads (tthreads, blas);
  snprintf (cmd, sizeof cmd, "'%s' '%s' --model %s --batch %d --threads %d --warmup %d "
            "--reps %d --budget %g", bench_python (), script, row->name, row->batch, tthreads,
            plan->warmup, plan->reps, plan->budget_s);
  FILE *pipe = popen (cmd, "r");
  if (!pipe)
    {
      snprintf (note, notelen, "PyTorch skipped: cannot run %.300s", script);
      return note;
    }
  char line[1024];
  while (fgets (line, sizeof line, pipe))
    {
      json_t *o = json_loads (line, 0, NULL);
      const char *mn = json_string_value (json_object_get (o, "model"));
      double ms = json_number_value (json_object_get (o, "torch_ms"));
      if (mn && strcmp (mn, row->name) == 0 && ms > 0 && (row->torch_ms <= 0 || ms < row->torch_ms))
        row->torch_ms = ms, row->torch_threads = tthreads, row->torch_blas = blas;
      json_decref (o);
    }
  if (pclose (pipe) != 0)
    {
      snprintf (note, notelen, "PyTorch training run failed (%.300s); its columns are empty",
                script);
      return note;
    }
  return NULL;
}
