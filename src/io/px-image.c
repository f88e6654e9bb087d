// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-image: the grey radiograph type itself. This file owns the error domain, content
// sniffing and the dispatch of px_image_load to the format loaders, the size checks every
// loader allocates through, freeing, and presentation: the default window, windowing to
// [0, 1] and 8-bit rendering with MONOCHROME1 shown bone-bright (inverted at render time,
// never on load).
#include "px-image-private.h"
#include "px-dicom.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (px-image-error-quark, px_image_error)

// Files bigger than this are refused before reading (the largest sensible radiograph,
// 32768² 16-bit uncompressed, is 2 GiB).
#define PX_IMAGE_MAX_FILE_BYTES ((gint64) 3 << 30)

void
px_image_set_error (GError **error, PxImageError code, const char *path,
                    const char *format, ...)
{
  va_list ap;
  g_autofree char *reason = NULL;

  va_start (ap, format);
  reason = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, PX_IMAGE_ERROR, code, "%s: %s", path ? path : "(no file)", reason);
}

gboolean
px_image_check_size (gint64 width, gint64 height, const char *path, GError **error)
{
  if (width <= 0 || height <= 0)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "invalid image size %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT,
                          width, height);
      return FALSE;
    }
  if (width > PX_IMAGE_MAX_SIDE || height > PX_IMAGE_MAX_SIDE
      || (guint64) width * (guint64) height > (guint64) PX_IMAGE_MAX_PIXELS)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_TOO_LARGE, path,
                          "image size %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                          " exceeds the limit (%d per side, %u pixels)",
                          width, height, PX_IMAGE_MAX_SIDE, PX_IMAGE_MAX_PIXELS);
      return FALSE;
    }
  return TRUE;
}

PxImage *
px_image_new_sized (const char *path, PxFormat format, gint64 width, gint64 height,
                    GError **error)
{
  PxImage *image;
  float *pixels;

  if (!px_image_check_size (width, height, path, error))
    return NULL;
  pixels = g_try_malloc0_n ((gsize) width * (gsize) height, sizeof (float));
  if (pixels == NULL)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_TOO_LARGE, path,
                          "out of memory for %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                          " pixels", width, height);
      return NULL;
    }
  image = g_new0 (PxImage, 1);
  image->width = (int) width;
  image->height = (int) height;
  image->pixels = pixels;
  image->path = g_strdup (path);
  image->format = format;
  return image;
}

void
px_image_update_range (PxImage *image)
{
  gsize n = (gsize) image->width * (gsize) image->height;
  float lo = INFINITY, hi = -INFINITY;

  for (gsize i = 0; i < n; i++)
    {
      float v = image->pixels[i];
      if (v < lo)
        lo = v;
      if (v > hi)
        hi = v;
    }
  image->data_min = n ? lo : 0.f;
  image->data_max = n ? hi : 0.f;
}

void
px_image_free (PxImage *image)
{
  if (image == NULL)
    return;
  g_free (image->pixels);
  g_free (image->path);
  g_free (image->format_detail);
  g_free (image->photometric);
  g_free (image->patient_id);
  g_free (image->patient_name);
  g_free (image->patient_sex);
  g_free (image->patient_age);
  g_free (image->study_date);
  g_free (image->view_position);
  g_free (image->modality);
  g_free (image->transfer_syntax);
  g_free (image->decoder);
  for (int i = 0; i < image->n_windows; i++)
    g_free (image->windows[i].explanation);
  g_free (image->windows);
  if (image->tags)
    g_ptr_array_unref (image->tags);
  g_free (image);
}

const char *
px_format_to_string (PxFormat format)
{
  switch (format)
    {
    case PX_FORMAT_PNG:
      return "PNG";
    case PX_FORMAT_JPEG:
      return "JPEG";
    case PX_FORMAT_DICOM:
      return "DICOM";
    case PX_FORMAT_UNKNOWN:
    default:
      return "unknown";
    }
}

static gboolean
is_vr (const guint8 *p)
{
  static const char vrs[] =
    "AEASATCSDADSDTFLFDISLOLTOBODOFOLOVOWPNSHSLSQSSSTSVTMUCUIULUNURUSUTUV";

  for (gsize i = 0; i + 1 < sizeof vrs; i += 2)
    if (p[0] == (guint8) vrs[i] && p[1] == (guint8) vrs[i + 1])
      return TRUE;
  return FALSE;
}

PxFormat
px_image_sniff_format (const guint8 *head, gsize len)
{
  static const guint8 png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

  if (len >= 8 && memcmp (head, png_sig, 8) == 0)
    return PX_FORMAT_PNG;
  if (len >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)
    return PX_FORMAT_JPEG;
  if (len >= 132 && memcmp (head + 128, "DICM", 4) == 0)
    return PX_FORMAT_DICOM;
  // No preamble: a dataset that starts with a little-endian group 0002 or 0008 element,
  // either explicit VR (two upper-case VR letters) or implicit VR (a plausible length).
  if (len >= 8 && (head[0] == 0x02 || head[0] == 0x08) && head[1] == 0x00
      && head[3] == 0x00)
    {
      guint32 ilen = head[4] | (head[5] << 8) | (head[6] << 16) | ((guint32) head[7] << 24);
      if (is_vr (head + 4) || ilen < 0x10000)
        return PX_FORMAT_DICOM;
    }
  return PX_FORMAT_UNKNOWN;
}

// Reads the whole file, refusing directories, empty and absurdly large files.
static guint8 *
read_file (const char *path, gsize *len_out, GError **error)
{
  struct stat st;
  guint8 *data;
  gsize done = 0;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      px_image_set_error (error, PX_IMAGE_ERROR_OPEN, path, "cannot open: %s",
                          g_strerror (e));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || S_ISDIR (st.st_mode) || !S_ISREG (st.st_mode))
    {
      px_image_set_error (error, PX_IMAGE_ERROR_OPEN, path,
                          S_ISDIR (st.st_mode) ? "is a directory, not an image file"
                                               : "not a regular file");
      close (fd);
      return NULL;
    }
  if (st.st_size == 0)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_FORMAT, path, "empty file");
      close (fd);
      return NULL;
    }
  if ((gint64) st.st_size > PX_IMAGE_MAX_FILE_BYTES)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_TOO_LARGE, path,
                          "file of %" G_GINT64_FORMAT " bytes is too large",
                          (gint64) st.st_size);
      close (fd);
      return NULL;
    }
  data = g_try_malloc ((gsize) st.st_size);
  if (data == NULL)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_TOO_LARGE, path, "out of memory");
      close (fd);
      return NULL;
    }
  while (done < (gsize) st.st_size)
    {
      ssize_t got = read (fd, data + done, (gsize) st.st_size - done);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        {
          int e = errno;
          px_image_set_error (error, PX_IMAGE_ERROR_OPEN, path, "read failed: %s",
                              got < 0 ? g_strerror (e) : "file shrank while reading");
          g_free (data);
          close (fd);
          return NULL;
        }
      done += (gsize) got;
    }
  close (fd);
  *len_out = done;
  return data;
}

PxImage *
px_image_load (const char *path, GError **error)
{
  g_autofree guint8 *data = NULL;
  gsize len = 0;
  PxFormat format;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = read_file (path, &len, error);
  if (data == NULL)
    return NULL;
  format = px_image_sniff_format (data, len);
  switch (format)
    {
    case PX_FORMAT_PNG:
      return px_png_load (path, data, len, error);
    case PX_FORMAT_JPEG:
      return px_jpeg_load (path, data, len, error);
    case PX_FORMAT_DICOM:
      g_clear_pointer (&data, g_free);
      return px_dicom_load (path, error);
    case PX_FORMAT_UNKNOWN:
    default:
      px_image_set_error (error, PX_IMAGE_ERROR_FORMAT, path,
                          "not a PNG, JPEG or DICOM file");
      return NULL;
    }
}

void
px_image_default_window (const PxImage *image, double *center, double *width)
{
  double c, w;

  if (image->n_windows > 0 && image->windows[0].width > 0)
    {
      c = image->windows[0].center;
      w = image->windows[0].width;
    }
  else
    {
      c = ((double) image->data_min + (double) image->data_max) / 2.0;
      w = (double) image->data_max - (double) image->data_min;
      if (w < 1.0)
        w = 1.0;
    }
  if (center)
    *center = c;
  if (width)
    *width = w;
}

void
px_image_full_window (const PxImage *image, double *center, double *width)
{
  if (center)
    *center = ((double) image->data_min + (double) image->data_max) / 2.0;
  if (width)
    *width = (double) image->data_max - (double) image->data_min + 1.0;
}

// DICOM PS3.3 C.11.2.1.2 linear window, mapped to [0, 1].
static inline float
window_unit (float x, double lo, double span)
{
  double v = ((double) x - lo) / span;
  return (float) (v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v);
}

static void
window_params (double center, double width, double *lo, double *span)
{
  if (width < 1.0)
    width = 1.0;
  if (width > 1.0)
    {
      *lo = center - 0.5 - (width - 1.0) / 2.0;
      *span = width - 1.0;
    }
  else
    {
      *lo = center - 0.5;
      *span = 1e-6;
    }
}

void
px_image_to_unit (const PxImage *image, float *out)
{
  double c, w, lo, span;
  gsize n = (gsize) image->width * (gsize) image->height;

  px_image_default_window (image, &c, &w);
  window_params (c, w, &lo, &span);
  for (gsize i = 0; i < n; i++)
    {
      float v = window_unit (image->pixels[i], lo, span);
      out[i] = image->monochrome1 ? 1.f - v : v;
    }
}

void
px_image_render_u8 (const PxImage *image, double center, double width,
                    gboolean invert, guint8 *out)
{
  double lo, span;
  gsize n = (gsize) image->width * (gsize) image->height;
  gboolean flip = (image->monochrome1 != FALSE) != (invert != FALSE);

  window_params (center, width, &lo, &span);
  for (gsize i = 0; i < n; i++)
    {
      float v = window_unit (image->pixels[i], lo, span);
      if (flip)
        v = 1.f - v;
      out[i] = (guint8) lrintf (v * 255.f);
    }
}
