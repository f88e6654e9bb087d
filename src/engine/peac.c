// SPDX-License-Identifier: GPL-3.0-or-later
//
// peac: batches, heads, the four loss terms with their backward, and the EMA teacher
// (see peac.h). One step, through the models' backbone rows (model.h), on token grids:
//   P = student([x1s ; x2])              [2B·G², D] (training forward, caches kept)
//   feat = teacher([x2 ; x1])            [2B·G², D] (inference forward, no gradient)
//   order:   CE(P[:B·G²]·Woᵀ + bo, perm of shuffled samples)
//   restore: MSE(pixel_shuffle(P[:B·G²]·Wdᵀ + bd), x1)
//   global:  nMSE(proj_g(mean_t P), proj_g'(mean_t feat)) — row b of the student batch
//            (crop 1) meets row b of the teacher batch (crop 2), row B + b (crop 2) meets
//            row B + b (crop 1): both directions in one pass
//   local:   nMSE(proj_l(P), proj_l'(feat) gathered at each student token's partner), or
//            with local_temp τ > 0 the dense InfoNCE of proj_l(P) against all proj_l'(feat)
//            cells of the same sample's other crop, the partner being the positive
//   position (w_position > 0): MSE(P·Wpᵀ + bp, where) over the 2B·G² rows, summed over (y, x)
// and the backward runs the same chain in reverse into dtok (the grid's gradient), then
// through the student.
#include "peac.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "ops-train.h"
#include "peac-loss.h"
#include "preprocess.h"

void
peac_obj_defaults (PeacObjConfig *c, const PeacModelSpec *m)
{
  memset (c, 0, sizeof *c);
  c->proj_hidden = 2 * m->dim;
  c->proj_out = m->dim;
  c->local_hidden = 2 * m->dim;
  c->local_out = m->dim;
  c->w_order = 1.0, c->w_restore = 1.0, c->w_global = 1e5 / 8192.0, c->w_local = 1.0;
  c->p_shuffle = 0.5;
  c->max_shift = m->grid / 2 > 1 ? m->grid / 2 : 1;
  c->momentum0 = 0.999;
  c->total_steps = 1;
  peac_distort_defaults (&c->distort, m->img_size);
}

// ---------------------------------------------------------------------------------------
// Batches

int
peac_batch_alloc (PeacBatch *b, int B, int G, int cell)
{
  memset (b, 0, sizeof *b);
  b->B = B, b->G = G, b->cell = cell, b->S = G * cell;
  const size_t n = (size_t) B * 3 * b->S * b->S;
  b->x1 = malloc (3 * n * sizeof (float));
  b->x1s = b->x1 + n, b->x2 = b->x1 + 2 * n;
  b->shuffled = calloc ((size_t) B, sizeof (int));
  b->perm = malloc ((size_t) B * G * G * sizeof (int));
  b->pair = malloc ((size_t) B * G * G * sizeof (int));
  b->where = malloc ((size_t) 2 * B * G * G * 2 * sizeof (float));
  if (!b->x1 || !b->shuffled || !b->perm || !b->pair || !b->where)
    return peac_batch_free (b), -1;
  return 0;
}

void
peac_batch_free (PeacBatch *b)
{
  free (b->x1), free (b->shuffled), free (b->perm), free (b->pair), free (b->where);
  memset (b, 0, sizeof *b);
}

// grey [S, S] in [0, 1] → 3 normalised channels.
static void
to_input (float *dst, const float *grey, int S)
{
  const size_t n = (size_t) S * S;
  for (size_t i = 0; i < n; i++)
    dst[i] = dst[n + i] = dst[2 * n + i] = (grey[i] - PEAC_MEAN) / PEAC_STD;
}

int
peac_batch_fill (PeacBatch *b, int k, const float *grey, int h, int w, const PeacObjConfig *c,
                 PeacRng *rng)
{
  const int G = b->G, S = b->S, GG = G * G;
  PeacViewConfig vc = { G, b->cell, c->max_shift };
  PeacViewPair v;
  if (k < 0 || k >= b->B || peac_views_sample (&vc, h, w, rng, &v) != 0)
    return -1;
  float *c1 = malloc (3 * (size_t) S * S * sizeof (float)), *c2 = c1 + (size_t) S * S;
  float *c1s = c2 + (size_t) S * S;
  peac_views_cut (&v, 0, grey, 1, h, w, c1);
  peac_views_cut (&v, 1, grey, 1, h, w, c2);
  peac_views_pairs (&v, b->pair + (size_t) k * GG);
  int *perm = b->perm + (size_t) k * GG;
  b->shuffled[k] = peac_rng_uniform (rng) < c->p_shuffle;
  if (b->shuffled[k])
    {
      peac_views_permutation (rng, perm, GG);
      peac_views_shuffle_cells (c1, c1s, perm, 1, G, b->cell);
    }
  else
    {
      for (int i = 0; i < GG; i++)
        perm[i] = i;
      memcpy (c1s, c1, (size_t) S * S * sizeof (float));
      peac_distort_apply (c1s, S, &c->distort, rng);
    }
  // The position term's targets: token i of crop c shows cell q = (perm[i] for the
  // student's crop 1, i for crop 2); its centre in the whole image, scaled to [−1, 1].
  for (int c = 0; c < 2; c++)
    for (int i = 0; i < GG; i++)
      {
        const int q = c == 0 ? perm[i] : i;
        const double y = v.oy + (v.dr[c] + q / G + 0.5) * b->cell;
        const double x = v.ox + (v.dc[c] + q % G + 0.5) * b->cell;
        float *t = b->where + (((size_t) c * b->B + k) * GG + i) * 2;
        t[0] = (float) (2.0 * y / h - 1.0), t[1] = (float) (2.0 * x / w - 1.0);
      }
  const size_t img = (size_t) 3 * S * S;
  to_input (b->x1 + k * img, c1, S);
  to_input (b->x1s + k * img, c1s, S);
  to_input (b->x2 + k * img, c2, S);
  free (c1);
  return 0;
}

// ---------------------------------------------------------------------------------------
// The objective

struct PeacObjective {
  PeacObjConfig c;
  int           Bmax, G, GG, cell, S, D, K;
  int           Hd, O, Hl, Ol;   // global and local projector widths (hidden, out)
  PeacModel    *student, *teacher;
  PeacParams    heads[2];      // [0] student, [1] teacher
  float        *grads_backbone, *grads_heads;
  PeacModelTrain *vt;
  float        *arena;
  float *xs, *xt, *feat, *dtok, *P, *dP, *logits, *probs, *dlogits, *dec, *ddec, *img, *dimg;
  float *mean_s, *mean_t, *dmean, *ga, *gt, *dga, *cache_g, *cache_gt, *scratch_g;
  float *la, *lt, *target, *wrow, *dla, *cache_l, *cache_lt, *scratch_l;
  float *pos, *dpos;           // position head's output and its gradient [2B·G², 2]
  float *nce;                  // InfoNCE cache (local_temp > 0 only)
  int   *labels, *nce_lab;     // order labels [B·G²]; InfoNCE partner per student row [2B·G²]
};

static void
init_table (PeacParams *p, PeacRng *r)
{
  for (int i = 0; i < p->n; i++)
    {
      PeacParam *e = &p->list[i];
      size_t l = strlen (e->name);
      if (l >= 5 && strcmp (e->name + l - 5, ".bias") == 0)
        memset (e->data, 0, e->numel * sizeof (float));
      else if (e->ndim == 1)
        for (size_t k = 0; k < e->numel; k++)
          e->data[k] = 1.0f;
      else
        peac_rng_trunc_normal (r, e->data, e->numel, 0.02, -0.04, 0.04);
    }
}

static int
add (PeacParams *p, const char *name, int ndim, int64_t a, int64_t b)
{
  int64_t shape[4] = { a, b, 1, 1 };
  return peac_params_add (p, name, ndim, shape) < 0;
}

static int
register_heads (PeacParams *p, int GG, int D, int K, const int hidden[2], const int out[2],
                int position)
{
  int bad = add (p, "order.weight", 2, GG, D);
  bad |= add (p, "order.bias", 1, GG, 0);
  bad |= add (p, "decoder.weight", 4, K, D);
  bad |= add (p, "decoder.bias", 1, K, 0);
  const char *pre[2] = { "proj_global", "proj_local" };
  const char *sfx[9] = { "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias",
                         "4.weight", "4.bias", "6.weight" };
  char n[PEAC_NAME_MAX];
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 9; i++)
      {
        // Linear D→Hd, LN, (ReLU), Linear Hd→Hd, LN, (ReLU), Linear Hd→O: nn.Sequential
        // indices; k = 0 global, 1 local.
        const int64_t Hd = hidden[k], O = out[k];
        const int64_t s0[9] = { Hd, Hd, Hd, Hd, Hd, Hd, Hd, Hd, O };
        const int64_t s1[9] = { D, 0, 0, 0, Hd, 0, 0, 0, Hd };
        snprintf (n, sizeof n, "%s.%s", pre[k], sfx[i]);
        bad |= add (p, n, s1[i] ? 2 : 1, s0[i], s1[i]);
      }
  if (position)
    bad |= add (p, "position.weight", 2, 2, D) | add (p, "position.bias", 1, 2, 0);
  return bad || peac_params_alloc (p) != 0;
}

static float *
hp (const PeacParams *p, float *base, const char *name)
{
  const PeacParam *e = peac_params_find (p, name);
  return (base ? base : p->memory) + e->offset;
}

static PeacProjector
projector (const PeacObjective *o, const PeacParams *p, const char *pre)
{
  char n[9][PEAC_NAME_MAX];
  const char *sfx[9] = { "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias",
                         "4.weight", "4.bias", "6.weight" };
  for (int i = 0; i < 9; i++)
    snprintf (n[i], sizeof n[i], "%s.%s", pre, sfx[i]);
  const int local = strcmp (pre, "proj_local") == 0;
  PeacProjector r = { hp (p, NULL, n[0]), hp (p, NULL, n[1]), hp (p, NULL, n[2]),
                      hp (p, NULL, n[3]), hp (p, NULL, n[4]), hp (p, NULL, n[5]),
                      hp (p, NULL, n[6]), hp (p, NULL, n[7]), hp (p, NULL, n[8]),
                      o->D, local ? o->Hl : o->Hd, local ? o->Ol : o->O, 1e-5f };
  return r;
}

static PeacProjectorGrads
projector_grads (const PeacObjective *o, const char *pre)
{
  const PeacProjector q = projector (o, &o->heads[0], pre);
  const float *base = o->heads[0].memory;
  float *g = o->grads_heads;
  PeacProjectorGrads r = { g + (q.w1 - base), g + (q.b1 - base), g + (q.ln1_w - base),
                           g + (q.ln1_b - base), g + (q.w2 - base), g + (q.b2 - base),
                           g + (q.ln2_w - base), g + (q.ln2_b - base), g + (q.w3 - base) };
  return r;
}

PeacObjective *
peac_objective_new (PeacArch arch, const char *layout, const char *config_json,
                    const PeacObjConfig *c, int B, uint64_t seed, char *err, size_t errlen)
{
  const int widths[4] = { c->proj_hidden, c->proj_out, c->local_hidden, c->local_out };
  for (int i = 0; i < 4; i++)
    if (widths[i] < 1 || widths[i] > PEAC_PROJ_MAX)
      {
        snprintf (err, errlen, "PEAC: projector width %d outside [1, %d]", widths[i],
                  PEAC_PROJ_MAX);
        return NULL;
      }
  PeacObjective *o = calloc (1, sizeof *o);
  if (!o)
    {
      snprintf (err, errlen, "PEAC: out of memory");
      return NULL;
    }
  o->c = *c, o->Bmax = B;
  peac_params_init (&o->heads[0]), peac_params_init (&o->heads[1]);
  if (!(o->student = peac_model_new (arch, layout, config_json, seed, err, errlen))
      || !(o->teacher = peac_model_new (arch, layout, config_json, seed, err, errlen)))
    goto fail;
  // The token grid of the configured input: G × G cells of `cell` pixels (ViT: the patch;
  // Swin: the last stage's stride, 32 px for patch 4 and four stages).
  int gh, gw;
  o->S = peac_model_img_size (o->student);
  peac_model_output_shape (o->student, o->S, o->S, &gh, &gw, &o->D);
  if (gh < 1 || gh != gw || o->S % gh)
    {
      snprintf (err, errlen, "PEAC: a %d px input gives a %d×%d token grid that does not "
                "tile it in square cells", o->S, gh, gw);
      goto fail;
    }
  o->G = gh, o->GG = gh * gh, o->cell = o->S / gh;
  o->K = 3 * o->cell * o->cell, o->Hd = c->proj_hidden, o->O = c->proj_out;
  o->Hl = c->local_hidden, o->Ol = c->local_out;
  const int hidden[2] = { o->Hd, o->Hl }, out[2] = { o->O, o->Ol };
  if (!(o->vt = peac_model_train_new (o->student, 2 * B, o->S, o->S, err, errlen)))
    goto fail;
  const int position = c->w_position > 0;
  if (register_heads (&o->heads[0], o->GG, o->D, o->K, hidden, out, position)
      || register_heads (&o->heads[1], o->GG, o->D, o->K, hidden, out, position))
    {
      snprintf (err, errlen, "PEAC: cannot build the heads (out of memory?)");
      goto fail;
    }
  PeacRng r;
  peac_rng_seed (&r, seed);
  PeacParams *sp = peac_model_params (o->student), *tp = peac_model_params (o->teacher);
  init_table (sp, &r);
  init_table (&o->heads[0], &r);
  memcpy (tp->memory, sp->memory, sp->total * sizeof (float));
  memcpy (o->heads[1].memory, o->heads[0].memory, o->heads[0].total * sizeof (float));
  o->grads_backbone = calloc (sp->total, sizeof (float));
  o->grads_heads = calloc (o->heads[0].total, sizeof (float));
  const size_t B2 = 2 * (size_t) B, img = (size_t) 3 * o->S * o->S, GG = o->GG, D = o->D;
  const size_t rows1 = (size_t) B * GG, rows2 = B2 * GG, Hd = o->Hd, O = o->O;
  const size_t Hl = o->Hl, Ol = o->Ol;
  const PeacProjector pg = projector (o, &o->heads[0], "proj_global");
  const PeacProjector pl = projector (o, &o->heads[0], "proj_local");
  const size_t cg = peac_projector_cache_floats (&pg, (int) B2);
  const size_t cl = peac_projector_cache_floats (&pl, (int) rows2);
  size_t sizes[] = { B2 * img, B2 * img, rows2 * D, rows2 * D, rows2 * D, rows2 * D,
                     rows1 * GG, rows1 * GG, rows1 * GG, rows1 * o->K, rows1 * o->K,
                     B * img, B * img, B2 * D, B2 * D, B2 * D, B2 * O, B2 * O, B2 * O, cg, cg,
                     2 * B2 * Hd, rows2 * Ol, rows2 * Ol, rows2 * Ol, rows2, rows2 * Ol, cl, cl,
                     2 * rows2 * Hl, c->local_temp > 0 ? peac_nce_cache_floats ((int) B2, (int) GG, (int) Ol) : 0,
                     rows2 * 2, rows2 * 2 };
  float **dst[] = { &o->xs, &o->xt, &o->feat, &o->dtok, &o->P, &o->dP, &o->logits, &o->probs,
                    &o->dlogits, &o->dec, &o->ddec, &o->img, &o->dimg, &o->mean_s,
                    &o->mean_t, &o->dmean, &o->ga, &o->gt, &o->dga, &o->cache_g,
                    &o->cache_gt, &o->scratch_g, &o->la, &o->lt, &o->target, &o->wrow,
                    &o->dla, &o->cache_l, &o->cache_lt, &o->scratch_l, &o->nce, &o->pos,
                    &o->dpos };
  const int nbuf = (int) (sizeof sizes / sizeof sizes[0]);
  size_t total = 0;
  for (int i = 0; i < nbuf; i++)
    total += (sizes[i] + 15) & ~(size_t) 15;
  o->arena = aligned_alloc (64, total * sizeof (float));
  o->labels = malloc (rows1 * sizeof (int));
  o->nce_lab = malloc (rows2 * sizeof (int));
  if (!o->arena || !o->labels || !o->nce_lab || !o->grads_backbone || !o->grads_heads)
    {
      snprintf (err, errlen, "PEAC: out of memory (%zu MB of buffers)", total * 4 >> 20);
      goto fail;
    }
  float *cur = o->arena;
  for (int i = 0; i < nbuf; i++)
    *dst[i] = cur, cur += (sizes[i] + 15) & ~(size_t) 15;
  return o;
fail:
  peac_objective_free (o);
  return NULL;
}

void
peac_objective_free (PeacObjective *o)
{
  if (!o)
    return;
  peac_model_train_free (o->vt);
  peac_model_free (o->student), peac_model_free (o->teacher);
  peac_params_free (&o->heads[0]), peac_params_free (&o->heads[1]);
  free (o->grads_backbone), free (o->grads_heads), free (o->arena), free (o->labels), free (o->nce_lab);
  free (o);
}

PeacModel *peac_objective_student (PeacObjective *o) { return o->student; }
PeacModel *peac_objective_teacher (PeacObjective *o) { return o->teacher; }
int peac_objective_grid (const PeacObjective *o) { return o->G; }
int peac_objective_cell (const PeacObjective *o) { return o->cell; }
PeacParams *peac_objective_heads (PeacObjective *o, int teacher) { return &o->heads[!!teacher]; }
float *peac_objective_grads (PeacObjective *o, int heads) { return heads ? o->grads_heads : o->grads_backbone; }

double
peac_ema_momentum (const PeacObjConfig *c, long step)
{
  double t = c->total_steps > 0 ? (double) step / (double) c->total_steps : 1.0;
  t = t > 1.0 ? 1.0 : t;
  return 1.0 - (1.0 - c->momentum0) * 0.5 * (1.0 + cos (M_PI * t));
}

double
peac_objective_ema (PeacObjective *o, long step)
{
  const double m = peac_ema_momentum (&o->c, step);
  const float a = (float) m, b = (float) (1.0 - m);
  PeacParams *pairs[2][2] = { { peac_model_params (o->teacher), peac_model_params (o->student) },
                              { &o->heads[1], &o->heads[0] } };
  for (int k = 0; k < 2; k++)
    op_axpby (pairs[k][0]->memory, a, pairs[k][1]->memory, b, pairs[k][0]->total);
  return m;
}

// ---------------------------------------------------------------------------------------
// One forward + backward

double
peac_objective_step (PeacObjective *o, const PeacBatch *bt, PeacLossTerms *terms)
{
  const int B = bt->B, B2 = 2 * B, G = o->G, GG = o->GG, D = o->D, K = o->K;
  const int O = o->O, Ol = o->Ol, rows1 = B * GG, rows2 = B2 * GG;
  const size_t img = (size_t) 3 * o->S * o->S;
  const PeacParams *hs = &o->heads[0], *ht = &o->heads[1];
  PeacLossTerms t = { 0 };
  if (B <= 0 || B > o->Bmax || bt->G != G || bt->cell != o->cell)
    {
      t.total = NAN; // a batch of another geometry: nothing computed
      if (terms)
        *terms = t;
      return NAN;
    }

  // Inputs: student [x1s ; x2], teacher [x2 ; x1] (x1s for shuffled samples with
  // teacher_sees_shuffled).
  memcpy (o->xs, bt->x1s, B * img * sizeof (float));
  memcpy (o->xs + B * img, bt->x2, B * img * sizeof (float));
  memcpy (o->xt, bt->x2, B * img * sizeof (float));
  for (int b = 0; b < B; b++)
    memcpy (o->xt + (B + b) * img,
            (o->c.teacher_sees_shuffled && bt->shuffled[b] ? bt->x1s : bt->x1) + b * img,
            img * sizeof (float));
  const float *grid = peac_model_train_forward (o->vt, o->xs, B2, NULL);
  char err[256];
  if (peac_model_forward (o->teacher, o->xt, B2, o->S, o->S, o->feat, NULL, NULL, NULL, err,
                          sizeof err) != 0)
    {
      t.total = NAN;
      if (terms)
        *terms = t;
      return NAN;
    }
  memcpy (o->P, grid, (size_t) rows2 * D * sizeof (float));

  // Order branch on the student's crop-1 tokens.
  const float *Wo = hp (hs, NULL, "order.weight"), *bo = hp (hs, NULL, "order.bias");
  for (int b = 0; b < B; b++)
    {
      t.n_shuffled += bt->shuffled[b];
      for (int i = 0; i < GG; i++)
        o->labels[b * GG + i] = bt->shuffled[b] ? bt->perm[b * GG + i] : -1;
    }
  op_linear_forward (o->logits, o->P, Wo, bo, rows1, D, GG);
  int count = 0;
  t.order = peac_ce_forward (o->probs, o->logits, o->labels, rows1, GG, &count);

  // Restoration of the clean crop 1.
  const float *Wd = hp (hs, NULL, "decoder.weight"), *bd = hp (hs, NULL, "decoder.bias");
  op_linear_forward (o->dec, o->P, Wd, bd, rows1, D, K);
  peac_pixel_shuffle_forward (o->img, o->dec, B, G, 3, o->cell);
  t.restore = peac_mse_forward (o->img, bt->x1, B * img);

  // Global consistency on the mean patch token.
  const PeacProjector pgs = projector (o, hs, "proj_global"), pgt = projector (o, ht, "proj_global");
  op_mean_pool_forward (o->mean_s, o->P, B2, GG, 0, GG, D);
  op_mean_pool_forward (o->mean_t, o->feat, B2, GG, 0, GG, D);
  peac_projector_forward (&pgs, o->ga, o->cache_g, o->mean_s, B2);
  peac_projector_forward (&pgt, o->gt, o->cache_gt, o->mean_t, B2);
  const double kg = 2.0 * O; // Σ over two directions of mean_rows ‖·‖² = 2·O·nMSE(2B rows)
  t.global = kg * peac_nmse_forward (o->ga, o->gt, NULL, B2, O);

  // Local consistency over matched cells of unshuffled samples, both directions.
  const PeacProjector pls = projector (o, hs, "proj_local"), plt = projector (o, ht, "proj_local");
  peac_projector_forward (&pls, o->la, o->cache_l, o->P, rows2);
  peac_projector_forward (&plt, o->lt, o->cache_lt, o->feat, rows2);
  memset (o->wrow, 0, (size_t) rows2 * sizeof (float));
  for (int r = 0; r < rows2; r++)
    o->nce_lab[r] = -1;
  for (int b = 0; b < B; b++)
    if (!bt->shuffled[b])
      for (int i = 0; i < GG; i++)
        {
          const int j = bt->pair[b * GG + i];
          if (j < 0)
            continue;
          // student crop 1 cell i ↔ teacher crop 2 cell j;  student crop 2 cell j ↔ teacher crop 1 cell i
          const size_t r1 = (size_t) b * GG + i, r2 = (size_t) (B + b) * GG + j;
          memcpy (o->target + r1 * Ol, o->lt + ((size_t) b * GG + j) * Ol, Ol * sizeof (float));
          memcpy (o->target + r2 * Ol, o->lt + ((size_t) (B + b) * GG + i) * Ol, Ol * sizeof (float));
          o->wrow[r1] = o->wrow[r2] = 1.0f;
          // InfoNCE: student row s·GG + i is scored against teacher rows s·GG + m; the
          // teacher batch [x2 ; x1] puts the other crop of student sample s at row s.
          o->nce_lab[r1] = j, o->nce_lab[r2] = i;
          t.n_matched++;
        }
  const double kl = 2.0 * Ol; // the same sum-over-outputs scale for the local width
  const double tau = o->c.local_temp;
  int nce_count = 0;
  if (tau > 0)
    t.local = t.n_matched ? peac_nce_forward (o->nce, o->la, o->lt, o->nce_lab, B2, GG, Ol, tau,
                                              &nce_count)
                          : 0.0;
  else
    t.local = t.n_matched ? kl * peac_nmse_forward (o->la, o->target, o->wrow, rows2, Ol) : 0.0;
  // Where each token sits in the whole image.
  const int position = o->c.w_position > 0;
  const float *Wp = position ? hp (hs, NULL, "position.weight") : NULL;
  const float *bp = position ? hp (hs, NULL, "position.bias") : NULL;
  if (position)
    {
      op_linear_forward (o->pos, o->P, Wp, bp, rows2, D, 2);
      // Σ over (y, x), mean over rows = 2 × the element mean.
      t.position = 2.0 * peac_mse_forward (o->pos, bt->where, (size_t) rows2 * 2);
    }
  t.total = o->c.w_order * t.order + o->c.w_restore * t.restore + o->c.w_global * t.global
            + o->c.w_local * t.local + o->c.w_position * t.position;

  // ---- backward ----
  memset (o->grads_backbone, 0, peac_model_params (o->student)->total * sizeof (float));
  memset (o->grads_heads, 0, hs->total * sizeof (float));
  memset (o->dP, 0, (size_t) rows2 * D * sizeof (float));
  memset (o->dtok, 0, (size_t) rows2 * D * sizeof (float));
  float *gh = o->grads_heads;
  const float *base = hs->memory;
  memset (o->dlogits, 0, (size_t) rows1 * GG * sizeof (float));
  peac_ce_backward (o->dlogits, o->probs, o->labels, rows1, GG, count, (float) o->c.w_order);
  op_linear_backward (o->dP, gh + (Wo - base), gh + (bo - base), o->dlogits, o->P, Wo, rows1,
                      D, GG);
  memset (o->dimg, 0, B * img * sizeof (float));
  memset (o->ddec, 0, (size_t) rows1 * K * sizeof (float));
  peac_mse_backward (o->dimg, o->img, bt->x1, B * img, (float) o->c.w_restore);
  peac_pixel_shuffle_backward (o->ddec, o->dimg, B, G, 3, o->cell);
  op_linear_backward (o->dP, gh + (Wd - base), gh + (bd - base), o->ddec, o->P, Wd, rows1, D, K);
  PeacProjectorGrads gg = projector_grads (o, "proj_global");
  memset (o->dga, 0, (size_t) B2 * O * sizeof (float));
  memset (o->dmean, 0, (size_t) B2 * D * sizeof (float));
  peac_nmse_backward (o->dga, o->ga, o->gt, NULL, B2, O, (float) (o->c.w_global * kg));
  peac_projector_backward (&pgs, &gg, o->dmean, o->scratch_g, o->dga, o->cache_g, o->mean_s, B2);
  op_mean_pool_backward (o->dtok, o->dmean, B2, GG, 0, GG, D);
  if (t.n_matched)
    {
      PeacProjectorGrads gl = projector_grads (o, "proj_local");
      memset (o->dla, 0, (size_t) rows2 * Ol * sizeof (float));
      if (tau > 0)
        peac_nce_backward (o->dla, o->nce, o->nce_lab, B2, GG, Ol, tau, nce_count,
                           (float) o->c.w_local);
      else
        peac_nmse_backward (o->dla, o->la, o->target, o->wrow, rows2, Ol,
                            (float) (o->c.w_local * kl));
      peac_projector_backward (&pls, &gl, o->dP, o->scratch_l, o->dla, o->cache_l, o->P, rows2);
    }
  if (position)
    {
      memset (o->dpos, 0, (size_t) rows2 * 2 * sizeof (float));
      peac_mse_backward (o->dpos, o->pos, bt->where, (size_t) rows2 * 2,
                         (float) (2.0 * o->c.w_position));
      op_linear_backward (o->dP, gh + (Wp - base), gh + (bp - base), o->dpos, o->P, Wp, rows2,
                          D, 2);
    }
  for (int b = 0; b < B2; b++)
    op_add (o->dtok + (size_t) b * GG * D, o->dtok + (size_t) b * GG * D,
            o->dP + (size_t) b * GG * D, (size_t) GG * D);
  peac_model_train_backward (o->vt, o->dtok, NULL, o->grads_backbone, NULL);
  if (terms)
    *terms = t;
  return t.total;
}
