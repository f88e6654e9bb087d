// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-atlas: the atlas folders, their embeddings and the fused landmark sets declared in
// px-atlas.h. Layout detection: geometry.csv → per-image CSV layout; images_2048/ → JSRT;
// otherwise every *.landmarks.json of the folder. The readers are px-landmarks.h's; this
// file only turns their sets into the engine's flat arrays. Images are turned into model
// input by px-model-input.h; the matching and fusion are the engine's (landmark-atlas.h).
#include "px-atlas.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backbone.h"
#include "px-image.h"
#include "px-model-input.h"

int
px_atlas_embedder_init (PxAtlasEmbedder *e, PeacModel *m, int stride, char *err,
                        size_t errlen)
{
  memset (e, 0, sizeof *e);
  e->model = m;
  e->grid.side = peac_model_img_size (m);
  peac_model_output_shape (m, e->grid.side, e->grid.side, &e->grid.gh, &e->grid.gw,
                           &e->grid.dim);
  e->grid.patch = e->grid.side / e->grid.gw;
  if (stride < 0)
    stride = peac_model_backbone (m)->strides ? e->grid.patch / 2 : 0;
  if (stride == 0 || stride == e->grid.patch)
    {
      e->grid.stride = 0;
      return 0;
    }
  if (!peac_model_backbone (m)->strides)
    {
      snprintf (err, errlen, "--stride: a %s model has no patch stride",
                peac_model_backbone (m)->label);
      return -1;
    }
  int pad = px_model_input_dense_pad (e->grid.side, e->grid.patch, stride, err, errlen);
  if (pad < 0)
    return -1;
  e->grid.stride = stride;
  PeacForwardOptions fo = PEAC_FORWARD_DEFAULT;
  fo.stride = stride;
  peac_model_output_shape_ex (m, &fo, e->grid.side + 2 * pad, e->grid.side + 2 * pad,
                              &e->grid.gh, &e->grid.gw, &e->grid.dim);
  return 0;
}

int
px_atlas_embedder_use_cache (PxAtlasEmbedder *e, const char *model_path, char *err,
                             size_t errlen)
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
px_atlas_embedder_clear (PxAtlasEmbedder *e)
{
  g_clear_pointer (&e->cache_dir, g_free);
  g_clear_pointer (&e->model_key, g_free);
}

// The cache file of an image: <cache>/<sha256 of model key, image content and grid>.tok,
// holding int32 width, height, gh, gw, dim, then the tokens and the global embedding.
static char *
cache_path (const PxAtlasEmbedder *e, const char *path)
{
  g_autofree char *bytes = NULL;
  gsize len;
  if (!e->cache_dir || !g_file_get_contents (path, &bytes, &len, NULL))
    return NULL;
  g_autofree char *img = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                      (const guchar *) bytes, len);
  g_autofree char *id = g_strdup_printf ("%s %s %d %d %d %d", e->model_key, img,
                                         e->grid.stride, e->grid.gh, e->grid.gw, e->grid.dim);
  g_autofree char *key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, id, -1);
  g_autofree char *name = g_strconcat (key, ".tok", NULL);
  return g_build_filename (e->cache_dir, name, NULL);
}

static int
cache_read (const PxAtlasEmbedder *e, const char *file, float *tok, float *global, int *width,
            int *height)
{
  g_autofree char *bytes = NULL;
  gsize len;
  const size_t per = (size_t) e->grid.gh * e->grid.gw * e->grid.dim;
  if (!file || !g_file_get_contents (file, &bytes, &len, NULL)
      || len != 5 * sizeof (gint32) + (per + (size_t) e->grid.dim) * sizeof (float))
    return -1;
  gint32 head[5];
  memcpy (head, bytes, sizeof head);
  if (head[0] < 1 || head[1] < 1 || head[2] != e->grid.gh || head[3] != e->grid.gw
      || head[4] != e->grid.dim)
    return -1;
  *width = head[0];
  *height = head[1];
  memcpy (tok, bytes + sizeof head, per * sizeof (float));
  memcpy (global, bytes + sizeof head + per * sizeof (float),
          (size_t) e->grid.dim * sizeof (float));
  return 0;
}

// Best effort: a cache that cannot be written only costs the next run time.
static void
cache_write (const PxAtlasEmbedder *e, const char *file, const float *tok, const float *global,
             int width, int height)
{
  const size_t per = (size_t) e->grid.gh * e->grid.gw * e->grid.dim;
  const size_t len = 5 * sizeof (gint32) + (per + (size_t) e->grid.dim) * sizeof (float);
  char *bytes = g_try_malloc (len);
  if (!file || !bytes || g_mkdir_with_parents (e->cache_dir, 0700) != 0)
    {
      g_free (bytes);
      return;
    }
  const gint32 head[5] = { width, height, e->grid.gh, e->grid.gw, e->grid.dim };
  memcpy (bytes, head, sizeof head);
  memcpy (bytes + sizeof head, tok, per * sizeof (float));
  memcpy (bytes + sizeof head + per * sizeof (float), global,
          (size_t) e->grid.dim * sizeof (float));
  g_file_set_contents (file, bytes, (gssize) len, NULL);
  g_free (bytes);
}

int
px_atlas_embedder_run (const PxAtlasEmbedder *e, const char *path, float *tok,
                       float *global, int *width, int *height, char *err, size_t errlen)
{
  g_autofree char *cached = cache_path (e, path);
  if (cached && cache_read (e, cached, tok, global, width, height) == 0)
    return 0;
  PxModelInput in;
  char msg[512];
  if (px_model_input_load_dense (path, e->grid.side, e->grid.patch,
                                 e->grid.stride ? e->grid.stride : e->grid.patch,
                                 &in, msg, sizeof msg) < 0)
    {
      snprintf (err, errlen, "%s", msg);
      return -1;
    }
  *width = in.width;
  *height = in.height;
  int rc = px_model_input_embed (e->model, &in, tok, msg, sizeof msg);
  px_model_input_clear (&in);
  if (rc < 0)
    {
      snprintf (err, errlen, "%s: %s", path, msg);
      return -1;
    }
  peac_atlas_global (tok, e->grid.gh * e->grid.gw, e->grid.dim, global);
  cache_write (e, cached, tok, global, *width, *height);
  return 0;
}

// Appends one set to the atlas under name; takes the points, not the set.
static int
add_set (PeacAtlas *a, const PxLandmarkSet *set, const char *name, const char *source,
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
  PeacAtlasImage *img = &a->img[a->n++];
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
px_atlas_load (PeacAtlas *a, const char *dir, const char *root, char *err, size_t errlen)
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
  a->img = g_new0 (PeacAtlasImage, (size_t) n);
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
    px_atlas_clear (a);
  return rc;
}

int
px_atlas_embed_one (PeacAtlas *a, int i, const PxAtlasEmbedder *e, char *err,
                    size_t errlen)
{
  const size_t per = (size_t) e->grid.gh * e->grid.gw * e->grid.dim;
  PeacAtlasImage *img = &a->img[i];
  int w, h;
  if (!img->tok)
    img->tok = g_try_new (float, per);
  if (!img->global)
    img->global = g_try_new (float, (size_t) e->grid.dim);
  if (!img->tok || !img->global)
    {
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  if (px_atlas_embedder_run (e, img->image_path, img->tok, img->global, &w, &h, err,
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
  return 0;
}

int
px_atlas_embed (PeacAtlas *a, const PxAtlasEmbedder *e, char *err, size_t errlen)
{
  for (int i = 0; i < a->n; i++)
    if (px_atlas_embed_one (a, i, e, err, errlen) < 0)
      return -1;
  return 0;
}

static void
image_clear (PeacAtlasImage *img)
{
  for (int k = 0; k < img->n; k++)
    g_free (img->point[k]), g_free (img->structure[k]);
  g_free (img->point), g_free (img->structure), g_free (img->xy);
  g_free (img->name), g_free (img->source), g_free (img->image_path);
  g_free (img->tok), g_free (img->global);
  memset (img, 0, sizeof *img);
}

void
px_atlas_clear (PeacAtlas *a)
{
  for (int i = 0; i < a->n; i++)
    image_clear (&a->img[i]);
  g_free (a->img);
  memset (a, 0, sizeof *a);
}

void
px_atlas_truncate (PeacAtlas *a, int n)
{
  for (int i = n; i < a->n; i++)
    image_clear (&a->img[i]);
  if (n < a->n)
    a->n = n;
}


PxLandmarkSet *
px_atlas_fused_set (const PeacAtlasImage *r0, const char *path, int width, int height,
                    double mm, const double *xy, const double *spread, const int *found,
                    int k, const PxAtlasEmbedder *e)
{
  PxLandmarkSet *set = px_landmark_set_new ();
  set->image_path = g_strdup (path);
  set->image_width = width;
  set->image_height = height;
  for (int i = 0; i < r0->n; i++)
    {
      const char *s = r0->structure[i];
      const char *dot = strrchr (r0->point[i], '.');
      int index = -1;
      if (s && dot && g_str_has_prefix (r0->point[i], s)
          && dot - r0->point[i] == (long) strlen (s))
        index = atoi (dot + 1);
      PxLandmark *p = px_landmark_set_add (set, r0->point[i], s, index, xy[2 * i],
                                           xy[2 * i + 1], NULL);
      p->spread_px = spread[i];
      p->spread_mm = mm > 0 ? spread[i] * mm : -1.0;
      p->unconfirmed = !peac_atlas_confirmed (spread[i], k, found[i], width, &e->grid);
    }
  px_landmark_set_measure_ctr (set);
  return set;
}

double
px_atlas_pixel_mm (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PxImage) im = px_image_load (path, &error);
  if (!im || !(im->pixel_spacing[0] > 0)
      || fabs (im->pixel_spacing[0] - im->pixel_spacing[1]) > 1e-6)
    return 0.0;
  return im->pixel_spacing[0];
}
