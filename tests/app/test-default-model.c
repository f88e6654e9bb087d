// SPDX-License-Identifier: GPL-3.0-or-later
//
// The default model of the Preferences window (issue 23): a new window starts with the
// model the "default-model" key names, checked against the checkpoint's own header read
// here with jansson (the safetensors layout: an 8-byte little-endian length, then JSON
// whose "__metadata__" holds peac.arch and peac.config), not through the engine; a default
// that is missing or not a model gives a toast naming the file and the reason and the
// bundled model of the source tree; the Preferences row shows the choice and goes back to
// the bundled model; Open Model's "Use as Default" sets the key. The model loads in a
// worker: a window is up before its model is, and one closed meanwhile goes away cleanly.
// $PEAC_MODEL, which the test environment sets to "none", is unset here so that the key is
// heard, and set again to show that it wins.
#include "config.h"

#include <adwaita.h>
#include <errno.h>
#include <fcntl.h>
#include <gtk/gtk.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"
#include "px-application.h"
#include "px-embedder.h"
#include "px-model.h"
#include "px-test-util.h"
#include "px-window.h"

static PxApplication *app;
static char *tmp_dir;

typedef struct {
  char *arch;
  int   img_size, patch_size, embed_dim;
} Header;

// The checkpoint's header, read byte by byte as the safetensors format defines it.
static Header
read_header (const char *path)
{
  g_autofree char *bytes = NULL;
  json_t *root, *meta, *config;
  json_error_t jerr;
  gsize length;
  guint64 n = 0;
  Header h = { 0 };

  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  g_assert_cmpuint (length, >, 8);
  for (int i = 7; i >= 0; i--)
    n = n << 8 | (guint8) bytes[i];
  g_assert_cmpuint (n + 8, <=, length);
  root = json_loadb (bytes + 8, n, 0, &jerr);
  g_assert_nonnull (root);
  meta = json_object_get (root, "__metadata__");
  g_assert_true (json_is_object (meta));
  h.arch = g_strdup (json_string_value (json_object_get (meta, "peac.arch")));
  config = json_loads (json_string_value (json_object_get (meta, "peac.config")), 0, &jerr);
  g_assert_nonnull (config);
  h.img_size = (int) json_integer_value (json_object_get (config, "img_size"));
  h.patch_size = (int) json_integer_value (json_object_get (config, "patch_size"));
  h.embed_dim = (int) json_integer_value (json_object_get (config, "embed_dim"));
  json_decref (config);
  json_decref (root);
  return h;
}

// A micro ViT (32-px patches, 48-dimensional tokens, one block) saved by the engine.
static char *
save_micro_model (const char *name)
{
  char *path = g_build_filename (tmp_dir, name, NULL);
  char err[256];
  PeacModel *m = peac_model_new (PEAC_ARCH_VIT, "timm",
                                 "{\"img_size\": 224, \"patch_size\": 32, \"embed_dim\": 48, "
                                 "\"depth\": 1, \"num_heads\": 2}", 4, err, sizeof err);

  g_assert_nonnull (m);
  g_assert_cmpint (peac_model_save (m, path, err, sizeof err), ==, 0);
  peac_model_free (m);
  return path;
}

static PxModel *
window_model (PxWindow *window)
{
  return px_embedder_get_model (px_window_get_embedder (window));
}

static void
test_starts_with_default (void)
{
  g_autofree char *path = save_micro_model ("micro-default.safetensors");
  Header h = read_header (path);
  GSettings *settings = px_application_get_settings (app);
  PxWindow *window;
  PxModel *model;
  int gh, gw, dim;

  g_assert_cmpstr (h.arch, ==, "vit");
  g_settings_set_string (settings, "default-model", path);
  window = px_test_fresh_window (app, 1024, 700);
  model = window_model (window);
  g_assert_cmpstr (px_model_get_path (model), ==, path);
  g_assert_cmpstr (px_model_get_name (model), ==, "micro-default.safetensors");
  g_assert_true (px_model_get_trained (model));
  g_assert_cmpint (px_model_get_input_size (model), ==, h.img_size);
  px_model_get_grid (model, &gh, &gw, &dim);
  g_assert_cmpint (gh, ==, h.img_size / h.patch_size);
  g_assert_cmpint (gw, ==, h.img_size / h.patch_size);
  g_assert_cmpint (dim, ==, h.embed_dim);
  g_assert_false (px_test_labels_contain (GTK_WIDGET (window), "could not be opened"));

  // $PEAC_MODEL wins over the key: "none" gives the untrained micro model.
  g_setenv ("PEAC_MODEL", "none", TRUE);
  window = px_test_fresh_window (app, 1024, 700);
  g_assert_false (px_model_get_trained (window_model (window)));
  g_assert_null (px_model_get_path (window_model (window)));
  g_unsetenv ("PEAC_MODEL");

  g_settings_reset (settings, "default-model");
  g_free (h.arch);
}

static void
check_fallback (const char *bad,
                const char *reason)
{
  g_autofree char *bundled = g_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "models",
                                               "peac-vit-tiny.safetensors", NULL);
  g_autofree char *basename = g_path_get_basename (bad);
  PxWindow *window;

  g_assert_true (g_file_test (bundled, G_FILE_TEST_IS_REGULAR));   // a missing fixture fails
  g_settings_set_string (px_application_get_settings (app), "default-model", bad);
  window = px_test_fresh_window (app, 1024, 700);
  g_assert_cmpstr (px_model_get_path (window_model (window)), ==, bundled);
  g_assert_true (px_model_get_trained (window_model (window)));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "could not be opened"));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), basename));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), reason));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "Using “peac-vit-tiny.safetensors” instead."));
  // The key is left as the user set it: the next start says so again.
  g_assert_cmpstr (g_settings_get_string (px_application_get_settings (app), "default-model"), ==, bad);
}

static void
test_bad_default (void)
{
  g_autofree char *missing = g_build_filename (tmp_dir, "gone.safetensors", NULL);
  g_autofree char *junk = g_build_filename (tmp_dir, "junk.safetensors", NULL);
  const char *text = "not a checkpoint";
  g_autofree char *length = NULL;
  guint64 n = 0;

  check_fallback (missing, g_strerror (ENOENT));
  // Its first eight bytes, read as the header length, are far beyond any header.
  for (int i = 7; i >= 0; i--)
    n = n << 8 | (guint8) text[i];
  length = g_strdup_printf ("header length %" G_GUINT64_FORMAT, n);
  g_assert_true (g_file_set_contents (junk, text, -1, NULL));
  check_fallback (junk, length);
  g_settings_reset (px_application_get_settings (app), "default-model");
}

static gboolean
action_enabled (PxWindow   *window,
                const char *name)
{
  return g_action_group_get_action_enabled (G_ACTION_GROUP (window), name);
}

// The window opens at once and its default model arrives from a worker: right after
// construction, before the main context has run, there is none yet (the window says so and
// offers no action on it); iterating the main context brings the key's checkpoint.
static void
test_loads_in_background (void)
{
  g_autofree char *path = save_micro_model ("micro-async.safetensors");
  PxWindow *window;

  g_settings_set_string (px_application_get_settings (app), "default-model", path);
  g_application_activate (G_APPLICATION (app));
  window = PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (PX_IS_WINDOW (window));
  g_assert_null (window_model (window));
  g_assert_false (action_enabled (window, "use-model-as-default"));
  g_assert_false (action_enabled (window, "use-micro-model"));
  g_assert_true (action_enabled (window, "open-model"));

  g_assert_true (px_test_wait_for (px_test_window_has_model, window, 60));
  g_assert_cmpstr (px_model_get_path (window_model (window)), ==, path);
  g_assert_true (action_enabled (window, "use-model-as-default"));
  g_assert_true (action_enabled (window, "use-micro-model"));
  g_settings_reset (px_application_get_settings (app), "default-model");
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

// A window closed (or destroyed) while its default model is still loading goes away at
// once; the cancelled load ends without touching it and without a warning (all are fatal
// here), and the next window still gets its model. The key names a FIFO, so the worker is
// held in open() until the test writes to it, after the window is gone.
static void
test_close_while_loading (void)
{
  g_autofree char *bundled = g_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "data", "models",
                                               "peac-vit-tiny.safetensors", NULL);
  PxWindow *window;

  g_assert_true (g_file_test (bundled, G_FILE_TEST_IS_REGULAR));
  for (int by_close = 0; by_close < 2; by_close++)
    {
      g_autofree char *fifo = g_strdup_printf ("%s/held-%d.safetensors", tmp_dir, by_close);
      int fd;

      g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
      g_settings_set_string (px_application_get_settings (app), "default-model", fifo);
      g_application_activate (G_APPLICATION (app));
      window = PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
      g_assert_null (window_model (window));
      g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
      if (by_close)
        gtk_window_close (GTK_WINDOW (window));
      else
        gtk_window_destroy (GTK_WINDOW (window));
      g_assert_null (window);
      px_test_settle ();

      // Let the worker go on: it finds no model there and loads the bundled one for nobody.
      fd = open (fifo, O_WRONLY);
      g_assert_cmpint (fd, >=, 0);
      close (fd);
    }

  g_settings_set_string (px_application_get_settings (app), "default-model", bundled);
  window = px_test_fresh_window (app, 1024, 700);
  g_assert_cmpstr (px_model_get_path (window_model (window)), ==, bundled);
  g_assert_false (px_test_labels_contain (GTK_WIDGET (window), "could not be opened"));
  g_settings_reset (px_application_get_settings (app), "default-model");
}

// A #PxTestWidgetPredicate: the widget whose name (gtk_widget_set_name()) is @name.
static gboolean
is_named (GtkWidget     *widget,
          gconstpointer  name)
{
  return g_strcmp0 (gtk_widget_get_name (widget), name) == 0;
}

static gboolean
chooser_shown (gpointer data)
{
  return px_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG) != NULL;
}

static gboolean
model_path_is (gpointer data)
{
  const char *path = px_model_get_path (window_model (data));

  return g_strcmp0 (path, g_object_get_data (data, "want")) == 0;
}

// The row shows the key's file, its reset button goes back to the bundled model, its
// Choose button opens a file chooser; Open Model… then "Use as Default" sets the key.
static void
test_preferences_row (void)
{
  g_autofree char *path = save_micro_model ("micro-row.safetensors");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GSettings *settings = px_application_get_settings (app);
  GtkWidget *row, *reset, *choose;
  GtkWindow *prefs, *chooser;
  PxWindow *window;
  g_autofree char *key = NULL;

  window = px_test_fresh_window (app, 1024, 700);
  g_settings_set_string (settings, "default-model", path);
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  px_test_settle ();
  prefs = GTK_WINDOW (px_test_find_toplevel (ADW_TYPE_PREFERENCES_WINDOW));
  g_assert_nonnull (prefs);
  row = px_test_find_widget (GTK_WIDGET (prefs), is_named, "default-model");
  reset = px_test_find_widget (GTK_WIDGET (prefs), is_named, "default-model-reset");
  choose = px_test_find_widget (GTK_WIDGET (prefs), is_named, "default-model-choose");
  g_assert_true (ADW_IS_ACTION_ROW (row));
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, path);
  g_assert_true (gtk_widget_get_sensitive (reset));

  g_signal_emit_by_name (reset, "clicked");
  key = g_settings_get_string (settings, "default-model");
  g_assert_cmpstr (key, ==, "");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==,
                   "The bundled model (peac-vit-tiny.safetensors)");
  g_assert_false (gtk_widget_get_sensitive (reset));

  g_signal_emit_by_name (choose, "clicked");
  g_assert_true (px_test_wait_for (chooser_shown, NULL, 10));
  chooser = GTK_WINDOW (px_test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (chooser)));
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_CANCEL);
  px_test_settle ();
  g_assert_cmpstr (g_settings_get_string (settings, "default-model"), ==, "");
  gtk_window_destroy (prefs);
  px_test_settle ();

  // Open Model…, then the toast's "Use as Default".
  g_object_set_data_full (G_OBJECT (window), "want", g_strdup (path), g_free);
  px_window_open_model (window, file);
  g_assert_true (px_test_wait_for (model_path_is, window, 60));
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (window), "Use as"));
  g_action_group_activate_action (G_ACTION_GROUP (window), "use-model-as-default", NULL);
  g_free (key);
  key = g_settings_get_string (settings, "default-model");
  g_assert_cmpstr (key, ==, path);
  g_settings_reset (settings, "default-model");
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_unsetenv ("PEAC_MODEL");
  app = px_test_app_setup (&argc, &argv, "default-model", &tmp_dir);

  g_test_add_func ("/default-model/starts-with-default", test_starts_with_default);
  g_test_add_func ("/default-model/bad-default", test_bad_default);
  g_test_add_func ("/default-model/preferences-row", test_preferences_row);
  g_test_add_func ("/default-model/loads-in-background", test_loads_in_background);
  g_test_add_func ("/default-model/close-while-loading", test_close_while_loading);
  ret = g_test_run ();
  px_test_app_teardown (app, tmp_dir);
  return ret;
}
