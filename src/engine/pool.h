// SPDX-License-Identifier: GPL-3.0-or-later
//
// pool: the engine's worker threads. peac_parallel_for runs fn(ctx, task, thread) for
// task = 0 … n_tasks−1 on up to n_threads threads (the caller is thread 0), handing tasks
// out one at a time, and returns when all are done. Idle workers sleep on a condition
// variable instead of spinning: on a 2-core machine shared with other work (or vCPUs that
// share a core), spinning at every barrier cost more than the work it waited for (ViT-B
// at batch 1: 1045 ms with libgomp's default spinning against 494 ms without). The pool
// is created on first use and grows to the largest thread count asked for; calls from
// several threads are serialised, and a call from inside a task runs serially. It is the
// engine's only threading mechanism (no OpenMP runtime, OpenBLAS single-threaded inside
// it): GEMM slices, attention, Swin's window copies and t-SNE all run here.
#pragma once

typedef void (*PeacTaskFn) (void *ctx, int task, int thread);

void peac_parallel_for (int n_tasks, int n_threads, PeacTaskFn fn, void *ctx);

// The same over ranges: fn(ctx, begin, end, thread) on consecutive chunks [begin, end) of
// [0, n), `chunk` items each (the last one shorter).
typedef void (*PeacRangeFn) (void *ctx, int begin, int end, int thread);

void peac_parallel_range (int n, int chunk, int n_threads, PeacRangeFn fn, void *ctx);
