// SPDX-License-Identifier: GPL-3.0-or-later
//
// ops-backward: the backward twins of the ops in ops.c and patch.c (linear, LayerNorm,
// exact GELU, row softmax, patch embedding), the small token ops a ViT needs for
// training (class token + position embedding, mean pooling), and the fused variants the
// ViT trainer runs (ops-train.h). Every backward ACCUMULATES
// (+=) into its input gradient and its parameter gradients, llm.c style, so that branches
// that share a tensor simply add up; any gradient pointer may be NULL to skip it. Row-major
// everywhere, as the forwards. Work is split over the engine's worker pool (pool.h,
// peac_threads_get() threads) in a fixed partition that never sums one value from two
// threads, so results are deterministic for a given thread count. GEMMs are
// single-threaded OpenBLAS calls on column or row slices, as in the forward.
#include "ops.h"
#include "ops-internal.h"
#include "ops-train.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

// Threads for a loop of `work` multiply-adds: one below ~256k, else the engine's count.
static int
threads_for (double work)
{
  return work < 262144.0 ? 1 : peac_threads_get ();
}

// ---------------------------------------------------------------------------------------
// Linear: out[M, N] = in[M, K] · w[N, K]ᵀ + b[N]
//   din[M, K] += dout[M, N] · w[N, K]
//   dw[N, K]  += dout[M, N]ᵀ · in[M, K]
//   db[N]     += Σ_m dout[m, :]

typedef struct {
  float *din, *dw, *db;
  const float *dout, *in, *w;
  int M, K, N, parts;
} LinearJob;

// Part t owns columns k0…k1 of din (and of w).
static void
linear_din_part (void *ctx, int t, int thread)
{
  const LinearJob *j = ctx;
  (void) thread;
  int k0 = (int) ((long) j->K * t / j->parts), k1 = (int) ((long) j->K * (t + 1) / j->parts);
  if (k1 > k0)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, j->M, k1 - k0, j->N, 1.0f,
                 j->dout, j->N, j->w + k0, j->K, 1.0f, j->din + k0, j->K);
}

// Part t owns rows n0…n1 of dw (output features) and entries n0…n1 of db.
static void
linear_dw_part (void *ctx, int t, int thread)
{
  const LinearJob *j = ctx;
  (void) thread;
  int n0 = (int) ((long) j->N * t / j->parts), n1 = (int) ((long) j->N * (t + 1) / j->parts);
  if (n1 <= n0)
    return;
  if (j->dw)
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, n1 - n0, j->K, j->M, 1.0f,
                 j->dout + n0, j->N, j->in, j->K, 1.0f, j->dw + (size_t) n0 * j->K, j->K);
  if (j->db)
    for (int m = 0; m < j->M; m++)
      {
        const float *g = j->dout + (size_t) m * j->N;
        for (int n = n0; n < n1; n++)
          j->db[n] += g[n];
      }
}

void
op_linear_backward (float *din, float *dw, float *db, const float *dout, const float *in,
                    const float *w, int M, int K, int N)
{
  peac_blas_single_thread ();
  const int nt = threads_for ((double) M * N * K);
  LinearJob j = { din, dw, db, dout, in, w, M, K, N, nt };
  if (din)
    peac_parallel_for (nt, nt, linear_din_part, &j);
  if (dw || db)
    peac_parallel_for (nt, nt, linear_dw_part, &j);
}

void
op_linear_backward_naive (float *din, float *dw, float *db, const float *dout,
                          const float *in, const float *w, int M, int K, int N)
{
  if (din)
    for (int m = 0; m < M; m++)
      for (int k = 0; k < K; k++)
        {
          double s = 0.0;
          for (int n = 0; n < N; n++)
            s += (double) dout[(size_t) m * N + n] * w[(size_t) n * K + k];
          din[(size_t) m * K + k] += (float) s;
        }
  for (int n = 0; n < N; n++)
    {
      if (dw)
        for (int k = 0; k < K; k++)
          {
            double s = 0.0;
            for (int m = 0; m < M; m++)
              s += (double) dout[(size_t) m * N + n] * in[(size_t) m * K + k];
            dw[(size_t) n * K + k] += (float) s;
          }
      if (db)
        {
          double s = 0.0;
          for (int m = 0; m < M; m++)
            s += dout[(size_t) m * N + n];
          db[n] += (float) s;
        }
    }
}

// ---------------------------------------------------------------------------------------
// LayerNorm: x̂ = (x − μ)·rstd, out = x̂·w + b, per row of C values.
//   dx̂ = dout·w
//   din += rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂))
//   dw  += Σ_rows dout · x̂,   db += Σ_rows dout

typedef struct {
  float *din, *dw, *db;
  const float *dout, *in, *w, *mean, *rstd;
  int M, C, parts;
} LnJob;

// Part t owns rows m0…m1 of din.
static void
layernorm_din_part (void *ctx, int t, int thread)
{
  const LnJob *j = ctx;
  (void) thread;
  const int C = j->C;
  int m0 = (int) ((long) j->M * t / j->parts), m1 = (int) ((long) j->M * (t + 1) / j->parts);
  for (int m = m0; m < m1; m++)
    {
      const float *g = j->dout + (size_t) m * C, *x = j->in + (size_t) m * C;
      const float mu = j->mean[m], rs = j->rstd[m];
      float sg = 0.0f, sgx = 0.0f;
      for (int c = 0; c < C; c++)
        {
          float gh = g[c] * j->w[c], xh = (x[c] - mu) * rs;
          sg += gh;
          sgx += gh * xh;
        }
      sg /= (float) C;
      sgx /= (float) C;
      float *d = j->din + (size_t) m * C;
      for (int c = 0; c < C; c++)
        {
          float gh = g[c] * j->w[c], xh = (x[c] - mu) * rs;
          d[c] += rs * (gh - sg - xh * sgx);
        }
    }
}

// Part t owns columns c0…c1 of dw and db and walks every row.
static void
layernorm_dw_part (void *ctx, int t, int thread)
{
  const LnJob *j = ctx;
  (void) thread;
  const int C = j->C;
  int c0 = (int) ((long) C * t / j->parts), c1 = (int) ((long) C * (t + 1) / j->parts);
  for (int m = 0; m < j->M; m++)
    {
      const float *g = j->dout + (size_t) m * C, *x = j->in + (size_t) m * C;
      const float mu = j->mean[m], rs = j->rstd[m];
      for (int c = c0; c < c1; c++)
        {
          if (j->dw)
            j->dw[c] += g[c] * (x[c] - mu) * rs;
          if (j->db)
            j->db[c] += g[c];
        }
    }
}

void
op_layernorm_backward (float *din, float *dw, float *db, const float *dout, const float *in,
                       const float *w, const float *mean, const float *rstd, int M, int C)
{
  int nt = threads_for ((double) M * C * 4);
  LnJob j = { din, dw, db, dout, in, w, mean, rstd, M, C, nt > M ? (M > 0 ? M : 1) : nt };
  if (din)
    peac_parallel_for (j.parts, j.parts, layernorm_din_part, &j);
  if (dw || db)
    {
      j.parts = nt > C ? C : nt;
      peac_parallel_for (j.parts, j.parts, layernorm_dw_part, &j);
    }
}

// ---------------------------------------------------------------------------------------
// GELU (exact): gelu(x) = x·Φ(x), gelu'(x) = Φ(x) + x·φ(x),
// Φ(x) = ½ erfc(−x/√2), φ(x) = exp(−x²/2)/√(2π).   din += dout · gelu'(in)

static PEAC_CLONES void
gelu_backward_chunk (float *din, const float *dout, const float *in, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float x = in[i];
      float e = peac_erfcf_pos (fabsf (x) * 0.70710678118654752f);
      float cdf = x >= 0.0f ? 1.0f - 0.5f * e : 0.5f * e;
      float pdf = 0.39894228040143268f * peac_expf (-0.5f * x * x);
      din[i] += dout[i] * (cdf + x * pdf);
    }
}

typedef struct {
  float *din;
  const float *dout, *in;
  size_t n;
  int parts;
} GeluJob;

static void
gelu_backward_part (void *ctx, int t, int thread)
{
  const GeluJob *j = ctx;
  (void) thread;
  size_t a = j->n * (size_t) t / (size_t) j->parts, z = j->n * (size_t) (t + 1) / (size_t) j->parts;
  gelu_backward_chunk (j->din + a, j->dout + a, j->in + a, z - a);
}

void
op_gelu_backward (float *din, const float *dout, const float *in, size_t n)
{
  int nt = peac_threads_get ();
  if ((size_t) nt * 4096 > n)
    nt = 1;
  GeluJob j = { din, dout, in, n, nt };
  peac_parallel_for (nt, nt, gelu_backward_part, &j);
}

// ---------------------------------------------------------------------------------------
// Softmax rows: p = softmax(x);  dx += p ⊙ (dp − Σ_j dp_j p_j)

void
op_softmax_backward (float *dx, const float *dp, const float *p, int rows, int cols)
{
  for (int i = 0; i < rows; i++)
    {
      const float *g = dp + (size_t) i * cols, *pr = p + (size_t) i * cols;
      float *d = dx + (size_t) i * cols;
      float s = 0.0f;
      for (int j = 0; j < cols; j++)
        s += g[j] * pr[j];
      for (int j = 0; j < cols; j++)
        d[j] += pr[j] * (g[j] - s);
    }
}

// ---------------------------------------------------------------------------------------
// Patch embedding = im2col + Linear.  dw, db from the col matrix the forward filled;
// din by dcol = dout · w followed by col2im (a sum over every patch a pixel lies in).

typedef struct {
  float *din;
  const float *col;
  int Cin, H, W, P, S, gh, gw, K;
} Col2imJob;

static void
col2im_plane (void *ctx, int bc, int thread)
{
  const Col2imJob *j = ctx;
  (void) thread;
  const int bb = bc / j->Cin, c = bc % j->Cin, P = j->P;
  float *plane = j->din + (size_t) bc * j->H * j->W;
  for (int y = 0; y < j->gh; y++)
    for (int x = 0; x < j->gw; x++)
      {
        const float *src = j->col + ((size_t) (bb * j->gh + y) * j->gw + x) * j->K
                           + (size_t) c * P * P;
        for (int i = 0; i < P; i++)
          {
            float *dst = plane + (size_t) (y * j->S + i) * j->W + (size_t) x * j->S;
            for (int k = 0; k < P; k++)
              dst[k] += src[i * P + k];
          }
      }
}

void
op_patch_embed_backward (float *din, float *dw, float *db, float *col, const float *dout,
                         const float *w, int B, int Cin, int H, int W, int P, int S, int D)
{
  const int gh = (H - P) / S + 1, gw = (W - P) / S + 1;
  const int K = Cin * P * P, rows = B * gh * gw;
  op_linear_backward (NULL, dw, db, dout, col, w, rows, K, D);
  if (!din)
    return;
  // col is no longer needed: it becomes dcol[rows, K] = dout[rows, D] · w[D, K].
  memset (col, 0, (size_t) rows * K * sizeof (float));
  op_linear_backward (col, NULL, NULL, dout, NULL, w, rows, K, D);
  // col2im: each (image, channel) plane is owned by one task (patches may overlap).
  Col2imJob j = { din, col, Cin, H, W, P, S, gh, gw, K };
  peac_parallel_for (B * Cin, peac_threads_get (), col2im_plane, &j);
}

// ---------------------------------------------------------------------------------------
// Class token and position embedding:
//   x[b, 0] = cls + pos[0],  x[b, 1 + i] = patches[b, i] + pos[1 + i]      x [B, 1 + G, D]
//   dpatches[b, i] += dx[b, 1 + i];  dcls += Σ_b dx[b, 0];  dpos[t] += Σ_b dx[b, t]

void
op_cls_pos_forward (float *x, const float *patches, const float *cls, const float *pos,
                    int B, int G, int D)
{
  const int T = G + 1;
  for (int b = 0; b < B; b++)
    {
      float *xb = x + (size_t) b * T * D;
      for (int d = 0; d < D; d++)
        xb[d] = cls[d] + pos[d];
      op_add (xb + D, patches + (size_t) b * G * D, pos + D, (size_t) G * D);
    }
}

void
op_cls_pos_backward (float *dpatches, float *dcls, float *dpos, const float *dx, int B,
                     int G, int D)
{
  const int T = G + 1;
  for (int b = 0; b < B; b++)
    {
      const float *g = dx + (size_t) b * T * D;
      if (dcls)
        for (int d = 0; d < D; d++)
          dcls[d] += g[d];
      if (dpos)
        for (size_t i = 0; i < (size_t) T * D; i++)
          dpos[i] += g[i];
      if (dpatches)
        {
          float *dp = dpatches + (size_t) b * G * D;
          for (size_t i = 0; i < (size_t) G * D; i++)
            dp[i] += g[D + i];
        }
    }
}

// ---------------------------------------------------------------------------------------
// Mean pooling over tokens: out[b, d] = (1/n) Σ_t x[b, t0 + t, d], t < n, of x [B, T, D].
//   dx[b, t0 + t, d] += dout[b, d] / n

void
op_mean_pool_forward (float *out, const float *x, int B, int T, int t0, int n, int D)
{
  for (int b = 0; b < B; b++)
    {
      float *o = out + (size_t) b * D;
      for (int d = 0; d < D; d++)
        o[d] = 0.0f;
      for (int t = 0; t < n; t++)
        {
          const float *r = x + ((size_t) b * T + t0 + t) * D;
          for (int d = 0; d < D; d++)
            o[d] += r[d];
        }
      for (int d = 0; d < D; d++)
        o[d] /= (float) n;
    }
}

void
op_mean_pool_backward (float *dx, const float *dout, int B, int T, int t0, int n, int D)
{
  for (int b = 0; b < B; b++)
    for (int t = 0; t < n; t++)
      {
        float *r = dx + ((size_t) b * T + t0 + t) * D;
        const float *g = dout + (size_t) b * D;
        for (int d = 0; d < D; d++)
          r[d] += g[d] / (float) n;
      }
}

// ---------------------------------------------------------------------------------------
// Fused variants for the ViT trainer (ops-train.h).

// d[i] *= gelu'(h[i]) over n values (exact GELU, as gelu_backward_chunk).
static PEAC_CLONES void
gelu_grad_inplace (float *d, const float *h, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float x = h[i];
      float e = peac_erfcf_pos (fabsf (x) * 0.70710678118654752f);
      float cdf = x >= 0.0f ? 1.0f - 0.5f * e : 0.5f * e;
      float pdf = 0.39894228040143268f * peac_expf (-0.5f * x * x);
      d[i] *= cdf + x * pdf;
    }
}

// db[n0:n1] += Σ_m dout[m, n0:n1]
static PEAC_CLONES void
bias_grad_cols (float *db, const float *dout, int M, int N, int n0, int n1)
{
  for (int m = 0; m < M; m++)
    {
      const float *g = dout + (size_t) m * N;
      for (int n = n0; n < n1; n++)
        db[n] += g[n];
    }
}

typedef struct {
  float *din, *dw, *db;
  const float *gelu_in, *dout, *in, *w;
  int M, K, N, accumulate, pw, pd;
} FusedLinearJob;

// Tasks 0 … pw−1: rows n0…n1 of dw and db (output features). Tasks pw … pw+pd−1: rows
// m0…m1 of din (rows rounded to 8 except the last), then GELU' on those rows.
static void
fused_linear_part (void *ctx, int t, int thread)
{
  const FusedLinearJob *j = ctx;
  (void) thread;
  if (t < j->pw)
    {
      int n0 = (int) ((long) j->N * t / j->pw), n1 = (int) ((long) j->N * (t + 1) / j->pw);
      if (n1 <= n0)
        return;
      if (j->dw)
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, n1 - n0, j->K, j->M, 1.0f,
                     j->dout + n0, j->N, j->in, j->K, 1.0f, j->dw + (size_t) n0 * j->K, j->K);
      if (j->db)
        bias_grad_cols (j->db, j->dout, j->M, j->N, n0, n1);
      return;
    }
  t -= j->pw;
  int m0 = t == 0 ? 0 : (int) ((long) j->M * t / j->pd) & ~7;
  int m1 = t == j->pd - 1 ? j->M : (int) ((long) j->M * (t + 1) / j->pd) & ~7;
  if (m1 <= m0)
    return;
  // din[m0:m1, :] (=|+=) dout[m0:m1, :] · w
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, m1 - m0, j->K, j->N, 1.0f,
               j->dout + (size_t) m0 * j->N, j->N, j->w, j->K, j->accumulate ? 1.0f : 0.0f,
               j->din + (size_t) m0 * j->K, j->K);
  if (j->gelu_in)
    gelu_grad_inplace (j->din + (size_t) m0 * j->K, j->gelu_in + (size_t) m0 * j->K,
                       (size_t) (m1 - m0) * j->K);
}

void
op_linear_backward_fused (float *din, int accumulate, const float *gelu_in, float *dw,
                          float *db, const float *dout, const float *in, const float *w,
                          int M, int K, int N)
{
  peac_blas_single_thread ();
  const int nt = threads_for ((double) M * N * K);
  FusedLinearJob j = { din, dw, db, din ? gelu_in : NULL, dout, in, w, M, K, N,
                       accumulate, 0, 0 };
  if (dw || db)
    for (j.pw = nt; j.pw > 1 && N / j.pw < 16; j.pw--)
      ;
  // Input-gradient rows in twice as many parts as threads when each keeps ≥ 256 rows, so a
  // thread held up by another process does not hold the other up for a whole half.
  if (din)
    j.pd = nt > 1 && M / (2 * nt) >= 256 ? 2 * nt : nt;
  peac_parallel_for (j.pw + j.pd, nt, fused_linear_part, &j);
}

// LayerNorm, one pass: per row, din += rstd·(ĝ − mean ĝ − x̂·mean(ĝ·x̂)) with ĝ = dout·w,
// and the block's partial dw += dout·x̂, db += dout.
enum { LN_BLOCK = 64 };

static PEAC_CLONES void
layernorm_backward_rows (float *din, float *pdw, float *pdb, const float *dout,
                         const float *in, const float *w, const float *mean,
                         const float *rstd, int m0, int m1, int C)
{
  for (int m = m0; m < m1; m++)
    {
      const float *g = dout + (size_t) m * C, *x = in + (size_t) m * C;
      const float mu = mean[m], rs = rstd[m];
      float a[8] = { 0 }, b[8] = { 0 };
      int c = 0;
      for (; c + 8 <= C; c += 8)
        for (int l = 0; l < 8; l++)
          {
            const float gh = g[c + l] * w[c + l], xh = (x[c + l] - mu) * rs;
            a[l] += gh;
            b[l] += gh * xh;
          }
      for (; c < C; c++)
        {
          const float gh = g[c] * w[c], xh = (x[c] - mu) * rs;
          a[0] += gh;
          b[0] += gh * xh;
        }
      float sg = 0.0f, sgx = 0.0f;
      for (int l = 0; l < 8; l++)
        sg += a[l], sgx += b[l];
      sg /= (float) C;
      sgx /= (float) C;
      if (din)
        {
          float *d = din + (size_t) m * C;
          for (c = 0; c < C; c++)
            {
              const float xh = (x[c] - mu) * rs;
              d[c] += rs * (g[c] * w[c] - sg - xh * sgx);
            }
        }
      if (pdw)
        for (c = 0; c < C; c++)
          pdw[c] += g[c] * (x[c] - mu) * rs;
      if (pdb)
        for (c = 0; c < C; c++)
          pdb[c] += g[c];
    }
}

typedef struct {
  float *din, *part;
  const float *dout, *in, *w, *mean, *rstd;
  int M, C, has_dw, has_db;
} FusedLnJob;

static void
fused_layernorm_part (void *ctx, int t, int thread)
{
  const FusedLnJob *j = ctx;
  (void) thread;
  const int m0 = t * LN_BLOCK, m1 = m0 + LN_BLOCK < j->M ? m0 + LN_BLOCK : j->M;
  float *pdw = j->part ? j->part + (size_t) t * 2 * j->C : NULL;
  if (pdw)
    memset (pdw, 0, 2 * (size_t) j->C * sizeof (float));
  layernorm_backward_rows (j->din, j->has_dw ? pdw : NULL, j->has_db ? pdw + j->C : NULL,
                           j->dout, j->in, j->w, j->mean, j->rstd, m0, m1, j->C);
}

void
op_layernorm_backward_fused (float *din, float *dw, float *db, const float *dout,
                             const float *in, const float *w, const float *mean,
                             const float *rstd, int M, int C)
{
  const int blocks = (M + LN_BLOCK - 1) / LN_BLOCK;
  float *part = NULL;
  if ((dw || db) && !(part = malloc ((size_t) blocks * 2 * C * sizeof (float))))
    {
      op_layernorm_backward (din, dw, db, dout, in, w, mean, rstd, M, C); // no scratch
      return;
    }
  FusedLnJob j = { din, part, dout, in, w, mean, rstd, M, C, dw != NULL, db != NULL };
  peac_parallel_for (blocks, threads_for ((double) M * C * 4), fused_layernorm_part, &j);
  for (int k = 0; part && k < blocks; k++)
    {
      const float *p = part + (size_t) k * 2 * C;
      for (int c = 0; dw && c < C; c++)
        dw[c] += p[c];
      for (int c = 0; db && c < C; c++)
        db[c] += p[C + c];
    }
  free (part);
}

// ---------------------------------------------------------------------------------------
// dst = a·dst + b·src

typedef struct {
  float *dst;
  const float *src;
  float a, b;
  size_t n;
  int parts;
} AxpbyJob;

static PEAC_CLONES void
axpby_chunk (float *dst, float a, const float *src, float b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = a * dst[i] + b * src[i];
}

static void
axpby_part (void *ctx, int t, int thread)
{
  const AxpbyJob *j = ctx;
  (void) thread;
  size_t s = j->n * (size_t) t / (size_t) j->parts, e = j->n * (size_t) (t + 1) / (size_t) j->parts;
  axpby_chunk (j->dst + s, j->a, j->src + s, j->b, e - s);
}

void
op_axpby (float *dst, float a, const float *src, float b, size_t n)
{
  int nt = peac_threads_get ();
  if ((size_t) nt * 65536 > n)
    nt = 1;
  AxpbyJob j = { dst, src, a, b, n, 4 * nt };
  peac_parallel_for (j.parts, nt, axpby_part, &j);
}
