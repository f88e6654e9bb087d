// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-train-presets: the app and the CLI speak of the same presets. The training page's
// model list is the engine's registry, name for name (the Swin presets included); a run
// started from the page's preset X (its own image size) writes a checkpoint whose
// architecture, model configuration and objective (but for the EMA's length, the run's)
// are those that `peac train --preset X --print-config` prints — for a ViT and a Swin preset, compared as
// parsed JSON, on Hannover radiographs.
#include <adwaita.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "checkpoint.h"
#include "peac-test-cli.h"
#include "presets.h"
#include "px-test-util.h"
#include "px-train-page.h"
#include "px-trainer.h"

static const char *peac_path;
static char *tmp_dir;

// The page's rows are the registry's presets, in its order.
static void
test_page_lists_registry (void)
{
  GtkWidget *page = g_object_ref_sink (px_train_page_new ());
  AdwComboRow *row = ADW_COMBO_ROW (px_test_find_child (page, ADW_TYPE_COMBO_ROW));
  GListModel *model = adw_combo_row_get_model (row);
  guint n = 0;

  for (const PeacPreset *const *p = peac_presets (); *p != NULL; p++, n++)
    {
      g_assert_cmpuint (n, <, g_list_model_get_n_items (model));
      g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (model), n), ==, (*p)->name);
    }
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);
  g_assert_nonnull (peac_preset_find ("swin-tiny"));
  g_assert_nonnull (peac_preset_find ("swin-base"));
  g_object_unref (page);
}

static json_t *
cli_config (const char *preset)
{
  const char *args[] = { "--preset", preset, "--print-config", NULL };

  return peac_test_run_json (peac_path, "train", args);
}

static void
check_preset (const char *preset)
{
  g_autofree char *images = peac_test_shared_path ("cxr/hannover-covid19/png");
  g_autofree char *folder = g_build_filename (tmp_dir, preset, NULL);
  g_autofree char *ckpt = g_build_filename (folder, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autoptr(PxTrainer) trainer = px_trainer_new ();
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = g_dir_open (images, 0, NULL);
  g_autoptr(GError) error = NULL;
  GtkWidget *page = g_object_ref_sink (px_train_page_new ());
  PxTrainOptions options;
  const char *name;
  char err[512];
  PeacSafetensors *st;
  json_t *cli, *model, *objective, *state;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL && paths->len < 4)
    if (g_str_has_suffix (name, ".png"))
      g_ptr_array_add (paths, g_build_filename (images, name, NULL));
  g_assert_cmpuint (paths->len, ==, 4);

  // The page's choice: preset X with the image size it puts in the spin button.
  px_trainer_options_defaults (&options);
  options.preset = preset;
  px_train_page_set_options (PX_TRAIN_PAGE (page), &options);
  px_train_page_get_options (PX_TRAIN_PAGE (page), &options);
  g_assert_cmpstr (options.preset, ==, preset);
  options.steps = 1;
  options.batch = 2;
  options.threads = 1;
  g_assert_true (px_trainer_start (trainer, &options, paths, folder, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (px_test_wait_for (px_test_trainer_idle, trainer, 120));
  g_assert_cmpint (px_trainer_get_state (trainer), ==, PX_TRAINER_DONE);
  g_object_unref (page);

  st = peac_st_open (ckpt, err, sizeof err);
  if (st == NULL)
    g_error ("%s", err);
  cli = cli_config (preset);
  g_assert_cmpstr (peac_st_meta (st, "peac.arch"), ==, json_string_value (json_object_get (cli, "arch")));
  model = json_loads (peac_st_meta (st, "peac.config"), 0, NULL);
  {
    // --print-config shows 15 significant digits (the layer-norm ε 1e-6 as a float).
    g_autofree char *shown = json_dumps (model, JSON_COMPACT | JSON_REAL_PRECISION (15));

    json_decref (model);
    model = json_loads (shown, 0, NULL);
    g_test_message ("app %s", shown);
  }
  g_assert_true (json_equal (model, json_object_get (cli, "model")));
  // The objective too, but for the EMA's length: the run's steps (the CLI's default 1000).
  state = json_loads (peac_st_meta (st, "peac.train"), 0, NULL);
  objective = json_object_get (state, "objective");
  g_assert_nonnull (objective);
  json_object_del (objective, "total_steps");
  json_object_del (json_object_get (cli, "objective"), "total_steps");
  g_assert_true (json_equal (objective, json_object_get (cli, "objective")));
  json_decref (model), json_decref (cli), json_decref (state);
  peac_st_close (st);
}

static void test_micro (void) { check_preset ("micro"); }
static void test_swin_micro (void) { check_preset ("swin-micro"); }

int
main (int   argc,
      char *argv[])
{
  int ret;

  tmp_dir = px_test_make_home ("peac-train-presets-XXXXXX");
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  gtk_init ();
  adw_init ();
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  g_test_add_func ("/train-presets/page-lists-registry", test_page_lists_registry);
  g_test_add_func ("/train-presets/micro", test_micro);
  g_test_add_func ("/train-presets/swin-micro", test_swin_micro);
  ret = g_test_run ();
  px_test_remove_home (tmp_dir);
  return ret;
}
