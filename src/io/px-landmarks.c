// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-landmarks: the landmark readers and the JSON writer declared in px-landmarks.h. The
// .npy files go through the engine's checked reader (npy.h: magic, version, header, dtype
// and byte order, C order, shape, payload length), and this file adds the (N, 2) check and
// the frame mapping. The JSON format lives in px-landmarks-json.c.
#include "px-landmarks.h"
#include "px-csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "landmark-fuse.h"
#include "npy.h"

G_DEFINE_QUARK (px-landmarks-error-quark, px_landmarks_error)

const char *const px_landmarks_jsrt_structures[5] = { "RL", "LL", "H", "RCLA", "LCLA" };

static void
landmark_clear (gpointer p)
{
  PxLandmark *l = p;
  g_free (l->name);
  g_free (l->structure);
  g_free (l->color);
}

PxLandmarkSet *
px_landmark_set_new (void)
{
  PxLandmarkSet *set = g_new0 (PxLandmarkSet, 1);
  set->points = g_array_new (FALSE, TRUE, sizeof (PxLandmark));
  g_array_set_clear_func (set->points, landmark_clear);
  return set;
}

void
px_landmark_set_free (PxLandmarkSet *set)
{
  if (!set)
    return;
  g_free (set->image_path);
  g_array_unref (set->points);
  g_free (set);
}

PxLandmark *
px_landmark_set_add (PxLandmarkSet *set, const char *name, const char *structure,
                     int index, double x, double y, const char *color)
{
  PxLandmark l = {
    .name = g_strdup (name),
    .structure = g_strdup (structure),
    .index = index,
    .x = x,
    .y = y,
    .color = g_strdup (color),
    .spread_px = -1.0,
    .spread_mm = -1.0,
  };
  g_array_append_val (set->points, l);
  return &g_array_index (set->points, PxLandmark, set->points->len - 1);
}

guint
px_landmark_set_size (const PxLandmarkSet *set)
{
  return set->points->len;
}

PxLandmark *
px_landmark_set_get (const PxLandmarkSet *set, guint i)
{
  g_return_val_if_fail (i < set->points->len, NULL);
  return &g_array_index (set->points, PxLandmark, i);
}

gboolean
px_landmark_set_measure_ctr (PxLandmarkSet *set)
{
  g_autoptr (GArray) h = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) l = g_array_new (FALSE, FALSE, sizeof (double));
  PeacCtr c;
  memset (&set->ctr, 0, sizeof set->ctr);
  for (guint i = 0; i < set->points->len; i++)
    {
      const PxLandmark *p = &g_array_index (set->points, PxLandmark, i);
      const double xy[2] = { p->x, p->y };
      if (!g_strcmp0 (p->structure, "H"))
        g_array_append_vals (h, xy, 2);
      else if (!g_strcmp0 (p->structure, "RL") || !g_strcmp0 (p->structure, "LL"))
        g_array_append_vals (l, xy, 2);
    }
  if (peac_ctr ((double *) h->data, (int) h->len / 2, (double *) l->data, (int) l->len / 2,
                &c) != 0)
    return FALSE;
  set->ctr.valid = TRUE;
  set->ctr.ratio = c.ratio;
  set->ctr.heart_width_px = c.heart_width;
  set->ctr.thorax_width_px = c.thorax_width;
  memcpy (set->ctr.heart_line, c.heart, sizeof c.heart);
  memcpy (set->ctr.thorax_line, c.thorax, sizeof c.thorax);
  return TRUE;
}

// ---------------------------------------------------------------------------------------
// .npy and CSV

gboolean
px_landmarks_add_npy (PxLandmarkSet *set, const char *path, const char *structure,
                      double frame_w, double frame_h, GError **error)
{
  g_return_val_if_fail (set->image_width > 0 && set->image_height > 0, FALSE);
  char err[512];
  int rows, cols;
  float *xy = npy_read_matrix (path, &rows, &cols, err, sizeof err);
  if (!xy)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE, "%s", err);
      return FALSE;
    }
  if (cols != 2 || rows < 1)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_INVALID,
                   "%s: landmarks must be an (N, 2) array of x, y; found (%d, %d)",
                   path, rows, cols);
      free (xy);
      return FALSE;
    }
  double sx = set->image_width / frame_w, sy = set->image_height / frame_h;
  for (int i = 0; i < rows; i++)
    {
      if (!isfinite (xy[2 * i]) || !isfinite (xy[2 * i + 1]))
        {
          g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_INVALID,
                       "%s: point %d is not finite", path, i);
          free (xy);
          return FALSE;
        }
      g_autofree char *name = g_strdup_printf ("%s.%d", structure, i);
      px_landmark_set_add (set, name, structure, i, (xy[2 * i] + 0.5) * sx - 0.5,
                           (xy[2 * i + 1] + 0.5) * sy - 0.5, NULL);
    }
  free (xy);
  return TRUE;
}

static gboolean
parse_double (const char *s, double *out)
{
  char *end;
  errno = 0;
  *out = g_ascii_strtod (s, &end);
  while (*end == ' ' || *end == '\t')
    end++;
  return end != s && *end == '\0' && errno == 0 && isfinite (*out);
}

// One record of a CSV file: its fields, stripped of surrounding blanks, and its line.
typedef struct {
  GStrv f;
  int   n, line;
} CsvRow;

static void
csv_row_free (gpointer p)
{
  CsvRow *r = p;
  g_strfreev (r->f);
  g_free (r);
}

// The records of the CSV file at path (px-csv.h), blank lines left out. NULL with error.
static GPtrArray *
read_csv (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  PxCsv *csv = px_csv_new (text, len, path);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (csv_row_free);
  PxCsvRecord rec;
  char err[1024];
  int got;
  while ((got = px_csv_next (csv, &rec, err, sizeof err)) == 1)
    {
      if (rec.n == 0 || (rec.n == 1 && !*g_strstrip (rec.fields[0])))
        continue;
      CsvRow *r = g_new0 (CsvRow, 1);
      r->f = g_new0 (char *, (gsize) rec.n + 1);
      for (int i = 0; i < rec.n; i++)
        r->f[i] = g_strdup (g_strstrip (rec.fields[i]));
      r->n = rec.n, r->line = rec.line;
      g_ptr_array_add (rows, r);
    }
  px_csv_free (csv);
  if (got < 0)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE, "%s", err);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

gboolean
px_landmarks_add_csv (PxLandmarkSet *set, const char *path, const char *structure,
                      GError **error)
{
  g_autoptr (GPtrArray) rows = read_csv (path, error);
  if (!rows)
    return FALSE;
  const CsvRow *head = rows->len ? rows->pdata[0] : NULL;
  if (!head || head->line != 1 || head->n != 2 || strcmp (head->f[0], "x") || strcmp (head->f[1], "y"))
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE,
                   "%s: first line must be \"x,y\"", path);
      return FALSE;
    }
  int k = 0;
  for (guint i = 1; i < rows->len; i++)
    {
      const CsvRow *r = rows->pdata[i];
      double x, y;
      if (r->n != 2 || !parse_double (r->f[0], &x) || !parse_double (r->f[1], &y))
        {
          g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE,
                       "%s:%d: expected two numbers \"x,y\"", path, r->line);
          return FALSE;
        }
      g_autofree char *name = g_strdup_printf ("%s.%d", structure, k);
      px_landmark_set_add (set, name, structure, k, x, y, NULL);
      k++;
    }
  if (k == 0)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_INVALID,
                   "%s: no points", path);
      return FALSE;
    }
  return TRUE;
}

// ---------------------------------------------------------------------------------------
// Data-set layouts

// Width and height from a PNG's IHDR (signature, then the first chunk), without decoding.
static gboolean
png_size (const char *path, int *w, int *h, GError **error)
{
  static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  guint8 b[24];
  FILE *f = fopen (path, "rb");
  if (!f)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_OPEN, "%s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  size_t n = fread (b, 1, sizeof b, f);
  fclose (f);
  if (n != sizeof b || memcmp (b, sig, 8) != 0 || memcmp (b + 12, "IHDR", 4) != 0)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE,
                   "%s: not a PNG file", path);
      return FALSE;
    }
  *w = (int) ((guint32) b[16] << 24 | (guint32) b[17] << 16 | (guint32) b[18] << 8 | b[19]);
  *h = (int) ((guint32) b[20] << 24 | (guint32) b[21] << 16 | (guint32) b[22] << 8 | b[23]);
  if (*w <= 0 || *h <= 0)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE,
                   "%s: bad PNG size", path);
      return FALSE;
    }
  return TRUE;
}

static char *
jsrt_image (const char *dir, const char *id)
{
  g_autofree char *name = g_strdup_printf ("%s.IMG.png", id);
  char *path = g_build_filename (dir, "images_2048", name, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return path;
  g_free (path);
  g_autofree char *plain = g_strdup_printf ("%s.png", id);
  return g_build_filename (dir, "images_2048", plain, NULL);
}

static char *
jsrt_npy (const char *dir, const char *structure, const char *id)
{
  g_autofree char *name = g_strdup_printf ("%s.npy", id);
  return g_build_filename (dir, "hybridgnet_landmarks_1024", structure, name, NULL);
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GStrv
px_landmarks_jsrt_list (const char *dir, GError **error)
{
  g_autofree char *images = g_build_filename (dir, "images_2048", NULL);
  g_autoptr (GDir) d = g_dir_open (images, 0, error);
  if (!d)
    return NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      if (!g_str_has_suffix (name, ".png"))
        continue;
      char *id = g_strndup (name, strcspn (name, "."));
      gboolean all = TRUE;
      for (int s = 0; s < 5 && all; s++)
        {
          g_autofree char *p = jsrt_npy (dir, px_landmarks_jsrt_structures[s], id);
          all = g_file_test (p, G_FILE_TEST_IS_REGULAR);
        }
      if (all)
        g_ptr_array_add (ids, id);
      else
        g_free (id);
    }
  g_ptr_array_sort (ids, cmp_str);
  g_ptr_array_add (ids, NULL);
  return (GStrv) g_ptr_array_steal (ids, NULL);
}

PxLandmarkSet *
px_landmarks_load_jsrt (const char *dir, const char *id, GError **error)
{
  g_autoptr (PxLandmarkSet) set = px_landmark_set_new ();
  set->image_path = jsrt_image (dir, id);
  if (!png_size (set->image_path, &set->image_width, &set->image_height, error))
    return NULL;
  for (int s = 0; s < 5; s++)
    {
      g_autofree char *p = jsrt_npy (dir, px_landmarks_jsrt_structures[s], id);
      if (!g_file_test (p, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_MISSING,
                       "%s: no such landmark file", p);
          return NULL;
        }
      if (!px_landmarks_add_npy (set, p, px_landmarks_jsrt_structures[s], 1024, 1024, error))
        return NULL;
    }
  return g_steal_pointer (&set);
}

// The column of geometry.csv's header row named name, or −1.
static int
csv_column (const CsvRow *head, const char *name)
{
  for (int i = 0; i < head->n; i++)
    if (!strcmp (head->f[i], name))
      return i;
  return -1;
}

PxLandmarkSet *
px_landmarks_load_nlm (const char *dir, const char *data_dir, const char *id,
                       GError **error)
{
  g_autofree char *geo = g_build_filename (dir, "geometry.csv", NULL);
  g_autoptr (GPtrArray) rows = read_csv (geo, error);
  if (!rows)
    return NULL;
  int c_id = -1, c_img = -1, c_w = -1, c_h = -1;
  if (rows->len)
    {
      const CsvRow *head = rows->pdata[0];
      c_id = csv_column (head, "id"), c_img = csv_column (head, "image");
      c_w = csv_column (head, "image_w"), c_h = csv_column (head, "image_h");
    }
  if (c_id < 0 || c_img < 0 || c_w < 0 || c_h < 0)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE,
                   "%s: header lacks id, image, image_w or image_h", geo);
      return NULL;
    }
  int cmax = MAX (MAX (c_id, c_img), MAX (c_w, c_h));
  g_autoptr (PxLandmarkSet) set = px_landmark_set_new ();
  for (guint i = 1; i < rows->len && !set->image_path; i++)
    {
      const CsvRow *r = rows->pdata[i];
      if (r->n <= cmax || strcmp (r->f[c_id], id) != 0)
        continue;
      double w, h;
      if (!parse_double (r->f[c_w], &w) || !parse_double (r->f[c_h], &h) || w < 1 || h < 1)
        {
          g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE,
                       "%s:%d: bad image size", geo, r->line);
          return NULL;
        }
      set->image_path = g_build_filename (data_dir, r->f[c_img], NULL);
      set->image_width = (int) w;
      set->image_height = (int) h;
    }
  if (!set->image_path)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_MISSING,
                   "%s: no row for %s", geo, id);
      return NULL;
    }
  static const char *const nlm[2] = { "RL", "LL" };
  for (int s = 0; s < 2; s++)
    {
      g_autofree char *name = g_strdup_printf ("%s.csv", id);
      g_autofree char *p = g_build_filename (dir, "image_frame_csv", nlm[s], name, NULL);
      if (!px_landmarks_add_csv (set, p, nlm[s], error))
        return NULL;
    }
  return g_steal_pointer (&set);
}

GStrv
px_landmarks_nlm_list (const char *dir, GError **error)
{
  g_autofree char *geo = g_build_filename (dir, "geometry.csv", NULL);
  g_autoptr (GPtrArray) rows = read_csv (geo, error);
  if (!rows)
    return NULL;
  const int c_id = rows->len ? csv_column (rows->pdata[0], "id") : -1;
  if (c_id < 0)
    {
      g_set_error (error, PX_LANDMARKS_ERROR, PX_LANDMARKS_ERROR_PARSE,
                   "%s: header lacks id", geo);
      return NULL;
    }
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 1; i < rows->len; i++)
    {
      const CsvRow *r = rows->pdata[i];
      if (r->n > c_id && r->f[c_id][0])
        g_ptr_array_add (ids, g_strdup (r->f[c_id]));
    }
  g_ptr_array_sort (ids, cmp_str);
  g_ptr_array_set_free_func (ids, NULL);
  g_ptr_array_add (ids, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
}
