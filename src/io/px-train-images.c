// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-train-images: decodes radiographs (px-image) and squeezes each to the grey square a
// training session crops from (see px-train-images.h). A file that cannot be read is left
// out and reported through the caller's function; the set keeps the order of the paths, so
// a run sees its images in the same order everywhere and resuming stays bit-exact.
#include "preprocess.h"
#include "px-image.h"
#include "px-train-images.h"

/**
 * px_train_image_load:
 * @side: the square's side in pixels
 *
 * Returns: (transfer full): [@side, @side] grey in [0, 1] (free with g_free), or %NULL with
 *   @error, whose message starts with @path
 */
float *
px_train_image_load (const char  *path,
                     int          side,
                     GError     **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(PxImage) image = px_image_load (path, &local);
  g_autofree float *unit = NULL;
  g_autofree float *input = NULL;
  g_autofree float *grey = NULL;
  PeacPreprocess pp = { side, PEAC_MEAN, PEAC_STD, 0 };
  gsize n = (gsize) side * side;

  if (image == NULL)
    {
      // px-image's messages usually start with the path already.
      if (g_str_has_prefix (local->message, path))
        g_propagate_error (error, g_steal_pointer (&local));
      else
        g_set_error (error, local->domain, local->code, "%s: %s", path, local->message);
      return NULL;
    }
  unit = g_try_new (float, (gsize) image->width * image->height);
  input = g_try_new (float, 3 * n);
  grey = g_try_new (float, n);
  if (side <= 0 || unit == NULL || input == NULL || grey == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "%s: cannot be resized to %d×%d (out of memory?)", path, side, side);
      return NULL;
    }
  px_image_to_unit (image, unit);
  if (peac_preprocess (unit, image->width, image->height, &pp, input) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: cannot be resized to %d×%d", path, side, side);
      return NULL;
    }
  // Undo the normalisation of channel 0: the crops are taken from plain grey.
  for (gsize i = 0; i < n; i++)
    grey[i] = input[i] * PEAC_STD + PEAC_MEAN;
  return g_steal_pointer (&grey);
}

/**
 * px_train_images_load:
 * @abort_flag: (nullable): checked before each file; once raised, loading stops
 * @skipped: (nullable): told about each file left out
 * @n_loaded: (out): how many images the set holds
 *
 * Returns: (transfer full): the images that could be read, in the order of @paths (free
 *   with px_train_images_free)
 */
PeacGrey *
px_train_images_load (const char * const *paths,
                      guint               n_paths,
                      int                 side,
                      const atomic_int   *abort_flag,
                      PxTrainSkipFn       skipped,
                      gpointer            user_data,
                      int                *n_loaded)
{
  PeacGrey *images = g_new0 (PeacGrey, MAX (n_paths, 1));
  int n = 0;

  for (guint i = 0; i < n_paths; i++)
    {
      g_autoptr(GError) error = NULL;
      float *grey;

      if (abort_flag != NULL && atomic_load (abort_flag))
        break;
      grey = px_train_image_load (paths[i], side, &error);
      if (grey != NULL)
        images[n++] = (PeacGrey) { grey, side, side };
      else if (skipped != NULL)
        skipped (paths[i], error, user_data);
    }
  *n_loaded = n;
  return images;
}

void
px_train_images_free (PeacGrey *images,
                      int       n)
{
  for (int i = 0; images != NULL && i < n; i++)
    g_free ((float *) images[i].px);
  g_free (images);
}
