// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-match: `peac match --model M A B [C…] --point x,y` — where does a point of radiograph
// A lie in B (and C…)? Each image is fed whole to the model (resized to its input side, no
// crop), the token grids go into one match context with A as the source, and the point is
// answered per target in the guided (default) or nearest mode, with confidence, cycle
// check, top-k cells and the fitted affine; "no match" (nearest) and "unconfirmed" (guided)
// are printed as such. Points are image pixels with the pixel-centre convention of the
// landmark files. The image-to-input helpers are the io library's (px-model-input.h).
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backbone.h"
#include "cli.h"
#include "config.h"
#include "model-find.h"
#include "match.h"
#include "ops.h"
#include "preprocess.h"
#include "px-image.h"
#include "px-model-input.h"

static void
usage (FILE *to)
{
  fprintf (to,
    "Usage: peac match --model M --point X,Y [OPTIONS] A B [C...]\n\n"
    "Finds where the point (X, Y) of radiograph A lies in B (and C...). Each image is fed\n"
    "whole to the model, resized to its input side. Points are image pixels, (0, 0) being\n"
    "the centre of the top-left pixel.\n\n"
    "Options:\n"
    "  -m, --model FILE      model checkpoint (safetensors with peac.* metadata;\n"
    "                        default: $PEAC_MODEL, else the bundled model)\n"
    "  -p, --point X,Y       the point in A\n"
    "      --mode MODE       guided (default: the point mapped through the feature-metric\n"
    "                        registration of the two grids), affine (through its affine\n"
    "                        alone) or nearest (best token anywhere)\n"
    "      --radius R        guided: an answer is confident only when the similarity\n"
    "                        peak within R cells lies within a cell of it (default 2)\n"
    "      --stride S        ViT: dense tokens at a patch stride of S pixels (the app's\n"
    "                        correspondence page uses half the patch; default: the patch)\n"
    "      --threads T       threads (default: all cores)\n"
    "      --json            print the answers as JSON\n");
}

static int
parse_point (const char *s, double *x, double *y)
{
  char *end;
  *x = strtod (s, &end);
  if (end == s || *end != ',')
    return -1;
  const char *t = end + 1;
  *y = strtod (t, &end);
  return (end == t || *end != '\0' || !isfinite (*x) || !isfinite (*y)) ? -1 : 0;
}

typedef struct {
  const char *model_path;
  double px, py;
  int json, threads, stride;
  PeacMatchMode mode;
  PeacMatchParams mp;
  char **images;        // the source, then the targets
  int n_img;
} MatchArgs;

// Fills a from argv. Returns -1 to run, else the exit status.
static int
parse_args (MatchArgs *a, int argc, char **argv)
{
  enum { O_MODE = 1000, O_RADIUS, O_THREADS, O_JSON, O_STRIDE };
  static const struct option opts[] = {
    { "model", required_argument, NULL, 'm' },
    { "point", required_argument, NULL, 'p' },
    { "mode", required_argument, NULL, O_MODE },
    { "radius", required_argument, NULL, O_RADIUS },
    { "stride", required_argument, NULL, O_STRIDE },
    { "threads", required_argument, NULL, O_THREADS },
    { "json", no_argument, NULL, O_JSON },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int have_point = 0, c;
  *a = (MatchArgs) { .mode = PEAC_MATCH_GUIDED };
  peac_match_params_default (&a->mp);
  optind = 0;
  while ((c = peac_cli_getopt ("match", argc, argv, "m:p:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'm': a->model_path = optarg; break;
      case 'p':
        if (parse_point (optarg, &a->px, &a->py) < 0)
          {
            fprintf (stderr, "peac match: --point expects X,Y, got '%s'\n", optarg);
            return 2;
          }
        have_point = 1;
        break;
      case O_MODE:
        if (peac_match_mode_parse (optarg) < 0)
          {
            fprintf (stderr, "peac match: --mode is guided, affine or nearest, not '%s'\n",
                     optarg);
            return 2;
          }
        a->mode = (PeacMatchMode) peac_match_mode_parse (optarg);
        break;
      case O_RADIUS:
        a->mp.radius = (float) atof (optarg);
        if (!(a->mp.radius > 0))
          {
            fprintf (stderr, "peac match: --radius expects a positive number\n");
            return 2;
          }
        break;
      case O_THREADS: a->threads = atoi (optarg); break;
      case O_STRIDE:
        a->stride = atoi (optarg);
        if (a->stride <= 0)
          {
            fprintf (stderr, "peac match: --stride expects a positive number of pixels\n");
            return 2;
          }
        break;
      case O_JSON: a->json = 1; break;
      case 'h': usage (stdout); return 0;
      default: return 2;
      }
  a->images = argv + optind;
  a->n_img = argc - optind;
  if (!have_point || a->n_img < 2)
    {
      usage (stderr);
      return 2;
    }
  // No --model: $PEAC_MODEL, else the bundled model (model-find.h).
  static char found[4096];
  const char *dirs[] = PEAC_MODEL_SEARCH_DIRS (PEAC_SOURCE_DIR, PKGDATADIR);
  char ferr[2048];
  if (!a->model_path && peac_model_find_default (dirs, found, sizeof found, ferr, sizeof ferr) != 0)
    return fprintf (stderr, "peac match: %s\n", ferr), 2;
  if (!a->model_path)
    a->model_path = found;
  return -1;
}

// The token grid shape of m at --stride (its own patch when 0). Returns the patch side, or
// -1 (exit 2) after a message when the stride does not fit the model.
static int
grid_shape (PeacModel *m, int stride, int *gh, int *gw, int *dim)
{
  char err[1024];
  const int side = peac_model_img_size (m);
  peac_model_output_shape (m, side, side, gh, gw, dim);
  const int patch = side / *gw;
  if (stride && stride != patch)
    {
      const PeacBackbone *bb = peac_model_backbone (m);
      int pad = bb->strides ? px_model_input_dense_pad (side, patch, stride, err, sizeof err)
                            : -1;
      if (!bb->strides)
        snprintf (err, sizeof err, "a %s model has no patch stride", bb->label);
      if (pad < 0)
        {
          fprintf (stderr, "peac match: --stride: %s\n", err);
          return -1;
        }
      PeacForwardOptions fo = { stride, -1 };
      peac_model_output_shape_ex (m, &fo, side + 2 * pad, side + 2 * pad, gh, gw, dim);
    }
  return patch;
}

// Loads and embeds every image into tok ([n_img][gh·gw·dim]) and grids. Returns 0 or -1
// after a message.
static int
embed_images (PeacModel *m, const MatchArgs *a, int patch, size_t per, int gh, int gw,
              float *tok, PeacGrid *grids)
{
  char err[1024];
  const int side = peac_model_img_size (m);
  for (int i = 0; i < a->n_img; i++)
    {
      PxModelInput in;
      if (px_model_input_load_dense (a->images[i], side, patch, a->stride, &in, err, sizeof err) < 0
          || px_model_input_embed (m, &in, tok + i * per, err, sizeof err) < 0)
        {
          fprintf (stderr, "peac match: %s\n", err);
          px_model_input_clear (&in);
          return -1;
        }
      grids[i] = (PeacGrid) { tok + i * per, gh, gw, in.width, in.height };
      px_model_input_clear (&in);
    }
  return 0;
}

// Matches the point into target t: its JSON entry, and (without --json) its line on stdout.
static json_t *
match_target (PeacMatchContext *ctx, const MatchArgs *a, int t, int gw)
{
  const char *image = a->images[1 + t];
  PeacMatch r;
  double A[6];
  peac_match_query (ctx, t, a->px + 0.5, a->py + 0.5, a->mode, &r, NULL);
  int inliers = peac_match_affine (ctx, t, A);
  // The affine in the pixel-centre convention: p' + ½ = A (p + ½).
  double a2 = A[2] + 0.5 * (A[0] + A[1]) - 0.5, a5 = A[5] + 0.5 * (A[3] + A[4]) - 0.5;
  json_t *top = json_array ();
  for (int k = 0; k < r.n_top; k++)
    json_array_append_new (top, json_pack ("{s:i, s:i, s:f}", "row", r.top[k] / gw,
                                           "col", r.top[k] % gw, "sim", r.top_sim[k]));
  if (!a->json)
    {
      if (r.found)
        printf ("%s: (%.1f, %.1f)  cell (%d, %d)  sim %.3f  confidence %.2f\n",
                image, r.x - 0.5, r.y - 0.5, r.row, r.col, r.sim, r.confidence);
      else if (a->mode == PEAC_MATCH_GUIDED)
        // The registration always answers; the map just does not single it out.
        printf ("%s: (%.1f, %.1f)  cell (%d, %d)  sim %.3f  unconfirmed (confidence %.2f,"
                " peak %.0f cells away)\n", image, r.x - 0.5, r.y - 0.5,
                r.row, r.col, r.sim, r.confidence, r.cycle);
      else
        printf ("%s: no match  (best candidate (%.1f, %.1f), sim %.3f, confidence %.2f,"
                " cycle %.0f cells)\n", image, r.x - 0.5, r.y - 0.5,
                r.sim, r.confidence, r.cycle);
    }
  return json_pack (
    "{s:s, s:b, s:f, s:f, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:o, s:[f,f,f,f,f,f], s:i}",
    "image", image, "found", r.found, "x", r.x - 0.5, "y", r.y - 0.5,
    "row", r.row, "col", r.col, "sim", r.sim, "second", r.second, "margin", r.margin,
    "cycle", r.cycle, "confidence", r.confidence, "top", top,
    "affine", A[0], A[1], a2, A[3], A[4], a5, "inliers", inliers);
}

static int
run (const MatchArgs *a)
{
  peac_threads_set (a->threads);
  char err[1024];
  PeacModel *m = peac_model_load (a->model_path, err, sizeof err);
  if (!m)
    {
      fprintf (stderr, "peac match: %s\n", err);
      return 1;
    }
  int gh, gw, dim;
  const int patch = grid_shape (m, a->stride, &gh, &gw, &dim);
  if (patch < 0)
    {
      peac_model_free (m);
      return 2;
    }
  size_t per = (size_t) gh * gw * dim;
  float *tok = malloc ((size_t) a->n_img * per * sizeof *tok);
  PeacGrid *grids = calloc ((size_t) a->n_img, sizeof *grids);
  int rc = 1;
  PeacMatchContext *ctx = NULL;
  json_t *out = NULL;
  if (!tok || !grids)
    {
      fprintf (stderr, "peac match: out of memory\n");
      goto done;
    }
  if (embed_images (m, a, patch, per, gh, gw, tok, grids) != 0)
    goto done;
  const double px = a->px, py = a->py;
  if (px < -0.5 || py < -0.5 || px > grids[0].width - 0.5 || py > grids[0].height - 0.5)
    {
      fprintf (stderr, "peac match: the point (%g, %g) lies outside %s (%g×%g)\n", px, py,
               a->images[0], grids[0].width, grids[0].height);
      rc = 2;
      goto done;
    }
  ctx = peac_match_context_new (&grids[0], grids + 1, a->n_img - 1, dim, &a->mp, err, sizeof err);
  if (!ctx)
    {
      fprintf (stderr, "peac match: %s\n", err);
      goto done;
    }
  out = json_object ();
  json_object_set_new (out, "source", json_string (a->images[0]));
  json_object_set_new (out, "point", json_pack ("[f, f]", px, py));
  json_object_set_new (out, "mode", json_string (peac_match_mode_name (a->mode)));
  json_object_set_new (out, "grid", json_pack ("[i, i]", gh, gw));
  json_t *targets = json_array ();
  for (int t = 0; t < a->n_img - 1; t++)
    json_array_append_new (targets, match_target (ctx, a, t, gw));
  json_object_set_new (out, "targets", targets);
  if (a->json)
    {
      char *s = json_dumps (out, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (6));
      puts (s);
      free (s);
    }
  rc = 0;
done:
  json_decref (out);
  peac_match_context_free (ctx);
  free (tok);
  free (grids);
  peac_model_free (m);
  return rc;
}

int
peac_cmd_match (int argc, char **argv)
{
  MatchArgs a;
  const int rc = parse_args (&a, argc, argv);
  return rc >= 0 ? rc : run (&a);
}
