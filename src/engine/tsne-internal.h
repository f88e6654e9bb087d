// SPDX-License-Identifier: GPL-3.0-or-later
//
// tsne-internal: the space-partitioning pieces shared by tsne.c and tsne-tree.c — the 2-D
// quadtree whose cells summarise the repulsive forces of Barnes-Hut t-SNE, and the
// k-nearest-neighbour searches (vantage-point tree, blocked GEMM brute force).
#pragma once

#include <stddef.h>
#include <stdint.h>

// The hot loops are compiled for AVX-512, AVX2 and the baseline and picked at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TSNE_CLONES __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TSNE_CLONES
#endif

// One quadtree cell (28 bytes): square, width² w2, centre of mass (mx, my), and the
// points perm[lo, lo + count) below it. Internal cells list their non-empty children
// consecutively from `first`; leaves (first = −1) hold at most a small bucket of points,
// or any number of coincident ones.
typedef struct {
  float mx, my, w2;
  int count;
  int first;
  int n_child;
  int lo;
} TsneQFlat;

typedef struct {
  TsneQFlat *flat;
  int n_flat, cap;
  int32_t *perm;           // [N] point indices in tree order
  float *Yp;               // [N, 2] positions in tree order
  int n_points;            // capacity of perm / Yp
} TsneQuadTree;

// Builds the tree over Y [N, 2] (reuses the node buffer of `t`). Returns 0 or −1 (memory).
int  tsne_qt_build (TsneQuadTree *t, const float *Y, int N);
void tsne_qt_free (TsneQuadTree *t);

// Repulsion on the point at (x, y) with index `self` (−1 if it is not in the tree):
// sums over cells that pass the Barnes-Hut criterion width² / d² < θ² (or leaves)
//   z  += n_cell · w,   f += n_cell · w² · (y_i − y_cell),  w = 1 / (1 + d²),
// so that the repulsive gradient term is f / Z with Z = Σ_i z_i.
void tsne_qt_repulsion (const TsneQuadTree *t, float x, float y, int self, float theta,
                        double *z, double *fx, double *fy);

// Group walk (see tsne-tree.c): the cells of ≤ QT_GROUP points that partition the points
// in tree order, and the repulsion on all points of one group at once — outputs z, fx, fy
// indexed by tree position minus the group's `lo`, with the same sums as above.
enum { QT_GROUP = 32 };
int  tsne_qt_groups (TsneQuadTree *t, int **groups, int *cap);   // count, or −1 (memory)
void tsne_qt_repulsion_group (const TsneQuadTree *t, int group, float theta, double *z,
                              double *fx, double *fy);

// kNN searches (see tsne_knn in tsne.h for the contract).
int tsne_knn_vptree (const float *X, int N, int D, int k, uint64_t seed, int n_threads,
                     int32_t *idx, float *d2);
int tsne_knn_brute (const float *X, int N, int D, int k, int n_threads,
                    int32_t *idx, float *d2);
// Brute-force kNN of Q [M, D] among R [N, D]; a query equal to row `skip_base + q` of R
// skips that row (pass skip_base < 0 to skip nothing).
int tsne_knn_brute_query (const float *R, int N, const float *Q, int M, int D, int k,
                          int skip_base, int n_threads, int32_t *idx, float *d2);

// Squared Euclidean distance in double.
double tsne_dist2 (const float *a, const float *b, int D);

// Seconds on a monotonic clock.
double tsne_now (void);

// Parallel loops run on the engine's pool (pool.h: peac_parallel_range) in chunks handed
// out from an atomic counter; every task writes only its own points' outputs (per-thread
// scratch is indexed by the thread number), so results do not depend on which thread ran
// which chunk.

// ---- Shared by tsne.c and tsne-place.c

#include "tsne.h"

// Standard normal by Box-Muller from two uniforms in (0, 1] (splitmix64 state *s).
double tsne_randn (uint64_t *s);
// Neighbours per point for a perplexity: min(N − 1, ⌊3·perplexity + 1⌋).
int    tsne_knn_count (int N, double perplexity);
// The learning rate: the given one, else max(N / exaggeration / 4, 50).
float  tsne_auto_lr (const TsneParams *p, int N);
// Checks p for N points of D dimensions. Returns 0 or −1 with err.
int    tsne_check_params (const TsneParams *p, int N, int D, char *err, size_t errlen);

// Rows of conditional affinities from k neighbour distances, over the engine's pool
// (a peac_parallel_range task over rows); each row divided by `norm` when it is non-zero.
typedef struct {
  const float *d2;
  float       *out;
  int          k;
  double       perplexity;
  float        norm;
} TsneCalibrateJob;
void tsne_calibrate_rows (void *ctx, int begin, int end, int thread);

// Gradient descent with momentum and gains, one stage [it0, it1) as in scikit-learn (see
// tsne.c).
typedef double (*TsneGradFn) (void *ctx, const float *Y, float ex, int want_kl, float *grad);

typedef struct {
  const TsneParams *p;
  int N;              // points passed to the progress callback (Y [N, 2])
  int M;              // points that move: Y + 2 (N − M) … (the last M)
  float lr;
  int max_iter;
  TsneGradFn grad;
  void *ctx;
  float *g, *upd, *gains;
  float kl;
  int iters;
  int aborted;
} TsneDescent;
int tsne_descend (TsneDescent *d, float *Y, int it0, int it1, float momentum, float ex,
                  int patience);
