// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-export: `peac export CKPT -o OUT.safetensors` turns a `peac train` checkpoint (or any
// model file peac_model_load reads) into a shippable model: the chosen backbone branch only
// (teacher by default; no student, projector heads or optimiser moments), stored as F16
// unless --dtype says otherwise, through the engine's atomic safetensors writer. The file
// carries `peac.arch`, `peac.layout`, `peac.config` so every loader builds it, plus
// `peac.provenance`: a JSON object naming the source file, the branch, the training step,
// the training state (`peac.train`: objective, optimiser, batch, seed), the run
// (`peac.run`: preset and data folders) and any `peac.data` description of the source.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "cli.h"
#include "model.h"

static void
usage (FILE *to)
{
  fprintf (to,
           "Usage: peac export CKPT -o OUT.safetensors [OPTIONS]\n\n"
           "Writes one backbone of a peac train checkpoint (or of any model file) as a\n"
           "model file with full peac.* metadata and its provenance (source, step,\n"
           "training configuration, data).\n\n"
           "Options:\n"
           "  -o, --output FILE  the model file to write (atomically)\n"
           "  --branch B         teacher (default) or student\n"
           "  --dtype T          f16 (default), bf16 or f32\n"
           "  -q, --quiet        no summary on stderr\n");
}

// A metadata value as JSON: parsed when it is JSON, else kept as a string; NULL if absent.
static json_t *
meta_json (const PeacSafetensors *st, const char *key)
{
  const char *v = peac_st_meta (st, key);
  if (!v)
    return NULL;
  json_t *j = json_loads (v, JSON_DECODE_ANY, NULL);
  return j ? j : json_string (v);
}

// The provenance object of a model exported from `src` (open) with `branch` and `dtype`.
static char *
provenance_json (const PeacSafetensors *st, const char *src, const char *branch,
                 const char *dtype)
{
  json_t *j = json_object ();
  json_object_set_new (j, "exported_by", json_string ("peac export"));
  char *base = strrchr (src, '/') ? strrchr (src, '/') + 1 : (char *) src;
  json_object_set_new (j, "source", json_string (base));
  const char *kind = peac_st_meta (st, "peac.source");
  if (kind)
    json_object_set_new (j, "source_kind", json_string (kind));
  json_object_set_new (j, "branch", json_string (branch));
  json_object_set_new (j, "dtype", json_string (dtype));
  json_t *train = meta_json (st, "peac.train");
  json_t *step = json_object_get (train, "step");
  if (json_is_integer (step))
    json_object_set (j, "step", step);
  if (train)
    json_object_set_new (j, "train", train);
  const char *keys[][2] = { { "run", "peac.run" }, { "data", "peac.data" },
                            { "source_provenance", "peac.provenance" } };
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    {
      json_t *v = meta_json (st, keys[i][1]);
      if (v)
        json_object_set_new (j, keys[i][0], v);
    }
  char *r = json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (17));
  json_decref (j);
  return r;
}

typedef struct {
  const char *src, *out, *branch, *dtype_s;
  PeacDtype dt;
  int quiet;
} ExportArgs;

// Fills a from argv. Returns -1 to run, else the exit status.
static int
parse_args (ExportArgs *a, int argc, char **argv)
{
  enum { O_BRANCH = 1000, O_DTYPE };
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "branch", required_argument, NULL, O_BRANCH },
    { "dtype", required_argument, NULL, O_DTYPE },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  *a = (ExportArgs) { .branch = "teacher", .dtype_s = "f16" };
  int c;
  optind = 0;
  while ((c = peac_cli_getopt ("export", argc, argv, "o:qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'h': return usage (stdout), 0;
      case 'o': a->out = optarg; break;
      case O_BRANCH: a->branch = optarg; break;
      case O_DTYPE: a->dtype_s = optarg; break;
      case 'q': a->quiet = 1; break;
      default: return 2;
      }
  if (optind < argc)
    a->src = argv[optind];
  if (optind + 1 < argc)
    return fprintf (stderr, "peac export: one checkpoint only ('%s' is extra)\n", argv[optind + 1]), 2;
  if (!a->src || !a->out)
    return usage (stderr), 2;
  if (strcmp (a->branch, "teacher") && strcmp (a->branch, "student"))
    return fprintf (stderr, "peac export: --branch must be teacher or student, not '%s'\n", a->branch), 2;
  if (strcmp (a->dtype_s, "f16") == 0)
    a->dt = PEAC_DT_F16;
  else if (strcmp (a->dtype_s, "bf16") == 0)
    a->dt = PEAC_DT_BF16;
  else if (strcmp (a->dtype_s, "f32") == 0)
    a->dt = PEAC_DT_F32;
  else
    return fprintf (stderr, "peac export: --dtype must be f16, bf16 or f32, not '%s'\n", a->dtype_s), 2;
  if (strcmp (a->src, a->out) == 0)
    return fprintf (stderr, "peac export: %s: the output would replace its own source\n", a->out), 2;
  return -1;
}

static int
run (const ExportArgs *a)
{
  const char *src = a->src, *out = a->out, *branch = a->branch, *dtype_s = a->dtype_s;
  const PeacDtype dt = a->dt;
  const int quiet = a->quiet;
  char err[1024], warn[256];
  PeacModel *m = peac_model_load_ex (src, branch, warn, sizeof warn, err, sizeof err);
  if (!m)
    return fprintf (stderr, "peac export: %s\n", err), 1;
  PeacSafetensors *st = peac_st_open (src, err, sizeof err);
  if (!st)
    {
      peac_model_free (m);
      return fprintf (stderr, "peac export: %s\n", err), 1;
    }
  char *prov = provenance_json (st, src, branch, dtype_s);
  peac_st_close (st);

  const char *meta[] = { "peac.arch", peac_model_arch_name (m),
                         "peac.layout", peac_model_layout (m),
                         "peac.config", peac_model_config_json (m),
                         "peac.source", "peac export",
                         "peac.provenance", prov, NULL };
  const PeacParams *p = peac_model_params (m);
  int rc = peac_st_write_params (out, p, dt, meta, err, sizeof err);
  if (rc != 0)
    fprintf (stderr, "peac export: %s\n", err);
  else if (!quiet)
    {
      size_t numel = 0;
      for (int i = 0; i < p->n; i++)
        numel += p->list[i].numel;
      struct stat sb;
      long long bytes = stat (out, &sb) == 0 ? (long long) sb.st_size : -1;
      fprintf (stderr, "peac export: %s branch of %s → %s: %d tensors, %zu parameters, %s, "
               "%lld bytes (%.1f MB)\n", branch, src, out, p->n, numel, dtype_s, bytes,
               (double) bytes / 1e6);
    }
  free (prov);
  peac_model_free (m);
  return rc == 0 ? 0 : 1;
}

int
peac_cmd_export (int argc, char **argv)
{
  ExportArgs a;
  const int rc = parse_args (&a, argc, argv);
  return rc >= 0 ? rc : run (&a);
}
