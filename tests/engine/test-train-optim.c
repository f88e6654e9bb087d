// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-train-optim: the optimisers against a double-precision re-statement of PyTorch's
// AdamW and SGD update rules over several steps (with a weight-decay mask and gradient
// clipping), the warm-up + cosine schedule at its landmarks, the decay mask of a ViT
// parameter table, and AdamW/SGD actually minimising a quadratic.
#include <glib.h>
#include <math.h>

#include "optim.h"
#include "vit.h"

static void
test_schedule (void)
{
  PeacOptConfig c;
  peac_optim_defaults (&c);
  c.lr = 1e-3, c.min_lr = 1e-5, c.warmup_steps = 10, c.total_steps = 110;
  g_assert_cmpfloat (fabs (peac_optim_lr (&c, 0) - 1e-4), <, 1e-12);
  g_assert_cmpfloat (fabs (peac_optim_lr (&c, 9) - 1e-3), <, 1e-12);
  g_assert_cmpfloat (fabs (peac_optim_lr (&c, 10) - 1e-3), <, 1e-12);
  g_assert_cmpfloat (fabs (peac_optim_lr (&c, 60) - (1e-3 + 1e-5) / 2), <, 1e-12);
  g_assert_cmpfloat (fabs (peac_optim_lr (&c, 110) - 1e-5), <, 1e-12);
  g_assert_cmpfloat (fabs (peac_optim_lr (&c, 500) - 1e-5), <, 1e-12);
  for (long s = 10; s < 110; s++)
    g_assert_cmpfloat (peac_optim_lr (&c, s + 1), <, peac_optim_lr (&c, s));
}

// Runs `steps` updates of the engine and of a double reference on n values; returns
// max |Δp|. Large n takes the chunked, threaded path (optim.c).
static double
compare_rule (PeacOptKind kind, double clip, size_t n)
{
  PeacOptConfig c;
  peac_optim_defaults (&c);
  c.kind = kind, c.lr = 1e-2, c.min_lr = 1e-4, c.warmup_steps = 2, c.total_steps = 6;
  c.weight_decay = 0.1, c.clip_norm = clip;
  PeacOptimizer o;
  g_assert_cmpint (peac_optim_init (&o, &c, n), ==, 0);
  GRand *r = g_rand_new_with_seed (kind * 10 + (clip > 0));
  float *p = g_new (float, n), *g = g_new (float, n);
  double *pd = g_new (double, n), *m = g_new0 (double, n), *v = g_new0 (double, n);
  unsigned char *mask = g_new (unsigned char, n);
  for (size_t i = 0; i < n; i++)
    pd[i] = p[i] = (float) g_rand_double_range (r, -1, 1), mask[i] = i % 3 != 0;
  double worst = 0.0;
  for (int s = 0; s < 6; s++)
    {
      double norm = 0.0;
      for (size_t i = 0; i < n; i++)
        g[i] = (float) g_rand_double_range (r, -2, 2), norm += (double) g[i] * g[i];
      norm = sqrt (norm);
      const double k = clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1.0;
      const double lr = peac_optim_lr (&c, s);
      for (size_t i = 0; i < n; i++)
        {
          double gi = (double) g[i] * k;
          if (kind == PEAC_OPT_ADAMW)
            {
              if (mask[i])
                pd[i] -= lr * c.weight_decay * pd[i];
              m[i] = c.beta1 * m[i] + (1 - c.beta1) * gi;
              v[i] = c.beta2 * v[i] + (1 - c.beta2) * gi * gi;
              double mh = m[i] / (1 - pow (c.beta1, s + 1)), vh = v[i] / (1 - pow (c.beta2, s + 1));
              pd[i] -= lr * mh / (sqrt (vh) + c.eps);
            }
          else
            {
              if (mask[i])
                gi += c.weight_decay * pd[i];
              m[i] = s == 0 ? gi : c.momentum * m[i] + gi;
              pd[i] -= lr * m[i];
            }
        }
      double got = peac_optim_step (&o, p, g, mask);
      g_assert_cmpfloat (fabs (got - norm), <, 1e-6 * norm);
      if (clip > 0) // the gradients were clipped in place
        g_assert_cmpfloat (fabs (peac_grad_norm (g, n) - fmin (norm, clip)), <, 1e-4);
    }
  for (size_t i = 0; i < n; i++)
    worst = fmax (worst, fabs (p[i] - pd[i]));
  g_assert_cmpint (o.step, ==, 6);
  peac_optim_free (&o);
  g_free (p), g_free (g), g_free (pd), g_free (m), g_free (v), g_free (mask);
  g_rand_free (r);
  return worst;
}

static void
test_rules (void)
{
  const size_t sizes[] = { 257, 140001 };
  for (int kind = 0; kind < 2; kind++)
    for (int clip = 0; clip < 2; clip++)
      for (int k = 0; k < 2; k++)
        {
          double e = compare_rule (kind, clip ? 5.0 : 0.0, sizes[k]);
          g_test_message ("%s clip=%d n=%zu max|Δp| %.3g", kind ? "sgd" : "adamw", clip,
                          sizes[k], e);
          g_assert_cmpfloat (e, <, 1e-5);
        }
}

static void
test_decay_mask (void)
{
  VitConfig cfg = { .img_size = 32, .patch_size = 8, .in_chans = 3, .embed_dim = 16,
                    .depth = 1, .num_heads = 2, .mlp_hidden = 32, .qkv_bias = 1,
                    .ln_eps = 1e-6f };
  char err[128];
  VitModel *m = vit_create (&cfg, err, sizeof err);
  PeacParams *p = vit_params (m);
  unsigned char *mask = g_new (unsigned char, p->total);
  peac_optim_decay_mask (p, mask);
  const PeacParam *w = peac_params_find (p, "blocks.0.attn.qkv.weight");
  const PeacParam *b = peac_params_find (p, "blocks.0.attn.qkv.bias");
  const PeacParam *pos = peac_params_find (p, "pos_embed");
  const PeacParam *pw = peac_params_find (p, "patch_embed.proj.weight");
  g_assert_true (mask[w->offset] && mask[w->offset + w->numel - 1] && mask[pw->offset]);
  g_assert_true (!mask[b->offset] && !mask[pos->offset]);
  g_free (mask);
  vit_free (m);
}

static void
test_minimises (void)
{
  for (int kind = 0; kind < 2; kind++)
    {
      const size_t n = 50;
      PeacOptConfig c;
      peac_optim_defaults (&c);
      c.kind = kind, c.lr = kind ? 0.05 : 0.05, c.min_lr = 0.0, c.warmup_steps = 5;
      c.total_steps = 300, c.weight_decay = 0.0;
      PeacOptimizer o;
      peac_optim_init (&o, &c, n);
      float p[50], g[50];
      double first = 0, last = 0;
      for (int s = 0; s < 300; s++)
        {
          double L = 0;
          for (size_t i = 0; i < n; i++) // L = Σ (i+1)/n · (p − 1)²
            {
              double a = (double) (i + 1) / n, d = (s == 0 ? (p[i] = 0.0f) : p[i]) - 1.0;
              L += a * d * d;
              g[i] = (float) (2 * a * d);
            }
          first = s == 0 ? L : first;
          last = L;
          peac_optim_step (&o, p, g, NULL);
        }
      g_test_message ("%s: loss %.4g → %.4g", kind ? "sgd" : "adamw", first, last);
      g_assert_cmpfloat (last, <, 1e-3 * first);
      peac_optim_free (&o);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/optim/schedule", test_schedule);
  g_test_add_func ("/optim/rules", test_rules);
  g_test_add_func ("/optim/decay-mask", test_decay_mask);
  g_test_add_func ("/optim/minimises", test_minimises);
  return g_test_run ();
}
