// SPDX-License-Identifier: GPL-3.0-or-later
//
// rng: the engine's deterministic random numbers. A xoshiro256** state seeded through
// splitmix64, uniform floats from the top 24 bits, normals by Box–Muller, truncated
// normals by rejection. Same seed → same stream on every machine; no global state.
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint64_t s[4];
} PeacRng;

void     peac_rng_seed (PeacRng *r, uint64_t seed);
uint64_t peac_rng_u64 (PeacRng *r);
// Uniform in [0, 1).
double   peac_rng_uniform (PeacRng *r);
// Standard normal.
double   peac_rng_normal (PeacRng *r);
// n values of N(0, std²) redrawn until inside [lo, hi] (timm's trunc_normal_ bounds).
void     peac_rng_trunc_normal (PeacRng *r, float *out, size_t n, double std, double lo,
                                double hi);
