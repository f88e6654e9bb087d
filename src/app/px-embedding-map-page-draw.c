// SPDX-License-Identifier: GPL-3.0-or-later
//
// Drawing PxEmbeddingMapPage: the scatter of the map (or the live layout while a job
// runs) fitted with equal axis scales, a colour per label with its legend, the hovered
// point with its image's thumbnail, the selection rectangle; hit-testing points; and the
// export, which draws the same scatter to a PNG, SVG or PDF (px-export.c).
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "px-embedding-map-page-private.h"
#include "px-export.h"

static int
label_index (PxEmbeddingMapPage *self,
             const char         *label)
{
  guint index;

  if (!g_ptr_array_find (self->labels, label, &index))
    {
      g_ptr_array_add (self->labels, (gpointer) label);
      index = self->labels->len - 1;
    }
  return (int) index;
}

static int
n_shown (PxEmbeddingMapPage *self)
{
  if (self->live_Y != NULL)
    return self->live_n;
  return self->map != NULL ? (int) self->map->points->len : 0;
}

static void
shown_point (PxEmbeddingMapPage  *self,
             int                  i,
             float               *x,
             float               *y,
             const char         **label)
{
  if (self->live_Y != NULL)
    {
      *x = self->live_Y[2 * i];
      *y = self->live_Y[2 * i + 1];
      if (self->placing && self->map != NULL && i < (int) self->map->points->len)
        *label = g_array_index (self->map->points, PxMapPoint, i).label;
      else
        {
          int j = self->placing && self->map != NULL ? i - (int) self->map->points->len : i;
          *label = self->live_labels != NULL && j >= 0 ? self->live_labels[j] : NULL;
        }
      return;
    }
  *x = g_array_index (self->map->points, PxMapPoint, i).tx;
  *y = g_array_index (self->map->points, PxMapPoint, i).ty;
  *label = g_array_index (self->map->points, PxMapPoint, i).label;
}

PxMapFit
px_embedding_map_page_fit_view (PxEmbeddingMapPage *self,
                                double              width,
                                double              height)
{
  float lo_x = G_MAXFLOAT, lo_y = G_MAXFLOAT, hi_x = -G_MAXFLOAT, hi_y = -G_MAXFLOAT;
  int n = n_shown (self);
  double span_x, span_y;
  PxMapFit fit;

  for (int i = 0; i < n; i++)
    {
      float x, y;
      const char *label;

      shown_point (self, i, &x, &y, &label);
      lo_x = MIN (lo_x, x), hi_x = MAX (hi_x, x);
      lo_y = MIN (lo_y, y), hi_y = MAX (hi_y, y);
    }
  span_x = MAX (hi_x - lo_x, 1e-6);
  span_y = MAX (hi_y - lo_y, 1e-6);
  fit.scale = MIN ((width - 2 * MARGIN) / span_x, (height - 2 * MARGIN) / span_y);
  fit.ox = width / 2 - fit.scale * (lo_x + hi_x) / 2;
  fit.oy = height / 2 - fit.scale * (lo_y + hi_y) / 2;
  return fit;
}

// An image's name as the map shows and exports it: in privacy mode the sidebar's rule
// (px_privacy_mask_name, applied when the image joined the map).
const char *
px_embedding_map_page_image_name (PxEmbeddingMapPage *self,
                                  int                 image)
{
  const PxMapImage *entry = &g_array_index (self->map->images, PxMapImage, image);

  return self->privacy ? entry->hidden_name : entry->name;
}

/**
 * px_embedding_map_page_dup_point_text:
 *
 * Returns: (transfer full): the hover box's text for point @index: its image (named as
 *   px_embedding_map_page_image_name() says) and landmark
 */
char *
px_embedding_map_page_dup_point_text (PxEmbeddingMapPage *self,
                                      guint               index)
{
  const PxMapPoint *p;

  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), NULL);
  g_return_val_if_fail (self->map != NULL && index < self->map->points->len, NULL);

  p = &g_array_index (self->map->points, PxMapPoint, index);
  return g_strdup_printf ("%s · %s", px_embedding_map_page_image_name (self, p->image), p->name);
}

static void
draw_text_box (cairo_t    *cr,
               double      x,
               double      y,
               const char *text)
{
  cairo_text_extents_t ext;

  cairo_text_extents (cr, text, &ext);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.75);
  cairo_rectangle (cr, x - 3, y - ext.height - 4, ext.x_advance + 6, ext.height + 8);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
}

static void
draw_hover (PxEmbeddingMapPage *self,
            cairo_t            *cr,
            double              width,
            double              height)
{
  const PxMapPoint *p = &g_array_index (self->map->points, PxMapPoint, self->hover);
  const PxMapImage *image = &g_array_index (self->map->images, PxMapImage, p->image);
  double s = cairo_image_surface_get_width (image->surface) / image->width;
  double crop = MAX (image->width, image->height) / 6.0;   // image pixels shown
  double bx = MIN (self->pointer_x + 14, width - THUMB - 4);
  double by = MIN (self->pointer_y + 14, height - THUMB - 40);
  g_autofree char *text = px_embedding_map_page_dup_point_text (self, self->hover);

  cairo_save (cr);
  cairo_rectangle (cr, bx, by, THUMB, THUMB);
  cairo_clip (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_paint (cr);
  cairo_translate (cr, bx + THUMB / 2, by + THUMB / 2);
  cairo_scale (cr, THUMB / crop / s, THUMB / crop / s);
  cairo_set_source_surface (cr, image->surface, -(p->x + 0.5) * s, -(p->y + 0.5) * s);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, bx + 0.5, by + 0.5, THUMB - 1, THUMB - 1);
  cairo_stroke (cr);
  cairo_move_to (cr, bx + THUMB / 2 - 5, by + THUMB / 2);
  cairo_line_to (cr, bx + THUMB / 2 + 5, by + THUMB / 2);
  cairo_move_to (cr, bx + THUMB / 2, by + THUMB / 2 - 5);
  cairo_line_to (cr, bx + THUMB / 2, by + THUMB / 2 + 5);
  cairo_stroke (cr);
  draw_text_box (cr, bx, by + THUMB + 16, text);
}

static void
draw_map (PxEmbeddingMapPage *self,
          cairo_t            *cr,
          double              width,
          double              height,
          gboolean            interactive)
{
  int n = n_shown (self);
  PxMapFit fit = px_embedding_map_page_fit_view (self, width, height);

  cairo_set_source_rgb (cr, 0.067, 0.067, 0.067);
  cairo_paint (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12);

  for (int i = 0; i < n; i++)
    {
      float x, y;
      const char *label;
      double r = 0.6, g = 0.6, b = 0.6;

      shown_point (self, i, &x, &y, &label);
      if (label != NULL)
        px_match_palette (label_index (self, label), &r, &g, &b);
      cairo_new_path (cr);
      cairo_arc (cr, fit.ox + fit.scale * x, fit.oy + fit.scale * y, POINT_RADIUS, 0, 2 * G_PI);
      cairo_set_source_rgba (cr, r, g, b, 0.85);
      cairo_fill (cr);
    }

  // Legend: one swatch per label, top left.
  for (guint k = 0; k < self->labels->len && k < LEGEND_MAX; k++)
    {
      // "H — heart outline" for the JSRT structures.
      g_autofree char *words = px_match_structure_words (g_ptr_array_index (self->labels, k));
      double r, g, b;

      px_match_palette ((int) k, &r, &g, &b);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_arc (cr, 14, 16 + 18 * k, 5, 0, 2 * G_PI);
      cairo_fill (cr);
      draw_text_box (cr, 26, 20 + 18 * k, words);
    }

  if (interactive && self->selecting)
    {
      cairo_set_source_rgba (cr, 0.34, 0.71, 0.91, 0.25);
      cairo_rectangle (cr, MIN (self->sel_x0, self->sel_x1), MIN (self->sel_y0, self->sel_y1),
                       fabs (self->sel_x1 - self->sel_x0), fabs (self->sel_y1 - self->sel_y0));
      cairo_fill_preserve (cr);
      cairo_set_source_rgb (cr, 0.34, 0.71, 0.91);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
    }
  if (interactive && self->hover >= 0 && self->live_Y == NULL && self->map != NULL)
    draw_hover (self, cr, width, height);
}

static void
draw_export (gpointer  data,
             cairo_t  *cr,
             double    width,
             double    height)
{
  draw_map (data, cr, width, height, FALSE);
}

void
px_embedding_map_page_draw (GtkDrawingArea *area,
                            cairo_t        *cr,
                            int             width,
                            int             height,
                            gpointer        user_data)
{
  draw_map (user_data, cr, width, height, TRUE);
}

int
px_embedding_map_page_point_at (PxEmbeddingMapPage *self,
                                double              vx,
                                double              vy)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self->area));
  double h = gtk_widget_get_height (GTK_WIDGET (self->area));
  double best = HOVER_RADIUS;
  int found = -1;
  PxMapFit fit;

  if (self->map == NULL || self->live_Y != NULL)
    return -1;
  fit = px_embedding_map_page_fit_view (self, w, h);
  for (guint i = 0; i < self->map->points->len; i++)
    {
      const PxMapPoint *p = &g_array_index (self->map->points, PxMapPoint, i);
      double d = hypot (fit.ox + fit.scale * p->tx - vx, fit.oy + fit.scale * p->ty - vy);

      if (d < best)
        best = d, found = (int) i;
    }
  return found;
}

gboolean
px_embedding_map_page_export (PxEmbeddingMapPage  *self,
                              const char          *path,
                              const char          *format,
                              double               width,
                              double               height,
                              GError             **error)
{
  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), FALSE);

  if (self->map == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, _("There is no map to export"));
      return FALSE;
    }
  if (g_str_equal (format, "csv"))
    {
      g_autoptr(GString) out = g_string_new ("image,landmark,label,x,y,map_x,map_y\n");

      for (guint i = 0; i < self->map->points->len; i++)
        {
          const PxMapPoint *p = &g_array_index (self->map->points, PxMapPoint, i);
          char v[4][G_ASCII_DTOSTR_BUF_SIZE];

          g_ascii_formatd (v[0], sizeof v[0], "%.2f", p->x);
          g_ascii_formatd (v[1], sizeof v[1], "%.2f", p->y);
          g_ascii_formatd (v[2], sizeof v[2], "%.5f", p->tx);
          g_ascii_formatd (v[3], sizeof v[3], "%.5f", p->ty);
          // Names come from file names and user labels: quoted, quotes doubled.
          px_export_csv_field (out, px_embedding_map_page_image_name (self, p->image));
          g_string_append_c (out, ',');
          px_export_csv_field (out, p->name);
          g_string_append_c (out, ',');
          px_export_csv_field (out, p->label);
          g_string_append_printf (out, ",%s,%s,%s,%s\n", v[0], v[1], v[2], v[3]);
        }
      return g_file_set_contents (path, out->str, (gssize) out->len, error);
    }

  return px_export_drawing (path, format, width, height, draw_export, self, error);
}
