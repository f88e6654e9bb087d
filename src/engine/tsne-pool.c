// SPDX-License-Identifier: GPL-3.0-or-later
//
// tsne-pool: the passive worker pool of the t-SNE optimiser (see tsne-internal.h for why
// it is not OpenMP). The caller thread works too; workers sleep on a condition variable
// between jobs, take chunks [begin, end) from an atomic counter during a job, and the last
// one to finish wakes the caller.
#include "tsne-internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct TsnePool {
  int n_workers;
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  unsigned long generation;    // bumped for each job (under mu)
  int quit;
  int busy;                    // workers still on the current job (under mu)
  // The current job.
  TsneTaskFn fn;
  void *ctx;
  int n, chunk;
  atomic_int next;
};

static void
work (TsnePool *p)
{
  for (;;)
    {
      int b = atomic_fetch_add (&p->next, p->chunk);
      if (b >= p->n)
        return;
      int e = b + p->chunk < p->n ? b + p->chunk : p->n;
      p->fn (p->ctx, b, e);
    }
}

static void *
worker (void *arg)
{
  TsnePool *p = arg;
  unsigned long seen = 0;
  for (;;)
    {
      pthread_mutex_lock (&p->mu);
      while (p->generation == seen && !p->quit)
        pthread_cond_wait (&p->go, &p->mu);
      if (p->quit)
        {
          pthread_mutex_unlock (&p->mu);
          return NULL;
        }
      seen = p->generation;
      pthread_mutex_unlock (&p->mu);
      work (p);
      pthread_mutex_lock (&p->mu);
      if (--p->busy == 0)
        pthread_cond_signal (&p->done);
      pthread_mutex_unlock (&p->mu);
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
  pthread_mutex_init (&p->mu, NULL);
  pthread_cond_init (&p->go, NULL);
  pthread_cond_init (&p->done, NULL);
  atomic_init (&p->next, 0);
  if (!p->threads)
    {
      free (p);
      return NULL;
    }
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
  p->fn = fn;
  p->ctx = ctx;
  p->n = n;
  p->chunk = chunk;
  atomic_store (&p->next, 0);
  p->busy = p->n_workers;
  p->generation++;
  pthread_cond_broadcast (&p->go);
  pthread_mutex_unlock (&p->mu);
  work (p);
  pthread_mutex_lock (&p->mu);
  while (p->busy > 0)
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
