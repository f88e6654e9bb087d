// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-dicom: the DICOM shim (px-dicom.cc over DCMTK) on arbitrary bytes through a file
// path, as px_image_load hands it DICOM files; and px_image_load itself on the same file
// (sniffing, size limits, then whichever loader the content selects). Checks of the
// result: fuzz-image.c.
#include "fuzz.h"
#include "fuzz-image.h"
#include "px-dicom.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_file (data, size);
  GError *error = NULL;
  PxImage *image = px_dicom_load (path, &error);
  fuzz_check_image (image, error, path, PX_FORMAT_DICOM);
  error = NULL;
  image = px_image_load (path, &error);
  fuzz_check_image (image, error, path, image ? image->format : PX_FORMAT_UNKNOWN);
  return 0;
}
