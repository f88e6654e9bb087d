// SPDX-License-Identifier: GPL-3.0-or-later
//
// landmark-fuse: the arithmetic of multi-reference landmark propagation and of the
// cardiothoracic ratio — the robust fusion of K answers for one point (a weighted median
// per coordinate, with their spread), the choice of the K references most similar to a
// target, the distance of a point to a structure's contour, and the ratio of the heart's
// widest horizontal extent to the thorax's. Plain
// numbers in, plain numbers out: no images, no files, no model.
#pragma once

#include <stddef.h>

// The weighted median of v [n] under weights w [n] (> 0; non-positive ones are left out):
// the smallest value at which the cumulative weight of the sorted values reaches half the
// total; when it reaches exactly half, the mean of that value and the next. NaN when no
// weight is positive. Does not modify its inputs.
double peac_weighted_median (const double *v, const double *w, int n);

// Fuses K answers xy [k, 2] with weights w [k] into out [2]: the weighted median of x and
// of y separately. spread receives the weighted median of the answers' distances to the
// fused point (0 for one answer): half the answers by weight lie within it. Returns 0, or −1
// when no weight is positive.
int peac_fuse_points (const double *xy, const double *w, int k, double out[2],
                      double *spread);

// The k indices of sim [n] with the largest values, best first (ties: lower index first);
// out [k]. Returns min(k, n).
int peac_top_k (const double *sim, int n, int k, int *out);

// Distance from p to the closed polygon through poly [n, 2] in order (the segment from the
// last point back to the first included when n > 2; one point: the distance to it).
// INFINITY when n < 1.
double peac_contour_distance (const double *poly, int n, const double p[2]);

// Cardiothoracic ratio from landmark contours (any pixel units, y down). The heart's width
// is the largest horizontal distance between two of its points (max x − min x); the
// thorax's the widest horizontal distance between the lateral borders of the two lungs,
// i.e. max x − min x over the points of both lungs. Each line is drawn horizontally at the
// mean height of the two extreme points that define it.
typedef struct {
  double ratio;                     // heart_width / thorax_width
  double heart_width, thorax_width;
  double heart[4], thorax[4];       // the measured lines: x0, y, x1, y
} PeacCtr;

// heart [nh, 2], lungs [nl, 2] (both lungs' points together). Returns 0, or −1 when a set
// has fewer than two points or the thorax has no width.
int peac_ctr (const double *heart, int nh, const double *lungs, int nl, PeacCtr *out);
