// SPDX-License-Identifier: GPL-3.0-or-later
//
// swin-train: the Swin Transformer's training forward and backward. The forward keeps
// every activation the backward needs (block inputs, LayerNorm statistics, the windowed
// LN₁ output, qkv, attention probabilities, the MLP's pre-activation, the PatchMerging
// gathers) in one arena sized for a batch and an input size when the trainer is made; the
// backward turns dL/d(final-norm tokens) into gradients accumulated into a float buffer
// that mirrors the model's parameter table (same offsets as PeacParams.memory) — the
// relative position bias tables included — and, optionally, dL/d input. Separate from
// swin_forward (the inference path) and numerically the same model, in either checkpoint
// layout (the parameters are the same table).
#pragma once

#include <stddef.h>

#include "swin.h"

typedef struct SwinTrain SwinTrain;

// A trainer for batches of up to B images of H×W pixels (any size that swin_check_input
// accepts). The model must outlive it. NULL with err.
SwinTrain   *swin_train_new (SwinModel *m, int B, int H, int W, char *err, size_t errlen);
void         swin_train_free (SwinTrain *t);
// Output token grid (gh × gw) and width of the last stage.
void         swin_train_shape (const SwinTrain *t, int *gh, int *gw, int *dim);
// input [B, Cin, H, W] → final-norm tokens [B, gh, gw, dim], returned (owned by the
// trainer, valid until the next forward). B ≤ the trainer's batch.
const float *swin_train_forward (SwinTrain *t, const float *input, int B);
// dout [B, gh, gw, dim] for the last forward → grads (mirror of the parameter memory) +=,
// dinput [B, Cin, H, W] += (may be NULL). dout is not modified.
void         swin_train_backward (SwinTrain *t, const float *dout, float *grads,
                                  float *dinput);
