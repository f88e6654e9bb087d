// SPDX-License-Identifier: GPL-3.0-or-later
//
// Draws a training sample for the training page: the two crops with their matched cells
// outlined in one hue per pair, the student's input and the decoder's restoration, each in
// its quarter of the area given (the page's labels above them are their titles), and names
// the student's input.
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

// The caption of the student's input: how the crop was altered.
const char *
px_train_sample_input_title (const PxTrainSample *sample)
{
  return sample->shuffled ? _("Student input (shuffled)") : _("Student input (distorted)");
}

// The latest sample: crop 1 and crop 2 with their matched cells outlined in the same
// colour, the student's input (shuffled or distorted) and the decoder's restoration, each
// at the start of its quarter of the width, where the page's caption for it begins.
void
px_train_sample_draw (GtkWidget           *widget,
                      cairo_t             *cr,
                      int                  width,
                      int                  height,
                      const PxTrainSample *sample)
{
  const guint8 *images[4];
  double size, gap = 12, column;
  int G;

  if (sample == NULL)
    return;
  G = sample->grid;
  images[0] = sample->clean;
  images[1] = sample->input;
  images[2] = sample->restored;
  images[3] = sample->crop2;
  column = (width - 3 * gap) / 4;
  size = MIN (height, column);
  if (size < 16)
    return;

  for (int k = 0; k < 4; k++)
    {
      cairo_surface_t *surface = grey_surface (images[k], sample->side);
      double x0 = k * (column + gap), s = size / sample->side, cs = size / G;

      cairo_save (cr);
      cairo_translate (cr, x0, 0);
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
            cairo_rectangle (cr, x0 + (cell % G) * cs + 1.5, (cell / G) * cs + 1.5,
                             cs - 3, cs - 3);
            cairo_stroke (cr);
          }
    }
}

