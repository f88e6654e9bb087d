// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-propagate: `peac propagate --atlas DIR [--atlas-k K] TARGET... -o OUT_DIR` — the
// landmarks of several annotated references carried onto each target radiograph and fused.
// For every target the 2K references most like it (global embedding) are registered onto
// it (guided mode: affine and deformable refinement) and the K that register best kept;
// each reference point is answered in every one of them and the K answers are fused by
// their weighted median (weights: how well each reference registered and how similar the
// point's token is at its answer), with the spread of the answers as the point's
// confidence (landmark-atlas.c, px-atlas.c). Writes OUT_DIR/<target stem>.landmarks.json per target with spread_px (and
// spread_mm where the image has a calibrated pixel spacing), confirmed = false above the
// spread threshold, and the cardiothoracic ratio of the fused points under measurements.
// Everything is loaded, embedded and fused before the first file is written, so a target
// that fails leaves nothing half written; existing files are refused unless --force.
#include <getopt.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "px-atlas.h"
#include "cli.h"
#include "config.h"
#include "landmark-fuse.h"
#include "model-find.h"
#include "ops.h"
#include "px-image.h"
#include "px-landmarks.h"

static void
usage (FILE *to)
{
  fprintf (to,
    "Usage: peac propagate --atlas DIR [OPTIONS] TARGET... -o OUT_DIR\n\n"
    "Carries the landmarks of the annotated references in DIR onto each TARGET radiograph:\n"
    "the 2K references most like the target are registered onto it, the K that register\n"
    "best are kept, every reference point is answered in the target and the K answers are\n"
    "fused per point (weighted median).\n"
    "Writes OUT_DIR/<target name>.landmarks.json per target: the fused points with their\n"
    "spread (spread_px; spread_mm where the pixel spacing is known), confirmed = false\n"
    "where the spread exceeds %.1f patch cells, and the cardiothoracic ratio when the\n"
    "references have the heart and both lungs. A measurement aid, not a diagnosis.\n\n"
    "Options:\n"
    "  -m, --model FILE      model checkpoint (default: $PEAC_MODEL, else the bundled model)\n"
    "  -a, --atlas DIR       annotated references: a JSRT folder, a per-image CSV folder\n"
    "                        (geometry.csv) or a folder of *.landmarks.json beside images\n"
    "  -k, --atlas-k K       references fused per target (default 5; at most the atlas)\n"
    "      --root R          data root of a CSV-layout atlas (default: DIR/../..)\n"
    "      --stride S        ViT: dense tokens at a patch stride of S pixels (default: half\n"
    "                        the patch)\n"
    "  -o, --output DIR      folder the landmark files are written to (created if missing)\n"
    "      --force           replace existing landmark files\n"
    "      --no-cache        neither read nor write the token cache (the references' and\n"
    "                        targets' tokens under <user cache>/peac-explorer/tokens, keyed\n"
    "                        by the model's and the image's content)\n"
    "      --threads T       threads (default: all cores)\n", PEAC_ATLAS_SPREAD_CELLS);
}

// The output name of a target: its file name without the last extension.
static char *
stem_of (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  char *dot = strrchr (base, '.');
  if (dot && dot != base)
    *dot = '\0';
  return g_strdup (base);
}

typedef struct {
  const char *model_path, *atlas_dir, *out_dir, *root;
  int k, stride, force, threads, cache;
  char **targets;
  int n_tgt;
} PropagateArgs;

// Fills a from argv. Returns -1 to run, else the exit status.
static int
parse_args (PropagateArgs *a, int argc, char **argv)
{
  enum { O_ROOT = 1000, O_STRIDE, O_FORCE, O_THREADS, O_NO_CACHE };
  static const struct option opts[] = {
    { "model", required_argument, NULL, 'm' },
    { "atlas", required_argument, NULL, 'a' },
    { "atlas-k", required_argument, NULL, 'k' },
    { "output", required_argument, NULL, 'o' },
    { "root", required_argument, NULL, O_ROOT },
    { "stride", required_argument, NULL, O_STRIDE },
    { "force", no_argument, NULL, O_FORCE },
    { "no-cache", no_argument, NULL, O_NO_CACHE },
    { "threads", required_argument, NULL, O_THREADS },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  *a = (PropagateArgs) { .k = 5, .stride = -1, .cache = 1 };
  char *end;
  int c;
  optind = 0;
  while ((c = peac_cli_getopt ("propagate", argc, argv, "m:a:k:o:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'm': a->model_path = optarg; break;
      case 'a': a->atlas_dir = optarg; break;
      case 'k':
        a->k = (int) strtol (optarg, &end, 10);
        if (*end || a->k < 1)
          return fprintf (stderr, "peac propagate: --atlas-k must be a positive integer\n"), 2;
        break;
      case 'o': a->out_dir = optarg; break;
      case O_ROOT: a->root = optarg; break;
      case O_STRIDE:
        a->stride = (int) strtol (optarg, &end, 10);
        if (*end || a->stride < 1)
          return fprintf (stderr, "peac propagate: --stride must be a positive integer\n"), 2;
        break;
      case O_FORCE: a->force = 1; break;
      case O_NO_CACHE: a->cache = 0; break;
      case O_THREADS: a->threads = atoi (optarg); break;
      case 'h': usage (stdout); return 0;
      default: return 2;
      }
  a->targets = argv + optind;
  a->n_tgt = argc - optind;
  if (!a->atlas_dir || !a->out_dir || a->n_tgt < 1)
    {
      usage (stderr);
      return 2;
    }
  return -1;
}

int
peac_cmd_propagate (int argc, char **argv)
{
  PropagateArgs a;
  const int prc = parse_args (&a, argc, argv);
  if (prc >= 0)
    return prc;
  const char *model_path = a.model_path, *atlas_dir = a.atlas_dir, *out_dir = a.out_dir,
             *root = a.root;
  const int k = a.k, force = a.force, threads = a.threads, cache = a.cache, n_tgt = a.n_tgt;
  int stride = a.stride;
  char **targets = a.targets;
  char **stems = g_new0 (char *, (size_t) n_tgt + 1);
  for (int i = 0; i < n_tgt; i++)
    {
      stems[i] = stem_of (targets[i]);
      for (int j = 0; j < i; j++)
        if (!strcmp (stems[i], stems[j]))
          {
            fprintf (stderr, "peac propagate: %s and %s would both write %s.landmarks.json\n",
                     targets[j], targets[i], stems[i]);
            g_strfreev (stems);
            return 2;
          }
    }
  static char found_model[4096];
  const char *dirs[] = PEAC_MODEL_SEARCH_DIRS (PEAC_SOURCE_DIR, PKGDATADIR);
  char err[2048];
  if (!model_path
      && peac_model_find_default (dirs, found_model, sizeof found_model, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac propagate: %s\n", err);
      g_strfreev (stems);
      return 2;
    }
  if (!model_path)
    model_path = found_model;
  peac_threads_set (threads);

  int rc = 1;
  PeacAtlas atlas = { 0 };
  PxAtlasEmbedder e = { 0 };
  float *tok = NULL, *global = NULL;
  PxLandmarkSet **sets = g_new0 (PxLandmarkSet *, (size_t) n_tgt);
  PeacModel *m = peac_model_load (model_path, err, sizeof err);
  if (!m)
    {
      fprintf (stderr, "peac propagate: %s\n", err);
      goto out;
    }
  if (px_atlas_embedder_init (&e, m, stride, err, sizeof err) < 0)
    {
      fprintf (stderr, "peac propagate: %s\n", err);
      rc = 2;
      goto out;
    }
  if (cache && px_atlas_embedder_use_cache (&e, model_path, err, sizeof err) < 0)
    {
      fprintf (stderr, "peac propagate: %s\n", err);
      goto out;
    }
  if (px_atlas_load (&atlas, atlas_dir, root, err, sizeof err) < 0)
    {
      fprintf (stderr, "peac propagate: %s\n", err);
      goto out;
    }
  if (k > atlas.n)
    {
      fprintf (stderr, "peac propagate: --atlas-k %d: %s has %d annotated images\n", k,
               atlas_dir, atlas.n);
      rc = 2;
      goto out;
    }
  for (int i = 0; i < atlas.n; i++)
    if (peac_atlas_check_shared (&atlas.img[i], &atlas.img[0], err, sizeof err) < 0)
      {
        fprintf (stderr, "peac propagate: %s\n", err);
        goto out;
      }
  // Refuse to overwrite before any work is done.
  for (int i = 0; i < n_tgt && !force; i++)
    {
      g_autofree char *name = g_strconcat (stems[i], ".landmarks.json", NULL);
      g_autofree char *path = g_build_filename (out_dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          fprintf (stderr, "peac propagate: %s exists (--force replaces it)\n", path);
          goto out;
        }
    }
  double t0 = g_get_monotonic_time () / 1e6;
  if (px_atlas_embed (&atlas, &e, err, sizeof err) < 0)
    {
      fprintf (stderr, "peac propagate: %s\n", err);
      goto out;
    }
  double t_ref = g_get_monotonic_time () / 1e6 - t0;
  tok = g_new (float, (size_t) e.grid.gh * e.grid.gw * e.grid.dim);
  global = g_new (float, (size_t) e.grid.dim);
  int *pick = g_new (int, (size_t) k * PEAC_ATLAS_CANDIDATES);
  double *weight = g_new (double, (size_t) k * PEAC_ATLAS_CANDIDATES);
  double t_tgt = 0;
  for (int t = 0; t < n_tgt; t++)
    {
      double ts = g_get_monotonic_time () / 1e6;
      int w, h;
      if (px_atlas_embedder_run (&e, targets[t], tok, global, &w, &h, err, sizeof err) < 0)
        {
          fprintf (stderr, "peac propagate: %s\n", err);
          break;
        }
      const int nc = peac_atlas_pick (&atlas, global, e.grid.dim, -1,
                                      PEAC_ATLAS_CANDIDATES * k, pick);
      const PeacAtlasImage *r0 = &atlas.img[pick[0]];
      double *xy = g_new (double, 2 * (size_t) r0->n), *spread = g_new (double, (size_t) r0->n);
      int *fnd = g_new (int, (size_t) r0->n);
      if (peac_atlas_propagate (&atlas, pick, nc, k, &e.grid, tok, w, h, NULL, xy, spread,
                                fnd, weight, NULL, err, sizeof err) < 0)
        fprintf (stderr, "peac propagate: %s: %s\n", targets[t], err);
      else
        sets[t] = px_atlas_fused_set (r0, targets[t], w, h, px_atlas_pixel_mm (targets[t]), xy,
                                      spread, fnd, k, &e);
      g_free (xy), g_free (spread), g_free (fnd);
      t_tgt += g_get_monotonic_time () / 1e6 - ts;
      if (!sets[t])
        break;
    }
  g_free (pick), g_free (weight);
  int all = 1;
  for (int t = 0; t < n_tgt; t++)
    all &= sets[t] != NULL;
  if (all)
    {
      GError *error = NULL;
      if (g_mkdir_with_parents (out_dir, 0755) != 0)
        {
          fprintf (stderr, "peac propagate: %s: cannot create the folder\n", out_dir);
          goto out;
        }
      for (int t = 0; t < n_tgt; t++)
        {
          g_autofree char *name = g_strconcat (stems[t], ".landmarks.json", NULL);
          g_autofree char *path = g_build_filename (out_dir, name, NULL);
          if (!px_landmarks_save_json (sets[t], path, &error))
            {
              fprintf (stderr, "peac propagate: %s\n", error->message);
              g_error_free (error);
              goto out;
            }
          const PxLandmarkCtr *ctr = &sets[t]->ctr;
          if (ctr->valid)
            printf ("%s: %u points, cardiothoracic ratio %.3f\n", path,
                    px_landmark_set_size (sets[t]), ctr->ratio);
          else
            printf ("%s: %u points\n", path, px_landmark_set_size (sets[t]));
        }
      fprintf (stderr, "peac propagate: %d references embedded in %.1f s; %.2f s per target "
               "(embedding and %d-reference fusion)\n", atlas.n, t_ref, t_tgt / n_tgt, k);
      rc = 0;
    }
out:
  for (int t = 0; t < n_tgt; t++)
    px_landmark_set_free (sets[t]);
  g_free (sets);
  g_free (tok), g_free (global);
  g_strfreev (stems);
  px_atlas_clear (&atlas);
  px_atlas_embedder_clear (&e);
  peac_model_free (m);
  return rc;
}
