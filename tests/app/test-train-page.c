// SPDX-License-Identifier: GPL-3.0-or-later
//
// GUI test of the training page under Xvfb, in a plain window and driven through its
// train.* actions: a dataset folder of eight Hannover radiographs and one broken file is
// scanned (8 usable, 1 unreadable and listed); a mini-preset run at 64 px starts, its
// progress properties rise, the loss plot draws points and the live sample's partner cells
// hold identical pixels; a pause stops the steps, the
// run continues, and a stop writes a checkpoint at the step reached, with a log.csv that
// has exactly one finite row per step. The real `peac train --resume` (argv[1]) continues
// that checkpoint; the page then offers the run for resuming and resumes it itself, and
// "Use This Model" makes the checkpoint's teacher the embedder's model. A 5 ms timeout on
// the main loop reports the longest gap while training; it reports and does not assert.
// A diverging run stops with a message and leaves the checkpoint of its last finite step;
// a checkpoint that cannot be written stops the run with a message.
// Closing the window during a run asks whether to keep training or stop (with a checkpoint);
// quitting stops the run and waits for its checkpoint. A run stopped and resumed on the
// page ends with a checkpoint byte-identical to an uninterrupted one. Fine-tuning starts
// from a model file's teacher weights. In the window, the page swaps the model in use and
// the window's close asks first.
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <sys/wait.h>

#include "model.h"
#include "px-application.h"
#include "px-test-util.h"
#include "px-train-page.h"
#include "px-window.h"

#define N_IMAGES 8
// Runs that the test stops itself: long enough that no machine finishes one while the test
// still talks to its dialogs (400 steps of 64 px finished under a close dialog once).
#define LONG_RUN 1000000

static const char *peac_path;
static gboolean app_shut_down;
static char *tmp_dir;

// g_ptr_array_sort hands the comparator pointers to the elements.
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

// Eight radiographs (one in a subfolder, to see the walk recurse) and a file that only
// pretends to be a PNG, made by the first test that needs them (each test sets up what it
// needs, so any one runs alone with -p). Fails when the shared radiographs are missing.
static char *
ensure_dataset (void)
{
  g_autofree char *src = g_build_filename (g_getenv ("PEAC_SHARED_DIR"), "data", "cxr",
                                           "hannover-covid19", "png", NULL);
  char *dataset = g_build_filename (tmp_dir, "dataset", NULL);
  g_autofree char *sub = g_build_filename (dataset, "more", NULL);
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *broken = g_build_filename (dataset, "broken.png", NULL);
  g_autoptr(GError) error = NULL;
  const char *name;

  if (g_file_test (broken, G_FILE_TEST_IS_REGULAR))
    return dataset;
  dir = g_dir_open (src, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, ".png"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_assert_cmpuint (names->len, >=, N_IMAGES);
  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  for (guint i = 0; i < N_IMAGES; i++)
    {
      g_autofree char *from = g_build_filename (src, g_ptr_array_index (names, i), NULL);
      g_autofree char *to = g_build_filename (i == 0 ? sub : dataset, g_ptr_array_index (names, i), NULL);
      g_autofree char *bytes = NULL;
      gsize len;

      g_assert_true (g_file_get_contents (from, &bytes, &len, NULL));
      g_assert_true (g_file_set_contents (to, bytes, len, NULL));
    }
  g_assert_true (g_file_set_contents (broken, "\x89PNG\r\n\x1a\nthis is not a PNG", -1, NULL));
  return dataset;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

static gboolean
is_paused (gpointer data)
{
  return px_trainer_get_state (data) == PX_TRAINER_PAUSED;
}

static gboolean
model_replaced (gpointer data)
{
  PxModel *model = px_embedder_get_model (data);

  return model != NULL && px_model_get_trained (model);
}

// Checks that log.csv holds the header and one row per step 1 … last, all finite.
static void
assert_log_intact (const char *folder,
                   long        last)
{
  g_autofree char *path = g_build_filename (folder, PX_TRAINER_LOG_NAME, NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  long expected = 1;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_true (g_str_has_prefix (lines[0], "step,total,order,restore,global,local"));
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], ",", -1);

      g_assert_cmpuint (g_strv_length (fields), ==, 8);
      g_assert_cmpint (g_ascii_strtoll (fields[0], NULL, 10), ==, expected);
      for (guint k = 1; k < 8; k++)
        g_assert_true (isfinite (g_ascii_strtod (fields[k], NULL)));
      expected++;
    }
  g_assert_cmpint (expected - 1, ==, last);
}

// After a resume past steps that the command line made (it keeps no log.csv): rows still
// strictly increasing, finite, and ending at the checkpoint's step.
static void
assert_log_increasing (const char *folder,
                       long        last)
{
  g_autofree char *path = g_build_filename (folder, PX_TRAINER_LOG_NAME, NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  long previous = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], ",", -1);
      long step = g_ascii_strtoll (fields[0], NULL, 10);

      g_assert_cmpuint (g_strv_length (fields), ==, 8);
      g_assert_cmpint (step, >, previous);
      g_assert_true (isfinite (g_ascii_strtod (fields[1], NULL)));
      previous = step;
    }
  g_assert_cmpint (previous, ==, last);
}

static void
test_run (void)
{
  g_autofree char *dataset = ensure_dataset ();
  g_autofree char *ckpt_dir = g_build_filename (tmp_dir, "run", NULL);
  g_autofree char *ckpt = g_build_filename (ckpt_dir, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autoptr(GFile) folder = NULL;
  g_autoptr(PxEmbedder) embedder = px_embedder_new ();
  GtkWidget *window, *widget;
  PxTrainPage *page;
  PxTrainer *trainer;
  PxTrainOptions options;
  PxTestStallProbe probe;
  PxTestStepWait wait;
  long paused_at, stopped_at;
  guint paused_points;


  window = gtk_window_new ();
  widget = px_train_page_new ();
  page = PX_TRAIN_PAGE (widget);
  trainer = px_train_page_get_trainer (page);
  gtk_window_set_child (GTK_WINDOW (window), widget);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 700);
  gtk_window_present (GTK_WINDOW (window));
  px_train_page_set_embedder (page, embedder);
  px_train_page_set_checkpoint_folder (page, ckpt_dir);
  g_assert_false (px_train_page_get_can_resume (page));
  px_test_settle ();

  // The dataset: counted in a worker, the broken file listed by name.
  folder = g_file_new_for_path (dataset);
  px_train_page_add_folder (page, folder);
  g_assert_true (px_test_wait_for (px_test_scan_done, page, 60));
  g_assert_cmpuint (px_train_page_get_n_usable (page), ==, N_IMAGES);
  g_assert_cmpuint (px_train_page_get_n_unreadable (page), ==, 1);
  g_assert_true (px_test_labels_contain (widget, "8 usable radiographs, 1 unreadable file"));
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (px_test_find_child (widget, ADW_TYPE_EXPANDER_ROW)),
                                 TRUE);
  px_test_settle ();
  g_assert_true (px_test_labels_contain (widget, "broken.png"));

  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = 400;
  options.batch = 2;
  options.threads = 2;
  options.save_every = 5;
  px_train_page_set_options (page, &options);
  // 400 steps of 2 images over 8 radiographs.
  g_assert_true (px_test_labels_contain (widget, "About 100.0 epochs of this dataset"));

  px_test_probe_start (&probe, G_PRIORITY_HIGH);
  g_assert_true (gtk_widget_activate_action (widget, "train.start", NULL));
  g_assert_true (px_trainer_get_active (trainer));
  wait = (PxTestStepWait) { trainer, 6 };
  g_assert_true (px_test_wait_for (px_test_step_reached, &wait, 60));
  g_assert_true (px_trainer_get_active (trainer));
  g_assert_cmpint (px_trainer_get_total_steps (trainer), ==, 400);
  g_assert_cmpfloat (px_trainer_get_fraction (trainer), >, 0);
  g_assert_cmpfloat (px_trainer_get_images_per_second (trainer), >, 0);
  g_assert_cmpfloat (px_trainer_get_eta (trainer), >, 0);
  g_assert_cmpuint (px_trainer_get_points (trainer)->len, ==, (guint) px_trainer_get_step (trainer));
  g_assert_true (isfinite (g_array_index (px_trainer_get_points (trainer), PxLossPoint, 0).total));
  px_test_settle ();
  g_assert_cmpuint (px_loss_plot_get_n_drawn (px_train_page_get_loss_plot (page)), >, 0);
  // The live sample: partner cells of the two crops hold the same pixels, and the student's
  // restoration is an image, not a constant.
  {
    const PxTrainSample *sample = px_trainer_get_sample (trainer);
    int n_pairs = 0, G, c;
    guint8 lo = 255, hi = 0;

    g_assert_nonnull (sample);
    G = sample->grid;
    c = sample->cell;
    g_assert_cmpint (G, ==, 4);
    g_assert_cmpint (sample->side, ==, 64);
    for (int i = 0; i < G * G; i++)
      {
        int j = sample->pair[i];

        if (j < 0)
          continue;
        n_pairs++;
        for (int y = 0; y < c; y++)
          g_assert_cmpmem (sample->clean + ((i / G) * c + y) * sample->side + (i % G) * c, c,
                           sample->crop2 + ((j / G) * c + y) * sample->side + (j % G) * c, c);
      }
    g_assert_cmpint (n_pairs, >, 0);
    for (int i = 0; i < sample->side * sample->side; i++)
      lo = MIN (lo, sample->restored[i]), hi = MAX (hi, sample->restored[i]);
    g_assert_cmpint (hi, >, lo);
  }
  // A checkpoint exists from step 5, so the model can be used mid-run.
  g_assert_cmpint (px_trainer_get_saved_step (trainer), >=, 5);

  // Pause: once the worker confirms, no step completes.
  g_assert_true (gtk_widget_activate_action (widget, "train.pause", NULL));
  g_assert_true (px_test_wait_for (is_paused, trainer, 60));
  paused_at = px_trainer_get_step (trainer);
  paused_points = px_trainer_get_points (trainer)->len;
  px_test_wait_for (never, NULL, 1);
  px_test_settle ();
  g_assert_cmpint (px_trainer_get_step (trainer), ==, paused_at);
  g_assert_cmpuint (px_trainer_get_points (trainer)->len, ==, paused_points);
  g_assert_false (gtk_widget_activate_action (widget, "train.start", NULL) &&
                  px_trainer_get_state (trainer) != PX_TRAINER_PAUSED);

  // Continue, then stop: the checkpoint is written at the step reached.
  g_assert_true (gtk_widget_activate_action (widget, "train.resume", NULL));
  wait = (PxTestStepWait) { trainer, paused_at + 3 };
  g_assert_true (px_test_wait_for (px_test_step_reached, &wait, 60));
  g_assert_cmpint (px_trainer_get_step (trainer), >=, paused_at + 3);
  g_assert_true (gtk_widget_activate_action (widget, "train.cancel", NULL));
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 60));
  g_test_message ("worst main-loop gap while training (micro, 64 px, batch 2, 2 threads): %.1f ms",
                  px_test_probe_stop (&probe));
  stopped_at = px_trainer_get_step (trainer);
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_CANCELLED);
  g_assert_cmpint (px_trainer_get_saved_step (trainer), ==, stopped_at);
  g_assert_cmpstr (px_trainer_get_checkpoint (trainer), ==, ckpt);
  g_assert_true (g_file_test (ckpt, G_FILE_TEST_IS_REGULAR));
  assert_log_intact (ckpt_dir, stopped_at);
  g_assert_true (px_train_page_get_can_resume (page));

  // The command line continues the checkpoint (two steps, then stops and saves as on SIGINT).
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *expect = g_strdup_printf ("resuming from step %ld", stopped_at);
    g_autoptr(GError) error = NULL;
    const char *argv[] = { peac_path, "train", "--resume", ckpt, "--threads", "2",
                           "--stop-after", "2", dataset, NULL };
    int status = 0;
    long cli_step = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &out, &err, &status, &error));
    g_assert_no_error (error);
    g_test_message ("peac train --resume: %s", out);
    g_assert_true (WIFEXITED (status));
    g_assert_cmpint (WEXITSTATUS (status), ==, 130);
    g_assert_nonnull (strstr (out, expect));
    g_assert_true (px_trainer_probe_checkpoint (ckpt_dir, &cli_step, NULL));
    g_assert_cmpint (cli_step, ==, stopped_at + 2);
  }

  // The page resumes the run the CLI left: from its step, with the log's history on the plot.
  px_train_page_set_checkpoint_folder (page, ckpt_dir);
  g_assert_true (px_train_page_get_can_resume (page));
  g_assert_true (gtk_widget_activate_action (widget, "train.resume-checkpoint", NULL));
  wait = (PxTestStepWait) { trainer, stopped_at + 4 };
  g_assert_true (px_test_wait_for (px_test_step_reached, &wait, 60));
  g_assert_true (px_trainer_get_active (trainer));
  g_assert_cmpint (px_trainer_get_total_steps (trainer), ==, 400);
  g_assert_cmpint (g_array_index (px_trainer_get_points (trainer), PxLossPoint, 0).step, ==, 1);
  g_assert_true (gtk_widget_activate_action (widget, "train.cancel", NULL));
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 60));
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_CANCELLED);
  g_assert_cmpint (px_trainer_get_saved_step (trainer), >=, stopped_at + 4);
  assert_log_increasing (ckpt_dir, px_trainer_get_saved_step (trainer));

  // Use This Model: the embedder's model becomes the checkpoint's trained teacher.
  g_assert_false (px_model_get_trained (px_embedder_get_model (embedder)));
  g_assert_true (gtk_widget_activate_action (widget, "train.use-model", NULL));
  g_assert_true (px_test_wait_for (model_replaced, embedder, 60));
  {
    int gh, gw, dim;

    px_model_get_grid (px_embedder_get_model (embedder), &gh, &gw, &dim);
    g_assert_cmpint (gh, ==, 4);
    g_assert_cmpint (gw, ==, 4);
    g_assert_cmpint (dim, ==, 64);
  }

  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

// The usable images of the shared test dataset (the run test made it; NULL when it did not).
static GPtrArray *
dataset_images (const char *dataset)
{
  g_autoptr(GDir) dir = g_dir_open (dataset, 0, NULL);
  GPtrArray *paths;
  const char *name;

  if (dir == NULL)
    return NULL;
  paths = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)))
    if (g_str_has_suffix (name, ".png") && !g_str_equal (name, "broken.png"))
      g_ptr_array_add (paths, g_build_filename (dataset, name, NULL));
  return paths;
}

// A learning rate of 1e30 makes the loss non-finite on the second step: the run fails with
// a message that says so, and the checkpoint of step 1 is what stays.
static void
test_nan_keeps_checkpoint (void)
{
  g_autofree char *dataset = ensure_dataset ();
  g_autofree char *ckpt_dir = g_build_filename (tmp_dir, "nan", NULL);
  g_autoptr(PxTrainer) trainer = px_trainer_new ();
  g_autoptr(GPtrArray) paths = dataset_images (dataset);
  g_autoptr(GError) error = NULL;
  PxTrainOptions options;
  long step = -1;


  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = 50;
  options.batch = 2;
  options.threads = 2;
  options.save_every = 1;
  options.lr = 1e30;
  g_assert_true (px_trainer_start (trainer, &options, paths, ckpt_dir, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 60));
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_FAILED);
  g_test_message ("%s", px_trainer_get_message (trainer));
  g_assert_nonnull (strstr (px_trainer_get_message (trainer), "finite"));
  g_assert_cmpint (px_trainer_get_saved_step (trainer), ==, px_trainer_get_step (trainer));
  g_assert_cmpint (px_trainer_get_step (trainer), >=, 1);
  g_assert_true (px_trainer_probe_checkpoint (ckpt_dir, &step, NULL));
  g_assert_cmpint (step, ==, px_trainer_get_step (trainer));
  assert_log_intact (ckpt_dir, step);
}

// A checkpoint that cannot be written (here a folder sits where the file goes, as good as a
// full disk for the writer) stops the run with a message that says so.
static void
test_unwritable_checkpoint (void)
{
  g_autofree char *dataset = ensure_dataset ();
  g_autofree char *ckpt_dir = g_build_filename (tmp_dir, "unwritable", NULL);
  g_autofree char *blocker = g_build_filename (ckpt_dir, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autoptr(PxTrainer) trainer = px_trainer_new ();
  g_autoptr(GPtrArray) paths = NULL;
  g_autoptr(GError) error = NULL;
  PxTrainOptions options;

  g_assert_cmpint (g_mkdir_with_parents (blocker, 0755), ==, 0);
  paths = dataset_images (dataset);
  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = 50;
  options.batch = 2;
  options.threads = 2;
  options.save_every = 2;
  g_assert_true (px_trainer_start (trainer, &options, paths, ckpt_dir, FALSE, &error));
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 60));
  g_test_message ("%s", px_trainer_get_message (trainer));
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_FAILED);
  g_assert_cmpint (px_trainer_get_step (trainer), <, 50);
  g_assert_cmpint (px_trainer_get_saved_step (trainer), ==, -1);
  g_assert_nonnull (strstr (px_trainer_get_message (trainer), "checkpoint cannot be written"));
}

static gboolean
on_close_request (GtkWindow   *window,
                  PxTrainPage *page)
{
  return px_train_page_confirm_close (page);
}

static AdwMessageDialog *
find_dialog (void)
{
  return (AdwMessageDialog *) px_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG);
}

static gboolean
dialog_shown (gpointer data)
{
  return find_dialog () != NULL;
}

static gboolean
window_gone (gpointer data)
{
  return *(GtkWidget **) data == NULL;
}

// Closing the window while training asks first: "keep" leaves window and run alone, "stop"
// closes the window and the run ends with a checkpoint.
static void
test_close_asks (void)
{
  g_autofree char *dataset = ensure_dataset ();
  g_autofree char *ckpt_dir = g_build_filename (tmp_dir, "close", NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (dataset);
  g_autoptr(PxTrainer) trainer = NULL;
  GtkWidget *window, *widget;
  PxTrainOptions options;
  PxTestStepWait wait;
  long step = -1;

  window = gtk_window_new ();
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  widget = px_train_page_new ();
  trainer = g_object_ref (px_train_page_get_trainer (PX_TRAIN_PAGE (widget)));
  gtk_window_set_child (GTK_WINDOW (window), widget);
  g_signal_connect (window, "close-request", G_CALLBACK (on_close_request), widget);
  gtk_window_present (GTK_WINDOW (window));
  px_train_page_set_checkpoint_folder (PX_TRAIN_PAGE (widget), ckpt_dir);
  px_train_page_add_folder (PX_TRAIN_PAGE (widget), folder);
  g_assert_true (px_test_wait_for (px_test_scan_done, widget, 60));
  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = LONG_RUN;
  options.batch = 2;
  options.threads = 2;
  px_train_page_set_options (PX_TRAIN_PAGE (widget), &options);
  g_assert_true (gtk_widget_activate_action (widget, "train.start", NULL));
  wait = (PxTestStepWait) { trainer, 2 };
  g_assert_true (px_test_wait_for (px_test_step_reached, &wait, 60));

  gtk_window_close (GTK_WINDOW (window));
  g_assert_true (px_test_wait_for (dialog_shown, NULL, 10));
  adw_message_dialog_response (find_dialog (), "keep");
  px_test_settle ();
  g_assert_nonnull (window);
  g_assert_true (px_trainer_get_active (trainer));
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_RUNNING);

  gtk_window_close (GTK_WINDOW (window));
  g_assert_true (px_test_wait_for (dialog_shown, NULL, 10));
  adw_message_dialog_response (find_dialog (), "stop");
  g_assert_true (px_test_wait_for (window_gone, &window, 10));
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 60));
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_CANCELLED);
  g_assert_true (px_trainer_probe_checkpoint (ckpt_dir, &step, NULL));
  g_assert_cmpint (step, ==, px_trainer_get_step (trainer));
}

static void
run_to_end (PxTrainer            *trainer,
            const PxTrainOptions *options,
            GPtrArray            *paths,
            const char           *folder,
            gboolean              resume,
            long                  stop_at)
{
  g_autoptr(GError) error = NULL;
  PxTestStepWait wait = { trainer, stop_at };

  g_assert_true (px_trainer_start (trainer, options, paths, folder, resume, &error));
  g_assert_no_error (error);
  if (stop_at > 0)
    {
      g_assert_true (px_test_wait_for (px_test_step_reached, &wait, 60));
      px_trainer_cancel (trainer);
    }
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 120));
}

// The options of the 12-step micro run whose checkpoint several tests start from.
static void
straight_options (PxTrainOptions *options)
{
  px_trainer_options_defaults (options);
  options->img_size = 64;
  options->steps = 12;
  options->batch = 2;
  options->threads = 2;
  options->save_every = 0;
}

// The folder of that run's checkpoint, trained by the first test that needs it.
static char *
ensure_straight_run (void)
{
  char *dir = g_build_filename (tmp_dir, "straight", NULL);
  g_autofree char *ckpt = g_build_filename (dir, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autofree char *dataset = ensure_dataset ();
  g_autoptr(PxTrainer) trainer = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  PxTrainOptions options;

  if (g_file_test (ckpt, G_FILE_TEST_IS_REGULAR))
    return dir;
  trainer = px_trainer_new ();
  paths = dataset_images (dataset);
  straight_options (&options);
  run_to_end (trainer, &options, paths, dir, FALSE, 0);
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_DONE);
  g_assert_cmpint (px_trainer_get_step (trainer), ==, 12);
  return dir;
}

// A run stopped and resumed from its checkpoint ends bit-identical to one that was not:
// neither the live sample (its own rng, taken at whatever steps the clock says) nor the
// stop disturbs the session.
static void
test_resume_identical (void)
{
  g_autofree char *dataset = ensure_dataset ();
  g_autofree char *dir_a = ensure_straight_run ();
  g_autofree char *dir_b = g_build_filename (tmp_dir, "interrupted", NULL);
  g_autofree char *ckpt_a = g_build_filename (dir_a, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autofree char *ckpt_b = g_build_filename (dir_b, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autoptr(PxTrainer) trainer = px_trainer_new ();
  g_autoptr(GPtrArray) paths = NULL;
  g_autofree char *a = NULL, *b = NULL;
  gsize len_a, len_b;
  PxTrainOptions options;

  paths = dataset_images (dataset);
  straight_options (&options);
  run_to_end (trainer, &options, paths, dir_b, FALSE, 4);
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_CANCELLED);
  g_assert_cmpint (px_trainer_get_step (trainer), <, 12);
  run_to_end (trainer, &options, paths, dir_b, TRUE, 0);
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_DONE);
  g_assert_cmpint (px_trainer_get_step (trainer), ==, 12);

  g_assert_true (g_file_get_contents (ckpt_a, &a, &len_a, NULL));
  g_assert_true (g_file_get_contents (ckpt_b, &b, &len_b, NULL));
  g_assert_cmpmem (a, len_a, b, len_b);
  assert_log_intact (dir_b, 12);
}

static double
max_difference (const char *a,
                const char *b,
                const char *tensor)
{
  char err[256];
  PeacModel *ma = peac_model_load (a, err, sizeof err);
  PeacModel *mb = peac_model_load (b, err, sizeof err);
  PeacParam *pa, *pb;
  double worst = 0;

  g_assert_nonnull (ma);
  g_assert_nonnull (mb);
  pa = peac_params_find (peac_model_params (ma), tensor);
  pb = peac_params_find (peac_model_params (mb), tensor);
  g_assert_nonnull (pa);
  g_assert_nonnull (pb);
  g_assert_cmpuint (pa->numel, ==, pb->numel);
  for (size_t i = 0; i < pa->numel; i++)
    worst = MAX (worst, fabs (pa->data[i] - pb->data[i]));
  peac_model_free (ma);
  peac_model_free (mb);
  return worst;
}

// Fine-tuning: a one-step run at a tiny learning rate from the stopped run's checkpoint
// keeps its teacher's weights (EMA of a barely moved student), while a run from scratch
// with the same seed has others; the model file's configuration wins over the preset.
static void
test_fine_tune (void)
{
  g_autofree char *dataset = ensure_dataset ();
  g_autofree char *straight = ensure_straight_run ();
  g_autofree char *init = g_build_filename (straight, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autofree char *dir_tuned = g_build_filename (tmp_dir, "tuned", NULL);
  g_autofree char *dir_fresh = g_build_filename (tmp_dir, "fresh", NULL);
  g_autofree char *tuned = g_build_filename (dir_tuned, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autofree char *fresh = g_build_filename (dir_fresh, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autoptr(PxTrainer) trainer = px_trainer_new ();
  g_autoptr(GPtrArray) paths = NULL;
  PxTrainOptions options;
  double kept, other;

  paths = dataset_images (dataset);
  px_trainer_options_defaults (&options);
  options.img_size = 224;  // the file's 64 must win
  options.steps = 1;
  options.batch = 2;
  options.threads = 2;
  options.lr = 1e-6;
  options.seed = 7;
  options.init_from = init;
  run_to_end (trainer, &options, paths, dir_tuned, FALSE, 0);
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_DONE);
  options.init_from = NULL;
  options.img_size = 64;
  run_to_end (trainer, &options, paths, dir_fresh, FALSE, 0);
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_DONE);

  kept = max_difference (init, tuned, "blocks.0.attn.qkv.weight");
  other = max_difference (init, fresh, "blocks.0.attn.qkv.weight");
  g_test_message ("teacher qkv weights: fine-tuned differ by %.2g, fresh by %.2g", kept, other);
  g_assert_cmpfloat (kept, <, 1e-3);
  g_assert_cmpfloat (other, >, 1e-2);

  // A file that is not a model fails with its name in the message.
  options.init_from = dataset;
  run_to_end (trainer, &options, paths, dir_fresh, FALSE, 0);
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_FAILED);
  g_assert_nonnull (strstr (px_trainer_get_message (trainer), "dataset"));
}

static GBytes *
read_bytes (const char *folder,
            const char *name)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static gboolean
resumed_past (gpointer data)
{
  PxTestStepWait *w = data;

  return px_trainer_get_state (w->trainer) == PX_TRAINER_RUNNING && px_trainer_get_step (w->trainer) > w->step;
}

// Start on a folder that holds a run never replaces it: a dialog offers to resume it or to
// start in a new folder beside it, and the earlier checkpoint and log stay byte for byte.
// A new page on that folder shows the run at its top and resumes it without any dataset
// being added: the checkpoint names its data folders (`peac.run`, as `peac train` reads it).
static void
test_never_overwrite (void)
{
  g_autofree char *dataset = ensure_dataset ();
  g_autofree char *ckpt_dir = g_build_filename (tmp_dir, "keep", NULL);
  g_autofree char *next_dir = g_build_filename (tmp_dir, "keep-2", NULL);
  g_autoptr(GFile) folder = NULL;
  g_autoptr(GBytes) ckpt_before = NULL, log_before = NULL, ckpt_after = NULL, log_after = NULL;
  GtkWidget *window, *widget;
  PxTrainer *trainer;
  PxTrainOptions options;
  AdwMessageDialog *dialog;
  PxTestStepWait wait;
  long stopped_at = -1;

  folder = g_file_new_for_path (dataset);
  window = gtk_window_new ();
  widget = px_train_page_new ();
  trainer = px_train_page_get_trainer (PX_TRAIN_PAGE (widget));
  gtk_window_set_child (GTK_WINDOW (window), widget);
  gtk_window_set_default_size (GTK_WINDOW (window), 1024, 700);
  gtk_window_present (GTK_WINDOW (window));
  px_train_page_set_checkpoint_folder (PX_TRAIN_PAGE (widget), ckpt_dir);
  px_train_page_add_folder (PX_TRAIN_PAGE (widget), folder);
  g_assert_true (px_test_wait_for (px_test_scan_done, widget, 60));
  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = LONG_RUN;
  options.batch = 2;
  options.threads = 2;
  options.save_every = 0;
  px_train_page_set_options (PX_TRAIN_PAGE (widget), &options);
  g_assert_true (gtk_widget_activate_action (widget, "train.start", NULL));
  g_assert_null (find_dialog ());
  wait = (PxTestStepWait) { trainer, 3 };
  g_assert_true (px_test_wait_for (px_test_step_reached, &wait, 60));
  g_assert_true (gtk_widget_activate_action (widget, "train.cancel", NULL));
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 60));
  g_assert_true (px_trainer_probe_checkpoint (ckpt_dir, &stopped_at, NULL));
  g_assert_cmpint (stopped_at, >=, 3);
  ckpt_before = read_bytes (ckpt_dir, PX_TRAINER_CHECKPOINT_NAME);
  log_before = read_bytes (ckpt_dir, PX_TRAINER_LOG_NAME);
  px_test_settle ();
  g_assert_true (px_test_labels_contain (widget, "holds a run stopped at step"));

  // Start again: a question, no run; Cancel leaves everything as it was.
  g_assert_true (gtk_widget_activate_action (widget, "train.start", NULL));
  g_assert_true (px_test_wait_for (dialog_shown, NULL, 10));
  g_assert_false (px_trainer_get_active (trainer));
  adw_message_dialog_response (find_dialog (), "cancel");
  gtk_window_destroy (GTK_WINDOW (find_dialog ()));
  px_test_settle ();
  g_assert_false (px_trainer_get_active (trainer));
  g_assert_cmpstr (px_train_page_get_checkpoint_folder (PX_TRAIN_PAGE (widget)), ==, ckpt_dir);

  // "Start in a New Folder": the run goes to keep-2, the earlier one is untouched.
  g_assert_true (gtk_widget_activate_action (widget, "train.start", NULL));
  g_assert_true (px_test_wait_for (dialog_shown, NULL, 10));
  dialog = find_dialog ();
  g_assert_true (adw_message_dialog_get_response_enabled (dialog, "resume"));
  adw_message_dialog_response (dialog, "new");
  gtk_window_destroy (GTK_WINDOW (dialog));
  px_test_settle ();
  g_assert_cmpstr (px_train_page_get_checkpoint_folder (PX_TRAIN_PAGE (widget)), ==, next_dir);
  g_assert_true (px_trainer_get_active (trainer));
  wait = (PxTestStepWait) { trainer, 2 };
  g_assert_true (px_test_wait_for (px_test_step_reached, &wait, 60));
  g_assert_true (gtk_widget_activate_action (widget, "train.cancel", NULL));
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 60));
  g_assert_true (px_trainer_probe_checkpoint (next_dir, NULL, NULL));
  ckpt_after = read_bytes (ckpt_dir, PX_TRAINER_CHECKPOINT_NAME);
  log_after = read_bytes (ckpt_dir, PX_TRAINER_LOG_NAME);
  g_assert_true (g_bytes_equal (ckpt_before, ckpt_after));
  g_assert_true (g_bytes_equal (log_before, log_after));
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();

  // A fresh page on the first folder, no dataset added: the resume bar is on screen at the
  // top and its button resumes the run on the folders the checkpoint names.
  window = gtk_window_new ();
  widget = px_train_page_new ();
  trainer = px_train_page_get_trainer (PX_TRAIN_PAGE (widget));
  gtk_window_set_child (GTK_WINDOW (window), widget);
  gtk_window_set_default_size (GTK_WINDOW (window), 1024, 700);
  gtk_window_present (GTK_WINDOW (window));
  px_train_page_set_checkpoint_folder (PX_TRAIN_PAGE (widget), ckpt_dir);
  px_test_settle ();
  g_assert_cmpuint (px_train_page_get_n_usable (PX_TRAIN_PAGE (widget)), ==, 0);
  g_assert_true (px_test_labels_contain (widget, "Resuming continues it on the data folders"));
  {
    GtkWidget *button = px_test_find_child (widget, GTK_TYPE_BUTTON);
    graphene_point_t top;

    // The first button of the page is the bar's, and it is in the window's top 100 pixels.
    g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==, "train.resume-checkpoint");
    g_assert_true (gtk_widget_get_mapped (button));
    g_assert_true (gtk_widget_compute_point (button, window, &GRAPHENE_POINT_INIT (0, 0), &top));
    g_assert_cmpfloat (top.y, <, 100);
    g_assert_true (gtk_widget_is_sensitive (button));
  }
  g_assert_true (gtk_widget_activate_action (widget, "train.resume-checkpoint", NULL));
  wait = (PxTestStepWait) { trainer, stopped_at };
  g_assert_true (px_test_wait_for (resumed_past, &wait, 120));
  g_assert_cmpuint (px_train_page_get_n_usable (PX_TRAIN_PAGE (widget)), ==, N_IMAGES);
  g_assert_true (gtk_widget_activate_action (widget, "train.cancel", NULL));
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 60));
  assert_log_intact (ckpt_dir, px_trainer_get_saved_step (trainer));
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

static gboolean
model_named (gpointer data)
{
  PxModel *model = px_embedder_get_model (px_window_get_embedder (data));

  return model != NULL && g_str_equal (px_model_get_name (model), PX_TRAINER_CHECKPOINT_NAME);
}

// In the window: the page is in the view stack, "Use This Model" swaps the window's model
// in use, and closing the window during a run asks first.
static void
test_in_window (void)
{
  g_autofree char *dataset = ensure_dataset ();
  g_autofree char *ckpt_dir = ensure_straight_run ();
  g_autofree char *run_dir = g_build_filename (tmp_dir, "window", NULL);
  g_autoptr(GFile) folder = g_file_new_for_path (dataset);
  GtkApplication *app = GTK_APPLICATION (g_application_get_default ());
  PxWindow *window;
  PxTrainPage *page;
  g_autoptr(PxTrainer) trainer = NULL;  // outlives the window
  PxTrainOptions options;
  PxTestStepWait wait;

  g_application_activate (G_APPLICATION (app));
  window = PX_WINDOW (gtk_application_get_active_window (app));
  g_assert_true (PX_IS_WINDOW (window));
  gtk_window_present (GTK_WINDOW (window));
  page = px_window_get_train_page (window);
  g_assert_true (PX_IS_TRAIN_PAGE (page));
  trainer = g_object_ref (px_train_page_get_trainer (page));
  px_window_show_page (window, "training");
  px_test_settle ();
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (page)));

  px_train_page_set_checkpoint_folder (page, ckpt_dir);
  g_assert_true (px_train_page_get_can_resume (page));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "train.use-model", NULL));
  g_assert_true (px_test_wait_for (model_named, window, 60));
  g_assert_true (px_model_get_trained (px_embedder_get_model (px_window_get_embedder (window))));

  px_train_page_set_checkpoint_folder (page, run_dir);
  px_train_page_add_folder (page, folder);
  g_assert_true (px_test_wait_for (px_test_scan_done, page, 60));
  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = LONG_RUN;
  options.batch = 2;
  options.threads = 2;
  px_train_page_set_options (page, &options);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "train.start", NULL));
  wait = (PxTestStepWait) { trainer, 2 };
  g_assert_true (px_test_wait_for (px_test_step_reached, &wait, 60));
  gtk_window_close (GTK_WINDOW (window));
  g_assert_true (px_test_wait_for (dialog_shown, NULL, 10));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));
  adw_message_dialog_response (find_dialog (), "stop");
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 60));
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_CANCELLED);
  g_assert_true (px_trainer_probe_checkpoint (run_dir, NULL, NULL));
  px_test_settle ();
}

// Quitting (the application's shutdown) during a run stops it and waits for its checkpoint.
// Runs last: the application is shut down for good.
static void
test_quit_saves (void)
{
  g_autofree char *dataset = ensure_dataset ();
  g_autofree char *ckpt_dir = g_build_filename (tmp_dir, "quit", NULL);
  g_autoptr(PxTrainer) trainer = px_trainer_new ();
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  PxTrainOptions options;
  PxTestStepWait wait;
  long step = -1;

  g_ptr_array_add (paths, g_build_filename (dataset, "broken.png", NULL));
  {
    g_autoptr(GDir) dir = g_dir_open (dataset, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name (dir)))
      if (g_str_has_suffix (name, ".png"))
        g_ptr_array_add (paths, g_build_filename (dataset, name, NULL));
  }
  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = LONG_RUN;
  options.batch = 2;
  options.threads = 2;
  options.save_every = 0;
  g_assert_true (px_trainer_start (trainer, &options, paths, ckpt_dir, FALSE, &error));
  wait = (PxTestStepWait) { trainer, 2 };
  g_assert_true (px_test_wait_for (px_test_step_reached, &wait, 60));
  g_assert_false (px_trainer_probe_checkpoint (ckpt_dir, NULL, NULL));

  g_signal_emit_by_name (g_application_get_default (), "shutdown");
  app_shut_down = TRUE;
  g_assert_false (px_trainer_get_active (trainer));
  g_assert_true (px_trainer_probe_checkpoint (ckpt_dir, &step, NULL));
  g_assert_cmpint (step, >=, 2);
}

int
main (int   argc,
      char *argv[])
{
  PxApplication *app;
  int ret;

  app = px_test_app_setup (&argc, &argv, "train-page", &tmp_dir);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];

  g_test_add_func ("/train-page/run-pause-stop-resume", test_run);
  g_test_add_func ("/train-page/nan-keeps-checkpoint", test_nan_keeps_checkpoint);
  g_test_add_func ("/train-page/unwritable-checkpoint", test_unwritable_checkpoint);
  g_test_add_func ("/train-page/close-asks", test_close_asks);
  g_test_add_func ("/train-page/resume-identical", test_resume_identical);
  g_test_add_func ("/train-page/fine-tune", test_fine_tune);
  g_test_add_func ("/train-page/never-overwrite", test_never_overwrite);
  g_test_add_func ("/train-page/in-window", test_in_window);
  g_test_add_func ("/train-page/quit-saves", test_quit_saves);

  ret = g_test_run ();

  // Shut down outside g_application_run(), the application would warn when finalised that
  // it is still on the bus; it is left to the end of the process.
  px_test_app_teardown (app_shut_down ? NULL : app, tmp_dir);
  return ret;
}
