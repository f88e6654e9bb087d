// SPDX-License-Identifier: GPL-3.0-or-later
//
// What the parts of PxEmbeddingMapPage share: the instance struct, the view's geometry and
// the functions one part calls in another (px-embedding-map-page.c: the type, pointer
// input and public API; -draw.c: drawing and export; -actions.c: the map.* actions and
// the map job they run).
#pragma once

#include <gtk/gtk.h>

#include "px-correspondence-page.h"
#include "px-embedder.h"
#include "px-embedding-map-page.h"
#include "px-map-job.h"
#include "px-match-scene.h"

G_BEGIN_DECLS

#define MARGIN 24.0
#define POINT_RADIUS 3.5
#define HOVER_RADIUS 8.0
#define THUMB 112.0
#define LEGEND_MAX 16

// The view's fit of the layout: equal axis scales.
typedef struct {
  double scale, ox, oy;   // view = o + scale · map
} PxMapFit;

struct _PxEmbeddingMapPage
{
  GtkWidget             parent_instance;

  PxEmbedder           *embedder;
  PxCorrespondencePage *correspondence;
  gboolean              privacy;

  char                 *folder;
  GStrv                 ids;
  guint                 next_id;

  PxMapResult          *map;          // the finished map, or NULL
  guint                 map_serial;   // model serial of the map
  GPtrArray            *labels;       // distinct labels, interned, in order of appearance
  GCancellable         *cancellable;  // of the running job
  gboolean              placing;
  float                *live_Y;       // layout reported by the running job
  const char          **live_labels;  // labels of the live layout's points
  int                   live_n;
  guint                 n_frames;
  char                 *error;

  int                   hover;        // point under the pointer, −1 when none
  double                pointer_x, pointer_y;
  gboolean              selecting;
  double                sel_x0, sel_y0, sel_x1, sel_y1;   // view coordinates

  GtkStack             *stack;
  GtkDrawingArea       *area;
  GtkProgressBar       *progress;
  GtkLabel             *selection_label;
  GtkAdjustment        *n_images;
  GSimpleActionGroup   *actions;
};

// px-embedding-map-page-draw.c
PxMapFit    px_embedding_map_page_fit_view         (PxEmbeddingMapPage *self,
                                                    double              width,
                                                    double              height);
int         px_embedding_map_page_point_at         (PxEmbeddingMapPage *self,
                                                    double              x,
                                                    double              y);
const char *px_embedding_map_page_image_name       (PxEmbeddingMapPage *self,
                                                    int                 image);
void        px_embedding_map_page_draw             (GtkDrawingArea     *area,
                                                    cairo_t            *cr,
                                                    int                 width,
                                                    int                 height,
                                                    gpointer            data);

// px-embedding-map-page-actions.c
void        px_embedding_map_page_add_actions       (PxEmbeddingMapPage *self);
void        px_embedding_map_page_update_actions    (PxEmbeddingMapPage *self);
void        px_embedding_map_page_set_progress_text (PxEmbeddingMapPage *self,
                                                     const char         *text,
                                                     double              fraction);

G_END_DECLS
