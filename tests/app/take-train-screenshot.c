// SPDX-License-Identifier: GPL-3.0-or-later
//
// take-train-screenshot: renders the training page during a run on real radiographs for the
// README. Usage: take-train-screenshot OUTPUT.png DATASET_FOLDER [STEPS]. The page is the
// window's when the window has one, else it stands in a plain window. The run (mini
// preset, 224 px, batch 8, 2 threads) goes into a temporary checkpoint folder that is
// removed afterwards; the shot is taken once STEPS steps (default 60) are done. The longest
// main-loop gap while training is printed. Run under
// xvfb-run with the compiled schema (GSETTINGS_SCHEMA_DIR=BUILD/data GSETTINGS_BACKEND=memory).
#include "config.h"

#include <glib/gstdio.h>

#include "px-application.h"
#include "px-test-util.h"
#include "px-train-page.h"
#include "px-window.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PxApplication) app = NULL;
  g_autoptr(GFile) folder = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("peac-train-shot-XXXXXX", NULL);
  GtkWidget *window, *page;
  PxTrainer *trainer;
  PxTrainOptions options;
  PxTestStepWait wait;
  PxTestStallProbe probe;
  double worst_ms;
  int ok;

  if (argc < 3)
    {
      g_printerr ("usage: take-train-screenshot OUTPUT.png DATASET_FOLDER [STEPS]\n");
      return 2;
    }
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  gtk_init ();
  app = px_application_new ("org.peac.Explorer.TrainScreenshot", G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (app), NULL, NULL);
  g_application_activate (G_APPLICATION (app));
  window = GTK_WIDGET (gtk_application_get_active_window (GTK_APPLICATION (app)));
  page = window != NULL ? px_test_find_child (window, PX_TYPE_TRAIN_PAGE) : NULL;
  if (page != NULL)
    px_window_show_page (PX_WINDOW (window), "training");
  else
    {
      window = gtk_window_new ();
      page = px_train_page_new ();
      gtk_window_set_child (GTK_WINDOW (window), page);
    }
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  if (PX_IS_WINDOW (window))
    px_test_wait_for (px_test_window_has_model, window, 60);
  px_test_settle ();

  trainer = px_train_page_get_trainer (PX_TRAIN_PAGE (page));
  px_train_page_set_checkpoint_folder (PX_TRAIN_PAGE (page), tmp);
  folder = g_file_new_for_commandline_arg (argv[2]);
  px_train_page_add_folder (PX_TRAIN_PAGE (page), folder);
  px_test_wait_for (px_test_scan_done, page, 600);

  px_trainer_options_defaults (&options);
  options.steps = 2000;
  options.threads = 2;
  px_train_page_set_options (PX_TRAIN_PAGE (page), &options);
  gtk_widget_activate_action (page, "train.start", NULL);
  wait = (PxTestStepWait) { trainer, argc > 3 ? atol (argv[3]) : 60 };
  // A high-priority probe: the longest gap between its runs is the worst main-loop stall.
  px_test_probe_start (&probe, G_PRIORITY_HIGH);
  px_test_wait_for (px_test_step_reached, &wait, 600);
  worst_ms = px_test_probe_stop (&probe);
  px_test_settle ();
  texture = px_test_render_widget (window);
  ok = gdk_texture_save_to_png (texture, argv[1]);
  g_print ("%ld steps, %.1f images/s: %s; worst main-loop gap while training %.1f ms\n",
           px_trainer_get_step (trainer), px_trainer_get_images_per_second (trainer),
           px_trainer_get_message (trainer), worst_ms);

  gtk_widget_activate_action (page, "train.cancel", NULL);
  px_test_wait_for (px_test_trainer_idle, trainer, 600);
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
  px_test_remove_tree (tmp);
  return ok ? 0 : 1;
}
