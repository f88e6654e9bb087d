// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-eval-landmarks: `peac eval-landmarks --model M --data DIR` — how well does the model's
// correspondence carry anatomical landmarks from one radiograph to another? For ordered
// pairs (A, B) of a JSRT-layout folder (all pairs, or N drawn with a seed), every landmark
// of A is predicted in B and compared with B's own landmark of the same index. Everything is
// measured in the 1024×1024 landmark frame: mean radial error (px and mm), median, and the
// share within 1, 2 and 4 cells (PCK), overall and per structure. The model runs in its
// three matching modes (guided: affine and deformable refinement; affine only; nearest); on the same pairs the baselines are identity (same position), pixel NCC
// template matching of a cell-sized patch over the whole target at the model's input
// resolution, and a random-init model of the same architecture (peac_model_new, fixed seed).
// How clear the model's lead is gets its own figures: against each baseline, the difference
// in MRE and PCK@1 with a 95 % bootstrap interval that resamples images (a pair's two
// images carry the dependence between pairs), and the share of pairs the model wins.
// One more row is a bound, not a baseline: the affine fitted by least squares to each
// pair's own answers, the least error any one-affine-per-pair matcher could reach.
// Landmark retrieval measures the embedding without any search: for every pair and every
// landmark k of A, is B's own landmark k the nearest (top-1) or among the five nearest
// (top-5) of B's landmark embeddings (tokens sampled at B's true landmarks)?
// With --atlas the run scores multi-reference propagation instead (cli-eval-atlas.c).
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backbone.h"
#include "cli-eval-atlas.h"
#include "px-model-input.h"
#include "cli.h"
#include "landmark-fuse.h"
#include "match.h"
#include "ops.h"
#include "px-landmarks.h"
#include "retrieval.h"
#include "rng.h"
#include "stats.h"

#define FRAME 1024.0
#define N_STRUCT 5

enum { M_GUIDED, M_NEAREST, M_IDENTITY, M_NCC, M_RANDOM, M_ORACLE, M_AFFINE, N_METHODS };
static const char *const method_names[N_METHODS] = {
  "model", "model_nearest", "identity", "ncc", "random_init", "affine_oracle", "model_affine",
};

typedef struct {
  float *xy;        // [P, 2] landmarks in the 1024 frame, pixel-centre convention
  int   *structure; // [P] index into px_landmarks_jsrt_structures
  int    n;
  float *plane;     // [S, S] model input (one normalised channel), for NCC
  float *tok;       // [gh, gw, dim] trained model
  float *tok_rand;  // [gh, gw, dim] random-init model
  float *emb;       // [P, dim] the model's tokens sampled at the landmarks
  float *emb_rand;  // [P, dim] the random-init model's
  double *poly;     // [P, 2] the landmarks as doubles, the contours contour_px measures to
  int    s_start[N_STRUCT], s_len[N_STRUCT]; // each structure's run of points
} Sample;

// Landmark retrieval counts of one model over all pairs.
typedef struct {
  size_t queries, top1, top5;
} Retrieval;

// Per ordered pair and method: the summed radial error and the points within one cell.
typedef struct {
  double *sum[N_METHODS];   // [pairs]
  int    *k1[N_METHODS];    // [pairs]
  int    *n;                // [pairs] points compared
} PairStats;

typedef struct {
  float  *err;            // [pairs · P] radial errors (1024 px)
  size_t  n;
  size_t  found;          // answers the matcher called confident (model methods)
  double  s_sum[N_STRUCT];
  size_t  s_n[N_STRUCT];
  double  c_sum;          // distances to the true contour of the point's structure
  double  rms_sum;        // Σ over pairs of the pair's root mean squared error
  size_t  rms_n;
} Tally;


static void
usage (FILE *to)
{
  PeacMatchParams dflt;
  peac_match_params_default (&dflt);
  fprintf (to,
    "Usage: peac eval-landmarks --model M --data DIR [OPTIONS]\n\n"
    "Predicts every landmark of image A in image B for ordered pairs of a JSRT-layout\n"
    "folder (images_2048/<ID>.IMG.png, hybridgnet_landmarks_1024/{RL,LL,H,RCLA,LCLA}/<ID>.npy)\n"
    "and reports radial errors in the 1024 frame for the model (guided and nearest) and\n"
    "the identity, pixel-NCC and random-init baselines on the same pairs; as a bound,\n"
    "the affine fitted by least squares to each pair's answers; and landmark retrieval:\n"
    "for each landmark k of A, is B's landmark k the nearest (top-1) or among the five\n"
    "nearest (top-5) of B's landmark tokens, for the model and random init.\n\n"
    "Options:\n"
    "  -m, --model FILE      model checkpoint\n"
    "  -d, --data DIR        landmark folder (JSRT layout)\n"
    "      --pairs N         ordered pairs drawn at random (default 0 = all pairs)\n"
    "      --seed S          seed for drawing pairs (default 1)\n"
    "      --images N        use only the first N images (sorted by ID; default all)\n"
    "      --mode MODE       matching mode of the random-init baseline: guided (default),\n"
    "                        affine or nearest\n"
    "      --init-seed S     weights seed of the random-init model (default 1)\n"
    "      --subcell S       softargmax (default), quadratic or none\n"
    "      --radius R        guided confidence window in cells (default 2)\n"
    "      --symmetric 0|1   guided: 1 fits the registration both ways and averages\n"
    "                        (default %d)\n"
    "      --input N         ViT: feed each radiograph at N×N pixels (a multiple of the\n"
    "                        patch; position embeddings resampled) instead of the model's\n"
    "                        input size, e.g. at the training crops' scale\n"
    "      --stride S        ViT: dense tokens at a patch stride of S pixels for the\n"
    "                        model and the random-init baseline (default: the patch\n"
    "                        size); PCK thresholds stay in patch cells\n"
    "      --pixel-mm MM     size of a 1024-frame pixel (default 0.35: JSRT 0.175 mm at 2048)\n"
    "      --bootstrap N     image resamples of the model-minus-baseline intervals\n"
    "                        (default 1000; seeded by --seed)\n"
    "      --atlas DIR       score multi-reference propagation instead of pairs: every\n"
    "                        image of --data is a target, its landmarks fused from\n"
    "                        --atlas-k references of DIR (the best registered of the 2K\n"
    "                        most like it; leave-one-out when DIR is --data); DIR and\n"
    "                        --data may be JSRT folders,\n"
    "                        per-image CSV folders (geometry.csv) or *.landmarks.json\n"
    "      --atlas-k K       references per target (default 5)\n"
    "      --root R          data root of CSV-layout folders (default: DIR/../..)\n"
    "      --protocol P      with --atlas: also hybridgnet (RMS over the lung and heart\n"
    "                        points) or uod6 (six lung points in mm, success rates)\n"
    "      --no-cache        with --atlas: neither read nor write the token cache\n"
    "                        (<user cache>/peac-explorer/tokens)\n"
    "      --threads T       threads (default: all cores)\n"
    "      --json            print the figures as JSON\n", dflt.symmetric);
}

static void
tally_add (Tally *t, float e, int s)
{
  t->err[t->n++] = e;
  t->s_sum[s] += e;
  t->s_n[s]++;
}

static json_t *
tally_json (const Tally *t, size_t pairs, double cell, double mm, int with_found)
{
  double sum = 0;
  size_t k1 = 0, k2 = 0, k4 = 0;
  for (size_t i = 0; i < t->n; i++)
    {
      sum += t->err[i];
      k1 += t->err[i] <= cell;
      k2 += t->err[i] <= 2 * cell;
      k4 += t->err[i] <= 4 * cell;
    }
  // The errors are kept as floats (all pairs of JSRT hold millions per method); the median
  // is taken over a double copy, so the mean of the two middle values is exact.
  double *v = malloc ((t->n ? t->n : 1) * sizeof *v);
  if (!v)
    return NULL;
  for (size_t i = 0; i < t->n; i++)
    v[i] = t->err[i];
  double med = peac_median (v, (int) t->n);
  free (v);
  double n = t->n ? (double) t->n : 1.0;
  json_t *o = json_pack ("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I}",
                         "mre_px", sum / n, "mre_mm", sum / n * mm, "median_px", med,
                         "rms_px", t->rms_n ? t->rms_sum / t->rms_n : 0.0,
                         "contour_px", t->c_sum / n,
                         "pck1", k1 / n, "pck2", k2 / n, "pck4", k4 / n,
                         "pairs", (json_int_t) pairs, "points", (json_int_t) t->n);
  if (with_found)
    json_object_set_new (o, "found", json_real (t->found / n));
  json_t *per = json_object ();
  for (int s = 0; s < N_STRUCT; s++)
    json_object_set_new (per, px_landmarks_jsrt_structures[s],
                         json_real (t->s_n[s] ? t->s_sum[s] / t->s_n[s] : 0.0));
  json_object_set_new (o, "per_structure_mre_px", per);
  return o;
}

// The least-squares affine from a's n points to b's, applied to a's points:
// b ≈ L (a − ā) + b̄ with L [2, 2]. Centring takes the translation out of the normal
// equations, leaving C L = R (C = Σ da daᵀ, R = Σ da dbᵀ, da = a − ā, db = b − b̄), solved
// in closed form. Falls back to the mean translation when the points are collinear.
static void
affine_oracle (const float *a, const float *b, int n, float *pred)
{
  double ma[2] = { 0 }, mb[2] = { 0 };
  for (int i = 0; i < n; i++)
    for (int k = 0; k < 2; k++)
      ma[k] += a[2 * i + k] / n, mb[k] += b[2 * i + k] / n;
  double c00 = 0, c01 = 0, c11 = 0, r[2][2] = { { 0 } };
  for (int i = 0; i < n; i++)
    {
      double dx = a[2 * i] - ma[0], dy = a[2 * i + 1] - ma[1];
      double ex = b[2 * i] - mb[0], ey = b[2 * i + 1] - mb[1];
      c00 += dx * dx, c01 += dx * dy, c11 += dy * dy;
      r[0][0] += dx * ex, r[0][1] += dx * ey, r[1][0] += dy * ex, r[1][1] += dy * ey;
    }
  double det = c00 * c11 - c01 * c01, l[2][2] = { { 0 } };
  if (fabs (det) > 1e-9 * (c00 * c11 + 1e-30))
    for (int k = 0; k < 2; k++)
      {
        l[0][k] = (c11 * r[0][k] - c01 * r[1][k]) / det;
        l[1][k] = (c00 * r[1][k] - c01 * r[0][k]) / det;
      }
  for (int i = 0; i < n; i++)
    {
      double dx = a[2 * i] - ma[0], dy = a[2 * i + 1] - ma[1];
      for (int k = 0; k < 2; k++)
        pred[2 * i + k] = (float) (mb[k] + dx * l[0][k] + dy * l[1][k]);
    }
}

// Model minus baseline `base`: MRE (px) and PCK@1 differences over all points, their 95 %
// percentile intervals from `reps` image-level resamples (n_img images drawn with
// replacement, weight w; a pair (a, b) then counts w_a · w_b times; a resample that keeps
// no pair is drawn again, up to reps tries more), and the share of pairs whose own MRE is
// lower for the model. NULL when out of memory.
static json_t *
margin_json (const PairStats *ps, const int *pa, const int *pb, long n_pairs, int n_img,
             int base, int reps, uint64_t seed)
{
  double d_sum = 0, d_k1 = 0, pts = 0;
  long better = 0;
  for (long p = 0; p < n_pairs; p++)
    {
      d_sum += ps->sum[M_GUIDED][p] - ps->sum[base][p];
      d_k1 += ps->k1[M_GUIDED][p] - ps->k1[base][p];
      pts += ps->n[p];
      better += ps->sum[M_GUIDED][p] < ps->sum[base][p];
    }
  double *dm = malloc ((size_t) (reps > 0 ? reps : 1) * sizeof *dm);
  double *dk = malloc ((size_t) (reps > 0 ? reps : 1) * sizeof *dk);
  int *w = malloc ((size_t) n_img * sizeof *w);
  if (!dm || !dk || !w)
    {
      free (dm), free (dk), free (w);
      return NULL;
    }
  PeacRng rng;
  peac_rng_seed (&rng, seed ^ 0x9e3779b97f4a7c15ull);
  int got = 0;
  for (int tries = 0; got < reps && tries < 2 * reps; tries++)
    {
      memset (w, 0, (size_t) n_img * sizeof *w);
      for (int i = 0; i < n_img; i++)
        w[peac_rng_u64 (&rng) % (uint64_t) n_img]++;
      double num = 0, numk = 0, den = 0;
      for (long p = 0; p < n_pairs; p++)
        {
          double wt = (double) w[pa[p]] * w[pb[p]];
          if (wt == 0)
            continue;
          num += wt * (ps->sum[M_GUIDED][p] - ps->sum[base][p]);
          numk += wt * (ps->k1[M_GUIDED][p] - ps->k1[base][p]);
          den += wt * ps->n[p];
        }
      if (den > 0)
        dm[got] = num / den, dk[got++] = numk / den;
    }
  json_t *ci_m = json_null (), *ci_k = json_null ();
  if (got >= 20)   // fewer resamples give no 2.5 % tail worth the name
    {
      double cm[2], ck[2];
      peac_percentile_interval (dm, got, 0.025, 0.975, PEAC_RANK_OUTWARD, cm);
      peac_percentile_interval (dk, got, 0.025, 0.975, PEAC_RANK_OUTWARD, ck);
      json_decref (ci_m), json_decref (ci_k);
      ci_m = json_pack ("[f, f]", cm[0], cm[1]);
      ci_k = json_pack ("[f, f]", ck[0], ck[1]);
    }
  free (dm), free (dk), free (w);
  double n = pts > 0 ? pts : 1;
  return json_pack ("{s:f, s:o, s:f, s:o, s:f, s:i}", "mre_diff_px", d_sum / n,
                    "mre_diff_ci95", ci_m, "pck1_diff", d_k1 / n, "pck1_diff_ci95", ci_k,
                    "pairs_better", n_pairs ? (double) better / n_pairs : 0.0,
                    "resamples", got);
}

static int
load_sample (const char *dir, const char *id, PeacModel *m, PeacModel *mr, int side,
             int patch, int stride, size_t per, Sample *s, char *err, size_t errlen)
{
  GError *error = NULL;
  PxLandmarkSet *set = px_landmarks_load_jsrt (dir, id, &error);
  if (!set)
    {
      snprintf (err, errlen, "%s", error->message);
      g_error_free (error);
      return -1;
    }
  s->n = (int) px_landmark_set_size (set);
  s->xy = malloc ((size_t) s->n * 2 * sizeof *s->xy);
  s->structure = malloc ((size_t) s->n * sizeof *s->structure);
  s->tok = malloc (per * sizeof *s->tok);
  s->tok_rand = malloc (per * sizeof *s->tok_rand);
  if (!s->xy || !s->structure || !s->tok || !s->tok_rand)
    {
      snprintf (err, errlen, "out of memory");
      px_landmark_set_free (set);
      return -1;
    }
  for (int i = 0; i < s->n; i++)
    {
      PxLandmark *l = px_landmark_set_get (set, (guint) i);
      // Image pixels → the 1024 frame (both pixel-centre).
      s->xy[2 * i] = (float) ((l->x + 0.5) * FRAME / set->image_width - 0.5);
      s->xy[2 * i + 1] = (float) ((l->y + 0.5) * FRAME / set->image_height - 0.5);
      s->structure[i] = 0;
      for (int k = 0; k < N_STRUCT; k++)
        if (l->structure && !strcmp (l->structure, px_landmarks_jsrt_structures[k]))
          s->structure[i] = k;
    }
  // The loader gives each structure's points as one run, in contour order.
  s->poly = malloc ((size_t) s->n * 2 * sizeof *s->poly);
  if (!s->poly)
    {
      snprintf (err, errlen, "out of memory");
      px_landmark_set_free (set);
      return -1;
    }
  for (int i = 0; i < 2 * s->n; i++)
    s->poly[i] = s->xy[i];
  for (int i = 0; i < s->n; i++)
    {
      const int k = s->structure[i];
      if (s->s_len[k]++ == 0)
        s->s_start[k] = i;
    }
  PxModelInput in, dense = { 0 };
  int rc = px_model_input_load (set->image_path, side, &in, err, errlen);
  px_landmark_set_free (set);
  if (rc == 0 && stride)
    rc = px_model_input_dense (&in, patch, stride, &dense, err, errlen);
  if (rc < 0)
    return px_model_input_clear (&in), -1;
  s->plane = in.plane;   // kept for NCC (NCC ignores the normalisation); freed with the sample
  const PxModelInput *e = stride ? &dense : &in;
  rc = px_model_input_embed (m, e, s->tok, err, errlen) < 0
       || px_model_input_embed (mr, e, s->tok_rand, err, errlen) < 0 ? -1 : 0;
  px_model_input_clear (&dense);
  return rc;
}

static void
sample_clear (Sample *s)
{
  free (s->xy), free (s->structure), free (s->plane), free (s->tok), free (s->tok_rand);
  free (s->poly);
  free (s->emb), free (s->emb_rand);
}

// The tokens at the sample's landmarks (bilinear, as a query samples them), both models.
static int
landmark_embeddings (Sample *s, int gh, int gw, int dim)
{
  s->emb = malloc ((size_t) s->n * dim * sizeof *s->emb);
  s->emb_rand = malloc ((size_t) s->n * dim * sizeof *s->emb_rand);
  if (!s->emb || !s->emb_rand)
    return -1;
  for (int i = 0; i < s->n; i++)
    {
      double u = s->xy[2 * i] * gw / FRAME, v = s->xy[2 * i + 1] * gh / FRAME;
      peac_match_sample_token (s->tok, gh, gw, dim, u, v, s->emb + (size_t) i * dim);
      peac_match_sample_token (s->tok_rand, gh, gw, dim, u, v, s->emb_rand + (size_t) i * dim);
    }
  return 0;
}

// Adds pair (a, b)'s landmark ranks to both models' counts (the first n landmarks).
static int
retrieval_add (const Sample *a, const Sample *b, int n, int dim, int *ranks, Retrieval *model,
               Retrieval *random)
{
  for (int which = 0; which < 2; which++)
    {
      Retrieval *r = which ? random : model;
      if (peac_retrieval_ranks (which ? a->emb_rand : a->emb, which ? b->emb_rand : b->emb, n,
                                dim, ranks) < 0)
        return -1;
      for (int i = 0; i < n; i++)
        r->top1 += ranks[i] == 0, r->top5 += ranks[i] < 5;
      r->queries += (size_t) n;
    }
  return 0;
}

static json_t *
retrieval_json (const Retrieval *r)
{
  double q = r->queries ? (double) r->queries : 1.0;
  return json_pack ("{s:f, s:f, s:I}", "top1", r->top1 / q, "top5", r->top5 / q, "queries",
                    (json_int_t) r->queries);
}

// Predicts every landmark of a in b by one method into pred [P, 2] (1024 frame).
static int
predict (const PeacMatchContext *ctx, PeacMatchMode mode, const Sample *a, float *pred,
         size_t *found)
{
  for (int i = 0; i < a->n; i++)
    {
      PeacMatch r;
      // Engine coordinates put pixel i at [i, i + 1): shift by ½ in and out.
      if (peac_match_query (ctx, 0, a->xy[2 * i] + 0.5, a->xy[2 * i + 1] + 0.5, mode, &r,
                            NULL) < 0)
        return -1;
      pred[2 * i] = r.x - 0.5f;
      pred[2 * i + 1] = r.y - 0.5f;
      *found += r.found;
    }
  return 0;
}

// The command line, parsed.
typedef struct {
  const char *model_path, *dir, *atlas_dir, *root, *protocol;
  int atlas_k, cache, json, threads, stride, reps, input;
  long pairs_wanted, max_images;
  uint64_t seed, init_seed;
  double pixel_mm;
  PeacMatchMode rand_mode;
  PeacMatchParams mp;
} EvalArgs;

// Fills a from argv. Returns -1 to run, else the exit status.
static int
parse_args (EvalArgs *a, int argc, char **argv)
{
  enum { O_PAIRS = 1000, O_SEED, O_IMAGES, O_MODE, O_INIT_SEED, O_SUBCELL, O_RADIUS,
         O_PIXEL_MM, O_THREADS, O_JSON, O_STRIDE, O_BOOTSTRAP, O_SYMMETRIC, O_INPUT,
         O_ATLAS, O_ATLAS_K, O_ROOT, O_PROTOCOL, O_NO_CACHE };
  static const struct option opts[] = {
    { "model", required_argument, NULL, 'm' },
    { "data", required_argument, NULL, 'd' },
    { "pairs", required_argument, NULL, O_PAIRS },
    { "seed", required_argument, NULL, O_SEED },
    { "images", required_argument, NULL, O_IMAGES },
    { "mode", required_argument, NULL, O_MODE },
    { "init-seed", required_argument, NULL, O_INIT_SEED },
    { "subcell", required_argument, NULL, O_SUBCELL },
    { "radius", required_argument, NULL, O_RADIUS },
    { "stride", required_argument, NULL, O_STRIDE },
    { "input", required_argument, NULL, O_INPUT },
    { "pixel-mm", required_argument, NULL, O_PIXEL_MM },
    { "bootstrap", required_argument, NULL, O_BOOTSTRAP },
    { "symmetric", required_argument, NULL, O_SYMMETRIC },
    { "threads", required_argument, NULL, O_THREADS },
    { "json", no_argument, NULL, O_JSON },
    { "atlas", required_argument, NULL, O_ATLAS },
    { "atlas-k", required_argument, NULL, O_ATLAS_K },
    { "root", required_argument, NULL, O_ROOT },
    { "protocol", required_argument, NULL, O_PROTOCOL },
    { "no-cache", no_argument, NULL, O_NO_CACHE },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  *a = (EvalArgs) { .atlas_k = 5, .cache = 1, .seed = 1, .init_seed = 1, .reps = 1000,
                    .pixel_mm = 0.35, .rand_mode = PEAC_MATCH_GUIDED };
  peac_match_params_default (&a->mp);
  int c;
  optind = 0;
  while ((c = peac_cli_getopt ("eval-landmarks", argc, argv, "m:d:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'm': a->model_path = optarg; break;
      case 'd': a->dir = optarg; break;
      case O_PAIRS: a->pairs_wanted = atol (optarg); break;
      case O_SEED: a->seed = strtoull (optarg, NULL, 10); break;
      case O_IMAGES: a->max_images = atol (optarg); break;
      case O_INIT_SEED: a->init_seed = strtoull (optarg, NULL, 10); break;
      case O_RADIUS: a->mp.radius = (float) atof (optarg); break;
      case O_STRIDE: a->stride = atoi (optarg); break;
      case O_INPUT: a->input = atoi (optarg); break;
      case O_PIXEL_MM: a->pixel_mm = atof (optarg); break;
      case O_BOOTSTRAP: a->reps = atoi (optarg); break;
      case O_SYMMETRIC: a->mp.symmetric = atoi (optarg); break;
      case O_THREADS: a->threads = atoi (optarg); break;
      case O_JSON: a->json = 1; break;
      case O_ATLAS: a->atlas_dir = optarg; break;
      case O_ATLAS_K: a->atlas_k = atoi (optarg); break;
      case O_ROOT: a->root = optarg; break;
      case O_PROTOCOL: a->protocol = optarg; break;
      case O_NO_CACHE: a->cache = 0; break;
      case O_MODE:
        if (peac_match_mode_parse (optarg) >= 0)
          a->rand_mode = (PeacMatchMode) peac_match_mode_parse (optarg);
        else
          {
            fprintf (stderr, "peac eval-landmarks: --mode is guided, affine or nearest\n");
            return 2;
          }
        break;
      case O_SUBCELL:
        if (!strcmp (optarg, "softargmax")) a->mp.subcell = PEAC_SUBCELL_SOFTARGMAX;
        else if (!strcmp (optarg, "quadratic")) a->mp.subcell = PEAC_SUBCELL_QUADRATIC;
        else if (!strcmp (optarg, "none")) a->mp.subcell = PEAC_SUBCELL_NONE;
        else
          {
            fprintf (stderr, "peac eval-landmarks: --subcell is softargmax, quadratic or none\n");
            return 2;
          }
        break;
      case 'h': usage (stdout); return 0;
      default: return 2;
      }
  if (!a->model_path || !a->dir || optind != argc || a->pairs_wanted < 0 || a->max_images < 0
      || !(a->mp.radius > 0) || !(a->pixel_mm > 0) || a->stride < 0 || a->input < 0
      || a->reps < 0 || a->reps > 1000000 || (a->mp.symmetric != 0 && a->mp.symmetric != 1)
      || a->atlas_k < 1
      || (a->protocol && strcmp (a->protocol, "hybridgnet") && strcmp (a->protocol, "uod6"))
      || (a->protocol && !a->atlas_dir))
    {
      usage (stderr);
      return 2;
    }
  return -1;
}

// The atlas evaluation has its own targets, figures and output (cli-eval-atlas.c).
static int
run_atlas (const EvalArgs *a)
{
  char err[1024];
  PeacModel *am = peac_model_load (a->model_path, err, sizeof err);
  if (!am)
    {
      fprintf (stderr, "peac eval-landmarks: %s\n", err);
      return 1;
    }
  CliEvalAtlasOptions ao = { .model_path = a->model_path, .cache = a->cache, .data = a->dir,
                             .atlas = a->atlas_dir, .root = a->root, .k = a->atlas_k,
                             .stride = a->stride, .max_images = (int) a->max_images,
                             .json = a->json, .pixel_mm = a->pixel_mm,
                             .protocol = a->protocol, .mp = a->mp };
  int arc = cli_eval_atlas (am, &ao);
  peac_model_free (am);
  return arc;
}

// Pairs: all ordered pairs of n_img images, or `wanted` distinct ones drawn with the seed.
// Returns their number (*pa, *pb malloc'd), or -1 when out of memory.
static long
draw_pairs (int n_img, long wanted, uint64_t seed, int **pa, int **pb)
{
  const long all = (long) n_img * (n_img - 1);
  const long n_pairs = wanted == 0 || wanted >= all ? all : wanted;
  int *pair_a = *pa = malloc ((size_t) n_pairs * sizeof *pair_a);
  int *pair_b = *pb = malloc ((size_t) n_pairs * sizeof *pair_b);
  unsigned char *used = calloc ((size_t) n_img * n_img, 1);
  if (!pair_a || !pair_b || !used)
    {
      free (used);
      return -1;
    }
  if (n_pairs == all)
    {
      long k = 0;
      for (int a = 0; a < n_img; a++)
        for (int b = 0; b < n_img; b++)
          if (a != b)
            pair_a[k] = a, pair_b[k++] = b;
    }
  else
    {
      PeacRng rng;
      peac_rng_seed (&rng, seed);
      for (long k = 0; k < n_pairs;)
        {
          int a = (int) (peac_rng_u64 (&rng) % (uint64_t) n_img);
          int b = (int) (peac_rng_u64 (&rng) % (uint64_t) n_img);
          if (a == b || used[a * n_img + b])
            continue;
          used[a * n_img + b] = 1;
          pair_a[k] = a, pair_b[k++] = b;
        }
    }
  free (used);
  return n_pairs;
}

// What the pairwise evaluation accumulates, and the grid it works on.
typedef struct {
  const EvalArgs *args;
  Sample *smp;
  int n_img, side, patch, gh, gw, dim;
  double cell;              // the model's cell in the 1024 frame (PCK thresholds)
  long n_pairs;
  int *pair_a, *pair_b;
  Tally tally[N_METHODS];
  PairStats ps;
  Retrieval retr[2];        // the model, random init
  float *pred;              // [max points, 2]
  int *ranks;
  double t_embed, t_match, t_ncc;
} Eval;

// Scores pair p by every method into e's tallies. Returns 0 or -1 after a message.
static int
score_pair (Eval *e, long p)
{
  const Sample *a = &e->smp[e->pair_a[p]], *b = &e->smp[e->pair_b[p]];
  const int gh = e->gh, gw = e->gw, dim = e->dim, side = e->side;
  const double cell = e->cell, cell_in = e->patch;
  const PeacMatchParams mp = e->args->mp;
  const PeacMatchMode rand_mode = e->args->rand_mode;
  Tally *tally = e->tally;
  PairStats *ps = &e->ps;
  float *pred = e->pred;
  PeacMatchContext *pair_ctx = NULL;
  char err[1024] = "";
  int rc = -1;
  int n = a->n < b->n ? a->n : b->n;
  ps->n[p] = n;
  if (retrieval_add (a, b, n, dim, e->ranks, &e->retr[0], &e->retr[1]) < 0)
    {
      fprintf (stderr, "peac eval-landmarks: out of memory\n");
      return -1;
    }
  PeacMatchContext *rnd_ctx = NULL;
  for (int method = 0; method < N_METHODS; method++)
    {
      double ts = peac_cli_now_s ();
      if (method == M_GUIDED || method == M_NEAREST || method == M_RANDOM
          || method == M_AFFINE)
        {
          // The model's three modes share one context per pair.
          int rnd = method == M_RANDOM;
          PeacGrid ga = { rnd ? a->tok_rand : a->tok, gh, gw, FRAME, FRAME };
          PeacGrid gb = { rnd ? b->tok_rand : b->tok, gh, gw, FRAME, FRAME };
          if (rnd || !pair_ctx)
            {
              PeacMatchContext *ctx = peac_match_context_new (&ga, &gb, 1, dim, &mp, err,
                                                              sizeof err);
              if (rnd)
                rnd_ctx = ctx;
              else
                pair_ctx = ctx;
            }
          PeacMatchContext *ctx = rnd ? rnd_ctx : pair_ctx;
          PeacMatchMode mode = method == M_NEAREST ? PEAC_MATCH_NEAREST
                             : method == M_AFFINE ? PEAC_MATCH_AFFINE
                             : method == M_RANDOM ? rand_mode : PEAC_MATCH_GUIDED;
          int bad = !ctx || predict (ctx, mode, a, pred, &tally[method].found) < 0;
          peac_match_context_free (rnd_ctx);
          rnd_ctx = NULL;
          if (bad)
            {
              fprintf (stderr, "peac eval-landmarks: matching failed: %s\n", err);
              goto done;
            }
          e->t_match += peac_cli_now_s () - ts;
        }
      else if (method == M_IDENTITY)
        memcpy (pred, a->xy, (size_t) n * 2 * sizeof *pred);
      else if (method == M_ORACLE)
        affine_oracle (a->xy, b->xy, n, pred);
      else
        {
          // NCC at the model's input resolution: 1024 frame ↔ side×side, continuous.
          float s = (float) (side / FRAME);
          for (int i = 0; i < 2 * n; i++)
            pred[i] = (a->xy[i] + 0.5f) * s;
          if (peac_ncc_match (a->plane, side, side, b->plane, side, side,
                              (int) lround (cell_in), pred, n, pred, NULL) < 0)
            {
              fprintf (stderr, "peac eval-landmarks: NCC failed\n");
              goto done;
            }
          for (int i = 0; i < 2 * n; i++)
            pred[i] = pred[i] / s - 0.5f;
          e->t_ncc += peac_cli_now_s () - ts;
        }
      double sq = 0;
      for (int i = 0; i < n; i++)
        {
          float d = (float) hypot (pred[2 * i] - b->xy[2 * i],
                                   pred[2 * i + 1] - b->xy[2 * i + 1]);
          tally_add (&tally[method], d, a->structure[i]);
          ps->sum[method][p] += d;
          ps->k1[method][p] += d <= cell;
          sq += (double) d * d;
          const int k = a->structure[i];
          const double q[2] = { pred[2 * i], pred[2 * i + 1] };
          tally[method].c_sum += peac_contour_distance (b->poly + 2 * b->s_start[k],
                                                        b->s_len[k], q);
        }
      if (n > 0)
        tally[method].rms_sum += sqrt (sq / n), tally[method].rms_n++;
    }
  rc = 0;
done:
  peac_match_context_free (pair_ctx);
  return rc;
}

// The results as tables on stdout (and the timings on stderr).
static void
print_text (const Eval *e, json_t *const res[N_METHODS], json_t *margins, const int bases[3])
{
  printf ("%ld ordered pairs of %d images, %d×%d grid (cell %.1f px in the 1024 frame, "
          "%.2f mm/px)\n\n", e->n_pairs, e->n_img, e->gh, e->gw, e->cell, e->args->pixel_mm);
  printf ("%-15s %8s %8s %9s %6s %6s %6s %6s\n", "method", "MRE px", "MRE mm",
          "median px", "PCK1", "PCK2", "PCK4", "found");
  for (int k = 0; k < N_METHODS; k++)
    {
      json_t *o = res[k], *f = json_object_get (o, "found");
      printf ("%-15s %8.1f %8.2f %9.1f %6.3f %6.3f %6.3f ", method_names[k],
              json_real_value (json_object_get (o, "mre_px")),
              json_real_value (json_object_get (o, "mre_mm")),
              json_real_value (json_object_get (o, "median_px")),
              json_real_value (json_object_get (o, "pck1")),
              json_real_value (json_object_get (o, "pck2")),
              json_real_value (json_object_get (o, "pck4")));
      if (f)
        printf ("%6.3f\n", json_real_value (f));
      else
        printf ("%6s\n", "-");
    }
  printf ("(affine_oracle: the least-squares affine fitted to each pair's answers, a bound "
          "for matchers that map a pair by one affine)\n");
  printf ("\nMRE px per structure\n%-15s", "method");
  for (int s = 0; s < N_STRUCT; s++)
    printf (" %7s", px_landmarks_jsrt_structures[s]);
  printf ("\n");
  for (int k = 0; k < N_METHODS; k++)
    {
      json_t *per = json_object_get (res[k], "per_structure_mre_px");
      printf ("%-15s", method_names[k]);
      for (int s = 0; s < N_STRUCT; s++)
        printf (" %7.1f", json_real_value (json_object_get (per, px_landmarks_jsrt_structures[s])));
      printf ("\n");
    }
  printf ("\nmodel minus baseline (95 %% interval: %d image resamples)\n%-15s %26s %28s %12s\n",
          e->args->reps, "baseline", "MRE px", "PCK1", "pairs won");
  for (int i = 0; i < 3; i++)
    {
      json_t *mj = json_object_get (margins, method_names[bases[i]]);
      json_t *cm = json_object_get (mj, "mre_diff_ci95"), *ck = json_object_get (mj, "pck1_diff_ci95");
      char im[40] = "", ik[40] = "";
      if (json_is_array (cm))
        snprintf (im, sizeof im, "[%+.1f, %+.1f]", json_real_value (json_array_get (cm, 0)),
                  json_real_value (json_array_get (cm, 1)));
      if (json_is_array (ck))
        snprintf (ik, sizeof ik, "[%+.3f, %+.3f]", json_real_value (json_array_get (ck, 0)),
                  json_real_value (json_array_get (ck, 1)));
      printf ("%-15s %+8.1f %17s %+10.3f %17s %11.1f%%\n", method_names[bases[i]],
              json_real_value (json_object_get (mj, "mre_diff_px")), im,
              json_real_value (json_object_get (mj, "pck1_diff")), ik,
              100 * json_real_value (json_object_get (mj, "pairs_better")));
    }
  json_decref (margins);
  printf ("\nlandmark retrieval: is B's landmark k the nearest (top-1) or among the five\n"
          "nearest (top-5) of B's landmark tokens to A's landmark k?\n%-15s %6s %6s\n",
          "method", "top-1", "top-5");
  for (int k = 0; k < 2; k++)
    {
      json_t *o = retrieval_json (&e->retr[k]);
      printf ("%-15s %6.3f %6.3f\n", k ? "random_init" : "model",
              json_real_value (json_object_get (o, "top1")),
              json_real_value (json_object_get (o, "top5")));
      json_decref (o);
    }
  fflush (stdout);
  fprintf (stderr, "peac eval-landmarks: embedding %.1f s, matching %.1f s, NCC %.1f s\n",
           e->t_embed, e->t_match, e->t_ncc);
}

// The results as one JSON object on stdout (takes res and margins).
static void
print_json (const Eval *e, json_t *const res[N_METHODS], json_t *margins)
{
  const EvalArgs *a = e->args;
  json_t *out = json_pack ("{s:o, s:o, s:o, s:{s:o, s:o, s:o}, s:{s:o}, s:o, s:{s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:s, s:I, s:I, s:i, s:i, s:f, s:f, s:f}}",
    "model", res[M_GUIDED], "model_nearest", res[M_NEAREST], "model_affine", res[M_AFFINE],
    "baselines", "identity", res[M_IDENTITY], "ncc", res[M_NCC], "random_init", res[M_RANDOM],
    "bounds", "affine_oracle", res[M_ORACLE], "margins", margins,
    "config", "data", a->dir, "images", e->n_img, "input", e->side, "grid", e->gw, "stride",
    a->stride ? a->stride : e->patch, "dim", e->dim,
    "cell_px", e->cell, "random_init_mode", peac_match_mode_name (a->rand_mode),
    "seed", (json_int_t) a->seed, "init_seed", (json_int_t) a->init_seed, "bootstrap", a->reps,
    "symmetric", a->mp.symmetric, "embed_s", e->t_embed, "match_s", e->t_match, "ncc_s", e->t_ncc);
  json_object_set_new (out, "landmark_retrieval",
                       json_pack ("{s:o, s:o}", "model", retrieval_json (&e->retr[0]),
                                  "random_init", retrieval_json (&e->retr[1])));
  char *s = json_dumps (out, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION (6));
  puts (s);
  free (s);
  json_decref (out);
}

// Embeds the images, scores the pairs and prints the results.
static int
run (const EvalArgs *args)
{
  peac_threads_set (args->threads);
  if (args->atlas_dir)
    return run_atlas (args);
  double t0 = peac_cli_now_s ();
  char err[1024];
  GError *error = NULL;
  const char *dir = args->dir;
  GStrv ids = px_landmarks_jsrt_list (dir, &error);
  if (!ids)
    {
      fprintf (stderr, "peac eval-landmarks: %s\n", error->message);
      g_error_free (error);
      return 1;
    }
  int n_img = (int) g_strv_length (ids);
  if (args->max_images > 0 && args->max_images < n_img)
    n_img = (int) args->max_images;
  if (n_img < 2)
    {
      fprintf (stderr, "peac eval-landmarks: %s: fewer than two images with all five "
               "landmark files\n", dir);
      g_strfreev (ids);
      return 1;
    }
  PeacModel *m = peac_model_load (args->model_path, err, sizeof err), *mr = NULL;
  if (!m)
    {
      fprintf (stderr, "peac eval-landmarks: %s\n", err);
      g_strfreev (ids);
      return 1;
    }
  mr = peac_model_new (peac_model_arch (m), peac_model_layout (m), peac_model_config_json (m),
                       args->init_seed, err, sizeof err);
  const int input = args->input, stride = args->stride;
  int rc = 1, side = peac_model_img_size (m), gh, gw, dim;
  peac_model_output_shape (m, side, side, &gh, &gw, &dim);
  const int patch = side / gw;   // PCK thresholds stay in these cells at any stride
  // The cell of the model's own input size in the 1024 frame: PCK thresholds and the JSON's
  // cell_px keep it when --input feeds the image at another size.
  const double cell = FRAME * patch / side;
  const PeacBackbone *bb = peac_model_backbone (m);
  if (input && (!bb->strides || input % patch))
    {
      if (!bb->strides)
        snprintf (err, sizeof err, "a %s model takes only its own input size", bb->label);
      fprintf (stderr, "peac eval-landmarks: --input %d: %s\n", input,
               bb->strides ? "not a multiple of the patch size" : err);
      peac_model_free (m), peac_model_free (mr);
      g_strfreev (ids);
      return 2;
    }
  if (input)
    side = input;
  PeacForwardOptions fo = PEAC_FORWARD_DEFAULT;
  fo.stride = stride == patch ? 0 : stride;
  const int pad = stride && bb->strides
                  ? px_model_input_dense_pad (side, patch, stride, err, sizeof err) : 0;
  if (stride && !bb->strides)
    snprintf (err, sizeof err, "a %s model has no patch stride", bb->label);
  if (stride && (!bb->strides || pad < 0))
    {
      fprintf (stderr, "peac eval-landmarks: --stride: %s\n", err);
      peac_model_free (m), peac_model_free (mr);
      g_strfreev (ids);
      return 2;
    }
  peac_model_output_shape_ex (m, &fo, side + 2 * pad, side + 2 * pad, &gh, &gw, &dim);
  size_t per = (size_t) gh * gw * dim;
  Eval e = { .args = args, .n_img = n_img, .side = side, .patch = patch, .gh = gh, .gw = gw,
             .dim = dim, .cell = cell };
  e.smp = calloc ((size_t) n_img, sizeof *e.smp);
  if (!mr || !e.smp)
    {
      fprintf (stderr, "peac eval-landmarks: %s\n", mr ? "out of memory" : err);
      goto done;
    }
  for (int i = 0; i < n_img; i++)
    if (load_sample (dir, ids[i], m, mr, side, patch, stride, per, &e.smp[i], err, sizeof err) < 0)
      {
        fprintf (stderr, "peac eval-landmarks: %s: %s\n", ids[i], err);
        goto done;
      }
    else if (landmark_embeddings (&e.smp[i], gh, gw, dim) < 0)
      {
        fprintf (stderr, "peac eval-landmarks: out of memory\n");
        goto done;
      }
  e.t_embed = peac_cli_now_s () - t0;

  e.n_pairs = draw_pairs (n_img, args->pairs_wanted, args->seed, &e.pair_a, &e.pair_b);
  size_t max_pts = 0;
  for (int i = 0; i < n_img; i++)
    max_pts = e.smp[i].n > (int) max_pts ? (size_t) e.smp[i].n : max_pts;
  const size_t n_pairs = e.n_pairs > 0 ? (size_t) e.n_pairs : 0;
  e.pred = malloc (max_pts * 2 * sizeof *e.pred);
  e.ranks = malloc (max_pts * sizeof *e.ranks);
  e.ps.n = malloc (n_pairs * sizeof *e.ps.n);
  for (int k = 0; k < N_METHODS; k++)
    {
      e.tally[k].err = malloc (n_pairs * max_pts * sizeof *e.tally[k].err);
      e.ps.sum[k] = calloc (n_pairs, sizeof *e.ps.sum[k]);
      e.ps.k1[k] = calloc (n_pairs, sizeof *e.ps.k1[k]);
    }
  for (int k = 0; k < N_METHODS; k++)
    if (e.n_pairs < 0 || !e.tally[k].err || !e.pred || !e.ranks || !e.ps.n || !e.ps.sum[k]
        || !e.ps.k1[k])
      {
        fprintf (stderr, "peac eval-landmarks: out of memory\n");
        goto done;
      }
  for (long p = 0; p < e.n_pairs; p++)
    if (score_pair (&e, p) != 0)
      goto done;

  const int bases[3] = { M_IDENTITY, M_NCC, M_RANDOM };
  json_t *margins = json_object ();
  for (int i = 0; i < 3; i++)
    {
      json_t *mj = margin_json (&e.ps, e.pair_a, e.pair_b, e.n_pairs, n_img, bases[i],
                                args->reps, args->seed);
      if (!mj)
        {
          json_decref (margins);
          fprintf (stderr, "peac eval-landmarks: out of memory\n");
          goto done;
        }
      json_object_set_new (margins, method_names[bases[i]], mj);
    }
  json_t *res[N_METHODS];
  int res_ok = 1;
  for (int k = 0; k < N_METHODS; k++)
    {
      res[k] = tally_json (&e.tally[k], (size_t) e.n_pairs, cell, args->pixel_mm,
                           k == M_GUIDED || k == M_NEAREST || k == M_RANDOM || k == M_AFFINE);
      res_ok = res_ok && res[k];
    }
  if (!res_ok)
    {
      for (int k = 0; k < N_METHODS; k++)
        json_decref (res[k]);
      json_decref (margins);
      fprintf (stderr, "peac eval-landmarks: out of memory\n");
      goto done;
    }
  if (args->json)
    print_json (&e, res, margins);
  else
    {
      print_text (&e, res, margins, bases);
      for (int k = 0; k < N_METHODS; k++)
        json_decref (res[k]);
    }
  rc = 0;
done:
  for (int k = 0; k < N_METHODS; k++)
    free (e.tally[k].err), free (e.ps.sum[k]), free (e.ps.k1[k]);
  free (e.ps.n);
  if (e.smp)
    for (int i = 0; i < n_img; i++)
      sample_clear (&e.smp[i]);
  free (e.smp);
  free (e.pred);
  free (e.ranks);
  free (e.pair_a);
  free (e.pair_b);
  peac_model_free (m);
  peac_model_free (mr);
  g_strfreev (ids);
  return rc;
}

int
peac_cmd_eval_landmarks (int argc, char **argv)
{
  EvalArgs a;
  const int rc = parse_args (&a, argc, argv);
  return rc >= 0 ? rc : run (&a);
}
