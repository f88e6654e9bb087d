// SPDX-License-Identifier: GPL-3.0-or-later
//
// Opening files in PxWindow. Files opened by any route (file chooser, command line, drag
// and drop, recent files, folders) go through one queue that loads them one at a time in a
// worker (px-study.c), so the order on the command line is the order in the sidebar and a
// bad file only produces a toast; the failures of a batch are summed up in one toast with
// Details; in privacy mode the file names in them follow the sidebar's rule. A folder is
// scanned first (px-folder-scan.c). A map point asked for before its
// image is open is applied once the image has loaded.
#include "config.h"

#include <glib/gi18n.h>

#include "px-application.h"
#include "px-folder-scan.h"
#include "px-window-private.h"

static void pump_queue (PxWindow *self);

typedef struct
{
  GFile    *file;
  gboolean  from_folder; // failures are summed up, not toasted one by one
  PxWindow *window;      // set while the file loads
} PendingFile;

static void
pending_file_free (PendingFile *pending)
{
  g_object_unref (pending->file);
  g_clear_object (&pending->window);
  g_free (pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PendingFile, pending_file_free)

// The embedding map asked for a point of an image: that image becomes the correspondence
// page's source with the point as its query.
void
px_window_apply_focus (PxWindow *self,
                       PxStudy  *study)
{
  g_clear_object (&self->focus_file);
  px_correspondence_page_set_source (self->correspondence_page, study);
  adw_view_stack_set_visible_child_name (self->view_stack, "correspondence");
  px_correspondence_page_focus_point (self->correspondence_page, self->focus_x, self->focus_y);
}

int
px_window_find_study (PxWindow *self,
                      GFile    *file)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->studies));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PxStudy) study = g_list_model_get_item (G_LIST_MODEL (self->studies), i);

      if (g_file_equal (px_study_get_file (study), file))
        return (int) i;
    }
  return -1;
}

static void
add_to_recent (GFile *file)
{
  g_autofree char *uri = g_file_get_uri (file);
  g_autofree char *basename = g_file_get_basename (file);
  g_autofree char *mime = g_content_type_guess (basename, NULL, 0, NULL);
  GtkRecentData data = {
    .display_name = NULL,
    .description = NULL,
    .mime_type = mime,
    .app_name = (char *) PX_RECENT_APP_NAME,
    .app_exec = (char *) "peac-explorer %u",
    .groups = NULL,
    .is_private = FALSE,
  };

  gtk_recent_manager_add_full (gtk_recent_manager_get_default (), uri, &data);
}

// Error messages from the loaders name the file by its path; the toast names it by its
// display name already, so drop a leading "path: ".
static const char *
strip_path_prefix (const char *message,
                   GFile      *file)
{
  g_autofree char *path = g_file_get_path (file);

  if (path != NULL && g_str_has_prefix (message, path))
    {
      const char *rest = message + strlen (path);

      while (*rest == ':' || *rest == ' ')
        rest++;
      if (*rest != '\0')
        return rest;
    }
  return message;
}

/**
 * px_window_dup_shown_name:
 * @name: a file's name (or path) as a message would show it
 *
 * Returns: (transfer full): @name, or in privacy mode what the sidebar's rule
 *   (px_privacy_mask_name) makes of it with the headers of every open study: a file that
 *   could not be opened has no header of its own, but it may be named by a UID or by the
 *   patient of another image
 */
char *
px_window_dup_shown_name (PxWindow   *self,
                          const char *name)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->studies));
  g_autoptr(GPtrArray) studies = g_ptr_array_new_with_free_func (g_object_unref);

  if (!self->privacy)
    return g_strdup (name);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (studies, g_list_model_get_item (G_LIST_MODEL (self->studies), i));
  return px_privacy_mask_name (name, (PxStudy *const *) studies->pdata, studies->len);
}

// @text with every @name in it shown as px_window_dup_shown_name() shows it.
static char *
mask_in (PxWindow   *self,
         const char *text,
         const char *name)
{
  g_autofree char *shown = px_window_dup_shown_name (self, name);
  g_auto(GStrv) parts = NULL;

  if (*name == '\0' || g_str_equal (shown, name))
    return g_strdup (text);
  parts = g_strsplit (text, name, -1);
  return g_strjoinv (shown, parts);
}

static void
on_study_loaded (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PendingFile) pending = user_data;
  g_autoptr(PxWindow) self = g_steal_pointer (&pending->window);
  g_autoptr(PxStudy) study = NULL;
  g_autoptr(GError) error = NULL;

  study = px_study_load_finish (result, &error);
  self->load_in_flight = FALSE;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (study == NULL)
    {
      g_autofree char *name = g_file_get_basename (pending->file);
      g_autofree char *path = g_file_get_path (pending->file);
      g_autofree char *shown = px_window_dup_shown_name (self, name);
      g_autofree char *reason = mask_in (self, strip_path_prefix (error->message, pending->file),
                                         path != NULL ? path : name);
      g_autofree char *reason_shown = mask_in (self, reason, name);

      self->failures_from_folder |= pending->from_folder;
      g_ptr_array_add (self->failures,
                       /* Translators: the first %s is a file name, the second the reason */
                       g_strdup_printf (_("Could not open “%s”: %s"), shown, reason_shown));
    }
  else
    {
      g_list_store_append (self->studies, study);
      if (self->focus_file != NULL && g_file_equal (self->focus_file, px_study_get_file (study)))
        px_window_apply_focus (self, study);
      if (!pending->from_folder)
        add_to_recent (px_study_get_file (study));
      if (self->select_next)
        {
          self->select_next = FALSE;
          gtk_single_selection_set_selected (self->selection,
                                             g_list_model_get_n_items (G_LIST_MODEL (self->studies)) - 1);
        }
    }

  pump_queue (self);
}

static void
pump_queue (PxWindow *self)
{
  PendingFile *pending;

  while (!self->load_in_flight && (pending = g_queue_pop_head (&self->pending)))
    {
      int found = px_window_find_study (self, pending->file);

      // Opening a file that is already open shows it instead of adding a twin.
      if (found >= 0)
        {
          if (self->select_next)
            {
              self->select_next = FALSE;
              gtk_single_selection_set_selected (self->selection, found);
            }
          pending_file_free (pending);
          continue;
        }

      self->load_in_flight = TRUE;
      pending->window = g_object_ref (self);
      px_study_load_async (pending->file, self->cancellable, on_study_loaded, pending);
    }

  px_window_update_loading (self);
}

static void
enqueue_file (PxWindow *self,
              GFile    *file,
              gboolean  from_folder)
{
  PendingFile *pending = g_new0 (PendingFile, 1);

  pending->file = g_object_ref (file);
  pending->from_folder = from_folder;
  g_queue_push_tail (&self->pending, pending);
}

// A folder with nothing to open: what it held instead, and why each was passed over (the
// first few; the toast is not the place for a long list).
static char *
describe_skipped (PxWindow  *self,
                  GPtrArray *skipped)
{
  g_autoptr(GString) text = NULL;
  guint shown = MIN (skipped->len, 3);

  if (skipped->len == 0)
    return g_strdup (_("The folder contains no radiographs: it is empty (hidden files aside)"));
  text = g_string_new (NULL);
  g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE,
                                             "The folder contains no radiographs, only %u other entry: ",
                                             "The folder contains no radiographs, only %u other entries: ",
                                             skipped->len),
                          skipped->len);
  for (guint i = 0; i < shown; i++)
    {
      // "path: reason": the path as the privacy rule shows it.
      const char *entry = g_ptr_array_index (skipped, i), *colon = strstr (entry, ": ");
      g_autofree char *path = colon ? g_strndup (entry, colon - entry) : g_strdup (entry);
      g_autofree char *masked = mask_in (self, entry, path);

      g_string_append_printf (text, "%s%s", i > 0 ? "; " : "", masked);
    }
  if (skipped->len > shown)
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "; and %u more", "; and %u more",
                                               skipped->len - shown),
                            skipped->len - shown);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
on_folder_scanned (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PxWindow) self = user_data;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GError) error = NULL;

  files = px_folder_scan_finish (result, &skipped, &error);
  self->n_scans--;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (files == NULL)
    {
      /* Translators: %s is the reason a folder could not be read */
      g_autofree char *message = g_strdup_printf (_("Could not open the folder: %s"), error->message);
      px_window_show_error (self, message);
    }
  else if (files->len == 0)
    {
      g_autofree char *message = describe_skipped (self, skipped);
      px_window_show_error (self, message);
    }
  else
    for (guint i = 0; i < files->len; i++)
      enqueue_file (self, g_ptr_array_index (files, i), TRUE);

  pump_queue (self);
}

void
px_window_open_files (PxWindow  *self,
                      GFile    **files,
                      guint      n_files)
{
  g_return_if_fail (PX_IS_WINDOW (self));

  if (n_files == 0)
    return;

  self->select_next = TRUE;
  for (guint i = 0; i < n_files; i++)
    {
      if (g_file_query_file_type (files[i], G_FILE_QUERY_INFO_NONE, NULL) == G_FILE_TYPE_DIRECTORY)
        {
          self->n_scans++;
          px_folder_scan_async (files[i], self->cancellable, on_folder_scanned, g_object_ref (self));
        }
      else
        enqueue_file (self, files[i], FALSE);
    }
  pump_queue (self);
}

// The files still waiting to load are dropped (the window goes away).
void
px_window_clear_pending (PxWindow *self)
{
  g_queue_clear_full (&self->pending, (GDestroyNotify) pending_file_free);
}
