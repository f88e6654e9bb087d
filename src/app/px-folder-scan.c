// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-folder-scan walks a folder tree in a GTask worker and returns the files worth
// trying to open, sorted by path; px_folder_check_async() then opens each once in a
// worker and splits them into the usable and the unreadable (with the reason). A file qualifies when its content sniffs as PNG, JPEG
// or DICOM, or when its extension says it should be one: those that then fail to load
// are reported to the user instead of vanishing silently. Symbolic links are followed; a
// folder already entered (a link loop) is not entered again. Hidden entries are passed
// over; every other entry that is not taken is listed with the reason.
#include "config.h"

#include <fcntl.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "px-image.h"
#include "px-folder-scan.h"

#define MAX_DEPTH 32
#define SNIFF_BYTES 132 // DICOM's "DICM" magic sits at offset 128

static const char * const radiograph_suffixes[] = {
  ".png", ".jpg", ".jpeg", ".dcm", ".dicom", ".dic",
};

/**
 * px_file_is_radiograph_candidate:
 * @path: a local file
 *
 * Returns: whether @path looks like something PEAC Explorer opens, by content or name
 */
gboolean
px_file_is_radiograph_candidate (const char *path)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);
  guint8 head[SNIFF_BYTES];
  ssize_t n;
  int fd;

  for (guint i = 0; i < G_N_ELEMENTS (radiograph_suffixes); i++)
    if (g_str_has_suffix (lower, radiograph_suffixes[i]))
      return TRUE;

  if ((fd = open (path, O_RDONLY | O_CLOEXEC)) < 0)
    return FALSE;
  n = read (fd, head, sizeof head);
  close (fd);
  return n > 0 && px_image_sniff_format (head, (gsize) n) != PX_FORMAT_UNKNOWN;
}

typedef struct {
  GFile      *root;     // the folder scanned
  GPtrArray  *found;    // GFile
  GPtrArray  *skipped;  // char *, "name: reason"
  GHashTable *visited;  // "device:inode" of the folders entered, against link loops
} Scan;

static void
scan_free (Scan *scan)
{
  g_clear_object (&scan->root);
  g_clear_pointer (&scan->found, g_ptr_array_unref);
  g_clear_pointer (&scan->skipped, g_ptr_array_unref);
  g_clear_pointer (&scan->visited, g_hash_table_unref);
  g_free (scan);
}

static void
skip (Scan       *scan,
      GFile      *file,
      const char *reason)
{
  g_autofree char *path = g_file_get_relative_path (scan->root, file);

  if (path == NULL)
    path = g_file_get_basename (file);
  g_ptr_array_add (scan->skipped, g_strdup_printf ("%s: %s", path, reason));
}

// Whether @folder was entered before (through another path or a link to a folder above).
static gboolean
seen_before (Scan      *scan,
             GFileInfo *info)
{
  char *key = g_strdup_printf ("%u:%" G_GUINT64_FORMAT,
                               g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_UNIX_DEVICE),
                               g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_UNIX_INODE));

  return !g_hash_table_add (scan->visited, key);
}

#define SCAN_ATTRIBUTES G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE "," \
                        G_FILE_ATTRIBUTE_STANDARD_IS_HIDDEN "," G_FILE_ATTRIBUTE_STANDARD_IS_SYMLINK "," \
                        G_FILE_ATTRIBUTE_UNIX_DEVICE "," G_FILE_ATTRIBUTE_UNIX_INODE

// Symbolic links are followed (to files and to folders); a folder already entered is not
// entered again, so a link loop ends the walk there.
static void
scan_folder (Scan         *scan,
             GFile        *folder,
             guint         depth,
             GCancellable *cancellable)
{
  g_autoptr(GFileEnumerator) enumerator = NULL;
  g_autoptr(GError) error = NULL;
  GFileInfo *info;
  GFile *child;

  if (depth > MAX_DEPTH)
    {
      skip (scan, folder, _("folders nested too deep"));
      return;
    }

  enumerator = g_file_enumerate_children (folder, SCAN_ATTRIBUTES, G_FILE_QUERY_INFO_NONE,
                                          cancellable, &error);
  if (enumerator == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        skip (scan, folder, error->message);
      return;
    }

  while (g_file_enumerator_iterate (enumerator, &info, &child, cancellable, NULL) && info)
    {
      if (g_file_info_get_is_hidden (info))
        continue;

      switch (g_file_info_get_file_type (info))
        {
        case G_FILE_TYPE_DIRECTORY:
          if (seen_before (scan, info))
            skip (scan, child, _("a link to a folder already searched (a loop)"));
          else
            scan_folder (scan, child, depth + 1, cancellable);
          break;

        case G_FILE_TYPE_REGULAR:
          {
            g_autofree char *path = g_file_get_path (child);

            if (path != NULL && px_file_is_radiograph_candidate (path))
              g_ptr_array_add (scan->found, g_object_ref (child));
            else
              skip (scan, child, _("not a PNG, JPEG or DICOM file"));
          }
          break;

        case G_FILE_TYPE_SYMBOLIC_LINK:
          skip (scan, child, _("a symbolic link to nothing"));
          break;

        default:
          skip (scan, child, _("not a regular file"));
          break;
        }
    }
}

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  g_autofree char *pa = g_file_get_path (*(GFile **) a);
  g_autofree char *pb = g_file_get_path (*(GFile **) b);

  return g_strcmp0 (pa, pb);
}

static void
scan_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Scan *scan = g_new0 (Scan, 1);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  GFile *folder = task_data;

  // Query first so that an unreadable folder is an error, not an empty result.
  info = g_file_query_info (folder, SCAN_ATTRIBUTES, G_FILE_QUERY_INFO_NONE, cancellable, &error);
  if (info == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      scan_free (scan);
      return;
    }

  scan->root = g_object_ref (folder);
  scan->found = g_ptr_array_new_with_free_func (g_object_unref);
  scan->skipped = g_ptr_array_new_with_free_func (g_free);
  scan->visited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  seen_before (scan, info);
  scan_folder (scan, folder, 0, cancellable);
  if (g_task_return_error_if_cancelled (task))
    {
      scan_free (scan);
      return;
    }

  g_ptr_array_sort (scan->found, compare_paths);
  g_ptr_array_sort (scan->skipped, (GCompareFunc) g_strcmp0);
  g_task_return_pointer (task, scan, (GDestroyNotify) scan_free);
}

void
px_folder_scan_async (GFile               *folder,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (G_IS_FILE (folder));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, px_folder_scan_async);
  g_task_set_task_data (task, g_object_ref (folder), g_object_unref);
  g_task_run_in_thread (task, scan_thread);
}

/**
 * px_folder_scan_finish:
 * @skipped: (out) (optional) (transfer full) (element-type utf8): "path: reason" of every
 *   entry that was not taken (hidden ones aside), the path relative to the folder, sorted
 *
 * Returns: (transfer full) (element-type GFile): the candidate files, sorted by path
 */
GPtrArray *
px_folder_scan_finish (GAsyncResult  *result,
                       GPtrArray    **skipped,
                       GError       **error)
{
  Scan *scan;
  GPtrArray *found;

  g_return_val_if_fail (G_IS_TASK (result), NULL);
  scan = g_task_propagate_pointer (G_TASK (result), error);
  if (scan == NULL)
    return NULL;
  found = g_steal_pointer (&scan->found);
  if (skipped != NULL)
    *skipped = g_steal_pointer (&scan->skipped);
  scan_free (scan);
  return found;
}

static void
check_result_free (gpointer data)
{
  GPtrArray **arrays = data;

  g_ptr_array_unref (arrays[0]);
  g_ptr_array_unref (arrays[1]);
  g_free (arrays);
}

// Worker: opens every candidate once; what fails is listed with its reason.
static void
check_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GPtrArray *files = task_data;
  GPtrArray **result = g_new0 (GPtrArray *, 2);

  result[0] = g_ptr_array_new_with_free_func (g_free);
  result[1] = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < files->len && !g_cancellable_is_cancelled (cancellable); i++)
    {
      g_autofree char *path = g_file_get_path (g_ptr_array_index (files, i));
      g_autoptr(GError) error = NULL;
      g_autoptr(PxImage) image = px_image_load (path, &error);

      if (image != NULL)
        g_ptr_array_add (result[0], g_steal_pointer (&path));
      else
        g_ptr_array_add (result[1], g_strdup (error->message));
    }
  if (g_task_return_error_if_cancelled (task))
    check_result_free (result);
  else
    g_task_return_pointer (task, result, check_result_free);
}

/**
 * px_folder_check_async:
 * @files: (element-type GFile): what px_folder_scan_finish() found
 *
 * Opens each of @files once in a worker, to tell the usable from the unreadable.
 */
void
px_folder_check_async (GPtrArray           *files,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, px_folder_check_async);
  g_task_set_task_data (task, g_ptr_array_ref (files), (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (task, check_thread);
}

/**
 * px_folder_check_finish:
 * @usable: (out) (transfer full): paths of the files that opened
 * @unreadable: (out) (transfer full): "path: reason" of those that did not
 *
 * Returns: %FALSE when cancelled
 */
gboolean
px_folder_check_finish (GAsyncResult  *result,
                        GPtrArray    **usable,
                        GPtrArray    **unreadable)
{
  GPtrArray **arrays = g_task_propagate_pointer (G_TASK (result), NULL);

  if (arrays == NULL)
    return FALSE;
  *usable = arrays[0];
  *unreadable = arrays[1];
  g_free (arrays);
  return TRUE;
}
