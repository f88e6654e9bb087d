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
  int         active;     // workers still running this job (under lock)
} Job;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t  start, done;
  pthread_mutex_t call;   // one job at a time
  unsigned long   generation;
  unsigned long   spawn_generation; // generation before the job that created new workers
  Job            *job;
  int             n_workers;
  pthread_t       workers[POOL_MAX];
} pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
           PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL, 0, { 0 } };

static _Thread_local int in_task;

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
  unsigned long seen = 0;
  pthread_mutex_lock (&pool.lock);
  // A new worker is created for the job being launched: it starts from the generation
  // before that job's, so that it takes part in it.
  seen = pool.spawn_generation;
  for (;;)
    {
      while (pool.generation == seen)
        pthread_cond_wait (&pool.start, &pool.lock);
      seen = pool.generation;
      // The job of the current generation, unless it finished while this worker (not part
      // of it) was still asleep.
      Job *j = pool.job;
      if (!j || id >= j->n_threads)
        continue;
      pthread_mutex_unlock (&pool.lock);
      run_tasks (j, id);
      pthread_mutex_lock (&pool.lock);
      if (--j->active == 0)
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
  pool.spawn_generation = pool.generation;
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
  pool.generation++;
  pthread_cond_broadcast (&pool.start);
  pthread_mutex_unlock (&pool.lock);
  run_tasks (&j, 0);
  pthread_mutex_lock (&pool.lock);
  while (j.active > 0)
    pthread_cond_wait (&pool.done, &pool.lock);
  pool.job = NULL;
  pthread_mutex_unlock (&pool.lock);
  pthread_mutex_unlock (&pool.call);
}
