// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-match: what `peac match` and `peac eval-landmarks` share — a radiograph turned into
// the model's input fed whole (resized to side×side without a crop, so the token grid
// covers the whole image and image pixels map to cells by a plain scale), and its token grid.
#pragma once

#include <stddef.h>

#include "model.h"

typedef struct {
  int    width, height;  // the radiograph's own size
  int    side;           // model input side
  float *unit;           // [side, side] grey in [0, 1], bone bright, area-resampled
} CliInput;

// Loads path (PNG, JPEG, DICOM) and resamples it whole to side×side. 8/16-bit PNG and JPEG
// are scaled by 1/255 or 1/65535 (as the training pipeline does); DICOM goes through its
// default window. Returns 0, or −1 with a message naming the file in err.
int  peac_cli_input_load (const char *path, int side, CliInput *in, char *err, size_t errlen);
void peac_cli_input_clear (CliInput *in);
// tokens [gh, gw, dim] of the input, normalised with the PEAC statistics (mean 0.5056,
// std 0.252, grey replicated to 3 channels). Returns 0 or −1 with err set.
int  peac_cli_embed_input (PeacModel *m, const CliInput *in, float *tokens, char *err,
                           size_t errlen);
