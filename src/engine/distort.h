// SPDX-License-Identifier: GPL-3.0-or-later
//
// distort: the appearance distortions of PEAC's student view, in the spirit of Models
// Genesis (our own implementation), on one grey crop [S, S] with values in [0, 1] before
// normalisation: local pixel shuffling (pixels permuted inside small random windows),
// a monotone-or-inverted intensity mapping along a random cubic Bézier curve, and
// in-painting (random boxes replaced by noise) or out-painting (everything outside one
// random box replaced by noise). Deterministic given the rng state; no allocation beyond
// a few scratch arrays on the stack or heap inside a call.
#pragma once

#include "rng.h"

typedef struct {
  double p_shuffle;     // probability of local pixel shuffling (Models Genesis: 0.5)
  int    shuffle_windows; // windows per crop
  int    shuffle_max;   // largest window side in pixels
  double p_bezier;      // probability of the intensity mapping (0.9)
  double p_paint;       // probability of in- or out-painting (0.9)
  double p_inpaint;     // given painting: in-painting, else out-painting (0.5)
} PeacDistortConfig;

// Fills the defaults above for a crop of side S (windows: S²/64, largest side S/8).
void peac_distort_defaults (PeacDistortConfig *cfg, int S);

// Individual distortions (in place on img [S, S]).
void peac_distort_local_shuffle (float *img, int S, int windows, int max_side, PeacRng *rng);
// Maps every pixel through the Bézier curve with control points (0,0), p1, p2, (1,1)
// (1000 samples sorted by x, linear between them); invert = 1 looks up 1 − v instead of v,
// a decreasing mapping.
void peac_distort_bezier (float *img, int S, const float p1[2], const float p2[2], int invert);
void peac_distort_inpaint (float *img, int S, PeacRng *rng);
void peac_distort_outpaint (float *img, int S, PeacRng *rng);
// All of them with the configured probabilities. Returns a bit mask of those applied
// (1 shuffle, 2 Bézier, 4 in-painting, 8 out-painting).
int  peac_distort_apply (float *img, int S, const PeacDistortConfig *cfg, PeacRng *rng);
