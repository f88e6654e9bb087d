// SPDX-License-Identifier: GPL-3.0-or-later
//
// ops-backward: the backward twins of the ops in ops.c and patch.c (linear, LayerNorm,
// exact GELU, row softmax, patch embedding) and the small token ops a ViT needs for
// training (class token + position embedding, mean pooling). Every backward ACCUMULATES
// (+=) into its input gradient and its parameter gradients, llm.c style, so that branches
// that share a tensor simply add up; any gradient pointer may be NULL to skip it. Row-major
// everywhere, as the forwards. Work is split over peac_threads_get() OpenMP threads in a
// fixed partition that never sums one value from two threads, so results are deterministic
// for a given thread count (and in fact independent of it). GEMMs are single-threaded
// OpenBLAS calls on column or row slices, as in the forward.
#include "ops.h"
#include "ops-internal.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

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

void
op_linear_backward (float *din, float *dw, float *db, const float *dout, const float *in,
                    const float *w, int M, int K, int N)
{
  peac_blas_single_thread ();
  const int nt = threads_for ((double) M * N * K);
  // din: thread t owns columns k0…k1 of din (and of w).
  if (din)
    {
#pragma omp parallel for num_threads (nt) schedule (static)
      for (int t = 0; t < nt; t++)
        {
          int k0 = (int) ((long) K * t / nt), k1 = (int) ((long) K * (t + 1) / nt);
          if (k1 > k0)
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, M, k1 - k0, N, 1.0f,
                         dout, N, w + k0, K, 1.0f, din + k0, K);
        }
    }
  // dw, db: thread t owns rows n0…n1 of dw (output features).
  if (dw || db)
    {
#pragma omp parallel for num_threads (nt) schedule (static)
      for (int t = 0; t < nt; t++)
        {
          int n0 = (int) ((long) N * t / nt), n1 = (int) ((long) N * (t + 1) / nt);
          if (n1 <= n0)
            continue;
          if (dw)
            cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, n1 - n0, K, M, 1.0f,
                         dout + n0, N, in, K, 1.0f, dw + (size_t) n0 * K, K);
          if (db)
            for (int m = 0; m < M; m++)
              {
                const float *g = dout + (size_t) m * N;
                for (int n = n0; n < n1; n++)
                  db[n] += g[n];
              }
        }
    }
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

void
op_layernorm_backward (float *din, float *dw, float *db, const float *dout, const float *in,
                       const float *w, const float *mean, const float *rstd, int M, int C)
{
  int nt = threads_for ((double) M * C * 4);
  if (din)
    {
#pragma omp parallel for num_threads (nt) schedule (static)
      for (int m = 0; m < M; m++)
        {
          const float *g = dout + (size_t) m * C, *x = in + (size_t) m * C;
          const float mu = mean[m], rs = rstd[m];
          float sg = 0.0f, sgx = 0.0f;
          for (int c = 0; c < C; c++)
            {
              float gh = g[c] * w[c], xh = (x[c] - mu) * rs;
              sg += gh;
              sgx += gh * xh;
            }
          sg /= (float) C;
          sgx /= (float) C;
          float *d = din + (size_t) m * C;
          for (int c = 0; c < C; c++)
            {
              float gh = g[c] * w[c], xh = (x[c] - mu) * rs;
              d[c] += rs * (gh - sg - xh * sgx);
            }
        }
    }
  // Parameter gradients: thread t owns a slice of the C columns and walks every row.
  if (dw || db)
    {
      if (nt > C)
        nt = C;
#pragma omp parallel for num_threads (nt) schedule (static)
      for (int t = 0; t < nt; t++)
        {
          int c0 = (int) ((long) C * t / nt), c1 = (int) ((long) C * (t + 1) / nt);
          for (int m = 0; m < M; m++)
            {
              const float *g = dout + (size_t) m * C, *x = in + (size_t) m * C;
              const float mu = mean[m], rs = rstd[m];
              for (int c = c0; c < c1; c++)
                {
                  if (dw)
                    dw[c] += g[c] * (x[c] - mu) * rs;
                  if (db)
                    db[c] += g[c];
                }
            }
        }
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

void
op_gelu_backward (float *din, const float *dout, const float *in, size_t n)
{
  int nt = peac_threads_get ();
  if ((size_t) nt * 4096 > n)
    nt = 1;
#pragma omp parallel num_threads (nt)
  {
    int t = omp_get_thread_num (), k = omp_get_num_threads ();
    size_t a = n * (size_t) t / (size_t) k, z = n * (size_t) (t + 1) / (size_t) k;
    gelu_backward_chunk (din + a, dout + a, in + a, z - a);
  }
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
  // col2im: each (image, channel) plane is owned by one thread (patches may overlap).
#pragma omp parallel for num_threads (peac_threads_get ()) schedule (static)
  for (int bc = 0; bc < B * Cin; bc++)
    {
      const int bb = bc / Cin, c = bc % Cin;
      float *plane = din + (size_t) bc * H * W;
      for (int y = 0; y < gh; y++)
        for (int x = 0; x < gw; x++)
          {
            const float *src = col + ((size_t) (bb * gh + y) * gw + x) * K + (size_t) c * P * P;
            for (int i = 0; i < P; i++)
              {
                float *dst = plane + (size_t) (y * S + i) * W + (size_t) x * S;
                for (int j = 0; j < P; j++)
                  dst[j] += src[i * P + j];
              }
          }
    }
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
