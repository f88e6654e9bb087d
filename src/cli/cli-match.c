// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-match: placeholder until the analysis work lands; refuses with exit status 2.
#include <stdio.h>
#include "cli.h"

int
peac_cmd_match (int argc, char **argv)
{
  fprintf (stderr, "peac match: not built yet\n");
  return 2;
}
