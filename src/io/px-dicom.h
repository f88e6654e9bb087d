// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-dicom: the C face of the DCMTK shim (px-dicom.cc). The shim registers the JPEG,
// JPEG-LS and RLE decoders once, decodes JPEG 2000 through OpenJPEG (px-dicom-j2k.c), reads
// a DICOM file (with or without preamble and meta header) into a PxImage in modality units,
// and never lets a C++ exception out.
#pragma once

#include "px-image.h"

G_BEGIN_DECLS

PxImage *px_dicom_load (const char *path, GError **error);

G_END_DECLS
