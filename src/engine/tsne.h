// SPDX-License-Identifier: GPL-3.0-or-later
//
// tsne: t-distributed stochastic neighbour embedding of N points in D dimensions into a
// 2-D map. Exact O(N²) gradients for small N, Barnes-Hut (vantage-point-tree or GEMM
// k-nearest neighbours for the affinities, a quadtree for the repulsion) for large N;
// the optimiser follows scikit-learn ≥ 1.2 (PCA init, early exaggeration, momentum,
// gains, learning rate "auto") so that results compare one to one. It can also place
// new points into an existing map without moving the old ones. Plain structs in and out,
// a progress callback with the current layout, an abort flag; no global state.
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

// Called every `progress_every` iterations (and once at the end) with the current layout
// Y [N, 2]. `kl` is the KL divergence when it was computed on this iteration, else a
// negative value. Runs on the calling thread.
typedef void (*TsneProgressFn) (void *user, int iter, int n_iter, float kl,
                                const float *Y, int N);

typedef enum {
  TSNE_INIT_PCA = 0,      // first two principal components, std of dim 1 = 1e-4
  TSNE_INIT_RANDOM = 1,   // N(0, 1e-4²) from the seed
  TSNE_INIT_GIVEN = 2,    // Y holds the initial layout on entry
} TsneInit;

typedef enum {
  TSNE_KNN_AUTO = 0,      // GEMM brute force for D > 32, vantage-point tree otherwise
  TSNE_KNN_VPTREE = 1,
  TSNE_KNN_BRUTE = 2,
} TsneKnn;

typedef struct {
  float perplexity;          // 30
  float theta;               // Barnes-Hut angle, 0.5; 0 = exact gradients
  int max_iter;              // 1000 (all stages together)
  int exaggeration_iter;     // 250
  float early_exaggeration;  // 12
  float learning_rate;       // ≤ 0: "auto" = max(N / early_exaggeration / 4, 50)
  float momentum_early;      // 0.5 during exaggeration
  float momentum_late;       // 0.8 afterwards
  float min_gain;            // 0.01
  float min_grad_norm;       // 1e-7: stop when the gradient norm falls below (checked
                             // every `check_every` iterations, like scikit-learn)
  int check_every;           // 50: KL and gradient norm computed this often
  TsneInit init;
  TsneKnn knn;
  uint64_t seed;
  int n_threads;             // ≥ 1
  int progress_every;        // 0 = only at the end
  TsneProgressFn progress;
  void *user;
  const atomic_int *abort_flag;  // non-zero → stop after the current iteration
} TsneParams;

typedef struct {
  float kl;                  // final KL divergence (exact, or scikit-learn's BH estimate)
  int iters;                 // iterations run
  int aborted;               // 1 when the abort flag stopped the run
  int exact;                 // 1 when exact gradients were used
  double t_affinities;       // seconds: neighbours + perplexity calibration
  double t_init;             // seconds: PCA
  double t_optimise;         // seconds: gradient descent
} TsneResult;

void tsne_params_init (TsneParams *p);

// X [N, D] row-major → Y [N, 2]. Returns 0, or −1 with a message in err (bad sizes,
// perplexity too large for N, out of memory). An abort is not an error: it returns 0 with
// result->aborted set and Y holding the layout reached.
int tsne_run (const TsneParams *p, const float *X, int N, int D, float *Y,
              TsneResult *result, char *err, size_t errlen);

// Places M new points X_new [M, D] into a fixed map (X_old [N, D] laid out at
// Y_old [N, 2]): each new point's affinities p_{j|i} are calibrated against its
// 3·perplexity nearest neighbours among old and new points, new points start at the
// affinity-weighted mean of their old neighbours' positions, and only new points move
// (`max_iter` iterations, no exaggeration, momentum_late). Y_new [M, 2] receives them.
// The progress callback sees the combined layout [N + M, 2], old points first; the KL
// reported is the new rows' share Σ_{i new} Σ_j p_ij log(p_ij / q_ij).
int tsne_place (const TsneParams *p, const float *X_old, const float *Y_old, int N,
                const float *X_new, int M, int D, float *Y_new,
                TsneResult *result, char *err, size_t errlen);

// ---- Building blocks, exposed for tests and tools ----

// Calibrates one row: given squared distances d2[k] to neighbours, finds β so that
// p_j = exp(−β d2_j) / Σ exp(−β d2_l) has perplexity exp(H) = `perplexity` (H in nats),
// by bisection to |H − log perplexity| < 1e-5. Writes p[k]; returns β.
double tsne_calibrate_row (const float *d2, int k, double perplexity, float *p);

// k nearest neighbours (excluding the point itself) of every point of X [N, D]:
// idx [N, k] and squared distances d2 [N, k], each row sorted by distance. Returns 0 or −1.
int tsne_knn (const float *X, int N, int D, int k, TsneKnn method, uint64_t seed,
              int n_threads, int32_t *idx, float *d2);

// Sparse symmetric joint probabilities in CSR form (row_ptr [N+1], col, val), sum 1.
typedef struct {
  int N;
  int64_t *row_ptr;
  int32_t *col;
  float *val;
} TsneSparseP;

int  tsne_affinities_sparse (const float *X, int N, int D, double perplexity, TsneKnn knn,
                             uint64_t seed, int n_threads, TsneSparseP *P);
void tsne_sparse_free (TsneSparseP *P);

// Dense symmetric joint probabilities P [N, N] (zero diagonal, sum 1) from all pairs.
int tsne_affinities_dense (const float *X, int N, int D, double perplexity, int n_threads,
                           float *P);
