// SPDX-License-Identifier: GPL-3.0-or-later
//
// peac-loss: the heads and loss terms of the PEAC objective as forward/backward pairs
// over plain float arrays (the same conventions as ops.h: row-major, backward ACCUMULATES,
// NULL gradients skipped): ReLU, pixel shuffle (the restoration decoder's upsampling),
// token cross-entropy (the order branch), mean squared error (restoration), the MSE of
// L2-normalised vectors (global and local consistency), and the projector MLP
// Linear–LN–ReLU–Linear–LN–ReLU–Linear(no bias) with its caches. How these are combined
// into one loss (which samples, which cells, which weights) is peac.c's business.
#pragma once

#include <stddef.h>

// ReLU: out = max(in, 0);  din += dout · [in > 0].  (in == out allowed in the forward.)
void   peac_relu_forward (float *out, const float *in, size_t n);
void   peac_relu_backward (float *din, const float *dout, const float *in, size_t n);

// Pixel shuffle of per-cell predictions (PyTorch nn.PixelShuffle(r) order):
//   in [B, G·G, C·r·r] (token (y, x) = y·G + x, channel ch·r² + i·r + j)
//   out [B, C, G·r, G·r], out[b, ch, y·r + i, x·r + j] = in[b, y·G + x, ch·r² + i·r + j]
void   peac_pixel_shuffle_forward (float *out, const float *in, int B, int G, int C, int r);
void   peac_pixel_shuffle_backward (float *din, const float *dout, int B, int G, int C, int r);

// Cross-entropy of logits [n, K] against labels[n] (rows with label < 0 are ignored),
// averaged over the counted rows. probs [n, K] receives the softmax (cache). Returns the
// loss; *count = rows counted. Backward: dlogits += scale · (p − onehot) / count.
double peac_ce_forward (float *probs, const float *logits, const int *labels, int n, int K,
                        int *count);
void   peac_ce_backward (float *dlogits, const float *probs, const int *labels, int n, int K,
                         int count, float scale);

// Mean squared error over n values: L = (1/n) Σ (a − b)²;  da += scale · 2(a − b)/n.
double peac_mse_forward (const float *a, const float *b, size_t n);
void   peac_mse_backward (float *da, const float *a, const float *b, size_t n, float scale);

// MSE of L2-normalised rows: â = a/‖a‖, b̂ = b/‖b‖ per row of D, over the rows whose
// weight w[i] ≠ 0 (w may be NULL = all), L = Σ_i w_i ‖â_i − b̂_i‖² / (D · Σ_i w_i).
// Backward gives da (b is the teacher's: no gradient): dâ = 2 w_i (â − b̂)/(D Σw) · scale,
// da += (dâ − â (â·dâ)) / ‖a‖.
double peac_nmse_forward (const float *a, const float *b, const float *w, int rows, int D);
void   peac_nmse_backward (float *da, const float *a, const float *b, const float *w,
                           int rows, int D, float scale);

// Projector MLP: x [M, D] → y [M, O] through Linear(D→Hd)–LN–ReLU–Linear(Hd→Hd)–LN–ReLU–
// Linear(Hd→O, no bias). Weights in the PyTorch layout; caches per call.
typedef struct {
  const float *w1, *b1, *ln1_w, *ln1_b, *w2, *b2, *ln2_w, *ln2_b, *w3;
  int D, Hd, O;
  float eps;
} PeacProjector;

typedef struct {
  float *w1, *b1, *ln1_w, *ln1_b, *w2, *b2, *ln2_w, *ln2_b, *w3;
} PeacProjectorGrads;

// Floats of cache for M rows: h1, n1, r1, h2, n2, r2 [M, Hd] + 4 M statistics.
size_t peac_projector_cache_floats (const PeacProjector *p, int M);
void   peac_projector_forward (const PeacProjector *p, float *y, float *cache, const float *x,
                               int M);
// dx [M, D] += (may be NULL), grads += (fields may be NULL); scratch: 2·M·Hd floats.
void   peac_projector_backward (const PeacProjector *p, PeacProjectorGrads *g, float *dx,
                                float *scratch, const float *dy, const float *cache,
                                const float *x, int M);

// Dense InfoNCE of L2-normalised rows (the contrastive local term, PeacObjConfig
// local_temp > 0). Rows come in S groups of n (one group = the cells of one sample):
// â = a/‖a‖, k̂ = k/‖k‖ per row of D; for group s and row i with label l = lab[s·n + i] ≥ 0
//   logits_m = â_{s,i} · k̂_{s,m} / τ   over the n key rows m of the same group,
//   L = mean over labelled rows of −log softmax(logits)_l.
// The partner cell is the positive, every other cell of the same crop a negative, so the
// term cannot be met by tokens that are all alike. Backward (k is the teacher's: no
// gradient): dâ_{s,i} = scale/(τ·count) Σ_m (p_m − δ_ml) k̂_{s,m}, da += (dâ − â(â·dâ))/‖a‖.
// cache: peac_nce_cache_floats(S, n, D) floats, filled by the forward and used up by the
// backward (which turns the probabilities into dlogits in place: one backward per forward).
size_t peac_nce_cache_floats (int S, int n, int D);
double peac_nce_forward (float *cache, const float *a, const float *k, const int *lab, int S,
                         int n, int D, double tau, int *count);
void   peac_nce_backward (float *da, float *cache, const int *lab, int S, int n, int D,
                          double tau, int count, float scale);
