// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-atlas: the atlas folders, their embeddings and the fused multi-reference propagation
// declared in cli-atlas.h. Layout detection: geometry.csv → per-image CSV layout;
// images_2048/ → JSRT; otherwise every *.landmarks.json of the folder. The readers are the
// io library's (px-landmarks.h); this file only turns their sets into flat arrays. Fusion
// weights are the registration quality of each reference onto the target
// (peac_match_score), floored at 0.01 so that every reference keeps a say.
#include "cli-atlas.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backbone.h"
#include "cli-match.h"
#include "landmark-fuse.h"
#include "preprocess.h"
#include "px-landmarks.h"

int
cli_embedder_init (CliEmbedder *e, PeacModel *m, int stride, char *err, size_t errlen)
{
  memset (e, 0, sizeof *e);
  e->model = m;
  e->side = peac_model_img_size (m);
  peac_model_output_shape (m, e->side, e->side, &e->gh, &e->gw, &e->dim);
  e->patch = e->side / e->gw;
  if (stride == 0 || stride == e->patch)
    {
      e->stride = 0;
      return 0;
    }
  if (!peac_model_backbone (m)->strides)
    {
      snprintf (err, errlen, "--stride: a %s model has no patch stride",
                peac_model_backbone (m)->label);
      return -1;
    }
  int pad = peac_cli_dense_pad (e->side, e->patch, stride, err, errlen);
  if (pad < 0)
    return -1;
  e->stride = stride;
  PeacForwardOptions fo = PEAC_FORWARD_DEFAULT;
  fo.stride = stride;
  peac_model_output_shape_ex (m, &fo, e->side + 2 * pad, e->side + 2 * pad, &e->gh, &e->gw,
                              &e->dim);
  return 0;
}

int
cli_embedder_use_cache (CliEmbedder *e, const char *model_path, char *err, size_t errlen)
{
  g_autofree char *bytes = NULL;
  gsize len;
  GError *error = NULL;
  if (!g_file_get_contents (model_path, &bytes, &len, &error))
    {
      snprintf (err, errlen, "%s", error->message);
      g_error_free (error);
      return -1;
    }
  e->model_key = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) bytes, len);
  e->cache_dir = g_build_filename (g_get_user_cache_dir (), "peac-explorer", "tokens", NULL);
  return 0;
}

void
cli_embedder_clear (CliEmbedder *e)
{
  g_clear_pointer (&e->cache_dir, g_free);
  g_clear_pointer (&e->model_key, g_free);
}

// The cache file of an image: <cache>/<sha256 of model key, image content and grid>.tok,
// holding int32 width, height, gh, gw, dim, then the tokens and the global embedding.
static char *
cache_path (const CliEmbedder *e, const char *path)
{
  g_autofree char *bytes = NULL;
  gsize len;
  if (!e->cache_dir || !g_file_get_contents (path, &bytes, &len, NULL))
    return NULL;
  g_autofree char *img = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) bytes, len);
  g_autofree char *id = g_strdup_printf ("%s %s %d %d %d %d", e->model_key, img, e->stride,
                                         e->gh, e->gw, e->dim);
  g_autofree char *key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, id, -1);
  g_autofree char *name = g_strconcat (key, ".tok", NULL);
  return g_build_filename (e->cache_dir, name, NULL);
}

static int
cache_read (const CliEmbedder *e, const char *file, float *tok, float *global, int *width,
            int *height)
{
  g_autofree char *bytes = NULL;
  gsize len;
  const size_t per = (size_t) e->gh * e->gw * e->dim;
  if (!file || !g_file_get_contents (file, &bytes, &len, NULL)
      || len != 5 * sizeof (gint32) + (per + (size_t) e->dim) * sizeof (float))
    return -1;
  gint32 head[5];
  memcpy (head, bytes, sizeof head);
  if (head[0] < 1 || head[1] < 1 || head[2] != e->gh || head[3] != e->gw || head[4] != e->dim)
    return -1;
  *width = head[0];
  *height = head[1];
  memcpy (tok, bytes + sizeof head, per * sizeof (float));
  memcpy (global, bytes + sizeof head + per * sizeof (float), (size_t) e->dim * sizeof (float));
  return 0;
}

// Best effort: a cache that cannot be written only costs the next run time.
static void
cache_write (const CliEmbedder *e, const char *file, const float *tok, const float *global,
             int width, int height)
{
  const size_t per = (size_t) e->gh * e->gw * e->dim;
  const size_t len = 5 * sizeof (gint32) + (per + (size_t) e->dim) * sizeof (float);
  char *bytes = g_try_malloc (len);
  if (!file || !bytes || g_mkdir_with_parents (e->cache_dir, 0700) != 0)
    {
      g_free (bytes);
      return;
    }
  const gint32 head[5] = { width, height, e->gh, e->gw, e->dim };
  memcpy (bytes, head, sizeof head);
  memcpy (bytes + sizeof head, tok, per * sizeof (float));
  memcpy (bytes + sizeof head + per * sizeof (float), global, (size_t) e->dim * sizeof (float));
  g_file_set_contents (file, bytes, (gssize) len, NULL);
  g_free (bytes);
}

int
cli_embedder_run (const CliEmbedder *e, const char *path, float *tok, float *global,
                  int *width, int *height, char *err, size_t errlen)
{
  g_autofree char *cached = cache_path (e, path);
  if (cached && cache_read (e, cached, tok, global, width, height) == 0)
    return 0;
  CliInput in;
  char msg[512];
  if (peac_cli_input_load_dense (path, e->side, e->patch, e->stride ? e->stride : e->patch,
                                 &in, msg, sizeof msg) < 0)
    {
      snprintf (err, errlen, "%s", msg);
      return -1;
    }
  *width = in.width;
  *height = in.height;
  int rc = peac_cli_embed_input (e->model, &in, tok, msg, sizeof msg);
  peac_cli_input_clear (&in);
  if (rc < 0)
    {
      snprintf (err, errlen, "%s: %s", path, msg);
      return -1;
    }
  const int n = e->gh * e->gw;
  double ss = 0;
  for (int k = 0; k < e->dim; k++)
    {
      double m = 0;
      for (int i = 0; i < n; i++)
        m += tok[(size_t) i * e->dim + k];
      global[k] = (float) (m / n);
      ss += (double) global[k] * global[k];
    }
  const float inv = ss > 1e-24 ? (float) (1.0 / sqrt (ss)) : 0.0f;
  for (int k = 0; k < e->dim; k++)
    global[k] *= inv;
  cache_write (e, cached, tok, global, *width, *height);
  return 0;
}

// Appends one set to the atlas under name; takes the points, not the set.
static int
add_set (CliAtlas *a, const PxLandmarkSet *set, const char *name, const char *source,
         char *err, size_t errlen)
{
  const int n = (int) px_landmark_set_size (set);
  if (n == 0)
    {
      snprintf (err, errlen, "%s: no landmarks", source);
      return -1;
    }
  if (!set->image_path)
    {
      snprintf (err, errlen, "%s: names no image (\"image\": {\"path\": …})", source);
      return -1;
    }
  CliAtlasImage *img = &a->img[a->n++];
  memset (img, 0, sizeof *img);
  img->name = g_strdup (name);
  img->source = g_strdup (source);
  img->image_path = g_strdup (set->image_path);
  img->width = set->image_width;
  img->height = set->image_height;
  img->n = n;
  img->xy = g_new (double, 2 * (size_t) n);
  img->point = g_new0 (char *, (size_t) n);
  img->structure = g_new0 (char *, (size_t) n);
  for (int i = 0; i < n; i++)
    {
      const PxLandmark *l = px_landmark_set_get (set, (guint) i);
      img->xy[2 * i] = l->x;
      img->xy[2 * i + 1] = l->y;
      img->point[i] = g_strdup (l->name);
      img->structure[i] = g_strdup (l->structure);
    }
  return 0;
}

static gint
cmp_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
cli_atlas_load (CliAtlas *a, const char *dir, const char *root, char *err, size_t errlen)
{
  memset (a, 0, sizeof *a);
  GError *error = NULL;
  g_autofree char *geo = g_build_filename (dir, "geometry.csv", NULL);
  g_autofree char *jsrt = g_build_filename (dir, "images_2048", NULL);
  g_autofree char *up = NULL;
  GStrv ids = NULL;
  int layout; // 0 CSV, 1 JSRT, 2 JSON
  if (g_file_test (geo, G_FILE_TEST_IS_REGULAR))
    {
      layout = 0;
      ids = px_landmarks_nlm_list (dir, &error);
      if (!root)
        root = up = g_build_filename (dir, "..", "..", NULL);
    }
  else if (g_file_test (jsrt, G_FILE_TEST_IS_DIR))
    {
      layout = 1;
      ids = px_landmarks_jsrt_list (dir, &error);
    }
  else
    {
      layout = 2;
      GDir *d = g_dir_open (dir, 0, &error);
      if (d)
        {
          GPtrArray *files = g_ptr_array_new ();
          const char *name;
          while ((name = g_dir_read_name (d)))
            if (g_str_has_suffix (name, ".landmarks.json"))
              g_ptr_array_add (files, g_strdup (name));
          g_dir_close (d);
          g_ptr_array_sort (files, cmp_name);
          g_ptr_array_add (files, NULL);
          ids = (GStrv) g_ptr_array_free (files, FALSE);
        }
    }
  if (!ids)
    {
      snprintf (err, errlen, "%s", error->message);
      g_error_free (error);
      return -1;
    }
  const int n = (int) g_strv_length (ids);
  if (n == 0)
    {
      snprintf (err, errlen, "%s: no annotated image (a JSRT folder, a folder with "
                "geometry.csv, or *.landmarks.json files)", dir);
      g_strfreev (ids);
      return -1;
    }
  a->img = g_new0 (CliAtlasImage, (size_t) n);
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++)
    {
      PxLandmarkSet *set = NULL;
      g_autofree char *source = NULL, *stem = NULL;
      if (layout == 0)
        {
          set = px_landmarks_load_nlm (dir, root, ids[i], &error);
          source = g_build_filename (dir, "image_frame_csv", "*", ids[i], NULL);
        }
      else if (layout == 1)
        {
          set = px_landmarks_load_jsrt (dir, ids[i], &error);
          source = g_build_filename (dir, "hybridgnet_landmarks_1024", "*", ids[i], NULL);
        }
      else
        {
          source = g_build_filename (dir, ids[i], NULL);
          set = px_landmarks_load_json (source, &error);
          if (set && set->image_path && !g_path_is_absolute (set->image_path))
            {
              char *p = g_build_filename (dir, set->image_path, NULL);
              g_free (set->image_path);
              set->image_path = p;
            }
        }
      stem = layout == 2 ? g_strndup (ids[i], strlen (ids[i]) - strlen (".landmarks.json"))
                         : g_strdup (ids[i]);
      if (!set)
        {
          snprintf (err, errlen, "%s", error->message);
          g_clear_error (&error);
          rc = -1;
        }
      else
        rc = add_set (a, set, stem, source, err, errlen);
      px_landmark_set_free (set);
    }
  g_strfreev (ids);
  if (rc < 0)
    cli_atlas_clear (a);
  return rc;
}

int
cli_atlas_embed (CliAtlas *a, const CliEmbedder *e, char *err, size_t errlen)
{
  const size_t per = (size_t) e->gh * e->gw * e->dim;
  for (int i = 0; i < a->n; i++)
    {
      CliAtlasImage *img = &a->img[i];
      int w, h;
      img->tok = g_try_new (float, per);
      img->global = g_try_new (float, (size_t) e->dim);
      if (!img->tok || !img->global)
        {
          snprintf (err, errlen, "out of memory");
          return -1;
        }
      if (cli_embedder_run (e, img->image_path, img->tok, img->global, &w, &h, err,
                            errlen) < 0)
        return -1;
      if ((img->width && img->width != w) || (img->height && img->height != h))
        {
          snprintf (err, errlen, "%s: the image is %d×%d, its landmarks (%s) are for %d×%d",
                    img->image_path, w, h, img->source, img->width, img->height);
          return -1;
        }
      img->width = w;
      img->height = h;
    }
  return 0;
}

static void
image_clear (CliAtlasImage *img)
{
  for (int k = 0; k < img->n; k++)
    g_free (img->point[k]), g_free (img->structure[k]);
  g_free (img->point), g_free (img->structure), g_free (img->xy);
  g_free (img->name), g_free (img->source), g_free (img->image_path);
  g_free (img->tok), g_free (img->global);
  memset (img, 0, sizeof *img);
}

void
cli_atlas_clear (CliAtlas *a)
{
  for (int i = 0; i < a->n; i++)
    image_clear (&a->img[i]);
  g_free (a->img);
  memset (a, 0, sizeof *a);
}

// Points of structure s in img (NULL structure: the unnamed group).
static int
count_structure (const CliAtlasImage *img, const char *s)
{
  int c = 0;
  for (int i = 0; i < img->n; i++)
    c += g_strcmp0 (img->structure[i], s) == 0;
  return c;
}

int
cli_atlas_check_shared (const CliAtlasImage *ref, const CliAtlasImage *target, char *err,
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
        first = g_strcmp0 (ref->structure[j], s) != 0;
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
cli_atlas_pick (const CliAtlas *a, const float *global, int dim, int exclude, int k, int *out)
{
  double *sim = g_new (double, (size_t) (a->n > 0 ? a->n : 1));
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
  g_free (sim);
  return m;
}

// Index of point `name` in img, or −1.
static int
find_point (const CliAtlasImage *img, const char *name, int hint)
{
  if (hint >= 0 && hint < img->n && !strcmp (img->point[hint], name))
    return hint;
  for (int i = 0; i < img->n; i++)
    if (!strcmp (img->point[i], name))
      return i;
  return -1;
}

int
cli_atlas_propagate (const CliAtlas *a, const int *cand, int n_cand, int k,
                     const CliEmbedder *e, const float *tok, int width, int height,
                     const PeacMatchParams *mp, double *xy, double *spread, int *found,
                     double *weight, double *mean_xy, char *err, size_t errlen)
{
  const CliAtlasImage *r0 = &a->img[cand[0]];
  const int n = r0->n;
  double *ans = g_new (double, (size_t) n_cand * n * 2);  // [n_cand, n, 2]; NaN: no such point
  double *sim = g_new (double, (size_t) n_cand * n);      // similarity at each answer
  int *ok = g_new0 (int, (size_t) n_cand * n);
  int rc = 0;
  for (int j = 0; j < n_cand && rc == 0; j++)
    {
      const CliAtlasImage *r = &a->img[cand[j]];
      PeacGrid src = { r->tok, e->gh, e->gw, r->width, r->height };
      PeacGrid tgt = { tok, e->gh, e->gw, width, height };
      PeacMatchContext *ctx = peac_match_context_new (&src, &tgt, 1, e->dim, mp, err, errlen);
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
      int *order = g_new (int, (size_t) n_cand);
      peac_top_k (weight, n_cand, n_cand, order);
      for (int j = k; j < n_cand; j++)
        weight[order[j]] = 0.0;
      g_free (order);
    }
  double *pts = g_new (double, (size_t) n_cand * 2), *w = g_new (double, (size_t) n_cand);
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
              const CliAtlasImage *r = &a->img[cand[j]];
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
  g_free (pts), g_free (w), g_free (ans), g_free (sim), g_free (ok);
  return rc;
}

void
cli_atlas_truncate (CliAtlas *a, int n)
{
  for (int i = n; i < a->n; i++)
    image_clear (&a->img[i]);
  if (n < a->n)
    a->n = n;
}

int
cli_atlas_confirmed (double spread, int k, int found, int width, const CliEmbedder *e)
{
  if (k < 2)
    return found > 0;
  return spread <= CLI_ATLAS_SPREAD_CELLS * width / (double) (e->side / e->patch);
}
