// SPDX-License-Identifier: GPL-3.0-or-later
//
// What the parts of PxWindow share: the instance struct and the functions one part calls
// in another (px-window.c: the type and its views; px-window-open.c: the queue that opens
// files; px-window-actions.c: the win.* actions).
#pragma once

#include <adwaita.h>

#include "px-correspondence-page.h"
#include "px-embedder.h"
#include "px-embedding-map-page.h"
#include "px-grid-matching-page.h"
#include "px-probe-page.h"
#include "px-tag-panel.h"
#include "px-viewer-compare.h"
#include "px-window.h"

G_BEGIN_DECLS

struct _PxWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
  GListStore           *studies;
  GCancellable         *cancellable;
  GQueue                pending;
  guint                 n_scans;
  gboolean              load_in_flight;
  gboolean              select_next;
  gboolean              privacy;
  GPtrArray            *failures;      // "name: reason" of the files of this batch that failed
  GPtrArray            *last_failures; // the previous batch's, for its Details dialog
  gboolean              failures_from_folder;
  PxEmbedder           *embedder;

  AdwToastOverlay      *toast_overlay;
  AdwViewSwitcherTitle *window_title;
  AdwViewStack         *view_stack;
  PxCorrespondencePage *correspondence_page;
  PxEmbeddingMapPage   *embedding_map_page;
  PxGridMatchingPage   *grid_matching_page;
  PxTrainPage          *train_page;
  PxProbePage          *probe_page;
  GFile                *focus_file;   // a map point to show once its image is open
  double                focus_x, focus_y;
  GtkLabel             *model_name_label;
  GtkLabel             *model_description_label;
  GtkLabel             *model_summary_label;
  GtkWidget            *embedding_box;
  GtkProgressBar       *embedding_progress;
  GtkSpinner           *spinner;
  GtkStack             *stack;
  GtkListView          *study_list;
  GtkSingleSelection   *selection;
  PxViewer             *viewer;
  PxViewerCompare      *compare;
  GtkLabel             *info_label;
  GtkRevealer          *tags_revealer;
  PxTagPanel           *tag_panel;
  GMenu                *presets_section;
  GMenu                *recent_menu;
  GMenu                *recent_submenu;
  gboolean              discard_confirmed; // the user chose to close without saving pins
};

// px-window.c
void     px_window_update_loading   (PxWindow *self);

// px-window-open.c
int      px_window_find_study       (PxWindow *self,
                                     GFile    *file);
void     px_window_apply_focus      (PxWindow *self,
                                     PxStudy  *study);
void     px_window_clear_pending    (PxWindow *self);
char    *px_window_dup_shown_name   (PxWindow   *self,
                                     const char *name);

// px-window-actions.c
void     px_window_add_actions      (PxWindow *self);
gboolean px_window_ask_discard_pins (PxWindow *self,
                                     PxStudy  *study);

G_END_DECLS
