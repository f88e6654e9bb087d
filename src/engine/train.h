// SPDX-License-Identifier: GPL-3.0-or-later
//
// train: a PEAC training session that a CLI or a GUI worker drives. It owns the objective
// (student, EMA teacher, heads), two optimisers (backbone and heads, clipped by their
// joint gradient norm), the sampling rng and the step count; it draws batches from
// caller-supplied grey images, reports each step through a callback, stops when an abort
// flag is raised or the loss turns non-finite (without applying that step), and saves and
// resumes checkpoints bit-exactly (weights of both branches, heads, optimiser moments,
// rng state and step, in one safetensors file written atomically), together with a run
// description the caller owns (data folders, thread count: JSON text kept verbatim). It
// also scores held-out images with the same objective and no update. No globals, no
// printing, no signals: the caller maps those onto the abort flag.
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "optim.h"
#include "peac.h"

typedef struct {
  PeacModelSpec model;   // any backbone row; checkpoints store its canonical config
  PeacObjConfig obj;
  PeacOptConfig opt;     // total_steps is the run's length and the LR schedule's end; the
                         // EMA's is obj.total_steps (0: the same)
  int           batch;
  uint64_t      seed;
} PeacTrainConfig;

// Grey images in [0, 1], owned by the caller for the session's lifetime.
typedef struct {
  const float *px;
  int          w, h;
} PeacGrey;

typedef struct {
  long          step, total_steps; // step = steps completed
  PeacLossTerms loss;
  double        lr, momentum, grad_norm;
} PeacTrainProgress;

typedef void (*PeacTrainProgressFn) (void *user, const PeacTrainProgress *p);

typedef enum {
  PEAC_TRAIN_DONE = 0,     // reached total_steps
  PEAC_TRAIN_ABORTED = 1,  // abort flag seen (between steps)
  PEAC_TRAIN_NAN = 2,      // non-finite loss or gradient: the step was not applied
  PEAC_TRAIN_ERROR = 3,
} PeacTrainStatus;

typedef struct PeacTrainSession PeacTrainSession;

// Defaults for a model: AdamW lr 5e-4 wd 0.05, 10% warm-up, batch 8, clip 3.
void              peac_train_defaults (PeacTrainConfig *c, const PeacModelSpec *model,
                                       long steps);
// The side of the stored training images a configuration crops from: (G + max_shift)
// cells plus the jitter.
int               peac_train_image_side (const PeacTrainConfig *c);
// A new session with freshly initialised weights. Images must each hold at least
// peac_train_image_side pixels per side (without the jitter). NULL with err.
PeacTrainSession *peac_train_new (const PeacTrainConfig *c, const PeacGrey *images, int n,
                                  char *err, size_t errlen);
void              peac_train_free (PeacTrainSession *s);
// Runs until total_steps, the abort flag (checked before each step; may be NULL) or a
// non-finite loss. cb may be NULL.
PeacTrainStatus   peac_train_run (PeacTrainSession *s, PeacTrainProgressFn cb, void *user,
                                  const atomic_int *abort_flag, char *err, size_t errlen);
long              peac_train_step_count (const PeacTrainSession *s);
PeacObjective    *peac_train_objective (PeacTrainSession *s);
// Atomic checkpoint: teacher.* and student.* backbones (the row's canonical names and
// its default layout, so that `peac embed` loads the teacher), teacher_head.* / student_head.*, optim.* moments, and the session state
// in the `peac.train` metadata. Returns 0 or −1 with err.
int               peac_train_save (PeacTrainSession *s, const char *path, char *err,
                                   size_t errlen);
// The configuration of a checkpoint written by peac_train_save (model, objective,
// optimiser, batch, seed), its step and rng. Returns 0, or −1 with err naming the file.
int               peac_train_read_config (const char *path, PeacTrainConfig *c, long *step,
                                          PeacRng *rng, char *err, size_t errlen);
// A session continuing from a checkpoint written by peac_train_save, with the images
// given here; the configuration comes from the file. end_step > 0 moves the run's end
// there (after the checkpoint's step and the warm-up): the LR's cosine is refitted to end
// at it; the teacher's EMA schedule is kept when the run is shortened and stretched with
// it when lengthened. NULL with err.
PeacTrainSession *peac_train_resume (const char *path, const PeacGrey *images, int n,
                                     long end_step, char *err, size_t errlen);
const PeacTrainConfig *peac_train_config (const PeacTrainSession *s);
// The configuration as indented JSON text for people (malloc'd; 15 significant digits):
// "arch" and "model" (the backbone row's name and its `peac.config` keys), "batch",
// "seed", "objective" (with "distort") and "optimiser" — the keys of the checkpoint's
// `peac.train` state, which holds them at full precision.
char             *peac_train_config_json (const PeacTrainConfig *c);
// The checkpoint's `peac.train` state: the configuration without the model, the step and the
// rng, compact, doubles at full precision (malloc'd).
char             *peac_train_state_json (const PeacTrainConfig *c, long step, const PeacRng *rng);
// Parses such a state (untrusted text: every integer range-checked) into c's objective,
// optimiser, batch and seed (c->model untouched), *step and *rng. A state without the local
// projector's widths gets the global ones (older checkpoints). 0, or −1 if it is not one.
int               peac_train_state_parse (PeacTrainConfig *c, long *step, PeacRng *rng,
                                          const char *text);
// The caller's run description (JSON text, copied; NULL clears it): saved as the
// checkpoint's `peac.run` metadata and restored by peac_train_resume. NULL when none.
void              peac_train_set_run_info (PeacTrainSession *s, const char *json);
const char       *peac_train_run_info (const PeacTrainSession *s);
// Held-out loss: every image once, in batches of the session's batch size (the last one
// smaller), crops drawn from an rng seeded with `seed` alone, so that every call sees the
// same crops; the student and teacher as they are, no update, no change to anything a
// later step reads (sampling rng, moments, weights). *mean is the terms averaged over the
// images (each batch weighted by its size). Returns 0, or −1 with err.
int               peac_train_evaluate (PeacTrainSession *s, const PeacGrey *images, int n,
                                       uint64_t seed, PeacLossTerms *mean, char *err,
                                       size_t errlen);
