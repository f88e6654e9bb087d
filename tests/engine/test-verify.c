// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-verify: `peac verify-reference` on every fixture in $PEAC_SHARED_DIR/reference
// (each must pass: activations and outputs within 1e-4 · max(1, max|ref|) of real timm,
// and every gradient the fixture holds, ViT and Swin, compared within 1e-3), and on
// copies of vit_micro and the Swin fixtures with one weight or one reference gradient
// perturbed, which must fail — so the check can fail at all. Calls the command's function in-process.
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "peac-test-cli.h"

static char *refdir;
static char *last_report; // the report of the last verify() run

// Runs the command with its stdout (the report) captured and passed on as TAP comments,
// so it cannot break the TAP stream.
static int
verify (int argc, char **argv)
{
  g_autofree char *dir = g_dir_make_tmp ("peac-verify-out-XXXXXX", NULL);
  g_autofree char *log = g_build_filename (dir, "report.txt", NULL);
  fflush (stdout);
  int saved = dup (STDOUT_FILENO), fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  dup2 (fd, STDOUT_FILENO);
  close (fd);
  int rc = peac_cmd_verify_reference (argc, argv);
  fflush (stdout);
  dup2 (saved, STDOUT_FILENO);
  close (saved);
  char *text = NULL;
  g_file_get_contents (log, &text, NULL, NULL);
  g_free (last_report);
  last_report = text ? text : g_strdup ("");
  g_auto (GStrv) lines = g_strsplit (last_report, "\n", -1);
  for (int i = 0; lines[i]; i++)
    if (lines[i][0])
      g_test_message ("%s", lines[i]);
  g_unlink (log);
  g_rmdir (dir);
  return rc;
}

static void
run_fixture (gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = g_strdup_printf ("%s/%s.safetensors", refdir, name);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  char *argv[] = { "verify-reference", "--threads", "2", path, NULL };
  int rc = verify (4, argv);
  g_assert_cmpint (rc, ==, 0);
  // Every gradient the fixture holds was compared (ViT and Swin alike), none skipped.
  char err[512];
  PeacSafetensors *st = peac_st_open (path, err, sizeof err);
  g_assert_nonnull (st);
  int n_grad = 0;
  for (int i = 0; i < st->n; i++)
    n_grad += strncmp (st->tensors[i].name, "grad.", 5) == 0;
  peac_st_close (st);
  g_autofree char *want = g_strdup_printf ("(%d gradients), 0 failed", n_grad);
  g_assert_nonnull (strstr (last_report, want));
  if (g_str_has_prefix (name, "swin"))
    g_assert_cmpint (n_grad, ==, 62);
}

// Writes a copy of fixture `base` with `name`[index] += delta (no change when name is NULL)
// and returns verify-reference's exit status on it.
static int
verify_perturbed_in (const char *base, const char *name, size_t index, float delta)
{
  g_autofree char *src = g_strdup_printf ("%s/%s.safetensors", refdir, base);
  char err[512];
  PeacSafetensors *st = peac_st_open (src, err, sizeof err);
  g_assert_nonnull (st);
  PeacStWrite *t = g_new0 (PeacStWrite, st->n);
  float **bufs = g_new0 (float *, st->n);
  int n = 0, hit = 0;
  for (int i = 0; i < st->n; i++)
    {
      const PeacStTensor *e = &st->tensors[i];
      if (e->dtype != PEAC_DT_F32)
        continue;
      bufs[n] = g_new (float, e->numel ? e->numel : 1);
      g_assert_cmpint (peac_st_read_f32 (st, e, bufs[n], err, sizeof err), ==, 0);
      if (name && strcmp (e->name, name) == 0)
        {
          g_assert_cmpuint (index, <, e->numel);
          bufs[n][index] += delta, hit = 1;
        }
      t[n] = (PeacStWrite) { e->name, e->ndim, e->shape, bufs[n], PEAC_DT_F32 };
      n++;
    }
  g_assert_true (hit || !name);
  const char *meta[2 * 8 + 1] = { 0 };
  for (int i = 0; i < st->n_meta && i < 8; i++)
    meta[2 * i] = st->meta_keys[i], meta[2 * i + 1] = st->meta_vals[i];
  g_autofree char *dir = g_dir_make_tmp ("peac-verify-XXXXXX", NULL);
  g_autofree char *dst = g_build_filename (dir, "perturbed.safetensors", NULL);
  g_assert_cmpint (peac_st_write (dst, t, n, meta, err, sizeof err), ==, 0);
  char *argv[] = { "verify-reference", "--threads", "2", dst, NULL };
  int rc = verify (4, argv);
  g_unlink (dst);
  g_rmdir (dir);
  for (int i = 0; i < n; i++)
    g_free (bufs[i]);
  g_free (bufs), g_free (t);
  peac_st_close (st);
  return rc;
}

static int
verify_perturbed (const char *name, size_t index, float delta)
{
  return verify_perturbed_in ("vit_micro", name, index, delta);
}

// A weight shifted by 1e-2 in one entry changes the activations beyond 1e-4: exit 1.
// A file that is not a fixture: exit 2.
static void
test_detects_error (void)
{
  g_assert_cmpint (verify_perturbed ("param.blocks.1.mlp.fc2.bias", 3, 1e-2f), ==, 1);

  g_autofree char *dir = g_dir_make_tmp ("peac-verify-XXXXXX", NULL);
  g_autofree char *dst = g_build_filename (dir, "nonsense.safetensors", NULL);
  g_assert_true (g_file_set_contents (dst, "nonsense", -1, NULL));
  char *argv[] = { "verify-reference", dst, NULL };
  g_assert_cmpint (verify (2, argv), ==, 2);
  g_unlink (dst);
  g_rmdir (dir);
}

// The gradient half: the exact copy passes (every grad.* within 1e-3 · max(1, max|ref|)),
// and a shifted reference gradient fails. max|grad.blocks.0.norm1.weight| ≈ 0.37, so a
// 0.01 shift is a relative error of 1e-2 > 1e-3; grad.input's largest entry is ≈ 1.7.
static void
test_detects_gradient_error (void)
{
  g_assert_cmpint (verify_perturbed (NULL, 0, 0.0f), ==, 0);
  g_assert_cmpint (verify_perturbed ("grad.blocks.0.norm1.weight", 5, 0.01f), ==, 1);
  g_assert_cmpint (verify_perturbed ("grad.input", 1000, 0.01f), ==, 1);
  g_assert_cmpint (verify_perturbed ("grad.pos_embed", 64 * 100 + 3, 0.05f), ==, 1);
}

// Swin in both layouts: a shifted reference gradient fails. The timm file's PatchMerging
// of stage 1 is the Microsoft file's of stage 0 (max|grad| ≈ 423, so +2 is 4.7e-3 of it);
// bias-table gradients are below 1 (0.05 → 5e-2 > 1e-3).
static void
test_detects_swin_gradient_error (void)
{
  g_assert_cmpint (verify_perturbed_in ("swin_micro", "grad.layers.1.downsample.reduction.weight",
                                        7, 2.0f), ==, 1);
  g_assert_cmpint (verify_perturbed_in ("swin_micro_ms",
                                        "grad.layers.0.blocks.1.attn.relative_position_bias_table",
                                        100, 0.05f), ==, 1);
  g_assert_cmpint (verify_perturbed_in ("swin_micro_ms", "grad.layers.1.blocks.1.mlp.fc2.bias",
                                        3, 1.0f), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  // A missing reference folder fails the test, naming it (peac_test_reference_path).
  refdir = peac_test_reference_path ("");
  static const char *fixtures[] = { "vit_micro", "vit_tiny_fp16", "swin_micro", "swin_micro_ms" };
  for (size_t i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autofree char *p = g_strdup_printf ("/verify/%s", fixtures[i]);
      g_test_add_data_func (p, fixtures[i], run_fixture);
    }
  g_test_add_func ("/verify/detects-error", test_detects_error);
  g_test_add_func ("/verify/detects-gradient-error", test_detects_gradient_error);
  g_test_add_func ("/verify/detects-swin-gradient-error", test_detects_swin_gradient_error);
  int rc = g_test_run ();
  g_free (last_report);
  return rc;
}
