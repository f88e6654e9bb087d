// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-train-images: radiographs loaded as a PEAC training set — each one decoded, squeezed
// whole to a grey side × side square (antialiased, as the network's preprocessing resizes)
// in [0, 1]. The one loader of `peac train` and the app's training page.
#pragma once

#include <stdatomic.h>

#include <gio/gio.h>

#include "train.h"

G_BEGIN_DECLS

// Called for each file left out, with an error whose message starts with the file's path.
typedef void (*PxTrainSkipFn) (const char   *path,
                               const GError *error,
                               gpointer      user_data);

float    *px_train_image_load   (const char          *path,
                                 int                  side,
                                 GError             **error);
PeacGrey *px_train_images_load  (const char * const  *paths,
                                 guint                n_paths,
                                 int                  side,
                                 const atomic_int    *abort_flag,
                                 PxTrainSkipFn        skipped,
                                 gpointer             user_data,
                                 int                 *n_loaded);
void      px_train_images_free  (PeacGrey            *images,
                                 int                  n);

G_END_DECLS
