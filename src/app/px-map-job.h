// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-map-job: the embedding map's background work. Given images with named points (JSRT
// landmark sets read from a folder, or landmark sets of open studies), a worker thread loads
// what is not loaded, embeds each image with its own reference to the model, samples the
// token grid at every point, and runs t-SNE over all of them — or places them into an
// existing map. Progress, with the current layout, reaches the main thread through
// idle sources on the default main context; cancelling raises the t-SNE abort flag.
#pragma once

#include <gtk/gtk.h>

#include "px-landmarks.h"
#include "px-model.h"
#include "px-study.h"

G_BEGIN_DECLS

typedef struct {
  char          *jsrt_dir;  // with jsrt_id: a JSRT folder entry, loaded in the worker
  char          *jsrt_id;
  PxStudy       *study;     // or: an open study with
  PxLandmarkSet *set;       //     its points (pixel-centre convention)
  char          *name;      // display name
  char          *hidden_name; // the name in privacy mode (px_privacy_mask_name)
} PxMapSource;

typedef struct {
  char            *name;
  char            *hidden_name; // in privacy mode
  char            *path;
  cairo_surface_t *surface;   // presentation, longer side ≤ 256
  double           width, height;
} PxMapImage;

typedef struct {
  int         image;      // index into the result's images
  const char *label;      // interned: structure ("RL"…) or the pin's name
  const char *name;       // interned: the landmark ("RL.3", or the pin's name)
  double      x, y;       // image pixels, pixel-centre convention
  float       tx, ty;     // map position
} PxMapPoint;

typedef struct {
  GArray *images;  // PxMapImage
  GArray *points;  // PxMapPoint
  float  *X;       // [points, dim] sampled tokens
  int     dim;
  float   kl;
} PxMapResult;

// On the main thread: while embedding, iter of n_iter images with Y NULL; during t-SNE,
// iter of n_iter iterations with the layout Y [n, 2] and the new points' labels (the
// points of the existing map first in Y when placing). Y and labels are valid during the
// call only.
typedef void (*PxMapProgressFn) (gpointer user_data, int iter, int n_iter, const float *Y,
                                 int n, const char * const *labels, int n_labels);

void         px_map_source_free  (PxMapSource *source);
void         px_map_result_free  (PxMapResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PxMapResult, px_map_result_free)

void         px_map_job_run_async (PxModel             *model,
                                   GPtrArray           *sources,
                                   const float         *X_old,
                                   const float         *Y_old,
                                   int                  n_old,
                                   PxMapProgressFn      progress,
                                   gpointer             progress_data,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
PxMapResult *px_map_job_run_finish (GAsyncResult        *result,
                                    GError             **error);

G_END_DECLS
