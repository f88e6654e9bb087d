// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxModel: the network the analysis pages use, as a GObject around the engine's PeacModel —
// its name, a description (architecture, grid, provenance from the checkpoint metadata),
// whether it is trained, and a serial that keys cached embeddings. PxEmbedding is one
// image's token grid under one model and layer. px_model_embed() may run in any thread;
// forward passes through one model are serialised by a lock inside.
#pragma once

#include <gio/gio.h>

#include "model.h"
#include "px-image.h"
#include "px-model-input.h"

G_BEGIN_DECLS

#define PX_TYPE_MODEL (px_model_get_type ())

G_DECLARE_FINAL_TYPE (PxModel, px_model, PX, MODEL, GObject)

typedef struct {
  float  *tokens;   // [gh, gw, dim], final norm
  int     gh, gw, dim;
  double  width, height;  // the image extent the grid covers, in pixels
  guint   model_serial;
  int     layer;
} PxEmbedding;

#define PX_TYPE_EMBEDDING (px_embedding_get_type ())
GType        px_embedding_get_type (void) G_GNUC_CONST;
PxEmbedding *px_embedding_ref      (PxEmbedding *embedding);
void         px_embedding_unref    (PxEmbedding *embedding);
void         px_embedding_token_at (const PxEmbedding *embedding,
                                    double             x,
                                    double             y,
                                    float             *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PxEmbedding, px_embedding_unref)

PxModel     *px_model_new_micro     (void);
PxModel     *px_model_new_default   (const char          *preferred,
                                     GError             **error);
void         px_model_new_default_async  (const char          *preferred,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
PxModel     *px_model_new_default_finish (GAsyncResult        *result,
                                          GError             **error);
void         px_model_load_async    (GFile               *file,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
PxModel     *px_model_load_finish   (GAsyncResult        *result,
                                     GError             **error);
const char  *px_model_get_name        (PxModel *self);
const char  *px_model_get_description (PxModel *self);
gboolean     px_model_get_trained     (PxModel *self);
guint        px_model_get_serial      (PxModel *self);
const char  *px_model_get_path         (PxModel *self);
PeacModel   *px_model_lock_engine      (PxModel *self);
void         px_model_unlock_engine    (PxModel *self);
int          px_model_get_input_size  (PxModel *self);
void         px_model_get_grid        (PxModel *self,
                                       int     *grid_h,
                                       int     *grid_w,
                                       int     *dim);
PxEmbedding *px_model_embed           (PxModel       *self,
                                       const PxImage *image,
                                       int            layer,
                                       GError       **error);
PxEmbedding *px_model_embed_dense     (PxModel       *self,
                                       const PxImage *image,
                                       GError       **error);
gboolean     px_model_embed_input     (PxModel            *self,
                                       const PxModelInput *input,
                                       int                 layer,
                                       float              *tokens,
                                       GError            **error);
gboolean     px_model_forward_input   (PxModel       *self,
                                       const float   *input,
                                       float         *tokens,
                                       GError       **error);

G_END_DECLS
