// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxPropagateDialog holds the folder (its annotated images counted in a thread as soon as it
// is chosen: K's bound) and K until Propagate, then hands them to the page's
// worker (px_correspondence_page_propagate_async) with its own cancellable and takes the
// progress back on the main thread. Cancel stops a running propagation (nothing is
// applied) and otherwise closes the dialog; closing it while it runs cancels too.
#include "config.h"

#include <glib/gi18n.h>

#include "px-application.h"
#include "px-atlas.h"
#include "px-export.h"
#include "px-propagate-dialog.h"

struct _PxPropagateDialog
{
  AdwWindow             parent_instance;

  PxCorrespondencePage *page;        // weak: the page outlives its dialog's work
  char                 *folder;
  int                   n_references; // annotated images of the folder, 0 while unknown
  gboolean              started;      // Propagate pressed since the folder was chosen
  GCancellable         *cancellable; // of the running propagation, NULL when idle

  AdwActionRow         *folder_row;
  GtkButton            *choose_button;
  GtkSpinButton        *k_spin;
  GtkButton            *propagate_button;
  GtkButton            *cancel_button;
  GtkProgressBar       *progress;
  GtkLabel             *status_label;
};

G_DEFINE_FINAL_TYPE (PxPropagateDialog, px_propagate_dialog, ADW_TYPE_WINDOW)

static void
update_sensitivity (PxPropagateDialog *self)
{
  gboolean busy = self->cancellable != NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->propagate_button),
                            !busy && self->folder != NULL && self->page != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->choose_button), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->k_spin), !busy);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), busy);
}

static void
on_progress (double   fraction,
             gpointer data)
{
  PxPropagateDialog *self = data;

  if (self->progress != NULL)  // NULL once the dialog is closed
    gtk_progress_bar_set_fraction (self->progress, fraction);
}

static void
on_propagated (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(PxPropagateDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = px_correspondence_page_propagate_finish (PX_CORRESPONDENCE_PAGE (source), result, &error);

  g_clear_object (&self->cancellable);
  if (self->status_label == NULL)
    return;  // closed while it ran
  update_sensitivity (self);
  if (ok)
    gtk_window_destroy (GTK_WINDOW (self));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    gtk_label_set_text (self->status_label, _("Cancelled: nothing was changed"));
  else
    gtk_label_set_text (self->status_label, error->message);
}

// Reading a folder's landmark files (not its images) to count its annotated images takes a
// moment for a large atlas: in a thread, so that K can be bounded by it at once and a bad
// folder is told before Propagate.
static void
count_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  PeacAtlas atlas = { 0 };
  char err[2048];

  if (px_atlas_load (&atlas, task_data, NULL, err, sizeof err) < 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", err);
      return;
    }
  g_task_return_int (task, atlas.n);
  px_atlas_clear (&atlas);
}

static void
on_counted (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  PxPropagateDialog *self = PX_PROPAGATE_DIALOG (source);
  const char *folder = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gssize n = g_task_propagate_int (G_TASK (result), &error);

  // Closed meanwhile, or another folder chosen since.
  if (self->status_label == NULL || g_strcmp0 (folder, self->folder) != 0)
    return;
  if (n >= 0)
    {
      self->n_references = (int) n;
      GtkAdjustment *k = gtk_spin_button_get_adjustment (self->k_spin);

      gtk_adjustment_set_upper (k, (double) n);
      gtk_adjustment_set_value (k, MIN (gtk_adjustment_get_value (k), (double) n));
    }
  // The propagation's own messages win over the count's.
  if (self->started)
    return;
  if (n < 0)
    gtk_label_set_text (self->status_label, error->message);
  else
    {
    /* Translators: how many annotated radiographs the chosen folder holds */
    g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d annotated radiograph",
                                                          "%d annotated radiographs", n), (int) n);

      gtk_label_set_text (self->status_label, text);
    }
}

static void
on_folder_chosen (GtkWidget  *self,
                  const char *path)
{
  if (path != NULL)
    px_propagate_dialog_set_folder (PX_PROPAGATE_DIALOG (self), path);
}

static void
on_choose (PxPropagateDialog *self)
{
  px_export_choose_folder (GTK_WIDGET (self), _("Annotated References"), _("_Select"),
                           on_folder_chosen);
}

static void
on_cancel (PxPropagateDialog *self)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  else
    gtk_window_destroy (GTK_WINDOW (self));
}

static gboolean
escape_pressed (GtkWidget *widget,
                GVariant  *args,
                gpointer   data)
{
  on_cancel (PX_PROPAGATE_DIALOG (widget));
  return TRUE;
}

static gboolean
on_close_request (GtkWindow *window)
{
  PxPropagateDialog *self = PX_PROPAGATE_DIALOG (window);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  return FALSE;
}

static void
px_propagate_dialog_dispose (GObject *object)
{
  PxPropagateDialog *self = (PxPropagateDialog *)object;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_weak_pointer (&self->page);
  gtk_widget_dispose_template (GTK_WIDGET (self), PX_TYPE_PROPAGATE_DIALOG);

  G_OBJECT_CLASS (px_propagate_dialog_parent_class)->dispose (object);
}

static void
px_propagate_dialog_finalize (GObject *object)
{
  PxPropagateDialog *self = (PxPropagateDialog *)object;

  g_clear_object (&self->cancellable);
  g_free (self->folder);

  G_OBJECT_CLASS (px_propagate_dialog_parent_class)->finalize (object);
}

static void
px_propagate_dialog_class_init (PxPropagateDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = px_propagate_dialog_dispose;
  object_class->finalize = px_propagate_dialog_finalize;
  window_class->close_request = on_close_request;

  px_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class, "/org/peac/Explorer/px-propagate-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, PxPropagateDialog, folder_row);
  gtk_widget_class_bind_template_child (widget_class, PxPropagateDialog, choose_button);
  gtk_widget_class_bind_template_child (widget_class, PxPropagateDialog, k_spin);
  gtk_widget_class_bind_template_child (widget_class, PxPropagateDialog, propagate_button);
  gtk_widget_class_bind_template_child (widget_class, PxPropagateDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, PxPropagateDialog, progress);
  gtk_widget_class_bind_template_child (widget_class, PxPropagateDialog, status_label);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0, escape_pressed, NULL);
}

static void
px_propagate_dialog_init (PxPropagateDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->choose_button, "clicked", G_CALLBACK (on_choose), self);
  g_signal_connect_swapped (self->propagate_button, "clicked", G_CALLBACK (px_propagate_dialog_start), self);
  g_signal_connect_swapped (self->cancel_button, "clicked", G_CALLBACK (on_cancel), self);
}

PxPropagateDialog *
px_propagate_dialog_new (PxCorrespondencePage *page)
{
  PxPropagateDialog *self = g_object_new (PX_TYPE_PROPAGATE_DIALOG, NULL);

  g_set_weak_pointer (&self->page, page);
  update_sensitivity (self);
  return self;
}

void
px_propagate_dialog_set_folder (PxPropagateDialog *self,
                                const char        *folder)
{
  g_return_if_fail (PX_IS_PROPAGATE_DIALOG (self));

  g_free (self->folder);
  self->folder = g_strdup (folder);
  self->n_references = 0;
  self->started = FALSE;
  adw_action_row_set_subtitle (self->folder_row, folder);
  gtk_label_set_text (self->status_label, "");
  update_sensitivity (self);
  {
    g_autoptr(GTask) task = g_task_new (self, NULL, on_counted, NULL);

    g_task_set_task_data (task, g_strdup (folder), g_free);
    g_task_run_in_thread (task, count_thread);
  }
}

void
px_propagate_dialog_set_k (PxPropagateDialog *self,
                           int                k)
{
  g_return_if_fail (PX_IS_PROPAGATE_DIALOG (self));
  gtk_spin_button_set_value (self->k_spin, k);
}

/**
 * px_propagate_dialog_start:
 *
 * What Propagate does: starts the page's worker on the chosen folder with K references.
 */
void
px_propagate_dialog_start (PxPropagateDialog *self)
{
  g_return_if_fail (PX_IS_PROPAGATE_DIALOG (self));

  if (self->cancellable != NULL || self->folder == NULL || self->page == NULL)
    return;
  self->cancellable = g_cancellable_new ();
  self->started = TRUE;
  gtk_progress_bar_set_fraction (self->progress, 0);
  gtk_label_set_text (self->status_label, _("Embedding the references and propagating…"));
  update_sensitivity (self);
  px_correspondence_page_propagate_async (self->page, self->folder,
                                          gtk_spin_button_get_value_as_int (self->k_spin),
                                          self->cancellable, on_progress, self, on_propagated,
                                          g_object_ref (self));
}

/**
 * px_propagate_dialog_get_n_references:
 *
 * Returns: the annotated radiographs of the chosen folder (the bound of K), 0 while they
 *   are counted or when the folder cannot be read
 */
int
px_propagate_dialog_get_n_references (PxPropagateDialog *self)
{
  g_return_val_if_fail (PX_IS_PROPAGATE_DIALOG (self), 0);
  return self->n_references;
}

gboolean
px_propagate_dialog_get_busy (PxPropagateDialog *self)
{
  g_return_val_if_fail (PX_IS_PROPAGATE_DIALOG (self), FALSE);
  return self->cancellable != NULL;
}
