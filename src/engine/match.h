// SPDX-License-Identifier: GPL-3.0-or-later
//
// match: dense correspondence between the token grids of one source image and N target
// images. A match context copies and L2-normalises every grid once, computes each
// source×target cosine-similarity matrix with one sgemm, the mutual nearest neighbours
// ("best buddies"), a robust source→target affine fitted by RANSAC over them, and then the
// feature-metric registration: the affine under which the source cells are, on average,
// most similar to the target where they land (a coarse search, the RANSAC affine as one
// candidate, then coordinate ascent). After that a query (a point in the source) costs a few
// microseconds per target. Three modes: *nearest* (argmax over the whole target grid),
// *guided* (the query point mapped through the registration and its deformable refinement,
// a smooth displacement field fitted to mutual token matches near the affine's answer) and
// *affine* (through the registration affine alone). Every answer carries a
// confidence that combines the margin of its cell's similarity over the best elsewhere
// (outside its 3×3 neighbourhood) with a consistency check — nearest: matching the peak
// back lands within one cell of the query; guided: the similarity peak within the radius
// lies within one cell of the answer. Below the context's threshold the answer is an
// explicit "no match". Landmark
// propagation, the spread best-buddy selection and a pixel NCC template-matching baseline
// live here too. The context is immutable after creation, so any number of threads may
// query it at once; nothing here keeps global state, and results are deterministic.
//
// Coordinates. Image positions are continuous pixels in which pixel i spans [i, i + 1) (its
// centre is i + 0.5). A grid of gh×gw cells covers an image extent width×height, so cell
// (r, c) spans [c·cw, (c + 1)·cw) × [r·ch, (r + 1)·ch) with cw = width/gw, ch = height/gh.
// "Cell coordinates" are the same divided by the cell size: cell c spans [c, c + 1).
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef enum {
  PEAC_MATCH_GUIDED = 0,   // default: the query mapped through the registration — the affine
                           // and its deformable refinement (params.deform_levels)
  PEAC_MATCH_NEAREST = 1,  // plain nearest token over the whole target
  PEAC_MATCH_AFFINE = 2,   // the query mapped through the registration affine alone
} PeacMatchMode;

// The mode's one name ("guided", "nearest", "affine"), as command lines, the app's actions
// and JSON reports spell it; the mode of a name, or −1 when there is none.
const char *peac_match_mode_name (PeacMatchMode mode);
int         peac_match_mode_parse (const char *name);

typedef enum {
  PEAC_SUBCELL_SOFTARGMAX = 0, // softmax-weighted centre of the peak's 3×3 neighbourhood
  PEAC_SUBCELL_QUADRATIC = 1,  // per-axis parabola through the peak and its two neighbours
  PEAC_SUBCELL_NONE = 2,       // the peak cell's centre
} PeacSubcell;

// One image's token grid. tokens: [gh, gw, dim] row-major, any norm (copied, normalised).
typedef struct {
  const float *tokens;
  int          gh, gw;
  double       width, height; // image extent the grid covers, in pixels
} PeacGrid;

typedef struct {
  float       radius;         // guided: radius in target cells of the window whose similarity
                              // peak must lie within a cell of the answer to be confident
  PeacSubcell subcell;
  float       temperature;    // soft-argmax temperature, in cosine-similarity units
  float       min_confidence; // answers below this are "no match"
  int         bilinear;       // 1: query token bilinearly interpolated at the point and
                              //    renormalised; 0: the containing cell's token, with the
                              //    point's offset inside its cell carried over
  int         centre;         // 1: the registration compares grids minus their mean token,
                              // weighing what sets a cell apart from the rest of its image
                              // rather than what all its cells share (queries, buddies and
                              // the nearest mode use the plain tokens either way)
  int         symmetric;      // 1: the registration is fitted both ways and the answer uses
                              // the mean of the forward affine and the backward one's inverse
                              // (on 400 JSRT pairs: 50.2 → 48.4 px on the patch grid,
                              // 40.1 → 39.4 px at stride 8; twice the registration's cost)
  int         deform_levels;  // deformable refinement after the registration: coarse-to-fine
                              // levels of a B-spline displacement field fitted to the tokens'
                              // mutual similarity peaks near the mapped cells (match-deform.c;
                              // lattice spacing a quarter of the grid, halved per level);
                              // 0: none, the guided mode is then the affine mode
  float       deform_radius;  // search radius of the first level in target cells (halved
                              // per level, at least 1.5)
  float       deform_lambda;  // membrane smoothness of the field, relative to the data term
  int         ransac_iters;
  float       ransac_tol;     // inlier distance in target cells
  uint64_t    seed;           // RANSAC sampling seed
} PeacMatchParams;

// radius 2, soft-argmax at T = 0.05, min_confidence 0.2 (Lowe ratio 0.8), containing-cell tokens,
// centred and symmetric registration, a three-level deformable refinement (radius 3, λ 1),
// 512 RANSAC iterations with a 1-cell tolerance, seed 1.
void peac_match_params_default (PeacMatchParams *p);

typedef struct PeacMatchContext PeacMatchContext;

// Builds the context: normalised copies, similarity matrices [Ns, Nt] (sgemm), row/column
// argmaxes, mutual nearest neighbours and per-target affines. params may be NULL (defaults).
// NULL with a message in err on bad shapes or out of memory.
PeacMatchContext *peac_match_context_new (const PeacGrid *source, const PeacGrid *targets,
                                          int n_targets, int dim,
                                          const PeacMatchParams *params,
                                          char *err, size_t errlen);
void              peac_match_context_free (PeacMatchContext *ctx);
int               peac_match_n_targets (const PeacMatchContext *ctx);
void              peac_match_target_grid (const PeacMatchContext *ctx, int target,
                                          int *gh, int *gw);

#define PEAC_MATCH_TOPK 5

typedef struct {
  int   found;        // 1: confident match; 0: explicit "no match" (x, y are the rejected
                      // candidate, for diagnostics only)
  float x, y;         // sub-cell position in target pixels
  int   row, col;     // peak cell
  float sim;          // cosine similarity at the peak
  float second;       // best similarity outside the peak's 3×3 neighbourhood, anywhere in
                      // the target (also in guided mode)
  float margin;       // 1 − d(sim)/d(second), d(s) = √(2 − 2s) the Euclidean distance of
                      // unit tokens (Lowe's ratio test), clamped to [0, 1]
  float cycle;        // nearest: Chebyshev distance, in source cells, from the query's
                      // cell to the back-match of the peak cell; guided: in target cells,
                      // from the answer's cell to the similarity peak within the radius
  float confidence;   // margin if cycle ≤ 1, else 0 (guided: the margin of the answer's
                      // cell over the best outside its 3×3 neighbourhood)
  int   n_top;        // top-k cells of the searched set, best first: index r·gw + c
  int   top[PEAC_MATCH_TOPK];
  float top_sim[PEAC_MATCH_TOPK];
} PeacMatch;

// Answers one query (x, y in source pixels) against one target. sim_map, if not NULL,
// receives the full similarity map [gh·gw] of the target (for heat maps). Returns 0, or −1
// when target is out of range or memory runs out.
int peac_match_query (const PeacMatchContext *ctx, int target, double x, double y,
                      PeacMatchMode mode, PeacMatch *out, float *sim_map);
// The same for the centre of source cell (row, col).
int peac_match_query_cell (const PeacMatchContext *ctx, int target, int row, int col,
                           PeacMatchMode mode, PeacMatch *out, float *sim_map);
// Landmark propagation: n points xy [n, 2] (source pixels) into every target.
// out: [n_targets, n] answers. Returns 0 or −1.
int peac_match_propagate (const PeacMatchContext *ctx, const float *xy, int n,
                          PeacMatchMode mode, PeacMatch *out);

// The registration's source→target affine in pixels: x' = a0·x + a1·y + a2,
// y' = a3·x + a4·y + a5. Returns the RANSAC inlier count of the buddies (0: too few).
int peac_match_affine (const PeacMatchContext *ctx, int target, double a[6]);

// How well the guided map registers the source onto target: the mean cosine similarity
// (centred tokens when params.centre) of every source cell with the target cell under its
// image, over the cells that land on the target; −1 when under half of them do. Comparable
// between targets of one source and between sources of one target.
double peac_match_score (const PeacMatchContext *ctx, int target);

// A mutual nearest-neighbour pair: source cell s ↔ target cell t (indices r·gw + c).
typedef struct {
  int   src, tgt;
  float sim;
  float distinct;     // min of the forward and backward margins (as PeacMatch.margin)
} PeacBuddy;

// All best buddies of a target, in source-cell order. Returns the count (≤ max written).
int peac_match_buddies (const PeacMatchContext *ctx, int target, PeacBuddy *out, int max);
// The k most distinctive buddies spread over the source image: k-means (farthest-point
// start, from the most distinctive) over the buddies' source positions, the most
// distinctive member of each cluster, ranked by distinctiveness. Returns the count (≤ k).
int peac_match_buddies_spread (const PeacMatchContext *ctx, int target, int k,
                               PeacBuddy *out);

// The token of a grid [gh, gw, dim] at continuous cell coordinates (u, v): bilinear between
// the four surrounding cell centres, clamped to the grid at the border; not normalised.
// What a query uses with params.bilinear; out [dim].
void peac_match_sample_token (const float *tokens, int gh, int gw, int dim, double u,
                              double v, float *out);

// Pixel NCC baseline: for each of n points xy [n, 2] (source pixels, continuous), a
// patch×patch template centred there is compared by zero-mean normalised cross-correlation
// with every patch position of the target; out_xy [n, 2] receives the best position
// (target pixels, patch centre) and score [n] (may be NULL) its NCC. Templates that fall
// off the source are clamped inside it. Images are grey float, row-major. Returns 0 or −1.
int peac_ncc_match (const float *src, int sw, int sh, const float *tgt, int tw, int th,
                    int patch, const float *xy, int n, float *out_xy, float *score);
