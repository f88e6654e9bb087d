// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxViewer draws one radiograph. The image is rendered to 8 bits with
// px_image_render_u8() whenever the window, level or inversion change, uploaded as a
// texture and placed with GtkSnapshot at the current zoom and pan. Input follows one of
// two schemes (px_viewer_drag_role()): the radiology one (the default) — left drag sets
// window/level (horizontal = width, vertical = centre), middle drag pans, right drag
// zooms (up: in), the wheel steps to the next or previous image ("step") — or the
// classic one — left or middle drag pans, right drag sets window/level, the wheel zooms
// around the pointer. The view is described by the image point at the widget's centre
// plus a zoom factor, so resizing keeps what the user looked at. A crosshair can mark one
// image point (the linked comparison's matched place, px-viewer-compare.c): solid for a
// confident match, dashed for a doubtful one.
#include "config.h"

#include <math.h>

#include "px-viewer.h"

#define ZOOM_STEP 1.25

struct _PxViewer
{
  GtkWidget   parent_instance;

  PxStudy    *study;
  GdkTexture *texture;
  gboolean    texture_dirty;

  double      zoom;
  gboolean    zoom_to_fit;
  double      view_x;      // image point shown at the widget centre
  double      view_y;

  double      window_center;
  double      window_width;
  gboolean    inverted;

  double      pointer_x;   // last pointer position, the anchor for scroll zoom
  double      pointer_y;
  gboolean    pointer_inside;

  gboolean    radiology;   // the radiology mouse scheme
  PxDragRole  drag_role;
  double      drag_start_a;
  double      drag_start_b;
  double      drag_x, drag_y;

  gboolean    crosshair;   // a marked image point
  double      crosshair_x, crosshair_y;
  gboolean    crosshair_confident;
};

G_DEFINE_FINAL_TYPE (PxViewer, px_viewer, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_STUDY,
  PROP_ZOOM,
  PROP_ZOOM_TO_FIT,
  PROP_WINDOW_CENTER,
  PROP_WINDOW_WIDTH,
  PROP_INVERTED,
  PROP_RADIOLOGY_MOUSE,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

enum {
  STEP,
  N_SIGNALS
};

static guint signals [N_SIGNALS];

/**
 * px_viewer_drag_role:
 * @radiology: the radiology scheme (else the classic one)
 * @button: the GDK button number of the drag
 *
 * Returns: what a drag with @button does
 */
PxDragRole
px_viewer_drag_role (gboolean radiology,
                     guint    button)
{
  if (radiology)
    return button == GDK_BUTTON_PRIMARY ? PX_DRAG_WINDOW :
           button == GDK_BUTTON_MIDDLE ? PX_DRAG_PAN : PX_DRAG_ZOOM;
  return button == GDK_BUTTON_SECONDARY ? PX_DRAG_WINDOW : PX_DRAG_PAN;
}

static const PxImage *
get_image (PxViewer *self)
{
  return self->study ? px_study_get_image (self->study) : NULL;
}

static double
fit_zoom (PxViewer *self)
{
  const PxImage *image = get_image (self);
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));

  if (image == NULL || w <= 0 || h <= 0)
    return 1.0;
  return CLAMP (MIN ((double) w / image->width, (double) h / image->height),
                PX_VIEWER_ZOOM_MIN, PX_VIEWER_ZOOM_MAX);
}

static void
clamp_view (PxViewer *self)
{
  const PxImage *image = get_image (self);

  if (image == NULL)
    return;
  self->view_x = CLAMP (self->view_x, 0, image->width);
  self->view_y = CLAMP (self->view_y, 0, image->height);
}

static void
apply_fit (PxViewer *self)
{
  const PxImage *image = get_image (self);
  double zoom = fit_zoom (self);

  if (image != NULL)
    {
      self->view_x = image->width / 2.0;
      self->view_y = image->height / 2.0;
    }
  if (zoom != self->zoom)
    {
      self->zoom = zoom;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ZOOM]);
    }
}

static void
set_zoom_to_fit (PxViewer *self,
                 gboolean  zoom_to_fit)
{
  if (self->zoom_to_fit == zoom_to_fit)
    return;
  self->zoom_to_fit = zoom_to_fit;
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ZOOM_TO_FIT]);
}

// Zooms keeping the image point under (x, y) in widget coordinates where it is.
static void
zoom_around (PxViewer *self,
             double    zoom,
             double    x,
             double    y)
{
  double ix, iy;

  zoom = CLAMP (zoom, PX_VIEWER_ZOOM_MIN, PX_VIEWER_ZOOM_MAX);
  px_viewer_widget_to_image (self, x, y, &ix, &iy);
  self->view_x = ix - (x - gtk_widget_get_width (GTK_WIDGET (self)) / 2.0) / zoom;
  self->view_y = iy - (y - gtk_widget_get_height (GTK_WIDGET (self)) / 2.0) / zoom;
  clamp_view (self);
  set_zoom_to_fit (self, FALSE);
  if (zoom != self->zoom)
    {
      self->zoom = zoom;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_ZOOM]);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
zoom_around_center (PxViewer *self,
                    double    zoom)
{
  zoom_around (self, zoom,
               gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
               gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

static void
ensure_texture (PxViewer *self)
{
  const PxImage *image = get_image (self);
  g_autofree guint8 *grey = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gsize n;
  guint8 *rgb;

  if (!self->texture_dirty)
    return;
  self->texture_dirty = FALSE;
  g_clear_object (&self->texture);
  if (image == NULL)
    return;

  // GTK 4.8 has no single-channel memory format, so expand grey to RGB.
  n = (gsize) image->width * image->height;
  grey = g_malloc (n);
  rgb = g_malloc (n * 3);
  px_image_render_u8 (image, self->window_center, self->window_width, self->inverted, grey);
  for (gsize i = 0; i < n; i++)
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
  bytes = g_bytes_new_take (rgb, n * 3);
  self->texture = gdk_memory_texture_new (image->width, image->height,
                                          GDK_MEMORY_R8G8B8, bytes,
                                          (gsize) image->width * 3);
}

static void
invalidate_texture (PxViewer *self)
{
  self->texture_dirty = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
px_viewer_snapshot (GtkWidget   *widget,
                    GtkSnapshot *snapshot)
{
  PxViewer *self = PX_VIEWER (widget);
  const PxImage *image = get_image (self);
  int w = gtk_widget_get_width (widget);
  int h = gtk_widget_get_height (widget);

  if (image == NULL)
    return;

  ensure_texture (self);
  if (self->texture == NULL)
    return;

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  gtk_snapshot_append_texture (snapshot, self->texture,
                               &GRAPHENE_RECT_INIT (w / 2.0 - self->view_x * self->zoom,
                                                    h / 2.0 - self->view_y * self->zoom,
                                                    image->width * self->zoom,
                                                    image->height * self->zoom));
  gtk_snapshot_pop (snapshot);

  if (self->crosshair)
    {
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
      double cx, cy;

      px_viewer_image_to_widget (self, self->crosshair_x, self->crosshair_y, &cx, &cy);
      // Two arms each way with a gap at the point, dark under light so that it reads on
      // bone and on air alike; Okabe–Ito yellow.
      for (int pass = 0; pass < 2; pass++)
        {
          static const double dash[] = { 6.0, 4.0 };

          cairo_set_line_width (cr, pass == 0 ? 3.5 : 1.5);
          if (pass == 0)
            cairo_set_source_rgba (cr, 0, 0, 0, 0.7);
          else
            cairo_set_source_rgb (cr, 0.94, 0.89, 0.26);
          cairo_set_dash (cr, dash, self->crosshair_confident ? 0 : 2, 0);
          cairo_move_to (cr, cx - 24, cy);
          cairo_line_to (cr, cx - 6, cy);
          cairo_move_to (cr, cx + 6, cy);
          cairo_line_to (cr, cx + 24, cy);
          cairo_move_to (cr, cx, cy - 24);
          cairo_line_to (cr, cx, cy - 6);
          cairo_move_to (cr, cx, cy + 6);
          cairo_line_to (cr, cx, cy + 24);
          cairo_stroke (cr);
          cairo_arc (cr, cx, cy, 10, 0, 2 * G_PI);
          cairo_stroke (cr);
        }
      cairo_destroy (cr);
    }
}

static void
px_viewer_size_allocate (GtkWidget *widget,
                         int        width,
                         int        height,
                         int        baseline)
{
  PxViewer *self = PX_VIEWER (widget);

  if (self->zoom_to_fit)
    apply_fit (self);
}

static void
px_viewer_measure (GtkWidget      *widget,
                   GtkOrientation  orientation,
                   int             for_size,
                   int            *minimum,
                   int            *natural,
                   int            *minimum_baseline,
                   int            *natural_baseline)
{
  *minimum = 64;
  *natural = 480;
}

static gboolean
on_scroll (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           PxViewer                 *self)
{
  double x, y;

  if (get_image (self) == NULL || dy == 0)
    return FALSE;

  if (self->radiology)
    {
      g_signal_emit (self, signals[STEP], 0, dy > 0 ? 1 : -1);
      return TRUE;
    }
  if (self->pointer_inside)
    {
      x = self->pointer_x;
      y = self->pointer_y;
    }
  else
    {
      x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  zoom_around (self, self->zoom * pow (1.1, -dy), x, y);
  return TRUE;
}

static void
on_motion (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           PxViewer                 *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
}

static void
on_leave (GtkEventControllerMotion *controller,
          PxViewer                 *self)
{
  self->pointer_inside = FALSE;
}

static void
on_drag_begin (GtkGestureDrag *gesture,
               double          x,
               double          y,
               PxViewer       *self)
{
  if (get_image (self) == NULL)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }

  self->drag_role = px_viewer_drag_role (self->radiology,
                                         gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture)));
  self->drag_x = x;
  self->drag_y = y;
  if (self->drag_role == PX_DRAG_WINDOW)
    {
      self->drag_start_a = self->window_center;
      self->drag_start_b = self->window_width;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "all-scroll");
    }
  else if (self->drag_role == PX_DRAG_ZOOM)
    {
      self->drag_start_a = self->zoom;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "zoom-in");
    }
  else
    {
      self->drag_start_a = self->view_x;
      self->drag_start_b = self->view_y;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grabbing");
    }
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
on_drag_update (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                PxViewer       *self)
{
  const PxImage *image = get_image (self);

  if (image == NULL)
    return;

  if (self->drag_role == PX_DRAG_ZOOM)
    // 100 pixels up doubles the zoom, around where the drag began.
    zoom_around (self, self->drag_start_a * pow (2.0, -dy / 100.0), self->drag_x, self->drag_y);
  else if (self->drag_role == PX_DRAG_WINDOW)
    {
      // A full-range sweep takes about 512 pixels of pointer travel.
      double step = MAX (1e-3, (image->data_max - image->data_min) / 512.0);

      px_viewer_set_window (self,
                            self->drag_start_a + dy * step,
                            self->drag_start_b + dx * step);
    }
  else
    {
      self->view_x = self->drag_start_a - dx / self->zoom;
      self->view_y = self->drag_start_b - dy / self->zoom;
      clamp_view (self);
      set_zoom_to_fit (self, FALSE);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
on_drag_end (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             PxViewer       *self)
{
  gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
}

static void
px_viewer_dispose (GObject *object)
{
  PxViewer *self = (PxViewer *)object;

  g_clear_object (&self->study);
  g_clear_object (&self->texture);

  G_OBJECT_CLASS (px_viewer_parent_class)->dispose (object);
}

static void
px_viewer_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  PxViewer *self = PX_VIEWER (object);

  switch (prop_id)
    {
    case PROP_STUDY:
      g_value_set_object (value, self->study);
      break;

    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;

    case PROP_ZOOM_TO_FIT:
      g_value_set_boolean (value, self->zoom_to_fit);
      break;

    case PROP_WINDOW_CENTER:
      g_value_set_double (value, self->window_center);
      break;

    case PROP_WINDOW_WIDTH:
      g_value_set_double (value, self->window_width);
      break;

    case PROP_INVERTED:
      g_value_set_boolean (value, self->inverted);
      break;

    case PROP_RADIOLOGY_MOUSE:
      g_value_set_boolean (value, self->radiology);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_viewer_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  PxViewer *self = PX_VIEWER (object);

  switch (prop_id)
    {
    case PROP_STUDY:
      px_viewer_set_study (self, g_value_get_object (value));
      break;

    case PROP_ZOOM:
      px_viewer_set_zoom (self, g_value_get_double (value));
      break;

    case PROP_ZOOM_TO_FIT:
      if (g_value_get_boolean (value))
        px_viewer_zoom_to_fit (self);
      else
        set_zoom_to_fit (self, FALSE);
      break;

    case PROP_WINDOW_CENTER:
      px_viewer_set_window (self, g_value_get_double (value), self->window_width);
      break;

    case PROP_WINDOW_WIDTH:
      px_viewer_set_window (self, self->window_center, g_value_get_double (value));
      break;

    case PROP_INVERTED:
      px_viewer_set_inverted (self, g_value_get_boolean (value));
      break;

    case PROP_RADIOLOGY_MOUSE:
      if (self->radiology != g_value_get_boolean (value))
        {
          self->radiology = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_viewer_class_init (PxViewerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = px_viewer_dispose;
  object_class->get_property = px_viewer_get_property;
  object_class->set_property = px_viewer_set_property;

  widget_class->snapshot = px_viewer_snapshot;
  widget_class->size_allocate = px_viewer_size_allocate;
  widget_class->measure = px_viewer_measure;

  properties [PROP_STUDY] =
    g_param_spec_object ("study", NULL, NULL, PX_TYPE_STUDY,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, PX_VIEWER_ZOOM_MIN, PX_VIEWER_ZOOM_MAX, 1.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_ZOOM_TO_FIT] =
    g_param_spec_boolean ("zoom-to-fit", NULL, NULL, TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_WINDOW_CENTER] =
    g_param_spec_double ("window-center", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 127.5,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_WINDOW_WIDTH] =
    g_param_spec_double ("window-width", NULL, NULL, 0, G_MAXDOUBLE, 255.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_INVERTED] =
    g_param_spec_boolean ("inverted", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties [PROP_RADIOLOGY_MOUSE] =
    g_param_spec_boolean ("radiology-mouse", NULL, NULL, TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PxViewer::step:
   * @direction: 1 for the next image, -1 for the previous one
   *
   * The wheel turned under the radiology mouse scheme.
   */
  signals [STEP] = g_signal_new ("step", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                 NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  gtk_widget_class_set_css_name (widget_class, "pxviewer");
}

static void
px_viewer_init (PxViewer *self)
{
  GtkEventController *controller;
  GtkGesture *drag;

  self->zoom = 1.0;
  self->radiology = TRUE;
  self->zoom_to_fit = TRUE;
  self->window_center = 127.5;
  self->window_width = 255.0;

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (controller, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "enter", G_CALLBACK (on_motion), self);
  g_signal_connect (controller, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (controller, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  // Button 0: primary and middle pan, secondary adjusts window/level.
  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
}

GtkWidget *
px_viewer_new (void)
{
  return g_object_new (PX_TYPE_VIEWER, NULL);
}

/**
 * px_viewer_get_study:
 *
 * Returns: (transfer none) (nullable): the study shown
 */
PxStudy *
px_viewer_get_study (PxViewer *self)
{
  g_return_val_if_fail (PX_IS_VIEWER (self), NULL);
  return self->study;
}

/**
 * px_viewer_set_study:
 *
 * Shows @study fitted to the widget with its default window, not inverted.
 */
void
px_viewer_set_study (PxViewer *self,
                     PxStudy  *study)
{
  g_return_if_fail (PX_IS_VIEWER (self));
  g_return_if_fail (!study || PX_IS_STUDY (study));

  if (!g_set_object (&self->study, study))
    return;

  self->crosshair = FALSE;
  g_object_freeze_notify (G_OBJECT (self));
  px_viewer_set_inverted (self, FALSE);
  px_viewer_reset_window (self);
  px_viewer_zoom_to_fit (self);
  invalidate_texture (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STUDY]);
  g_object_thaw_notify (G_OBJECT (self));
}

double
px_viewer_get_zoom (PxViewer *self)
{
  g_return_val_if_fail (PX_IS_VIEWER (self), 1.0);
  return self->zoom;
}

/**
 * px_viewer_set_zoom:
 * @zoom: screen pixels per image pixel; 1.0 shows the image at its own size
 */
void
px_viewer_set_zoom (PxViewer *self,
                    double    zoom)
{
  g_return_if_fail (PX_IS_VIEWER (self));
  zoom_around_center (self, zoom);
}

gboolean
px_viewer_get_zoom_to_fit (PxViewer *self)
{
  g_return_val_if_fail (PX_IS_VIEWER (self), FALSE);
  return self->zoom_to_fit;
}

void
px_viewer_zoom_to_fit (PxViewer *self)
{
  g_return_if_fail (PX_IS_VIEWER (self));

  set_zoom_to_fit (self, TRUE);
  apply_fit (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
px_viewer_zoom_in (PxViewer *self)
{
  g_return_if_fail (PX_IS_VIEWER (self));
  zoom_around_center (self, self->zoom * ZOOM_STEP);
}

void
px_viewer_zoom_out (PxViewer *self)
{
  g_return_if_fail (PX_IS_VIEWER (self));
  zoom_around_center (self, self->zoom / ZOOM_STEP);
}

double
px_viewer_get_window_center (PxViewer *self)
{
  g_return_val_if_fail (PX_IS_VIEWER (self), 0);
  return self->window_center;
}

double
px_viewer_get_window_width (PxViewer *self)
{
  g_return_val_if_fail (PX_IS_VIEWER (self), 0);
  return self->window_width;
}

/**
 * px_viewer_set_window:
 * @center: window centre (level) in modality units
 * @width: window width in modality units; at least 1 unit wide
 */
void
px_viewer_set_window (PxViewer *self,
                      double    center,
                      double    width)
{
  g_return_if_fail (PX_IS_VIEWER (self));

  width = MAX (width, 1.0);
  if (center == self->window_center && width == self->window_width)
    return;

  g_object_freeze_notify (G_OBJECT (self));
  if (center != self->window_center)
    {
      self->window_center = center;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_WINDOW_CENTER]);
    }
  if (width != self->window_width)
    {
      self->window_width = width;
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_WINDOW_WIDTH]);
    }
  g_object_thaw_notify (G_OBJECT (self));
  invalidate_texture (self);
}

/**
 * px_viewer_reset_window:
 *
 * Returns to the image's default window: its first DICOM preset, else its data range.
 */
void
px_viewer_reset_window (PxViewer *self)
{
  const PxImage *image;
  double center, width;

  g_return_if_fail (PX_IS_VIEWER (self));

  if ((image = get_image (self)) == NULL)
    return;
  px_image_default_window (image, &center, &width);
  px_viewer_set_window (self, center, width);
}

void
px_viewer_set_full_range (PxViewer *self)
{
  const PxImage *image;
  double center, width;

  g_return_if_fail (PX_IS_VIEWER (self));

  if ((image = get_image (self)) == NULL)
    return;
  px_image_full_window (image, &center, &width);
  px_viewer_set_window (self, center, width);
}

gboolean
px_viewer_get_inverted (PxViewer *self)
{
  g_return_val_if_fail (PX_IS_VIEWER (self), FALSE);
  return self->inverted;
}

void
px_viewer_set_inverted (PxViewer *self,
                        gboolean  inverted)
{
  g_return_if_fail (PX_IS_VIEWER (self));

  inverted = !!inverted;
  if (self->inverted == inverted)
    return;
  self->inverted = inverted;
  invalidate_texture (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_INVERTED]);
}

/**
 * px_viewer_widget_to_image:
 * @x: (in): widget coordinate
 * @y: (in): widget coordinate
 * @image_x: (out): image column, in pixels (fractional)
 * @image_y: (out): image row, in pixels (fractional)
 *
 * Returns: %TRUE when the point lies on the image
 */
gboolean
px_viewer_widget_to_image (PxViewer *self,
                           double    x,
                           double    y,
                           double   *image_x,
                           double   *image_y)
{
  const PxImage *image;
  double ix, iy;

  g_return_val_if_fail (PX_IS_VIEWER (self), FALSE);

  ix = self->view_x + (x - gtk_widget_get_width (GTK_WIDGET (self)) / 2.0) / self->zoom;
  iy = self->view_y + (y - gtk_widget_get_height (GTK_WIDGET (self)) / 2.0) / self->zoom;
  if (image_x != NULL)
    *image_x = ix;
  if (image_y != NULL)
    *image_y = iy;

  image = get_image (self);
  return image != NULL && ix >= 0 && iy >= 0 && ix < image->width && iy < image->height;
}

/**
 * px_viewer_image_to_widget:
 * @x: image column, in pixels (fractional)
 * @y: image row, in pixels (fractional)
 * @widget_x: (out): widget coordinate
 * @widget_y: (out): widget coordinate
 *
 * The inverse of px_viewer_widget_to_image().
 */
void
px_viewer_image_to_widget (PxViewer *self,
                           double    x,
                           double    y,
                           double   *widget_x,
                           double   *widget_y)
{
  g_return_if_fail (PX_IS_VIEWER (self));

  *widget_x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0 + (x - self->view_x) * self->zoom;
  *widget_y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0 + (y - self->view_y) * self->zoom;
}

/**
 * px_viewer_set_crosshair:
 * @shown: whether a crosshair is drawn
 * @x: its image column, in pixels (fractional)
 * @y: its image row, in pixels (fractional)
 * @confident: solid when %TRUE, dashed when the match is doubtful
 */
void
px_viewer_set_crosshair (PxViewer *self,
                         gboolean  shown,
                         double    x,
                         double    y,
                         gboolean  confident)
{
  g_return_if_fail (PX_IS_VIEWER (self));

  if (!shown && !self->crosshair)
    return;
  self->crosshair = shown;
  self->crosshair_x = x;
  self->crosshair_y = y;
  self->crosshair_confident = confident;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * px_viewer_get_crosshair:
 * @x: (out) (optional): its image column
 * @y: (out) (optional): its image row
 *
 * Returns: whether a crosshair is drawn
 */
gboolean
px_viewer_get_crosshair (PxViewer *self,
                         double   *x,
                         double   *y)
{
  g_return_val_if_fail (PX_IS_VIEWER (self), FALSE);

  if (x != NULL)
    *x = self->crosshair_x;
  if (y != NULL)
    *y = self->crosshair_y;
  return self->crosshair;
}
