// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-train: what the files of `peac train` share — the parsed command line (a training
// configuration plus the run's own options: data, output, log, threads), the option table
// that parses it and prints --help, the data loader (folders walked
// recursively, unusable files reported and skipped) and the CSV loss log.
#pragma once

#include <stdio.h>

#include <glib.h>

#include "presets.h"
#include "train.h"

#define TRAIN_MAX_OPTS 64

typedef union {
  double   d;
  long     l;
  uint64_t u;
} TrainValue;

typedef struct {
  // Hyper-parameters: the configuration of a new run (refused with --resume).
  unsigned char given[TRAIN_MAX_OPTS]; // per option of the table: given on the command line
  TrainValue    value[TRAIN_MAX_OPTS]; // its parsed value (configuration fields)
  char      *preset;        // a name of the engine's registry (presets.h)
  char      *config_json;   // --config: configuration keys over the preset's
  long       steps;
  const char *hyper_name;   // the first configuration option given (for --resume)
  // The run.
  GPtrArray *data;          // --data and positional paths, as given
  char      *val;           // --val
  long       val_every;     // 0: only at the end
  char      *out, *log, *resume;
  int        threads, threads_given;
  long       save_every, log_every, stop_after;
  int        quiet, print_config, help;
} TrainArgs;

void  train_args_init (TrainArgs *a);
void  train_args_clear (TrainArgs *a);
// Parses argv[1..] into a. Returns 0, or 2 after printing a message naming the option.
int   train_args_parse (TrainArgs *a, int argc, char **argv);
// Defaults for the model and steps, then every configuration option given on the command
// line.
void  train_args_apply (TrainArgs *a, const PeacModelSpec *model, PeacTrainConfig *c);
void  train_usage (FILE *to);
// Whether option `name` (e.g. "--val-every") was given.
int   train_args_given (const TrainArgs *a, const char *name);

// Data: the image files under paths (folders recursively, sorted; files given are always
// tried). Unreadable paths are reported on stderr as "skipped PATH: reason".
GPtrArray *train_collect (GPtrArray *paths);
// Loads each file as a grey [side, side] image in [0, 1]; undecodable files are reported
// as "skipped FILE: reason". Returns the number loaded into *out (malloc'd).
int        train_load (GPtrArray *files, int side, PeacGrey **out);
void       train_images_free (PeacGrey *g, int n);

// The CSV log: one row per step (step,total,order,restore,global,local,lr,grad_norm,
// momentum,epoch,val_total,val_order,val_restore,val_global,val_local,position).
typedef struct {
  FILE *f;
  int   columns;            // rows are cut to the header's column count (an older log)
} TrainLog;

// Opens path: a new file with the header, or (resume) the existing log with its rows after
// `step` dropped, for appending. Returns 0 or −1 with err.
int   train_log_open (TrainLog *l, const char *path, int resume, long step, char *err,
                      size_t errlen);
void  train_log_row (TrainLog *l, const PeacTrainProgress *p, double epoch,
                     const PeacLossTerms *val);
void  train_log_close (TrainLog *l);
