// SPDX-License-Identifier: GPL-3.0-or-later
//
// tsne-place: placing new points into a fixed t-SNE map (tsne_place in tsne.h). It shares
// the objective's pieces with tsne.c through tsne-internal.h: the row calibration, the
// gradient descent with momentum and gains, the parameter checks.
#include "tsne.h"
#include "tsne-internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

void openblas_set_num_threads (int num_threads);

// Placing new points into a fixed map. The map is the union of N old points (fixed) and
// M new ones (moving). A new point i gets p_ij = p_{j|i} / (N + M) over its k nearest
// neighbours j among old and new points — the same row mass 1/(N+M) an old point carries
// in a symmetrised P — and feels
//   ∂/∂y_i = 4 [ Σ_j p_ij w_ij (y_i − y_j) − (1/Z) Σ_{j≠i} w_ij² (y_i − y_j) ],
//   Z = Z_oo + 2 Σ_{i new} Σ_{j old} w_ij + Σ_{i≠j new} w_ij,
// with Z_oo (old–old) computed once. The old points' repulsion comes from one quadtree
// built once over the fixed map; the new–new part from a quadtree over the new points
// rebuilt each iteration (exact sums when θ = 0). The reported KL is Σ over the new
// rows of p_ij log(p_ij / q_ij).

typedef struct {
  int N, M, k, n_threads;
  float theta;
  const float *Y_old;
  const int32_t *idx;     // [M, k] into old (j < N) ∪ new (j − N)
  const float *pv;        // [M, k] p_ij
  TsneQuadTree told, tnew;
  double Zoo;
  double *zo, *zn, *ei, *fr;
  // The evaluation in flight.
  const float *Yall;
  float ex;
  int want_kl;
  float *grad;
} Placement;

static void
repel_exact (const float *Y, int n, float x, float y, int self, double *z, double *fx,
             double *fy)
{
  double zs = 0.0, sx = 0.0, sy = 0.0;
  for (int j = 0; j < n; j++)
    {
      if (j == self)
        continue;
      double dx = x - Y[2 * j], dy = y - Y[2 * j + 1];
      double w = 1.0 / (1.0 + dx * dx + dy * dy);
      zs += w;
      sx += w * w * dx;
      sy += w * w * dy;
    }
  *z += zs; *fx += sx; *fy += sy;
}

// Old–old repulsion normaliser, one term per old point (the old map does not move).
typedef struct {
  const Placement *pl;
  double          *zrow;
} ZooJob;

static void
zoo_rows (void *ctx, int begin, int end, int thread)
{
  (void) thread;
  const ZooJob *zj = ctx;
  const Placement *pl = zj->pl;
  const float *Y = pl->Y_old;
  for (int j = begin; j < end; j++)
    {
      double z = 0.0, fx = 0.0, fy = 0.0;
      if (pl->theta > 0.0f)
        tsne_qt_repulsion (&pl->told, Y[2 * j], Y[2 * j + 1], j, pl->theta, &z, &fx, &fy);
      else
        repel_exact (Y, pl->N, Y[2 * j], Y[2 * j + 1], j, &z, &fx, &fy);
      zj->zrow[j] = z;
    }
}

static void
place_task (void *ctx, int begin, int end, int thread)
{
  Placement *pl = ctx;
  int N = pl->N, M = pl->M, k = pl->k;
  const float *Yall = pl->Yall, *Yn = Yall + 2 * (size_t) N;
  float ex = pl->ex, *grad = pl->grad;
  int want_kl = pl->want_kl;
  for (int i = begin; i < end; i++)
    {
      float x = Yn[2 * i], y = Yn[2 * i + 1];
      double zo = 0.0, zn = 0.0, rx = 0.0, ry = 0.0;
      if (pl->theta > 0.0f)
        {
          tsne_qt_repulsion (&pl->told, x, y, -1, pl->theta, &zo, &rx, &ry);
          tsne_qt_repulsion (&pl->tnew, x, y, i, pl->theta, &zn, &rx, &ry);
        }
      else
        {
          repel_exact (pl->Y_old, N, x, y, -1, &zo, &rx, &ry);
          repel_exact (Yn, M, x, y, i, &zn, &rx, &ry);
        }
      double ax = 0.0, ay = 0.0, e = 0.0;
      for (int a = 0; a < k; a++)
        {
          int j = pl->idx[(size_t) i * k + a];
          const float *yj = Yall + 2 * (size_t) j;
          double dx = x - yj[0], dy = y - yj[1];
          double w = 1.0 / (1.0 + dx * dx + dy * dy);
          double p = (double) ex * pl->pv[(size_t) i * k + a];
          ax += p * w * dx;
          ay += p * w * dy;
          if (want_kl && p > 0.0)
            e += p * (log (p) - log (w));
        }
      pl->zo[i] = zo;
      pl->zn[i] = zn;
      pl->ei[i] = e;
      pl->fr[2 * i] = rx;
      pl->fr[2 * i + 1] = ry;
      grad[2 * i] = (float) ax;
      grad[2 * i + 1] = (float) ay;
    }
}

static double
place_grad (void *ctx, const float *Yall, float ex, int want_kl, float *grad)
{
  Placement *pl = ctx;
  int M = pl->M, k = pl->k;
  if (pl->theta > 0.0f && tsne_qt_build (&pl->tnew, Yall + 2 * (size_t) pl->N, M) != 0)
    return NAN;
  pl->Yall = Yall;
  pl->ex = ex;
  pl->want_kl = want_kl;
  pl->grad = grad;
  peac_parallel_range (M, 16, pl->n_threads, place_task, pl);
  double Z = pl->Zoo, E = 0.0, Pm = 0.0;
  for (int i = 0; i < M; i++)
    {
      Z += 2.0 * pl->zo[i] + pl->zn[i];
      E += pl->ei[i];
    }
  for (size_t a = 0; a < (size_t) M * k; a++)
    Pm += pl->pv[a];
  for (int i = 0; i < M; i++)
    {
      grad[2 * i] = (float) (4.0 * (grad[2 * i] - pl->fr[2 * i] / Z));
      grad[2 * i + 1] = (float) (4.0 * (grad[2 * i + 1] - pl->fr[2 * i + 1] / Z));
    }
  return want_kl ? E + log (Z) * ex * Pm : 0.0;
}

int
tsne_place (const TsneParams *p, const float *X_old, const float *Y_old, int N,
            const float *X_new, int M, int D, float *Y_new,
            TsneResult *res, char *err, size_t errlen)
{
  memset (res, 0, sizeof *res);
  if (M < 1)
    return 0;
  if (tsne_check_params (p, N + M, D, err, errlen) != 0)
    return -1;
  openblas_set_num_threads (p->n_threads);
  int k = tsne_knn_count (N + M, p->perplexity);
  int ko = k < N ? k : N, kn = k < M - 1 ? k : M - 1;
  Placement pl = { .N = N, .M = M, .k = k, .n_threads = p->n_threads, .theta = p->theta,
                   .Y_old = Y_old };
  int32_t *io = malloc ((size_t) M * ko * sizeof *io);
  float *dn_o = malloc ((size_t) M * ko * sizeof *dn_o);
  int32_t *in = malloc ((size_t) M * (kn > 0 ? kn : 1) * sizeof *in);
  float *dn_n = malloc ((size_t) M * (kn > 0 ? kn : 1) * sizeof *dn_n);
  int32_t *idx = malloc ((size_t) M * k * sizeof *idx);
  float *d2 = malloc ((size_t) M * k * sizeof *d2);
  float *pv = malloc ((size_t) M * k * sizeof *pv);
  float *Yall = malloc ((size_t) 2 * (N + M) * sizeof *Yall);
  pl.zo = malloc ((size_t) M * sizeof (double));
  pl.zn = malloc ((size_t) M * sizeof (double));
  pl.ei = malloc ((size_t) M * sizeof (double));
  pl.fr = malloc ((size_t) 2 * M * sizeof (double));
  TsneDescent d = { .p = p, .N = N + M, .M = M, .lr = tsne_auto_lr (p, N + M), .max_iter = p->max_iter,
                .grad = place_grad, .ctx = &pl, .kl = -1.0f };
  d.g = malloc ((size_t) 2 * M * sizeof *d.g);
  d.upd = malloc ((size_t) 2 * M * sizeof *d.upd);
  d.gains = malloc ((size_t) 2 * M * sizeof *d.gains);
  int rc = -1;
  if (!io || !dn_o || !in || !dn_n || !idx || !d2 || !pv || !Yall || !pl.zo || !pl.zn ||
      !pl.ei || !pl.fr || !d.g || !d.upd || !d.gains)
    {
      snprintf (err, errlen, "out of memory for placing %d points", M);
      goto out;
    }
  double t0 = tsne_now ();
  // Neighbours among old points and among the other new points, merged by distance.
  if (tsne_knn_brute_query (X_old, N, X_new, M, D, ko, -1, p->n_threads, io, dn_o) != 0 ||
      (kn > 0 &&
       tsne_knn_brute_query (X_new, M, X_new, M, D, kn, 0, p->n_threads, in, dn_n) != 0))
    {
      snprintf (err, errlen, "nearest-neighbour search failed (out of memory?)");
      goto out;
    }
  for (int i = 0; i < M; i++)
    {
      int a = 0, b = 0;
      for (int c = 0; c < k; c++)
        {
          int take_old = b >= kn || (a < ko && dn_o[(size_t) i * ko + a] <= dn_n[(size_t) i * kn + b]);
          if (take_old)
            {
              idx[(size_t) i * k + c] = io[(size_t) i * ko + a];
              d2[(size_t) i * k + c] = dn_o[(size_t) i * ko + a++];
            }
          else
            {
              idx[(size_t) i * k + c] = N + in[(size_t) i * kn + b];
              d2[(size_t) i * k + c] = dn_n[(size_t) i * kn + b++];
            }
        }
    }
  TsneCalibrateJob cj = { d2, pv, k, p->perplexity, (float) (N + M) };
  peac_parallel_range (M, 64, p->n_threads, tsne_calibrate_rows, &cj);
  pl.idx = idx;
  pl.pv = pv;
  res->t_affinities = tsne_now () - t0;

  // Start: affinity-weighted mean of the old neighbours (plus 1e-4 jitter so that twins
  // separate); the map centre when a point has no old neighbour.
  double t1 = tsne_now ();
  double cx = 0.0, cy = 0.0;
  for (int j = 0; j < N; j++)
    {
      cx += Y_old[2 * j];
      cy += Y_old[2 * j + 1];
    }
  cx /= N; cy /= N;
  uint64_t s = p->seed ^ 0x91aceULL;
  for (int i = 0; i < M; i++)
    {
      double sx = 0.0, sy = 0.0, sw = 0.0;
      for (int a = 0; a < k; a++)
        {
          int j = idx[(size_t) i * k + a];
          if (j < N)
            {
              double w = pv[(size_t) i * k + a];
              sx += w * Y_old[2 * j];
              sy += w * Y_old[2 * j + 1];
              sw += w;
            }
        }
      Y_new[2 * i] = (float) ((sw > 0.0 ? sx / sw : cx) + 1e-4 * tsne_randn (&s));
      Y_new[2 * i + 1] = (float) ((sw > 0.0 ? sy / sw : cy) + 1e-4 * tsne_randn (&s));
    }
  // Old–old normaliser, once.
  memcpy (Yall, Y_old, (size_t) 2 * N * sizeof *Yall);
  memcpy (Yall + 2 * (size_t) N, Y_new, (size_t) 2 * M * sizeof *Yall);
  if (p->theta > 0.0f && tsne_qt_build (&pl.told, Y_old, N) != 0)
    {
      snprintf (err, errlen, "out of memory while building the quadtree");
      goto out;
    }
  double *zrow = malloc ((size_t) N * sizeof *zrow);
  if (!zrow)
    {
      snprintf (err, errlen, "out of memory for placing %d points", M);
      goto out;
    }
  ZooJob zj = { &pl, zrow };
  peac_parallel_range (N, 128, p->n_threads, zoo_rows, &zj);
  pl.Zoo = 0.0;
  for (int j = 0; j < N; j++)
    pl.Zoo += zrow[j];
  free (zrow);
  res->t_init = tsne_now () - t1;

  double t2 = tsne_now ();
  if (tsne_descend (&d, Yall, 0, p->max_iter, p->momentum_late, 1.0f, 300) < 0)
    {
      snprintf (err, errlen, "out of memory while building the quadtree");
      goto out;
    }
  if (d.aborted || d.kl < 0.0f)
    d.kl = (float) place_grad (&pl, Yall, 1.0f, 1, d.g);
  memcpy (Y_new, Yall + 2 * (size_t) N, (size_t) 2 * M * sizeof *Y_new);
  res->kl = d.kl;
  res->iters = d.iters;
  res->aborted = d.aborted;
  res->exact = p->theta == 0.0f;
  res->t_optimise = tsne_now () - t2;
  if (p->progress)
    p->progress (p->user, d.iters, p->max_iter, d.kl, Yall, N + M);
  rc = 0;
out:
  free (io); free (dn_o); free (in); free (dn_n); free (idx); free (d2); free (pv);
  free (Yall); free (pl.zo); free (pl.zn); free (pl.ei); free (pl.fr);
  free (d.g); free (d.upd); free (d.gains);
  tsne_qt_free (&pl.told);
  tsne_qt_free (&pl.tnew);
  return rc;
}
