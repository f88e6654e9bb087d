// SPDX-License-Identifier: GPL-3.0-or-later
//
// pool: the engine's one thread pool (pthreads, one mutex, two condition variables) behind
// peac_parallel_for, used by every parallel loop of the engine, t-SNE included. Tasks are
// claimed from one 64-bit atomic holding the job number in its high half and the next task
// in its low half, so a worker that wakes late can never claim a task of a later job with
// an earlier job's function, and the caller waits only for the tasks that were claimed,
// never for workers that have not woken yet: on a busy machine (a desktop with the UI
// running, a shared build machine) waiting for every worker cost a scheduler time slice per
// loop.
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define POOL_MAX 256

typedef struct {
  PeacTaskFn  fn;
  void       *ctx;
  int         n_tasks;
  int         n_threads;
  uint32_t    id;          // never 0
} Job;

static struct {
  pthread_mutex_t  lock;
  pthread_cond_t   start, done;
  pthread_mutex_t  call;       // one job at a time
  Job              job;        // the latest job (written under lock)
  atomic_uint      published;  // its id, for workers spinning without the lock
  uint32_t         spawn_id;   // the id before the job that created new workers
  _Atomic uint64_t claim;      // job id << 32 | next task
  atomic_int       finished;   // tasks of the current job completed
  int              n_workers;
  pthread_t        workers[POOL_MAX];
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
           PTHREAD_MUTEX_INITIALIZER, { 0 }, 0, 0, 0, 0, 0, { 0 } };

static _Thread_local int in_task;

// Before sleeping, a worker (and the caller waiting for the end of a job) watches the
// counters for a short while: the loops of a forward pass follow each other within
// microseconds, and waking a sleeping thread (on a VM, a halted vCPU) costs far more than
// that. Kept short (tens of µs) so that idle workers hardly compete with other work.
#ifndef PEAC_POOL_SPIN
#define PEAC_POOL_SPIN 4000
#endif

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

// Claims and runs tasks of job j until none are left (or a later job has started); the
// thread that completes the last task wakes the caller.
static void
run_tasks (const Job *j, int thread)
{
  in_task = 1;
  for (;;)
    {
      uint64_t v = atomic_load (&pool.claim);
      int t;
      do
        {
          t = (int) (uint32_t) v;
          if ((uint32_t) (v >> 32) != j->id || t >= j->n_tasks)
            {
              in_task = 0;
              return;
            }
        }
      while (!atomic_compare_exchange_weak (&pool.claim, &v,
                                            ((uint64_t) j->id << 32) | (uint32_t) (t + 1)));
      j->fn (j->ctx, t, thread);
      if (atomic_fetch_add (&pool.finished, 1) + 1 == j->n_tasks)
        {
          pthread_mutex_lock (&pool.lock);
          pthread_cond_signal (&pool.done);
          pthread_mutex_unlock (&pool.lock);
        }
    }
}

static void *
worker (void *arg)
{
  const int id = (int) (long) arg; // 1 … n_workers
  pthread_mutex_lock (&pool.lock);
  // A worker created for the job being launched starts from the id before it, so that it
  // takes part in it.
  uint32_t seen = pool.spawn_id;
  for (;;)
    {
      pthread_mutex_unlock (&pool.lock);
      for (int i = 0; i < PEAC_POOL_SPIN && atomic_load (&pool.published) == seen; i++)
        cpu_relax ();
      pthread_mutex_lock (&pool.lock);
      while (atomic_load (&pool.published) == seen)
        pthread_cond_wait (&pool.start, &pool.lock);
      Job j = pool.job;
      seen = j.id;
      if (id >= j.n_threads)
        continue;
      pthread_mutex_unlock (&pool.lock);
      run_tasks (&j, id);
      pthread_mutex_lock (&pool.lock);
    }
  return NULL;
}

void
peac_parallel_for (int n_tasks, int n_threads, PeacTaskFn fn, void *ctx)
{
  if (n_tasks <= 0)
    return;
  if (n_threads > n_tasks)
    n_threads = n_tasks;
  if (n_threads > POOL_MAX)
    n_threads = POOL_MAX;
  if (n_threads <= 1 || in_task)
    {
      for (int t = 0; t < n_tasks; t++)
        fn (ctx, t, 0);
      return;
    }
  pthread_mutex_lock (&pool.call);
  pthread_mutex_lock (&pool.lock);
  pool.spawn_id = pool.job.id;
  while (pool.n_workers < n_threads - 1)
    {
      int id = pool.n_workers + 1;
      if (pthread_create (&pool.workers[id - 1], NULL, worker, (void *) (long) id) != 0)
        break;
      pthread_detach (pool.workers[id - 1]);
      pool.n_workers++;
    }
  if (n_threads - 1 > pool.n_workers)
    n_threads = pool.n_workers + 1;
  uint32_t jid = pool.job.id + 1 ? pool.job.id + 1 : 1;
  Job j = { fn, ctx, n_tasks, n_threads, jid };
  pool.job = j;
  atomic_store (&pool.finished, 0);
  atomic_store (&pool.claim, (uint64_t) jid << 32);
  atomic_store (&pool.published, jid);
  pthread_cond_broadcast (&pool.start);
  pthread_mutex_unlock (&pool.lock);
  run_tasks (&j, 0);
  for (int i = 0; i < PEAC_POOL_SPIN && atomic_load (&pool.finished) < n_tasks; i++)
    cpu_relax ();
  pthread_mutex_lock (&pool.lock);
  while (atomic_load (&pool.finished) < n_tasks)
    pthread_cond_wait (&pool.done, &pool.lock);
  pthread_mutex_unlock (&pool.lock);
  pthread_mutex_unlock (&pool.call);
}

typedef struct {
  PeacRangeFn fn;
  void       *ctx;
  int         n, chunk;
} RangeJob;

static void
range_task (void *ctx, int task, int thread)
{
  const RangeJob *r = ctx;
  int b = task * r->chunk, e = b + r->chunk < r->n ? b + r->chunk : r->n;
  r->fn (r->ctx, b, e, thread);
}

void
peac_parallel_range (int n, int chunk, int n_threads, PeacRangeFn fn, void *ctx)
{
  if (n <= 0)
    return;
  if (chunk < 1)
    chunk = 1;
  RangeJob r = { fn, ctx, n, chunk };
  peac_parallel_for ((n + chunk - 1) / chunk, n_threads, range_task, &r);
}
