// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-train-cli: `peac train` as a real process on Hannover radiographs with a tiny ViT.
// A run stopped with --stop-after (the SIGINT path: save, exit 130) and resumed ends with
// a checkpoint byte-identical to the uninterrupted run's; SIGTERM during a run saves a
// checkpoint that resumes and exits 143; bad arguments exit 2; the checkpoint embeds.
// The run: 50 steps of the micro preset on 16 radiographs in nested folders (read
// in place through symbolic links, beside a corrupt file that is skipped by name) lower
// the total loss, and a run stopped after step 25 and resumed from its folder alone
// writes the same log, bit for bit. Presets and options reach the configuration. A Swin
// (the swin-micro preset) stopped and resumed through the CLI ends byte-identical too, and
// its checkpoint embeds.
#include <glib.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peac-test-cli.h"

static const char *peac_path;
static char *tmp_dir;
static char *images[6];

#define CFG "{\"img_size\":32,\"patch_size\":8,\"embed_dim\":32,\"depth\":2,\"num_heads\":2}"

// The six Hannover radiographs, found on first use; a missing one fails the test, naming
// it (peac_test_shared_path).
static void
need_images (void)
{
  static const char *names[6] = { "006f3a8a.png", "00870a9c.png", "00d96e05.png",
                                  "09258248.png", "0a7faa2a.png", "0cd9fcb6.png" };
  for (int i = 0; i < 6 && !images[i]; i++)
    {
      g_autofree char *rel = g_build_filename ("cxr", "hannover-covid19", "png", names[i], NULL);
      images[i] = peac_test_shared_path (rel);
    }
}

static int
run_peac (const char *const *args, char **out)
{
  need_images ();
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

static void
test_resume_identical (void)
{
  need_images ();
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
  // --out FILE.safetensors: the log is NAME.log.csv beside it, one row per step, and the
  // stopped-and-resumed run's is the same text.
  g_autofree char *log_a = g_build_filename (tmp_dir, "a.log.csv", NULL);
  g_autofree char *log_b = g_build_filename (tmp_dir, "b.log.csv", NULL);
  g_autofree char *ta = NULL, *tb = NULL;
  g_assert_true (g_file_get_contents (log_a, &ta, NULL, NULL));
  g_assert_true (g_file_get_contents (log_b, &tb, NULL, NULL));
  g_assert_cmpstr (ta, ==, tb);
  g_auto (GStrv) rows = g_strsplit (ta, "\n", -1);
  g_assert_cmpuint (g_strv_length (rows), ==, 8); // header, 6 steps, empty tail
  g_assert_true (g_str_has_prefix (rows[6], "6,"));
  // The checkpoint is a model: peac embed reads its teacher.
  g_autofree char *npy = g_build_filename (tmp_dir, "emb.safetensors", NULL);
  g_autofree char *eout = NULL, *eerr = NULL;
  int st = 0;
  char *eargv[] = { (char *) peac_path, "embed", "--model", a, images[0], "-o", npy, NULL };
  g_spawn_sync (NULL, eargv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &eout, &eerr, &st, NULL);
  g_test_message ("embed: %s", eerr);
  g_assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);
  g_unlink (a), g_unlink (b), g_unlink (npy), g_unlink (log_a), g_unlink (log_b);
}

// The same through the Swin row: swin-micro stopped after 2 of 5 steps and resumed gives
// the uninterrupted run's checkpoint byte for byte; peac embed loads its teacher (a 4 × 4
// grid of 32-wide tokens from 32 px).
static void
test_swin_resume_identical (void)
{
  need_images ();
  g_autofree char *a = g_build_filename (tmp_dir, "swin-a.safetensors", NULL);
  g_autofree char *b = g_build_filename (tmp_dir, "swin-b.safetensors", NULL);
  const char *run_a[] = { "train", "--preset", "swin-micro", "--steps", "5", "--batch", "3",
                          "--threads", "2", "--quiet", "--out", a, NULL };
  g_assert_cmpint (run_peac (run_a, NULL), ==, 0);
  const char *run_b[] = { "train", "--preset", "swin-micro", "--steps", "5", "--batch", "3",
                          "--threads", "2", "--quiet", "--out", b, "--stop-after", "2", NULL };
  g_assert_cmpint (run_peac (run_b, NULL), ==, 130);
  const char *resume[] = { "train", "--resume", b, "--threads", "2", NULL };
  g_autofree char *out = NULL;
  g_assert_cmpint (run_peac (resume, &out), ==, 0);
  g_assert_nonnull (strstr (out, "resuming from step 2"));
  g_autofree char *ca = NULL, *cb = NULL;
  gsize la, lb;
  g_assert_true (g_file_get_contents (a, &ca, &la, NULL));
  g_assert_true (g_file_get_contents (b, &cb, &lb, NULL));
  g_assert_cmpuint (la, ==, lb);
  g_assert_true (memcmp (ca, cb, la) == 0);
  // The safetensors header (after its 8-byte length) names the architecture.
  g_assert_nonnull (g_strstr_len (ca + 8, (gssize) MIN (la - 8, 65536), "\"peac.arch\":\"swin\""));
  g_autofree char *emb = g_build_filename (tmp_dir, "swin-emb.safetensors", NULL);
  g_autofree char *eout = NULL, *eerr = NULL;
  int st = 0;
  char *eargv[] = { (char *) peac_path, "embed", "--model", a, images[0], "-o", emb, NULL };
  g_spawn_sync (NULL, eargv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &eout, &eerr, &st, NULL);
  g_test_message ("embed: %s", eerr);
  g_assert_true (WIFEXITED (st) && WEXITSTATUS (st) == 0);
  g_autofree char *la_path = g_build_filename (tmp_dir, "swin-a.log.csv", NULL);
  g_autofree char *lb_path = g_build_filename (tmp_dir, "swin-b.log.csv", NULL);
  g_unlink (a), g_unlink (b), g_unlink (emb), g_unlink (la_path), g_unlink (lb_path);
}

// --steps on --resume moves the run's end: a 10-step run stopped after 3 and resumed with
// --steps 6 ends at step 6; from step 4 on its log shows the LR of a cosine refitted to
// end at 6 and the EMA momentum of the 10-step schedule it started with. An end at or
// before the checkpoint's step is refused, naming the file.
static void
test_resume_new_end (void)
{
  need_images ();
  g_autofree char *c = g_build_filename (tmp_dir, "end.safetensors", NULL);
  g_autofree char *log = g_build_filename (tmp_dir, "end.log.csv", NULL);
  const char *run[] = { "train", "--config", CFG, "--steps", "10", "--batch", "2",
                        "--threads", "1", "--quiet", "--out", c, "--stop-after", "3", NULL };
  g_assert_cmpint (run_peac (run, NULL), ==, 130);
  const char *early[] = { "train", "--resume", c, "--steps", "3", "--quiet", NULL };
  g_assert_cmpint (run_peac (early, NULL), ==, 1);
  const char *resume[] = { "train", "--resume", c, "--steps", "6", NULL };
  g_autofree char *out = NULL;
  g_assert_cmpint (run_peac (resume, &out), ==, 0);
  g_assert_nonnull (strstr (out, "resuming from step 3 of 6"));
  g_assert_nonnull (strstr (out, "done, 6 steps"));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
  g_auto (GStrv) rows = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (rows), ==, 8); // header, 6 steps, empty tail
  for (int k = 1; k <= 6; k++)
    {
      g_auto (GStrv) f = g_strsplit (rows[k], ",", -1);
      g_assert_cmpint (atoi (f[0]), ==, k);
      const double lr = g_ascii_strtod (f[6], NULL), m = g_ascii_strtod (f[8], NULL);
      // Row k logs step k − 1's values; warm-up 1 step (10 / 10), peak 5e-4, floor 1e-6.
      const double end = k <= 3 ? 10 : 6, t = (k - 1 - 1) / (end - 1);
      const double want_lr = k == 1 ? 5e-4 : 1e-6 + 0.5 * (5e-4 - 1e-6) * (1 + cos (G_PI * t));
      const double want_m = 1 - 0.001 * 0.5 * (1 + cos (G_PI * (k - 1) / 10.0));
      g_assert_cmpfloat_with_epsilon (lr, want_lr, 1e-8 * want_lr + 1e-12);
      g_assert_cmpfloat_with_epsilon (m, want_m, 1e-8);
    }
  // The new end is the checkpoint's from now on: a plain resume has nothing left to do.
  const char *show[] = { "train", "--resume", c, "--print-config", NULL };
  g_autofree char *cfg = NULL;
  g_assert_cmpint (run_peac (show, &cfg), ==, 0);
  g_assert_nonnull (strstr (cfg, "\"step\": 6"));
  g_unlink (c), g_unlink (log);
}

static void
test_sigterm_saves (void)
{
  need_images ();
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
  need_images ();
  const char *no_out[] = { "train", "--steps", "2", NULL };
  g_assert_cmpint (run_peac (no_out, NULL), ==, 2);
  const char *bad_opt[] = { "train", "--out", "x.st", "--optimizer", "lion", NULL };
  g_assert_cmpint (run_peac (bad_opt, NULL), ==, 2);
  g_autofree char *missing = g_build_filename (tmp_dir, "missing.safetensors", NULL);
  // A checkpoint that cannot be read is a bad file (1), not a bad command line (2).
  const char *bad_resume[] = { "train", "--resume", missing, NULL };
  g_assert_cmpint (run_peac (bad_resume, NULL), ==, 1);
}


// g_ptr_array_sort hands the comparator pointers to the elements.
static int
cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

// Runs peac with args only (no images appended); fills *out and *err when given.
static int
run_plain (const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int wait_status = 0;
  g_ptr_array_add (argv, (char *) peac_path);
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_autofree char *o = NULL, *e = NULL;
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e,
                &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  if (e && *e)
    g_test_message ("stderr: %s", e);
  if (out)
    *out = g_steal_pointer (&o);
  if (err)
    *err = g_steal_pointer (&e);
  return WEXITSTATUS (wait_status);
}

typedef struct {
  long   step;
  char  *total, *order;  // as written (%.17g)
  double t, o;
  int    has_val;
} Row;

// The data rows of a log.csv, in order.
static GArray *
read_log (const char *path)
{
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_assert_true (g_str_has_prefix (lines[0], "step,total,order,restore,global,local,"));
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (Row));
  for (int i = 1; lines[i] && lines[i][0]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], ",", -1);
      g_assert_cmpuint (g_strv_length (f), ==, 16);
      // These runs have no position head: its column holds 0.
      g_assert_cmpfloat (g_ascii_strtod (f[15], NULL), ==, 0.0);
      Row r = { atol (f[0]), g_strdup (f[1]), g_strdup (f[2]), g_ascii_strtod (f[1], NULL),
                g_ascii_strtod (f[2], NULL), f[10][0] != 0 };
      g_array_append_val (rows, r);
    }
  return rows;
}

static void
free_log (GArray *rows)
{
  for (guint i = 0; i < rows->len; i++)
    g_free (g_array_index (rows, Row, i).total), g_free (g_array_index (rows, Row, i).order);
  g_array_unref (rows);
}

// 16 training and 4 held-out Hannover radiographs as symbolic links in nested folders,
// with a corrupt PNG and a text file among them.
static char *
make_dataset (const char *root, char **val_dir)
{
  g_autofree char *src = peac_test_shared_path ("cxr/hannover-covid19/png");
  GDir *d = g_dir_open (src, 0, NULL);
  g_assert_nonnull (d);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *n;
  while ((n = g_dir_read_name (d)))
    if (g_str_has_suffix (n, ".png"))
      g_ptr_array_add (names, g_strdup (n));
  g_dir_close (d);
  g_ptr_array_sort (names, cmp_names);
  g_assert_cmpuint (names->len, >=, 20);
  char *data = g_build_filename (root, "data", NULL);
  *val_dir = g_build_filename (root, "val", NULL);
  g_autofree char *a = g_build_filename (data, "a", NULL);
  g_autofree char *bc = g_build_filename (data, "b", "c", NULL);
  g_assert_cmpint (g_mkdir_with_parents (a, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (bc, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (*val_dir, 0755), ==, 0);
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *from = g_build_filename (src, names->pdata[i], NULL);
      g_autofree char *to = g_build_filename (i < 8 ? a : i < 16 ? bc : *val_dir,
                                              names->pdata[i], NULL);
      g_assert_cmpint (symlink (from, to), ==, 0);
    }
  g_autofree char *broken = g_build_filename (data, "b", "broken.png", NULL);
  g_autofree char *notes = g_build_filename (data, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (broken, "\x89PNG but not really", -1, NULL));
  g_assert_true (g_file_set_contents (notes, "not an image", -1, NULL));
  return data;
}

static double
mean_total (GArray *rows, guint from, guint to)
{
  double s = 0;
  for (guint i = from; i < to; i++)
    s += g_array_index (rows, Row, i).t;
  return s / (to - from);
}

static double
mean_order (GArray *rows, guint from, guint to)
{
  double s = 0;
  for (guint i = from; i < to; i++)
    s += g_array_index (rows, Row, i).o;
  return s / (to - from);
}

static void
test_micro_learns_and_resumes (void)
{
  need_images ();
  g_autofree char *root = g_build_filename (tmp_dir, "issue", NULL);
  g_autofree char *val = NULL;
  g_autofree char *data = make_dataset (root, &val);
  g_autofree char *dir_a = g_build_filename (root, "run-a", NULL);
  g_autofree char *dir_b = g_build_filename (root, "run-b", NULL);
#define RUN_ARGS "train", "--preset", "micro", "--data", data, "--val", val, "--val-every", "10", \
                 "--steps", "50", "--batch", "16", "--lr", "2e-3", "--threads", "2"
  const char *run_a[] = { RUN_ARGS, "--out", dir_a, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_plain (run_a, &out, &err), ==, 0);
  // Recursive: 16 images from two levels of folders; the corrupt one named, the text ignored.
  g_assert_nonnull (strstr (out, "16 images of 48×48"));
  g_autofree char *broken = g_build_filename (data, "b", "broken.png", NULL);
  g_autofree char *skipped = g_strdup_printf ("skipped %s: ", broken);
  g_assert_nonnull (strstr (err, skipped));
  g_assert_null (strstr (err, "notes.txt"));
  // Plain progress lines (stdout is a pipe) with epoch, throughput and ETA.
  g_assert_nonnull (strstr (out, "step 50/50  epoch 50.00  loss "));
  g_assert_nonnull (strstr (out, " img/s  ETA "));
  g_assert_nonnull (strstr (out, "val at step 10: loss "));

  g_autofree char *log_a = g_build_filename (dir_a, "log.csv", NULL);
  GArray *a = read_log (log_a);
  g_assert_cmpuint (a->len, ==, 50);
  for (guint i = 0; i < 50; i++)
    {
      const Row *r = &g_array_index (a, Row, i);
      g_assert_cmpint (r->step, ==, i + 1);
      g_assert_cmpint (r->has_val, ==, r->step % 10 == 0);
    }
  const double first = mean_total (a, 0, 10), last = mean_total (a, 40, 50);
  g_test_message ("micro, 16 radiographs, batch 16, lr 2e-3: mean total loss of steps 1-10 "
                  "%.4f, of steps 41-50 %.4f (ratio %.3f); order %.4f -> %.4f (chance %.4f)",
                  first, last, last / first, mean_order (a, 0, 10), mean_order (a, 40, 50),
                  2.7725887222397811 /* ln 16 */);
  // Measured here 9.31 -> 7.10 (0.763); seeds 2-4 give 0.75-0.84.
  g_assert_cmpfloat (last, <, 0.85 * first);
  g_assert_cmpfloat (mean_order (a, 40, 50), <, 2.7725887222397811 /* ln 16 */ - 0.02);

  // Stopped after step 25 (as on SIGINT), then resumed from the folder alone: the
  // checkpoint holds the data folders, thread count and configuration.
  const char *run_b[] = { RUN_ARGS, "--out", dir_b, "--stop-after", "25", NULL };
#undef RUN_ARGS
  g_assert_cmpint (run_plain (run_b, NULL, NULL), ==, 130);
  const char *resume[] = { "train", "--resume", dir_b, NULL };
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_plain (resume, &out, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "resuming from step 25 of 50"));
  g_autofree char *log_b = g_build_filename (dir_b, "log.csv", NULL);
  GArray *b = read_log (log_b);
  g_assert_cmpuint (b->len, ==, 50);
  for (guint i = 0; i < 50; i++)
    {
      const Row *ra = &g_array_index (a, Row, i), *rb = &g_array_index (b, Row, i);
      g_assert_cmpint (ra->step, ==, rb->step);
      g_assert_cmpstr (ra->total, ==, rb->total); // %.17g: equal text = equal doubles
      g_assert_cmpstr (ra->order, ==, rb->order);
    }
  g_autofree char *ta = NULL, *tb = NULL;
  g_assert_true (g_file_get_contents (log_a, &ta, NULL, NULL));
  g_assert_true (g_file_get_contents (log_b, &tb, NULL, NULL));
  g_assert_cmpstr (ta, ==, tb); // every term, lr, norm and held-out loss
  // The checkpoint holds the whole configuration and the run's options.
  const char *show[] = { "train", "--resume", dir_b, "--print-config", NULL };
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_plain (show, &out, NULL), ==, 0);
  g_autofree char *data_json = g_strdup_printf ("\"data\": [\n      \"%s\"", data);
  g_assert_nonnull (strstr (out, data_json));
  g_assert_nonnull (strstr (out, "\"threads\": 2"));
  g_assert_nonnull (strstr (out, "\"batch\": 16"));
  g_assert_nonnull (strstr (out, "\"preset\": \"micro\""));
  g_assert_nonnull (strstr (out, "\"lr\": 0.002"));
  free_log (a), free_log (b);
  peac_test_remove_tree (root);
}

static void expect_usage_error (const char *const *args, const char *needle);

static void
test_presets (void)
{
  struct { const char *preset; int img, dim, depth, heads; } p[] = {
    { "micro", 32, 32, 2, 2 }, { "tiny", 224, 192, 12, 3 }, { "small", 224, 384, 12, 6 },
    { "base", 224, 768, 12, 12 },
  };
  // The Swin presets: Swin-T at 224 and the paper's Swin-B at 448 (32-px cells).
  struct { const char *preset, *keys; int dim; } sw[] = {
    { "swin-tiny", "\"img_size\":224,\"patch_size\":4,\"in_chans\":3,\"embed_dim\":96,"
      "\"depths\":[2,2,6,2],\"num_heads\":[3,6,12,24],\"window_size\":7", 768 },
    { "swin-base", "\"img_size\":448,\"patch_size\":4,\"in_chans\":3,\"embed_dim\":128,"
      "\"depths\":[2,2,18,2],\"num_heads\":[4,8,16,32],\"window_size\":7", 1024 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (sw); i++)
    {
      const char *args[] = { "train", "--preset", sw[i].preset, "--print-config", NULL };
      g_autofree char *out = NULL;
      g_assert_cmpint (run_plain (args, &out, NULL), ==, 0);
      g_autoptr (GError) error = NULL;
      g_autoptr (GRegex) ws = g_regex_new ("\\s+", 0, 0, NULL);
      g_autofree char *flat = g_regex_replace_literal (ws, out, -1, 0, "", 0, &error);
      g_assert_nonnull (strstr (flat, "\"arch\":\"swin\""));
      g_assert_nonnull (strstr (flat, sw[i].keys));
      g_autofree char *proj = g_strdup_printf ("\"proj_hidden\":%d,", 2 * sw[i].dim);
      g_assert_nonnull (strstr (flat, proj));
      // max_shift: half the final grid (224/32 = 7 → 3, 448/32 = 14 → 7).
      g_assert_nonnull (strstr (flat, i == 0 ? "\"max_shift\":3," : "\"max_shift\":7,"));
    }
  // A Swin whose windows cannot tile the input is refused, naming the configuration.
  expect_usage_error ((const char *[]) { "train", "--preset", "swin-tiny", "--config",
                                         "{\"img_size\": 256}", "--print-config", NULL },
                      "cannot tile");
  for (guint i = 0; i < G_N_ELEMENTS (p); i++)
    {
      const char *args[] = { "train", "--preset", p[i].preset, "--print-config", NULL };
      g_autofree char *out = NULL;
      g_assert_cmpint (run_plain (args, &out, NULL), ==, 0);
      g_autofree char *img = g_strdup_printf ("\"img_size\": %d,", p[i].img);
      g_autofree char *dim = g_strdup_printf ("\"embed_dim\": %d,", p[i].dim);
      g_autofree char *depth = g_strdup_printf ("\"depth\": %d,", p[i].depth);
      g_autofree char *heads = g_strdup_printf ("\"num_heads\": %d,", p[i].heads);
      g_autofree char *proj = g_strdup_printf ("\"proj_hidden\": %d,", 2 * p[i].dim);
      g_assert_nonnull (strstr (out, img));
      g_assert_nonnull (strstr (out, dim));
      g_assert_nonnull (strstr (out, depth));
      g_assert_nonnull (strstr (out, heads));
      g_assert_nonnull (strstr (out, proj));
      g_assert_nonnull (strstr (out, "\"w_global\": 12.20703125,")); // 1e5/8192
    }
  // --config overrides the preset; options reach their fields.
  const char *args[] = { "train", "--preset", "small", "--config", "{\"depth\": 3}",
                         "--lr=0.01", "--w-global", "7", "--proj-out", "48", "--local-hidden",
                         "640", "--local-out=96", "--p-bezier",
                         "0.25", "--optimizer", "sgd", "--steps", "200", "--print-config",
                         NULL };
  g_autofree char *out = NULL;
  g_assert_cmpint (run_plain (args, &out, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"embed_dim\": 384,"));
  g_assert_nonnull (strstr (out, "\"depth\": 3,"));
  g_assert_nonnull (strstr (out, "\"lr\": 0.01,"));
  g_assert_nonnull (strstr (out, "\"w_global\": 7.0,"));
  g_assert_nonnull (strstr (out, "\"proj_out\": 48,"));
  g_assert_nonnull (strstr (out, "\"proj_hidden\": 768,")); // the global default is kept
  g_assert_nonnull (strstr (out, "\"local_hidden\": 640,"));
  g_assert_nonnull (strstr (out, "\"local_out\": 96,"));
  g_assert_nonnull (strstr (out, "\"p_bezier\": 0.25,"));
  g_assert_nonnull (strstr (out, "\"kind\": 1,"));
  g_assert_nonnull (strstr (out, "\"warmup_steps\": 20,")); // steps/10
  g_assert_null (strstr (out, "\"style\"")); // the default recipe's text is as before
  g_assert_null (strstr (out, "\"jitter\""));
  // The reference style: its defaults (painting always, in-painting 0.2, no pixel
  // shuffle or Bézier), then the options after it in the table override them.
  const char *ref[] = { "train", "--p-inpaint", "0.3", "--distortions", "reference",
                        "--jitter", "15", "--teacher-sees-shuffled", "1", "--p-invert", "0.5",
                        "--print-config", NULL };
  g_autofree char *rout = NULL;
  g_assert_cmpint (run_plain (ref, &rout, NULL), ==, 0);
  g_assert_nonnull (strstr (rout, "\"style\": \"reference\","));
  g_assert_nonnull (strstr (rout, "\"p_paint\": 1.0,"));
  g_assert_nonnull (strstr (rout, "\"p_inpaint\": 0.3,"));
  g_assert_nonnull (strstr (rout, "\"p_bezier\": 0.0,"));
  g_assert_nonnull (strstr (rout, "\"p_shuffle\": 0.0,"));
  g_assert_nonnull (strstr (rout, "\"gamma_sigma\": 0.5,"));
  g_assert_nonnull (strstr (rout, "\"p_invert\": 0.5"));
  g_assert_nonnull (strstr (rout, "\"jitter\": 15,"));
  g_assert_nonnull (strstr (rout, "\"teacher_sees_shuffled\": 1"));
}

// A bad option or value: exit 2 and a message naming it.
static void
expect_usage_error (const char *const *args, const char *needle)
{
  g_autofree char *err = NULL;
  g_assert_cmpint (run_plain (args, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, needle));
}

static void
test_bad_values (void)
{
  expect_usage_error ((const char *[]) { "train", "--frobnicate", "--out", "x", NULL },
                      "unknown option '--frobnicate'");
  expect_usage_error ((const char *[]) { "train", "--lr", "fast", NULL }, "--lr: 'fast' is not a");
  expect_usage_error ((const char *[]) { "train", "--batch", "0", NULL }, "--batch: '0' is out of range");
  expect_usage_error ((const char *[]) { "train", "--steps", "12x", NULL }, "--steps: '12x'");
  expect_usage_error ((const char *[]) { "train", "--p-shuffle", "1.5", NULL }, "--p-shuffle");
  expect_usage_error ((const char *[]) { "train", "--preset", "huge", NULL }, "'huge' is not a preset");
  expect_usage_error ((const char *[]) { "train", "--lr", NULL }, "--lr needs a value");
  expect_usage_error ((const char *[]) { "train", "--distortions", "mild", NULL },
                      "'mild' is not a distortion style");
  expect_usage_error ((const char *[]) { "train", "--preset", "micro", "--jitter", "8",
                                         "--print-config", NULL },
                      "--jitter: 8 px is not below one cell (8 px)");
  expect_usage_error ((const char *[]) { "train", "--config", "{", "--print-config", NULL },
                      "--config");
  expect_usage_error ((const char *[]) { "train", "--resume", "x", "--lr", "1", NULL },
                      "--lr cannot be given with --resume");
  // No usable image at all: every file named, then exit 2.
  g_autofree char *empty = g_build_filename (tmp_dir, "nothing", NULL);
  g_autofree char *bad = g_build_filename (empty, "bad.jpg", NULL);
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_assert_true (g_file_set_contents (bad, "no", -1, NULL));
  g_autofree char *out_dir = g_build_filename (tmp_dir, "nothing-out", NULL);
  g_autofree char *err = NULL;
  const char *args[] = { "train", "--preset", "micro", "--data", empty, "--out", out_dir, NULL };
  g_assert_cmpint (run_plain (args, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "skipped"));
  g_assert_nonnull (strstr (err, "bad.jpg"));
  g_assert_nonnull (strstr (err, "no usable image"));
  peac_test_remove_tree (empty), peac_test_remove_tree (out_dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, >=, 2);
  peac_path = argv[1];
  tmp_dir = g_dir_make_tmp ("peac-train-cli-XXXXXX", NULL);
  g_test_add_func ("/train-cli/resume-identical", test_resume_identical);
  g_test_add_func ("/train-cli/swin-resume-identical", test_swin_resume_identical);
  g_test_add_func ("/train-cli/resume-new-end", test_resume_new_end);
  g_test_add_func ("/train-cli/sigterm-saves", test_sigterm_saves);
  g_test_add_func ("/train-cli/bad-arguments", test_bad_arguments);
  g_test_add_func ("/train-cli/micro-learns-and-resumes", test_micro_learns_and_resumes);
  g_test_add_func ("/train-cli/presets", test_presets);
  g_test_add_func ("/train-cli/bad-values", test_bad_values);
  int rc = g_test_run ();
  peac_test_remove_tree (tmp_dir);
  return rc;
}
