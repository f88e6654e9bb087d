// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxEmbedder: the window's model in use and the token grids of its open studies. Grids are
// computed in a worker thread, one study after another, with progress and cancellation;
// each lands on the main thread, is cached on its study per (model, layer) and announced by
// the "embedded" signal. Changing the model invalidates nothing eagerly: a page asks again
// and only what is missing for the new model is computed. A window's embedder has no model
// until its default model has loaded; pages wait for "notify::model" then.
#pragma once

#include <gio/gio.h>

#include "px-model.h"
#include "px-study.h"

G_BEGIN_DECLS

#define PX_TYPE_EMBEDDER (px_embedder_get_type ())

G_DECLARE_FINAL_TYPE (PxEmbedder, px_embedder, PX, EMBEDDER, GObject)

PxEmbedder  *px_embedder_new          (void);
PxEmbedder  *px_embedder_new_with_model (PxModel   *model);
PxModel     *px_embedder_get_model    (PxEmbedder  *self);
void         px_embedder_set_model    (PxEmbedder  *self,
                                       PxModel     *model);
gboolean     px_embedder_get_busy     (PxEmbedder  *self);
double       px_embedder_get_progress (PxEmbedder  *self);
PxEmbedding *px_embedder_lookup       (PxEmbedder  *self,
                                       PxStudy     *study);
gboolean     px_embedder_request      (PxEmbedder  *self,
                                       PxStudy    **studies,
                                       guint        n_studies);
void         px_embedder_cancel       (PxEmbedder  *self);

G_END_DECLS
