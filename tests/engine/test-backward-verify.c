// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-backward-verify: the gradient half of `peac verify-reference`. The untouched
// vit_micro fixture passes (every grad.* within 1e-3 · max(1, max|ref|) of timm); copies
// with one reference gradient entry shifted (a parameter's, then the input's) must fail,
// so the gradient check can fail at all.
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"

static char *refdir;

// Writes a copy of vit_micro to dst with `name`[index] += delta; returns the copy's verdict.
static int
verify_perturbed (const char *name, size_t index, float delta)
{
  g_autofree char *src = g_strdup_printf ("%s/vit_micro.safetensors", refdir);
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
  g_autofree char *dir = g_dir_make_tmp ("peac-grad-verify-XXXXXX", NULL);
  g_autofree char *dst = g_build_filename (dir, "copy.safetensors", NULL);
  g_assert_cmpint (peac_st_write (dst, t, n, meta, err, sizeof err), ==, 0);
  char *argv[] = { "verify-reference", "--threads", "2", dst, NULL };
  int rc = peac_cmd_verify_reference (4, argv);
  g_unlink (dst);
  g_rmdir (dir);
  for (int i = 0; i < n; i++)
    g_free (bufs[i]);
  g_free (bufs), g_free (t);
  peac_st_close (st);
  return rc;
}

static void
test_gradients (void)
{
  g_autofree char *src = g_strdup_printf ("%s/vit_micro.safetensors", refdir);
  if (!g_file_test (src, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("fixture not present");
      return;
    }
  // The exact copy passes; max|grad.blocks.0.norm1.weight| ≈ 0.37, so a 0.01 shift is a
  // relative error of 1e-2 > 1e-3; grad.input's largest entry is ≈ 1.7.
  g_assert_cmpint (verify_perturbed (NULL, 0, 0.0f), ==, 0);
  g_assert_cmpint (verify_perturbed ("grad.blocks.0.norm1.weight", 5, 0.01f), ==, 1);
  g_assert_cmpint (verify_perturbed ("grad.input", 1000, 0.01f), ==, 1);
  g_assert_cmpint (verify_perturbed ("grad.pos_embed", 64 * 100 + 3, 0.05f), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *shared = g_getenv ("PEAC_SHARED_DIR");
  if (!shared || !g_file_test (shared, G_FILE_TEST_IS_DIR))
    {
      printf ("1..0 # SKIP PEAC_SHARED_DIR is not set to the shared folder\n");
      return 0;
    }
  refdir = g_build_filename (shared, "reference", NULL);
  g_test_add_func ("/backward-verify/vit-micro", test_gradients);
  return g_test_run ();
}
