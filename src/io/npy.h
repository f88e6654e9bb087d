// SPDX-License-Identifier: GPL-3.0-or-later
//
// npy: reads and writes 2-D matrices in NumPy's .npy format (versions 1.0, 2.0, 3.0;
// little-endian float32 or float64, C order). The reader checks everything it relies on —
// magic, version, header length and syntax, dtype, fortran_order, shape, and that the
// payload is exactly rows × cols × itemsize bytes — and says which check failed.
#pragma once

#include <stddef.h>

// Reads path into a new float array [rows, cols] (float64 data is converted). Returns NULL
// with a message naming the file and the reason in err. Free with free().
float *npy_read_matrix (const char *path, int *rows, int *cols, char *err, size_t errlen);

// Parses an in-memory .npy image (same checks); `name` is used in messages.
float *npy_parse_matrix (const unsigned char *buf, size_t len, const char *name,
                         int *rows, int *cols, char *err, size_t errlen);

// Writes a float32 [rows, cols] C-order .npy (version 1.0). Returns 0 or −1 with err set.
int npy_write_matrix (const char *path, const float *data, int rows, int cols,
                      char *err, size_t errlen);
