// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-landmarks-json: our JSON format for user-placed landmarks (specified in
// px-landmarks.h and docs/landmarks-json.md). The reader checks every field it uses and
// names the file, the landmark and the field in its errors; the writer emits the same
// layout with full double precision and replaces the file atomically.
#include "px-landmarks.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define FORMAT_NAME "peac-landmarks"
#define FORMAT_VERSION 1

static gboolean
invalid (GError **error, const char *path, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError **error, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_INVALID, "%s: %s", path, msg);
  return FALSE;
}

static gboolean
valid_color (const char *s)
{
  if (strlen (s) != 7 || s[0] != '#')
    return FALSE;
  for (int i = 1; i < 7; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

static gboolean
read_point (PxLandmarkSet *set, json_t *p, size_t i, const char *path, GHashTable *seen,
            GError **error)
{
  if (!json_is_object (p))
    return invalid (error, path, "landmark %zu is not an object", i);
  json_t *name = json_object_get (p, "name"), *x = json_object_get (p, "x"),
         *y = json_object_get (p, "y"), *color = json_object_get (p, "color"),
         *structure = json_object_get (p, "structure"), *index = json_object_get (p, "index"),
         *confirmed = json_object_get (p, "confirmed"),
         *spread_px = json_object_get (p, "spread_px"), *spread_mm = json_object_get (p, "spread_mm");
  if (!json_is_string (name) || json_string_length (name) == 0)
    return invalid (error, path, "landmark %zu: \"name\" must be a non-empty string", i);
  const char *n = json_string_value (name);
  if (strlen (n) != json_string_length (name))
    return invalid (error, path, "landmark %zu: \"name\" contains a NUL character", i);
  if (g_hash_table_contains (seen, n))
    return invalid (error, path, "landmark %zu: duplicate name \"%s\"", i, n);
  if (!json_is_number (x) || !json_is_number (y)
      || !isfinite (json_number_value (x)) || !isfinite (json_number_value (y)))
    return invalid (error, path, "landmark \"%s\": \"x\" and \"y\" must be numbers", n);
  if (color && !(json_is_string (color) && valid_color (json_string_value (color))))
    return invalid (error, path, "landmark \"%s\": \"color\" must be \"#rrggbb\"", n);
  if (structure && !json_is_string (structure))
    return invalid (error, path, "landmark \"%s\": \"structure\" must be a string", n);
  if (index && !(json_is_integer (index) && json_integer_value (index) >= 0
                 && json_integer_value (index) <= G_MAXINT))
    return invalid (error, path, "landmark \"%s\": \"index\" must be an integer ≥ 0", n);
  if (confirmed && !json_is_boolean (confirmed))
    return invalid (error, path, "landmark \"%s\": \"confirmed\" must be true or false", n);
  json_t *spreads[2] = { spread_px, spread_mm };
  for (int k = 0; k < 2; k++)
    if (spreads[k] && !(json_is_number (spreads[k]) && isfinite (json_number_value (spreads[k]))
                        && json_number_value (spreads[k]) >= 0))
      return invalid (error, path, "landmark \"%s\": \"%s\" must be a number ≥ 0", n,
                      k ? "spread_mm" : "spread_px");
  g_hash_table_add (seen, (gpointer) n);
  PxLandmark *l = px_landmark_set_add (set, n, structure ? json_string_value (structure) : NULL,
                                       index ? (int) json_integer_value (index) : -1,
                                       json_number_value (x), json_number_value (y),
                                       color ? json_string_value (color) : NULL);
  l->unconfirmed = json_is_false (confirmed);
  l->spread_px = spread_px ? json_number_value (spread_px) : -1.0;
  l->spread_mm = spread_mm ? json_number_value (spread_mm) : -1.0;
  return TRUE;
}

// "measurements": optional; its "cardiothoracic_ratio", when present, needs all its keys.
static gboolean
read_measurements (PxLandmarkSet *set, json_t *m, const char *path, GError **error)
{
  if (!m)
    return TRUE;
  if (!json_is_object (m))
    return invalid (error, path, "\"measurements\" must be an object");
  json_t *c = json_object_get (m, "cardiothoracic_ratio");
  if (!c)
    return TRUE;
  json_t *v[3] = { json_object_get (c, "ratio"), json_object_get (c, "heart_width_px"),
                   json_object_get (c, "thorax_width_px") };
  json_t *lines[2] = { json_object_get (c, "heart_line"), json_object_get (c, "thorax_line") };
  double num[3];
  for (int k = 0; k < 3; k++)
    {
      if (!json_is_number (v[k]) || !isfinite (json_number_value (v[k]))
          || json_number_value (v[k]) < 0)
        return invalid (error, path, "\"measurements.cardiothoracic_ratio\" needs numbers "
                        "ratio, heart_width_px and thorax_width_px ≥ 0");
      num[k] = json_number_value (v[k]);
    }
  for (int k = 0; k < 2; k++)
    {
      if (!json_is_array (lines[k]) || json_array_size (lines[k]) != 4)
        return invalid (error, path, "\"measurements.cardiothoracic_ratio\": %s must be "
                        "[x0, y, x1, y]", k ? "thorax_line" : "heart_line");
      for (int j = 0; j < 4; j++)
        {
          json_t *e = json_array_get (lines[k], (size_t) j);
          if (!json_is_number (e) || !isfinite (json_number_value (e)))
            return invalid (error, path, "\"measurements.cardiothoracic_ratio\": %s must be "
                            "[x0, y, x1, y]", k ? "thorax_line" : "heart_line");
          (k ? set->ctr.thorax_line : set->ctr.heart_line)[j] = json_number_value (e);
        }
    }
  set->ctr.ratio = num[0];
  set->ctr.heart_width_px = num[1];
  set->ctr.thorax_width_px = num[2];
  set->ctr.valid = TRUE;
  return TRUE;
}

PxLandmarkSet *
px_landmarks_load_json (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  json_error_t jerr;
  json_t *root = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!root)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE,
                   "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
      return NULL;
    }
  g_autoptr (PxLandmarkSet) set = px_landmark_set_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean ok = FALSE;
  json_t *format = json_object_get (root, "format"), *version = json_object_get (root, "version"),
         *image = json_object_get (root, "image"), *points = json_object_get (root, "landmarks");
  if (!json_is_object (root))
    invalid (error, path, "the top level must be an object");
  else if (!json_is_string (format) || strcmp (json_string_value (format), FORMAT_NAME) != 0)
    invalid (error, path, "\"format\" must be \"%s\"", FORMAT_NAME);
  else if (!json_is_integer (version) || json_integer_value (version) < 1)
    invalid (error, path, "\"version\" must be a positive integer");
  else if (json_integer_value (version) > FORMAT_VERSION)
    invalid (error, path, "version %" JSON_INTEGER_FORMAT " is newer than this program reads (%d)",
             json_integer_value (version), FORMAT_VERSION);
  else if (image && !json_is_object (image))
    invalid (error, path, "\"image\" must be an object");
  else if (!json_is_array (points))
    invalid (error, path, "\"landmarks\" must be an array");
  else
    {
      ok = TRUE;
      if (image)
        {
          json_t *ip = json_object_get (image, "path"), *w = json_object_get (image, "width"),
                 *h = json_object_get (image, "height");
          if (ip && !json_is_string (ip))
            ok = invalid (error, path, "\"image.path\" must be a string");
          else if (!w != !h)
            ok = invalid (error, path, "\"image\" needs both \"width\" and \"height\" or neither");
          else if (w && !(json_is_integer (w) && json_is_integer (h)
                          && json_integer_value (w) > 0 && json_integer_value (h) > 0
                          && json_integer_value (w) <= G_MAXINT
                          && json_integer_value (h) <= G_MAXINT))
            ok = invalid (error, path, "\"image.width\" and \"image.height\" must be positive integers");
          else
            {
              set->image_path = ip ? g_strdup (json_string_value (ip)) : NULL;
              set->image_width = w ? (int) json_integer_value (w) : 0;
              set->image_height = h ? (int) json_integer_value (h) : 0;
            }
        }
      for (size_t i = 0; ok && i < json_array_size (points); i++)
        ok = read_point (set, json_array_get (points, i), i, path, seen, error);
      if (ok)
        ok = read_measurements (set, json_object_get (root, "measurements"), path, error);
    }
  // The names in `seen` point into root, so drop the table before the document.
  g_clear_pointer (&seen, g_hash_table_unref);
  json_decref (root);
  return ok ? g_steal_pointer (&set) : NULL;
}

gboolean
px_landmarks_save_json (const PxLandmarkSet *set, const char *path, GError **error)
{
  for (guint i = 0; i < set->points->len; i++)
    {
      const PxLandmark *l = &g_array_index (set->points, PxLandmark, i);
      const char *strs[3] = { l->name, l->structure, l->color };
      if (!l->name || !*l->name)
        return invalid (error, path, "landmark %u has no name", i);
      for (int k = 0; k < 3; k++)
        if (strs[k] && !g_utf8_validate (strs[k], -1, NULL))
          return invalid (error, path, "landmark %u: text is not UTF-8", i);
    }
  if (set->image_path && !g_utf8_validate (set->image_path, -1, NULL))
    return invalid (error, path, "the image path is not UTF-8");
  json_t *root = json_object ();
  json_object_set_new (root, "format", json_string (FORMAT_NAME));
  json_object_set_new (root, "version", json_integer (FORMAT_VERSION));
  if (set->image_path || set->image_width > 0)
    {
      json_t *image = json_object ();
      if (set->image_path)
        json_object_set_new (image, "path", json_string (set->image_path));
      if (set->image_width > 0 && set->image_height > 0)
        {
          json_object_set_new (image, "width", json_integer (set->image_width));
          json_object_set_new (image, "height", json_integer (set->image_height));
        }
      json_object_set_new (root, "image", image);
    }
  json_t *points = json_array ();
  for (guint i = 0; i < set->points->len; i++)
    {
      const PxLandmark *l = &g_array_index (set->points, PxLandmark, i);
      json_t *p = json_object ();
      json_object_set_new (p, "name", json_string (l->name));
      json_object_set_new (p, "x", json_real (l->x));
      json_object_set_new (p, "y", json_real (l->y));
      if (l->color)
        json_object_set_new (p, "color", json_string (l->color));
      if (l->structure)
        json_object_set_new (p, "structure", json_string (l->structure));
      if (l->index >= 0)
        json_object_set_new (p, "index", json_integer (l->index));
      if (l->unconfirmed)
        json_object_set_new (p, "confirmed", json_false ());
      if (l->spread_px >= 0)
        json_object_set_new (p, "spread_px", json_real (l->spread_px));
      if (l->spread_mm >= 0)
        json_object_set_new (p, "spread_mm", json_real (l->spread_mm));
      json_array_append_new (points, p);
    }
  json_object_set_new (root, "landmarks", points);
  if (set->ctr.valid)
    {
      const PxLandmarkCtr *c = &set->ctr;
      json_t *ctr = json_pack ("{s:f, s:f, s:f, s:[f, f, f, f], s:[f, f, f, f]}",
                               "ratio", c->ratio, "heart_width_px", c->heart_width_px,
                               "thorax_width_px", c->thorax_width_px,
                               "heart_line", c->heart_line[0], c->heart_line[1],
                               c->heart_line[2], c->heart_line[3],
                               "thorax_line", c->thorax_line[0], c->thorax_line[1],
                               c->thorax_line[2], c->thorax_line[3]);
      json_object_set_new (root, "measurements", json_pack ("{s:o}", "cardiothoracic_ratio", ctr));
    }
  char *text = json_dumps (root, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (17));
  json_decref (root);
  if (!text)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_INVALID,
                   "%s: cannot encode the landmarks", path);
      return FALSE;
    }
  g_autofree char *body = g_strconcat (text, "\n", NULL);
  free (text);
  g_autoptr (GError) local = NULL;
  if (!g_file_set_contents_full (path, body, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, &local))
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_OPEN, "%s", local->message);
      return FALSE;
    }
  return TRUE;
}
