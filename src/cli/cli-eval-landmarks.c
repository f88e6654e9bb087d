// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-eval-landmarks: placeholder until the analysis work lands; refuses with exit status 2.
#include <stdio.h>
#include "cli.h"

int
peac_cmd_eval_landmarks (int argc, char **argv)
{
  fprintf (stderr, "peac eval-landmarks: not built yet\n");
  return 2;
}
