// SPDX-License-Identifier: GPL-3.0-or-later
//
// The map.* actions of PxEmbeddingMapPage and the map job they start (px-map-job.c): a map
// of a JSRT folder or of the pins of the correspondence page, placing more images into the
// current map with the same model, stopping, choosing the folder and exporting. The job's
// live layout and its result arrive here on the main thread.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "px-embedding-map-page-private.h"
#include "px-export.h"
#include "px-window.h"

void
px_embedding_map_page_set_progress_text (PxEmbeddingMapPage *self,
                                         const char         *text,
                                         double              fraction)
{
  gtk_progress_bar_set_text (self->progress, text);
  gtk_progress_bar_set_fraction (self->progress, CLAMP (fraction, 0, 1));
}

void
px_embedding_map_page_update_actions (PxEmbeddingMapPage *self)
{
  gboolean busy = self->cancellable != NULL;
  // None while the window's default model loads: nothing to map with yet.
  PxModel *model = self->embedder != NULL ? px_embedder_get_model (self->embedder) : NULL;
  gboolean same_model = self->map != NULL && model != NULL && self->map_serial == px_model_get_serial (model);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "run")),
                               !busy && model != NULL && self->ids != NULL);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self->actions), "run-pins")),
                               !busy && model != NULL && self->correspondence != NULL);
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
      px_embedding_map_page_set_progress_text (self, text, 0.3 * iter / MAX (n_iter, 1));
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
  px_embedding_map_page_set_progress_text (self, text, 0.3 + 0.7 * iter / MAX (n_iter, 1));
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
      image.hidden_name = g_strdup (image.hidden_name);
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
      px_embedding_map_page_set_progress_text (self, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? _("Stopped") : error->message, 0);
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
      px_embedding_map_page_set_progress_text (self, text, 1);
    }
  self->hover = -1;
  gtk_stack_set_visible_child_name (self->stack, self->map != NULL ? "map" : "empty");
  px_embedding_map_page_update_actions (self);
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

  g_return_if_fail (model != NULL);   // the actions that start a job wait for the model
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
  px_embedding_map_page_update_actions (self);
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
      source->hidden_name = px_privacy_mask_name (self->ids[i], NULL, 0);
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
      source->hidden_name = px_study_dup_display_title (study, TRUE);
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
on_folder_chosen (GtkWidget  *widget,
                  const char *path)
{
  PxEmbeddingMapPage *self = PX_EMBEDDING_MAP_PAGE (widget);
  g_autoptr(GError) error = NULL;

  if (path == NULL || !px_embedding_map_page_set_folder (self, path, &error))
    show_error (self, error != NULL ? error->message : _("Only local folders can be used"));
}

static void
choose_folder_action (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  px_export_choose_folder (GTK_WIDGET (user_data), _("Choose a Landmark Folder"), _("_Choose"),
                           on_folder_chosen);
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

void
px_embedding_map_page_add_actions (PxEmbeddingMapPage *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), page_actions,
                                   G_N_ELEMENTS (page_actions), self);
}
