// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-embed: placeholder until the engine work lands; refuses with exit status 2.
#include <stdio.h>
#include "cli.h"

int
peac_cmd_embed (int argc, char **argv)
{
  fprintf (stderr, "peac embed: not built yet\n");
  return 2;
}
