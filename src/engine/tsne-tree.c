// SPDX-License-Identifier: GPL-3.0-or-later
//
// tsne-tree: space partitioning for t-SNE. (1) k nearest neighbours for the affinities:
// a vantage-point tree (exact search, good in low to moderate dimension) and a blocked
// GEMM brute force (‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b, the faster choice for embeddings with
// hundreds of dimensions), both refining the chosen neighbours' distances in double.
// (2) the 2-D quadtree of Barnes-Hut: a cell of width w seen from distance d stands for
// all its points at their centre of mass when w² / d² < θ².
#include "tsne-internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"

double
tsne_now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

TSNE_CLONES double
tsne_dist2 (const float *a, const float *b, int D)
{
  // Eight independent double accumulators so that the loop vectorises without
  // reassociating a single sum; the order is fixed, so results are reproducible.
  double acc[8] = { 0 };
  int d = 0;
  for (; d + 8 <= D; d += 8)
    for (int l = 0; l < 8; l++)
      {
        double t = (double) a[d + l] - b[d + l];
        acc[l] += t * t;
      }
  double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; d < D; d++)
    {
      double t = (double) a[d] - b[d];
      s += t * t;
    }
  return s;
}

// ---------------------------------------------------------------------------------------
// A bounded max-heap of (distance, index): keeps the k smallest seen so far. Ties are
// broken by index so that results never depend on visiting order.

typedef struct {
  float *d;
  int32_t *i;
  int n, k;
} Heap;

static inline int
heap_less (float da, int32_t ia, float db, int32_t ib)
{
  return da < db || (da == db && ia < ib);
}

static void
heap_push (Heap *h, float d, int32_t i)
{
  if (h->n == h->k)
    {
      if (!heap_less (d, i, h->d[0], h->i[0]))
        return;
      // Replace the root and sift down.
      int p = 0;
      for (;;)
        {
          int c = 2 * p + 1;
          if (c >= h->k)
            break;
          if (c + 1 < h->k && heap_less (h->d[c], h->i[c], h->d[c + 1], h->i[c + 1]))
            c++;
          if (!heap_less (d, i, h->d[c], h->i[c]))
            break;
          h->d[p] = h->d[c];
          h->i[p] = h->i[c];
          p = c;
        }
      h->d[p] = d;
      h->i[p] = i;
      return;
    }
  int c = h->n++;
  while (c > 0)
    {
      int p = (c - 1) / 2;
      if (!heap_less (h->d[p], h->i[p], d, i))
        break;
      h->d[c] = h->d[p];
      h->i[c] = h->i[p];
      c = p;
    }
  h->d[c] = d;
  h->i[c] = i;
}

static inline float
heap_worst (const Heap *h)
{
  return h->n < h->k ? INFINITY : h->d[0];
}

// Writes the heap's contents in increasing order (distance, then index) — insertion sort,
// k is small (≈ 91).
static void
heap_sorted (const Heap *h, int32_t *idx, float *dist)
{
  for (int a = 0; a < h->n; a++)
    {
      float d = h->d[a];
      int32_t i = h->i[a];
      int b = a;
      while (b > 0 && heap_less (d, i, dist[b - 1], idx[b - 1]))
        {
          dist[b] = dist[b - 1];
          idx[b] = idx[b - 1];
          b--;
        }
      dist[b] = d;
      idx[b] = i;
    }
}

// Recomputes the chosen neighbours' squared distances in double and re-sorts the row.
static void
refine_row (const float *x, const float *R, int D, int k, int32_t *idx, float *d2)
{
  for (int a = 0; a < k; a++)
    d2[a] = (float) tsne_dist2 (x, R + (size_t) idx[a] * D, D);
  for (int a = 1; a < k; a++)
    {
      float d = d2[a];
      int32_t i = idx[a];
      int b = a;
      while (b > 0 && heap_less (d, i, d2[b - 1], idx[b - 1]))
        {
          d2[b] = d2[b - 1];
          idx[b] = idx[b - 1];
          b--;
        }
      d2[b] = d;
      idx[b] = i;
    }
}

// ---------------------------------------------------------------------------------------
// Brute force through GEMM, in blocks of query rows so the distance block stays in cache.

// Rows a of one query block: the k smallest of ‖q‖² + ‖r_j‖² − 2 G[a, j] through a
// per-thread heap, sorted, then refined in double.
typedef struct {
  const float *R, *Q, *G, *rn, *qn;
  float       *hd;
  int32_t     *hi;
  int          N, D, k, skip_base, q0;
  int32_t     *idx;
  float       *d2;
} BruteJob;

static void
brute_rows (void *ctx, int begin, int end, int thread)
{
  const BruteJob *b = ctx;
  const int N = b->N, k = b->k;
  for (int a = begin; a < end; a++)
    {
      int q = b->q0 + a;
      Heap h = { b->hd + (size_t) thread * k, b->hi + (size_t) thread * k, 0, k };
      const float *g = b->G + (size_t) a * N;
      int skip = b->skip_base >= 0 ? b->skip_base + q : -1;
      for (int j = 0; j < N; j++)
        {
          if (j == skip)
            continue;
          float d = b->qn[q] + b->rn[j] - 2.0f * g[j];
          if (d < 0.0f)
            d = 0.0f;
          if (d < heap_worst (&h) || h.n < k)
            heap_push (&h, d, j);
        }
      int32_t *ri = b->idx + (size_t) q * k;
      float *rd = b->d2 + (size_t) q * k;
      heap_sorted (&h, ri, rd);
      refine_row (b->Q + (size_t) q * b->D, b->R, b->D, k, ri, rd);
    }
}

int
tsne_knn_brute_query (const float *R, int N, const float *Q, int M, int D, int k,
                      int skip_base, int n_threads, int32_t *idx, float *d2)
{
  enum { BQ = 256 };
  if (k > N - (skip_base >= 0 ? 1 : 0))
    return -1;
  float *rn = malloc ((size_t) N * sizeof *rn);
  float *qn = malloc ((size_t) M * sizeof *qn);
  float *G = malloc ((size_t) BQ * N * sizeof *G);
  float *hd = malloc ((size_t) n_threads * k * sizeof *hd);
  int32_t *hi = malloc ((size_t) n_threads * k * sizeof *hi);
  if (!rn || !qn || !G || !hd || !hi)
    {
      free (rn); free (qn); free (G); free (hd); free (hi);
      return -1;
    }
  for (int j = 0; j < N; j++)
    rn[j] = cblas_sdot (D, R + (size_t) j * D, 1, R + (size_t) j * D, 1);
  for (int q = 0; q < M; q++)
    qn[q] = cblas_sdot (D, Q + (size_t) q * D, 1, Q + (size_t) q * D, 1);

  for (int q0 = 0; q0 < M; q0 += BQ)
    {
      int bq = M - q0 < BQ ? M - q0 : BQ;
      // G[bq, N] = Q_block · Rᵀ
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, bq, N, D, 1.0f,
                   Q + (size_t) q0 * D, D, R, D, 0.0f, G, N);
      BruteJob bj = { R, Q, G, rn, qn, hd, hi, N, D, k, skip_base, q0, idx, d2 };
      peac_parallel_range (bq, 16, n_threads, brute_rows, &bj);
    }
  free (rn); free (qn); free (G); free (hd); free (hi);
  return 0;
}

int
tsne_knn_brute (const float *X, int N, int D, int k, int n_threads, int32_t *idx, float *d2)
{
  return tsne_knn_brute_query (X, N, X, N, D, k, 0, n_threads, idx, d2);
}

// ---------------------------------------------------------------------------------------
// Vantage-point tree over Euclidean distance (a metric, so the triangle inequality prunes).
// Node layout: the points are permuted into `perm`; node covering perm[lo..hi) has its
// vantage point at perm[lo]; points perm[lo+1..mid) lie within radius `mu` of it (inside
// child), perm[mid..hi) outside. Built recursively with a median split by quickselect.

typedef struct {
  int lo, hi, mid;
  float mu;
  int inner, outer;      // child node indices, −1 if none
} VpNode;

typedef struct {
  const float *X;
  int D;
  int32_t *perm;
  VpNode *nodes;
  int n_nodes;
  float *dbuf;           // scratch: distances to the current vantage point
  uint64_t rng;
} VpTree;

static uint64_t
splitmix (uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void
swap2 (int32_t *p, float *d, int a, int b)
{
  int32_t t = p[a]; p[a] = p[b]; p[b] = t;
  float u = d[a]; d[a] = d[b]; d[b] = u;
}

// Quickselect on d[lo..hi) (and p alongside) so that position m holds the m-th smallest.
static void
select_nth (int32_t *p, float *d, int lo, int hi, int m, uint64_t *rng)
{
  while (hi - lo > 1)
    {
      int piv = lo + (int) (splitmix (rng) % (uint64_t) (hi - lo));
      swap2 (p, d, piv, hi - 1);
      float pv = d[hi - 1];
      int s = lo;
      for (int i = lo; i < hi - 1; i++)
        if (d[i] < pv)
          swap2 (p, d, i, s++);
      swap2 (p, d, s, hi - 1);
      if (s == m)
        return;
      if (m < s)
        hi = s;
      else
        lo = s + 1;
    }
}

static int
vp_build (VpTree *t, int lo, int hi)
{
  if (lo >= hi)
    return -1;
  int n = t->n_nodes++;
  VpNode *node = &t->nodes[n];
  node->lo = lo;
  node->hi = hi;
  node->inner = node->outer = -1;
  node->mu = 0.0f;
  node->mid = hi;
  if (hi - lo == 1)
    return n;
  // Random vantage point moved to the front.
  int v = lo + (int) (splitmix (&t->rng) % (uint64_t) (hi - lo));
  int32_t tmp = t->perm[lo]; t->perm[lo] = t->perm[v]; t->perm[v] = tmp;
  const float *xv = t->X + (size_t) t->perm[lo] * t->D;
  for (int i = lo + 1; i < hi; i++)
    t->dbuf[i] = (float) sqrt (tsne_dist2 (xv, t->X + (size_t) t->perm[i] * t->D, t->D));
  int mid = (lo + 1 + hi) / 2;
  select_nth (t->perm, t->dbuf, lo + 1, hi, mid, &t->rng);
  float mu = t->dbuf[mid];
  // inner: perm[lo+1 .. mid) have d ≤ mu; outer: perm[mid .. hi) have d ≥ mu.
  int inner = vp_build (t, lo + 1, mid);
  int outer = vp_build (t, mid, hi);
  node = &t->nodes[n];
  node->mu = mu;
  node->mid = mid;
  node->inner = inner;
  node->outer = outer;
  return n;
}

static void
vp_search (const VpTree *t, int root, const float *x, int self, Heap *h)
{
  // Depth-first with an explicit stack of (node, lower bound on the distance from x to any
  // point below it). Inner points lie within μ of the vantage point, outer ones beyond, so
  // by the triangle inequality they are at least max(0, d − μ), resp. max(0, μ − d), away.
  // A subtree is skipped when its bound exceeds τ, the current k-th distance.
  struct { int node; float bound; } stack[256];
  int sp = 0;
  float tau = INFINITY;
  stack[sp].node = root;
  stack[sp++].bound = 0.0f;
  while (sp > 0)
    {
      sp--;
      if (stack[sp].bound > tau)
        continue;
      const VpNode *node = &t->nodes[stack[sp].node];
      int32_t vp = t->perm[node->lo];
      float d2 = (float) tsne_dist2 (x, t->X + (size_t) vp * t->D, t->D);
      float d = sqrtf (d2);
      if (vp != self)
        {
          heap_push (h, d2, vp);
          if (h->n == h->k)
            tau = sqrtf (h->d[0]);
        }
      float b_in = fmaxf (0.0f, d - node->mu), b_out = fmaxf (0.0f, node->mu - d);
      // Push the farther side first so that the nearer side is searched first.
      if (d < node->mu)
        {
          if (node->outer >= 0 && b_out <= tau)
            { stack[sp].node = node->outer; stack[sp++].bound = b_out; }
          if (node->inner >= 0)
            { stack[sp].node = node->inner; stack[sp++].bound = b_in; }
        }
      else
        {
          if (node->inner >= 0 && b_in <= tau)
            { stack[sp].node = node->inner; stack[sp++].bound = b_in; }
          if (node->outer >= 0)
            { stack[sp].node = node->outer; stack[sp++].bound = b_out; }
        }
    }
}

// Points [begin, end): k nearest through the vantage-point tree, per-thread heaps.
typedef struct {
  VpTree      *t;
  int          root;
  const float *X;
  int          D, k;
  float       *hd;
  int32_t     *hi, *idx;
  float       *d2;
} VpJob;

static void
vp_rows (void *ctx, int begin, int end, int thread)
{
  const VpJob *v = ctx;
  const int k = v->k;
  for (int i = begin; i < end; i++)
    {
      Heap h = { v->hd + (size_t) thread * k, v->hi + (size_t) thread * k, 0, k };
      const float *x = v->X + (size_t) i * v->D;
      vp_search (v->t, v->root, x, i, &h);
      heap_sorted (&h, v->idx + (size_t) i * k, v->d2 + (size_t) i * k);
      refine_row (x, v->X, v->D, k, v->idx + (size_t) i * k, v->d2 + (size_t) i * k);
    }
}

int
tsne_knn_vptree (const float *X, int N, int D, int k, uint64_t seed, int n_threads,
                 int32_t *idx, float *d2)
{
  if (k > N - 1)
    return -1;
  VpTree t = { X, D, NULL, NULL, 0, NULL, seed ^ 0x5eed0f7eeULL };
  t.perm = malloc ((size_t) N * sizeof *t.perm);
  t.nodes = malloc ((size_t) N * sizeof *t.nodes);
  t.dbuf = malloc ((size_t) N * sizeof *t.dbuf);
  float *hd = malloc ((size_t) n_threads * k * sizeof *hd);
  int32_t *hi = malloc ((size_t) n_threads * k * sizeof *hi);
  if (!t.perm || !t.nodes || !t.dbuf || !hd || !hi)
    {
      free (t.perm); free (t.nodes); free (t.dbuf); free (hd); free (hi);
      return -1;
    }
  for (int i = 0; i < N; i++)
    t.perm[i] = i;
  int root = vp_build (&t, 0, N);

  VpJob vj = { &t, root, X, D, k, hd, hi, idx, d2 };
  peac_parallel_range (N, 64, n_threads, vp_rows, &vj);
  free (t.perm); free (t.nodes); free (t.dbuf); free (hd); free (hi);
  return 0;
}

// ---------------------------------------------------------------------------------------
// Quadtree. Built by recursive partitioning of an index array: a cell owns the contiguous
// range perm[lo, lo + count); it becomes a leaf when it holds ≤ QT_BUCKET points (or at
// the depth cap, which also absorbs coincident points), otherwise its range is split in
// place into the four quadrants around its centre (y first, then x within each half) and
// its non-empty children are allocated consecutively. Leaves keep their points' positions
// contiguously in Yp so that the exact near-field loop streams through memory.

enum { QT_MAX_DEPTH = 48, QT_BUCKET = 8 };
// QT_GROUP (tsne-internal.h): the most points that walk the tree together.

// In-place partition of perm[lo, hi) by coordinate c ≤ split; returns the boundary.
static int
partition (int32_t *perm, const float *Y, int lo, int hi, int c, float split)
{
  int i = lo, j = hi - 1;
  while (i <= j)
    {
      if (Y[2 * perm[i] + c] <= split)
        i++;
      else
        {
          int32_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
          j--;
        }
    }
  return i;
}

static int
qt_alloc (TsneQuadTree *t, int n)
{
  if (t->n_flat + n > t->cap)
    {
      int cap = t->cap ? 2 * t->cap : 1024;
      while (cap < t->n_flat + n)
        cap *= 2;
      TsneQFlat *f = realloc (t->flat, (size_t) cap * sizeof *f);
      if (!f)
        return -1;
      t->flat = f;
      t->cap = cap;
    }
  int first = t->n_flat;
  t->n_flat += n;
  return first;
}

static int
qt_fill (TsneQuadTree *t, const float *Y, int node, int lo, int hi, float cx, float cy,
         float hw, int depth)
{
  double sx = 0.0, sy = 0.0;
  for (int k = lo; k < hi; k++)
    {
      sx += Y[2 * t->perm[k]];
      sy += Y[2 * t->perm[k] + 1];
    }
  TsneQFlat *f = &t->flat[node];
  f->mx = (float) (sx / (hi - lo));
  f->my = (float) (sy / (hi - lo));
  f->w2 = 4.0f * hw * hw;
  f->count = hi - lo;
  f->lo = lo;
  if (hi - lo <= QT_BUCKET || depth >= QT_MAX_DEPTH)
    {
      f->first = -1;
      f->n_child = 0;
      return 0;
    }
  int m = partition (t->perm, Y, lo, hi, 1, cy);
  int bounds[5] = { lo, partition (t->perm, Y, lo, m, 0, cx), m,
                    partition (t->perm, Y, m, hi, 0, cx), hi };
  int nc = 0;
  for (int q = 0; q < 4; q++)
    nc += bounds[q + 1] > bounds[q];
  int first = qt_alloc (t, nc);
  if (first < 0)
    return -1;
  f = &t->flat[node];      // the array may have moved
  f->first = first;
  f->n_child = nc;
  float h = 0.5f * hw;
  for (int q = 0, c = first; q < 4; q++)
    if (bounds[q + 1] > bounds[q])
      if (qt_fill (t, Y, c++, bounds[q], bounds[q + 1], cx + ((q & 1) ? h : -h),
                   cy + ((q & 2) ? h : -h), h, depth + 1) != 0)
        return -1;
  return 0;
}

int
tsne_qt_build (TsneQuadTree *t, const float *Y, int N)
{
  if (t->n_points < N)
    {
      free (t->perm);
      free (t->Yp);
      t->perm = malloc ((size_t) N * sizeof *t->perm);
      t->Yp = malloc ((size_t) 2 * N * sizeof *t->Yp);
      t->n_points = t->perm && t->Yp ? N : 0;
      if (!t->n_points)
        return -1;
    }
  float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int i = 0; i < N; i++)
    {
      t->perm[i] = i;
      x0 = fminf (x0, Y[2 * i]); x1 = fmaxf (x1, Y[2 * i]);
      y0 = fminf (y0, Y[2 * i + 1]); y1 = fmaxf (y1, Y[2 * i + 1]);
    }
  float hw = 0.5f * fmaxf (x1 - x0, y1 - y0);
  hw = hw * (1.0f + 1e-4f) + 1e-6f;   // every point strictly inside
  t->n_flat = 0;
  if (qt_alloc (t, 1) < 0 ||
      qt_fill (t, Y, 0, 0, N, 0.5f * (x0 + x1), 0.5f * (y0 + y1), hw, 0) != 0)
    return -1;
  for (int k = 0; k < N; k++)
    {
      t->Yp[2 * k] = Y[2 * t->perm[k]];
      t->Yp[2 * k + 1] = Y[2 * t->perm[k] + 1];
    }
  return 0;
}

void
tsne_qt_free (TsneQuadTree *t)
{
  free (t->flat);
  free (t->perm);
  free (t->Yp);
  memset (t, 0, sizeof *t);
}

void
tsne_qt_repulsion (const TsneQuadTree *t, float x, float y, int self, float theta,
                   double *z, double *fx, double *fy)
{
  // Float arithmetic per cell (as scikit-learn's float32 tree), double accumulators.
  int stack[4 * QT_MAX_DEPTH + 8];
  int sp = 0;
  double zs = 0.0, sx = 0.0, sy = 0.0;
  const float th2 = theta * theta;
  const TsneQFlat *flat = t->flat;
  stack[sp++] = 0;
  while (sp > 0)
    {
      const TsneQFlat *c = &flat[stack[--sp]];
      float dx = x - c->mx, dy = y - c->my;
      float d2 = dx * dx + dy * dy;
      if (c->w2 < th2 * d2)
        {
          // Far enough: the whole cell acts from its centre of mass.
          float q = 1.0f / (1.0f + d2);
          float nq = (float) c->count * q;
          zs += nq;
          sx += nq * q * dx;
          sy += nq * q * dy;
          continue;
        }
      if (c->first >= 0)
        {
          for (int k = c->n_child - 1; k >= 0; k--)
            stack[sp++] = c->first + k;
          continue;
        }
      // Near leaf: its points one by one (the point itself contributes no force, and its
      // w = 1 is taken out of z).
      float lz = 0.0f, lx = 0.0f, ly = 0.0f;
      const float *P = t->Yp + 2 * (size_t) c->lo;
      for (int k = 0; k < c->count; k++)
        {
          float ex = x - P[2 * k], ey = y - P[2 * k + 1];
          float q = 1.0f / (1.0f + ex * ex + ey * ey);
          lz += q;
          lx += q * q * ex;
          ly += q * q * ey;
        }
      for (int k = 0; k < c->count; k++)
        if (t->perm[c->lo + k] == self)
          lz -= 1.0f;
      zs += lz;
      sx += lx;
      sy += ly;
    }
  *z += zs;
  *fx += sx;
  *fy += sy;
}

// ---------------------------------------------------------------------------------------
// Group traversal. Points are taken a whole cell at a time (a "group": the first cell on
// each path that holds ≤ QT_GROUP points) and walk the tree together. A cell C (width w,
// centre of mass m) may act from m on every point of the group when it passes the
// Barnes-Hut test for the group's worst-placed point: with the group inside the circle
// (c, r), every member is at least |c − m| − r from m, so
//   w² < θ² (|c − m| − r)²    (and |c − m| > r)
// implies w² < θ² |y_i − m|² for each member. Otherwise C opens, and a leaf that still
// fails is summed point by point. One walk serves up to QT_GROUP points, and the inner
// loops run over the group's contiguous coordinates, so they vectorise. Each point meets
// itself exactly once (in its own leaf, which always fails the test because its centre of
// mass lies inside the group's circle), with w = 1 and no force: that 1 is taken out of z.

int
tsne_qt_groups (TsneQuadTree *t, int **groups, int *cap)
{
  int n = 0;
  int stack[4 * QT_MAX_DEPTH + 8];
  int sp = 0;
  stack[sp++] = 0;
  while (sp > 0)
    {
      int ci = stack[--sp];
      const TsneQFlat *c = &t->flat[ci];
      if (c->first < 0 || c->count <= QT_GROUP)
        {
          if (n == *cap)
            {
              int nc = *cap ? 2 * *cap : 256;
              int *g = realloc (*groups, (size_t) nc * sizeof *g);
              if (!g)
                return -1;
              *groups = g;
              *cap = nc;
            }
          (*groups)[n++] = ci;
          continue;
        }
      for (int k = c->n_child - 1; k >= 0; k--)
        stack[sp++] = c->first + k;
    }
  return n;
}

TSNE_CLONES void
tsne_qt_repulsion_group (const TsneQuadTree *t, int group, float theta, double *z,
                         double *fx, double *fy)
{
  const TsneQFlat *g = &t->flat[group];
  const int n = g->count;
  const float *G = t->Yp + 2 * (size_t) g->lo;
  // Enclosing circle: bounding-box centre, radius to the farthest member.
  float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int a = 0; a < n; a++)
    {
      x0 = fminf (x0, G[2 * a]); x1 = fmaxf (x1, G[2 * a]);
      y0 = fminf (y0, G[2 * a + 1]); y1 = fmaxf (y1, G[2 * a + 1]);
    }
  float cx = 0.5f * (x0 + x1), cy = 0.5f * (y0 + y1), r2 = 0.0f;
  for (int a = 0; a < n; a++)
    {
      float dx = G[2 * a] - cx, dy = G[2 * a + 1] - cy;
      r2 = fmaxf (r2, dx * dx + dy * dy);
    }
  float r = sqrtf (r2) * (1.0f + 1e-6f);
  // Split coordinates for the inner loops; a group of a coincident-point leaf can exceed
  // QT_GROUP, so large groups go in blocks.
  float gx[QT_GROUP], gy[QT_GROUP];
  double az[QT_GROUP], ax[QT_GROUP], ay[QT_GROUP];
  const float th2 = theta * theta;
  for (int b0 = 0; b0 < n; b0 += QT_GROUP)
    {
      int nb = n - b0 < QT_GROUP ? n - b0 : QT_GROUP;
      for (int a = 0; a < nb; a++)
        {
          gx[a] = G[2 * (b0 + a)];
          gy[a] = G[2 * (b0 + a) + 1];
          az[a] = ax[a] = ay[a] = 0.0;
        }
      int stack[4 * QT_MAX_DEPTH + 8];
      int sp = 0;
      stack[sp++] = 0;
      while (sp > 0)
        {
          const TsneQFlat *c = &t->flat[stack[--sp]];
          float dx = cx - c->mx, dy = cy - c->my;
          float dc = sqrtf (dx * dx + dy * dy) - r;
          if (dc > 0.0f && c->w2 < th2 * dc * dc)
            {
              float mx = c->mx, my = c->my, cnt = (float) c->count;
              for (int a = 0; a < nb; a++)
                {
                  float ex = gx[a] - mx, ey = gy[a] - my;
                  float q = 1.0f / (1.0f + ex * ex + ey * ey);
                  float nq = cnt * q;
                  az[a] += nq;
                  ax[a] += nq * q * ex;
                  ay[a] += nq * q * ey;
                }
              continue;
            }
          if (c->first >= 0)
            {
              for (int k = c->n_child - 1; k >= 0; k--)
                stack[sp++] = c->first + k;
              continue;
            }
          const float *P = t->Yp + 2 * (size_t) c->lo;
          for (int k = 0; k < c->count; k++)
            {
              float px = P[2 * k], py = P[2 * k + 1];
              for (int a = 0; a < nb; a++)
                {
                  float ex = gx[a] - px, ey = gy[a] - py;
                  float q = 1.0f / (1.0f + ex * ex + ey * ey);
                  az[a] += q;
                  ax[a] += q * q * ex;
                  ay[a] += q * q * ey;
                }
            }
        }
      for (int a = 0; a < nb; a++)
        {
          z[b0 + a] = az[a] - 1.0;
          fx[b0 + a] = ax[a];
          fy[b0 + a] = ay[a];
        }
    }
}
