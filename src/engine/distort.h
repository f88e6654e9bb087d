// SPDX-License-Identifier: GPL-3.0-or-later
//
// distort: the appearance distortions of PEAC's student view, in the spirit of Models
// Genesis (our own implementation), on one grey crop [S, S] with values in [0, 1] before
// normalisation: local pixel shuffling (pixels permuted inside small random windows),
// a monotone-or-inverted intensity mapping along a random cubic Bézier curve, and
// in-painting (random boxes replaced by noise) or out-painting (everything outside one
// random box replaced by noise). Deterministic given the rng state; no allocation beyond
// a few scratch arrays on the stack or heap inside a call. A second style follows the
// reference PEAC run of issue 18: an intensity gamma exp(N(0, σ)), an inversion, then either
// out-painting that keeps one window of 80–160 px or 1–4 in-painted blocks of 30–70 px,
// each filled with one random grey (sizes for a 224-px crop, scaled with S).
#pragma once

#include "rng.h"

typedef enum {
  PEAC_DISTORT_GENESIS = 0, // pixel shuffle, Bézier, noise painting (the default)
  PEAC_DISTORT_REFERENCE,   // gamma, inversion, out-painting or grey in-painting
} PeacDistortStyle;

typedef struct {
  PeacDistortStyle style;
  double p_shuffle;     // probability of local pixel shuffling (Models Genesis: 0.5)
  int    shuffle_windows; // windows per crop
  int    shuffle_max;   // largest window side in pixels
  double p_bezier;      // probability of the intensity mapping (0.9)
  double p_paint;       // probability of in- or out-painting (0.9)
  double p_inpaint;     // given painting: in-painting, else out-painting (0.5)
  // The reference style uses p_paint and p_inpaint as well (defaults 1 and 0.2 there).
  double gamma_sigma;   // reference: v ← v^γ, γ = exp(N(0, σ)) (0.5)
  double p_invert;      // reference: v ← 1 − v after the gamma (0.25)
} PeacDistortConfig;

// Fills the defaults above for a crop of side S (windows: S²/64, largest side S/8).
void peac_distort_defaults (PeacDistortConfig *cfg, int S);
// The reference style's defaults: gamma σ 0.5, inversion 0.25, painting always, in-painting
// 0.2 of the time (out-painting 0.8); the Genesis-only probabilities are zero.
void peac_distort_reference_defaults (PeacDistortConfig *cfg, int S);
// The style's name ("genesis", "reference") and back (−1 for an unknown name).
const char *peac_distort_style_name (PeacDistortStyle s);
int  peac_distort_style_parse (const char *name);

// Individual distortions (in place on img [S, S]).
void peac_distort_local_shuffle (float *img, int S, int windows, int max_side, PeacRng *rng);
// Maps every pixel through the Bézier curve with control points (0,0), p1, p2, (1,1)
// (1000 samples sorted by x, linear between them); invert = 1 looks up 1 − v instead of v,
// a decreasing mapping.
void peac_distort_bezier (float *img, int S, const float p1[2], const float p2[2], int invert);
void peac_distort_inpaint (float *img, int S, PeacRng *rng);
void peac_distort_outpaint (float *img, int S, PeacRng *rng);
// Reference style: v ← v^gamma on [0, 1] (values below 0 clamp to 0).
void peac_distort_gamma (float *img, int S, double gamma);
// Reference style: 1–4 blocks with sides in [30, 70]·S/224, each set to one uniform grey.
void peac_distort_inpaint_grey (float *img, int S, PeacRng *rng);
// Reference style: noise everywhere but one window with sides in [80, 160]·S/224.
void peac_distort_outpaint_window (float *img, int S, PeacRng *rng);
// All of them with the configured probabilities, in the configured style. Returns a bit
// mask of those applied (1 shuffle, 2 Bézier, 4 in-painting, 8 out-painting, 16 gamma,
// 32 inversion).
int  peac_distort_apply (float *img, int S, const PeacDistortConfig *cfg, PeacRng *rng);
