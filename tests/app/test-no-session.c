// SPDX-License-Identifier: GPL-3.0-or-later
//
// The app where a desktop session is missing: no settings schema installed (the binary run
// straight from the build tree) and no D-Bus session bus (a bare X server, a container).
// The schema is then the one the build compiled; a notification is dropped quietly, where
// GIO's own call prints criticals (checked in a child process, so the test shows that this
// environment really has no bus). The child process, which GIO's critical aborts, is given
// the parent's temporary folder and a $TMPDIR inside it, so nothing it makes outlives the
// run: the parent checks that the child left nothing there and removes the folder.
#include "config.h"

#include <glib/gstdio.h>

#include "px-application.h"
#include "px-test-util.h"

// Set by the parent for its child processes: the folder they share.
#define DIR_VARIABLE "PEAC_NO_SESSION_DIR"

static char *tmp_dir;
static char *child_tmp;

static void
test_schema_from_build (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) installed = NULL;
  g_autoptr(GSettings) settings = NULL;
  GSettingsSchema *schema;

  // Not installed here: the default source (no GSETTINGS_SCHEMA_DIR, empty data dirs) lacks it.
  if (source != NULL)
    installed = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  g_assert_null (installed);

  schema = px_settings_find_schema (NULL);
  g_assert_nonnull (schema);
  g_assert_cmpstr (g_settings_schema_get_id (schema), ==, APP_ID);
  settings = px_settings_new ();
  g_assert_nonnull (settings);
  // The schema's defaults (data/org.peac.Explorer.gschema.xml): identifiers hidden.
  g_assert_true (g_settings_get_boolean (settings, "privacy-mode"));
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), >, 0);
  g_settings_set_boolean (settings, "privacy-mode", FALSE);
  g_assert_false (g_settings_get_boolean (settings, "privacy-mode"));
}

static GApplication *
new_app (void)
{
  GApplication *app = g_application_new ("org.peac.Explorer.NoBusTest", G_APPLICATION_NON_UNIQUE);

  g_assert_true (g_application_register (app, NULL, NULL));
  g_assert_null (g_application_get_dbus_connection (app));
  return app;
}

static void
test_notification_without_bus (void)
{
  g_autoptr(GApplication) app = NULL;
  g_autoptr(GNotification) notification = g_notification_new ("Training finished");

  if (g_test_subprocess ())
    {
      // What the training page did before: GIO's call, straight.
      app = new_app ();
      g_application_send_notification (app, "training", notification);
      return;
    }
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_stderr ("*CRITICAL*");
  // The aborted child left no temporary folder behind (it used to make its own and never
  // reach the line that removed it).
  {
    g_autoptr(GDir) dir = g_dir_open (child_tmp, 0, NULL);
    const char *left;

    g_assert_nonnull (dir);
    left = g_dir_read_name (dir);
    if (left != NULL)
      g_error ("the child process left %s in its temporary folder %s", left, child_tmp);
  }

  app = new_app ();
  g_assert_false (px_send_notification (app, "training", notification));
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *empty = NULL;
  g_autofree char *bus = NULL;
  gboolean owner = FALSE;
  int ret;

  if (g_getenv (DIR_VARIABLE) == NULL)
    {
      tmp_dir = g_dir_make_tmp ("peac-no-session-XXXXXX", NULL);
      g_assert_nonnull (tmp_dir);
      child_tmp = g_build_filename (tmp_dir, "tmp", NULL);
      g_assert_cmpint (g_mkdir (child_tmp, 0700), ==, 0);
      // For the child processes g_test_trap_subprocess() starts: this folder, and any
      // temporary file they make goes inside it.
      g_setenv (DIR_VARIABLE, tmp_dir, TRUE);
      g_setenv ("TMPDIR", child_tmp, TRUE);
      owner = TRUE;
    }
  else
    tmp_dir = g_strdup (g_getenv (DIR_VARIABLE));
  empty = g_build_filename (tmp_dir, "share", NULL);
  g_assert_cmpint (g_mkdir_with_parents (empty, 0700), ==, 0);
  bus = g_strdup_printf ("unix:path=%s/no-bus", tmp_dir);
  // Before GLib reads them: no schema folder, data folders without schemas, a bus address
  // that leads nowhere, settings in memory.
  g_unsetenv ("GSETTINGS_SCHEMA_DIR");
  g_setenv ("XDG_DATA_DIRS", empty, TRUE);
  g_setenv ("XDG_DATA_HOME", empty, TRUE);
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", bus, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/no-session/schema-from-build", test_schema_from_build);
  g_test_add_func ("/no-session/notification-without-bus", test_notification_without_bus);
  ret = g_test_run ();

  // Only the process that made the folder removes it; a child leaves it to the parent.
  if (owner)
    {
      px_test_remove_tree (tmp_dir);
      g_assert_false (g_file_test (tmp_dir, G_FILE_TEST_EXISTS));
    }
  g_free (child_tmp);
  g_free (tmp_dir);
  return ret;
}
