// SPDX-License-Identifier: GPL-3.0-or-later
//
// The correspondence page's state, shared by the files that make up the page (as GNOME
// Text Editor splits its page): px-correspondence-page.c (the scene, the match context
// and the widget), px-correspondence-input.c (pointer and keyboard),
// px-correspondence-actions.c (the corr.* actions),
// px-correspondence-landmarks.c (the points as landmark sets: exports, Save and Load
// Landmarks, the cardiothoracic ratio), px-correspondence-propagate.c (Propagate from
// References) and px-correspondence-window.c (window/level of the panels). Nothing outside
// these files includes it.
#pragma once

#include "px-correspondence-page.h"
#include "px-match-scene.h"
#include "px-pin-history.h"

G_BEGIN_DECLS

// The longer side of a panel's presentation surface, in pixels.
#define PX_CORRESPONDENCE_SURFACE_SIDE 1024

struct _PxCorrespondencePage
{
  GtkWidget             parent_instance;

  GListModel           *studies;
  PxEmbedder           *embedder;
  gboolean              privacy;

  PxStudy              *source;
  GPtrArray            *targets;     // PxStudy
  GHashTable           *excluded;    // PxStudy the user unticked as targets
  PeacMatchContext     *ctx;
  PxMatchScene          scene;
  PeacMatchMode         mode;
  guint                 pin_counter;

  PxPinHistory         *history;     // pins per source image, undo and redo
  gboolean              drag_recorded;
  int                   drag_pin;    // pin being corrected, −1 when none
  int                   drag_target;
  double                drag_x, drag_y;
  int                   window_panel; // panel under a window/level drag, −1 when none
  double                window_start[2]; // its centre and width when the drag began

  GtkDropDown          *source_dropdown;
  GtkBox               *targets_box;
  GtkStack             *stack;
  GtkDrawingArea       *area;
  GtkLabel             *status_label;
  GtkAdjustment        *opacity;
  GtkAdjustment        *buddies_k;
  GSimpleActionGroup   *actions;
  GtkLabel             *ctr_label;
  GCancellable         *propagating; // the running propagation, NULL when none
};


// px-correspondence-page.c
gboolean  _px_correspondence_page_get_flag     (PxCorrespondencePage *self,
                                                const char           *name);
void      _px_correspondence_page_refresh      (PxCorrespondencePage *self);
void      _px_correspondence_page_set_query    (PxCorrespondencePage *self,
                                                double                x,
                                                double                y);
void      _px_correspondence_page_move_query_cells (PxCorrespondencePage *self,
                                                    int                   drow,
                                                    int                   dcol);
PxMatchPin *_px_correspondence_page_add_pin    (PxCorrespondencePage *self,
                                                const char           *name,
                                                double                x,
                                                double                y,
                                                int                   colour);
int       _px_correspondence_page_structure_colour (const char *structure);
void      _px_correspondence_page_record_pins  (PxCorrespondencePage *self);
void      _px_correspondence_page_undo_redo    (PxCorrespondencePage *self,
                                                gboolean              undo);
void      _px_correspondence_page_answer_pin   (PxCorrespondencePage *self,
                                                PxMatchPin           *pin);
void      _px_correspondence_page_answer_all   (PxCorrespondencePage *self);
void      _px_correspondence_page_update_buddies (PxCorrespondencePage *self);
void      _px_correspondence_page_rebuild      (PxCorrespondencePage *self);
char     *_px_correspondence_page_panel_label  (PxCorrespondencePage *self,
                                                int                   panel);
void      _px_correspondence_page_show_error   (PxCorrespondencePage *self,
                                                const char           *message);

// px-correspondence-input.c
void      _px_correspondence_page_input_init   (PxCorrespondencePage *self);

// px-correspondence-window.c
void      _px_correspondence_page_window_init  (PxCorrespondencePage *self);
void      _px_correspondence_page_window_apply (PxCorrespondencePage *self);

// px-correspondence-actions.c
void      _px_correspondence_page_actions_init (PxCorrespondencePage *self);

// px-correspondence-landmarks.c
double    _px_correspondence_page_pixel_mm     (PxStudy              *study);
void      _px_correspondence_page_measure      (PxCorrespondencePage *self);

// px-correspondence-propagate.c
void      _px_correspondence_page_propagate_cancel (PxCorrespondencePage *self);

G_END_DECLS
