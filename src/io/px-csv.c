// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-csv: the CSV reader of px-csv.h, a small state machine over the text that copies
// each record's fields into one growing buffer (fields end in NUL there) and keeps an
// array of field starts. The input is untrusted: sizes grow by doubling with overflow
// checks, and a NUL byte in the text is refused rather than cutting a field short.
#include "px-csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct PxCsv {
  const char *p, *end;
  const char *file;
  int line;
  char *buf;              // this record's fields, each NUL-terminated
  size_t len, cap;
  size_t *starts;         // offsets of the fields in buf
  char **fields;
  int n, fcap;
};

PxCsv *
px_csv_new (const char *text, size_t len, const char *file)
{
  PxCsv *r = calloc (1, sizeof *r);
  if (!r)
    return NULL;
  r->p = text, r->end = text + len, r->file = file ? file : "(text)", r->line = 1;
  if (len >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0)
    r->p += 3;
  return r;
}

void
px_csv_free (PxCsv *r)
{
  if (!r)
    return;
  free (r->buf), free (r->starts), free (r->fields);
  free (r);
}

static int
put (PxCsv *r, char c)
{
  if (r->len == r->cap)
    {
      size_t ncap = r->cap ? 2 * r->cap : 256;
      char *nb = ncap > r->cap ? realloc (r->buf, ncap) : NULL;
      if (!nb)
        return -1;
      r->buf = nb, r->cap = ncap;
    }
  r->buf[r->len++] = c;
  return 0;
}

static int
begin_field (PxCsv *r)
{
  if (r->n == r->fcap)
    {
      int ncap = r->fcap ? 2 * r->fcap : 16;
      size_t *ns = ncap > r->fcap && (size_t) ncap < SIZE_MAX / sizeof *ns
                   ? realloc (r->starts, (size_t) ncap * sizeof *ns) : NULL;
      if (!ns)
        return -1;
      r->starts = ns, r->fcap = ncap;
    }
  r->starts[r->n++] = r->len;
  return 0;
}

// Consumes a line break at r->p (LF, CRLF or CR) if there is one.
static int
eat_newline (PxCsv *r)
{
  if (r->p < r->end && *r->p == '\r')
    {
      r->p++;
      if (r->p < r->end && *r->p == '\n')
        r->p++;
      r->line++;
      return 1;
    }
  if (r->p < r->end && *r->p == '\n')
    {
      r->p++;
      r->line++;
      return 1;
    }
  return 0;
}

int
px_csv_next (PxCsv *r, PxCsvRecord *rec, char *err, size_t errlen)
{
  r->len = 0, r->n = 0;
  if (r->p >= r->end)
    return 0;
  const int start = r->line;
  if (eat_newline (r))
    {
      *rec = (PxCsvRecord) { NULL, 0, start };  // an empty line: no fields
      return 1;
    }
  for (;;)
    {
      // One field.
      if (begin_field (r) != 0)
        goto oom;
      int quoted = r->p < r->end && *r->p == '"', open = quoted;
      if (quoted)
        r->p++;
      while (r->p < r->end)
        {
          const char c = *r->p;
          if (c == '\0')
            {
              snprintf (err, errlen, "%s:%d: a NUL byte in the text", r->file, r->line);
              return -1;
            }
          if (open && c == '"')
            {
              if (r->p + 1 < r->end && r->p[1] == '"')
                {
                  if (put (r, '"') != 0)
                    goto oom;
                  r->p += 2;
                  continue;
                }
              open = 0, r->p++;
              continue;
            }
          if (!open && (c == ',' || c == '\n' || c == '\r'))
            break;
          if (c == '\n' || (c == '\r' && !(r->p + 1 < r->end && r->p[1] == '\n')))
            r->line++;
          if (put (r, c) != 0)
            goto oom;
          r->p++;
        }
      if (open)
        {
          snprintf (err, errlen, "%s:%d: a quoted field is not closed before the end of the file",
                    r->file, start);
          return -1;
        }
      if (put (r, '\0') != 0)
        goto oom;
      if (r->p < r->end && *r->p == ',')
        {
          r->p++;
          continue;
        }
      eat_newline (r);
      break;
    }
  char **nf = realloc (r->fields, (size_t) r->n * sizeof *nf);
  if (!nf)
    goto oom;
  r->fields = nf;
  for (int i = 0; i < r->n; i++)
    r->fields[i] = r->buf + r->starts[i];
  *rec = (PxCsvRecord) { r->fields, r->n, start };
  return 1;
oom:
  snprintf (err, errlen, "%s:%d: out of memory", r->file, start);
  return -1;
}

void
px_csv_write_field (FILE *f, const char *s)
{
  if (!strpbrk (s, ",\"\r\n"))
    {
      fputs (s, f);
      return;
    }
  fputc ('"', f);
  for (const char *p = s; *p; p++)
    {
      if (*p == '"')
        fputc ('"', f);
      fputc (*p, f);
    }
  fputc ('"', f);
}
