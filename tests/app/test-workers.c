// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-workers: every worker of the app hands its results to the main thread, even when
// the main thread is not iterating the default main context — the moment when no thread
// owns it, and g_main_context_invoke() would run the callback on the worker instead. Each
// worker (the study embedder, the map job, the linear-probe page, the trainer) is started
// on the bundled sample radiographs, the main thread then sleeps without iterating while
// the worker produces results, and only then iterates until the work is done. Every
// callback notes the thread it runs on: none may run during the sleep (nothing iterates),
// at least one must run afterwards, and all on the main thread. The embedder starts
// without a model, as a window's does while its default model loads, and runs nothing then.
#include <stdatomic.h>

#include <glib/gstdio.h>

#include "px-application.h"
#include "px-embedder.h"
#include "px-map-job.h"
#include "px-probe-page.h"
#include "px-test-util.h"
#include "px-trainer.h"
#include "px-window.h"

// Long enough for each worker to post several results on a busy two-core machine.
#define STARVE_US (2 * G_USEC_PER_SEC)

static PxApplication *app;
static char *tmp_dir, *samples;
static GThread *main_thread;
static atomic_int n_calls, n_off_main;

static void
note_thread (void)
{
  atomic_fetch_add (&n_calls, 1);
  if (g_thread_self () != main_thread)
    atomic_fetch_add (&n_off_main, 1);
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    data)
{
  note_thread ();
}

static void
on_embedded (PxEmbedder *embedder,
             PxStudy    *study,
             gpointer    data)
{
  note_thread ();
}

static void
on_finished (PxTrainer *trainer,
             gpointer   data)
{
  note_thread ();
}

static void
reset_counts (void)
{
  atomic_store (&n_calls, 0);
  atomic_store (&n_off_main, 0);
}

// The main thread sleeps without iterating: no thread owns the default context. Nothing
// may have been delivered meanwhile — a delivery now ran on some other thread.
static void
starve_main_loop (void)
{
  g_assert_false (g_main_context_is_owner (g_main_context_default ()));
  g_usleep (STARVE_US);
  g_assert_cmpint (atomic_load (&n_off_main), ==, 0);
  g_assert_cmpint (atomic_load (&n_calls), ==, 0);
}

// After iterating to the end: results came, all on the main thread.
static void
assert_all_on_main (const char *worker)
{
  g_test_message ("%s: %d results delivered", worker, atomic_load (&n_calls));
  g_assert_cmpint (atomic_load (&n_calls), >, 0);
  g_assert_cmpint (atomic_load (&n_off_main), ==, 0);
}

static char *
sample_path (const char *name)
{
  return g_build_filename (samples, name, NULL);
}

static void
on_study_loaded (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  g_autoptr(GError) error = NULL;

  *(PxStudy **) data = px_study_load_finish (result, &error);
  g_assert_no_error (error);
}

static PxStudy *
load_study (const char *name)
{
  g_autofree char *path = sample_path (name);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  PxStudy *study = NULL;

  px_study_load_async (file, NULL, on_study_loaded, &study);
  while (study == NULL)
    g_main_context_iteration (NULL, TRUE);
  return study;
}

// ---- The study embedder

static gboolean
embedder_idle (gpointer data)
{
  return !px_embedder_get_busy (data);
}

static void
test_embedder (void)
{
  // Without a model, as a window's while its default model loads.
  g_autoptr(PxEmbedder) embedder = px_embedder_new_with_model (NULL);
  g_autoptr(PxModel) model = px_model_new_micro ();
  PxStudy *studies[2] = { load_study ("hannover-4d98e1de.png"), load_study ("nih-00000001_000.png") };

  // Nothing is queued or run until there is a model; the pages ask again on notify::model.
  g_assert_false (px_embedder_request (embedder, studies, 2));
  g_assert_false (px_embedder_get_busy (embedder));
  g_assert_null (px_embedder_lookup (embedder, studies[0]));
  px_embedder_set_model (embedder, model);
  g_signal_connect (embedder, "embedded", G_CALLBACK (on_embedded), NULL);
  g_signal_connect (embedder, "notify::progress", G_CALLBACK (on_notify), NULL);
  reset_counts ();
  g_assert_false (px_embedder_request (embedder, studies, 2));  // not ready: queued
  reset_counts ();  // what the request itself announced, on this thread
  starve_main_loop ();
  g_assert_true (px_test_wait_for (embedder_idle, embedder, 120));
  assert_all_on_main ("embedder");
  g_assert_nonnull (px_embedder_lookup (embedder, studies[0]));
  g_assert_nonnull (px_embedder_lookup (embedder, studies[1]));
  g_object_unref (studies[0]);
  g_object_unref (studies[1]);
}

// ---- The map job

typedef struct {
  PxMapResult *result;
  gboolean     done;
} MapRun;

static void
on_map_progress (gpointer            data,
                 int                 iter,
                 int                 n_iter,
                 const float        *Y,
                 int                 n,
                 const char * const *labels,
                 int                 n_labels)
{
  note_thread ();
}

static void
on_map_done (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  MapRun *run = data;
  g_autoptr(GError) error = NULL;

  note_thread ();
  run->result = px_map_job_run_finish (result, &error);
  g_assert_no_error (error);
  run->done = TRUE;
}

static gboolean
map_done (gpointer data)
{
  return ((MapRun *) data)->done;
}

static void
test_map_job (void)
{
  const char *names[] = { "hannover-4d98e1de.png", "hannover-7afaaccc.png", "nih-00000001_000.png" };
  g_autoptr(PxModel) model = px_model_new_micro ();
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) px_map_source_free);
  g_autoptr(GObject) progress_data = g_object_new (G_TYPE_OBJECT, NULL);
  MapRun run = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      PxMapSource *source = g_new0 (PxMapSource, 1);
      const PxImage *image;

      source->study = load_study (names[i]);
      image = px_study_get_image (source->study);
      source->set = px_landmark_set_new ();
      source->name = g_strdup (names[i]);
      for (int k = 0; k < 6; k++)
        {
          g_autofree char *name = g_strdup_printf ("p%d", k);

          px_landmark_set_add (source->set, name, NULL, k, image->width * (k + 1) / 8.0,
                               image->height * (k % 3 + 1) / 4.0, NULL);
        }
      g_ptr_array_add (sources, source);
    }
  reset_counts ();
  px_map_job_run_async (model, sources, NULL, NULL, 0, on_map_progress, progress_data, NULL,
                        on_map_done, &run);
  starve_main_loop ();
  g_assert_true (px_test_wait_for (map_done, &run, 120));
  assert_all_on_main ("map job");
  g_assert_nonnull (run.result);
  g_assert_cmpuint (run.result->points->len, ==, 6 * G_N_ELEMENTS (names));
  px_map_result_free (run.result);
}

// ---- The linear-probe page

static void
test_probe_page (void)
{
  const char *names[] = { "hannover-4d98e1de.png", "hannover-7afaaccc.png",
                          "hannover-80b5f00f.png", "hannover-ec083e35.png",
                          "nih-00000001_000.png", "nih-00027426_000.png" };
  g_autoptr(GString) csv = g_string_new ("image,split,a\n");
  g_autofree char *csv_path = g_build_filename (tmp_dir, "labels.csv", NULL);
  g_autoptr(GFile) labels = g_file_new_for_path (csv_path);
  g_autoptr(PxModel) model = px_model_new_micro ();
  PxWindow *window;
  GtkWidget *page;

  // 8 training and 4 validation rows, both classes in each.
  for (int i = 0; i < 12; i++)
    {
      g_autofree char *path = sample_path (names[i % G_N_ELEMENTS (names)]);

      g_string_append_printf (csv, "%s,%s,%d\n", path, i < 8 ? "train" : "val", i % 2);
    }
  g_assert_true (g_file_set_contents (csv_path, csv->str, -1, NULL));

  g_application_activate (G_APPLICATION (app));
  window = PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (PX_IS_WINDOW (window));
  gtk_window_present (GTK_WINDOW (window));
  px_embedder_set_model (px_window_get_embedder (window), model);
  px_window_show_page (window, "linear-probe");
  px_test_settle ();
  page = px_test_find_child (GTK_WIDGET (window), PX_TYPE_PROBE_PAGE);
  g_assert_nonnull (page);
  px_probe_page_set_labels_file (PX_PROBE_PAGE (page), labels);
  px_test_settle ();

  g_signal_connect (page, "notify::status", G_CALLBACK (on_notify), NULL);
  g_signal_connect (page, "notify::running", G_CALLBACK (on_notify), NULL);
  g_assert_true (px_probe_page_run (PX_PROBE_PAGE (page)));
  reset_counts ();  // what the start itself announced, on this thread
  starve_main_loop ();
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 120));
  assert_all_on_main ("probe page");
  g_assert_cmpstr (px_probe_page_get_status (PX_PROBE_PAGE (page)), ==, "Done");
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

// ---- The trainer

static void
test_trainer (void)
{
  const char *names[] = { "hannover-4d98e1de.png", "hannover-7afaaccc.png",
                          "nih-00000001_000.png", "nih-00027426_000.png" };
  g_autoptr(PxTrainer) trainer = px_trainer_new ();
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *folder = g_build_filename (tmp_dir, "run", NULL);
  g_autoptr(GError) error = NULL;
  PxTrainOptions options;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_ptr_array_add (paths, sample_path (names[i]));
  px_trainer_options_defaults (&options);
  options.img_size = 64;
  options.steps = 6;
  options.batch = 2;
  options.threads = 1;
  options.save_every = 0;
  g_signal_connect (trainer, "notify", G_CALLBACK (on_notify), NULL);
  g_signal_connect (trainer, "finished", G_CALLBACK (on_finished), NULL);
  g_assert_true (px_trainer_start (trainer, &options, paths, folder, FALSE, &error));
  g_assert_no_error (error);
  reset_counts ();  // what the start itself announced, on this thread
  starve_main_loop ();
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 120));
  assert_all_on_main ("trainer");
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_DONE);
  g_assert_cmpint (px_trainer_get_step (trainer), ==, 6);
}

int
main (int   argc,
      char *argv[])
{
  const char *source_dir = g_getenv ("PEAC_SOURCE_DIR");
  int ret;

  main_thread = g_thread_self ();
  app = px_test_app_setup (&argc, &argv, "workers", &tmp_dir);
  g_assert_nonnull (source_dir);
  samples = g_build_filename (source_dir, "data", "samples", NULL);
  g_assert_true (g_file_test (samples, G_FILE_TEST_IS_DIR));

  g_test_add_func ("/workers/embedder", test_embedder);
  g_test_add_func ("/workers/map-job", test_map_job);
  g_test_add_func ("/workers/probe-page", test_probe_page);
  g_test_add_func ("/workers/trainer", test_trainer);
  ret = g_test_run ();

  px_test_app_teardown (app, tmp_dir);
  g_free (samples);
  return ret;
}
