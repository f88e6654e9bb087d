// SPDX-License-Identifier: GPL-3.0-or-later
//
// views: PEAC's pair of grid-aligned crops from one radiograph and the cell pairing between
// them ("stable grid-based matching"), plus the cell permutation of the order branch.
// Both crops are cut on one lattice of `cell`-pixel cells whose origin (oy, ox) is drawn
// once per pair, so their offsets differ by whole cells and every overlap cell has an exact
// partner. The pairing is the corrected rule of DESIGN.md: crop-1 cell (r, c) ↔ crop-2
// cell (r + dr1 − dr2, c + dc1 − dc2) when both lie inside the G × G grid, (dr, dc) being
// each crop's offset in cells from the lattice origin. No allocation, no global state.
#pragma once

#include "rng.h"

#define PEAC_VIEWS_MAX_GRID 64

typedef struct {
  int grid;       // G: cells per crop side (the backbone's token grid)
  int cell;       // pixels per cell (ViT: the patch size; Swin: its output stride)
  int max_shift;  // largest |dr1 − dr2| and |dc1 − dc2| in cells; 1 ≤ max_shift < G
} PeacViewConfig;

typedef struct {
  int grid, cell;
  int oy, ox;     // lattice origin in image pixels
  int dr[2], dc[2]; // crop k's top-left = (oy + dr[k]·cell, ox + dc[k]·cell)
} PeacViewPair;

// Draws a pair of crops of (G·cell)² pixels inside an img_h × img_w image. The image must
// hold G + max_shift cells per side. Returns 0, or −1 if it is too small or cfg is bad.
int  peac_views_sample (const PeacViewConfig *cfg, int img_h, int img_w, PeacRng *rng,
                        PeacViewPair *v);
// pair[i] for crop-1 cell i = r·G + c: the crop-2 cell index holding the same pixels, or −1.
// Returns the number of paired cells.
int  peac_views_pairs (const PeacViewPair *v, int *pair);
// Cuts crop k (0 or 1) of img [C, img_h, img_w] into out [C, G·cell, G·cell].
void peac_views_cut (const PeacViewPair *v, int k, const float *img, int C, int img_h,
                     int img_w, float *out);
// Draws a uniformly random permutation perm[n] (Fisher–Yates).
void peac_views_permutation (PeacRng *rng, int *perm, int n);
// Shuffles the cells of a crop: out cell i = in cell perm[i] (so token i's original
// position, the order branch's class label, is perm[i]). in, out [C, G·cell, G·cell],
// distinct buffers.
void peac_views_shuffle_cells (const float *in, float *out, const int *perm, int C, int G,
                               int cell);
