// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-backward-fused: the trainer's fused backwards (ops-train.h) against the plain
// accumulating ops of ops.h that test-backward checks by finite differences. Shapes are
// chosen to take the parallel paths (more than 256k multiply-adds, two threads) and to
// leave ragged ends (rows not a multiple of the block sizes, widths not a multiple of 8).
// Each fused op must give the plain op's values (float rounding apart), overwrite or add
// as documented (outputs start from garbage or from non-zero values), and repeat itself
// bit for bit.
#include <glib.h>
#include <math.h>
#include <string.h>

#include "ops.h"
#include "ops-train.h"

static float *
randf (GRand *r, size_t n, double scale)
{
  float *f = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    f[i] = (float) (g_rand_double_range (r, -1.0, 1.0) * scale);
  return f;
}

static float *
fdup (const float *x, size_t n)
{
  return g_memdup2 (x, n * sizeof (float));
}

// max |a − b| / max(1e-3, max |b|), asserted below tol.
static void
close_to (const char *what, const float *a, const float *b, size_t n, double tol)
{
  double e = 0.0, m = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      g_assert_true (isfinite (a[i]));
      e = fmax (e, fabs ((double) a[i] - b[i]));
      m = fmax (m, fabs ((double) b[i]));
    }
  g_test_message ("%-28s max|ref| %.4g rel err %.3g", what, m, e / fmax (1e-3, m));
  g_assert_cmpfloat (m, >, 1e-3);
  g_assert_cmpfloat (e / fmax (1e-3, m), <, tol);
}

static void
test_linear_fused (void)
{
  GRand *r = g_rand_new_with_seed (21);
  const int shapes[][3] = { { 203, 72, 40 }, { 1100, 48, 24 }, { 5, 3, 2 } };
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      const int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
      const size_t nin = (size_t) M * K, nw = (size_t) N * K, nout = (size_t) M * N;
      float *in = randf (r, nin, 1), *w = randf (r, nw, 0.5), *dout = randf (r, nout, 1);
      float *h = randf (r, nin, 2), *din0 = randf (r, nin, 1), *dw0 = randf (r, nw, 1);
      float *db0 = randf (r, N, 1);
      // Plain: g = dout·w into zeros, then din = g ⊙ gelu'(h) through op_gelu_backward.
      float *g = g_new0 (float, nin), *ref = g_new0 (float, nin);
      float *dw_ref = fdup (dw0, nw), *db_ref = fdup (db0, N);
      op_linear_backward (g, dw_ref, db_ref, dout, in, w, M, K, N);
      op_gelu_backward (ref, g, h, nin);
      // Fused, writing din (which starts as NaN) with the GELU.
      float *din = g_new (float, nin), *dw = fdup (dw0, nw), *db = fdup (db0, N);
      for (size_t i = 0; i < nin; i++)
        din[i] = NAN;
      op_linear_backward_fused (din, 0, h, dw, db, dout, in, w, M, K, N);
      close_to ("fused linear din (GELU)", din, ref, nin, 1e-5);
      close_to ("fused linear dw", dw, dw_ref, nw, 1e-5);
      close_to ("fused linear db", db, db_ref, N, 1e-5);
      // Fused, accumulating onto din0, no GELU, no weight gradients.
      float *acc = fdup (din0, nin), *acc_ref = fdup (din0, nin);
      for (size_t i = 0; i < nin; i++)
        acc_ref[i] += g[i];
      op_linear_backward_fused (acc, 1, NULL, NULL, NULL, dout, in, w, M, K, N);
      close_to ("fused linear din (+=)", acc, acc_ref, nin, 1e-5);
      // The same call again gives the same bits.
      float *din2 = g_new (float, nin), *dw2 = fdup (dw0, nw), *db2 = fdup (db0, N);
      op_linear_backward_fused (din2, 0, h, dw2, db2, dout, in, w, M, K, N);
      g_assert_cmpmem (din2, nin * sizeof (float), din, nin * sizeof (float));
      g_assert_cmpmem (dw2, nw * sizeof (float), dw, nw * sizeof (float));
      g_assert_cmpmem (db2, N * sizeof (float), db, N * sizeof (float));
      g_free (in), g_free (w), g_free (dout), g_free (h), g_free (din0), g_free (dw0);
      g_free (db0), g_free (g), g_free (ref), g_free (dw_ref), g_free (db_ref), g_free (din);
      g_free (dw), g_free (db), g_free (acc), g_free (acc_ref), g_free (din2), g_free (dw2);
      g_free (db2);
    }
  g_rand_free (r);
}

static void
test_layernorm_fused (void)
{
  GRand *r = g_rand_new_with_seed (22);
  const int shapes[][2] = { { 150, 40 }, { 3000, 96 }, { 3, 5 } };
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      const int M = shapes[s][0], C = shapes[s][1];
      const size_t n = (size_t) M * C;
      float *x = randf (r, n, 2), *w = randf (r, C, 1), *b = randf (r, C, 1);
      float *dout = randf (r, n, 1), *din0 = randf (r, n, 1), *dw0 = randf (r, C, 1);
      float *db0 = randf (r, C, 1), *y = g_new (float, n), *mean = g_new (float, M);
      float *rstd = g_new (float, M);
      op_layernorm_forward (y, mean, rstd, x, w, b, M, C, 1e-6f);
      float *din_ref = fdup (din0, n), *dw_ref = fdup (dw0, C), *db_ref = fdup (db0, C);
      op_layernorm_backward (din_ref, dw_ref, db_ref, dout, x, w, mean, rstd, M, C);
      float *din = fdup (din0, n), *dw = fdup (dw0, C), *db = fdup (db0, C);
      op_layernorm_backward_fused (din, dw, db, dout, x, w, mean, rstd, M, C);
      close_to ("fused layernorm din", din, din_ref, n, 1e-5);
      close_to ("fused layernorm dw", dw, dw_ref, C, 1e-5);
      close_to ("fused layernorm db", db, db_ref, C, 1e-5);
      // Without parameter gradients: din alone, the same values.
      float *din2 = fdup (din0, n);
      op_layernorm_backward_fused (din2, NULL, NULL, dout, x, w, mean, rstd, M, C);
      g_assert_cmpmem (din2, n * sizeof (float), din, n * sizeof (float));
      g_free (x), g_free (w), g_free (b), g_free (dout), g_free (din0), g_free (dw0);
      g_free (db0), g_free (y), g_free (mean), g_free (rstd), g_free (din_ref);
      g_free (dw_ref), g_free (db_ref), g_free (din), g_free (dw), g_free (db), g_free (din2);
    }
  g_rand_free (r);
}

static void
test_attention_set (void)
{
  GRand *r = g_rand_new_with_seed (23);
  const int B = 3, N = 29, H = 2, Dh = 12, C = H * Dh;
  const size_t nqkv = (size_t) B * N * 3 * C, nout = (size_t) B * N * C;
  float *qkv = randf (r, nqkv, 1.5), *dout = randf (r, nout, 1);
  float *out = g_new (float, nout), *att = g_new (float, (size_t) B * H * N * N);
  float *sc = g_new (float, op_attention_scratch_floats (N));
  float *ref = g_new0 (float, nqkv), *d = g_new (float, nqkv);
  for (size_t i = 0; i < nqkv; i++)
    d[i] = NAN;
  op_attention_forward (out, att, NULL, qkv, NULL, NULL, 1, B, N, H, Dh);
  op_attention_backward (ref, sc, dout, qkv, att, B, N, H, Dh);
  op_attention_backward_set (d, sc, dout, qkv, att, B, N, H, Dh);
  close_to ("attention dqkv (set)", d, ref, nqkv, 1e-5);
  g_free (qkv), g_free (dout), g_free (out), g_free (att), g_free (sc), g_free (ref);
  g_free (d);
  g_rand_free (r);
}

static void
test_axpby (void)
{
  GRand *r = g_rand_new_with_seed (24);
  const size_t n = 300001;
  float *x = randf (r, n, 1), *y = randf (r, n, 1), *ref = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    ref[i] = 0.99f * x[i] + 0.01f * y[i];
  op_axpby (x, 0.99f, y, 0.01f, n);
  close_to ("axpby", x, ref, n, 1e-6);
  g_free (x), g_free (y), g_free (ref);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_threads_set (2);
  g_test_add_func ("/backward-fused/linear", test_linear_fused);
  g_test_add_func ("/backward-fused/layernorm", test_layernorm_fused);
  g_test_add_func ("/backward-fused/attention-set", test_attention_set);
  g_test_add_func ("/backward-fused/axpby", test_axpby);
  return g_test_run ();
}
