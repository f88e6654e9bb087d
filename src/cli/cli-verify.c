// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-verify: `peac verify-reference FILE` checks the engine against a fixture made by
// real PyTorch/timm (format: ../shared/reference/README.md). It builds the model from the
// file's `peac.*` metadata, loads the `param.*` tensors, runs `input` through it, and
// compares every `act.*` the engine reports under the same name, `out.features`,
// `out.pooled` and (when present) `loss.value` = Σ out.features · loss.R. For each tensor
// it prints the worst absolute error and that error relative to max(1, max|ref|); the
// command fails (exit 1) when any exceeds 1e-4, and exits 2 when the file cannot be used.
// It also runs the model's training forward/backward (model.h) with
// dL/d out.features = loss.R and compares every `grad.<param>` (Swin names of either
// layout mapped as the weights are) and `grad.input` (tolerance 1e-3 · max(1, max|ref|)).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "model.h"
#include "ops.h"
#include "backbone.h"

#define TOLERANCE 1e-4
#define GRAD_TOLERANCE 1e-3

typedef struct {
  char   *name;
  float  *data;
  size_t  numel;
  int     ndim;
  int64_t shape[4];
} Captured;

typedef struct {
  Captured *list;
  int       n, cap;
} Captures;

static void
capture (void *user, const char *name, const float *data, int ndim, const int64_t *shape)
{
  Captures *c = user;
  size_t numel = 1;
  for (int i = 0; i < ndim; i++)
    numel *= (size_t) shape[i];
  if (c->n == c->cap)
    {
      c->cap = c->cap ? 2 * c->cap : 32;
      c->list = realloc (c->list, (size_t) c->cap * sizeof *c->list);
    }
  Captured *e = &c->list[c->n++];
  e->name = strdup (name);
  e->data = malloc (numel * sizeof (float));
  memcpy (e->data, data, numel * sizeof (float));
  e->numel = numel;
  e->ndim = ndim > 4 ? 4 : ndim;
  for (int i = 0; i < e->ndim; i++)
    e->shape[i] = shape[i];
}

static const Captured *
find_captured (const Captures *c, const char *name)
{
  for (int i = c->n - 1; i >= 0; i--)
    if (strcmp (c->list[i].name, name) == 0)
      return &c->list[i];
  return NULL;
}

static void
shape_str (char *buf, size_t n, int ndim, const int64_t *shape)
{
  buf[0] = '\0';
  for (int i = 0; i < ndim; i++)
    snprintf (buf + strlen (buf), n - strlen (buf), "%s%lld", i ? "x" : "", (long long) shape[i]);
}

// Compares ours against ref; prints one line; returns 1 if within tolerance.
static int
compare_tol (const char *label, const float *ours, const float *ref, size_t n, int ndim,
             const int64_t *shape, double tolerance)
{
  double err = 0, big = 0;
  int nonfinite = 0;
  for (size_t i = 0; i < n; i++)
    {
      double d = fabs ((double) ours[i] - ref[i]);
      if (!isfinite (ours[i]))
        nonfinite = 1;
      err = d > err ? d : err;
      big = fabs (ref[i]) > big ? fabs (ref[i]) : big;
    }
  double rel = err / (big > 1 ? big : 1);
  int ok = !nonfinite && rel <= tolerance;
  char s[64];
  shape_str (s, sizeof s, ndim, shape);
  printf ("  %-28s %-16s max|ref| %9.4g  max|err| %9.3g  rel %9.3g  %s\n", label, s, big, err,
          rel, ok ? "ok" : nonfinite ? "FAIL (non-finite)" : "FAIL");
  return ok;
}

static int
compare (const char *label, const float *ours, const float *ref, size_t n, int ndim,
         const int64_t *shape)
{
  return compare_tol (label, ours, ref, n, ndim, shape, TOLERANCE);
}

static float *
read_tensor (const PeacSafetensors *st, const PeacStTensor *t, char *err, size_t errlen)
{
  float *x = malloc ((t->numel ? t->numel : 1) * sizeof (float));
  if (x && peac_st_read_f32 (st, t, x, err, errlen) == 0)
    return x;
  free (x);
  return NULL;
}

// Compares every `grad.<param>` of the fixture with the engine's gradient of that
// parameter (names through map, NULL = identity) and `grad.input` with dinput. Adds to
// *checked and *failed; returns the number compared.
static int
compare_gradients (const PeacSafetensors *st, PeacParams *p, const float *grads,
                   const float *dinput, size_t n_input, PeacNameMapFn map, void *map_user,
                   int *checked, int *failed)
{
  char err[1024], buf[PEAC_NAME_MAX];
  int n = 0;
  for (int i = 0; i < st->n; i++)
    {
      const PeacStTensor *t = &st->tensors[i];
      if (strncmp (t->name, "grad.", 5) != 0)
        continue;
      const float *ours = NULL;
      if (strcmp (t->name, "grad.input") == 0)
        ours = t->numel == n_input ? dinput : NULL;
      else
        {
          const char *name = map ? map (t->name + 5, map_user, buf, sizeof buf) : t->name + 5;
          const PeacParam *q = name ? peac_params_find (p, name) : NULL;
          ours = q && q->numel == t->numel ? grads + q->offset : NULL;
        }
      float *ref = ours ? read_tensor (st, t, err, sizeof err) : NULL;
      if (!ref)
        {
          printf ("  %-28s FAIL: no engine gradient of that name and size\n", t->name);
          (*failed)++;
          continue;
        }
      *failed += !compare_tol (t->name, ours, ref, t->numel, t->ndim, t->shape,
                               GRAD_TOLERANCE);
      (*checked)++;
      n++;
      free (ref);
    }
  return n;
}

static int
has_gradients (const PeacSafetensors *st)
{
  for (int i = 0; i < st->n; i++)
    if (strncmp (st->tensors[i].name, "grad.", 5) == 0)
      return 1;
  return 0;
}

// Gradients: runs the model's trainer (model.h, through its backbone row) on the
// fixture's input with dL/d out.features = loss.R — for ViT fixtures [B, 1 + G, D], the
// class token's row being the pooled vector's gradient, for Swin [B, H, W, C] the grid's —
// and compares grad.<param> (names mapped as the weights are) and grad.input. Adds to
// *checked and *failed; returns the number of gradients compared, or −1 when the fixture
// cannot be used (message on stderr).
static int
verify_gradients (const PeacSafetensors *st, PeacModel *m, const float *input, int B, int H,
                  int W, int *checked, int *failed)
{
  char err[1024];
  const PeacStTensor *tr = peac_st_find (st, "loss.R");
  if (!has_gradients (st) || !tr)
    return 0;
  int gh, gw, D;
  peac_model_output_shape (m, H, W, &gh, &gw, &D);
  const size_t G = (size_t) gh * gw, n_in = (size_t) B * 3 * H * W;
  const int cls = peac_model_backbone (m)->class_token;
  PeacModelTrain *t = peac_model_train_new (m, B, H, W, err, sizeof err);
  PeacParams *p = peac_model_params (m);
  float *R = NULL, *grads = NULL, *dinput = NULL, *dgrid = NULL, *dpooled = NULL;
  int n = -1;
  if (!t)
    {
      fprintf (stderr, "peac verify-reference: gradients: %s\n", err);
      goto out;
    }
  if (tr->numel != (size_t) B * (G + cls) * D || !(R = read_tensor (st, tr, err, sizeof err)))
    {
      fprintf (stderr, "peac verify-reference: gradients: loss.R does not fit the tokens\n");
      goto out;
    }
  grads = calloc (p->total, sizeof (float));
  dinput = calloc (n_in, sizeof (float));
  dgrid = malloc ((size_t) B * G * D * sizeof (float));
  dpooled = malloc ((size_t) B * D * sizeof (float));
  if (!grads || !dinput || !dgrid || !dpooled)
    {
      fprintf (stderr, "peac verify-reference: gradients: out of memory\n");
      goto out;
    }
  for (int b = 0; b < B; b++)
    {
      const float *r = R + (size_t) b * (G + cls) * D;
      if (cls)
        memcpy (dpooled + (size_t) b * D, r, (size_t) D * sizeof (float));
      memcpy (dgrid + (size_t) b * G * D, r + (size_t) cls * D, G * D * sizeof (float));
    }
  peac_model_train_forward (t, input, B, NULL);
  peac_model_train_backward (t, dgrid, cls ? dpooled : NULL, grads, dinput);
  n = compare_gradients (st, p, grads, dinput, n_in, peac_model_backbone (m)->map_name,
                         (void *) peac_model_layout (m), checked, failed);
out:
  free (R), free (grads), free (dinput), free (dgrid), free (dpooled);
  peac_model_train_free (t);
  return n;
}

static void
usage (FILE *to)
{
  fprintf (to, "Usage: peac verify-reference [--threads N] FILE.safetensors\n\n"
               "Runs the fixture's input through the engine with the fixture's weights and\n"
               "compares activations and outputs (max|err| ≤ 1e-4 · max(1, max|ref|)) and,\n"
               "every gradient the fixture holds (≤ 1e-3 · max(1, max|ref|)), ViT and Swin.\n");
}

// Fills *path and *threads from argv. Returns -1 to run, else the exit status.
static int
parse_args (int argc, char **argv, const char **path, int *threads)
{
  enum { O_THREADS = 1000 };
  static const struct option opts[] = {
    { "threads", required_argument, NULL, O_THREADS },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  *path = NULL, *threads = 0;
  optind = 0;
  while ((c = peac_cli_getopt ("verify-reference", argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case 'h': return usage (stdout), 0;
      case O_THREADS: *threads = atoi (optarg); break;
      default: return 2;
      }
  if (argc - optind != 1)
    return usage (stderr), 2;
  *path = argv[optind];
  return -1;
}

int
peac_cmd_verify_reference (int argc, char **argv)
{
  const char *path;
  int threads;
  const int rc = parse_args (argc, argv, &path, &threads);
  if (rc >= 0)
    return rc;
  peac_threads_set (threads);

  char err[1024];
  PeacSafetensors *st = peac_st_open (path, err, sizeof err);
  if (!st)
    return fprintf (stderr, "peac verify-reference: %s\n", err), 2;
  PeacModel *m = peac_model_load (path, err, sizeof err);
  const PeacStTensor *tin = peac_st_find (st, "input");
  if (!m || !tin || tin->ndim != 4)
    {
      fprintf (stderr, "peac verify-reference: %s\n",
               !m ? err : "no 4-D 'input' tensor [B, C, H, W] in the file");
      peac_model_free (m);
      peac_st_close (st);
      return 2;
    }
  const int B = (int) tin->shape[0], H = (int) tin->shape[2], W = (int) tin->shape[3];
  int gh, gw, D;
  peac_model_output_shape (m, H, W, &gh, &gw, &D);
  float *input = read_tensor (st, tin, err, sizeof err);
  float *features = malloc ((size_t) B * gh * gw * D * sizeof (float));
  float *pooled = malloc ((size_t) B * D * sizeof (float));
  Captures caps = { 0 };
  int status = 2;
  if (!input || !features || !pooled
      || peac_model_forward (m, input, B, H, W, features, pooled, capture, &caps, err,
                             sizeof err) != 0)
    {
      fprintf (stderr, "peac verify-reference: %s: %s\n", path, err);
      goto out;
    }

  const int cls_token = peac_model_backbone (m)->class_token;
  printf ("%s: %s (%s layout), input %d×%d×%d×%d\n", path, peac_model_backbone (m)->label,
          peac_model_layout (m), B, (int) tin->shape[1], H, W);
  int failed = 0, checked = 0, skipped_act = 0;
  for (int i = 0; i < st->n; i++)
    {
      const PeacStTensor *t = &st->tensors[i];
      if (strncmp (t->name, "grad.", 5) == 0)
        continue;
      if (strncmp (t->name, "act.", 4) != 0)
        continue;
      const Captured *c = find_captured (&caps, t->name + 4);
      if (!c || c->numel != t->numel)
        {
          char s[64];
          shape_str (s, sizeof s, t->ndim, t->shape);
          printf ("  %-28s %-16s skipped (%s)\n", t->name, s,
                  c ? "engine reports another shape" : "not reported by the engine");
          skipped_act++;
          continue;
        }
      float *ref = read_tensor (st, t, err, sizeof err);
      if (!ref)
        {
          fprintf (stderr, "peac verify-reference: %s\n", err);
          goto out;
        }
      failed += !compare (t->name, c->data, ref, t->numel, t->ndim, t->shape);
      checked++;
      free (ref);
    }

  // out.features: with a class token [B, 1 + G, D] (the token first) = pooled ‖ grid, else
  // the grid [B, H, W, C].
  const size_t G = (size_t) gh * gw;
  const size_t n_feat = cls_token ? (size_t) B * (1 + G) * D : (size_t) B * G * D;
  float *ours = malloc (n_feat * sizeof (float));
  if (cls_token)
    for (int b = 0; b < B; b++)
      {
        memcpy (ours + (size_t) b * (1 + G) * D, pooled + (size_t) b * D, (size_t) D * 4);
        memcpy (ours + ((size_t) b * (1 + G) + 1) * D, features + (size_t) b * G * D, G * D * 4);
      }
  else
    memcpy (ours, features, n_feat * sizeof (float));
  const char *outs[] = { "out.features", "out.pooled" };
  for (int k = 0; k < 2; k++)
    {
      const PeacStTensor *t = peac_st_find (st, outs[k]);
      if (!t)
        continue;
      const float *mine = k == 0 ? ours : pooled;
      size_t n = k == 0 ? n_feat : (size_t) B * D;
      if (t->numel != n)
        {
          printf ("  %-28s FAIL: the fixture has %zu values, the engine %zu\n", outs[k],
                  t->numel, n);
          failed++;
          continue;
        }
      float *ref = read_tensor (st, t, err, sizeof err);
      if (!ref)
        {
          fprintf (stderr, "peac verify-reference: %s\n", err);
          free (ours);
          goto out;
        }
      failed += !compare (outs[k], mine, ref, n, t->ndim, t->shape);
      checked++;
      free (ref);
    }
  // The test loss L = Σ out.features · loss.R, when the fixture has one.
  const PeacStTensor *tr = peac_st_find (st, "loss.R"), *tv = peac_st_find (st, "loss.value");
  if (tr && tv && tr->numel == n_feat && tv->numel == 1)
    {
      float *r = read_tensor (st, tr, err, sizeof err), v;
      if (r && peac_st_read_f32 (st, tv, &v, err, sizeof err) == 0)
        {
          double L = 0;
          for (size_t i = 0; i < n_feat; i++)
            L += (double) ours[i] * r[i];
          float Lf = (float) L;
          int64_t one = 1;
          failed += !compare ("loss.value", &Lf, &v, 1, 1, &one);
          checked++;
        }
      free (r);
    }
  free (ours);
  int n_grad = verify_gradients (st, m, input, B, H, W, &checked, &failed);
  if (n_grad < 0)
    goto out;
  printf ("%d tensors compared (%d gradients), %d failed; %d activations skipped\n",
          checked, n_grad, failed, skipped_act);
  status = failed || !checked ? 1 : 0;
out:
  for (int i = 0; i < caps.n; i++)
    free (caps.list[i].name), free (caps.list[i].data);
  free (caps.list);
  free (input), free (features), free (pooled);
  peac_model_free (m);
  peac_st_close (st);
  return status;
}
