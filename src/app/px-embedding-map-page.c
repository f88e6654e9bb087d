// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxEmbeddingMapPage holds the current map (images, points, tokens, layout) and, while a
// job runs, the live layout the worker reports, which is drawn as it arrives: the scatter
// animates without the main loop ever doing more than copying and drawing. The map keeps the
// serial of the model that made it; placing more images needs the same model, since their
// tokens must live in the same space. The view fits the layout with equal axis scales.
// Drawing (and the export that draws) is px-embedding-map-page-draw.c; the map.* actions
// and the job they start are px-embedding-map-page-actions.c.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "px-application.h"
#include "px-embedding-map-page-private.h"
#include "px-export.h"
#include "px-window.h"

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

static void
on_motion (GtkEventControllerMotion *motion,
           double                    x,
           double                    y,
           PxEmbeddingMapPage       *self)
{
  int hover = px_embedding_map_page_point_at (self, x, y);

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
        g_string_append (text, px_embedding_map_page_image_name (self, (int) i));
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
      PxMapFit fit = px_embedding_map_page_fit_view (self, w, h);

      self->selecting = FALSE;
      px_embedding_map_page_select_rect (self, (self->sel_x0 - fit.ox) / fit.scale,
                                         (self->sel_y0 - fit.oy) / fit.scale,
                                         (self->sel_x1 - fit.ox) / fit.scale,
                                         (self->sel_y1 - fit.oy) / fit.scale);
      gtk_widget_queue_draw (GTK_WIDGET (self->area));
    }
  else
    {
      int i = px_embedding_map_page_point_at (self, self->sel_x0, self->sel_y0);

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
  px_embedding_map_page_add_actions (self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "map", G_ACTION_GROUP (self->actions));

  gtk_drawing_area_set_draw_func (self->area, px_embedding_map_page_draw, self, NULL);
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), motion);
  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), GTK_EVENT_CONTROLLER (drag));

  px_embedding_map_page_update_actions (self);
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
    g_signal_connect_swapped (embedder, "notify::model", G_CALLBACK (px_embedding_map_page_update_actions), self);
  px_embedding_map_page_update_actions (self);
}

void
px_embedding_map_page_set_correspondence_page (PxEmbeddingMapPage   *self,
                                               PxCorrespondencePage *page)
{
  g_return_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self));

  g_set_object (&self->correspondence, page);
  px_embedding_map_page_update_actions (self);
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
  px_embedding_map_page_set_progress_text (self, text, 0);
  px_embedding_map_page_update_actions (self);
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
  PxMapFit fit;

  g_return_val_if_fail (PX_IS_EMBEDDING_MAP_PAGE (self), FALSE);

  if (self->map == NULL || self->live_Y != NULL || index >= self->map->points->len)
    return FALSE;
  fit = px_embedding_map_page_fit_view (self, width, height);
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
 * named as the sidebar names them (px_privacy_mask_name).
 */