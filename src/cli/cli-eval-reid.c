// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-eval-reid: `peac eval-reid --model M --pairs followup_pairs.csv --root DIR` scores
// patient re-identification with pooled embeddings. The images are those named in the
// pairs file (columns patient_id, image_a, image_b; paths relative to --root), optionally
// only of the patients listed in --patients (one id per line, '#' comments). Every image is
// embedded once (peac_preprocess at the model's input side, short side + centre crop, the
// pooled vector: ViT class token, Swin token mean) and then is a query against all the
// others: top-1 is the share of queries whose nearest other image (cosine) is of the same
// patient, top-5 the share with one such image among the five nearest. --random-init
// scores the same architecture with seeded random weights, the baseline. --bootstrap N
// scores both on the same images and gives 95 % intervals from N patient-level resamples,
// for each top-1 and for their paired difference.
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cli-eval-reid.h"
#include "cli.h"
#include "model.h"
#include "ops.h"
#include "preprocess.h"
#include "px-csv.h"
#include "px-image.h"
#include "rng.h"
#include "stats.h"

int
peac_reid_score (const float *emb, int n, int dim, const int *patient, PeacReidScore *out)
{
  return peac_reid_score_ex (emb, n, dim, patient, out, NULL, NULL);
}

int
peac_reid_score_ex (const float *emb, int n, int dim, const int *patient, PeacReidScore *out,
                    int *hit1, int *hit5)
{
  memset (out, 0, sizeof *out);
  for (int i = 0; i < n; i++)
    {
      if (hit1)
        hit1[i] = -1;
      if (hit5)
        hit5[i] = -1;
    }
  if (n < 1 || dim < 1)
    return -1;
  // unit [n, dim]: rows scaled to length 1, so a dot product is the cosine.
  float *unit = malloc ((size_t) n * dim * sizeof (float));
  if (!unit)
    return -1;
  memcpy (unit, emb, (size_t) n * dim * sizeof (float));
  peac_normalise_rows (unit, n, dim);
  out->n_images = n;
  for (int i = 0; i < n; i++)
    {
      int seen = 0;
      for (int j = 0; j < i && !seen; j++)
        seen = patient[j] == patient[i];
      out->n_patients += !seen;
    }
  // Per query: the five best other images by cosine, kept sorted (ties: lower index).
  for (int q = 0; q < n; q++)
    {
      int has_mate = 0;
      for (int j = 0; j < n && !has_mate; j++)
        has_mate = j != q && patient[j] == patient[q];
      if (!has_mate)
        continue;
      int best[5], nb = 0;
      float bs[5];
      for (int j = 0; j < n; j++)
        {
          if (j == q)
            continue;
          double dot = 0;
          for (int d = 0; d < dim; d++)
            dot += (double) unit[(size_t) q * dim + d] * unit[(size_t) j * dim + d];
          const float s = (float) dot;
          int k = nb < 5 ? nb : 5;
          while (k > 0 && s > bs[k - 1])
            k--;
          if (k >= 5)
            continue;
          for (int m = (nb < 5 ? nb : 4); m > k; m--)
            best[m] = best[m - 1], bs[m] = bs[m - 1];
          best[k] = j, bs[k] = s;
          if (nb < 5)
            nb++;
        }
      out->n_queries++;
      out->top1_hits += patient[best[0]] == patient[q];
      int h5 = 0;
      for (int k = 0; k < nb; k++)
        h5 |= patient[best[k]] == patient[q];
      out->top5_hits += h5;
      if (hit1)
        hit1[q] = patient[best[0]] == patient[q];
      if (hit5)
        hit5[q] = h5;
    }
  if (out->n_queries)
    {
      out->top1 = (double) out->top1_hits / out->n_queries;
      out->top5 = (double) out->top5_hits / out->n_queries;
    }
  free (unit);
  return 0;
}

// The 2.5 % and 97.5 % quantiles of v[reps] (sorted in place; nearest rank).
static void
ci95 (double *v, int reps, double ci[2])
{
  peac_percentile_interval (v, reps, 0.025, 0.975, PEAC_RANK_NEAREST, ci);
}

int
peac_reid_bootstrap (const int *hit_a, const int *hit_b, const int *patient, int n, int reps,
                     uint64_t seed, PeacReidBootstrap *out)
{
  memset (out, 0, sizeof *out);
  if (n < 1 || reps < 1)
    return -1;
  // Per patient with queries: its query count and hits of a and b.
  int *pid = malloc ((size_t) n * sizeof *pid), *cnt = calloc ((size_t) n, sizeof *cnt);
  int *ha = calloc ((size_t) n, sizeof *ha), *hb = calloc ((size_t) n, sizeof *hb);
  double *da = malloc ((size_t) reps * 3 * sizeof *da);
  int np = 0, rc = -1;
  if (!pid || !cnt || !ha || !hb || !da)
    goto out;
  long queries = 0, sum_a = 0, sum_b = 0;
  for (int i = 0; i < n; i++)
    {
      if (hit_a[i] < 0 || hit_b[i] < 0)
        continue;
      int k = 0;
      while (k < np && pid[k] != patient[i])
        k++;
      if (k == np)
        pid[np++] = patient[i];
      cnt[k]++, ha[k] += hit_a[i], hb[k] += hit_b[i];
      queries++, sum_a += hit_a[i], sum_b += hit_b[i];
    }
  if (queries == 0)
    goto out;
  out->diff = (double) (sum_a - sum_b) / queries;
  double *db = da + reps, *dd = da + 2 * reps;
  PeacRng rng;
  peac_rng_seed (&rng, seed);
  for (int r = 0; r < reps; r++)
    {
      long q = 0, a = 0, b = 0;
      for (int k = 0; k < np; k++)
        {
          int p = (int) (peac_rng_u64 (&rng) % (uint64_t) np);
          q += cnt[p], a += ha[p], b += hb[p];
        }
      da[r] = (double) a / q, db[r] = (double) b / q, dd[r] = (double) (a - b) / q;
    }
  ci95 (da, reps, out->a_ci), ci95 (db, reps, out->b_ci), ci95 (dd, reps, out->diff_ci);
  rc = 0;
out:
  free (pid), free (cnt), free (ha), free (hb), free (da);
  return rc;
}

static void
usage (FILE *to)
{
  fprintf (to,
           "Usage: peac eval-reid --model M --pairs PAIRS.csv --root DIR [OPTIONS]\n\n"
           "Patient re-identification with pooled embeddings: for each image of the\n"
           "pairs file, is its nearest other image (cosine) of the same patient?\n\n"
           "Options:\n"
           "  --model FILE      model checkpoint (safetensors with peac.* metadata)\n"
           "  --pairs FILE      CSV with columns patient_id, image_a, image_b\n"
           "  --root DIR        folder the image paths are relative to (default: '.')\n"
           "  --patients FILE   only these patients (one id per line, '#' comments)\n"
           "  --random-init     the model's architecture with random weights (baseline)\n"
           "  --seed N          seed of --random-init and of --bootstrap (default 1)\n"
           "  --bootstrap N     score the model and random init on the same images and\n"
           "                    give 95 %% intervals of both top-1 and of their paired\n"
           "                    difference from N resamples of the patients\n"
           "  --branch B        teacher (default) or student weights\n"
           "  --threads N       threads (default: all cores)\n"
           "  --json            one JSON object on stdout\n"
           "  -q, --quiet       no progress on stderr\n");
}

// The ids listed in path, one per line; NULL with a message on error.
static GHashTable *
read_patients (const char *path)
{
  char *text = NULL;
  GError *e = NULL;
  if (!g_file_get_contents (path, &text, NULL, &e))
    {
      fprintf (stderr, "peac eval-reid: %s\n", e->message);
      g_error_free (e);
      return NULL;
    }
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  char **lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      char *s = g_strstrip (*l);
      if (*s && *s != '#')
        g_hash_table_add (set, g_strdup (s));
    }
  g_strfreev (lines), g_free (text);
  return set;
}

static int
column (const PxCsvRecord *head, const char *name)
{
  for (int i = 0; i < head->n; i++)
    if (strcmp (g_strstrip (head->fields[i]), name) == 0)
      return i;
  return -1;
}

// Unique images of the pairs file (of the chosen patients) in first-seen order, with a
// patient index each. Returns the count, or −1 with a message naming the file and line.
static int
read_pairs (const char *path, GHashTable *keep, GPtrArray *images, GArray *patient,
            GPtrArray *patient_ids)
{
  char *text = NULL;
  gsize len = 0;
  GError *e = NULL;
  if (!g_file_get_contents (path, &text, &len, &e))
    {
      fprintf (stderr, "peac eval-reid: %s\n", e->message);
      g_error_free (e);
      return -1;
    }
  PxCsv *csv = px_csv_new (text, len, path);
  PxCsvRecord rec;
  char err[1024];
  int rc = 0, cp = -1, ca = -1, cb = -1;
  int got = csv ? px_csv_next (csv, &rec, err, sizeof err) : -1;
  if (got == 1)
    cp = column (&rec, "patient_id"), ca = column (&rec, "image_a"), cb = column (&rec, "image_b");
  if (got < 0 && csv)
    fprintf (stderr, "peac eval-reid: %s\n", err);
  else if (cp < 0 || ca < 0 || cb < 0)
    fprintf (stderr, "peac eval-reid: %s: line 1: no patient_id, image_a and image_b columns\n", path);
  if (cp < 0 || ca < 0 || cb < 0)
    {
      px_csv_free (csv);
      g_free (text);
      return -1;
    }
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTable *pid = g_hash_table_new (g_str_hash, g_str_equal);
  const int need = MAX (cp, MAX (ca, cb));
  while (rc == 0 && (got = px_csv_next (csv, &rec, err, sizeof err)) == 1)
    {
      if (rec.n == 0 || (rec.n == 1 && !*g_strstrip (rec.fields[0])))
        continue;
      if (rec.n <= need)
        {
          fprintf (stderr, "peac eval-reid: %s: line %d: too few columns\n", path, rec.line);
          rc = -1;
          break;
        }
      const char *p = g_strstrip (rec.fields[cp]);
      if (keep && !g_hash_table_contains (keep, p))
        continue;
      if (!g_hash_table_contains (pid, p))
        {
          g_ptr_array_add (patient_ids, g_strdup (p));
          g_hash_table_insert (pid, patient_ids->pdata[patient_ids->len - 1],
                               GINT_TO_POINTER (patient_ids->len - 1));
        }
      const int k = GPOINTER_TO_INT (g_hash_table_lookup (pid, p));
      const int cols[2] = { ca, cb };
      for (int t = 0; t < 2; t++)
        {
          const char *img = g_strstrip (rec.fields[cols[t]]);
          if (!*img || g_hash_table_contains (seen, img))
            continue;
          g_ptr_array_add (images, g_strdup (img));
          g_hash_table_add (seen, images->pdata[images->len - 1]);
          g_array_append_val (patient, k);
        }
    }
  if (got < 0)
    fprintf (stderr, "peac eval-reid: %s\n", err), rc = -1;
  g_hash_table_destroy (seen), g_hash_table_destroy (pid);
  px_csv_free (csv);
  g_free (text);
  return rc ? -1 : (int) images->len;
}

// The pooled embedding of one image file into out[dim]; −1 with a message naming the file.
static int
embed_one (PeacModel *m, const char *path, float *input, int S, float *out)
{
  GError *e = NULL;
  PxImage *img = px_image_load (path, &e);
  if (!img)
    {
      fprintf (stderr, "peac eval-reid: %s\n", e->message);
      g_error_free (e);
      return -1;
    }
  float *unit = malloc ((size_t) img->width * img->height * sizeof (float));
  PeacPreprocess pp = { S, PEAC_MEAN, PEAC_STD, 1 };
  int rc = -1;
  char err[512];
  if (!unit)
    fprintf (stderr, "peac eval-reid: %s: out of memory\n", path);
  else
    {
      px_image_to_unit (img, unit);
      if (peac_preprocess (unit, img->width, img->height, &pp, input) != 0)
        fprintf (stderr, "peac eval-reid: %s: cannot preprocess\n", path);
      else if (peac_model_forward (m, input, 1, S, S, NULL, out, NULL, NULL, err, sizeof err) != 0)
        fprintf (stderr, "peac eval-reid: %s: %s\n", path, err);
      else
        rc = 0;
    }
  free (unit);
  px_image_free (img);
  return rc;
}

// Embeds every image of the list with m into emb [n, dim]; 1 on failure (message printed).
static int
embed_all (PeacModel *m, GPtrArray *images, const char *root, int dim, int quiet,
           const char *what, float *emb)
{
  const int n = (int) images->len, S = peac_model_img_size (m);
  float *input = malloc ((size_t) 3 * S * S * sizeof (float));
  if (!input)
    return fprintf (stderr, "peac eval-reid: out of memory\n"), 1;
  int status = 0;
  for (int i = 0; i < n && !status; i++)
    {
      char *path = g_build_filename (root, images->pdata[i], NULL);
      status = embed_one (m, path, input, S, emb + (size_t) i * dim) ? 1 : 0;
      g_free (path);
      if (!quiet && !status)
        fprintf (stderr, "\rpeac eval-reid: %s %d/%d images", what, i + 1, n);
    }
  if (!quiet && n > 0 && !status)
    fprintf (stderr, "\n");
  free (input);
  return status;
}

static json_t *
ci_json (const double ci[2])
{
  return json_pack ("[f, f]", ci[0], ci[1]);
}

typedef struct {
  const char *model, *pairs, *root, *patients, *branch;
  int random_init, json, quiet, threads, reps;
  unsigned long long seed;
} ReidArgs;

// Fills a from argv. Returns -1 to run, else the exit status.
static int
parse_args (ReidArgs *a, int argc, char **argv)
{
  enum { O_PAIRS = 1000, O_ROOT, O_PATIENTS, O_BRANCH, O_SEED, O_THREADS, O_BOOTSTRAP,
         O_RANDOM_INIT, O_JSON };
  static const struct option opts[] = {
    { "model", required_argument, NULL, 'm' },
    { "pairs", required_argument, NULL, O_PAIRS },
    { "root", required_argument, NULL, O_ROOT },
    { "patients", required_argument, NULL, O_PATIENTS },
    { "branch", required_argument, NULL, O_BRANCH },
    { "seed", required_argument, NULL, O_SEED },
    { "threads", required_argument, NULL, O_THREADS },
    { "bootstrap", required_argument, NULL, O_BOOTSTRAP },
    { "random-init", no_argument, NULL, O_RANDOM_INIT },
    { "json", no_argument, NULL, O_JSON },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  *a = (ReidArgs) { .root = ".", .seed = 1 };
  int c;
  optind = 0;
  while ((c = peac_cli_getopt ("eval-reid", argc, argv, "m:qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'h': return usage (stdout), 0;
      case 'm': a->model = optarg; break;
      case O_PAIRS: a->pairs = optarg; break;
      case O_ROOT: a->root = optarg; break;
      case O_PATIENTS: a->patients = optarg; break;
      case O_BRANCH: a->branch = optarg; break;
      case O_SEED: a->seed = strtoull (optarg, NULL, 10); break;
      case O_THREADS: a->threads = atoi (optarg); break;
      case O_BOOTSTRAP:
        {
          char *end;
          long v = strtol (optarg, &end, 10);
          if (*end || v < 1 || v > 1000000)
            return fprintf (stderr, "peac eval-reid: --bootstrap: '%s' is not a count from 1 "
                            "to 1000000\n", optarg), 2;
          a->reps = (int) v;
          break;
        }
      case O_RANDOM_INIT: a->random_init = 1; break;
      case O_JSON: a->json = 1; break;
      case 'q': a->quiet = 1; break;
      default: return 2;
      }
  if (optind < argc)
    return fprintf (stderr, "peac eval-reid: unexpected argument '%s'\n", argv[optind]), 2;
  if (!a->model || !a->pairs)
    return usage (stderr), 2;
  if (a->branch && strcmp (a->branch, "teacher") && strcmp (a->branch, "student"))
    return fprintf (stderr, "peac eval-reid: --branch must be teacher or student\n"), 2;
  if (a->reps && a->random_init)
    return fprintf (stderr, "peac eval-reid: --bootstrap already scores random init beside "
                    "the model; leave out --random-init\n"), 2;
  return -1;
}

// The scores: one JSON object (--json) or lines of text on stdout.
static void
report (const ReidArgs *a, int dim, const PeacReidScore *model, const PeacReidScore *random,
        const PeacReidBootstrap *boot)
{
  const PeacReidScore sc = *model, sr = *random;
  const PeacReidBootstrap bs = *boot;
  if (a->json)
    {
      json_t *j = json_pack ("{s:s, s:b, s:i, s:i, s:i, s:i, s:f, s:f}", "model", a->model,
                             "random_init", a->random_init, "images", sc.n_images,
                             "patients", sc.n_patients, "queries", sc.n_queries, "dim", dim,
                             "top1", sc.top1, "top5", sc.top5);
      if (a->reps)
        {
          json_object_set_new (j, "top1_ci95", ci_json (bs.a_ci));
          json_object_set_new (j, "random_init_top1", json_real (sr.top1));
          json_object_set_new (j, "random_init_top5", json_real (sr.top5));
          json_object_set_new (j, "random_init_top1_ci95", ci_json (bs.b_ci));
          json_object_set_new (j, "top1_diff", json_real (bs.diff));
          json_object_set_new (j, "top1_diff_ci95", ci_json (bs.diff_ci));
          json_object_set_new (j, "bootstrap", json_integer (a->reps));
          json_object_set_new (j, "seed", json_integer ((json_int_t) a->seed));
        }
      char *t = json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER);
      printf ("%s\n", t);
      free (t), json_decref (j);
    }
  else
    {
      printf ("model %s%s\nimages %d  patients %d  queries %d  dim %d\n"
              "top-1 %.4f (%d/%d)  top-5 %.4f (%d/%d)\n", a->model,
              a->random_init ? " (random init)" : "", sc.n_images, sc.n_patients, sc.n_queries,
              dim, sc.top1, sc.top1_hits, sc.n_queries, sc.top5, sc.top5_hits, sc.n_queries);
      if (a->reps)
        printf ("random init (seed %llu): top-1 %.4f (%d/%d)  top-5 %.4f (%d/%d)\n"
                "95 %% intervals from %d resamples of the patients: model top-1 [%.4f, %.4f], "
                "random init [%.4f, %.4f]\nmodel minus random init, top-1: %+.4f [%+.4f, %+.4f]\n",
                a->seed, sr.top1, sr.top1_hits, sr.n_queries, sr.top5, sr.top5_hits, sr.n_queries,
                a->reps, bs.a_ci[0], bs.a_ci[1], bs.b_ci[0], bs.b_ci[1], bs.diff, bs.diff_ci[0],
                bs.diff_ci[1]);
    }
}

int
peac_cmd_eval_reid (int argc, char **argv)
{
  ReidArgs a;
  const int prc = parse_args (&a, argc, argv);
  if (prc >= 0)
    return prc;
  const char *model = a.model, *pairs = a.pairs, *root = a.root, *patients = a.patients,
             *branch = a.branch;
  const int random_init = a.random_init, quiet = a.quiet, threads = a.threads,
            reps = a.reps;
  const unsigned long long seed = a.seed;
  peac_threads_set (threads);

  GHashTable *keep = patients ? read_patients (patients) : NULL;
  if (patients && !keep)
    return 1;
  GPtrArray *images = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *pids = g_ptr_array_new_with_free_func (g_free);
  GArray *patient = g_array_new (FALSE, FALSE, sizeof (int));
  int n = read_pairs (pairs, keep, images, patient, pids), status = 0;
  if (n == 0)
    fprintf (stderr, "peac eval-reid: %s: no images%s\n", pairs,
             keep ? " of the patients listed in --patients" : ""), status = 1;
  else if (n < 0)
    status = 1;

  char err[1024];
  PeacModel *m = NULL, *mr = NULL;
  if (!status)
    {
      m = peac_model_load_ex (model, branch, NULL, 0, err, sizeof err);
      if (m && (random_init || reps))
        {
          mr = peac_model_new (peac_model_arch (m), peac_model_layout (m),
                               peac_model_config_json (m), seed, err, sizeof err);
          if (random_init)
            peac_model_free (m), m = mr, mr = NULL;
          else if (!mr)
            peac_model_free (m), m = NULL;
        }
      if (!m)
        fprintf (stderr, "peac eval-reid: %s\n", err), status = 1;
    }
  float *emb = NULL, *emb_r = NULL;
  int dim = 0, *hit = NULL, *hit_r = NULL;
  if (!status)
    {
      int gh, gw, S = peac_model_img_size (m);
      peac_model_output_shape (m, S, S, &gh, &gw, &dim);
      emb = malloc ((size_t) n * dim * sizeof (float));
      emb_r = mr ? malloc ((size_t) n * dim * sizeof (float)) : NULL;
      hit = malloc ((size_t) n * sizeof *hit), hit_r = malloc ((size_t) n * sizeof *hit_r);
      if (!emb || (mr && !emb_r) || !hit || !hit_r)
        fprintf (stderr, "peac eval-reid: out of memory\n"), status = 1;
    }
  if (!status)
    status = embed_all (m, images, root, dim, quiet, "model", emb);
  if (!status && mr)
    status = embed_all (mr, images, root, dim, quiet, "random init", emb_r);
  PeacReidScore sc, sr = { 0 };
  PeacReidBootstrap bs = { 0 };
  const int *pat = (const int *) patient->data;
  if (!status && (peac_reid_score_ex (emb, n, dim, pat, &sc, hit, NULL) != 0
                  || (mr && peac_reid_score_ex (emb_r, n, dim, pat, &sr, hit_r, NULL) != 0)))
    fprintf (stderr, "peac eval-reid: out of memory\n"), status = 1;
  if (!status && reps && peac_reid_bootstrap (hit, hit_r, pat, n, reps, seed, &bs) != 0)
    fprintf (stderr, "peac eval-reid: %s: no patient with two images to bootstrap\n", pairs),
      status = 1;
  if (!status)
    report (&a, dim, &sc, &sr, &bs);
  free (emb), free (emb_r), free (hit), free (hit_r);
  if (m)
    peac_model_free (m);
  if (mr)
    peac_model_free (mr);
  g_ptr_array_free (images, TRUE), g_ptr_array_free (pids, TRUE);
  g_array_free (patient, TRUE);
  if (keep)
    g_hash_table_destroy (keep);
  return status;
}
