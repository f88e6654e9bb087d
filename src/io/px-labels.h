// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-labels: label tables for downstream tasks (peac finetune, the app's probe page) from
// CSV text read with px-csv.h: an image column and 0/1 columns, an optional split column,
// with errors that name the file, line and column; and seeded label-fraction subsets.
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct {
  int    n, k;
  char **paths;   // [n] image paths as written in the CSV
  char **names;   // [k] class (column) names
  float *y;       // [n, k] 0 or 1
  int   *line;    // [n] line of each row in the file (1 = header)
} PeacLabels;

// Parses CSV text (RFC 4180 quoting). image_col NULL: the first of image, path, file,
// filename, image_path (any case). classes NULL: every column (other than the image and
// split columns and id/size/follow-up bookkeeping) whose values are all 0 or 1 in every
// row; otherwise a comma-separated list, each of which must exist and hold only 0 or 1.
// split NULL keeps every row; "train", "val" or "test" keeps the rows whose `split` or
// `official_split` column says so (val also matches valid/validation) and every row if
// the file has no such column. Errors name `file`, the line and the column.
int  peac_labels_parse (PeacLabels *out, const char *text, const char *file,
                        const char *image_col, const char *classes, const char *split,
                        char *err, size_t errlen);
void peac_labels_free (PeacLabels *l);
// A seeded subset of round(fraction·n) rows (at least 1), in increasing row order, into
// idx[n]; returns its size.
int  peac_labels_subset (int n, double fraction, uint64_t seed, int *idx);
