// SPDX-License-Identifier: GPL-3.0-or-later
//
// ops: the engine's tensor operations as plain functions over float arrays, each a forward
// whose backward twin will sit beside it (training issue). Row-major everywhere: a token
// matrix is [M, C] with M = batch × tokens. Each BLAS path has a naive loop twin
// (`*_naive`) that tests compare it against. No allocation happens here unless stated;
// caller-owned scratch is passed in. Threading: one blocking worker pool (pool.h) of
// peac_threads_get() threads; GEMMs are split over it (by output columns, or by image ×
// head in attention) with OpenBLAS single-threaded inside, so no second pool spins
// against it.
#pragma once

#include <stddef.h>

// Threads used by the engine's parallel loops (OpenBLAS runs single-threaded inside
// them). 0 = all cores.
void peac_threads_set(int n);
int peac_threads_get(void);

// out[M, N] = in[M, K] · w[N, K]ᵀ + b[N]   (b may be NULL; the PyTorch nn.Linear layout)
void op_linear_forward(float *out, const float *in, const float *w, const float *b,
                       int M, int K, int N);
void op_linear_forward_naive(float *out, const float *in, const float *w, const float *b,
                             int M, int K, int N);

// LayerNorm over the last axis: out[M, C] = (in − μ) · rstd · w + b.
// mean[M] and rstd[M] are caches for backward; either may be NULL.
void op_layernorm_forward(float *out, float *mean, float *rstd, const float *in,
                          const float *w, const float *b, int M, int C, float eps);

// Exact GELU: 0.5 · x · (1 + erf(x / √2)), elementwise over n values (in == out allowed).
void op_gelu_forward(float *out, const float *in, size_t n);

// Row softmax of x[rows, cols], in place, max-subtracted.
void op_softmax_forward(float *x, int rows, int cols);

// out[n] = a[n] + b[n] (residual add; out may alias a).
void op_add(float *out, const float *a, const float *b, size_t n);

// ---- Added with the inference engine (declarations above are unchanged) ----

// Naive twins (double accumulation, libm) that the tests compare the fast paths against.
void op_gelu_forward_naive(float *out, const float *in, size_t n);
void op_softmax_forward_naive(float *x, int rows, int cols);

// Multi-head scaled dot-product self-attention over the packed output of a qkv Linear.
//   qkv   [B, N, 3, H, Dh]  = the qkv Linear's [B·N, 3·C] rows, C = H·Dh (timm order: q|k|v,
//                             each split into H heads of Dh)
//   out   [B, N, H, Dh]     = [B·N, C], heads concatenated, ready for the proj Linear
//   bias  [H, N, N] or NULL  added to every image's scaled scores (Swin relative position bias)
//   mask  [nmask, N, N] or NULL  added to image b's scores as mask[b % nmask] (Swin shifted
//                             windows: the nmask windows of one image are consecutive in B)
//   att   [B, H, N, N] or NULL  receives the softmax probabilities (a cache for backward);
//                             when NULL, scratch must hold op_attention_scratch_floats(N)
//                             floats (one N×N tile per thread) and att is not kept.
// P = softmax(Q·Kᵀ / √Dh + bias + mask), out = P·V, per image and head. Images × heads run
// in parallel over peac_threads_get() threads of the engine's pool, each GEMM single-threaded.
size_t op_attention_scratch_floats(int N);
void op_attention_forward(float *out, float *att, float *scratch, const float *qkv,
                          const float *bias, const float *mask, int nmask,
                          int B, int N, int H, int Dh);
void op_attention_forward_naive(float *out, const float *qkv, const float *bias,
                                const float *mask, int nmask, int B, int N, int H, int Dh);

// Patch embedding = Conv2d(Cin → D, kernel P, stride S, no padding) as im2col + GEMM.
//   in  [B, Cin, H, W] NCHW;  w [D, Cin, P, P] (PyTorch conv layout);  b [D] or NULL
//   out [B, gh, gw, D] with gh = (H − P)/S + 1, gw = (W − P)/S + 1 (floor) — i.e. tokens
//   [B·gh·gw, D] in row-major grid order. S < P gives overlapping patches.
//   col: scratch of op_patch_embed_col_floats(...) floats (the [B·gh·gw, Cin·P·P] matrix).
size_t op_patch_embed_col_floats(int B, int Cin, int H, int W, int P, int S);
void op_patch_embed_forward(float *out, float *col, const float *in, const float *w,
                            const float *b, int B, int Cin, int H, int W, int P, int S, int D);
void op_patch_embed_forward_naive(float *out, const float *in, const float *w, const float *b,
                                  int B, int Cin, int H, int W, int P, int S, int D);

// Absolute position embedding resampled to another grid, as timm's resample_abs_pos_embed:
// the grid part [gh0·gw0, D] of pos is resized to [gh·gw, D] with F.interpolate(mode=
// 'bicubic', align_corners=False, antialias=False) (cubic kernel A = −0.75, source index
// (i + ½)·gh0/gh − ½, border taps clamped); the first num_prefix rows (class token) are
// copied unchanged. out: [num_prefix + gh·gw, D]; must not alias pos.
void op_pos_embed_resample(float *out, const float *pos, int num_prefix, int gh0, int gw0,
                           int gh, int gw, int D);

// Fused Linear variants (fewer passes over memory and fewer thread barriers; tested
// against op_linear_forward followed by op_gelu_forward / op_add):
//   op_linear_gelu_forward:     out[M, N] = GELU(in · wᵀ + b)
//   op_linear_residual_forward: x[M, N] += in · wᵀ + b   (the residual add as GEMM β = 1)
void op_linear_gelu_forward(float *out, const float *in, const float *w, const float *b,
                            int M, int K, int N);
void op_linear_residual_forward(float *x, const float *in, const float *w, const float *b,
                                int M, int K, int N);

// ---- Backward (training issue): ops-backward.c, attention-backward.c ----
// Each backward ACCUMULATES (+=) into the input gradient and the parameter gradients; any
// gradient pointer may be NULL to skip it. Shapes as in the matching forward.

// Linear: din[M, K] += dout·w;  dw[N, K] += doutᵀ·in;  db[N] += Σ_rows dout.
void op_linear_backward (float *din, float *dw, float *db, const float *dout, const float *in,
                         const float *w, int M, int K, int N);
void op_linear_backward_naive (float *din, float *dw, float *db, const float *dout,
                               const float *in, const float *w, int M, int K, int N);
// LayerNorm with the forward's mean[M] and rstd[M] caches.
void op_layernorm_backward (float *din, float *dw, float *db, const float *dout,
                            const float *in, const float *w, const float *mean,
                            const float *rstd, int M, int C);
// Exact GELU: din += dout · gelu'(in).
void op_gelu_backward (float *din, const float *dout, const float *in, size_t n);
// Row softmax from its output p: dx += p ⊙ (dp − Σ dp·p).
void op_softmax_backward (float *dx, const float *dp, const float *p, int rows, int cols);
// Attention from the probabilities att [B, H, N, N] the forward kept: dqkv [B·N, 3C] +=.
// scratch: op_attention_scratch_floats(N) floats. Bias and mask need no gradient.
void op_attention_backward (float *dqkv, float *scratch, const float *dout, const float *qkv,
                            const float *att, int B, int N, int H, int Dh);
void op_attention_backward_naive (float *dqkv, const float *dout, const float *qkv, int B,
                                  int N, int H, int Dh);
// Patch embedding from the col matrix the forward filled (col is overwritten when din is
// given): din [B, Cin, H, W] +=, dw [D, Cin, P, P] +=, db [D] +=.
void op_patch_embed_backward (float *din, float *dw, float *db, float *col, const float *dout,
                              const float *w, int B, int Cin, int H, int W, int P, int S, int D);
// Class token + position embedding: x [B, 1 + G, D] from patches [B, G, D], cls [D] and
// pos [1 + G, D]; the backward sums over the batch into dcls and dpos.
void op_cls_pos_forward (float *x, const float *patches, const float *cls, const float *pos,
                         int B, int G, int D);
void op_cls_pos_backward (float *dpatches, float *dcls, float *dpos, const float *dx, int B,
                          int G, int D);
// Mean over tokens t0 … t0 + n − 1 of x [B, T, D] → out [B, D].
void op_mean_pool_forward (float *out, const float *x, int B, int T, int t0, int n, int D);
void op_mean_pool_backward (float *dx, const float *dout, int B, int T, int t0, int n, int D);
