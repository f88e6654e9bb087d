// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-eval-reid: the scoring half of `peac eval-reid`, exposed so tests can feed it planted
// embeddings. Patient re-identification: each image is a query against every other image
// of the set, ranked by cosine similarity of pooled embeddings; top-k counts a query whose
// k nearest other images include one of the same patient. The paired, patient-level
// bootstrap of `--bootstrap`: the model's and random init's top-1 hits on the same
// queries, patients drawn with replacement, give intervals for both and their difference.
#pragma once

#include <stdint.h>

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
// The same, with per image hit1[i] / hit5[i] (1 hit, 0 miss, −1 not a query) when not NULL.
int peac_reid_score_ex (const float *emb, int n, int dim, const int *patient, PeacReidScore *out,
                        int *hit1, int *hit5);

typedef struct {
  double diff;          // mean over queries of hit_a − hit_b (= top-1 of a minus b)
  double diff_ci[2];    // 2.5 % and 97.5 % quantiles over the resamples
  double a_ci[2], b_ci[2];
} PeacReidBootstrap;

// hit_a, hit_b [n] as peac_reid_score_ex's hit1 on the same images (queries where both are
// ≥ 0). Each of reps resamples draws as many patients as have queries, with replacement,
// and takes every query of each drawn patient (a patient's images are not independent).
// Returns 0, or −1 when there is no query, reps < 1 or out of memory.
int peac_reid_bootstrap (const int *hit_a, const int *hit_b, const int *patient, int n,
                         int reps, uint64_t seed, PeacReidBootstrap *out);
