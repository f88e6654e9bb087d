// SPDX-License-Identifier: GPL-3.0-or-later
//
// The Linear Probe page's inputs, read in its worker: where a label CSV's image paths lead
// (the images folder the user chose, then beside the CSV and in its parents, as
// `peac finetune --images` looks), and a labelled folder (one subfolder of radiographs per
// finding) written out as the same CSV text.
#include "config.h"

#include <glib/gi18n.h>

#include "px-export.h"
#include "px-folder-scan.h"
#include "px-probe-labels.h"

// g_ptr_array_sort hands its function pointers to the elements, not the strings.
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

// A relative image path in the images folder when one is given, else beside the CSV or in
// one of its three nearest parents (as `peac finetune --images` looks).
char *
px_probe_resolve_image (GFile      *csv,
                        GFile      *images,
                        const char *path)
{
  g_autoptr(GFile) dir = g_file_get_parent (csv);

  if (g_path_is_absolute (path))
    return g_file_test (path, G_FILE_TEST_IS_REGULAR) ? g_strdup (path) : NULL;
  if (images != NULL)
    {
      g_autoptr(GFile) f = g_file_resolve_relative_path (images, path);
      g_autofree char *p = g_file_get_path (f);

      if (p != NULL && g_file_test (p, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&p);
    }
  for (int up = 0; up < 4 && dir != NULL; up++)
    {
      g_autoptr(GFile) f = g_file_resolve_relative_path (dir, path);
      g_autofree char *p = g_file_get_path (f);
      GFile *parent;

      if (p != NULL && g_file_test (p, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&p);
      parent = g_file_get_parent (dir);
      g_object_unref (dir);
      dir = parent;
    }
  return NULL;
}

// Radiographs directly inside dir, sorted by name, appended to files.
static void
list_radiographs (const char *dir,
                  GPtrArray  *files)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && px_file_is_radiograph_candidate (path))
        g_ptr_array_add (files, g_steal_pointer (&path));
    }
}

// A labelled folder as label CSV text: image (absolute path), then one column per
// subfolder (sorted), 1 in the column of the image's subfolder. NULL with error when
// fewer than two subfolders hold radiographs.
char *
px_probe_folder_labels (const char  *root,
                        GError     **error)
{
  g_autoptr(GDir) d = g_dir_open (root, 0, error);
  g_autoptr(GPtrArray) classes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) cls = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GString *csv;
  const char *name;

  if (d == NULL)
    return NULL;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *sub = g_build_filename (root, g_ptr_array_index (names, i), NULL);
      guint before = rows->len;

      if (!g_file_test (sub, G_FILE_TEST_IS_DIR))
        continue;
      list_radiographs (sub, rows);
      if (rows->len == before)
        continue;
      for (guint r = before; r < rows->len; r++)
        g_array_append_val (cls, classes->len);
      g_ptr_array_add (classes, g_strdup (g_ptr_array_index (names, i)));
    }
  if (classes->len < 2)
    {
      g_autofree char *base = g_path_get_basename (root);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s: a labelled folder needs at least two subfolders of radiographs, one per finding"),
                   base);
      return NULL;
    }
  csv = g_string_new ("image");
  for (guint c = 0; c < classes->len; c++)
    {
      g_string_append_c (csv, ',');
      px_export_csv_field (csv, g_ptr_array_index (classes, c));
    }
  g_string_append_c (csv, '\n');
  for (guint r = 0; r < rows->len; r++)
    {
      px_export_csv_field (csv, g_ptr_array_index (rows, r));
      for (guint c = 0; c < classes->len; c++)
        g_string_append (csv, c == (guint) g_array_index (cls, int, r) ? ",1" : ",0");
      g_string_append_c (csv, '\n');
    }
  return g_string_free (csv, FALSE);
}
