// SPDX-License-Identifier: GPL-3.0-or-later
//
// The train.* actions of PxTrainPage: start a run (asking first when the checkpoint folder
// already holds one: resume it or start in a new folder beside it, px-train-run.c),
// resume the offered checkpoint, pause, resume, stop, use the checkpoint's teacher as the
// window's model, and choose the dataset folders, the checkpoint folder and the model file
// to fine-tune.
#include "config.h"

#include <glib/gi18n.h>

#include "px-application.h"
#include "px-export.h"
#include "px-train-page-private.h"
#include "px-train-run.h"

void
px_train_page_start_run (PxTrainPage *self,
                         gboolean     resume)
{
  g_autoptr(GError) error = NULL;
  PxTrainOptions options;

  g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < self->folders->len; i++)
    g_ptr_array_add (folders, g_file_get_path (g_ptr_array_index (self->folders, i)));
  g_ptr_array_add (folders, NULL);
  px_train_page_get_options (self, &options);
  options.data_folders = (const char * const *) folders->pdata;
  self->run_started = g_get_monotonic_time ();
  if (!px_trainer_start (self->trainer, &options, self->usable, self->checkpoint_folder,
                         resume, &error))
    gtk_label_set_text (self->message_label, error->message);
}

static void
on_start_response (AdwMessageDialog *dialog,
                   const char       *response,
                   gpointer          data)
{
  g_autoptr(PxTrainPage) self = data;

  if (g_str_equal (response, "resume"))
    gtk_widget_activate_action (GTK_WIDGET (self), "train.resume-checkpoint", NULL);
  else if (g_str_equal (response, "new"))
    {
      g_autofree char *folder = px_train_run_new_folder (self->checkpoint_folder);

      px_train_page_set_checkpoint_folder (self, folder);
      px_train_page_start_run (self, FALSE);
    }
}

// A new run never replaces an earlier one: Start on a folder that holds a run asks whether
// to resume it or to start in a new folder beside it.
static void
start_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  PxTrainPage *self = PX_TRAIN_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *next = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  if (!px_train_run_folder_holds_run (self->checkpoint_folder))
    {
      px_train_page_start_run (self, FALSE);
      return;
    }
  next = px_train_run_new_folder (self->checkpoint_folder);
  /* Translators: the first %s is the checkpoint folder, the second a new folder */
  body = g_strdup_printf (_("%s holds an earlier run, which a new run there would replace. Resume it, or start the new run in %s."),
                          self->checkpoint_folder, next);
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Keep the Earlier Run?"), body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "resume", _("_Resume It"),
                                    "new", _("Start in a _New Folder"),
                                    NULL);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "resume",
                                           self->can_resume &&
                                           (self->usable->len > 0 || self->resume_folders != NULL));
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "new",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "new");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_start_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
resume_checkpoint_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  PxTrainPage *self = PX_TRAIN_PAGE (widget);

  // No dataset added: the folders the checkpoint records are scanned, then the run resumes.
  if (self->usable->len == 0 && self->resume_folders != NULL)
    {
      g_auto(GStrv) folders = g_strdupv (self->resume_folders);

      self->resume_when_scanned = TRUE;
      for (guint i = 0; folders[i] != NULL; i++)
        {
          g_autoptr(GFile) folder = g_file_new_for_path (folders[i]);

          px_train_page_add_folder (self, folder);
        }
      px_train_page_update_dataset (self);
      return;
    }
  px_train_page_start_run (self, TRUE);
}

static void
pause_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  PxTrainPage *self = PX_TRAIN_PAGE (widget);

  px_trainer_pause (self->trainer);
  gtk_widget_action_set_enabled (widget, "train.pause", FALSE);
}

static void
resume_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  px_trainer_resume (PX_TRAIN_PAGE (widget)->trainer);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  px_trainer_cancel (PX_TRAIN_PAGE (widget)->trainer);
}

static void
on_model_loaded (GObject      *source,
                 GAsyncResult *res,
                 gpointer      data)
{
  g_autoptr(PxTrainPage) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PxModel) model = px_model_load_finish (res, &error);

  self->loading_model = FALSE;
  if (model == NULL)
    gtk_label_set_text (self->message_label, error->message);
  else if (self->embedder != NULL)
    {
      px_embedder_set_model (self->embedder, model);
      gtk_label_set_text (self->message_label,
                          _("The latest checkpoint’s teacher is now the model in use"));
    }
  px_train_page_update_actions (self);
}

static void
use_model_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  PxTrainPage *self = PX_TRAIN_PAGE (widget);
  g_autofree char *path = g_build_filename (self->checkpoint_folder, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  self->loading_model = TRUE;
  px_train_page_update_actions (self);
  px_model_load_async (file, NULL, on_model_loaded, g_object_ref (self));
}

static void
on_dataset_chosen (GtkWidget  *widget,
                   const char *path)
{
  g_autoptr(GFile) file = NULL;

  if (path == NULL)
    return;
  file = g_file_new_for_path (path);
  px_train_page_add_folder (PX_TRAIN_PAGE (widget), file);
}

static void
on_checkpoints_chosen (GtkWidget  *widget,
                       const char *path)
{
  if (path != NULL)
    px_train_page_set_checkpoint_folder (PX_TRAIN_PAGE (widget), path);
}

static void
on_init_chosen (gpointer    data,
                GFile      *file,
                const char *format)
{
  g_autofree char *path = g_file_get_path (file);

  if (path != NULL)
    px_train_page_set_init_from (PX_TRAIN_PAGE (data), path);
}

static void
add_folder_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  px_export_choose_folder (widget, _("Add Dataset Folder"), _("_Select"), on_dataset_chosen);
}

static void
choose_folder_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  px_export_choose_folder (widget, _("Checkpoint Folder"), _("_Select"), on_checkpoints_chosen);
}

static void
choose_init_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  // A model file, not a folder: the file chooser the exports use.
  px_export_choose_file (widget, _("Model to Fine-Tune"), GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL,
                         on_init_chosen, widget);
}

static void
clear_init_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  px_train_page_set_init_from (PX_TRAIN_PAGE (widget), NULL);
}

static void
clear_folders_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  PxTrainPage *self = PX_TRAIN_PAGE (widget);

  g_cancellable_cancel (self->cancellable);
  g_object_unref (self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_ptr_array_set_size (self->folders, 0);
  g_ptr_array_set_size (self->usable, 0);
  g_ptr_array_set_size (self->unreadable, 0);
  g_ptr_array_set_size (self->passed_over, 0);
  self->resume_when_scanned = FALSE;
  px_train_page_update_dataset (self);
}

void
px_train_page_install_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "train.start", NULL, start_action);
  gtk_widget_class_install_action (widget_class, "train.pause", NULL, pause_action);
  gtk_widget_class_install_action (widget_class, "train.resume", NULL, resume_action);
  gtk_widget_class_install_action (widget_class, "train.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "train.use-model", NULL, use_model_action);
  gtk_widget_class_install_action (widget_class, "train.resume-checkpoint", NULL, resume_checkpoint_action);
  gtk_widget_class_install_action (widget_class, "train.add-folder", NULL, add_folder_action);
  gtk_widget_class_install_action (widget_class, "train.clear-folders", NULL, clear_folders_action);
  gtk_widget_class_install_action (widget_class, "train.choose-folder", NULL, choose_folder_action);
  gtk_widget_class_install_action (widget_class, "train.choose-init", NULL, choose_init_action);
  gtk_widget_class_install_action (widget_class, "train.clear-init", NULL, clear_init_action);
}
