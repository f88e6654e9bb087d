// SPDX-License-Identifier: GPL-3.0-or-later
//
// Drawing of the correspondence scene. Panels get equal slots (one row side by side, or
// the squarest grid), each image fitted into its slot below a one-line label; with the heat
// map on, a legend strip below all slots. Everything is drawn with Cairo in view
// coordinates so that screen, PNG and SVG agree; marker sizes are fixed in view units so
// they stay legible whatever the image size.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "px-answer-confidence.h"
#include "px-match-scene.h"

#define LABEL_HEIGHT 22.0
#define GAP 8.0
#define MARKER 6.0
#define LEGEND_HEIGHT 40.0
#define LEGEND_BAR 200.0

// Okabe & Ito (2008); black is replaced by white, which stands out on a radiograph. The
// first five (the five landmark structures of a JSRT map) are ordered so that no two of
// them are alike: the two blues and the two oranges come after them.
static const guint32 palette[PX_MATCH_N_COLOURS] = {
  0xE69F00, 0x56B4E9, 0x009E73, 0xCC79A7, 0xF0E442, 0x0072B2, 0xD55E00, 0xFFFFFF,
};

void
px_match_palette (int     index,
                  double *r,
                  double *g,
                  double *b)
{
  guint32 c = palette[((index % PX_MATCH_N_COLOURS) + PX_MATCH_N_COLOURS) % PX_MATCH_N_COLOURS];

  *r = ((c >> 16) & 0xff) / 255.0;
  *g = ((c >> 8) & 0xff) / 255.0;
  *b = (c & 0xff) / 255.0;
}

/**
 * px_match_structure_words:
 * @structure: a landmark structure's short name ("H")
 *
 * The short name with what it outlines, "H — heart outline", for the JSRT structures
 * (RL, LL, H, RCLA, LCLA); any other name as it is.
 *
 * Returns: (transfer full): the text
 */
char *
px_match_structure_words (const char *structure)
{
  static const struct { const char *id, *words; } jsrt[] = {
    /* Translators: landmark structures of a chest radiograph, after their short names */
    { "RL", N_("right lung outline") },
    { "LL", N_("left lung outline") },
    { "H", N_("heart outline") },
    { "RCLA", N_("right clavicle") },
    { "LCLA", N_("left clavicle") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (jsrt); i++)
    if (g_str_equal (structure, jsrt[i].id))
      /* Translators: a structure's short name and what it is, "H — heart outline" */
      return g_strdup_printf (_("%s — %s"), structure, _(jsrt[i].words));
  return g_strdup (structure);
}

// Viridis sampled at nine points, linearly interpolated.
void
px_match_viridis (double  t,
                  double *r,
                  double *g,
                  double *b)
{
  static const double stops[9][3] = {
    { 0.267, 0.005, 0.329 }, { 0.279, 0.175, 0.483 }, { 0.230, 0.322, 0.546 },
    { 0.173, 0.449, 0.558 }, { 0.128, 0.567, 0.551 }, { 0.153, 0.680, 0.504 },
    { 0.362, 0.786, 0.388 }, { 0.678, 0.864, 0.190 }, { 0.993, 0.906, 0.144 },
  };
  double f = CLAMP (t, 0.0, 1.0) * 8.0;
  int i = MIN ((int) f, 7);

  f -= i;
  *r = stops[i][0] + f * (stops[i + 1][0] - stops[i][0]);
  *g = stops[i][1] + f * (stops[i + 1][1] - stops[i][1]);
  *b = stops[i][2] + f * (stops[i + 1][2] - stops[i][2]);
}

/**
 * px_match_surface_for_image:
 *
 * The default-window presentation of @image as an RGB24 surface whose longer side is at
 * most @max_side (box-filtered), so that redraws never scale the full-size image.
 *
 * Returns: (transfer full): a new surface
 */
cairo_surface_t *
px_match_surface_for_image (const PxImage *image,
                            int            max_side)
{
  double center, width;

  px_image_default_window (image, &center, &width);
  return px_match_surface_for_window (image, max_side, center, width);
}

/**
 * px_match_surface_for_window:
 * @center: window centre (level) in modality units
 * @width: window width in modality units
 *
 * The same presentation under a window other than the image's default (the correspondence
 * page's window/level drag).
 *
 * Returns: (transfer full): a new surface
 */
cairo_surface_t *
px_match_surface_for_window (const PxImage *image,
                             int            max_side,
                             double         center,
                             double         width)
{
  g_autofree guint8 *grey = g_malloc ((gsize) image->width * image->height);
  double scale = MIN (1.0, (double) max_side / MAX (image->width, image->height));
  int w = MAX (1, (int) lround (image->width * scale));
  int h = MAX (1, (int) lround (image->height * scale));
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);

  px_image_render_u8 (image, center, width, FALSE, grey);
  cairo_surface_flush (surface);
  for (int y = 0; y < h; y++)
    {
      int y0 = (int) ((gint64) y * image->height / h);
      int y1 = MAX (y0 + 1, (int) ((gint64) (y + 1) * image->height / h));
      guint32 *row = (guint32 *) (data + (gsize) y * stride);

      for (int x = 0; x < w; x++)
        {
          int x0 = (int) ((gint64) x * image->width / w);
          int x1 = MAX (x0 + 1, (int) ((gint64) (x + 1) * image->width / w));
          guint64 sum = 0;
          guint32 v;

          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++)
              sum += grey[(gsize) yy * image->width + xx];
          v = (guint32) (sum / ((guint64) (y1 - y0) * (x1 - x0)));
          row[x] = 0xff000000u | (v << 16) | (v << 8) | v;
        }
    }
  cairo_surface_mark_dirty (surface);
  return surface;
}

typedef struct {
  double x, y, scale;   // image origin in the view and view units per image pixel
  double slot_x, slot_y, slot_w;
} Placement;

// The heat map's legend takes a strip below the panels, never covering an image.
static gboolean
has_legend (const PxMatchScene *scene)
{
  return scene->heatmap && scene->n_panels > 1;
}

static Placement
place (const PxMatchScene *scene,
       double              width,
       double              height,
       int                 panel)
{
  int n = MAX (scene->n_panels, 1);
  int cols = scene->grid_layout ? (int) ceil (sqrt (n)) : n;
  int rows = (n + cols - 1) / cols;
  double slot_w = (width - GAP * (cols + 1)) / cols;
  double slot_h = (height - (has_legend (scene) ? LEGEND_HEIGHT : 0.0) - GAP * (rows + 1)) / rows;
  const PxMatchPanel *p = &scene->panels[panel];
  Placement out;
  double avail_h = MAX (1.0, slot_h - LABEL_HEIGHT);

  out.slot_x = GAP + (panel % cols) * (slot_w + GAP);
  out.slot_y = GAP + (panel / cols) * (slot_h + GAP);
  out.slot_w = slot_w;
  out.scale = MAX (1e-6, MIN (slot_w / p->width, avail_h / p->height));
  out.x = out.slot_x + (slot_w - p->width * out.scale) / 2;
  out.y = out.slot_y + LABEL_HEIGHT + (avail_h - p->height * out.scale) / 2;
  return out;
}

void
px_match_scene_to_view (const PxMatchScene *scene,
                        double              width,
                        double              height,
                        int                 panel,
                        double              x,
                        double              y,
                        double             *view_x,
                        double             *view_y)
{
  Placement pl = place (scene, width, height, panel);

  *view_x = pl.x + x * pl.scale;
  *view_y = pl.y + y * pl.scale;
}

/**
 * px_match_scene_locate:
 *
 * Returns: the panel under the view point (with the image point in @x, @y), or -1
 */
int
px_match_scene_locate (const PxMatchScene *scene,
                       double              width,
                       double              height,
                       double              view_x,
                       double              view_y,
                       double             *x,
                       double             *y)
{
  for (int i = 0; i < scene->n_panels; i++)
    {
      Placement pl = place (scene, width, height, i);
      double ix = (view_x - pl.x) / pl.scale;
      double iy = (view_y - pl.y) / pl.scale;

      if (ix >= 0 && iy >= 0 && ix < scene->panels[i].width && iy < scene->panels[i].height)
        {
          *x = ix;
          *y = iy;
          return i;
        }
    }
  return -1;
}

static void
draw_label (cairo_t    *cr,
            double      x,
            double      y,
            const char *text,
            double      r,
            double      g,
            double      b)
{
  cairo_text_extents_t ext;

  cairo_set_font_size (cr, 12);
  cairo_text_extents (cr, text, &ext);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.7);
  cairo_rectangle (cr, x - 2, y - ext.height - 3, ext.x_advance + 4, ext.height + 6);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, r, g, b);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, text);
}

static int
compare_floats (gconstpointer a,
                gconstpointer b)
{
  float x = *(const float *) a, y = *(const float *) b;

  return (x > y) - (x < y);
}

// Cells are coloured by the rank of their similarity, not its value: an untrained model
// gives nearly equal cosines everywhere, and a few outliers would squeeze the rest of a
// linear scale into one colour. The top few per cent are yellow whatever the model.
static void
draw_heatmap (const PxMatchScene *scene,
              cairo_t            *cr,
              const Placement    *pl,
              int                 panel)
{
  const PxMatchPanel *p = &scene->panels[panel];
  const float *sim = scene->sim[panel - 1];
  int n = p->gh * p->gw;
  g_autofree float *sorted = g_memdup2 (sim, sizeof (float) * n);
  double cw = p->width / p->gw * pl->scale, ch = p->height / p->gh * pl->scale;

  qsort (sorted, n, sizeof (float), compare_floats);
  for (int r = 0; r < p->gh; r++)
    for (int c = 0; c < p->gw; c++)
      {
        float v = sim[r * p->gw + c];
        int lo = 0, hi = n;
        double red, green, blue;

        // Rank = number of cells below v (binary search), ties share the top rank.
        while (lo < hi)
          {
            int mid = (lo + hi) / 2;
            if (sorted[mid] <= v)
              lo = mid + 1;
            else
              hi = mid;
          }
        px_match_viridis (n > 1 ? (lo - 1) / (double) (n - 1) : 1.0, &red, &green, &blue);
        cairo_set_source_rgba (cr, red, green, blue, scene->opacity);
        // Overlapping by a fraction of a unit hides seams between antialiased cells.
        cairo_rectangle (cr, pl->x + c * cw, pl->y + r * ch, cw + 0.5, ch + 0.5);
        cairo_fill (cr);
      }
}

static void
draw_point (cairo_t  *cr,
            double    x,
            double    y,
            gboolean  found,
            gboolean  filled,
            double    r,
            double    g,
            double    b)
{
  cairo_new_path (cr);
  cairo_arc (cr, x, y, MARKER, 0, 2 * G_PI);
  if (filled && found)
    {
      cairo_set_source_rgb (cr, r, g, b);
      cairo_fill_preserve (cr);
    }
  cairo_set_line_width (cr, 3.5);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_stroke_preserve (cr);
  cairo_set_line_width (cr, 2);
  cairo_set_source_rgb (cr, r, g, b);
  cairo_stroke (cr);
  if (!found)
    {
      // "No match": the rejected candidate is crossed out, never drawn as an answer.
      cairo_set_line_width (cr, 2);
      cairo_move_to (cr, x - MARKER, y - MARKER);
      cairo_line_to (cr, x + MARKER, y + MARKER);
      cairo_move_to (cr, x + MARKER, y - MARKER);
      cairo_line_to (cr, x - MARKER, y + MARKER);
      cairo_stroke (cr);
    }
}

static void
draw_query (const PxMatchScene *scene,
            cairo_t            *cr,
            double              width,
            double              height)
{
  const PxMatchPanel *src = &scene->panels[0];
  Placement pl = place (scene, width, height, 0);
  double cw = src->width / src->gw, ch = src->height / src->gh;
  int col = CLAMP ((int) (scene->qx / cw), 0, src->gw - 1);
  int row = CLAMP ((int) (scene->qy / ch), 0, src->gh - 1);

  cairo_set_line_width (cr, 2);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, pl.x + col * cw * pl.scale, pl.y + row * ch * pl.scale,
                   cw * pl.scale, ch * pl.scale);
  cairo_stroke (cr);

  for (int t = 0; t + 1 < scene->n_panels; t++)
    {
      const PeacMatch *a = &scene->answers[t];
      const PxMatchPanel *p = &scene->panels[t + 1];
      Placement tp = place (scene, width, height, t + 1);
      double tcw = p->width / p->gw * tp.scale, tch = p->height / p->gh * tp.scale;
      double vx = tp.x + a->x * tp.scale, vy = tp.y + a->y * tp.scale;

      g_autofree char *text = NULL;

      if (a->found)
        {
          cairo_set_line_width (cr, 2);
          cairo_set_source_rgb (cr, 1, 1, 1);
          cairo_rectangle (cr, tp.x + a->col * tcw, tp.y + a->row * tch, tcw, tch);
          cairo_stroke (cr);
        }
      if (a->found || scene->mode != PEAC_MATCH_NEAREST)
        {
          // The registration always answers: its answer is graded, never left "unconfirmed".
          PxConfidence c = px_confidence_of_match (a);

          text = px_confidence_short (&c);
        }
      else
        /* Translators: no confident match at all in the nearest mode */
        text = g_strdup (_("no match"));
      draw_point (cr, vx, vy, a->found || scene->mode != PEAC_MATCH_NEAREST, FALSE, 1, 1, 1);
      // Below right: pin names go above right.
      draw_label (cr, vx + MARKER + 3, vy + MARKER + 12, text, 1, 1, 1);
    }
}

/**
 * px_match_scene_buddy_label:
 *
 * Best-buddy pair @index's label, "B1" for the first: the same at both ends of the pair,
 * and never a pin's number (pins are "1", "2"… or named), so that "1" on the drawing is
 * always pin 1.
 */
void
px_match_scene_buddy_label (int    index,
                            char  *text,
                            gsize  size)
{
  /* Translators: a best-buddy pair's label on the drawing, by number ("B1") */
  g_snprintf (text, size, C_("best buddies", "B%d"), index + 1);
}

static void
draw_buddies (const PxMatchScene *scene,
              cairo_t            *cr,
              double              width,
              double              height)
{
  const PxMatchPanel *s = &scene->panels[0], *t = &scene->panels[1];
  Placement sp = place (scene, width, height, 0), tp = place (scene, width, height, 1);

  for (int i = 0; i < scene->n_buddies; i++)
    {
      const PeacBuddy *bd = &scene->buddies[i];
      double sx = sp.x + ((bd->src % s->gw) + 0.5) * s->width / s->gw * sp.scale;
      double sy = sp.y + ((bd->src / s->gw) + 0.5) * s->height / s->gh * sp.scale;
      double tx = tp.x + ((bd->tgt % t->gw) + 0.5) * t->width / t->gw * tp.scale;
      double ty = tp.y + ((bd->tgt / t->gw) + 0.5) * t->height / t->gh * tp.scale;
      double r, g, b;
      char text[16];

      px_match_palette (i, &r, &g, &b);
      if (!scene->grid_layout)
        {
          cairo_set_source_rgba (cr, r, g, b, 0.8);
          cairo_set_line_width (cr, 1.5);
          cairo_move_to (cr, sx, sy);
          cairo_line_to (cr, tx, ty);
          cairo_stroke (cr);
        }
      px_match_scene_buddy_label (i, text, sizeof text);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_rectangle (cr, sx - MARKER / 1.5, sy - MARKER / 1.5, 2 * MARKER / 1.5, 2 * MARKER / 1.5);
      cairo_rectangle (cr, tx - MARKER / 1.5, ty - MARKER / 1.5, 2 * MARKER / 1.5, 2 * MARKER / 1.5);
      cairo_fill (cr);
      draw_label (cr, sx + MARKER, sy - MARKER, text, r, g, b);
      draw_label (cr, tx + MARKER, ty - MARKER, text, r, g, b);
    }
}

// A point fused from several references: a translucent circle of the answers' spread
// around it and a small marker, dashed and hollow when the spread leaves it unconfirmed.
static void
draw_fused (cairo_t  *cr,
            double    x,
            double    y,
            double    radius,
            gboolean  doubtful,
            double    r,
            double    g,
            double    b)
{
  static const double dash[] = { 3.0, 2.0 };

  cairo_new_path (cr);
  if (radius > 1.0)
    {
      cairo_arc (cr, x, y, radius, 0, 2 * G_PI);
      cairo_set_source_rgba (cr, r, g, b, 0.15);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, r, g, b, 0.6);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
    }
  cairo_arc (cr, x, y, MARKER / 2, 0, 2 * G_PI);
  if (!doubtful)
    {
      cairo_set_source_rgb (cr, r, g, b);
      cairo_fill_preserve (cr);
    }
  else
    cairo_set_dash (cr, dash, 2, 0);
  cairo_set_line_width (cr, 1.5);
  cairo_set_source_rgb (cr, doubtful ? 1.0 : 0.0, doubtful ? 1.0 : 0.0, doubtful ? 1.0 : 0.0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
}

static void
draw_pins (const PxMatchScene *scene,
           cairo_t            *cr,
           double              width,
           double              height)
{
  Placement sp = place (scene, width, height, 0);

  for (guint i = 0; scene->pins != NULL && i < scene->pins->len; i++)
    {
      const PxMatchPin *pin = &g_array_index (scene->pins, PxMatchPin, i);
      double sx = sp.x + pin->x * sp.scale, sy = sp.y + pin->y * sp.scale;
      double r, g, b;

      px_match_palette (pin->colour, &r, &g, &b);
      for (int t = 0; t + 1 < scene->n_panels; t++)
        {
          const PeacMatch *a = &pin->match[t];
          Placement tp = place (scene, width, height, t + 1);
          double tx = tp.x + a->x * tp.scale, ty = tp.y + a->y * tp.scale;
          gboolean found = a->found || pin->moved[t];

          if (pin->fused[t + 1])
            {
              draw_fused (cr, tx, ty, pin->spread[t + 1] * tp.scale, pin->doubtful[t + 1], r, g, b);
              continue;
            }
          if (!scene->grid_layout && found)
            {
              cairo_set_source_rgba (cr, r, g, b, 0.7);
              cairo_set_line_width (cr, 1.5);
              cairo_move_to (cr, sx, sy);
              cairo_line_to (cr, tx, ty);
              cairo_stroke (cr);
            }
          draw_point (cr, tx, ty, found, TRUE, r, g, b);
          draw_label (cr, tx + MARKER + 3, ty - MARKER, pin->name, r, g, b);
        }
      if (pin->fused[0])
        {
          draw_fused (cr, sx, sy, pin->spread[0] * sp.scale, pin->doubtful[0], r, g, b);
          continue;
        }
      draw_point (cr, sx, sy, TRUE, TRUE, r, g, b);
      draw_label (cr, sx + MARKER + 3, sy - MARKER, pin->name, r, g, b);
    }
}

// The two measured lines of the cardiothoracic ratio (heart above, thorax below in the
// palette's first two colours) and the value at the thorax line's left end.
static void
draw_ctr (const PxMatchScene *scene,
          cairo_t            *cr,
          double              width,
          double              height)
{
  for (int p = 0; p < scene->n_panels; p++)
    {
      const PxMatchCtr *c = &scene->ctr[p];
      Placement pl = place (scene, width, height, p);
      const double *lines[2] = { c->heart, c->thorax };
      g_autofree char *text = NULL;

      if (!c->valid)
        continue;
      for (int k = 0; k < 2; k++)
        {
          double r, g, b;
          // Pixel-centre landmark coordinates: the pixel's centre is at i + ½.
          double x0 = pl.x + (lines[k][0] + 0.5) * pl.scale, y = pl.y + (lines[k][1] + 0.5) * pl.scale;
          double x1 = pl.x + (lines[k][2] + 0.5) * pl.scale;

          px_match_palette (k + 4, &r, &g, &b);
          cairo_new_path (cr);
          cairo_move_to (cr, x0, y);
          cairo_line_to (cr, x1, y);
          cairo_move_to (cr, x0, y - 5);
          cairo_line_to (cr, x0, y + 5);
          cairo_move_to (cr, x1, y - 5);
          cairo_line_to (cr, x1, y + 5);
          cairo_set_line_width (cr, 4);
          cairo_set_source_rgb (cr, 0, 0, 0);
          cairo_stroke_preserve (cr);
          cairo_set_line_width (cr, 2);
          cairo_set_source_rgb (cr, r, g, b);
          cairo_stroke (cr);
        }
      /* Translators: the cardiothoracic ratio drawn on a radiograph */
      text = g_strdup_printf (_("CTR %.2f"), c->ratio);
      draw_label (cr, pl.x + (c->thorax[0] + 0.5) * pl.scale, pl.y + (c->thorax[1] + 0.5) * pl.scale - 8,
                  text, 1, 1, 1);
    }
}

/**
 * px_match_scene_describe_point:
 * @x: a position in the panel's image, continuous pixels (pixel i spans [i, i + 1))
 *
 * "at x 12, y 34 px", with "(2.4, 6.8 mm)" where the panel's pixel spacing is known: the
 * image pixel the point lies in, never the token grid's cell.
 *
 * Returns: (transfer full): the text
 */
char *
px_match_scene_describe_point (const PxMatchScene *scene,
                               int                 panel,
                               double              x,
                               double              y)
{
  double mm = scene->panels[panel].mm;
  int px = (int) floor (x), py = (int) floor (y);

  if (mm > 0)
    /* Translators: a position in image pixels, then the same in mm */
    return g_strdup_printf (_("at x %d, y %d px (%.1f, %.1f mm)"), px, py, x * mm, y * mm);
  /* Translators: a position in image pixels */
  return g_strdup_printf (_("at x %d, y %d px"), px, py);
}

/**
 * px_match_scene_sim_range:
 *
 * The lowest and highest similarity of the live query's heat maps over every target shown.
 *
 * Returns: %FALSE when no heat map is shown
 */
gboolean
px_match_scene_sim_range (const PxMatchScene *scene,
                          double             *lo,
                          double             *hi)
{
  gboolean any = FALSE;

  *lo = *hi = 0.0;
  if (!scene->heatmap || !scene->has_query)
    return FALSE;
  for (int t = 0; t + 1 < scene->n_panels; t++)
    {
      const PxMatchPanel *p = &scene->panels[t + 1];

      for (int i = 0; scene->sim[t] != NULL && i < p->gh * p->gw; i++)
        {
          double v = scene->sim[t][i];

          *lo = any ? MIN (*lo, v) : v;
          *hi = any ? MAX (*hi, v) : v;
          any = TRUE;
        }
    }
  return any;
}

/**
 * px_match_scene_legend_area:
 * @rect: (out caller-allocates) (array fixed-size=4): x, y, width, height of the legend
 *
 * Where the heat map's legend is drawn: a strip below every panel.
 *
 * Returns: %FALSE when the scene shows no legend
 */
gboolean
px_match_scene_legend_area (const PxMatchScene *scene,
                            double              width,
                            double              height,
                            double              rect[4])
{
  if (!has_legend (scene))
    return FALSE;
  rect[0] = GAP;
  rect[1] = height - LEGEND_HEIGHT;
  rect[2] = width - 2 * GAP;
  rect[3] = LEGEND_HEIGHT - GAP / 2;
  return TRUE;
}

/**
 * px_match_scene_legend_text:
 *
 * What the legend says beside its colour bar.
 *
 * Returns: (transfer full): the text
 */
char *
px_match_scene_legend_text (const PxMatchScene *scene)
{
  double lo, hi;

  if (!px_match_scene_sim_range (scene, &lo, &hi))
    /* Translators: the heat map's legend before a query point is chosen */
    return g_strdup (_("Heat map: point at the source to see how alike each place of the targets is"));
  /* Translators: the heat map's legend; the cosine similarity's lowest and highest value */
  return g_strdup_printf (_("Similarity to the query point, coloured by rank: purple least alike, "
                            "yellow most alike (cosine %.2f to %.2f)"), lo, hi);
}

// The colour bar (viridis, least alike on the left), its end values and the text.
static void
draw_legend (const PxMatchScene *scene,
             cairo_t            *cr,
             double              width,
             double              height)
{
  double rect[4], lo, hi, bar_w;
  gboolean range;
  g_autofree char *text = px_match_scene_legend_text (scene);
  char value[32];

  if (!px_match_scene_legend_area (scene, width, height, rect))
    return;
  range = px_match_scene_sim_range (scene, &lo, &hi);
  bar_w = MIN (LEGEND_BAR, rect[2] / 3);
  for (int i = 0; i < 64; i++)
    {
      double r, g, b;

      px_match_viridis (i / 63.0, &r, &g, &b);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_rectangle (cr, rect[0] + bar_w * i / 64.0, rect[1] + 2, bar_w / 64.0 + 0.5, 12);
      cairo_fill (cr);
    }
  cairo_set_font_size (cr, 11);
  cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
  if (range)
    {
      cairo_text_extents_t ext;

      g_snprintf (value, sizeof value, "%.2f", lo);
      cairo_move_to (cr, rect[0], rect[1] + 28);
      cairo_show_text (cr, value);
      g_snprintf (value, sizeof value, "%.2f", hi);
      cairo_text_extents (cr, value, &ext);
      cairo_move_to (cr, rect[0] + bar_w - ext.x_advance, rect[1] + 28);
      cairo_show_text (cr, value);
    }
  cairo_save (cr);
  cairo_rectangle (cr, rect[0] + bar_w + GAP, rect[1], rect[2] - bar_w - GAP, rect[3]);
  cairo_clip (cr);
  cairo_move_to (cr, rect[0] + bar_w + GAP, rect[1] + 13);
  cairo_show_text (cr, text);
  cairo_restore (cr);
}

void
px_match_scene_draw (const PxMatchScene *scene,
                     cairo_t            *cr,
                     double              width,
                     double              height)
{
  cairo_save (cr);
  cairo_set_source_rgb (cr, 0.067, 0.067, 0.067);
  cairo_paint (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  for (int i = 0; i < scene->n_panels; i++)
    {
      const PxMatchPanel *p = &scene->panels[i];
      Placement pl = place (scene, width, height, i);
      double sw = p->surface != NULL ? cairo_image_surface_get_width (p->surface) : 1;

      // The label sits right above the fitted image, clipped to the slot's width.
      cairo_save (cr);
      cairo_rectangle (cr, pl.slot_x, pl.y - LABEL_HEIGHT, pl.slot_w, LABEL_HEIGHT);
      cairo_clip (cr);
      cairo_set_font_size (cr, 13);
      cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
      cairo_move_to (cr, pl.slot_x + 2, pl.y - 7);
      cairo_show_text (cr, p->label != NULL ? p->label : "");
      cairo_restore (cr);

      // Until its presentation is rendered (in a worker), a panel is a grey box.
      cairo_save (cr);
      cairo_translate (cr, pl.x, pl.y);
      if (p->surface != NULL)
        {
          cairo_scale (cr, pl.scale * p->width / sw, pl.scale * p->width / sw);
          cairo_set_source_surface (cr, p->surface, 0, 0);
          cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
          cairo_paint (cr);
        }
      else
        {
          cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
          cairo_rectangle (cr, 0, 0, p->width * pl.scale, p->height * pl.scale);
          cairo_fill (cr);
        }
      cairo_restore (cr);

      if (i > 0 && scene->heatmap && scene->has_query && scene->sim[i - 1] != NULL)
        draw_heatmap (scene, cr, &pl, i);
    }

  if (scene->n_buddies > 0 && scene->n_panels > 1)
    draw_buddies (scene, cr, width, height);
  if (scene->has_query && scene->n_panels > 0)
    draw_query (scene, cr, width, height);
  draw_ctr (scene, cr, width, height);
  draw_pins (scene, cr, width, height);
  draw_legend (scene, cr, width, height);
  cairo_restore (cr);
}
