// SPDX-License-Identifier: GPL-3.0-or-later
//
// csv-matrix: the CSV matrix reader of `peac tsne --matrix` (csv-matrix.h has the format).
// It reads line by line with getline, splits each line in place, and grows the matrix
// and label arrays by doubling; any failure frees everything it allocated, so a caller
// never holds a partly read matrix. The input is untrusted: field and element counts are
// bounded before any size is computed from them.
#include "csv-matrix.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

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

// Splits a line in place into at most cap fields; returns the count (or cap + 1 if more).
static int
split (char *line, char **f, int cap)
{
  int n = 0;
  char *s = line;
  for (;;)
    {
      char *c = strchr (s, ',');
      if (n == cap)
        return cap + 1;
      if (c)
        *c = '\0';
      f[n++] = trim (s);
      if (!c)
        return n;
      s = c + 1;
    }
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
  FILE *fp = fopen (path, "r");
  if (!fp)
    {
      snprintf (err, errlen, "%s: %s", path, strerror (errno));
      return -1;
    }
  char **f = malloc (MAX_FIELDS * sizeof *f);
  char *line = NULL;
  size_t lcap = 0, cap = 0;
  int lineno = 0, ncols = -1, label_col = -1, header_done = 0, D = 0, rc = -1;
  if (!f)
    {
      snprintf (err, errlen, "%s: out of memory", path);
      goto out;
    }
  while (getline (&line, &lcap, fp) >= 0)
    {
      lineno++;
      char *t = trim (line);
      if (!*t || *t == '#')
        continue;
      int n = split (t, f, MAX_FIELDS);
      if (n > MAX_FIELDS)
        {
          snprintf (err, errlen, "%s:%d: more than %d fields", path, lineno, MAX_FIELDS);
          goto out;
        }
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
  if (ferror (fp))
    {
      snprintf (err, errlen, "%s: read error", path);
      goto out;
    }
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
  free (line);
  fclose (fp);
  return rc;
}
