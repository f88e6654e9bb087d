// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxEmbeddingMapPage holds the current map (images, points, tokens, layout) and, while a
// job runs, the live layout the worker reports, which is drawn as it arrives: the scatter
// animates without the main loop ever doing more than copying and drawing. The map keeps the
// serial of the model that made it; placing more images needs the same model, since their
// tokens must live in the same space. The view fits the layout with equal axis scales.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "px-application.h"
#include "px-embedding-map-page.h"
#include "px-export.h"
#include "px-map-job.h"
#include "px-match-scene.h"
#include "px-window.h"

#define MARGIN 24.0
#define POINT_RADIUS 3.5
#define HOVER_RADIUS 8.0
#define THUMB 112.0
#define LEGEND_MAX 16

struct _PxEmbeddingMapPage
{
  GtkWidget             parent_instance;

  PxEmbedder           *embedder;
  PxCorrespondencePage *correspondence;
  gboolean              privacy;

  char                 *folder;
  GStrv                 ids;
  guint                 next_id;

  PxMapResult          *map;          // the finished map, or NULL
  guint                 map_serial;   // model serial of the map
  GPtrArray            *labels;       // distinct labels, interned, in order of appearance
  GCancellable         *cancellable;  // of the running job
  gboolean              placing;
  float                *live_Y;       // layout reported by the running job
  const char          **live_labels;  // labels of the live layout's points
  int                   live_n;
  guint                 n_frames;
  char                 *error;

  int                   hover;        // point under the pointer, −1 when none
  double                pointer_x, pointer_y;
  gboolean              selecting;
  double                sel_x0, sel_y0, sel_x1, sel_y1;   // view coordinates

  GtkStack             *stack;
  GtkDrawingArea       *area;
  GtkProgressBar       *progress;
  GtkLabel             *selection_label;
  GtkAdjustment        *n_images;
  GSimpleActionGroup   *actions;
};

G_DEFINE_FINAL_TYPE (PxEmbeddingMapPage, px_embedding_map_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_PRIVACY,
  N_PROPS
};

enum {
  OPEN_POINT,
  N_SIGNALS
};

static GParamSpec *properties [N_PROPS];
static guint signals [N_SIGNALS];

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

typedef struct {
  double scale, ox, oy;   // view = o + scale · map
} Fit;

static Fit
fit_view (PxEmbeddingMapPage *self,
          double              width,
          double              height)
{
  float lo_x = G_MAXFLOAT, lo_y = G_MAXFLOAT, hi_x = -G_MAXFLOAT, hi_y = -G_MAXFLOAT;
  int n = n_shown (self);
  double span_x, span_y;
  Fit fit;

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

static const char *
image_name (PxEmbeddingMapPage *self,
            int                 image)
{
  static char buffer[32];

  if (self->privacy)
    {
      /* Translators: an image of the map named by number, when privacy hides file names */
      g_snprintf (buffer, sizeof buffer, _("image %d"), image + 1);
      return buffer;
    }
  return g_array_index (self->map->images, PxMapImage, image).name;
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
  g_autofree char *text = g_strdup_printf ("%s · %s", image_name (self, p->image), p->name);

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
  Fit fit = fit_view (self, width, height);

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

static void
draw_area (GtkDrawingArea *area,
           cairo_t        *cr,
           int             width,
           int             height,
           gpointer        user_data)
{
  draw_map (user_data, cr, width, height, TRUE);
}

static void
set_progress_text (PxEmbeddingMapPage *self,
                   const char         *text,
                   double              fraction)
{
  gtk_progress_bar_set_text (self->progress, text);
  gtk_progress_bar_set_fraction (self->progress, CLAMP (fraction, 0, 1));
}

static void
update_actions (PxEmbeddingMapPage *self)
{
  gboolean busy = self->cancellable != NULL;
  gboolean same_model = self->map != NULL && self->embedder != NULL &&
                        self->map_serial == px_model_get_serial (px_embedder_get_model (self->embedder));

  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "run")),
                               !busy && self->ids != NULL);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "run-pins")),
                               !busy && self->correspondence != NULL);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "place-more")),
                               !busy && same_model && self->ids != NULL && self->ids[self->next_id] != NULL);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "stop")),
                               busy);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "export")),
                               !busy && self->map != NULL);
}

static void
on_progress (gpointer            user_data,
             int                 iter,
             int                 n_iter,
             const float        *Y,
             int                 n,
             const char * const *labels,
             int                 n_labels)
{
  PxEmbeddingMapPage *self = user_data;
  g_autofree char *text = NULL;

  if (self->cancellable == NULL)
    return;
  if (Y == NULL)
    {
      /* Translators: progress of the embedding map, images embedded so far */
      text = g_strdup_printf (_("Embedding image %d of %d…"), iter, n_iter);
      set_progress_text (self, text, 0.3 * iter / MAX (n_iter, 1));
      return;
    }
  g_free (self->live_Y);
  self->live_Y = g_memdup2 (Y, sizeof (float) * 2 * n);
  self->live_n = n;
  g_free (self->live_labels);
  self->live_labels = labels != NULL ? g_memdup2 (labels, sizeof (char *) * n_labels) : NULL;
  self->n_frames++;
  /* Translators: progress of t-SNE, iterations so far */
  text = g_strdup_printf (_("t-SNE iteration %d of %d"), iter, n_iter);
  set_progress_text (self, text, 0.3 + 0.7 * iter / MAX (n_iter, 1));
  gtk_stack_set_visible_child_name (self->stack, "map");
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
show_error (PxEmbeddingMapPage *self,
            const char         *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_free (self->error);
  self->error = g_strdup (message);
  if (PX_IS_WINDOW (root))
    px_window_show_error (PX_WINDOW (root), message);
}

// A finished placement: the new points and images join the map; the old ones keep their
// positions (tsne_place moves only the new).
static void
merge_placement (PxEmbeddingMapPage *self,
                 PxMapResult        *placed)
{
  int first_image = (int) self->map->images->len;
  int n_old = (int) self->map->points->len;
  int dim = self->map->dim;

  for (guint i = 0; i < placed->images->len; i++)
    {
      PxMapImage image = g_array_index (placed->images, PxMapImage, i);

      // Ownership moves: the placed array must not clear what it gave away.
      image.name = g_strdup (image.name);
      image.path = g_strdup (image.path);
      image.surface = cairo_surface_reference (image.surface);
      g_array_append_val (self->map->images, image);
    }
  for (guint i = 0; i < placed->points->len; i++)
    {
      PxMapPoint point = g_array_index (placed->points, PxMapPoint, i);

      point.image += first_image;
      g_array_append_val (self->map->points, point);
    }
  self->map->X = g_realloc (self->map->X, sizeof (float) * (gsize) self->map->points->len * dim);
  memcpy (self->map->X + (gsize) n_old * dim, placed->X, sizeof (float) * (gsize) placed->points->len * dim);
}

static void
on_job_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PxEmbeddingMapPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PxMapResult) map = px_map_job_run_finish (result, &error);
  g_autofree char *text = NULL;

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->live_Y, g_free);
  g_clear_pointer (&self->live_labels, g_free);
  self->live_n = 0;

  if (map == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      set_progress_text (self, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? _("Stopped") : error->message, 0);
    }
  else
    {
      if (self->placing && self->map != NULL)
        merge_placement (self, map);
      else
        {
          g_clear_pointer (&self->map, px_map_result_free);
          self->map = g_steal_pointer (&map);
          self->map_serial = px_model_get_serial (px_embedder_get_model (self->embedder));
        }
      /* Translators: the embedding map is ready: points and images in it */
      text = g_strdup_printf (_("%u points of %u images"), self->map->points->len, self->map->images->len);
      set_progress_text (self, text, 1);
    }
  self->hover = -1;
  gtk_stack_set_visible_child_name (self->stack, self->map != NULL ? "map" : "empty");
  update_actions (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
start_job (PxEmbeddingMapPage *self,
           GPtrArray          *sources,
           gboolean            placing)
{
  PxModel *model = px_embedder_get_model (self->embedder);
  g_autofree float *Y_old = NULL;
  int n_old = placing ? (int) self->map->points->len : 0;

  for (int i = 0; i < n_old; i++)
    {
      if (Y_old == NULL)
        Y_old = g_new (float, 2 * (gsize) n_old);
      Y_old[2 * i] = g_array_index (self->map->points, PxMapPoint, i).tx;
      Y_old[2 * i + 1] = g_array_index (self->map->points, PxMapPoint, i).ty;
    }
  g_clear_pointer (&self->error, g_free);
  self->cancellable = g_cancellable_new ();
  self->placing = placing;
  self->n_frames = 0;
  if (!placing)
    g_ptr_array_set_size (self->labels, 0);
  px_map_job_run_async (model, sources, placing ? self->map->X : NULL, Y_old, n_old,
                        on_progress, self, self->cancellable, on_job_done, g_object_ref (self));
  update_actions (self);
}

static GPtrArray *
folder_sources (PxEmbeddingMapPage *self,
                guint               first,
                guint               count)
{
  GPtrArray *sources = g_ptr_array_new_with_free_func ((GDestroyNotify) px_map_source_free);

  for (guint i = first; self->ids[i] != NULL && i < first + count; i++)
    {
      PxMapSource *source = g_new0 (PxMapSource, 1);

      source->jsrt_dir = g_strdup (self->folder);
      source->jsrt_id = g_strdup (self->ids[i]);
      source->name = g_strdup (self->ids[i]);
      g_ptr_array_add (sources, source);
    }
  return sources;
}

static void
run_action (GSimpleAction *action,
            GVariant      *param,
            gpointer       user_data)
{
  PxEmbeddingMapPage *self = user_data;
  guint count = (guint) gtk_adjustment_get_value (self->n_images);
  g_autoptr(GPtrArray) sources = NULL;

  if (self->ids == NULL || self->cancellable != NULL)
    return;
  sources = folder_sources (self, 0, count);
  self->next_id = sources->len;
  start_job (self, sources, FALSE);
}

static void
run_pins_action (GSimpleAction *action,
                 GVariant      *param,
                 gpointer       user_data)
{
  PxEmbeddingMapPage *self = user_data;
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) px_map_source_free);
  int n_panels;

  if (self->correspondence == NULL || self->cancellable != NULL)
    return;
  n_panels = px_correspondence_page_get_n_panels (self->correspondence);
  for (int p = 0; p < n_panels; p++)
    {
      PxMapSource *source = g_new0 (PxMapSource, 1);
      PxStudy *study = px_correspondence_page_get_panel_study (self->correspondence, p);

      source->study = g_object_ref (study);
      // Every propagated point, confident or not: the map shows where the tokens lie.
      source->set = px_correspondence_page_dup_landmarks (self->correspondence, p, TRUE);
      source->name = g_strdup (px_study_get_title (study));
      g_ptr_array_add (sources, source);
    }
  if (px_correspondence_page_get_n_pins (self->correspondence) == 0)
    {
      show_error (self, _("Pin points on the correspondence page first"));
      return;
    }
  g_clear_pointer (&self->ids, g_strfreev);
  start_job (self, sources, FALSE);
}

static void
place_more_action (GSimpleAction *action,
                   GVariant      *param,
                   gpointer       user_data)
{
  PxEmbeddingMapPage *self = user_data;
  g_autoptr(GPtrArray) sources = NULL;
  guint count = MAX (1, (guint) gtk_adjustment_get_value (self->n_images) / 4);

  if (self->ids == NULL || self->map == NULL || self->cancellable != NULL)
    return;
  sources = folder_sources (self, self->next_id, count);
  if (sources->len == 0)
    return;
  self->next_id += sources->len;
  start_job (self, sources, TRUE);
}

static void
stop_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  PxEmbeddingMapPage *self = user_data;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
on_folder_chosen (GtkNativeDialog    *dialog,
                  int                 response,
                  PxEmbeddingMapPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (path == NULL || !px_embedding_map_page_set_folder (self, path, &error))
        show_error (self, error != NULL ? error->message : _("Only local folders can be used"));
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
choose_folder_action (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  PxEmbeddingMapPage *self = user_data;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_("Choose a Landmark Folder"),
                                 GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Choose"), _("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_folder_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_export_chosen (gpointer    data,
                  GFile      *file,
                  const char *format)
{
  PxEmbeddingMapPage *self = data;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GError) error = NULL;
  double w = MAX (gtk_widget_get_width (GTK_WIDGET (self->area)), 800);
  double h = MAX (gtk_widget_get_height (GTK_WIDGET (self->area)), 600);

  if (path != NULL && !px_embedding_map_page_export (self, path, format, w, h, &error))
    show_error (self, error->message);
}

static void
export_action (GSimpleAction *action,
               GVariant      *param,
               gpointer       user_data)
{
  const char *format = g_variant_get_string (param, NULL);
  g_autofree char *name = g_strdup_printf ("embedding-map.%s", format);

  px_export_choose_file (user_data, _("Export Map"), GTK_FILE_CHOOSER_ACTION_SAVE, name, format,
                         on_export_chosen, user_data);
}

static const GActionEntry page_actions[] = {
  { "choose-folder", choose_folder_action },
  { "run", run_action },
  { "run-pins", run_pins_action },
  { "place-more", place_more_action },
  { "stop", stop_action },
  { "export", export_action, "s" },
};

static int
point_at (PxEmbeddingMapPage *self,
          double              vx,
          double              vy)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self->area));
  double h = gtk_widget_get_height (GTK_WIDGET (self->area));
  double best = HOVER_RADIUS;
  int found = -1;
  Fit fit;

  if (self->map == NULL || self->live_Y != NULL)
    return -1;
  fit = fit_view (self, w, h);
  for (guint i = 0; i < self->map->points->len; i++)
    {
      const PxMapPoint *p = &g_array_index (self->map->points, PxMapPoint, i);
      double d = hypot (fit.ox + fit.scale * p->tx - vx, fit.oy + fit.scale * p->ty - vy);

      if (d < best)
        best = d, found = (int) i;
    }
  return found;
}

static void
on_motion (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           PxEmbeddingMapPage       *self)
{
  int hover = point_at (self, x, y);

  self->pointer_x = x;
  self->pointer_y = y;
  if (hover != self->hover || hover >= 0)
    {
      self->hover = hover;
      gtk_widget_queue_draw (GTK_WIDGET (self->area));
    }
}

static void
on_leave (GtkEventControllerMotion *motion,
          PxEmbeddingMapPage       *self)
{
  self->hover = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
list_selection (PxEmbeddingMapPage *self,
                GHashTable         *images)
{
  g_autoptr(GString) text = g_string_new (NULL);

  if (g_hash_table_size (images) == 0)
    g_string_append (text, _("No images in the selection."));
  else
    /* Translators: heading of the list of images inside the map's rectangle selection */
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u image selected:",
                                               "%u images selected:", g_hash_table_size (images)),
                            g_hash_table_size (images));
  for (guint i = 0; self->map != NULL && i < self->map->images->len; i++)
    if (g_hash_table_contains (images, GINT_TO_POINTER (i)))
      {
        g_string_append_c (text, '\n');
        g_string_append (text, image_name (self, (int) i));
      }
  gtk_label_set_text (self->selection_label, text->str);
}

static void
on_drag_begin (GtkGestureDrag     *gesture,
               double              x,
               double              y,
               PxEmbeddingMapPage *self)
{
  self->sel_x0 = self->sel_x1 = x;
  self->sel_y0 = self->sel_y1 = y;
  self->selecting = FALSE;
}

static void
on_drag_update (GtkGestureDrag     *gesture,
                double              dx,
                double              dy,
                PxEmbeddingMapPage *self)
{
  self->sel_x1 = self->sel_x0 + dx;
  self->sel_y1 = self->sel_y0 + dy;
  self->selecting = hypot (dx, dy) >= 4;
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
on_drag_end (GtkGestureDrag     *gesture,
             double              dx,
             double              dy,
             PxEmbeddingMapPage *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self->area));
  double h = gtk_widget_get_height (GTK_WIDGET (self->area));

  if (self->map == NULL || self->live_Y != NULL)
    return;
  if (self->selecting)
    {
      Fit fit = fit_view (self, w, h);

      self->selecting = FALSE;
      px_embedding_map_page_select_rect (self, (self->sel_x0 - fit.ox) / fit.scale,
                                         (self->sel_y0 - fit.oy) / fit.scale,
                                         (self->sel_x1 - fit.ox) / fit.scale,
                                         (self->sel_y1 - fit.oy) / fit.scale);
      gtk_widget_queue_draw (GTK_WIDGET (self->area));
    }
  else
    {
      int i = point_at (self, self->sel_x0, self->sel_y0);

      if (i >= 0)
        {
          const PxMapPoint *p = &g_array_index (self->map->points, PxMapPoint, i);
          const PxMapImage *image = &g_array_index (self->map->images, PxMapImage, p->image);

          g_signal_emit (self, signals[OPEN_POINT], 0, image->path, p->x + 0.5, p->y + 0.5);
        }
    }
}

static void
px_embedding_map_page_dispose (GObject *object)
{
  PxEmbeddingMapPage *self = (PxEmbeddingMapPage *)object;
  GtkWidget *child;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  if (self->embedder != NULL)
    g_signal_handlers_disconnect_by_data (self->embedder, self);
  g_clear_object (&self->embedder);
  g_clear_object (&self->correspondence);
  g_clear_object (&self->actions);
  gtk_widget_dispose_template (GTK_WIDGET (self), PX_TYPE_EMBEDDING_MAP_PAGE);
  // The template's top box has no id, so it is unparented here.
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (px_embedding_map_page_parent_class)->dispose (object);
}

static void
px_embedding_map_page_finalize (GObject *object)
{
  PxEmbeddingMapPage *self = (PxEmbeddingMapPage *)object;

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->map, px_map_result_free);
  g_clear_pointer (&self->labels, g_ptr_array_unref);
  g_clear_pointer (&self->ids, g_strfreev);
  g_free (self->folder);
  g_free (self->live_Y);
  g_free (self->live_labels);
  g_free (self->error);

  G_OBJECT_CLASS (px_embedding_map_page_parent_class)->finalize (object);
}

static void
px_embedding_map_page_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  PxEmbeddingMapPage *self = PX_EMBEDDING_MAP_PAGE (object);

  switch (prop_id)
    {
    case PROP_PRIVACY:
      g_value_set_boolean (value, self->privacy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_embedding_map_page_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  PxEmbeddingMapPage *self = PX_EMBEDDING_MAP_PAGE (object);

  switch (prop_id)
    {
    case PROP_PRIVACY:
      if (self->privacy != g_value_get_boolean (value))
        {
          self->privacy = g_value_get_boolean (value);
          gtk_widget_queue_draw (GTK_WIDGET (self->area));
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_embedding_map_page_class_init (PxEmbeddingMapPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = px_embedding_map_page_dispose;
  object_class->finalize = px_embedding_map_page_finalize;
  object_class->get_property = px_embedding_map_page_get_property;
  object_class->set_property = px_embedding_map_page_set_property;

  properties [PROP_PRIVACY] =
    g_param_spec_boolean ("privacy", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * PxEmbeddingMapPage::open-point:
   * @path: the image file
   * @x: the point, continuous image pixels
   *
   * The user clicked a point of the map: show it on the correspondence page.
   */
  signals [OPEN_POINT] =
    g_signal_new ("open-point", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_DOUBLE, G_TYPE_DOUBLE);

  px_ensure_resources ();
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/peac/Explorer/px-embedding-map-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PxEmbeddingMapPage, stack);
  gtk_widget_class_bind_template_child (widget_class, PxEmbeddingMapPage, area);
  gtk_widget_class_bind_template_child (widget_class, PxEmbeddingMapPage, progress);
  gtk_widget_class_bind_template_child (widget_class, PxEmbeddingMapPage, selection_label);
  gtk_widget_class_bind_template_child (widget_class, PxEmbeddingMapPage, n_images);
}

static void
px_embedding_map_page_init (PxEmbeddingMapPage *self)
{
  GtkEventController *motion;
  GtkGesture *drag;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->labels = g_ptr_array_new ();
  self->hover = -1;
  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), page_actions,
                                   G_N_ELEMENTS (page_actions), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "map", G_ACTION_GROUP (self->actions));

  gtk_drawing_area_set_draw_func (self->area, draw_area, self, NULL);
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), motion);
  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), GTK_EVENT_CONTROLLER (drag));

  update_actions (self);
}

void
px_embedding_map_page_set_embedder (PxEmbeddingMapPage *self,
                                    PxEmbedder         *embedder)
{
  g_return_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self));

  if (self->embedder != NULL)
    g_signal_handlers_disconnect_by_data (self->embedder, self);
  g_set_object (&self->embedder, embedder);
  if (embedder != NULL)
    g_signal_connect_swapped (embedder, "notify::model", G_CALLBACK (update_actions), self);
  update_actions (self);
}

void
px_embedding_map_page_set_correspondence_page (PxEmbeddingMapPage   *self,
                                               PxCorrespondencePage *page)
{
  g_return_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self));

  g_set_object (&self->correspondence, page);
  update_actions (self);
}

/**
 * px_embedding_map_page_set_folder:
 *
 * Takes the images of a JSRT-layout landmark folder for the next run.
 */
gboolean
px_embedding_map_page_set_folder (PxEmbeddingMapPage  *self,
                                  const char          *folder,
                                  GError             **error)
{
  GStrv ids;
  g_autofree char *text = NULL;

  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), FALSE);

  ids = px_landmarks_jsrt_list (folder, error);
  if (ids == NULL)
    return FALSE;
  if (ids[0] == NULL)
    {
      g_strfreev (ids);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The folder holds no images with landmarks in the JSRT layout"));
      return FALSE;
    }
  g_strfreev (self->ids);
  self->ids = ids;
  self->next_id = 0;
  g_free (self->folder);
  self->folder = g_strdup (folder);
  /* Translators: how many landmark images a chosen folder holds */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u image with landmarks", "%u images with landmarks",
                                       g_strv_length (ids)), g_strv_length (ids));
  set_progress_text (self, text, 0);
  update_actions (self);
  return TRUE;
}

gboolean
px_embedding_map_page_get_busy (PxEmbeddingMapPage *self)
{
  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), FALSE);
  return self->cancellable != NULL;
}

guint
px_embedding_map_page_get_n_points (PxEmbeddingMapPage *self)
{
  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), 0);
  return self->map != NULL ? self->map->points->len : 0;
}

guint
px_embedding_map_page_get_n_images (PxEmbeddingMapPage *self)
{
  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), 0);
  return self->map != NULL ? self->map->images->len : 0;
}

/**
 * px_embedding_map_page_get_n_frames:
 *
 * Returns: how many intermediate layouts the last run drew
 */
guint
px_embedding_map_page_get_n_frames (PxEmbeddingMapPage *self)
{
  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), 0);
  return self->n_frames;
}

/**
 * px_embedding_map_page_get_point:
 * @image: (out) (transfer none): the image's name
 * @landmark: (out) (transfer none): the landmark's name
 */
gboolean
px_embedding_map_page_get_point (PxEmbeddingMapPage  *self,
                                 guint                index,
                                 const char         **image,
                                 const char         **landmark,
                                 float               *map_x,
                                 float               *map_y)
{
  const PxMapPoint *p;

  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), FALSE);

  if (self->map == NULL || index >= self->map->points->len)
    return FALSE;
  p = &g_array_index (self->map->points, PxMapPoint, index);
  *image = g_array_index (self->map->images, PxMapImage, p->image).name;
  *landmark = p->name;
  *map_x = p->tx;
  *map_y = p->ty;
  return TRUE;
}

/**
 * px_embedding_map_page_view_point:
 *
 * Where point @index of the map lies in a view (or export) of @width × @height.
 */
gboolean
px_embedding_map_page_view_point (PxEmbeddingMapPage *self,
                                  guint               index,
                                  double              width,
                                  double              height,
                                  double             *view_x,
                                  double             *view_y)
{
  const PxMapPoint *p;
  Fit fit;

  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), FALSE);

  if (self->map == NULL || self->live_Y != NULL || index >= self->map->points->len)
    return FALSE;
  fit = fit_view (self, width, height);
  p = &g_array_index (self->map->points, PxMapPoint, index);
  *view_x = fit.ox + fit.scale * p->tx;
  *view_y = fit.oy + fit.scale * p->ty;
  return TRUE;
}

/**
 * px_embedding_map_page_get_error:
 *
 * Returns: (nullable): why the last run failed
 */
const char *
px_embedding_map_page_get_error (PxEmbeddingMapPage *self)
{
  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), NULL);
  return self->error;
}

/**
 * px_embedding_map_page_select_rect:
 *
 * Selects the points inside a rectangle of map coordinates and lists their images.
 *
 * Returns: the number of images selected
 */
guint
px_embedding_map_page_select_rect (PxEmbeddingMapPage *self,
                                   double              x0,
                                   double              y0,
                                   double              x1,
                                   double              y1)
{
  g_autoptr(GHashTable) images = g_hash_table_new (NULL, NULL);

  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), 0);

  for (guint i = 0; self->map != NULL && i < self->map->points->len; i++)
    {
      const PxMapPoint *p = &g_array_index (self->map->points, PxMapPoint, i);

      if (p->tx >= MIN (x0, x1) && p->tx <= MAX (x0, x1) && p->ty >= MIN (y0, y1) && p->ty <= MAX (y0, y1))
        g_hash_table_add (images, GINT_TO_POINTER (p->image));
    }
  list_selection (self, images);
  return g_hash_table_size (images);
}

/**
 * px_embedding_map_page_export:
 * @format: "png", "svg" or "csv"
 *
 * Writes the map as drawn (PNG, SVG) or its points (CSV: image, landmark, label, image
 * position in the pixel-centre convention, map position). With privacy on, images are
 * named "image N".
 */
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
          px_export_csv_field (out, image_name (self, p->image));
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
