// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxEmbedder runs the model over studies in a GTask thread. The worker holds its own
// reference to the model and the studies it embeds (their images are immutable), and
// touches nothing else: each finished grid and each progress step is handed to the main
// thread in an idle source, where it is cached on the study and announced.
// Requests made while a batch runs are queued and start when it ends, so the engine never
// runs two forward passes at once.
#include "config.h"

#include "ops.h"
#include "px-embedder.h"
#include "px-main-thread.h"

struct _PxEmbedder
{
  GObject       parent_instance;

  PxModel      *model;
  GPtrArray    *queue;        // PxStudy, waiting for the next batch
  GCancellable *cancellable;  // of the running batch, NULL when idle
  GPtrArray    *running;      // PxStudy in the running batch
  PxModel      *running_model;
  guint         done;
  guint         total;
};

G_DEFINE_FINAL_TYPE (PxEmbedder, px_embedder, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MODEL,
  PROP_BUSY,
  PROP_PROGRESS,
  N_PROPS
};

enum {
  EMBEDDED,
  FAILED,
  N_SIGNALS
};

static GParamSpec *properties [N_PROPS];
static guint signals [N_SIGNALS];

typedef struct {
  PxModel   *model;
  GPtrArray *studies;
} Batch;

typedef struct {
  PxEmbedder  *self;
  PxStudy     *study;
  PxEmbedding *embedding;  // NULL: failed, message in error
  char        *error;
} Landed;

static void start_batch (PxEmbedder *self);

static void
batch_free (Batch *batch)
{
  g_object_unref (batch->model);
  g_ptr_array_unref (batch->studies);
  g_free (batch);
}

static const char *
cache_key (int layer)
{
  return layer < 0 ? "px-embedding" : "px-embedding-layer";
}

static gboolean
on_landed (gpointer data)
{
  Landed *landed = data;
  PxEmbedder *self = landed->self;

  self->done++;
  if (landed->embedding != NULL)
    {
      g_object_set_data_full (G_OBJECT (landed->study), cache_key (landed->embedding->layer),
                              px_embedding_ref (landed->embedding),
                              (GDestroyNotify) px_embedding_unref);
      g_signal_emit (self, signals[EMBEDDED], 0, landed->study);
    }
  else
    g_signal_emit (self, signals[FAILED], 0, landed->study, landed->error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);

  g_object_unref (landed->self);
  g_object_unref (landed->study);
  g_clear_pointer (&landed->embedding, px_embedding_unref);
  g_free (landed->error);
  g_free (landed);
  return G_SOURCE_REMOVE;
}

static void
embed_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Batch *batch = task_data;

  for (guint i = 0; i < batch->studies->len; i++)
    {
      PxStudy *study = g_ptr_array_index (batch->studies, i);
      g_autoptr(GError) error = NULL;
      Landed *landed;

      if (g_cancellable_is_cancelled (cancellable))
        break;
      landed = g_new0 (Landed, 1);
      landed->self = g_object_ref (source);
      landed->study = g_object_ref (study);
      landed->embedding = px_model_embed_dense (batch->model, px_study_get_image (study), &error);
      if (landed->embedding == NULL)
        landed->error = g_strdup (error->message);
      px_main_thread_post (on_landed, landed, NULL);
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_batch_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  PxEmbedder *self = PX_EMBEDDER (source);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->running, g_ptr_array_unref);
  g_clear_object (&self->running_model);
  if (self->queue->len > 0)
    start_batch (self);
  else
    {
      self->done = self->total = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
    }
}

static void
start_batch (PxEmbedder *self)
{
  g_autoptr(GTask) task = NULL;
  Batch *batch = g_new0 (Batch, 1);

  batch->model = g_object_ref (self->model);
  batch->studies = g_steal_pointer (&self->queue);
  self->queue = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable = g_cancellable_new ();
  self->running = g_ptr_array_ref (batch->studies);
  g_set_object (&self->running_model, self->model);

  task = g_task_new (self, self->cancellable, on_batch_done, NULL);
  g_task_set_source_tag (task, start_batch);
  g_task_set_task_data (task, batch, (GDestroyNotify) batch_free);
  g_task_run_in_thread (task, embed_thread);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
px_embedder_dispose (GObject *object)
{
  PxEmbedder *self = (PxEmbedder *)object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);

  G_OBJECT_CLASS (px_embedder_parent_class)->dispose (object);
}

static void
px_embedder_finalize (GObject *object)
{
  PxEmbedder *self = (PxEmbedder *)object;

  g_clear_object (&self->model);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->running_model);
  g_clear_pointer (&self->running, g_ptr_array_unref);
  g_clear_pointer (&self->queue, g_ptr_array_unref);

  G_OBJECT_CLASS (px_embedder_parent_class)->finalize (object);
}

static void
px_embedder_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  PxEmbedder *self = PX_EMBEDDER (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_object (value, self->model);
      break;

    case PROP_BUSY:
      g_value_set_boolean (value, px_embedder_get_busy (self));
      break;

    case PROP_PROGRESS:
      g_value_set_double (value, px_embedder_get_progress (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_embedder_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  PxEmbedder *self = PX_EMBEDDER (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      px_embedder_set_model (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_embedder_class_init (PxEmbedderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = px_embedder_dispose;
  object_class->finalize = px_embedder_finalize;
  object_class->get_property = px_embedder_get_property;
  object_class->set_property = px_embedder_set_property;

  properties [PROP_MODEL] =
    g_param_spec_object ("model", NULL, NULL, PX_TYPE_MODEL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties [PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0, 1, 0,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals [EMBEDDED] =
    g_signal_new ("embedded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, PX_TYPE_STUDY);
  signals [FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, PX_TYPE_STUDY, G_TYPE_STRING);
}

static void
px_embedder_init (PxEmbedder *self)
{
  self->queue = g_ptr_array_new_with_free_func (g_object_unref);
  // The engine's pool would take every core; one stays free for the main loop.
  peac_threads_set (MAX (1, (int) g_get_num_processors () - 1));
}

/**
 * px_embedder_new:
 *
 * Returns: (transfer full): an embedder with the default model (px_model_new_default(),
 *   without a preferred one)
 */
PxEmbedder *
px_embedder_new (void)
{
  g_autoptr(PxModel) model = px_model_new_default (NULL, NULL);

  return px_embedder_new_with_model (model);
}

/**
 * px_embedder_new_with_model:
 * @model: (nullable): %NULL for none yet (a window's while its default model loads):
 *   until px_embedder_set_model() gives one, nothing is embedded and requests wait
 *
 * Returns: (transfer full): an embedder that starts with @model
 */
PxEmbedder *
px_embedder_new_with_model (PxModel *model)
{
  PxEmbedder *self;

  g_return_val_if_fail (model == NULL || PX_IS_MODEL (model), NULL);
  self = g_object_new (PX_TYPE_EMBEDDER, NULL);
  g_set_object (&self->model, model);
  return self;
}

/**
 * px_embedder_get_model:
 *
 * Returns: (transfer none) (nullable): the model in use; %NULL before the first one is set
 */
PxModel *
px_embedder_get_model (PxEmbedder *self)
{
  g_return_val_if_fail (PX_IS_EMBEDDER (self), NULL);
  return self->model;
}

void
px_embedder_set_model (PxEmbedder *self,
                       PxModel    *model)
{
  g_return_if_fail (PX_IS_EMBEDDER (self));
  g_return_if_fail (PX_IS_MODEL (model));

  if (self->model == model)
    return;
  // What the old model still had queued is no longer wanted; a running batch finishes
  // (its grids are cached under the old model's serial and never looked up again).
  g_ptr_array_set_size (self->queue, 0);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_set_object (&self->model, model);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

gboolean
px_embedder_get_busy (PxEmbedder *self)
{
  g_return_val_if_fail (PX_IS_EMBEDDER (self), FALSE);
  return self->cancellable != NULL;
}

double
px_embedder_get_progress (PxEmbedder *self)
{
  g_return_val_if_fail (PX_IS_EMBEDDER (self), 0);
  return self->total > 0 ? MIN (1.0, (double) self->done / self->total) : 0.0;
}

/**
 * px_embedder_lookup:
 *
 * Returns: (transfer none) (nullable): @study's grid under the model in use, if computed
 */
PxEmbedding *
px_embedder_lookup (PxEmbedder *self,
                    PxStudy    *study)
{
  PxEmbedding *embedding;

  g_return_val_if_fail (PX_IS_EMBEDDER (self), NULL);
  g_return_val_if_fail (PX_IS_STUDY (study), NULL);

  embedding = g_object_get_data (G_OBJECT (study), cache_key (-1));
  if (embedding != NULL && self->model != NULL &&
      embedding->model_serial == px_model_get_serial (self->model))
    return embedding;
  return NULL;
}

/**
 * px_embedder_request:
 * @studies: (array length=n_studies): studies whose grids are wanted
 *
 * Queues the studies that have no grid under the model in use. Without a model yet,
 * nothing is queued: the pages ask again when the model changes.
 *
 * Returns: %TRUE when every grid is already there
 */
gboolean
px_embedder_request (PxEmbedder  *self,
                     PxStudy    **studies,
                     guint        n_studies)
{
  gboolean ready = TRUE;

  g_return_val_if_fail (PX_IS_EMBEDDER (self), FALSE);

  if (self->model == NULL)
    return n_studies == 0;
  for (guint i = 0; i < n_studies; i++)
    {
      if (px_embedder_lookup (self, studies[i]) != NULL)
        continue;
      ready = FALSE;
      if (g_ptr_array_find (self->queue, studies[i], NULL))
        continue;
      if (self->running != NULL && self->running_model == self->model &&
          !g_cancellable_is_cancelled (self->cancellable) &&
          g_ptr_array_find (self->running, studies[i], NULL))
        continue;
      g_ptr_array_add (self->queue, g_object_ref (studies[i]));
      self->total++;
    }
  if (self->queue->len > 0 && self->cancellable == NULL)
    start_batch (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
  return ready;
}

void
px_embedder_cancel (PxEmbedder *self)
{
  g_return_if_fail (PX_IS_EMBEDDER (self));

  self->total -= MIN (self->total, self->queue->len);
  g_ptr_array_set_size (self->queue, 0);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}
