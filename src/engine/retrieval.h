// SPDX-License-Identifier: GPL-3.0-or-later
//
// retrieval: does an embedding tell anatomy apart on its own? Given two images' embeddings
// of the same n landmarks (row k of both sets = landmark k), each landmark of the first is
// looked up among all n of the second by cosine similarity; its rank is how many of the
// second's landmarks score at least as high as its own partner, less one (0: the partner
// is the nearest; a tie counts against). No search over the image is involved, so it
// measures the embedding alone (issue 18's landmark_retrieval figure). No allocation
// beyond one scratch array per call; no global state.
#pragma once

// ranks[n] for queries q [n, dim] against keys k [n, dim]. Zero rows have cosine 0 with
// everything. Returns 0, or −1 when n < 1, dim < 1 or out of memory.
int peac_retrieval_ranks (const float *q, const float *k, int n, int dim, int *ranks);
