// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-csv-matrix: reads an N×D float matrix from comma-separated text (px-csv.h), the CSV
// input of `peac tsne --matrix`. Blank lines and lines starting with '#' are skipped;
// fields are trimmed and may be wrapped in single or double quotes (double-quoted ones
// may hold commas). The first row is a header when it holds text, except that a first
// row with exactly one text field that is not named label/class/name is data whose text
// column carries the labels; in a header, a column named label, class or name (any case)
// carries the labels. Every other field must
// be a finite number and every row must have the header's field count. Errors name the
// file, the line and the reason; nothing is returned half-read.
#pragma once

#include <stddef.h>

typedef struct {
  float *X;      // [N, D] row-major
  int    N, D;
  char **labels; // [N] or NULL when there is no label column
} PeacCsvMatrix;

// Reads path into m (zeroed first). Returns 0, or −1 with err set and m empty.
// 1 when the whole of s is a number strtod reads without overflow (stored in *v if v is
// not NULL), else 0: the field rule of the reader, for callers that parse alike.
int  peac_csv_number (const char *s, double *v);
int  peac_csv_read_matrix (const char *path, PeacCsvMatrix *m, char *err, size_t errlen);
void peac_csv_matrix_free (PeacCsvMatrix *m);
