// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-model-input: the helpers declared in px-model-input.h — a radiograph loaded by
// px_image_load, preprocessed by the engine's peac_preprocess (whole or cropped), edge-padded
// for dense tokens by peac_pad_edges, and fed to the model with its plane replicated to
// three channels.
#include "px-model-input.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "px-image.h"

int
px_model_input_dense_pad (int side, int patch, int stride, char *err, size_t errlen)
{
  int pad = peac_dense_pad (side, patch, stride);
  if (pad < 0)
    snprintf (err, errlen, "stride %d does not tile a %d-px input with %d-px patches (it "
              "must divide %d and leave an even overlap)", stride, side, patch, side);
  return pad;
}

int
px_model_input_dense (const PxModelInput *in, int patch, int stride, PxModelInput *out, char *err,
                      size_t errlen)
{
  int pad = px_model_input_dense_pad (in->side, patch, stride, err, errlen);
  if (pad < 0)
    return -1;
  *out = *in;
  out->stride = stride == patch ? 0 : stride;
  out->side = in->side + 2 * pad;
  out->plane = malloc ((size_t) out->side * out->side * sizeof *out->plane);
  if (!out->plane)
    {
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  peac_pad_edges (in->plane, 1, in->side, pad, out->plane);
  return 0;
}

int
px_model_input_load_dense (const char *path, int side, int patch, int stride, PxModelInput *in,
                           char *err, size_t errlen)
{
  PxModelInput whole;
  memset (in, 0, sizeof *in);
  int pad = px_model_input_dense_pad (side, patch, stride, err, errlen);
  if (pad < 0)
    return -1;
  // The patch grid needs no padded copy.
  if (pad == 0)
    return px_model_input_load (path, side, in, err, errlen);
  if (px_model_input_load (path, side, &whole, err, errlen) < 0)
    return -1;
  int rc = px_model_input_dense (&whole, patch, stride, in, err, errlen);
  px_model_input_clear (&whole);
  return rc;
}

int
px_model_input_preprocess (const PxImage *img, const PeacPreprocess *pp, PxModelInput *in,
                           char *err, size_t errlen)
{
  memset (in, 0, sizeof *in);
  size_t n = (size_t) pp->size * pp->size;
  float *unit = malloc ((size_t) img->width * img->height * sizeof *unit);
  float *x = malloc (3 * n * sizeof *x);
  int rc = -1;
  if (!unit || !x)
    snprintf (err, errlen, "out of memory");
  else
    {
      px_image_to_unit (img, unit);
      if (peac_preprocess (unit, img->width, img->height, pp, x) != 0)
        snprintf (err, errlen, "cannot preprocess");
      else
        {
          float *shrunk = realloc (x, n * sizeof *x);   // channel 0; the others are copies
          in->plane = shrunk ? shrunk : x;
          x = NULL;
          in->width = img->width;
          in->height = img->height;
          in->side = pp->size;
          rc = 0;
        }
    }
  free (unit);
  free (x);
  return rc;
}

int
px_model_input_from_image (const PxImage *img, int side, int crop, PxModelInput *in, char *err,
                           size_t errlen)
{
  PeacPreprocess pp = { side, PEAC_MEAN, PEAC_STD, crop };
  return px_model_input_preprocess (img, &pp, in, err, errlen);
}

int
px_model_input_load_preprocessed (const char *path, const PeacPreprocess *pp, PxModelInput *in,
                                  char *err, size_t errlen)
{
  memset (in, 0, sizeof *in);
  GError *error = NULL;
  PxImage *img = px_image_load (path, &error);
  if (!img)
    {
      snprintf (err, errlen, "%s", error->message);
      g_error_free (error);
      return -1;
    }
  char why[128];
  int rc = px_model_input_preprocess (img, pp, in, why, sizeof why);
  if (rc != 0)
    snprintf (err, errlen, "%s: %s", path, why);
  px_image_free (img);
  return rc;
}

int
px_model_input_load (const char *path, int side, PxModelInput *in, char *err, size_t errlen)
{
  PeacPreprocess pp = { side, PEAC_MEAN, PEAC_STD, 0 };
  return px_model_input_load_preprocessed (path, &pp, in, err, errlen);
}

void
px_model_input_clear (PxModelInput *in)
{
  free (in->plane);
  in->plane = NULL;
}

void
px_model_input_channels (const PxModelInput *in, float *x)
{
  size_t n = (size_t) in->side * in->side;
  for (int c = 0; c < 3; c++)
    memcpy (x + c * n, in->plane, n * sizeof *x);
}

int
px_model_input_embed (PeacModel *m, const PxModelInput *in, float *tokens, char *err,
                      size_t errlen)
{
  return px_model_input_embed_layer (m, in, -1, tokens, err, errlen);
}

int
px_model_input_embed_layer (PeacModel *m, const PxModelInput *in, int layer, float *tokens,
                            char *err, size_t errlen)
{
  size_t n = (size_t) in->side * in->side;
  float *x = malloc (3 * n * sizeof *x);
  if (!x)
    {
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  px_model_input_channels (in, x);
  PeacForwardOptions fo = PEAC_FORWARD_DEFAULT;
  fo.stride = in->stride;
  fo.layer = layer;
  int rc = peac_model_forward_ex (m, &fo, x, 1, in->side, in->side, tokens, NULL, NULL, NULL,
                                  err, errlen);
  free (x);
  return rc;
}

