// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-retrieval: landmark ranks by cosine similarity against hand-worked cases. Keys that
// are the queries themselves rank every partner first; a hand-built 3-landmark set has
// ranks worked out on paper (a tie counts against the partner, scale does not matter,
// a zero row has cosine 0); a random set's ranks equal a brute-force count in doubles.
#include <glib.h>
#include <math.h>

#include "retrieval.h"

static void
test_identity (void)
{
  float q[4 * 3] = { 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0 };
  int ranks[4];
  g_assert_cmpint (peac_retrieval_ranks (q, q, 4, 3, ranks), ==, 0);
  for (int i = 0; i < 4; i++)
    g_assert_cmpint (ranks[i], ==, 0);
}

static void
test_hand_worked (void)
{
  // Queries a0 = (1, 0), a1 = (0, 1), a2 = (1, 1). Keys b0 = (0, 2) (scale ignored),
  // b1 = (1, 0), b2 = (0, 0).
  // a0 · keys: cos(b0) = 0, cos(b1) = 1, cos(b2) = 0 → own 0; b1 beats it, b2 ties → rank 2.
  // a1: cos(b0) = 1, cos(b1) = 0 (own), cos(b2) = 0 → b0 beats, b2 ties → rank 2.
  // a2: cos(b0) = cos(b1) = 0.707, own b2 = 0 → rank 2.
  float q[6] = { 1, 0, 0, 1, 1, 1 }, k[6] = { 0, 2, 1, 0, 0, 0 };
  int ranks[3];
  g_assert_cmpint (peac_retrieval_ranks (q, k, 3, 2, ranks), ==, 0);
  g_assert_cmpint (ranks[0], ==, 2);
  g_assert_cmpint (ranks[1], ==, 2);
  g_assert_cmpint (ranks[2], ==, 2);
  // Swapping keys 0 and 1 makes a0 and a1 find their partners first; a2's partner is the
  // zero row, below both.
  float k2[6] = { 1, 0, 0, 2, 0, 0 };
  g_assert_cmpint (peac_retrieval_ranks (q, k2, 3, 2, ranks), ==, 0);
  g_assert_cmpint (ranks[0], ==, 0);
  g_assert_cmpint (ranks[1], ==, 0);
  g_assert_cmpint (ranks[2], ==, 2);
  g_assert_cmpint (peac_retrieval_ranks (q, k, 0, 2, ranks), ==, -1);
}

static void
test_random_brute_force (void)
{
  enum { N = 40, D = 7 };
  GRand *r = g_rand_new_with_seed (3);
  float q[N * D], k[N * D];
  for (int i = 0; i < N * D; i++)
    q[i] = (float) g_rand_double_range (r, -1, 1), k[i] = (float) g_rand_double_range (r, -1, 1);
  int ranks[N];
  g_assert_cmpint (peac_retrieval_ranks (q, k, N, D, ranks), ==, 0);
  for (int i = 0; i < N; i++)
    {
      double cs[N];
      for (int j = 0; j < N; j++)
        {
          double d = 0, nq = 0, nk = 0;
          for (int t = 0; t < D; t++)
            d += (double) q[i * D + t] * k[j * D + t], nq += (double) q[i * D + t] * q[i * D + t],
            nk += (double) k[j * D + t] * k[j * D + t];
          cs[j] = d / sqrt (nq * nk);
        }
      int want = 0;
      for (int j = 0; j < N; j++)
        want += j != i && cs[j] >= cs[i];
      g_assert_cmpint (ranks[i], ==, want);
    }
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/retrieval/identity", test_identity);
  g_test_add_func ("/retrieval/hand-worked", test_hand_worked);
  g_test_add_func ("/retrieval/random-brute-force", test_random_brute_force);
  return g_test_run ();
}
