// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-finetune: what the two files of `peac finetune` share — the parsed command line,
// a label file with its resolved images (Split), one model's results through the protocol
// (Row), the task (Task) — and the report of cli-finetune-report.c: the ROC figure, the
// CSV files, the JSON and the table.
#pragma once

#include <glib.h>

#include "finetune.h"
#include "model.h"
#include "px-labels.h"

enum { MODE_LINEAR = 0, MODE_FULL = 1 };

typedef struct {
  const char *model, *train, *val, *test, *images, *image_col, *labels, *out_dir, *save;
  const char **compare;
  int n_compare, compare_random;
  int mode, seeds, random_init, json, threads, quiet, bootstrap, hflip, views;
  int epochs, batch, patience;
  double fraction, lr, backbone_lr, wd, rotate, min_scale;
} FtArgs;

typedef struct {
  const char *file;   // the CSV
  const char *role;   // train, val or test
  PeacLabels  lab;
  char      **resolved; // [n] image paths that exist
} Split;

typedef struct {
  char   *name;
  char   *path;          // NULL: random init
  double *mean;          // [seeds] evaluation mean AUC
  double *cls;           // [seeds, k] per-class AUC
  int    *epochs;        // [seeds] epochs run
  double  ci_lo, ci_hi;  // bootstrap interval of seed 0
  double  embed_ms;      // per image (linear probe)
  double  train_s;       // per seed, mean
  float  *scores;        // [n_eval, k] seed 0
  GArray *loss0;         // double: the training loss of each epoch of seed 0
} Row;

typedef struct {
  const FtArgs *a;
  Split tr, va, te;
  const Split *ev;       // evaluation split: te when given, else va
  int k;
  PeacArch arch;
  char *layout, *config;
} Task;

// ROC curves of row r as a PNG. Returns 0 or −1 with err.
int  ft_write_roc_png (const char *path, const Task *t, const Row *r, char *err, size_t errlen);
// roc.csv and scores.csv in dir. Returns 0 or −1 after a message.
int  ft_write_csvs (const char *dir, const Task *t, const Row *rows, int nrows);
void ft_print_json (const Task *t, const Row *rows, int nrows);
void ft_print_table (const Task *t, const Row *rows, int nrows);
