// SPDX-License-Identifier: GPL-3.0-or-later
//
// The worker of the embedding map. It touches no widget: images are loaded and embedded
// here (the model's own lock serialises forward passes with the study embedder), thumbnails
// are drawn into Cairo image surfaces that the main thread takes over, and t-SNE reports
// its layout every few iterations through copies handed to the main thread
// (px-main-thread.h). JSRT sets are thinned to every second point of each structure: 83
// points per image keep a map of a dozen images at about a thousand points.
#include "config.h"

#include <glib/gi18n.h>

#include "px-main-thread.h"
#include "px-map-job.h"
#include "px-match-scene.h"
#include "tsne.h"

#define THUMB_SIDE 256
#define JSRT_STRIDE 2
#define PROGRESS_EVERY 10

typedef struct {
  PxModel         *model;
  GPtrArray       *sources;
  float           *X_old;
  float           *Y_old;
  int              n_old;
  PxMapProgressFn  progress;
  GObject         *progress_data;
  atomic_int       abort_flag;
  const char     **labels;     // of the new points, interned
  int              n_labels;
  gulong           cancel_id;
  GCancellable    *cancellable;
} Job;

typedef struct {
  PxMapProgressFn  fn;
  GObject         *data;
  int              iter, n_iter, n;
  float           *Y;
  const char     **labels;
  int              n_labels;
} Progress;

void
px_map_source_free (PxMapSource *source)
{
  g_free (source->jsrt_dir);
  g_free (source->jsrt_id);
  g_clear_object (&source->study);
  g_clear_pointer (&source->set, px_landmark_set_free);
  g_free (source->name);
  g_free (source->hidden_name);
  g_free (source);
}

static void
image_clear (gpointer data)
{
  PxMapImage *image = data;

  g_free (image->name);
  g_free (image->hidden_name);
  g_free (image->path);
  g_clear_pointer (&image->surface, cairo_surface_destroy);
}

void
px_map_result_free (PxMapResult *result)
{
  g_array_unref (result->images);
  g_array_unref (result->points);
  g_free (result->X);
  g_free (result);
}

static void
job_free (Job *job)
{
  if (job->cancel_id != 0)
    g_cancellable_disconnect (job->cancellable, job->cancel_id);
  g_clear_object (&job->cancellable);
  g_object_unref (job->model);
  g_ptr_array_unref (job->sources);
  g_free (job->X_old);
  g_free (job->Y_old);
  g_free (job->labels);
  g_clear_object (&job->progress_data);
  g_free (job);
}

static gboolean
deliver_progress (gpointer data)
{
  Progress *p = data;

  p->fn (p->data, p->iter, p->n_iter, p->Y, p->n, p->labels, p->n_labels);
  g_object_unref (p->data);
  g_free (p->Y);
  g_free (p->labels);
  g_free (p);
  return G_SOURCE_REMOVE;
}

static void
post_progress (Job         *job,
               int          iter,
               int          n_iter,
               const float *Y,
               int          n)
{
  Progress *p;

  if (job->progress == NULL)
    return;
  p = g_new0 (Progress, 1);
  p->fn = job->progress;
  p->data = g_object_ref (job->progress_data);
  p->iter = iter;
  p->n_iter = n_iter;
  p->n = Y != NULL ? n : 0;
  p->Y = Y != NULL ? g_memdup2 (Y, sizeof (float) * 2 * n) : NULL;
  if (Y != NULL && job->labels != NULL)
    {
      p->labels = g_memdup2 (job->labels, sizeof (char *) * job->n_labels);
      p->n_labels = job->n_labels;
    }
  px_main_thread_post (deliver_progress, p, NULL);
}

static void
on_tsne_progress (void        *user,
                  int          iter,
                  int          n_iter,
                  float        kl,
                  const float *Y,
                  int          N)
{
  post_progress (user, iter, n_iter, Y, N);
}

static void
on_cancelled (GCancellable *cancellable,
              Job          *job)
{
  job->abort_flag = 1;
}

// Loads (if needed) and embeds one source, appending its image, points and tokens.
static gboolean
collect (Job          *job,
         PxMapSource  *source,
         PxMapResult  *result,
         GArray       *X,
         GError      **error)
{
  g_autoptr(PxLandmarkSet) loaded = NULL;
  g_autoptr(PxImage) image_owned = NULL;
  g_autoptr(PxEmbedding) embedding = NULL;
  const PxLandmarkSet *set = source->set;
  const PxImage *image;
  PxMapImage entry = { 0 };
  g_autofree float *token = NULL;

  if (source->jsrt_dir != NULL)
    {
      loaded = px_landmarks_load_jsrt (source->jsrt_dir, source->jsrt_id, error);
      if (loaded == NULL)
        return FALSE;
      set = loaded;
      image_owned = px_image_load (set->image_path, error);
      if (image_owned == NULL)
        return FALSE;
      image = image_owned;
      entry.path = g_strdup (set->image_path);
    }
  else
    {
      image = px_study_get_image (source->study);
      entry.path = g_file_get_path (px_study_get_file (source->study));
    }

  embedding = px_model_embed (job->model, image, -1, error);
  if (embedding == NULL)
    return FALSE;
  if (result->dim == 0)
    result->dim = embedding->dim;

  entry.name = g_strdup (source->name);
  entry.hidden_name = g_strdup (source->hidden_name);
  entry.width = image->width;
  entry.height = image->height;
  entry.surface = px_match_surface_for_image (image, THUMB_SIDE);
  g_array_append_val (result->images, entry);

  token = g_new (float, embedding->dim);
  for (guint i = 0; i < px_landmark_set_size (set); i++)
    {
      const PxLandmark *l = px_landmark_set_get (set, i);
      PxMapPoint point = { 0 };

      if (source->jsrt_dir != NULL && l->index % JSRT_STRIDE != 0)
        continue;
      point.image = (int) result->images->len - 1;
      point.label = g_intern_string (l->structure != NULL ? l->structure : l->name);
      point.name = g_intern_string (l->name);
      point.x = l->x;
      point.y = l->y;
      // Landmarks are pixel-centre; the embedding samples continuous pixels.
      px_embedding_token_at (embedding, l->x + 0.5, l->y + 0.5, token);
      g_array_append_vals (X, token, embedding->dim);
      g_array_append_val (result->points, point);
    }
  return TRUE;
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(PxMapResult) result = g_new0 (PxMapResult, 1);
  g_autoptr(GArray) X = g_array_new (FALSE, FALSE, sizeof (float));
  g_autofree float *Y = NULL;
  TsneParams params;
  TsneResult info;
  int n, rc;
  char err[512];

  result->images = g_array_new (FALSE, TRUE, sizeof (PxMapImage));
  g_array_set_clear_func (result->images, image_clear);
  result->points = g_array_new (FALSE, TRUE, sizeof (PxMapPoint));

  for (guint i = 0; i < job->sources->len; i++)
    {
      g_autoptr(GError) error = NULL;

      if (g_task_return_error_if_cancelled (task))
        return;
      if (!collect (job, g_ptr_array_index (job->sources, i), result, X, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      post_progress (job, (int) i + 1, (int) job->sources->len, NULL, 0);
    }

  n = (int) result->points->len;
  if (n < (job->n_old > 0 ? 1 : 4))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("Too few points for a map (%d)"), n);
      return;
    }

  job->n_labels = n;
  job->labels = g_new (const char *, n);
  for (int i = 0; i < n; i++)
    job->labels[i] = g_array_index (result->points, PxMapPoint, i).label;

  tsne_params_init (&params);
  params.perplexity = MIN (30.0f, (n + job->n_old - 1) / 3.0f);
  params.n_threads = MAX (1, (int) g_get_num_processors () - 1);
  params.progress_every = PROGRESS_EVERY;
  params.progress = on_tsne_progress;
  params.user = job;
  params.abort_flag = &job->abort_flag;
  params.seed = 1;

  Y = g_new0 (float, 2 * (gsize) n);
  if (job->n_old == 0)
    rc = tsne_run (&params, (float *) X->data, n, result->dim, Y, &info, err, sizeof err);
  else
    {
      // Only the new points move; a short optimisation is enough.
      params.max_iter = 300;
      rc = tsne_place (&params, job->X_old, job->Y_old, job->n_old, (float *) X->data, n,
                       result->dim, Y, &info, err, sizeof err);
    }
  if (rc != 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  for (int i = 0; i < n; i++)
    {
      g_array_index (result->points, PxMapPoint, i).tx = Y[2 * i];
      g_array_index (result->points, PxMapPoint, i).ty = Y[2 * i + 1];
    }
  result->X = (float *) g_array_free (g_steal_pointer (&X), FALSE);
  result->kl = info.kl;
  g_task_return_pointer (task, g_steal_pointer (&result), (GDestroyNotify) px_map_result_free);
}

/**
 * px_map_job_run_async:
 * @sources: (element-type PxMapSource): the images and their points
 * @X_old: (nullable): tokens [@n_old, dim] of an existing map to place the new points into
 * @Y_old: (nullable): its layout [@n_old, 2]
 * @progress_data: a #GObject, kept alive while progress is delivered
 *
 * Embeds the sources and maps their points (t-SNE), or places them into an existing map.
 */
void
px_map_job_run_async (PxModel             *model,
                      GPtrArray           *sources,
                      const float         *X_old,
                      const float         *Y_old,
                      int                  n_old,
                      PxMapProgressFn      progress,
                      gpointer             progress_data,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Job *job = g_new0 (Job, 1);
  int dim;

  px_model_get_grid (model, NULL, NULL, &dim);
  job->model = g_object_ref (model);
  job->sources = g_ptr_array_ref (sources);
  job->n_old = X_old != NULL ? n_old : 0;
  if (job->n_old > 0)
    {
      job->X_old = g_memdup2 (X_old, sizeof (float) * (gsize) n_old * dim);
      job->Y_old = g_memdup2 (Y_old, sizeof (float) * 2 * (gsize) n_old);
    }
  job->progress = progress;
  job->progress_data = progress_data != NULL ? g_object_ref (progress_data) : NULL;
  if (cancellable != NULL)
    {
      job->cancellable = g_object_ref (cancellable);
      job->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), job, NULL);
    }

  g_task_set_source_tag (task, px_map_job_run_async);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, run_thread);
}

/**
 * px_map_job_run_finish:
 *
 * Returns: (transfer full): the images, points with their map positions and tokens
 */
PxMapResult *
px_map_job_run_finish (GAsyncResult  *result,
                       GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
