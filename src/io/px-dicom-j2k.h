// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-dicom-j2k: the JPEG 2000 decoder of the DICOM shim, private to src/io. It turns one
// frame's codestream (raw J2K or inside a JP2 box), as px-dicom.cc gathers it from the
// encapsulated fragments, into native interleaved samples that must match what the DICOM
// header declares; the shim then hands them to DCMTK like uncompressed pixel data, so
// every later step (bits stored, signedness, modality LUT, colour to grey) is shared with
// the other transfer syntaxes. Decoding goes through OpenJPEG in strict mode.
#pragma once

#include <glib.h>

G_BEGIN_DECLS

// What the DICOM header declares for the frame.
typedef struct {
  int width;          // Columns
  int height;         // Rows
  int samples;        // SamplesPerPixel
  int bits_allocated; // 8 or 16
} PxJ2kFrame;

// "OpenJPEG 2.5.0": the decoder named by `peac info`.
const char *px_j2k_decoder_name (void);

// Decodes @len bytes of @data into width × height × samples samples, interleaved, each a
// host-order guint8 (bits_allocated 8) or guint16 (16), two's complement when signed.
// Sets *@mct when the codestream applied a multi-component transform (its output is RGB).
// Returns a g_malloc'd buffer of *@out_len bytes, or NULL and @error naming @path.
guint8 *px_j2k_decode (const char *path, const guint8 *data, gsize len,
                       const PxJ2kFrame *frame, gsize *out_len, gboolean *mct,
                       GError **error);

G_END_DECLS
