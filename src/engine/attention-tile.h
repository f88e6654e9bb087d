// SPDX-License-Identifier: GPL-3.0-or-later
//
// attention-tile: a register-blocked AVX2+FMA kernel for one (image, head) of attention on
// small tiles (Swin windows, ViT at 224), used by op_attention_forward when the CPU has
// AVX2+FMA and the shape fits; see attention-tile.c for the maths and layout.
#pragma once

#include <stddef.h>

#define PEAC_TILE_MAX_N  256
#define PEAC_TILE_MAX_DH 128

// Whether the tile kernel runs on this CPU for N tokens of head width Dh.
int    peac_attention_tile_ok (int N, int Dh);
// Floats of work memory one call needs (for any Dh ≤ PEAC_TILE_MAX_DH).
size_t peac_attention_tile_floats (int N);
// out[N, Dh] (row stride ldo) = softmax(scale · q·kᵀ + bias + mask) · v, with q, k, v
// [N, Dh] rows of stride ld; bias and mask [N, N] or NULL; work of
// peac_attention_tile_floats(N) floats. Only when peac_attention_tile_ok(N, Dh).
void   peac_attention_tile (float *out, int ldo, const float *q, const float *k,
                            const float *v, int ld, const float *bias, const float *mask,
                            int N, int Dh, float scale, float *work);
