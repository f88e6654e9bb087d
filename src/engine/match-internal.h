// SPDX-License-Identifier: GPL-3.0-or-later
//
// match-internal: the match context's layout, shared by match.c (context, queries) and
// match-affine.c (best buddies, their spread selection and the RANSAC affine). Not
// installed, not for callers.
#pragma once

#include "match.h"

// A smooth displacement field in target cells over the source grid (match-deform.c): a
// uniform cubic B-spline with control spacing h source cells, control point (a, b) at
// ((a − 1)·h, (b − 1)·h). phi NULL: no field (zero displacement).
typedef struct {
  double h;
  int    nx, ny;
  float *phi;            // [ny, nx, 2] control displacements (du, dv)
} MatchField;

// One grid after normalisation. For targets, also the similarity matrix against the source
// and everything derived from it at context creation.
typedef struct {
  int     gh, gw, n;     // n = gh·gw cells
  double  cw, ch;        // cell size in pixels
  float  *tok;           // [n, dim] L2-normalised tokens (zero rows stay zero)
  float  *ctok;          // [n, dim] the same after subtracting the mean token (centre only)
  // Targets only:
  float  *sim;           // [Ns, n] cosine similarity source cell × target cell
  float  *csim;          // [Ns, n] the same between centred tokens (centre only)
  int    *fwd;           // [Ns] best target cell of each source cell
  int    *bwd;           // [n] best source cell of each target cell
  PeacBuddy *buddies;    // mutual nearest neighbours, in source-cell order
  int     n_buddies;
  double  A[6];          // source cells → target cells: u' = A0 u + A1 v + A2, v' = A3 u + A4 v + A5
  int     inliers;       // RANSAC inliers (0: too few buddies; RANSAC then fell back to
                         // the rescale); A itself is the registration's (match-affine.c)
  MatchField field;      // deformable refinement on top of A (guided mode)
  double  score;         // registration quality of the final map (match-deform.c)
} MatchGrid;

struct PeacMatchContext {
  int             dim;
  PeacMatchParams p;
  MatchGrid       src;
  MatchGrid      *tgt;
  int             n_targets;
};

// Best cell of map [gh, gw] (element (r, c) at map[(r·gw + c)·stride]) among the cells whose
// centres lie within radius of (cu, cv) in cell coordinates (radius < 0: all cells; an empty
// window falls back to the cell nearest the clamped centre). s2 receives the best outside
// the peak's 3×3 neighbourhood within the same window (−INFINITY when there is none).
int  match_find_peak (const float *map, int gh, int gw, size_t stride, float cu, float cv,
                      float radius, float *s1, float *s2);
// Distinctiveness of a peak s1 over the runner-up s2 in [0, 1]: 1 − d₁/d₂ with the
// Euclidean distances of unit vectors d = √(2 − 2s) (Lowe's ratio test); 1 when s2 is −∞.
float match_margin (float s1, float s2);

// Buddies, their distinctiveness and the RANSAC affine of target t (match-affine.c).
int  match_fit_target (PeacMatchContext *ctx, MatchGrid *t);
void match_affine_apply (const double A[6], double u, double v, double *u2, double *v2);

// The deformable refinement of target t on top of its registration affine (match-deform.c);
// leaves t->field. 0, or −1 when out of memory.
int  match_fit_deform (const PeacMatchContext *ctx, MatchGrid *t);
// The field's displacement at source cell coordinates (u, v) (zero without a field).
void match_field_apply (const MatchField *f, double u, double v, double *du, double *dv);
// The full source → target map in cell coordinates: the affine plus the field.
void match_map_apply (const MatchGrid *t, double u, double v, double *u2, double *v2);
