// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-swin-train: the Swin training forward and backward (swin-train.h) on a small
// random model with three stages — shifted windows with the attention mask in the first
// two, a stage that fits one window (no shift) in the last, two PatchMergings, randomised
// LayerNorm weights, biases and bias tables. The training forward must equal the inference
// forward (swin_forward); every parameter tensor's gradient and the input gradient must
// match central finite differences of the float forward along a random direction, and
// single bias-table entries (the scatter through the relative position index) must match
// one by one. The PatchMerging scatter must be the exact inverse of the gather, and the
// attention backward that keeps dS must give the same dqkv as the one that does not. The
// real-timm gradient check of both checkpoint layouts is test-verify's.
#include <glib.h>
#include <math.h>
#include <string.h>

#include "ops.h"
#include "ops-train.h"
#include "swin-train.h"

#define B 2
#define IMG 32
#define CFG "{\"img_size\": 32, \"patch_size\": 2, \"embed_dim\": 8, \"depths\": [2, 2, 2], " \
            "\"num_heads\": [1, 2, 2], \"window_size\": 4, \"mlp_ratio\": 2.0}"

typedef struct {
  SwinModel *m;
  SwinTrain *t;
  float     *input, *R;
  size_t     n_in, n_out;
} Fx;

static void
fill (GRand *r, float *x, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (r, lo, hi);
}

static void
fx_init (Fx *f, guint32 seed)
{
  char err[256];
  SwinConfig cfg;
  g_assert_cmpint (swin_config_parse (&cfg, CFG, err, sizeof err), ==, 0);
  f->m = swin_create (&cfg, err, sizeof err);
  g_assert_nonnull (f->m);
  GRand *r = g_rand_new_with_seed (seed);
  PeacParams *p = swin_params (f->m);
  for (int i = 0; i < p->n; i++)
    {
      const PeacParam *q = &p->list[i];
      const char *leaf = strrchr (q->name, '.') + 1;
      int norm = strstr (q->name, "norm") != NULL;
      if (strcmp (leaf, "relative_position_bias_table") == 0)
        fill (r, q->data, q->numel, -1.0, 1.0);
      else if (norm && strcmp (leaf, "weight") == 0)
        fill (r, q->data, q->numel, 0.6, 1.4);
      else if (strcmp (leaf, "bias") == 0)
        fill (r, q->data, q->numel, -0.2, 0.2);
      else
        fill (r, q->data, q->numel, -0.5 / sqrt ((double) q->shape[1]),
              0.5 / sqrt ((double) q->shape[1]));
    }
  f->t = swin_train_new (f->m, B, IMG, IMG, err, sizeof err);
  g_assert_nonnull (f->t);
  int gh, gw, dim;
  swin_train_shape (f->t, &gh, &gw, &dim);
  g_assert_cmpint (gh, ==, 4);
  g_assert_cmpint (dim, ==, 32);
  f->n_in = (size_t) B * 3 * IMG * IMG;
  f->n_out = (size_t) B * gh * gw * dim;
  f->input = g_new (float, f->n_in);
  f->R = g_new (float, f->n_out);
  fill (r, f->input, f->n_in, -1.0, 1.0);
  fill (r, f->R, f->n_out, -1.0, 1.0);
  g_rand_free (r);
}

static void
fx_clear (Fx *f)
{
  swin_train_free (f->t);
  swin_free (f->m);
  g_free (f->input);
  g_free (f->R);
}

// L = Σ out · R in double.
static double
loss (Fx *f)
{
  const float *out = swin_train_forward (f->t, f->input, B);
  double L = 0;
  for (size_t i = 0; i < f->n_out; i++)
    L += (double) out[i] * f->R[i];
  return L;
}

static void
test_forward_matches_inference (void)
{
  Fx f;
  fx_init (&f, 1);
  char err[256];
  float *ref = g_new (float, f.n_out);
  g_assert_cmpint (swin_forward (f.m, f.input, B, IMG, IMG, ref, NULL, NULL, NULL, err,
                                 sizeof err), ==, 0);
  const float *out = swin_train_forward (f.t, f.input, B);
  double e = 0, big = 0;
  for (size_t i = 0; i < f.n_out; i++)
    e = fmax (e, fabs (out[i] - ref[i])), big = fmax (big, fabs (ref[i]));
  g_test_message ("train vs inference forward: max|ref| %.3g max|err| %.3g", big, e);
  g_assert_cmpfloat (big, >, 0.5);
  g_assert_cmpfloat (e, <, 1e-5 * big);
  // A smaller batch than the trainer was made for gives the first image's tokens again.
  const float *one = swin_train_forward (f.t, f.input, 1);
  for (size_t i = 0; i < f.n_out / B; i++)
    g_assert_cmpfloat (fabs (one[i] - ref[i]), <, 1e-5 * big);
  g_free (ref);
  fx_clear (&f);
}

// Central difference of L along v at step h: (L(x + h·v) − L(x − h·v)) / 2h.
static double
central (Fx *f, float *x, const float *keep, const float *v, size_t n, double h)
{
  for (size_t i = 0; i < n; i++)
    x[i] = (float) (keep[i] + h * v[i]);
  double lp = loss (f);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) (keep[i] - h * v[i]);
  double lm = loss (f);
  memcpy (x, keep, n * sizeof (float));
  return (lp - lm) / (2 * h);
}

// The derivative of L along a random v (added to x, n floats) against Σ g·v. Richardson's
// extrapolation (4·D(h/2) − D(h)) / 3 cancels the h² term of the central difference, which
// moving every entry of a tensor at once makes large. What is left is the float forward's
// rounding (about 1e-5 in L): differences stay below 1.5e-3 · max(1, |fd|) here, and the
// check allows 5e-3 (a wrong gradient is off by its own size).
static void
check_direction (Fx *f, const char *what, float *x, const float *g, size_t n, GRand *r,
                 double *worst)
{
  const double h = 1e-2;
  float *keep = g_memdup2 (x, n * sizeof (float));
  float *v = g_new (float, n);
  fill (r, v, n, -1.0, 1.0);
  double an = 0;
  for (size_t i = 0; i < n; i++)
    an += (double) g[i] * v[i];
  double fd = (4 * central (f, x, keep, v, n, h / 2) - central (f, x, keep, v, n, h)) / 3;
  double rel = fabs (fd - an) / fmax (fabs (fd), 1.0);
  g_test_message ("%-48s fd %+.6e  analytic %+.6e  rel %.2e", what, fd, an, rel);
  *worst = fmax (*worst, rel);
  g_assert_cmpfloat (fabs (an), >, 1e-4); // the gradient is not trivially zero
  g_assert_cmpfloat (rel, <, 5e-3);
  g_free (keep);
  g_free (v);
}

static void
test_finite_differences (void)
{
  Fx f;
  fx_init (&f, 2);
  PeacParams *p = swin_params (f.m);
  float *grads = g_new0 (float, p->total), *dinput = g_new0 (float, f.n_in);
  swin_train_forward (f.t, f.input, B);
  swin_train_backward (f.t, f.R, grads, dinput);
  GRand *r = g_rand_new_with_seed (7);
  double worst = 0;
  check_direction (&f, "input", f.input, dinput, f.n_in, r, &worst);
  for (int i = 0; i < p->n; i++)
    check_direction (&f, p->list[i].name, p->list[i].data, grads + p->list[i].offset,
                     p->list[i].numel, r, &worst);
  g_test_message ("%d tensors, worst relative difference %.2e", p->n + 1, worst);
  // Single entries of the shifted block's bias table in stage 0 (one head): centre
  // (Δ = 0, shared by every token) and a corner (Δ = (−3, −3), one pair per window).
  const PeacParam *tab = peac_params_find (p, "layers.0.blocks.1.attn.relative_position_bias_table");
  g_assert_nonnull (tab);
  const int entries[] = { 24, 0, 17 };
  for (int k = 0; k < 3; k++)
    {
      float *x = tab->data + entries[k], keep = *x;
      const double h = 1e-2;
      *x = (float) (keep + h);
      double lp = loss (&f);
      *x = (float) (keep - h);
      double lm = loss (&f);
      *x = keep;
      double fd = (lp - lm) / (2 * h), an = grads[tab->offset + entries[k]];
      g_test_message ("bias table entry %d: fd %+.6e analytic %+.6e", entries[k], fd, an);
      g_assert_cmpfloat (fabs (an), >, 1e-5);
      g_assert_cmpfloat (fabs (fd - an), <, 2e-3 * fmax (fabs (fd), 1.0));
    }
  g_rand_free (r);
  g_free (grads);
  g_free (dinput);
  fx_clear (&f);
}

static void
test_merge_scatter (void)
{
  const int H = 6, W = 4, C = 3, n = B * H * W * C;
  float x[B * 6 * 4 * 3], packed[B * 6 * 4 * 3], back[B * 6 * 4 * 3];
  for (int i = 0; i < n; i++)
    x[i] = (float) i, back[i] = -1.0f;
  swin_merge_gather (packed, x, B, H, W, C);
  swin_merge_scatter (back, packed, B, H, W, C);
  for (int i = 0; i < n; i++)
    g_assert_cmpfloat (back[i], ==, x[i]);
  // x1 of output (0, 0) of image 1 is input (row 1, col 0): index ((1·6 + 1)·4 + 0)·3.
  g_assert_cmpfloat (packed[(1 * 3 * 2 + 0) * 12 + 3], ==, (float) (((1 * 6 + 1) * 4) * 3));
}

static void
test_attention_ds (void)
{
  const int Bw = 3, N = 5, H = 2, Dh = 4, C = H * Dh;
  GRand *r = g_rand_new_with_seed (3);
  float qkv[3 * 5 * 24], dout[3 * 5 * 8], out[3 * 5 * 8], att[3 * 2 * 25];
  float d1[3 * 5 * 24], d2[3 * 5 * 24], ds[3 * 2 * 25];
  fill (r, qkv, sizeof qkv / 4, -1, 1);
  fill (r, dout, sizeof dout / 4, -1, 1);
  op_attention_forward (out, att, NULL, qkv, NULL, NULL, 1, Bw, N, H, Dh);
  float *scratch = g_new (float, op_attention_scratch_floats (N));
  op_attention_backward_set (d1, scratch, dout, qkv, att, Bw, N, H, Dh);
  op_attention_backward_ds (d2, ds, dout, qkv, att, Bw, N, H, Dh);
  g_assert_cmpmem (d1, sizeof d1, d2, sizeof d2);
  // dS rows sum to zero (softmax backward), and dS = P ⊙ (dP − Σ dP·P) by hand for one row.
  for (int row = 0; row < Bw * H * N; row++)
    {
      double s = 0;
      for (int j = 0; j < N; j++)
        s += ds[row * N + j];
      g_assert_cmpfloat (fabs (s), <, 1e-5);
    }
  const int b = 1, h = 1, i = 2;
  double dp[5], dot = 0;
  for (int j = 0; j < N; j++)
    {
      dp[j] = 0;
      for (int e = 0; e < Dh; e++)
        dp[j] += (double) dout[(b * N + i) * C + h * Dh + e]
                 * qkv[(b * N + j) * 3 * C + 2 * C + h * Dh + e];
      dot += dp[j] * att[((b * H + h) * N + i) * N + j];
    }
  for (int j = 0; j < N; j++)
    {
      double p = att[((b * H + h) * N + i) * N + j];
      g_assert_cmpfloat (fabs (ds[((b * H + h) * N + i) * N + j] - p * (dp[j] - dot)), <, 1e-6);
    }
  g_free (scratch);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_threads_set (2);
  g_test_add_func ("/swin-train/forward-matches-inference", test_forward_matches_inference);
  g_test_add_func ("/swin-train/finite-differences", test_finite_differences);
  g_test_add_func ("/swin-train/merge-scatter", test_merge_scatter);
  g_test_add_func ("/swin-train/attention-ds", test_attention_ds);
  return g_test_run ();
}
