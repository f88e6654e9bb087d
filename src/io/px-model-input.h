// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-model-input: a radiograph turned into the model's input fed whole (the engine's
// peac_preprocess without crop: resized to side×side, so the token grid covers the whole
// image and image pixels map to cells by a plain scale) or centre-cropped, and its token
// grid. What `peac embed`, `peac match`, `peac eval-landmarks`, `peac tsne`, the atlas
// (px-atlas.h) and the app's models (px-model.h: every page's embeddings, the linear
// probe's) share.
#pragma once

#include <stddef.h>

#include "model.h"
#include "preprocess.h"
#include "px-image.h"

typedef struct {
  int    width, height;  // the radiograph's own size
  int    side;           // input side fed to the model (the model's, plus dense padding)
  int    stride;         // ViT patch stride of the forward pass (0: the patch size)
  float *plane;          // [side, side] one normalised input channel (all three are equal)
} PxModelInput;

// img preprocessed by pp (peac_preprocess: pp->size × pp->size, pp's mean and std, whole or
// centre-cropped) into in's plane. Returns 0, or −1 with a message in err.
int  px_model_input_preprocess (const PxImage *img, const PeacPreprocess *pp, PxModelInput *in,
                                char *err, size_t errlen);
// img preprocessed with the PEAC statistics to side×side: whole (crop 0) or its short side
// resized to side and centre-cropped (crop 1, as `peac embed` and the linear probe feed it;
// pixels then map to cells by a scale and an offset). Returns 0, or −1 with a message in err.
int  px_model_input_from_image (const PxImage *img, int side, int crop, PxModelInput *in,
                                char *err, size_t errlen);

// peac_dense_pad (preprocess.h) with a message in err when the stride does not tile side.
int  px_model_input_dense_pad (int side, int patch, int stride, char *err, size_t errlen);

// Loads path (PNG, JPEG, DICOM) as presentation grey and preprocesses it by pp
// (px_model_input_preprocess). Returns 0, or −1 with a message naming the file in err.
int  px_model_input_load_preprocessed (const char *path, const PeacPreprocess *pp,
                                       PxModelInput *in, char *err, size_t errlen);
// px_model_input_load_preprocessed whole to side×side with the PEAC statistics.
int  px_model_input_load (const char *path, int side, PxModelInput *in, char *err,
                          size_t errlen);
// out: a copy of the loaded in for dense tokens at stride (0 or the patch size: a plain
// copy), padded by peac_dense_pad, so out->side is in->side + 2·pad. in is unchanged.
int  px_model_input_dense (const PxModelInput *in, int patch, int stride, PxModelInput *out,
                           char *err, size_t errlen);
// px_model_input_load, then px_model_input_dense when the stride needs padding.
int  px_model_input_load_dense (const char *path, int side, int patch, int stride,
                                PxModelInput *in, char *err, size_t errlen);
void px_model_input_clear (PxModelInput *in);
// The network's input x [3, side, side] (NCHW): in's plane in each of the three channels.
void px_model_input_channels (const PxModelInput *in, float *x);
// tokens [gh, gw, dim] of the input (the plane replicated to 3 channels), at the input's
// stride. Returns 0 or −1 with err set.
int  px_model_input_embed (PeacModel *m, const PxModelInput *in, float *tokens, char *err,
                           size_t errlen);
// px_model_input_embed at a layer: −1 the model's output, k ≥ 0 block or stage k
// (PeacForwardOptions).
int  px_model_input_embed_layer (PeacModel *m, const PxModelInput *in, int layer, float *tokens,
                                 char *err, size_t errlen);
