// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-init: process start-up shared by every sub-command: the OpenBLAS kernel choice
// (which may re-exec the process before anything else runs, see blas-kernel.h), then the
// locale. `-v`/`--verbose` anywhere on the command line, or PEAC_VERBOSE=1, reports the
// kernel on stderr. Also the one monotonic clock the sub-commands time their stages with.
#include <locale.h>
#include <string.h>
#include <time.h>

#include "blas-kernel.h"
#include "cli.h"

void
peac_cli_init (int argc, char **argv)
{
  int verbose = 0;
  for (int i = 1; i < argc && strcmp (argv[i], "--") != 0; i++)
    verbose |= strcmp (argv[i], "-v") == 0 || strcmp (argv[i], "--verbose") == 0;
  peac_blas_select_kernel (argv, verbose);
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
}

double
peac_cli_now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
