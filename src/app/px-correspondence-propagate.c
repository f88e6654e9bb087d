// SPDX-License-Identifier: GPL-3.0-or-later
//
// Propagate from References on the correspondence page: the landmarks of a folder of
// annotated radiographs carried onto every radiograph the page shows, exactly as
// `peac propagate` does (the atlas of px-atlas.h and landmark-atlas.h: the 2K references
// most like each image registered onto it, the K that register best fused per point). It
// runs in a GTask thread with its own reference to the model, whose forward lock it takes
// one image at a time; progress reaches the caller on the main thread through an idle
// source. The finish applies the answer all at once — one undo step, the points as
// landmark pins fused on every panel — or applies nothing and shows why.
#include "config.h"

#include <glib/gi18n.h>
#include <stdatomic.h>

#include "ops.h"
#include "px-atlas.h"
#include "px-correspondence-page-private.h"
#include "px-embedder.h"
#include "px-window.h"

typedef struct {
  PxModel             *model;
  char                *folder;
  int                  k;
  GPtrArray           *studies;   // PxStudy: the panels when it started, source first
  GPtrArray           *paths;     // char *: their files
  PxPropagateProgress  progress;
  GObject             *progress_data;
  atomic_int           done, total;
  // Results, read on the main thread after the worker returned.
  GPtrArray           *sets;      // PxLandmarkSet per panel
  int                  k_used, atlas_n;
  double               seconds;
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_clear_object (&job->model);
  g_free (job->folder);
  g_ptr_array_unref (job->studies);
  g_ptr_array_unref (job->paths);
  g_clear_object (&job->progress_data);
  g_clear_pointer (&job->sets, g_ptr_array_unref);
  g_free (job);
}

static gboolean
progress_idle (gpointer data)
{
  GTask *task = data;
  Job *job = g_task_get_task_data (task);

  if (job->progress != NULL && !g_task_get_completed (task))
    job->progress (atomic_load (&job->done) / (double) MAX (1, atomic_load (&job->total)),
                   job->progress_data);
  return G_SOURCE_REMOVE;
}

static void
step (GTask *task,
      Job   *job)
{
  atomic_fetch_add (&job->done, 1);
  g_idle_add_full (G_PRIORITY_DEFAULT, progress_idle, g_object_ref (task), g_object_unref);
}

// The worker: a message naming the file and the reason in err on failure.
static gboolean
propagate (GTask    *task,
           Job      *job,
           char     *err,
           gsize     errlen)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  PeacAtlas atlas = { 0 };
  PxAtlasEmbedder e = { 0 };
  g_autofree float *tok = NULL, *global = NULL;
  g_autofree int *pick = NULL;
  g_autofree double *weight = NULL;
  gboolean ok = FALSE;
  int rc;

  if (px_atlas_load (&atlas, job->folder, NULL, err, errlen) < 0)
    return FALSE;
  job->atlas_n = atlas.n;
  job->k_used = MIN (job->k, atlas.n);
  for (int i = 0; i < atlas.n; i++)
    if (peac_atlas_check_shared (&atlas.img[i], &atlas.img[0], err, errlen) < 0)
      goto out;
  atomic_store (&job->total, atlas.n + (int) job->paths->len);
  rc = px_atlas_embedder_init (&e, px_model_lock_engine (job->model), -1, err, errlen);
  px_model_unlock_engine (job->model);
  if (rc < 0 || (px_model_get_path (job->model) != NULL &&
                 px_atlas_embedder_use_cache (&e, px_model_get_path (job->model), err, errlen) < 0))
    goto out;
  for (int i = 0; i < atlas.n; i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        goto out;
      px_model_lock_engine (job->model);
      rc = px_atlas_embed_one (&atlas, i, &e, err, errlen);
      px_model_unlock_engine (job->model);
      if (rc < 0)
        goto out;
      step (task, job);
    }
  tok = g_new (float, (gsize) e.grid.gh * e.grid.gw * e.grid.dim);
  global = g_new (float, (gsize) e.grid.dim);
  pick = g_new (int, (gsize) job->k_used * PEAC_ATLAS_CANDIDATES);
  weight = g_new (double, (gsize) job->k_used * PEAC_ATLAS_CANDIDATES);
  job->sets = g_ptr_array_new_with_free_func ((GDestroyNotify) px_landmark_set_free);
  for (guint p = 0; p < job->paths->len; p++)
    {
      const char *path = g_ptr_array_index (job->paths, p);
      g_autofree double *xy = NULL, *spread = NULL;
      g_autofree int *found = NULL;
      const PeacAtlasImage *r0;
      int w, h, nc;

      if (g_cancellable_is_cancelled (cancellable))
        goto out;
      px_model_lock_engine (job->model);
      rc = px_atlas_embedder_run (&e, path, tok, global, &w, &h, err, errlen);
      px_model_unlock_engine (job->model);
      if (rc < 0)
        goto out;
      nc = peac_atlas_pick (&atlas, global, e.grid.dim, -1, PEAC_ATLAS_CANDIDATES * job->k_used, pick);
      r0 = &atlas.img[pick[0]];
      xy = g_new (double, 2 * (gsize) r0->n);
      spread = g_new (double, (gsize) r0->n);
      found = g_new (int, (gsize) r0->n);
      if (peac_atlas_propagate (&atlas, pick, nc, job->k_used, &e.grid, tok, w, h, NULL, xy, spread,
                                found, weight, NULL, err, errlen) < 0)
        goto out;
      g_ptr_array_add (job->sets, px_atlas_fused_set (r0, path, w, h, px_atlas_pixel_mm (path), xy,
                                                      spread, found, job->k_used, &e));
      step (task, job);
    }
  ok = TRUE;
out:
  px_atlas_clear (&atlas);
  px_atlas_embedder_clear (&e);
  return ok;
}

static void
propagate_thread (GTask        *task,
                  gpointer      source,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  Job *job = task_data;
  char err[2048] = "";
  gint64 t0 = g_get_monotonic_time ();

  if (!propagate (task, job, err, sizeof err))
    {
      if (!g_task_return_error_if_cancelled (task))
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", err);
      return;
    }
  job->seconds = (g_get_monotonic_time () - t0) / 1e6;
  g_task_return_boolean (task, TRUE);
}

/**
 * px_correspondence_page_propagate_async:
 * @folder: annotated references in any layout `peac propagate --atlas` reads
 * @k: references fused per radiograph (bounded by the folder's annotated images)
 * @progress: (nullable) (scope notified): called on the main thread with the fraction done
 * @progress_data: (nullable): a GObject passed to @progress, kept alive until the end
 *
 * Propagates the references' landmarks onto the page's source and targets in a worker;
 * px_correspondence_page_propagate_finish() applies the result.
 */
void
px_correspondence_page_propagate_async (PxCorrespondencePage *self,
                                        const char           *folder,
                                        int                   k,
                                        GCancellable         *cancellable,
                                        PxPropagateProgress   progress,
                                        gpointer              progress_data,
                                        GAsyncReadyCallback   callback,
                                        gpointer              user_data)
{
  g_autoptr(GCancellable) own = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  g_autoptr(GTask) task = NULL;
  Job *job;

  g_return_if_fail (PX_IS_CORRESPONDENCE_PAGE (self));
  g_return_if_fail (folder != NULL && k >= 1);

  task = g_task_new (self, own, callback, user_data);
  g_task_set_source_tag (task, px_correspondence_page_propagate_async);
  if (self->propagating != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY,
                               _("A propagation is already running"));
      return;
    }
  if (self->scene.n_panels == 0 || self->embedder == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _("Open two or more radiographs to propagate onto"));
      return;
    }
  if (px_embedder_get_model (self->embedder) == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _("The model is still loading"));
      return;
    }
  job = g_new0 (Job, 1);
  job->model = g_object_ref (px_embedder_get_model (self->embedder));
  job->folder = g_strdup (folder);
  job->k = k;
  job->studies = g_ptr_array_new_with_free_func (g_object_unref);
  job->paths = g_ptr_array_new_with_free_func (g_free);
  job->progress = progress;
  job->progress_data = progress_data != NULL ? g_object_ref (progress_data) : NULL;
  for (int p = 0; p < self->scene.n_panels; p++)
    {
      PxStudy *study = px_correspondence_page_get_panel_study (self, p);
      char *path = g_file_get_path (px_study_get_file (study));

      g_ptr_array_add (job->studies, g_object_ref (study));
      g_ptr_array_add (job->paths, path);
      if (path == NULL)
        {
          job_free (job);
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                   _("%s is not a local file"), px_study_get_title (study));
          return;
        }
    }
  g_task_set_task_data (task, job, job_free);
  self->propagating = g_object_ref (own);
  g_task_run_in_thread (task, propagate_thread);
}

// Index of the point named name in set, or −1.
static int
find_point (const PxLandmarkSet *set,
            const char          *name)
{
  for (guint i = 0; i < px_landmark_set_size (set); i++)
    if (g_strcmp0 (px_landmark_set_get (set, i)->name, name) == 0)
      return (int) i;
  return -1;
}

// The fused points as landmark pins: fused on every panel the job saw. Returns FALSE when
// the page shows other radiographs than the job started with (nothing is applied then).
static gboolean
apply (PxCorrespondencePage *self,
       Job                  *job)
{
  const PxLandmarkSet *src = g_ptr_array_index (job->sets, 0);
  int panel_of[PX_MATCH_MAX_TARGETS];

  if (self->scene.n_panels == 0 || self->source != g_ptr_array_index (job->studies, 0))
    return FALSE;
  for (guint t = 0; t < self->targets->len; t++)
    if (!g_ptr_array_find (job->studies, g_ptr_array_index (self->targets, t), (guint *) &panel_of[t]))
      return FALSE;
  _px_correspondence_page_record_pins (self);
  g_action_group_change_action_state (G_ACTION_GROUP (self->actions), "landmarks",
                                      g_variant_new_boolean (TRUE));
  g_array_set_size (self->scene.pins, 0);
  self->pin_counter = 0;
  for (guint i = 0; i < px_landmark_set_size (src); i++)
    {
      const PxLandmark *l = px_landmark_set_get (src, i);
      int colour = _px_correspondence_page_structure_colour (l->structure);
      PxMatchPin *pin = _px_correspondence_page_add_pin (self, l->name, l->x + 0.5, l->y + 0.5, colour);

      pin->structure = g_strdup (l->structure);
      pin->fused[0] = TRUE;
      pin->spread[0] = l->spread_px;
      pin->doubtful[0] = l->unconfirmed;
      for (guint t = 0; t < self->targets->len; t++)
        {
          const PxLandmarkSet *set = g_ptr_array_index (job->sets, panel_of[t]);
          int q = find_point (set, l->name);
          const PxLandmark *m;

          if (q < 0)
            continue;  // a point the target's references lack keeps the matcher's answer
          m = px_landmark_set_get (set, (guint) q);
          pin->moved[t] = TRUE;
          pin->match[t].x = (float) (m->x + 0.5);
          pin->match[t].y = (float) (m->y + 0.5);
          pin->match[t].found = !m->unconfirmed;
          pin->fused[t + 1] = TRUE;
          pin->spread[t + 1] = m->spread_px;
          pin->doubtful[t + 1] = m->unconfirmed;
        }
    }
  _px_correspondence_page_refresh (self);
  return TRUE;
}

/**
 * px_correspondence_page_propagate_finish:
 *
 * Applies the propagation (one undo step) and says so in a toast; on failure, shows the
 * error (naming the file and the reason) and changes nothing.
 *
 * Returns: whether the points were applied; %FALSE with @error set otherwise
 */
gboolean
px_correspondence_page_propagate_finish (PxCorrespondencePage  *self,
                                         GAsyncResult          *result,
                                         GError               **error)
{
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) local = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (g_task_get_task_data (G_TASK (result)) != NULL)
    g_clear_object (&self->propagating);
  if (!g_task_propagate_boolean (G_TASK (result), &local))
    {
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _px_correspondence_page_show_error (self, local->message);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!apply (self, job))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The open radiographs changed while propagating: nothing was applied"));
      _px_correspondence_page_show_error (self, (*error)->message);
      return FALSE;
    }
  g_debug ("propagation from %s, K = %d: %.2f s", job->folder, job->k_used, job->seconds);
  if (PX_IS_WINDOW (root))
    {
      /* Translators: points, references fused, annotated images in the folder, radiographs */
      g_autofree char *text = g_strdup_printf (_("%u points from %d of %d references on %u radiographs"),
                                               px_landmark_set_size (g_ptr_array_index (job->sets, 0)),
                                               job->k_used, job->atlas_n, job->sets->len);

      px_window_show_toast (PX_WINDOW (root), text);
    }
  return TRUE;
}

void
_px_correspondence_page_propagate_cancel (PxCorrespondencePage *self)
{
  if (self->propagating != NULL)
    g_cancellable_cancel (self->propagating);
}
