// SPDX-License-Identifier: GPL-3.0-or-later
//
// io-test-util: small helpers the io and cli tests share, header-only: temp folders that are
// removed afterwards, writing and truncating files, and asserting that a load failed with an
// error that names the file. Shared data is found with peac_test_shared_path()
// (tests/common/peac-test-cli.h), which fails the test when it is missing.
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "px-image.h"

static inline char *
io_test_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("peac-io-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

// Removes a flat temp folder made by io_test_tmpdir and frees its name.
static inline void
io_test_rmdir (char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d != NULL)
    {
      while ((name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *p = g_build_filename (dir, name, NULL);
          g_remove (p);
        }
      g_dir_close (d);
    }
  g_rmdir (dir);
  g_free (dir);
}

static inline char *
io_test_write (const char *dir, const char *name, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, data, (gssize) len, &error);
  g_assert_no_error (error);
  return path;
}

// Asserts that loading @path fails with a PX_IMAGE_ERROR whose message names the file.
// Returns the error code.
static inline int
io_test_expect_failure (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PxImage) image = px_image_load (path, &error);

  if (image != NULL)
    g_error ("%s loaded (%dx%d) but should have failed", path, image->width, image->height);
  g_assert_nonnull (error);
  g_assert_true (error->domain == PX_IMAGE_ERROR);
  if (strstr (error->message, path) == NULL)
    g_error ("error message does not name the file %s: %s", path, error->message);
  return error->code;
}

static inline PxImage *
io_test_load_ok (const char *path)
{
  g_autoptr (GError) error = NULL;
  PxImage *image = px_image_load (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (image);
  return image;
}
