// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-match: what `peac match` and `peac eval-landmarks` share — a radiograph turned into
// the model's input fed whole (the engine's peac_preprocess without crop: resized to
// side×side, so the token grid covers the whole image and image pixels map to cells by a
// plain scale), and its token grid.
#pragma once

#include <stddef.h>

#include "model.h"

typedef struct {
  int    width, height;  // the radiograph's own size
  int    side;           // input side fed to the model (the model's, plus dense padding)
  int    stride;         // ViT patch stride of the forward pass (0: the patch size)
  float *plane;          // [side, side] one normalised input channel (all three are equal)
} CliInput;

// peac_dense_pad (preprocess.h) with a message in err when the stride does not tile side.
int  peac_cli_dense_pad (int side, int patch, int stride, char *err, size_t errlen);

// Loads path (PNG, JPEG, DICOM) as presentation grey and preprocesses it whole to
// side×side with the PEAC statistics. Returns 0, or −1 with a message naming the file in err.
int  peac_cli_input_load (const char *path, int side, CliInput *in, char *err, size_t errlen);
// out: a copy of the loaded in for dense tokens at stride (0 or the patch size: a plain
// copy), padded by peac_dense_pad, so out->side is in->side + 2·pad. in is unchanged.
int  peac_cli_input_dense (const CliInput *in, int patch, int stride, CliInput *out,
                           char *err, size_t errlen);
// peac_cli_input_load, then peac_cli_input_dense when the stride needs padding.
int  peac_cli_input_load_dense (const char *path, int side, int patch, int stride,
                                CliInput *in, char *err, size_t errlen);
void peac_cli_input_clear (CliInput *in);
// tokens [gh, gw, dim] of the input (the plane replicated to 3 channels), at the input's
// stride. Returns 0 or −1 with err set.
int  peac_cli_embed_input (PeacModel *m, const CliInput *in, float *tokens, char *err,
                           size_t errlen);
