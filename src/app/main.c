// SPDX-License-Identifier: GPL-3.0-or-later
//
// Entry point of the PEAC Explorer desktop app: sets up translations, makes sure the
// settings schema can be found, and runs PxApplication. Everything else lives in the peac-app library, which the tests link.
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
  g_autoptr(GError) error = NULL;

  // Before anything else: OpenBLAS picks its kernel in a library constructor, so a better
  // one can only be had by re-executing this process (see blas-kernel.h).
  peac_blas_select_kernel (argv, 0);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  // Installed, or the build tree's when run uninstalled; neither: one line, not an abort.
  if (px_settings_find_schema (&error) == NULL)
    {
      g_printerr ("peac-explorer: %s\n", error->message);
      return 1;
    }

  app = px_application_new (APP_ID, G_APPLICATION_DEFAULT_FLAGS);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
