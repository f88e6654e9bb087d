// SPDX-License-Identifier: GPL-3.0-or-later
//
// GUI tests of how radiographs are looked at side by side (issue 23), on two same-patient
// Hannover radiographs read in place from ../shared/data. Window/level on the
// correspondence page, whose left button places points, is the right-button drag, by the
// amount derived by hand from the documented rate (the image's data range, read here from
// its own pixels, per 512 pixels of travel), and leaves the points where they were. The
// viewer's side-by-side comparison with Link on puts a crosshair where the engine's
// matcher, called here directly on the pair's grids under the micro model, answers the
// pointer's position, both ways; with Link off it draws none.
#include "config.h"

#include <adwaita.h>
#include <math.h>
#include <stdlib.h>

#include "peac-test-cli.h"
#include "match.h"
#include "px-answer-confidence.h"
#include "px-application.h"
#include "px-correspondence-page.h"
#include "px-image.h"
#include "px-test-util.h"
#include "px-viewer-compare.h"
#include "px-window.h"

// A follow-up pair of one patient (cxr-followup/followup_pairs.csv): day 0 and day 2.
static const char *const pair[2] = {
  "cxr/hannover-covid19/png/b343e657.png",
  "cxr/hannover-covid19/png/c9280a30.png",
};

static PxApplication *app;
static char *tmp_dir;

static void
open_pair (PxWindow *window)
{
  GFile *files[2];

  for (int i = 0; i < 2; i++)
    {
      g_autofree char *path = peac_test_shared_path (pair[i]);

      files[i] = g_file_new_for_path (path);
    }
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_object_unref (files[0]);
  g_object_unref (files[1]);
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 120));
  g_assert_cmpuint (g_list_model_get_n_items (px_window_get_studies (window)), ==, 2);
}

// The drag gesture of @widget for @button (0: any button).
static GtkGesture *
find_drag (GtkWidget *widget,
           guint      button)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_DRAG (controller) &&
          gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (controller)) == button)
        return GTK_GESTURE (controller);
    }
  return NULL;
}

static GtkGesture *
find_click (GtkWidget *widget,
            guint      button)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller) &&
          gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (controller)) == button)
        return GTK_GESTURE (controller);
    }
  return NULL;
}

// The data range of a radiograph, from its own pixels.
static void
pixel_range (PxStudy *study,
             double  *lo,
             double  *hi)
{
  g_autofree char *path = g_file_get_path (px_study_get_file (study));
  g_autoptr(GError) error = NULL;
  g_autoptr(PxImage) image = px_image_load (path, &error);

  g_assert_no_error (error);
  *lo = G_MAXDOUBLE;
  *hi = -G_MAXDOUBLE;
  for (gsize i = 0; i < (gsize) image->width * image->height; i++)
    {
      *lo = MIN (*lo, image->pixels[i]);
      *hi = MAX (*hi, image->pixels[i]);
    }
}

// The mean grey of a view rectangle in a rendering of @widget.
static double
mean_grey (const guint8 *grey,
           int           stride,
           double        x0,
           double        y0,
           double        x1,
           double        y1)
{
  double sum = 0;
  int n = 0;

  for (int y = (int) y0; y < (int) y1; y++)
    for (int x = (int) x0; x < (int) x1; x++, n++)
      sum += grey[(gsize) y * stride + x];
  return n > 0 ? sum / n : -1;
}

static gboolean
has_two_panels (gpointer data)
{
  return px_correspondence_page_get_n_panels (data) == 2;
}

// A right drag on the target panel sets its window by the hand-derived amount; the source
// panel keeps its window, the pin stays, the left button still pins; a double right-click
// and the page's reset action return to the default window (the data range, no preset in a
// PNG).
static void
test_correspondence_window (void)
{
  PxWindow *window = px_test_fresh_window (app, 1024, 700);
  PxCorrespondencePage *page = px_window_get_correspondence_page (window);
  GtkWidget *area;
  GtkGesture *left, *right, *click;
  double lo, hi, step, c, w, c0, w0, sx, sy, vx, vy, tx, ty, px, py, x0, y0, x1, y1;
  double before_src, before_tgt, after_src, after_tgt;
  PeacMatch answer;
  int width, height;

  px_window_show_page (window, "correspondence");
  open_pair (window);
  g_assert_true (px_test_wait_for (has_two_panels, page, 60));
  px_test_settle ();
  area = px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA);
  width = gtk_widget_get_width (area);
  height = gtk_widget_get_height (area);
  left = find_drag (area, GDK_BUTTON_PRIMARY);
  right = find_drag (area, GDK_BUTTON_SECONDARY);
  click = find_click (area, GDK_BUTTON_SECONDARY);
  g_assert_nonnull (left);
  g_assert_nonnull (right);
  g_assert_nonnull (click);

  // Before: both panels at the default window, the data range.
  for (int p = 0; p < 2; p++)
    {
      pixel_range (px_correspondence_page_get_panel_study (page, p), &lo, &hi);
      g_assert_true (px_correspondence_page_get_panel_window (page, p, &c, &w));
      g_assert_cmpfloat (fabs (c - (lo + hi) / 2), <, 1e-9);
      g_assert_cmpfloat (fabs (w - (hi - lo)), <, 1e-9);
    }

  // A click with the left button on the source pins a point.
  px_correspondence_page_view_point (page, width, height, 0, 200, 250, &vx, &vy);
  g_signal_emit_by_name (left, "drag-begin", vx, vy);
  g_signal_emit_by_name (left, "drag-end", 0.0, 0.0);
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &sx, &sy, &answer));
  g_assert_true (gtk_widget_get_mapped (area));
  px_test_settle ();

  {
    g_autoptr(GdkTexture) texture = px_test_render_widget (area);
    g_autofree guint8 *grey = px_test_texture_to_grey (texture);

    // A 40-pixel square of each panel, in the middle of its image.
    px_correspondence_page_view_point (page, width, height, 0, 320, 260, &x0, &y0);
    before_src = mean_grey (grey, width, x0 - 20, y0 - 20, x0 + 20, y0 + 20);
    px_correspondence_page_view_point (page, width, height, 1, 320, 260, &x1, &y1);
    before_tgt = mean_grey (grey, width, x1 - 20, y1 - 20, x1 + 20, y1 + 20);
  }

  // Right drag on the target: 100 px right (wider), 60 px up (lower level).
  pixel_range (px_correspondence_page_get_panel_study (page, 1), &lo, &hi);
  step = (hi - lo) / 512.0;
  c0 = (lo + hi) / 2;
  w0 = hi - lo;
  px_correspondence_page_view_point (page, width, height, 1, 300, 300, &tx, &ty);
  g_signal_emit_by_name (right, "drag-begin", tx, ty);
  g_signal_emit_by_name (right, "drag-update", 100.0, -60.0);
  g_signal_emit_by_name (right, "drag-end", 100.0, -60.0);
  g_assert_true (px_correspondence_page_get_panel_window (page, 1, &c, &w));
  g_assert_cmpfloat (fabs (c - (c0 - 60 * step)), <, 1e-9);
  g_assert_cmpfloat (fabs (w - (w0 + 100 * step)), <, 1e-9);
  // The source keeps its own window.
  pixel_range (px_correspondence_page_get_panel_study (page, 0), &lo, &hi);
  g_assert_true (px_correspondence_page_get_panel_window (page, 0, &c, &w));
  g_assert_cmpfloat (fabs (c - (lo + hi) / 2), <, 1e-9);
  g_assert_cmpfloat (fabs (w - (hi - lo)), <, 1e-9);
  // The points are untouched.
  g_assert_cmpuint (px_correspondence_page_get_n_pins (page), ==, 1);
  g_assert_true (px_correspondence_page_get_pin (page, 0, 0, &px, &py, &answer));
  g_assert_cmpfloat (px, ==, sx);
  g_assert_cmpfloat (py, ==, sy);

  // On screen: a lower level and a wider window brighten the target's mid-grey (the level
  // moved 60 steps below the old centre); the source is drawn as before.
  px_test_settle ();
  {
    g_autoptr(GdkTexture) texture = px_test_render_widget (area);
    g_autofree guint8 *grey = px_test_texture_to_grey (texture);

    after_src = mean_grey (grey, width, x0 - 20, y0 - 20, x0 + 20, y0 + 20);
    after_tgt = mean_grey (grey, width, x1 - 20, y1 - 20, x1 + 20, y1 + 20);
  }
  g_test_message ("target mean grey %.1f → %.1f, source %.1f → %.1f", before_tgt, after_tgt,
                  before_src, after_src);
  g_assert_cmpfloat (fabs (after_src - before_src), <, 0.5);
  g_assert_cmpfloat (after_tgt, >, before_tgt + 5);

  // A double right-click on the target resets it.
  g_signal_emit_by_name (click, "pressed", 2, tx, ty);
  pixel_range (px_correspondence_page_get_panel_study (page, 1), &lo, &hi);
  g_assert_true (px_correspondence_page_get_panel_window (page, 1, &c, &w));
  g_assert_cmpfloat (fabs (c - (lo + hi) / 2), <, 1e-9);
  g_assert_cmpfloat (fabs (w - (hi - lo)), <, 1e-9);

  // The window stays with its image when the source changes; the reset action clears it.
  g_signal_emit_by_name (right, "drag-begin", tx, ty);
  g_signal_emit_by_name (right, "drag-update", -40.0, 20.0);
  g_signal_emit_by_name (right, "drag-end", -40.0, 20.0);
  {
    PxStudy *target = px_correspondence_page_get_panel_study (page, 1);

    px_correspondence_page_set_source (page, target);
    px_test_settle ();
    g_assert_true (px_correspondence_page_get_panel_study (page, 0) == target);
    g_assert_true (px_correspondence_page_get_panel_window (page, 0, &c, &w));
    g_assert_cmpfloat (fabs (c - (c0 + 20 * step)), <, 1e-9);
    g_assert_cmpfloat (fabs (w - (w0 - 40 * step)), <, 1e-9);
  }
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "corr.reset-window", NULL));
  g_assert_true (px_correspondence_page_get_panel_window (page, 0, &c, &w));
  g_assert_cmpfloat (fabs (c - c0), <, 1e-9);
  g_assert_cmpfloat (fabs (w - w0), <, 1e-9);
}

static gboolean
compare_ready (gpointer data)
{
  return px_viewer_compare_get_ready (data);
}

// Moves the pointer over @viewer to its image point (@x, @y): every motion controller on it
// hears it, as from GDK.
static void
point_at (PxViewer *viewer,
          double    x,
          double    y)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (viewer));
  double wx, wy;

  px_viewer_image_to_widget (viewer, x, y, &wx, &wy);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_MOTION (controller))
        g_signal_emit_by_name (controller, "motion", wx, wy);
    }
}

// How many pixels of a rendering of @widget are the crosshair's yellow (the radiograph is
// grey: red, green and blue equal).
static guint
count_yellow (GtkWidget *widget)
{
  g_autoptr(GdkTexture) texture = px_test_render_widget (widget);
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);
  g_autofree guint8 *bgra = g_malloc ((gsize) w * h * 4);
  guint n = 0;

  gdk_texture_download (texture, bgra, (gsize) w * 4);
  for (gsize i = 0; i < (gsize) w * h; i++)
    if (bgra[4 * i + 2] > 180 && bgra[4 * i + 1] > 150 && bgra[4 * i] < 120)
      n++;
  return n;
}

// A #PxTestWidgetPredicate: the Link button (the drop-down's own toggle button is not it).
static gboolean
is_link_button (GtkWidget     *widget,
                gconstpointer  data)
{
  return GTK_IS_TOGGLE_BUTTON (widget) && ADW_IS_BUTTON_CONTENT (gtk_button_get_child (GTK_BUTTON (widget)));
}

// The engine's answer for a point of image @from of the pair, from contexts built here on
// the embedder's grids.
static void
oracle (PxEmbedder    *embedder,
        PxStudy       *studies[2],
        int            from,
        double         x,
        double         y,
        PeacMatchMode  mode,
        PeacMatch     *out)
{
  PxEmbedding *a = px_embedder_lookup (embedder, studies[from]);
  PxEmbedding *b = px_embedder_lookup (embedder, studies[1 - from]);
  PeacMatchContext *ctx;
  char err[256];

  g_assert_nonnull (a);
  g_assert_nonnull (b);
  ctx = peac_match_context_new (&(PeacGrid) { a->tokens, a->gh, a->gw, a->width, a->height },
                                &(PeacGrid) { b->tokens, b->gh, b->gw, b->width, b->height }, 1,
                                a->dim, NULL, err, sizeof err);
  g_assert_nonnull (ctx);
  g_assert_cmpint (peac_match_query (ctx, 0, x, y, mode, out, NULL), ==, 0);
  peac_match_context_free (ctx);
}

// The comparison at 1024 × 700: with the micro model Link matches in the background (the spinner turns meanwhile), then the crosshair on the other image sits at
// the engine's answer within a thousandth of a pixel, both ways, and the status line grades
// it; Link off draws no crosshair.
static void
test_viewer_link (void)
{
  PxWindow *window = px_test_fresh_window (app, 1024, 700);
  PxViewer *primary = px_window_get_viewer (window);
  PxViewerCompare *compare;
  PxViewer *other;
  GtkWidget *link;
  PxStudy *studies[2];
  g_autoptr(PxModel) model = px_model_new_micro ();
  static const double points[3][2] = { { 160, 200 }, { 320, 300 }, { 470, 250 } };
  PeacMatchMode mode;

  open_pair (window);
  px_test_settle ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.compare", NULL));
  px_test_settle ();
  compare = PX_VIEWER_COMPARE (px_test_find_child (GTK_WIDGET (window), PX_TYPE_VIEWER_COMPARE));
  g_assert_true (px_viewer_compare_get_active (compare));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (compare)));
  other = px_viewer_compare_get_viewer (compare);
  studies[0] = px_viewer_get_study (primary);
  studies[1] = px_viewer_get_study (other);
  g_assert_nonnull (studies[0]);
  g_assert_nonnull (studies[1]);
  // The other open image is compared, beside the first, in the same window.
  g_assert_true (studies[0] != studies[1]);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, 1024);
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (window)), <=, 700);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (other)), >, 200);
  // Equal halves (the right one less its separator).
  g_test_message ("left viewer %d px wide, right %d px", gtk_widget_get_width (GTK_WIDGET (primary)),
                  gtk_widget_get_width (GTK_WIDGET (other)));
  g_assert_cmpint (abs (gtk_widget_get_width (GTK_WIDGET (primary)) - gtk_widget_get_width (GTK_WIDGET (other))), <=, 2);
  // With the DICOM header panel open too, it all still fits.
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-tags", NULL));
  px_test_settle ();
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (window)), <=, 1024);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (other)), >, 100);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-tags", NULL));
  px_test_settle ();

  // The micro model (the window always has a model: the bundled one or the micro
  // stand-in): Link on; the pair is embedded and matched in the background.
  link = px_test_find_widget (GTK_WIDGET (compare), is_link_button, NULL);
  g_assert_nonnull (link);
  px_embedder_set_model (px_window_get_embedder (window), model);
  g_assert_true (gtk_widget_get_sensitive (link));
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (link)));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (link), TRUE);
  g_assert_true (px_viewer_compare_get_busy (compare));
  g_assert_true (px_test_wait_for (compare_ready, compare, 120));
  g_assert_false (px_viewer_compare_get_busy (compare));
  px_test_settle ();
  mode = px_viewer_compare_get_mode (compare);
  // The Preferences default.
  g_assert_cmpint (mode, ==, PEAC_MATCH_GUIDED);

  for (int from = 0; from < 2; from++)
    {
      PxViewer *viewers[2] = { primary, other };

      for (int i = 0; i < 3; i++)
        {
          double wx, wy, x, y, cx, cy;
          PeacMatch m;
          g_autofree char *words = NULL;
          PxConfidence c;

          point_at (viewers[from], points[i][0], points[i][1]);
          // The point the pointer is on, as the viewer maps it.
          px_viewer_image_to_widget (viewers[from], points[i][0], points[i][1], &wx, &wy);
          g_assert_true (px_viewer_widget_to_image (viewers[from], wx, wy, &x, &y));
          oracle (px_window_get_embedder (window), studies, from, x, y, mode, &m);
          g_assert_true (px_viewer_get_crosshair (viewers[1 - from], &cx, &cy));
          g_test_message ("%s (%.0f, %.0f) → (%.3f, %.3f), engine (%.3f, %.3f), confidence %.2f",
                          from == 0 ? "left" : "right", x, y, cx, cy, m.x, m.y, m.confidence);
          g_assert_cmpfloat (fabs (cx - m.x), <, 1e-3);
          g_assert_cmpfloat (fabs (cy - m.y), <, 1e-3);
          // Graded as the correspondence page grades it.
          c = px_confidence_of_match (&m);
          words = px_confidence_describe (&c);
          g_assert_nonnull (strstr (px_viewer_compare_get_status (compare), words));
          g_assert_false (px_viewer_get_crosshair (viewers[from], NULL, NULL));
        }
    }

  // On screen: the crosshair is drawn on the left image.
  px_test_settle ();
  g_assert_cmpuint (count_yellow (GTK_WIDGET (primary)), >, 20);
  g_assert_cmpuint (count_yellow (GTK_WIDGET (other)), ==, 0);

  // Link off: no crosshair, whatever the pointer does.
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (link), FALSE);
  point_at (primary, points[1][0], points[1][1]);
  point_at (other, points[1][0], points[1][1]);
  g_assert_false (px_viewer_get_crosshair (primary, NULL, NULL));
  g_assert_false (px_viewer_get_crosshair (other, NULL, NULL));
  px_test_settle ();
  g_assert_cmpuint (count_yellow (GTK_WIDGET (primary)), ==, 0);
  g_assert_cmpuint (count_yellow (GTK_WIDGET (other)), ==, 0);

  // The wheel (radiology bindings) over the right side steps to the next open image there,
  // after the last one back to the first.
  g_assert_true (px_viewer_get_study (other) == studies[1]);
  g_signal_emit_by_name (other, "step", 1);
  g_assert_true (px_viewer_get_study (other) == studies[0]);
  g_assert_true (px_viewer_get_study (primary) == studies[0]);

  // The action closes the comparison again.
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.compare", NULL));
  g_assert_false (px_viewer_compare_get_active (compare));
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = px_test_app_setup (&argc, &argv, "view", &tmp_dir);

  g_test_add_func ("/view/correspondence-window", test_correspondence_window);
  g_test_add_func ("/view/viewer-link", test_viewer_link);
  ret = g_test_run ();
  px_test_app_teardown (app, tmp_dir);
  return ret;
}
