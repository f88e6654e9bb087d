// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-bench: placeholder until the engine-swin work lands; refuses with exit status 2.
#include <stdio.h>
#include "cli.h"

int
peac_cmd_bench (int argc, char **argv)
{
  fprintf (stderr, "peac bench: not built yet\n");
  return 2;
}
