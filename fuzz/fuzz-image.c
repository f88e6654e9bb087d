// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-image: invariants of a loaded PxImage (or of a refusal) shared by the PNG, JPEG
// and DICOM harnesses; see fuzz-image.h.
#include "fuzz-image.h"

#include <math.h>
#include <string.h>

#include "fuzz.h"

// Rendering is linear in the pixel count; keep it to small images so it costs little.
#define RENDER_MAX_PIXELS (1u << 20)
#define CHECK_ALL_PIXELS  (1u << 24)

void
fuzz_check_image (PxImage *image, GError *error, const char *path, PxFormat format)
{
  if (!image)
    {
      FUZZ_CHECK (error != NULL && error->domain == PX_IMAGE_ERROR);
      FUZZ_CHECK (strstr (error->message, path) != NULL);
      g_error_free (error);
      return;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (image->format == format);
  FUZZ_CHECK (image->width > 0 && image->height > 0);
  FUZZ_CHECK (image->width <= PX_IMAGE_MAX_SIDE && image->height <= PX_IMAGE_MAX_SIDE);
  gsize n = (gsize) image->width * (gsize) image->height;
  FUZZ_CHECK (n <= PX_IMAGE_MAX_PIXELS);
  FUZZ_CHECK (image->pixels != NULL && image->format_detail != NULL);
  FUZZ_CHECK (image->data_min <= image->data_max);
  // Every sample of ordinary images; a strided sample of huge ones, which a few hundred
  // bytes may legally declare (an arithmetic-coded JPEG decodes missing data as zeros)
  // and whose full scan under the sanitizers would dominate the 10 s timeout.
  gsize step = n > CHECK_ALL_PIXELS ? 4093 : 1;
  for (gsize i = 0; i < n; i += step)
    FUZZ_CHECK (isfinite (image->pixels[i]) && image->pixels[i] >= image->data_min
                && image->pixels[i] <= image->data_max);
  FUZZ_CHECK (image->n_windows >= 0 && (image->n_windows == 0 || image->windows != NULL));
  if (n <= RENDER_MAX_PIXELS)
    {
      float *unit = g_new (float, n);
      guint8 *u8 = g_new (guint8, n);
      px_image_to_unit (image, unit);
      for (gsize i = 0; i < n; i++)
        FUZZ_CHECK (unit[i] >= 0.f && unit[i] <= 1.f);
      double c, w;
      px_image_default_window (image, &c, &w);
      FUZZ_CHECK (isfinite (c) && isfinite (w) && w > 0);
      px_image_render_u8 (image, c, w, TRUE, u8);
      g_free (unit);
      g_free (u8);
    }
  px_image_free (image);
}
