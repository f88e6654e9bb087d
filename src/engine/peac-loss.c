// SPDX-License-Identifier: GPL-3.0-or-later
//
// peac-loss: forward/backward pairs of the PEAC heads and loss terms (see peac-loss.h).
// Losses are reduced in double for stability; gradients are float and accumulate. The
// projector reuses the engine's Linear and LayerNorm ops and their backward twins.
#include "peac-loss.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "ops.h"
#include "ops-train.h"

void
peac_relu_forward (float *out, const float *in, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void
peac_relu_backward (float *din, const float *dout, const float *in, size_t n)
{
  for (size_t i = 0; i < n; i++)
    din[i] += in[i] > 0.0f ? dout[i] : 0.0f;
}

// ---------------------------------------------------------------------------------------
// Pixel shuffle

void
peac_pixel_shuffle_forward (float *out, const float *in, int B, int G, int C, int r)
{
  const int S = G * r, K = C * r * r;
  for (int b = 0; b < B; b++)
    for (int ch = 0; ch < C; ch++)
      for (int Y = 0; Y < S; Y++)
        for (int X = 0; X < S; X++)
          {
            const int y = Y / r, i = Y % r, x = X / r, j = X % r;
            out[(((size_t) b * C + ch) * S + Y) * S + X]
                = in[((size_t) b * G * G + y * G + x) * K + (ch * r + i) * r + j];
          }
}

void
peac_pixel_shuffle_backward (float *din, const float *dout, int B, int G, int C, int r)
{
  const int S = G * r, K = C * r * r;
  for (int b = 0; b < B; b++)
    for (int ch = 0; ch < C; ch++)
      for (int Y = 0; Y < S; Y++)
        for (int X = 0; X < S; X++)
          {
            const int y = Y / r, i = Y % r, x = X / r, j = X % r;
            din[((size_t) b * G * G + y * G + x) * K + (ch * r + i) * r + j]
                += dout[(((size_t) b * C + ch) * S + Y) * S + X];
          }
}

// ---------------------------------------------------------------------------------------
// Cross-entropy: L = −(1/count) Σ_rows log softmax(logits)[label]

double
peac_ce_forward (float *probs, const float *logits, const int *labels, int n, int K,
                 int *count)
{
  double L = 0.0;
  int c = 0;
  for (int i = 0; i < n; i++)
    {
      const float *z = logits + (size_t) i * K;
      float *p = probs + (size_t) i * K;
      double m = z[0], s = 0.0;
      for (int k = 1; k < K; k++)
        m = z[k] > m ? z[k] : m;
      for (int k = 0; k < K; k++)
        s += exp ((double) z[k] - m);
      for (int k = 0; k < K; k++)
        p[k] = (float) (exp ((double) z[k] - m) / s);
      if (labels[i] >= 0)
        {
          L += -((double) z[labels[i]] - m - log (s));
          c++;
        }
    }
  *count = c;
  return c ? L / c : 0.0;
}

void
peac_ce_backward (float *dlogits, const float *probs, const int *labels, int n, int K,
                  int count, float scale)
{
  if (count <= 0)
    return;
  const float k = scale / (float) count;
  for (int i = 0; i < n; i++)
    {
      if (labels[i] < 0)
        continue;
      float *d = dlogits + (size_t) i * K;
      const float *p = probs + (size_t) i * K;
      for (int j = 0; j < K; j++)
        d[j] += k * (p[j] - (j == labels[i] ? 1.0f : 0.0f));
    }
}

// ---------------------------------------------------------------------------------------
// MSE

double
peac_mse_forward (const float *a, const float *b, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double d = (double) a[i] - b[i];
      s += d * d;
    }
  return n ? s / (double) n : 0.0;
}

void
peac_mse_backward (float *da, const float *a, const float *b, size_t n, float scale)
{
  const float k = 2.0f * scale / (float) n;
  for (size_t i = 0; i < n; i++)
    da[i] += k * (a[i] - b[i]);
}

// ---------------------------------------------------------------------------------------
// MSE of L2-normalised rows

static double
row_norm (const float *a, int D)
{
  double s = 0.0;
  for (int d = 0; d < D; d++)
    s += (double) a[d] * a[d];
  return sqrt (s) + 1e-12;
}

double
peac_nmse_forward (const float *a, const float *b, const float *w, int rows, int D)
{
  double L = 0.0, W = 0.0;
  for (int i = 0; i < rows; i++)
    {
      const double wi = w ? w[i] : 1.0;
      if (wi == 0.0)
        continue;
      const float *ai = a + (size_t) i * D, *bi = b + (size_t) i * D;
      const double na = row_norm (ai, D), nb = row_norm (bi, D);
      double s = 0.0;
      for (int d = 0; d < D; d++)
        {
          double e = ai[d] / na - bi[d] / nb;
          s += e * e;
        }
      L += wi * s;
      W += wi;
    }
  return W > 0 ? L / (W * D) : 0.0;
}

void
peac_nmse_backward (float *da, const float *a, const float *b, const float *w, int rows,
                    int D, float scale)
{
  double W = 0.0;
  for (int i = 0; i < rows; i++)
    W += w ? w[i] : 1.0;
  if (W <= 0)
    return;
  for (int i = 0; i < rows; i++)
    {
      const double wi = w ? w[i] : 1.0;
      if (wi == 0.0)
        continue;
      const float *ai = a + (size_t) i * D, *bi = b + (size_t) i * D;
      const double na = row_norm (ai, D), nb = row_norm (bi, D);
      const double k = 2.0 * wi * scale / (W * D);
      double dot = 0.0; // â · dâ
      for (int d = 0; d < D; d++)
        dot += ai[d] / na * k * (ai[d] / na - bi[d] / nb);
      float *g = da + (size_t) i * D;
      for (int d = 0; d < D; d++)
        {
          double ah = ai[d] / na, dh = k * (ah - bi[d] / nb);
          g[d] += (float) ((dh - ah * dot) / na);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Dense InfoNCE. Cache: â [S·n, D], k̂ [S·n, D], probabilities [S, n, n], ‖a‖ [S·n], and
// one group's dâ [n, D] for the backward.

size_t
peac_nce_cache_floats (int S, int n, int D)
{
  return (size_t) S * n * (2 * (size_t) D + n + 1) + (size_t) n * D;
}

double
peac_nce_forward (float *cache, const float *a, const float *k, const int *lab, int S, int n,
                  int D, double tau, int *count)
{
  const size_t rows = (size_t) S * n;
  float *ah = cache, *kh = ah + rows * D, *p = kh + rows * D, *na = p + rows * n;
  for (size_t r = 0; r < rows; r++)
    {
      const double nr = row_norm (a + r * D, D), nk = row_norm (k + r * D, D);
      na[r] = (float) nr;
      for (int d = 0; d < D; d++)
        ah[r * D + d] = (float) (a[r * D + d] / nr), kh[r * D + d] = (float) (k[r * D + d] / nk);
    }
  double L = 0.0;
  int c = 0;
  for (int s = 0; s < S; s++)
    {
      // logits [n, n] = Â_s · K̂_sᵀ / τ, then a row softmax in place.
      float *ps = p + (size_t) s * n * n;
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, n, D, (float) (1.0 / tau),
                   ah + (size_t) s * n * D, D, kh + (size_t) s * n * D, D, 0.0f, ps, n);
      for (int i = 0; i < n; i++)
        {
          float *row = ps + (size_t) i * n;
          float mx = row[0];
          for (int m = 1; m < n; m++)
            mx = row[m] > mx ? row[m] : mx;
          double z = 0.0;
          for (int m = 0; m < n; m++)
            z += exp ((double) row[m] - mx);
          const int l = lab[(size_t) s * n + i];
          if (l >= 0)
            L += log (z) - ((double) row[l] - mx), c++;
          for (int m = 0; m < n; m++)
            row[m] = (float) (exp ((double) row[m] - mx) / z);
        }
    }
  *count = c;
  return c ? L / c : 0.0;
}

void
peac_nce_backward (float *da, float *cache, const int *lab, int S, int n, int D, double tau,
                   int count, float scale)
{
  if (count <= 0)
    return;
  const size_t rows = (size_t) S * n;
  float *ah = cache, *kh = ah + rows * D, *p = kh + rows * D, *na = p + rows * n;
  float *dah = na + rows;
  const float k = (float) (scale / (tau * count));
  for (int s = 0; s < S; s++)
    {
      // dlogits = (P − Y) · scale/(τ·count) on labelled rows, 0 elsewhere (in place: the
      // probabilities are not needed again).
      float *ps = p + (size_t) s * n * n;
      for (int i = 0; i < n; i++)
        {
          float *row = ps + (size_t) i * n;
          const int l = lab[(size_t) s * n + i];
          if (l < 0)
            {
              memset (row, 0, (size_t) n * sizeof (float));
              continue;
            }
          row[l] -= 1.0f;
          for (int m = 0; m < n; m++)
            row[m] *= k;
        }
      // dÂ_s [n, D] = dlogits · K̂_s
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, D, n, 1.0f, ps, n,
                   kh + (size_t) s * n * D, D, 0.0f, dah, D);
      for (int i = 0; i < n; i++)
        {
          const size_t r = (size_t) s * n + i;
          if (lab[r] < 0)
            continue;
          const float *ar = ah + r * D, *dr = dah + (size_t) i * D;
          double dot = 0.0;
          for (int d = 0; d < D; d++)
            dot += (double) ar[d] * dr[d];
          float *g = da + r * D;
          for (int d = 0; d < D; d++)
            g[d] += (float) ((dr[d] - ar[d] * dot) / na[r]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Projector MLP. Cache: h1, n1, r1, h2, n2, r2 [M, Hd]; mean1, rstd1, mean2, rstd2 [M].

size_t
peac_projector_cache_floats (const PeacProjector *p, int M)
{
  return (size_t) M * (6 * (size_t) p->Hd + 4);
}

typedef struct { float *h1, *n1, *r1, *h2, *n2, *r2, *mean1, *rstd1, *mean2, *rstd2; } Cache;

static Cache
split (const PeacProjector *p, const float *cache, int M)
{
  float *c = (float *) cache;
  const size_t a = (size_t) M * p->Hd;
  Cache k = { c, c + a, c + 2 * a, c + 3 * a, c + 4 * a, c + 5 * a, c + 6 * a,
              c + 6 * a + M, c + 6 * a + 2 * M, c + 6 * a + 3 * M };
  return k;
}

void
peac_projector_forward (const PeacProjector *p, float *y, float *cache, const float *x, int M)
{
  Cache k = split (p, cache, M);
  const size_t a = (size_t) M * p->Hd;
  op_linear_forward (k.h1, x, p->w1, p->b1, M, p->D, p->Hd);
  op_layernorm_forward (k.n1, k.mean1, k.rstd1, k.h1, p->ln1_w, p->ln1_b, M, p->Hd, p->eps);
  peac_relu_forward (k.r1, k.n1, a);
  op_linear_forward (k.h2, k.r1, p->w2, p->b2, M, p->Hd, p->Hd);
  op_layernorm_forward (k.n2, k.mean2, k.rstd2, k.h2, p->ln2_w, p->ln2_b, M, p->Hd, p->eps);
  peac_relu_forward (k.r2, k.n2, a);
  op_linear_forward (y, k.r2, p->w3, NULL, M, p->Hd, p->O);
}

// d[i] = 0 where in[i] ≤ 0: ReLU's backward applied in place (d = dout · [in > 0]).
static void
relu_mask (float *d, const float *in, size_t n)
{
  for (size_t i = 0; i < n; i++)
    d[i] = in[i] > 0.0f ? d[i] : 0.0f;
}

void
peac_projector_backward (const PeacProjector *p, PeacProjectorGrads *g, float *dx,
                         float *scratch, const float *dy, const float *cache, const float *x,
                         int M)
{
  Cache k = split (p, cache, M);
  const size_t a = (size_t) M * p->Hd, bytes = a * sizeof (float);
  float *A = scratch, *B = scratch + a;
  // The fused backwards write their input gradients, and ReLU's backward masks in place,
  // so only LayerNorm's accumulating outputs need zeroing.
  op_linear_backward_fused (A, 0, NULL, g->w3, NULL, dy, k.r2, p->w3, M, p->Hd, p->O); // dr2
  relu_mask (A, k.n2, a);                                                             // dn2
  memset (B, 0, bytes);
  op_layernorm_backward_fused (B, g->ln2_w, g->ln2_b, A, k.h2, p->ln2_w, k.mean2, k.rstd2, M,
                               p->Hd);                                                // dh2
  op_linear_backward_fused (A, 0, NULL, g->w2, g->b2, B, k.r1, p->w2, M, p->Hd, p->Hd); // dr1
  relu_mask (A, k.n1, a);                                                             // dn1
  memset (B, 0, bytes);
  op_layernorm_backward_fused (B, g->ln1_w, g->ln1_b, A, k.h1, p->ln1_w, k.mean1, k.rstd1, M,
                               p->Hd);                                                // dh1
  op_linear_backward_fused (dx, 1, NULL, g->w1, g->b1, B, x, p->w1, M, p->D, p->Hd);
}
