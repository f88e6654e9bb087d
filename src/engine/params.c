// SPDX-License-Identifier: GPL-3.0-or-later
//
// params: registration and the single allocation behind a model's parameter table.
#include "params.h"

#include <stdlib.h>
#include <string.h>

void
peac_params_init (PeacParams *p)
{
  memset (p, 0, sizeof *p);
}

int
peac_params_add (PeacParams *p, const char *name, int ndim, const int64_t *shape)
{
  if (ndim < 0 || ndim > PEAC_MAX_DIMS || strlen (name) >= PEAC_NAME_MAX || p->memory)
    return -1;
  if (peac_params_find (p, name))
    return -1;
  size_t numel = 1;
  for (int i = 0; i < ndim; i++)
    {
      if (shape[i] <= 0)
        return -1;
      numel *= (size_t) shape[i];
    }
  if (p->n == p->cap)
    {
      int cap = p->cap ? 2 * p->cap : 64;
      PeacParam *list = realloc (p->list, (size_t) cap * sizeof *list);
      if (!list)
        return -1;
      p->list = list;
      p->cap = cap;
    }
  PeacParam *e = &p->list[p->n];
  memset (e, 0, sizeof *e);
  strcpy (e->name, name);
  e->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    e->shape[i] = shape[i];
  e->numel = numel;
  // Keep every tensor 16-float (64-byte) aligned inside the block for vector loads.
  e->offset = (p->total + 15) & ~(size_t) 15;
  p->total = e->offset + numel;
  return p->n++;
}

// Largest table peac_params_alloc may allocate on this thread (0 = any), and the largest
// one it refused since the limit was last set.
static _Thread_local size_t alloc_limit, alloc_refused;

size_t
peac_params_limit (size_t max_floats)
{
  size_t refused = alloc_refused;
  alloc_limit = max_floats;
  alloc_refused = 0;
  return refused;
}

int
peac_params_alloc (PeacParams *p)
{
  if (alloc_limit && p->total > alloc_limit)
    {
      if (p->total > alloc_refused)
        alloc_refused = p->total;
      return -1;
    }
  size_t bytes = ((p->total * sizeof (float)) + 63) & ~(size_t) 63;
  p->memory = aligned_alloc (64, bytes ? bytes : 64);
  if (!p->memory)
    return -1;
  memset (p->memory, 0, bytes);
  for (int i = 0; i < p->n; i++)
    p->list[i].data = p->memory + p->list[i].offset;
  return 0;
}

PeacParam *
peac_params_find (const PeacParams *p, const char *name)
{
  for (int i = 0; i < p->n; i++)
    if (strcmp (p->list[i].name, name) == 0)
      return &p->list[i];
  return NULL;
}

void
peac_params_free (PeacParams *p)
{
  free (p->list);
  free (p->memory);
  memset (p, 0, sizeof *p);
}
