// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-backbone: the backbone table (backbone.h) and the model-level trainer that runs
// through it (model.h). Every row is complete and found by its `peac.arch` name and id;
// an unknown name is refused with the known ones listed; for a small ViT and a small Swin
// (both Swin layouts) the trainer's grid and pooled vector equal the inference forward's
// (vit.c / swin.c, written separately from the trainers), and the gradient of a loss on
// the pooled vector alone (ViT: class token; Swin: token mean spread over the grid)
// matches central finite differences of the inference forward along a random direction of
// every parameter tensor. Finally a small Swin is fine-tuned end to end
// (peac_finetune_model) on synthetic images with a planted label: the training loss falls.
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "backbone.h"
#include "checkpoint.h"
#include "finetune.h"
#include "model.h"
#include "ops.h"
#include "presets.h"

#define SWIN_CFG "{\"img_size\": 32, \"patch_size\": 2, \"embed_dim\": 8, \"depths\": [2, 2], " \
                 "\"num_heads\": [1, 2], \"window_size\": 4, \"mlp_ratio\": 2.0}"
#define VIT_CFG "{\"img_size\": 32, \"patch_size\": 8, \"embed_dim\": 16, \"depth\": 2, " \
                "\"num_heads\": 2}"

static void
test_registry (void)
{
  int n = 0;
  for (const PeacBackbone *const *r = peac_backbones (); *r; r++, n++)
    {
      const PeacBackbone *b = *r;
      g_assert_true (peac_backbone_find (b->name) == b);
      g_assert_true (peac_backbone_of (b->arch) == b);
      g_assert_nonnull (b->label);
      g_assert_nonnull (b->layouts[0]);
      g_assert_true (b->describe && b->create && b->destroy && b->params && b->img_size && b->output_shape
                     && b->flops && b->forward && b->train_new && b->train_free
                     && b->train_forward && b->train_backward);
    }
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpint (peac_backbone_find ("vit")->arch, ==, PEAC_ARCH_VIT);
  g_assert_cmpint (peac_backbone_find ("swin")->arch, ==, PEAC_ARCH_SWIN);
  g_assert_cmpstr (peac_backbone_find ("swin")->layouts[0], ==, "microsoft");
  g_assert_null (peac_backbone_find ("convnext"));
  g_assert_null (peac_backbone_find (NULL));

  // A checkpoint naming an unknown architecture: refused, the known ones listed.
  g_autofree char *dir = g_dir_make_tmp ("test-backbone-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "odd.safetensors", NULL);
  char err[512];
  float one = 1;
  int64_t shape = 1;
  PeacStWrite t = { "x", 1, &shape, &one, PEAC_DT_F32 };
  const char *meta[] = { "peac.arch", "convnext", "peac.config", "{}", NULL };
  g_assert_cmpint (peac_st_write (path, &t, 1, meta, err, sizeof err), ==, 0);
  g_assert_null (peac_model_load (path, err, sizeof err));
  g_assert_nonnull (strstr (err, "unknown peac.arch 'convnext' (known: 'vit', 'swin')"));
  g_unlink (path);
  g_rmdir (dir);
  // A layout the row does not list.
  g_assert_null (peac_model_new (PEAC_ARCH_SWIN, "keras", SWIN_CFG, 1, err, sizeof err));
  g_assert_nonnull (strstr (err, "Swin layout 'keras' is not supported ('microsoft', 'timm')"));
}

typedef struct {
  PeacArch    arch;
  const char *layout, *cfg;
} Case;

static const Case cases[] = {
  { PEAC_ARCH_VIT, "timm", VIT_CFG },
  { PEAC_ARCH_SWIN, "microsoft", SWIN_CFG },
  { PEAC_ARCH_SWIN, "timm", SWIN_CFG },
};

enum { B = 2, S = 32 };

// A configuration read without building the model: its grid and width are the built
// model's; its canonical text describes itself again and builds the same parameter table.
static void
test_describe (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const PeacBackbone *b = peac_backbone_of (cases[i].arch);
      char err[256];
      PeacModelSpec s, again;
      g_assert_cmpint (peac_model_spec_parse (&s, b->name, cases[i].cfg, err, sizeof err), ==, 0);
      PeacModel *m = peac_model_new (cases[i].arch, cases[i].layout, cases[i].cfg, 1, err,
                                     sizeof err);
      PeacModel *c = peac_model_new (cases[i].arch, cases[i].layout, s.config, 1, err,
                                     sizeof err);
      int gh, gw, dim;
      peac_model_output_shape (m, s.img_size, s.img_size, &gh, &gw, &dim);
      g_assert_cmpint (s.img_size, ==, peac_model_img_size (m));
      g_assert_cmpint (s.grid, ==, gh);
      g_assert_cmpint (s.grid, ==, gw);
      g_assert_cmpint (s.dim, ==, dim);
      g_assert_cmpint (s.cell * s.grid, ==, s.img_size);
      g_assert_cmpuint (peac_model_params (c)->total, ==, peac_model_params (m)->total);
      g_assert_cmpint (peac_model_spec_parse (&again, b->name, s.config, err, sizeof err), ==, 0);
      g_assert_cmpstr (again.config, ==, s.config);
      peac_model_free (m), peac_model_free (c);
    }
  char err[256];
  PeacModelSpec s;
  g_assert_cmpint (peac_model_spec_parse (&s, "convnext", "{}", err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "vit, swin"));
}

// The presets: unique names, each resolves; geometry derived by hand from the definitions
// (ViT: img / patch; Swin: img / (patch · 2^(stages − 1)), width embed · 2^(stages − 1)).
static void
test_presets (void)
{
  const struct { const char *name; int img, grid, cell, dim; } want[] = {
    { "micro", 32, 4, 8, 32 }, { "mini", 224, 14, 16, 64 }, { "tiny", 224, 14, 16, 192 },
    { "small", 224, 14, 16, 384 }, { "base", 224, 14, 16, 768 },
    { "swin-micro", 32, 4, 8, 32 }, { "swin-tiny", 224, 7, 32, 768 },
    { "swin-base", 448, 14, 32, 1024 },
  };
  int n = 0;
  for (const PeacPreset *const *p = peac_presets (); *p; p++, n++)
    {
      g_assert_true (peac_preset_find ((*p)->name) == *p);
      g_assert_nonnull (peac_backbone_find ((*p)->arch));
      char names[256];
      peac_preset_names (names, sizeof names);
      g_assert_nonnull (strstr (names, (*p)->name));
    }
  g_assert_cmpint (n, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      PeacModelSpec s;
      char err[256];
      g_assert_cmpint (peac_preset_resolve (&s, want[i].name, NULL, err, sizeof err), ==, 0);
      g_assert_cmpint (s.img_size, ==, want[i].img);
      g_assert_cmpint (s.grid, ==, want[i].grid);
      g_assert_cmpint (s.cell, ==, want[i].cell);
      g_assert_cmpint (s.dim, ==, want[i].dim);
    }
  // The caller's keys win; an unknown preset or a non-object is refused by name.
  PeacModelSpec s;
  char err[256];
  g_assert_cmpint (peac_preset_resolve (&s, "swin-tiny", "{\"img_size\": 448}", err,
                                        sizeof err), ==, 0);
  g_assert_cmpint (s.grid, ==, 14);
  g_assert_cmpint (peac_preset_resolve (&s, NULL, NULL, err, sizeof err), ==, 0);
  g_assert_cmpint (s.dim, ==, 192); // the default: tiny
  g_assert_cmpint (peac_preset_resolve (&s, "huge", NULL, err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "'huge' is not a preset (micro, mini, tiny"));
  g_assert_cmpint (peac_preset_resolve (&s, "micro", "[1]", err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "not a JSON object"));
}

static PeacModel *
random_model (const Case *c, GRand *r)
{
  char err[256];
  PeacModel *m = peac_model_new (c->arch, c->layout, c->cfg, 3, err, sizeof err);
  g_assert_nonnull (m);
  // Perturb the timm-like init (zero biases, unit norms) so that no term hides.
  PeacParams *p = peac_model_params (m);
  for (size_t i = 0; i < p->total; i++)
    p->memory[i] += (float) g_rand_double_range (r, -0.1, 0.1);
  return m;
}

static double
pooled_loss (PeacModel *m, const float *x, const float *R, float *pooled, int D)
{
  char err[256];
  g_assert_cmpint (peac_model_forward (m, x, B, S, S, NULL, pooled, NULL, NULL, err,
                                       sizeof err), ==, 0);
  double L = 0;
  for (int i = 0; i < B * D; i++)
    L += (double) pooled[i] * R[i];
  return L;
}

static void
test_trainer (gconstpointer data)
{
  const Case *c = data;
  GRand *r = g_rand_new_with_seed (11);
  PeacModel *m = random_model (c, r);
  char err[256];
  int gh, gw, D;
  peac_model_output_shape (m, S, S, &gh, &gw, &D);
  const size_t nin = (size_t) B * 3 * S * S, ng = (size_t) B * gh * gw * D;
  float *x = g_new (float, nin), *feat = g_new (float, ng), *pooled = g_new (float, B * D);
  float *R = g_new (float, B * D);
  for (size_t i = 0; i < nin; i++)
    x[i] = (float) g_rand_double_range (r, -1, 1);
  for (int i = 0; i < B * D; i++)
    R[i] = (float) g_rand_double_range (r, -1, 1);
  g_assert_cmpint (peac_model_forward (m, x, B, S, S, feat, pooled, NULL, NULL, err,
                                       sizeof err), ==, 0);
  PeacModelTrain *t = peac_model_train_new (m, B, S, S, err, sizeof err);
  g_assert_nonnull (t);
  const float *tp = NULL, *tg = peac_model_train_forward (t, x, B, &tp);
  double eg = 0, ep = 0;
  for (size_t i = 0; i < ng; i++)
    eg = fmax (eg, fabs (tg[i] - feat[i]));
  for (int i = 0; i < B * D; i++)
    ep = fmax (ep, fabs (tp[i] - pooled[i]));
  g_test_message ("%s/%s: trainer vs inference: grid %.2g, pooled %.2g",
                  peac_model_backbone (m)->label, c->layout, eg, ep);
  g_assert_cmpfloat (eg, <, 1e-5);
  g_assert_cmpfloat (ep, <, 1e-5);

  PeacParams *p = peac_model_params (m);
  float *grads = g_new0 (float, p->total);
  peac_model_train_backward (t, NULL, R, grads, NULL);
  double worst = 0;
  for (int k = 0; k < p->n; k++)
    {
      float *w = p->list[k].data, *keep = g_memdup2 (w, p->list[k].numel * sizeof (float));
      const float *g = grads + p->list[k].offset;
      double an = 0, d[2];
      float *v = g_new (float, p->list[k].numel);
      for (size_t i = 0; i < p->list[k].numel; i++)
        v[i] = (float) g_rand_double_range (r, -1, 1), an += (double) g[i] * v[i];
      // Richardson extrapolation of central differences at h and h/2.
      for (int s = 0; s < 2; s++)
        {
          double h = s ? 5e-3 : 1e-2, l[2];
          for (int sign = 0; sign < 2; sign++)
            {
              for (size_t i = 0; i < p->list[k].numel; i++)
                w[i] = (float) (keep[i] + (sign ? -h : h) * v[i]);
              l[sign] = pooled_loss (m, x, R, pooled, D);
            }
          d[s] = (l[0] - l[1]) / (2 * h);
        }
      memcpy (w, keep, p->list[k].numel * sizeof (float));
      double fd = (4 * d[1] - d[0]) / 3, rel = fabs (fd - an) / fmax (fabs (fd), 1.0);
      worst = fmax (worst, rel);
      if (rel > 5e-3)
        g_test_message ("%s: fd %+.6e analytic %+.6e", p->list[k].name, fd, an);
      g_assert_cmpfloat (rel, <, 5e-3);
      g_free (keep);
      g_free (v);
    }
  g_test_message ("pooled-loss gradient vs finite differences: %d tensors, worst %.2e",
                  p->n, worst);
  peac_model_train_free (t);
  peac_model_free (m);
  g_free (x), g_free (feat), g_free (pooled), g_free (R), g_free (grads);
  g_rand_free (r);
}

typedef struct { double first, last; int calls; } LossLog;

static void
on_epoch (void *user, const PeacFtProgress *p)
{
  LossLog *l = user;
  g_assert_true (isfinite (p->train_loss));
  if (l->calls++ == 0)
    l->first = p->train_loss;
  l->last = p->train_loss;
}

// Synthetic 40×40 grey images with two planted findings that a token mean can see:
// label 0 = a bright 10×10 square somewhere, label 1 = horizontal stripes 4 px apart.
static void
test_finetune_swin (void)
{
  enum { N = 16, W = 40, K = 2 };
  GRand *r = g_rand_new_with_seed (5);
  char err[512];
  PeacModel *m = peac_model_new (PEAC_ARCH_SWIN, "microsoft", SWIN_CFG, 1, err, sizeof err);
  g_assert_nonnull (m);
  PeacGrey tr[N];
  float y[N * K];
  for (int i = 0; i < N; i++)
    {
      float *g = g_new (float, W * W);
      y[i * K] = (float) (i % 2), y[i * K + 1] = (float) ((i / 2) % 2);
      for (int k = 0; k < W * W; k++)
        g[k] = (float) g_rand_double_range (r, 0.2, 0.4)
               + (y[i * K + 1] > 0 && (k / W) % 4 < 2 ? 0.3f : 0.0f);
      if (y[i * K] > 0)
        {
          int r0 = g_rand_int_range (r, 2, 28), c0 = g_rand_int_range (r, 2, 28);
          for (int a = 0; a < 10; a++)
            for (int b = 0; b < 10; b++)
              g[(r0 + a) * W + c0 + b] = 1.0f;
        }
      tr[i] = (PeacGrey) { g, W, W };
    }
  PeacParams *p = peac_model_params (m);
  float *before = g_memdup2 (p->memory, p->total * sizeof (float));
  PeacFinetuneConfig c;
  peac_finetune_defaults (&c);
  c.size = 0;   // the model's 32 px
  c.aug.rotate_deg = 0, c.aug.scale_min = 0.9;
  c.opt.epochs = 12, c.opt.batch = 8, c.opt.patience = 0, c.opt.seed = 2;
  c.backbone_lr = 3e-3, c.opt.lr = 3e-2, c.opt.warmup = 0.05;
  PeacHead h;
  g_assert_cmpint (peac_head_init (&h, 16, K), ==, 0);   // the last stage's width
  LossLog log = { 0 };
  double best;
  int rc = peac_finetune_model (m, &h, &c, tr, y, N, NULL, NULL, 0, on_epoch, &log, NULL,
                                &best, err, sizeof err);
  if (rc != 0)
    g_test_message ("%s", err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_cmpint (log.calls, ==, 12);
  g_test_message ("Swin fine-tune: training loss %.4f → %.4f", log.first, log.last);
  g_assert_cmpfloat (log.last, <, 0.8 * log.first);
  size_t moved = 0;
  for (size_t i = 0; i < p->total; i++)
    moved += p->memory[i] != before[i];
  g_assert_cmpuint (moved, >, p->total / 2);
  peac_head_free (&h);
  for (int i = 0; i < N; i++)
    g_free ((float *) tr[i].px);
  g_free (before);
  peac_model_free (m);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_threads_set (2);
  g_test_add_func ("/backbone/registry", test_registry);
  g_test_add_func ("/backbone/describe", test_describe);
  g_test_add_func ("/backbone/presets", test_presets);
  g_test_add_data_func ("/backbone/trainer/vit", &cases[0], test_trainer);
  g_test_add_data_func ("/backbone/trainer/swin-microsoft", &cases[1], test_trainer);
  g_test_add_data_func ("/backbone/trainer/swin-timm", &cases[2], test_trainer);
  g_test_add_func ("/backbone/finetune-swin", test_finetune_swin);
  return g_test_run ();
}
