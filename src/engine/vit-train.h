// SPDX-License-Identifier: GPL-3.0-or-later
//
// vit-train: the ViT's training forward and backward. The forward keeps every activation
// the backward needs (block inputs, LayerNorm outputs and statistics, qkv, attention
// probabilities, the MLP's pre-activation) in one arena sized for a batch and an input
// size when the trainer is made; the backward turns dL/d(final-norm tokens) into gradients
// accumulated into a float buffer that mirrors the model's parameter table (same offsets
// as PeacParams.memory) and, optionally, dL/d input. Separate from vit_forward (the
// optimised inference path) and numerically the same model. Training runs at the
// configured grid only (no position-embedding resampling, patch stride = patch size).
#pragma once

#include <stddef.h>

#include "vit.h"

typedef struct VitTrain VitTrain;

// A trainer for batches of up to B images of H×W pixels (H, W = multiples of the patch
// giving the model's configured grid). The model must outlive it. NULL with err.
VitTrain    *vit_train_new (VitModel *m, int B, int H, int W, char *err, size_t errlen);
void         vit_train_free (VitTrain *t);
// Tokens per image (1 + G, class token first) and width.
int          vit_train_tokens (const VitTrain *t);
int          vit_train_dim (const VitTrain *t);
// input [B, C, H, W] → final-norm tokens [B, 1 + G, D], returned (owned by the trainer,
// valid until the next forward). B ≤ the trainer's batch.
const float *vit_train_forward (VitTrain *t, const float *input, int B);
// dout [B, 1 + G, D] for the last forward → grads (mirror of the parameter memory) +=,
// dinput [B, C, H, W] += (may be NULL). dout is not modified.
void         vit_train_backward (VitTrain *t, const float *dout, float *grads, float *dinput);
