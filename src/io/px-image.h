// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-image: the one grey radiograph type every loader fills (PNG, JPEG, DICOM) and every
// consumer reads. Samples are floats in the modality's own units (after the DICOM modality
// LUT / rescale; 0..255 for 8-bit files, 0..65535 for 16-bit PNGs), never squashed to 8
// bits. Presentation (window, MONOCHROME1 inversion) is applied only when rendering, by
// px_image_render_* and px_image_to_unit, so nothing is lost on load.
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define PX_IMAGE_ERROR (px_image_error_quark ())
GQuark px_image_error_quark (void);

typedef enum {
  PX_IMAGE_ERROR_OPEN,        // cannot open/read the file
  PX_IMAGE_ERROR_FORMAT,      // not a recognised image format
  PX_IMAGE_ERROR_CORRUPT,     // truncated or malformed data
  PX_IMAGE_ERROR_UNSUPPORTED, // valid but unsupported (e.g. JPEG 2000 transfer syntax)
  PX_IMAGE_ERROR_TOO_LARGE,   // dimensions beyond PX_IMAGE_MAX_SIDE / PX_IMAGE_MAX_PIXELS
} PxImageError;

// Documented limits: refused before any pixel buffer is allocated.
#define PX_IMAGE_MAX_SIDE   32768
#define PX_IMAGE_MAX_PIXELS (16384u * 16384u)

typedef enum {
  PX_FORMAT_UNKNOWN = 0,
  PX_FORMAT_PNG,
  PX_FORMAT_JPEG,
  PX_FORMAT_DICOM,
} PxFormat;

typedef struct {
  double center;
  double width;
  char  *explanation; // may be NULL
} PxWindowPreset;

typedef struct {
  int    width;
  int    height;
  float *pixels;        // width × height, row-major, modality units
  float  data_min;      // actual min / max of pixels
  float  data_max;

  // Metadata. Strings are NULL when unknown.
  char    *path;
  PxFormat format;
  char    *format_detail;      // e.g. "PNG palette 8-bit", "DICOM JPEG-LS Lossless"
  int      bits_stored;
  int      bits_allocated;
  char    *photometric;        // "MONOCHROME1", "MONOCHROME2", "PALETTE", "RGB", "GRAY"…
  gboolean monochrome1;        // higher value = darker; rendering inverts
  // Calibrated spacing (PixelSpacing) and detector spacing (ImagerPixelSpacing) are kept
  // apart: only pixel_spacing may be presented as a calibrated size. 0 = absent.
  double   pixel_spacing[2];        // row, column in mm (0028,0030)
  double   imager_pixel_spacing[2]; // row, column in mm (0018,1164)
  char    *patient_id;
  char    *patient_name;
  char    *patient_sex;
  char    *patient_age;
  char    *study_date;         // YYYYMMDD as stored
  char    *view_position;      // "PA", "AP", "LL"…
  char    *modality;           // "CR", "DX"…
  PxWindowPreset *windows;     // presets from the file (DICOM VOI), may be empty
  int      n_windows;
  // All DICOM header elements as "(gggg,eeee) Name: value" lines for a tag panel, or NULL.
  GPtrArray *tags;
  char      *transfer_syntax;  // DICOM transfer syntax UID, NULL for PNG/JPEG
  char      *decoder;          // library (and codec) that decoded the pixels, e.g. "OpenJPEG 2.5.0"
} PxImage;

// Loads PNG, JPEG or DICOM (sniffed from the content, not the extension).
// On failure returns NULL and sets @error with a message naming the file and the reason.
PxImage *px_image_load (const char *path, GError **error);
void     px_image_free (PxImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PxImage, px_image_free)

PxFormat    px_image_sniff_format (const guint8 *head, gsize len);
const char *px_format_to_string (PxFormat format);

// The window a viewer starts with: the file's first preset, else the data range.
void px_image_default_window (const PxImage *image, double *center, double *width);

// The window that spans the data range (the viewer's "Full Range"): every value distinct.
void px_image_full_window (const PxImage *image, double *center, double *width);

// Presentation value in [0, 1], bone bright: windowed, then inverted for MONOCHROME1.
// out has width × height floats. Uses the default window.
void px_image_to_unit (const PxImage *image, float *out);

// 8-bit presentation with an explicit window; invert flips after MONOCHROME1 handling.
// out has width × height bytes (stride = width).
void px_image_render_u8 (const PxImage *image, double center, double width,
                         gboolean invert, guint8 *out);

G_END_DECLS
