// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxProbePage: the linear-probe page (see px-probe-page.h). The worker is a GTask thread
// holding its own reference to the model in use (PxModel forwards are thread-safe); it
// parses the CSV with the engine's label parser, resolves image paths (px-probe-labels.c:
// the chosen images folder, beside the CSV or in its parents), embeds each radiograph (the mean of its final-norm tokens: the page
// reads token grids, as every page of the app does), trains the probe with an abort flag
// raised by the page's GCancellable, and scores the validation rows. Progress reaches the
// page on the main thread through px-main-thread.h; the result replaces the list
// and the curves. Without a split column every fifth row is held out for validation. A
// labelled folder (one subfolder of radiographs per finding) is turned into the same CSV
// text in the worker (px-probe-labels.c): one 0/1 column per subfolder.
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdatomic.h>

#include "auc.h"
#include "finetune.h"
#include "px-export.h"
#include "px-folder-scan.h"
#include "px-main-thread.h"
#include "px-labels.h"
#include "px-probe-labels.h"
#include "px-probe-page.h"
#include "px-window.h"

typedef struct {
  int     k, n_train, n_val;
  int     dim;        // width of the embeddings the probe was trained on
  char  **names;      // [k]
  double *auc;        // [k]
  double  mean, lo, hi;
  float **fpr, **tpr; // [k][n_points[c]]
  int    *n_points;
} ProbeResult;

struct _PxProbePage {
  GtkWidget           parent_instance;

  GtkWidget          *box;
  GtkLabel           *file_label;
  GtkLabel           *images_label;
  GFile              *images;
  GtkProgressBar     *progress_bar;
  GtkLabel           *status_label;
  GtkLabel           *summary_label;
  GtkListBox         *class_list;
  GtkDrawingArea     *area;
  GtkStack           *result_stack;   // "empty" (what to do) until a run has results

  PxEmbedder         *embedder;
  GFile              *labels;
  GCancellable       *cancellable;
  ProbeResult        *result;
  char               *status;
  GSimpleActionGroup *actions;
};

G_DEFINE_FINAL_TYPE (PxProbePage, px_probe_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_RUNNING,
  PROP_STATUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
probe_result_free (ProbeResult *r)
{
  if (r == NULL)
    return;
  for (int c = 0; c < r->k; c++)
    {
      g_free (r->names[c]);
      g_free (r->fpr[c]);
      g_free (r->tpr[c]);
    }
  g_free (r->names), g_free (r->auc), g_free (r->fpr), g_free (r->tpr), g_free (r->n_points);
  g_free (r);
}

// ---- The worker

typedef struct {
  PxModel       *model;
  GFile         *csv;
  GFile         *images;    // nullable: the folder the CSV's relative paths start from
  PxProbePage   *page;      // main thread only: progress goes through px_main_thread_post
  atomic_int     abort;
  gulong         cancel_id;
  GCancellable  *cancellable;
} ProbeJob;

static void
probe_job_free (gpointer data)
{
  ProbeJob *job = data;

  if (job->cancel_id != 0)
    g_cancellable_disconnect (job->cancellable, job->cancel_id);
  g_clear_object (&job->cancellable);
  g_clear_object (&job->model);
  g_clear_object (&job->csv);
  g_clear_object (&job->images);
  g_clear_object (&job->page);
  g_free (job);
}

typedef struct {
  PxProbePage *page;
  double       fraction;
  char        *text;
} ProbeProgress;

static void
set_status (PxProbePage *self,
            const char  *text)
{
  g_free (self->status);
  self->status = g_strdup (text);
  gtk_label_set_text (self->status_label, text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

static gboolean
progress_main (gpointer data)
{
  ProbeProgress *p = data;

  if (p->page->cancellable != NULL)
    {
      gtk_progress_bar_set_fraction (p->page->progress_bar, p->fraction);
      set_status (p->page, p->text);
    }
  return G_SOURCE_REMOVE;
}

static void
progress_free (gpointer data)
{
  ProbeProgress *p = data;

  g_object_unref (p->page);
  g_free (p->text);
  g_free (p);
}

static void
report (ProbeJob   *job,
        double      fraction,
        const char *text)
{
  ProbeProgress *p = g_new0 (ProbeProgress, 1);

  p->page = g_object_ref (job->page);
  p->fraction = fraction;
  p->text = g_strdup (text);
  px_main_thread_post (progress_main, p, progress_free);
}

static void
on_job_cancelled (GCancellable *cancellable,
                  gpointer      data)
{
  ((ProbeJob *) data)->abort = 1;
}

// Mean of the final-norm tokens of one radiograph [dim], centre-cropped as `peac embed`
// feeds it.
static gboolean
embed_image (PxModel    *model,
             const char *path,
             float      *tokens,
             int         n_tokens,
             int         dim,
             float      *out,
             GError    **error)
{
  g_autoptr(PxImage) image = px_image_load (path, error);
  PxModelInput input;
  gboolean ok;
  char err[256];

  if (image == NULL)
    return FALSE;
  if (px_model_input_from_image (image, px_model_get_input_size (model), 1, &input, err,
                                 sizeof err) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s: cannot preprocess"), path);
      return FALSE;
    }
  ok = px_model_embed_input (model, &input, -1, tokens, error);
  px_model_input_clear (&input);
  if (!ok)
    return FALSE;
  for (int d = 0; d < dim; d++)
    {
      double s = 0;

      for (int t = 0; t < n_tokens; t++)
        s += tokens[(size_t) t * dim + d];
      out[d] = (float) (s / n_tokens);
    }
  return TRUE;
}

static void
probe_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  ProbeJob *job = task_data;
  g_autofree char *csv_path = g_file_get_path (job->csv);
  g_autofree char *text = NULL;
  g_autofree char *name = g_file_get_basename (job->csv);
  GError *error = NULL;
  PeacLabels all = { 0 }, tr = { 0 }, va = { 0 };
  char err[1024];
  int gh, gw, dim;
  g_autofree float *tokens = NULL, *feat = NULL, *prob = NULL;
  g_autofree float *ytr = NULL, *yva = NULL, *xtr = NULL, *xva = NULL;
  g_autofree int *is_val = NULL;
  ProbeResult *r = NULL;
  PeacProbeConfig pc;
  PeacHead head = { 0 };
  int has_split, ntr = 0, nva = 0, k;

  if (csv_path != NULL && g_file_test (csv_path, G_FILE_TEST_IS_DIR))
    {
      if ((text = px_probe_folder_labels (csv_path, &error)) == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }
  else if (csv_path == NULL || !g_file_get_contents (csv_path, &text, NULL, &error))
    {
      if (error == NULL)
        error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("%s: not a local file"), name);
      g_task_return_error (task, error);
      return;
    }
  if (peac_labels_parse (&all, text, name, NULL, NULL, NULL, err, sizeof err) != 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", err);
      return;
    }
  // A split column gives train and val rows; without one, every fifth row is held out.
  has_split = peac_labels_parse (&tr, text, name, NULL, NULL, "train", err, sizeof err) == 0
              && peac_labels_parse (&va, text, name, NULL, NULL, "val", err, sizeof err) == 0
              && tr.n < all.n && va.n < all.n;
  k = all.k;
  is_val = g_new0 (int, all.n);
  for (int i = 0; i < all.n; i++)
    {
      if (has_split)
        {
          // Rows are matched by their line: both parses keep the file's order.
          is_val[i] = -1;
          for (int j = 0; j < va.n && is_val[i] < 0; j++)
            if (va.line[j] == all.line[i])
              is_val[i] = 1;
          for (int j = 0; j < tr.n && is_val[i] < 0; j++)
            if (tr.line[j] == all.line[i])
              is_val[i] = 0;
        }
      else
        is_val[i] = i % 5 == 4;
      ntr += is_val[i] == 0;
      nva += is_val[i] == 1;
    }
  peac_labels_free (&tr);
  peac_labels_free (&va);
  if (ntr < 2 || nva < 2)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("%s: %d training and %d validation rows: at least 2 of each are needed"),
                               name, ntr, nva);
      peac_labels_free (&all);
      return;
    }

  px_model_get_grid (job->model, &gh, &gw, &dim);
  tokens = g_new (float, (size_t) gh * gw * dim);
  feat = g_new (float, (size_t) all.n * dim);
  for (int i = 0; i < all.n; i++)
    {
      g_autofree char *path = NULL;
      g_autofree char *msg = NULL;

      if (is_val[i] < 0)
        continue;
      if (job->abort)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Stopped"));
          peac_labels_free (&all);
          return;
        }
      path = px_probe_resolve_image (job->csv, job->images, all.paths[i]);
      if (path == NULL && job->images != NULL)
        {
          g_autofree char *images = g_file_get_path (job->images);

          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                   _("%s:%d: image “%s” not found in %s, beside the file or in its parent folders"),
                                   name, all.line[i], all.paths[i], images);
          peac_labels_free (&all);
          return;
        }
      if (path == NULL)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                   _("%s:%d: image “%s” not found beside the file or in its parent folders; choose the folder the paths start from with Images Folder…"),
                                   name, all.line[i], all.paths[i]);
          peac_labels_free (&all);
          return;
        }
      if (!embed_image (job->model, path, tokens, gh * gw, dim, feat + (size_t) i * dim, &error))
        {
          g_prefix_error (&error, "%s:%d: ", name, all.line[i]);
          g_task_return_error (task, error);
          peac_labels_free (&all);
          return;
        }
      msg = g_strdup_printf (_("Embedding %d of %d radiographs"), i + 1, all.n);
      report (job, 0.9 * (i + 1) / all.n, msg);
    }

  // Split the cached features and labels, train, score the validation rows.
  xtr = g_new (float, (size_t) ntr * dim), xva = g_new (float, (size_t) nva * dim);
  ytr = g_new (float, (size_t) ntr * k), yva = g_new (float, (size_t) nva * k);
  prob = g_new (float, (size_t) nva * k);
  for (int i = 0, a = 0, b = 0; i < all.n; i++)
    if (is_val[i] == 0)
      {
        memcpy (xtr + (size_t) a * dim, feat + (size_t) i * dim, dim * sizeof (float));
        memcpy (ytr + (size_t) a++ * k, all.y + (size_t) i * k, k * sizeof (float));
      }
    else if (is_val[i] == 1)
      {
        memcpy (xva + (size_t) b * dim, feat + (size_t) i * dim, dim * sizeof (float));
        memcpy (yva + (size_t) b++ * k, all.y + (size_t) i * k, k * sizeof (float));
      }
  report (job, 0.95, _("Training the linear probe"));
  peac_probe_defaults (&pc);
  if (peac_head_init (&head, dim, k) != 0
      || peac_probe_train (&head, &pc, xtr, ytr, ntr, xva, yva, nva, NULL, NULL, &job->abort,
                           NULL, err, sizeof err) != 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, job->abort ? G_IO_ERROR_CANCELLED : G_IO_ERROR_FAILED,
                               "%s", job->abort ? _("Stopped") : err);
      peac_head_free (&head);
      peac_labels_free (&all);
      return;
    }
  peac_head_predict (&head, xva, nva, prob);
  peac_head_free (&head);

  r = g_new0 (ProbeResult, 1);
  r->k = k, r->n_train = ntr, r->n_val = nva, r->dim = dim;
  r->names = g_new0 (char *, k);
  r->auc = g_new0 (double, k);
  r->fpr = g_new0 (float *, k);
  r->tpr = g_new0 (float *, k);
  r->n_points = g_new0 (int, k);
  r->mean = peac_auc_multi (prob, yva, nva, k, r->auc);
  peac_auc_bootstrap (prob, yva, nva, k, 500, 0.95, 12345, &r->lo, &r->hi);
  for (int c = 0; c < k; c++)
    {
      r->names[c] = g_strdup (all.names[c]);
      r->fpr[c] = g_new (float, nva + 1);
      r->tpr[c] = g_new (float, nva + 1);
      r->n_points[c] = peac_roc_curve (prob + c, k, yva + c, k, nva, r->fpr[c], r->tpr[c], NULL);
    }
  peac_labels_free (&all);
  g_task_return_pointer (task, r, (GDestroyNotify) probe_result_free);
}

// ---- Drawing

static const double palette[][3] = {
  { 0.21, 0.52, 0.89 }, { 0.96, 0.47, 0.00 }, { 0.20, 0.82, 0.48 }, { 0.88, 0.11, 0.14 },
  { 0.57, 0.25, 0.67 }, { 0.60, 0.42, 0.25 }, { 0.86, 0.38, 0.69 }, { 0.47, 0.47, 0.47 },
  { 0.75, 0.70, 0.10 }, { 0.10, 0.70, 0.80 },
};

// The ROC curves on a light ground (exports, light mode) or a dark one (dark mode on screen).
static void
draw_roc_on (PxProbePage *self,
             cairo_t     *cr,
             double       width,
             double       height,
             gboolean     dark)
{
  ProbeResult *r = self->result;
  double side = MIN (width - 60, height - 50), x0 = 50, y0 = 10;
  double ground = dark ? 0.14 : 1.0, grid = dark ? 0.30 : 0.85, ink = dark ? 0.80 : 0.30;

  cairo_set_source_rgb (cr, ground, ground, ground);
  cairo_paint (cr);
  if (side < 20)
    return;
  cairo_set_line_width (cr, 1);
  cairo_set_source_rgb (cr, grid, grid, grid);
  for (int i = 1; i < 10; i++)
    {
      cairo_move_to (cr, x0 + side * i / 10, y0);
      cairo_line_to (cr, x0 + side * i / 10, y0 + side);
      cairo_move_to (cr, x0, y0 + side * i / 10);
      cairo_line_to (cr, x0 + side, y0 + side * i / 10);
    }
  cairo_stroke (cr);
  cairo_set_source_rgb (cr, ink, ink, ink);
  cairo_rectangle (cr, x0, y0, side, side);
  cairo_stroke (cr);
  cairo_set_font_size (cr, 11);
  for (int i = 0; i <= 5; i++)
    {
      char lab[8];

      g_snprintf (lab, sizeof lab, "%.1f", i / 5.0);
      cairo_move_to (cr, x0 + side * i / 5 - 8, y0 + side + 15);
      cairo_show_text (cr, lab);
      cairo_move_to (cr, x0 - 26, y0 + side - side * i / 5 + 4);
      cairo_show_text (cr, lab);
    }
  cairo_move_to (cr, x0 + side / 2 - 50, y0 + side + 32);
  cairo_show_text (cr, _("False positive rate"));
  cairo_save (cr);
  cairo_move_to (cr, x0 - 32, y0 + side / 2 + 45);
  cairo_rotate (cr, -G_PI / 2);
  cairo_show_text (cr, _("True positive rate"));
  cairo_restore (cr);
  {
    const double dash[] = { 4, 4 };

    cairo_set_dash (cr, dash, 2, 0);
    cairo_move_to (cr, x0, y0 + side);
    cairo_line_to (cr, x0 + side, y0);
    cairo_stroke (cr);
    cairo_set_dash (cr, NULL, 0, 0);
  }
  if (r == NULL)
    return;
  cairo_set_line_width (cr, 1.5);
  for (int c = 0; c < r->k; c++)
    {
      const double *col = palette[c % G_N_ELEMENTS (palette)];

      cairo_set_source_rgb (cr, col[0], col[1], col[2]);
      for (int i = 0; i < r->n_points[c]; i++)
        {
          double x = x0 + side * r->fpr[c][i], y = y0 + side - side * r->tpr[c][i];

          if (i == 0)
            cairo_move_to (cr, x, y);
          else
            cairo_line_to (cr, x, y);
        }
      cairo_stroke (cr);
    }
}

static void
draw_roc (gpointer data,
          cairo_t *cr,
          double   width,
          double   height)
{
  draw_roc_on (data, cr, width, height, FALSE);
}

static void
draw_area (GtkDrawingArea *area,
           cairo_t        *cr,
           int             width,
           int             height,
           gpointer        data)
{
  draw_roc_on (data, cr, width, height, adw_style_manager_get_dark (adw_style_manager_get_default ()));
}

// ---- Results on the page

static void
show_result (PxProbePage *self)
{
  ProbeResult *r = self->result;
  GtkWidget *child;
  g_autofree char *summary = NULL;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->class_list))) != NULL)
    gtk_list_box_remove (self->class_list, child);
  gtk_stack_set_visible_child_name (self->result_stack, r != NULL ? "results" : "empty");
  if (r == NULL)
    {
      gtk_label_set_text (self->summary_label, "");
      gtk_widget_queue_draw (GTK_WIDGET (self->area));
      return;
    }
  for (int c = 0; c < r->k; c++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *value = gtk_label_new (NULL);
      g_autofree char *auc = isnan (r->auc[c]) ? g_strdup (_("n/a")) : g_strdup_printf ("%.3f", r->auc[c]);
      const double *col = palette[c % G_N_ELEMENTS (palette)];
      g_autofree char *css = g_strdup_printf ("<span foreground=\"#%02x%02x%02x\">■</span>",
                                              (int) (col[0] * 255), (int) (col[1] * 255), (int) (col[2] * 255));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), r->names[c]);
      gtk_label_set_text (GTK_LABEL (value), auc);
      gtk_widget_add_css_class (value, "numeric");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), value);
      value = gtk_label_new (NULL);
      gtk_label_set_markup (GTK_LABEL (value), css);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), value);
      gtk_list_box_append (self->class_list, row);
    }
  summary = g_strdup_printf (_("Mean AUC %.3f (95%% interval %.3f–%.3f) on %d validation radiographs; probe trained on %d"),
                             r->mean, r->lo, r->hi, r->n_val, r->n_train);
  gtk_label_set_text (self->summary_label, summary);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
update_actions (PxProbePage *self)
{
  gboolean running = self->cancellable != NULL;
  GAction *a;

  a = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "run");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), !running && self->labels != NULL && self->embedder != NULL &&
                               px_embedder_get_model (self->embedder) != NULL);
  a = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "stop");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), running);
  a = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "export");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), self->result != NULL);
  a = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "choose");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), !running);
  a = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "choose-folder");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (a), !running);
}

static void
on_probe_done (GObject      *source,
               GAsyncResult *res,
               gpointer      data)
{
  PxProbePage *self = PX_PROBE_PAGE (source);
  g_autoptr(GError) error = NULL;
  ProbeResult *r = g_task_propagate_pointer (G_TASK (res), &error);

  g_clear_object (&self->cancellable);
  gtk_progress_bar_set_fraction (self->progress_bar, r != NULL ? 1.0 : 0.0);
  if (r != NULL)
    {
      probe_result_free (self->result);
      self->result = r;
      set_status (self, _("Done"));
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    set_status (self, _("Stopped"));
  else
    set_status (self, error->message);
  show_result (self);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

// ---- Actions

static void
on_labels_chosen (gpointer    data,
                  GFile      *file,
                  const char *format)
{
  px_probe_page_set_labels_file (data, file);
}

static void
choose_action (GSimpleAction *action,
               GVariant      *param,
               gpointer       data)
{
  px_export_choose_file (data, _("Choose a Label File"), GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL,
                         on_labels_chosen, data);
}

static void
on_images_chosen (gpointer    data,
                  GFile      *file,
                  const char *format)
{
  px_probe_page_set_images_folder (data, file);
}

static void
choose_images_action (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       data)
{
  px_export_choose_file (data, _("Choose the Images Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                         NULL, NULL, on_images_chosen, data);
}

static void
choose_folder_action (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       data)
{
  px_export_choose_file (data, _("Choose a Labelled Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                         NULL, NULL, on_labels_chosen, data);
}

static void
run_action (GSimpleAction *action,
            GVariant      *param,
            gpointer       data)
{
  px_probe_page_run (data);
}

static void
stop_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       data)
{
  px_probe_page_cancel (data);
}

static void
on_export_chosen (gpointer    data,
                  GFile      *file,
                  const char *format)
{
  PxProbePage *self = data;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GError) error = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (path != NULL && !px_probe_page_export (self, path, format, &error) && PX_IS_WINDOW (root))
    px_window_show_error (PX_WINDOW (root), error->message);
}

static void
export_action (GSimpleAction *action,
               GVariant      *param,
               gpointer       data)
{
  const char *format = g_variant_get_string (param, NULL);
  g_autofree char *name = g_strdup_printf ("linear-probe.%s", format);

  px_export_choose_file (data, _("Export Results"), GTK_FILE_CHOOSER_ACTION_SAVE, name, format,
                         on_export_chosen, data);
}

static const GActionEntry page_actions[] = {
  { "choose", choose_action },
  { "choose-folder", choose_folder_action },
  { "choose-images", choose_images_action },
  { "run", run_action },
  { "stop", stop_action },
  { "export", export_action, "s" },
};

// ---- GObject

static void
px_probe_page_dispose (GObject *object)
{
  PxProbePage *self = PX_PROBE_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->embedder != NULL)
    g_signal_handlers_disconnect_by_data (self->embedder, self);
  g_clear_object (&self->embedder);
  g_clear_object (&self->labels);
  g_clear_object (&self->images);
  g_clear_pointer (&self->result, probe_result_free);
  g_clear_pointer (&self->status, g_free);
  g_clear_object (&self->actions);
  gtk_widget_dispose_template (GTK_WIDGET (self), PX_TYPE_PROBE_PAGE);
  G_OBJECT_CLASS (px_probe_page_parent_class)->dispose (object);
}

static void
px_probe_page_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  PxProbePage *self = PX_PROBE_PAGE (object);

  switch (prop_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, self->cancellable != NULL);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_probe_page_class_init (PxProbePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = px_probe_page_dispose;
  object_class->get_property = px_probe_page_get_property;
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATUS] = g_param_spec_string ("status", NULL, NULL, NULL,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/peac/Explorer/px-probe-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PxProbePage, box);
  gtk_widget_class_bind_template_child (widget_class, PxProbePage, file_label);
  gtk_widget_class_bind_template_child (widget_class, PxProbePage, images_label);
  gtk_widget_class_bind_template_child (widget_class, PxProbePage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, PxProbePage, status_label);
  gtk_widget_class_bind_template_child (widget_class, PxProbePage, summary_label);
  gtk_widget_class_bind_template_child (widget_class, PxProbePage, class_list);
  gtk_widget_class_bind_template_child (widget_class, PxProbePage, result_stack);
  gtk_widget_class_bind_template_child (widget_class, PxProbePage, area);
}

static void
px_probe_page_init (PxProbePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), page_actions,
                                   G_N_ELEMENTS (page_actions), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "probe", G_ACTION_GROUP (self->actions));
  gtk_drawing_area_set_draw_func (self->area, draw_area, self, NULL);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (gtk_widget_queue_draw), self->area, G_CONNECT_SWAPPED);
  update_actions (self);
}

// ---- Public API

void
px_probe_page_set_embedder (PxProbePage *self,
                            PxEmbedder  *embedder)
{
  g_return_if_fail (PX_IS_PROBE_PAGE (self));
  if (self->embedder != NULL)
    g_signal_handlers_disconnect_by_data (self->embedder, self);
  g_set_object (&self->embedder, embedder);
  // Run waits for a model (the window's default one loads in a worker).
  if (embedder != NULL)
    g_signal_connect_swapped (embedder, "notify::model", G_CALLBACK (update_actions), self);
  update_actions (self);
}

void
px_probe_page_set_labels_file (PxProbePage *self,
                               GFile       *file)
{
  g_autofree char *name = NULL;

  g_return_if_fail (PX_IS_PROBE_PAGE (self));
  g_set_object (&self->labels, file);
  name = file != NULL ? g_file_get_basename (file) : NULL;
  gtk_label_set_text (self->file_label, name != NULL ? name : _("No label file"));
  update_actions (self);
}

/**
 * px_probe_page_set_images_folder:
 * @folder: (nullable): where the label file's relative image paths start, or %NULL to look
 *   beside the label file and in its parents only
 */
void
px_probe_page_set_images_folder (PxProbePage *self,
                                 GFile       *folder)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;

  g_return_if_fail (PX_IS_PROBE_PAGE (self));
  g_set_object (&self->images, folder);
  path = folder != NULL ? g_file_get_path (folder) : NULL;
  /* Translators: %s is the folder a label file's image paths start from */
  text = path != NULL ? g_strdup_printf (_("Images in %s"), path) : NULL;
  gtk_label_set_text (self->images_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->images_label), text != NULL);
}

/**
 * px_probe_page_run:
 *
 * Starts the worker on the label file with the model in use.
 *
 * Returns: %FALSE when it cannot start (running, no file or no model)
 */
gboolean
px_probe_page_run (PxProbePage *self)
{
  PxModel *model;
  ProbeJob *job;
  g_autoptr(GTask) task = NULL;

  g_return_val_if_fail (PX_IS_PROBE_PAGE (self), FALSE);
  model = self->embedder != NULL ? px_embedder_get_model (self->embedder) : NULL;
  if (self->cancellable != NULL || self->labels == NULL || model == NULL)
    return FALSE;
  self->cancellable = g_cancellable_new ();
  job = g_new0 (ProbeJob, 1);
  job->model = g_object_ref (model);
  job->csv = g_object_ref (self->labels);
  job->images = self->images != NULL ? g_object_ref (self->images) : NULL;
  job->page = g_object_ref (self);
  job->cancellable = g_object_ref (self->cancellable);
  job->cancel_id = g_cancellable_connect (self->cancellable, G_CALLBACK (on_job_cancelled), job, NULL);
  task = g_task_new (self, self->cancellable, on_probe_done, NULL);
  g_task_set_task_data (task, job, probe_job_free);
  g_task_run_in_thread (task, probe_thread);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  set_status (self, _("Starting"));
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  return TRUE;
}

void
px_probe_page_cancel (PxProbePage *self)
{
  g_return_if_fail (PX_IS_PROBE_PAGE (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
px_probe_page_get_running (PxProbePage *self)
{
  g_return_val_if_fail (PX_IS_PROBE_PAGE (self), FALSE);
  return self->cancellable != NULL;
}

const char *
px_probe_page_get_status (PxProbePage *self)
{
  g_return_val_if_fail (PX_IS_PROBE_PAGE (self), NULL);
  return self->status;
}

int
px_probe_page_get_n_classes (PxProbePage *self)
{
  g_return_val_if_fail (PX_IS_PROBE_PAGE (self), 0);
  return self->result != NULL ? self->result->k : 0;
}

double
px_probe_page_get_class_auc (PxProbePage *self,
                             int          index,
                             const char **name)
{
  g_return_val_if_fail (PX_IS_PROBE_PAGE (self) && self->result != NULL, NAN);
  g_return_val_if_fail (index >= 0 && index < self->result->k, NAN);
  if (name != NULL)
    *name = self->result->names[index];
  return self->result->auc[index];
}

double
px_probe_page_get_mean_auc (PxProbePage *self,
                            double      *lo,
                            double      *hi)
{
  g_return_val_if_fail (PX_IS_PROBE_PAGE (self), NAN);
  if (self->result == NULL)
    return NAN;
  if (lo != NULL)
    *lo = self->result->lo;
  if (hi != NULL)
    *hi = self->result->hi;
  return self->result->mean;
}

/**
 * px_probe_page_get_embedding_dim:
 *
 * Returns: the width of the embeddings the last finished run trained its probe on (the
 *   model's token width), or 0 before one
 */
int
px_probe_page_get_embedding_dim (PxProbePage *self)
{
  g_return_val_if_fail (PX_IS_PROBE_PAGE (self), 0);
  return self->result != NULL ? self->result->dim : 0;
}

/**
 * px_probe_page_export:
 * @format: "png" or "svg" (the ROC curves as drawn) or "csv" (class, AUC, then every
 *   curve's points: class, fpr, tpr)
 *
 * Returns: %FALSE with @error naming the file when it cannot be written
 */
gboolean
px_probe_page_export (PxProbePage *self,
                      const char  *path,
                      const char  *format,
                      GError     **error)
{
  ProbeResult *r;
  g_autoptr(GString) out = NULL;

  g_return_val_if_fail (PX_IS_PROBE_PAGE (self), FALSE);
  r = self->result;
  if (r == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("%s: no results to export yet"), path);
      return FALSE;
    }
  if (!g_str_equal (format, "csv"))
    return px_export_drawing (path, format, 640, 600, draw_roc, self, error);
  out = g_string_new ("class,auc,fpr,tpr\n");
  for (int c = 0; c < r->k; c++)
    {
      px_export_csv_field (out, r->names[c]);
      if (isnan (r->auc[c]))
        g_string_append (out, ",,,\n");
      else
        g_string_append_printf (out, ",%.6f,,\n", r->auc[c]);
    }
  for (int c = 0; c < r->k; c++)
    for (int i = 0; i < r->n_points[c]; i++)
      {
        px_export_csv_field (out, r->names[c]);
        g_string_append_printf (out, ",,%.6g,%.6g\n", r->fpr[c][i], r->tpr[c][i]);
      }
  if (!g_file_set_contents (path, out->str, out->len, error))
    return FALSE;
  return TRUE;
}
