// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-eval-atlas: `peac eval-landmarks --atlas` (cli-eval-atlas.c) — the options it takes
// over from eval-landmarks, and the run itself, which prints its figures. The atlas is the
// io library's (px-atlas.h) and the engine's (landmark-atlas.h).
#pragma once

#include "match.h"
#include "model.h"

typedef struct {
  const char     *model_path;   // for the token cache's key
  const char     *data, *atlas, *root;
  int             k, stride, max_images, json;
  int             cache;        // 1: px_atlas_embedder_use_cache
  double          pixel_mm;     // size of a 1024-frame pixel in mm
  const char     *protocol;     // NULL, "hybridgnet" or "uod6"
  PeacMatchParams mp;
} CliEvalAtlasOptions;

// Returns the exit code.
int  cli_eval_atlas (PeacModel *m, const CliEvalAtlasOptions *o);
