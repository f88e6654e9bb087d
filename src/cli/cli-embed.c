// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-embed: `peac embed --model M.safetensors IMAGE... -o OUT.safetensors` computes, for
// each radiograph, the token grid and the pooled vector of a PEAC model and stores them as
// `grid.<i>` [gh, gw, D] and `pooled.<i>` [D] in one safetensors file whose `peac.embed`
// metadata (JSON) records the model, the image paths in order and the preprocessing.
// Images go through px-model-input (the engine's peac_preprocess: the path the app and the
// other commands feed their models through), in batches; by default short side and centre
// crop, as the app's linear probe, or with --no-crop the whole image, as the app's other
// pages. `--layer N` reads block (ViT) or stage (Swin) N, `--stride S` gives ViT dense,
// overlapping patch tokens with the position embedding resampled to the denser grid, on
// the unpadded S×S input ((S − p)/s + 1 tokens a side; the app pads by peac_dense_pad).
// The same numbers also go out as NumPy .npy (grids as one float32 matrix [N·gh·gw, D],
// pooled vectors in a second file [N, D]) or as CSV (one row per image: path, pooled
// vector), chosen by --format or by the extension of -o.
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "config.h"
#include "model-find.h"
#include "model.h"
#include "npy.h"
#include "ops.h"
#include "preprocess.h"
#include "px-model-input.h"

static void
usage (FILE *to)
{
  fprintf (to,
           "Usage: peac embed [--model MODEL.safetensors] [OPTIONS] IMAGE... -o OUT.safetensors\n\n"
           "Stores grid.<i> [gh, gw, D] and pooled.<i> [D] for the i-th image. Without\n"
           "--model: $PEAC_MODEL, else the bundled model.\n\n"
           "Formats (--format, or by the extension of OUT: .npy, .csv, else safetensors):\n"
           "  safetensors  grid.<i>, pooled.<i> and the 'peac.embed' metadata (JSON)\n"
           "  npy          OUT.npy: the grids as one float32 matrix [N*gh*gw, D], row\n"
           "               (i*gh + r)*gw + c for image i, cell (r, c), i.e.\n"
           "               np.load(OUT).reshape(N, gh, gw, D); OUT minus .npy plus\n"
           "               .pooled.npy: the pooled vectors [N, D]\n"
           "  csv          one row per image, images in command-line order: header\n"
           "               name,p0,...,p<D-1>, then the image path and its pooled vector\n"
           "               (readable by 'peac tsne --matrix OUT.csv', paths as labels)\n\n"
           "Options:\n"
           "  --size N        input side in pixels (default: the model's)\n"
           "  --mean M        normalisation mean (default 0.5056)\n"
           "  --std S         normalisation std (default 0.252)\n"
           "  --no-crop       squeeze the whole image to N×N instead of short side + centre crop\n"
           "  --layer K       read block K (ViT, final norm applied) or stage K (Swin)\n"
           "  --stride S      ViT: patch stride in pixels (e.g. 8 for dense tokens)\n"
           "  --branch B      teacher (default) or student weights of a PEAC checkpoint\n"
           "  --batch N       images per forward pass (default 4)\n"
           "  --format F      safetensors, npy or csv (default: from OUT's extension)\n"
           "  --f16           store grids and pooled vectors as F16 (safetensors only)\n"
           "  --threads N     threads (default: all cores)\n"
           "  -q, --quiet     no progress on stderr\n");
}

enum { FMT_SAFETENSORS, FMT_NPY, FMT_CSV };

typedef struct {
  const char *model, *out, *branch;
  int format;
  int size, crop, layer, stride, batch, threads, f16, quiet;
  float mean, std;
  const char **images;
  int n_images;
} EmbedArgs;

// Fills a from argv. Returns -1 to run, else the exit status (0 after --help).
static int
parse_args (EmbedArgs *a, int argc, char **argv)
{
  *a = (EmbedArgs) { .crop = 1, .layer = -1, .batch = 4, .mean = PEAC_MEAN, .std = PEAC_STD,
                     .format = -1 };
  enum { O_MODEL = 1000, O_SIZE, O_MEAN, O_STD, O_NO_CROP, O_LAYER, O_STRIDE, O_BRANCH,
         O_BATCH, O_THREADS, O_FORMAT, O_F16 };
  static const struct option opts[] = {
    { "model", required_argument, NULL, O_MODEL },
    { "output", required_argument, NULL, 'o' },
    { "size", required_argument, NULL, O_SIZE },
    { "mean", required_argument, NULL, O_MEAN },
    { "std", required_argument, NULL, O_STD },
    { "no-crop", no_argument, NULL, O_NO_CROP },
    { "layer", required_argument, NULL, O_LAYER },
    { "stride", required_argument, NULL, O_STRIDE },
    { "branch", required_argument, NULL, O_BRANCH },
    { "batch", required_argument, NULL, O_BATCH },
    { "threads", required_argument, NULL, O_THREADS },
    { "format", required_argument, NULL, O_FORMAT },
    { "f16", no_argument, NULL, O_F16 },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  optind = 0;
  while ((c = peac_cli_getopt ("embed", argc, argv, "o:qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'h': return usage (stdout), 0;
      case O_MODEL: a->model = optarg; break;
      case 'o': a->out = optarg; break;
      case O_SIZE: a->size = atoi (optarg); break;
      case O_MEAN: a->mean = strtof (optarg, NULL); break;
      case O_STD: a->std = strtof (optarg, NULL); break;
      case O_NO_CROP: a->crop = 0; break;
      case O_LAYER: a->layer = atoi (optarg); break;
      case O_STRIDE: a->stride = atoi (optarg); break;
      case O_BRANCH: a->branch = optarg; break;
      case O_BATCH: a->batch = atoi (optarg); break;
      case O_THREADS: a->threads = atoi (optarg); break;
      case O_FORMAT:
        if (strcmp (optarg, "safetensors") == 0)
          a->format = FMT_SAFETENSORS;
        else if (strcmp (optarg, "npy") == 0)
          a->format = FMT_NPY;
        else if (strcmp (optarg, "csv") == 0)
          a->format = FMT_CSV;
        else
          return fprintf (stderr, "peac embed: --format is safetensors, npy or csv, not '%s'\n", optarg), 2;
        break;
      case O_F16: a->f16 = 1; break;
      case 'q': a->quiet = 1; break;
      default: return 2;
      }
  a->images = (const char **) argv + optind;
  a->n_images = argc - optind;
  if (!a->out || !a->n_images)
    return usage (stderr), 2;
  // No --model: $PEAC_MODEL, else the bundled model (model-find.h).
  static char found[4096];
  const char *dirs[] = PEAC_MODEL_SEARCH_DIRS (PEAC_SOURCE_DIR, PKGDATADIR);
  char ferr[2048];
  if (!a->model && peac_model_find_default (dirs, found, sizeof found, ferr, sizeof ferr) != 0)
    return fprintf (stderr, "peac embed: %s\n", ferr), 2;
  if (!a->model)
    a->model = found;
  if (a->batch < 1 || a->size < 0 || a->stride < 0 || !(a->std > 0) || a->layer < -1)
    return fprintf (stderr, "peac embed: --batch, --size, --stride, --std or --layer out of range\n"), 2;
  if (a->branch && strcmp (a->branch, "teacher") && strcmp (a->branch, "student"))
    return fprintf (stderr, "peac embed: --branch must be teacher or student\n"), 2;
  if (a->format < 0)
    {
      size_t n = strlen (a->out);
      a->format = n >= 4 && g_ascii_strcasecmp (a->out + n - 4, ".npy") == 0   ? FMT_NPY
                  : n >= 4 && g_ascii_strcasecmp (a->out + n - 4, ".csv") == 0 ? FMT_CSV
                                                                               : FMT_SAFETENSORS;
    }
  if (a->f16 && a->format != FMT_SAFETENSORS)
    return fprintf (stderr, "peac embed: --f16 applies to safetensors output only\n"), 2;
  return -1;
}

// Loads an image and turns it into the network input [3, S, S] by the shared path
// (px-model-input.h), the one the app and the other commands feed their models through.
static int
load_input (const char *path, const PeacPreprocess *pp, float *dst)
{
  char err[1024];
  PxModelInput in;
  if (px_model_input_load_preprocessed (path, pp, &in, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac embed: %s\n", err);
      return -1;
    }
  px_model_input_channels (&in, dst);
  px_model_input_clear (&in);
  return 0;
}

// .npy: the grids as [N·gh·gw, D] in OUT, the pooled vectors [N, D] in OUT.pooled.npy
// (OUT's .npy suffix replaced). npy.h writes 2-D matrices, hence the flattened leading axes.
static int
write_npy (const char *out, const float *grids, const float *pooled, int N, size_t G, int D,
           char *err, size_t errlen)
{
  if ((size_t) N * G > INT32_MAX)
    return snprintf (err, errlen, "%s: too many tokens for one .npy matrix", out), -1;
  if (npy_write_matrix (out, grids, (int) (N * G), D, err, errlen) != 0)
    return -1;
  size_t n = strlen (out);
  int strip = n >= 4 && g_ascii_strcasecmp (out + n - 4, ".npy") == 0 ? 4 : 0;
  char *ppath = g_strdup_printf ("%.*s.pooled.npy", (int) (n - strip), out);
  int r = npy_write_matrix (ppath, pooled, N, D, err, errlen);
  g_free (ppath);
  return r;
}

// CSV: header name,p0…p(D−1), then per image its path and pooled vector with 9 significant
// digits, enough to read the same float32 back.
static int
write_csv (const char *out, const char *const *images, const float *pooled, int N, int D,
           char *err, size_t errlen)
{
  FILE *f = fopen (out, "w");
  if (!f)
    return snprintf (err, errlen, "%s: %s", out, strerror (errno)), -1;
  fputs ("name", f);
  for (int d = 0; d < D; d++)
    fprintf (f, ",p%d", d);
  fputc ('\n', f);
  for (int i = 0; i < N; i++)
    {
      fputs (images[i], f);
      for (int d = 0; d < D; d++)
        fprintf (f, ",%.9g", pooled[(size_t) i * D + d]);
      fputc ('\n', f);
    }
  if (ferror (f) | (fclose (f) != 0))
    return snprintf (err, errlen, "%s: write failed", out), -1;
  return 0;
}

// The grids and pooled vectors as one safetensors file with the 'peac.embed' metadata.
// Returns 0 or 1 after a message.
static int
write_safetensors (const EmbedArgs *a, PeacModel *m, const float *grids, const float *pooled,
                   int N, int S, int gh, int gw, int D)
{
  const size_t G = (size_t) gh * gw;
  char err[1024];
  int status = 0;
  // Metadata: what was embedded and how, enough to redo it.
  json_t *j = json_object (), *imgs = json_array ();
  for (int i = 0; i < N; i++)
    json_array_append_new (imgs, json_string (a->images[i]));
  json_object_set_new (j, "model", json_string (a->model));
  json_object_set_new (j, "arch", json_string (peac_model_arch_name (m)));
  json_object_set_new (j, "branch", json_string (a->branch ? a->branch : "teacher"));
  json_object_set_new (j, "size", json_integer (S));
  json_object_set_new (j, "resize", json_string (a->crop ? "short side, antialiased bilinear, centre crop"
                                                        : "whole image, antialiased bilinear"));
  json_object_set_new (j, "mean", json_real (round (a->mean * 1e6) / 1e6));
  json_object_set_new (j, "std", json_real (round (a->std * 1e6) / 1e6));
  json_object_set_new (j, "layer", json_integer (a->layer));
  json_object_set_new (j, "stride", json_integer (a->stride));
  json_object_set_new (j, "grid", json_pack ("[i, i]", gh, gw));
  json_object_set_new (j, "dim", json_integer (D));
  json_object_set_new (j, "images", imgs);
  char *meta_json = json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (j);
  const char *meta[] = { "peac.embed", meta_json, "peac.arch", peac_model_arch_name (m),
                         NULL };
  PeacStWrite *t = calloc ((size_t) 2 * N, sizeof *t);
  char **names = calloc ((size_t) 2 * N, sizeof (char *));
  int64_t gshape[3] = { gh, gw, D }, pshape[1] = { D };
  for (int i = 0; i < N; i++)
    {
      names[2 * i] = g_strdup_printf ("grid.%d", i);
      names[2 * i + 1] = g_strdup_printf ("pooled.%d", i);
      PeacDtype dt = a->f16 ? PEAC_DT_F16 : PEAC_DT_F32;
      t[2 * i] = (PeacStWrite) { names[2 * i], 3, gshape, grids + (size_t) i * G * D, dt };
      t[2 * i + 1] = (PeacStWrite) { names[2 * i + 1], 1, pshape, pooled + (size_t) i * D, dt };
    }
  if (peac_st_write (a->out, t, 2 * N, meta, err, sizeof err) != 0)
    {
      fprintf (stderr, "peac embed: %s\n", err);
      status = 1;
    }
  else if (!a->quiet)
    fprintf (stderr, "peac embed: wrote %d grids of %d×%d×%d to %s\n", N, gh, gw, D, a->out);
  for (int i = 0; i < 2 * N; i++)
    g_free (names[i]);
  free (names), free (t), free (meta_json);
  return status;
}

int
peac_cmd_embed (int argc, char **argv)
{
  EmbedArgs a;
  const int rc = parse_args (&a, argc, argv);
  if (rc >= 0)
    return rc;
  peac_threads_set (a.threads);
  char err[1024], warn[2048];
  PeacModel *m = peac_model_load_ex (a.model, a.branch, warn, sizeof warn, err, sizeof err);
  if (!m)
    {
      fprintf (stderr, "peac embed: %s\n", err);
      return 1;
    }
  if (warn[0] && !a.quiet)
    fprintf (stderr, "peac embed: %s: ignoring tensors the backbone does not use: %.300s%s\n",
             a.model, warn, strlen (warn) > 300 ? "…" : "");
  const int S = a.size > 0 ? a.size : peac_model_img_size (m);
  PeacPreprocess pp = { S, a.mean, a.std, a.crop };
  PeacForwardOptions fo = { a.stride, a.layer };
  int gh, gw, D;
  peac_model_output_shape_ex (m, &fo, S, S, &gh, &gw, &D);
  if (gh <= 0 || gw <= 0 || D <= 0)
    {
      fprintf (stderr, "peac embed: %s: no output for size %d with --stride %d / --layer %d\n",
               a.model, S, a.stride, a.layer);
      peac_model_free (m);
      return 2;
    }
  const int N = a.n_images, Bmax = a.batch < N ? a.batch : N;
  const size_t G = (size_t) gh * gw;
  float *grids = malloc ((size_t) N * G * D * sizeof (float));
  float *pooled = malloc ((size_t) N * D * sizeof (float));
  float *input = malloc ((size_t) Bmax * 3 * S * S * sizeof (float));
  int status = 0;
  if (!grids || !pooled || !input)
    {
      fprintf (stderr, "peac embed: out of memory for %d images of %zu×%d values\n", N, G, D);
      status = 1;
    }
  for (int i0 = 0; i0 < N && !status; i0 += Bmax)
    {
      int B = N - i0 < Bmax ? N - i0 : Bmax;
      for (int b = 0; b < B && !status; b++)
        if (load_input (a.images[i0 + b], &pp, input + (size_t) b * 3 * S * S) != 0)
          status = 1;
      if (status)
        break;
      if (peac_model_forward_ex (m, &fo, input, B, S, S, grids + (size_t) i0 * G * D,
                                 pooled + (size_t) i0 * D, NULL, NULL, err, sizeof err) != 0)
        {
          fprintf (stderr, "peac embed: %s\n", err);
          status = 1;
        }
      else if (!a.quiet && N > 1)
        fprintf (stderr, "\rpeac embed: %d/%d images", i0 + B, N);
    }
  if (!a.quiet && N > 1 && !status)
    fprintf (stderr, "\n");

  if (!status && a.format != FMT_SAFETENSORS)
    {
      for (int i = 0; i < N && a.format == FMT_CSV; i++)
        if (strpbrk (a.images[i], ",\n\""))
          {
            fprintf (stderr, "peac embed: %s: a path with a comma, quote or newline cannot "
                     "go into CSV; use --format npy or safetensors\n", a.images[i]);
            status = 1;
            break;
          }
      if (!status && (a.format == FMT_NPY ? write_npy (a.out, grids, pooled, N, G, D, err, sizeof err)
                                          : write_csv (a.out, a.images, pooled, N, D, err, sizeof err)) != 0)
        {
          fprintf (stderr, "peac embed: %s\n", err);
          status = 1;
        }
      else if (!status && !a.quiet)
        fprintf (stderr, "peac embed: wrote %s of %d image%s (grid %d×%d, dim %d) to %s\n",
                 a.format == FMT_NPY ? "grids and pooled vectors" : "pooled vectors", N,
                 N == 1 ? "" : "s", gh, gw, D, a.out);
    }
  else if (!status)
    {
      status = write_safetensors (&a, m, grids, pooled, N, S, gh, gw, D);
    }
  free (grids), free (pooled), free (input);
  peac_model_free (m);
  return status;
}
