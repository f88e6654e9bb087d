// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-eval-reid: the scoring half of `peac eval-reid`, exposed so tests can feed it planted
// embeddings. Patient re-identification: each image is a query against every other image
// of the set, ranked by cosine similarity of pooled embeddings; top-k counts a query whose
// k nearest other images include one of the same patient.
#pragma once

typedef struct {
  int    n_images, n_patients;
  int    n_queries;            // images whose patient has at least one other image
  int    top1_hits, top5_hits;
  double top1, top5;           // hits / n_queries (0 when there is no query)
} PeacReidScore;

// emb [n, dim] row-major (any scale: rows are normalised inside; a zero row has cosine 0
// with everything), patient[n] any integer ids. Ties rank the lower index first.
// Returns 0, or −1 for n < 1, dim < 1 or out of memory.
int peac_reid_score (const float *emb, int n, int dim, const int *patient, PeacReidScore *out);
