// SPDX-License-Identifier: GPL-3.0-or-later
//
// model: the one interface the CLI and the app use for any backbone (ViT or Swin). It
// builds a model from a checkpoint's `peac.*` metadata, loads its weights through the
// name/shape table, and runs forward passes that yield the token grid and a pooled vector,
// with intermediate outputs reported through a callback.
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef enum {
  PEAC_ARCH_VIT = 1,
  PEAC_ARCH_SWIN = 2,
} PeacArch;

// Receives an intermediate output named as in the reference fixtures' `act.*` keys
// (e.g. "patch_embed", "blocks.3", "norm"; Swin: "layers.1" or "stage1.blocks").
typedef void (*PeacActFn) (void *user, const char *name, const float *data,
                           int ndim, const int64_t *shape);

typedef struct PeacModel PeacModel;
