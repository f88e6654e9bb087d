// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-tsne: `peac tsne --matrix FILE` maps the rows of an N×D matrix (.npy float32/float64
// or CSV, optionally with a header and one text label column) to 2-D with the engine's
// t-SNE and writes "x,y[,label]" CSV to stdout or -o FILE; --json prints the final KL
// divergence and timings instead; --png/--svg draw the map with Cairo, coloured by label
// with a legend. The landmark mode, `peac tsne --model M --landmarks DIR [IMAGE...]`, maps
// anatomical landmarks of many radiographs instead: each image of a JSRT-layout folder is
// fed whole (resized to the model's input, no crop, as in eval-landmarks), and for each
// selected landmark the embedding is the token grid sampled at the point — bilinearly
// between the four surrounding cell centres (default) or, with --sample crop, the mean of
// the tokens whose cell centres lie in a square of --crop-cells cells centred on it — L2-
// normalised, because the model's tokens are compared by cosine everywhere else. The map
// goes out as "image,landmark,x,y" CSV and the plots are coloured by landmark (or structure).
#include "config.h"

#include <cairo.h>
#include <cairo-svg.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "px-model-input.h"
#include "cli.h"
#include "px-csv-matrix.h"
#include "px-csv.h"
#include "match.h"
#include "model.h"
#include "npy.h"
#include "ops.h"
#include "px-landmarks.h"
#include "tsne.h"

typedef struct {
  float *X;
  int N, D;
  char **labels;        // [N] or NULL; landmark mode: the landmark's name ("RL.0")
  char **images;        // landmark mode only: [N] the image ID of each row
  const char **structs; // landmark mode only: [N] the structure (static strings)
} Matrix;

static void
matrix_free (Matrix *m)
{
  free (m->X);
  for (int i = 0; i < m->N; i++)
    {
      if (m->labels)
        free (m->labels[i]);
      if (m->images)
        free (m->images[i]);
    }
  free (m->labels);
  free (m->images);
  free (m->structs);
}


static int
read_matrix (const char *path, Matrix *m, char *err, size_t errlen)
{
  memset (m, 0, sizeof *m);
  size_t n = strlen (path);
  if (n >= 4 && strcasecmp (path + n - 4, ".npy") == 0)
    {
      m->X = npy_read_matrix (path, &m->N, &m->D, err, errlen);
      if (!m->X)
        return -1;
      for (size_t e = 0; e < (size_t) m->N * m->D; e++)
        if (!isfinite (m->X[e]))
          {
            snprintf (err, errlen, "%s: element %zu (row %zu) is not finite", path, e, e / m->D);
            return -1;
          }
      return 0;
    }
  PeacCsvMatrix c;
  if (peac_csv_read_matrix (path, &c, err, errlen) != 0)
    return -1;
  m->X = c.X, m->N = c.N, m->D = c.D, m->labels = c.labels;
  return 0;
}

// ---- Drawing: points fitted into a square with a margin, one colour per label (in the
// order labels first appear), a legend box in the top-right corner.

static const double palette[][3] = {
  { 0.12, 0.47, 0.71 }, { 1.00, 0.50, 0.05 }, { 0.17, 0.63, 0.17 }, { 0.84, 0.15, 0.16 },
  { 0.58, 0.40, 0.74 }, { 0.55, 0.34, 0.29 }, { 0.89, 0.47, 0.76 }, { 0.50, 0.50, 0.50 },
  { 0.74, 0.74, 0.13 }, { 0.09, 0.75, 0.81 },
  // Lighter companions, so that 20 landmarks (5 structures × 4 points) stay distinct.
  { 0.68, 0.78, 0.91 }, { 1.00, 0.73, 0.47 }, { 0.60, 0.87, 0.54 }, { 1.00, 0.60, 0.59 },
  { 0.77, 0.69, 0.84 }, { 0.77, 0.61, 0.58 }, { 0.97, 0.71, 0.82 }, { 0.78, 0.78, 0.78 },
  { 0.86, 0.86, 0.55 }, { 0.62, 0.85, 0.90 },
};
enum { N_PALETTE = sizeof palette / sizeof palette[0] };

static void
draw_map (cairo_t *cr, int size, const float *Y, int N, char **labels)
{
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  if (N < 1)
    return;
  float x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int i = 0; i < N; i++)
    {
      x0 = fminf (x0, Y[2 * i]); x1 = fmaxf (x1, Y[2 * i]);
      y0 = fminf (y0, Y[2 * i + 1]); y1 = fmaxf (y1, Y[2 * i + 1]);
    }
  // Label → class index in order of first appearance.
  int *cls = calloc ((size_t) N, sizeof *cls);
  const char **names = calloc ((size_t) N + 1, sizeof *names);
  int n_cls = 0;
  if (labels && cls && names)
    for (int i = 0; i < N; i++)
      {
        int c = 0;
        while (c < n_cls && strcmp (names[c], labels[i]) != 0)
          c++;
        if (c == n_cls)
          names[n_cls++] = labels[i];
        cls[i] = c;
      }
  // The legend's width, kept free of points on the right.
  int shown = n_cls < 20 ? n_cls : 20;
  double w = 0.0;
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 12.0);
  for (int c = 0; c < shown; c++)
    {
      cairo_text_extents_t te;
      cairo_text_extents (cr, names[c], &te);
      w = fmax (w, te.x_advance);
    }
  double bw = w + 34, legend = n_cls > 0 ? fmin (bw + 16, 0.4 * size) : 0.0;
  // Equal scales on both axes, the layout centred in the area left of the legend.
  double margin = 0.05 * size, aw = size - legend - 2 * margin, ah = size - 2 * margin;
  double s = fmin (aw / fmax (x1 - x0, 1e-12), ah / fmax (y1 - y0, 1e-12));
  double ox = margin + 0.5 * (aw - s * (x1 - x0));
  double oy = margin + 0.5 * (ah - s * (y1 - y0));
  double r = fmin (4.0, fmax (1.0, 5.0 - log10 ((double) N)));
  for (int i = 0; i < N; i++)
    {
      const double *col = palette[cls ? cls[i] % N_PALETTE : 0];
      cairo_set_source_rgba (cr, col[0], col[1], col[2], 0.8);
      cairo_arc (cr, ox + s * (Y[2 * i] - x0), size - (oy + s * (Y[2 * i + 1] - y0)), r, 0,
                 2 * M_PI);
      cairo_fill (cr);
    }
  if (n_cls > 0)
    {
      double bh = 18.0 * (shown + (n_cls > shown)) + 10;
      double bx = size - bw - 8, by = 8;
      cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
      cairo_rectangle (cr, bx, by, bw, bh);
      cairo_fill_preserve (cr);
      cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
      cairo_set_line_width (cr, 1.0);
      cairo_stroke (cr);
      for (int c = 0; c < shown; c++)
        {
          const double *col = palette[c % N_PALETTE];
          cairo_set_source_rgb (cr, col[0], col[1], col[2]);
          cairo_arc (cr, bx + 12, by + 14 + 18 * c, 5, 0, 2 * M_PI);
          cairo_fill (cr);
          cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
          cairo_move_to (cr, bx + 24, by + 18 + 18 * c);
          cairo_show_text (cr, names[c]);
        }
      if (n_cls > shown)
        {
          char more[48];
          snprintf (more, sizeof more, "… %d more", n_cls - shown);
          cairo_move_to (cr, bx + 24, by + 18 + 18 * shown);
          cairo_show_text (cr, more);
        }
    }
  free (cls);
  free (names);
}

static int
write_plot (const char *path, int svg, const float *Y, int N, char **labels, char *err,
            size_t errlen)
{
  const int size = 800;
  cairo_surface_t *surf = svg ? cairo_svg_surface_create (path, size, size)
                              : cairo_image_surface_create (CAIRO_FORMAT_RGB24, size, size);
  if (cairo_surface_status (surf) != CAIRO_STATUS_SUCCESS)
    {
      snprintf (err, errlen, "%s: %s", path, cairo_status_to_string (cairo_surface_status (surf)));
      cairo_surface_destroy (surf);
      return -1;
    }
  cairo_t *cr = cairo_create (surf);
  draw_map (cr, size, Y, N, labels);
  cairo_destroy (cr);
  cairo_status_t st = CAIRO_STATUS_SUCCESS;
  if (svg)
    {
      cairo_surface_finish (surf);
      st = cairo_surface_status (surf);
    }
  else
    st = cairo_surface_write_to_png (surf, path);
  cairo_surface_destroy (surf);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      snprintf (err, errlen, "%s: %s", path, cairo_status_to_string (st));
      return -1;
    }
  return 0;
}

// ---- Landmark mode: embeddings of landmarks sampled from token grids.

typedef enum { SAMPLE_POINT, SAMPLE_CROP } SampleMode;

typedef struct {
  const char *model, *dir;
  char **images;         // restriction to these IDs / file names, or NULL
  int n_images;
  int max_images;        // 0 = all
  int per_structure;     // 0 = every point
  SampleMode sample;
  double crop_cells;
} LandmarkArgs;

// The mean token of the cells whose centres lie in the side × side (cells) square centred
// on (u, v); the containing cell when none does.
static void
sample_crop (const float *tok, int gh, int gw, int dim, double u, double v, double side,
             float *out)
{
  int n = 0;
  memset (out, 0, (size_t) dim * sizeof *out);
  for (int r = 0; r < gh; r++)
    for (int c = 0; c < gw; c++)
      if (fabs (c + 0.5 - u) <= 0.5 * side && fabs (r + 0.5 - v) <= 0.5 * side)
        {
          const float *t = tok + ((size_t) r * gw + c) * dim;
          for (int d = 0; d < dim; d++)
            out[d] += t[d];
          n++;
        }
  if (n == 0)
    {
      int c = (int) floor (u), r = (int) floor (v);
      c = c < 0 ? 0 : c >= gw ? gw - 1 : c;
      r = r < 0 ? 0 : r >= gh ? gh - 1 : r;
      memcpy (out, tok + ((size_t) r * gw + c) * dim, (size_t) dim * sizeof *out);
      return;
    }
  for (int d = 0; d < dim; d++)
    out[d] /= (float) n;
}

// IMAGE arguments name a JSRT ID or its file ("JPCLN001", "JPCLN001.IMG.png", a path).
static char *
image_id (const char *arg)
{
  char *base = g_path_get_basename (arg);
  base[strcspn (base, ".")] = '\0';
  return base;
}

// Fills m with one L2-normalised embedding per (image, selected landmark). Returns 0, or −1
// after printing a message naming the folder, image or model.
static int
landmark_matrix (const LandmarkArgs *a, Matrix *m, double *t_embed)
{
  memset (m, 0, sizeof *m);
  GError *error = NULL;
  char err[1024];
  GStrv all = px_landmarks_jsrt_list (a->dir, &error);
  if (!all)
    {
      fprintf (stderr, "peac tsne: %s: %s\n", a->dir, error->message);
      g_error_free (error);
      return -1;
    }
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  if (a->n_images > 0)
    for (int i = 0; i < a->n_images; i++)
      {
        char *id = image_id (a->images[i]);
        if (!g_strv_contains ((const char *const *) all, id))
          {
            fprintf (stderr, "peac tsne: %s: no image '%s' with all five landmark files\n",
                     a->dir, a->images[i]);
            g_free (id);
            g_ptr_array_free (ids, TRUE);
            g_strfreev (all);
            return -1;
          }
        g_ptr_array_add (ids, id);
      }
  else
    for (int i = 0; all[i]; i++)
      g_ptr_array_add (ids, g_strdup (all[i]));
  g_strfreev (all);
  int n_img = (int) ids->len;
  if (a->max_images > 0 && a->max_images < n_img)
    n_img = a->max_images;
  if (n_img < 1)
    {
      fprintf (stderr, "peac tsne: %s: no image with all five landmark files\n", a->dir);
      g_ptr_array_free (ids, TRUE);
      return -1;
    }

  PeacModel *model = peac_model_load (a->model, err, sizeof err);
  if (!model)
    {
      fprintf (stderr, "peac tsne: %s\n", err);
      g_ptr_array_free (ids, TRUE);
      return -1;
    }
  int side = peac_model_img_size (model), gh, gw, dim;
  peac_model_output_shape (model, side, side, &gh, &gw, &dim);
  float *tok = malloc ((size_t) gh * gw * dim * sizeof *tok);
  size_t cap = 0;
  int rc = tok ? 0 : -1;
  if (!tok)
    fprintf (stderr, "peac tsne: out of memory for a %d×%d×%d token grid\n", gh, gw, dim);
  double t0 = peac_cli_now_s ();
  for (int i = 0; i < n_img && rc == 0; i++)
    {
      const char *id = g_ptr_array_index (ids, i);
      PxLandmarkSet *set = px_landmarks_load_jsrt (a->dir, id, &error);
      if (!set)
        {
          fprintf (stderr, "peac tsne: %s\n", error->message);
          g_clear_error (&error);
          rc = -1;
          break;
        }
      PxModelInput in;
      if (px_model_input_load (set->image_path, side, &in, err, sizeof err) != 0)
        rc = -1;
      else
        {
          if (px_model_input_embed (model, &in, tok, err, sizeof err) != 0)
            rc = -1;
          px_model_input_clear (&in);
        }
      if (rc != 0)
        fprintf (stderr, "peac tsne: %s\n", err);
      // Per structure, every point or K evenly spaced ones (index ⌊k·n/K⌋).
      for (int s = 0; s < 5 && rc == 0; s++)
        {
          const char *sname = px_landmarks_jsrt_structures[s];
          int n = 0, first = -1;
          for (guint k = 0; k < px_landmark_set_size (set); k++)
            {
              const PxLandmark *l = px_landmark_set_get (set, k);
              if (l->structure && !strcmp (l->structure, sname))
                {
                  if (first < 0)
                    first = (int) k;
                  n++;
                }
            }
          int K = a->per_structure > 0 && a->per_structure < n ? a->per_structure : n;
          for (int k = 0; k < K; k++)
            {
              const PxLandmark *l =
                px_landmark_set_get (set, (guint) (first + (K == n ? k : (int) ((long) k * n / K))));
              if ((size_t) m->N == cap)
                {
                  cap = cap ? 2 * cap : 256;
                  float *nx = realloc (m->X, cap * dim * sizeof *nx);
                  char **nl = realloc (m->labels, cap * sizeof *nl);
                  if (nl) m->labels = nl;
                  char **ni = realloc (m->images, cap * sizeof *ni);
                  if (ni) m->images = ni;
                  const char **ns = realloc (m->structs, cap * sizeof *ns);
                  if (ns) m->structs = ns;
                  if (nx) m->X = nx;
                  if (!nx || !nl || !ni || !ns)
                    {
                      fprintf (stderr, "peac tsne: out of memory at %d landmarks\n", m->N);
                      rc = -1;
                      break;
                    }
                }
              // Image pixels (pixel-centre) → continuous cell coordinates of the whole-image grid.
              double u = (l->x + 0.5) * gw / set->image_width;
              double v = (l->y + 0.5) * gh / set->image_height;
              float *x = m->X + (size_t) m->N * dim;
              if (a->sample == SAMPLE_CROP)
                sample_crop (tok, gh, gw, dim, u, v, a->crop_cells, x);
              else
                peac_match_sample_token (tok, gh, gw, dim, u, v, x);
              double nn = 0;
              for (int d = 0; d < dim; d++)
                nn += (double) x[d] * x[d];
              if (nn > 1e-24)
                for (int d = 0; d < dim; d++)
                  x[d] = (float) (x[d] / sqrt (nn));
              m->labels[m->N] = strdup (l->name);
              m->images[m->N] = strdup (id);
              m->structs[m->N] = sname;
              m->N++;
            }
        }
      px_landmark_set_free (set);
    }
  *t_embed = peac_cli_now_s () - t0;
  m->D = dim;
  free (tok);
  peac_model_free (model);
  g_ptr_array_free (ids, TRUE);
  if (rc == 0 && m->N < 2)
    {
      fprintf (stderr, "peac tsne: %s: fewer than two landmarks to map\n", a->dir);
      rc = -1;
    }
  return rc;
}

// Distinct values of a list in which equal values are adjacent (rows of one image are).
static int
count_distinct (char **v, int n)
{
  int k = 0;
  for (int i = 0; i < n; i++)
    k += i == 0 || strcmp (v[i], v[i - 1]) != 0;
  return k;
}

static void
usage (FILE *to)
{
  fprintf (to,
    "Usage: peac tsne --matrix FILE [OPTIONS]\n"
    "       peac tsne --model M --landmarks DIR [IMAGE...] [OPTIONS]\n\n"
    "Maps the rows of FILE (.npy float32/float64 N×D, or CSV with an optional header and\n"
    "one text label column) to 2-D and writes x,y[,label] CSV.\n\n"
    "With --model and --landmarks, maps landmark embeddings instead: DIR is a JSRT-layout\n"
    "folder (images_2048/<ID>.IMG.png, hybridgnet_landmarks_1024/{RL,LL,H,RCLA,LCLA}/<ID>.npy);\n"
    "IMAGE... (IDs or image files) restricts it, default every image. Each image is fed\n"
    "whole (resized to the model's input, no crop); each landmark's embedding is the token\n"
    "grid sampled at the point, L2-normalised. Writes image,landmark,x,y CSV; plots are\n"
    "coloured by landmark.\n"
    "  --model M             PEAC checkpoint (safetensors)\n"
    "  --landmarks DIR       JSRT-layout landmark folder\n"
    "  --max-images N        use at most the first N images\n"
    "  --points-per-structure K  K evenly spaced points of each structure, index floor(k*n/K)\n"
    "                        (default 4, giving 20 landmarks; 0 = every point, 166)\n"
    "  --sample point|crop   point: bilinear between the 4 nearest cell centres (default);\n"
    "                        crop: mean token of the cells centred in a square around it\n"
    "  --crop-cells C        side of that square in cells (default 3)\n"
    "  --color-by landmark|structure  plot colours (default landmark)\n"
    "  Perplexity defaults to min(30, (N - 1) / 3) here.\n\n"
    "Options:\n"
    "  -o, --output FILE     write the coordinates to FILE (default: stdout)\n"
    "      --perplexity P    effective number of neighbours (default 30)\n"
    "      --theta T         Barnes-Hut angle; 0 = exact gradients (default 0.5)\n"
    "      --exact           same as --theta 0\n"
    "      --iters N         iterations, 250 of them with early exaggeration (default 1000)\n"
    "      --learning-rate L learning rate (default: auto = max(N/48, 50))\n"
    "      --init pca|random initial layout (default pca)\n"
    "      --knn auto|vptree|brute  nearest-neighbour search (default auto)\n"
    "      --seed S          random seed (default 42)\n"
    "      --threads T       threads (default 1)\n"
    "      --json            print KL divergence and timings as JSON on stdout (the\n"
    "                        coordinates then go only to -o)\n"
    "      --png FILE        draw the map as PNG (coloured by label, with a legend)\n"
    "      --svg FILE        draw the map as SVG\n"
    "  -q, --quiet           no progress on stderr\n");
}

typedef struct {
  int quiet;
  int last;
  double t0;
} Progress;

static void
on_progress (void *user, int iter, int n_iter, float kl, const float *Y, int N)
{
  Progress *p = user;
  if (p->quiet || kl < 0.0f || iter == p->last)
    return;
  p->last = iter;
  fprintf (stderr, "peac tsne: iteration %d/%d, KL %.4f (%.1f s)\n", iter, n_iter, kl,
           peac_cli_now_s () - p->t0);
}

static int
parse_num (const char *opt, const char *s, double lo, double *out)
{
  double v;
  if (!peac_csv_number (s, &v) || !(v >= lo))
    {
      fprintf (stderr, "peac tsne: %s expects a number ≥ %g, got '%s'\n", opt, lo, s);
      return -1;
    }
  *out = v;
  return 0;
}

// The command line, parsed.
typedef struct {
  TsneParams p;
  const char *matrix, *output, *png, *svg;
  int json, perplexity_set, color_structure, quiet;
  LandmarkArgs la;      // the landmark mode when la.model or la.dir is given
} TsneArgs;

// Fills a from argv. Returns -1 to run, else the exit status (0 after --help, 2 after a
// message).
static int
parse_args (TsneArgs *a, int argc, char **argv)
{
  enum { O_PERP = 1000, O_THETA, O_EXACT, O_ITERS, O_SEED, O_THREADS, O_JSON, O_PNG, O_SVG,
         O_MODEL, O_LANDMARKS, O_LR, O_INIT, O_KNN, O_MAX_IMAGES, O_PPS, O_SAMPLE, O_CROP,
         O_COLOR };
  static const struct option opts[] = {
    { "matrix", required_argument, NULL, 'm' },
    { "output", required_argument, NULL, 'o' },
    { "perplexity", required_argument, NULL, O_PERP },
    { "theta", required_argument, NULL, O_THETA },
    { "exact", no_argument, NULL, O_EXACT },
    { "iters", required_argument, NULL, O_ITERS },
    { "learning-rate", required_argument, NULL, O_LR },
    { "init", required_argument, NULL, O_INIT },
    { "knn", required_argument, NULL, O_KNN },
    { "seed", required_argument, NULL, O_SEED },
    { "threads", required_argument, NULL, O_THREADS },
    { "json", no_argument, NULL, O_JSON },
    { "png", required_argument, NULL, O_PNG },
    { "svg", required_argument, NULL, O_SVG },
    { "model", required_argument, NULL, O_MODEL },
    { "landmarks", required_argument, NULL, O_LANDMARKS },
    { "max-images", required_argument, NULL, O_MAX_IMAGES },
    { "points-per-structure", required_argument, NULL, O_PPS },
    { "sample", required_argument, NULL, O_SAMPLE },
    { "crop-cells", required_argument, NULL, O_CROP },
    { "color-by", required_argument, NULL, O_COLOR },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  *a = (TsneArgs) { .la = { .per_structure = 4, .sample = SAMPLE_POINT, .crop_cells = 3.0 } };
  tsne_params_init (&a->p);
  TsneParams *p = &a->p;
  LandmarkArgs *la = &a->la;
  double v;
  int c;
  optind = 0;
  while ((c = peac_cli_getopt ("tsne", argc, argv, "m:o:qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'm': a->matrix = optarg; break;
      case 'o': a->output = optarg; break;
      case 'q': a->quiet = 1; break;
      case 'h': usage (stdout); return 0;
      case O_PERP:
        if (parse_num ("--perplexity", optarg, 1e-3, &v)) return 2;
        p->perplexity = (float) v;
        a->perplexity_set = 1;
        break;
      case O_THETA:
        if (parse_num ("--theta", optarg, 0.0, &v)) return 2;
        p->theta = (float) v;
        break;
      case O_EXACT: p->theta = 0.0f; break;
      case O_ITERS:
        if (parse_num ("--iters", optarg, 0.0, &v) || v > 1e7) return 2;
        p->max_iter = (int) v;
        break;
      case O_LR:
        if (parse_num ("--learning-rate", optarg, 1e-6, &v)) return 2;
        p->learning_rate = (float) v;
        break;
      case O_SEED:
        if (parse_num ("--seed", optarg, 0.0, &v)) return 2;
        p->seed = (uint64_t) v;
        break;
      case O_THREADS:
        if (parse_num ("--threads", optarg, 1.0, &v) || v > 1024) return 2;
        p->n_threads = (int) v;
        break;
      case O_INIT:
        if (!strcmp (optarg, "pca")) p->init = TSNE_INIT_PCA;
        else if (!strcmp (optarg, "random")) p->init = TSNE_INIT_RANDOM;
        else { fprintf (stderr, "peac tsne: --init is pca or random, not '%s'\n", optarg); return 2; }
        break;
      case O_KNN:
        if (!strcmp (optarg, "auto")) p->knn = TSNE_KNN_AUTO;
        else if (!strcmp (optarg, "vptree")) p->knn = TSNE_KNN_VPTREE;
        else if (!strcmp (optarg, "brute")) p->knn = TSNE_KNN_BRUTE;
        else { fprintf (stderr, "peac tsne: --knn is auto, vptree or brute, not '%s'\n", optarg); return 2; }
        break;
      case O_JSON: a->json = 1; break;
      case O_PNG: a->png = optarg; break;
      case O_SVG: a->svg = optarg; break;
      case O_MODEL: la->model = optarg; break;
      case O_LANDMARKS: la->dir = optarg; break;
      case O_MAX_IMAGES:
        if (parse_num ("--max-images", optarg, 1.0, &v) || v > 1e7) return 2;
        la->max_images = (int) v;
        break;
      case O_PPS:
        if (parse_num ("--points-per-structure", optarg, 0.0, &v) || v > 1e6) return 2;
        la->per_structure = (int) v;
        break;
      case O_SAMPLE:
        if (!strcmp (optarg, "point")) la->sample = SAMPLE_POINT;
        else if (!strcmp (optarg, "crop")) la->sample = SAMPLE_CROP;
        else { fprintf (stderr, "peac tsne: --sample is point or crop, not '%s'\n", optarg); return 2; }
        break;
      case O_CROP:
        if (parse_num ("--crop-cells", optarg, 1.0, &v) || v > 1e4) return 2;
        la->crop_cells = v;
        break;
      case O_COLOR:
        if (!strcmp (optarg, "landmark")) a->color_structure = 0;
        else if (!strcmp (optarg, "structure")) a->color_structure = 1;
        else { fprintf (stderr, "peac tsne: --color-by is landmark or structure, not '%s'\n", optarg); return 2; }
        break;
      default: return 2;
      }
  const int landmark_mode = la->model || la->dir;
  if (landmark_mode && (!la->model || !la->dir || a->matrix))
    {
      fprintf (stderr, "peac tsne: the landmark mode needs both --model and --landmarks, and "
               "no --matrix\n");
      return 2;
    }
  if (!landmark_mode && !a->matrix)
    {
      fprintf (stderr, "peac tsne: --matrix FILE (or --model and --landmarks) is required\n\n");
      usage (stderr);
      return 2;
    }
  if (!landmark_mode && optind < argc)
    {
      fprintf (stderr, "peac tsne: unexpected argument '%s'\n", argv[optind]);
      return 2;
    }
  la->images = argv + optind;
  la->n_images = argc - optind;
  return -1;
}

// The coordinates as CSV on out: image,landmark,x,y (landmark mode) or x,y[,label].
static void
write_coords (FILE *out, const Matrix *m, const float *Y, int landmark_mode)
{
  if (landmark_mode)
    fprintf (out, "image,landmark,x,y\n");
  else
    fprintf (out, m->labels ? "x,y,label\n" : "x,y\n");
  for (int i = 0; i < m->N && landmark_mode; i++)
    fprintf (out, "%s,%s,%.7g,%.7g\n", m->images[i], m->labels[i], Y[2 * i], Y[2 * i + 1]);
  for (int i = 0; i < m->N && !landmark_mode; i++)
    {
      fprintf (out, "%.7g,%.7g", Y[2 * i], Y[2 * i + 1]);
      if (m->labels)
        fputc (',', out), px_csv_write_field (out, m->labels[i]);
      fputc ('\n', out);
    }
}

// Stage timings of a run, in seconds.
typedef struct {
  double read, embed, tsne;
} Timings;

// --json: the run's size, result, parameters and timings as one JSON object on stdout.
static void
print_json (const TsneArgs *a, const Matrix *m, const TsneResult *res, const Timings *t)
{
  const int landmark_mode = a->la.model != NULL;
  json_t *o = json_object ();
  json_object_set_new (o, "n", json_integer (m->N));
  json_object_set_new (o, "d", json_integer (m->D));
  if (landmark_mode)
    {
      json_object_set_new (o, "images", json_integer (count_distinct (m->images, m->N)));
      json_object_set_new (o, "sample",
                           json_string (a->la.sample == SAMPLE_CROP ? "crop" : "point"));
    }
  json_object_set_new (o, "kl_divergence", json_real (res->kl));
  json_object_set_new (o, "iterations", json_integer (res->iters));
  json_object_set_new (o, "exact", json_boolean (res->exact));
  json_object_set_new (o, "perplexity", json_real (a->p.perplexity));
  json_object_set_new (o, "theta", json_real (a->p.theta));
  json_object_set_new (o, "threads", json_integer (a->p.n_threads));
  json_object_set_new (o, "seed", json_integer ((json_int_t) a->p.seed));
  json_t *sec = json_object ();
  if (landmark_mode)
    json_object_set_new (sec, "embed", json_real (t->embed));
  else
    json_object_set_new (sec, "read", json_real (t->read));
  json_object_set_new (sec, "affinities", json_real (res->t_affinities));
  json_object_set_new (sec, "init", json_real (res->t_init));
  json_object_set_new (sec, "optimise", json_real (res->t_optimise));
  json_object_set_new (sec, "tsne", json_real (t->tsne));
  json_object_set_new (o, "seconds", sec);
  char *text = json_dumps (o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (7));
  if (text)
    printf ("%s\n", text);
  free (text);
  json_decref (o);
}

// Reads the matrix (or embeds the landmarks), maps it and writes what a asks for.
static int
run (TsneArgs *a)
{
  TsneParams *p = &a->p;
  const int landmark_mode = a->la.model != NULL;
  Progress prog = { a->quiet || a->json, -1, peac_cli_now_s () };
  Timings t = { 0 };
  char err[512];
  Matrix m;
  double t_read0 = peac_cli_now_s ();
  if (landmark_mode)
    {
      peac_threads_set (p->n_threads);
      if (landmark_matrix (&a->la, &m, &t.embed) != 0)
        {
          matrix_free (&m);
          return 1;
        }
      if (!a->perplexity_set && p->perplexity > (m.N - 1) / 3.0f)
        p->perplexity = fmaxf ((m.N - 1) / 3.0f, 1.0f);
    }
  else if (read_matrix (a->matrix, &m, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac tsne: %s\n", err);
      matrix_free (&m);
      return 1;
    }
  t.read = peac_cli_now_s () - t_read0;
  float *Y = malloc ((size_t) 2 * m.N * sizeof *Y);
  if (!Y)
    {
      fprintf (stderr, "peac tsne: out of memory for %d points\n", m.N);
      matrix_free (&m);
      return 1;
    }
  p->progress = on_progress;
  p->user = &prog;
  p->progress_every = 50;
  TsneResult res;
  double t_run0 = peac_cli_now_s ();
  if (tsne_run (p, m.X, m.N, m.D, Y, &res, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac tsne: %s: %s\n", landmark_mode ? a->la.dir : a->matrix, err);
      free (Y);
      matrix_free (&m);
      return 1;
    }
  t.tsne = peac_cli_now_s () - t_run0;

  int rc = 0;
  FILE *out = NULL;
  if (a->output)
    {
      out = fopen (a->output, "w");
      if (!out)
        {
          fprintf (stderr, "peac tsne: %s: %s\n", a->output, strerror (errno));
          rc = 1;
        }
    }
  else if (!a->json)
    out = stdout;
  if (out)
    {
      write_coords (out, &m, Y, landmark_mode);
      if (out != stdout && fclose (out) != 0)
        {
          fprintf (stderr, "peac tsne: %s: write failed\n", a->output);
          rc = 1;
        }
    }
  char **plot_labels = a->color_structure && m.structs ? (char **) m.structs : m.labels;
  if (a->png && write_plot (a->png, 0, Y, m.N, plot_labels, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac tsne: %s\n", err);
      rc = 1;
    }
  if (a->svg && write_plot (a->svg, 1, Y, m.N, plot_labels, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac tsne: %s\n", err);
      rc = 1;
    }
  if (a->json)
    print_json (a, &m, &res, &t);
  free (Y);
  matrix_free (&m);
  return rc;
}

int
peac_cmd_tsne (int argc, char **argv)
{
  TsneArgs a;
  const int rc = parse_args (&a, argc, argv);
  return rc >= 0 ? rc : run (&a);
}
