// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-train-data: the data and the log of `peac train`. Folders are walked recursively in
// sorted order (so that a run sees its images in the same order everywhere, which keeps
// resumption bit-exact), taking PNG, JPEG and DICOM names and extension-less files (DICOM
// often has none); files given by name are always tried. Every image is squeezed to a
// grey square of the side the crops need. Nothing here is fatal: an unreadable folder or
// an undecodable file is reported on stderr as "skipped PATH: reason" and left out. The
// log is CSV, one row per step with every loss term at full precision (%.17g, so that two
// runs compare bit for bit), appended on resume after dropping rows past the checkpoint.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli-train.h"
#include "px-train-images.h"

#define MAX_DEPTH 64

static int
cmp_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

// Whether a file found in a folder is worth decoding.
static int
is_image_name (const char *n)
{
  const char *dot = strrchr (n, '.');
  if (n[0] == '.')
    return 0;
  if (!dot)
    return 1;
  const char *ext[] = { ".png", ".jpg", ".jpeg", ".dcm", ".dicom" };
  for (size_t i = 0; i < G_N_ELEMENTS (ext); i++)
    if (g_ascii_strcasecmp (dot, ext[i]) == 0)
      return 1;
  return 0;
}

static void
walk (const char *dir, int depth, GPtrArray *out)
{
  GError *error = NULL;
  GDir *d = g_dir_open (dir, 0, &error);
  if (!d)
    {
      fprintf (stderr, "skipped %s: %s\n", dir, error->message);
      g_error_free (error);
      return;
    }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *e;
  while ((e = g_dir_read_name (d)))
    if (e[0] != '.')
      g_ptr_array_add (names, g_strdup (e));
  g_dir_close (d);
  g_ptr_array_sort (names, cmp_names);
  for (guint i = 0; i < names->len; i++)
    {
      char *path = g_build_filename (dir, names->pdata[i], NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (depth < MAX_DEPTH)
            walk (path, depth + 1, out);
          else
            fprintf (stderr, "skipped %s: folders nested deeper than %d\n", path, MAX_DEPTH);
          g_free (path);
        }
      else if (is_image_name (names->pdata[i]))
        g_ptr_array_add (out, path);
      else
        g_free (path);
    }
  g_ptr_array_unref (names);
}

GPtrArray *
train_collect (GPtrArray *paths)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *p = paths->pdata[i];
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        walk (p, 0, out);
      else if (g_file_test (p, G_FILE_TEST_EXISTS))
        g_ptr_array_add (out, g_strdup (p));
      else
        fprintf (stderr, "skipped %s: %s\n", p, g_strerror (ENOENT));
    }
  return out;
}

// Every image squeezed to a grey square (px-train-images.h, the app's loader too).
static void
report_skipped (const char *path, const GError *error, gpointer user_data)
{
  (void) path, (void) user_data;
  fprintf (stderr, "skipped %s\n", error->message);
}

int
train_load (GPtrArray *files, int side, PeacGrey **out)
{
  int n;
  *out = px_train_images_load ((const char *const *) files->pdata, files->len, side, NULL,
                               report_skipped, NULL, &n);
  return n;
}

void
train_images_free (PeacGrey *g, int n)
{
  px_train_images_free (g, n);
}

// ---------------------------------------------------------------------------------------
// The CSV log

static const char header[] = "step,total,order,restore,global,local,lr,grad_norm,momentum,"
                             "epoch,val_total,val_order,val_restore,val_global,val_local,position";

static int
count_columns (const char *line)
{
  int n = 1;
  for (; *line && *line != '\n'; line++)
    n += *line == ',';
  return n;
}

int
train_log_open (TrainLog *l, const char *path, int resume, long step, char *err,
                size_t errlen)
{
  memset (l, 0, sizeof *l);
  l->columns = count_columns (header);
  char *text = NULL;
  GString *kept = NULL;
  if (resume && g_file_get_contents (path, &text, NULL, NULL) && text[0])
    {
      // Keep the header and the rows up to the checkpoint's step.
      char **lines = g_strsplit (text, "\n", -1);
      kept = g_string_new (NULL);
      l->columns = count_columns (lines[0]);
      g_string_append_printf (kept, "%s\n", lines[0]);
      for (int i = 1; lines[i]; i++)
        {
          char *end;
          long s = strtol (lines[i], &end, 10);
          if (end != lines[i] && *end == ',' && s <= step)
            g_string_append_printf (kept, "%s\n", lines[i]);
        }
      g_strfreev (lines);
    }
  g_free (text);
  l->f = fopen (path, "w");
  if (!l->f)
    {
      snprintf (err, errlen, "%s: %s", path, g_strerror (errno));
      if (kept)
        g_string_free (kept, TRUE);
      return -1;
    }
  if (kept)
    fputs (kept->str, l->f), g_string_free (kept, TRUE);
  else
    fprintf (l->f, "%s\n", header);
  fflush (l->f);
  return 0;
}

void
train_log_row (TrainLog *l, const PeacTrainProgress *p, double epoch, const PeacLossTerms *val)
{
  if (!l->f)
    return;
  char row[1024];
  int n = snprintf (row, sizeof row, "%ld,%.17g,%.17g,%.17g,%.17g,%.17g,%.9g,%.9g,%.9g,%.6f",
                    p->step, p->loss.total, p->loss.order, p->loss.restore, p->loss.global,
                    p->loss.local, p->lr, p->grad_norm, p->momentum, epoch);
  if (val)
    n += snprintf (row + n, sizeof row - (size_t) n, ",%.17g,%.17g,%.17g,%.17g,%.17g", val->total,
                   val->order, val->restore, val->global, val->local);
  else
    n += snprintf (row + n, sizeof row - (size_t) n, ",,,,,");
  // The position term last (0 without the head), so that older readers' columns stay put.
  snprintf (row + n, sizeof row - (size_t) n, ",%.17g", p->loss.position);
  // An older log (the training page's) has fewer columns: keep its shape.
  int c = 1;
  for (char *q = row; *q; q++)
    if (*q == ',' && ++c > l->columns)
      {
        *q = 0;
        break;
      }
  fprintf (l->f, "%s\n", row);
  fflush (l->f);
}

void
train_log_close (TrainLog *l)
{
  if (l->f)
    fclose (l->f);
  l->f = NULL;
}
