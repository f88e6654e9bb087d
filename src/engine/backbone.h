// SPDX-License-Identifier: GPL-3.0-or-later
//
// backbone: the table of functions through which the engine runs any architecture. A
// backbone is one row — create from its `peac.config` JSON and layout, the parameter table,
// the checkpoint name map of its layouts, output geometry, inference forward, and the
// training forward/backward on a contiguous token grid [B, gh, gw, D] plus a pooled vector
// [B, D], and the configuration read without building the model (its canonical text and
// grid, what training and the presets need) — defined in its own file (vit-backbone.c, swin-backbone.c) and listed once in
// backbone.c. model.c picks the row from `peac.arch` and calls only through it; adding an
// architecture is one new file and one new line in backbone.c (docs/backbones.md).
#pragma once

#include <stddef.h>

#include "checkpoint.h"
#include "model.h"
#include "params.h"

struct PeacBackbone {
  const char *name;              // the `peac.arch` value: "vit", "swin"
  PeacArch    arch;
  const char *label;             // for reports: "ViT", "Swin"
  const char *layouts[4];        // accepted `peac.layout` values, the default first, NULL-ended
  int         class_token;       // its tokens lead with a class token (the pooled vector): the
                                 // reference fixtures' out.features are [B, 1 + G, D]
  int         strides;           // takes a patch stride (PeacForwardOptions.stride: dense,
                                 // overlapping tokens) and inputs of any multiple of its patch

  // A configuration checked without building the model: its canonical `peac.config` text
  // (every key, compact; malloc'd — what checkpoints store and --print-config shows) and
  // the token grid of the configured input (img_size, grid, dim). NULL with err.
  char       *(*describe) (const char *config_json, int *img_size, int *grid_h, int *grid_w,
                           int *dim, char *err, size_t errlen);
  // A model from a configuration (weights zeroed) in a layout of `layouts`. NULL with err.
  void       *(*create) (const char *config_json, const char *layout, char *err, size_t errlen);
  void        (*destroy) (void *m);
  PeacParams *(*params) (void *m);
  int         (*img_size) (const void *m);          // the configured input side (pixels)
  // Checkpoint tensor name → canonical parameter name (user = the layout string); NULL
  // for an identity map.
  PeacNameMapFn map_name;

  // Output grid and width for an H×W input with options (0 sizes = not valid), the FLOP
  // count of one forward, and the inference forward (as peac_model_forward_ex).
  void   (*output_shape) (const void *m, const PeacForwardOptions *o, int H, int W,
                          int *grid_h, int *grid_w, int *dim);
  double (*flops) (const void *m, const PeacForwardOptions *o, int H, int W);
  int    (*forward) (void *m, const PeacForwardOptions *o, const float *input, int B, int H,
                     int W, float *features, float *pooled, PeacActFn act, void *user,
                     char *err, size_t errlen);

  // Training at one input size, batches of up to B (the model outlives the trainer).
  // train_forward returns the final-norm grid [B, gh, gw, D] and sets *pooled [B, D]
  // (the inference forward's pooled vector), both owned by the trainer until the next
  // call. train_backward takes their gradients (either may be NULL for zero), accumulates the
  // parameter gradients into grads (mirror of the parameter memory) and, when dinput is
  // not NULL, adds dL/d input [B, 3, H, W].
  void        *(*train_new) (void *m, int B, int H, int W, char *err, size_t errlen);
  void         (*train_free) (void *t);
  const float *(*train_forward) (void *t, const float *input, int B, const float **pooled);
  void         (*train_backward) (void *t, const float *dgrid, const float *dpooled,
                                  float *grads, float *dinput);
};

// The row for a `peac.arch` name, or for an architecture id; NULL when there is none.
const PeacBackbone *peac_backbone_find (const char *name);
const PeacBackbone *peac_backbone_of (PeacArch arch);
// The rows, NULL-terminated (for lists of names in help texts and errors).
const PeacBackbone *const *peac_backbones (void);

// A model configuration as training and the presets use it: the row, its canonical
// `peac.config` text and the token grid of the configured input — grid × grid cells of
// cell pixels, dim wide (ViT: the patch; Swin: the last stage's stride).
#define PEAC_CONFIG_MAX 1024

typedef struct {
  const PeacBackbone *backbone;
  char                config[PEAC_CONFIG_MAX];
  int                 img_size, grid, cell, dim;
} PeacModelSpec;

// Fills s from a `peac.arch` name and a configuration; −1 with err (naming the
// architecture's choices or the bad key) when the name is unknown, the configuration
// invalid, or its grid does not tile the input in square cells.
int peac_model_spec_parse (PeacModelSpec *s, const char *arch, const char *config_json,
                           char *err, size_t errlen);
