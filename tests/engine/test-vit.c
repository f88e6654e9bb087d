// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-vit: properties of the ViT forward that the fixtures do not cover. The fused path
// (no observer: residual adds inside the GEMMs, GELU fused into fc1) equals the observed
// path; --layer k equals the final norm applied to block k's reported output; another
// input size resamples pos_embed (checked against op_pos_embed_resample by a manual
// embedding); batch elements are independent; FLOPs match the closed form.
#include <glib.h>
#include <math.h>
#include <string.h>

#include "model.h"
#include "ops.h"
#include "vit.h"

static const char *cfg =
  "{\"img_size\": 64, \"patch_size\": 16, \"embed_dim\": 32, \"depth\": 3, \"num_heads\": 4,"
  " \"mlp_ratio\": 2.0, \"layernorm_eps\": 1e-6}";

typedef struct {
  const char *want;
  float      *copy;
  size_t      n;
} Grab;

static void
grab (void *user, const char *name, const float *data, int ndim, const int64_t *shape)
{
  Grab *g = user;
  if (strcmp (name, g->want) != 0)
    return;
  g->n = 1;
  for (int i = 0; i < ndim; i++)
    g->n *= (size_t) shape[i];
  g->copy = g_memdup2 (data, g->n * sizeof (float));
}

static double
max_diff (const float *a, const float *b, size_t n)
{
  double e = 0;
  for (size_t i = 0; i < n; i++)
    e = fmax (e, fabs ((double) a[i] - b[i]));
  return e;
}

static PeacModel *
make (void)
{
  char err[256];
  PeacModel *m = peac_model_new (PEAC_ARCH_VIT, "timm", cfg, 7, err, sizeof err);
  g_assert_nonnull (m);
  // Non-trivial norms and biases so that nothing hides behind 1 and 0.
  PeacParams *p = peac_model_params (m);
  for (int i = 0; i < p->n; i++)
    if (p->list[i].ndim == 1)
      for (size_t k = 0; k < p->list[i].numel; k++)
        p->list[i].data[k] += 0.1f * sinf ((float) (k + 3 * i));
  return m;
}

static float *
input (int B, int H, int W)
{
  float *x = g_new (float, (size_t) B * 3 * H * W);
  for (size_t i = 0; i < (size_t) B * 3 * H * W; i++)
    x[i] = sinf ((float) i * 0.013f) + 0.3f * cosf ((float) i * 0.71f);
  return x;
}

static void
test_fused_equals_observed (void)
{
  PeacModel *m = make ();
  char err[256];
  float *x = input (2, 64, 64);
  float f1[2 * 16 * 32], f2[2 * 16 * 32], p1[64], p2[64];
  Grab g = { "blocks.2", NULL, 0 };
  g_assert_cmpint (peac_model_forward (m, x, 2, 64, 64, f1, p1, NULL, NULL, err, sizeof err), ==, 0);
  g_assert_cmpint (peac_model_forward (m, x, 2, 64, 64, f2, p2, grab, &g, err, sizeof err), ==, 0);
  g_assert_nonnull (g.copy);
  g_assert_cmpfloat (max_diff (f1, f2, G_N_ELEMENTS (f1)), <, 1e-5);
  g_assert_cmpfloat (max_diff (p1, p2, G_N_ELEMENTS (p1)), <, 1e-5);
  // Batch independence: image 1 alone gives the same features as in the batch.
  float f3[16 * 32], p3[32];
  g_assert_cmpint (peac_model_forward (m, x + 3 * 64 * 64, 1, 64, 64, f3, p3, NULL, NULL, err,
                                       sizeof err), ==, 0);
  g_assert_cmpfloat (max_diff (f3, f1 + 16 * 32, 16 * 32), <, 1e-5);
  g_free (g.copy);
  g_free (x);
  peac_model_free (m);
}

static void
test_layer (void)
{
  PeacModel *m = make ();
  char err[256];
  float *x = input (1, 64, 64);
  Grab g = { "blocks.1", NULL, 0 };
  float full[16 * 32], pf[32];
  g_assert_cmpint (peac_model_forward (m, x, 1, 64, 64, full, pf, grab, &g, err, sizeof err), ==, 0);
  g_assert_cmpuint (g.n, ==, 17 * 32);
  // Final norm applied to block 1's tokens by hand.
  PeacParams *p = peac_model_params (m);
  const float *nw = peac_params_find (p, "norm.weight")->data, *nb = peac_params_find (p, "norm.bias")->data;
  float normed[17 * 32];
  op_layernorm_forward (normed, NULL, NULL, g.copy, nw, nb, 17, 32, 1e-6f);
  PeacForwardOptions o = { 0, 1 };
  float f[16 * 32], pool[32];
  g_assert_cmpint (peac_model_forward_ex (m, &o, x, 1, 64, 64, f, pool, NULL, NULL, err, sizeof err),
                   ==, 0);
  g_assert_cmpfloat (max_diff (f, normed + 32, 16 * 32), <, 1e-5);
  g_assert_cmpfloat (max_diff (pool, normed, 32), <, 1e-5);
  g_assert_cmpfloat (max_diff (f, full, 16 * 32), >, 1e-3); // block 1 ≠ block 2
  o.layer = 3;
  g_assert_cmpint (peac_model_forward_ex (m, &o, x, 1, 64, 64, f, pool, NULL, NULL, err, sizeof err),
                   ==, -1);
  g_assert_nonnull (strstr (err, "layer 3"));
  g_free (g.copy);
  g_free (x);
  peac_model_free (m);
}

static void
test_other_grid (void)
{
  PeacModel *m = make ();
  char err[256];
  // 96×80 input: 6×5 grid instead of the configured 4×4; stride 8 on 64: 7×7.
  int gh, gw, D;
  peac_model_output_shape (m, 96, 80, &gh, &gw, &D);
  g_assert_cmpint (gh, ==, 6);
  g_assert_cmpint (gw, ==, 5);
  PeacForwardOptions o = { 8, -1 };
  peac_model_output_shape_ex (m, &o, 64, 64, &gh, &gw, &D);
  g_assert_cmpint (gh, ==, 7);
  float *x = input (1, 96, 80);
  Grab g = { "patch_embed", NULL, 0 }, g0 = { "blocks.0.norm1", NULL, 0 };
  float f[30 * 32], p[32];
  g_assert_cmpint (peac_model_forward (m, x, 1, 96, 80, f, p, grab, &g, err, sizeof err), ==, 0);
  g_assert_cmpint (peac_model_forward (m, x, 1, 96, 80, f, p, grab, &g0, err, sizeof err), ==, 0);
  g_assert_cmpuint (g.n, ==, 30 * 32);
  // Rebuild block 0's input by hand: cls + pos[0]; patches + bicubic-resampled pos.
  PeacParams *pp = peac_model_params (m);
  const float *pos = peac_params_find (pp, "pos_embed")->data;
  const float *cls = peac_params_find (pp, "cls_token")->data;
  float rpos[31 * 32], x0[31 * 32], ln[31 * 32];
  op_pos_embed_resample (rpos, pos, 1, 4, 4, 6, 5, 32);
  for (int d = 0; d < 32; d++)
    x0[d] = cls[d] + rpos[d];
  for (int i = 0; i < 30 * 32; i++)
    x0[32 + i] = g.copy[i] + rpos[32 + i];
  op_layernorm_forward (ln, NULL, NULL, x0, peac_params_find (pp, "blocks.0.norm1.weight")->data,
                        peac_params_find (pp, "blocks.0.norm1.bias")->data, 31, 32, 1e-6f);
  g_assert_cmpfloat (max_diff (ln, g0.copy, 31 * 32), <, 1e-5);
  // Stride larger than the patch is refused.
  o.stride = 32;
  g_assert_cmpint (peac_model_forward_ex (m, &o, x, 1, 64, 64, f, p, NULL, NULL, err, sizeof err),
                   ==, -1);
  g_free (g.copy), g_free (g0.copy), g_free (x);
  peac_model_free (m);
}

static void
test_flops (void)
{
  char err[256];
  PeacModel *m = peac_model_new (PEAC_ARCH_VIT, "timm", "{}", 1, err, sizeof err); // ViT-B/16
  g_assert_nonnull (m);
  // 196·768·768·2 + 12·(197·768·2304·2 + 2·197²·768·2 + 197·768²·2 + 2·197·768·3072·2)
  double want = 196.0 * 768 * 768 * 2
                + 12 * (197.0 * 768 * 2304 * 2 + 2.0 * 197 * 197 * 768 * 2 + 197.0 * 768 * 768 * 2
                        + 2.0 * 197 * 768 * 3072 * 2);
  g_assert_cmpfloat (fabs (peac_model_flops (m, 224, 224) - want), <, 1.0);
  g_assert_cmpfloat (want / 1e9, >, 35.0);
  g_assert_cmpint (peac_params_find (peac_model_params (m), "pos_embed")->shape[1], ==, 197);
  // timm's vit_base_patch16_224 with num_classes=0 has 85,798,656 parameters.
  size_t count = 0;
  for (int i = 0; i < peac_model_params (m)->n; i++)
    count += peac_model_params (m)->list[i].numel;
  g_assert_cmpuint (count, ==, 85798656);
  peac_model_free (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_threads_set (2);
  g_test_add_func ("/vit/fused-equals-observed", test_fused_equals_observed);
  g_test_add_func ("/vit/layer", test_layer);
  g_test_add_func ("/vit/other-grid", test_other_grid);
  g_test_add_func ("/vit/flops", test_flops);
  return g_test_run ();
}
