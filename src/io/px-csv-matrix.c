// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-csv-matrix: the CSV matrix reader of `peac tsne --matrix` (px-csv-matrix.h has the
// format). Records come from px-csv; their fields are trimmed here, and the matrix and
// label arrays grow by doubling; any failure frees everything it allocated, so a caller
// never holds a partly read matrix. The input is untrusted: field and element counts are
// bounded before any size is computed from them.
#include "px-csv-matrix.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "px-csv.h"

enum {
  MAX_FIELDS = 65536,
  MAX_ELEMENTS = 1 << 30, // N·D floats: 4 GiB
};

static char *
trim (char *s)
{
  while (isspace ((unsigned char) *s))
    s++;
  char *e = s + strlen (s);
  while (e > s && isspace ((unsigned char) e[-1]))
    *--e = '\0';
  if (e - s >= 2 && ((s[0] == '"' && e[-1] == '"') || (s[0] == '\'' && e[-1] == '\'')))
    {
      e[-1] = '\0';
      s++;
    }
  return s;
}

int
peac_csv_number (const char *s, double *v)
{
  if (!*s)
    return 0;
  char *end;
  errno = 0;
  double x = strtod (s, &end);
  if (*end != '\0' || errno == ERANGE)
    return 0;
  if (v)
    *v = x;
  return 1;
}

// The whole file at path into *text (malloc'd). Returns 0 or −1 with err.
static int
read_text (const char *path, char **text, size_t *len, char *err, size_t errlen)
{
  FILE *fp = fopen (path, "rb");
  if (!fp)
    {
      snprintf (err, errlen, "%s: %s", path, strerror (errno));
      return -1;
    }
  size_t cap = 0, n = 0, got;
  char *buf = NULL;
  do
    {
      if (n == cap)
        {
          char *nb = cap < SIZE_MAX / 2 ? realloc (buf, cap = cap ? 2 * cap : 65536) : NULL;
          if (!nb)
            {
              snprintf (err, errlen, "%s: out of memory", path);
              free (buf), fclose (fp);
              return -1;
            }
          buf = nb;
        }
      got = fread (buf + n, 1, cap - n, fp);
      n += got;
    }
  while (got > 0);
  const int bad = ferror (fp);
  fclose (fp);
  if (bad)
    {
      snprintf (err, errlen, "%s: read error", path);
      free (buf);
      return -1;
    }
  *text = buf, *len = n;
  return 0;
}

static int
is_label_name (const char *s)
{
  return !strcasecmp (s, "label") || !strcasecmp (s, "class") || !strcasecmp (s, "name");
}

void
peac_csv_matrix_free (PeacCsvMatrix *m)
{
  if (m->labels)
    for (int i = 0; i < m->N; i++)
      free (m->labels[i]);
  free (m->labels);
  free (m->X);
  memset (m, 0, sizeof *m);
}

int
peac_csv_read_matrix (const char *path, PeacCsvMatrix *m, char *err, size_t errlen)
{
  memset (m, 0, sizeof *m);
  char *text = NULL;
  size_t len = 0;
  if (read_text (path, &text, &len, err, errlen) != 0)
    return -1;
  PxCsv *csv = px_csv_new (text, len, path);
  char **f = malloc (MAX_FIELDS * sizeof *f);
  size_t cap = 0;
  int lineno = 0, ncols = -1, label_col = -1, header_done = 0, D = 0, rc = -1, got;
  PxCsvRecord rec;
  if (!f || !csv)
    {
      snprintf (err, errlen, "%s: out of memory", path);
      goto out;
    }
  while ((got = px_csv_next (csv, &rec, err, errlen)) == 1)
    {
      lineno = rec.line;
      if (rec.n > MAX_FIELDS)
        {
          snprintf (err, errlen, "%s:%d: more than %d fields", path, lineno, MAX_FIELDS);
          goto out;
        }
      const int n = rec.n;
      for (int c = 0; c < n; c++)
        f[c] = trim (rec.fields[c]);
      if (n == 0 || (n == 1 && !*f[0]) || f[0][0] == '#')
        continue;
      if (!header_done)
        {
          header_done = 1;
          ncols = n;
          int numeric = 0, text_col = -1, named = -1;
          for (int c = 0; c < n; c++)
            {
              if (peac_csv_number (f[c], NULL))
                numeric++;
              else
                text_col = c;
              if (named < 0 && is_label_name (f[c]))
                named = c;
            }
          if (numeric < n)
            {
              if (numeric == n - 1 && named < 0)
                label_col = text_col; // a data row with a text label
              else
                {
                  label_col = named; // a header: skip it
                  D = ncols - (label_col >= 0);
                  if (D < 1)
                    {
                      snprintf (err, errlen, "%s:%d: no numeric columns", path, lineno);
                      goto out;
                    }
                  continue;
                }
            }
          D = ncols - (label_col >= 0);
          if (D < 1)
            {
              snprintf (err, errlen, "%s:%d: no numeric columns", path, lineno);
              goto out;
            }
        }
      if (n != ncols)
        {
          snprintf (err, errlen, "%s:%d: %d field%s where the first row has %d", path, lineno,
                    n, n == 1 ? "" : "s", ncols);
          goto out;
        }
      if ((size_t) m->N == cap)
        {
          size_t ncap = cap ? 2 * cap : 1024;
          if (ncap * (size_t) D > MAX_ELEMENTS)
            ncap = MAX_ELEMENTS / (size_t) D;
          if (ncap <= cap)
            {
              snprintf (err, errlen, "%s:%d: more than %d numbers in the matrix", path, lineno,
                        MAX_ELEMENTS);
              goto out;
            }
          float *nx = realloc (m->X, ncap * (size_t) D * sizeof *nx);
          if (nx)
            m->X = nx;
          char **nl = NULL;
          if (nx && label_col >= 0 && (nl = realloc (m->labels, ncap * sizeof *nl)))
            m->labels = nl;
          if (!nx || (label_col >= 0 && !nl))
            {
              snprintf (err, errlen, "%s:%d: out of memory", path, lineno);
              goto out;
            }
          cap = ncap;
        }
      float *row = m->X + (size_t) m->N * D;
      int d = 0;
      for (int c = 0; c < ncols; c++)
        {
          double v;
          if (c == label_col)
            continue;
          if (!peac_csv_number (f[c], &v) || !isfinite (v) || fabs (v) > 3.4028234663852886e38)
            {
              snprintf (err, errlen, "%s:%d: field %d ('%.40s') is not a finite number", path,
                        lineno, c + 1, f[c]);
              goto out;
            }
          row[d++] = (float) v;
        }
      if (label_col >= 0 && !(m->labels[m->N] = strdup (f[label_col])))
        {
          snprintf (err, errlen, "%s:%d: out of memory", path, lineno);
          goto out;
        }
      m->N++;
    }
  if (got < 0)
    goto out;
  if (m->N == 0)
    {
      snprintf (err, errlen, "%s: no data rows", path);
      goto out;
    }
  m->D = D;
  rc = 0;
out:
  if (rc != 0)
    peac_csv_matrix_free (m);
  free (f);
  px_csv_free (csv);
  free (text);
  return rc;
}
