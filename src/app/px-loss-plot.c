// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxLossPlot draws a trainer's loss points (PxLossPoint, shared with PxTrainer and read on
// the main thread only) as one curve per term: total, order, restoration, global and local
// consistency. Smoothing is an exponential moving average, debiased at the start as in
// TensorBoard, so the first points are not pulled towards zero. On the log axis values
// that are not positive are left out (the order term is zero on batches without a shuffled
// sample). Axes carry a few round ticks; a legend names the terms.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "px-loss-plot.h"
#include "px-trainer.h"

#define N_TERMS 5
#define MARGIN_LEFT 56.0
#define MARGIN_RIGHT 12.0
#define MARGIN_TOP 12.0
#define MARGIN_BOTTOM 28.0

struct _PxLossPlot
{
  GtkWidget  parent_instance;

  GArray    *points;
  gboolean   log_scale;
  double     smoothing;
  guint      n_drawn;
};

G_DEFINE_FINAL_TYPE (PxLossPlot, px_loss_plot, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_LOG_SCALE,
  PROP_SMOOTHING,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static const double term_colours[N_TERMS][3] = {
  { 0.21, 0.52, 0.89 },  // total: blue
  { 0.90, 0.38, 0.00 },  // order: orange
  { 0.18, 0.76, 0.49 },  // restore: green
  { 0.75, 0.11, 0.16 },  // global: red
  { 0.57, 0.25, 0.67 },  // local: purple
};

static const char *
term_name (int term)
{
  switch (term)
    {
    case 0: return _("Total");
    case 1: return _("Order");
    case 2: return _("Restoration");
    case 3: return _("Global");
    default: return _("Local");
    }
}

static double
term_value (const PxLossPoint *p,
            int                term)
{
  switch (term)
    {
    case 0: return p->total;
    case 1: return p->order;
    case 2: return p->restore;
    case 3: return p->global;
    default: return p->local;
    }
}

// The smoothed curve of one term in plot units (log10 on the log axis); NAN where a value
// cannot be drawn.
static double *
smoothed (PxLossPlot *self,
          int         term)
{
  guint n = self->points->len;
  double *out = g_new (double, MAX (n, 1));
  double ema = 0, weight = 0, s = CLAMP (self->smoothing, 0, 0.999);

  for (guint i = 0; i < n; i++)
    {
      double v = term_value (&g_array_index (self->points, PxLossPoint, i), term);

      if (!isfinite (v) || (self->log_scale && v <= 0))
        {
          out[i] = NAN;
          continue;
        }
      ema = s * ema + (1 - s) * v;
      weight = s * weight + (1 - s);
      v = ema / weight;
      out[i] = self->log_scale ? log10 (v) : v;
    }
  return out;
}

static double
nice_step (double range)
{
  double raw = range / 5, mag = pow (10, floor (log10 (raw))), f = raw / mag;

  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

static void
draw_text (PxLossPlot *self,
           cairo_t    *cr,
           const char *text,
           double      x,
           double      y,
           double      align_x,
           double      align_y)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, x - align_x * w, y - align_y * h);
  pango_cairo_show_layout (cr, layout);
}

static void
draw (PxLossPlot *self,
      cairo_t    *cr,
      double      width,
      double      height)
{
  double *curves[N_TERMS];
  double lo = INFINITY, hi = -INFINITY, x0 = MARGIN_LEFT, y0 = MARGIN_TOP;
  double pw = width - MARGIN_LEFT - MARGIN_RIGHT, ph = height - MARGIN_TOP - MARGIN_BOTTOM;
  long first, last;
  guint n = self->points != NULL ? self->points->len : 0, stride;
  GdkRGBA fg;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS

  self->n_drawn = 0;
  if (pw < 20 || ph < 20)
    return;

  cairo_set_line_width (cr, 1);
  gdk_cairo_set_source_rgba (cr, &(GdkRGBA) { fg.red, fg.green, fg.blue, 0.5 });
  cairo_rectangle (cr, x0 + 0.5, y0 + 0.5, pw, ph);
  cairo_stroke (cr);
  if (n == 0)
    {
      draw_text (self, cr, _("The loss curves appear here once training runs"),
                 x0 + pw / 2, y0 + ph / 2, 0.5, 0.5);
      return;
    }

  for (int t = 0; t < N_TERMS; t++)
    {
      curves[t] = smoothed (self, t);
      for (guint i = 0; i < n; i++)
        if (isfinite (curves[t][i]))
          lo = MIN (lo, curves[t][i]), hi = MAX (hi, curves[t][i]);
    }
  first = g_array_index (self->points, PxLossPoint, 0).step;
  last = MAX (g_array_index (self->points, PxLossPoint, n - 1).step, first + 1);
  if (!isfinite (lo))
    lo = 0, hi = 1;
  if (hi - lo < 1e-9)
    lo -= 0.5, hi += 0.5;

  // Ticks: round values on the linear axis, decades (and their labels as powers) on the log one.
  {
    double step = self->log_scale ? MAX (1, ceil ((hi - lo) / 5)) : nice_step (hi - lo);

    for (double v = ceil (lo / step) * step; v <= hi + 1e-12; v += step)
      {
        double y = y0 + ph - (v - lo) / (hi - lo) * ph;
        g_autofree char *label = self->log_scale ? g_strdup_printf ("%.0e", pow (10, v))
                                                 : g_strdup_printf ("%.3g", v);

        gdk_cairo_set_source_rgba (cr, &(GdkRGBA) { fg.red, fg.green, fg.blue, 0.15 });
        cairo_move_to (cr, x0, floor (y) + 0.5);
        cairo_line_to (cr, x0 + pw, floor (y) + 0.5);
        cairo_stroke (cr);
        gdk_cairo_set_source_rgba (cr, &fg);
        draw_text (self, cr, label, x0 - 4, y, 1, 0.5);
      }
  }
  {
    g_autofree char *a = g_strdup_printf ("%ld", first);
    g_autofree char *b = g_strdup_printf ("%ld", last);

    gdk_cairo_set_source_rgba (cr, &fg);
    draw_text (self, cr, a, x0, y0 + ph + 4, 0, 0);
    draw_text (self, cr, b, x0 + pw, y0 + ph + 4, 1, 0);
    draw_text (self, cr, _("step"), x0 + pw / 2, y0 + ph + 4, 0.5, 0);
  }

  cairo_save (cr);
  cairo_rectangle (cr, x0, y0, pw, ph);
  cairo_clip (cr);
  cairo_set_line_width (cr, 1.5);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  // Long runs: about two vertices per pixel column are enough for a smoothed curve.
  stride = MAX (1, n / (guint) MAX (1.0, 2 * pw));
  for (int t = N_TERMS - 1; t >= 0; t--)
    {
      gboolean pen_down = FALSE;

      for (guint i = 0; i < n; i += (i + stride < n || i == n - 1) ? stride : n - 1 - i)
        {
          long s = g_array_index (self->points, PxLossPoint, i).step;
          double x = x0 + (double) (s - first) / (last - first) * pw;
          double y = y0 + ph - (curves[t][i] - lo) / (hi - lo) * ph;

          if (!isfinite (curves[t][i]))
            {
              pen_down = FALSE;
              continue;
            }
          if (pen_down)
            cairo_line_to (cr, x, y);
          else
            cairo_move_to (cr, x, y);
          pen_down = TRUE;
          self->n_drawn += t == 0;
        }
      cairo_set_source_rgb (cr, term_colours[t][0], term_colours[t][1], term_colours[t][2]);
      cairo_stroke (cr);
      g_free (curves[t]);
    }
  cairo_restore (cr);

  // Legend, top right.
  for (int t = 0; t < N_TERMS; t++)
    {
      double y = y0 + 8 + t * 18;

      cairo_set_source_rgb (cr, term_colours[t][0], term_colours[t][1], term_colours[t][2]);
      cairo_rectangle (cr, x0 + pw - 110, y + 4, 14, 4);
      cairo_fill (cr);
      gdk_cairo_set_source_rgba (cr, &fg);
      draw_text (self, cr, term_name (t), x0 + pw - 90, y + 6, 0, 0.5);
    }
}

static void
px_loss_plot_snapshot (GtkWidget   *widget,
                       GtkSnapshot *snapshot)
{
  PxLossPlot *self = PX_LOSS_PLOT (widget);
  double width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  draw (self, cr, width, height);
  cairo_destroy (cr);
}

static void
px_loss_plot_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 160;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 480 : 280;
}

static void
px_loss_plot_finalize (GObject *object)
{
  PxLossPlot *self = (PxLossPlot *)object;

  g_clear_pointer (&self->points, g_array_unref);

  G_OBJECT_CLASS (px_loss_plot_parent_class)->finalize (object);
}

static void
px_loss_plot_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  PxLossPlot *self = PX_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_LOG_SCALE:
      g_value_set_boolean (value, self->log_scale);
      break;

    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_loss_plot_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  PxLossPlot *self = PX_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_LOG_SCALE:
      px_loss_plot_set_log_scale (self, g_value_get_boolean (value));
      break;

    case PROP_SMOOTHING:
      px_loss_plot_set_smoothing (self, g_value_get_double (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_loss_plot_class_init (PxLossPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = px_loss_plot_finalize;
  object_class->get_property = px_loss_plot_get_property;
  object_class->set_property = px_loss_plot_set_property;
  widget_class->snapshot = px_loss_plot_snapshot;
  widget_class->measure = px_loss_plot_measure;

  properties [PROP_LOG_SCALE] =
    g_param_spec_boolean ("log-scale", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_SMOOTHING] =
    g_param_spec_double ("smoothing", NULL, NULL, 0, 0.99, 0.6,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "lossplot");
}

static void
px_loss_plot_init (PxLossPlot *self)
{
  self->smoothing = 0.6;
}

GtkWidget *
px_loss_plot_new (void)
{
  return g_object_new (PX_TYPE_LOSS_PLOT, NULL);
}

/**
 * px_loss_plot_set_points:
 * @points: (nullable) (element-type PxLossPoint): referenced; call
 *   px_loss_plot_points_changed() when it grows
 */
void
px_loss_plot_set_points (PxLossPlot *self,
                         GArray     *points)
{
  g_return_if_fail (PX_IS_LOSS_PLOT (self));

  g_clear_pointer (&self->points, g_array_unref);
  if (points != NULL)
    self->points = g_array_ref (points);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
px_loss_plot_points_changed (PxLossPlot *self)
{
  g_return_if_fail (PX_IS_LOSS_PLOT (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
px_loss_plot_get_log_scale (PxLossPlot *self)
{
  g_return_val_if_fail (PX_IS_LOSS_PLOT (self), FALSE);
  return self->log_scale;
}

void
px_loss_plot_set_log_scale (PxLossPlot *self,
                            gboolean    log_scale)
{
  g_return_if_fail (PX_IS_LOSS_PLOT (self));

  log_scale = !!log_scale;
  if (log_scale == self->log_scale)
    return;
  self->log_scale = log_scale;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_LOG_SCALE]);
}

double
px_loss_plot_get_smoothing (PxLossPlot *self)
{
  g_return_val_if_fail (PX_IS_LOSS_PLOT (self), 0);
  return self->smoothing;
}

void
px_loss_plot_set_smoothing (PxLossPlot *self,
                            double      smoothing)
{
  g_return_if_fail (PX_IS_LOSS_PLOT (self));

  smoothing = CLAMP (smoothing, 0, 0.99);
  if (smoothing == self->smoothing)
    return;
  self->smoothing = smoothing;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_SMOOTHING]);
}

/**
 * px_loss_plot_get_n_drawn:
 *
 * Returns: how many points of the total-loss curve the last drawing plotted
 */
guint
px_loss_plot_get_n_drawn (PxLossPlot *self)
{
  g_return_val_if_fail (PX_IS_LOSS_PLOT (self), 0);
  return self->n_drawn;
}
