// SPDX-License-Identifier: GPL-3.0-or-later
//
// The best-buddy pairs in the correspondence page's points export (issue 23), on the two
// NIH radiographs of ../shared/data with the micro model. The oracle is computed here from
// the engine's token grids alone (px_model_embed_dense, as the page embeds): every token
// normalised, cosine similarity of every source cell with every target cell in double
// precision, and a pair is a best buddy when each cell is the other's argmax. Every pair
// the CSV and the JSON list must be such a pair with that similarity, at its cells' centres,
// numbered B1… in the order the drawing labels them, and the drawing's marker of the
// colour of Bk must lie at Bk's exported source and target position. A hand-built scene
// checks the columns and the mm positions.
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "px-application.h"
#include "px-correspondence-page.h"
#include "px-embedder.h"
#include "px-export.h"
#include "px-match-scene.h"
#include "px-test-util.h"
#include "px-window.h"

static PxApplication *app;
static char *tmp_dir;

// Two buddies on a 1000 × 800 source and a 500 × 400 target, both 10 × 8 grids (cells of
// 100 and 50 px), the target at 0.5 mm per pixel: B1 joins source cell 12 (row 1, col 2)
// to target cell 23 (row 2, col 3); B2 cell 0 to cell 79.
static void
test_buddy_columns (void)
{
  g_autofree char *dir = g_dir_make_tmp ("px-buddies-XXXXXX", NULL);
  g_autofree char *csv = g_build_filename (dir, "points.csv", NULL);
  g_autofree char *json = g_build_filename (dir, "points.json", NULL);
  const char *const names[2] = { "src", "tgt" };
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL, *jtext = NULL;
  PxMatchScene scene;
  // Centres: source (2.5·100, 1.5·100) = (250, 150) → 249.50, 149.50; target (3.5·50,
  // 2.5·50) = (175, 125) → 174.50, 124.50 and 87.5, 62.5 mm; B2 (50, 50) and cell 79 (row 7,
  // col 9): (475, 375), 237.5, 187.5 mm.
  const char *expected =
    "pin,image,role,x,y,found,confidence,grade,spread_px,spread_mm,corrected,x_mm,y_mm,similarity\n"
    "\"B1\",\"src\",buddy-source,249.50,149.50,1,0.8125,buddy,,,0,,,0.8125\n"
    "\"B1\",\"tgt\",buddy-target,174.50,124.50,1,0.8125,buddy,,,0,87.50,62.50,0.8125\n"
    "\"B2\",\"src\",buddy-source,49.50,49.50,1,0.5000,buddy,,,0,,,0.5000\n"
    "\"B2\",\"tgt\",buddy-target,474.50,374.50,1,0.5000,buddy,,,0,237.50,187.50,0.5000\n";

  memset (&scene, 0, sizeof scene);
  scene.n_panels = 2;
  scene.panels[0].width = 1000, scene.panels[0].height = 800;
  scene.panels[1].width = 500, scene.panels[1].height = 400;
  scene.panels[1].mm = 0.5;
  for (int p = 0; p < 2; p++)
    scene.panels[p].gw = 10, scene.panels[p].gh = 8;
  scene.pins = g_array_new (FALSE, TRUE, sizeof (PxMatchPin));
  scene.n_buddies = 2;
  scene.buddies[0] = (PeacBuddy) { .src = 12, .tgt = 23, .sim = 0.8125f };
  scene.buddies[1] = (PeacBuddy) { .src = 0, .tgt = 79, .sim = 0.5f };

  g_assert_true (px_export_match_points (&scene, names, csv, "csv", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, expected);

  g_assert_true (px_export_match_points (&scene, names, json, "json", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (json, &jtext, NULL, NULL));
  g_assert_nonnull (strstr (jtext, "\"pins\": [\n  ],\n  \"buddies\": ["));
  g_assert_nonnull (strstr (jtext, "{ \"label\": \"B1\", \"similarity\": 0.8125, "
                                   "\"source\": { \"image\": \"src\", \"x\": 249.50, \"y\": 149.50, \"x_mm\": null, \"y_mm\": null }, "
                                   "\"target\": { \"image\": \"tgt\", \"x\": 174.50, \"y\": 124.50, \"x_mm\": 87.50, \"y_mm\": 62.50 } }"));
  g_array_unref (scene.pins);
  g_unlink (csv);
  g_unlink (json);
  g_rmdir (dir);
}

// Unit-length copies of a grid's tokens, in double precision.
static double *
normalised (const PxEmbedding *e)
{
  int n = e->gh * e->gw;
  double *out = g_new (double, (gsize) n * e->dim);

  for (int i = 0; i < n; i++)
    {
      double s = 0;

      for (int k = 0; k < e->dim; k++)
        s += (double) e->tokens[(gsize) i * e->dim + k] * e->tokens[(gsize) i * e->dim + k];
      s = sqrt (s);
      for (int k = 0; k < e->dim; k++)
        out[(gsize) i * e->dim + k] = e->tokens[(gsize) i * e->dim + k] / s;
    }
  return out;
}

typedef struct {
  char  *label;
  double sx, sy, tx, ty;   // exported, pixel-centre convention
  double sim;
} Row;

// The cell a pixel-centre coordinate lies in (exported positions are cell centres).
static int
cell_of (double x,
         double y,
         const PxEmbedding *e)
{
  int c = (int) floor ((x + 0.5) * e->gw / e->width);
  int r = (int) floor ((y + 0.5) * e->gh / e->height);

  // A centre, to the export's two decimals.
  g_assert_cmpfloat (fabs ((c + 0.5) * e->width / e->gw - 0.5 - x), <=, 0.006);
  g_assert_cmpfloat (fabs ((r + 0.5) * e->height / e->gh - 0.5 - y), <=, 0.006);
  return r * e->gw + c;
}

static GArray *
read_csv_pairs (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (Row));

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpstr (lines[0], ==, "pin,image,role,x,y,found,confidence,grade,spread_px,spread_mm,corrected,"
                                 "x_mm,y_mm,similarity");
  for (guint i = 1; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], ",", -1);

      g_assert_cmpuint (g_strv_length (f), ==, 14);
      if (g_str_equal (f[2], "buddy-source"))
        {
          Row row = { 0 };

          row.label = g_strndup (f[0] + 1, strlen (f[0]) - 2);   // unquoted
          row.sx = g_ascii_strtod (f[3], NULL);
          row.sy = g_ascii_strtod (f[4], NULL);
          row.sim = g_ascii_strtod (f[13], NULL);
          g_assert_cmpstr (f[7], ==, "buddy");
          g_assert_cmpstr (f[6], ==, f[13]);
          g_array_append_val (rows, row);
        }
      else if (g_str_equal (f[2], "buddy-target"))
        {
          Row *row = &g_array_index (rows, Row, rows->len - 1);
          g_autofree char *label = g_strndup (f[0] + 1, strlen (f[0]) - 2);

          g_assert_cmpstr (label, ==, row->label);   // the pair's two rows follow each other
          row->tx = g_ascii_strtod (f[3], NULL);
          row->ty = g_ascii_strtod (f[4], NULL);
        }
    }
  return rows;
}

// Bk's square marker (8 px across) is drawn in palette colour k - 1 centred on its point:
// some pixel within 3 px of the point has that colour exactly (later pairs' lines and
// labels may cross part of it).
static void
assert_marker (const guint8 *bgra,
               int           stride,
               double        vx,
               double        vy,
               int           index)
{
  double r, g, b;
  int R, G, B;

  px_match_palette (index, &r, &g, &b);
  R = (int) lround (r * 255), G = (int) lround (g * 255), B = (int) lround (b * 255);
  for (int dy = -3; dy <= 3; dy++)
    for (int dx = -3; dx <= 3; dx++)
      {
        const guint8 *p = bgra + (gsize) (lround (vy) + dy) * stride + (gsize) (lround (vx) + dx) * 4;

        if (abs (p[2] - R) <= 2 && abs (p[1] - G) <= 2 && abs (p[0] - B) <= 2)
          return;
      }
  g_error ("no marker of B%d's colour (%d, %d, %d) at (%.0f, %.0f)", index + 1, R, G, B, vx, vy);
}

static void
test_buddies_are_mutual_nearest (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("PEAC_SHARED_DIR"), "data", "cxr", "nih-chestxray14", NULL);
  g_autofree char *csv = g_build_filename (tmp_dir, "pairs.csv", NULL);
  g_autofree char *json = g_build_filename (tmp_dir, "pairs.json", NULL);
  g_autofree char *png = g_build_filename (tmp_dir, "view.png", NULL);
  const double W = 1200, H = 600;
  g_autoptr(GFile) a = g_file_new_build_filename (dir, "00000001_000.png", NULL);
  g_autoptr(GFile) b = g_file_new_build_filename (dir, "00027426_000.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PxEmbedding) es = NULL, et = NULL;
  g_autoptr(GArray) rows = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree double *ns = NULL, *nt = NULL, *S = NULL;
  g_autofree int *fwd = NULL, *bwd = NULL;
  g_autofree guint8 *bgra = NULL;
  PeacBuddy drawn[PX_MATCH_MAX_BUDDIES];
  GFile *files[2] = { a, b };
  PxWindow *window = px_test_fresh_window (app, 1200, 700);
  PxCorrespondencePage *page = px_window_get_correspondence_page (window);
  PxModel *model = px_embedder_get_model (px_window_get_embedder (window));
  json_t *root, *list;
  json_error_t jerr;
  int Ns, Nt, n_drawn, n_mutual = 0;

  g_assert_true (g_file_query_exists (a, NULL));   // a missing fixture fails
  g_assert_true (g_file_query_exists (b, NULL));
  px_window_show_page (window, "correspondence");
  g_application_open (G_APPLICATION (app), files, 2, "");
  g_assert_true (px_test_wait_for (px_test_window_is_idle, window, 60));
  g_assert_true (px_test_wait_for (px_test_correspondence_ready, page, 120));
  px_test_settle ();

  // Hidden: none exported. Shown: as many as drawn.
  g_assert_true (px_correspondence_page_export_points (page, csv, "csv", &error));
  g_assert_no_error (error);
  rows = read_csv_pairs (csv);
  g_assert_cmpuint (rows->len, ==, 0);
  g_clear_pointer (&rows, g_array_unref);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.buddies", NULL);
  px_test_settle ();
  n_drawn = px_correspondence_page_get_buddies (page, drawn, G_N_ELEMENTS (drawn));
  g_assert_cmpint (n_drawn, ==, 12);   // the page's default count
  g_assert_true (px_correspondence_page_export_points (page, csv, "csv", &error));
  g_assert_no_error (error);
  g_assert_true (px_correspondence_page_export_points (page, json, "json", &error));
  g_assert_no_error (error);
  rows = read_csv_pairs (csv);
  g_assert_cmpuint (rows->len, ==, (guint) n_drawn);

  // The oracle: cosine similarities and mutual argmax over the engine's token grids.
  es = px_model_embed_dense (model, px_study_get_image (px_correspondence_page_get_panel_study (page, 0)), &error);
  g_assert_no_error (error);
  et = px_model_embed_dense (model, px_study_get_image (px_correspondence_page_get_panel_study (page, 1)), &error);
  g_assert_no_error (error);
  g_assert_cmpint (es->dim, ==, et->dim);
  Ns = es->gh * es->gw;
  Nt = et->gh * et->gw;
  ns = normalised (es);
  nt = normalised (et);
  S = g_new (double, (gsize) Ns * Nt);
  fwd = g_new (int, Ns);
  bwd = g_new (int, Nt);
  for (int j = 0; j < Nt; j++)
    bwd[j] = 0;
  for (int i = 0; i < Ns; i++)
    {
      fwd[i] = 0;
      for (int j = 0; j < Nt; j++)
        {
          double s = 0;

          for (int k = 0; k < es->dim; k++)
            s += ns[(gsize) i * es->dim + k] * nt[(gsize) j * es->dim + k];
          S[(gsize) i * Nt + j] = s;
          if (s > S[(gsize) i * Nt + fwd[i]])
            fwd[i] = j;
        }
    }
  for (int j = 0; j < Nt; j++)
    for (int i = 0; i < Ns; i++)
      if (S[(gsize) i * Nt + j] > S[(gsize) bwd[j] * Nt + j])
        bwd[j] = i;
  for (int i = 0; i < Ns; i++)
    n_mutual += bwd[fwd[i]] == i;
  g_test_message ("%d × %d cells, %d mutual nearest pairs, %d drawn", Ns, Nt, n_mutual, n_drawn);
  g_assert_cmpint (n_mutual, >=, n_drawn);

  // Each exported pair: B1… in order, a mutual nearest pair, its similarity, and the pair
  // the drawing labels so.
  for (guint k = 0; k < rows->len; k++)
    {
      const Row *row = &g_array_index (rows, Row, k);
      g_autofree char *label = g_strdup_printf ("B%u", k + 1);
      int s = cell_of (row->sx, row->sy, es), t = cell_of (row->tx, row->ty, et);

      g_assert_cmpstr (row->label, ==, label);
      g_assert_cmpint (fwd[s], ==, t);
      g_assert_cmpint (bwd[t], ==, s);
      g_assert_cmpfloat (fabs (row->sim - S[(gsize) s * Nt + t]), <=, 1e-4);
      g_assert_cmpint (drawn[k].src, ==, s);
      g_assert_cmpint (drawn[k].tgt, ==, t);
    }

  // The JSON lists the same pairs.
  root = json_load_file (json, 0, &jerr);
  g_assert_nonnull (root);
  g_assert_cmpint (json_integer_value (json_object_get (root, "version")), ==, 2);
  list = json_object_get (root, "buddies");
  g_assert_cmpuint (json_array_size (list), ==, rows->len);
  for (guint k = 0; k < rows->len; k++)
    {
      const Row *row = &g_array_index (rows, Row, k);
      json_t *e = json_array_get (list, k);
      json_t *src = json_object_get (e, "source"), *tgt = json_object_get (e, "target");

      g_assert_cmpstr (json_string_value (json_object_get (e, "label")), ==, row->label);
      g_assert_cmpfloat (fabs (json_number_value (json_object_get (e, "similarity")) - row->sim), <, 1e-9);
      g_assert_cmpfloat (fabs (json_number_value (json_object_get (src, "x")) - row->sx), <, 1e-9);
      g_assert_cmpfloat (fabs (json_number_value (json_object_get (src, "y")) - row->sy), <, 1e-9);
      g_assert_cmpfloat (fabs (json_number_value (json_object_get (tgt, "x")) - row->tx), <, 1e-9);
      g_assert_cmpfloat (fabs (json_number_value (json_object_get (tgt, "y")) - row->ty), <, 1e-9);
      g_assert_true (json_is_null (json_object_get (tgt, "x_mm")));   // PNGs: no spacing
    }
  json_decref (root);

  // The drawing: Bk's markers, in Bk's colour, at Bk's exported positions.
  g_assert_true (px_correspondence_page_export_view (page, png, "png", W, H, &error));
  g_assert_no_error (error);
  texture = gdk_texture_new_from_filename (png, &error);
  g_assert_no_error (error);
  bgra = g_malloc ((gsize) W * H * 4);
  gdk_texture_download (texture, bgra, (gsize) W * 4);
  for (guint k = 0; k < rows->len; k++)
    {
      const Row *row = &g_array_index (rows, Row, k);
      double vx, vy;

      px_correspondence_page_view_point (page, W, H, 0, row->sx + 0.5, row->sy + 0.5, &vx, &vy);
      assert_marker (bgra, (int) W * 4, vx, vy, (int) k);
      px_correspondence_page_view_point (page, W, H, 1, row->tx + 0.5, row->ty + 0.5, &vx, &vy);
      assert_marker (bgra, (int) W * 4, vx, vy, (int) k);
    }
  for (guint k = 0; k < rows->len; k++)
    g_free (g_array_index (rows, Row, k).label);
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  app = px_test_app_setup (&argc, &argv, "buddy-export", &tmp_dir);

  g_test_add_func ("/buddy-export/columns", test_buddy_columns);
  g_test_add_func ("/buddy-export/mutual-nearest", test_buddies_are_mutual_nearest);
  ret = g_test_run ();
  px_test_app_teardown (app, tmp_dir);
  return ret;
}
