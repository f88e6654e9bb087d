// SPDX-License-Identifier: GPL-3.0-or-later
//
// ops-internal: helpers shared by the engine's op files and not part of the public op
// API: the target_clones marker that compiles hot loops for AVX-512, AVX2+FMA and the
// baseline, and branch-free float exp/erfc that GCC can vectorise (libm's are scalar
// calls under the flags we build with).
#pragma once

#include <stdint.h>
#include <string.h>

// Loops with selects (clamps, sign cases) only vectorise when GCC may assume that float
// comparisons raise no observable exceptions; the engine never inspects FP flags.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize ("no-trapping-math")
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PEAC_CLONES __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PEAC_CLONES
#endif

// exp(x) for float x, relative error ≈ 1e-7 (Cody–Waite reduction x = n·ln2 + r with a
// two-part ln2, degree-6 polynomial for e^r on |r| ≤ ln2/2, 2^n put in the exponent bits).
// Inputs below −87.3 return ≈ 0 (flushed near the smallest normal), above 88.3 saturate.
static inline float
peac_expf (float x)
{
  x = x < -87.3f ? -87.3f : x;
  x = x > 88.3f ? 88.3f : x;
  float n = __builtin_floorf (x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  // Shifted as unsigned: a NaN x gives n + 127 < 0, and a NaN result either way.
  uint32_t bits = (uint32_t) ((int32_t) n + 127) << 23;
  float scale;
  memcpy (&scale, &bits, sizeof scale);
  return y * scale;
}

// erfc(z) for z ≥ 0 with fractional error < 1.2e-7: the Chebyshev-fitted form
// erfc(z) ≈ t · exp(−z² + P(t)), t = 1 / (1 + z/2), P a degree-9 polynomial
// (Press et al., Numerical Recipes §6.2).
static inline float
peac_erfcf_pos (float z)
{
  float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  return t * peac_expf (-z * z + p);
}

// Reductions over a row in 16 independent partial sums (or maxima), combined at the end.
// A plain `s += x[c]` is one dependent chain that C forbids GCC to reassociate, so it
// neither vectorises nor pipelines: LayerNorm ran at 2.2 ns per element, and the chain
// kept softmax's exp loop scalar too. Inline, so they take the caller's target clone.
static inline float
peac_sum16 (const float *x, int n)
{
  float a[16] = { 0 };
  int c = 0;
  for (; c + 16 <= n; c += 16)
    for (int k = 0; k < 16; k++)
      a[k] += x[c + k];
  for (int k = 0; c < n; c++, k++)
    a[k] += x[c];
  float s = 0.0f;
  for (int k = 0; k < 16; k++)
    s += a[k];
  return s;
}

// Σ (x[c] − mu)²
static inline float
peac_sumsq16 (const float *x, float mu, int n)
{
  float a[16] = { 0 };
  int c = 0;
  for (; c + 16 <= n; c += 16)
    for (int k = 0; k < 16; k++)
      {
        float d = x[c + k] - mu;
        a[k] += d * d;
      }
  for (int k = 0; c < n; c++, k++)
    {
      float d = x[c] - mu;
      a[k] += d * d;
    }
  float s = 0.0f;
  for (int k = 0; k < 16; k++)
    s += a[k];
  return s;
}

static inline float
peac_max16 (const float *x, int n)
{
  float a[16];
  for (int k = 0; k < 16; k++)
    a[k] = x[0];
  int c = 0;
  for (; c + 16 <= n; c += 16)
    for (int k = 0; k < 16; k++)
      a[k] = x[c + k] > a[k] ? x[c + k] : a[k];
  for (int k = 0; c < n; c++, k++)
    a[k] = x[c] > a[k] ? x[c] : a[k];
  float m = a[0];
  for (int k = 1; k < 16; k++)
    m = a[k] > m ? a[k] : m;
  return m;
}

// Puts OpenBLAS in single-threaded mode (the engine splits GEMMs over its own threads).
void peac_blas_single_thread (void);

// In-place softmax of one row of n floats (max-subtracted).
void peac_softmax_row (float *x, int n);
