// SPDX-License-Identifier: GPL-3.0-or-later
//
// landmark-atlas: the matching half of multi-reference landmark propagation — an atlas of
// annotated radiographs held as plain arrays (their points, names and token grids; reading
// the folders and embedding the images is the io library's px-atlas.h), the check that a
// reference and a target share structures, the choice of the K references most like a
// target, and the propagation of every reference landmark onto the target through the
// guided matcher with the K answers fused per point (landmark-fuse.h). No files, no GLib.
#pragma once

#include <stddef.h>

#include "match.h"

typedef struct {
  char   *name;          // the image's id (JSRT, CSV layouts) or file stem (JSON layout)
  char   *image_path;
  char   *source;        // the landmark file or folder named in messages
  int     width, height; // image pixels (0 until known)
  int     n;             // landmarks
  double *xy;            // [n, 2] image pixels, pixel-centre convention
  char  **point;         // [n] point names ("RL.3"), the identity fusion matches on
  char  **structure;     // [n] structure or NULL
  float  *tok;           // [gh, gw, dim] dense tokens (once embedded)
  float  *global;        // [dim] unit mean token
} PeacAtlasImage;

typedef struct {
  PeacAtlasImage *img;
  int             n;
} PeacAtlas;

// The token grid every image of an atlas is embedded to: the model's input side, its patch,
// the ViT patch stride of the forward pass (0: the patch size) and the grid it gives.
typedef struct {
  int side, patch, stride;
  int gh, gw, dim;
} PeacAtlasGrid;

// global [dim]: the mean of the n tokens tok [n, dim], scaled to unit length (0 stays 0).
void peac_atlas_global (const float *tok, int n, int dim, float *global);

// The structures shared by ref and target and their point counts must agree: 0, or −1 with a
// message naming the two files (a shared structure with a different number of points, no
// structure in common). Points are compared by structure; target may be NULL or have no
// points (a target to propagate onto), in which case only ref is checked for having some.
int  peac_atlas_check_shared (const PeacAtlasImage *ref, const PeacAtlasImage *target,
                              char *err, size_t errlen);

// The K references of a most like the target's global embedding (cosine), skipping
// `exclude` (−1: none); out [k]. Returns how many were chosen.
int  peac_atlas_pick (const PeacAtlas *a, const float *global, int dim, int exclude, int k,
                      int *out);

// Candidates per kept reference: a target is registered with PEAC_ATLAS_CANDIDATES·K
// references chosen by global embedding (as many as the atlas has), and the K that
// register best (peac_match_score) are fused.
#define PEAC_ATLAS_CANDIDATES 2

// One target's fused answer for the points of the first candidate cand[0] (its point
// names, in its order): every candidate cand [n_cand] is registered onto the target, the k
// with the highest registration score are kept, and each point's answers in them are fused
// by weighted median, weights the registration score times the similarity of the point's
// token at its answer (floored at 0.01). xy [n, 2] target pixels; spread [n] pixels (the
// weighted median of the answers' distances to the fused point; 0 for k = 1); found [n]
// how many kept references' matchers confirmed the point; weight [n_cand] each candidate's
// registration score (0: not kept). Points of cand[0] missing from a reference are fused
// from those that have them. mean_xy [n, 2] (may be NULL): the kept references'
// coordinates averaged in relative image coordinates, no matching (the mean-shape
// baseline). 0, or −1 with err.
int  peac_atlas_propagate (const PeacAtlas *a, const int *cand, int n_cand, int k,
                           const PeacAtlasGrid *g, const float *tok, int width, int height,
                           const PeacMatchParams *mp, double *xy, double *spread,
                           int *found, double *weight, double *mean_xy, char *err,
                           size_t errlen);

// A fused point is confirmed when its spread is at most this many of the model's patch cells
// (the image width over the patch grid's width: 0.5 cells is 73 px of a 2048-px JSRT image
// under a 224-px, 16-px-patch ViT, 12.8 mm). With one reference there is no spread: the
// point is confirmed when the matcher confirmed it.
#define PEAC_ATLAS_SPREAD_CELLS 0.5
int  peac_atlas_confirmed (double spread, int k, int found, int width,
                           const PeacAtlasGrid *g);
