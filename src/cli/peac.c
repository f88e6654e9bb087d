// SPDX-License-Identifier: GPL-3.0-or-later
//
// peac: the headless face of the engine. This file only dispatches to one
// `peac_cmd_<name>` per sub-command (each in its own cli-<name>.c) and picks the right
// OpenBLAS kernel before any GEMM runs.
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} PeacCommand;

static const PeacCommand commands[] = {
  { "info", peac_cmd_info, "Print format, size, bits, spacing and key tags of radiographs" },
  { "convert", peac_cmd_convert, "Write decoded radiographs as PNG, NumPy .npy or PGM" },
  { "verify-reference", peac_cmd_verify_reference, "Check the engine against a PyTorch fixture" },
  { "embed", peac_cmd_embed, "Compute token grids and pooled embeddings of radiographs" },
  { "bench", peac_cmd_bench, "Benchmark forward passes against PyTorch" },
  { "match", peac_cmd_match, "Find the cells of other radiographs that match a point" },
  { "eval-landmarks", peac_cmd_eval_landmarks, "Score landmark correspondence against baselines" },
  { "propagate", peac_cmd_propagate, "Carry the landmarks of annotated references onto radiographs" },
  { "tsne", peac_cmd_tsne, "Map embeddings to 2-D with t-SNE" },
  { "train", peac_cmd_train, "Train a ViT with the PEAC objective (student + EMA teacher)" },
  { "finetune", peac_cmd_finetune, "Linear probe or fine-tune on labelled radiographs (ROC AUC)" },
  { "export", peac_cmd_export, "Write one backbone of a checkpoint as a model file (F16)" },
  { "eval-reid", peac_cmd_eval_reid, "Score patient re-identification with pooled embeddings" },
};

static void
usage (FILE *to)
{
  fprintf (to, "Usage: peac COMMAND [OPTIONS] ARGS...\n\nCommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf (to, "  %-18s %s\n", commands[i].name, commands[i].summary);
  fprintf (to, "\nRun 'peac COMMAND --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  peac_cli_init (argc, argv);
  // Over a file-size limit, write() then fails with EFBIG and the error names the file,
  // instead of the default SIGXFSZ killing the process mid-save.
  signal (SIGXFSZ, SIG_IGN);

  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("peac %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  fprintf (stderr, "peac: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}
