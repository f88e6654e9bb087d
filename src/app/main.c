// SPDX-License-Identifier: GPL-3.0-or-later
//
// Entry point of the PEAC Explorer desktop app: sets up translations and runs
// PxApplication. Everything else lives in the peac-app library, which the tests link.
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "blas-kernel.h"
#include "px-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PxApplication) app = NULL;

  // Before anything else: OpenBLAS picks its kernel in a library constructor, so a better
  // one can only be had by re-executing this process (see blas-kernel.h).
  peac_blas_select_kernel (argv, 0);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = px_application_new (APP_ID, G_APPLICATION_DEFAULT_FLAGS);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
