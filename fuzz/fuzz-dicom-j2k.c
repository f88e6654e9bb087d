// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-dicom-j2k: the JPEG 2000 path of the DICOM shim (fragment joining in px-dicom.cc,
// px-dicom-j2k.c over OpenJPEG, then DCMTK on the decoded frame). The input is two control
// bytes and a codestream (raw J2K or JP2); the harness wraps it into a JPEG 2000 DICOM file
// whose Rows, Columns, SamplesPerPixel, bits and signedness come from the codestream's SIZ
// marker, so that mutations reach the decoder instead of stopping at a header mismatch.
// Control byte 0: bit 0 lossy transfer syntax (.91), bits 1-2 photometric interpretation
// (MONOCHROME2, MONOCHROME1, RGB, YBR_RCT; colour only with 3 components), bit 3 two
// fragments split at byte 1 × length / 256 (rounded down to even), bit 4 a 16-bit allocation for ≤ 8-bit samples,
// bit 5 a header disagreeing with the codestream by one row. Checks: fuzz-image.c, and an
// accepted image names OpenJPEG as its decoder.
#include "fuzz.h"
#include "fuzz-image.h"
#include "px-dicom.h"

#include <string.h>

// Headers above this many pixels are declared 1×1 (refused as a mismatch before OpenJPEG
// allocates anything): the harness is after parsing bugs, not the memory of huge images.
#define MAX_PIXELS (1u << 22)

typedef struct {
  guint8 *d;
  gsize   n, cap;
} Buf;

static void
put (Buf *b, const void *p, gsize n)
{
  if (b->n + n > b->cap)
    {
      b->cap = (b->n + n) * 2;
      b->d = g_realloc (b->d, b->cap);
    }
  memcpy (b->d + b->n, p, n);
  b->n += n;
}

static void
put_u16 (Buf *b, guint v)
{
  guint8 x[2] = { v & 0xff, (v >> 8) & 0xff };
  put (b, x, 2);
}

static void
put_u32 (Buf *b, guint32 v)
{
  guint8 x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
  put (b, x, 4);
}

// An explicit-VR little-endian element with a short (16-bit) length; strings padded even.
static void
element (Buf *b, guint group, guint elem, const char *vr, const void *value, gsize len,
         char pad)
{
  gsize padded = len + (len & 1);

  put_u16 (b, group);
  put_u16 (b, elem);
  put (b, vr, 2);
  put_u16 (b, (guint) padded);
  put (b, value, len);
  if (len & 1)
    put (b, &pad, 1);
}

static void
element_us (Buf *b, guint elem, guint v)
{
  guint8 x[2] = { v & 0xff, (v >> 8) & 0xff };
  element (b, 0x0028, elem, "US", x, 2, 0);
}

static void
item (Buf *b, guint elem, const guint8 *p, gsize len)
{
  put_u16 (b, 0xfffe);
  put_u16 (b, elem);
  put_u32 (b, (guint32) (len + (len & 1)));
  if (len)
    put (b, p, len);
  if (len & 1)
    put (b, "", 1);
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const photometric[] = { "MONOCHROME2", "MONOCHROME1", "RGB", "YBR_RCT" };
  guint rows = 1, cols = 1, spp = 1, prec = 8, sgnd = 0;
  Buf b = { 0 };
  guint8 ctl, split;

  if (size < 2)
    return 0;
  ctl = data[0];
  split = data[1];
  data += 2;
  size -= 2;

  // The SIZ marker: at the start of a raw codestream, or inside a JP2's codestream box.
  for (gsize i = 0; i + 43 <= size && i < 4096; i++)
    if (data[i] == 0xff && data[i + 1] == 0x4f && data[i + 2] == 0xff && data[i + 3] == 0x51)
      {
        const guint8 *s = data + i;
        guint32 w = be32 (s + 8) - be32 (s + 16), h = be32 (s + 12) - be32 (s + 20);
        if (be32 (s + 8) > be32 (s + 16) && be32 (s + 12) > be32 (s + 20)
            && (guint64) w * h <= MAX_PIXELS)
          cols = w, rows = h;
        spp = (guint) (s[40] << 8 | s[41]);
        prec = (s[42] & 0x7f) + 1u;
        sgnd = s[42] >> 7;
        break;
      }
  if (spp == 0 || spp > 4)
    spp = 1;
  guint alloc = prec <= 8 && !(ctl & 0x10) ? 8 : 16;
  guint stored = prec <= alloc ? prec : alloc;
  const char *pi = spp == 3 ? photometric[2 + ((ctl >> 1) & 1)] : photometric[(ctl >> 1) & 1];

  // Preamble, meta header (group length computed below), dataset.
  static const guint8 zeros[128] = { 0 };
  put (&b, zeros, 128);
  put (&b, "DICM", 4);
  Buf meta = { 0 };
  const char *xfer = ctl & 1 ? "1.2.840.10008.1.2.4.91" : "1.2.840.10008.1.2.4.90";
  static const guint8 version[2] = { 0, 1 };
  put_u16 (&meta, 0x0002);
  put_u16 (&meta, 0x0001);
  put (&meta, "OB\0\0", 4);
  put_u32 (&meta, 2);
  put (&meta, version, 2);
  element (&meta, 0x0002, 0x0002, "UI", "1.2.840.10008.5.1.4.1.1.1", 25, 0);
  element (&meta, 0x0002, 0x0003, "UI", "1.2.3.4", 7, 0);
  element (&meta, 0x0002, 0x0010, "UI", xfer, strlen (xfer), 0);
  guint32 glen = (guint32) meta.n;
  element (&b, 0x0002, 0x0000, "UL", &glen, 4, 0);
  put (&b, meta.d, meta.n);
  g_free (meta.d);
  element (&b, 0x0008, 0x0060, "CS", "CR", 2, ' ');
  element_us (&b, 0x0002, spp);
  element (&b, 0x0028, 0x0004, "CS", pi, strlen (pi), ' ');
  element_us (&b, 0x0010, rows + ((ctl & 0x20) ? 1 : 0));
  element_us (&b, 0x0011, cols);
  element_us (&b, 0x0100, alloc);
  element_us (&b, 0x0101, stored);
  element_us (&b, 0x0102, stored - 1);
  element_us (&b, 0x0103, sgnd);
  put_u16 (&b, 0x7fe0);
  put_u16 (&b, 0x0010);
  put (&b, "OB\0\0", 4);
  put_u32 (&b, 0xffffffffu);
  item (&b, 0xe000, NULL, 0);
  // Fragments have even lengths, so the split is even (an odd one would pad mid-stream).
  gsize cut = (ctl & 0x08) ? (size * split / 256) & ~(gsize) 1 : size;
  if (cut > 0)
    item (&b, 0xe000, data, cut);
  if (cut < size)
    item (&b, 0xe000, data + cut, size - cut);
  item (&b, 0xe0dd, NULL, 0);

  const char *path = fuzz_file (b.d, b.n);
  GError *error = NULL;
  PxImage *image = px_dicom_load (path, &error);
  if (image != NULL)
    FUZZ_CHECK (image->decoder != NULL && strncmp (image->decoder, "OpenJPEG", 8) == 0);
  fuzz_check_image (image, error, path, PX_FORMAT_DICOM);
  g_free (b.d);
  return 0;
}
