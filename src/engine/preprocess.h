// SPDX-License-Identifier: GPL-3.0-or-later
//
// preprocess: PEAC's input pipeline on a grey float image, shared by `peac embed` and the
// app so both feed the network identical tensors: grey in [0, 1] (the io layer's
// presentation values, i.e. /255 for 8-bit files), resized with an antialiased bilinear
// (triangle) filter whose support widens with the downscale factor — as PIL / torchvision
// Resize(antialias=True) — so the short side becomes `size`, centre-cropped to size × size
// (or, without crop, the whole image squeezed to size × size), normalised (v − mean) / std
// and replicated into 3 channels.
#pragma once

typedef struct {
  int   size;   // model input side in pixels
  float mean;   // PEAC: 0.5056
  float std;    // PEAC: 0.252
  int   crop;   // 1: short side → size, centre crop; 0: whole image → size × size
} PeacPreprocess;

#define PEAC_MEAN 0.5056f
#define PEAC_STD  0.252f

// grey [h, w] row-major in [0, 1] → out [3, size, size] (NCHW plane order). Returns 0, or
// −1 for empty input or a bad size/std.
int peac_preprocess (const float *grey, int w, int h, const PeacPreprocess *p, float *out);

// 1-D antialiased bilinear resampling (exposed for tests): src [n_in] → dst [n_out] with
// sample stride 1, covering output samples first…first+count−1 of the full n_out.
void peac_resample_1d (const float *src, int n_in, float *dst, int n_out, int first, int count);

// Dense ViT tokens. At patch p and stride s < p, token c of an input is centred at
// s·c + p/2. Padding a side-pixel image by (p − s)/2 on every side (edge pixels repeated)
// puts token c's centre at (c + ½)·s of the image, so the side/s tokens tile the image
// exactly, as the patch grid does at s = p. Returns the padding (0 for s = p or s ≤ 0), or
// −1 when s does not tile side that way (s > p, p − s odd, or side not a multiple of s).
int  peac_dense_pad (int side, int patch, int stride);
// out [C, n, n], n = side + 2·pad: in [C, side, side] with its edge pixels repeated.
void peac_pad_edges (const float *in, int C, int side, int pad, float *out);
