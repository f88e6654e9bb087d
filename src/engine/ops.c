// SPDX-License-Identifier: GPL-3.0-or-later
//
// ops: forward passes of the engine's elementwise and row ops (linear, LayerNorm, exact-erf
// GELU, softmax, residual add) and the engine's thread count. GEMMs go to OpenBLAS, each
// call single-threaded, split over the engine's pool by output columns; every other loop is
// written so GCC vectorises it, compiled three times (x86-64-v4, v3 and the baseline)
// through target_clones and picked at load time, and split over the pool (pool.h) in
// contiguous chunks. exp and erfc are computed here by branch-free polynomials
// (float error ≈ 1e-7 relative) so that the loops vectorise; the naive twins call libm.
// Attention, patch embedding and position-embedding resampling live in attention.c and
// patch.c.
#include "ops.h"
#include "ops-internal.h"

#include <cblas.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"

// The engine's process state: how many threads its parallel loops use (the pool itself
// lives in pool.c).
static int peac_nthreads = 0;

void
peac_threads_set (int n)
{
  if (n <= 0)
    n = (int) sysconf (_SC_NPROCESSORS_ONLN);
  peac_nthreads = n;
  peac_blas_single_thread ();
}

// The engine parallelises around GEMMs itself, so OpenBLAS runs each call on the calling
// thread. (Setting it is cheap, and done before GEMMs in case a caller changed it.)
void
peac_blas_single_thread (void)
{
  if (openblas_get_num_threads () != 1)
    openblas_set_num_threads (1);
}

int
peac_threads_get (void)
{
  return peac_nthreads > 0 ? peac_nthreads : (int) sysconf (_SC_NPROCESSORS_ONLN);
}

// ---------------------------------------------------------------------------------------
// Linear: out[M, N] = in[M, K] · w[N, K]ᵀ + b[N]

static PEAC_CLONES void
add_bias_cols (float *out, const float *b, int M, int N, int n0, int n1)
{
  for (int i = 0; i < M; i++)
    {
      float *o = out + (size_t) i * N;
      for (int j = n0; j < n1; j++)
        o[j] += b[j];
    }
}

static void
fill_bias_cols (float *out, const float *b, int M, int N, int n0, int n1)
{
  for (int i = 0; i < M; i++)
    memcpy (out + (size_t) i * N + n0, b + n0, (size_t) (n1 - n0) * sizeof *b);
}

enum { LINEAR_PLAIN, LINEAR_GELU, LINEAR_RESIDUAL };

static void gelu_rows (float *out, int M, int N, int n0, int n1);

typedef struct {
  int          mode;
  float       *out;
  const float *in, *w, *b;
  int          M, K, N, slices;
} LinearJob;

static void
linear_slice (void *ctx, int t, int thread)
{
  const LinearJob *j = ctx;
  const int N = j->N, M = j->M, K = j->K;
  // Slice bounds rounded to 16 columns (one AVX-512 vector) except the last.
  int n0 = t == 0 ? 0 : (int) ((long) N * t / j->slices) & ~15;
  int n1 = t == j->slices - 1 ? N : (int) ((long) N * (t + 1) / j->slices) & ~15;
  if (n1 <= n0)
    return;
  // The bias goes in first and the GEMM accumulates onto it (beta = 1): with beta = 0
  // OpenBLAS clears C in a pass of its own, and adding b afterwards was another pass
  // (together 7 % of Swin-B's forward).
  if (j->b && j->mode != LINEAR_RESIDUAL)
    fill_bias_cols (j->out, j->b, M, N, n0, n1);
  else if (j->b)
    add_bias_cols (j->out, j->b, M, N, n0, n1);
  // Row-major C = A · Bᵀ: A = in [M, K] (lda K), B = w[n0:n1] [n1−n0, K] (ldb K).
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, n1 - n0, K, 1.0f, j->in, K,
               j->w + (size_t) n0 * K, K, j->b || j->mode == LINEAR_RESIDUAL ? 1.0f : 0.0f,
               j->out + n0, N);
  if (j->mode == LINEAR_GELU)
    gelu_rows (j->out, M, N, n0, n1);
}

// out[M, N] (= or +=) in[M, K] · w[N, K]ᵀ + b, then GELU for LINEAR_GELU.
//
// The output columns are split over the engine's threads: thread t runs one
// single-threaded GEMM on its slice of W (rows n0…n1 of w, no copies, ldc = N) and
// finishes its slice (bias, GELU) while the block is still in cache. Each half of a ViT-B
// weight matrix is still a large, efficient GEMM, and there is only one thread pool (see
// pool.h): OpenBLAS's own threads spinning next to another pool's halved throughput on 2 cores.
static void
linear (int mode, float *out, const float *in, const float *w, const float *b, int M, int K,
        int N)
{
  peac_blas_single_thread ();
  int nt = peac_threads_get ();
  if ((double) M * N * K < 262144.0)
    nt = 1;
  while (nt > 1 && N / nt < 32)
    nt--;
  // Two slices per thread when they stay ≥ 256 columns, handed out one at a time, so that
  // a thread delayed by another process does not hold the other up for a whole half.
  LinearJob j = { mode, out, in, w, b, M, K, N, nt > 1 && N / (2 * nt) >= 256 ? 2 * nt : nt };
  peac_parallel_for (j.slices, nt, linear_slice, &j);
}

void
op_linear_forward (float *out, const float *in, const float *w, const float *b,
                   int M, int K, int N)
{
  linear (LINEAR_PLAIN, out, in, w, b, M, K, N);
}

void
op_linear_gelu_forward (float *out, const float *in, const float *w, const float *b,
                        int M, int K, int N)
{
  linear (LINEAR_GELU, out, in, w, b, M, K, N);
}

void
op_linear_residual_forward (float *x, const float *in, const float *w, const float *b,
                            int M, int K, int N)
{
  linear (LINEAR_RESIDUAL, x, in, w, b, M, K, N);
}

void
op_linear_forward_naive (float *out, const float *in, const float *w, const float *b,
                         int M, int K, int N)
{
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++)
      {
        double s = b ? b[j] : 0.0;
        for (int k = 0; k < K; k++)
          s += (double) in[(size_t) i * K + k] * w[(size_t) j * K + k];
        out[(size_t) i * N + j] = (float) s;
      }
}

// ---------------------------------------------------------------------------------------
// LayerNorm: μ = Σx/C, σ² = Σ(x−μ)²/C (two passes, biased like PyTorch),
// out = (x − μ) · (σ² + eps)^(−½) · w + b

static PEAC_CLONES void
layernorm_rows (float *out, float *mean, float *rstd, const float *in, const float *w,
                const float *b, int r0, int r1, int C, float eps)
{
  for (int i = r0; i < r1; i++)
    {
      const float *x = in + (size_t) i * C;
      float *o = out + (size_t) i * C;
      float mu = peac_sum16 (x, C) / (float) C;
      float rs = 1.0f / sqrtf (peac_sumsq16 (x, mu, C) / (float) C + eps);
      for (int c = 0; c < C; c++)
        o[c] = (x[c] - mu) * rs * w[c] + b[c];
      if (mean)
        mean[i] = mu;
      if (rstd)
        rstd[i] = rs;
    }
}

typedef struct {
  float       *out, *mean, *rstd;
  const float *in, *w, *b;
  int          M, C, parts;
  float        eps;
} LayerNormJob;

static void
layernorm_part (void *ctx, int t, int thread)
{
  const LayerNormJob *j = ctx;
  int r0 = (int) ((long) j->M * t / j->parts), r1 = (int) ((long) j->M * (t + 1) / j->parts);
  layernorm_rows (j->out, j->mean, j->rstd, j->in, j->w, j->b, r0, r1, j->C, j->eps);
}

void
op_layernorm_forward (float *out, float *mean, float *rstd, const float *in,
                      const float *w, const float *b, int M, int C, float eps)
{
  int nt = peac_threads_get ();
  if ((long) M * C < 16384 || nt > M)
    nt = 1;
  LayerNormJob j = { out, mean, rstd, in, w, b, M, C, nt, eps };
  peac_parallel_for (nt, nt, layernorm_part, &j);
}

// ---------------------------------------------------------------------------------------
// GELU (exact): gelu(x) = ½ x (1 + erf(x/√2)) = x − ½ x erfc(x/√2) for x ≥ 0,
//                                              ½ x erfc(|x|/√2)    for x < 0.
// Written with erfc so that the negative tail keeps its relative precision.

static PEAC_CLONES void
gelu_chunk (float *out, const float *in, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float x = in[i];
      float z = fabsf (x) * 0.70710678118654752f;
      float e = peac_erfcf_pos (z);
      float g = x >= 0.0f ? x - 0.5f * x * e : 0.5f * x * e;
      out[i] = g;
    }
}

static void
gelu_rows (float *out, int M, int N, int n0, int n1)
{
  for (int i = 0; i < M; i++)
    gelu_chunk (out + (size_t) i * N + n0, out + (size_t) i * N + n0, (size_t) (n1 - n0));
}

// Elementwise jobs split into `parts` contiguous ranges.
typedef struct {
  float       *out;
  const float *a, *b;
  size_t       n;
  int          parts;
} EltJob;

static void
gelu_part (void *ctx, int t, int thread)
{
  const EltJob *j = ctx;
  size_t s = j->n * (size_t) t / (size_t) j->parts, e = j->n * (size_t) (t + 1) / (size_t) j->parts;
  gelu_chunk (j->out + s, j->a + s, e - s);
}

void
op_gelu_forward (float *out, const float *in, size_t n)
{
  int nt = peac_threads_get ();
  if ((size_t) nt * 4096 > n)
    nt = 1;
  EltJob j = { out, in, NULL, n, nt };
  peac_parallel_for (nt, nt, gelu_part, &j);
}

void
op_gelu_forward_naive (float *out, const float *in, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = (float) (0.5 * in[i] * (1.0 + erf (in[i] / sqrt (2.0))));
}

// ---------------------------------------------------------------------------------------
// Softmax over each row: p_j = exp(x_j − max x) / Σ exp(x_k − max x)

static void
softmax_rows (float *x, int rows, int cols)
{
  for (int i = 0; i < rows; i++)
    peac_softmax_row (x + (size_t) i * cols, cols);
}

PEAC_CLONES void
peac_softmax_row (float *x, int n)
{
  float m = peac_max16 (x, n);
  for (int j = 0; j < n; j++)
    x[j] = peac_expf (x[j] - m);
  float inv = 1.0f / peac_sum16 (x, n);
  for (int j = 0; j < n; j++)
    x[j] *= inv;
}

typedef struct {
  float *x;
  int    rows, cols, parts;
} SoftmaxJob;

static void
softmax_part (void *ctx, int t, int thread)
{
  const SoftmaxJob *j = ctx;
  int r0 = (int) ((long) j->rows * t / j->parts), r1 = (int) ((long) j->rows * (t + 1) / j->parts);
  softmax_rows (j->x + (size_t) r0 * j->cols, r1 - r0, j->cols);
}

void
op_softmax_forward (float *x, int rows, int cols)
{
  int nt = peac_threads_get ();
  if ((long) rows * cols < 16384 || nt > rows)
    nt = 1;
  SoftmaxJob j = { x, rows, cols, nt };
  peac_parallel_for (nt, nt, softmax_part, &j);
}

void
op_softmax_forward_naive (float *x, int rows, int cols)
{
  for (int i = 0; i < rows; i++)
    {
      float *r = x + (size_t) i * cols;
      double m = r[0], s = 0.0;
      for (int j = 1; j < cols; j++)
        m = r[j] > m ? r[j] : m;
      for (int j = 0; j < cols; j++)
        s += exp (r[j] - m);
      for (int j = 0; j < cols; j++)
        r[j] = (float) (exp (r[j] - m) / s);
    }
}

// ---------------------------------------------------------------------------------------
// Residual add

static PEAC_CLONES void
add_chunk (float *out, const float *a, const float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = a[i] + b[i];
}

static void
add_part (void *ctx, int t, int thread)
{
  const EltJob *j = ctx;
  size_t s = j->n * (size_t) t / (size_t) j->parts, e = j->n * (size_t) (t + 1) / (size_t) j->parts;
  add_chunk (j->out + s, j->a + s, j->b + s, e - s);
}

void
op_add (float *out, const float *a, const float *b, size_t n)
{
  int nt = peac_threads_get ();
  if ((size_t) nt * 8192 > n)
    nt = 1;
  EltJob j = { out, a, b, n, nt };
  peac_parallel_for (nt, nt, add_part, &j);
}
