// SPDX-License-Identifier: GPL-3.0-or-later
//
// finetune-full: end-to-end fine-tuning of any backbone with the multi-label head, and
// the augmentation it trains with (see finetune.h). One step, for a batch of B augmented
// views x [B, 3, S, S], through the model's trainer (model.h, the backbone table):
//   e      = pooled vector of the training forward   [B, D]  (ViT: class token after the
//                                                            final norm; Swin: token mean)
//   z      = e·wᵀ + b                         [B, K]
//   L      = mean over B·K of BCE(z, y)
//   dz     = (σ(z) − y) / (B·K)               [B, K]
//   dw     = dzᵀ·e [K, D],  db = Σ_b dz [K],  de = dz·w [B, D]
//   de → the trainer's backward (grid gradient 0) → backbone gradients.
// The backbone and the head have their own AdamW (warm-up + cosine; the backbone at a
// lower peak rate, its gradient clipped to norm 1, decay only on matrices); after each
// epoch the validation inputs go through the inference forward and the weights of the
// best epoch are kept.
#include "finetune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auc.h"
#include "optim.h"
#include "preprocess.h"

void
peac_aug_defaults (PeacAugConfig *a)
{
  *a = (PeacAugConfig) { .scale_min = 0.6, .ratio_max = 4.0 / 3.0, .rotate_deg = 10.0,
                         .hflip = 0 };
}

// Bilinear sample of grey [h, w] at pixel-centre coordinates (x, y), edges clamped.
static float
sample (const float *g, int w, int h, float x, float y)
{
  x -= 0.5f, y -= 0.5f;
  float fx = floorf (x), fy = floorf (y);
  int x0 = (int) fx, y0 = (int) fy;
  float ax = x - fx, ay = y - fy;
  int x1 = x0 + 1, y1 = y0 + 1;
  x0 = x0 < 0 ? 0 : x0 >= w ? w - 1 : x0;
  x1 = x1 < 0 ? 0 : x1 >= w ? w - 1 : x1;
  y0 = y0 < 0 ? 0 : y0 >= h ? h - 1 : y0;
  y1 = y1 < 0 ? 0 : y1 >= h ? h - 1 : y1;
  float top = g[(size_t) y0 * w + x0] * (1 - ax) + g[(size_t) y0 * w + x1] * ax;
  float bot = g[(size_t) y1 * w + x0] * (1 - ax) + g[(size_t) y1 * w + x1] * ax;
  return top * (1 - ay) + bot * ay;
}

void
peac_aug_view (const float *grey, int w, int h, int S, float mean, float std,
               const PeacAugConfig *a, PeacRng *r, float *out)
{
  // Crop of area fraction ∈ [scale_min, 1] of the short-side square, aspect log-uniform
  // in [1/ratio_max, ratio_max], centre uniform where the crop fits, angle ∈ ±rotate_deg.
  const float s0 = (float) (w < h ? w : h);
  double area = a->scale_min + (1 - a->scale_min) * peac_rng_uniform (r);
  double lr = log (a->ratio_max > 1 ? a->ratio_max : 1);
  double ratio = exp (lr * (2 * peac_rng_uniform (r) - 1));
  float cw = (float) (s0 * sqrt (area * ratio)), ch = (float) (s0 * sqrt (area / ratio));
  cw = cw > w ? (float) w : cw;
  ch = ch > h ? (float) h : ch;
  float cx = cw / 2 + (float) peac_rng_uniform (r) * (w - cw);
  float cy = ch / 2 + (float) peac_rng_uniform (r) * (h - ch);
  double th = a->rotate_deg * M_PI / 180 * (2 * peac_rng_uniform (r) - 1);
  int flip = a->hflip && peac_rng_uniform (r) < 0.5;
  const float ct = (float) cos (th), st = (float) sin (th), inv = 1.0f / std;
  for (int v = 0; v < S; v++)
    for (int u = 0; u < S; u++)
      {
        float x = ((u + 0.5f) / S - 0.5f) * cw, y = ((v + 0.5f) / S - 0.5f) * ch;
        if (flip)
          x = -x;
        float px = cx + ct * x - st * y, py = cy + st * x + ct * y;
        float val = (sample (grey, w, h, px, py) - mean) * inv;
        for (int c = 0; c < 3; c++)
          out[((size_t) c * S + v) * S + u] = val;
      }
}

float *
peac_aug_prepare (const float *grey, int w, int h, int S, int *ow, int *oh)
{
  int side = (int) lround (1.15 * S), shortest = w < h ? w : h;
  int nw = w, nh = h;
  if (shortest > side)
    {
      nw = (int) lround ((double) w * side / shortest);
      nh = (int) lround ((double) h * side / shortest);
    }
  float *rows = malloc ((size_t) h * nw * sizeof *rows), *out = malloc ((size_t) nh * nw * sizeof *out);
  float *col = malloc ((size_t) h * sizeof *col), *ocol = malloc ((size_t) nh * sizeof *ocol);
  if (!rows || !out || !col || !ocol)
    {
      free (rows), free (out), free (col), free (ocol);
      return NULL;
    }
  for (int y = 0; y < h; y++)
    peac_resample_1d (grey + (size_t) y * w, w, rows + (size_t) y * nw, nw, 0, nw);
  for (int x = 0; x < nw; x++)
    {
      for (int y = 0; y < h; y++)
        col[y] = rows[(size_t) y * nw + x];
      peac_resample_1d (col, h, ocol, nh, 0, nh);
      for (int y = 0; y < nh; y++)
        out[(size_t) y * nw + x] = ocol[y];
    }
  free (rows), free (col), free (ocol);
  *ow = nw, *oh = nh;
  return out;
}

void
peac_finetune_defaults (PeacFinetuneConfig *c)
{
  peac_probe_defaults (&c->opt);
  c->opt.lr = 1e-4, c->opt.min_lr = 0, c->opt.weight_decay = 0.05, c->opt.warmup = 0.1;
  c->opt.epochs = 20, c->opt.batch = 8, c->opt.patience = 5;
  c->backbone_lr = 1e-5;
  c->size = 224, c->mean = 0.5056f, c->std = 0.252f;
  peac_aug_defaults (&c->aug);
}

// Mean validation AUC with the inference forward, in chunks of up to 8 images.
static double
val_auc (PeacModel *m, const PeacHead *h, const float *val, const float *yva, int nva, int S,
         float *pooled, float *prob, char *err, size_t errlen)
{
  const size_t img = (size_t) 3 * S * S;
  for (int i0 = 0; i0 < nva; i0 += 8)
    {
      int nb = nva - i0 < 8 ? nva - i0 : 8;
      if (peac_model_forward (m, val + i0 * img, nb, S, S, NULL, pooled + (size_t) i0 * h->dim,
                              NULL, NULL, err, errlen) != 0)
        return -1;
    }
  peac_head_predict (h, pooled, nva, prob);
  return peac_auc_multi (prob, yva, nva, h->k, NULL);
}

int
peac_finetune_model (PeacModel *m, PeacHead *h, const PeacFinetuneConfig *cfg,
                     const PeacGrey *train, const float *ytr, int ntr, const float *val,
                     const float *yva, int nva, PeacFtProgressFn cb, void *user,
                     const atomic_int *abort, double *best_auc, char *err, size_t errlen)
{
  PeacFinetuneConfig cc = *cfg;
  const PeacFinetuneConfig *c = &cc;
  if (cc.size <= 0)
    cc.size = peac_model_img_size (m);
  const int S = c->size, K = h->k, D = h->dim;
  const int B = c->opt.batch < ntr ? c->opt.batch : ntr;
  if (ntr < 1 || B < 1 || c->opt.epochs < 1)
    return snprintf (err, errlen, "fine-tune: no training images or epochs"), -1;
  int grid_h, grid_w, dim;
  peac_model_output_shape (m, S, S, &grid_h, &grid_w, &dim);
  if (dim != D)
    return snprintf (err, errlen, "fine-tune: head width %d ≠ model width %d", D, dim), -1;
  PeacModelTrain *t = peac_model_train_new (m, B, S, S, err, errlen);
  if (!t)
    return -1;
  PeacParams *p = peac_model_params (m);
  const size_t n = p->total, nw = (size_t) K * D, nh = nw + K;
  float *grads = malloc (n * sizeof *grads), *best = malloc (n * sizeof *best);
  float *theta = malloc (nh * sizeof *theta), *gh = malloc (nh * sizeof *gh);
  float *hbest = malloc (nh * sizeof *hbest);
  float *x = malloc ((size_t) B * 3 * S * S * sizeof *x);
  float *dout = calloc ((size_t) B * D, sizeof *dout);
  float *pooled = malloc ((size_t) (nva > 0 ? nva : 1) * D * sizeof *pooled);
  float *prob = malloc ((size_t) (nva > 0 ? nva : 1) * K * sizeof *prob);
  unsigned char *mask = malloc (n), *hmask = malloc (nh);
  int *perm = malloc ((size_t) ntr * sizeof *perm);
  PeacOptimizer ob = { 0 }, oh = { 0 };
  int rc = -1;
  if (!grads || !best || !theta || !gh || !hbest || !x || !dout || !pooled || !prob
      || !mask || !hmask || !perm)
    {
      snprintf (err, errlen, "fine-tune: out of memory");
      goto out;
    }
  PeacHead th = { D, K, theta, theta + nw };
  peac_head_prior (&th, ytr, ntr);
  peac_optim_decay_mask (p, mask);
  memset (hmask, 1, nw);
  memset (hmask + nw, 0, (size_t) K);

  const long spe = (ntr + B - 1) / B;
  PeacOptConfig oc;
  peac_optim_defaults (&oc);
  oc.kind = PEAC_OPT_ADAMW;
  oc.total_steps = spe * c->opt.epochs;
  oc.warmup_steps = (long) (c->opt.warmup * oc.total_steps);
  oc.weight_decay = c->opt.weight_decay;
  oc.min_lr = c->opt.min_lr;
  oc.lr = c->opt.lr;
  PeacOptConfig bc = oc;
  bc.lr = c->backbone_lr, bc.min_lr = 0, bc.clip_norm = 1.0;
  if (peac_optim_init (&ob, &bc, n) != 0 || peac_optim_init (&oh, &oc, nh) != 0)
    {
      snprintf (err, errlen, "fine-tune: out of memory for the optimiser");
      goto out;
    }
  PeacRng rng;
  peac_rng_seed (&rng, c->opt.seed ^ 0x5851f42d4c957f2dull);
  for (int i = 0; i < ntr; i++)
    perm[i] = i;
  memcpy (best, p->memory, n * sizeof *best);
  memcpy (hbest, theta, nh * sizeof *theta);

  double best_val = -INFINITY;
  int since_best = 0;
  for (int ep = 0; ep < c->opt.epochs; ep++)
    {
      for (int i = ntr - 1; i > 0; i--)
        {
          int j = (int) (peac_rng_u64 (&rng) % (uint64_t) (i + 1));
          int tmp = perm[i];
          perm[i] = perm[j], perm[j] = tmp;
        }
      double loss_sum = 0;
      for (int i0 = 0; i0 < ntr; i0 += B)
        {
          if (abort && atomic_load (abort))
            {
              rc = 1;
              goto finish;
            }
          int nb = ntr - i0 < B ? ntr - i0 : B;
          for (int b = 0; b < nb; b++)
            {
              const PeacGrey *g = &train[perm[i0 + b]];
              peac_aug_view (g->px, g->w, g->h, S, c->mean, c->std, &c->aug, &rng,
                             x + (size_t) b * 3 * S * S);
            }
          const float *pool = NULL;
          peac_model_train_forward (t, x, nb, &pool);
          memset (gh, 0, nh * sizeof *gh);
          const float inv = 1.0f / ((float) nb * K);
          for (int b = 0; b < nb; b++)
            {
              const float *e = pool + (size_t) b * D;
              float *de = dout + (size_t) b * D;
              memset (de, 0, (size_t) D * sizeof *de);
              for (int k = 0; k < K; k++)
                {
                  const float *wk = th.w + (size_t) k * D;
                  double s = th.b[k];
                  for (int d = 0; d < D; d++)
                    s += (double) e[d] * wk[d];
                  float zz = (float) s, y = ytr[(size_t) perm[i0 + b] * K + k];
                  loss_sum += fmaxf (zz, 0) - zz * y + log1pf (expf (-fabsf (zz)));
                  float pz = zz >= 0 ? 1 / (1 + expf (-zz)) : expf (zz) / (1 + expf (zz));
                  float dz = (pz - y) * inv;
                  float *gw = gh + (size_t) k * D;
                  for (int d = 0; d < D; d++)
                    {
                      gw[d] += dz * e[d];
                      de[d] += dz * wk[d];
                    }
                  gh[nw + k] += dz;
                }
            }
          memset (grads, 0, n * sizeof *grads);
          peac_model_train_backward (t, NULL, dout, grads, NULL);
          peac_optim_step (&ob, p->memory, grads, mask);
          peac_optim_step (&oh, theta, gh, hmask);
        }
      double v = NAN;
      if (nva > 0)
        {
          v = val_auc (m, &th, val, yva, nva, S, pooled, prob, err, errlen);
          if (v == -1)
            {
              memcpy (p->memory, best, n * sizeof *best);
              goto out;
            }
        }
      if (nva == 0 || isnan (v) || v > best_val)
        {
          if (!isnan (v))
            best_val = v;
          memcpy (best, p->memory, n * sizeof *best);
          memcpy (hbest, theta, nh * sizeof *theta);
          since_best = 0;
        }
      else
        since_best++;
      if (cb)
        cb (user, &(PeacFtProgress) { ep + 1, c->opt.epochs,
                                      loss_sum / ((double) ntr * K), v, best_val });
      if (nva > 0 && c->opt.patience > 0 && since_best >= c->opt.patience)
        break;
    }
  rc = 0;
finish:
  memcpy (p->memory, best, n * sizeof *best);
  memcpy (h->w, hbest, nw * sizeof *hbest);
  memcpy (h->b, hbest + nw, (size_t) K * sizeof *hbest);
  if (best_auc)
    *best_auc = best_val > -INFINITY ? best_val : NAN;
out:
  peac_optim_free (&ob), peac_optim_free (&oh);
  peac_model_train_free (t);
  free (grads), free (best), free (theta), free (gh), free (hbest), free (x), free (dout);
  free (pooled), free (prob), free (mask), free (hmask), free (perm);
  return rc;
}
