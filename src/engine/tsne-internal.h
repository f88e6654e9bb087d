// SPDX-License-Identifier: GPL-3.0-or-later
//
// tsne-internal: the space-partitioning pieces shared by tsne.c and tsne-tree.c — the 2-D
// quadtree whose cells summarise the repulsive forces of Barnes-Hut t-SNE, and the
// k-nearest-neighbour searches (vantage-point tree, blocked GEMM brute force).
#pragma once

#include <stddef.h>
#include <stdint.h>

// One quadtree cell. Square cells; `child` is the index of the first of four children
// (quadrants in the order (−,−), (+,−), (−,+), (+,+) around the centre) or −1 for a leaf.
// A leaf holds one point (`point`), or several when they coincide (or the depth cap hit).
typedef struct {
  float cx, cy, hw;        // centre and half width
  int count;               // points below this cell
  int child;
  int point;               // leaf: index of its (first) point, −1 when empty
  double mx, my;           // Σ positions while building, centre of mass after
} TsneQNode;

// The traversal copy: non-empty cells in breadth-first order, so that the children of a
// cell are contiguous (first .. first + n_child − 1); 24 bytes per cell.
typedef struct {
  float mx, my;            // centre of mass
  float w2;                // (cell width)²
  int count;
  int first;               // first child, −1 for a leaf
  int n_child_or_point;    // internal: number of children; leaf: its (first) point
} TsneQFlat;

typedef struct {
  TsneQNode *nodes;
  int n_nodes, cap;
  TsneQFlat *flat;
  int *queue;
  int flat_cap;
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

// A small pool of worker threads that wait passively (condition variable) between jobs.
// t-SNE runs ~1000 short parallel steps; OpenMP's spinning barriers make each of them
// wait a scheduler time slice whenever the machine is busier than its cores (a desktop
// with the UI running, a shared build machine), so the optimiser uses this pool instead.
// Work is handed out in chunks from an atomic counter; every task writes only its own
// points' outputs, so results do not depend on which thread ran which chunk.
typedef void (*TsneTaskFn) (void *ctx, int begin, int end);
typedef struct TsnePool TsnePool;

TsnePool *tsne_pool_new (int n_threads);    // NULL on failure; n_threads − 1 workers
void      tsne_pool_run (TsnePool *pool, int n, int chunk, TsneTaskFn fn, void *ctx);
void      tsne_pool_free (TsnePool *pool);
