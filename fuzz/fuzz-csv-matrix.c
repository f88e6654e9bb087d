// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-csv-matrix: the CSV matrix reader of `peac tsne --matrix` (csv-matrix.c) on
// arbitrary bytes, through a file as the command reads it. An accepted matrix has N ≥ 1
// rows of D ≥ 1 finite numbers and, if it has labels, one string per row; a refusal names
// the file and leaves nothing allocated.
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include "px-csv-matrix.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_file (data, size);
  PeacCsvMatrix m;
  char err[512] = "";
  if (peac_csv_read_matrix (path, &m, err, sizeof err) != 0)
    {
      FUZZ_CHECK (strstr (err, path) != NULL);
      FUZZ_CHECK (m.X == NULL && m.labels == NULL && m.N == 0);
      return 0;
    }
  FUZZ_CHECK (m.N >= 1 && m.D >= 1 && m.D <= 65536);
  for (size_t e = 0; e < (size_t) m.N * m.D; e++)
    FUZZ_CHECK (isfinite (m.X[e]));
  if (m.labels)
    for (int i = 0; i < m.N; i++)
      FUZZ_CHECK (m.labels[i] != NULL && strchr (m.labels[i], ',') == NULL);
  peac_csv_matrix_free (&m);
  return 0;
}
