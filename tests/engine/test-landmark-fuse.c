// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-landmark-fuse: the fusion arithmetic of multi-reference propagation and the
// cardiothoracic ratio (landmark-fuse.h) against values worked out by hand in the comments:
// weighted medians with and without a tie at half the weight, a fused point that ignores an
// outlier and the spread around it, the top-K choice of references, a point's distance to a
// square's contour, and the ratio of a small synthetic heart and pair of lungs.
#include <glib.h>
#include <math.h>

#include "landmark-fuse.h"

static void
test_weighted_median (void)
{
  // Sorted 1(w1) 3(w1) 5(w1) 10(w3): total 6, the cumulative weight reaches exactly 3 at 5,
  // so the median is halfway to the next value: (5 + 10) / 2.
  const double v[4] = { 5, 1, 3, 10 };
  const double w1[4] = { 1, 1, 1, 3 };
  g_assert_cmpfloat_with_epsilon (peac_weighted_median (v, w1, 4), 7.5, 1e-12);
  // Sorted 1(w2) 3(w1) 5(w1) 10(w1): total 5, half 2.5, first reached at 3.
  const double w2[4] = { 1, 2, 1, 1 };
  g_assert_cmpfloat_with_epsilon (peac_weighted_median (v, w2, 4), 3.0, 1e-12);
  // A zero weight leaves its value out; no positive weight gives NaN.
  const double v3[2] = { 100, 2 }, w3[2] = { 0, 1 }, w0[2] = { 0, -1 };
  g_assert_cmpfloat_with_epsilon (peac_weighted_median (v3, w3, 2), 2.0, 1e-12);
  g_assert_true (isnan (peac_weighted_median (v3, w0, 2)));
  // Equal weights, odd count: the middle value.
  const double v5[5] = { 9, -2, 4, 7, 0 }, e5[5] = { 1, 1, 1, 1, 1 };
  g_assert_cmpfloat_with_epsilon (peac_weighted_median (v5, e5, 5), 4.0, 1e-12);
}

static void
test_fuse (void)
{
  // Five answers, one far off: x sorted 1 2 2 3 100 → 2, y sorted 1 1 2 3 100 → 2. The
  // distances to (2, 2) are √2, 0, 98√2, √2, 1; sorted 0 1 √2 √2 98√2 → spread √2.
  const double xy[10] = { 1, 1, 2, 2, 100, 100, 3, 1, 2, 3 }, w[5] = { 1, 1, 1, 1, 1 };
  double out[2], spread;
  g_assert_cmpint (peac_fuse_points (xy, w, 5, out, &spread), ==, 0);
  g_assert_cmpfloat_with_epsilon (out[0], 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (out[1], 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (spread, sqrt (2.0), 1e-12);
  // Weights decide: the reference with weight 3 of 5 carries both coordinates, and two of
  // the three distances by weight are 0 → spread 0.
  const double xy2[6] = { 10, 20, 30, 40, 50, 60 }, w2[3] = { 1, 3, 1 };
  g_assert_cmpint (peac_fuse_points (xy2, w2, 3, out, &spread), ==, 0);
  g_assert_cmpfloat_with_epsilon (out[0], 30.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (out[1], 40.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (spread, 0.0, 1e-12);
  // One answer: itself, no spread.
  g_assert_cmpint (peac_fuse_points (xy2, w2, 1, out, &spread), ==, 0);
  g_assert_cmpfloat (out[0], ==, 10.0);
  g_assert_cmpfloat (spread, ==, 0.0);
  const double wz[3] = { 0, 0, 0 };
  g_assert_cmpint (peac_fuse_points (xy2, wz, 3, out, &spread), ==, -1);
}

static void
test_top_k (void)
{
  const double sim[5] = { 0.5, 0.9, 0.1, 0.9, 0.7 };
  int out[5];
  g_assert_cmpint (peac_top_k (sim, 5, 3, out), ==, 3);
  g_assert_cmpint (out[0], ==, 1); // tie 0.9: lower index first
  g_assert_cmpint (out[1], ==, 3);
  g_assert_cmpint (out[2], ==, 4);
  g_assert_cmpint (peac_top_k (sim, 5, 10, out), ==, 5);
  const int all[5] = { 1, 3, 4, 0, 2 };
  for (int i = 0; i < 5; i++)
    g_assert_cmpint (out[i], ==, all[i]);
}

static void
test_contour (void)
{
  // Unit square (0,0) (4,0) (4,4) (0,4), closed. (2, 1): 1 from the bottom edge; (5, 2): 1
  // beyond the right edge; (-3, -4): 5 from the corner (0, 0); (1, 2) inside: 1 from the
  // left edge — the closing edge (0,4)→(0,0) counts.
  const double sq[8] = { 0, 0, 4, 0, 4, 4, 0, 4 };
  const double p1[2] = { 2, 1 }, p2[2] = { 5, 2 }, p3[2] = { -3, -4 }, p4[2] = { 1, 2 };
  g_assert_cmpfloat_with_epsilon (peac_contour_distance (sq, 4, p1), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (peac_contour_distance (sq, 4, p2), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (peac_contour_distance (sq, 4, p3), 5.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (peac_contour_distance (sq, 4, p4), 1.0, 1e-12);
  // Two points: one segment, not closed; one point: the distance to it.
  g_assert_cmpfloat_with_epsilon (peac_contour_distance (sq, 2, p1), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (peac_contour_distance (sq, 1, p3), 5.0, 1e-12);
  g_assert_true (isinf (peac_contour_distance (sq, 0, p1)));
}

static void
test_ctr (void)
{
  // Heart: x from 40 (at y 50) to 60 (at y 45) → width 20, line at y 47.5. Lungs: x from 5
  // (RL, y 60) to 95 (LL, y 60) → width 90, line at y 60. Ratio 20 / 90 = 0.2̅.
  const double heart[8] = { 40, 50, 60, 45, 55, 70, 45, 65 };
  const double lungs[12] = { 10, 20, 30, 80, 5, 60, 70, 20, 95, 60, 85, 80 };
  PeacCtr c;
  g_assert_cmpint (peac_ctr (heart, 4, lungs, 6, &c), ==, 0);
  g_assert_cmpfloat_with_epsilon (c.heart_width, 20.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (c.thorax_width, 90.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (c.ratio, 2.0 / 9.0, 1e-12);
  const double hl[4] = { 40, 47.5, 60, 47.5 }, tl[4] = { 5, 60, 95, 60 };
  for (int i = 0; i < 4; i++)
    {
      g_assert_cmpfloat_with_epsilon (c.heart[i], hl[i], 1e-12);
      g_assert_cmpfloat_with_epsilon (c.thorax[i], tl[i], 1e-12);
    }
  // Degenerate: one heart point, or lungs without width.
  g_assert_cmpint (peac_ctr (heart, 1, lungs, 6, &c), ==, -1);
  const double flat[4] = { 7, 1, 7, 9 };
  g_assert_cmpint (peac_ctr (heart, 4, flat, 2, &c), ==, -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/landmark-fuse/weighted-median", test_weighted_median);
  g_test_add_func ("/landmark-fuse/fuse", test_fuse);
  g_test_add_func ("/landmark-fuse/top-k", test_top_k);
  g_test_add_func ("/landmark-fuse/contour", test_contour);
  g_test_add_func ("/landmark-fuse/ctr", test_ctr);
  return g_test_run ();
}
