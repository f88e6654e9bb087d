// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-peac-loss: the PEAC heads and loss terms against central finite differences of
// forwards written here in double (ReLU, pixel shuffle, cross-entropy with ignored rows,
// MSE, MSE of L2-normalised rows with weights, the projector MLP), with scale factors, and
// the forwards against values the double versions compute.
#include <glib.h>
#include <math.h>
#include <string.h>

#include "peac-loss.h"

#define FD_H 1e-5
#define TOL 1e-4

static void
fill (GRand *r, double *x, size_t n, double lo, double hi)
{
  for (size_t i = 0; i < n; i++)
    x[i] = g_rand_double_range (r, lo, hi);
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

static void
check (const char *what, const float *ours, const double *ref, size_t n)
{
  double e = 0.0, m = 0.0;
  for (size_t i = 0; i < n; i++)
    e = fmax (e, fabs (ours[i] - ref[i])), m = fmax (m, fabs (ref[i]));
  double rel = e / fmax (1.0, m);
  g_test_message ("%-22s max|ref| %.4g rel err %.3g", what, m, rel);
  g_assert_cmpfloat (m, >, 1e-4);
  g_assert_cmpfloat (rel, <, TOL);
}

// ---------------------------------------------------------------------------------------

typedef struct { double *x, *R; int B, G, C, r; } ShufCtx;

// L = Σ R · relu(pixel_shuffle(x))
static double
shuf_loss (void *p)
{
  ShufCtx *c = p;
  const int S = c->G * c->r, K = c->C * c->r * c->r;
  double L = 0.0;
  for (int b = 0; b < c->B; b++)
    for (int ch = 0; ch < c->C; ch++)
      for (int Y = 0; Y < S; Y++)
        for (int X = 0; X < S; X++)
          {
            double v = c->x[((size_t) b * c->G * c->G + (Y / c->r) * c->G + X / c->r) * K
                            + (ch * c->r + Y % c->r) * c->r + X % c->r];
            L += fmax (v, 0.0) * c->R[(((size_t) b * c->C + ch) * S + Y) * S + X];
          }
  return L;
}

static void
test_shuffle_relu (void)
{
  GRand *r = g_rand_new_with_seed (21);
  ShufCtx c = { .B = 2, .G = 3, .C = 3, .r = 2 };
  const size_t n = (size_t) c.B * c.G * c.G * c.C * c.r * c.r;
  c.x = g_new (double, n), c.R = g_new (double, n);
  fill (r, c.x, n, -1, 1), fill (r, c.R, n, -1, 1);
  for (size_t i = 0; i < n; i++) // keep away from the kink
    c.x[i] += c.x[i] > 0 ? 0.05 : -0.05;
  double *g = fd_grad (shuf_loss, &c, c.x, n);
  float *x = to_float (c.x, n), *R = to_float (c.R, n);
  float *rel = g_new (float, n), *img = g_new (float, n), *dimg = g_new0 (float, n);
  float *drel = g_new0 (float, n), *dx = g_new0 (float, n);
  peac_relu_forward (rel, x, n);
  peac_pixel_shuffle_forward (img, rel, c.B, c.G, c.C, c.r);
  double L = 0.0;
  for (size_t i = 0; i < n; i++)
    L += (double) img[i] * R[i];
  g_assert_cmpfloat (fabs (L - shuf_loss (&c)), <, 1e-5);
  peac_pixel_shuffle_backward (drel, R, c.B, c.G, c.C, c.r);
  peac_relu_backward (dx, drel, x, n);
  check ("pixel shuffle + relu", dx, g, n);
  g_free (g), g_free (x), g_free (R), g_free (rel), g_free (img), g_free (dimg);
  g_free (drel), g_free (dx), g_free (c.x), g_free (c.R);
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------

typedef struct { double *z; const int *labels; int n, K; } CeCtx;

static double
ce_loss (void *p)
{
  CeCtx *c = p;
  double L = 0.0;
  int cnt = 0;
  for (int i = 0; i < c->n; i++)
    {
      if (c->labels[i] < 0)
        continue;
      double s = 0.0;
      for (int k = 0; k < c->K; k++)
        s += exp (c->z[i * c->K + k]);
      L -= c->z[i * c->K + c->labels[i]] - log (s);
      cnt++;
    }
  return 3.0 * L / cnt; // scale 3
}

static void
test_ce (void)
{
  GRand *r = g_rand_new_with_seed (22);
  const int n = 12, K = 9;
  int labels[12];
  for (int i = 0; i < n; i++)
    labels[i] = i % 4 == 3 ? -1 : g_rand_int_range (r, 0, K);
  CeCtx c = { g_new (double, n * K), labels, n, K };
  fill (r, c.z, (size_t) n * K, -3, 3);
  double *g = fd_grad (ce_loss, &c, c.z, (size_t) n * K);
  float *z = to_float (c.z, (size_t) n * K), *p = g_new (float, n * K);
  float *dz = g_new0 (float, n * K);
  int count;
  double L = peac_ce_forward (p, z, labels, n, K, &count);
  g_assert_cmpint (count, ==, 9);
  g_assert_cmpfloat (fabs (3.0 * L - ce_loss (&c)), <, 1e-5);
  peac_ce_backward (dz, p, labels, n, K, count, 3.0f);
  check ("cross-entropy", dz, g, (size_t) n * K);
  for (int k = 0; k < K; k++) // ignored rows get no gradient
    g_assert_cmpfloat (dz[3 * K + k], ==, 0.0f);
  g_free (c.z), g_free (g), g_free (z), g_free (p), g_free (dz);
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------

typedef struct { double *a, *b, *w; int rows, D; int normalise; } MseCtx;

static double
mse_loss (void *p)
{
  MseCtx *c = p;
  double L = 0.0, W = 0.0;
  for (int i = 0; i < c->rows; i++)
    {
      double na = 0, nb = 0, s = 0, wi = c->w ? c->w[i] : 1.0;
      for (int d = 0; d < c->D; d++)
        na += c->a[i * c->D + d] * c->a[i * c->D + d], nb += c->b[i * c->D + d] * c->b[i * c->D + d];
      na = c->normalise ? sqrt (na) : 1.0, nb = c->normalise ? sqrt (nb) : 1.0;
      for (int d = 0; d < c->D; d++)
        {
          double e = c->a[i * c->D + d] / na - c->b[i * c->D + d] / nb;
          s += e * e;
        }
      L += wi * s, W += wi;
    }
  return 0.5 * L / (W * c->D); // scale ½
}

static void
test_mse (void)
{
  GRand *r = g_rand_new_with_seed (23);
  const int rows = 6, D = 10;
  double w[6] = { 1, 0, 1, 1, 0, 1 };
  for (int normalise = 0; normalise < 2; normalise++)
    {
      MseCtx c = { g_new (double, rows * D), g_new (double, rows * D), normalise ? w : NULL,
                   rows, D, normalise };
      fill (r, c.a, rows * D, -2, 2), fill (r, c.b, rows * D, -2, 2);
      double *g = fd_grad (mse_loss, &c, c.a, rows * D);
      float *a = to_float (c.a, rows * D), *b = to_float (c.b, rows * D);
      float *wf = to_float (w, rows), *da = g_new0 (float, rows * D);
      if (normalise)
        {
          g_assert_cmpfloat (fabs (0.5 * peac_nmse_forward (a, b, wf, rows, D) - mse_loss (&c)),
                             <, 1e-6);
          peac_nmse_backward (da, a, b, wf, rows, D, 0.5f);
          for (int d = 0; d < D; d++) // zero-weight rows get no gradient
            g_assert_cmpfloat (da[1 * D + d], ==, 0.0f);
        }
      else
        {
          g_assert_cmpfloat (fabs (0.5 * peac_mse_forward (a, b, rows * D) - mse_loss (&c)),
                             <, 1e-6);
          peac_mse_backward (da, a, b, rows * D, 0.5f);
        }
      check (normalise ? "normalised mse" : "mse", da, g, rows * D);
      g_free (c.a), g_free (c.b), g_free (g), g_free (a), g_free (b), g_free (wf), g_free (da);
    }
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------
// Dense InfoNCE, straight from its definition in double.

typedef struct { double *a, *k; const int *lab; int S, n, D; double tau; } NceCtx;

static double
nce_loss (void *p)
{
  NceCtx *c = p;
  double L = 0.0;
  int count = 0;
  for (int s = 0; s < c->S; s++)
    for (int i = 0; i < c->n; i++)
      {
        const int l = c->lab[s * c->n + i];
        if (l < 0)
          continue;
        const double *a = c->a + (size_t) (s * c->n + i) * c->D;
        double na = 0.0, z = 0.0, pos = 0.0;
        for (int d = 0; d < c->D; d++)
          na += a[d] * a[d];
        for (int m = 0; m < c->n; m++)
          {
            const double *k = c->k + (size_t) (s * c->n + m) * c->D;
            double nk = 0.0, dot = 0.0;
            for (int d = 0; d < c->D; d++)
              nk += k[d] * k[d], dot += a[d] * k[d];
            const double logit = dot / sqrt (na * nk) / c->tau;
            z += exp (logit);
            if (m == l)
              pos = logit;
          }
        L += log (z) - pos, count++;
      }
  return 0.7 * L / count; // scale 0.7
}

static void
test_nce (void)
{
  GRand *r = g_rand_new_with_seed (24);
  const int S = 3, n = 5, D = 7;
  // Group 1 has no labelled row at all; rows may share a partner.
  const int lab[15] = { 2, -1, 0, 4, 4, -1, -1, -1, -1, -1, 1, 3, -1, 0, 2 };
  NceCtx c = { g_new (double, S * n * D), g_new (double, S * n * D), lab, S, n, D, 0.3 };
  fill (r, c.a, S * n * D, -1, 1), fill (r, c.k, S * n * D, -1, 1);
  float *a = to_float (c.a, S * n * D), *k = to_float (c.k, S * n * D);
  float *cache = g_new (float, peac_nce_cache_floats (S, n, D));
  float *da = g_new0 (float, S * n * D);
  int count = 0;
  const double L = peac_nce_forward (cache, a, k, lab, S, n, D, c.tau, &count);
  g_assert_cmpint (count, ==, 8);
  g_assert_cmpfloat (fabs (0.7 * L - nce_loss (&c)), <, 1e-5);
  peac_nce_backward (da, cache, lab, S, n, D, c.tau, count, 0.7f);
  double *g = fd_grad (nce_loss, &c, c.a, S * n * D);
  for (int i = 0; i < n; i++) // unlabelled rows get no gradient
    for (int d = 0; d < D; d++)
      g_assert_cmpfloat (da[(size_t) (1 * n + i) * D + d], ==, 0.0f);
  check ("infonce", da, g, S * n * D);
  // Keys equal to the rows themselves, partner = own cell: the loss falls as τ falls.
  const int diag[5] = { 0, 1, 2, 3, 4 };
  double prev = INFINITY;
  for (double tau = 1.0; tau >= 0.05; tau /= 4)
    {
      double l = peac_nce_forward (cache, a, a, diag, 1, n, D, tau, &count);
      g_assert_cmpfloat (l, <, prev);
      prev = l;
    }
  g_assert_cmpfloat (prev, <, 0.05);
  g_free (c.a), g_free (c.k), g_free (a), g_free (k), g_free (cache), g_free (da), g_free (g);
  g_rand_free (r);
}

// ---------------------------------------------------------------------------------------
// Projector: every parameter and the input, packed in one double array.

typedef struct { double *v, *R; int M, D, Hd, O; size_t off[10]; } ProjCtx; // off[9] = x

static void
d_linear (double *out, const double *in, const double *w, const double *b, int M, int K, int N)
{
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++)
      {
        double s = b ? b[n] : 0.0;
        for (int k = 0; k < K; k++)
          s += in[m * K + k] * w[n * K + k];
        out[m * N + n] = s;
      }
}

static void
d_ln_relu (double *x, const double *w, const double *b, int M, int C)
{
  for (int m = 0; m < M; m++)
    {
      double *r = x + m * C, mu = 0, var = 0;
      for (int c = 0; c < C; c++)
        mu += r[c];
      mu /= C;
      for (int c = 0; c < C; c++)
        var += (r[c] - mu) * (r[c] - mu);
      double rs = 1.0 / sqrt (var / C + 1e-5);
      for (int c = 0; c < C; c++)
        r[c] = fmax ((r[c] - mu) * rs * w[c] + b[c], 0.0);
    }
}

static double
proj_loss (void *p)
{
  ProjCtx *c = p;
  const double *v = c->v;
  double *h1 = g_new (double, c->M * c->Hd), *h2 = g_new (double, c->M * c->Hd);
  double *y = g_new (double, c->M * c->O);
  d_linear (h1, v + c->off[9], v + c->off[0], v + c->off[1], c->M, c->D, c->Hd);
  d_ln_relu (h1, v + c->off[2], v + c->off[3], c->M, c->Hd);
  d_linear (h2, h1, v + c->off[4], v + c->off[5], c->M, c->Hd, c->Hd);
  d_ln_relu (h2, v + c->off[6], v + c->off[7], c->M, c->Hd);
  d_linear (y, h2, v + c->off[8], NULL, c->M, c->Hd, c->O);
  double L = 0.0;
  for (int i = 0; i < c->M * c->O; i++)
    L += y[i] * c->R[i];
  g_free (h1), g_free (h2), g_free (y);
  return L;
}

static void
test_projector (void)
{
  GRand *r = g_rand_new_with_seed (24);
  ProjCtx c = { .M = 5, .D = 6, .Hd = 8, .O = 4 };
  const size_t sizes[10] = { (size_t) c.Hd * c.D, c.Hd, c.Hd, c.Hd, (size_t) c.Hd * c.Hd,
                             c.Hd, c.Hd, c.Hd, (size_t) c.O * c.Hd, (size_t) c.M * c.D };
  size_t total = 0;
  for (int i = 0; i < 10; i++)
    c.off[i] = total, total += sizes[i];
  c.v = g_new (double, total), c.R = g_new (double, c.M * c.O);
  fill (r, c.v, total, -1, 1), fill (r, c.R, c.M * c.O, -1, 1);
  double *g = fd_grad (proj_loss, &c, c.v, total);
  float *v = to_float (c.v, total), *R = to_float (c.R, c.M * c.O), *grad = g_new0 (float, total);
  PeacProjector p = { v + c.off[0], v + c.off[1], v + c.off[2], v + c.off[3], v + c.off[4],
                      v + c.off[5], v + c.off[6], v + c.off[7], v + c.off[8],
                      c.D, c.Hd, c.O, 1e-5f };
  PeacProjectorGrads pg = { grad + c.off[0], grad + c.off[1], grad + c.off[2], grad + c.off[3],
                            grad + c.off[4], grad + c.off[5], grad + c.off[6], grad + c.off[7],
                            grad + c.off[8] };
  float *cache = g_new (float, peac_projector_cache_floats (&p, c.M));
  float *y = g_new (float, c.M * c.O), *scratch = g_new (float, 2 * c.M * c.Hd);
  peac_projector_forward (&p, y, cache, v + c.off[9], c.M);
  double L = 0.0;
  for (int i = 0; i < c.M * c.O; i++)
    L += (double) y[i] * R[i];
  g_assert_cmpfloat (fabs (L - proj_loss (&c)), <, 1e-5);
  peac_projector_backward (&p, &pg, grad + c.off[9], scratch, R, cache, v + c.off[9], c.M);
  check ("projector (all)", grad, g, total);
  check ("projector dx", grad + c.off[9], g + c.off[9], sizes[9]);
  check ("projector w1", grad + c.off[0], g + c.off[0], sizes[0]);
  g_free (c.v), g_free (c.R), g_free (g), g_free (v), g_free (R), g_free (grad);
  g_free (cache), g_free (y), g_free (scratch);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/peac-loss/shuffle-relu", test_shuffle_relu);
  g_test_add_func ("/peac-loss/cross-entropy", test_ce);
  g_test_add_func ("/peac-loss/mse", test_mse);
  g_test_add_func ("/peac-loss/infonce", test_nce);
  g_test_add_func ("/peac-loss/projector", test_projector);
  return g_test_run ();
}
