// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxGridMatchingPage lets one see PEAC's "stable grid-based matching". The radiograph is
// squeezed (in a worker) to a square of (G + max_shift + 1) cells, as the input pipeline does,
// and peac_views_sample() draws the lattice origin and both crops' offsets from the seed;
// the spin buttons, or dragging a crop, move a crop by whole cells. Every drawn pair comes
// from peac_views_pairs(). A worker cuts both crops, runs the model on each (its own model
// reference) and returns the cosine similarity of every matched pair and, as a baseline,
// the mean over unmatched pairs; the main thread only draws. The student's input is shown
// as cut, with its cells shuffled, or through the engine's appearance distortions; the
// models here have no decoder, so there is no restoration to show.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "preprocess.h"
#include "px-application.h"
#include "px-export.h"
#include "px-grid-matching-page.h"
#include "px-match-scene.h"
#include "px-study-dropdown.h"
#include "px-window.h"
#include "distort.h"
#include "views.h"

#define MAX_SHIFT 4
#define GAP 10.0
#define LABEL 20.0

struct _PxGridMatchingPage
{
  GtkWidget           parent_instance;

  GListModel         *studies;
  PxEmbedder         *embedder;

  PxStudy            *study;
  int                 grid, cell, side;   // G, pixels per cell, square image side
  float              *norm;               // [3, side, side] normalised input, or NULL
  cairo_surface_t    *image;              // presentation of norm, side × side
  PeacViewPair        pair;
  gboolean            have_pair;
  int                 partner[PEAC_VIEWS_MAX_GRID * PEAC_VIEWS_MAX_GRID];
  int                 n_pairs;
  int                 perm[PEAC_VIEWS_MAX_GRID * PEAC_VIEWS_MAX_GRID];
  cairo_surface_t    *distorted;          // crop 1 through peac_distort_apply()
  float              *sim;                // [G·G] per crop-1 cell, valid when have_sim
  double              mean_matched, mean_unmatched;
  gboolean            have_sim;
  GCancellable       *cancellable;
  gboolean            updating;           // adjustments being set from code

  int                 drag_crop;          // −1: none
  int                 drag_dr, drag_dc;

  GtkDropDown        *study_dropdown;
  GtkStack           *stack;
  GtkDrawingArea     *area;
  GtkLabel           *status_label;
  GtkAdjustment      *seed;
  GtkAdjustment      *dr1, *dc1, *dr2, *dc2;
  GSimpleActionGroup *actions;
};

G_DEFINE_FINAL_TYPE (PxGridMatchingPage, px_grid_matching_page, GTK_TYPE_WIDGET)

typedef struct {
  PxModel      *model;
  float        *norm;
  int           side;
  PeacViewPair  pair;
} SimJob;

typedef struct {
  float  *sim;
  double  matched, unmatched;
} SimResult;

static void compute_similarity (PxGridMatchingPage *self);

static void
sim_job_free (SimJob *job)
{
  g_object_unref (job->model);
  g_free (job->norm);
  g_free (job);
}

static void
sim_result_free (SimResult *result)
{
  g_free (result->sim);
  g_free (result);
}

static void
sim_thread (GTask        *task,
            gpointer      source,
            gpointer      task_data,
            GCancellable *cancellable)
{
  SimJob *job = task_data;
  int G = job->pair.grid, side = G * job->pair.cell, gh, gw, dim;
  int pairs[PEAC_VIEWS_MAX_GRID * PEAC_VIEWS_MAX_GRID];
  g_autofree float *crop = g_new (float, (gsize) 3 * side * side);
  g_autofree float *t1 = NULL, *t2 = NULL;
  SimResult *result = g_new0 (SimResult, 1);
  GError *error = NULL;
  double sum = 0, other = 0;
  int n = 0, n_other = 0;

  px_model_get_grid (job->model, &gh, &gw, &dim);
  t1 = g_new (float, (gsize) gh * gw * dim);
  t2 = g_new (float, (gsize) gh * gw * dim);
  peac_views_cut (&job->pair, 0, job->norm, 3, job->side, job->side, crop);
  if (px_model_forward_input (job->model, crop, t1, &error))
    {
      peac_views_cut (&job->pair, 1, job->norm, 3, job->side, job->side, crop);
      px_model_forward_input (job->model, crop, t2, &error);
    }
  if (error != NULL)
    {
      sim_result_free (result);
      g_task_return_error (task, error);
      return;
    }

  // Cosine similarity of every crop-1 token with every crop-2 token: the matched partner's
  // goes to sim, the others into the baseline mean.
  peac_views_pairs (&job->pair, pairs);
  result->sim = g_new (float, (gsize) G * G);
  for (int i = 0; i < G * G; i++)
    {
      const float *a = t1 + (gsize) i * dim;
      double na = 0;

      for (int k = 0; k < dim; k++)
        na += (double) a[k] * a[k];
      result->sim[i] = NAN;
      for (int j = 0; j < G * G; j++)
        {
          const float *b = t2 + (gsize) j * dim;
          double nb = 0, dot = 0, cosine;

          for (int k = 0; k < dim; k++)
            dot += (double) a[k] * b[k], nb += (double) b[k] * b[k];
          cosine = dot / sqrt (MAX (na * nb, 1e-30));
          if (j == pairs[i])
            result->sim[i] = (float) cosine, sum += cosine, n++;
          else if (pairs[i] >= 0)
            other += cosine, n_other++;
        }
    }
  result->matched = n > 0 ? sum / n : NAN;
  result->unmatched = n_other > 0 ? other / n_other : NAN;
  g_task_return_pointer (task, result, (GDestroyNotify) sim_result_free);
}

static void
update_status (PxGridMatchingPage *self)
{
  g_autofree char *text = NULL;

  if (!self->have_pair && self->study != NULL &&
      (self->embedder == NULL || px_embedder_get_model (self->embedder) == NULL))
    text = g_strdup (_("Waiting for the model to load…"));
  else if (!self->have_pair)
    text = g_strdup ("");
  else if (!self->have_sim)
    /* Translators: %d is the number of cell pairs shared by the two crops */
    text = g_strdup_printf (_("%d matched cell pairs; computing the model's similarities…"), self->n_pairs);
  else
    /* Translators: number of matched cell pairs, their mean cosine similarity, and the mean
       over all unmatched pairs of cells for comparison, which is also where the colours start */
    text = g_strdup_printf (_("%d matched cell pairs: mean cosine similarity %.3f (unmatched pairs: %.3f); colours run from the unmatched mean (dark) to 1 (yellow)"),
                            self->n_pairs, self->mean_matched, self->mean_unmatched);
  gtk_label_set_text (self->status_label, text);
}

static void
on_similarity (GObject      *source,
               GAsyncResult *res,
               gpointer      user_data)
{
  g_autoptr(PxGridMatchingPage) self = user_data;
  g_autoptr(GError) error = NULL;
  SimResult *result = g_task_propagate_pointer (G_TASK (res), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->cancellable);
  if (result == NULL)
    {
      gtk_label_set_text (self->status_label, error->message);
      return;
    }
  g_free (self->sim);
  self->sim = g_steal_pointer (&result->sim);
  self->mean_matched = result->matched;
  self->mean_unmatched = result->unmatched;
  self->have_sim = TRUE;
  sim_result_free (result);
  update_status (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
compute_similarity (PxGridMatchingPage *self)
{
  g_autoptr(GTask) task = NULL;
  SimJob *job;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->have_sim = FALSE;
  if (!self->have_pair || self->embedder == NULL || px_embedder_get_model (self->embedder) == NULL)
    return;

  job = g_new0 (SimJob, 1);
  job->model = g_object_ref (px_embedder_get_model (self->embedder));
  job->norm = g_memdup2 (self->norm, sizeof (float) * 3 * (gsize) self->side * self->side);
  job->side = self->side;
  job->pair = self->pair;
  self->cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->cancellable, on_similarity, g_object_ref (self));
  g_task_set_source_tag (task, compute_similarity);
  g_task_set_task_data (task, job, (GDestroyNotify) sim_job_free);
  g_task_run_in_thread (task, sim_thread);
  update_status (self);
}

// The distorted student input: crop 1 in [0, 1], distorted with the training defaults.
static void
make_distorted (PxGridMatchingPage *self,
                PeacRng            *rng)
{
  int S = self->grid * self->cell, stride;
  g_autofree float *crop = g_new (float, (gsize) S * S);
  PeacDistortConfig cfg;
  guint8 *data;

  g_clear_pointer (&self->distorted, cairo_surface_destroy);
  peac_views_cut (&self->pair, 0, self->norm, 1, self->side, self->side, crop);
  for (gsize i = 0; i < (gsize) S * S; i++)
    crop[i] = CLAMP (crop[i] * PEAC_STD + PEAC_MEAN, 0.0f, 1.0f);
  peac_distort_defaults (&cfg, S);
  peac_distort_apply (crop, S, &cfg, rng);

  self->distorted = cairo_image_surface_create (CAIRO_FORMAT_RGB24, S, S);
  data = cairo_image_surface_get_data (self->distorted);
  stride = cairo_image_surface_get_stride (self->distorted);
  cairo_surface_flush (self->distorted);
  for (int y = 0; y < S; y++)
    for (int x = 0; x < S; x++)
      {
        guint32 g = (guint32) CLAMP (lrintf (crop[(gsize) y * S + x] * 255), 0, 255);
        ((guint32 *) (data + (gsize) y * stride))[x] = 0xff000000u | (g << 16) | (g << 8) | g;
      }
  cairo_surface_mark_dirty (self->distorted);
}

// After any change of the pair: the pairing, the student's input, the spin buttons.
static void
pair_changed (PxGridMatchingPage *self)
{
  PeacRng rng;

  self->n_pairs = peac_views_pairs (&self->pair, self->partner);
  peac_rng_seed (&rng, (guint64) gtk_adjustment_get_value (self->seed) + 1);
  peac_views_permutation (&rng, self->perm, self->grid * self->grid);
  make_distorted (self, &rng);

  self->updating = TRUE;
  gtk_adjustment_set_value (self->dr1, self->pair.dr[0]);
  gtk_adjustment_set_value (self->dc1, self->pair.dc[0]);
  gtk_adjustment_set_value (self->dr2, self->pair.dr[1]);
  gtk_adjustment_set_value (self->dc2, self->pair.dc[1]);
  self->updating = FALSE;

  compute_similarity (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
resample (PxGridMatchingPage *self)
{
  PeacViewConfig cfg = { self->grid, self->cell, MAX_SHIFT };
  PeacRng rng;

  self->have_pair = FALSE;
  if (self->norm == NULL)
    return;
  peac_rng_seed (&rng, (guint64) gtk_adjustment_get_value (self->seed));
  if (peac_views_sample (&cfg, self->side, self->side, &rng, &self->pair) != 0)
    return;
  self->have_pair = TRUE;
  pair_changed (self);
}

static int
max_offset (PxGridMatchingPage *self,
            int                 origin)
{
  return (self->side - origin) / self->cell - self->grid;
}

static void
on_offsets_changed (PxGridMatchingPage *self)
{
  if (self->updating || !self->have_pair)
    return;
  self->pair.dr[0] = CLAMP ((int) gtk_adjustment_get_value (self->dr1), 0, max_offset (self, self->pair.oy));
  self->pair.dc[0] = CLAMP ((int) gtk_adjustment_get_value (self->dc1), 0, max_offset (self, self->pair.ox));
  self->pair.dr[1] = CLAMP ((int) gtk_adjustment_get_value (self->dr2), 0, max_offset (self, self->pair.oy));
  self->pair.dc[1] = CLAMP ((int) gtk_adjustment_get_value (self->dc2), 0, max_offset (self, self->pair.ox));
  pair_changed (self);
}

typedef struct {
  PxStudy *study;
  int      side;
} PrepareJob;

static void
prepare_job_free (PrepareJob *job)
{
  g_object_unref (job->study);
  g_free (job);
}

// The squeeze of a whole radiograph to the working square reads every pixel: done in a
// worker, like the model's passes.
static void
prepare_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PrepareJob *job = task_data;
  const PxImage *image = px_study_get_image (job->study);
  PeacPreprocess pp = { job->side, PEAC_MEAN, PEAC_STD, 0 };
  g_autofree float *unit = g_new (float, (gsize) image->width * image->height);
  float *norm = g_new (float, 3 * (gsize) job->side * job->side);

  px_image_to_unit (image, unit);
  peac_preprocess (unit, image->width, image->height, &pp, norm);
  g_task_return_pointer (task, norm, g_free);
}

static void
on_prepared (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PxGridMatchingPage) self = user_data;
  PrepareJob *job = g_task_get_task_data (G_TASK (result));
  g_autofree float *norm = g_task_propagate_pointer (G_TASK (result), NULL);
  guint8 *data;
  int stride;

  // A newer study or model made this one stale.
  if (norm == NULL || job->study != self->study || job->side != self->side)
    return;
  self->norm = g_steal_pointer (&norm);
  self->image = cairo_image_surface_create (CAIRO_FORMAT_RGB24, self->side, self->side);
  data = cairo_image_surface_get_data (self->image);
  stride = cairo_image_surface_get_stride (self->image);
  cairo_surface_flush (self->image);
  for (int y = 0; y < self->side; y++)
    for (int x = 0; x < self->side; x++)
      {
        float v = self->norm[(gsize) y * self->side + x] * PEAC_STD + PEAC_MEAN;
        guint32 g = (guint32) CLAMP (lrintf (v * 255), 0, 255);

        ((guint32 *) (data + (gsize) y * stride))[x] = 0xff000000u | (g << 16) | (g << 8) | g;
      }
  cairo_surface_mark_dirty (self->image);
  resample (self);
}

static void
prepare_study (PxGridMatchingPage *self)
{
  PxModel *model = self->embedder != NULL ? px_embedder_get_model (self->embedder) : NULL;
  g_autoptr(GTask) task = NULL;
  PrepareJob *job;
  int gh, gw, dim;

  g_clear_pointer (&self->norm, g_free);
  g_clear_pointer (&self->image, cairo_surface_destroy);
  self->have_pair = self->have_sim = FALSE;
  gtk_stack_set_visible_child_name (self->stack, self->study != NULL ? "view" : "empty");
  update_status (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
  if (self->study == NULL || model == NULL)
    return;

  px_model_get_grid (model, &gh, &gw, &dim);
  self->grid = MIN (gh, PEAC_VIEWS_MAX_GRID);
  self->cell = px_model_get_input_size (model) / self->grid;
  self->side = (self->grid + MAX_SHIFT + 1) * self->cell;
  gtk_adjustment_set_upper (self->dr1, MAX_SHIFT);
  gtk_adjustment_set_upper (self->dc1, MAX_SHIFT);
  gtk_adjustment_set_upper (self->dr2, MAX_SHIFT);
  gtk_adjustment_set_upper (self->dc2, MAX_SHIFT);

  job = g_new0 (PrepareJob, 1);
  job->study = g_object_ref (self->study);
  job->side = self->side;
  task = g_task_new (NULL, NULL, on_prepared, g_object_ref (self));
  g_task_set_source_tag (task, prepare_study);
  g_task_set_task_data (task, job, (GDestroyNotify) prepare_job_free);
  g_task_run_in_thread (task, prepare_thread);
}

typedef struct {
  double x, y, scale;   // panel origin and view units per pixel
} Panel;

// Four square panels in a row: the image, crop 1, crop 2, the student's input.
static Panel
place (PxGridMatchingPage *self,
       double              width,
       double              height,
       int                 index)
{
  double slot = MIN ((width - 5 * GAP) / 4, height - 2 * GAP - LABEL);
  double extent = index == 0 ? self->side : self->grid * self->cell;
  Panel p;

  p.scale = MAX (slot, 1) / extent;
  p.x = GAP + index * (slot + GAP) + (width - 4 * slot - 5 * GAP) / 2;
  p.y = GAP + LABEL + (height - 2 * GAP - LABEL - slot) / 2;
  return p;
}

// The ramp runs from the mean over unmatched pairs (darkest) to 1 (yellow): how far a
// matched pair stands out from chance, which an absolute scale would hide when every cosine
// of a model is close to 1.
static void
sim_colour (PxGridMatchingPage *self,
            float               sim,
            double             *r,
            double             *g,
            double             *b)
{
  double base = isfinite (self->mean_unmatched) ? MIN (self->mean_unmatched, 0.999) : 0.0;

  px_match_viridis ((sim - base) / (1.0 - base), r, g, b);
}

static void
draw_label (cairo_t    *cr,
            const Panel *p,
            const char *text)
{
  cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
  cairo_set_font_size (cr, 13);
  cairo_move_to (cr, p->x, p->y - 7);
  cairo_show_text (cr, text);
}

static void
draw_crop (PxGridMatchingPage *self,
           cairo_t            *cr,
           const Panel        *p,
           int                 k,
           gboolean            shuffled)
{
  int G = self->grid, cell = self->cell;
  int x0 = self->pair.ox + self->pair.dc[k] * cell, y0 = self->pair.oy + self->pair.dr[k] * cell;

  for (int i = 0; i < G * G; i++)
    {
      // Shuffled: output cell i shows input cell perm[i] (peac_views_shuffle_cells).
      int from = shuffled ? self->perm[i] : i;

      cairo_save (cr);
      cairo_rectangle (cr, p->x + (i % G) * cell * p->scale, p->y + (i / G) * cell * p->scale,
                       cell * p->scale + 0.3, cell * p->scale + 0.3);
      cairo_clip (cr);
      cairo_translate (cr, p->x + ((i % G) - (from % G)) * cell * p->scale,
                       p->y + ((i / G) - (from / G)) * cell * p->scale);
      cairo_scale (cr, p->scale, p->scale);
      cairo_set_source_surface (cr, self->image, -x0, -y0);
      cairo_paint (cr);
      cairo_restore (cr);
    }
  cairo_set_source_rgba (cr, 1, 1, 1, 0.15);
  cairo_set_line_width (cr, 1);
  for (int i = 0; i <= G; i++)
    {
      cairo_move_to (cr, p->x + i * cell * p->scale, p->y);
      cairo_line_to (cr, p->x + i * cell * p->scale, p->y + G * cell * p->scale);
      cairo_move_to (cr, p->x, p->y + i * cell * p->scale);
      cairo_line_to (cr, p->x + G * cell * p->scale, p->y + i * cell * p->scale);
    }
  cairo_stroke (cr);
}

static void
draw_view (PxGridMatchingPage *self,
           cairo_t            *cr,
           double              width,
           double              height)
{
  int G = self->grid, cell = self->cell;
  Panel pi, p1, p2, ps;
  double r, g, b;

  cairo_set_source_rgb (cr, 0.067, 0.067, 0.067);
  cairo_paint (cr);
  if (!self->have_pair)
    return;
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  pi = place (self, width, height, 0);
  p1 = place (self, width, height, 1);
  p2 = place (self, width, height, 2);
  ps = place (self, width, height, 3);

  // The image with the lattice, both crops and their overlap.
  cairo_save (cr);
  cairo_translate (cr, pi.x, pi.y);
  cairo_scale (cr, pi.scale, pi.scale);
  cairo_set_source_surface (cr, self->image, 0, 0);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.12);
  cairo_set_line_width (cr, 1);
  for (int x = self->pair.ox; x <= self->side; x += cell)
    {
      cairo_move_to (cr, pi.x + x * pi.scale, pi.y);
      cairo_line_to (cr, pi.x + x * pi.scale, pi.y + self->side * pi.scale);
    }
  for (int y = self->pair.oy; y <= self->side; y += cell)
    {
      cairo_move_to (cr, pi.x, pi.y + y * pi.scale);
      cairo_line_to (cr, pi.x + self->side * pi.scale, pi.y + y * pi.scale);
    }
  cairo_stroke (cr);
  {
    int ax = MAX (self->pair.dc[0], self->pair.dc[1]), ay = MAX (self->pair.dr[0], self->pair.dr[1]);
    int bx = MIN (self->pair.dc[0], self->pair.dc[1]) + G, by = MIN (self->pair.dr[0], self->pair.dr[1]) + G;

    cairo_set_source_rgba (cr, 0.94, 0.89, 0.26, 0.25);
    cairo_rectangle (cr, pi.x + (self->pair.ox + ax * cell) * pi.scale, pi.y + (self->pair.oy + ay * cell) * pi.scale,
                     (bx - ax) * cell * pi.scale, (by - ay) * cell * pi.scale);
    cairo_fill (cr);
  }
  for (int k = 0; k < 2; k++)
    {
      px_match_palette (k == 0 ? 0 : 1, &r, &g, &b);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_set_line_width (cr, 2.5);
      cairo_rectangle (cr, pi.x + (self->pair.ox + self->pair.dc[k] * cell) * pi.scale,
                       pi.y + (self->pair.oy + self->pair.dr[k] * cell) * pi.scale,
                       G * cell * pi.scale, G * cell * pi.scale);
      cairo_stroke (cr);
    }
  draw_label (cr, &pi, _("Radiograph, shared grid and overlap"));

  draw_crop (self, cr, &p1, 0, FALSE);
  draw_crop (self, cr, &p2, 1, FALSE);
  {
    g_autoptr(GVariant) state = g_action_group_get_action_state (G_ACTION_GROUP (self->actions), "student");
    const char *student = g_variant_get_string (state, NULL);

    if (g_str_equal (student, "distorted") && self->distorted != NULL)
      {
        cairo_save (cr);
        cairo_translate (cr, ps.x, ps.y);
        cairo_scale (cr, ps.scale, ps.scale);
        cairo_set_source_surface (cr, self->distorted, 0, 0);
        cairo_paint (cr);
        cairo_restore (cr);
      }
    else
      draw_crop (self, cr, &ps, 0, g_str_equal (student, "shuffled"));
  }
  draw_label (cr, &p1, _("Crop 1 (student)"));
  draw_label (cr, &p2, _("Crop 2 (teacher)"));
  draw_label (cr, &ps, _("Student input"));

  // Matched cells tinted by similarity in both crops, and joined: all of them when asked
  // (grid.lines), else one pair in four rows and four columns, which can still be followed.
  g_autoptr(GVariant) all_lines = g_action_group_get_action_state (G_ACTION_GROUP (self->actions), "lines");
  for (int i = 0; i < G * G; i++)
    {
      int j = self->partner[i];
      double cs1 = cell * p1.scale, cs2 = cell * p2.scale;

      if (j < 0)
        continue;
      if (self->have_sim)
        sim_colour (self, self->sim[i], &r, &g, &b);
      else
        r = g = b = 0.8;
      cairo_set_source_rgba (cr, r, g, b, 0.35);
      cairo_rectangle (cr, p1.x + (i % G) * cs1, p1.y + (i / G) * cs1, cs1, cs1);
      cairo_rectangle (cr, p2.x + (j % G) * cs2, p2.y + (j / G) * cs2, cs2, cs2);
      cairo_fill (cr);
      if (!g_variant_get_boolean (all_lines) && ((i / G) % 4 != 0 || (i % G) % 4 != 0))
        continue;
      cairo_set_source_rgba (cr, r, g, b, 0.55);
      cairo_set_line_width (cr, 1);
      cairo_move_to (cr, p1.x + ((i % G) + 0.5) * cs1, p1.y + ((i / G) + 0.5) * cs1);
      cairo_line_to (cr, p2.x + ((j % G) + 0.5) * cs2, p2.y + ((j / G) + 0.5) * cs2);
      cairo_stroke (cr);
    }
}

static void
draw_export (gpointer  data,
             cairo_t  *cr,
             double    width,
             double    height)
{
  draw_view (data, cr, width, height);
}

static void
draw_area (GtkDrawingArea *area,
           cairo_t        *cr,
           int             width,
           int             height,
           gpointer        user_data)
{
  draw_view (user_data, cr, width, height);
}

static void
on_drag_begin (GtkGestureDrag     *gesture,
               double              x,
               double              y,
               PxGridMatchingPage *self)
{
  Panel pi = place (self, gtk_widget_get_width (GTK_WIDGET (self->area)),
                    gtk_widget_get_height (GTK_WIDGET (self->area)), 0);
  double ix = (x - pi.x) / pi.scale, iy = (y - pi.y) / pi.scale;

  self->drag_crop = -1;
  if (!self->have_pair)
    return;
  // Crop 2 is drawn on top, so it is grabbed first.
  for (int k = 1; k >= 0 && self->drag_crop < 0; k--)
    {
      double cx = self->pair.ox + self->pair.dc[k] * self->cell;
      double cy = self->pair.oy + self->pair.dr[k] * self->cell;

      if (ix >= cx && iy >= cy && ix < cx + self->grid * self->cell && iy < cy + self->grid * self->cell)
        {
          self->drag_crop = k;
          self->drag_dr = self->pair.dr[k];
          self->drag_dc = self->pair.dc[k];
        }
    }
}

static void
on_drag_update (GtkGestureDrag     *gesture,
                double              dx,
                double              dy,
                PxGridMatchingPage *self)
{
  Panel pi = place (self, gtk_widget_get_width (GTK_WIDGET (self->area)),
                    gtk_widget_get_height (GTK_WIDGET (self->area)), 0);
  int k = self->drag_crop, dr, dc;

  if (k < 0)
    return;
  dr = CLAMP (self->drag_dr + (int) lround (dy / pi.scale / self->cell), 0, max_offset (self, self->pair.oy));
  dc = CLAMP (self->drag_dc + (int) lround (dx / pi.scale / self->cell), 0, max_offset (self, self->pair.ox));
  if (dr != self->pair.dr[k] || dc != self->pair.dc[k])
    {
      self->pair.dr[k] = dr;
      self->pair.dc[k] = dc;
      pair_changed (self);
    }
}

// New crops: the next seed (a changed seed draws its pair at once).
static void
resample_action (GSimpleAction *action,
                 GVariant      *param,
                 gpointer       user_data)
{
  PxGridMatchingPage *self = user_data;

  gtk_adjustment_set_value (self->seed, gtk_adjustment_get_value (self->seed) + 1);
}

static void
lines_change_state (GSimpleAction *action,
                    GVariant      *state,
                    gpointer       user_data)
{
  PxGridMatchingPage *self = user_data;

  g_simple_action_set_state (action, state);
  gtk_widget_queue_draw (GTK_WIDGET (self->area));
}

static void
set_offsets_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  PxGridMatchingPage *self = user_data;
  int dr1, dc1, dr2, dc2;

  g_variant_get (param, "(iiii)", &dr1, &dc1, &dr2, &dc2);
  self->updating = TRUE;
  gtk_adjustment_set_value (self->dr1, dr1);
  gtk_adjustment_set_value (self->dc1, dc1);
  gtk_adjustment_set_value (self->dr2, dr2);
  gtk_adjustment_set_value (self->dc2, dc2);
  self->updating = FALSE;
  on_offsets_changed (self);
}

static void
student_change_state (GSimpleAction *action,
                      GVariant      *state,
                      gpointer       user_data)
{
  g_simple_action_set_state (action, state);
  gtk_widget_queue_draw (GTK_WIDGET (PX_GRID_MATCHING_PAGE (user_data)->area));
}

static void
on_export_chosen (gpointer    data,
                  GFile      *file,
                  const char *format)
{
  PxGridMatchingPage *self = data;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GError) error = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (path != NULL &&
      !px_grid_matching_page_export (self, path, format,
                                     MAX (gtk_widget_get_width (GTK_WIDGET (self->area)), 1000),
                                     MAX (gtk_widget_get_height (GTK_WIDGET (self->area)), 300), &error) &&
      PX_IS_WINDOW (root))
    px_window_show_error (PX_WINDOW (root), error->message);
}

static void
export_action (GSimpleAction *action,
               GVariant      *param,
               gpointer       user_data)
{
  const char *format = g_variant_get_string (param, NULL);
  g_autofree char *name = g_strdup_printf ("grid-matching.%s", format);

  px_export_choose_file (user_data, _("Export View"), GTK_FILE_CHOOSER_ACTION_SAVE, name, format,
                         on_export_chosen, user_data);
}

static const GActionEntry page_actions[] = {
  { "resample", resample_action },
  { "set-offsets", set_offsets_action, "(iiii)" },
  { "student", NULL, "s", "'clean'", student_change_state },
  { "lines", NULL, NULL, "false", lines_change_state },
  { "export", export_action, "s" },
};

static void
on_study_selected (PxGridMatchingPage *self)
{
  PxStudy *study = gtk_drop_down_get_selected_item (self->study_dropdown);

  if (study == self->study)
    return;
  g_set_object (&self->study, study);
  prepare_study (self);
}

static void
on_model_changed (PxGridMatchingPage *self)
{
  prepare_study (self);
}

static void
px_grid_matching_page_dispose (GObject *object)
{
  PxGridMatchingPage *self = (PxGridMatchingPage *)object;
  GtkWidget *child;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->embedder != NULL)
    g_signal_handlers_disconnect_by_data (self->embedder, self);
  g_clear_object (&self->embedder);
  g_clear_object (&self->studies);
  g_clear_object (&self->study);
  g_clear_object (&self->actions);
  g_clear_pointer (&self->image, cairo_surface_destroy);
  g_clear_pointer (&self->distorted, cairo_surface_destroy);
  gtk_widget_dispose_template (GTK_WIDGET (self), PX_TYPE_GRID_MATCHING_PAGE);
  // The template's top box has no id, so it is unparented here.
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (px_grid_matching_page_parent_class)->dispose (object);
}

static void
px_grid_matching_page_finalize (GObject *object)
{
  PxGridMatchingPage *self = (PxGridMatchingPage *)object;

  g_free (self->norm);
  g_free (self->sim);

  G_OBJECT_CLASS (px_grid_matching_page_parent_class)->finalize (object);
}

static void
px_grid_matching_page_class_init (PxGridMatchingPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = px_grid_matching_page_dispose;
  object_class->finalize = px_grid_matching_page_finalize;

  px_ensure_resources ();
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/peac/Explorer/px-grid-matching-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PxGridMatchingPage, study_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PxGridMatchingPage, stack);
  gtk_widget_class_bind_template_child (widget_class, PxGridMatchingPage, area);
  gtk_widget_class_bind_template_child (widget_class, PxGridMatchingPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, PxGridMatchingPage, seed);
  gtk_widget_class_bind_template_child (widget_class, PxGridMatchingPage, dr1);
  gtk_widget_class_bind_template_child (widget_class, PxGridMatchingPage, dc1);
  gtk_widget_class_bind_template_child (widget_class, PxGridMatchingPage, dr2);
  gtk_widget_class_bind_template_child (widget_class, PxGridMatchingPage, dc2);
}

static void
px_grid_matching_page_init (PxGridMatchingPage *self)
{
  GtkGesture *drag;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->drag_crop = -1;
  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), page_actions,
                                   G_N_ELEMENTS (page_actions), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "grid", G_ACTION_GROUP (self->actions));

  px_study_dropdown_setup (self->study_dropdown, gtk_property_expression_new (PX_TYPE_STUDY, NULL, "title"));
  g_signal_connect_swapped (self->study_dropdown, "notify::selected-item",
                            G_CALLBACK (on_study_selected), self);
  g_signal_connect_swapped (self->seed, "value-changed", G_CALLBACK (resample), self);
  g_signal_connect_swapped (self->dr1, "value-changed", G_CALLBACK (on_offsets_changed), self);
  g_signal_connect_swapped (self->dc1, "value-changed", G_CALLBACK (on_offsets_changed), self);
  g_signal_connect_swapped (self->dr2, "value-changed", G_CALLBACK (on_offsets_changed), self);
  g_signal_connect_swapped (self->dc2, "value-changed", G_CALLBACK (on_offsets_changed), self);

  gtk_drawing_area_set_draw_func (self->area, draw_area, self, NULL);
  drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self->area), GTK_EVENT_CONTROLLER (drag));
}

void
px_grid_matching_page_set_studies (PxGridMatchingPage *self,
                                   GListModel         *studies)
{
  g_return_if_fail (PX_IS_GRID_MATCHING_PAGE (self));

  g_set_object (&self->studies, studies);
  gtk_drop_down_set_model (self->study_dropdown, studies);
  on_study_selected (self);
}

void
px_grid_matching_page_set_embedder (PxGridMatchingPage *self,
                                    PxEmbedder         *embedder)
{
  g_return_if_fail (PX_IS_GRID_MATCHING_PAGE (self));

  if (self->embedder != NULL)
    g_signal_handlers_disconnect_by_data (self->embedder, self);
  g_set_object (&self->embedder, embedder);
  if (embedder != NULL)
    g_signal_connect_swapped (embedder, "notify::model", G_CALLBACK (on_model_changed), self);
  prepare_study (self);
}

/**
 * px_grid_matching_page_get_ready:
 *
 * Returns: whether a pair is drawn and the model's similarities are in
 */
gboolean
px_grid_matching_page_get_ready (PxGridMatchingPage *self)
{
  g_return_val_if_fail (PX_IS_GRID_MATCHING_PAGE (self), FALSE);
  return self->have_pair && self->have_sim;
}

int
px_grid_matching_page_get_grid (PxGridMatchingPage *self)
{
  g_return_val_if_fail (PX_IS_GRID_MATCHING_PAGE (self), 0);
  return self->grid;
}

void
px_grid_matching_page_get_offsets (PxGridMatchingPage *self,
                                   int                *dr1,
                                   int                *dc1,
                                   int                *dr2,
                                   int                *dc2)
{
  g_return_if_fail (PX_IS_GRID_MATCHING_PAGE (self));

  *dr1 = self->pair.dr[0];
  *dc1 = self->pair.dc[0];
  *dr2 = self->pair.dr[1];
  *dc2 = self->pair.dc[1];
}

/**
 * px_grid_matching_page_get_pairs:
 * @pair: (array): G·G entries: the crop-2 partner drawn for each crop-1 cell, or -1
 *
 * Returns: the number of drawn pairs
 */
int
px_grid_matching_page_get_pairs (PxGridMatchingPage *self,
                                 int                *pair)
{
  g_return_val_if_fail (PX_IS_GRID_MATCHING_PAGE (self), 0);

  memcpy (pair, self->partner, sizeof (int) * self->grid * self->grid);
  return self->have_pair ? self->n_pairs : 0;
}

gboolean
px_grid_matching_page_get_similarity (PxGridMatchingPage *self,
                                      double             *matched,
                                      double             *unmatched)
{
  g_return_val_if_fail (PX_IS_GRID_MATCHING_PAGE (self), FALSE);

  *matched = self->mean_matched;
  *unmatched = self->mean_unmatched;
  return self->have_sim;
}

/**
 * px_grid_matching_page_export:
 * @format: "png" or "svg"
 */
gboolean
px_grid_matching_page_export (PxGridMatchingPage  *self,
                              const char          *path,
                              const char          *format,
                              double               width,
                              double               height,
                              GError             **error)
{
  g_return_val_if_fail (PX_IS_GRID_MATCHING_PAGE (self), FALSE);

  return px_export_drawing (path, format, width, height, draw_export, self, error);
}
