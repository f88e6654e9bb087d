// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-image-private: what the format loaders (px-png.c, px-jpeg.c, the DICOM shim) share
// with px-image.c and nobody else needs: error helpers that put the file name first, the
// size-checked pixel allocation that every loader must go through before it touches pixel
// data, and the loader entry points the sniffing dispatcher calls.
#pragma once

#include "px-image.h"

G_BEGIN_DECLS

// Sets @error to "PATH: reason" in PX_IMAGE_ERROR.
void px_image_set_error (GError **error, PxImageError code, const char *path,
                         const char *format, ...) G_GNUC_PRINTF (4, 5);

// Refuses zero, negative or absurd dimensions (PX_IMAGE_MAX_SIDE, PX_IMAGE_MAX_PIXELS)
// with a clear error, without allocating anything.
gboolean px_image_check_size (gint64 width, gint64 height, const char *path, GError **error);

// A new image for @path with a zeroed, size-checked pixel buffer; NULL + error otherwise.
PxImage *px_image_new_sized (const char *path, PxFormat format, gint64 width, gint64 height,
                             GError **error);

// Recomputes data_min / data_max from the pixels.
void px_image_update_range (PxImage *image);

// Loaders (DICOM: px-dicom.h). Each returns a filled image (pixels, range and metadata) or NULL + error.
PxImage *px_png_load (const char *path, const guint8 *data, gsize len, GError **error);
PxImage *px_jpeg_load (const char *path, const guint8 *data, gsize len, GError **error);

G_END_DECLS
