// SPDX-License-Identifier: GPL-3.0-or-later
//
// take-page-screenshots: renders the analysis pages on the bundled sample radiographs
// (Hannover and NIH, which may be shown) for the README: the correspondence page with a
// live query, pins and the heat map, and the embedding map after a t-SNE run over the
// samples, and the grid-matching page. Usage: take-page-screenshots OUTPUT_FOLDER. Run under xvfb-run with the
// compiled schema (GSETTINGS_SCHEMA_DIR=BUILD/data GSETTINGS_BACKEND=memory).
#include "config.h"

#include "px-application.h"
#include "px-test-util.h"
#include "px-window.h"

static gboolean
save_window (PxWindow   *window,
             const char *folder,
             const char *name)
{
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = g_build_filename (folder, name, NULL);

  px_test_settle ();
  texture = px_test_render_widget (GTK_WIDGET (window));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_printerr ("could not write %s\n", path);
      return FALSE;
    }
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  static const char * const samples[] = {
    "hannover-4d98e1de.png", "hannover-80b5f00f.png", "hannover-7afaaccc.png",
    "nih-00000001_000.png", "hannover-ec083e35.png", "nih-00027426_000.png",
  };
  g_autoptr(PxApplication) app = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  PxCorrespondencePage *page;
  PxEmbeddingMapPage *map;
  PxWindow *window;
  // Pins on anatomy of the first sample, in its pixels: hila, costophrenic angles, apices,
  // carina, heart border.
  static const double pins[][2] = {
    { 250, 260 }, { 390, 250 }, { 150, 430 }, { 500, 430 }, { 200, 110 }, { 450, 110 },
    { 320, 200 }, { 380, 360 },
  };

  if (argc != 2)
    {
      g_printerr ("usage: %s OUTPUT_FOLDER\n", argv[0]);
      return 2;
    }

  g_setenv ("GTK_A11Y", "none", FALSE);
  gtk_init ();
  app = px_application_new ("org.peac.Explorer.PageScreenshots", G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (app), NULL, NULL))
    return 1;

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    g_ptr_array_add (files, g_file_new_build_filename (PEAC_SOURCE_DIR, "data", "samples", samples[i], NULL));

  window = px_window_new (GTK_APPLICATION (app));
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  px_window_open_files (window, (GFile **) files->pdata, files->len);
  if (!px_test_wait_for (px_test_window_is_idle, window, 60) || !px_test_wait_for (px_test_window_has_model, window, 60))
    return 1;

  page = px_window_get_correspondence_page (window);
  px_window_show_page (window, "correspondence");
  if (!px_test_wait_for (px_test_correspondence_ready, page, 60))
    return 1;
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.heatmap", NULL);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.opacity", "d", 0.45);
  for (guint i = 0; i < G_N_ELEMENTS (pins); i++)
    {
      gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-point", "(dd)", pins[i][0], pins[i][1]);
      gtk_widget_activate_action (GTK_WIDGET (page), "corr.pin", NULL);
    }
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.query-point", "(dd)", 180.0, 330.0);
  gtk_widget_activate_action (GTK_WIDGET (page), "corr.grid", NULL);
  if (!save_window (window, argv[1], "correspondence.png"))
    return 1;

  // The training crops of the first radiograph with the model's agreement on their cells.
  px_window_show_page (window, "grid-matching");
  gtk_widget_activate_action (GTK_WIDGET (px_window_get_grid_matching_page (window)), "grid.student", "s", "shuffled");
  if (!px_test_wait_for (px_test_grid_ready, px_window_get_grid_matching_page (window), 60) ||
      !save_window (window, argv[1], "grid-matching.png"))
    return 1;

  // The pins propagated over the six radiographs, mapped with t-SNE.
  map = px_window_get_embedding_map_page (window);
  px_window_show_page (window, "embedding-map");
  gtk_widget_activate_action (GTK_WIDGET (map), "map.run-pins", NULL);
  if (!px_test_wait_for (px_test_map_idle, map, 120) || px_embedding_map_page_get_n_points (map) == 0)
    return 1;
  px_embedding_map_page_select_rect (map, -1e9, -1e9, 1e9, 1e9);
  if (!save_window (window, argv[1], "embedding-map.png"))
    return 1;

  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
