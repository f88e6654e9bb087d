// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-init: process start-up shared by every sub-command (locale; BLAS kernel choice lands
// with the inference work).
#include <locale.h>
#include "cli.h"

void
peac_cli_init (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
}
