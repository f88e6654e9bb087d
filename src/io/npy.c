// SPDX-License-Identifier: GPL-3.0-or-later
//
// npy: the .npy reader and writer. Layout: 6-byte magic "\x93NUMPY", major and minor
// version bytes, the header length (uint16 LE in 1.0, uint32 LE in 2.0/3.0), then an ASCII
// Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (R, C), } padded
// with spaces to a multiple of 16 (64 in newer writers) and ended by '\n', then the raw
// data. The dict is parsed by a small tokenizer that accepts the keys in any order.
#include "npy.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
skip_ws (const char *s, const char *end)
{
  while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
    s++;
  return s;
}

// Reads a quoted Python string ('…' or "…") into out (≤ cap−1 chars).
static const char *
parse_str (const char *s, const char *end, char *out, size_t cap)
{
  if (s >= end || (*s != '\'' && *s != '"'))
    return NULL;
  char q = *s++;
  size_t n = 0;
  while (s < end && *s != q)
    {
      if (n + 1 >= cap)
        return NULL;
      out[n++] = *s++;
    }
  if (s >= end)
    return NULL;
  out[n] = '\0';
  return s + 1;
}

typedef struct {
  char descr[16];
  int fortran;          // −1 until seen
  int ndim;             // −1 until seen
  long long shape[8];
} Header;

static int
parse_header (const char *s, const char *end, Header *h, char *why, size_t wlen)
{
  h->descr[0] = '\0';
  h->fortran = -1;
  h->ndim = -1;
  s = skip_ws (s, end);
  if (s >= end || *s++ != '{')
    { snprintf (why, wlen, "header is not a dict"); return -1; }
  for (;;)
    {
      s = skip_ws (s, end);
      if (s < end && *s == '}')
        break;
      char key[32];
      s = parse_str (s, end, key, sizeof key);
      if (!s)
        { snprintf (why, wlen, "malformed header key"); return -1; }
      s = skip_ws (s, end);
      if (s >= end || *s++ != ':')
        { snprintf (why, wlen, "missing ':' after '%s' in header", key); return -1; }
      s = skip_ws (s, end);
      if (strcmp (key, "descr") == 0)
        {
          s = parse_str (s, end, h->descr, sizeof h->descr);
          if (!s)
            { snprintf (why, wlen, "malformed 'descr' (only simple dtypes are supported)"); return -1; }
        }
      else if (strcmp (key, "fortran_order") == 0)
        {
          if (end - s >= 4 && memcmp (s, "True", 4) == 0)
            { h->fortran = 1; s += 4; }
          else if (end - s >= 5 && memcmp (s, "False", 5) == 0)
            { h->fortran = 0; s += 5; }
          else
            { snprintf (why, wlen, "'fortran_order' is neither True nor False"); return -1; }
        }
      else if (strcmp (key, "shape") == 0)
        {
          if (s >= end || *s++ != '(')
            { snprintf (why, wlen, "'shape' is not a tuple"); return -1; }
          h->ndim = 0;
          for (;;)
            {
              s = skip_ws (s, end);
              if (s < end && *s == ')')
                { s++; break; }
              if (s >= end || *s < '0' || *s > '9')
                { snprintf (why, wlen, "'shape' holds a non-integer"); return -1; }
              long long v = 0;
              while (s < end && *s >= '0' && *s <= '9')
                {
                  v = v * 10 + (*s++ - '0');
                  if (v > INT32_MAX)
                    { snprintf (why, wlen, "a dimension in 'shape' is too large"); return -1; }
                }
              if (h->ndim == 8)
                { snprintf (why, wlen, "'shape' has too many dimensions"); return -1; }
              h->shape[h->ndim++] = v;
              s = skip_ws (s, end);
              if (s < end && *s == ',')
                s++;
            }
        }
      else
        { snprintf (why, wlen, "unexpected header key '%s'", key); return -1; }
      s = skip_ws (s, end);
      if (s < end && *s == ',')
        s++;
    }
  if (!h->descr[0] || h->fortran < 0 || h->ndim < 0)
    { snprintf (why, wlen, "header lacks 'descr', 'fortran_order' or 'shape'"); return -1; }
  return 0;
}

float *
npy_parse_matrix (const unsigned char *buf, size_t len, const char *name,
                  int *rows, int *cols, char *err, size_t errlen)
{
  static const unsigned char magic[6] = { 0x93, 'N', 'U', 'M', 'P', 'Y' };
  char why[160];
  if (len < 10 || memcmp (buf, magic, 6) != 0)
    {
      snprintf (err, errlen, "%s: not a .npy file (bad magic)", name);
      return NULL;
    }
  int major = buf[6], minor = buf[7];
  size_t hlen, off;
  if (major == 1 && minor == 0)
    {
      hlen = buf[8] | (size_t) buf[9] << 8;
      off = 10;
    }
  else if ((major == 2 || major == 3) && minor == 0)
    {
      if (len < 12)
        {
          snprintf (err, errlen, "%s: truncated .npy header", name);
          return NULL;
        }
      hlen = buf[8] | (size_t) buf[9] << 8 | (size_t) buf[10] << 16 | (size_t) buf[11] << 24;
      off = 12;
    }
  else
    {
      snprintf (err, errlen, "%s: unsupported .npy version %d.%d", name, major, minor);
      return NULL;
    }
  if (hlen > len - off)
    {
      snprintf (err, errlen, "%s: truncated .npy header (%zu bytes announced)", name, hlen);
      return NULL;
    }
  Header h;
  if (parse_header ((const char *) buf + off, (const char *) buf + off + hlen, &h, why,
                    sizeof why) != 0)
    {
      snprintf (err, errlen, "%s: bad .npy header: %s", name, why);
      return NULL;
    }
  int itemsize;
  if (strcmp (h.descr, "<f4") == 0)
    itemsize = 4;
  else if (strcmp (h.descr, "<f8") == 0)
    itemsize = 8;
  else
    {
      snprintf (err, errlen, "%s: dtype '%s' is not supported (need little-endian float32 "
                "'<f4' or float64 '<f8')", name, h.descr);
      return NULL;
    }
  if (h.fortran)
    {
      snprintf (err, errlen, "%s: Fortran-order arrays are not supported (save with "
                "np.ascontiguousarray)", name);
      return NULL;
    }
  if (h.ndim != 2)
    {
      snprintf (err, errlen, "%s: expected a 2-D matrix, the array has %d dimension%s",
                name, h.ndim, h.ndim == 1 ? "" : "s");
      return NULL;
    }
  if (h.shape[0] < 1 || h.shape[1] < 1)
    {
      snprintf (err, errlen, "%s: empty matrix (%lld × %lld)", name, h.shape[0], h.shape[1]);
      return NULL;
    }
  uint64_t count = (uint64_t) h.shape[0] * (uint64_t) h.shape[1];
  uint64_t need = count * (uint64_t) itemsize;
  size_t have = len - off - hlen;
  if (have != need)
    {
      snprintf (err, errlen, "%s: %s data: %lld × %lld × %d = %llu bytes expected, %zu present",
                name, have < need ? "truncated" : "trailing bytes after the", h.shape[0],
                h.shape[1], itemsize, (unsigned long long) need, have);
      return NULL;
    }
  if (count > SIZE_MAX / sizeof (float))
    {
      snprintf (err, errlen, "%s: matrix too large", name);
      return NULL;
    }
  float *out = malloc ((size_t) count * sizeof *out);
  if (!out)
    {
      snprintf (err, errlen, "%s: out of memory for %lld × %lld", name, h.shape[0], h.shape[1]);
      return NULL;
    }
  const unsigned char *d = buf + off + hlen;
  // Little-endian host assumed for speed; checked at run time so a big-endian build still
  // decodes correctly through the byte loop.
  const uint16_t probe = 1;
  int host_le = *(const unsigned char *) &probe == 1;
  if (itemsize == 4)
    {
      if (host_le)
        memcpy (out, d, (size_t) count * 4);
      else
        for (uint64_t e = 0; e < count; e++)
          {
            uint32_t u = d[4 * e] | (uint32_t) d[4 * e + 1] << 8 | (uint32_t) d[4 * e + 2] << 16 |
                         (uint32_t) d[4 * e + 3] << 24;
            memcpy (&out[e], &u, 4);
          }
    }
  else
    for (uint64_t e = 0; e < count; e++)
      {
        uint64_t u = 0;
        for (int b = 7; b >= 0; b--)
          u = u << 8 | d[8 * e + b];
        double v;
        memcpy (&v, &u, 8);
        out[e] = (float) v;
      }
  *rows = (int) h.shape[0];
  *cols = (int) h.shape[1];
  return out;
}

float *
npy_read_matrix (const char *path, int *rows, int *cols, char *err, size_t errlen)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    {
      snprintf (err, errlen, "%s: %s", path, strerror (errno));
      return NULL;
    }
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;)
    {
      if (len == cap)
        {
          cap = cap ? 2 * cap : 1 << 16;
          unsigned char *nb = realloc (buf, cap);
          if (!nb)
            {
              free (buf);
              fclose (f);
              snprintf (err, errlen, "%s: out of memory", path);
              return NULL;
            }
          buf = nb;
        }
      size_t got = fread (buf + len, 1, cap - len, f);
      len += got;
      if (got == 0)
        break;
    }
  int bad = ferror (f);
  fclose (f);
  if (bad)
    {
      free (buf);
      snprintf (err, errlen, "%s: read error", path);
      return NULL;
    }
  float *m = npy_parse_matrix (buf, len, path, rows, cols, err, errlen);
  free (buf);
  return m;
}

int
npy_write_matrix (const char *path, const float *data, int rows, int cols,
                  char *err, size_t errlen)
{
  char dict[128];
  int n = snprintf (dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }",
                    rows, cols);
  // Pad so that 10 + header length is a multiple of 64, header ending in '\n'.
  int total = 10 + n + 1;
  int pad = (64 - total % 64) % 64;
  int hlen = n + pad + 1;
  FILE *f = fopen (path, "wb");
  if (!f)
    {
      snprintf (err, errlen, "%s: %s", path, strerror (errno));
      return -1;
    }
  unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                            (unsigned char) (hlen & 0xff), (unsigned char) (hlen >> 8) };
  fwrite (pre, 1, 10, f);
  fwrite (dict, 1, (size_t) n, f);
  for (int i = 0; i < pad; i++)
    fputc (' ', f);
  fputc ('\n', f);
  fwrite (data, sizeof (float), (size_t) rows * cols, f);
  if (fclose (f) != 0)
    {
      snprintf (err, errlen, "%s: write failed", path);
      return -1;
    }
  return 0;
}
