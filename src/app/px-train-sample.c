// SPDX-License-Identifier: GPL-3.0-or-later
//
// Draws a training sample for the training page: the two crops with their matched cells
// outlined in one hue per pair, the student's input and the decoder's restoration, each
// under its title, scaled to the area given.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "px-train-sample.h"

static cairo_surface_t *
grey_surface (const guint8 *grey,
              int           side)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, side, side);
  int stride = cairo_image_surface_get_stride (surface);
  guint8 *data;

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      {
        guint8 v = grey[y * side + x];

        ((guint32 *) (data + (gsize) y * stride))[x] = 0xff000000u | v << 16 | v << 8 | v;
      }
  cairo_surface_mark_dirty (surface);
  return surface;
}

// The latest sample: crop 1 and crop 2 with their matched cells outlined in the same
// colour, the student's input (shuffled or distorted) and the decoder's restoration.
void
px_train_sample_draw (GtkWidget           *widget,
                      cairo_t             *cr,
                      int                  width,
                      int                  height,
                      const PxTrainSample *sample)
{
  const char *titles[4];
  const guint8 *images[4];
  double label_h = 20, size, gap = 12;
  int G;

  if (sample == NULL)
    return;
  G = sample->grid;
  titles[0] = _("Crop 1");
  titles[1] = sample->shuffled ? _("Student input (shuffled)") : _("Student input (distorted)");
  titles[2] = _("Restoration");
  titles[3] = _("Crop 2");
  images[0] = sample->clean;
  images[1] = sample->input;
  images[2] = sample->restored;
  images[3] = sample->crop2;
  size = MIN (height - label_h, (width - 3 * gap) / 4);
  if (size < 16)
    return;

  for (int k = 0; k < 4; k++)
    {
      cairo_surface_t *surface = grey_surface (images[k], sample->side);
      double x0 = k * (size + gap), s = size / sample->side, cs = size / G;
      g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, titles[k]);
      GdkRGBA fg;

      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
      G_GNUC_END_IGNORE_DEPRECATIONS
      gdk_cairo_set_source_rgba (cr, &fg);
      pango_layout_set_width (layout, (int) (size * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
      cairo_move_to (cr, x0, 0);
      pango_cairo_show_layout (cr, layout);

      cairo_save (cr);
      cairo_translate (cr, x0, label_h);
      cairo_scale (cr, s, s);
      cairo_set_source_surface (cr, surface, 0, 0);
      cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
      cairo_paint (cr);
      cairo_restore (cr);
      cairo_surface_destroy (surface);

      // Matched cells on the two crops: the same hue marks partners.
      if (k == 0 || k == 3)
        for (int i = 0; i < G * G; i++)
          {
            int j = sample->pair[i], cell = k == 0 ? i : j;
            double hue;

            if (j < 0)
              continue;
            hue = (double) i / (G * G);
            cairo_set_source_rgba (cr, 0.5 + 0.5 * cos (2 * G_PI * hue),
                                   0.5 + 0.5 * cos (2 * G_PI * (hue - 1.0 / 3)),
                                   0.5 + 0.5 * cos (2 * G_PI * (hue - 2.0 / 3)), 0.8);
            cairo_set_line_width (cr, 1.5);
            cairo_rectangle (cr, x0 + (cell % G) * cs + 1.5, label_h + (cell / G) * cs + 1.5,
                             cs - 3, cs - 3);
            cairo_stroke (cr);
          }
    }
}

