// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-train-cli: `peac train` as a real process on Hannover radiographs with a tiny ViT.
// A run stopped with --stop-after (the SIGINT path: save, exit 130) and resumed ends with
// a checkpoint byte-identical to the uninterrupted run's; SIGTERM during a run saves a
// checkpoint that resumes and exits 143; bad arguments exit 2; the checkpoint embeds.
#include <glib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static const char *peac_path;
static char *tmp_dir;
static char *images[6];

#define CFG "{\"img_size\":32,\"patch_size\":8,\"embed_dim\":32,\"depth\":2,\"num_heads\":2}"

static int
run_peac (const char *const *args, char **out)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int wait_status = 0;
  g_ptr_array_add (argv, (char *) peac_path);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  for (int i = 0; i < 6; i++)
    g_ptr_array_add (argv, images[i]);
  g_ptr_array_add (argv, NULL);
  g_autofree char *err = NULL;
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err,
                &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  if (err && *err)
    g_test_message ("stderr: %s", err);
  return WEXITSTATUS (wait_status);
}

static gboolean
have_images (void)
{
  if (!images[0])
    g_test_skip ("no Hannover radiographs (PEAC_SHARED_DIR)");
  return images[0] != NULL;
}

static void
test_resume_identical (void)
{
  if (!have_images ())
    return;
  g_autofree char *a = g_build_filename (tmp_dir, "a.safetensors", NULL);
  g_autofree char *b = g_build_filename (tmp_dir, "b.safetensors", NULL);
  const char *run_a[] = { "train", "--config", CFG, "--steps", "6", "--batch", "3",
                          "--threads", "2", "--quiet", "--out", a, NULL };
  g_assert_cmpint (run_peac (run_a, NULL), ==, 0);
  const char *run_b[] = { "train", "--config", CFG, "--steps", "6", "--batch", "3",
                          "--threads", "2", "--quiet", "--out", b, "--stop-after", "2", NULL };
  g_assert_cmpint (run_peac (run_b, NULL), ==, 130);
  const char *resume[] = { "train", "--resume", b, "--threads", "2", NULL };
  g_autofree char *out = NULL;
  g_assert_cmpint (run_peac (resume, &out), ==, 0);
  g_assert_nonnull (strstr (out, "resuming from step 2"));
  g_assert_nonnull (strstr (out, "step 6/6"));
  g_autofree char *ca = NULL, *cb = NULL;
  gsize la, lb;
  g_assert_true (g_file_get_contents (a, &ca, &la, NULL));
  g_assert_true (g_file_get_contents (b, &cb, &lb, NULL));
  g_assert_cmpuint (la, ==, lb);
  g_assert_true (memcmp (ca, cb, la) == 0);
  // The checkpoint is a model: peac embed reads its teacher.
  g_autofree char *npy = g_build_filename (tmp_dir, "emb.safetensors", NULL);
  g_autofree char *eout = NULL, *eerr = NULL;
  int st = 0;
  char *eargv[] = { (char *) peac_path, "embed", "--model", a, images[0], "-o", npy, NULL };
  g_spawn_sync (NULL, eargv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &eout, &eerr, &st, NULL);
  g_test_message ("embed: %s", eerr);
  g_assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);
  g_unlink (a), g_unlink (b), g_unlink (npy);
}

static void
test_sigterm_saves (void)
{
  if (!have_images ())
    return;
  g_autofree char *c = g_build_filename (tmp_dir, "c.safetensors", NULL);
  const char *argv[32] = { peac_path, "train", "--config", CFG, "--steps", "100000",
                           "--batch", "2", "--threads", "1", "--save-every", "0", "--out", c };
  int n = 14;
  for (int i = 0; i < 6; i++)
    argv[n++] = images[i];
  argv[n] = NULL;
  g_autoptr (GError) error = NULL;
  GSubprocess *p = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                      | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  g_assert_no_error (error);
  GDataInputStream *in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  char *line;
  int seen = 0;
  while (!seen && (line = g_data_input_stream_read_line (in, NULL, NULL, NULL)))
    {
      seen = g_str_has_prefix (line, "step 3/");
      g_free (line);
    }
  g_assert_true (seen);
  g_assert_false (g_file_test (c, G_FILE_TEST_EXISTS)); // nothing saved before the signal
  g_subprocess_send_signal (p, SIGTERM);
  g_assert_true (g_subprocess_wait (p, NULL, NULL));
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 143);
  g_assert_true (g_file_test (c, G_FILE_TEST_EXISTS));
  g_object_unref (in), g_object_unref (p);
  // It resumes (and stops again at once: --stop-after 1).
  const char *resume[] = { "train", "--resume", c, "--threads", "1", "--stop-after", "1", NULL };
  g_autofree char *out = NULL;
  g_assert_cmpint (run_peac (resume, &out), ==, 130);
  g_assert_nonnull (strstr (out, "resuming from step"));
  g_unlink (c);
}

static void
test_bad_arguments (void)
{
  if (!have_images ())
    return;
  const char *no_out[] = { "train", "--steps", "2", NULL };
  g_assert_cmpint (run_peac (no_out, NULL), ==, 2);
  const char *bad_opt[] = { "train", "--out", "x.st", "--optimizer", "lion", NULL };
  g_assert_cmpint (run_peac (bad_opt, NULL), ==, 2);
  g_autofree char *missing = g_build_filename (tmp_dir, "missing.safetensors", NULL);
  const char *bad_resume[] = { "train", "--resume", missing, NULL };
  g_assert_cmpint (run_peac (bad_resume, NULL), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  const char *shared = g_getenv ("PEAC_SHARED_DIR");
  const char *names[6] = { "006f3a8a.png", "00870a9c.png", "00d96e05.png", "09258248.png",
                           "0a7faa2a.png", "0cd9fcb6.png" };
  for (int i = 0; shared && i < 6; i++)
    {
      images[i] = g_build_filename (shared, "data", "cxr", "hannover-covid19", "png", names[i], NULL);
      if (!g_file_test (images[i], G_FILE_TEST_EXISTS))
        {
          for (int k = 0; k <= i; k++)
            g_clear_pointer (&images[k], g_free);
          break;
        }
    }
  tmp_dir = g_dir_make_tmp ("peac-train-cli-XXXXXX", NULL);
  g_test_add_func ("/train-cli/resume-identical", test_resume_identical);
  g_test_add_func ("/train-cli/sigterm-saves", test_sigterm_saves);
  g_test_add_func ("/train-cli/bad-arguments", test_bad_arguments);
  int rc = g_test_run ();
  g_rmdir (tmp_dir);
  return rc;
}
