// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-jpeg: the JPEG loader (px-jpeg.c) on arbitrary bytes through its in-memory entry point,
// as px_image_load calls it after sniffing. Checks of the result: fuzz-image.c.
#include "fuzz.h"
#include "fuzz-image.h"
#include "px-image-private.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *error = NULL;
  PxImage *image = px_jpeg_load ("fuzz-input.jpeg", data, size, &error);
  fuzz_check_image (image, error, "fuzz-input.jpeg", PX_FORMAT_JPEG);
  return 0;
}
