// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-ops: every fast op against its naive twin (linear, attention with and without
// bias/mask, patch embedding with and without overlap), the position-embedding resampler
// against an independent double-precision bicubic written here, and LayerNorm / GELU /
// softmax against values computed by hand.
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "ops.h"
#include "attention-tile.h"
#include "pool.h"

static float *
randn (GRand *r, size_t n, double scale)
{
  float *x = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) (g_rand_double_range (r, -1.0, 1.0) * scale);
  return x;
}

// max |a − b| / max(1, max |b|)
static double
rel_err (const float *a, const float *b, size_t n)
{
  double e = 0.0, m = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]);
      e = d > e ? d : e;
      m = fabs (b[i]) > m ? fabs (b[i]) : m;
    }
  return e / (m > 1.0 ? m : 1.0);
}

static void
test_linear (void)
{
  GRand *r = g_rand_new_with_seed (1);
  const int shapes[][3] = { { 1, 1, 1 }, { 7, 13, 5 }, { 197, 64, 192 }, { 33, 300, 17 } };
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
      float *in = randn (r, (size_t) M * K, 1.0), *w = randn (r, (size_t) N * K, 0.5);
      float *b = randn (r, N, 1.0);
      float *o1 = g_new (float, (size_t) M * N), *o2 = g_new (float, (size_t) M * N);
      for (int withb = 0; withb < 2; withb++)
        {
          op_linear_forward (o1, in, w, withb ? b : NULL, M, K, N);
          op_linear_forward_naive (o2, in, w, withb ? b : NULL, M, K, N);
          double e = rel_err (o1, o2, (size_t) M * N);
          g_test_message ("linear %dx%dx%d bias=%d rel err %.3g", M, K, N, withb, e);
          g_assert_cmpfloat (e, <, 1e-5);
        }
      // Fused variants equal the unfused sequence.
      float *o3 = g_new (float, (size_t) M * N), *o4 = g_new (float, (size_t) M * N);
      op_linear_forward (o1, in, w, b, M, K, N);
      op_gelu_forward (o2, o1, (size_t) M * N);
      op_linear_gelu_forward (o3, in, w, b, M, K, N);
      g_assert_cmpfloat (rel_err (o3, o2, (size_t) M * N), <, 1e-6);
      for (size_t i = 0; i < (size_t) M * N; i++)
        o3[i] = o4[i] = (float) i / (M * N) - 0.5f;
      op_linear_residual_forward (o3, in, w, b, M, K, N);
      op_add (o4, o4, o1, (size_t) M * N);
      g_assert_cmpfloat (rel_err (o3, o4, (size_t) M * N), <, 1e-6);
      g_free (o3), g_free (o4);
      // A value by hand: row 0, column 0.
      double s0 = b[0];
      for (int k = 0; k < K; k++)
        s0 += (double) in[k] * w[k];
      g_assert_cmpfloat (fabs (o1[0] - s0), <, 1e-4 * (1 + fabs (s0)));
      g_free (in), g_free (w), g_free (b), g_free (o1), g_free (o2);
    }
  g_rand_free (r);
}

static void
test_layernorm (void)
{
  // x = [1, 2, 3, 4]: μ = 2.5, σ² = 1.25, (x − μ)/√1.25 = ±0.4472136, ±1.3416408.
  const float x[8] = { 1, 2, 3, 4, -2, -2, -2, 6 };
  const float w[4] = { 1, 2, 0.5f, -1 }, b[4] = { 0, 0.5f, -1, 0.25f };
  float out[8], mean[2], rstd[2];
  op_layernorm_forward (out, mean, rstd, x, w, b, 2, 4, 0.0f);
  const double z0[4] = { -1.3416407865, -0.4472135955, 0.4472135955, 1.3416407865 };
  for (int c = 0; c < 4; c++)
    g_assert_cmpfloat (fabs (out[c] - (z0[c] * w[c] + b[c])), <, 1e-6);
  g_assert_cmpfloat (fabs (mean[0] - 2.5), <, 1e-7);
  g_assert_cmpfloat (fabs (rstd[0] - 1.0 / sqrt (1.25)), <, 1e-6);
  // Row 2: μ = 0, σ² = (4+4+4+36)/4 = 12 → (x − μ)/√12 = −0.5773503, …, 1.7320508.
  const double z1[4] = { -0.5773502692, -0.5773502692, -0.5773502692, 1.7320508076 };
  for (int c = 0; c < 4; c++)
    g_assert_cmpfloat (fabs (out[4 + c] - (z1[c] * w[c] + b[c])), <, 1e-6);
  // eps enters under the root: σ² = 1.25, eps = 0.75 → rstd = 1/√2.
  op_layernorm_forward (out, NULL, rstd, x, w, b, 1, 4, 0.75f);
  g_assert_cmpfloat (fabs (rstd[0] - M_SQRT1_2), <, 1e-6);
  g_assert_cmpfloat (fabs (out[0] - (-1.5 * M_SQRT1_2)), <, 1e-6);
}

static void
test_gelu (void)
{
  // gelu(x) = x Φ(x); Φ(1) = 0.8413447461, Φ(0.5) = 0.6914624613, Φ(−3) = 0.0013498980,
  // Φ(2) = 0.9772498681, Φ(−1) = 0.1586552539.
  const float x[6] = { 0.0f, 1.0f, 0.5f, -3.0f, 2.0f, -1.0f };
  const double want[6] = { 0.0, 0.8413447461, 0.3457312306, -0.0040496941, 1.9544997361,
                           -0.1586552539 };
  float out[6];
  op_gelu_forward (out, x, 6);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (fabs (out[i] - want[i]), <, 2e-7 + 1e-6 * fabs (want[i]));
  // Against libm's erf across the range, incl. the far negative tail (relative there).
  enum { n = 100001 };
  float *in = g_new (float, n), *a = g_new (float, n), *b = g_new (float, n);
  for (int i = 0; i < n; i++)
    in[i] = -12.0f + 24.0f * (float) i / (n - 1);
  op_gelu_forward (a, in, n);
  op_gelu_forward_naive (b, in, n);
  for (int i = 0; i < n; i++)
    {
      double tol = 1e-6 * fabs (b[i]) + 1e-7 * fabs (in[i]) + 1e-30;
      if (!(fabs (a[i] - b[i]) <= tol))
        g_error ("gelu(%g) = %.9g, libm %.9g", in[i], a[i], b[i]);
    }
  // Tanh-approximate GELU differs by ~1e-4 near x = −1.5: make sure we are not it.
  float t = -1.5f, gt;
  op_gelu_forward (&gt, &t, 1);
  double tanh_form = 0.5 * t * (1 + tanh (sqrt (2 / M_PI) * (t + 0.044715 * t * t * t)));
  g_assert_cmpfloat (fabs (gt - tanh_form), >, 1e-5);
  g_free (in), g_free (a), g_free (b);
}

static void
test_softmax (void)
{
  // softmax([1, 2, 3]) = e^(x−3)/Σ = [0.0900305732, 0.2447284711, 0.6652409558]
  float x[6] = { 1, 2, 3, 1000, 1000, 1000 };
  op_softmax_forward (x, 2, 3);
  g_assert_cmpfloat (fabs (x[0] - 0.0900305732), <, 1e-7);
  g_assert_cmpfloat (fabs (x[1] - 0.2447284711), <, 1e-7);
  g_assert_cmpfloat (fabs (x[2] - 0.6652409558), <, 1e-7);
  for (int i = 3; i < 6; i++)
    g_assert_cmpfloat (fabs (x[i] - 1.0 / 3.0), <, 1e-7);
  GRand *r = g_rand_new_with_seed (3);
  float *a = randn (r, 50 * 197, 20.0);
  float *b = g_memdup2 (a, 50 * 197 * sizeof (float));
  op_softmax_forward (a, 50, 197);
  op_softmax_forward_naive (b, 50, 197);
  g_assert_cmpfloat (rel_err (a, b, 50 * 197), <, 1e-6);
  g_free (a), g_free (b);
  g_rand_free (r);
}

static void
test_add (void)
{
  GRand *r = g_rand_new_with_seed (4);
  size_t n = 100003;
  float *a = randn (r, n, 1), *b = randn (r, n, 1), *o = g_new (float, n);
  op_add (o, a, b, n);
  for (size_t i = 0; i < n; i += 997)
    g_assert_cmpfloat (o[i], ==, a[i] + b[i]);
  op_add (a, a, b, n);
  g_assert_cmpfloat (rel_err (a, o, n), ==, 0.0);
  g_free (a), g_free (b), g_free (o);
  g_rand_free (r);
}

static void
check_attention (int B, int N, int H, int Dh, gboolean bias, int nmask)
{
  GRand *r = g_rand_new_with_seed (5 + N);
  int C = H * Dh;
  float *qkv = randn (r, (size_t) B * N * 3 * C, 2.0);
  float *bs = bias ? randn (r, (size_t) H * N * N, 3.0) : NULL;
  float *mk = NULL;
  if (nmask)
    {
      mk = g_new0 (float, (size_t) nmask * N * N);
      for (size_t i = 0; i < (size_t) nmask * N * N; i++)
        mk[i] = g_rand_boolean (r) ? -100.0f : 0.0f;
    }
  float *o1 = g_new (float, (size_t) B * N * C), *o2 = g_new (float, (size_t) B * N * C);
  float *o3 = g_new (float, (size_t) B * N * C);
  float *scratch = g_new (float, op_attention_scratch_floats (N));
  float *att = g_new (float, (size_t) B * H * N * N);
  op_attention_forward (o1, NULL, scratch, qkv, bs, mk, nmask ? nmask : 1, B, N, H, Dh);
  op_attention_forward (o3, att, NULL, qkv, bs, mk, nmask ? nmask : 1, B, N, H, Dh);
  op_attention_forward_naive (o2, qkv, bs, mk, nmask ? nmask : 1, B, N, H, Dh);
  double e = rel_err (o1, o2, (size_t) B * N * C);
  double e3 = rel_err (o3, o2, (size_t) B * N * C);
  g_test_message ("attention B=%d N=%d H=%d Dh=%d bias=%d nmask=%d (%s path): rel err %.3g,"
                  " with the probability cache %.3g", B, N, H, Dh, bias, nmask,
                  peac_attention_tile_ok (N, Dh) ? "tile" : "BLAS", e, e3);
  // The tile kernel (no cache) and the BLAS path (cache) both against the naive loops.
  g_assert_cmpfloat (e, <, 1e-5);
  g_assert_cmpfloat (e3, <, 1e-5);
  // Cached probabilities: rows sum to 1.
  for (int i = 0; i < N; i++)
    {
      double s = 0;
      for (int j = 0; j < N; j++)
        s += att[((size_t) (B * H - 1) * N + i) * N + j];
      g_assert_cmpfloat (fabs (s - 1.0), <, 1e-5);
    }
  g_free (qkv), g_free (bs), g_free (mk), g_free (o1), g_free (o2), g_free (o3);
  g_free (scratch), g_free (att);
  g_rand_free (r);
}

static void
test_attention (void)
{
  check_attention (2, 197, 2, 32, FALSE, 0);
  check_attention (1, 50, 3, 64, FALSE, 0);
  check_attention (8, 49, 4, 8, TRUE, 0);
  check_attention (8, 49, 4, 8, TRUE, 4);
  check_attention (3, 1, 1, 4, FALSE, 0);
  // Swin-B's windows, ViT-B's heads, an odd N with a Dh that is not a multiple of 32,
  // the tile kernel's largest shape and one just past it (BLAS fallback).
  check_attention (4, 49, 4, 32, TRUE, 4);
  check_attention (1, 197, 3, 64, FALSE, 0);
  check_attention (2, 7, 2, 40, TRUE, 1);
  check_attention (1, 256, 1, 128, TRUE, 0);
  check_attention (1, 257, 1, 8, FALSE, 0);
}

static void
test_patch_embed (void)
{
  GRand *r = g_rand_new_with_seed (6);
  const int cases[][7] = {
    // B, Cin, H, W, P, S, D
    { 2, 3, 32, 48, 16, 16, 24 },
    { 1, 3, 64, 64, 16, 8, 10 },   // overlapping
    { 1, 2, 30, 20, 4, 4, 7 },
    { 2, 3, 37, 41, 8, 5, 9 },     // ragged edges (floor)
  };
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      int B = cases[c][0], Ci = cases[c][1], H = cases[c][2], W = cases[c][3];
      int P = cases[c][4], S = cases[c][5], D = cases[c][6];
      int gh = (H - P) / S + 1, gw = (W - P) / S + 1;
      float *in = randn (r, (size_t) B * Ci * H * W, 1.0);
      float *w = randn (r, (size_t) D * Ci * P * P, 0.2), *b = randn (r, D, 1.0);
      float *col = g_new (float, op_patch_embed_col_floats (B, Ci, H, W, P, S));
      size_t n = (size_t) B * gh * gw * D;
      float *o1 = g_new (float, n), *o2 = g_new (float, n);
      op_patch_embed_forward (o1, col, in, w, b, B, Ci, H, W, P, S, D);
      op_patch_embed_forward_naive (o2, in, w, b, B, Ci, H, W, P, S, D);
      double e = rel_err (o1, o2, n);
      g_test_message ("patch embed case %zu (%dx%d grid): rel err %.3g", c, gh, gw, e);
      g_assert_cmpfloat (e, <, 1e-5);
      g_free (in), g_free (w), g_free (b), g_free (col), g_free (o1), g_free (o2);
    }
  g_rand_free (r);
}

// Independent reference: PyTorch's bicubic as a 1-D weight matrix Wt[out, in] in double,
// built by scattering each output's four kernel taps (border-clamped), then out = Wy·G·Wxᵀ.
static double
keys_kernel (double s)
{
  const double a = -0.75;
  s = fabs (s);
  if (s <= 1)
    return (a + 2) * s * s * s - (a + 3) * s * s + 1;
  if (s < 2)
    return a * s * s * s - 5 * a * s * s + 8 * a * s - 4 * a;
  return 0;
}

static double *
bicubic_matrix (int n_in, int n_out)
{
  double *m = g_new0 (double, (size_t) n_out * n_in);
  for (int o = 0; o < n_out; o++)
    {
      double src = (o + 0.5) * n_in / n_out - 0.5;
      int f = (int) floor (src);
      for (int tap = f - 1; tap <= f + 2; tap++)
        {
          int idx = tap < 0 ? 0 : tap >= n_in ? n_in - 1 : tap;
          m[(size_t) o * n_in + idx] += keys_kernel (src - tap);
        }
    }
  return m;
}

static void
check_resample (int gh0, int gw0, int gh, int gw, int D)
{
  GRand *r = g_rand_new_with_seed (7);
  float *pos = randn (r, (size_t) (1 + gh0 * gw0) * D, 1.0);
  float *out = g_new (float, (size_t) (1 + gh * gw) * D);
  op_pos_embed_resample (out, pos, 1, gh0, gw0, gh, gw, D);
  for (int d = 0; d < D; d++)
    g_assert_cmpfloat (out[d], ==, pos[d]);
  double *wy = bicubic_matrix (gh0, gh), *wx = bicubic_matrix (gw0, gw);
  double worst = 0;
  for (int y = 0; y < gh; y++)
    for (int x = 0; x < gw; x++)
      for (int d = 0; d < D; d++)
        {
          double s = 0;
          for (int i = 0; i < gh0; i++)
            for (int j = 0; j < gw0; j++)
              s += wy[(size_t) y * gh0 + i] * wx[(size_t) x * gw0 + j]
                   * pos[(size_t) (1 + i * gw0 + j) * D + d];
          double e = fabs (s - out[(size_t) (1 + y * gw + x) * D + d]);
          worst = e > worst ? e : worst;
        }
  g_test_message ("resample %dx%d → %dx%d: max err %.3g", gh0, gw0, gh, gw, worst);
  g_assert_cmpfloat (worst, <, 5e-6);
  g_free (wy), g_free (wx), g_free (pos), g_free (out);
  g_rand_free (r);
}

static void
test_pos_resample (void)
{
  check_resample (14, 14, 27, 27, 5);  // stride-8 dense grid of a 224 model
  check_resample (14, 14, 8, 8, 3);    // smaller input
  check_resample (7, 5, 11, 16, 4);    // non-square both ways
  check_resample (6, 6, 6, 6, 3);      // same size: identity
  // Same size must be exactly the identity; a constant grid stays constant.
  int D = 2;
  float pos[(1 + 9) * 2], out[(1 + 49) * 2];
  for (int i = 0; i < 20; i++)
    pos[i] = i < 2 ? 5.0f : 1.25f;
  op_pos_embed_resample (out, pos, 1, 3, 3, 7, 7, D);
  for (int i = 2; i < 100; i++)
    g_assert_cmpfloat (fabs (out[i] - 1.25f), <, 1e-6);
}

// The pool: every task runs exactly once for any thread count, tasks may call the pool
// again (run serially), and callers on several threads at once are serialised.
static void
count_task (void *ctx, int task, int thread)
{
  int *hits = ctx;
  g_atomic_int_inc (&hits[task]);
  g_assert_cmpint (thread, >=, 0);
}

static void
nested_task (void *ctx, int task, int thread)
{
  int *hits = ctx;
  peac_parallel_for (4, 4, count_task, hits + 100 + 4 * task);
  g_atomic_int_inc (&hits[task]);
}

static gpointer
pool_caller (gpointer data)
{
  for (int r = 0; r < 200; r++)
    peac_parallel_for (16, 3, count_task, data);
  return NULL;
}

static void
test_pool (void)
{
  for (int nt = 1; nt <= 5; nt++)
    for (int n = 0; n <= 37; n += 9)
      {
        int hits[64] = { 0 };
        peac_parallel_for (n, nt, count_task, hits);
        for (int i = 0; i < 64; i++)
          g_assert_cmpint (hits[i], ==, i < n ? 1 : 0);
      }
  int nest[200] = { 0 };
  peac_parallel_for (10, 2, nested_task, nest);
  for (int i = 0; i < 10; i++)
    g_assert_cmpint (nest[i], ==, 1);
  for (int i = 100; i < 140; i++)
    g_assert_cmpint (nest[i], ==, 1);
  int a[16] = { 0 }, b[16] = { 0 };
  GThread *t1 = g_thread_new ("a", pool_caller, a), *t2 = g_thread_new ("b", pool_caller, b);
  g_thread_join (t1);
  g_thread_join (t2);
  for (int i = 0; i < 16; i++)
    {
      g_assert_cmpint (a[i], ==, 200);
      g_assert_cmpint (b[i], ==, 200);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_threads_set (2);
  g_test_add_func ("/ops/pool", test_pool);
  g_test_add_func ("/ops/linear", test_linear);
  g_test_add_func ("/ops/layernorm", test_layernorm);
  g_test_add_func ("/ops/gelu", test_gelu);
  g_test_add_func ("/ops/softmax", test_softmax);
  g_test_add_func ("/ops/add", test_add);
  g_test_add_func ("/ops/attention", test_attention);
  g_test_add_func ("/ops/patch-embed", test_patch_embed);
  g_test_add_func ("/ops/pos-embed-resample", test_pos_resample);
  return g_test_run ();
}
