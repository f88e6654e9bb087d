// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-png: the PNG loader (px-png.c) on arbitrary bytes through its in-memory entry
// point, as px_image_load calls it after sniffing. libpng rejects a critical chunk whose
// CRC is wrong, which would stop almost every mutation at the first chunk; so when the
// input has a PNG signature the harness rewrites each complete chunk's CRC first (the
// loader never sees it any other way than a valid file would present it). Checks of the
// result: fuzz-image.c.
#include "fuzz.h"
#include "fuzz-image.h"
#include "px-image-private.h"

#include <string.h>

// CRC-32 (ISO 3309, as PNG uses it), bitwise: inputs are small.
static uint32_t
crc32_png (const uint8_t *p, size_t n)
{
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++)
    {
      c ^= p[i];
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
  return c ^ 0xffffffffu;
}

static void
fix_crcs (uint8_t *d, size_t size)
{
  size_t pos = 8;
  while (pos + 12 <= size)
    {
      uint32_t len = ((uint32_t) d[pos] << 24) | ((uint32_t) d[pos + 1] << 16)
                     | ((uint32_t) d[pos + 2] << 8) | d[pos + 3];
      if (len > size - pos - 12)
        return;
      uint32_t c = crc32_png (d + pos + 4, (size_t) len + 4);
      uint8_t *q = d + pos + 8 + len;
      q[0] = (uint8_t) (c >> 24), q[1] = (uint8_t) (c >> 16), q[2] = (uint8_t) (c >> 8);
      q[3] = (uint8_t) c;
      pos += 12 + (size_t) len;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  uint8_t *copy = malloc (size ? size : 1);
  FUZZ_CHECK (copy != NULL);
  if (size)
    memcpy (copy, data, size);
  if (size >= 8 && memcmp (copy, "\x89PNG\r\n\x1a\n", 8) == 0)
    fix_crcs (copy, size);
  GError *error = NULL;
  PxImage *image = px_png_load ("fuzz-input.png", copy, size, &error);
  fuzz_check_image (image, error, "fuzz-input.png", PX_FORMAT_PNG);
  free (copy);
  return 0;
}
