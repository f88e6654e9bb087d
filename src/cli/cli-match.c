// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-match: `peac match --model M A B [C…] --point x,y` — where does a point of radiograph
// A lie in B (and C…)? Each image is fed whole to the model (resized to its input side, no
// crop), the token grids go into one match context with A as the source, and the point is
// answered per target in the guided (default) or nearest mode, with confidence, cycle
// check, top-k cells and the fitted affine; "no match" (nearest) and "unconfirmed" (guided)
// are printed as such. Points are image pixels with the pixel-centre convention of the
// landmark files. Also home of the helpers cli-eval-landmarks.c shares (cli-match.h).
#include "cli-match.h"

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

int
peac_cli_dense_pad (int side, int patch, int stride, char *err, size_t errlen)
{
  int pad = peac_dense_pad (side, patch, stride);
  if (pad < 0)
    snprintf (err, errlen, "stride %d does not tile a %d-px input with %d-px patches (it "
              "must divide %d and leave an even overlap)", stride, side, patch, side);
  return pad;
}

int
peac_cli_input_dense (const CliInput *in, int patch, int stride, CliInput *out, char *err,
                      size_t errlen)
{
  int pad = peac_cli_dense_pad (in->side, patch, stride, err, errlen);
  if (pad < 0)
    return -1;
  *out = *in;
  out->stride = stride == patch ? 0 : stride;
  out->side = in->side + 2 * pad;
  out->plane = malloc ((size_t) out->side * out->side * sizeof *out->plane);
  if (!out->plane)
    {
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  peac_pad_edges (in->plane, 1, in->side, pad, out->plane);
  return 0;
}

int
peac_cli_input_load_dense (const char *path, int side, int patch, int stride, CliInput *in,
                           char *err, size_t errlen)
{
  CliInput whole;
  memset (in, 0, sizeof *in);
  int pad = peac_cli_dense_pad (side, patch, stride, err, errlen);
  if (pad < 0)
    return -1;
  // The patch grid needs no padded copy.
  if (pad == 0)
    return peac_cli_input_load (path, side, in, err, errlen);
  if (peac_cli_input_load (path, side, &whole, err, errlen) < 0)
    return -1;
  int rc = peac_cli_input_dense (&whole, patch, stride, in, err, errlen);
  peac_cli_input_clear (&whole);
  return rc;
}

int
peac_cli_input_load (const char *path, int side, CliInput *in, char *err, size_t errlen)
{
  memset (in, 0, sizeof *in);
  GError *error = NULL;
  PxImage *img = px_image_load (path, &error);
  if (!img)
    {
      snprintf (err, errlen, "%s", error->message);
      g_error_free (error);
      return -1;
    }
  size_t n = (size_t) side * side;
  float *unit = malloc ((size_t) img->width * img->height * sizeof *unit);
  float *x = malloc (3 * n * sizeof *x);
  int rc = -1;
  if (!unit || !x)
    snprintf (err, errlen, "%s: out of memory", path);
  else
    {
      // The same pipeline as peac embed and the app, without the centre crop.
      PeacPreprocess pp = { side, PEAC_MEAN, PEAC_STD, 0 };
      px_image_to_unit (img, unit);
      if (peac_preprocess (unit, img->width, img->height, &pp, x) != 0)
        snprintf (err, errlen, "%s: cannot preprocess", path);
      else
        {
          float *shrunk = realloc (x, n * sizeof *x);   // channel 0; the others are copies
          in->plane = shrunk ? shrunk : x;
          x = NULL;
          in->width = img->width;
          in->height = img->height;
          in->side = side;
          rc = 0;
        }
    }
  free (unit);
  free (x);
  px_image_free (img);
  return rc;
}

void
peac_cli_input_clear (CliInput *in)
{
  free (in->plane);
  in->plane = NULL;
}

int
peac_cli_embed_input (PeacModel *m, const CliInput *in, float *tokens, char *err,
                      size_t errlen)
{
  size_t n = (size_t) in->side * in->side;
  float *x = malloc (3 * n * sizeof *x);
  if (!x)
    {
      snprintf (err, errlen, "out of memory");
      return -1;
    }
  for (int c = 0; c < 3; c++)
    memcpy (x + c * n, in->plane, n * sizeof *x);
  PeacForwardOptions fo = PEAC_FORWARD_DEFAULT;
  fo.stride = in->stride;
  int rc = peac_model_forward_ex (m, &fo, x, 1, in->side, in->side, tokens, NULL, NULL, NULL,
                                  err, errlen);
  free (x);
  return rc;
}

// ---------------------------------------------------------------------------------------

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

int
peac_cmd_match (int argc, char **argv)
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
  const char *model_path = NULL;
  double px = 0, py = 0;
  int have_point = 0, json = 0, threads = 0, c, stride = 0;
  PeacMatchMode mode = PEAC_MATCH_GUIDED;
  PeacMatchParams mp;
  peac_match_params_default (&mp);
  optind = 1;
  while ((c = getopt_long (argc, argv, "m:p:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'm': model_path = optarg; break;
      case 'p':
        if (parse_point (optarg, &px, &py) < 0)
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
        mode = (PeacMatchMode) peac_match_mode_parse (optarg);
        break;
      case O_RADIUS:
        mp.radius = (float) atof (optarg);
        if (!(mp.radius > 0))
          {
            fprintf (stderr, "peac match: --radius expects a positive number\n");
            return 2;
          }
        break;
      case O_THREADS: threads = atoi (optarg); break;
      case O_STRIDE:
        stride = atoi (optarg);
        if (stride <= 0)
          {
            fprintf (stderr, "peac match: --stride expects a positive number of pixels\n");
            return 2;
          }
        break;
      case O_JSON: json = 1; break;
      case 'h': usage (stdout); return 0;
      default: usage (stderr); return 2;
      }
  int n_img = argc - optind;
  if (!have_point || n_img < 2)
    {
      usage (stderr);
      return 2;
    }
  // No --model: $PEAC_MODEL, else the bundled model (model-find.h).
  static char found[4096];
  const char *dirs[] = PEAC_MODEL_SEARCH_DIRS (PEAC_SOURCE_DIR, PKGDATADIR);
  char ferr[2048];
  if (!model_path && peac_model_find_default (dirs, found, sizeof found, ferr, sizeof ferr) != 0)
    return fprintf (stderr, "peac match: %s\n", ferr), 2;
  if (!model_path)
    model_path = found;
  peac_threads_set (threads);
  char err[1024];
  PeacModel *m = peac_model_load (model_path, err, sizeof err);
  if (!m)
    {
      fprintf (stderr, "peac match: %s\n", err);
      return 1;
    }
  int side = peac_model_img_size (m), gh, gw, dim;
  peac_model_output_shape (m, side, side, &gh, &gw, &dim);
  const int patch = side / gw;
  if (stride && stride != patch)
    {
      const PeacBackbone *bb = peac_model_backbone (m);
      int pad = bb->strides ? peac_cli_dense_pad (side, patch, stride, err, sizeof err) : -1;
      if (!bb->strides)
        snprintf (err, sizeof err, "a %s model has no patch stride", bb->label);
      if (pad < 0)
        {
          fprintf (stderr, "peac match: --stride: %s\n", err);
          peac_model_free (m);
          return 2;
        }
      PeacForwardOptions fo = { stride, -1 };
      peac_model_output_shape_ex (m, &fo, side + 2 * pad, side + 2 * pad, &gh, &gw, &dim);
    }
  size_t per = (size_t) gh * gw * dim;
  float *tok = malloc ((size_t) n_img * per * sizeof *tok);
  PeacGrid *grids = calloc ((size_t) n_img, sizeof *grids);
  int rc = 1;
  PeacMatchContext *ctx = NULL;
  json_t *out = NULL;
  if (!tok || !grids)
    {
      fprintf (stderr, "peac match: out of memory\n");
      goto done;
    }
  for (int i = 0; i < n_img; i++)
    {
      CliInput in;
      const char *path = argv[optind + i];
      if (peac_cli_input_load_dense (path, side, patch, stride, &in, err, sizeof err) < 0
          || peac_cli_embed_input (m, &in, tok + i * per, err, sizeof err) < 0)
        {
          fprintf (stderr, "peac match: %s\n", err);
          peac_cli_input_clear (&in);
          goto done;
        }
      grids[i] = (PeacGrid) { tok + i * per, gh, gw, in.width, in.height };
      peac_cli_input_clear (&in);
    }
  if (px < -0.5 || py < -0.5 || px > grids[0].width - 0.5 || py > grids[0].height - 0.5)
    {
      fprintf (stderr, "peac match: the point (%g, %g) lies outside %s (%g×%g)\n", px, py,
               argv[optind], grids[0].width, grids[0].height);
      rc = 2;
      goto done;
    }
  ctx = peac_match_context_new (&grids[0], grids + 1, n_img - 1, dim, &mp, err, sizeof err);
  if (!ctx)
    {
      fprintf (stderr, "peac match: %s\n", err);
      goto done;
    }
  out = json_object ();
  json_object_set_new (out, "source", json_string (argv[optind]));
  json_object_set_new (out, "point", json_pack ("[f, f]", px, py));
  json_object_set_new (out, "mode", json_string (peac_match_mode_name (mode)));
  json_object_set_new (out, "grid", json_pack ("[i, i]", gh, gw));
  json_t *targets = json_array ();
  for (int t = 0; t < n_img - 1; t++)
    {
      PeacMatch a;
      double A[6];
      peac_match_query (ctx, t, px + 0.5, py + 0.5, mode, &a, NULL);
      int inliers = peac_match_affine (ctx, t, A);
      // The affine in the pixel-centre convention: p' + ½ = A (p + ½).
      double a2 = A[2] + 0.5 * (A[0] + A[1]) - 0.5, a5 = A[5] + 0.5 * (A[3] + A[4]) - 0.5;
      json_t *top = json_array ();
      for (int k = 0; k < a.n_top; k++)
        json_array_append_new (top, json_pack ("{s:i, s:i, s:f}", "row", a.top[k] / gw,
                                               "col", a.top[k] % gw, "sim", a.top_sim[k]));
      json_array_append_new (targets, json_pack (
        "{s:s, s:b, s:f, s:f, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:o, s:[f,f,f,f,f,f], s:i}",
        "image", argv[optind + 1 + t], "found", a.found, "x", a.x - 0.5, "y", a.y - 0.5,
        "row", a.row, "col", a.col, "sim", a.sim, "second", a.second, "margin", a.margin,
        "cycle", a.cycle, "confidence", a.confidence, "top", top,
        "affine", A[0], A[1], a2, A[3], A[4], a5, "inliers", inliers));
      if (!json)
        {
          if (a.found)
            printf ("%s: (%.1f, %.1f)  cell (%d, %d)  sim %.3f  confidence %.2f\n",
                    argv[optind + 1 + t], a.x - 0.5, a.y - 0.5, a.row, a.col, a.sim,
                    a.confidence);
          else if (mode == PEAC_MATCH_GUIDED)
            // The registration always answers; the map just does not single it out.
            printf ("%s: (%.1f, %.1f)  cell (%d, %d)  sim %.3f  unconfirmed (confidence %.2f,"
                    " peak %.0f cells away)\n", argv[optind + 1 + t], a.x - 0.5, a.y - 0.5,
                    a.row, a.col, a.sim, a.confidence, a.cycle);
          else
            printf ("%s: no match  (best candidate (%.1f, %.1f), sim %.3f, confidence %.2f,"
                    " cycle %.0f cells)\n", argv[optind + 1 + t], a.x - 0.5, a.y - 0.5,
                    a.sim, a.confidence, a.cycle);
        }
    }
  json_object_set_new (out, "targets", targets);
  if (json)
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
