// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxEmbeddingMapPage: a t-SNE map of landmark embeddings — from a JSRT landmark folder or
// from the correspondence page's pins propagated over its images — that animates while it
// converges, coloured by landmark with a legend; hovering shows the patch and the image,
// clicking asks for that point on the correspondence page ("open-point"), a rectangle lists
// the images inside it, more images can be placed into the map, and the map exports as
// PNG, SVG or CSV.
#pragma once

#include <gtk/gtk.h>

#include "px-correspondence-page.h"
#include "px-embedder.h"

G_BEGIN_DECLS

#define PX_TYPE_EMBEDDING_MAP_PAGE (px_embedding_map_page_get_type ())

G_DECLARE_FINAL_TYPE (PxEmbeddingMapPage, px_embedding_map_page, PX, EMBEDDING_MAP_PAGE, GtkWidget)

void     px_embedding_map_page_set_embedder  (PxEmbeddingMapPage   *self,
                                              PxEmbedder           *embedder);
void     px_embedding_map_page_set_correspondence_page (PxEmbeddingMapPage   *self,
                                                        PxCorrespondencePage *page);
gboolean px_embedding_map_page_set_folder    (PxEmbeddingMapPage   *self,
                                              const char           *folder,
                                              GError              **error);
gboolean px_embedding_map_page_get_busy      (PxEmbeddingMapPage   *self);
guint    px_embedding_map_page_get_n_points  (PxEmbeddingMapPage   *self);
guint    px_embedding_map_page_get_n_images  (PxEmbeddingMapPage   *self);
guint    px_embedding_map_page_get_n_frames  (PxEmbeddingMapPage   *self);
gboolean px_embedding_map_page_get_point     (PxEmbeddingMapPage   *self,
                                              guint                 index,
                                              const char          **image,
                                              const char          **landmark,
                                              float                *map_x,
                                              float                *map_y);
char    *px_embedding_map_page_dup_point_text (PxEmbeddingMapPage   *self,
                                              guint                 index);
gboolean px_embedding_map_page_view_point    (PxEmbeddingMapPage   *self,
                                              guint                 index,
                                              double                width,
                                              double                height,
                                              double               *view_x,
                                              double               *view_y);
const char *px_embedding_map_page_get_error  (PxEmbeddingMapPage   *self);
guint    px_embedding_map_page_select_rect   (PxEmbeddingMapPage   *self,
                                              double                x0,
                                              double                y0,
                                              double                x1,
                                              double                y1);
gboolean px_embedding_map_page_export        (PxEmbeddingMapPage   *self,
                                              const char           *path,
                                              const char           *format,
                                              double                width,
                                              double                height,
                                              GError              **error);

G_END_DECLS
