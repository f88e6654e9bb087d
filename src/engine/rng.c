// SPDX-License-Identifier: GPL-3.0-or-later
//
// rng: xoshiro256** (Blackman & Vigna) seeded by splitmix64, and the distributions the
// engine's initialisers need.
#include "rng.h"

#include <math.h>

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void
peac_rng_seed (PeacRng *r, uint64_t seed)
{
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64 (&seed);
}

static uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

uint64_t
peac_rng_u64 (PeacRng *r)
{
  uint64_t *s = r->s;
  uint64_t out = rotl (s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return out;
}

double
peac_rng_uniform (PeacRng *r)
{
  return (double) (peac_rng_u64 (r) >> 11) * 0x1.0p-53;
}

double
peac_rng_normal (PeacRng *r)
{
  // Box–Muller, one of the pair used so that the stream does not depend on call parity.
  double u1 = 1.0 - peac_rng_uniform (r), u2 = peac_rng_uniform (r);
  return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

void
peac_rng_trunc_normal (PeacRng *r, float *out, size_t n, double std, double lo, double hi)
{
  for (size_t i = 0; i < n; i++)
    {
      double v;
      do
        v = std * peac_rng_normal (r);
      while (v < lo || v > hi);
      out[i] = (float) v;
    }
}
