// SPDX-License-Identifier: GPL-3.0-or-later
//
// attention-tile: one (image, head) of scaled dot-product attention computed in registers
// with AVX2+FMA, for the small tiles where a BLAS call costs more than its arithmetic.
// Swin's window attention is 49×49×32 per window and head: through cblas_sgemm it ran at
// 7–10 GFLOP/s per core (call and packing overhead on 150 kFLOP), a third of Swin-B's time.
// Here Kᵀ (pre-scaled by 1/√Dh) is laid out once per tile as [Dh, NP] (NP = N rounded up
// to 8, zero-padded) and V copied to [N, Dh] — both read row by row, since the rows of
// one head sit 3C floats apart in qkv and for wide layers (C = 1024: 12 KiB) they all
// fall into one L1 set — then
//   S[N, NP] = Q[N, Dh] · Kᵀ[Dh, NP]   two rows × up to four 8-wide vectors per step,
//   S += bias + mask, E = exp(S − row max) over the first N columns (vectorised exp),
//   O[N, Dh] = (E[N, :N] · V[N, Dh]) / row sums   two rows × up to four vectors per step,
// all single-threaded (the caller parallelises over images × heads). Compiled for
// AVX2+FMA with a target attribute and chosen at run time; other CPUs use the BLAS path.
#include "attention-tile.h"
#include "ops-internal.h"

#include <stddef.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TILE_X86 1
#endif

int
peac_attention_tile_ok (int N, int Dh)
{
#ifdef TILE_X86
  static int have = -1;
  if (have < 0)
    {
      __builtin_cpu_init ();
      have = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
    }
  return have && N >= 2 && N <= PEAC_TILE_MAX_N && Dh % 8 == 0 && Dh <= PEAC_TILE_MAX_DH;
#else
  (void) N, (void) Dh;
  return 0;
#endif
}

size_t
peac_attention_tile_floats (int N)
{
  size_t np = ((size_t) N + 7) & ~(size_t) 7;
  // Kᵀ [MAX_DH, NP], V [N, MAX_DH] and S [N + 1, NP] (one spare row so that row pairs
  // never run off the end)
  return np * PEAC_TILE_MAX_DH + (size_t) N * PEAC_TILE_MAX_DH + np * ((size_t) N + 1);
}

#ifdef TILE_X86

#define TARGET __attribute__ ((target ("avx2,fma")))
// Keeps a loaded vector in a register: left alone, GCC folds it into both FMAs that use
// it as a memory operand, and two loads per FMA pair make the loops load-bound.
#define PIN(v) __asm__ ("" : "+x" (v))

// e^x on 8 lanes: the same Cody–Waite reduction and degree-6 polynomial as peac_expf
// (ops-internal.h), so both paths agree to rounding; inputs below −87.3 give ≈ 0.
static inline TARGET __m256
exp8 (__m256 x)
{
  x = _mm256_max_ps (x, _mm256_set1_ps (-87.3f));
  x = _mm256_min_ps (x, _mm256_set1_ps (88.3f));
  __m256 n = _mm256_floor_ps (_mm256_fmadd_ps (x, _mm256_set1_ps (1.44269504088896341f),
                                               _mm256_set1_ps (0.5f)));
  __m256 r = _mm256_fnmadd_ps (n, _mm256_set1_ps (0.693359375f), x);
  r = _mm256_fmadd_ps (n, _mm256_set1_ps (2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps (1.9875691500e-4f);
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.3981999507e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (8.3334519073e-3f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (4.1665795894e-2f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (1.6666665459e-1f));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (5.0000001201e-1f));
  __m256 y = _mm256_fmadd_ps (_mm256_mul_ps (p, r), r, _mm256_add_ps (r, _mm256_set1_ps (1.0f)));
  __m256i e = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_cvtps_epi32 (n),
                                                   _mm256_set1_epi32 (127)), 23);
  return _mm256_mul_ps (y, _mm256_castsi256_ps (e));
}

static inline TARGET float
hmax8 (__m256 v)
{
  __m128 m = _mm_max_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));
  m = _mm_max_ps (m, _mm_movehl_ps (m, m));
  m = _mm_max_ss (m, _mm_movehdup_ps (m));
  return _mm_cvtss_f32 (m);
}

static inline TARGET float
hsum8 (__m256 v)
{
  __m128 m = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));
  m = _mm_add_ps (m, _mm_movehl_ps (m, m));
  m = _mm_add_ss (m, _mm_movehdup_ps (m));
  return _mm_cvtss_f32 (m);
}

// Row i of S [NP]: += bias[i, :N] + mask[i, :N]; padding columns set to −1e30 so that they
// take no weight; then e^(s − max) in place. Returns 1 / Σ (the caller scales the output
// rows instead of P).
static TARGET float
softmax_row (float *r, const float *bias, const float *mask, int N, int np)
{
  int j = 0;
  for (; j + 8 <= N; j += 8)
    {
      __m256 x = _mm256_loadu_ps (r + j);
      if (bias)
        x = _mm256_add_ps (x, _mm256_loadu_ps (bias + j));
      if (mask)
        x = _mm256_add_ps (x, _mm256_loadu_ps (mask + j));
      _mm256_storeu_ps (r + j, x);
    }
  for (; j < N; j++)
    r[j] += (bias ? bias[j] : 0.0f) + (mask ? mask[j] : 0.0f);
  for (; j < np; j++)
    r[j] = -1e30f;
  __m256 m = _mm256_loadu_ps (r);
  for (j = 8; j < np; j += 8)
    m = _mm256_max_ps (m, _mm256_loadu_ps (r + j));
  __m256 mx = _mm256_set1_ps (hmax8 (m)), z = _mm256_setzero_ps ();
  for (j = 0; j < np; j += 8)
    {
      __m256 e = exp8 (_mm256_sub_ps (_mm256_loadu_ps (r + j), mx));
      _mm256_storeu_ps (r + j, e);
      z = _mm256_add_ps (z, e);
    }
  return 1.0f / hsum8 (z);
}

// S rows r0, r1 (r1 may repeat r0 for an odd tail: then s1 is a spare row), columns
// [c, c + 8·nv): acc = Σ_e q[e] · Kᵀ[e, ·], nv ∈ 1…4 known per call site.
static inline TARGET void
scores_block (float *s0, float *s1, const float *q0, const float *q1, const float *kt,
              int np, int Dh, int c, int nv)
{
  __m256 a0[4], a1[4];
  for (int v = 0; v < 4; v++)
    a0[v] = _mm256_setzero_ps (), a1[v] = _mm256_setzero_ps ();
  for (int e = 0; e < Dh; e++)
    {
      const float *kr = kt + (size_t) e * np + c;
      __m256 b0 = _mm256_broadcast_ss (q0 + e), b1 = _mm256_broadcast_ss (q1 + e);
      for (int v = 0; v < nv; v++)
        {
          __m256 k = _mm256_loadu_ps (kr + 8 * v);
          PIN (k);
          a0[v] = _mm256_fmadd_ps (b0, k, a0[v]);
          a1[v] = _mm256_fmadd_ps (b1, k, a1[v]);
        }
    }
  for (int v = 0; v < nv; v++)
    {
      _mm256_storeu_ps (s0 + c + 8 * v, a0[v]);
      _mm256_storeu_ps (s1 + c + 8 * v, a1[v]);
    }
}

// O rows r0, r1, columns [c, c + 8·nv) of Dh: acc = Σ_j P[r, j] · V[j, ·].
static inline TARGET void
values_block (float *o0, float *o1, const float *p0, const float *p1, float z0, float z1,
              const float *v, int ldv, int N, int c, int nv)
{
  __m256 a0[4], a1[4];
  for (int u = 0; u < 4; u++)
    a0[u] = _mm256_setzero_ps (), a1[u] = _mm256_setzero_ps ();
  for (int j = 0; j < N; j++)
    {
      const float *vr = v + (size_t) j * ldv + c;
      __m256 b0 = _mm256_broadcast_ss (p0 + j), b1 = _mm256_broadcast_ss (p1 + j);
      for (int u = 0; u < nv; u++)
        {
          __m256 x = _mm256_loadu_ps (vr + 8 * u);
          PIN (x);
          a0[u] = _mm256_fmadd_ps (b0, x, a0[u]);
          a1[u] = _mm256_fmadd_ps (b1, x, a1[u]);
        }
    }
  __m256 s0 = _mm256_set1_ps (z0), s1 = _mm256_set1_ps (z1);
  for (int u = 0; u < nv; u++)
    {
      _mm256_storeu_ps (o0 + c + 8 * u, _mm256_mul_ps (a0[u], s0));
      _mm256_storeu_ps (o1 + c + 8 * u, _mm256_mul_ps (a1[u], s1));
    }
}

// The four-vector blocks are instantiated with a constant so GCC keeps a0/a1 in registers.
static TARGET void
scores (float *S, const float *q, int ldq, const float *kt, int N, int np, int Dh)
{
  for (int i = 0; i < N; i += 2)
    {
      const float *q0 = q + (size_t) i * ldq;
      const float *q1 = i + 1 < N ? q0 + ldq : q0;
      float *s0 = S + (size_t) i * np, *s1 = s0 + np;
      int c = 0;
      for (; c + 32 <= np; c += 32)
        scores_block (s0, s1, q0, q1, kt, np, Dh, c, 4);
      // The last 1–3 vectors in one block: one vector at a time would leave two FMA
      // chains waiting on their own latency.
      switch ((np - c) / 8)
        {
        case 3: scores_block (s0, s1, q0, q1, kt, np, Dh, c, 3); break;
        case 2: scores_block (s0, s1, q0, q1, kt, np, Dh, c, 2); break;
        case 1: scores_block (s0, s1, q0, q1, kt, np, Dh, c, 1); break;
        default: break;
        }
    }
}

static TARGET void
values (float *o, int ldo, const float *S, const float *inv, const float *v, int ldv, int N,
        int np, int Dh, float *spare)
{
  for (int i = 0; i < N; i += 2)
    {
      const float *p0 = S + (size_t) i * np;
      const float *p1 = i + 1 < N ? p0 + np : p0;
      float z0 = inv[i], z1 = i + 1 < N ? inv[i + 1] : 0.0f;
      float *o0 = o + (size_t) i * ldo, *o1 = i + 1 < N ? o0 + ldo : spare;
      int c = 0;
      for (; c + 32 <= Dh; c += 32)
        values_block (o0, o1, p0, p1, z0, z1, v, ldv, N, c, 4);
      switch ((Dh - c) / 8)
        {
        case 3: values_block (o0, o1, p0, p1, z0, z1, v, ldv, N, c, 3); break;
        case 2: values_block (o0, o1, p0, p1, z0, z1, v, ldv, N, c, 2); break;
        case 1: values_block (o0, o1, p0, p1, z0, z1, v, ldv, N, c, 1); break;
        default: break;
        }
    }
}

void
peac_attention_tile (float *out, int ldo, const float *q, const float *k, const float *v,
                     int ld, const float *bias, const float *mask, int N, int Dh, float scale,
                     float *work)
{
  const int np = (N + 7) & ~7;
  float *kt = work, *vc = kt + (size_t) np * PEAC_TILE_MAX_DH;
  float *S = vc + (size_t) N * PEAC_TILE_MAX_DH;
  // Kᵀ[e, j] = scale · K[j, e], zero for the padding columns j ≥ N; vc[j, e] = V[j, e].
  for (int j = 0; j < N; j++)
    {
      const float *kr = k + (size_t) j * ld, *vr = v + (size_t) j * ld;
      for (int e = 0; e < Dh; e++)
        kt[(size_t) e * np + j] = scale * kr[e];
      for (int e = 0; e < Dh; e++)
        vc[(size_t) j * Dh + e] = vr[e];
    }
  for (int e = 0; e < Dh; e++)
    for (int j = N; j < np; j++)
      kt[(size_t) e * np + j] = 0.0f;
  scores (S, q, ld, kt, N, np, Dh);
  // 1 / row sums go into the spare row of S, which the row pairs are done with.
  float *inv = S + (size_t) N * np;
  for (int i = 0; i < N; i++)
    inv[i] = softmax_row (S + (size_t) i * np, bias ? bias + (size_t) i * N : NULL,
                          mask ? mask + (size_t) i * N : NULL, N, np);
  // The odd tail row's partner output goes to Kᵀ's storage, no longer needed.
  values (out, ldo, S, inv, vc, Dh, N, np, Dh, kt);
}

#else

void
peac_attention_tile (float *out, int ldo, const float *q, const float *k, const float *v,
                     int ld, const float *bias, const float *mask, int N, int Dh, float scale,
                     float *work)
{
  (void) out, (void) ldo, (void) q, (void) k, (void) v, (void) ld, (void) bias;
  (void) mask, (void) N, (void) Dh, (void) scale, (void) work;
}

#endif
