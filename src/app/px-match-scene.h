// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-match-scene: what the correspondence page shows, as plain data, and the one Cairo
// routine that draws it — on screen, into PNG and into SVG alike, so an export is exactly
// the view. A scene is a source and up to PX_MATCH_MAX_TARGETS target panels laid out side
// by side or in a grid, the live query and its answers (with the similarity heat maps and
// their legend in a strip below the panels), the pinned points and the best-buddy pairs
// (labelled B1, B2…), and the words for positions and landmark structures. Colours come from the Okabe–Ito palette and the
// heat map from viridis, both readable with the common colour-vision deficiencies.
#pragma once

#include <gtk/gtk.h>

#include "match.h"
#include "px-image.h"

G_BEGIN_DECLS

#define PX_MATCH_MAX_TARGETS 8
#define PX_MATCH_MAX_BUDDIES 64
#define PX_MATCH_N_COLOURS 8

typedef struct {
  cairo_surface_t *surface;  // presentation, downscaled; NULL while it is rendered
  double           width;    // image extent, pixels
  double           height;
  char            *label;    // shown above the panel (already privacy-filtered)
  int              gh, gw;   // token grid
  double           mm;       // calibrated square pixel size in mm, 0 when unknown
} PxMatchPanel;

typedef struct {
  char     *name;
  char     *structure;                        // landmark structure ("RL", "H"…) or NULL
  int       colour;                           // palette index
  double    x, y;                             // source pixels, continuous
  PeacMatch match[PX_MATCH_MAX_TARGETS];
  gboolean  moved[PX_MATCH_MAX_TARGETS];      // corrected by hand; match.x/y hold it
  // Per panel (0 the source, t + 1 target t): fused from several annotated references
  // (px-correspondence-propagate.c), with the spread of their answers in image pixels, and
  // doubtful where that spread is over the threshold (not confirmed). A hand correction
  // clears all three on its panel.
  gboolean  fused[1 + PX_MATCH_MAX_TARGETS];
  double    spread[1 + PX_MATCH_MAX_TARGETS];
  gboolean  doubtful[1 + PX_MATCH_MAX_TARGETS];
} PxMatchPin;

// The cardiothoracic ratio measured on one panel's points (px_landmark_set_measure_ctr):
// the two measured horizontal lines, x0, y, x1, y in image pixels (pixel-centre).
typedef struct {
  gboolean valid;
  double   ratio;
  double   heart[4], thorax[4];
} PxMatchCtr;

typedef struct {
  int           n_panels;                     // 1 source + targets
  PxMatchPanel  panels[1 + PX_MATCH_MAX_TARGETS];
  gboolean      grid_layout;

  gboolean      has_query;
  double        qx, qy;                       // source pixels, continuous
  PeacMatch     answers[PX_MATCH_MAX_TARGETS];
  PeacMatchMode mode;                         // the mode the answers come from
  float        *sim[PX_MATCH_MAX_TARGETS];    // [gh·gw] per target, or NULL
  gboolean      heatmap;
  double        opacity;

  GArray       *pins;                         // PxMatchPin

  int           n_buddies;                    // between the source and target 0
  PeacBuddy     buddies[PX_MATCH_MAX_BUDDIES];

  PxMatchCtr    ctr[1 + PX_MATCH_MAX_TARGETS]; // per panel
} PxMatchScene;

void     px_match_palette             (int               index,
                                       double           *r,
                                       double           *g,
                                       double           *b);
char    *px_match_structure_words     (const char        *structure);
void     px_match_viridis             (double            t,
                                       double           *r,
                                       double           *g,
                                       double           *b);
cairo_surface_t *px_match_surface_for_image (const PxImage *image,
                                             int            max_side);
cairo_surface_t *px_match_surface_for_window (const PxImage *image,
                                              int            max_side,
                                              double         center,
                                              double         width);
void     px_match_scene_draw          (const PxMatchScene *scene,
                                       cairo_t            *cr,
                                       double              width,
                                       double              height);
void     px_match_scene_to_view       (const PxMatchScene *scene,
                                       double              width,
                                       double              height,
                                       int                 panel,
                                       double              x,
                                       double              y,
                                       double             *view_x,
                                       double             *view_y);
int      px_match_scene_locate        (const PxMatchScene *scene,
                                       double              width,
                                       double              height,
                                       double              view_x,
                                       double              view_y,
                                       double             *x,
                                       double             *y);

gboolean px_match_scene_sim_range     (const PxMatchScene *scene,
                                       double             *lo,
                                       double             *hi);
gboolean px_match_scene_legend_area   (const PxMatchScene *scene,
                                       double              width,
                                       double              height,
                                       double              rect[4]);
char    *px_match_scene_legend_text   (const PxMatchScene *scene);
void     px_match_scene_buddy_label   (int                 index,
                                       char               *text,
                                       gsize               size);
char    *px_match_scene_describe_point (const PxMatchScene *scene,
                                        int                 panel,
                                        double              x,
                                        double              y);

G_END_DECLS
