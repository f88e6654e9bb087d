// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-bench: helpers shared by the two halves of `peac bench` — the inference rows
// (cli-bench.c) and the PEAC training rows (cli-bench-train.c): the clock, the machine's
// own sgemm rate, and the PyTorch interpreter the peers run under.
#pragma once

#include <stddef.h>


typedef struct {
  int    warmup, reps;                // untimed runs; at most `reps` timed runs …
  double budget_s;                    // … stopping early (after 3) once this much is spent
} BenchPlan;

double bench_now (void);
// cblas_sgemm GFLOP/s of an n×n×n product on `threads` OpenBLAS threads, best of reps.
double bench_sgemm_gflops (int n, int reps, int threads);
// $PEAC_PYTHON or /usr/bin/python3.
const char *bench_python (void);
// NULL when `import torch` works under bench_python(), else a note saying why not.
const char *bench_torch_available (char *note, size_t notelen);

// One PEAC training row: the engine's step (student forward + backward on both crops,
// teacher forward on both, heads, loss, clipping, AdamW on backbone and heads, EMA) for a
// bench model, and the same step in PyTorch.
typedef struct {
  const char *name, *label, *preset;  // preset: of the engine's registry (presets.h)
  int    batch;
  double peac_ms, gflop;              // median step time; GFLOP counted per step
  double torch_ms;                    // < 0: not measured
  int    torch_threads, torch_blas;
  long   maxrss_kb;                   // peak RSS of the process after this row
} BenchTrainRow;

// Times training steps of row->preset at batch row->batch. Returns 0 or −1 with err.
int bench_train_peac (BenchTrainRow *row, const BenchPlan *plan, char *err, size_t errlen);
// Runs tools/bench/torch_train_bench.py on the row with tthreads torch threads over `blas`
// OpenBLAS threads, keeping the faster result. NULL or a note.
const char *bench_train_torch (BenchTrainRow *row, int tthreads, int blas, const BenchPlan *plan,
                               char *note, size_t notelen);
// Sets the environment a PyTorch child inherits: OPENBLAS_NUM_THREADS = blas and
// OMP_NUM_THREADS = tthreads, or (tthreads ≤ 0) none of the thread variables at all.
void bench_child_threads (int tthreads, int blas);
