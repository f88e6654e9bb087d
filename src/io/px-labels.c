// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-labels: label tables for downstream tasks from CSV text (see px-labels.h). The text
// is split into records by px-csv (RFC 4180 quoting); the header picks the image, split
// and class columns; every kept row is checked (image path present, each class value exactly 0 or 1) and errors
// name the file, the line and the column. Seeded label-fraction subsets live here too.
#include "px-labels.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "px-csv.h"
#include "rng.h"

typedef struct {
  char **f;
  int    n, cap;
  int    line;   // line on which the record starts
} Record;

static void
rec_free (Record *r)
{
  for (int i = 0; i < r->n; i++)
    free (r->f[i]);
  free (r->f);
  *r = (Record) { 0 };
}

static int
rec_push (Record *r, const char *s, size_t len)
{
  if (r->n == r->cap)
    {
      int cap = r->cap ? 2 * r->cap : 16;
      char **f = realloc (r->f, (size_t) cap * sizeof *f);
      if (!f)
        return -1;
      r->f = f, r->cap = cap;
    }
  char *c = malloc (len + 1);
  if (!c)
    return -1;
  memcpy (c, s, len);
  c[len] = 0;
  r->f[r->n++] = c;
  return 0;
}

// The next record of r that holds fields (blank lines are skipped) as a copy in rec.
// Returns 1, 0 at the end of the text, or −1 with err (an unclosed quote; out of memory).
static int
next_record (PxCsv *r, Record *rec, char *err, size_t errlen)
{
  PxCsvRecord c;
  int got;
  while ((got = px_csv_next (r, &c, err, errlen)) == 1 && c.n == 0)
    ;
  if (got != 1)
    return got;
  rec->line = c.line;
  for (int i = 0; i < c.n; i++)
    if (rec_push (rec, c.fields[i], strlen (c.fields[i])) != 0)
      {
        snprintf (err, errlen, "out of memory");
        return -1;
      }
  return 1;
}

static int
find_col (const Record *h, const char *name)
{
  for (int i = 0; i < h->n; i++)
    if (strcasecmp (h->f[i], name) == 0)
      return i;
  return -1;
}

// Columns that hold bookkeeping, never a label, even when their values happen to be 0/1.
static int
is_bookkeeping (const char *name)
{
  static const char *const skip[] = { "id", "patient_id", "followup", "follow_up", "width",
                                       "height", "orig_width", "orig_height", "age", "view",
                                       NULL };
  for (int i = 0; skip[i]; i++)
    if (strcasecmp (name, skip[i]) == 0)
      return 1;
  size_t l = strlen (name);
  return l > 3 && strcasecmp (name + l - 3, "_id") == 0;
}

static int
is01 (const char *s, float *v)
{
  while (isspace ((unsigned char) *s))
    s++;
  size_t l = strlen (s);
  while (l && isspace ((unsigned char) s[l - 1]))
    l--;
  if (l == 1 && (s[0] == '0' || s[0] == '1'))
    return *v = (float) (s[0] - '0'), 1;
  if (l == 3 && (strncmp (s, "0.0", 3) == 0 || strncmp (s, "1.0", 3) == 0))
    return *v = (float) (s[0] - '0'), 1;
  return 0;
}

static int
split_matches (const char *want, const char *have)
{
  if (strcasecmp (want, have) == 0)
    return 1;
  return strcasecmp (want, "val") == 0
         && (strcasecmp (have, "valid") == 0 || strcasecmp (have, "validation") == 0);
}

void
peac_labels_free (PeacLabels *l)
{
  if (!l)
    return;
  for (int i = 0; i < l->n && l->paths; i++)
    free (l->paths[i]);
  for (int i = 0; i < l->k && l->names; i++)
    free (l->names[i]);
  free (l->paths), free (l->names), free (l->y), free (l->line);
  *l = (PeacLabels) { 0 };
}

int
peac_labels_parse (PeacLabels *out, const char *text, const char *file, const char *image_col,
                   const char *classes, const char *split, char *err, size_t errlen)
{
  *out = (PeacLabels) { 0 };
  Record hdr = { 0 }, *rows = NULL;
  int nrows = 0, caprows = 0, rc = -1;
  int *cls = NULL;
  PxCsv *csv = px_csv_new (text, strlen (text), file);
  if (!csv)
    goto oom;

  int got = next_record (csv, &hdr, err, errlen);
  if (got == 0)
    snprintf (err, errlen, "%s: empty file: no header line", file);
  if (got <= 0)
    goto out;
  for (;;)
    {
      if (nrows == caprows)
        {
          caprows = caprows ? 2 * caprows : 64;
          Record *nr = realloc (rows, (size_t) caprows * sizeof *nr);
          if (!nr)
            {
              snprintf (err, errlen, "%s: out of memory", file);
              goto out;
            }
          rows = nr;
        }
      rows[nrows] = (Record) { 0 };
      got = next_record (csv, &rows[nrows], err, errlen);
      if (got < 0)
        {
          rec_free (&rows[nrows]);
          goto out;
        }
      if (got == 0)
        break;
      if (rows[nrows].n != hdr.n)
        {
          snprintf (err, errlen, "%s:%d: %d fields where the header has %d", file,
                    rows[nrows].line, rows[nrows].n, hdr.n);
          nrows++;
          goto out;
        }
      nrows++;
    }

  // The image column.
  int img = -1;
  if (image_col)
    {
      if ((img = find_col (&hdr, image_col)) < 0)
        {
          snprintf (err, errlen, "%s: no column '%s' for the image paths", file, image_col);
          goto out;
        }
    }
  else
    {
      static const char *const names[] = { "image", "path", "file", "filename", "image_path",
                                           NULL };
      for (int i = 0; names[i] && img < 0; i++)
        img = find_col (&hdr, names[i]);
      if (img < 0)
        {
          snprintf (err, errlen, "%s: no image column (image, path, file, filename or "
                    "image_path); name it with the image column option", file);
          goto out;
        }
    }
  int spl = find_col (&hdr, "split");
  if (spl < 0)
    spl = find_col (&hdr, "official_split");

  // The class columns.
  cls = malloc ((size_t) hdr.n * sizeof *cls);
  int k = 0;
  if (!cls)
    goto oom;
  if (classes)
    {
      const char *c = classes;
      while (*c)
        {
          const char *e = strchr (c, ',');
          size_t len = e ? (size_t) (e - c) : strlen (c);
          int found = -1;
          for (int i = 0; i < hdr.n && found < 0; i++)
            if (strlen (hdr.f[i]) == len && strncasecmp (hdr.f[i], c, len) == 0)
              found = i;
          if (found < 0 || found == img || found == spl)
            {
              snprintf (err, errlen, "%s: unknown label column '%.*s'", file, (int) len, c);
              goto out;
            }
          if (k < hdr.n)
            cls[k++] = found;
          c = e ? e + 1 : c + len;
        }
    }
  else
    {
      for (int i = 0; i < hdr.n; i++)
        {
          if (i == img || i == spl || is_bookkeeping (hdr.f[i]) || nrows == 0)
            continue;
          int all = 1;
          float v;
          for (int r = 0; r < nrows && all; r++)
            all = is01 (rows[r].f[i], &v);
          if (all)
            cls[k++] = i;
        }
    }
  if (k == 0)
    {
      snprintf (err, errlen, "%s: no label column (0/1 values in every row)", file);
      goto out;
    }

  // Rows of the split, checked.
  out->k = k;
  out->names = calloc ((size_t) k, sizeof *out->names);
  out->paths = calloc ((size_t) (nrows ? nrows : 1), sizeof *out->paths);
  out->y = malloc ((size_t) (nrows ? nrows : 1) * k * sizeof *out->y);
  out->line = malloc ((size_t) (nrows ? nrows : 1) * sizeof *out->line);
  if (!out->names || !out->paths || !out->y || !out->line)
    goto oom;
  for (int c = 0; c < k; c++)
    if (!(out->names[c] = strdup (hdr.f[cls[c]])))
      goto oom;
  for (int r = 0; r < nrows; r++)
    {
      const Record *row = &rows[r];
      if (split && spl >= 0 && !split_matches (split, row->f[spl]))
        continue;
      if (!row->f[img][0])
        {
          snprintf (err, errlen, "%s:%d: empty image path in column '%s'", file, row->line,
                    hdr.f[img]);
          goto out;
        }
      for (int c = 0; c < k; c++)
        if (!is01 (row->f[cls[c]], &out->y[(size_t) out->n * k + c]))
          {
            snprintf (err, errlen, "%s:%d: column '%s' is '%.40s', not 0 or 1", file,
                      row->line, hdr.f[cls[c]], row->f[cls[c]]);
            goto out;
          }
      if (!(out->paths[out->n] = strdup (row->f[img])))
        goto oom;
      out->line[out->n++] = row->line;
    }
  if (out->n == 0)
    {
      snprintf (err, errlen, "%s: no rows%s%s", file, split && spl >= 0 ? " in split " : "",
                split && spl >= 0 ? split : "");
      goto out;
    }
  rc = 0;
  goto out;
oom:
  snprintf (err, errlen, "%s: out of memory", file);
out:
  if (rc != 0)
    peac_labels_free (out);
  for (int r = 0; r < nrows; r++)
    rec_free (&rows[r]);
  free (rows);
  rec_free (&hdr);
  free (cls);
  px_csv_free (csv);
  return rc;
}

int
peac_labels_subset (int n, double fraction, uint64_t seed, int *idx)
{
  int m = (int) (fraction * n + 0.5);
  if (m < 1)
    m = 1;
  if (m > n)
    m = n;
  // Partial Fisher–Yates over 0…n−1, then the chosen m sorted back into row order.
  int *perm = malloc ((size_t) n * sizeof *perm);
  unsigned char *take = calloc ((size_t) n, 1);
  if (!perm || !take)
    {
      free (perm), free (take);
      for (int i = 0; i < m; i++)
        idx[i] = i;
      return m;
    }
  for (int i = 0; i < n; i++)
    perm[i] = i;
  PeacRng r;
  peac_rng_seed (&r, seed);
  for (int i = 0; i < m; i++)
    {
      int j = i + (int) (peac_rng_u64 (&r) % (uint64_t) (n - i));
      int t = perm[i];
      perm[i] = perm[j], perm[j] = t;
      take[perm[i]] = 1;
    }
  int c = 0;
  for (int i = 0; i < n; i++)
    if (take[i])
      idx[c++] = i;
  free (perm), free (take);
  return c;
}
