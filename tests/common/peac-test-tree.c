// SPDX-License-Identifier: GPL-3.0-or-later
//
// peac-test-tree: the file-system helpers of the CLI tests — a path under ../shared/data or
// ../shared/reference (the test fails naming it when it is missing) and removal of a
// temporary folder tree. Its own object
// file in the helper library, so that tests which only need these do not pull in the engine.
#include <glib.h>
#include <glib/gstdio.h>

#include "peac-test-cli.h"

void
peac_test_remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (path, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        peac_test_remove_tree (p);
      else
        g_unlink (p);
    }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

// $PEAC_SHARED_DIR/top/rel; a missing fixture fails the test loudly: a skip would hide it
// (the project's rule).
static char *
shared_under (const char *top,
              const char *rel)
{
  const char *shared = g_getenv ("PEAC_SHARED_DIR");
  char *p = shared ? g_build_filename (shared, top, rel, NULL) : NULL;
  if (!p || !g_file_test (p, G_FILE_TEST_EXISTS))
    g_error ("shared %s missing: %s (tests read ../shared/%s in place; PEAC_SHARED_DIR "
             "is %s)", top, p ? p : rel, top, shared ? shared : "unset");
  return p;
}

char *
peac_test_shared_path (const char *rel)
{
  return shared_under ("data", rel);
}

char *
peac_test_reference_path (const char *name)
{
  return shared_under ("reference", name);
}
