// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-probe-page: the linear-probe page in the window. With the micro model in use and a
// label CSV of 15 shared NIH radiographs (two made-up findings, a split column), a run in
// the worker ends with one AUC per finding in [0, 1], their mean and its bootstrap
// interval, the rows on the page, and exports as PNG and CSV; a stop ends the run with
// "Stopped"; a label file naming a missing image fails with the file, line and image; a
// labelled folder (a subfolder per finding) runs the same way; and a Swin model (the
// swin-micro preset, saved and loaded as a user's checkpoint) runs the probe on tokens of its
// final-stage width (16 × 2 = 32, from the preset's definition).
#include <glib/gstdio.h>
#include <math.h>

#include "model.h"
#include "presets.h"
#include "px-application.h"
#include "px-probe-page.h"
#include "peac-test-cli.h"
#include "px-test-util.h"
#include "px-window.h"

// g_ptr_array_sort hands its function pointers to the elements, not the strings.
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

enum { N_TRAIN = 10, N_VAL = 5 };

static PxApplication *app;
static char *tmp_dir, *nih;

static PxWindow *
new_window (void)
{
  PxWindow *window;

  g_application_activate (G_APPLICATION (app));
  window = PX_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (PX_IS_WINDOW (window));
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 700);
  gtk_window_present (GTK_WINDOW (window));
  px_test_settle ();
  return window;
}

// image,split,a,b with the paths of every 9th NIH radiograph: absolute, or (@relative)
// only the file names, which are not beside the CSV.
static GFile *
write_labels_full (const char *name,
                   gboolean    missing,
                   gboolean    relative)
{
  g_autoptr(GDir) dir = g_dir_open (nih, 0, NULL);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) csv = g_string_new ("image,split,a,b\n");
  g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
  const char *entry;

  while ((entry = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (all, g_strdup (entry));
  g_ptr_array_sort (all, compare_names);
  g_assert_cmpuint (all->len, >=, 9 * (N_TRAIN + N_VAL));
  for (int i = 0; i < N_TRAIN + N_VAL; i++)
    {
      g_autofree char *img = relative ? g_strdup (g_ptr_array_index (all, 9 * i))
                                      : g_build_filename (nih, g_ptr_array_index (all, 9 * i), NULL);

      g_string_append_printf (csv, "%s,%s,%d,%d\n", missing && i == 1 ? "nope.png" : img,
                              i < N_TRAIN ? "train" : "val", i % 2, (i / 2) % 2);
    }
  g_assert_true (g_file_set_contents (path, csv->str, -1, NULL));
  return g_file_new_for_path (path);
}

static GFile *
write_labels (const char *name,
              gboolean    missing)
{
  return write_labels_full (name, missing, FALSE);
}

static PxProbePage *
probe_page (PxWindow *window)
{
  GtkWidget *page = px_test_find_child (GTK_WIDGET (window), PX_TYPE_PROBE_PAGE);
  g_autoptr(PxModel) model = px_model_new_micro ();

  g_assert_nonnull (page);
  px_embedder_set_model (px_window_get_embedder (window), model);
  px_window_show_page (window, "linear-probe");
  px_test_settle ();
  return PX_PROBE_PAGE (page);
}

static void
test_run_and_export (void)
{
  PxWindow *window;
  PxProbePage *page;
  g_autoptr(GFile) labels = NULL;
  PxTestStallProbe probe;
  double lo, hi, mean, sum = 0;
  g_autofree char *png = g_build_filename (tmp_dir, "roc.png", NULL);
  g_autofree char *csv = g_build_filename (tmp_dir, "auc.csv", NULL);
  g_autofree char *bytes = NULL, *text = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  window = new_window ();
  page = probe_page (window);
  labels = write_labels ("labels.csv", FALSE);
  // Nothing to export before a run.
  g_assert_false (px_probe_page_export (page, png, "png", &error));
  g_assert_nonnull (strstr (error->message, "no results to export yet"));
  g_clear_error (&error);

  // Before a run: a status page says what to do, in place of an empty list and plot.
  g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "No Probe Run Yet"));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "then press Run Linear Probe"));
  g_assert_true (gtk_widget_get_mapped (px_test_find_child (GTK_WIDGET (page), ADW_TYPE_STATUS_PAGE)));
  g_assert_false (gtk_widget_get_mapped (px_test_find_child (GTK_WIDGET (page), GTK_TYPE_LIST_BOX)));
  g_assert_false (gtk_widget_get_mapped (px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA)));

  px_probe_page_set_labels_file (page, labels);
  px_test_probe_start (&probe, G_PRIORITY_DEFAULT);
  g_assert_true (px_probe_page_run (page));
  g_assert_true (px_probe_page_get_running (page));
  g_assert_false (px_probe_page_run (page));   // one run at a time
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 120));
  g_test_message ("worst main-loop gap during the probe: %.1f ms", px_test_probe_stop (&probe));
  g_assert_cmpstr (px_probe_page_get_status (page), ==, "Done");
  // After it: the findings and the curves, and the hint is gone.
  px_test_settle ();
  g_assert_false (px_test_labels_contain (GTK_WIDGET (page), "No Probe Run Yet"));
  g_assert_false (gtk_widget_get_mapped (px_test_find_child (GTK_WIDGET (page), ADW_TYPE_STATUS_PAGE)));
  g_assert_true (gtk_widget_get_mapped (px_test_find_child (GTK_WIDGET (page), GTK_TYPE_LIST_BOX)));
  g_assert_true (gtk_widget_get_mapped (px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA)));

  g_assert_cmpint (px_probe_page_get_n_classes (page), ==, 2);
  for (int c = 0; c < 2; c++)
    {
      const char *name;
      double auc = px_probe_page_get_class_auc (page, c, &name);

      g_assert_cmpstr (name, ==, c == 0 ? "a" : "b");
      g_assert_cmpfloat (auc, >=, 0);
      g_assert_cmpfloat (auc, <=, 1);
      sum += auc;
    }
  mean = px_probe_page_get_mean_auc (page, &lo, &hi);
  g_assert_cmpfloat_with_epsilon (mean, sum / 2, 1e-12);
  // A percentile interval need not contain the estimate; it is ordered and in [0, 1].
  g_assert_cmpfloat (lo, >=, 0);
  g_assert_cmpfloat (lo, <=, hi);
  g_assert_cmpfloat (hi, <=, 1);
  px_test_settle ();
  {
    g_autofree char *shown = g_strdup_printf ("%.3f", px_probe_page_get_class_auc (page, 0, NULL));

    g_assert_true (px_test_labels_contain (GTK_WIDGET (page), shown));
    g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "5 validation radiographs; probe trained on 10"));
  }

  // PEAC_KEEP_TEST_OUTPUT keeps the page as drawn, for a human to look at.
  if (g_getenv ("PEAC_KEEP_TEST_OUTPUT") != NULL)
    {
      g_autoptr(GdkTexture) shot = px_test_render_widget (GTK_WIDGET (window));
      g_autofree char *where = g_build_filename (tmp_dir, "page.png", NULL);

      g_assert_true (gdk_texture_save_to_png (shot, where));
      g_test_message ("page drawn to %s", where);
    }
  g_assert_true (px_probe_page_export (page, png, "png", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (png, &bytes, &len, NULL));
  g_assert_cmpuint (len, >, 1000);
  g_assert_cmpint (memcmp (bytes, "\x89PNG", 4), ==, 0);
  g_assert_true (px_probe_page_export (page, csv, "csv", &error));
  g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
  {
    g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
    g_autofree char *row = g_strdup_printf ("\"a\",%.6f,,", px_probe_page_get_class_auc (page, 0, NULL));

    g_assert_cmpstr (lines[0], ==, "class,auc,fpr,tpr");
    g_assert_cmpstr (lines[1], ==, row);
    g_assert_true (g_str_has_prefix (lines[3], "\"a\",,0,0"));   // each curve starts at (0, 0)
  }

  // Stopped right after the start: the worker sees the flag before the next image.
  g_assert_true (px_probe_page_run (page));
  px_probe_page_cancel (page);
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 60));
  g_assert_cmpstr (px_probe_page_get_status (page), ==, "Stopped");
  // The earlier result stays.
  g_assert_cmpint (px_probe_page_get_n_classes (page), ==, 2);
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

// A label CSV whose images lie in another folder: refused with a pointer to the Images
// Folder option; with it, the run gives the AUCs of the same rows with absolute paths.
static void
test_images_folder (void)
{
  PxWindow *window;
  PxProbePage *page;
  g_autoptr(GFile) absolute = NULL;
  g_autoptr(GFile) relative = NULL;
  g_autoptr(GFile) images = NULL;
  double auc[2];

  window = new_window ();
  page = probe_page (window);
  absolute = write_labels_full ("absolute.csv", FALSE, FALSE);
  relative = write_labels_full ("relative.csv", FALSE, TRUE);
  images = g_file_new_for_path (nih);

  px_probe_page_set_labels_file (page, absolute);
  g_assert_true (px_probe_page_run (page));
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 120));
  g_assert_cmpstr (px_probe_page_get_status (page), ==, "Done");
  for (int c = 0; c < 2; c++)
    auc[c] = px_probe_page_get_class_auc (page, c, NULL);

  px_probe_page_set_labels_file (page, relative);
  g_assert_true (px_probe_page_run (page));
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 60));
  g_assert_nonnull (strstr (px_probe_page_get_status (page), "relative.csv:2: image"));
  g_assert_nonnull (strstr (px_probe_page_get_status (page), "Images Folder"));

  px_probe_page_set_images_folder (page, images);
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "Images in "));
  g_assert_true (px_probe_page_run (page));
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 120));
  g_assert_cmpstr (px_probe_page_get_status (page), ==, "Done");
  for (int c = 0; c < 2; c++)
    g_assert_cmpfloat (px_probe_page_get_class_auc (page, c, NULL), ==, auc[c]);
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

static guint8
corner_grey (GtkWidget *area)
{
  g_autoptr(GdkTexture) texture = px_test_render_widget (area);
  g_autofree guint8 *grey = px_test_texture_to_grey (texture);

  return grey[5 * gdk_texture_get_width (texture) + 5];
}

// In dark mode the ROC plot is drawn on a dark ground, not left white. The plot is shown
// once a run has results (before, the page's empty state stands in its place).
static void
test_dark_mode (void)
{
  PxWindow *window = new_window ();
  PxProbePage *page = probe_page (window);
  GtkWidget *area = px_test_find_child (GTK_WIDGET (page), GTK_TYPE_DRAWING_AREA);
  AdwStyleManager *style = adw_style_manager_get_default ();
  g_autoptr(GFile) labels = write_labels ("labels-dark.csv", FALSE);

  g_assert_nonnull (area);
  px_probe_page_set_labels_file (page, labels);
  g_assert_true (px_probe_page_run (page));
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 120));
  px_test_settle ();
  g_assert_true (gtk_widget_get_mapped (area));
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_DARK);
  px_test_settle ();
  g_assert_true (adw_style_manager_get_dark (style));
  g_assert_cmpuint (corner_grey (area), <, 80);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_FORCE_LIGHT);
  px_test_settle ();
  g_assert_cmpuint (corner_grey (area), >, 200);
  adw_style_manager_set_color_scheme (style, ADW_COLOR_SCHEME_DEFAULT);
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

static void
test_missing_image (void)
{
  PxWindow *window;
  PxProbePage *page;
  g_autoptr(GFile) labels = NULL;

  window = new_window ();
  page = probe_page (window);
  labels = write_labels ("bad.csv", TRUE);
  px_probe_page_set_labels_file (page, labels);
  g_assert_true (px_probe_page_run (page));
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 60));
  g_assert_nonnull (strstr (px_probe_page_get_status (page), "bad.csv:3: image “nope.png” not found"));
  g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "bad.csv:3"));
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

// A labelled folder: effusion/ and normal/ with 6 NIH radiographs each (copies), and a
// text file that is not a radiograph. Every fifth image is held out: 10 train, 2 val.
static void
test_labelled_folder (void)
{
  PxWindow *window;
  PxProbePage *page;
  g_autofree char *root = g_build_filename (tmp_dir, "labelled", NULL);
  g_autofree char *lonely = g_build_filename (tmp_dir, "lonely", NULL);
  g_autoptr(GFile) folder = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *entry;
  int copied = 0;

  dir = g_dir_open (nih, 0, NULL);
  for (int c = 0; c < 2; c++)
    {
      g_autofree char *sub = g_build_filename (root, c == 0 ? "effusion" : "normal", NULL);

      g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
    }
  while ((entry = g_dir_read_name (dir)) != NULL && copied < 12)
    {
      g_autofree char *src = g_build_filename (nih, entry, NULL);
      g_autofree char *dst = g_build_filename (root, copied < 6 ? "effusion" : "normal", entry, NULL);
      g_autofree char *bytes = NULL;
      gsize len;

      g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
      g_assert_true (g_file_set_contents (dst, bytes, len, NULL));
      copied++;
    }
  {
    g_autofree char *note = g_build_filename (root, "normal", "README.txt", NULL);

    g_assert_true (g_file_set_contents (note, "not a radiograph", -1, NULL));
  }
  window = new_window ();
  page = probe_page (window);
  folder = g_file_new_for_path (root);
  px_probe_page_set_labels_file (page, folder);
  g_assert_true (px_probe_page_run (page));
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 120));
  g_assert_cmpstr (px_probe_page_get_status (page), ==, "Done");
  g_assert_cmpint (px_probe_page_get_n_classes (page), ==, 2);
  {
    const char *name;

    px_probe_page_get_class_auc (page, 0, &name);
    g_assert_cmpstr (name, ==, "effusion");
    px_probe_page_get_class_auc (page, 1, &name);
    g_assert_cmpstr (name, ==, "normal");
  }
  px_test_settle ();
  g_assert_true (px_test_labels_contain (GTK_WIDGET (page), "2 validation radiographs; probe trained on 10"));

  // One subfolder is not a labelled folder.
  {
    g_autofree char *sub = g_build_filename (lonely, "only", NULL);
    g_autoptr(GFile) one = g_file_new_for_path (lonely);
    g_autofree char *src = g_build_filename (root, "normal", NULL);

    g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
    g_assert_cmpint (g_rename (src, sub), ==, 0);
    px_probe_page_set_labels_file (page, one);
    g_assert_true (px_probe_page_run (page));
    g_assert_true (px_test_wait_for (px_test_probe_idle, page, 60));
    g_assert_nonnull (strstr (px_probe_page_get_status (page), "lonely: a labelled folder needs at least two subfolders"));
  }
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

typedef struct {
  PxModel *model;
  GError  *error;
  gboolean done;
} Loaded;

static void
on_loaded (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Loaded *l = data;

  l->model = px_model_load_finish (result, &l->error);
  l->done = TRUE;
}

static gboolean
load_done (gpointer data)
{
  return ((Loaded *) data)->done;
}

// A Swin model in use (the swin-micro preset, random init, written as a checkpoint and
// opened as the app opens one): the run ends with valid AUCs, and the probe was trained
// on the Swin's final-stage tokens, whose width is the preset's embed_dim 16 doubled at
// its one merge between 2 stages, 16 × 2^(2−1) = 32 (the page's stand-in ViT has 64).
static void
test_swin_model (void)
{
  PxWindow *window;
  PxProbePage *page;
  PeacModelSpec spec;
  PeacModel *engine;
  char err[256];
  double lo, hi, mean;
  g_autofree char *path = g_build_filename (tmp_dir, "swin-micro.safetensors", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) labels = NULL;
  Loaded loaded = { 0 };

  g_assert_cmpint (peac_preset_resolve (&spec, "swin-micro", NULL, err, sizeof err), ==, 0);
  engine = peac_model_new (spec.backbone->arch, NULL, spec.config, 7, err, sizeof err);
  g_assert_nonnull (engine);
  g_assert_cmpint (peac_model_save (engine, path, err, sizeof err), ==, 0);
  peac_model_free (engine);
  px_model_load_async (file, NULL, on_loaded, &loaded);
  g_assert_true (px_test_wait_for (load_done, &loaded, 60));
  g_assert_no_error (loaded.error);
  g_assert_nonnull (loaded.model);
  g_assert_cmpint (peac_model_arch (px_model_lock_engine (loaded.model)), ==, PEAC_ARCH_SWIN);
  px_model_unlock_engine (loaded.model);

  window = new_window ();
  page = probe_page (window);
  px_embedder_set_model (px_window_get_embedder (window), loaded.model);
  g_clear_object (&loaded.model);
  px_test_settle ();
  labels = write_labels ("labels-swin.csv", FALSE);
  px_probe_page_set_labels_file (page, labels);
  g_assert_true (px_probe_page_run (page));
  g_assert_true (px_test_wait_for (px_test_probe_idle, page, 120));
  g_assert_cmpstr (px_probe_page_get_status (page), ==, "Done");
  g_assert_cmpint (px_probe_page_get_n_classes (page), ==, 2);
  for (int c = 0; c < 2; c++)
    {
      double auc = px_probe_page_get_class_auc (page, c, NULL);

      g_assert_false (isnan (auc));
      g_assert_cmpfloat (auc, >=, 0);
      g_assert_cmpfloat (auc, <=, 1);
    }
  mean = px_probe_page_get_mean_auc (page, &lo, &hi);
  g_assert_false (isnan (mean));
  g_assert_cmpfloat (lo, >=, 0);
  g_assert_cmpfloat (lo, <=, hi);
  g_assert_cmpfloat (hi, <=, 1);
  g_assert_cmpint (px_probe_page_get_embedding_dim (page), ==, 16 * 2);
  gtk_window_destroy (GTK_WINDOW (window));
  px_test_settle ();
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  // A missing folder fails the whole test, naming it (peac_test_shared_path).
  nih = peac_test_shared_path ("cxr/nih-more/png_512");
  app = px_test_app_setup (&argc, &argv, "probe-page", &tmp_dir);

  g_test_add_func ("/probe-page/run-and-export", test_run_and_export);
  g_test_add_func ("/probe-page/missing-image", test_missing_image);
  g_test_add_func ("/probe-page/images-folder", test_images_folder);
  g_test_add_func ("/probe-page/dark-mode", test_dark_mode);
  g_test_add_func ("/probe-page/labelled-folder", test_labelled_folder);
  g_test_add_func ("/probe-page/swin-model", test_swin_model);
  ret = g_test_run ();

  px_test_app_teardown (app, tmp_dir);
  g_free (nih);
  return ret;
}
