// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-peac: the assembled PEAC objective on a tiny ViT and a tiny Swin. Each loss term
// alone and the total have gradients (backbone and heads together) that match central
// finite differences of the loss along random directions; the teacher gets no gradient and
// follows the student by EMA with the cosine momentum; batches carry exact pairs (crop-1
// cell i equals crop-2 cell pair[i]) and shuffled crops that are the permutation of the
// clean crop. The position term: its targets are read back from images whose pixels hold
// their own coordinates, its gradient matches central differences, and it leaves the
// other terms as they were.
#include <glib.h>
#include <math.h>
#include <string.h>

#include "peac.h"
#include "preprocess.h"

// The tiny ViT the objective builds: a 4 × 4 grid of 4-px cells, width 8.
#define TINY_JSON "{\"img_size\": 16, \"patch_size\": 4, \"embed_dim\": 8, \"depth\": 1, " \
                  "\"num_heads\": 2, \"mlp_ratio\": 2.0, \"layernorm_eps\": 1e-6}"

static const PeacModelSpec *
tiny_spec (void)
{
  static PeacModelSpec m;
  char err[256];
  if (!m.backbone && peac_model_spec_parse (&m, "vit", TINY_JSON, err, sizeof err) != 0)
    g_error ("%s", err);
  return &m;
}

// The tiny ViT's defaults with small projectors (the local one with widths of its own)
// and crops at most 2 cells apart: what the gradient and term tests run on.
static void
small_config (PeacObjConfig *c)
{
  peac_obj_defaults (c, tiny_spec ());
  c->proj_hidden = 12, c->proj_out = 6, c->max_shift = 2;
  c->local_hidden = 10, c->local_out = 4;
}

// A smooth random grey image in [0, 1].
static float *
grey_image (GRand *r, int h, int w)
{
  float *g = g_new (float, h * w);
  double a = g_rand_double_range (r, 0.05, 0.3), b = g_rand_double_range (r, 0.05, 0.3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      g[y * w + x] = (float) (0.5 + 0.25 * sin (a * y + 0.3 * x) * cos (b * x)
                              + 0.2 * g_rand_double (r) - 0.1);
  return g;
}

// Two samples: the first shuffled, the second distorted.
static void
make_batch (PeacBatch *b, const PeacObjConfig *c, GRand *r, PeacRng *rng)
{
  g_assert_cmpint (peac_batch_alloc (b, 2, 4, 4), ==, 0);
  for (int k = 0; k < 2; k++)
    {
      PeacObjConfig ck = *c;
      ck.p_shuffle = k == 0 ? 1.0 : 0.0;
      float *g = grey_image (r, 40, 44);
      g_assert_cmpint (peac_batch_fill (b, k, g, 40, 44, &ck, rng), ==, 0);
      g_free (g);
    }
  g_assert_true (b->shuffled[0] && !b->shuffled[1]);
}

static void
randomise (float *x, size_t n, GRand *r, double lo, double hi)
{
  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (r, lo, hi);
}

// The gradient the objective filled (backbone and heads) against central differences of
// its loss along `trials` random directions: relative error below 2e-2, and a derivative
// big enough to mean something. The objective's weights are left as they were.
static void
check_directional (PeacObjective *o, const PeacBatch *b, GRand *r, int trials,
                   const char *name, double L0)
{
  PeacParams *pv = peac_model_params (peac_objective_student (o)), *ph = peac_objective_heads (o, 0);
  const size_t nv = pv->total, nh = ph->total;
  float *gv = g_memdup2 (peac_objective_grads (o, 0), nv * 4);
  float *gh = g_memdup2 (peac_objective_grads (o, 1), nh * 4);
  float *dir = g_new (float, nv + nh);
  for (int trial = 0; trial < trials; trial++)
    {
      randomise (dir, nv + nh, r, -1, 1);
      double analytic = 0.0;
      for (size_t i = 0; i < nv; i++)
        analytic += (double) gv[i] * dir[i];
      for (size_t i = 0; i < nh; i++)
        analytic += (double) gh[i] * dir[nv + i];
      const float h = 5e-4f; // small: larger steps cross ReLU kinks of the projectors
      double L[2];
      for (int sgn = 0; sgn < 2; sgn++)
        {
          const float step = sgn ? -2 * h : h;
          for (size_t i = 0; i < nv; i++) pv->memory[i] += step * dir[i];
          for (size_t i = 0; i < nh; i++) ph->memory[i] += step * dir[nv + i];
          L[sgn] = peac_objective_step (o, b, NULL);
        }
      for (size_t i = 0; i < nv; i++) pv->memory[i] += h * dir[i];
      for (size_t i = 0; i < nh; i++) ph->memory[i] += h * dir[nv + i];
      double fd = (L[0] - L[1]) / (2.0 * h), rel = fabs (fd - analytic) / fmax (1e-3, fabs (fd));
      g_test_message ("%-12s L %.5g  directional: analytic %.6g  fd %.6g  rel %.2g", name, L0,
                      analytic, fd, rel);
      g_assert_cmpfloat (fabs (fd), >, 1e-3);
      g_assert_cmpfloat (rel, <, 2e-2);
    }
  g_free (gv), g_free (gh), g_free (dir);
}

static void
test_gradients (void)
{
  GRand *r = g_rand_new_with_seed (31);
  PeacRng rng;
  peac_rng_seed (&rng, 8);
  PeacObjConfig c;
  small_config (&c);
  char err[256];
  PeacObjective *o = peac_objective_new (PEAC_ARCH_VIT, "timm", TINY_JSON, &c, 2, 1, err,
                                         sizeof err);
  g_assert_nonnull (o);
  PeacParams *pv = peac_model_params (peac_objective_student (o)), *ph = peac_objective_heads (o, 0);
  // Weights large enough that every term is far from trivial; a teacher unlike the student.
  randomise (pv->memory, pv->total, r, -0.4, 0.4);
  randomise (ph->memory, ph->total, r, -0.4, 0.4);
  randomise (peac_model_params (peac_objective_teacher (o))->memory, pv->total, r, -0.4, 0.4);
  randomise (peac_objective_heads (o, 1)->memory, ph->total, r, -0.4, 0.4);
  PeacBatch b;
  make_batch (&b, &c, r, &rng);
  float *tcopy = g_memdup2 (peac_model_params (peac_objective_teacher (o))->memory, pv->total * 4);
  // The last two: the contrastive local term (local_temp > 0) alone and in the total.
  const double w[7][4] = { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 },
                           { 1, 1, 1e5 / 8192, 1 }, { 0, 0, 0, 1 }, { 1, 1, 1e5 / 8192, 1 } };
  const char *names[7] = { "order", "restore", "global", "local", "total", "local-nce",
                           "total-nce" };
  const size_t nv = pv->total, nh = ph->total;
  for (int k = 0; k < 7; k++)
    {
      PeacObjective *obj = o;
      // Set the weights through a fresh config copy kept in the objective.
      PeacObjConfig ck = c;
      ck.w_order = w[k][0], ck.w_restore = w[k][1], ck.w_global = w[k][2], ck.w_local = w[k][3];
      ck.local_temp = k >= 5 ? 0.2 : 0.0;
      PeacObjective *ok = peac_objective_new (PEAC_ARCH_VIT, "timm", TINY_JSON, &ck, 2, 1, err,
                                              sizeof err);
      memcpy (peac_model_params (peac_objective_student (ok))->memory, pv->memory, nv * 4);
      memcpy (peac_objective_heads (ok, 0)->memory, ph->memory, nh * 4);
      memcpy (peac_model_params (peac_objective_teacher (ok))->memory, tcopy, nv * 4);
      memcpy (peac_objective_heads (ok, 1)->memory, peac_objective_heads (obj, 1)->memory, nh * 4);
      PeacLossTerms t;
      double L0 = peac_objective_step (ok, &b, &t);
      g_assert_true (isfinite (L0));
      g_assert_cmpint (t.n_shuffled, ==, 1);
      g_assert_cmpint (t.n_matched, >, 0);
      g_assert_cmpfloat (t.order, >, 0.1);
      g_assert_cmpfloat (t.restore, >, 0.01);
      g_assert_cmpfloat (t.global, >, 1e-3);
      g_assert_cmpfloat (t.local, >, 1e-3);
      if (k >= 5) // cross-entropy over the 16 cells of a crop: near ln 16 for unrelated rows
        g_assert_cmpfloat (t.local, >, 0.5);
      check_directional (ok, &b, r, 3, names[k], L0);
      peac_objective_free (ok);
    }
  // A batch of another grid or larger than the objective's is refused, not overrun.
  PeacBatch big;
  g_assert_cmpint (peac_batch_alloc (&big, 3, 4, 4), ==, 0);
  g_assert_true (isnan (peac_objective_step (o, &big, NULL)));
  peac_batch_free (&big);
  g_assert_cmpint (peac_batch_alloc (&big, 2, 8, 2), ==, 0);
  g_assert_true (isnan (peac_objective_step (o, &big, NULL)));
  peac_batch_free (&big);
  // The teacher never received anything.
  g_assert_cmpint (memcmp (tcopy, peac_model_params (peac_objective_teacher (o))->memory, nv * 4), ==, 0);
  g_free (tcopy);
  peac_batch_free (&b);
  peac_objective_free (o);
  g_rand_free (r);
}

// The objective on a Swin backbone (Microsoft layout): a 16 px input, patch 2, two stages
// (8×8 tokens in shifted 4×4 windows, then 4×4 after PatchMerging) gives the same 4×4 grid
// of 4 px cells as the tiny ViT, so the same batches apply; the total loss's gradient
// (order, restore, global, local — MSE and InfoNCE) matches central differences along
// random directions of backbone and heads.
static void
test_swin_gradients (void)
{
  GRand *r = g_rand_new_with_seed (37);
  PeacRng rng;
  peac_rng_seed (&rng, 9);
  PeacObjConfig c;
  small_config (&c);
  const char *swin = "{\"img_size\": 16, \"patch_size\": 2, \"embed_dim\": 8, "
                     "\"depths\": [2, 2], \"num_heads\": [1, 2], \"window_size\": 4}";
  PeacBatch b;
  make_batch (&b, &c, r, &rng);
  for (int nce = 0; nce < 2; nce++)
    {
      char err[256];
      c.local_temp = nce ? 0.2 : 0.0;
      PeacObjective *o = peac_objective_new (PEAC_ARCH_SWIN, NULL, swin, &c, 2, 1, err,
                                             sizeof err);
      g_assert_nonnull (o);
      g_assert_cmpint (peac_objective_grid (o), ==, 4);
      g_assert_cmpint (peac_objective_cell (o), ==, 4);
      g_assert_cmpstr (peac_model_layout (peac_objective_student (o)), ==, "microsoft");
      PeacParams *pv = peac_model_params (peac_objective_student (o)), *ph = peac_objective_heads (o, 0);
      PeacParams *tv = peac_model_params (peac_objective_teacher (o));
      randomise (pv->memory, pv->total, r, -0.4, 0.4);
      randomise (ph->memory, ph->total, r, -0.4, 0.4);
      randomise (tv->memory, tv->total, r, -0.4, 0.4);
      randomise (peac_objective_heads (o, 1)->memory, ph->total, r, -0.4, 0.4);
      float *tcopy = g_memdup2 (tv->memory, tv->total * 4);
      PeacLossTerms t;
      double L0 = peac_objective_step (o, &b, &t);
      g_assert_true (isfinite (L0));
      g_assert_cmpfloat (t.order, >, 0.1);
      g_assert_cmpfloat (t.restore, >, 0.01);
      g_assert_cmpfloat (t.global, >, 1e-3);
      g_assert_cmpfloat (t.local, >, 1e-3);
      check_directional (o, &b, r, 2, nce ? "swin nce" : "swin mse", L0);
      g_assert_cmpint (memcmp (tcopy, tv->memory, tv->total * 4), ==, 0);
      g_free (tcopy);
      peac_objective_free (o);
    }
  peac_batch_free (&b);
  g_rand_free (r);
}

static void
test_ema (void)
{
  PeacObjConfig c;
  peac_obj_defaults (&c, tiny_spec ());
  c.total_steps = 100;
  g_assert_cmpfloat (fabs (peac_ema_momentum (&c, 0) - 0.999), <, 1e-12);
  g_assert_cmpfloat (fabs (peac_ema_momentum (&c, 50) - 0.9995), <, 1e-12);
  g_assert_cmpfloat (fabs (peac_ema_momentum (&c, 100) - 1.0), <, 1e-12);
  char err[256];
  PeacObjective *o = peac_objective_new (PEAC_ARCH_VIT, "timm", TINY_JSON, &c, 1, 3, err,
                                         sizeof err);
  if (!o)
    g_error ("%s", err);
  PeacParams *s = peac_model_params (peac_objective_student (o)), *t = peac_model_params (peac_objective_teacher (o));
  PeacParams *hs = peac_objective_heads (o, 0), *ht = peac_objective_heads (o, 1);
  g_assert_cmpint (memcmp (s->memory, t->memory, s->total * 4), ==, 0); // teacher starts equal
  GRand *r = g_rand_new_with_seed (32);
  randomise (s->memory, s->total, r, -1, 1);
  randomise (hs->memory, hs->total, r, -1, 1);
  float *t0 = g_memdup2 (t->memory, t->total * 4), *h0 = g_memdup2 (ht->memory, ht->total * 4);
  double m = peac_objective_ema (o, 30);
  g_assert_cmpfloat (fabs (m - peac_ema_momentum (&c, 30)), <, 1e-15);
  for (size_t i = 0; i < t->total; i++)
    g_assert_cmpfloat (fabs (t->memory[i] - (m * t0[i] + (1 - m) * s->memory[i])), <, 1e-6);
  for (size_t i = 0; i < ht->total; i++)
    g_assert_cmpfloat (fabs (ht->memory[i] - (m * h0[i] + (1 - m) * hs->memory[i])), <, 1e-6);
  g_free (t0), g_free (h0);
  g_rand_free (r);
  peac_objective_free (o);
}

static void
test_batch (void)
{
  GRand *r = g_rand_new_with_seed (33);
  PeacRng rng;
  peac_rng_seed (&rng, 9);
  PeacObjConfig c;
  peac_obj_defaults (&c, tiny_spec ());
  c.max_shift = 3;
  PeacBatch b;
  g_assert_cmpint (peac_batch_alloc (&b, 8, 4, 4), ==, 0);
  const int S = 16, G = 4;
  int seen_shuffled = 0, seen_plain = 0;
  for (int k = 0; k < 8; k++)
    {
      float *g = grey_image (r, 30 + k, 50 - k);
      g_assert_cmpint (peac_batch_fill (&b, k, g, 30 + k, 50 - k, &c, &rng), ==, 0);
      g_free (g);
      const float *x1 = b.x1 + (size_t) k * 3 * S * S, *x1s = b.x1s + (size_t) k * 3 * S * S;
      const float *x2 = b.x2 + (size_t) k * 3 * S * S;
      for (int i = 0; i < G * G; i++)
        for (int ch = 0; ch < 3; ch++)
          for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
              {
                int j = b.pair[k * G * G + i], p = b.perm[k * G * G + i];
                float v1 = x1[(ch * S + (i / G) * 4 + y) * S + (i % G) * 4 + x];
                if (j >= 0)
                  g_assert_cmpfloat (v1, ==, x2[(ch * S + (j / G) * 4 + y) * S + (j % G) * 4 + x]);
                if (b.shuffled[k])
                  g_assert_cmpfloat (x1s[(ch * S + (i / G) * 4 + y) * S + (i % G) * 4 + x], ==,
                                     x1[(ch * S + (p / G) * 4 + y) * S + (p % G) * 4 + x]);
                else
                  g_assert_cmpint (p, ==, i);
              }
      seen_shuffled += b.shuffled[k], seen_plain += !b.shuffled[k];
    }
  g_assert_true (seen_shuffled > 0 && seen_plain > 0);
  // Too small an image is refused.
  float small[100] = { 0 };
  g_assert_cmpint (peac_batch_fill (&b, 0, small, 10, 10, &c, &rng), ==, -1);
  peac_batch_free (&b);
  g_rand_free (r);
}

// With teacher_sees_shuffled the teacher's crop 1 of a shuffled sample is the student's
// shuffled crop: the same as the default rule on a batch whose clean crop 1 was replaced
// by the shuffled one (every term equal to the last bit), and unlike the default rule on
// the batch itself (the global term changes).
static void
test_teacher_sees_shuffled (void)
{
  GRand *r = g_rand_new_with_seed (12);
  PeacRng rng;
  peac_rng_seed (&rng, 4);
  PeacObjConfig c;
  small_config (&c);
  PeacBatch b, swapped;
  make_batch (&b, &c, r, &rng);
  g_assert_cmpint (peac_batch_alloc (&swapped, 2, 4, 4), ==, 0);
  const size_t img = (size_t) 3 * b.S * b.S;
  memcpy (swapped.x1, b.x1, 3 * 2 * img * sizeof (float)); // x1, x1s, x2 of both samples
  memcpy (swapped.shuffled, b.shuffled, 2 * sizeof (int));
  memcpy (swapped.perm, b.perm, 2 * 16 * sizeof (int));
  memcpy (swapped.pair, b.pair, 2 * 16 * sizeof (int));
  memcpy (swapped.x1, b.x1s, img * sizeof (float)); // sample 0 is the shuffled one
  PeacLossTerms t[3];
  char err[256];
  for (int k = 0; k < 3; k++)
    {
      PeacObjConfig ck = c;
      ck.teacher_sees_shuffled = k == 0;
      PeacObjective *o = peac_objective_new (PEAC_ARCH_VIT, "timm", TINY_JSON, &ck, 2, 1, err,
                                             sizeof err);
      g_assert_nonnull (o);
      peac_objective_step (o, k == 1 ? &swapped : &b, &t[k]);
      peac_objective_free (o);
    }
  g_assert_cmpfloat (t[0].global, ==, t[1].global);
  g_assert_cmpfloat (t[0].local, ==, t[1].local);
  g_assert_cmpfloat (t[0].order, ==, t[1].order);
  g_assert_cmpfloat (t[0].global, !=, t[2].global);
  peac_batch_free (&b), peac_batch_free (&swapped);
  g_rand_free (r);
}

// The position targets against the image itself: an image whose pixel (j, i) holds
// (j + ½)/h (then one holding (i + ½)/w) averages, over a cell, to the cell's centre in the
// image; the same rng seed cuts the same crops, so 2·mean − 1 over the cell that each
// student token shows (x1s: as shuffled; x2) must equal the batch's `where`.
static void
test_position_targets (void)
{
  PeacObjConfig c;
  peac_obj_defaults (&c, tiny_spec ());
  c.max_shift = 3, c.w_position = 1.0;
  const int h = 30, w = 37, S = 16, G = 4, GG = 16, cell = 4;
  float *img[2] = { g_new (float, h * w), g_new (float, h * w) };
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      img[0][y * w + x] = (float) ((y + 0.5) / h), img[1][y * w + x] = (float) ((x + 0.5) / w);
  int seen[2] = { 0, 0 };
  for (int trial = 0; trial < 6; trial++)
    {
      PeacBatch b[2];
      for (int a = 0; a < 2; a++)
        {
          PeacRng rng;
          peac_rng_seed (&rng, 40 + trial);
          PeacObjConfig ck = c;
          ck.p_shuffle = trial % 2 ? 1.0 : 0.0;
          g_assert_cmpint (peac_batch_alloc (&b[a], 2, G, cell), ==, 0);
          for (int k = 0; k < 2; k++)
            g_assert_cmpint (peac_batch_fill (&b[a], k, img[a], h, w, &ck, &rng), ==, 0);
        }
      for (int k = 0; k < 2; k++)
        for (int crop = 0; crop < 2; crop++)
          for (int i = 0; i < GG; i++)
            for (int a = 0; a < 2; a++)
              {
                // An unshuffled crop 1 is distorted for the student; its cells are the clean
                // crop's, in order.
                const float *x = (crop ? b[a].x2 : b[a].shuffled[k] ? b[a].x1s : b[a].x1)
                                 + (size_t) k * 3 * S * S;
                double m = 0;
                for (int y = 0; y < cell; y++)
                  for (int q = 0; q < cell; q++)
                    m += x[((i / G) * cell + y) * S + (i % G) * cell + q];
                m = m / (cell * cell) * PEAC_STD + PEAC_MEAN;
                const float *t = b[a].where + (((size_t) crop * 2 + k) * GG + i) * 2;
                g_assert_cmpfloat (fabs (t[a] - (2 * m - 1)), <, 1e-5);
                // Both images cut the same crops: the batches agree on every target.
                const float *u = b[!a].where + (((size_t) crop * 2 + k) * GG + i) * 2;
                g_assert_cmpfloat (t[0], ==, u[0]);
                g_assert_cmpfloat (t[1], ==, u[1]);
              }
      for (int k = 0; k < 2; k++)
        seen[b[0].shuffled[k]]++;
      peac_batch_free (&b[0]), peac_batch_free (&b[1]);
    }
  g_assert_true (seen[0] > 0 && seen[1] > 0);
  g_free (img[0]), g_free (img[1]);
}

// The position term: a head "position.*" exists only with w_position > 0; with the same
// weights the other four terms are those of an objective without it (to the last bit), the
// total adds w_position × the term, and the gradient of the term alone and of the total
// matches central differences along random directions.
static void
test_position_term (void)
{
  GRand *r = g_rand_new_with_seed (77);
  PeacRng rng;
  peac_rng_seed (&rng, 21);
  PeacObjConfig c;
  small_config (&c);
  char err[256];
  PeacObjective *plain = peac_objective_new (PEAC_ARCH_VIT, "timm", TINY_JSON, &c, 2, 1, err,
                                             sizeof err);
  g_assert_nonnull (plain);
  g_assert_null (peac_params_find (peac_objective_heads (plain, 0), "position.weight"));
  PeacBatch b;
  make_batch (&b, &c, r, &rng);
  PeacParams *pv = peac_model_params (peac_objective_student (plain));
  PeacParams *ph = peac_objective_heads (plain, 0);
  randomise (pv->memory, pv->total, r, -0.4, 0.4);
  randomise (ph->memory, ph->total, r, -0.4, 0.4);
  const double wts[2][5] = { { 0, 0, 0, 0, 1 }, { 1, 1, 1e5 / 8192, 1, 0.7 } };
  for (int k = 0; k < 2; k++)
    {
      PeacObjConfig ck = c;
      ck.w_order = wts[k][0], ck.w_restore = wts[k][1], ck.w_global = wts[k][2];
      ck.w_local = wts[k][3], ck.w_position = wts[k][4];
      PeacObjective *o = peac_objective_new (PEAC_ARCH_VIT, "timm", TINY_JSON, &ck, 2, 1, err,
                                             sizeof err);
      g_assert_nonnull (o);
      PeacParams *sv = peac_model_params (peac_objective_student (o)), *sh = peac_objective_heads (o, 0);
      const PeacParam *pw = peac_params_find (sh, "position.weight");
      g_assert_nonnull (pw);
      g_assert_cmpint (pw->shape[0], ==, 2);
      g_assert_cmpint (pw->shape[1], ==, 8);
      memcpy (sv->memory, pv->memory, pv->total * 4);
      memcpy (peac_model_params (peac_objective_teacher (o))->memory,
              peac_model_params (peac_objective_teacher (plain))->memory, pv->total * 4);
      // The shared heads first in the table, then position.*: copy those, randomise it.
      for (int h = 0; h < 2; h++)
        memcpy (peac_objective_heads (o, h)->memory, peac_objective_heads (plain, h)->memory,
                pw->offset * 4);
      randomise (sh->memory + pw->offset, sh->total - pw->offset, r, -0.4, 0.4);
      PeacLossTerms t, t0;
      double L = peac_objective_step (o, &b, &t);
      PeacObjConfig cp = ck;
      cp.w_position = 0;
      PeacObjective *ref = peac_objective_new (PEAC_ARCH_VIT, "timm", TINY_JSON, &cp, 2, 1, err,
                                               sizeof err);
      memcpy (peac_model_params (peac_objective_student (ref))->memory, pv->memory, pv->total * 4);
      memcpy (peac_model_params (peac_objective_teacher (ref))->memory,
              peac_model_params (peac_objective_teacher (plain))->memory, pv->total * 4);
      for (int h = 0; h < 2; h++)
        memcpy (peac_objective_heads (ref, h)->memory, peac_objective_heads (plain, h)->memory,
                pw->offset * 4);
      double L0 = peac_objective_step (ref, &b, &t0);
      g_assert_cmpfloat (t.order, ==, t0.order);
      g_assert_cmpfloat (t.restore, ==, t0.restore);
      g_assert_cmpfloat (t.global, ==, t0.global);
      g_assert_cmpfloat (t.local, ==, t0.local);
      g_assert_cmpfloat (t0.position, ==, 0.0);
      g_assert_cmpfloat (t.position, >, 0.05);
      g_assert_cmpfloat (fabs (L - (L0 + ck.w_position * t.position)), <, 1e-9 * fmax (1, fabs (L)));
      check_directional (o, &b, r, 3, k ? "position+all" : "position", L);
      peac_objective_free (ref), peac_objective_free (o);
    }
  peac_batch_free (&b);
  peac_objective_free (plain);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/peac/batch", test_batch);
  g_test_add_func ("/peac/ema", test_ema);
  g_test_add_func ("/peac/gradients", test_gradients);
  g_test_add_func ("/peac/swin-gradients", test_swin_gradients);
  g_test_add_func ("/peac/teacher-sees-shuffled", test_teacher_sees_shuffled);
  g_test_add_func ("/peac/position-targets", test_position_targets);
  g_test_add_func ("/peac/position-term", test_position_term);
  return g_test_run ();
}
