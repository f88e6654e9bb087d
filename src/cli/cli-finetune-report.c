// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-finetune-report: the outputs of `peac finetune` — ROC curves drawn with Cairo (one
// per class, with each class's AUC in the legend), roc.csv and scores.csv, the JSON
// results and the table of mean AUC ± std over seeds with the bootstrap interval.
#include <cairo.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auc.h"
#include "cli-finetune.h"

static void
mean_std (const double *v, int n, int stride, double *mean, double *std)
{
  double s = 0, s2 = 0;
  int c = 0;
  for (int i = 0; i < n; i++)
    if (!isnan (v[(size_t) i * stride]))
      s += v[(size_t) i * stride], c++;
  *mean = c ? s / c : NAN;
  for (int i = 0; i < n; i++)
    if (!isnan (v[(size_t) i * stride]))
      s2 += (v[(size_t) i * stride] - *mean) * (v[(size_t) i * stride] - *mean);
  // Sample standard deviation (n − 1), as tables of repeated runs report; one run has
  // no spread (NaN: null in JSON, n/a in the table), rather than a misleading 0.
  *std = c > 1 ? sqrt (s2 / (c - 1)) : NAN;
}

static const double palette[][3] = {
  { 0.12, 0.47, 0.71 }, { 1.00, 0.50, 0.05 }, { 0.17, 0.63, 0.17 }, { 0.84, 0.15, 0.16 },
  { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 }, { 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
  { 0.74, 0.74, 0.13 }, { 0.09, 0.75, 0.81 },
};

// ROC curves of the first row (one per class), the chance diagonal, axes with ticks and a
// legend with each class's AUC.
int
ft_write_roc_png (const char *path, const Task *t, const Row *r, char *err, size_t errlen)
{
  const int W = 820, H = 600, L = 60, T = 30, P = 520;   // plot square P×P at (L, T)
  const int n = t->ev->lab.n, k = t->k;
  cairo_surface_t *surf = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (surf);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11);
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
  for (int i = 0; i <= 10; i++)
    {
      cairo_move_to (cr, L + P * i / 10.0, T);
      cairo_line_to (cr, L + P * i / 10.0, T + P);
      cairo_move_to (cr, L, T + P * i / 10.0);
      cairo_line_to (cr, L + P, T + P * i / 10.0);
    }
  cairo_stroke (cr);
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  cairo_rectangle (cr, L, T, P, P);
  cairo_stroke (cr);
  for (int i = 0; i <= 5; i++)
    {
      char lab[8];
      snprintf (lab, sizeof lab, "%.1f", i / 5.0);
      cairo_move_to (cr, L + P * i / 5.0 - 8, T + P + 16);
      cairo_show_text (cr, lab);
      cairo_move_to (cr, L - 28, T + P - P * i / 5.0 + 4);
      cairo_show_text (cr, lab);
    }
  cairo_move_to (cr, L + P / 2 - 60, T + P + 34);
  cairo_show_text (cr, "false positive rate");
  cairo_save (cr);
  cairo_move_to (cr, L - 40, T + P / 2 + 50);
  cairo_rotate (cr, -M_PI / 2);
  cairo_show_text (cr, "true positive rate");
  cairo_restore (cr);
  cairo_move_to (cr, L, T - 10);
  char title[256];
  snprintf (title, sizeof title, "%s on %s: mean AUC %.4f", r->name, t->ev->role, r->mean[0]);
  cairo_show_text (cr, title);
  const double dash[] = { 4, 4 };
  cairo_set_dash (cr, dash, 2, 0);
  cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
  cairo_move_to (cr, L, T + P);
  cairo_line_to (cr, L + P, T);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  float *fpr = g_new (float, n + 1), *tpr = g_new (float, n + 1);
  cairo_set_line_width (cr, 1.5);
  for (int c = 0; c < k; c++)
    {
      const double *col = palette[c % 10];
      int m = peac_roc_curve (r->scores + c, k, t->ev->lab.y + c, k, n, fpr, tpr, NULL);
      cairo_set_source_rgb (cr, col[0], col[1], col[2]);
      if (c >= 10)
        cairo_set_dash (cr, dash, 2, 0);
      for (int i = 0; i < m; i++)
        (i ? cairo_line_to : cairo_move_to) (cr, L + P * fpr[i], T + P - P * tpr[i]);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      cairo_rectangle (cr, L + P + 12, T + 6 + 16 * c, 10, 10);
      cairo_fill (cr);
      char lab[128];
      double auc = r->cls[c];
      snprintf (lab, sizeof lab, isnan (auc) ? "%.18s (n/a)" : "%.18s %.3f",
                t->tr.lab.names[c], auc);
      cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
      cairo_move_to (cr, L + P + 26, T + 15 + 16 * c);
      cairo_show_text (cr, lab);
    }
  g_free (fpr), g_free (tpr);
  cairo_destroy (cr);
  cairo_status_t st = cairo_surface_write_to_png (surf, path);
  cairo_surface_destroy (surf);
  if (st != CAIRO_STATUS_SUCCESS)
    return snprintf (err, errlen, "%s: %s", path, cairo_status_to_string (st)), -1;
  return 0;
}

// roc.csv: model,class,fpr,tpr,threshold for every row (seed 0); scores.csv: the first
// row's evaluation scores, one line per image.
int
ft_write_csvs (const char *dir, const Task *t, const Row *rows, int nrows)
{
  const int n = t->ev->lab.n, k = t->k;
  char *path = g_build_filename (dir, "roc.csv", NULL);
  FILE *f = fopen (path, "w");
  if (!f)
    {
      fprintf (stderr, "peac finetune: %s: %s\n", path, strerror (errno));
      g_free (path);
      return -1;
    }
  float *fpr = g_new (float, n + 1), *tpr = g_new (float, n + 1), *thr = g_new (float, n + 1);
  fprintf (f, "model,class,fpr,tpr,threshold\n");
  for (int r = 0; r < nrows; r++)
    for (int c = 0; c < k; c++)
      {
        int m = peac_roc_curve (rows[r].scores + c, k, t->ev->lab.y + c, k, n, fpr, tpr, thr);
        for (int i = 0; i < m; i++)
          fprintf (f, "\"%s\",%s,%.6g,%.6g,%.9g\n", rows[r].name, t->tr.lab.names[c], fpr[i],
                   tpr[i], thr[i]);
      }
  g_free (fpr), g_free (tpr), g_free (thr);
  int bad = ferror (f) | (fclose (f) != 0);
  if (bad)
    fprintf (stderr, "peac finetune: %s: write failed\n", path);
  g_free (path);
  if (bad)
    return -1;
  path = g_build_filename (dir, "scores.csv", NULL);
  f = fopen (path, "w");
  if (!f)
    {
      fprintf (stderr, "peac finetune: %s: %s\n", path, strerror (errno));
      g_free (path);
      return -1;
    }
  fprintf (f, "image");
  for (int c = 0; c < k; c++)
    fprintf (f, ",%s", t->tr.lab.names[c]);
  fprintf (f, "\n");
  for (int i = 0; i < n; i++)
    {
      fprintf (f, "\"%s\"", t->ev->lab.paths[i]);
      for (int c = 0; c < k; c++)
        fprintf (f, ",%.9g", rows[0].scores[(size_t) i * k + c]);
      fprintf (f, "\n");
    }
  bad = ferror (f) | (fclose (f) != 0);
  if (bad)
    fprintf (stderr, "peac finetune: %s: write failed\n", path);
  g_free (path);
  return bad ? -1 : 0;
}

static json_t *
num (double v)
{
  return isnan (v) ? json_null () : json_real (round (v * 1e6) / 1e6);
}

void
ft_print_json (const Task *t, const Row *rows, int nrows)
{
  const FtArgs *a = t->a;
  json_t *j = json_object (), *cls = json_array (), *jr = json_array ();
  for (int c = 0; c < t->k; c++)
    json_array_append_new (cls, json_string (t->tr.lab.names[c]));
  json_object_set_new (j, "mode", json_string (a->mode == MODE_FULL ? "full" : "linear"));
  json_object_set_new (j, "classes", cls);
  json_object_set_new (j, "eval_split", json_string (t->ev->role));
  json_object_set_new (j, "n_train", json_integer (t->tr.lab.n));
  int *idx = g_new (int, t->tr.lab.n);
  json_object_set_new (j, "n_train_used",
                       json_integer (peac_labels_subset (t->tr.lab.n, a->fraction, 0, idx)));
  g_free (idx);
  json_object_set_new (j, "n_val", json_integer (t->va.lab.n));
  json_object_set_new (j, "n_eval", json_integer (t->ev->lab.n));
  json_object_set_new (j, "label_fraction", json_real (a->fraction));
  json_object_set_new (j, "seeds", json_integer (a->seeds));
  if (a->mode == MODE_LINEAR)
    json_object_set_new (j, "views", json_integer (a->views));
  for (int r = 0; r < nrows; r++)
    {
      const Row *w = &rows[r];
      json_t *o = json_object (), *per = json_array (), *pc = json_object (), *ep = json_array ();
      double m, s;
      mean_std (w->mean, a->seeds, 1, &m, &s);
      json_object_set_new (o, "model", json_string (w->name));
      json_object_set_new (o, "random_init", json_boolean (w->path == NULL));
      json_object_set_new (o, "mean_auc", num (m));
      json_object_set_new (o, "std_auc", num (s));
      for (int i = 0; i < a->seeds; i++)
        {
          json_array_append_new (per, num (w->mean[i]));
          json_array_append_new (ep, json_integer (w->epochs[i]));
        }
      json_object_set_new (o, "mean_auc_per_seed", per);
      json_object_set_new (o, "epochs_per_seed", ep);
      json_t *tl = json_array ();
      for (guint e = 0; w->loss0 && e < w->loss0->len; e++)
        json_array_append_new (tl, num (g_array_index (w->loss0, double, e)));
      json_object_set_new (o, "train_loss_seed0", tl);
      json_object_set_new (o, "ci95_seed0", json_pack ("[o, o]", num (w->ci_lo), num (w->ci_hi)));
      for (int c = 0; c < t->k; c++)
        {
          double cm, cs;
          mean_std (w->cls + c, a->seeds, t->k, &cm, &cs);
          json_object_set_new (pc, t->tr.lab.names[c], json_pack ("{s:o, s:o}", "auc", num (cm),
                                                                  "std", num (cs)));
        }
      json_object_set_new (o, "per_class", pc);
      if (a->mode == MODE_LINEAR)
        json_object_set_new (o, "embed_ms_per_image", num (w->embed_ms));
      json_object_set_new (o, "train_s_per_seed", num (w->train_s));
      json_array_append_new (jr, o);
    }
  json_object_set_new (j, "results", jr);
  char *s = json_dumps (j, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (10));
  puts (s);
  free (s);
  json_decref (j);
}

void
ft_print_table (const Task *t, const Row *rows, int nrows)
{
  const FtArgs *a = t->a;
  printf ("%s, %d classes, %d training rows (fraction %g), %d seed%s, evaluated on %s "
          "(%d images)\n\n", a->mode == MODE_FULL ? "Fine-tune" : "Linear probe", t->k,
          t->tr.lab.n, a->fraction, a->seeds, a->seeds == 1 ? "" : "s", t->ev->role,
          t->ev->lab.n);
  printf ("%-28s %-18s %-18s %s\n", "model", "mean AUC ± std", "95% CI (seed 0)",
          a->mode == MODE_LINEAR ? "embed ms/image" : "train s/seed");
  for (int r = 0; r < nrows; r++)
    {
      double m, s;
      mean_std (rows[r].mean, a->seeds, 1, &m, &s);
      char spread[16] = "n/a   ";
      if (!isnan (s))
        snprintf (spread, sizeof spread, "%.4f", s);
      printf ("%-28.28s %.4f ± %s    [%.4f, %.4f]   %.1f\n", rows[r].name, m, spread,
              rows[r].ci_lo, rows[r].ci_hi,
              a->mode == MODE_LINEAR ? rows[r].embed_ms : rows[r].train_s);
    }
  printf ("\n%-20s", "class AUC");
  for (int r = 0; r < nrows; r++)
    printf (" %14.14s", rows[r].name);
  printf ("\n");
  for (int c = 0; c < t->k; c++)
    {
      printf ("%-20.20s", t->tr.lab.names[c]);
      for (int r = 0; r < nrows; r++)
        {
          double m, s;
          mean_std (rows[r].cls + c, a->seeds, t->k, &m, &s);
          if (isnan (m))
            printf (" %14s", "n/a");   // one outcome only among the evaluation images
          else
            printf (" %14.4f", m);
        }
      printf ("\n");
    }
}

