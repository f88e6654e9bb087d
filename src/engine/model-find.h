// SPDX-License-Identifier: GPL-3.0-or-later
//
// model-find: which model file to use when the user names none. The environment variable
// PEAC_MODEL wins (it must name a readable file; "none" means no default model, which the
// tests set so that a bundled model or a developer's setting cannot change them); otherwise the first folder of a list
// that holds the bundled model file does. Callers pass the folders from their config.h:
// the source tree's data/models (a build run in place) and the installed
// $datadir/peac-explorer/models, in that order (PEAC_MODEL_SEARCH_DIRS).
#pragma once

#include <stddef.h>

#define PEAC_MODEL_BUNDLED_NAME "peac-vit-tiny.safetensors"
#define PEAC_MODEL_ENV "PEAC_MODEL"
// { source_dir/data/models, pkgdatadir/models, NULL } from two string literals.
#define PEAC_MODEL_SEARCH_DIRS(source_dir, pkgdatadir) \
  { source_dir "/data/models", pkgdatadir "/models", NULL }

// Writes the path of the default model into buf[n] and returns 0; −1 with a message in
// err saying what was looked for and where (and how to give a model) when there is none.
int peac_model_find_default (const char *const *dirs, char *buf, size_t n, char *err,
                             size_t errlen);
