// SPDX-License-Identifier: GPL-3.0-or-later
//
// pool: a small blocking thread pool (pthreads, one mutex, two condition variables, an
// atomic task counter) behind peac_parallel_for.
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define POOL_MAX 256

typedef struct {
  PeacTaskFn  fn;
  void       *ctx;
  int         n_tasks;
  int         n_threads;
  atomic_int  next;       // next task to hand out
  atomic_int  active;     // workers still running this job
} Job;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t  start, done;
  pthread_mutex_t call;   // one job at a time
  atomic_ulong    generation; // written under lock, read by spinning workers
  unsigned long   spawn_generation; // generation before the job that created new workers
  Job            *job;
  int             n_workers;
  pthread_t       workers[POOL_MAX];
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
           PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL, 0, { 0 } };

static _Thread_local int in_task;

// Before sleeping, a worker (and the caller waiting for the end of a job) watches the
// counters for a short while: the regions of a forward pass follow each other within
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

static void
run_tasks (Job *j, int thread)
{
  in_task = 1;
  for (int t; (t = atomic_fetch_add (&j->next, 1)) < j->n_tasks;)
    j->fn (j->ctx, t, thread);
  in_task = 0;
}

static void *
worker (void *arg)
{
  const int id = (int) (long) arg; // 1 … n_workers
  unsigned long seen;
  pthread_mutex_lock (&pool.lock);
  // A new worker is created for the job being launched: it starts from the generation
  // before that job's, so that it takes part in it.
  seen = pool.spawn_generation;
  for (;;)
    {
      pthread_mutex_unlock (&pool.lock);
      for (int i = 0; i < PEAC_POOL_SPIN && atomic_load (&pool.generation) == seen; i++)
        cpu_relax ();
      pthread_mutex_lock (&pool.lock);
      while (atomic_load (&pool.generation) == seen)
        pthread_cond_wait (&pool.start, &pool.lock);
      seen = atomic_load (&pool.generation);
      // The job of the current generation, unless it finished while this worker (not part
      // of it) was still asleep.
      Job *j = pool.job;
      if (!j || id >= j->n_threads)
        continue;
      pthread_mutex_unlock (&pool.lock);
      run_tasks (j, id);
      int last = atomic_fetch_sub (&j->active, 1) == 1; // j may be gone after this
      pthread_mutex_lock (&pool.lock);
      if (last)
        pthread_cond_signal (&pool.done);
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
  pool.spawn_generation = atomic_load (&pool.generation);
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
  Job j = { fn, ctx, n_tasks, n_threads, 0, n_threads - 1 };
  pool.job = &j;
  atomic_fetch_add (&pool.generation, 1);
  pthread_cond_broadcast (&pool.start);
  pthread_mutex_unlock (&pool.lock);
  run_tasks (&j, 0);
  for (int i = 0; i < PEAC_POOL_SPIN && atomic_load (&j.active) > 0; i++)
    cpu_relax ();
  pthread_mutex_lock (&pool.lock);
  while (atomic_load (&j.active) > 0)
    pthread_cond_wait (&pool.done, &pool.lock);
  pool.job = NULL;
  pthread_mutex_unlock (&pool.lock);
  pthread_mutex_unlock (&pool.call);
}
