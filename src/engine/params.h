// SPDX-License-Identifier: GPL-3.0-or-later
//
// params: a model's named parameter table over one contiguous float allocation (the llm.c
// layout). A model registers every tensor by its canonical name and shape, then allocates
// once; gradients and optimiser moments mirror `memory` with the same offsets, so zeroing,
// AdamW and checkpoints are single loops. The same table drives the safetensors reader and
// writer.
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PEAC_MAX_DIMS 4
#define PEAC_NAME_MAX 128
// The largest integer a model configuration may hold (sizes, depths, heads): far above
// any real model, low enough that products of two of them fit comfortably in int64.
#define PEAC_CONFIG_INT_MAX (1 << 20)

typedef struct {
  char    name[PEAC_NAME_MAX]; // canonical name: timm layout for ViT, Microsoft/SimMIM for Swin
  int     ndim;
  int64_t shape[PEAC_MAX_DIMS];
  size_t  numel;
  size_t  offset;              // in floats, into PeacParams.memory
  float  *data;                // = memory + offset once allocated
} PeacParam;

typedef struct {
  PeacParam *list;
  int        n;
  int        cap;
  float     *memory;           // one allocation of `total` floats (64-byte aligned)
  size_t     total;
} PeacParams;

void       peac_params_init (PeacParams *p);
// Registers a tensor; returns its index, or −1 on a duplicate name or bad shape.
int        peac_params_add (PeacParams *p, const char *name, int ndim, const int64_t *shape);
// Allocates `memory` (zeroed) and points every entry into it. Returns 0, or −1 on OOM
// or when the table is larger than the limit below.
int        peac_params_alloc (PeacParams *p);
// Refuses, on this thread, tables of more than max_floats floats (0 = no limit): a model
// built from a file cannot need more parameters than the file holds. Returns the size of
// the largest table refused since the previous call (0 if none).
size_t     peac_params_limit (size_t max_floats);
PeacParam *peac_params_find (const PeacParams *p, const char *name);
void       peac_params_free (PeacParams *p);
