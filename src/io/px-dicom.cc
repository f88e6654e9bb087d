// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-dicom: DICOM loading through DCMTK (first increment: refuses with a clear error until
// the DCMTK shim lands).
#include "px-dicom.h"
#include "px-image-private.h"

PxImage *
px_dicom_load (const char *path, GError **error)
{
  px_image_set_error (error, PX_IMAGE_ERROR_UNSUPPORTED, path, "DICOM loading is not built yet");
  return nullptr;
}
