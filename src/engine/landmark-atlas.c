// SPDX-License-Identifier: GPL-3.0-or-later
//
// landmark-atlas: the choice of references and the fused multi-reference propagation
// declared in landmark-atlas.h. Each candidate reference gets one match context onto the
// target; fusion weights are the registration quality of each reference onto the target
// (peac_match_score), floored at 0.01 so that every reference keeps a say, times the
// similarity of the point's token at its answer.
#include "landmark-atlas.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landmark-fuse.h"
#include "stats.h"

// strcmp that lets NULL equal only NULL.
static int
same_name (const char *a, const char *b)
{
  return a == b || (a && b && !strcmp (a, b));
}

void
peac_atlas_global (const float *tok, int n, int dim, float *global)
{
  for (int k = 0; k < dim; k++)
    {
      double m = 0;
      for (int i = 0; i < n; i++)
        m += tok[(size_t) i * dim + k];
      global[k] = (float) (m / n);
    }
  peac_normalise_rows (global, 1, dim);
}

// Points of structure s in img (NULL structure: the unnamed group).
static int
count_structure (const PeacAtlasImage *img, const char *s)
{
  int c = 0;
  for (int i = 0; i < img->n; i++)
    c += same_name (img->structure[i], s);
  return c;
}

int
peac_atlas_check_shared (const PeacAtlasImage *ref, const PeacAtlasImage *target, char *err,
                         size_t errlen)
{
  if (ref->n == 0)
    {
      snprintf (err, errlen, "%s: no landmarks", ref->source);
      return -1;
    }
  if (!target || target->n == 0)
    return 0;
  int shared = 0;
  for (int i = 0; i < ref->n; i++)
    {
      const char *s = ref->structure[i];
      int first = 1;
      for (int j = 0; j < i && first; j++)
        first = !same_name (ref->structure[j], s);
      if (!first || !s)
        continue;
      int nr = count_structure (ref, s), nt = count_structure (target, s);
      if (nt == 0)
        continue;
      if (nr != nt)
        {
          snprintf (err, errlen, "%s and %s: structure %s has %d points in one and %d in the "
                    "other", ref->source, target->source, s, nr, nt);
          return -1;
        }
      shared++;
    }
  if (!shared)
    {
      snprintf (err, errlen, "%s and %s: no landmark structure in common", ref->source,
                target->source);
      return -1;
    }
  return 0;
}

int
peac_atlas_pick (const PeacAtlas *a, const float *global, int dim, int exclude, int k,
                 int *out)
{
  double *sim = malloc ((size_t) (a->n > 0 ? a->n : 1) * sizeof *sim);
  if (!sim)
    return 0;
  for (int i = 0; i < a->n; i++)
    {
      double s = 0;
      for (int d = 0; d < dim; d++)
        s += (double) a->img[i].global[d] * global[d];
      sim[i] = i == exclude ? -INFINITY : s;
    }
  int m = peac_top_k (sim, a->n, k, out);
  // The excluded image sorts last; never hand it out.
  while (m > 0 && out[m - 1] == exclude)
    m--;
  free (sim);
  return m;
}

// Index of point `name` in img, or −1.
static int
find_point (const PeacAtlasImage *img, const char *name, int hint)
{
  if (hint >= 0 && hint < img->n && !strcmp (img->point[hint], name))
    return hint;
  for (int i = 0; i < img->n; i++)
    if (!strcmp (img->point[i], name))
      return i;
  return -1;
}

int
peac_atlas_propagate (const PeacAtlas *a, const int *cand, int n_cand, int k,
                      const PeacAtlasGrid *g, const float *tok, int width, int height,
                      const PeacMatchParams *mp, double *xy, double *spread, int *found,
                      double *weight, double *mean_xy, char *err, size_t errlen)
{
  const PeacAtlasImage *r0 = &a->img[cand[0]];
  const int n = r0->n;
  double *ans = malloc ((size_t) n_cand * n * 2 * sizeof *ans); // [n_cand, n, 2]; NaN: none
  double *sim = malloc ((size_t) n_cand * n * sizeof *sim);     // similarity at each answer
  int *ok = calloc ((size_t) n_cand * n, sizeof *ok);
  double *pts = malloc ((size_t) n_cand * 2 * sizeof *pts);
  double *w = malloc ((size_t) n_cand * sizeof *w);
  int *order = malloc ((size_t) n_cand * sizeof *order);
  int rc = 0;
  if (!ans || !sim || !ok || !pts || !w || !order)
    {
      snprintf (err, errlen, "out of memory");
      rc = -1;
    }
  for (int j = 0; j < n_cand && rc == 0; j++)
    {
      const PeacAtlasImage *r = &a->img[cand[j]];
      PeacGrid src = { r->tok, g->gh, g->gw, r->width, r->height };
      PeacGrid tgt = { tok, g->gh, g->gw, width, height };
      PeacMatchContext *ctx = peac_match_context_new (&src, &tgt, 1, g->dim, mp, err, errlen);
      if (!ctx)
        {
          rc = -1;
          break;
        }
      weight[j] = fmax (peac_match_score (ctx, 0), 0.01);
      for (int i = 0; i < n; i++)
        {
          const int q = find_point (r, r0->point[i], i);
          double *out = ans + ((size_t) j * n + i) * 2;
          if (q < 0)
            {
              out[0] = out[1] = NAN;
              continue;
            }
          PeacMatch m;
          // Engine coordinates put pixel i at [i, i + 1): shift by ½ in and out.
          if (peac_match_query (ctx, 0, r->xy[2 * q] + 0.5, r->xy[2 * q + 1] + 0.5,
                                PEAC_MATCH_GUIDED, &m, NULL) < 0)
            {
              snprintf (err, errlen, "matching failed");
              rc = -1;
              break;
            }
          out[0] = m.x - 0.5;
          out[1] = m.y - 0.5;
          ok[(size_t) j * n + i] = m.found;
          sim[(size_t) j * n + i] = fmax (m.sim, 0.01);
        }
      peac_match_context_free (ctx);
    }
  // Keep the k candidates that registered best; the others weigh nothing.
  if (rc == 0 && k < n_cand)
    {
      peac_top_k (weight, n_cand, n_cand, order);
      for (int j = k; j < n_cand; j++)
        weight[order[j]] = 0.0;
    }
  for (int i = 0; i < n && rc == 0; i++)
    {
      int m = 0;
      double mx = 0, my = 0;
      found[i] = 0;
      for (int j = 0; j < n_cand; j++)
        {
          const double *p = ans + ((size_t) j * n + i) * 2;
          if (isnan (p[0]) || !(weight[j] > 0))
            continue;
          pts[2 * m] = p[0], pts[2 * m + 1] = p[1];
          w[m++] = weight[j] * sim[(size_t) j * n + i];
          found[i] += ok[(size_t) j * n + i];
          if (mean_xy)
            {
              // The reference's own point in relative coordinates, onto the target.
              const PeacAtlasImage *r = &a->img[cand[j]];
              const int q = find_point (r, r0->point[i], i);
              mx += ((r->xy[2 * q] + 0.5) / r->width) * width - 0.5;
              my += ((r->xy[2 * q + 1] + 0.5) / r->height) * height - 0.5;
            }
        }
      double f[2];
      if (peac_fuse_points (pts, w, m, f, &spread[i]) < 0)
        {
          snprintf (err, errlen, "%s: point %s is in none of the references kept",
                    r0->source, r0->point[i]);
          rc = -1;
          break;
        }
      xy[2 * i] = f[0], xy[2 * i + 1] = f[1];
      if (mean_xy)
        mean_xy[2 * i] = mx / m, mean_xy[2 * i + 1] = my / m;
    }
  free (pts), free (w), free (ans), free (sim), free (ok), free (order);
  return rc;
}

int
peac_atlas_confirmed (double spread, int k, int found, int width, const PeacAtlasGrid *g)
{
  if (k < 2)
    return found > 0;
  return spread <= PEAC_ATLAS_SPREAD_CELLS * width / (double) (g->side / g->patch);
}
