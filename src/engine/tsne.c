// SPDX-License-Identifier: GPL-3.0-or-later
//
// tsne: the t-SNE objective and its optimiser (tsne-tree.c holds the trees). Given input
// affinities P (Gaussian kernels calibrated to a perplexity, symmetrised, Σ P = 1) and map
// affinities q_ij = w_ij / Z with w_ij = 1 / (1 + ‖y_i − y_j‖²), Z = Σ_{k≠l} w_kl, it
// minimises KL(P‖Q) = Σ p_ij log(p_ij / q_ij), whose gradient is
//   ∂KL/∂y_i = 4 Σ_j (p_ij − q_ij) w_ij (y_i − y_j)
//            = 4 [ Σ_j p_ij w_ij (y_i − y_j)  −  (1/Z) Σ_j w_ij² (y_i − y_j) ]
//                  attraction (sparse P)          repulsion (all pairs: exact or quadtree)
// The schedule is scikit-learn's (≥ 1.2): PCA init scaled to std 1e-4, P × 12 for 250
// iterations at momentum 0.5, then momentum 0.8; per-coordinate gains (+0.2 when the
// gradient changes sign against the update, ×0.8 otherwise, ≥ min_gain), and learning
// rate max(N / exaggeration / 4, 50) — the "/4" undoes the 4 in the gradient, so it is
// the "N / exaggeration" rule of Belkina et al. Every sum that crosses threads is reduced
// per point first and then serially in index order, so results depend only on the seed
// and thread count (of the GEMMs in the kNN and PCA).
#include "tsne.h"
#include "tsne-internal.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

void openblas_set_num_threads (int num_threads);

void
tsne_params_init (TsneParams *p)
{
  memset (p, 0, sizeof *p);
  p->perplexity = 30.0f;
  p->theta = 0.5f;
  p->max_iter = 1000;
  p->exaggeration_iter = 250;
  p->early_exaggeration = 12.0f;
  p->learning_rate = -1.0f;
  p->momentum_early = 0.5f;
  p->momentum_late = 0.8f;
  p->min_gain = 0.01f;
  p->min_grad_norm = 1e-7f;
  p->check_every = 50;
  p->init = TSNE_INIT_PCA;
  p->knn = TSNE_KNN_AUTO;
  p->seed = 42;
  p->n_threads = 1;
}

static uint64_t
splitmix64 (uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Standard normal by Box-Muller from two uniforms in (0, 1].
double
tsne_randn (uint64_t *s)
{
  double u1 = ((splitmix64 (s) >> 11) + 1.0) * 0x1.0p-53;
  double u2 = ((splitmix64 (s) >> 11) + 1.0) * 0x1.0p-53;
  return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

// ---------------------------------------------------------------------------------------
// Perplexity calibration. With e_j = exp(−β (d_j − d_min)) (the shift cancels in p_j but
// keeps exp in range), S = Σ e_j, p_j = e_j / S, the entropy in nats is
//   H(β) = −Σ p_j log p_j = log S + β Σ p_j (d_j − d_min),
// decreasing in β from log k (β = 0) towards 0. Bisection on β (doubling / halving until
// bracketed) finds H = log perplexity.

static double
row_entropy (const float *d2, int k, double dmin, double beta, float *p)
{
  double S = 0.0, Sd = 0.0;
  for (int j = 0; j < k; j++)
    {
      double dj = d2[j] - dmin;
      double e = exp (-beta * dj);
      S += e;
      Sd += e * dj;
    }
  for (int j = 0; j < k; j++)
    p[j] = (float) (exp (-beta * (d2[j] - dmin)) / S);
  return log (S) + beta * Sd / S;
}

double
tsne_calibrate_row (const float *d2, int k, double perplexity, float *p)
{
  double dmin = INFINITY, dsum = 0.0;
  for (int j = 0; j < k; j++)
    {
      dmin = fmin (dmin, d2[j]);
      dsum += d2[j];
    }
  double spread = dsum / k - dmin;
  double target = log (perplexity);
  double beta = spread > 0.0 ? 1.0 / spread : 1.0;
  double lo = 0.0, hi = INFINITY;
  for (int step = 0; step < 200; step++)
    {
      double H = row_entropy (d2, k, dmin, beta, p);
      if (fabs (H - target) < 1e-5)
        break;
      if (H > target)
        {
          lo = beta;   // too flat: sharpen
          beta = isinf (hi) ? 2.0 * beta : 0.5 * (beta + hi);
        }
      else
        {
          hi = beta;
          beta = 0.5 * (beta + lo);
        }
    }
  return beta;
}

int
tsne_knn (const float *X, int N, int D, int k, TsneKnn method, uint64_t seed,
          int n_threads, int32_t *idx, float *d2)
{
  if (k < 1 || k > N - 1)
    return -1;
  if (method == TSNE_KNN_AUTO)
    method = D > 32 ? TSNE_KNN_BRUTE : TSNE_KNN_VPTREE;
  if (method == TSNE_KNN_BRUTE)
    return tsne_knn_brute (X, N, D, k, n_threads, idx, d2);
  return tsne_knn_vptree (X, N, D, k, seed, n_threads, idx, d2);
}

int
tsne_knn_count (int N, double perplexity)
{
  int k = (int) (3.0 * perplexity + 1.0);
  return k < N - 1 ? k : N - 1;
}

// ---------------------------------------------------------------------------------------
// Sparse joint probabilities: P = (C + Cᵀ) / Σ(C + Cᵀ) with C the conditional rows on the
// k nearest neighbours. Row i of P merges row i of C with column i of C (the points that
// chose i), both in increasing column order.

void
tsne_sparse_free (TsneSparseP *P)
{
  free (P->row_ptr);
  free (P->col);
  free (P->val);
  memset (P, 0, sizeof *P);
}

static int
symmetrise (int N, int k, const int32_t *idx, const float *cond, TsneSparseP *P)
{
  int64_t *tp = calloc ((size_t) N + 1, sizeof *tp);   // transpose row pointers
  int32_t *tc = malloc ((size_t) N * k * sizeof *tc);
  float *tv = malloc ((size_t) N * k * sizeof *tv);
  int64_t *fill = malloc ((size_t) N * sizeof *fill);
  int32_t *oc = malloc ((size_t) k * sizeof *oc);
  float *ov = malloc ((size_t) k * sizeof *ov);
  memset (P, 0, sizeof *P);
  P->N = N;
  P->row_ptr = malloc (((size_t) N + 1) * sizeof *P->row_ptr);
  P->col = malloc ((size_t) 2 * N * k * sizeof *P->col);
  P->val = malloc ((size_t) 2 * N * k * sizeof *P->val);
  int rc = -1;
  if (!tp || !tc || !tv || !fill || !oc || !ov || !P->row_ptr || !P->col || !P->val)
    goto out;
  // Transpose of C by counting sort: rows of Cᵀ list the j that chose i, j increasing.
  for (size_t e = 0; e < (size_t) N * k; e++)
    tp[idx[e] + 1]++;
  for (int i = 0; i < N; i++)
    tp[i + 1] += tp[i];
  memcpy (fill, tp, (size_t) N * sizeof *fill);
  for (int j = 0; j < N; j++)
    for (int a = 0; a < k; a++)
      {
        int32_t i = idx[(size_t) j * k + a];
        tc[fill[i]] = j;
        tv[fill[i]++] = cond[(size_t) j * k + a];
      }
  double total = 0.0;
  int64_t nnz = 0;
  for (int i = 0; i < N; i++)
    {
      P->row_ptr[i] = nnz;
      // Own row sorted by column (insertion sort, k small).
      for (int a = 0; a < k; a++)
        {
          int32_t c = idx[(size_t) i * k + a];
          float v = cond[(size_t) i * k + a];
          int b = a;
          while (b > 0 && oc[b - 1] > c)
            {
              oc[b] = oc[b - 1];
              ov[b] = ov[b - 1];
              b--;
            }
          oc[b] = c;
          ov[b] = v;
        }
      int64_t t = tp[i], te = tp[i + 1];
      int a = 0;
      while (a < k || t < te)
        {
          int32_t c;
          float v;
          if (t >= te || (a < k && oc[a] < tc[t]))
            { c = oc[a]; v = ov[a++]; }
          else if (a >= k || tc[t] < oc[a])
            { c = tc[t]; v = tv[t++]; }
          else
            { c = oc[a]; v = ov[a++] + tv[t++]; }
          P->col[nnz] = c;
          P->val[nnz++] = v;
          total += v;
        }
    }
  P->row_ptr[N] = nnz;
  float inv = (float) (1.0 / fmax (total, DBL_MIN));
  for (int64_t e = 0; e < nnz; e++)
    P->val[e] *= inv;
  rc = 0;
out:
  free (tp); free (tc); free (tv); free (fill); free (oc); free (ov);
  if (rc != 0)
    tsne_sparse_free (P);
  return rc;
}

// Rows of conditional affinities from k neighbour distances, over the engine's pool;
// each row divided by `norm` when it is non-zero.
void
tsne_calibrate_rows (void *ctx, int begin, int end, int thread)
{
  (void) thread;
  const TsneCalibrateJob *j = ctx;
  for (int i = begin; i < end; i++)
    {
      float *o = j->out + (size_t) i * j->k;
      tsne_calibrate_row (j->d2 + (size_t) i * j->k, j->k, j->perplexity, o);
      if (j->norm != 0.0f)
        for (int a = 0; a < j->k; a++)
          o[a] /= j->norm;
    }
}

// Dense rows: P[i, j] ← conditional affinity from ‖x_i‖² + ‖x_j‖² − 2 x_i·x_j (already
// in P as the GEMM part), with per-thread row buffers of N floats.
typedef struct {
  float       *P;
  const float *nrm;
  int          N;
  double       perplexity;
  float       *row, *pr;
} DenseJob;

static void
dense_rows (void *ctx, int begin, int end, int thread)
{
  const DenseJob *d = ctx;
  const int N = d->N;
  float *row = d->row + (size_t) thread * N, *pr = d->pr + (size_t) thread * N;
  for (int i = begin; i < end; i++)
    {
      float *Pi = d->P + (size_t) i * N;
      int m = 0;
      for (int j = 0; j < N; j++)
        if (j != i)
          row[m++] = fmaxf (0.0f, Pi[j] + d->nrm[i] + d->nrm[j]);
      tsne_calibrate_row (row, m, d->perplexity, pr);
      m = 0;
      for (int j = 0; j < N; j++)
        Pi[j] = j == i ? 0.0f : pr[m++];
    }
}

int
tsne_affinities_sparse (const float *X, int N, int D, double perplexity, TsneKnn knn,
                        uint64_t seed, int n_threads, TsneSparseP *P)
{
  int k = tsne_knn_count (N, perplexity);
  if (k < 1)
    return -1;
  int32_t *idx = malloc ((size_t) N * k * sizeof *idx);
  float *d2 = malloc ((size_t) N * k * sizeof *d2);
  float *cond = malloc ((size_t) N * k * sizeof *cond);
  int rc = -1;
  if (idx && d2 && cond && tsne_knn (X, N, D, k, knn, seed, n_threads, idx, d2) == 0)
    {
      TsneCalibrateJob cj = { d2, cond, k, perplexity, 0.0f };
      peac_parallel_range (N, 64, n_threads, tsne_calibrate_rows, &cj);
      rc = symmetrise (N, k, idx, cond, P);
    }
  free (idx); free (d2); free (cond);
  return rc;
}

int
tsne_affinities_dense (const float *X, int N, int D, double perplexity, int n_threads,
                       float *P)
{
  // Squared distances: ‖x_i‖² + ‖x_j‖² − 2 x_i·x_j from one SYRK-like GEMM.
  float *nrm = malloc ((size_t) N * sizeof *nrm);
  if (!nrm)
    return -1;
  for (int i = 0; i < N; i++)
    nrm[i] = cblas_sdot (D, X + (size_t) i * D, 1, X + (size_t) i * D, 1);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, N, N, D, -2.0f, X, D, X, D,
               0.0f, P, N);
  DenseJob dj = { P, nrm, N, perplexity, NULL, NULL };
  dj.row = malloc ((size_t) n_threads * N * sizeof *dj.row);
  dj.pr = malloc ((size_t) n_threads * N * sizeof *dj.pr);
  if (!dj.row || !dj.pr)
    {
      free (dj.row), free (dj.pr), free (nrm);
      return -1;
    }
  peac_parallel_range (N, 16, n_threads, dense_rows, &dj);
  free (dj.row), free (dj.pr);
  free (nrm);
  // Symmetrise in place: P ← (C + Cᵀ) / Σ.
  double total = 0.0;
  for (int i = 0; i < N; i++)
    for (int j = i + 1; j < N; j++)
      {
        float s = P[(size_t) i * N + j] + P[(size_t) j * N + i];
        P[(size_t) i * N + j] = P[(size_t) j * N + i] = s;
        total += 2.0 * s;
      }
  float inv = (float) (1.0 / fmax (total, DBL_MIN));
  for (size_t e = 0; e < (size_t) N * N; e++)
    P[e] *= inv;
  return 0;
}

// ---------------------------------------------------------------------------------------
// PCA initialisation: top two eigenvectors of the covariance C = X_cᵀ X_c by subspace
// iteration on a block of b ≤ 8 vectors (V ← orth(C V), rate (λ_{b+1}/λ_2)^iter), then
// Rayleigh–Ritz on VᵀCV with Jacobi rotations. Signs as scikit-learn's svd_flip: the score
// of largest magnitude is positive. Scaled so that std(Y[:, 0]) = 1e-4.

// Jacobi eigen-decomposition of the symmetric b×b matrix A (destroyed): eigenvalues in w,
// eigenvectors in the columns of E.
static void
jacobi_eigen (double *A, int b, double *w, double *E)
{
  for (int i = 0; i < b * b; i++)
    E[i] = (i % (b + 1)) == 0 ? 1.0 : 0.0;
  for (int sweep = 0; sweep < 64; sweep++)
    {
      double off = 0.0;
      for (int p = 0; p < b; p++)
        for (int q = p + 1; q < b; q++)
          off += A[p * b + q] * A[p * b + q];
      if (off < 1e-30)
        break;
      for (int p = 0; p < b; p++)
        for (int q = p + 1; q < b; q++)
          {
            double apq = A[p * b + q];
            if (fabs (apq) < 1e-300)
              continue;
            double tau = (A[q * b + q] - A[p * b + p]) / (2.0 * apq);
            double t = (tau >= 0 ? 1.0 : -1.0) / (fabs (tau) + sqrt (1.0 + tau * tau));
            double c = 1.0 / sqrt (1.0 + t * t), s = t * c;
            for (int r = 0; r < b; r++)
              {
                double arp = A[r * b + p], arq = A[r * b + q];
                A[r * b + p] = c * arp - s * arq;
                A[r * b + q] = s * arp + c * arq;
              }
            for (int r = 0; r < b; r++)
              {
                double apr = A[p * b + r], aqr = A[q * b + r];
                A[p * b + r] = c * apr - s * aqr;
                A[q * b + r] = s * apr + c * aqr;
              }
            for (int r = 0; r < b; r++)
              {
                double erp = E[r * b + p], erq = E[r * b + q];
                E[r * b + p] = c * erp - s * erq;
                E[r * b + q] = s * erp + c * erq;
              }
          }
    }
  for (int i = 0; i < b; i++)
    w[i] = A[i * b + i];
}

// Modified Gram–Schmidt on the b columns of V [D, b] (row-major), in double.
static void
orthonormalise (float *V, int D, int b)
{
  for (int c = 0; c < b; c++)
    {
      for (int e = 0; e < c; e++)
        {
          double dot = 0.0;
          for (int d = 0; d < D; d++)
            dot += (double) V[d * b + c] * V[d * b + e];
          for (int d = 0; d < D; d++)
            V[d * b + c] -= (float) (dot * V[d * b + e]);
        }
      double n = 0.0;
      for (int d = 0; d < D; d++)
        n += (double) V[d * b + c] * V[d * b + c];
      n = n > 0.0 ? 1.0 / sqrt (n) : 0.0;
      for (int d = 0; d < D; d++)
        V[d * b + c] = (float) (V[d * b + c] * n);
    }
}

static int
pca_init (const float *X, int N, int D, uint64_t seed, float *Y)
{
  int b = D < 8 ? D : 8;
  float *Xc = malloc ((size_t) N * D * sizeof *Xc);
  double *mean = calloc ((size_t) D, sizeof *mean);
  float *C = malloc ((size_t) D * D * sizeof *C);
  float *V = malloc ((size_t) D * b * sizeof *V);
  float *W = malloc ((size_t) D * b * sizeof *W);
  float *S = malloc ((size_t) N * b * sizeof *S);
  int rc = -1;
  if (!Xc || !mean || !C || !V || !W || !S)
    goto out;
  for (int i = 0; i < N; i++)
    for (int d = 0; d < D; d++)
      mean[d] += X[(size_t) i * D + d];
  for (int d = 0; d < D; d++)
    mean[d] /= N;
  for (int i = 0; i < N; i++)
    for (int d = 0; d < D; d++)
      Xc[(size_t) i * D + d] = (float) (X[(size_t) i * D + d] - mean[d]);
  cblas_ssyrk (CblasRowMajor, CblasUpper, CblasTrans, D, N, 1.0f, Xc, D, 0.0f, C, D);
  for (int r = 0; r < D; r++)
    for (int c = 0; c < r; c++)
      C[r * D + c] = C[c * D + r];
  uint64_t s = seed ^ 0x9ca1ULL;
  for (int e = 0; e < D * b; e++)
    V[e] = (float) tsne_randn (&s);
  orthonormalise (V, D, b);
  for (int it = 0; it < 150; it++)
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, D, b, D, 1.0f, C, D, V, b,
                   0.0f, W, b);
      // Rescale before orthonormalising to keep float in range.
      float mx = 0.0f;
      for (int e = 0; e < D * b; e++)
        mx = fmaxf (mx, fabsf (W[e]));
      if (mx == 0.0f)
        break;
      for (int e = 0; e < D * b; e++)
        V[e] = W[e] / mx;
      orthonormalise (V, D, b);
    }
  // Rayleigh–Ritz: H = Vᵀ C V (b×b) via the scores S = X_c V: H = SᵀS.
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, N, b, D, 1.0f, Xc, D, V, b,
               0.0f, S, b);
  double H[64], w[8], E[64];
  for (int p = 0; p < b; p++)
    for (int q = 0; q < b; q++)
      {
        double acc = 0.0;
        for (int i = 0; i < N; i++)
          acc += (double) S[(size_t) i * b + p] * S[(size_t) i * b + q];
        H[p * b + q] = acc;
      }
  jacobi_eigen (H, b, w, E);
  // Pick the two largest Ritz values; scores Y[:, c] = S · E[:, pick_c].
  int first = 0, second = -1;
  for (int p = 1; p < b; p++)
    if (w[p] > w[first])
      first = p;
  for (int p = 0; p < b; p++)
    if (p != first && (second < 0 || w[p] > w[second]))
      second = p;
  int pick[2] = { first, second };
  for (int c = 0; c < 2; c++)
    {
      double big = 0.0;
      for (int i = 0; i < N; i++)
        {
          double y = 0.0;
          if (pick[c] >= 0)
            for (int p = 0; p < b; p++)
              y += (double) S[(size_t) i * b + p] * E[p * b + pick[c]];
          Y[2 * i + c] = (float) y;
          if (fabs (y) > fabs (big))
            big = y;
        }
      if (big < 0.0)
        for (int i = 0; i < N; i++)
          Y[2 * i + c] = -Y[2 * i + c];
    }
  double m0 = 0.0, v0 = 0.0;
  for (int i = 0; i < N; i++)
    m0 += Y[2 * i];
  m0 /= N;
  for (int i = 0; i < N; i++)
    v0 += (Y[2 * i] - m0) * (Y[2 * i] - m0);
  double sd = sqrt (v0 / N);
  if (sd > 0.0)
    {
      for (int i = 0; i < 2 * N; i++)
        Y[i] = (float) (Y[i] / sd * 1e-4);
      rc = 0;
    }
out:
  free (Xc); free (mean); free (C); free (V); free (W); free (S);
  return rc;
}

static void
random_init (int N, uint64_t seed, float *Y)
{
  uint64_t s = seed ^ 0x7a11ULL;
  for (int i = 0; i < 2 * N; i++)
    Y[i] = (float) (1e-4 * tsne_randn (&s));
}

// ---------------------------------------------------------------------------------------
// Gradients. Both write grad [N, 2] and return KL(ex·P ‖ Q) when want_kl (else 0), using
//   KL = Σ p (log p − log w) + log Z · Σ p      (q = w / Z)
// so that the sum over pairs needs Z only at the end.

typedef struct {
  int N;
  int n_threads;
  float theta;
  const float *Pd;          // dense [N, N] (exact) or NULL
  const TsneSparseP *Ps;    // sparse (Barnes-Hut) or NULL
  TsneQuadTree tree;
  double *zi, *ei;          // per-point partial sums
  double *fr;               // per-point repulsion [N, 2]
  int *groups, groups_cap;  // Barnes-Hut: the cells walked as groups
  double *zt, *fxt, *fyt;   // Barnes-Hut: repulsion sums in tree order [N]
  // The evaluation in flight (read by the pool tasks).
  const float *Y;
  float ex;
  int want_kl;
  float *grad;
} Objective;

static TSNE_CLONES void
exact_task (void *ctx, int begin, int end, int thread)
{
  Objective *o = ctx;
  int N = o->N;
  const float *P = o->Pd, *Y = o->Y;
  float ex = o->ex, *grad = o->grad;
  int want_kl = o->want_kl;
  for (int i = begin; i < end; i++)
    {
      // Branch-free float loop over all j (it vectorises): the j = i term has d = 0, so
      // w = 1, no force and P_ii = 0; only its 1 in z is taken out afterwards.
      float z = 0.0f, ax = 0.0f, ay = 0.0f, rx = 0.0f, ry = 0.0f;
      float yx = Y[2 * i], yy = Y[2 * i + 1];
      const float *Pi = P + (size_t) i * N;
      for (int j = 0; j < N; j++)
        {
          float dx = yx - Y[2 * j], dy = yy - Y[2 * j + 1];
          float w = 1.0f / (1.0f + dx * dx + dy * dy);
          float pw = ex * Pi[j] * w, ww = w * w;
          z += w;
          ax += pw * dx; ay += pw * dy;
          rx += ww * dx; ry += ww * dy;
        }
      double e = 0.0;
      if (want_kl)
        for (int j = 0; j < N; j++)
          {
            double p = (double) ex * Pi[j];
            if (j != i && p > 0.0)
              {
                double dx = yx - Y[2 * j], dy = yy - Y[2 * j + 1];
                e += p * (log (p) + log (1.0 + dx * dx + dy * dy));
              }
          }
      o->zi[i] = (double) z - 1.0;
      o->ei[i] = e;
      grad[2 * i] = ax;
      grad[2 * i + 1] = ay;
      o->fr[2 * i] = rx;
      o->fr[2 * i + 1] = ry;
    }
}

// Z = Σ z_i and KL = Σ e_i + log Z · ex (Σ P = 1), reduced in index order; grad ← 4 (attr − rep / Z).
static double
finish_grad (Objective *o, float *grad)
{
  int N = o->N;
  double Z = 0.0, E = 0.0;
  for (int i = 0; i < N; i++)
    {
      Z += o->zi[i];
      E += o->ei[i];
    }
  for (int i = 0; i < N; i++)
    {
      grad[2 * i] = (float) (4.0 * (grad[2 * i] - o->fr[2 * i] / Z));
      grad[2 * i + 1] = (float) (4.0 * (grad[2 * i + 1] - o->fr[2 * i + 1] / Z));
    }
  return o->want_kl ? E + log (Z) * o->ex : 0.0;
}

static TSNE_CLONES void
bh_task (void *ctx, int begin, int end, int thread)
{
  Objective *o = ctx;
  const TsneSparseP *P = o->Ps;
  const float *Y = o->Y;
  float ex = o->ex, *grad = o->grad;
  int want_kl = o->want_kl;
  for (int gi = begin; gi < end; gi++)
    {
      // Repulsion on a whole group of map neighbours in one tree walk (tree order), then
      // attraction point by point.
      const TsneQFlat *g = &o->tree.flat[o->groups[gi]];
      tsne_qt_repulsion_group (&o->tree, o->groups[gi], o->theta, o->zt + g->lo,
                               o->fxt + g->lo, o->fyt + g->lo);
      for (int k = g->lo; k < g->lo + g->count; k++)
        {
      int i = o->tree.perm[k];
      o->zi[i] = o->zt[k];
      o->fr[2 * i] = o->fxt[k];
      o->fr[2 * i + 1] = o->fyt[k];
      double e = 0.0;
      float ax = 0.0f, ay = 0.0f;
      float yx = Y[2 * i], yy = Y[2 * i + 1];
      // A fixed-width SIMD reduction: the same order on every run on this CPU.
      const int32_t *col = P->col + P->row_ptr[i];
      const float *val = P->val + P->row_ptr[i];
      int len = (int) (P->row_ptr[i + 1] - P->row_ptr[i]);
#pragma omp simd reduction (+:ax, ay)
      for (int a = 0; a < len; a++)
        {
          int j = col[a];
          float dx = yx - Y[2 * j], dy = yy - Y[2 * j + 1];
          float w = 1.0f / (1.0f + dx * dx + dy * dy);
          float pw = ex * val[a] * w;
          ax += pw * dx;
          ay += pw * dy;
        }
      if (want_kl)
        for (int64_t a = P->row_ptr[i]; a < P->row_ptr[i + 1]; a++)
          {
            int j = P->col[a];
            double dx = yx - Y[2 * j], dy = yy - Y[2 * j + 1];
            double p = (double) ex * P->val[a];
            if (p > 0.0)
              e += p * (log (p) + log (1.0 + dx * dx + dy * dy));
          }
      o->ei[i] = e;
      grad[2 * i] = (float) ax;
      grad[2 * i + 1] = (float) ay;
        }
    }
}

static double
objective_eval (Objective *o, const float *Y, float ex, int want_kl, float *grad)
{
  o->Y = Y;
  o->ex = ex;
  o->want_kl = want_kl;
  o->grad = grad;
  if (o->Pd)
    peac_parallel_range (o->N, 16, o->n_threads, exact_task, o);
  else
    {
      if (tsne_qt_build (&o->tree, Y, o->N) != 0)
        return NAN;
      int ng = tsne_qt_groups (&o->tree, &o->groups, &o->groups_cap);
      if (ng < 0)
        return NAN;
      peac_parallel_range (ng, 4, o->n_threads, bh_task, o);
    }
  return finish_grad (o, grad);
}

// ---------------------------------------------------------------------------------------
// Gradient descent with momentum and gains, one stage [it0, it1) as in scikit-learn:
// `update` and `gains` start afresh each stage; KL and ‖gains·grad‖ are checked every
// check_every iterations (and on the last), stopping when the gradient norm is below
// min_grad_norm or the KL has not improved for `patience` iterations.

int
tsne_descend (TsneDescent *d, float *Y, int it0, int it1, float momentum, float ex, int patience)
{
  const TsneParams *p = d->p;
  int M = d->M;
  float *Ym = Y + 2 * (size_t) (d->N - M);
  for (int e = 0; e < 2 * M; e++)
    {
      d->upd[e] = 0.0f;
      d->gains[e] = 1.0f;
    }
  double best = DBL_MAX;
  int best_it = it0;
  int it;
  for (it = it0; it < it1; it++)
    {
      int check = (it + 1) % p->check_every == 0 || it == d->max_iter - 1;
      double kl = d->grad (d->ctx, Y, ex, check, d->g);
      if (isnan (kl))
        return -1;
      double gn = 0.0;
      for (int e = 0; e < 2 * M; e++)
        {
          float g = d->g[e];
          if (d->upd[e] * g < 0.0f)
            d->gains[e] += 0.2f;
          else
            d->gains[e] *= 0.8f;
          if (d->gains[e] < p->min_gain)
            d->gains[e] = p->min_gain;
          g *= d->gains[e];
          gn += (double) g * g;
          d->upd[e] = momentum * d->upd[e] - d->lr * g;
          Ym[e] += d->upd[e];
        }
      d->iters = it + 1;
      if (check)
        d->kl = (float) kl;
      if (p->progress && p->progress_every > 0 && (it + 1) % p->progress_every == 0)
        p->progress (p->user, it + 1, d->max_iter, check ? (float) kl : -1.0f, Y, d->N);
      if (p->abort_flag && atomic_load (p->abort_flag))
        {
          d->aborted = 1;
          return 1;
        }
      if (check)
        {
          if (kl < best)
            {
              best = kl;
              best_it = it;
            }
          else if (it - best_it > patience)
            return 1;
          if (sqrt (gn) <= p->min_grad_norm)
            return 1;
        }
    }
  return 0;
}

static double
objective_cb (void *ctx, const float *Y, float ex, int want_kl, float *grad)
{
  return objective_eval (ctx, Y, ex, want_kl, grad);
}

float
tsne_auto_lr (const TsneParams *p, int N)
{
  if (p->learning_rate > 0.0f)
    return p->learning_rate;
  float lr = N / p->early_exaggeration / 4.0f;
  return lr > 50.0f ? lr : 50.0f;
}

int
tsne_check_params (const TsneParams *p, int N, int D, char *err, size_t errlen)
{
  if (N < 2 || D < 1)
    {
      snprintf (err, errlen, "t-SNE needs at least 2 points of at least 1 dimension (got %d × %d)", N, D);
      return -1;
    }
  if (!(p->perplexity > 0.0f) || p->perplexity >= N)
    {
      snprintf (err, errlen, "perplexity %g must be positive and less than the number of points (%d)",
                (double) p->perplexity, N);
      return -1;
    }
  if (p->theta < 0.0f || p->max_iter < 0 || p->n_threads < 1 || p->check_every < 1 ||
      p->early_exaggeration <= 0.0f)
    {
      snprintf (err, errlen, "invalid t-SNE parameters (theta ≥ 0, iterations ≥ 0, threads ≥ 1)");
      return -1;
    }
  return 0;
}

int
tsne_run (const TsneParams *p, const float *X, int N, int D, float *Y,
          TsneResult *res, char *err, size_t errlen)
{
  memset (res, 0, sizeof *res);
  if (tsne_check_params (p, N, D, err, errlen) != 0)
    return -1;
  openblas_set_num_threads (p->n_threads);
  Objective o = { .N = N, .n_threads = p->n_threads, .theta = p->theta };
  TsneSparseP Ps = { 0 };
  float *Pd = NULL;
  int rc = -1;
  res->exact = p->theta == 0.0f;

  double t0 = tsne_now ();
  if (res->exact)
    {
      Pd = malloc ((size_t) N * N * sizeof *Pd);
      if (!Pd || tsne_affinities_dense (X, N, D, p->perplexity, p->n_threads, Pd) != 0)
        {
          snprintf (err, errlen, "out of memory for the %d × %d exact affinities", N, N);
          goto out;
        }
      o.Pd = Pd;
    }
  else
    {
      if (tsne_affinities_sparse (X, N, D, p->perplexity, p->knn, p->seed, p->n_threads, &Ps) != 0)
        {
          snprintf (err, errlen, "could not compute the nearest-neighbour affinities (out of memory?)");
          goto out;
        }
      o.Ps = &Ps;
    }
  double t1 = tsne_now ();
  res->t_affinities = t1 - t0;

  if (p->init == TSNE_INIT_PCA)
    {
      if (pca_init (X, N, D, p->seed, Y) != 0)
        random_init (N, p->seed, Y);   // constant data: no principal direction
    }
  else if (p->init == TSNE_INIT_RANDOM)
    random_init (N, p->seed, Y);
  double t2 = tsne_now ();
  res->t_init = t2 - t1;

  o.zi = malloc ((size_t) N * sizeof *o.zi);
  o.ei = malloc ((size_t) N * sizeof *o.ei);
  o.fr = malloc ((size_t) 2 * N * sizeof *o.fr);
  o.zt = malloc ((size_t) N * sizeof *o.zt);
  o.fxt = malloc ((size_t) N * sizeof *o.fxt);
  o.fyt = malloc ((size_t) N * sizeof *o.fyt);
  TsneDescent d = { .p = p, .N = N, .M = N, .lr = tsne_auto_lr (p, N), .max_iter = p->max_iter,
                .grad = objective_cb, .ctx = &o, .kl = -1.0f };
  d.g = malloc ((size_t) 2 * N * sizeof *d.g);
  d.upd = malloc ((size_t) 2 * N * sizeof *d.upd);
  d.gains = malloc ((size_t) 2 * N * sizeof *d.gains);
  if (!o.zi || !o.ei || !o.fr || !o.zt || !o.fxt || !o.fyt || !d.g || !d.upd || !d.gains)
    {
      snprintf (err, errlen, "out of memory for t-SNE buffers");
      goto out2;
    }
  int n_ex = p->exaggeration_iter < p->max_iter ? p->exaggeration_iter : p->max_iter;
  int s = tsne_descend (&d, Y, 0, n_ex, p->momentum_early, p->early_exaggeration, n_ex);
  d.kl = -1.0f;   // a KL of the exaggerated P is not the one to report
  if (s >= 0 && !d.aborted)
    s = tsne_descend (&d, Y, d.iters, p->max_iter, p->momentum_late, 1.0f, 300);
  if (s < 0)
    {
      snprintf (err, errlen, "out of memory while building the quadtree");
      goto out2;
    }
  // The KL reported is that of the last checked iteration (as scikit-learn); after an
  // abort, or when no check ran, evaluate it at the layout reached.
  if (d.aborted || d.kl < 0.0f)
    d.kl = (float) objective_eval (&o, Y, 1.0f, 1, d.g);
  res->kl = d.kl;
  res->iters = d.iters;
  res->aborted = d.aborted;
  res->t_optimise = tsne_now () - t2;
  if (p->progress)
    p->progress (p->user, d.iters, p->max_iter, d.kl, Y, N);
  rc = 0;
out2:
  free (o.zi); free (o.ei); free (o.fr);
  free (o.zt); free (o.fxt); free (o.fyt); free (o.groups);
  free (d.g); free (d.upd); free (d.gains);
out:
  tsne_qt_free (&o.tree);
  tsne_sparse_free (&Ps);
  free (Pd);
  return rc;
}

