// SPDX-License-Identifier: GPL-3.0-or-later
//
// The correspondence page's Save Landmarks as a user meets it: a folder chooser whose
// button says "Save Here"; a name typed as a file (landmarks.json) read as the folder it
// was typed in, the empty folder the chooser may have made of it removed again; existing
// landmark files replaced only after asking; and a toast that says where the files went.
// The files themselves are written by px_correspondence_page_save_landmarks().
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "px-export.h"
#include "px-landmark-save.h"
#include "px-window.h"

static void
show_toast (PxCorrespondencePage *page,
            const char           *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (page));

  if (PX_IS_WINDOW (root))
    px_window_show_toast (PX_WINDOW (root), message);
  else
    g_message ("%s", message);
}

static gboolean
is_empty_folder (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);

  return dir != NULL && g_dir_read_name (dir) == NULL;
}

/**
 * px_landmark_save_resolve_folder:
 * @chosen: what the folder chooser returned
 *
 * A folder is itself. A name ending in ".json" that is not a folder with files in it was
 * typed as a file name: the landmark files go into the folder it was typed in (an empty
 * folder of that name, which the chooser makes on accepting, is removed). A file that is
 * not JSON is refused.
 *
 * Returns: (transfer full) (nullable): the folder to save into, or %NULL with @error
 */
char *
px_landmark_save_resolve_folder (const char  *chosen,
                                 GError     **error)
{
  g_autofree char *base = g_path_get_basename (chosen);
  g_autofree char *lower = g_ascii_strdown (base, -1);
  gboolean json = g_str_has_suffix (lower, ".json");

  if (json && (is_empty_folder (chosen) || !g_file_test (chosen, G_FILE_TEST_IS_DIR)))
    {
      if (g_file_test (chosen, G_FILE_TEST_IS_DIR))
        g_rmdir (chosen);
      return g_path_get_dirname (chosen);
    }
  if (g_file_test (chosen, G_FILE_TEST_IS_DIR))
    return g_strdup (chosen);
  if (g_file_test (chosen, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                   _("%s is a file, not a folder: landmarks are saved as one file per radiograph into a folder"),
                   chosen);
      return NULL;
    }
  return g_strdup (chosen);
}

static void
save (PxCorrespondencePage *page,
      const char           *folder)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = px_correspondence_page_dup_landmark_file_names (page);
  g_autofree char *message = NULL;
  guint n = g_strv_length (names);

  if (g_mkdir_with_parents (folder, 0755) != 0 ||
      !px_correspondence_page_save_landmarks (page, folder, &error))
    {
      if (error == NULL)
        /* Translators: %s is a folder */
        message = g_strdup_printf (_("Could not create the folder %s"), folder);
      else
        message = g_strdup (error->message);
      show_toast (page, message);
      return;
    }
  /* Translators: %u is a count, %s a folder */
  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Saved %u landmark file to %s",
                                          "Saved %u landmark files to %s", n), n, folder);
  show_toast (page, message);
}

static void
on_replace_response (AdwMessageDialog *dialog,
                     const char       *response,
                     gpointer          data)
{
  PxCorrespondencePage *page = data;
  const char *folder = g_object_get_data (G_OBJECT (dialog), "px-folder");

  if (g_str_equal (response, "replace"))
    save (page, folder);
  g_object_unref (page);
}

/**
 * px_landmark_save_to:
 * @chosen: the folder (or the file name) the user chose
 *
 * Saves the landmark files of every panel into the folder @chosen names, asking first when
 * that would replace files already there; a toast reports where they went, or why not.
 */
void
px_landmark_save_to (PxCorrespondencePage *page,
                     const char           *chosen)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = px_landmark_save_resolve_folder (chosen, &error);
  g_auto(GStrv) names = NULL;
  g_autoptr(GString) existing = g_string_new (NULL);
  g_autofree char *body = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (page));
  GtkWidget *dialog;
  guint n_existing = 0;

  if (folder == NULL)
    {
      show_toast (page, error->message);
      return;
    }
  names = px_correspondence_page_dup_landmark_file_names (page);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (folder, names[i], NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_string_append_printf (existing, "%s%s", n_existing > 0 ? ", " : "", names[i]);
          n_existing++;
        }
    }
  if (n_existing == 0)
    {
      save (page, folder);
      return;
    }

  body = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE,
                   /* Translators: the first %s is a folder, the second a list of file names */
                   "%s already holds %s. Replacing it loses the points it has now.",
                   "%s already holds %s. Replacing them loses the points they have now.",
                   n_existing),
      folder, existing->str);
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   g_dngettext (GETTEXT_PACKAGE, "Replace the Landmark File?",
                                                "Replace the Landmark Files?", n_existing),
                                   body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "replace", _("_Replace"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "replace",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "px-folder", g_steal_pointer (&folder), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (on_replace_response), g_object_ref (page));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_folder_chosen (GtkWidget  *page,
                  const char *path)
{
  if (path != NULL)
    px_landmark_save_to (PX_CORRESPONDENCE_PAGE (page), path);
}

/**
 * px_landmark_save_choose:
 *
 * Asks for the folder to save the page's landmark files into, then saves them there.
 */
void
px_landmark_save_choose (PxCorrespondencePage *page)
{
  px_export_choose_folder (GTK_WIDGET (page), _("Save Landmarks into a Folder"), _("Save _Here"),
                           on_folder_chosen);
}
