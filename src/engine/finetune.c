// SPDX-License-Identifier: GPL-3.0-or-later
//
// finetune: the multi-label linear head, its training as a linear probe on cached
// embeddings, and the fine-tuned model file (see finetune.h). Shapes: features x [n, D],
// head w [K, D], b [K], logits z = x·wᵀ + b [n, K], probabilities σ(z). The loss is the
// mean binary cross-entropy over the n·K entries, computed stably from the logits:
//   ℓ(z, y) = max(z, 0) − z·y + log(1 + e^{−|z|}),   ∂ℓ/∂z = σ(z) − y.
// The probe trains on standardised features x̂ = (x − μ) / σ (per dimension, training
// rows), which makes one learning rate fit every backbone; the result is folded back so
// that the head applies to raw features: w' = w / σ, b' = b − Σ_d w_d μ_d / σ_d.
#include "finetune.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auc.h"
#include "checkpoint.h"
#include "optim.h"
#include "rng.h"

int
peac_head_init (PeacHead *h, int dim, int k)
{
  *h = (PeacHead) { dim, k, calloc ((size_t) k * dim, sizeof (float)),
                    calloc ((size_t) k, sizeof (float)) };
  if (!h->w || !h->b)
    {
      peac_head_free (h);
      return -1;
    }
  return 0;
}

void
peac_head_free (PeacHead *h)
{
  free (h->w), free (h->b);
  h->w = h->b = NULL;
}

static float
sigmoidf (float z)
{
  return z >= 0 ? 1.0f / (1.0f + expf (-z)) : expf (z) / (1.0f + expf (z));
}

// z[n, K] = x[n, D]·wᵀ + b (double accumulation: K and D are small).
static void
head_logits (const float *w, const float *b, int D, int K, const float *x, int n, float *z)
{
  for (int i = 0; i < n; i++)
    for (int c = 0; c < K; c++)
      {
        const float *xi = x + (size_t) i * D, *wc = w + (size_t) c * D;
        double s = b[c];
        for (int d = 0; d < D; d++)
          s += (double) xi[d] * wc[d];
        z[(size_t) i * K + c] = (float) s;
      }
}

void
peac_head_predict (const PeacHead *h, const float *x, int n, float *prob)
{
  head_logits (h->w, h->b, h->dim, h->k, x, n, prob);
  for (size_t i = 0; i < (size_t) n * h->k; i++)
    prob[i] = sigmoidf (prob[i]);
}

void
peac_probe_defaults (PeacProbeConfig *c)
{
  *c = (PeacProbeConfig) { .lr = 1e-2, .min_lr = 1e-4, .weight_decay = 1e-4, .warmup = 0.05,
                           .epochs = 100, .batch = 32, .patience = 10, .seed = 0 };
}

void
peac_head_prior (PeacHead *h, const float *y, int n)
{
  memset (h->w, 0, (size_t) h->k * h->dim * sizeof (float));
  for (int c = 0; c < h->k; c++)
    {
      double p = 0;
      for (int i = 0; i < n; i++)
        p += y[(size_t) i * h->k + c];
      p = (p + 0.5) / (n + 1.0);
      h->b[c] = (float) log (p / (1 - p));
    }
}

int
peac_probe_train (PeacHead *h, const PeacProbeConfig *c, const float *xtr, const float *ytr,
                  int ntr, const float *xva, const float *yva, int nva, PeacFtProgressFn cb,
                  void *user, const atomic_int *abort, double *best_auc, char *err,
                  size_t errlen)
{
  const int D = h->dim, K = h->k, B = c->batch < ntr ? c->batch : ntr;
  if (ntr < 1 || B < 1 || c->epochs < 1)
    return snprintf (err, errlen, "linear probe: no training rows or epochs"), -1;
  const size_t nw = (size_t) K * D, np = nw + K;
  float *mu = calloc ((size_t) D, sizeof *mu), *sd = calloc ((size_t) D, sizeof *sd);
  float *theta = malloc (np * sizeof *theta), *grad = malloc (np * sizeof *grad);
  float *best = malloc (np * sizeof *best);
  float *xb = malloc ((size_t) B * D * sizeof *xb), *zb = malloc ((size_t) B * K * sizeof *zb);
  float *xv = malloc ((size_t) (nva > 0 ? nva : 1) * D * sizeof *xv);
  float *pv = malloc ((size_t) (nva > 0 ? nva : 1) * K * sizeof *pv);
  int *perm = malloc ((size_t) ntr * sizeof *perm);
  unsigned char *mask = malloc (np);
  PeacOptimizer opt = { 0 };
  int rc = -1;
  if (!mu || !sd || !theta || !grad || !best || !xb || !zb || !xv || !pv || !perm || !mask)
    {
      snprintf (err, errlen, "linear probe: out of memory");
      goto out;
    }

  // μ and σ of the training features (double sums).
  for (int d = 0; d < D; d++)
    {
      double s = 0, s2 = 0;
      for (int i = 0; i < ntr; i++)
        s += xtr[(size_t) i * D + d];
      double m = s / ntr;
      for (int i = 0; i < ntr; i++)
        {
          double t = xtr[(size_t) i * D + d] - m;
          s2 += t * t;
        }
      double v = sqrt (s2 / ntr);
      mu[d] = (float) m;
      sd[d] = v > 1e-6 ? (float) v : 1.0f;
    }
  for (int i = 0; i < nva; i++)
    for (int d = 0; d < D; d++)
      xv[(size_t) i * D + d] = (xva[(size_t) i * D + d] - mu[d]) / sd[d];

  PeacHead th = { D, K, theta, theta + nw };
  peac_head_prior (&th, ytr, ntr);
  memcpy (best, theta, np * sizeof *theta);
  memset (mask, 1, nw);
  memset (mask + nw, 0, (size_t) K);   // no decay on the biases

  const long steps_per_epoch = (ntr + B - 1) / B;
  PeacOptConfig oc;
  peac_optim_defaults (&oc);
  oc.kind = PEAC_OPT_ADAMW;
  oc.lr = c->lr, oc.min_lr = c->min_lr, oc.weight_decay = c->weight_decay;
  oc.total_steps = steps_per_epoch * c->epochs;
  oc.warmup_steps = (long) (c->warmup * oc.total_steps);
  if (peac_optim_init (&opt, &oc, np) != 0)
    {
      snprintf (err, errlen, "linear probe: out of memory");
      goto out;
    }
  PeacRng rng;
  peac_rng_seed (&rng, c->seed ^ 0x9e3779b97f4a7c15ull);
  for (int i = 0; i < ntr; i++)
    perm[i] = i;

  double best_val = -INFINITY;
  int since_best = 0;
  for (int ep = 0; ep < c->epochs; ep++)
    {
      if (abort && atomic_load (abort))
        {
          rc = 1;
          goto finish;
        }
      for (int i = ntr - 1; i > 0; i--)
        {
          int j = (int) (peac_rng_u64 (&rng) % (uint64_t) (i + 1));
          int t = perm[i];
          perm[i] = perm[j], perm[j] = t;
        }
      double loss_sum = 0;
      for (int i0 = 0; i0 < ntr; i0 += B)
        {
          int nb = ntr - i0 < B ? ntr - i0 : B;
          for (int b = 0; b < nb; b++)
            for (int d = 0; d < D; d++)
              xb[(size_t) b * D + d] = (xtr[(size_t) perm[i0 + b] * D + d] - mu[d]) / sd[d];
          head_logits (th.w, th.b, D, K, xb, nb, zb);
          memset (grad, 0, np * sizeof *grad);
          const float inv = 1.0f / ((float) nb * K);
          for (int b = 0; b < nb; b++)
            for (int k = 0; k < K; k++)
              {
                float z = zb[(size_t) b * K + k], y = ytr[(size_t) perm[i0 + b] * K + k];
                loss_sum += fmaxf (z, 0) - z * y + log1pf (expf (-fabsf (z)));
                float dz = (sigmoidf (z) - y) * inv;
                float *gw = grad + (size_t) k * D;
                const float *xr = xb + (size_t) b * D;
                for (int d = 0; d < D; d++)
                  gw[d] += dz * xr[d];
                grad[nw + k] += dz;
              }
          peac_optim_step (&opt, theta, grad, mask);
        }
      double val = NAN;
      if (nva > 0)
        {
          peac_head_predict (&th, xv, nva, pv);
          val = peac_auc_multi (pv, yva, nva, K, NULL);
        }
      // Keep the best epoch (the last one without validation or a defined AUC).
      if (nva == 0 || isnan (val) || val > best_val)
        {
          if (!isnan (val))
            best_val = val;
          memcpy (best, theta, np * sizeof *theta);
          since_best = 0;
        }
      else
        since_best++;
      if (cb)
        cb (user, &(PeacFtProgress) { ep + 1, c->epochs, loss_sum / ((double) ntr * K), val,
                                      best_val });
      if (nva > 0 && c->patience > 0 && since_best >= c->patience)
        break;
    }
  rc = 0;
finish:
  // Fold the standardisation into the best head.
  for (int k = 0; k < K; k++)
    {
      double shift = 0;
      for (int d = 0; d < D; d++)
        {
          float w = best[(size_t) k * D + d] / sd[d];
          h->w[(size_t) k * D + d] = w;
          shift += (double) w * mu[d];
        }
      h->b[k] = (float) (best[nw + k] - shift);
    }
  if (best_auc)
    *best_auc = best_val > -INFINITY ? best_val : NAN;
out:
  peac_optim_free (&opt);
  free (mu), free (sd), free (theta), free (grad), free (best), free (xb), free (zb);
  free (xv), free (pv), free (perm), free (mask);
  return rc;
}

int
peac_finetune_save (const char *path, PeacModel *m, const PeacHead *h,
                    const char *const *classes, const char *extra_json, char *err,
                    size_t errlen)
{
  PeacParams *p = peac_model_params (m);
  PeacStWrite *t = calloc ((size_t) p->n + 2, sizeof *t);
  if (!t)
    return snprintf (err, errlen, "%s: out of memory", path), -1;
  for (int i = 0; i < p->n; i++)
    t[i] = (PeacStWrite) { p->list[i].name, p->list[i].ndim, p->list[i].shape,
                           p->list[i].data, PEAC_DT_F32 };
  int64_t wshape[2] = { h->k, h->dim }, bshape[1] = { h->k };
  t[p->n] = (PeacStWrite) { "head.weight", 2, wshape, h->w, PEAC_DT_F32 };
  t[p->n + 1] = (PeacStWrite) { "head.bias", 1, bshape, h->b, PEAC_DT_F32 };

  json_t *j = NULL;
  if (extra_json)
    {
      json_error_t je;
      j = json_loads (extra_json, 0, &je);
      if (j && !json_is_object (j))
        json_decref (j), j = NULL;
    }
  if (!j)
    j = json_object ();
  json_t *names = json_array ();
  for (int c = 0; c < h->k; c++)
    json_array_append_new (names, json_string (classes[c]));
  json_object_set_new (j, "classes", names);
  char *fj = json_dumps (j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (j);
  const char *meta[] = { "peac.arch", peac_model_arch_name (m),
                         "peac.layout", peac_model_layout (m),
                         "peac.config", peac_model_config_json (m),
                         "peac.finetune", fj, NULL };
  int rc = peac_st_write (path, t, p->n + 2, meta, err, errlen);
  free (fj), free (t);
  return rc;
}

int
peac_finetune_load_head (const char *path, PeacHead *h, char ***classes, char *err,
                         size_t errlen)
{
  *h = (PeacHead) { 0 };
  if (classes)
    *classes = NULL;
  PeacSafetensors *st = peac_st_open (path, err, errlen);
  if (!st)
    return -1;
  const PeacStTensor *w = peac_st_find (st, "head.weight"), *b = peac_st_find (st, "head.bias");
  int rc = -1;
  if (!w || !b)
    snprintf (err, errlen, "%s: no head.weight / head.bias: not a fine-tuned model", path);
  else if (w->ndim != 2 || b->ndim != 1 || b->shape[0] != w->shape[0] || w->shape[0] < 1
           || w->shape[1] < 1 || w->shape[0] > 1 << 20 || w->shape[1] > 1 << 20)
    snprintf (err, errlen, "%s: head.weight and head.bias have inconsistent shapes", path);
  else if (peac_head_init (h, (int) w->shape[1], (int) w->shape[0]) != 0)
    snprintf (err, errlen, "%s: out of memory", path);
  else if (peac_st_read_f32 (st, w, h->w, err, errlen) == 0
           && peac_st_read_f32 (st, b, h->b, err, errlen) == 0)
    rc = 0;
  if (rc == 0 && classes)
    {
      const char *fj = peac_st_meta (st, "peac.finetune");
      json_t *j = fj ? json_loads (fj, 0, NULL) : NULL;
      json_t *a = j ? json_object_get (j, "classes") : NULL;
      *classes = calloc ((size_t) h->k + 1, sizeof (char *)); // NULL-terminated
      for (int c = 0; c < h->k; c++)
        {
          json_t *s = a ? json_array_get (a, (size_t) c) : NULL;
          char tmp[32];
          snprintf (tmp, sizeof tmp, "class %d", c);
          (*classes)[c] = strdup (json_is_string (s) ? json_string_value (s) : tmp);
        }
      json_decref (j);
    }
  if (rc != 0)
    peac_head_free (h);
  peac_st_close (st);
  return rc;
}
