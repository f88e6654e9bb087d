// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-tsne: t-SNE and the .npy reader. Perplexity calibration hits its entropy on every
// row; the kNN searches agree with a naive scan; separated Gaussian clusters stay separated
// in the map (exact and Barnes-Hut) and both reach a similar KL; new points placed into a
// map land in their cluster; a seed gives the same layout twice; the abort flag stops the
// run; .npy files are read in both dtypes and bad ones are refused with a reason.
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "tsne.h"

static uint64_t
mix (uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double
gauss (uint64_t *s)
{
  double u1 = ((mix (s) >> 11) + 1.0) * 0x1.0p-53, u2 = ((mix (s) >> 11) + 1.0) * 0x1.0p-53;
  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

// C clusters × n points in D dimensions: centres N(0, 8²) per axis, members N(centre, 1).
// Points are interleaved (point i belongs to cluster i % C) so that no code can profit from
// the order. `centres` (C × D) lets a second call draw new members of the same clusters.
static float *
make_clusters (int C, int n, int D, uint64_t seed, float *centres, int make_centres)
{
  uint64_t s = seed;
  if (make_centres)
    for (int e = 0; e < C * D; e++)
      centres[e] = (float) (8.0 * gauss (&s));
  float *X = g_new (float, (size_t) C * n * D);
  for (int i = 0; i < C * n; i++)
    for (int d = 0; d < D; d++)
      X[(size_t) i * D + d] = centres[(i % C) * D + d] + (float) gauss (&s);
  return X;
}

// Fraction of each point's k nearest map neighbours (among `ref` points, index < n_ref)
// that share its cluster (label = index % C).
static double
knn_purity (const float *Yq, int nq, int q_label_offset, const float *Yr, int nr, int C, int k,
            int skip_self)
{
  int good = 0, total = 0;
  double *d = g_new (double, nr);
  int *o = g_new (int, nr);
  for (int i = 0; i < nq; i++)
    {
      for (int j = 0; j < nr; j++)
        {
          double dx = Yq[2 * i] - Yr[2 * j], dy = Yq[2 * i + 1] - Yr[2 * j + 1];
          d[j] = (skip_self && j == i) ? INFINITY : dx * dx + dy * dy;
          o[j] = j;
        }
      // Partial selection sort of the k smallest.
      for (int a = 0; a < k; a++)
        {
          int m = a;
          for (int b = a + 1; b < nr; b++)
            if (d[o[b]] < d[o[m]])
              m = b;
          int t = o[a]; o[a] = o[m]; o[m] = t;
          good += (o[a] % C) == ((i + q_label_offset) % C);
          total++;
        }
    }
  g_free (d);
  g_free (o);
  return (double) good / total;
}

static void
test_calibration (void)
{
  uint64_t s = 7;
  float d2[91], p[91];
  const double perps[] = { 2.0, 5.0, 30.0, 80.0 };
  for (int row = 0; row < 50; row++)
    {
      double scale = exp (4.0 * gauss (&s));    // rows at very different distance scales
      for (int j = 0; j < 91; j++)
        d2[j] = (float) (scale * (1.0 + 10.0 * fabs (gauss (&s))));
      for (size_t q = 0; q < G_N_ELEMENTS (perps); q++)
        {
          double beta = tsne_calibrate_row (d2, 91, perps[q], p);
          double sum = 0.0, H = 0.0;
          for (int j = 0; j < 91; j++)
            {
              sum += p[j];
              if (p[j] > 0.0f)
                H -= p[j] * log (p[j]);
            }
          g_assert_cmpfloat (beta, >, 0.0);
          g_assert_cmpfloat (fabs (sum - 1.0), <, 1e-5);
          // exp(H) is the perplexity; float rounding of p leaves ~1e-5 slack.
          g_assert_cmpfloat (fabs (exp (H) - perps[q]) / perps[q], <, 1e-4);
        }
    }
}

static void
test_sparse_affinities (void)
{
  enum { C = 4, n = 50, D = 20 };
  float cen[C * D];
  float *X = make_clusters (C, n, D, 11, cen, 1);
  int N = C * n, k = 91;
  // Each calibrated conditional row hits the perplexity.
  int32_t *idx = g_new (int32_t, N * k);
  float *d2 = g_new (float, N * k), *pr = g_new (float, k);
  g_assert_cmpint (tsne_knn (X, N, D, k, TSNE_KNN_AUTO, 1, 2, idx, d2), ==, 0);
  for (int i = 0; i < N; i++)
    {
      tsne_calibrate_row (d2 + (size_t) i * k, k, 30.0, pr);
      double H = 0.0;
      for (int j = 0; j < k; j++)
        if (pr[j] > 0.0f)
          H -= pr[j] * log (pr[j]);
      g_assert_cmpfloat (fabs (H - log (30.0)), <, 1e-4);
    }
  // The joint P is symmetric, sums to 1, has no diagonal.
  TsneSparseP P;
  g_assert_cmpint (tsne_affinities_sparse (X, N, D, 30.0, TSNE_KNN_AUTO, 1, 2, &P), ==, 0);
  double sum = 0.0;
  float *dense = g_new0 (float, (size_t) N * N);
  for (int i = 0; i < N; i++)
    for (int64_t a = P.row_ptr[i]; a < P.row_ptr[i + 1]; a++)
      {
        g_assert_cmpint (P.col[a], !=, i);
        dense[(size_t) i * N + P.col[a]] = P.val[a];
        sum += P.val[a];
      }
  g_assert_cmpfloat (fabs (sum - 1.0), <, 1e-5);
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      g_assert_cmpfloat (dense[(size_t) i * N + j], ==, dense[(size_t) j * N + i]);
  // Dense P of the same data: symmetric, sum 1.
  float *Pd = g_new (float, (size_t) N * N);
  g_assert_cmpint (tsne_affinities_dense (X, N, D, 30.0, 2, Pd), ==, 0);
  sum = 0.0;
  for (size_t e = 0; e < (size_t) N * N; e++)
    sum += Pd[e];
  g_assert_cmpfloat (fabs (sum - 1.0), <, 1e-5);
  g_assert_cmpfloat (Pd[0], ==, 0.0f);
  g_assert_cmpfloat (Pd[1 * N + 5], ==, Pd[5 * N + 1]);
  tsne_sparse_free (&P);
  g_free (X); g_free (idx); g_free (d2); g_free (pr); g_free (dense); g_free (Pd);
}

static void
test_knn_agree (void)
{
  const int dims[] = { 3, 12, 64 };
  for (size_t t = 0; t < G_N_ELEMENTS (dims); t++)
    {
      int N = 400, D = dims[t], k = 15;
      uint64_t s = 100 + t;
      float *X = g_new (float, (size_t) N * D);
      for (int e = 0; e < N * D; e++)
        X[e] = (float) gauss (&s);
      int32_t *iv = g_new (int32_t, N * k), *ib = g_new (int32_t, N * k);
      float *dv = g_new (float, N * k), *db = g_new (float, N * k);
      g_assert_cmpint (tsne_knn (X, N, D, k, TSNE_KNN_VPTREE, 3, 2, iv, dv), ==, 0);
      g_assert_cmpint (tsne_knn (X, N, D, k, TSNE_KNN_BRUTE, 3, 2, ib, db), ==, 0);
      for (int i = 0; i < N; i += 37)
        {
          // Naive: the k-th smallest distance to the other points.
          double *all = g_new (double, N);
          for (int j = 0; j < N; j++)
            {
              double acc = 0.0;
              for (int d = 0; d < D; d++)
                {
                  double u = (double) X[(size_t) i * D + d] - X[(size_t) j * D + d];
                  acc += u * u;
                }
              all[j] = j == i ? INFINITY : acc;
            }
          for (int a = 0; a < k; a++)
            {
              int m = a;
              for (int b = a + 1; b < N; b++)
                if (all[b] < all[m])
                  m = b;
              double tt = all[a]; all[a] = all[m]; all[m] = tt;
              g_assert_cmpfloat (fabs (dv[(size_t) i * k + a] - all[a]), <, 1e-4 * (1 + all[a]));
            }
          g_free (all);
        }
      for (int e = 0; e < N * k; e++)
        {
          g_assert_cmpint (iv[e], ==, ib[e]);
          g_assert_cmpint (iv[e], !=, e / k);
        }
      g_free (X); g_free (iv); g_free (ib); g_free (dv); g_free (db);
    }
}

static void
test_clusters_separate (void)
{
  enum { C = 5, n = 60, D = 50 };
  float cen[C * D];
  float *X = make_clusters (C, n, D, 21, cen, 1);
  float *Y = g_new (float, 2 * C * n);
  const float thetas[] = { 0.5f, 0.0f };
  for (size_t t = 0; t < G_N_ELEMENTS (thetas); t++)
    {
      TsneParams p;
      tsne_params_init (&p);
      p.theta = thetas[t];
      p.n_threads = 2;
      TsneResult r;
      char err[256] = "";
      g_assert_cmpint (tsne_run (&p, X, C * n, D, Y, &r, err, sizeof err), ==, 0);
      g_assert_cmpint (r.exact, ==, thetas[t] == 0.0f);
      g_assert_cmpint (r.iters, >, 250);
      g_assert_cmpfloat (r.kl, >, 0.0);
      double purity = knn_purity (Y, C * n, 0, Y, C * n, C, 10, 1);
      g_test_message ("theta %.1f: KL %.4f, 10-NN purity %.4f", thetas[t], r.kl, purity);
      g_assert_cmpfloat (purity, >=, 0.99);
    }
  g_free (X);
  g_free (Y);
}

static void
test_exact_vs_bh (void)
{
  enum { C = 6, n = 50, D = 30 };
  float cen[C * D];
  uint64_t s = 5;
  // Overlapping clusters (centres closer) so that the map has real structure to fit.
  float *X = make_clusters (C, n, D, 31, cen, 1);
  for (int e = 0; e < C * n * D; e++)
    X[e] = 0.3f * X[e] + (float) (0.7 * gauss (&s));
  float *Ye = g_new (float, 2 * C * n), *Yb = g_new (float, 2 * C * n);
  TsneParams p;
  tsne_params_init (&p);
  p.n_threads = 2;
  TsneResult re, rb;
  char err[256];
  p.theta = 0.0f;
  g_assert_cmpint (tsne_run (&p, X, C * n, D, Ye, &re, err, sizeof err), ==, 0);
  p.theta = 0.5f;
  g_assert_cmpint (tsne_run (&p, X, C * n, D, Yb, &rb, err, sizeof err), ==, 0);
  g_test_message ("N=300: exact KL %.4f, Barnes-Hut KL %.4f", re.kl, rb.kl);
  // Exact uses all pairs for P, Barnes-Hut the 91 nearest: same objective up to the tails.
  g_assert_cmpfloat (fabs (rb.kl - re.kl) / re.kl, <, 0.05);
  g_free (X); g_free (Ye); g_free (Yb);
}

static void
test_place (void)
{
  enum { C = 5, n = 60, m = 8, D = 50 };
  float cen[C * D];
  float *X = make_clusters (C, n, D, 41, cen, 1);
  float *Xn = make_clusters (C, m, D, 4242, cen, 0);
  float *Y = g_new (float, 2 * C * n), *Yn = g_new (float, 2 * C * m);
  const float thetas[] = { 0.5f, 0.0f };
  for (size_t t = 0; t < G_N_ELEMENTS (thetas); t++)
    {
      TsneParams p;
      tsne_params_init (&p);
      p.n_threads = 2;
      p.theta = thetas[t];
      TsneResult r;
      char err[256];
      g_assert_cmpint (tsne_run (&p, X, C * n, D, Y, &r, err, sizeof err), ==, 0);
      float *Ycopy = g_memdup2 (Y, sizeof (float) * 2 * C * n);
      p.max_iter = 300;
      g_assert_cmpint (tsne_place (&p, X, Y, C * n, Xn, C * m, D, Yn, &r, err, sizeof err), ==, 0);
      g_assert_cmpint (memcmp (Y, Ycopy, sizeof (float) * 2 * C * n), ==, 0);  // old fixed
      g_assert_cmpint (r.iters, >, 0);
      g_assert_true (isfinite (r.kl));
      // New member i belongs to cluster i % C: its 10 nearest old points in the map too.
      double purity = knn_purity (Yn, C * m, 0, Y, C * n, C, 10, 0);
      g_test_message ("theta %.1f: placed %d points, 10-NN purity %.4f", thetas[t], C * m, purity);
      g_assert_cmpfloat (purity, >=, 0.99);
      g_free (Ycopy);
    }
  g_free (X); g_free (Xn); g_free (Y); g_free (Yn);
}

static void
test_deterministic (void)
{
  enum { C = 3, n = 70, D = 40 };
  float cen[C * D];
  float *X = make_clusters (C, n, D, 51, cen, 1);
  float *Y1 = g_new (float, 2 * C * n), *Y2 = g_new (float, 2 * C * n);
  for (int threads = 1; threads <= 2; threads++)
    {
      TsneParams p;
      tsne_params_init (&p);
      p.n_threads = threads;
      p.max_iter = 400;
      p.seed = 99;
      TsneResult r1, r2;
      char err[256];
      g_assert_cmpint (tsne_run (&p, X, C * n, D, Y1, &r1, err, sizeof err), ==, 0);
      g_assert_cmpint (tsne_run (&p, X, C * n, D, Y2, &r2, err, sizeof err), ==, 0);
      g_assert_cmpint (memcmp (Y1, Y2, sizeof (float) * 2 * C * n), ==, 0);
      g_assert_cmpfloat (r1.kl, ==, r2.kl);
      // A random start with another seed gives another layout.
      p.init = TSNE_INIT_RANDOM;
      p.seed = 100;
      g_assert_cmpint (tsne_run (&p, X, C * n, D, Y2, &r2, err, sizeof err), ==, 0);
      g_assert_cmpint (memcmp (Y1, Y2, sizeof (float) * 2 * C * n), !=, 0);
    }
  g_free (X); g_free (Y1); g_free (Y2);
}

typedef struct {
  atomic_int flag;
  int calls, last_iter;
  int N;
  int saw_layout;
} AbortCtx;

static void
on_progress (void *user, int iter, int n_iter, float kl, const float *Y, int N)
{
  AbortCtx *c = user;
  c->calls++;
  c->last_iter = iter;
  c->saw_layout = Y != NULL && N == c->N && isfinite (Y[0]) && isfinite (Y[2 * N - 1]);
  if (iter == 120)
    c->flag = 1;
}

static void
test_abort (void)
{
  enum { C = 3, n = 40, D = 10 };
  float cen[C * D];
  float *X = make_clusters (C, n, D, 61, cen, 1);
  float *Y = g_new (float, 2 * C * n);
  AbortCtx ctx = { 0, 0, 0, C * n, 0 };
  TsneParams p;
  tsne_params_init (&p);
  p.progress = on_progress;
  p.user = &ctx;
  p.progress_every = 10;
  p.abort_flag = &ctx.flag;
  TsneResult r;
  char err[256];
  g_assert_cmpint (tsne_run (&p, X, C * n, D, Y, &r, err, sizeof err), ==, 0);
  g_assert_cmpint (r.aborted, ==, 1);
  g_assert_cmpint (r.iters, ==, 120);
  g_assert_cmpint (ctx.calls, ==, 13);       // 12 periodic + the final one
  g_assert_true (ctx.saw_layout);
  g_assert_true (isfinite (r.kl) && r.kl > 0.0f);
  g_free (X);
  g_free (Y);
}

static void
test_bad_params (void)
{
  float X[20] = { 0 };
  float Y[20];
  TsneParams p;
  tsne_params_init (&p);
  TsneResult r;
  char err[256] = "";
  g_assert_cmpint (tsne_run (&p, X, 10, 2, Y, &r, err, sizeof err), ==, -1);   // perplexity 30 ≥ 10
  g_assert_nonnull (strstr (err, "perplexity"));
}

// ---- .npy ----

static char *
write_bytes (const char *dir, const char *name, const void *data, size_t len)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
  return path;
}

// Builds a v1.0 .npy image with the given dict and payload.
static GByteArray *
npy_image (const char *dict, const void *payload, size_t plen)
{
  GByteArray *b = g_byte_array_new ();
  const guint8 magic[8] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0 };
  g_byte_array_append (b, magic, 8);
  size_t n = strlen (dict);
  size_t pad = (16 - (10 + n + 1) % 16) % 16;
  guint16 hl = (guint16) (n + pad + 1);
  guint8 le[2] = { hl & 0xff, hl >> 8 };
  g_byte_array_append (b, le, 2);
  g_byte_array_append (b, (const guint8 *) dict, (guint) n);
  for (size_t i = 0; i < pad; i++)
    g_byte_array_append (b, (const guint8 *) " ", 1);
  g_byte_array_append (b, (const guint8 *) "\n", 1);
  g_byte_array_append (b, payload, (guint) plen);
  return b;
}

static void
expect_reject (const char *dir, const char *name, GByteArray *b, const char *phrase)
{
  char *path = write_bytes (dir, name, b->data, b->len);
  char err[256] = "";
  int r = -1, c = -1;
  float *m = npy_read_matrix (path, &r, &c, err, sizeof err);
  g_assert_null (m);
  g_test_message ("%s → %s", name, err);
  g_assert_nonnull (strstr (err, phrase));
  g_assert_nonnull (strstr (err, name));        // the message names the file
  g_free (path);
  g_byte_array_unref (b);
}

static void
test_npy (void)
{
  char *dir = g_dir_make_tmp ("test-tsne-XXXXXX", NULL);
  g_assert_nonnull (dir);
  char err[256];
  int r, c;
  // float32 through our writer.
  float a[6] = { 1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f };
  char *p32 = g_build_filename (dir, "a32.npy", NULL);
  g_assert_cmpint (npy_write_matrix (p32, a, 2, 3, err, sizeof err), ==, 0);
  float *m = npy_read_matrix (p32, &r, &c, err, sizeof err);
  g_assert_nonnull (m);
  g_assert_cmpint (r, ==, 2);
  g_assert_cmpint (c, ==, 3);
  g_assert_cmpint (memcmp (m, a, sizeof a), ==, 0);
  g_free (m);
  // float64, keys in another order, version 1.0 with a hand-made header.
  double b64[6] = { 0.5, 1.0, -1.25, 2.0, 1e10, -3.0 };
  GByteArray *img = npy_image ("{'shape': (3, 2), 'fortran_order': False, 'descr': '<f8'}",
                               b64, sizeof b64);
  char *p64 = write_bytes (dir, "b64.npy", img->data, img->len);
  g_byte_array_unref (img);
  m = npy_read_matrix (p64, &r, &c, err, sizeof err);
  g_assert_nonnull (m);
  g_assert_cmpint (r, ==, 3);
  g_assert_cmpint (c, ==, 2);
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (m[i], ==, (float) b64[i]);
  g_free (m);

  const char *good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  img = npy_image (good, a, sizeof a);
  img->data[1] = 'X';
  expect_reject (dir, "magic.npy", img, "bad magic");
  expect_reject (dir, "fortran.npy",
                 npy_image ("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", a, sizeof a),
                 "Fortran");
  expect_reject (dir, "trunc.npy", npy_image (good, a, sizeof a - 4), "truncated");
  float a7[7] = { 0 };
  expect_reject (dir, "extra.npy", npy_image (good, a7, sizeof a7), "trailing");
  expect_reject (dir, "shape1.npy",
                 npy_image ("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", a, sizeof a),
                 "2-D");
  expect_reject (dir, "shape3.npy",
                 npy_image ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", a, sizeof a),
                 "3 dimensions");
  expect_reject (dir, "wrongshape.npy",
                 npy_image ("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", a, sizeof a),
                 "truncated");
  expect_reject (dir, "bigendian.npy",
                 npy_image ("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", a, sizeof a),
                 "dtype");
  expect_reject (dir, "int.npy",
                 npy_image ("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", a, sizeof a),
                 "dtype");
  expect_reject (dir, "nodict.npy", npy_image ("[1, 2]", a, sizeof a), "header");
  img = npy_image (good, a, sizeof a);
  img->data[6] = 9;
  expect_reject (dir, "version.npy", img, "version");
  // A header length running past the end of the file.
  img = npy_image (good, a, 0);
  g_byte_array_set_size (img, 20);
  expect_reject (dir, "shorthdr.npy", img, "truncated");
  // Missing file.
  m = npy_read_matrix ("/nonexistent/x.npy", &r, &c, err, sizeof err);
  g_assert_null (m);
  g_assert_nonnull (strstr (err, "/nonexistent/x.npy"));

  // Clean up the temp folder.
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      char *f = g_build_filename (dir, name, NULL);
      g_unlink (f);
      g_free (f);
    }
  g_dir_close (d);
  g_rmdir (dir);
  g_free (p32); g_free (p64); g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tsne/calibration", test_calibration);
  g_test_add_func ("/tsne/sparse-affinities", test_sparse_affinities);
  g_test_add_func ("/tsne/knn-agree", test_knn_agree);
  g_test_add_func ("/tsne/clusters-separate", test_clusters_separate);
  g_test_add_func ("/tsne/exact-vs-barnes-hut", test_exact_vs_bh);
  g_test_add_func ("/tsne/place", test_place);
  g_test_add_func ("/tsne/deterministic", test_deterministic);
  g_test_add_func ("/tsne/abort", test_abort);
  g_test_add_func ("/tsne/bad-params", test_bad_params);
  g_test_add_func ("/npy/read", test_npy);
  return g_test_run ();
}
