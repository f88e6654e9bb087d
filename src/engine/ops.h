// SPDX-License-Identifier: GPL-3.0-or-later
//
// ops: the engine's tensor operations as plain functions over float arrays, each a forward
// whose backward twin will sit beside it (training issue). Row-major everywhere: a token
// matrix is [M, C] with M = batch × tokens. Each BLAS path has a naive loop twin
// (`*_naive`) that tests compare it against. No allocation happens here unless stated;
// caller-owned scratch is passed in. Threading: GEMMs use OpenBLAS threads; loops that are
// not GEMMs use OpenMP with the count given by peac_threads_get().
#pragma once

#include <stddef.h>

// Threads used by the engine (OpenMP loops and OpenBLAS). 0 = all cores.
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
