// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-finetune: the downstream-transfer engine. ROC AUC against a case computed by hand
// (with ties) and its ROC curve; the bootstrap interval around the mean AUC; the linear
// probe on synthetic embeddings with a planted linear rule (held-out AUC > 0.99); label
// CSVs (quoted fields, split column, automatic class columns) and their errors naming the
// line and column; seeded label-fraction subsets; and a short end-to-end fine-tune of a
// micro ViT on shared NIH radiographs that saves, reloads and predicts the same scores.
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "auc.h"
#include "finetune.h"
#include "model.h"
#include "peac-test-cli.h"
#include "preprocess.h"
#include "px-image.h"
#include "px-labels.h"
#include "rng.h"

// g_ptr_array_sort hands its function pointers to the elements, not the strings.
static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

// Positives {0.9, 0.5, 0.5, 0.05}, negatives {0.5, 0.4, 0.3, 0.1}: of the 16
// (positive, negative) pairs, 0.9 wins 4; each 0.5 beats 0.4, 0.3, 0.1 and ties the
// negative 0.5 (½): 3.5 + 3.5; 0.05 wins none. AUC = (4 + 3.5 + 3.5 + 0) / 16 = 11/16.
static const float tie_score[8] = { 0.9f, 0.5f, 0.5f, 0.05f, 0.5f, 0.4f, 0.3f, 0.1f };
static const float tie_label[8] = { 1, 1, 1, 1, 0, 0, 0, 0 };

static void
test_auc_ties (void)
{
  g_assert_cmpfloat (peac_auc (tie_score, 1, tie_label, 1, 8), ==, 0.6875);
  // Order of the rows does not matter; scores negated turn the AUC into 1 − AUC.
  float s[8], l[8], neg[8];
  for (int i = 0; i < 8; i++)
    s[i] = tie_score[7 - i], l[i] = tie_label[7 - i], neg[i] = -tie_score[i];
  g_assert_cmpfloat (peac_auc (s, 1, l, 1, 8), ==, 0.6875);
  g_assert_cmpfloat (peac_auc (neg, 1, tie_label, 1, 8), ==, 0.3125);
  // One outcome only: undefined.
  float ones[4] = { 1, 1, 1, 1 };
  g_assert_true (isnan (peac_auc (tie_score, 1, ones, 1, 4)));
}

// Thresholds 0.9, 0.5 (two positives, one negative), 0.4, 0.3, 0.1, 0.05.
static void
test_roc_curve (void)
{
  float fpr[9], tpr[9], thr[9];
  int m = peac_roc_curve (tie_score, 1, tie_label, 1, 8, fpr, tpr, thr);
  g_assert_cmpint (m, ==, 7);
  const float efpr[7] = { 0, 0, 0.25f, 0.5f, 0.75f, 1, 1 };
  const float etpr[7] = { 0, 0.25f, 0.75f, 0.75f, 0.75f, 0.75f, 1 };
  const float ethr[7] = { INFINITY, 0.9f, 0.5f, 0.4f, 0.3f, 0.1f, 0.05f };
  double area = 0;
  for (int i = 0; i < m; i++)
    {
      g_assert_cmpfloat (fpr[i], ==, efpr[i]);
      g_assert_cmpfloat (tpr[i], ==, etpr[i]);
      g_assert_cmpfloat (thr[i], ==, ethr[i]);
      if (i)
        area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
    }
  // The trapezoidal area under the curve is the AUC.
  g_assert_cmpfloat_with_epsilon (area, 0.6875, 1e-7);
}

static void
test_auc_multi_bootstrap (void)
{
  // Two classes as columns of [8, 2]: the tie case and its perfect version.
  float s[16], l[16];
  for (int i = 0; i < 8; i++)
    {
      s[2 * i] = tie_score[i], l[2 * i] = tie_label[i];
      s[2 * i + 1] = tie_label[i] + 0.01f * i, l[2 * i + 1] = tie_label[i];
    }
  double auc[2];
  double mean = peac_auc_multi (s, l, 8, 2, auc);
  g_assert_cmpfloat (auc[0], ==, 0.6875);
  g_assert_cmpfloat (auc[1], ==, 1.0);
  g_assert_cmpfloat (mean, ==, (0.6875 + 1.0) / 2);
  double lo, hi, lo2, hi2;
  int m = peac_auc_bootstrap (s, l, 8, 2, 500, 0.95, 7, &lo, &hi);
  g_assert_cmpint (m, >, 400);   // a few resamples miss one outcome in both classes
  g_assert_cmpfloat (lo, <, mean);
  g_assert_cmpfloat (hi, >=, mean);
  g_assert_cmpfloat (hi, <=, 1.0);
  g_assert_cmpfloat (lo, >=, 0.25);
  // Same seed, same interval.
  peac_auc_bootstrap (s, l, 8, 2, 500, 0.95, 7, &lo2, &hi2);
  g_assert_cmpfloat (lo, ==, lo2);
  g_assert_cmpfloat (hi, ==, hi2);
}

// Embeddings x ~ N(0, 1)^D shifted by 3; class k is positive when x·u_k > 0 for
// fixed random directions u_k (a planted linear rule), with 2 % label noise.
static void
planted (PeacRng *r, const float *u, int n, int D, int K, float *x, float *y)
{
  for (int i = 0; i < n; i++)
    {
      for (int d = 0; d < D; d++)
        x[(size_t) i * D + d] = (float) peac_rng_normal (r) + 3.0f;
      for (int k = 0; k < K; k++)
        {
          double s = 0;
          for (int d = 0; d < D; d++)
            s += (x[(size_t) i * D + d] - 3.0) * u[(size_t) k * D + d];
          int pos = s > 0;
          if (peac_rng_uniform (r) < 0.02)
            pos = !pos;
          y[(size_t) i * K + k] = (float) pos;
        }
    }
}

typedef struct {
  int calls, last_epoch;
} ProbeLog;

static void
probe_cb (void *user, const PeacFtProgress *p)
{
  ProbeLog *l = user;
  l->calls++;
  g_assert_cmpint (p->epoch, ==, l->last_epoch + 1);
  l->last_epoch = p->epoch;
  g_assert_true (isfinite (p->train_loss));
}

static void
test_probe_planted (void)
{
  enum { D = 32, K = 3, NTR = 600, NVA = 200, NTE = 400 };
  PeacRng r;
  peac_rng_seed (&r, 11);
  float *u = g_new (float, K * D);
  for (int i = 0; i < K * D; i++)
    u[i] = (float) peac_rng_normal (&r);
  float *xtr = g_new (float, NTR * D), *ytr = g_new (float, NTR * K);
  float *xva = g_new (float, NVA * D), *yva = g_new (float, NVA * K);
  float *xte = g_new (float, NTE * D), *yte = g_new (float, NTE * K);
  float *prob = g_new (float, NTE * K);
  planted (&r, u, NTR, D, K, xtr, ytr);
  planted (&r, u, NVA, D, K, xva, yva);
  planted (&r, u, NTE, D, K, xte, yte);

  // Without training (zero weights) every score ties: AUC ½ — the probe must learn.
  PeacHead h;
  g_assert_cmpint (peac_head_init (&h, D, K), ==, 0);
  peac_head_prior (&h, ytr, NTR);
  peac_head_predict (&h, xte, NTE, prob);
  g_assert_cmpfloat (peac_auc_multi (prob, yte, NTE, K, NULL), ==, 0.5);

  PeacProbeConfig c;
  peac_probe_defaults (&c);
  c.epochs = 40;
  ProbeLog log = { 0 };
  double best = 0;
  char err[256];
  g_assert_cmpint (peac_probe_train (&h, &c, xtr, ytr, NTR, xva, yva, NVA, probe_cb, &log,
                                     NULL, &best, err, sizeof err), ==, 0);
  g_assert_cmpint (log.calls, >=, 1);
  g_assert_cmpfloat (best, >, 0.95);
  peac_head_predict (&h, xte, NTE, prob);
  double auc[K];
  double mean = peac_auc_multi (prob, yte, NTE, K, auc);
  g_test_message ("planted rule: held-out mean AUC %.4f (%.4f %.4f %.4f), best val %.4f, "
                  "%d epochs", mean, auc[0], auc[1], auc[2], best, log.calls);
  // 2 % flipped labels cap the attainable AUC near 0.98; the ranking of the clean part
  // must be nearly perfect.
  g_assert_cmpfloat (mean, >, 0.96);

  // Without label noise the rule is exactly linear: AUC > 0.99.
  for (int i = 0; i < NTE; i++)
    for (int k = 0; k < K; k++)
      {
        double s = 0;
        for (int d = 0; d < D; d++)
          s += (xte[i * D + d] - 3.0) * u[k * D + d];
        yte[i * K + k] = s > 0;
      }
  mean = peac_auc_multi (prob, yte, NTE, K, NULL);
  g_test_message ("planted rule, clean held-out labels: mean AUC %.4f", mean);
  g_assert_cmpfloat (mean, >, 0.99);

  // An abort flag raised before the first epoch stops it at once.
  atomic_int stop = 1;
  g_assert_cmpint (peac_probe_train (&h, &c, xtr, ytr, NTR, xva, yva, NVA, NULL, NULL, &stop,
                                     NULL, err, sizeof err), ==, 1);
  peac_head_free (&h);
  g_free (u), g_free (xtr), g_free (ytr), g_free (xva), g_free (yva), g_free (xte);
  g_free (yte), g_free (prob);
}

static const char csv_ok[] =
  "id,image,patient_id,official_split,Mass,\"Nodule\",note,width\r\n"
  "1,a.png,007,train,0,1,\"first, quoted \"\"note\"\"\",512\r\n"
  "2,b.png,008,val,1,0,x,512\n"
  "\n"
  "3,\"c,d.png\",009,train,1,1,\"two\nlines\",1\n"
  "4,e.png,010,test,0,0,y,0\n";

static void
test_labels_parse (void)
{
  PeacLabels l;
  char err[256];
  // Automatic classes: Mass and Nodule (width holds 512, ids and the split are skipped).
  g_assert_cmpint (peac_labels_parse (&l, csv_ok, "t.csv", NULL, NULL, NULL, err, sizeof err),
                   ==, 0);
  g_assert_cmpint (l.n, ==, 4);
  g_assert_cmpint (l.k, ==, 2);
  g_assert_cmpstr (l.names[0], ==, "Mass");
  g_assert_cmpstr (l.names[1], ==, "Nodule");
  g_assert_cmpstr (l.paths[2], ==, "c,d.png");
  g_assert_cmpint (l.line[0], ==, 2);
  g_assert_cmpint (l.line[2], ==, 5);
  g_assert_cmpint (l.line[3], ==, 7);   // the quoted field spans lines 5 and 6
  const float y[8] = { 0, 1, 1, 0, 1, 1, 0, 0 };
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat (l.y[i], ==, y[i]);
  peac_labels_free (&l);

  // The split column picks rows; named classes in the given order.
  g_assert_cmpint (peac_labels_parse (&l, csv_ok, "t.csv", "image", "nodule,MASS", "train",
                                      err, sizeof err), ==, 0);
  g_assert_cmpint (l.n, ==, 2);
  g_assert_cmpstr (l.paths[0], ==, "a.png");
  g_assert_cmpstr (l.names[0], ==, "Nodule");
  g_assert_cmpfloat (l.y[0], ==, 1);
  g_assert_cmpfloat (l.y[1], ==, 0);
  peac_labels_free (&l);
  g_assert_cmpint (peac_labels_parse (&l, csv_ok, "t.csv", NULL, "Mass", "val", err,
                                      sizeof err), ==, 0);
  g_assert_cmpint (l.n, ==, 1);
  g_assert_cmpstr (l.paths[0], ==, "b.png");
  peac_labels_free (&l);

  // Errors name the file, the line and the column.
  g_assert_cmpint (peac_labels_parse (&l, csv_ok, "t.csv", NULL, "Mass,Cardiomegaly", NULL,
                                      err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "t.csv: unknown label column 'Cardiomegaly'"));
  g_assert_cmpint (peac_labels_parse (&l, csv_ok, "t.csv", NULL, "width", NULL, err,
                                      sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "t.csv:2: column 'width' is '512', not 0 or 1"));
  g_assert_cmpint (peac_labels_parse (&l, "image,tb\nx.png,1\ny.png,2\n", "s.csv", NULL, "tb",
                                      NULL, err, sizeof err), ==, -1);
  g_assert_cmpstr (err, ==, "s.csv:3: column 'tb' is '2', not 0 or 1");
  g_assert_cmpint (peac_labels_parse (&l, "image,tb\nx.png,1\n,0\n", "s.csv", NULL, NULL,
                                      NULL, err, sizeof err), ==, -1);
  g_assert_cmpstr (err, ==, "s.csv:3: empty image path in column 'image'");
  g_assert_cmpint (peac_labels_parse (&l, "name,tb\nx.png,1\n", "s.csv", NULL, NULL, NULL, err,
                                      sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "s.csv: no image column"));
  g_assert_cmpint (peac_labels_parse (&l, "image,tb\nx.png,1,3\n", "s.csv", NULL, NULL, NULL,
                                      err, sizeof err), ==, -1);
  g_assert_cmpstr (err, ==, "s.csv:2: 3 fields where the header has 2");
  g_assert_cmpint (peac_labels_parse (&l, "image,tb\n\"x.png,1\n", "s.csv", NULL, NULL, NULL,
                                      err, sizeof err), ==, -1);
  g_assert_cmpstr (err, ==, "s.csv:2: a quoted field is not closed before the end of the file");
  // A spreadsheet's byte-order mark does not hide the image column.
  g_assert_cmpint (peac_labels_parse (&l, "\xEF\xBB\xBFimage,tb\nx.png,1\n", "b.csv", NULL, NULL,
                                      NULL, err, sizeof err), ==, 0);
  g_assert_cmpstr (l.paths[0], ==, "x.png");
  peac_labels_free (&l);
  g_assert_cmpint (peac_labels_parse (&l, "", "e.csv", NULL, NULL, NULL, err, sizeof err), ==,
                   -1);
  g_assert_cmpstr (err, ==, "e.csv: empty file: no header line");
}

static void
test_labels_subset (void)
{
  int a[100], b[100], c[100];
  int n = peac_labels_subset (100, 0.25, 3, a);
  g_assert_cmpint (n, ==, 25);
  g_assert_cmpint (peac_labels_subset (100, 0.25, 3, b), ==, 25);
  g_assert_cmpint (memcmp (a, b, sizeof (int) * 25), ==, 0);
  for (int i = 1; i < n; i++)
    g_assert_cmpint (a[i], >, a[i - 1]);
  // Another seed, another subset; fraction 1 keeps every row; a tiny one keeps one.
  peac_labels_subset (100, 0.25, 4, c);
  g_assert_cmpint (memcmp (a, c, sizeof (int) * 25), !=, 0);
  g_assert_cmpint (peac_labels_subset (100, 1.0, 3, c), ==, 100);
  g_assert_cmpint (c[99], ==, 99);
  g_assert_cmpint (peac_labels_subset (100, 0.001, 3, c), ==, 1);
}

// The augmentation with no crop, no rotation and a square image is the identity
// resampling: every output pixel equals the normalised input pixel.
static void
test_aug_identity (void)
{
  enum { S = 16 };
  float g[S * S], out[3 * S * S];
  for (int i = 0; i < S * S; i++)
    g[i] = (float) (i % 7) / 7.0f;
  PeacAugConfig a = { 1.0, 1.0, 0.0, 0 };
  PeacRng r;
  peac_rng_seed (&r, 1);
  peac_aug_view (g, S, S, S, 0.5f, 0.25f, &a, &r, out);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < S * S; i++)
      g_assert_cmpfloat_with_epsilon (out[c * S * S + i], (g[i] - 0.5f) / 0.25f, 1e-5);
  // The default augmentation changes the view and stays inside the value range.
  peac_aug_defaults (&a);
  peac_aug_view (g, S, S, S, 0.5f, 0.25f, &a, &r, out);
  int differ = 0;
  for (int i = 0; i < S * S; i++)
    {
      differ += fabsf (out[i] - (g[i] - 0.5f) / 0.25f) > 1e-3f;
      g_assert_cmpfloat (out[i], >=, -2.0f - 1e-5f);
      g_assert_cmpfloat (out[i], <=, (6.0f / 7.0f - 0.5f) / 0.25f + 1e-5f);
    }
  g_assert_cmpint (differ, >, S * S / 4);
}

// Micro ViT at 64 px (patch 16, width 32, 1 block), fine-tuned end to end for two
// epochs on 8 NIH radiographs with a made-up label, validated on 4: it runs, its weights
// move, and the saved file reloads to the same validation scores.
static void
test_finetune_micro_nih (void)
{
  // A missing folder fails the test, naming it (peac_test_shared_path).
  g_autofree char *dir = peac_test_shared_path ("cxr/nih-more/png_512");
  enum { NTR = 8, NVA = 4, N = NTR + NVA, S = 64, K = 2 };
  g_autoptr (GDir) gd = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (gd);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *nm;
  while ((nm = g_dir_read_name (gd)))
    g_ptr_array_add (names, g_strdup (nm));
  g_ptr_array_sort (names, compare_names);
  g_assert_cmpuint (names->len, >=, N);

  char err[512];
  PeacModel *m = peac_model_new (PEAC_ARCH_VIT, "timm",
    "{\"img_size\": 64, \"patch_size\": 16, \"embed_dim\": 32, \"depth\": 1, \"num_heads\": 2}",
    5, err, sizeof err);
  g_assert_nonnull (m);
  PeacGrey tr[NTR];
  float ytr[NTR * K], yva[NVA * K];
  float *val = g_new (float, NVA * 3 * S * S);
  PeacPreprocess pp = { S, PEAC_MEAN, PEAC_STD, 1 };
  for (int i = 0; i < N; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      GError *e = NULL;
      PxImage *img = px_image_load (path, &e);
      g_assert_no_error (e);
      float *unit = g_new (float, (size_t) img->width * img->height);
      px_image_to_unit (img, unit);
      float *lab = i < NTR ? ytr + i * K : yva + (i - NTR) * K;
      lab[0] = (float) (i % 2), lab[1] = (float) ((i / 2) % 2);
      if (i < NTR)
        {
          tr[i].px = peac_aug_prepare (unit, img->width, img->height, S, &tr[i].w, &tr[i].h);
          g_assert_nonnull (tr[i].px);
          g_assert_cmpint (MIN (tr[i].w, tr[i].h), ==, 74);   // round(1.15 · 64)
        }
      else
        g_assert_cmpint (peac_preprocess (unit, img->width, img->height, &pp,
                                          val + (size_t) (i - NTR) * 3 * S * S), ==, 0);
      g_free (unit);
      px_image_free (img);
    }
  PeacParams *p = peac_model_params (m);
  float *before = g_memdup2 (p->memory, p->total * sizeof (float));

  PeacFinetuneConfig c;
  peac_finetune_defaults (&c);
  c.size = 0;
  c.opt.epochs = 2, c.opt.batch = 4, c.opt.patience = 0, c.opt.seed = 1;
  c.backbone_lr = 1e-3, c.opt.lr = 1e-2;
  PeacHead h;
  g_assert_cmpint (peac_head_init (&h, 32, K), ==, 0);
  ProbeLog log = { 0 };
  double best;
  int rc = peac_finetune_model (m, &h, &c, tr, ytr, NTR, val, yva, NVA, probe_cb, &log, NULL,
                                &best, err, sizeof err);
  if (rc != 0)
    g_test_message ("%s", err);
  g_assert_cmpint (rc, ==, 0);
  g_assert_cmpint (log.calls, ==, 2);
  size_t moved = 0;
  for (size_t i = 0; i < p->total; i++)
    moved += p->memory[i] != before[i];
  g_assert_cmpuint (moved, >, p->total / 2);

  // Scores of the fine-tuned model in memory.
  float pooled[NVA * 32], prob[NVA * K], prob2[NVA * K], pooled2[NVA * 32];
  g_assert_cmpint (peac_model_forward (m, val, NVA, S, S, NULL, pooled, NULL, NULL, err,
                                       sizeof err), ==, 0);
  peac_head_predict (&h, pooled, NVA, prob);
  for (int i = 0; i < NVA * K; i++)
    g_assert_true (prob[i] > 0 && prob[i] < 1);

  g_autofree char *tmp = g_dir_make_tmp ("test-finetune-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (tmp, "ft.safetensors", NULL);
  const char *classes[K] = { "odd", "pair" };
  g_assert_cmpint (peac_finetune_save (out, m, &h, classes, "{\"mode\": \"full\"}", err,
                                       sizeof err), ==, 0);
  char warn[512] = "";
  PeacModel *m2 = peac_model_load_ex (out, NULL, warn, sizeof warn, err, sizeof err);
  g_assert_nonnull (m2);
  g_assert_nonnull (strstr (warn, "head.weight"));   // the backbone loader ignores the head
  PeacHead h2;
  char **cls2;
  g_assert_cmpint (peac_finetune_load_head (out, &h2, &cls2, err, sizeof err), ==, 0);
  g_assert_cmpint (h2.k, ==, K);
  g_assert_cmpint (h2.dim, ==, 32);
  g_assert_cmpstr (cls2[0], ==, "odd");
  g_assert_cmpstr (cls2[1], ==, "pair");
  g_assert_cmpint (peac_model_forward (m2, val, NVA, S, S, NULL, pooled2, NULL, NULL, err,
                                       sizeof err), ==, 0);
  peac_head_predict (&h2, pooled2, NVA, prob2);
  for (int i = 0; i < NVA * K; i++)
    g_assert_cmpfloat (prob2[i], ==, prob[i]);   // F32 file: bit-equal
  // A plain backbone file has no head: the error names it.
  g_autofree char *plain = g_build_filename (tmp, "plain.safetensors", NULL);
  g_assert_cmpint (peac_model_save (m2, plain, err, sizeof err), ==, 0);
  PeacHead h3;
  g_assert_cmpint (peac_finetune_load_head (plain, &h3, NULL, err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "plain.safetensors: no head.weight"));

  g_strfreev (cls2);
  peac_head_free (&h), peac_head_free (&h2);
  peac_model_free (m), peac_model_free (m2);
  g_unlink (out), g_unlink (plain), g_rmdir (tmp);
  for (int i = 0; i < NTR; i++)
    g_free ((float *) tr[i].px);
  g_free (val), g_free (before);
  g_ptr_array_unref (names);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/finetune/auc-ties", test_auc_ties);
  g_test_add_func ("/finetune/roc-curve", test_roc_curve);
  g_test_add_func ("/finetune/auc-multi-bootstrap", test_auc_multi_bootstrap);
  g_test_add_func ("/finetune/probe-planted", test_probe_planted);
  g_test_add_func ("/finetune/labels-parse", test_labels_parse);
  g_test_add_func ("/finetune/labels-subset", test_labels_subset);
  g_test_add_func ("/finetune/aug-identity", test_aug_identity);
  g_test_add_func ("/finetune/micro-nih", test_finetune_micro_nih);
  return g_test_run ();
}
