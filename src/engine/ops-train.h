// SPDX-License-Identifier: GPL-3.0-or-later
//
// ops-train: the fused backward variants the trainers (vit-train.c, swin-train.c) run,
// beside the plain accumulating backwards of ops.h that they are tested against. They save the
// memsets and extra passes of the plain ops: an input gradient that the caller would
// otherwise zero and accumulate into is written directly (GEMM β = 0), the GELU between
// fc1 and fc2 is applied to the fc2 input gradient while its rows are still in cache, the
// two halves of a Linear backward (input gradient, weight gradient) share one trip through
// the worker pool, and LayerNorm's input and parameter gradients come from one pass over
// the rows. Partitions are fixed by the shapes and the thread count, and no value is summed
// from two threads, so results are deterministic for a given thread count.
#pragma once

#include <stddef.h>

// Linear out[M, N] = in[M, K] · w[N, K]ᵀ + b backward:
//   g = dout · w [M, K];  with gelu_in [M, K]: g ⊙= gelu'(gelu_in) (exact GELU)
//   din = g (accumulate = 0; gelu_in allowed) or din += g (accumulate = 1; gelu_in must be
//   NULL); dw [N, K] += doutᵀ · in;  db [N] += Σ_rows dout. din, dw, db may be NULL.
void op_linear_backward_fused (float *din, int accumulate, const float *gelu_in, float *dw,
                               float *db, const float *dout, const float *in, const float *w,
                               int M, int K, int N);

// LayerNorm backward in one pass over rows (same maths and arguments as
// op_layernorm_backward: din +=, dw +=, db +=). The parameter gradients are summed per
// block of rows, then the blocks in order.
void op_layernorm_backward_fused (float *din, float *dw, float *db, const float *dout,
                                  const float *in, const float *w, const float *mean,
                                  const float *rstd, int M, int C);

// Attention backward writing dqkv [B·N, 3C] (= instead of +=): every entry of dqkv is
// written. Otherwise as op_attention_backward.
void op_attention_backward_set (float *dqkv, float *scratch, const float *dout,
                                const float *qkv, const float *att, int B, int N, int H,
                                int Dh);

// op_attention_backward_set that also keeps the score gradients: ds [B, H, N, N] receives
// dS = P ⊙ (dP − rowsum(dP ⊙ P)) of every image and head — dL/d(an additive score bias) —
// and serves as the scratch (no other is needed).
void op_attention_backward_ds (float *dqkv, float *ds, const float *dout, const float *qkv,
                               const float *att, int B, int N, int H, int Dh);

// dst[n] = a·dst[n] + b·src[n] over the engine's threads (EMA of a parameter array).
void op_axpby (float *dst, float a, const float *src, float b, size_t n);
