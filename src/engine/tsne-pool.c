// SPDX-License-Identifier: GPL-3.0-or-later
//
// tsne-pool: the passive worker pool of the t-SNE optimiser (see tsne-internal.h for why
// it is not OpenMP). The caller thread works too; workers sleep on a condition variable
// between jobs. Chunks [begin, end) are claimed from one 64-bit atomic that holds the job
// number in its high half and the next index in its low half, so a worker that wakes late
// can never claim a chunk of a later job with an earlier job's function. The caller waits
// only for chunks that were claimed, never for workers that have not woken yet — on a busy
// machine that would cost a scheduler time slice per iteration.
#include "tsne-internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
  TsneTaskFn fn;
  void *ctx;
  int n, chunk, n_chunks;
  uint32_t job;
} Job;

struct TsnePool {
  int n_workers;
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  Job job;                     // the current job (written under mu)
  int quit;
  _Atomic uint64_t claim;      // job << 32 | next index
  atomic_int finished;         // chunks of the current job completed
};

// Claims and runs chunks of job j until none are left; the last chunk wakes the caller.
static void
work (TsnePool *p, const Job *j)
{
  for (;;)
    {
      uint64_t v = atomic_load (&p->claim);
      int b;
      do
        {
          if ((uint32_t) (v >> 32) != j->job)
            return;
          b = (int) (uint32_t) v;
          if (b >= j->n)
            return;
        }
      while (!atomic_compare_exchange_weak (&p->claim, &v,
                                            ((uint64_t) j->job << 32) | (uint32_t) (b + j->chunk)));
      int e = b + j->chunk < j->n ? b + j->chunk : j->n;
      j->fn (j->ctx, b, e);
      if (atomic_fetch_add (&p->finished, 1) + 1 == j->n_chunks)
        {
          pthread_mutex_lock (&p->mu);
          pthread_cond_signal (&p->done);
          pthread_mutex_unlock (&p->mu);
        }
    }
}

static void *
worker (void *arg)
{
  TsnePool *p = arg;
  uint32_t seen = 0;
  for (;;)
    {
      pthread_mutex_lock (&p->mu);
      while (p->job.job == seen && !p->quit)
        pthread_cond_wait (&p->go, &p->mu);
      if (p->quit)
        {
          pthread_mutex_unlock (&p->mu);
          return NULL;
        }
      Job j = p->job;
      seen = j.job;
      pthread_mutex_unlock (&p->mu);
      work (p, &j);
    }
}

TsnePool *
tsne_pool_new (int n_threads)
{
  TsnePool *p = calloc (1, sizeof *p);
  if (!p)
    return NULL;
  p->n_workers = n_threads > 1 ? n_threads - 1 : 0;
  p->threads = calloc ((size_t) p->n_workers + 1, sizeof *p->threads);
  if (!p->threads)
    {
      free (p);
      return NULL;
    }
  pthread_mutex_init (&p->mu, NULL);
  pthread_cond_init (&p->go, NULL);
  pthread_cond_init (&p->done, NULL);
  atomic_init (&p->claim, 0);
  atomic_init (&p->finished, 0);
  for (int t = 0; t < p->n_workers; t++)
    if (pthread_create (&p->threads[t], NULL, worker, p) != 0)
      {
        p->n_workers = t;    // run with the ones that started
        break;
      }
  return p;
}

void
tsne_pool_run (TsnePool *p, int n, int chunk, TsneTaskFn fn, void *ctx)
{
  if (n <= 0)
    return;
  if (p->n_workers == 0 || n <= chunk)
    {
      fn (ctx, 0, n);
      return;
    }
  pthread_mutex_lock (&p->mu);
  Job j = { fn, ctx, n, chunk, (n + chunk - 1) / chunk, p->job.job + 1 };
  if (j.job == 0)
    j.job = 1;               // 0 is the workers' "nothing seen yet"
  atomic_store (&p->finished, 0);
  atomic_store (&p->claim, (uint64_t) j.job << 32);
  p->job = j;
  pthread_cond_broadcast (&p->go);
  pthread_mutex_unlock (&p->mu);
  work (p, &j);
  pthread_mutex_lock (&p->mu);
  while (atomic_load (&p->finished) < j.n_chunks)
    pthread_cond_wait (&p->done, &p->mu);
  pthread_mutex_unlock (&p->mu);
}

void
tsne_pool_free (TsnePool *p)
{
  if (!p)
    return;
  pthread_mutex_lock (&p->mu);
  p->quit = 1;
  pthread_cond_broadcast (&p->go);
  pthread_mutex_unlock (&p->mu);
  for (int t = 0; t < p->n_workers; t++)
    pthread_join (p->threads[t], NULL);
  pthread_mutex_destroy (&p->mu);
  pthread_cond_destroy (&p->go);
  pthread_cond_destroy (&p->done);
  free (p->threads);
  free (p);
}
