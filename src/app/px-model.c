// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxModel owns one engine model and what the app shows about it. The app starts with the
// default model: $PEAC_MODEL when set, else the Preferences' default model, else the
// bundled one (px_model_new_default, model-find.h; a window finds it in a worker through
// px_model_new_default_async); without one, with a micro ViT built from a fixed seed: the
// same weights on every run, so correspondences are reproducible, and labelled as untrained
// wherever its name appears. Checkpoints load in a worker; their peac.* metadata becomes
// the description. Forward passes take a lock, because the engine keeps per-model
// workspaces. Images become model input through px-model-input.h, as in the CLI, so both
// feed identical tensors.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "backbone.h"
#include "checkpoint.h"
#include "model.h"
#include "model-find.h"
#include "preprocess.h"
#include "presets.h"
#include "px-model.h"

// The registry's stand-in: a ViT with 16-px patches at 224 px, a 14×14 grid as the paper's
// ViT-B/16 variant.
#define MICRO_PRESET "mini"
#define MICRO_SEED 1

struct _PxModel
{
  GObject    parent_instance;

  PeacModel *model;
  GMutex     lock;
  char      *name;
  char      *description;
  char      *path;         // the checkpoint file, NULL for the micro model
  gboolean   trained;
  guint      serial;
};

G_DEFINE_FINAL_TYPE (PxModel, px_model, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (PxEmbedding, px_embedding, px_embedding_ref, px_embedding_unref)

enum {
  PROP_0,
  PROP_NAME,
  PROP_DESCRIPTION,
  PROP_TRAINED,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
embedding_clear (gpointer data)
{
  g_free (((PxEmbedding *) data)->tokens);
}

PxEmbedding *
px_embedding_ref (PxEmbedding *embedding)
{
  return g_atomic_rc_box_acquire (embedding);
}

void
px_embedding_unref (PxEmbedding *embedding)
{
  g_atomic_rc_box_release_full (embedding, embedding_clear);
}

/**
 * px_embedding_token_at:
 * @x: image pixels, continuous (pixel i spans [i, i + 1))
 * @out: (array): dim floats
 *
 * The token bilinearly interpolated between cell centres at (@x, @y), clamped to the grid.
 */
void
px_embedding_token_at (const PxEmbedding *e,
                       double             x,
                       double             y,
                       float             *out)
{
  double cx = CLAMP (x / e->width * e->gw - 0.5, 0, e->gw - 1);
  double cy = CLAMP (y / e->height * e->gh - 0.5, 0, e->gh - 1);
  int c0 = (int) floor (cx), r0 = (int) floor (cy);
  int c1 = MIN (c0 + 1, e->gw - 1), r1 = MIN (r0 + 1, e->gh - 1);
  float fx = (float) (cx - c0), fy = (float) (cy - r0);
  const float *a = e->tokens + ((gsize) r0 * e->gw + c0) * e->dim;
  const float *b = e->tokens + ((gsize) r0 * e->gw + c1) * e->dim;
  const float *c = e->tokens + ((gsize) r1 * e->gw + c0) * e->dim;
  const float *d = e->tokens + ((gsize) r1 * e->gw + c1) * e->dim;

  for (int k = 0; k < e->dim; k++)
    out[k] = (1 - fy) * ((1 - fx) * a[k] + fx * b[k]) + fy * ((1 - fx) * c[k] + fx * d[k]);
}

static guint
next_serial (void)
{
  static guint counter;

  return g_atomic_int_add (&counter, 1) + 1;
}

static char *
describe (PeacModel       *model,
          PeacSafetensors *st)
{
  GString *text = g_string_new (NULL);
  int side = peac_model_img_size (model), gh, gw, dim;

  peac_model_output_shape (model, side, side, &gh, &gw, &dim);
  /* Translators: architecture, then input size in pixels, grid and token width */
  g_string_append_printf (text, _("%s, %d px input, %d × %d grid, %d-dimensional tokens"),
                          peac_model_backbone (model)->label,
                          side, gh, gw, dim);
  for (int i = 0; st != NULL && i < st->n_meta; i++)
    {
      const char *key = st->meta_keys[i];

      // The architecture keys are summed up above; the rest is provenance.
      if (g_str_equal (key, "peac.arch") || g_str_equal (key, "peac.layout") ||
          g_str_equal (key, "peac.config"))
        continue;
      g_string_append_printf (text, "\n%s: %.200s", key, st->meta_vals[i]);
    }
  return g_string_free (text, FALSE);
}

static PxModel *
wrap (PeacModel  *model,
      const char *name,
      gboolean    trained,
      char       *description)
{
  PxModel *self = g_object_new (PX_TYPE_MODEL, NULL);

  self->model = model;
  self->name = g_strdup (name);
  self->trained = trained;
  self->description = description;
  return self;
}

// A checkpoint read on this thread, named by its file name, described from its metadata.
static PxModel *
load_file (const char *path,
           char       *err,
           gsize       errlen)
{
  g_autofree char *basename = g_path_get_basename (path);
  PeacModel *model = peac_model_load (path, err, errlen);
  PeacSafetensors *st;
  PxModel *self;

  if (model == NULL)
    return NULL;
  st = peac_st_open (path, err, errlen);
  self = wrap (model, basename, TRUE, describe (model, st));
  self->path = g_strdup (path);
  if (st != NULL)
    peac_st_close (st);
  return self;
}

static void
load_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GFile *file = task_data;
  g_autofree char *path = g_file_get_path (file);
  PxModel *self;
  char err[512];

  if (path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Only local files can be opened"));
      return;
    }
  self = load_file (path, err, sizeof err);
  if (self == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", err);
      return;
    }
  g_task_return_pointer (task, self, g_object_unref);
}

static void
px_model_finalize (GObject *object)
{
  PxModel *self = (PxModel *)object;

  if (self->model != NULL)
    peac_model_free (self->model);
  g_mutex_clear (&self->lock);
  g_free (self->name);
  g_free (self->description);
  g_free (self->path);

  G_OBJECT_CLASS (px_model_parent_class)->finalize (object);
}

static void
px_model_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  PxModel *self = PX_MODEL (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;

    case PROP_TRAINED:
      g_value_set_boolean (value, self->trained);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_model_class_init (PxModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = px_model_finalize;
  object_class->get_property = px_model_get_property;

  properties [PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties [PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties [PROP_TRAINED] =
    g_param_spec_boolean ("trained", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
px_model_init (PxModel *self)
{
  g_mutex_init (&self->lock);
  self->serial = next_serial ();
}

/**
 * px_model_new_micro:
 *
 * Returns: (transfer full): the deterministic random-init micro ViT
 */
PxModel *
px_model_new_micro (void)
{
  char err[256];
  PeacModelSpec spec;
  PeacModel *model = NULL;
  g_autofree char *summary = NULL;

  if (peac_preset_resolve (&spec, MICRO_PRESET, NULL, err, sizeof err) == 0)
    model = peac_model_new (spec.backbone->arch, NULL, spec.config, MICRO_SEED, err, sizeof err);
  // A fixed configuration: failing here is a programming error, not user input.
  if (model == NULL)
    g_error ("micro model: %s", err);
  summary = describe (model, NULL);
  return wrap (model, _("Micro ViT, untrained (random init)"), FALSE,
               g_strdup_printf ("%s\n%s", summary,
                                _("Random weights from a fixed seed: a stand-in until a trained model is opened. Matches show image similarity, not learned anatomy.")));
}

/**
 * px_model_new_default:
 * @preferred: (nullable): the Preferences' default model (the "default-model" key), a
 *   path; %NULL or empty for none
 * @error: set when @preferred was given, not overridden, and could not be opened
 *
 * The model the app starts with, in this order: $PEAC_MODEL when set ("none" for no
 * model at all, model-find.h); else @preferred; else the bundled model (the source tree's
 * data/models when run from a build, else the installed one), loaded here — an F16 ViT-Ti
 * takes a fraction of a second. Without any, or when the one found fails to load, the
 * micro stand-in, whose description then says why. A @preferred model that cannot be
 * opened sets @error, naming the file and the reason, and the search goes on with the
 * bundled model: never a silent switch.
 *
 * Returns: (transfer full): the default model
 */
PxModel *
px_model_new_default (const char  *preferred,
                      GError     **error)
{
  const char *dirs[] = PEAC_MODEL_SEARCH_DIRS (PEAC_SOURCE_DIR, PKGDATADIR);
  const char *env = g_getenv (PEAC_MODEL_ENV);
  char path[4096], err[2048];
  PxModel *self;

  if ((env == NULL || *env == '\0') && preferred != NULL && *preferred != '\0')
    {
      const char *reason = err;

      if ((self = load_file (preferred, err, sizeof err)) != NULL)
        return self;
      // The engine's messages start with the path, which the sentence names already.
      if (g_str_has_prefix (err, preferred) && g_str_has_prefix (err + strlen (preferred), ": "))
        reason = err + strlen (preferred) + 2;
      /* Translators: the first %s is a model file, the second the reason it failed */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The default model “%s” could not be opened: %s"), preferred, reason);
    }
  if (peac_model_find_default (dirs, path, sizeof path, err, sizeof err) == 0
      && (self = load_file (path, err, sizeof err)) != NULL)
    return self;
  g_debug ("%s", err);
  {
    PxModel *micro = px_model_new_micro ();
    char *d = g_strdup_printf ("%s\n%s", micro->description, err);
    g_free (micro->description);
    micro->description = d;
    return micro;
  }
}

typedef struct {
  PxModel *model;
  GError  *error;   // px_model_new_default()'s: the preferred model that failed, if it did
} DefaultResult;

static void
default_result_free (DefaultResult *result)
{
  g_clear_object (&result->model);
  g_clear_error (&result->error);
  g_free (result);
}

static void
default_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  DefaultResult *result = g_new0 (DefaultResult, 1);

  result->model = px_model_new_default (task_data, &result->error);
  g_task_return_pointer (task, result, (GDestroyNotify) default_result_free);
}

/**
 * px_model_new_default_async:
 * @preferred: (nullable): as for px_model_new_default()
 *
 * Finds and loads the default model in a worker, as px_model_new_default() does. Once
 * @cancellable is cancelled the task completes at once with %G_IO_ERROR_CANCELLED, without
 * waiting for the worker, whose model is then dropped.
 */
void
px_model_new_default_async (const char          *preferred,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, px_model_new_default_async);
  g_task_set_task_data (task, g_strdup (preferred), g_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, default_thread);
}

/**
 * px_model_new_default_finish:
 * @error: set when cancelled, or, as by px_model_new_default(), when the preferred model
 *   could not be opened (a model is returned then too: the one used instead)
 *
 * Returns: (transfer full) (nullable): the default model; %NULL only when cancelled
 */
PxModel *
px_model_new_default_finish (GAsyncResult  *result,
                             GError       **error)
{
  DefaultResult *r;
  PxModel *model;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == px_model_new_default_async, NULL);

  r = g_task_propagate_pointer (G_TASK (result), error);
  if (r == NULL)
    return NULL;
  model = g_steal_pointer (&r->model);
  if (r->error != NULL)
    g_propagate_error (error, g_steal_pointer (&r->error));
  default_result_free (r);
  return model;
}

void
px_model_load_async (GFile               *file,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, px_model_load_async);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, load_thread);
}

/**
 * px_model_load_finish:
 *
 * Returns: (transfer full): the model, or %NULL with @error naming the reason
 */
PxModel *
px_model_load_finish (GAsyncResult  *result,
                      GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
px_model_get_name (PxModel *self)
{
  g_return_val_if_fail (PX_IS_MODEL (self), NULL);
  return self->name;
}

const char *
px_model_get_description (PxModel *self)
{
  g_return_val_if_fail (PX_IS_MODEL (self), NULL);
  return self->description;
}

gboolean
px_model_get_trained (PxModel *self)
{
  g_return_val_if_fail (PX_IS_MODEL (self), FALSE);
  return self->trained;
}

guint
px_model_get_serial (PxModel *self)
{
  g_return_val_if_fail (PX_IS_MODEL (self), 0);
  return self->serial;
}

/**
 * px_model_get_path:
 *
 * Returns: (nullable): the checkpoint file the model was loaded from; %NULL for the micro
 *   model
 */
const char *
px_model_get_path (PxModel *self)
{
  g_return_val_if_fail (PX_IS_MODEL (self), NULL);
  return self->path;
}

/**
 * px_model_lock_engine:
 *
 * Takes the model's forward lock and hands out the engine model, for code that runs the
 * engine itself (the atlas of px-atlas.h); px_model_unlock_engine() gives it back. Only
 * from a worker thread: the lock is held for whole forward passes.
 *
 * Returns: (transfer none): the engine model
 */
PeacModel *
px_model_lock_engine (PxModel *self)
{
  g_return_val_if_fail (PX_IS_MODEL (self), NULL);
  g_mutex_lock (&self->lock);
  return self->model;
}

void
px_model_unlock_engine (PxModel *self)
{
  g_return_if_fail (PX_IS_MODEL (self));
  g_mutex_unlock (&self->lock);
}

int
px_model_get_input_size (PxModel *self)
{
  g_return_val_if_fail (PX_IS_MODEL (self), 0);
  return peac_model_img_size (self->model);
}

void
px_model_get_grid (PxModel *self,
                   int     *grid_h,
                   int     *grid_w,
                   int     *dim)
{
  int side, gh, gw, d;

  g_return_if_fail (PX_IS_MODEL (self));
  side = peac_model_img_size (self->model);
  peac_model_output_shape (self->model, side, side, &gh, &gw, &d);
  if (grid_h != NULL)
    *grid_h = gh;
  if (grid_w != NULL)
    *grid_w = gw;
  if (dim != NULL)
    *dim = d;
}

/**
 * px_model_embed_input:
 * @input: prepared by px-model-input.h (whole or cropped, padded for its stride)
 * @layer: -1 for the model's output, else the block (see PeacForwardOptions)
 * @tokens: (array): receives the token grid of @input at its stride and @layer
 *
 * One forward pass on a prepared input. Safe from any thread.
 */
gboolean
px_model_embed_input (PxModel            *self,
                      const PxModelInput *input,
                      int                 layer,
                      float              *tokens,
                      GError            **error)
{
  char err[512];
  int rc;

  g_return_val_if_fail (PX_IS_MODEL (self), FALSE);

  g_mutex_lock (&self->lock);
  rc = px_model_input_embed_layer (self->model, input, layer, tokens, err, sizeof err);
  g_mutex_unlock (&self->lock);
  if (rc != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err);
      return FALSE;
    }
  return TRUE;
}

// The token grid of the whole image squeezed to the model's input side (and, dense,
// padded for tokens at half the patch stride).
static PxEmbedding *
embed (PxModel       *self,
       const PxImage *image,
       int            layer,
       gboolean       dense,
       GError       **error)
{
  PeacForwardOptions options = PEAC_FORWARD_DEFAULT;
  PxModelInput input = { 0 };
  g_autofree float *tokens = NULL;
  PxEmbedding *embedding;
  int side, gh, gw, dim, patch = 0, pad;
  char err[512];

  g_return_val_if_fail (PX_IS_MODEL (self), NULL);

  side = peac_model_img_size (self->model);
  options.layer = layer;
  peac_model_output_shape_ex (self->model, &options, side, side, &gh, &gw, &dim);
  // Dense: a ViT at half its patch stride, the input edge-padded so that the tokens tile
  // the image (preprocess.h); a model whose grid cannot tile that way stays on its patches.
  if (dense && gw > 0 && peac_model_backbone (self->model)->strides
      && (pad = peac_dense_pad (side, side / gw, side / gw / 2)) > 0)
    {
      patch = side / gw;
      options.stride = patch / 2;
      peac_model_output_shape_ex (self->model, &options, side + 2 * pad, side + 2 * pad, &gh,
                                  &gw, &dim);
    }
  if (gh <= 0 || gw <= 0 || dim <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The model has no layer %d"), layer);
      return NULL;
    }

  if (px_model_input_from_image (image, side, 0, &input, err, sizeof err) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The image cannot be preprocessed"));
      return NULL;
    }
  if (options.stride > 0)
    {
      PxModelInput whole = input;
      int rc = px_model_input_dense (&whole, patch, options.stride, &input, err, sizeof err);

      px_model_input_clear (&whole);
      if (rc != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err);
          return NULL;
        }
    }

  tokens = g_new (float, (gsize) gh * gw * dim);
  if (!px_model_embed_input (self, &input, layer, tokens, error))
    {
      px_model_input_clear (&input);
      return NULL;
    }
  px_model_input_clear (&input);

  embedding = g_atomic_rc_box_new0 (PxEmbedding);
  embedding->tokens = g_steal_pointer (&tokens);
  embedding->gh = gh;
  embedding->gw = gw;
  embedding->dim = dim;
  embedding->width = image->width;
  embedding->height = image->height;
  embedding->model_serial = self->serial;
  embedding->layer = layer;
  return embedding;
}

/**
 * px_model_embed:
 * @layer: -1 for the model's output, else the block (see PeacForwardOptions)
 *
 * Feeds the whole image, squeezed to the model's input side as `peac match` does, and
 * returns its token grid. Safe to call from any thread.
 *
 * Returns: (transfer full): the embedding, or %NULL with @error set
 */
PxEmbedding *
px_model_embed (PxModel       *self,
                const PxImage *image,
                int            layer,
                GError       **error)
{
  return embed (self, image, layer, FALSE, error);
}

/**
 * px_model_embed_dense:
 *
 * As px_model_embed() for the model's output, but a ViT's tokens come at half its patch
 * stride, tiling the image with cells of half the patch (`peac eval-landmarks --stride`):
 * what the correspondence page registers and matches on. Other models give their grid.
 *
 * Returns: (transfer full): the embedding, or %NULL with @error set
 */
PxEmbedding *
px_model_embed_dense (PxModel       *self,
                      const PxImage *image,
                      GError       **error)
{
  return embed (self, image, -1, TRUE, error);
}

/**
 * px_model_forward_input:
 * @input: (array): a normalised [3, side, side] tensor, side the model's input size
 * @tokens: (array): receives [gh, gw, dim] (see px_model_get_grid())
 *
 * One forward pass on a prepared tensor, e.g. a training crop. Safe from any thread.
 */
gboolean
px_model_forward_input (PxModel      *self,
                        const float  *input,
                        float        *tokens,
                        GError      **error)
{
  int side, rc;
  char err[512];

  g_return_val_if_fail (PX_IS_MODEL (self), FALSE);

  side = peac_model_img_size (self->model);
  g_mutex_lock (&self->lock);
  rc = peac_model_forward (self->model, input, 1, side, side, tokens, NULL, NULL, NULL, err, sizeof err);
  g_mutex_unlock (&self->lock);
  if (rc != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err);
      return FALSE;
    }
  return TRUE;
}
