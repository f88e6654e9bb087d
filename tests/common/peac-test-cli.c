// SPDX-License-Identifier: GPL-3.0-or-later
//
// Runs are synchronous and assert that the process could be started and exited normally;
// what it printed and its status are left to the test. The micro checkpoint is a 2-block,
// 64-wide ViT at 224 px with random weights: enough for every command, fast on any CPU.
#include <sys/wait.h>

#include "model.h"
#include "peac-test-cli.h"

/**
 * peac_test_run:
 * @command: (nullable): the subcommand, put before @args
 * @args: NULL-terminated
 *
 * Runs @peac_path with @command and @args; fills @r (free with peac_test_run_clear()).
 */
void
peac_test_run (PeacTestRun        *r,
               const char         *peac_path,
               const char         *command,
               const char * const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, (char *) peac_path);
  if (command != NULL)
    g_ptr_array_add (argv, (char *) command);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r->out,
                &r->err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  r->status = WEXITSTATUS (wait_status);
}

/**
 * peac_test_parse_json:
 *
 * Returns: (transfer full): @text parsed; the test fails when it is not JSON
 */
json_t *
peac_test_parse_json (const char *text)
{
  json_error_t jerr;
  json_t *j = json_loads (text, 0, &jerr);

  if (j == NULL)
    g_test_message ("not JSON (%s, line %d): %s", jerr.text, jerr.line, text);
  g_assert_nonnull (j);
  return j;
}

/**
 * peac_test_run_json:
 * @command: (nullable): the subcommand, put before @args
 * @args: NULL-terminated
 *
 * Runs @peac_path with @command and @args, as peac_test_run(); the test fails, showing
 * what it wrote to stderr, when it does not exit with 0.
 *
 * Returns: (transfer full): what it printed on stdout, parsed as JSON
 */
json_t *
peac_test_run_json (const char         *peac_path,
                    const char         *command,
                    const char * const *args)
{
  g_auto (PeacTestRun) r = { 0 };

  peac_test_run (&r, peac_path, command, args);
  if (r.status != 0)
    g_test_message ("%s %s: exit status %d, stderr: %s", peac_path, command ? command : args[0],
                    r.status, r.err);
  g_assert_cmpint (r.status, ==, 0);
  return peac_test_parse_json (r.out);
}

void
peac_test_run_clear (PeacTestRun *r)
{
  g_free (r->out);
  g_free (r->err);
}

/**
 * peac_test_write_micro_vit:
 *
 * Writes the micro checkpoint to @dir/vit-micro.safetensors.
 *
 * Returns: its path
 */
char *
peac_test_write_micro_vit (const char *dir)
{
  char *path = g_build_filename (dir, "vit-micro.safetensors", NULL);
  char err[256];
  PeacModel *m = peac_model_new (PEAC_ARCH_VIT, "timm",
    "{\"img_size\": 224, \"patch_size\": 16, \"embed_dim\": 64, \"depth\": 2, \"num_heads\": 2}",
    3, err, sizeof err);

  g_assert_nonnull (m);
  g_assert_cmpint (peac_model_save (m, path, err, sizeof err), ==, 0);
  peac_model_free (m);
  return path;
}
