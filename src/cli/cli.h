// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli: the sub-commands of `peac`, one per cli-<name>.c. Each takes argv with its own name
// in argv[0], prints results on stdout and errors (naming the file and the reason) on
// stderr, and returns the process exit status. Each is a parse step (parse_args, with
// peac_cli_getopt) that fills a plain options struct and returns −1 to go on or the exit
// status (0 after --help, 2 for a bad command line), then a run step that takes the struct.
#pragma once

#include <getopt.h>

// Shared start-up: locale, BLAS kernel selection (may re-exec the process), verbosity.
void peac_cli_init (int argc, char **argv);
// Seconds on the monotonic clock (for timing a command's stages).
double peac_cli_now_s (void);

int peac_cmd_info (int argc, char **argv);
int peac_cmd_convert (int argc, char **argv);
int peac_cmd_verify_reference (int argc, char **argv);
int peac_cmd_embed (int argc, char **argv);
int peac_cmd_bench (int argc, char **argv);
int peac_cmd_match (int argc, char **argv);
int peac_cmd_eval_landmarks (int argc, char **argv);
int peac_cmd_propagate (int argc, char **argv);
int peac_cmd_tsne (int argc, char **argv);
int peac_cmd_train (int argc, char **argv);
int peac_cmd_finetune (int argc, char **argv);
int peac_cmd_export (int argc, char **argv);
int peac_cmd_eval_reid (int argc, char **argv);

// The one option parser (cli-options.c): getopt_long over argv with shorts (without a
// leading ':') and longs. Returns the next option's val, or -1 once only positional
// arguments are left (from optind on), or '?' after printing on stderr why the argument is
// refused ("peac CMD: unknown option '--x' (see peac CMD --help)", "--x needs a value
// (METAVAR)", "--x takes no value"); the command then returns 2. metavars, if not NULL,
// names the value of each entry of longs. Set optind = 0 before the first call.
int peac_cli_getopt (const char *cmd, int argc, char **argv, const char *shorts,
                     const struct option *longs, const char *const *metavars);
