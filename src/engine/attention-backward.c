// SPDX-License-Identifier: GPL-3.0-or-later
//
// attention-backward: the backward twin of op_attention_forward (attention.c) for the
// ViT: gradients of multi-head scaled dot-product attention with respect to the packed
// qkv rows, given the softmax probabilities that the forward kept. Additive bias and mask
// (Swin) are constants here; op_attention_backward_ds hands back the score gradient dS,
// which is also the gradient of an additive bias, for Swin's bias table. Parallel over
// images × heads on the engine's pool; each job writes only its own head's columns of
// dqkv, so no two threads ever touch one value and the result does not depend on the
// thread count. op_attention_backward_set (ops-train.h) writes instead of accumulating,
// so the trainer needs no zeroed buffer.
#include "ops.h"
#include "ops-internal.h"
#include "ops-train.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "pool.h"

// Per image b and head h, with S = scale·Q·Kᵀ (+ bias/mask), P = softmax(S), O = P·V:
//   dP = dO · Vᵀ                      [N, N]
//   dV += Pᵀ · dO                     [N, Dh]
//   dS = P ⊙ (dP − rowsum(dP ⊙ P))    [N, N]
//   dQ += scale · dS · K,   dK += scale · dSᵀ · Q
typedef struct {
  float *dqkv, *scratch;
  const float *dout, *qkv, *att;
  int N, H, Dh;
  float beta;     // 1: dqkv +=, 0: dqkv =
  float *ds_all;  // NULL, or [B, H, N, N] receiving every score gradient dS (Swin's bias)
} AttBwJob;

// ds[N, N] ← p ⊙ (ds − rowsum(ds ⊙ p)), the softmax backward on the score tile.
static PEAC_CLONES void
softmax_backward_tile (float *ds, const float *p, int N)
{
  for (int i = 0; i < N; i++)
    {
      float *r = ds + (size_t) i * N;
      const float *pr = p + (size_t) i * N;
      float a[8] = { 0 };
      int c = 0;
      for (; c + 8 <= N; c += 8)
        for (int l = 0; l < 8; l++)
          a[l] += r[c + l] * pr[c + l];
      for (; c < N; c++)
        a[0] += r[c] * pr[c];
      const float s = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
      for (c = 0; c < N; c++)
        r[c] = pr[c] * (r[c] - s);
    }
}

static void
attention_backward_job (void *ctx, int job, int thread)
{
  const AttBwJob *j = ctx;
  const int N = j->N, H = j->H, Dh = j->Dh, C = H * Dh, ld = 3 * C;
  const float scale = 1.0f / sqrtf ((float) Dh);
  const int b = job / H, h = job % H;
  const size_t off = (size_t) b * N * ld + (size_t) h * Dh;
  const float *q = j->qkv + off, *k = q + C, *v = q + 2 * C;
  float *dq = j->dqkv + off, *dk = dq + C, *dv = dq + 2 * C;
  const float *p = j->att + (size_t) job * N * N;
  const float *dO = j->dout + (size_t) b * N * C + (size_t) h * Dh;
  float *ds = j->ds_all ? j->ds_all + (size_t) job * N * N
                        : j->scratch + (size_t) thread * N * N;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, N, N, Dh, 1.0f, dO, C, v, ld,
               0.0f, ds, N);
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, N, Dh, N, 1.0f, p, N, dO, C,
               j->beta, dv, ld);
  softmax_backward_tile (ds, p, N);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, N, Dh, N, scale, ds, N, k, ld,
               j->beta, dq, ld);
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, N, Dh, N, scale, ds, N, q, ld,
               j->beta, dk, ld);
}

void
op_attention_backward (float *dqkv, float *scratch, const float *dout, const float *qkv,
                       const float *att, int B, int N, int H, int Dh)
{
  peac_blas_single_thread ();
  AttBwJob j = { dqkv, scratch, dout, qkv, att, N, H, Dh, 1.0f, NULL };
  peac_parallel_for (B * H, peac_threads_get (), attention_backward_job, &j);
}

void
op_attention_backward_set (float *dqkv, float *scratch, const float *dout, const float *qkv,
                           const float *att, int B, int N, int H, int Dh)
{
  peac_blas_single_thread ();
  AttBwJob j = { dqkv, scratch, dout, qkv, att, N, H, Dh, 0.0f, NULL };
  peac_parallel_for (B * H, peac_threads_get (), attention_backward_job, &j);
}

void
op_attention_backward_ds (float *dqkv, float *ds, const float *dout, const float *qkv,
                          const float *att, int B, int N, int H, int Dh)
{
  peac_blas_single_thread ();
  AttBwJob j = { dqkv, NULL, dout, qkv, att, N, H, Dh, 0.0f, ds };
  peac_parallel_for (B * H, peac_threads_get (), attention_backward_job, &j);
}

// The same in plain loops with double accumulation, recomputing P from qkv (no cache).
void
op_attention_backward_naive (float *dqkv, const float *dout, const float *qkv, int B, int N,
                             int H, int Dh)
{
  const int C = H * Dh, ld = 3 * C;
  const double scale = 1.0 / sqrt ((double) Dh);
  double *p = malloc ((size_t) N * N * sizeof *p), *dp = malloc ((size_t) N * N * sizeof *dp);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      {
        const size_t off = (size_t) b * N * ld + (size_t) h * Dh;
#define Q(i, e) qkv[off + (size_t) (i) * ld + (e)]
#define K(i, e) qkv[off + (size_t) (i) * ld + C + (e)]
#define V(i, e) qkv[off + (size_t) (i) * ld + 2 * C + (e)]
#define DO(i, e) dout[((size_t) b * N + (i)) * C + (size_t) h * Dh + (e)]
        for (int i = 0; i < N; i++)
          {
            double m = -INFINITY, z = 0.0;
            for (int j = 0; j < N; j++)
              {
                double s = 0.0;
                for (int e = 0; e < Dh; e++)
                  s += (double) Q (i, e) * K (j, e);
                p[(size_t) i * N + j] = s * scale;
                m = p[(size_t) i * N + j] > m ? p[(size_t) i * N + j] : m;
              }
            for (int j = 0; j < N; j++)
              z += p[(size_t) i * N + j] = exp (p[(size_t) i * N + j] - m);
            double s = 0.0;
            for (int j = 0; j < N; j++)
              {
                p[(size_t) i * N + j] /= z;
                double g = 0.0;
                for (int e = 0; e < Dh; e++)
                  g += (double) DO (i, e) * V (j, e);
                dp[(size_t) i * N + j] = g;
                s += g * p[(size_t) i * N + j];
              }
            for (int j = 0; j < N; j++)
              dp[(size_t) i * N + j] = p[(size_t) i * N + j] * (dp[(size_t) i * N + j] - s);
          }
        for (int i = 0; i < N; i++)
          for (int e = 0; e < Dh; e++)
            {
              double gq = 0.0, gk = 0.0, gv = 0.0;
              for (int j = 0; j < N; j++)
                {
                  gq += dp[(size_t) i * N + j] * K (j, e);
                  gk += dp[(size_t) j * N + i] * Q (j, e);
                  gv += p[(size_t) j * N + i] * DO (j, e);
                }
              dqkv[off + (size_t) i * ld + e] += (float) (scale * gq);
              dqkv[off + (size_t) i * ld + C + e] += (float) (scale * gk);
              dqkv[off + (size_t) i * ld + 2 * C + e] += (float) gv;
            }
#undef Q
#undef K
#undef V
#undef DO
      }
  free (p);
  free (dp);
}
