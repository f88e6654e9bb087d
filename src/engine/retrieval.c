// SPDX-License-Identifier: GPL-3.0-or-later
//
// retrieval: landmark ranks by cosine similarity (see retrieval.h). Both sets are
// normalised into one scratch copy and scored with one sgemm [n, n]; each query's rank is
// counted from its row.
#include "retrieval.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

int
peac_retrieval_ranks (const float *q, const float *k, int n, int dim, int *ranks)
{
  if (n < 1 || dim < 1)
    return -1;
  const size_t rows = (size_t) n * dim;
  float *buf = malloc ((2 * rows + (size_t) n * n) * sizeof *buf);
  if (!buf)
    return -1;
  float *qn = buf, *kn = buf + rows, *sim = buf + 2 * rows;
  memcpy (qn, q, rows * sizeof *qn);
  memcpy (kn, k, rows * sizeof *kn);
  peac_normalise_rows (qn, n, dim);
  peac_normalise_rows (kn, n, dim);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, n, dim, 1.0f, qn, dim, kn, dim,
               0.0f, sim, n);
  for (int i = 0; i < n; i++)
    {
      const float *row = sim + (size_t) i * n, own = row[i];
      int r = 0;
      for (int j = 0; j < n; j++)
        r += j != i && row[j] >= own;
      ranks[i] = r;
    }
  free (buf);
  return 0;
}
