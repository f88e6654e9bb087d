// SPDX-License-Identifier: GPL-3.0-or-later
//
// take-screenshot: opens the bundled sample radiographs in a PEAC Explorer window of a
// fixed size, waits until everything is loaded and drawn, and saves the window as a
// PNG. It produces data/screenshots/main-window.png for the README. Given files after
// the output name, it opens those instead; --tags shows the header panel and --privacy
// turns privacy mode on, for checking those views by eye.
#include "config.h"

#include "px-application.h"
#include "px-test-util.h"
#include "px-window.h"

static gboolean
is_ready (gpointer data)
{
  PxWindow *window = data;

  return !px_window_get_loading (window) && px_test_window_has_model (window) &&
         gtk_widget_get_mapped (GTK_WIDGET (px_window_get_viewer (window))) &&
         px_window_get_study (window) != NULL;
}

int
main (int   argc,
      char *argv[])
{
  static const char * const samples[] = {
    "hannover-4d98e1de.png", "hannover-80b5f00f.png", "hannover-7afaaccc.png",
    "hannover-ec083e35.png", "nih-00000001_000.png", "nih-00027426_000.png",
  };
  g_autoptr(PxApplication) app = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GdkTexture) texture = NULL;
  gboolean show_tags = FALSE;
  gboolean privacy = FALSE;
  GOptionEntry entries[] = {
    { "tags", 0, 0, G_OPTION_ARG_NONE, &show_tags, "Show the DICOM header panel", NULL },
    { "privacy", 0, 0, G_OPTION_ARG_NONE, &privacy, "Hide patient identifiers", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("OUTPUT.png [FILE…]");
  g_autoptr(GError) error = NULL;
  PxWindow *window;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 2)
    {
      g_printerr ("usage: %s [--tags] [--privacy] OUTPUT.png [FILE…]\n", argv[0]);
      return 2;
    }

  g_setenv ("GTK_A11Y", "none", FALSE);
  gtk_init ();
  app = px_application_new ("org.peac.Explorer.Screenshot", G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (app), NULL, NULL))
    return 1;

  for (int i = 2; i < argc; i++)
    g_ptr_array_add (files, g_file_new_for_commandline_arg (argv[i]));
  for (guint i = 0; argc == 2 && i < G_N_ELEMENTS (samples); i++)
    g_ptr_array_add (files, g_file_new_build_filename (PEAC_SOURCE_DIR, "data", "samples", samples[i], NULL));
  g_settings_set_boolean (px_application_get_settings (app), "show-tags", show_tags);
  g_settings_set_boolean (px_application_get_settings (app), "privacy-mode", privacy);

  window = px_window_new (GTK_APPLICATION (app));
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  px_window_open_files (window, (GFile **) files->pdata, files->len);

  if (!px_test_wait_for (is_ready, window, 60))
    {
      g_printerr ("the samples did not load\n");
      return 1;
    }
  px_test_settle ();

  texture = px_test_render_widget (GTK_WIDGET (window));
  if (!gdk_texture_save_to_png (texture, argv[1]))
    {
      g_printerr ("could not write %s\n", argv[1]);
      return 1;
    }
  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
