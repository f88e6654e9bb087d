// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-backward: every backward op against central finite differences of a forward
// written here in double precision (linear, LayerNorm, exact GELU, softmax, attention,
// patch embedding with and without overlapping patches, class token + position embedding,
// mean pooling), each fast backward against its naive twin where one exists, and the ViT
// training forward against the inference forward. The test loss is L = Σ out · R with a
// random R, so dL/d out = R.
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "vit-train.h"

#define FD_H 1e-5
#define TOL 1e-4

static void
fill (GRand *r, double *x, size_t n, double scale)
{
  for (size_t i = 0; i < n; i++)
    x[i] = g_rand_double_range (r, -1.0, 1.0) * scale;
}

static float *
to_float (const double *x, size_t n)
{
  float *f = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    f[i] = (float) x[i];
  return f;
}

typedef double (*LossFn) (void *ctx);

// Central differences of f with respect to every entry of x.
static double *
fd_grad (LossFn f, void *ctx, double *x, size_t n)
{
  double *g = g_new (double, n);
  for (size_t i = 0; i < n; i++)
    {
      double keep = x[i];
      x[i] = keep + FD_H;
      double lp = f (ctx);
      x[i] = keep - FD_H;
      double lm = f (ctx);
      x[i] = keep;
      g[i] = (lp - lm) / (2 * FD_H);
    }
  return g;
}

// max |ours − ref| / max(1, max |ref|), asserted below TOL.
static void
check (const char *what, const float *ours, const double *ref, size_t n)
{
  double e = 0.0, m = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      e = fmax (e, fabs (ours[i] - ref[i]));
      m = fmax (m, fabs (ref[i]));
    }
  double rel = e / fmax (1.0, m);
  g_test_message ("%-24s max|ref| %.4g rel err %.3g", what, m, rel);
  g_assert_cmpfloat (m, >, 1e-3); // the gradient is not trivially zero
  g_assert_cmpfloat (rel, <, TOL);
}

// ---------------------------------------------------------------------------------------

typedef struct { double *in, *w, *b, *R; int M, K, N; } LinearCtx;

static double
linear_loss (void *p)
{
  LinearCtx *c = p;
  double L = 0.0;
  for (int m = 0; m < c->M; m++)
    for (int n = 0; n < c->N; n++)
      {
        double s = c->b[n];
        for (int k = 0; k < c->K; k++)
          s += c->in[m * c->K + k] * c->w[n * c->K + k];
        L += s * c->R[m * c->N + n];
      }
  return L;
}

static void
test_linear (void)
{
  GRand *r = g_rand_new_with_seed (11);
  const int shapes[][3] = { { 1, 1, 1 }, { 7, 13, 5 }, { 40, 24, 70 } };
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      LinearCtx c = { .M = shapes[s][0], .K = shapes[s][1], .N = shapes[s][2] };
      size_t nin = (size_t) c.M * c.K, nw = (size_t) c.N * c.K, nout = (size_t) c.M * c.N;
      c.in = g_new (double, nin), c.w = g_new (double, nw), c.b = g_new (double, c.N);
      c.R = g_new (double, nout);
      fill (r, c.in, nin, 1), fill (r, c.w, nw, 0.5), fill (r, c.b, c.N, 1), fill (r, c.R, nout, 1);
      double *gin = fd_grad (linear_loss, &c, c.in, nin), *gw = fd_grad (linear_loss, &c, c.w, nw);
      double *gb = fd_grad (linear_loss, &c, c.b, c.N);
      float *in = to_float (c.in, nin), *w = to_float (c.w, nw), *R = to_float (c.R, nout);
      for (int naive = 0; naive < 2; naive++)
        {
          // Start from non-zero gradients: the backward must add, not overwrite.
          float *din = g_new (float, nin), *dw = g_new (float, nw), *db = g_new (float, c.N);
          for (size_t i = 0; i < nin; i++) din[i] = 1.0f;
          for (size_t i = 0; i < nw; i++) dw[i] = 1.0f;
          for (int i = 0; i < c.N; i++) db[i] = 1.0f;
          (naive ? op_linear_backward_naive : op_linear_backward) (din, dw, db, R, in, w, c.M,
                                                                  c.K, c.N);
          for (size_t i = 0; i < nin; i++) din[i] -= 1.0f;
          for (size_t i = 0; i < nw; i++) dw[i] -= 1.0f;
          for (int i = 0; i < c.N; i++) db[i] -= 1.0f;
          check ("linear din", din, gin, nin);
          check ("linear dw", dw, gw, nw);
          check ("linear db", db, gb, c.N);
          g_free (din), g_free (dw), g_free (db);
        }
      g_free (gin), g_free (gw), g_free (gb), g_free (in), g_free (w), g_free (R);
      g_free (c.in), g_free (c.w), g_free (c.b), g_free (c.R);
    }
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------

typedef struct { double *in, *w, *b, *R; int M, C; double eps; } LnCtx;

static double
ln_loss (void *p)
{
  LnCtx *c = p;
  double L = 0.0;
  for (int m = 0; m < c->M; m++)
    {
      const double *x = c->in + (size_t) m * c->C;
      double mu = 0.0, var = 0.0;
      for (int i = 0; i < c->C; i++)
        mu += x[i];
      mu /= c->C;
      for (int i = 0; i < c->C; i++)
        var += (x[i] - mu) * (x[i] - mu);
      double rs = 1.0 / sqrt (var / c->C + c->eps);
      for (int i = 0; i < c->C; i++)
        L += ((x[i] - mu) * rs * c->w[i] + c->b[i]) * c->R[(size_t) m * c->C + i];
    }
  return L;
}

static void
test_layernorm (void)
{
  GRand *r = g_rand_new_with_seed (12);
  LnCtx c = { .M = 9, .C = 37, .eps = 1e-6 };
  size_t n = (size_t) c.M * c.C;
  c.in = g_new (double, n), c.w = g_new (double, c.C), c.b = g_new (double, c.C);
  c.R = g_new (double, n);
  fill (r, c.in, n, 2), fill (r, c.w, c.C, 1.5), fill (r, c.b, c.C, 1), fill (r, c.R, n, 1);
  for (int i = 0; i < c.M; i++) // rows with an offset and a small spread
    c.in[(size_t) i * c.C] += 3.0;
  double *gin = fd_grad (ln_loss, &c, c.in, n), *gw = fd_grad (ln_loss, &c, c.w, c.C);
  double *gb = fd_grad (ln_loss, &c, c.b, c.C);
  float *in = to_float (c.in, n), *w = to_float (c.w, c.C), *b = to_float (c.b, c.C);
  float *R = to_float (c.R, n), *out = g_new (float, n);
  float *mean = g_new (float, c.M), *rstd = g_new (float, c.M);
  op_layernorm_forward (out, mean, rstd, in, w, b, c.M, c.C, (float) c.eps);
  float *din = g_new0 (float, n), *dw = g_new0 (float, c.C), *db = g_new0 (float, c.C);
  op_layernorm_backward (din, dw, db, R, in, w, mean, rstd, c.M, c.C);
  check ("layernorm din", din, gin, n);
  check ("layernorm dw", dw, gw, c.C);
  check ("layernorm db", db, gb, c.C);
  g_free (gin), g_free (gw), g_free (gb), g_free (in), g_free (w), g_free (b), g_free (R);
  g_free (out), g_free (mean), g_free (rstd), g_free (din), g_free (dw), g_free (db);
  g_free (c.in), g_free (c.w), g_free (c.b), g_free (c.R);
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------

typedef struct { double *x, *R; int rows, cols; int kind; } EwCtx; // kind 0 GELU, 1 softmax

static double
ew_loss (void *p)
{
  EwCtx *c = p;
  double L = 0.0;
  for (int i = 0; i < c->rows; i++)
    {
      const double *x = c->x + (size_t) i * c->cols;
      double m = -INFINITY, z = 0.0;
      for (int j = 0; j < c->cols; j++)
        m = fmax (m, x[j]);
      for (int j = 0; j < c->cols; j++)
        z += exp (x[j] - m);
      for (int j = 0; j < c->cols; j++)
        {
          double y = c->kind == 0 ? 0.5 * x[j] * (1.0 + erf (x[j] / sqrt (2.0)))
                                  : exp (x[j] - m) / z;
          L += y * c->R[(size_t) i * c->cols + j];
        }
    }
  return L;
}

static void
test_gelu_softmax (void)
{
  GRand *r = g_rand_new_with_seed (13);
  for (int kind = 0; kind < 2; kind++)
    {
      // GELU: 10 000 values over ±6 (both erfc branches, the tails); softmax: 6 rows of 50.
      EwCtx c = { .rows = kind == 0 ? 1 : 6, .cols = kind == 0 ? 10000 : 50, .kind = kind };
      size_t n = (size_t) c.rows * c.cols;
      c.x = g_new (double, n), c.R = g_new (double, n);
      fill (r, c.x, n, kind == 0 ? 6 : 3), fill (r, c.R, n, 1);
      double *g = fd_grad (ew_loss, &c, c.x, n);
      float *x = to_float (c.x, n), *R = to_float (c.R, n), *d = g_new0 (float, n);
      if (kind == 0)
        op_gelu_backward (d, R, x, n);
      else
        {
          op_softmax_forward (x, c.rows, c.cols); // x now holds p
          op_softmax_backward (d, R, x, c.rows, c.cols);
        }
      check (kind == 0 ? "gelu" : "softmax", d, g, n);
      g_free (g), g_free (x), g_free (R), g_free (d), g_free (c.x), g_free (c.R);
    }
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------

typedef struct { double *qkv, *R; int B, N, H, Dh; } AttCtx;

static double
att_loss (void *p)
{
  AttCtx *c = p;
  const int C = c->H * c->Dh, ld = 3 * C;
  double L = 0.0, *s = g_new (double, c->N);
  for (int b = 0; b < c->B; b++)
    for (int h = 0; h < c->H; h++)
      for (int i = 0; i < c->N; i++)
        {
          const double *q = c->qkv + ((size_t) b * c->N + i) * ld + h * c->Dh;
          double m = -INFINITY, z = 0.0;
          for (int j = 0; j < c->N; j++)
            {
              const double *k = c->qkv + ((size_t) b * c->N + j) * ld + C + h * c->Dh;
              s[j] = 0.0;
              for (int e = 0; e < c->Dh; e++)
                s[j] += q[e] * k[e];
              s[j] /= sqrt ((double) c->Dh);
              m = fmax (m, s[j]);
            }
          for (int j = 0; j < c->N; j++)
            z += s[j] = exp (s[j] - m);
          for (int e = 0; e < c->Dh; e++)
            {
              double o = 0.0;
              for (int j = 0; j < c->N; j++)
                o += s[j] / z * c->qkv[((size_t) b * c->N + j) * ld + 2 * C + h * c->Dh + e];
              L += o * c->R[((size_t) b * c->N + i) * C + h * c->Dh + e];
            }
        }
  g_free (s);
  return L;
}

static void
test_attention (void)
{
  GRand *r = g_rand_new_with_seed (14);
  AttCtx c = { .B = 2, .N = 7, .H = 3, .Dh = 4 };
  const int C = c.H * c.Dh;
  size_t nqkv = (size_t) c.B * c.N * 3 * C, nout = (size_t) c.B * c.N * C;
  c.qkv = g_new (double, nqkv), c.R = g_new (double, nout);
  fill (r, c.qkv, nqkv, 1.5), fill (r, c.R, nout, 1);
  double *g = fd_grad (att_loss, &c, c.qkv, nqkv);
  float *qkv = to_float (c.qkv, nqkv), *R = to_float (c.R, nout);
  float *out = g_new (float, nout), *att = g_new (float, (size_t) c.B * c.H * c.N * c.N);
  float *sc = g_new (float, op_attention_scratch_floats (c.N));
  float *d1 = g_new0 (float, nqkv), *d2 = g_new0 (float, nqkv);
  op_attention_forward (out, att, NULL, qkv, NULL, NULL, 1, c.B, c.N, c.H, c.Dh);
  op_attention_backward (d1, sc, R, qkv, att, c.B, c.N, c.H, c.Dh);
  op_attention_backward_naive (d2, R, qkv, c.B, c.N, c.H, c.Dh);
  check ("attention dqkv", d1, g, nqkv);
  check ("attention dqkv (naive)", d2, g, nqkv);
  g_free (g), g_free (qkv), g_free (R), g_free (out), g_free (att), g_free (sc);
  g_free (d1), g_free (d2), g_free (c.qkv), g_free (c.R);
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------

typedef struct { double *in, *w, *b, *R; int B, Cin, H, W, P, S, D; } PatchCtx;

static double
patch_loss (void *p)
{
  PatchCtx *c = p;
  const int gh = (c->H - c->P) / c->S + 1, gw = (c->W - c->P) / c->S + 1;
  double L = 0.0;
  for (int bb = 0; bb < c->B; bb++)
    for (int y = 0; y < gh; y++)
      for (int x = 0; x < gw; x++)
        for (int d = 0; d < c->D; d++)
          {
            double s = c->b[d];
            for (int ch = 0; ch < c->Cin; ch++)
              for (int i = 0; i < c->P; i++)
                for (int j = 0; j < c->P; j++)
                  s += c->w[((d * c->Cin + ch) * c->P + i) * c->P + j]
                       * c->in[(((size_t) bb * c->Cin + ch) * c->H + y * c->S + i) * c->W
                               + x * c->S + j];
            L += s * c->R[(((size_t) bb * gh + y) * gw + x) * c->D + d];
          }
  return L;
}

static void
test_patch_embed (void)
{
  GRand *r = g_rand_new_with_seed (15);
  for (int overlap = 0; overlap < 2; overlap++)
    {
      PatchCtx c = { .B = 2, .Cin = 3, .H = 12, .W = 8, .P = 4, .S = overlap ? 2 : 4, .D = 5 };
      const int gh = (c.H - c.P) / c.S + 1, gw = (c.W - c.P) / c.S + 1;
      size_t nin = (size_t) c.B * c.Cin * c.H * c.W, nw = (size_t) c.D * c.Cin * c.P * c.P;
      size_t nout = (size_t) c.B * gh * gw * c.D;
      c.in = g_new (double, nin), c.w = g_new (double, nw), c.b = g_new (double, c.D);
      c.R = g_new (double, nout);
      fill (r, c.in, nin, 1), fill (r, c.w, nw, 0.5), fill (r, c.b, c.D, 1), fill (r, c.R, nout, 1);
      double *gin = fd_grad (patch_loss, &c, c.in, nin), *gw_ = fd_grad (patch_loss, &c, c.w, nw);
      double *gb = fd_grad (patch_loss, &c, c.b, c.D);
      float *in = to_float (c.in, nin), *w = to_float (c.w, nw), *b = to_float (c.b, c.D);
      float *R = to_float (c.R, nout), *out = g_new (float, nout);
      float *col = g_new (float, op_patch_embed_col_floats (c.B, c.Cin, c.H, c.W, c.P, c.S));
      float *din = g_new0 (float, nin), *dw = g_new0 (float, nw), *db = g_new0 (float, c.D);
      op_patch_embed_forward (out, col, in, w, b, c.B, c.Cin, c.H, c.W, c.P, c.S, c.D);
      op_patch_embed_backward (din, dw, db, col, R, w, c.B, c.Cin, c.H, c.W, c.P, c.S, c.D);
      check ("patch-embed din", din, gin, nin);
      check ("patch-embed dw", dw, gw_, nw);
      check ("patch-embed db", db, gb, c.D);
      g_free (gin), g_free (gw_), g_free (gb), g_free (in), g_free (w), g_free (b);
      g_free (R), g_free (out), g_free (col), g_free (din), g_free (dw), g_free (db);
      g_free (c.in), g_free (c.w), g_free (c.b), g_free (c.R);
    }
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------

typedef struct { double *patches, *cls, *pos, *R, *Rp; int B, G, D; } TokCtx;

// L = Σ R · (cls ‖ patches + pos)  +  Σ Rp · mean(patches over tokens)
static double
tok_loss (void *p)
{
  TokCtx *c = p;
  const int T = c->G + 1;
  double L = 0.0;
  for (int b = 0; b < c->B; b++)
    for (int t = 0; t < T; t++)
      for (int d = 0; d < c->D; d++)
        {
          double x = (t == 0 ? c->cls[d] : c->patches[((size_t) b * c->G + t - 1) * c->D + d])
                     + c->pos[t * c->D + d];
          L += x * c->R[((size_t) b * T + t) * c->D + d];
        }
  for (int b = 0; b < c->B; b++)
    for (int d = 0; d < c->D; d++)
      {
        double m = 0.0;
        for (int t = 0; t < c->G; t++)
          m += c->patches[((size_t) b * c->G + t) * c->D + d];
        L += m / c->G * c->Rp[b * c->D + d];
      }
  return L;
}

static void
test_tokens (void)
{
  GRand *r = g_rand_new_with_seed (16);
  TokCtx c = { .B = 3, .G = 6, .D = 4 };
  const int T = c.G + 1;
  size_t np = (size_t) c.B * c.G * c.D, nx = (size_t) c.B * T * c.D;
  c.patches = g_new (double, np), c.cls = g_new (double, c.D), c.pos = g_new (double, T * c.D);
  c.R = g_new (double, nx), c.Rp = g_new (double, c.B * c.D);
  fill (r, c.patches, np, 1), fill (r, c.cls, c.D, 1), fill (r, c.pos, T * c.D, 1);
  fill (r, c.R, nx, 1), fill (r, c.Rp, c.B * c.D, 1);
  double *gp = fd_grad (tok_loss, &c, c.patches, np), *gc = fd_grad (tok_loss, &c, c.cls, c.D);
  double *gpos = fd_grad (tok_loss, &c, c.pos, T * c.D);
  float *patches = to_float (c.patches, np), *cls = to_float (c.cls, c.D);
  float *pos = to_float (c.pos, T * c.D), *R = to_float (c.R, nx);
  float *Rp = to_float (c.Rp, c.B * c.D), *x = g_new (float, nx), *pooled = g_new (float, c.B * c.D);
  float *dp = g_new0 (float, np), *dc = g_new0 (float, c.D), *dpos = g_new0 (float, T * c.D);
  float *dx = g_new0 (float, nx);
  op_cls_pos_forward (x, patches, cls, pos, c.B, c.G, c.D);
  g_assert_cmpfloat (fabsf (x[c.D + 1] - (patches[1] + pos[c.D + 1])), <, 1e-6);
  // Mean pooling of the patch tokens (t0 = 1 of x) back through the same op.
  op_mean_pool_forward (pooled, x, c.B, T, 1, c.G, c.D);
  op_cls_pos_backward (dp, dc, dpos, R, c.B, c.G, c.D);
  op_mean_pool_backward (dx, Rp, c.B, T, 1, c.G, c.D);
  op_cls_pos_backward (dp, NULL, NULL, dx, c.B, c.G, c.D); // pos part of the mean ignored
  check ("cls/pos dpatches", dp, gp, np);
  check ("cls/pos dcls", dc, gc, c.D);
  check ("cls/pos dpos", dpos, gpos, T * c.D);
  g_free (gp), g_free (gc), g_free (gpos), g_free (patches), g_free (cls), g_free (pos);
  g_free (R), g_free (Rp), g_free (x), g_free (pooled), g_free (dp), g_free (dc), g_free (dpos);
  g_free (dx), g_free (c.patches), g_free (c.cls), g_free (c.pos), g_free (c.R), g_free (c.Rp);
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------
// The training forward computes the same tokens as the inference forward.

static void
test_vit_train_forward (void)
{
  VitConfig cfg = { .img_size = 32, .patch_size = 8, .in_chans = 3, .embed_dim = 24,
                    .depth = 2, .num_heads = 3, .mlp_hidden = 48, .qkv_bias = 1,
                    .ln_eps = 1e-6f };
  char err[256];
  VitModel *m = vit_create (&cfg, err, sizeof err);
  g_assert_nonnull (m);
  PeacParams *p = vit_params (m);
  GRand *r = g_rand_new_with_seed (17);
  for (size_t i = 0; i < p->total; i++)
    p->memory[i] = (float) g_rand_double_range (r, -0.3, 0.3);
  const int B = 2, G = 16, D = 24;
  size_t nin = (size_t) B * 3 * 32 * 32;
  float *in = g_new (float, nin);
  for (size_t i = 0; i < nin; i++)
    in[i] = (float) g_rand_double_range (r, -2, 2);
  float *feat = g_new (float, (size_t) B * G * D), *pooled = g_new (float, (size_t) B * D);
  g_assert_cmpint (vit_forward (m, in, B, 32, 32, NULL, feat, pooled, NULL, NULL, err,
                                sizeof err), ==, 0);
  VitTrain *t = vit_train_new (m, B, 32, 32, err, sizeof err);
  g_assert_nonnull (t);
  g_assert_cmpint (vit_train_tokens (t), ==, G + 1);
  const float *tok = vit_train_forward (t, in, B);
  double e = 0.0;
  for (int b = 0; b < B; b++)
    for (int i = 0; i < (G + 1) * D; i++)
      {
        float ref = i < D ? pooled[b * D + i] : feat[(size_t) b * G * D + i - D];
        e = fmax (e, fabs (tok[(size_t) b * (G + 1) * D + i] - ref));
      }
  g_test_message ("train vs inference forward max|err| %.3g", e);
  g_assert_cmpfloat (e, <, 1e-5);
  // A wrong input size is refused.
  g_assert_null (vit_train_new (m, B, 40, 40, err, sizeof err));
  vit_train_free (t);
  vit_free (m);
  g_free (in), g_free (feat), g_free (pooled);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_threads_set (2);
  g_test_add_func ("/backward/linear", test_linear);
  g_test_add_func ("/backward/layernorm", test_layernorm);
  g_test_add_func ("/backward/gelu-softmax", test_gelu_softmax);
  g_test_add_func ("/backward/attention", test_attention);
  g_test_add_func ("/backward/patch-embed", test_patch_embed);
  g_test_add_func ("/backward/tokens", test_tokens);
  g_test_add_func ("/backward/vit-train-forward", test_vit_train_forward);
  return g_test_run ();
}
