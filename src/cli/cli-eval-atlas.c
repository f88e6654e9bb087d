// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-eval-atlas: `peac eval-landmarks --atlas DIR --atlas-k K` — every annotated image of
// --data is a target whose landmarks are fused from K references of the atlas (the best
// registered of the 2K most like it; leave-one-out when the atlas is the data folder), as
// `peac propagate` would write them. Scored in the 1024 frame of each target (x scaled by 1024/width, y by 1024/height)
// on the structures both sides share: the fused answer (`model_atlas`) and the mean-shape
// baseline (`baselines.mean_shape_atlas`: the same K references' coordinates averaged in
// relative image coordinates, no matching), each with mean radial error, median, RMS (root
// of the mean squared radial error per image, then averaged over images), the distance to
// the true contour of the point's structure, PCK and per-structure errors; the
// cardiothoracic ratio of the fused points against the true ones (`ctr`); and, with
// --protocol, the figures of a published protocol (`protocol`).
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli-eval-atlas.h"
#include "px-atlas.h"
#include "cli.h"
#include "landmark-fuse.h"
#include "stats.h"

#define FRAME 1024.0
enum { A_FUSED, A_MEAN, N_ROWS };
static const char *const structs[5] = { "RL", "LL", "H", "RCLA", "LCLA" };

typedef struct {
  GArray *err;        // double: radial errors (frame px)
  GArray *contour;    // double: distances to the true contour (frame px)
  double  img_rms;    // Σ over images of √(mean squared error)
  int     images;
  double  s_sum[5];
  int     s_n[5];
  // Protocol figures.
  double  hg_rms;     // hybridgnet: Σ over images of RMS over RL, LL, H
  int     hg_images;
  GArray *uod;        // double: uod6 errors (mm)
} Row;


static int
struct_index (const char *s)
{
  for (int k = 0; k < 5; k++)
    if (s && !strcmp (s, structs[k]))
      return k;
  return -1;
}

// Distance (frame px) from p to the closed polygon of target points of structure s, in
// point order (peac_contour_distance).
static double
contour_distance (const PeacAtlasImage *t, const char *s, const double p[2], double sx,
                  double sy)
{
  GArray *poly = g_array_new (FALSE, FALSE, sizeof (double));
  for (int i = 0; i < t->n; i++)
    if (!g_strcmp0 (t->structure[i], s))
      {
        const double q[2] = { t->xy[2 * i] * sx, t->xy[2 * i + 1] * sy };
        g_array_append_vals (poly, q, 2);
      }
  const double d = peac_contour_distance ((const double *) poly->data, (int) poly->len / 2, p);
  g_array_free (poly, TRUE);
  return d;
}

// The cardiothoracic ratio of points xy [n, 2] named by ref's structures (−1: not enough).
static double
ratio_of (const PeacAtlasImage *names, const double *xy)
{
  GArray *h = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *l = g_array_new (FALSE, FALSE, sizeof (double));
  for (int i = 0; i < names->n; i++)
    {
      const char *s = names->structure[i];
      if (!g_strcmp0 (s, "H"))
        g_array_append_vals (h, xy + 2 * i, 2);
      else if (!g_strcmp0 (s, "RL") || !g_strcmp0 (s, "LL"))
        g_array_append_vals (l, xy + 2 * i, 2);
    }
  PeacCtr c;
  const int ok = peac_ctr ((double *) h->data, (int) h->len / 2, (double *) l->data,
                           (int) l->len / 2, &c) == 0;
  g_array_free (h, TRUE), g_array_free (l, TRUE);
  return ok ? c.ratio : -1.0;
}

static json_t *
row_json (Row *r, double cell, double mm, const char *protocol)
{
  const size_t n = r->err->len;
  double *e = (double *) r->err->data, sum = 0, csum = 0;
  size_t k1 = 0, k2 = 0, k4 = 0;
  for (size_t i = 0; i < n; i++)
    {
      sum += e[i], csum += g_array_index (r->contour, double, i);
      k1 += e[i] <= cell, k2 += e[i] <= 2 * cell, k4 += e[i] <= 4 * cell;
    }
  const double d = n ? (double) n : 1.0;
  const double med = peac_median (e, (int) n);
  json_t *o = json_pack ("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i, s:I}",
                         "mre_px", sum / d, "mre_mm", sum / d * mm, "median_px", med,
                         "rms_px", r->images ? r->img_rms / r->images : 0.0,
                         "contour_px", csum / d, "pck1", k1 / d, "pck2", k2 / d,
                         "pck4", k4 / d, "images", r->images, "points", (json_int_t) n);
  json_t *per = json_object ();
  for (int s = 0; s < 5; s++)
    if (r->s_n[s])
      json_object_set_new (per, structs[s], json_real (r->s_sum[s] / r->s_n[s]));
  json_object_set_new (o, "per_structure_mre_px", per);
  if (protocol && !strcmp (protocol, "hybridgnet"))
    json_object_set_new (o, "protocol",
                         json_pack ("{s:s, s:f, s:i}", "name", "hybridgnet", "rms_px",
                                    r->hg_images ? r->hg_rms / r->hg_images : 0.0,
                                    "images", r->hg_images));
  else if (protocol && !strcmp (protocol, "uod6"))
    {
      const double *u = (const double *) r->uod->data;
      const size_t m = r->uod->len;
      double us = 0;
      size_t w[4] = { 0 };
      const double th[4] = { 2.0, 2.5, 3.0, 4.0 };
      for (size_t i = 0; i < m; i++)
        {
          us += u[i];
          for (int t = 0; t < 4; t++)
            w[t] += u[i] <= th[t];
        }
      const double dm = m ? (double) m : 1.0;
      json_object_set_new (o, "protocol",
                           json_pack ("{s:s, s:f, s:f, s:f, s:f, s:f, s:I}", "name", "uod6",
                                      "mre_mm", us / dm, "sdr_2mm", w[0] / dm,
                                      "sdr_2_5mm", w[1] / dm, "sdr_3mm", w[2] / dm,
                                      "sdr_4mm", w[3] / dm, "points", (json_int_t) m));
    }
  return o;
}

// uod6: right lung points 0, 21, 29 and left lung 0, 21, 27.
static int
is_uod6 (const char *name)
{
  static const char *const pts[6] = { "RL.0", "RL.21", "RL.29", "LL.0", "LL.21", "LL.27" };
  for (int i = 0; i < 6; i++)
    if (!strcmp (name, pts[i]))
      return 1;
  return 0;
}

int
cli_eval_atlas (PeacModel *m, const CliEvalAtlasOptions *o)
{
  char err[1024];
  PxAtlasEmbedder e;
  if (px_atlas_embedder_init (&e, m, o->stride, err, sizeof err) < 0)
    {
      fprintf (stderr, "peac eval-landmarks: %s\n", err);
      return 2;
    }
  if (o->cache && px_atlas_embedder_use_cache (&e, o->model_path, err, sizeof err) < 0)
    {
      fprintf (stderr, "peac eval-landmarks: %s\n", err);
      return 1;
    }
  PeacAtlas data = { 0 }, atlas_own = { 0 };
  const PeacAtlas *atlas = &data;
  g_autofree char *rd = realpath (o->data, NULL), *ra = realpath (o->atlas, NULL);
  const int same = rd && ra && !strcmp (rd, ra);
  int rc = 1;
  double t0 = peac_cli_now_s ();
  if (px_atlas_load (&data, o->data, o->root, err, sizeof err) < 0
      || (!same && px_atlas_load (&atlas_own, o->atlas, o->root, err, sizeof err) < 0))
    {
      fprintf (stderr, "peac eval-landmarks: %s\n", err);
      goto out;
    }
  if (!same)
    atlas = &atlas_own;
  if (o->max_images > 0 && o->max_images < data.n)
    px_atlas_truncate (&data, o->max_images); // the first N (sorted) images
  const int avail = atlas->n - (same ? 1 : 0);
  if (o->k > avail)
    {
      fprintf (stderr, "peac eval-landmarks: --atlas-k %d: the atlas has %d usable "
               "references\n", o->k, avail);
      rc = 2;
      goto out;
    }
  if (px_atlas_embed (&data, &e, err, sizeof err) < 0
      || (!same && px_atlas_embed (&atlas_own, &e, err, sizeof err) < 0))
    {
      fprintf (stderr, "peac eval-landmarks: %s\n", err);
      goto out;
    }
  const double t_embed = peac_cli_now_s () - t0;
  Row row[N_ROWS];
  for (int r = 0; r < N_ROWS; r++)
    {
      memset (&row[r], 0, sizeof row[r]);
      row[r].err = g_array_new (FALSE, FALSE, sizeof (double));
      row[r].contour = g_array_new (FALSE, FALSE, sizeof (double));
      row[r].uod = g_array_new (FALSE, FALSE, sizeof (double));
    }
  json_t *ctr_images = json_array ();
  double ctr_sum = 0, t_prop = 0, spread_sum = 0;
  int ctr_n = 0;
  long found = 0, fused_pts = 0;
  int *pick = g_new (int, (size_t) o->k * PEAC_ATLAS_CANDIDATES);
  double *weight = g_new (double, (size_t) o->k * PEAC_ATLAS_CANDIDATES);
  rc = 0;
  for (int t = 0; t < data.n && rc == 0; t++)
    {
      const PeacAtlasImage *tg = &data.img[t];
      const int nc = peac_atlas_pick (atlas, tg->global, e.grid.dim, same ? t : -1,
                                     PEAC_ATLAS_CANDIDATES * o->k, pick);
      const int k = o->k;
      for (int j = 0; j < nc && rc == 0; j++)
        if (peac_atlas_check_shared (&atlas->img[pick[j]], tg, err, sizeof err) < 0)
          rc = 1;
      if (rc)
        break;
      const PeacAtlasImage *r0 = &atlas->img[pick[0]];
      double *xy = g_new (double, 2 * (size_t) r0->n), *mean = g_new (double, 2 * (size_t) r0->n);
      double *spread = g_new (double, (size_t) r0->n);
      int *fnd = g_new (int, (size_t) r0->n);
      double ts = peac_cli_now_s ();
      if (peac_atlas_propagate (atlas, pick, nc, k, &e.grid, tg->tok, tg->width, tg->height,
                                &o->mp, xy, spread, fnd, weight, mean, err, sizeof err) < 0)
        rc = 1;
      t_prop += peac_cli_now_s () - ts;
      const double sx = FRAME / tg->width, sy = FRAME / tg->height;
      for (int r = 0; r < N_ROWS && rc == 0; r++)
        {
          const double *pred = r == A_FUSED ? xy : mean;
          double sq = 0, hg = 0;
          int n = 0, nh = 0;
          for (int i = 0; i < r0->n; i++)
            {
              int q = -1;
              for (int j = 0; j < tg->n && q < 0; j++)
                if (!strcmp (tg->point[j], r0->point[i]))
                  q = j;
              if (q < 0)
                continue;
              const double p[2] = { pred[2 * i] * sx, pred[2 * i + 1] * sy };
              const double d = hypot (p[0] - tg->xy[2 * q] * sx, p[1] - tg->xy[2 * q + 1] * sy);
              g_array_append_val (row[r].err, d);
              const double c = contour_distance (tg, tg->structure[q], p, sx, sy);
              g_array_append_val (row[r].contour, c);
              sq += d * d, n++;
              const int s = struct_index (tg->structure[q]);
              if (s >= 0)
                row[r].s_sum[s] += d, row[r].s_n[s]++;
              if (s >= 0 && s <= 2)
                hg += d * d, nh++;
              if (is_uod6 (r0->point[i]))
                {
                  const double mm = d * o->pixel_mm;
                  g_array_append_val (row[r].uod, mm);
                }
              if (r == A_FUSED)
                found += peac_atlas_confirmed (spread[i], k, fnd[i], tg->width, &e.grid),
                fused_pts++, spread_sum += spread[i] * sqrt (sx * sy);
            }
          if (n)
            row[r].img_rms += sqrt (sq / n), row[r].images++;
          if (nh)
            row[r].hg_rms += sqrt (hg / nh), row[r].hg_images++;
        }
      if (rc == 0)
        {
          const double cp = ratio_of (r0, xy), ct = ratio_of (tg, tg->xy);
          if (cp >= 0 && ct >= 0)
            {
              ctr_sum += fabs (cp - ct), ctr_n++;
              json_array_append_new (ctr_images, json_pack ("{s:s, s:f, s:f}", "image",
                                                            tg->name, "pred", cp, "true", ct));
            }
        }
      g_free (xy), g_free (mean), g_free (spread), g_free (fnd);
    }
  g_free (pick), g_free (weight);
  if (rc)
    {
      fprintf (stderr, "peac eval-landmarks: %s\n", err);
      json_decref (ctr_images);
    }
  else
    {
      const double cell = FRAME * e.grid.patch / e.grid.side;
      json_t *fused = row_json (&row[A_FUSED], cell, o->pixel_mm, o->protocol);
      json_t *mean = row_json (&row[A_MEAN], cell, o->pixel_mm, o->protocol);
      json_object_set_new (fused, "confirmed", json_real (fused_pts ? (double) found / fused_pts : 0));
      json_object_set_new (fused, "mean_spread_px", json_real (fused_pts ? spread_sum / fused_pts : 0));
      json_t *ctr = json_pack ("{s:f, s:i, s:o}", "mae", ctr_n ? ctr_sum / ctr_n : 0.0,
                               "images", ctr_n, "per_image", ctr_images);
      json_t *out = json_pack ("{s:o, s:{s:o}, s:o, s:{s:s, s:s, s:i, s:b, s:i, s:i, s:f, s:f, s:f}}",
                               "model_atlas", fused, "baselines", "mean_shape_atlas", mean,
                               "ctr", ctr, "config", "data", o->data, "atlas", o->atlas,
                               "atlas_k", o->k, "leave_one_out", same, "targets", data.n,
                               "stride", e.grid.stride ? e.grid.stride : e.grid.patch,
                               "embed_s", t_embed,
                               "propagate_s", t_prop,
                               "propagate_s_per_target", data.n ? t_prop / data.n : 0.0);
      if (o->json)
        {
          char *s = json_dumps (out, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (6));
          puts (s);
          free (s);
        }
      else
        {
          printf ("%d targets, K = %d references each%s, %d×%d grid\n\n", data.n, o->k,
                  same ? " (leave-one-out)" : "", e.grid.gh, e.grid.gw);
          printf ("%-17s %8s %8s %9s %8s %10s %6s\n", "method", "MRE px", "MRE mm",
                  "median px", "RMS px", "contour px", "PCK1");
          json_t *rows[2] = { fused, mean };
          const char *names[2] = { "model_atlas", "mean_shape_atlas" };
          for (int r = 0; r < 2; r++)
            printf ("%-17s %8.1f %8.2f %9.1f %8.1f %10.1f %6.3f\n", names[r],
                    json_real_value (json_object_get (rows[r], "mre_px")),
                    json_real_value (json_object_get (rows[r], "mre_mm")),
                    json_real_value (json_object_get (rows[r], "median_px")),
                    json_real_value (json_object_get (rows[r], "rms_px")),
                    json_real_value (json_object_get (rows[r], "contour_px")),
                    json_real_value (json_object_get (rows[r], "pck1")));
          printf ("\nMRE px per structure\n%-17s", "method");
          for (int s = 0; s < 5; s++)
            printf (" %7s", structs[s]);
          printf ("\n");
          for (int r = 0; r < 2; r++)
            {
              json_t *per = json_object_get (rows[r], "per_structure_mre_px");
              printf ("%-17s", names[r]);
              for (int s = 0; s < 5; s++)
                {
                  json_t *v = json_object_get (per, structs[s]);
                  if (v)
                    printf (" %7.1f", json_real_value (v));
                  else
                    printf (" %7s", "-");
                }
              printf ("\n");
            }
          for (int r = 0; r < 2 && o->protocol; r++)
            {
              json_t *p = json_object_get (rows[r], "protocol");
              char *s = json_dumps (p, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (4));
              printf ("%s%-17s %s\n", r ? "" : "\nprotocol\n", names[r], s);
              free (s);
            }
          printf ("\ncardiothoracic ratio: mean absolute error %.4f over %d images\n",
                  ctr_n ? ctr_sum / ctr_n : 0.0, ctr_n);
          fflush (stdout);
          fprintf (stderr, "peac eval-landmarks: embedding %.1f s, propagation %.2f s per "
                   "target\n", t_embed, data.n ? t_prop / data.n : 0.0);
        }
      json_decref (out);
    }
  for (int r = 0; r < N_ROWS; r++)
    g_array_free (row[r].err, TRUE), g_array_free (row[r].contour, TRUE),
      g_array_free (row[r].uod, TRUE);
out:
  px_atlas_embedder_clear (&e);
  px_atlas_clear (&data);
  px_atlas_clear (&atlas_own);
  return rc;
}
