// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-info: placeholder until the io work lands; refuses with exit status 2.
#include <stdio.h>
#include "cli.h"

int
peac_cmd_info (int argc, char **argv)
{
  fprintf (stderr, "peac info: not built yet\n");
  return 2;
}
