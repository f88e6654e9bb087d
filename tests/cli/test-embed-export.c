// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-embed-export: `peac embed` writes the same embedding of real radiographs as
// safetensors, as .npy (grids [N·gh·gw, D] plus OUT.pooled.npy [N, D], read back with the
// engine's npy reader) and as CSV (one row per image: path, pooled vector); the three agree
// exactly (CSV to float32 round-trip precision). Bad --format and --f16 with .npy are refused.
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "npy.h"
#include "ops.h"
#include "peac-test-cli.h"

static float *
read_st (PeacSafetensors *st, const char *name, int64_t numel)
{
  const PeacStTensor *t = peac_st_find (st, name);
  g_assert_nonnull (t);
  g_assert_cmpint (t->numel, ==, numel);
  float *x = g_new (float, numel);
  char err[256];
  g_assert_cmpint (peac_st_read_f32 (st, t, x, err, sizeof err), ==, 0);
  return x;
}

static void
test_export (void)
{
  // A missing fixture or radiograph fails the test, naming it.
  g_autofree char *model = peac_test_reference_path ("vit_micro.safetensors");
  g_autofree char *img0 = peac_test_shared_path ("cxr/nih-chestxray14/00000001_000.png");
  g_autofree char *img1 = peac_test_shared_path ("cxr/hannover-covid19/png/262a70ca.png");
  g_autofree char *dir = g_dir_make_tmp ("peac-embed-export-XXXXXX", NULL);
  g_autofree char *st_path = g_build_filename (dir, "e.safetensors", NULL);
  g_autofree char *npy_path = g_build_filename (dir, "e.npy", NULL);
  g_autofree char *pooled_path = g_build_filename (dir, "e.pooled.npy", NULL);
  g_autofree char *csv_path = g_build_filename (dir, "e.csv", NULL);
  g_autofree char *txt_path = g_build_filename (dir, "e.txt", NULL);
  const char *outs[] = { st_path, npy_path, csv_path };
  for (int k = 0; k < 3; k++)
    {
      char *argv[] = { "embed", "--model", model, "--threads", "2", "-q", img0, img1, "-o",
                       (char *) outs[k], NULL };
      g_assert_cmpint (peac_cmd_embed (G_N_ELEMENTS (argv) - 1, argv), ==, 0);
    }
  // --format overrides the extension: e.txt holds CSV.
  char *argv_fmt[] = { "embed", "--model", model, "--threads", "2", "-q", "--format", "csv",
                       img0, img1, "-o", txt_path, NULL };
  g_assert_cmpint (peac_cmd_embed (G_N_ELEMENTS (argv_fmt) - 1, argv_fmt), ==, 0);

  enum { N = 2, G = 14 * 14, D = 64 };
  char err[1024];
  PeacSafetensors *st = peac_st_open (st_path, err, sizeof err);
  g_assert_nonnull (st);
  int rows, cols;
  float *grids = npy_read_matrix (npy_path, &rows, &cols, err, sizeof err);
  g_assert_nonnull (grids);
  g_assert_cmpint (rows, ==, N * G);
  g_assert_cmpint (cols, ==, D);
  float *pooled = npy_read_matrix (pooled_path, &rows, &cols, err, sizeof err);
  g_assert_nonnull (pooled);
  g_assert_cmpint (rows, ==, N);
  g_assert_cmpint (cols, ==, D);

  const char *paths[N] = { img0, img1 };
  const char *csvs[2] = { csv_path, txt_path };
  for (int c = 0; c < 2; c++)
    {
      g_autofree char *text = NULL;
      g_assert_true (g_file_get_contents (csvs[c], &text, NULL, NULL));
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
      g_assert_cmpint (g_strv_length (lines), ==, N + 2);   // header, N rows, ""
      g_assert_cmpstr (lines[N + 1], ==, "");
      g_assert_true (g_str_has_prefix (lines[0], "name,p0,p1,"));
      g_assert_true (g_str_has_suffix (lines[0], ",p63"));
      for (int i = 0; i < N; i++)
        {
          g_autofree char *gname = g_strdup_printf ("grid.%d", i);
          g_autofree char *pname = g_strdup_printf ("pooled.%d", i);
          float *g = read_st (st, gname, (int64_t) G * D), *p = read_st (st, pname, D);
          if (c == 0)
            {
              // .npy rows (i·gh + r)·gw + c are the safetensors grid, bit for bit.
              g_assert_cmpmem (grids + (size_t) i * G * D, G * D * sizeof (float), g,
                               G * D * sizeof (float));
              g_assert_cmpmem (pooled + (size_t) i * D, D * sizeof (float), p, D * sizeof (float));
            }
          g_auto (GStrv) f = g_strsplit (lines[i + 1], ",", -1);
          g_assert_cmpint (g_strv_length (f), ==, D + 1);
          g_assert_cmpstr (f[0], ==, paths[i]);
          double big = 0;
          for (int d = 0; d < D; d++)
            {
              char *end;
              float v = strtof (f[d + 1], &end);
              g_assert_cmpint (*end, ==, '\0');
              g_assert_cmpfloat (v, ==, p[d]);   // %.9g round-trips a float32
              big = fmax (big, fabs (v));
            }
          g_assert_cmpfloat (big, >, 0.01);   // real features, not zeros
          g_free (g), g_free (p);
        }
    }
  // The two images differ.
  double diff = 0;
  for (int d = 0; d < D; d++)
    diff += fabs (pooled[d] - pooled[D + d]);
  g_assert_cmpfloat (diff, >, 1e-3);
  free (grids), free (pooled);
  peac_st_close (st);

  // Refusals: unknown format, F16 outside safetensors.
  g_autofree char *bad = g_build_filename (dir, "bad.npy", NULL);
  char *a1[] = { "embed", "--model", model, "-q", "--format", "parquet", img0, "-o", bad, NULL };
  g_assert_cmpint (peac_cmd_embed (G_N_ELEMENTS (a1) - 1, a1), ==, 2);
  char *a2[] = { "embed", "--model", model, "-q", "--f16", img0, "-o", bad, NULL };
  g_assert_cmpint (peac_cmd_embed (G_N_ELEMENTS (a2) - 1, a2), ==, 2);
  g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));

  const char *files[] = { st_path, npy_path, pooled_path, csv_path, txt_path };
  for (int k = 0; k < 5; k++)
    g_unlink (files[k]);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_threads_set (2);
  g_test_add_func ("/embed-export/npy-csv", test_export);
  return g_test_run ();
}
