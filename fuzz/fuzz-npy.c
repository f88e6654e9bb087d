// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-npy: the .npy reader (npy.c) on arbitrary bytes, through both entry points: the
// in-memory parser and the file reader (the path embedders and landmark sets use). Both
// must agree; an accepted file gives a rows × cols matrix whose payload was in the input.
#include "fuzz.h"

#include <string.h>

#include "npy.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char err[512] = "", err2[512] = "";
  int rows = -1, cols = -1, rows2 = -1, cols2 = -1;
  float *m = npy_parse_matrix (data, size, "fuzz.npy", &rows, &cols, err, sizeof err);
  float *m2 = npy_read_matrix (fuzz_file (data, size), &rows2, &cols2, err2, sizeof err2);
  FUZZ_CHECK ((m == NULL) == (m2 == NULL));
  if (!m)
    {
      FUZZ_CHECK (strstr (err, "fuzz.npy") != NULL);
      FUZZ_CHECK (strstr (err2, "/proc/self/fd/") != NULL);
      return 0;
    }
  FUZZ_CHECK (rows >= 0 && cols >= 0 && rows == rows2 && cols == cols2);
  // float32 or float64 payload: at least 4 bytes per element were in the input.
  FUZZ_CHECK ((size_t) rows * (size_t) cols <= size / 4);
  size_t n = (size_t) rows * (size_t) cols;
  FUZZ_CHECK (n == 0 || memcmp (m, m2, n * sizeof *m) == 0);
  free (m);
  free (m2);
  return 0;
}
