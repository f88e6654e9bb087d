// SPDX-License-Identifier: GPL-3.0-or-later
//
// What a checkpoint folder says about the run in it, for the training page's rule that a
// run is never overwritten: whether the folder holds a run at all (a checkpoint or a log,
// resumable or not), which data folders the run trained on (the checkpoint's `peac.run`
// metadata, the same record `peac train` writes and its --resume reads), the record
// itself, and a fresh folder beside the old one for a new run.
#include "config.h"

#include <jansson.h>

#include "checkpoint.h"
#include "px-train-run.h"
#include "px-trainer.h"

/**
 * px_train_run_folder_holds_run:
 *
 * Returns: whether @folder holds a checkpoint or a training log that a new run there
 *   would replace
 */
gboolean
px_train_run_folder_holds_run (const char *folder)
{
  g_autofree char *checkpoint = g_build_filename (folder, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autofree char *log = g_build_filename (folder, PX_TRAINER_LOG_NAME, NULL);

  return g_file_test (checkpoint, G_FILE_TEST_EXISTS) || g_file_test (log, G_FILE_TEST_EXISTS);
}

/**
 * px_train_run_read_data_folders:
 *
 * Returns: (transfer full) (nullable): the data folders stored with the checkpoint in
 *   @folder that still exist, or %NULL when it records none or cannot be read
 */
char **
px_train_run_read_data_folders (const char *folder)
{
  g_autofree char *path = g_build_filename (folder, PX_TRAINER_CHECKPOINT_NAME, NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  char err[256];
  PeacSafetensors *st = peac_st_open (path, err, sizeof err);
  const char *meta = st ? peac_st_meta (st, "peac.run") : NULL;
  json_t *run = meta ? json_loads (meta, 0, NULL) : NULL;
  json_t *data = run ? json_object_get (run, "data") : NULL;
  guint n = 0;

  for (size_t i = 0; json_is_array (data) && i < json_array_size (data); i++)
    {
      const char *dir = json_string_value (json_array_get (data, i));

      if (dir != NULL && g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          g_strv_builder_add (builder, dir);
          n++;
        }
    }
  if (run != NULL)
    json_decref (run);
  if (st != NULL)
    peac_st_close (st);
  return n > 0 ? g_strv_builder_end (builder) : NULL;
}

/**
 * px_train_run_info_json:
 *
 * Returns: (transfer full): the `peac.run` record of a run on @data_folders, in the
 *   form `peac train` writes it
 */
char *
px_train_run_info_json (const char * const *data_folders,
                        int                 threads,
                        int                 save_every)
{
  json_t *data = json_array ();
  json_t *run;
  char *text, *copy;

  for (guint i = 0; data_folders != NULL && data_folders[i] != NULL; i++)
    json_array_append_new (data, json_string (data_folders[i]));
  run = json_pack ("{s:o, s:i, s:i}", "data", data, "threads", threads, "save_every", save_every);
  text = json_dumps (run, JSON_COMPACT);
  json_decref (run);
  copy = g_strdup (text);
  free (text);
  return copy;
}

/**
 * px_train_run_new_folder:
 *
 * Returns: (transfer full): "@folder-2", "@folder-3", … whichever is first free
 */
char *
px_train_run_new_folder (const char *folder)
{
  g_autofree char *base = g_strdup (folder);
  gsize len = strlen (base);

  while (len > 1 && base[len - 1] == G_DIR_SEPARATOR)
    base[--len] = '\0';
  for (guint n = 2; ; n++)
    {
      char *candidate = g_strdup_printf ("%s-%u", base, n);

      if (!g_file_test (candidate, G_FILE_TEST_EXISTS))
        return candidate;
      g_free (candidate);
    }
}
