// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-crash: crash safety of `peac train` checkpoints, with the built peac as a real
// process on the repository's sample radiographs and a micro ViT. A run saving every step
// is killed with SIGKILL at random moments, many times, each time resumed from whatever
// checkpoint is on disk: that file must always open, hold every tensor the header declares
// and a step that never goes backwards, and the temporary files of killed writers must be
// swept by the next save. A save that fails (RLIMIT_FSIZE set in the child before exec)
// must exit 1 with a message naming the file and the reason, leaving the previous
// checkpoint byte-identical and no temporary file behind.
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.h"

static const char *peac_path;
static char *tmp_dir;
static char *images[4];

#define CFG "{\"img_size\":32,\"patch_size\":8,\"embed_dim\":32,\"depth\":2,\"num_heads\":2}"
#define N_KILLS 30

// argv = peac train ARGS... IMAGES..., NULL (free the array only, not its strings).
static char **
train_argv (const char *const *args)
{
  GPtrArray *a = g_ptr_array_new ();
  g_ptr_array_add (a, (char *) peac_path);
  g_ptr_array_add (a, (char *) "train");
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (a, (char *) args[i]);
  for (int i = 0; i < 4; i++)
    g_ptr_array_add (a, images[i]);
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

// Opens the checkpoint with the library loader, reads every tensor, returns its step.
static long
checkpoint_step (const char *path)
{
  char err[512];
  PeacSafetensors *st = peac_st_open (path, err, sizeof err);
  if (!st)
    g_error ("checkpoint does not load after a kill: %s", err);
  g_assert_cmpint (st->n, >, 8);
  for (int i = 0; i < st->n; i++)
    {
      float *buf = g_new (float, st->tensors[i].numel ? st->tensors[i].numel : 1);
      g_assert_cmpint (peac_st_read_f32 (st, &st->tensors[i], buf, err, sizeof err), ==, 0);
      g_free (buf);
    }
  const char *train = peac_st_meta (st, "peac.train");
  g_assert_nonnull (train);
  json_t *j = json_loads (train, 0, NULL);
  g_assert_nonnull (j);
  g_assert_true (json_is_integer (json_object_get (j, "step")));
  long step = (long) json_integer_value (json_object_get (j, "step"));
  json_decref (j);
  peac_st_close (st);
  return step;
}

// Temporary files beside the checkpoint (NAME.tmp-PID-N), all of them (pid 0) or those
// of one writer.
static int
count_temps (GPid pid)
{
  g_autofree char *mark = g_strdup_printf (".tmp-%ld-", (long) pid);
  GDir *d = g_dir_open (tmp_dir, 0, NULL);
  const char *n;
  int count = 0;
  while ((n = g_dir_read_name (d)))
    count += strstr (n, pid ? mark : ".tmp-") != NULL;
  g_dir_close (d);
  return count;
}

static GPid
spawn_train (char **argv)
{
  g_autoptr (GError) error = NULL;
  GPid pid = 0;
  g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                 | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, &error);
  g_assert_no_error (error);
  return pid;
}

static void
test_kill_during_saves (void)
{
  g_autofree char *ck = g_build_filename (tmp_dir, "kill.safetensors", NULL);
  const char *fresh[] = { "--config", CFG, "--steps", "1000000", "--batch", "2", "--threads",
                          "1", "--save-every", "1", "--quiet", "--out", ck, NULL };
  const char *resume[] = { "--resume", ck, "--threads", "1", "--save-every", "1", "--quiet",
                           NULL };
  g_autofree char **fresh_argv = train_argv (fresh);
  g_autofree char **resume_argv = train_argv (resume);
  long last = -1;
  int mid_write = 0, resumes = 0;

  for (int k = 0; k < N_KILLS; k++)
    {
      gboolean have = g_file_test (ck, G_FILE_TEST_EXISTS);
      GPid pid = spawn_train (have ? resume_argv : fresh_argv);
      resumes += have;
      // Start-up (reading 4 PNGs, building the model) takes some tens of ms; the delay
      // reaches past it into the steps, each of which ends with a save. Until a first
      // checkpoint exists it reaches further, so a slow (loaded, sanitised) machine gets one.
      g_usleep ((gulong) g_test_rand_int_range (20000, have ? 400000 : 1500000));
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      int status = 0;
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_spawn_close_pid (pid);
      g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
      mid_write += count_temps (pid) > 0;
      if (g_file_test (ck, G_FILE_TEST_EXISTS))
        {
          long step = checkpoint_step (ck);
          g_assert_cmpint (step, >=, last); // a resumed run never saves an older state
          g_assert_cmpint (step, >=, 1);
          last = step;
        }
      else
        g_assert_cmpint (last, ==, -1); // once saved, the checkpoint never disappears
    }
  g_assert_cmpint (last, >=, 1);
  // The last checkpoint resumes; its first save sweeps the killed writers' temporaries.
  const char *again[] = { "--resume", ck, "--threads", "1", "--stop-after", "1", NULL };
  g_autofree char **again_argv = train_argv (again);
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  g_spawn_sync (NULL, again_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 130);
  g_autofree char *from = g_strdup_printf ("resuming from step %ld", last);
  g_assert_nonnull (strstr (out, from));
  g_assert_cmpint (checkpoint_step (ck), ==, last + 1);
  g_assert_cmpint (count_temps (0), ==, 0);
  g_test_message ("%d kills (%d of them resumed runs), %d left a temporary file (killed "
                  "mid-write), last checkpoint at step %ld", N_KILLS, resumes, mid_write, last);
  g_unlink (ck);
}

static void
limit_file_size (gpointer user)
{
  // Runs in the child between fork and exec; SIGXFSZ keeps its default disposition, so
  // peac itself must turn a file-size limit into an error rather than die of the signal.
  struct rlimit rl = { *(rlim_t *) user, *(rlim_t *) user };
  setrlimit (RLIMIT_FSIZE, &rl);
}

static void
test_write_failure_keeps_previous (void)
{
  g_autofree char *ck = g_build_filename (tmp_dir, "fsize.safetensors", NULL);
  const char *first[] = { "--config", CFG, "--steps", "100", "--batch", "2", "--threads", "1",
                          "--quiet", "--stop-after", "2", "--out", ck, NULL };
  g_autofree char **first_argv = train_argv (first);
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_spawn_sync (NULL, first_argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, NULL);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 130);
  g_autofree char *before = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (ck, &before, &len, NULL));

  // Resume under a file-size limit of half the checkpoint: the save at step 3 fails.
  rlim_t limit = len / 2;
  const char *resume[] = { "--resume", ck, "--threads", "1", "--save-every", "1", "--quiet",
                           NULL };
  g_autofree char **resume_argv = train_argv (resume);
  g_autoptr (GError) error = NULL;
  g_spawn_sync (NULL, resume_argv, NULL, G_SPAWN_DEFAULT, limit_file_size, &limit, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  g_test_message ("stderr: %s", err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_nonnull (strstr (err, ck));
  g_assert_nonnull (strstr (err, g_strerror (EFBIG)));
  g_autofree char *after = NULL;
  gsize len_after = 0;
  g_assert_true (g_file_get_contents (ck, &after, &len_after, NULL));
  g_assert_cmpuint (len_after, ==, len);
  g_assert_true (memcmp (before, after, len) == 0);
  g_assert_cmpint (count_temps (0), ==, 0);
  g_assert_cmpint (checkpoint_step (ck), ==, 2);

  // A folder that does not exist: the error names the file, nothing is created.
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such-folder", "x.safetensors", NULL);
  const char *nodir[] = { "--config", CFG, "--steps", "2", "--batch", "2", "--threads", "1",
                          "--quiet", "--out", missing, NULL };
  g_autofree char **nodir_argv = train_argv (nodir);
  g_clear_pointer (&err, g_free);
  g_spawn_sync (NULL, nodir_argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                &status, NULL);
  g_test_message ("stderr: %s", err);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) != 0);
  g_assert_nonnull (strstr (err, missing));
  g_unlink (ck);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  const char *src = g_getenv ("PEAC_SOURCE_DIR");
  const char *names[4] = { "hannover-4d98e1de.png", "hannover-7afaaccc.png",
                           "nih-00000001_000.png", "nih-00027426_000.png" };
  g_assert_nonnull (src);
  for (int i = 0; i < 4; i++)
    images[i] = g_build_filename (src, "data", "samples", names[i], NULL);
  tmp_dir = g_dir_make_tmp ("peac-crash-XXXXXX", NULL);
  g_test_add_func ("/crash/kill-during-saves", test_kill_during_saves);
  g_test_add_func ("/crash/write-failure-keeps-previous", test_write_failure_keeps_previous);
  int rc = g_test_run ();
  g_rmdir (tmp_dir);
  for (int i = 0; i < 4; i++)
    g_free (images[i]);
  return rc;
}
