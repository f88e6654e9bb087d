// SPDX-License-Identifier: GPL-3.0-or-later
//
// peac: the PEAC objective on a student backbone and its EMA teacher — any row of the
// backbone table (model.h): the terms act on the final token grid, G × G cells of
// S / G pixels (ViT: the patch; Swin: the last stage's stride, 32 px for patch 4 and four
// stages), and the crops are cut and paired on that lattice. A batch holds, per
// sample, the clean crop 1, the student's crop 1 (cells shuffled, or appearance-distorted),
// crop 2, the permutation and the grid pairing (views.h). The student runs on crop 1 and
// crop 2 as one batch of 2B with caches (the model's trainer); the teacher, in eval mode and
// without gradients, runs the inference forward on crop 2 and clean crop 1, so that each
// consistency term is taken in both directions: student(crop 1) ↔ teacher(crop 2) and
// student(crop 2) ↔ teacher(crop 1). Terms (per batch):
//   order     cross-entropy of Linear(D → G²) on each crop-1 token of shuffled samples,
//             the label being the token's original cell index;
//   restore   MSE between the clean crop 1 and the decoder's output on the student's
//             crop-1 tokens (Linear D → cell²·C per token = a 1×1 conv, pixel shuffle);
//   global    w_global · Σ_directions mean_samples ‖ŝ − t̂‖², ŝ, t̂ the L2-normalised
//             projector outputs (Linear–LN–ReLU–Linear–LN–ReLU–Linear, no final bias) of
//             the mean patch token; default w_global = 1e5/8192 (the reference code's 1e5
//             on an element mean over 8192 outputs);
//   local     w_local · Σ_directions mean over matched cells of unshuffled samples of
//             ‖ŝ − t̂‖² with a per-token projector of the same shape;
//   position  (w_position > 0 only) mean over every student token of both crops of
//             ‖Linear(D → 2)(token) − (y, x)‖², (y, x) ∈ [−1, 1]² the centre of the cell
//             the token shows in the whole training image (the crop's offset is known),
//             so that tokens come to know where in the chest they are — the cross-patient
//             counterpart of the order branch (issue 18). Off by default: the head
//             "position.*" exists only when w_position > 0.
// The teacher's backbone and heads follow the student by EMA with a momentum rising on a
// half cosine from momentum0 to 1. No printing, no global state.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "backbone.h"
#include "distort.h"
#include "model.h"
#include "params.h"
#include "rng.h"
#include "views.h"

typedef struct {
  int    proj_hidden;     // global projector: hidden width (1 .. PEAC_PROJ_MAX)
  int    proj_out;        //                   output width
  int    local_hidden;    // local (per-token) projector: hidden width
  int    local_out;       //                              output width
  double w_order, w_restore, w_global, w_local;
  double w_position;      // 0 (default): no position head
  // 0: the paper's local term (MSE of matched projections). τ > 0: dense InfoNCE at
  // temperature τ instead — the matched teacher cell is the positive, the other cells of
  // the same teacher crop are negatives (see peac-loss.h, docs/training.md).
  double local_temp;
  double p_shuffle;       // probability that a sample's crop 1 is cell-shuffled (0.5)
  int    max_shift;       // largest crop offset difference in cells
  // Pixels added to the side of the stored training image beyond (G + max_shift) cells,
  // 0 … cell − 1: the crop lattice's origin then falls uniformly in [0, jitter] (the
  // reference run's 0–15 px jitter of a 288² region inside a 303² image); 0 by default.
  int    jitter;
  // 1: the teacher sees the student's crop 1 when it was cell-shuffled (the reference
  // run's rule), else the clean crop 1 as always; 0 (default): always the clean crop 1.
  int    teacher_sees_shuffled;
  double momentum0;       // EMA momentum at step 0 (0.999), cosine to 1 at total_steps
  long   total_steps;
  PeacDistortConfig distort;
} PeacObjConfig;

// The largest projector width peac_objective_new accepts.
#define PEAC_PROJ_MAX 65536

// Defaults for a model: both projectors 2·D hidden, D out (the reference uses 8192 global,
// 512 local), crops shifted by up to half the grid, distortions sized for the input.
void peac_obj_defaults (PeacObjConfig *c, const PeacModelSpec *m);

// One batch of B samples, crops of side S = G·cell with C = 3 channels, normalised.
typedef struct {
  int    B, G, cell, S;
  float *x1, *x1s, *x2;   // [B, 3, S, S]: clean crop 1, the student's crop 1, crop 2
  int   *shuffled;        // [B]
  int   *perm;            // [B, G²]: token i of x1s shows crop-1 cell perm[i] (identity if not shuffled)
  int   *pair;            // [B, G²]: crop-1 cell i ↔ crop-2 cell pair[i] or −1
  // [2, B, G², 2]: for the student's token i of crop k (1: as shuffled) of sample b, the
  // centre (y, x) of the cell it shows in the whole image, scaled to [−1, 1] (the
  // position term's targets, in the order of the student's rows [x1s ; x2]).
  float *where;
} PeacBatch;

int  peac_batch_alloc (PeacBatch *b, int B, int G, int cell);
void peac_batch_free (PeacBatch *b);
// Fills sample k of the batch from a grey image [h, w] in [0, 1]: crop pair, pairing,
// shuffle (probability p_shuffle) or distortions, normalisation (PEAC mean/std), 3
// channels. Returns 0, or −1 when the image is too small for G + max_shift cells.
int  peac_batch_fill (PeacBatch *b, int k, const float *grey, int h, int w,
                      const PeacObjConfig *c, PeacRng *rng);

typedef struct {
  double order, restore, global, local, total;
  double position;        // 0 without the position head
  int    n_shuffled, n_matched;
} PeacLossTerms;

typedef struct PeacObjective PeacObjective;

// Student and teacher backbones of architecture arch, layout (NULL = the row's default) and
// `peac.config` JSON (weights initialised from seed, teacher = student), heads for crops of
// the configured image size, batches of up to B samples. NULL with err, also when the
// token grid does not tile the input in square cells.
PeacObjective *peac_objective_new (PeacArch arch, const char *layout, const char *config_json,
                                   const PeacObjConfig *c, int B, uint64_t seed, char *err,
                                   size_t errlen);
void           peac_objective_free (PeacObjective *o);
// The student's parameters: backbone (the row's canonical names) and heads ("order.*",
// "decoder.*", "proj_global.*", "proj_local.*", and "position.*" with w_position > 0), with gradients and the teacher's copies
// mirroring them.
PeacModel     *peac_objective_student (PeacObjective *o);
PeacModel     *peac_objective_teacher (PeacObjective *o);
// The token grid side G and its cell in pixels (batches are made with these).
int            peac_objective_grid (const PeacObjective *o);
int            peac_objective_cell (const PeacObjective *o);
PeacParams    *peac_objective_heads (PeacObjective *o, int teacher);
// One flat view for the optimiser: the gradient arrays of backbone and heads.
float         *peac_objective_grads (PeacObjective *o, int heads);
// Forward and backward of the objective on a batch: zeroes then fills the gradients of
// the student's backbone and heads; returns the total loss and its terms (NaN, with
// nothing computed, for a batch larger than the objective's or of another grid).
double         peac_objective_step (PeacObjective *o, const PeacBatch *b, PeacLossTerms *t);
// EMA of the teacher after optimiser step `step` (0-based): returns the momentum used.
double         peac_objective_ema (PeacObjective *o, long step);
double         peac_ema_momentum (const PeacObjConfig *c, long step);
