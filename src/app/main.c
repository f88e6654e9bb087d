// SPDX-License-Identifier: GPL-3.0-or-later
//
// Entry point of the PEAC Explorer desktop app: sets up translations and runs
// PxApplication. Everything else lives in the peac-app library, which the tests link.
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "px-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PxApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  // Engine set-up that must happen before any window exists (e.g. choosing the BLAS
  // kernel from argv) goes here.

  app = px_application_new (APP_ID, G_APPLICATION_DEFAULT_FLAGS);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
