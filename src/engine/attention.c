// SPDX-License-Identifier: GPL-3.0-or-later
//
// attention: multi-head scaled dot-product self-attention over the packed qkv rows that a
// timm/Microsoft qkv Linear produces, with the optional additive bias and mask Swin needs.
// Q, K and V are read in place through leading dimensions (no head split copies); the only
// N×N memory is one score tile per thread, or the caller's probability cache. One
// 197×197×64 GEMM is too small to gain from two BLAS threads, so the parallelism is over
// images × heads on the engine's pool, each GEMM single-threaded (as everywhere). Without
// a cache, tiles up to 256 tokens go through the AVX2 kernel of attention-tile.c instead
// of two BLAS calls (Swin's 49×49×32 windows: 5–15 % faster per call, measured).
#include "ops.h"
#include "ops-internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "attention-tile.h"
#include "pool.h"

// Per thread: one N×N score tile for the BLAS path, or the tile kernel's work memory.
static size_t
per_thread_floats (int N)
{
  size_t nn = (size_t) N * (size_t) N, tile = peac_attention_tile_floats (N);
  return nn > tile ? nn : tile;
}

size_t
op_attention_scratch_floats (int N)
{
  return (size_t) peac_threads_get () * per_thread_floats (N);
}

// s[N, N] += bias[N, N] (if any) + mask[N, N] (if any), then row softmax.
static PEAC_CLONES void
bias_mask_softmax (float *s, const float *bias, const float *mask, int N)
{
  for (int i = 0; i < N; i++)
    {
      float *r = s + (size_t) i * N;
      if (bias)
        {
          const float *br = bias + (size_t) i * N;
          for (int j = 0; j < N; j++)
            r[j] += br[j];
        }
      if (mask)
        {
          const float *mr = mask + (size_t) i * N;
          for (int j = 0; j < N; j++)
            r[j] += mr[j];
        }
      peac_softmax_row (r, N);
    }
}

typedef struct {
  float       *out, *att, *scratch;
  const float *qkv, *bias, *mask;
  int          nmask, N, H, Dh, tile;
} AttentionJob;

// One (image, head) pair: P = softmax(scale · Q·Kᵀ + bias + mask), out = P·V.
static void
attention_job (void *ctx, int job, int thread)
{
  const AttentionJob *j = ctx;
  const int N = j->N, H = j->H, Dh = j->Dh, C = H * Dh, ld = 3 * C;
  const int b = job / H, h = job % H;
  const float scale = 1.0f / sqrtf ((float) Dh);
  // q, k, v of image b, head h: rows of stride 3C starting at column h·Dh (+ C, + 2C).
  const float *q = j->qkv + (size_t) b * N * ld + (size_t) h * Dh;
  const float *k = q + C;
  const float *v = q + 2 * C;
  const float *bias = j->bias ? j->bias + (size_t) h * N * N : NULL;
  const float *mask = j->mask ? j->mask + (size_t) (b % j->nmask) * N * N : NULL;
  float *o = j->out + (size_t) b * N * C + (size_t) h * Dh;
  if (j->tile)
    {
      peac_attention_tile (o, C, q, k, v, ld, bias, mask, N, Dh, scale,
                           j->scratch + (size_t) thread * per_thread_floats (N));
      return;
    }
  float *p = j->att ? j->att + (size_t) job * N * N
                    : j->scratch + (size_t) thread * per_thread_floats (N);
  // P[N, N] = scale · Q[N, Dh] · K[N, Dh]ᵀ
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, N, N, Dh,
               scale, q, ld, k, ld, 0.0f, p, N);
  bias_mask_softmax (p, bias, mask, N);
  // out[b, :, h, :] = P[N, N] · V[N, Dh], written with row stride C.
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, N, Dh, N,
               1.0f, p, N, v, ld, 0.0f, o, C);
}

void
op_attention_forward (float *out, float *att, float *scratch, const float *qkv,
                      const float *bias, const float *mask, int nmask,
                      int B, int N, int H, int Dh)
{
  peac_blas_single_thread ();
  // The probability cache (training) keeps the BLAS path, which writes P out whole.
  int tile = !att && peac_attention_tile_ok (N, Dh);
  AttentionJob j = { out, att, scratch, qkv, bias, mask, nmask > 0 ? nmask : 1, N, H, Dh,
                     tile };
  peac_parallel_for (B * H, peac_threads_get (), attention_job, &j);
}

void
op_attention_forward_naive (float *out, const float *qkv, const float *bias,
                            const float *mask, int nmask, int B, int N, int H, int Dh)
{
  const int C = H * Dh, ld = 3 * C;
  const double scale = 1.0 / sqrt ((double) Dh);
  double *s = malloc ((size_t) N * sizeof *s);
  for (int b = 0; b < B; b++)
    for (int h = 0; h < H; h++)
      for (int i = 0; i < N; i++)
        {
          const float *q = qkv + ((size_t) b * N + i) * ld + (size_t) h * Dh;
          double m = -INFINITY, z = 0.0;
          for (int j = 0; j < N; j++)
            {
              const float *k = qkv + ((size_t) b * N + j) * ld + C + (size_t) h * Dh;
              double d = 0.0;
              for (int e = 0; e < Dh; e++)
                d += (double) q[e] * k[e];
              d *= scale;
              if (bias)
                d += bias[((size_t) h * N + i) * N + j];
              if (mask)
                d += mask[((size_t) (b % nmask) * N + i) * N + j];
              s[j] = d;
              m = d > m ? d : m;
            }
          for (int j = 0; j < N; j++)
            {
              s[j] = exp (s[j] - m);
              z += s[j];
            }
          float *o = out + ((size_t) b * N + i) * C + (size_t) h * Dh;
          for (int e = 0; e < Dh; e++)
            {
              double acc = 0.0;
              for (int j = 0; j < N; j++)
                acc += s[j] * qkv[((size_t) b * N + j) * ld + 2 * C + (size_t) h * Dh + e];
              o[e] = (float) (acc / z);
            }
        }
  free (s);
}
