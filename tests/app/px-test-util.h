// SPDX-License-Identifier: GPL-3.0-or-later
//
// Helpers shared by the GUI tests and the screenshot tool: wait on the main loop for a
// condition (the conditions the tests wait on are defined here, once), open a fresh main
// window, render a widget to a texture as the screen would show it, find the widgets under
// a widget that a predicate picks (or a widget's drag gesture, or a visible toplevel of a
// type) or collect the text of every label under it, measure main-loop stalls, give each
// test run a temporary home that is removed afterwards, and set up (and tear down) the
// application every GUI test's main() runs.
#pragma once

#include <gtk/gtk.h>

#include "px-application.h"
#include "px-probe-page.h"
#include "px-trainer.h"
#include "px-window.h"

G_BEGIN_DECLS

typedef gboolean (*PxTestCondition) (gpointer data);
// Whether @widget is the one sought; @data is what px_test_find_widget() was given.
typedef gboolean (*PxTestWidgetPredicate) (GtkWidget *widget, gconstpointer data);

typedef struct {
  gint64 last;
  gint64 worst;
  guint  id;
} PxTestStallProbe;

gboolean    px_test_wait_for         (PxTestCondition  condition,
                                      gpointer         data,
                                      guint            timeout_seconds);
// Conditions for px_test_wait_for(): the object each takes is in its name.
gboolean    px_test_window_is_idle   (gpointer         window);
gboolean    px_test_window_has_model (gpointer         window);
gboolean    px_test_correspondence_ready (gpointer     page);
gboolean    px_test_grid_ready       (gpointer         page);
gboolean    px_test_map_idle         (gpointer         page);
gboolean    px_test_probe_idle       (gpointer         page);
gboolean    px_test_scan_done        (gpointer         page);
gboolean    px_test_trainer_idle     (gpointer         trainer);
// For px_test_step_reached(): wait until @trainer reaches @step or stops.
typedef struct {
  PxTrainer *trainer;
  long       step;
} PxTestStepWait;
gboolean    px_test_step_reached     (gpointer         wait);
void        px_test_settle           (void);
GdkTexture *px_test_render_widget    (GtkWidget       *widget);
guint8     *px_test_texture_to_grey  (GdkTexture      *texture);
GPtrArray  *px_test_collect_labels   (GtkWidget       *root);
gboolean    px_test_labels_contain   (GtkWidget       *root,
                                      const char      *needle);

GtkWidget  *px_test_find_widget      (GtkWidget       *root,
                                      PxTestWidgetPredicate predicate,
                                      gconstpointer    data);
GPtrArray  *px_test_find_widgets     (GtkWidget       *root,
                                      PxTestWidgetPredicate predicate,
                                      gconstpointer    data);
gboolean    px_test_button_has_label (GtkWidget       *widget,
                                      gconstpointer    label);
GtkWidget  *px_test_find_child       (GtkWidget       *root,
                                      GType            type);
GtkWidget  *px_test_find_toplevel    (GType            type);
GtkGesture *px_test_find_drag_gesture (GtkWidget      *widget);
PxWindow   *px_test_fresh_window     (PxApplication   *app,
                                      int              width,
                                      int              height);
void        px_test_probe_start      (PxTestStallProbe *probe,
                                      int               priority);
double      px_test_probe_stop       (PxTestStallProbe *probe);
void        px_test_remove_tree      (const char      *path);
char       *px_test_make_home        (const char      *tmpl);
void        px_test_remove_home      (char            *home);
PxApplication *px_test_app_setup     (int             *argc,
                                      char          ***argv,
                                      const char      *name,
                                      char           **home);
void        px_test_app_teardown     (PxApplication   *app,
                                      char            *home);

// An action a user can reach: a button's or toggle's, a menu item's, with its target.
typedef struct {
  GtkWidget *widget;  // activated from here (a reference), so that page groups ("corr.") resolve
  char      *name;    // "prefix.action"
  GVariant  *target;  // nullable
} PxTestAction;

GPtrArray  *px_test_actions_new      (void);
void        px_test_actions_add      (GPtrArray       *list,
                                      GtkWidget       *widget,
                                      const char      *name,
                                      GVariant        *target);
void        px_test_actions_collect  (GPtrArray       *list,
                                      GtkWidget       *root);

AdwViewStack *px_test_window_stack   (PxWindow        *window);
void        px_test_show_page_of     (PxWindow        *window,
                                      GtkWidget       *widget);

G_END_DECLS
