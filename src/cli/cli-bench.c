// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-bench: `peac bench`, speed against named peers on this machine in one run. Inference
// rows: the engine's latency (batch 1) and throughput (batch 8) for ViT-Ti/S/B-16 at 224
// and Swin-B/4 w7 at 448 (random weights, timm configs), the achieved GFLOP/s and its share
// of this machine's own cblas_sgemm rate (measured here, same threads, same OpenBLAS
// kernel, best of the probes taken before each model), and the same models in PyTorch on
// CPU (tools/bench/torch_bench.py under Debian's /usr/bin/python3, right after each model):
// tuned — the faster of torch.set_num_threads(1) over OPENBLAS_NUM_THREADS = our threads
// and the reverse, since torch's threads on top of OpenBLAS's oversubscribe — and as
// installed (torch's default threads, no thread variables set). Training rows (PEAC steps
// of ViT-Ti/S, cli-bench-train.c) follow the same pattern. PyTorch is skipped with a note
// when missing. Medians after warm-up; --infer-only / --train-only run one part.
#include "config.h"

#include <cblas.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas-kernel.h"
#include "cli.h"
#include "cli-bench.h"
#include "model.h"
#include "presets.h"
#include "ops.h"
#include "stats.h"

// The rows: the PyTorch peers' names, labels, and the engine's presets (presets.h) they
// time.
typedef struct {
  const char *name, *label, *preset;
} BenchModel;

static const BenchModel models[] = {
  { "vit_tiny", "ViT-Ti/16 224", "tiny" },
  { "vit_small", "ViT-S/16 224", "small" },
  { "vit_base", "ViT-B/16 224", "base" },
  { "swin_tiny", "Swin-T/4 w7 224", "swin-tiny" },
  { "swin_base", "Swin-B/4 w7 448", "swin-base" },
};
#define N_MODELS (sizeof models / sizeof models[0])
static const int batches[] = { 1, 8 };
#define N_BATCHES (int) (sizeof batches / sizeof batches[0])

typedef struct {
  const BenchModel *m;
  int    batch, size;                 // size: the input side (the preset's)
  double peac_ms, torch_ms, gflops;   // torch_ms < 0: not measured
  double torch_default_ms;            // PyTorch as installed (default threads); < 0: not measured
  int    torch_threads, torch_blas;   // the PyTorch set-up that gave torch_ms
} Row;


double
bench_now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_MONOTONIC, &t);
  return (double) t.tv_sec + 1e-9 * (double) t.tv_nsec;
}

// The machine's own GEMM rate on `threads` threads: C[n, n] = A · Bᵀ (the Linear layout)
// with OpenBLAS's own threading, best of `reps`. The engine keeps OpenBLAS on one thread
// (it splits GEMMs itself), so the probe sets OpenBLAS's count for itself and restores it.
double
bench_sgemm_gflops (int n, int reps, int threads)
{
  size_t nn = (size_t) n * n;
  float *a = malloc (nn * sizeof (float)), *b = malloc (nn * sizeof (float));
  float *c = malloc (nn * sizeof (float));
  if (!a || !b || !c)
    {
      free (a), free (b), free (c);
      return 0;
    }
  for (size_t i = 0; i < nn; i++)
    a[i] = (float) (i % 13) * 0.01f, b[i] = (float) (i % 7) * 0.02f;
  double best = 1e30;
  int saved = openblas_get_num_threads ();
  openblas_set_num_threads (threads);
  for (int r = 0; r < reps + 1; r++)
    {
      double t0 = bench_now ();
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
      double t = bench_now () - t0;
      if (r > 0 && t < best)      // the first call warms the pages and OpenBLAS's buffers
        best = t;
    }
  openblas_set_num_threads (saved);
  free (a), free (b), free (c);
  return 2.0 * n * n * (double) n / best / 1e9;
}

// Median forward time of one batch in ms; −1 with a message on failure.
static double
time_forward (PeacModel *pm, int B, int S, const BenchPlan *plan, char *err, size_t errlen)
{
  size_t n = (size_t) B * 3 * S * S;
  int gh, gw, dim;
  peac_model_output_shape (pm, S, S, &gh, &gw, &dim);
  float *x = malloc (n * sizeof (float));
  float *f = malloc ((size_t) B * gh * gw * dim * sizeof (float));
  float *p = malloc ((size_t) B * dim * sizeof (float));
  double *t = malloc (sizeof (double) * (size_t) (plan->reps > 0 ? plan->reps : 1));
  double ms = -1;
  if (!x || !f || !p || !t)
    {
      snprintf (err, errlen, "out of memory");
      goto out;
    }
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < n; i++)
    {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      x[i] = (float) ((double) (s >> 40) / (double) (1ull << 24) * 4.0 - 2.0);
    }
  for (int i = 0; i < plan->warmup; i++)
    if (peac_model_forward (pm, x, B, S, S, f, p, NULL, NULL, err, errlen) != 0)
      goto out;
  int k = 0;
  double spent = 0;
  while (k < plan->reps && (k < 3 || spent < plan->budget_s))
    {
      double t0 = bench_now ();
      if (peac_model_forward (pm, x, B, S, S, f, p, NULL, NULL, err, errlen) != 0)
        goto out;
      t[k] = bench_now () - t0;
      spent += t[k++];
    }
  ms = 1e3 * peac_median (t, k);
out:
  free (x), free (f), free (p), free (t);
  return ms;
}

// Whether the peer can run at all; NULL or a note saying why not.
const char *
bench_python (void)
{
  return getenv ("PEAC_PYTHON") ? getenv ("PEAC_PYTHON") : "/usr/bin/python3";
}

const char *
bench_torch_available (char *note, size_t notelen)
{
  const char *py = bench_python ();
  char probe[1200];
  snprintf (probe, sizeof probe, "'%.1000s' -c 'import torch' >/dev/null 2>&1", py);
  if (system (probe) != 0)
    {
      snprintf (note, notelen, "PyTorch skipped: %.300s cannot import torch "
                "(apt-get install python3-torch)", py);
      return note;
    }
  return NULL;
}

// --torch-kernel: the OpenBLAS kernel of the "as installed" PyTorch run, or NULL for none.
static const char *as_installed_kernel;

void
bench_child_threads (int tthreads, int blas)
{
  // Only for the child: our own OpenBLAS and OpenMP read theirs at start-up. The kernel
  // this process runs on (OPENBLAS_CORETYPE as the start-up fix left it) is saved on the
  // first call, so that a tuned run after an as-installed one gets it back.
  static int saved;
  static char *kernel;
  char nt[16];
  if (!saved)
    {
      const char *k = getenv ("OPENBLAS_CORETYPE");
      kernel = k ? strdup (k) : NULL;
      saved = 1;
    }
  if (tthreads <= 0)
    {
      unsetenv ("OPENBLAS_NUM_THREADS"), unsetenv ("OMP_NUM_THREADS");
      unsetenv ("OPENBLAS_CORETYPE"), unsetenv ("GOTO_NUM_THREADS");
      if (as_installed_kernel)
        setenv ("OPENBLAS_CORETYPE", as_installed_kernel, 1);
      return;
    }
  if (kernel)
    setenv ("OPENBLAS_CORETYPE", kernel, 1);
  else
    unsetenv ("OPENBLAS_CORETYPE");
  snprintf (nt, sizeof nt, "%d", blas);
  setenv ("OPENBLAS_NUM_THREADS", nt, 1);
  snprintf (nt, sizeof nt, "%d", tthreads);
  setenv ("OMP_NUM_THREADS", nt, 1);
}

// Runs the PyTorch peer on `names`; fills torch_ms of matching rows. Returns NULL or a note.
// tthreads: torch.set_num_threads; blas: OPENBLAS_NUM_THREADS. Keeps the faster result.
// tthreads = 0: PyTorch as installed (its default threads, no OpenBLAS or OpenMP variables
// set) into torch_default_ms instead.
static const char *
run_torch (Row *rows, int nrows, const char *names, int tthreads, int blas, const BenchPlan *plan,
           char *note, size_t notelen)
{
  const char *py = bench_python ();
  const char *script = getenv ("PEAC_TORCH_BENCH");
  char path[1024], cmd[4096];
  if (!script)
    {
      snprintf (path, sizeof path, "%s/tools/bench/torch_bench.py", PEAC_SOURCE_DIR);
      script = path;
    }
  bench_child_threads (tthreads, blas);
  snprintf (cmd, sizeof cmd, "'%s' '%s' --models %s --batches 1,8 --threads %d --warmup %d "
            "--reps %d --budget %g", py, script, names, tthreads, plan->warmup, plan->reps,
            plan->budget_s);
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
      int b = (int) json_integer_value (json_object_get (o, "batch"));
      for (int i = 0; mn && i < nrows; i++)
        if (strcmp (rows[i].m->name, mn) == 0 && rows[i].batch == b)
          {
            double ms = json_number_value (json_object_get (o, "torch_ms"));
            if (tthreads <= 0)
              rows[i].torch_default_ms = ms > 0 ? ms : -1;
            else if (ms > 0 && (rows[i].torch_ms <= 0 || ms < rows[i].torch_ms))
              rows[i].torch_ms = ms, rows[i].torch_threads = tthreads, rows[i].torch_blas = blas;
          }
      json_decref (o);
    }
  if (pclose (pipe) != 0)
    {
      snprintf (note, notelen, "PyTorch run failed (%.300s); its rows are empty", script);
      return note;
    }
  return NULL;
}

static void
usage (FILE *to)
{
  fprintf (to, "Usage: peac bench [--json] [--threads N] [--models LIST] [--train-models LIST]\n"
           "                  [--train-batch N] [--infer-only | --train-only] [--quick] [--no-torch]\n"
           "                  [--torch-kernel NAME]\n\n"
           "Forward latency (batch 1) and throughput (batch 8), and PEAC training throughput,\n"
           "engine vs PyTorch on CPU.\n"
           "  --models LIST        inference rows, a comma-separated subset of:");
  for (size_t i = 0; i < N_MODELS; i++)
    fprintf (to, " %s", models[i].name);
  fprintf (to, "\n  --train-models LIST  training rows, a subset of the same (default\n"
               "                       vit_tiny,vit_small,swin_tiny)\n"
           "  --train-batch N      training batch (default 8)\n"
           "  --infer-only         inference rows only\n"
           "  --train-only         training rows only\n"
           "  --threads N          threads for the engine and OpenBLAS (default: all cores)\n"
           "  --quick              fewer repetitions and a smaller sgemm probe\n"
           "  --json               one JSON object per row instead of the tables\n"
           "  --no-torch           skip the PyTorch peers\n"
           "  --torch-kernel NAME  run the as-installed PyTorch column with OPENBLAS_CORETYPE=NAME;\n"
           "                       Prescott is what OpenBLAS falls back to on a CPU it does not\n"
           "                       recognise (PyTorch as installed there)\n"
           "Environment: PEAC_PYTHON (default /usr/bin/python3), PEAC_TORCH_BENCH and\n"
           "PEAC_TORCH_TRAIN_BENCH (scripts).\n");
}

// Resolves a comma-separated model list into sel (at most N_MODELS); −1 on an unknown name
// (training names it so).
static int
resolve_models (const char *list, int training, const BenchModel **sel)
{
  int nsel = 0;
  char *dup = strdup (list);
  for (char *save = NULL, *tok = strtok_r (dup, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      size_t k = 0;
      while (k < N_MODELS && strcmp (models[k].name, tok) != 0)
        k++;
      if (k == N_MODELS || nsel == (int) N_MODELS)
        {
          fprintf (stderr, "peac bench: unknown %smodel '%s'\n\n", training ? "training " : "", tok);
          free (dup);
          return -1;
        }
      sel[nsel++] = &models[k];
    }
  free (dup);
  return nsel;
}

// The inference rows: engine, then right after each model the PyTorch peer tuned (the
// faster of two thread set-ups) and as installed. Returns the row count or −1.
static int
bench_inference (Row *rows, const BenchModel **sel, int nsel, int threads, int quick,
                 const BenchPlan *plan, double *gemm, const char **tnote, char *note,
                 size_t notelen)
{
  int nrows = 0;
  char err[512];
  for (int i = 0; i < nsel; i++)
    {
      // Probe again before each model and keep the best: on a shared machine one probe can
      // land in someone else's burst, and the share is meant against what the cores can do.
      double g = bench_sgemm_gflops (quick ? 1024 : 2048, quick ? 1 : 3, threads);
      *gemm = g > *gemm ? g : *gemm;
      PeacModelSpec spec;
      PeacModel *pm = peac_preset_resolve (&spec, sel[i]->preset, NULL, err, sizeof err) == 0
                        ? peac_model_new (spec.backbone->arch, NULL, spec.config, 1, err, sizeof err)
                        : NULL;
      if (!pm)
        {
          fprintf (stderr, "peac bench: %s: %s\n", sel[i]->name, err);
          return -1;
        }
      for (int b = 0; b < N_BATCHES; b++)
        {
          Row *r = &rows[nrows++];
          r->m = sel[i];
          r->batch = batches[b];
          r->size = spec.img_size;
          r->torch_ms = r->torch_default_ms = -1;
          r->peac_ms = time_forward (pm, r->batch, r->size, plan, err, sizeof err);
          if (r->peac_ms < 0)
            {
              fprintf (stderr, "peac bench: %s batch %d: %s\n", sel[i]->name, r->batch, err);
              peac_model_free (pm);
              return -1;
            }
          r->gflops = peac_model_flops (pm, r->size, r->size) * r->batch
                      / (r->peac_ms * 1e-3) / 1e9;
          fprintf (stderr, "peac bench: %-10s batch %d  %9.1f ms  %6.1f GFLOP/s\n",
                   sel[i]->name, r->batch, r->peac_ms, r->gflops);
        }
      peac_model_free (pm);
      // The peer right after each model, so both sides see the same machine (on a shared
      // one, load drifts over minutes).
      // PyTorch at its best: torch's threads on top of OpenBLAS's oversubscribe, so either
      // one torch thread over N OpenBLAS threads or N torch threads over one; the faster.
      // Then PyTorch as a user runs it: default threads, no environment set.
      Row *mine = rows + nrows - N_BATCHES;
      if (!*tnote)
        *tnote = run_torch (mine, N_BATCHES, sel[i]->name, 1, threads, plan, note, notelen);
      if (!*tnote && threads > 1)
        *tnote = run_torch (mine, N_BATCHES, sel[i]->name, threads, 1, plan, note, notelen);
      if (!*tnote)
        *tnote = run_torch (mine, N_BATCHES, sel[i]->name, 0, 0, plan, note, notelen);
      if (!*tnote)
        for (int r = 0; r < N_BATCHES; r++)
          if (mine[r].torch_ms > 0)
            fprintf (stderr, "peac bench: %-10s batch %d  %9.1f ms  (PyTorch, %d torch × %d "
                     "OpenBLAS threads), %.1f ms as installed\n", sel[i]->name, mine[r].batch,
                     mine[r].torch_ms, mine[r].torch_threads, mine[r].torch_blas,
                     mine[r].torch_default_ms);
    }
  return nrows;
}

static void
print_inference (const Row *rows, int nrows, int json, int threads, const char *kernel,
                 double gemm, const char *tnote)
{
  if (!json)
    {
      printf ("Inference\n");
      printf ("%-16s %5s %10s %10s %6s %10s %7s %8s %8s %7s\n", "model", "batch", "peac ms",
              "torch ms", "ratio", "torch dflt", "ratio_d", "img/s", "GFLOP/s", "sgemm%");
    }
  for (int i = 0; i < nrows; i++)
    {
      const Row *r = &rows[i];
      double ratio = r->torch_ms > 0 ? r->peac_ms / r->torch_ms : -1;
      double ratio_d = r->torch_default_ms > 0 ? r->torch_default_ms / r->peac_ms : -1;
      if (json)
        {
          json_t *o = json_pack ("{s:s, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:s}",
                                 "model", r->m->name, "batch", r->batch, "threads", threads,
                                 "peac_ms", r->peac_ms, "gflops", r->gflops,
                                 "sgemm_gflops", gemm, "sgemm_share", r->gflops / gemm,
                                 "images_per_s", r->batch / (r->peac_ms * 1e-3),
                                 "kernel", kernel);
          json_object_set_new (o, "input", json_integer (r->size));
          json_object_set_new (o, "torch_ms", r->torch_ms > 0 ? json_real (r->torch_ms) : json_null ());
          json_object_set_new (o, "ratio", ratio > 0 ? json_real (ratio) : json_null ());
          if (r->torch_ms > 0)
            {
              json_object_set_new (o, "torch_threads", json_integer (r->torch_threads));
              json_object_set_new (o, "torch_openblas_threads", json_integer (r->torch_blas));
            }
          json_object_set_new (o, "torch_ms_default", r->torch_default_ms > 0
                               ? json_real (r->torch_default_ms) : json_null ());
          json_object_set_new (o, "ratio_default", ratio_d > 0 ? json_real (ratio_d) : json_null ());
          if (as_installed_kernel)
            json_object_set_new (o, "torch_default_kernel", json_string (as_installed_kernel));
          if (tnote)
            json_object_set_new (o, "torch_note", json_string (tnote));
          char *s = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (6));
          printf ("%s\n", s);
          free (s);
          json_decref (o);
        }
      else
        {
          char tms[32] = "—", rat[32] = "—", dms[32] = "—", drat[32] = "—";
          if (r->torch_ms > 0)
            snprintf (tms, sizeof tms, "%.1f", r->torch_ms), snprintf (rat, sizeof rat, "%.2f", ratio);
          if (r->torch_default_ms > 0)
            snprintf (dms, sizeof dms, "%.1f", r->torch_default_ms),
              snprintf (drat, sizeof drat, "%.2f", ratio_d);
          printf ("%-16s %5d %10.1f %10s %6s %10s %7s %8.1f %8.1f %6.0f%%\n", r->m->label,
                  r->batch, r->peac_ms, tms, rat, dms, drat, r->batch / (r->peac_ms * 1e-3),
                  r->gflops, 100 * r->gflops / gemm);
        }
    }
  if (!json)
    printf ("\nratio = peac ms / torch ms (below 1: the engine is faster). PyTorch: %s.\n"
            "torch dflt = PyTorch as installed (default threads, no OpenBLAS/OpenMP variables%s%s%s);"
            " ratio_d = torch dflt / peac ms (goal ≥ 3).\n\n",
            tnote ? tnote : "the faster of 1 torch × N OpenBLAS threads and N torch × 1 "
                            "OpenBLAS thread, same kernel, run right after each model",
            as_installed_kernel ? " but OPENBLAS_CORETYPE=" : "",
            as_installed_kernel ? as_installed_kernel : "",
            as_installed_kernel ? ", --torch-kernel" : "");
}

// The training rows: the engine's step, then right after it PyTorch's (the faster of the
// two thread set-ups). Returns the row count or −1.
static int
bench_training (BenchTrainRow *rows, const BenchModel **sel, int nsel, int batch, int threads,
                int quick, const BenchPlan *plan, double *gemm, const char **tnote,
                char *note, size_t notelen)
{
  char err[512];
  for (int i = 0; i < nsel; i++)
    {
      double g = bench_sgemm_gflops (quick ? 1024 : 2048, quick ? 1 : 3, threads);
      *gemm = g > *gemm ? g : *gemm;
      BenchTrainRow *r = &rows[i];
      *r = (BenchTrainRow) { sel[i]->name, sel[i]->label, sel[i]->preset, batch, 0, 0, -1, 0,
                             0, 0 };
      if (bench_train_peac (r, plan, err, sizeof err) != 0)
        {
          fprintf (stderr, "peac bench: training %s: %s\n", sel[i]->name, err);
          return -1;
        }
      fprintf (stderr, "peac bench: train %-10s batch %d  %9.1f ms/step  %6.1f GFLOP/s  "
               "(max RSS %.0f MB)\n", r->name, batch, r->peac_ms, r->gflop / (r->peac_ms * 1e-3),
               r->maxrss_kb / 1024.0);
      if (!*tnote)
        *tnote = bench_train_torch (r, 1, threads, plan, note, notelen);
      if (!*tnote && threads > 1)
        *tnote = bench_train_torch (r, threads, 1, plan, note, notelen);
      if (!*tnote && r->torch_ms > 0)
        fprintf (stderr, "peac bench: train %-10s batch %d  %9.1f ms/step  (PyTorch, %d torch × "
                 "%d OpenBLAS threads)\n", r->name, batch, r->torch_ms, r->torch_threads,
                 r->torch_blas);
    }
  return nsel;
}

static void
print_training (const BenchTrainRow *rows, int nrows, int json, int threads, const char *kernel,
                double gemm, const char *tnote)
{
  if (!json)
    {
      printf ("PEAC training (both crops: student forward + backward, EMA teacher forward, "
              "heads, AdamW)\n");
      printf ("%-16s %5s %10s %10s %6s %8s %8s %8s %7s\n", "model", "batch", "peac ms",
              "torch ms", "ratio", "img/s", "torch/s", "GFLOP/s", "sgemm%");
    }
  for (int i = 0; i < nrows; i++)
    {
      const BenchTrainRow *r = &rows[i];
      const double ips = r->batch / (r->peac_ms * 1e-3), gf = r->gflop / (r->peac_ms * 1e-3);
      const double tips = r->torch_ms > 0 ? r->batch / (r->torch_ms * 1e-3) : -1;
      const double ratio = r->torch_ms > 0 ? ips / tips : -1;
      if (json)
        {
          json_t *o = json_pack ("{s:s, s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:s}",
                                 "kind", "train", "model", r->name, "batch", r->batch,
                                 "input", 224, "threads", threads, "peac_ms", r->peac_ms,
                                 "images_per_s", ips, "gflop_per_step", r->gflop,
                                 "gflops", gf, "sgemm_gflops", gemm, "sgemm_share", gf / gemm,
                                 "kernel", kernel);
          json_object_set_new (o, "torch_ms", r->torch_ms > 0 ? json_real (r->torch_ms) : json_null ());
          json_object_set_new (o, "torch_images_per_s", tips > 0 ? json_real (tips) : json_null ());
          json_object_set_new (o, "ratio", ratio > 0 ? json_real (ratio) : json_null ());
          if (r->torch_ms > 0)
            {
              json_object_set_new (o, "torch_threads", json_integer (r->torch_threads));
              json_object_set_new (o, "torch_openblas_threads", json_integer (r->torch_blas));
            }
          json_object_set_new (o, "max_rss_mb", json_real (r->maxrss_kb / 1024.0));
          if (tnote)
            json_object_set_new (o, "torch_note", json_string (tnote));
          char *s = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (6));
          printf ("%s\n", s);
          free (s);
          json_decref (o);
        }
      else
        {
          char tms[32] = "—", rat[32] = "—", tps[32] = "—";
          if (r->torch_ms > 0)
            snprintf (tms, sizeof tms, "%.1f", r->torch_ms), snprintf (rat, sizeof rat, "%.2f", ratio),
              snprintf (tps, sizeof tps, "%.2f", tips);
          printf ("%-16s %5d %10.1f %10s %6s %8.2f %8s %8.1f %6.0f%%\n", r->label, r->batch,
                  r->peac_ms, tms, rat, ips, tps, gf, 100 * gf / gemm);
        }
    }
  if (!json)
    printf ("\nms per training step of `batch` images; ratio = peac img/s / torch img/s (above 1: "
            "the engine is faster). PyTorch: %s.\n",
            tnote ? tnote : "tools/bench/torch_train_bench.py, the faster of 1 torch × N "
                            "OpenBLAS threads and N torch × 1 OpenBLAS thread");
}

typedef struct {
  int json, threads, quick, torch, infer, train, tbatch;
  const char *list, *tlist;
} BenchArgs;

// Fills a from argv. Returns -1 to run, else the exit status.
static int
parse_args (BenchArgs *a, int argc, char **argv)
{
  enum { O_JSON = 1000, O_QUICK, O_NO_TORCH, O_INFER_ONLY, O_TRAIN_ONLY, O_THREADS,
         O_TRAIN_BATCH, O_MODELS, O_TRAIN_MODELS, O_TORCH_KERNEL };
  static const struct option opts[] = {
    { "json", no_argument, NULL, O_JSON },
    { "quick", no_argument, NULL, O_QUICK },
    { "no-torch", no_argument, NULL, O_NO_TORCH },
    { "infer-only", no_argument, NULL, O_INFER_ONLY },
    { "train-only", no_argument, NULL, O_TRAIN_ONLY },
    { "verbose", no_argument, NULL, 'v' },
    { "threads", required_argument, NULL, O_THREADS },
    { "train-batch", required_argument, NULL, O_TRAIN_BATCH },
    { "models", required_argument, NULL, O_MODELS },
    { "train-models", required_argument, NULL, O_TRAIN_MODELS },
    { "torch-kernel", required_argument, NULL, O_TORCH_KERNEL },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  *a = (BenchArgs) { .torch = 1, .infer = 1, .train = 1, .tbatch = 8,
                     .list = "vit_tiny,vit_small,vit_base,swin_base",
                     .tlist = "vit_tiny,vit_small,swin_tiny" };
  int c;
  optind = 0;
  while ((c = peac_cli_getopt ("bench", argc, argv, "vh", opts, NULL)) != -1)
    switch (c)
      {
      case O_JSON: a->json = 1; break;
      case O_QUICK: a->quick = 1; break;
      case O_NO_TORCH: a->torch = 0; break;
      case O_INFER_ONLY: a->train = 0; break;
      case O_TRAIN_ONLY: a->infer = 0; break;
      case 'v': break; // read by peac_cli_init
      case O_THREADS:
      case O_TRAIN_BATCH:
        if (atoi (optarg) <= 0)
          {
            fprintf (stderr, "peac bench: --%s needs a positive number, not '%s'\n\n",
                     c == O_THREADS ? "threads" : "train-batch", optarg);
            usage (stderr);
            return 2;
          }
        *(c == O_THREADS ? &a->threads : &a->tbatch) = atoi (optarg);
        break;
      case O_MODELS: a->list = optarg; break;
      case O_TRAIN_MODELS: a->tlist = optarg; break;
      case O_TORCH_KERNEL:
        if (!optarg[0])
          return fprintf (stderr, "peac bench: --torch-kernel needs a kernel name\n"), 2;
        as_installed_kernel = optarg;
        break;
      case 'h': usage (stdout); return 0;
      default: return 2;
      }
  if (optind < argc)
    {
      fprintf (stderr, "peac bench: unexpected argument '%s'\n\n", argv[optind]);
      usage (stderr);
      return 2;
    }
  if (!a->infer && !a->train)
    {
      fprintf (stderr, "peac bench: --infer-only and --train-only exclude each other\n\n");
      usage (stderr);
      return 2;
    }
  return -1;
}

int
peac_cmd_bench (int argc, char **argv)
{
  BenchArgs a;
  const int prc = parse_args (&a, argc, argv);
  if (prc >= 0)
    return prc;
  int json = a.json, threads = a.threads, quick = a.quick, torch = a.torch, infer = a.infer,
      train = a.train, tbatch = a.tbatch;
  const char *list = a.list, *tlist = a.tlist;
  const BenchModel *sel[N_MODELS], *tsel[N_MODELS];
  int nsel = infer ? resolve_models (list, 0, sel) : 0;
  int ntsel = train ? resolve_models (tlist, 1, tsel) : 0;
  if (nsel < 0 || ntsel < 0)
    {
      usage (stderr);
      return 2;
    }

  peac_threads_set (threads);
  threads = peac_threads_get ();
  BenchPlan plan = { 1, quick ? 1 : 7, quick ? 0.0 : 20.0 };
  // Training steps are seconds long: fewer of them, and a budget of their own.
  BenchPlan tplan = { 1, quick ? 1 : 5, quick ? 0.0 : 30.0 };
  const char *kernel = peac_blas_kernel ();
  double gemm = bench_sgemm_gflops (quick ? 1024 : 2048, quick ? 2 : 5, threads);
  fprintf (stderr, "peac bench: OpenBLAS kernel %s, %d threads, sgemm %.1f GFLOP/s\n",
           kernel, threads, gemm);

  // One note per part: a failed peer run in one part leaves the other's rows alone.
  char note[512], tnote_buf[512];
  const char *skip = "PyTorch skipped (--no-torch)";
  const char *tnote = !torch ? skip : nsel > 0 ? bench_torch_available (note, sizeof note) : NULL;
  const char *tnote_train = !torch ? skip
                            : ntsel > 0 ? bench_torch_available (tnote_buf, sizeof tnote_buf) : NULL;
  Row rows[N_BATCHES * N_MODELS];
  BenchTrainRow trows[N_MODELS];
  int nrows = 0, ntrows = 0;
  if (nsel > 0
      && (nrows = bench_inference (rows, sel, nsel, threads, quick, &plan, &gemm, &tnote, note,
                                   sizeof note)) < 0)
    return 1;
  if (ntsel > 0
      && (ntrows = bench_training (trows, tsel, ntsel, tbatch, threads, quick, &tplan, &gemm,
                                   &tnote_train, tnote_buf, sizeof tnote_buf)) < 0)
    return 1;
  if (tnote && nrows)
    fprintf (stderr, "peac bench: %s\n", tnote);
  if (tnote_train && ntrows)
    fprintf (stderr, "peac bench: training: %s\n", tnote_train);

  if (!json)
    printf ("OpenBLAS kernel %s, %d threads, cblas_sgemm %.1f GFLOP/s\n\n", kernel, threads, gemm);
  if (nrows)
    print_inference (rows, nrows, json, threads, kernel, gemm, tnote);
  if (ntrows)
    print_training (trows, ntrows, json, threads, kernel, gemm, tnote_train);
  return 0;
}
