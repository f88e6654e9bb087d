// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxTrainPage puts a PxTrainer on screen. Dataset folders are walked by px-folder-scan and
// every candidate is then opened once in a worker, so the page can say how many files are
// usable and list the unreadable ones with the reason before a run starts. The run's
// settings are plain spin buttons and a preset, or a ViT model file to fine-tune; the trainer's properties drive the progress
// bar, the message, the loss plot and the live sample (both crops with their matched cells,
// the student's input and its restoration), all on the main thread. The checkpoint folder is
// probed for an earlier run, which a bar at the top offers to resume with its own stored
// settings and data folders; Start never replaces it, but asks to resume it or to start in a
// new folder beside it (px-train-run.c). "Use This
// Model" loads the latest checkpoint's teacher (px_model_load_async) and hands it to the
// window's PxEmbedder, which recomputes embeddings only when a page asks. A run that took
// over a minute and ends while the window is not focused sends a notification. The
// train.* actions are px-train-page-actions.c; px-train-page-private.h holds what both
// files share.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "px-application.h"
#include "px-image.h"
#include "px-folder-scan.h"
#include "px-preset-row.h"
#include "px-train-page-private.h"
#include "px-train-run.h"
#include "px-train-sample.h"

#define NOTIFY_AFTER_US (60 * G_USEC_PER_SEC)

G_DEFINE_FINAL_TYPE (PxTrainPage, px_train_page, GTK_TYPE_WIDGET)

void
px_train_page_update_actions (PxTrainPage *self)
{
  PxTrainerState state = px_trainer_get_state (self->trainer);
  gboolean active = px_trainer_get_active (self->trainer);
  gboolean idle = !active && self->scanning == 0 && self->checkpoint_folder != NULL;
  gboolean ready = idle && self->usable->len > 0;
  // During a run the folder cannot change; between runs it is probed when it does.
  gboolean have_checkpoint = active ? px_trainer_get_saved_step (self->trainer) >= 0
                                    : self->can_resume;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.start", ready);
  // A checkpoint that records its data folders resumes without them being added again.
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.resume-checkpoint",
                                 idle && self->can_resume &&
                                 (self->usable->len > 0 || self->resume_folders != NULL));
  gtk_widget_set_visible (self->resume_bar, self->can_resume && !active);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.pause", state == PX_TRAINER_RUNNING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.resume", state == PX_TRAINER_PAUSED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.cancel",
                                 active && state != PX_TRAINER_STOPPING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.use-model",
                                 self->embedder != NULL && have_checkpoint && !self->loading_model);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.add-folder", !active);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.clear-folders",
                                 !active && self->folders->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.choose-folder", !active);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.choose-init", !active);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "train.clear-init", !active && self->init_from != NULL);
}

static void
probe_folder (PxTrainPage *self)
{
  long step = 0, total = 0;

  g_clear_pointer (&self->resume_folders, g_strfreev);
  self->can_resume = self->checkpoint_folder != NULL &&
                     px_trainer_probe_checkpoint (self->checkpoint_folder, &step, &total);
  if (self->can_resume)
    {
      g_autofree char *text = NULL;

      self->resume_folders = px_train_run_read_data_folders (self->checkpoint_folder);
      if (self->resume_folders != NULL)
        /* Translators: a checkpoint's progress, e.g. "… at step 120 of 1000" */
        text = g_strdup_printf (_("The checkpoint folder holds a run stopped at step %ld of %ld. Resuming continues it on the data folders it was trained on."),
                                step, total);
      else
        text = g_strdup_printf (_("The checkpoint folder holds a run stopped at step %ld of %ld. Add its data folders to resume it."),
                                step, total);
      gtk_label_set_text (self->resume_label, text);
    }
  px_train_page_update_actions (self);
}

// Steps in epochs over the dataset, for those who think in epochs.
static void
update_epochs (PxTrainPage *self)
{
  g_autofree char *text = NULL;

  if (self->usable->len > 0)
    /* Translators: how many passes over the dataset the steps make */
    text = g_strdup_printf (_("About %.1f epochs of this dataset"),
                            gtk_adjustment_get_value (self->steps) *
                            gtk_adjustment_get_value (self->batch) / self->usable->len);
  adw_action_row_set_subtitle (self->steps_row, text != NULL ? text : "");
}

void
px_train_page_update_dataset (PxTrainPage *self)
{
  g_autoptr(GString) names = g_string_new (NULL);
  g_autofree char *counts = NULL;
  gboolean nothing_usable;

  for (guint i = 0; i < self->folders->len; i++)
    {
      g_autofree char *path = g_file_get_path (g_ptr_array_index (self->folders, i));

      g_string_append_printf (names, "%s%s", i > 0 ? "\n" : "", path);
    }
  if (self->folders->len == 0)
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->dataset_row), _("No folder yet"));
  else
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->dataset_row), names->str);

  // Nothing usable: what the folders hold instead, and why it was passed over (a link to
  // nothing, a file of another kind), rather than a bare "0 usable radiographs".
  nothing_usable = self->scanning == 0 && self->folders->len > 0 && self->usable->len == 0 &&
                   self->passed_over->len > 0;
  if (self->scanning > 0)
    counts = g_strdup (_("Looking for radiographs…"));
  else if (nothing_usable)
    counts = g_strdup_printf (ngettext ("No usable radiographs; %u entry passed over",
                                        "No usable radiographs; %u entries passed over",
                                        self->passed_over->len), self->passed_over->len);
  else if (self->folders->len > 0)
    counts = g_strdup_printf (ngettext ("%u usable radiograph", "%u usable radiographs",
                                        self->usable->len), self->usable->len);
  if (counts != NULL && self->unreadable->len > 0)
    {
      g_autofree char *more = g_strdup_printf (ngettext ("%s, %u unreadable file", "%s, %u unreadable files",
                                                         self->unreadable->len),
                                               counts, self->unreadable->len);
      g_free (counts);
      counts = g_steal_pointer (&more);
    }
  adw_action_row_set_subtitle (self->dataset_row, counts != NULL ? counts : "");
  gtk_spinner_set_spinning (self->scan_spinner, self->scanning > 0);

  {
    g_autoptr(GString) list = g_string_new (NULL);

    for (guint i = 0; i < self->unreadable->len; i++)
      g_string_append_printf (list, "%s%s", i > 0 ? "\n" : "",
                              (char *) g_ptr_array_index (self->unreadable, i));
    for (guint i = 0; nothing_usable && i < self->passed_over->len; i++)
      g_string_append_printf (list, "%s%s", list->len > 0 ? "\n" : "",
                              (char *) g_ptr_array_index (self->passed_over, i));
    gtk_label_set_text (self->unreadable_label, list->str);
    gtk_widget_set_visible (GTK_WIDGET (self->unreadable_row), list->len > 0);
  }
  update_epochs (self);
  px_train_page_update_actions (self);

  if (self->resume_when_scanned && self->scanning == 0)
    {
      self->resume_when_scanned = FALSE;
      if (self->usable->len > 0)
        px_train_page_start_run (self, TRUE);
      else
        gtk_label_set_text (self->message_label, _("None of the run’s data folders holds a readable radiograph"));
    }
}

static void
on_checked (GObject      *source,
            GAsyncResult *res,
            gpointer      data)
{
  g_autoptr(PxTrainPage) self = data;
  g_autoptr(GPtrArray) usable = NULL;
  g_autoptr(GPtrArray) unreadable = NULL;

  self->scanning--;
  if (px_folder_check_finish (res, &usable, &unreadable))
    {
      for (guint i = 0; i < usable->len; i++)
        g_ptr_array_add (self->usable, g_strdup (g_ptr_array_index (usable, i)));
      for (guint i = 0; i < unreadable->len; i++)
        g_ptr_array_add (self->unreadable, g_strdup (g_ptr_array_index (unreadable, i)));
    }
  px_train_page_update_dataset (self);
}

static void
on_scanned (GObject      *source,
            GAsyncResult *res,
            gpointer      data)
{
  g_autoptr(PxTrainPage) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GPtrArray) files = px_folder_scan_finish (res, &skipped, &error);

  if (files == NULL)
    {
      self->scanning--;
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_ptr_array_add (self->unreadable, g_strdup (error->message));
      px_train_page_update_dataset (self);
      return;
    }
  for (guint i = 0; i < skipped->len; i++)
    g_ptr_array_add (self->passed_over, g_strdup (g_ptr_array_index (skipped, i)));
  px_folder_check_async (files, self->cancellable, on_checked, g_object_ref (self));
}

static char *
format_duration (double seconds)
{
  long s = (long) (seconds + 0.5);

  if (s >= 3600)
    /* Translators: a duration in hours and minutes */
    return g_strdup_printf (_("%ld h %02ld min"), s / 3600, (s / 60) % 60);
  if (s >= 60)
    /* Translators: a duration in minutes and seconds */
    return g_strdup_printf (_("%ld min %02ld s"), s / 60, s % 60);
  /* Translators: a duration in seconds */
  return g_strdup_printf (_("%ld s"), s);
}

static void
update_progress (PxTrainPage *self)
{
  PxTrainer *t = self->trainer;
  g_autofree char *text = NULL;
  double eta = px_trainer_get_eta (t);

  gtk_progress_bar_set_fraction (self->progress_bar, px_trainer_get_fraction (t));
  if (px_trainer_get_total_steps (t) == 0 || px_trainer_get_state (t) == PX_TRAINER_IDLE)
    text = g_strdup (_("Not started"));
  else if (eta >= 0 && px_trainer_get_active (t))
    {
      g_autofree char *left = format_duration (eta);

      /* Translators: step, steps, throughput, time left */
      text = g_strdup_printf (_("Step %ld of %ld · %.1f images/s · %s left"),
                              px_trainer_get_step (t), px_trainer_get_total_steps (t),
                              px_trainer_get_images_per_second (t), left);
    }
  else
    text = g_strdup_printf (_("Step %ld of %ld"), px_trainer_get_step (t),
                            px_trainer_get_total_steps (t));
  gtk_progress_bar_set_text (self->progress_bar, text);
}

static void
on_state_changed (PxTrainPage *self)
{
  const char *message = px_trainer_get_message (self->trainer);

  switch (px_trainer_get_state (self->trainer))
    {
    case PX_TRAINER_PAUSED:
      message = _("Paused between two steps");
      break;

    case PX_TRAINER_STOPPING:
      message = _("Stopping after the current step…");
      break;

    default:
      break;
    }
  gtk_label_set_text (self->message_label, message != NULL ? message : "");
  // A run keeps the settings it started with.
  gtk_widget_set_sensitive (gtk_paned_get_start_child (GTK_PANED (self->paned)),
                            !px_trainer_get_active (self->trainer));
  update_progress (self);
  px_train_page_update_actions (self);
}

static void
on_points_changed (PxTrainPage *self)
{
  px_loss_plot_points_changed (self->plot);
}

static void
draw_sample (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        data)
{
  PxTrainPage *self = data;

  px_train_sample_draw (GTK_WIDGET (area), cr, width, height, px_trainer_get_sample (self->trainer));
}

static void
on_sample_changed (PxTrainPage *self)
{
  const PxTrainSample *sample = px_trainer_get_sample (self->trainer);

  gtk_widget_set_visible (self->sample_box, sample != NULL);
  if (sample != NULL)
    gtk_label_set_label (self->sample_input_label, px_train_sample_input_title (sample));
  gtk_widget_queue_draw (GTK_WIDGET (self->sample_area));
}

static void
on_finished (PxTrainPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GApplication *app = g_application_get_default ();
  PxTrainerState state = px_trainer_get_state (self->trainer);

  probe_folder (self);
  on_state_changed (self);
  if (app != NULL && GTK_IS_WINDOW (root) && !gtk_window_is_active (GTK_WINDOW (root)) &&
      g_get_monotonic_time () - self->run_started > NOTIFY_AFTER_US)
    {
      g_autoptr(GNotification) notification =
        g_notification_new (state == PX_TRAINER_DONE ? _("Training finished")
                                                     : _("Training stopped"));

      g_notification_set_body (notification, px_trainer_get_message (self->trainer));
      px_send_notification (app, "training", notification);
    }
}

static void
px_train_page_dispose (GObject *object)
{
  PxTrainPage *self = (PxTrainPage *)object;
  GtkWidget *child;

  // A run outlives the page only until it has saved its checkpoint.
  if (self->trainer != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->trainer, self);
      px_trainer_cancel (self->trainer);
    }
  g_clear_object (&self->trainer);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->embedder);
  gtk_widget_dispose_template (GTK_WIDGET (self), PX_TYPE_TRAIN_PAGE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (px_train_page_parent_class)->dispose (object);
}

static void
px_train_page_finalize (GObject *object)
{
  PxTrainPage *self = (PxTrainPage *)object;

  g_ptr_array_unref (self->folders);
  g_ptr_array_unref (self->usable);
  g_ptr_array_unref (self->unreadable);
  g_ptr_array_unref (self->passed_over);
  g_free (self->checkpoint_folder);
  g_free (self->init_from);
  g_strfreev (self->resume_folders);

  G_OBJECT_CLASS (px_train_page_parent_class)->finalize (object);
}

static void
px_train_page_class_init (PxTrainPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = px_train_page_dispose;
  object_class->finalize = px_train_page_finalize;

  px_ensure_resources ();
  g_type_ensure (PX_TYPE_LOSS_PLOT);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/peac/Explorer/px-train-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, paned);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, dataset_row);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, scan_spinner);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, unreadable_row);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, unreadable_label);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, preset_row);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, img_size);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, steps);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, batch);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, lr);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, seed);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, threads);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, save_every);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, folder_row);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, steps_row);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, init_row);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, resume_bar);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, resume_label);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, plot);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, sample_box);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, sample_input_label);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, sample_area);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, log_toggle);
  gtk_widget_class_bind_template_child (widget_class, PxTrainPage, smoothing);

  px_train_page_install_actions (widget_class);
}

static void
px_train_page_init (PxTrainPage *self)
{
  g_autofree char *folder = g_build_filename (g_get_user_data_dir (), "peac-explorer", "training", NULL);

  gtk_widget_init_template (GTK_WIDGET (self));

  {
    PxTrainOptions defaults;

    px_preset_row_setup (self->preset_row, self->img_size);
    px_trainer_options_defaults (&defaults);
    px_preset_row_select (self->preset_row, defaults.preset);
  }

  self->trainer = px_trainer_new ();
  self->folders = g_ptr_array_new_with_free_func (g_object_unref);
  self->usable = g_ptr_array_new_with_free_func (g_free);
  self->unreadable = g_ptr_array_new_with_free_func (g_free);
  self->passed_over = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();

  px_loss_plot_set_points (self->plot, px_trainer_get_points (self->trainer));
  g_object_bind_property (self->log_toggle, "active", self->plot, "log-scale", G_BINDING_SYNC_CREATE);
  g_object_bind_property (self->smoothing, "value", self->plot, "smoothing", G_BINDING_SYNC_CREATE);
  g_signal_connect_swapped (self->trainer, "notify::state", G_CALLBACK (on_state_changed), self);
  g_signal_connect_swapped (self->trainer, "notify::message", G_CALLBACK (on_state_changed), self);
  g_signal_connect_swapped (self->trainer, "notify::step", G_CALLBACK (update_progress), self);
  g_signal_connect_swapped (self->trainer, "notify::checkpoint", G_CALLBACK (px_train_page_update_actions), self);
  g_signal_connect_swapped (self->trainer, "notify::n-points", G_CALLBACK (on_points_changed), self);
  g_signal_connect_swapped (self->trainer, "finished", G_CALLBACK (on_finished), self);
  g_signal_connect_swapped (self->trainer, "notify::sample-step", G_CALLBACK (on_sample_changed), self);
  gtk_drawing_area_set_draw_func (self->sample_area, draw_sample, self, NULL);
  g_signal_connect_swapped (self->steps, "value-changed", G_CALLBACK (update_epochs), self);
  g_signal_connect_swapped (self->batch, "value-changed", G_CALLBACK (update_epochs), self);

  px_train_page_set_checkpoint_folder (self, folder);
  px_train_page_update_dataset (self);
  on_state_changed (self);
}

GtkWidget *
px_train_page_new (void)
{
  return g_object_new (PX_TYPE_TRAIN_PAGE, NULL);
}

/**
 * px_train_page_set_embedder:
 * @embedder: (nullable): whose model "Use This Model" replaces
 */
void
px_train_page_set_embedder (PxTrainPage *self,
                            PxEmbedder  *embedder)
{
  g_return_if_fail (PX_IS_TRAIN_PAGE (self));

  g_set_object (&self->embedder, embedder);
  px_train_page_update_actions (self);
}

/**
 * px_train_page_add_folder:
 *
 * Adds @folder to the dataset and looks for radiographs below it in a worker.
 */
void
px_train_page_add_folder (PxTrainPage *self,
                          GFile       *folder)
{
  g_return_if_fail (PX_IS_TRAIN_PAGE (self));
  g_return_if_fail (G_IS_FILE (folder));

  for (guint i = 0; i < self->folders->len; i++)
    if (g_file_equal (g_ptr_array_index (self->folders, i), folder))
      return;
  g_ptr_array_add (self->folders, g_object_ref (folder));
  self->scanning++;
  px_train_page_update_dataset (self);
  px_folder_scan_async (folder, self->cancellable, on_scanned, g_object_ref (self));
}

gboolean
px_train_page_get_scanning (PxTrainPage *self)
{
  g_return_val_if_fail (PX_IS_TRAIN_PAGE (self), FALSE);
  return self->scanning > 0;
}

guint
px_train_page_get_n_usable (PxTrainPage *self)
{
  g_return_val_if_fail (PX_IS_TRAIN_PAGE (self), 0);
  return self->usable->len;
}

guint
px_train_page_get_n_unreadable (PxTrainPage *self)
{
  g_return_val_if_fail (PX_IS_TRAIN_PAGE (self), 0);
  return self->unreadable->len;
}

void
px_train_page_set_checkpoint_folder (PxTrainPage *self,
                                     const char  *folder)
{
  g_return_if_fail (PX_IS_TRAIN_PAGE (self));
  g_return_if_fail (folder != NULL);

  g_free (self->checkpoint_folder);
  self->checkpoint_folder = g_strdup (folder);
  adw_action_row_set_subtitle (self->folder_row, folder);
  probe_folder (self);
}

const char *
px_train_page_get_checkpoint_folder (PxTrainPage *self)
{
  g_return_val_if_fail (PX_IS_TRAIN_PAGE (self), NULL);
  return self->checkpoint_folder;
}

void
px_train_page_set_options (PxTrainPage          *self,
                           const PxTrainOptions *options)
{
  g_return_if_fail (PX_IS_TRAIN_PAGE (self));

  px_preset_row_select (self->preset_row, options->preset);
  if (options->img_size > 0)
    gtk_adjustment_set_value (self->img_size, options->img_size);
  gtk_adjustment_set_value (self->steps, options->steps);
  gtk_adjustment_set_value (self->batch, options->batch);
  gtk_adjustment_set_value (self->lr, options->lr);
  gtk_adjustment_set_value (self->seed, (double) options->seed);
  gtk_adjustment_set_value (self->threads, options->threads);
  gtk_adjustment_set_value (self->save_every, options->save_every);
  px_train_page_set_init_from (self, options->init_from);
}

void
px_train_page_get_options (PxTrainPage    *self,
                           PxTrainOptions *options)
{
  int cell;

  g_return_if_fail (PX_IS_TRAIN_PAGE (self));

  // options->init_from points into the page: valid until the page changes it.
  px_trainer_options_defaults (options);
  if (px_preset_row_get (self->preset_row) != NULL)
    options->preset = px_preset_row_get (self->preset_row);
  // Whole cells of the token grid (the ViT's patch, the Swin's last stage).
  cell = px_preset_row_cell (self->preset_row);
  options->img_size = MAX (cell, (int) gtk_adjustment_get_value (self->img_size) / cell * cell);
  options->steps = (int) gtk_adjustment_get_value (self->steps);
  options->batch = (int) gtk_adjustment_get_value (self->batch);
  options->lr = gtk_adjustment_get_value (self->lr);
  options->seed = (guint64) gtk_adjustment_get_value (self->seed);
  options->threads = (int) gtk_adjustment_get_value (self->threads);
  options->save_every = (int) gtk_adjustment_get_value (self->save_every);
  options->init_from = self->init_from;
}

/**
 * px_train_page_set_init_from:
 * @path: (nullable): a ViT model file to fine-tune, or %NULL for random weights
 */
void
px_train_page_set_init_from (PxTrainPage *self,
                             const char  *path)
{
  g_return_if_fail (PX_IS_TRAIN_PAGE (self));

  g_free (self->init_from);
  self->init_from = g_strdup (path);
  adw_action_row_set_subtitle (self->init_row, path != NULL ? path : _("Random weights"));
  px_train_page_update_actions (self);
}

/**
 * px_train_page_get_can_resume:
 *
 * Returns: whether the checkpoint folder holds a run that can be resumed
 */
gboolean
px_train_page_get_can_resume (PxTrainPage *self)
{
  g_return_val_if_fail (PX_IS_TRAIN_PAGE (self), FALSE);
  return self->can_resume;
}

static gboolean
close_window_idle (gpointer data)
{
  gtk_window_close (data);
  return G_SOURCE_REMOVE;
}

static void
on_close_response (AdwMessageDialog *dialog,
                   const char       *response,
                   gpointer          data)
{
  g_autoptr(PxTrainPage) self = data;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (!g_str_equal (response, "stop"))
    return;
  self->closing = TRUE;
  // The trainer holds the application until its checkpoint is written, so the window can go now.
  px_trainer_cancel (self->trainer);
  // Not from inside the dialog's response: the dialog still refers to its parent.
  if (GTK_IS_WINDOW (root))
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, close_window_idle, g_object_ref (root), g_object_unref);
}

/**
 * px_train_page_confirm_close:
 *
 * For the window's close-request handler: while a run is going, asks whether to stop it
 * (a checkpoint is saved, then the window closes) or to keep training.
 *
 * Returns: %TRUE when the close must wait for the answer
 */
gboolean
px_train_page_confirm_close (PxTrainPage *self)
{
  GtkRoot *root;
  GtkWidget *dialog;

  g_return_val_if_fail (PX_IS_TRAIN_PAGE (self), FALSE);

  if (!px_trainer_get_active (self->trainer) || self->closing ||
      px_trainer_get_state (self->trainer) == PX_TRAINER_STOPPING)
    return FALSE;

  root = gtk_widget_get_root (GTK_WIDGET (self));
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Stop Training?"),
                                   _("A model is being trained. Stopping saves a checkpoint that the run can be resumed from."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "keep", _("_Keep Training"),
                                    "stop", _("_Stop and Close"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "stop",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_signal_connect (dialog, "response", G_CALLBACK (on_close_response), g_object_ref (self));
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}

/**
 * px_train_page_get_trainer:
 *
 * Returns: (transfer none): the page's trainer
 */
PxTrainer *
px_train_page_get_trainer (PxTrainPage *self)
{
  g_return_val_if_fail (PX_IS_TRAIN_PAGE (self), NULL);
  return self->trainer;
}

/**
 * px_train_page_get_loss_plot:
 *
 * Returns: (transfer none): the loss curves
 */
PxLossPlot *
px_train_page_get_loss_plot (PxTrainPage *self)
{
  g_return_val_if_fail (PX_IS_TRAIN_PAGE (self), NULL);
  return self->plot;
}
