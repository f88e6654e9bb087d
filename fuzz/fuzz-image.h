// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-image: the checks every image harness applies to a loader's answer. A decoded
// image has sane dimensions within the documented limits, finite samples inside its
// recorded range, and metadata strings; a refusal carries an error that names the file.
// Small images are also rendered, so the presentation code sees what loaders produce.
#pragma once

#include "px-image.h"

// Checks image (may be NULL) and error from a load of path as format; frees both.
void fuzz_check_image (PxImage *image, GError *error, const char *path, PxFormat format);
