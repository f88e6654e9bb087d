// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-swin: the Swin backbone against real timm fixtures in both checkpoint layouts
// (swin_micro = timm ≥ 0.9, swin_micro_ms = Microsoft/SimMIM): every parameter loads
// through swin_canonical_name, and the forward matches out.features, out.pooled and every
// act.* within 1e-4 · max(1, max|ref|). The window geometry (relative position index,
// shifted-window mask, roll + partition, patch-merging order, the no-shift rule) is checked
// against the Microsoft formulas written out again here, independently.
#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "ops.h"
#include "peac-test-cli.h"
#include "swin.h"

// ---- a minimal safetensors reader (F32 tensors only; the Swin fixtures are F32) ----

typedef struct {
  gchar  *buf;
  gsize   len;
  json_t *header;
  size_t  data_off;
} Fixture;

// A missing fixture fails the test, naming it (peac_test_reference_path).
static void
fixture_open (Fixture *f, const char *name)
{
  g_autofree char *path = peac_test_reference_path (name);
  g_autoptr (GError) error = NULL;
  g_file_get_contents (path, &f->buf, &f->len, &error);
  g_assert_no_error (error);
  guint64 n;
  g_assert_cmpuint (f->len, >, 8);
  memcpy (&n, f->buf, 8);
  g_assert_cmpuint (n + 8, <=, f->len);
  f->header = json_loadb (f->buf + 8, n, 0, NULL);
  g_assert_nonnull (f->header);
  f->data_off = 8 + n;
}

static void
fixture_close (Fixture *f)
{
  json_decref (f->header);
  g_free (f->buf);
}

// Returns the F32 data of `name` (NULL if absent) and its shape.
static const float *
fixture_get (const Fixture *f, const char *name, int *ndim, int64_t *shape)
{
  json_t *e = json_object_get (f->header, name);
  if (!e)
    return NULL;
  g_assert_cmpstr (json_string_value (json_object_get (e, "dtype")), ==, "F32");
  json_t *sh = json_object_get (e, "shape"), *off = json_object_get (e, "data_offsets");
  *ndim = (int) json_array_size (sh);
  for (int i = 0; i < *ndim && i < 4; i++)
    shape[i] = json_integer_value (json_array_get (sh, i));
  return (const float *) (f->buf + f->data_off + json_integer_value (json_array_get (off, 0)));
}

static const char *
fixture_meta (const Fixture *f, const char *key)
{
  return json_string_value (json_object_get (json_object_get (f->header, "__metadata__"), key));
}

static float
max_abs (const float *x, size_t n)
{
  float m = 0;
  for (size_t i = 0; i < n; i++)
    m = fmaxf (m, fabsf (x[i]));
  return m;
}

static void
assert_close (const char *what, const float *got, const float *ref, size_t n)
{
  float tol = 1e-4f * fmaxf (1.0f, max_abs (ref, n)), err = 0;
  for (size_t i = 0; i < n; i++)
    err = fmaxf (err, fabsf (got[i] - ref[i]));
  g_test_message ("%s: max|err| %.3g (tol %.3g)", what, err, tol);
  if (!(err <= tol))
    g_error ("%s: max|err| %g exceeds %g", what, err, tol);
}

// ---- fixture parity ----

typedef struct {
  const Fixture *fx;
  int            seen;
} ActCheck;

static void
check_act (void *user, const char *name, const float *data, int ndim, const int64_t *shape)
{
  ActCheck *c = user;
  char key[160];
  snprintf (key, sizeof key, "act.%s", name);
  int rnd;
  int64_t rsh[4];
  const float *ref = fixture_get (c->fx, key, &rnd, rsh);
  if (!ref)
    return;
  g_assert_cmpint (ndim, ==, rnd);
  size_t n = 1;
  for (int i = 0; i < ndim; i++)
    {
      g_assert_cmpint (shape[i], ==, rsh[i]);
      n *= (size_t) shape[i];
    }
  assert_close (key, data, ref, n);
  c->seen++;
}

static void
test_fixture (gconstpointer data)
{
  const char *file = data;
  Fixture fx;
  fixture_open (&fx, file);
  const char *layout = fixture_meta (&fx, "peac.layout");
  g_assert_cmpstr (fixture_meta (&fx, "peac.arch"), ==, "swin");
  SwinConfig cfg;
  char err[256];
  g_assert_cmpint (swin_config_parse (&cfg, fixture_meta (&fx, "peac.config"), err, sizeof err), ==, 0);
  SwinModel *m = swin_create (&cfg, err, sizeof err);
  g_assert_nonnull (m);
  swin_set_layout (m, layout);
  PeacParams *p = swin_params (m);

  // Load: every param.* maps to a table entry of the same shape; every entry is filled.
  int filled = 0;
  const char *key;
  json_t *val;
  json_object_foreach (fx.header, key, val)
    {
      if (!g_str_has_prefix (key, "param."))
        continue;
      char buf[PEAC_NAME_MAX];
      const char *canon = swin_canonical_name (key + 6, layout, buf, sizeof buf);
      g_assert_nonnull (canon);
      PeacParam *e = peac_params_find (p, canon);
      if (!e)
        g_error ("%s → %s: not in the Swin table", key, canon);
      int nd;
      int64_t sh[4];
      const float *src = fixture_get (&fx, key, &nd, sh);
      g_assert_cmpint (nd, ==, e->ndim);
      for (int i = 0; i < nd; i++)
        g_assert_cmpint (sh[i], ==, e->shape[i]);
      memcpy (e->data, src, e->numel * sizeof (float));
      filled++;
    }
  g_assert_cmpint (filled, ==, p->n);

  int nd;
  int64_t ish[4], fsh[4], psh[4];
  const float *input = fixture_get (&fx, "input", &nd, ish);
  const float *rf = fixture_get (&fx, "out.features", &nd, fsh);
  const float *rp = fixture_get (&fx, "out.pooled", &nd, psh);
  int B = (int) ish[0], H = (int) ish[2], W = (int) ish[3], gh, gw, dim;
  swin_output_shape (m, H, W, &gh, &gw, &dim);
  g_assert_cmpint (gh, ==, fsh[1]);
  g_assert_cmpint (gw, ==, fsh[2]);
  g_assert_cmpint (dim, ==, fsh[3]);
  size_t nf = (size_t) B * gh * gw * dim;
  float *features = g_new (float, nf), *pooled = g_new (float, (size_t) B * dim);
  // A larger image first (448: stage grids 112 and 56, windows still tile them) leaves a
  // bigger, dirty workspace behind; the fixture forward below must not depend on it.
  int bgh, bgw, bdim;
  swin_output_shape (m, 448, 448, &bgh, &bgw, &bdim);
  g_assert_cmpint (bgh, ==, 2 * gh);
  size_t nbf = (size_t) bgh * bgw * bdim;
  float *big_in = g_new (float, (size_t) 3 * 448 * 448), *big_f = g_new (float, nbf);
  for (size_t i = 0; i < (size_t) 3 * 448 * 448; i++)
    big_in[i] = input[i % ((size_t) 3 * H * W)];
  g_assert_cmpint (swin_forward (m, big_in, 1, 448, 448, big_f, NULL, NULL, NULL, err, sizeof err), ==, 0);
  g_assert_true (isfinite (big_f[0]) && isfinite (big_f[nbf - 1]));
  g_free (big_in), g_free (big_f);

  ActCheck ac = { &fx, 0 };
  peac_threads_set (2);
  g_assert_cmpint (swin_forward (m, input, B, H, W, features, pooled, check_act, &ac, err,
                                 sizeof err), ==, 0);
  assert_close ("out.features", features, rf, nf);
  assert_close ("out.pooled", pooled, rp, (size_t) B * dim);
  // patch_embed, the two stage outputs, layers.0.blocks.1.attn (shifted), norm.
  g_assert_cmpint (ac.seen, ==, 5);

  // Same result with one thread (the windows × heads split must not change the maths).
  peac_threads_set (1);
  float *f1 = g_new (float, nf);
  g_assert_cmpint (swin_forward (m, input, B, H, W, f1, NULL, NULL, NULL, err, sizeof err), ==, 0);
  assert_close ("features, 1 thread", f1, rf, nf);
  peac_threads_set (0);
  g_free (f1);
  g_free (features);
  g_free (pooled);
  swin_free (m);
  fixture_close (&fx);
}

// ---- geometry against the Microsoft formulas ----

static void
test_stage_window (void)
{
  int wh, ww, sh, sw;
  swin_stage_window (56, 56, 7, &wh, &ww, &sh, &sw);
  g_assert_cmpint (wh, ==, 7); g_assert_cmpint (sh, ==, 3); g_assert_cmpint (sw, ==, 3);
  swin_stage_window (7, 7, 7, &wh, &ww, &sh, &sw);   // resolution = window: no shift
  g_assert_cmpint (wh, ==, 7); g_assert_cmpint (sh, ==, 0); g_assert_cmpint (sw, ==, 0);
  swin_stage_window (4, 14, 7, &wh, &ww, &sh, &sw);  // clamped on one axis only
  g_assert_cmpint (wh, ==, 4); g_assert_cmpint (ww, ==, 7);
  g_assert_cmpint (sh, ==, 0); g_assert_cmpint (sw, ==, 3);
}

static void
test_relative_position_index (void)
{
  for (int w = 2; w <= 7; w += 5)
    {
      int N = w * w, *got = g_new (int, N * N);
      swin_relative_position_index (got, w, w, w);
      // Microsoft: coords = stack(meshgrid(arange(w), arange(w))) flattened [2, N];
      // rel = coords[:, :, None] − coords[:, None, :] permuted to [N, N, 2];
      // rel += w − 1; rel[..., 0] *= 2w − 1; index = rel.sum(−1).
      for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
          {
            int r0 = (i / w - j / w) + w - 1, r1 = (i % w - j % w) + w - 1;
            g_assert_cmpint (got[i * N + j], ==, r0 * (2 * w - 1) + r1);
          }
      // Corners: the diagonal is the table's centre; extremes are rows 0 and (2w − 1)² − 1.
      g_assert_cmpint (got[0], ==, (w - 1) * (2 * w - 1) + w - 1);
      g_assert_cmpint (got[N - 1], ==, 0);
      g_assert_cmpint (got[(N - 1) * N], ==, (2 * w - 1) * (2 * w - 1) - 1);
      g_free (got);
    }
}

static void
test_attn_mask (void)
{
  int H = 14, W = 21, w = 7, s = 3, N = w * w, nW = (H / w) * (W / w);
  float *mask = g_new (float, (size_t) nW * N * N);
  swin_attn_mask (mask, H, W, w, w, s, s);
  // Microsoft: img_mask[h, w] = cnt over slices (0, −w), (−w, −s), (−s, None) per axis;
  // mask_windows = window_partition(img_mask); mask = (mw[:, None] − mw[:, :, None]) ≠ 0 → −100.
  int *img = g_new (int, H * W), cnt = 0;
  int hs[4] = { 0, H - w, H - s, H }, ws[4] = { 0, W - w, W - s, W };
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++, cnt++)
      for (int y = hs[a]; y < hs[a + 1]; y++)
        for (int x = ws[b]; x < ws[b + 1]; x++)
          img[y * W + x] = cnt;
  int masked = 0;
  for (int win = 0; win < nW; win++)
    {
      int y0 = (win / (W / w)) * w, x0 = (win % (W / w)) * w;
      for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
          {
            int mi = img[(y0 + i / w) * W + x0 + i % w], mj = img[(y0 + j / w) * W + x0 + j % w];
            float want = mi == mj ? 0.0f : -100.0f;
            g_assert_cmpfloat (mask[((size_t) win * N + i) * N + j], ==, want);
            masked += mi != mj;
          }
    }
  // Only the last window row and column are cut: the first window is whole.
  for (int k = 0; k < N * N; k++)
    g_assert_cmpfloat (mask[k], ==, 0.0f);
  g_assert_cmpint (masked, >, 0);
  g_free (img);
  g_free (mask);
}

static void
test_partition_roll (void)
{
  int B = 2, H = 14, W = 21, C = 3, w = 7, s = 3;
  size_t n = (size_t) B * H * W * C;
  float *x = g_new (float, n), *win = g_new (float, n), *back = g_new0 (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) i;
  swin_window_partition (win, x, B, H, W, C, w, w, s, s);
  // torch.roll(x, (−s, −s)) then window_partition: window (b, wr, wc), token (i, j) holds
  // x[b, (wr·w + i + s) mod H, (wc·w + j + s) mod W].
  int nWh = H / w, nWw = W / w;
  for (int b = 0; b < B; b++)
    for (int wr = 0; wr < nWh; wr++)
      for (int wc = 0; wc < nWw; wc++)
        for (int i = 0; i < w; i++)
          for (int j = 0; j < w; j++)
            for (int k = 0; k < C; k++)
              {
                size_t t = ((((size_t) b * nWh + wr) * nWw + wc) * w + i) * w + j;
                int y = (wr * w + i + s) % H, xx = (wc * w + j + s) % W;
                g_assert_cmpfloat (win[t * C + k], ==, x[(((size_t) b * H + y) * W + xx) * C + k]);
              }
  swin_window_reverse_add (back, win, B, H, W, C, w, w, s, s);
  for (size_t i = 0; i < n; i++)
    g_assert_cmpfloat (back[i], ==, x[i]);
  g_free (x), g_free (win), g_free (back);
}

static void
test_merge_order (void)
{
  int B = 1, H = 4, W = 6, C = 2;
  float x[48], out[48];
  for (int i = 0; i < 48; i++)
    x[i] = (float) i;
  swin_merge_gather (out, x, B, H, W, C);
  // torch: cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], −1)
  int dr[4] = { 0, 1, 0, 1 }, dc[4] = { 0, 0, 1, 1 };
  for (int r = 0; r < H / 2; r++)
    for (int c = 0; c < W / 2; c++)
      for (int q = 0; q < 4; q++)
        for (int k = 0; k < C; k++)
          g_assert_cmpfloat (out[((r * (W / 2) + c) * 4 + q) * C + k], ==,
                             x[((2 * r + dr[q]) * W + 2 * c + dc[q]) * C + k]);
}

// Shifted-window attention as Swin calls it (bias gathered through the index, mask of a
// 14×21 stage repeated over 2 images): the threaded GEMM path against the naive loop.
static void
test_window_attention_naive (void)
{
  int B = 2, H = 14, W = 21, w = 7, s = 3, nh = 3, Dh = 8, C = nh * Dh, N = w * w;
  int nW = (H / w) * (W / w), tw = 7, T = (2 * tw - 1) * (2 * tw - 1);
  size_t nqkv = (size_t) B * nW * N * 3 * C, nout = (size_t) B * nW * N * C;
  float *qkv = g_new (float, nqkv), *table = g_new (float, (size_t) T * nh);
  float *bias = g_new (float, (size_t) nh * N * N), *mask = g_new (float, (size_t) nW * N * N);
  float *fast = g_new (float, nout), *slow = g_new (float, nout);
  int *index = g_new (int, N * N);
  GRand *r = g_rand_new_with_seed (7);
  for (size_t i = 0; i < nqkv; i++)
    qkv[i] = (float) g_rand_double_range (r, -2, 2);
  for (int i = 0; i < T * nh; i++)
    table[i] = (float) g_rand_double_range (r, -1, 1);
  swin_relative_position_index (index, w, w, tw);
  for (int h = 0; h < nh; h++)
    for (int ij = 0; ij < N * N; ij++)
      bias[(size_t) h * N * N + ij] = table[(size_t) index[ij] * nh + h];
  swin_attn_mask (mask, H, W, w, w, s, s);
  float *scratch = g_new (float, op_attention_scratch_floats (N));
  peac_threads_set (2);
  op_attention_forward (fast, NULL, scratch, qkv, bias, mask, nW, B * nW, N, nh, Dh);
  peac_threads_set (0);
  op_attention_forward_naive (slow, qkv, bias, mask, nW, B * nW, N, nh, Dh);
  assert_close ("window attention vs naive", fast, slow, nout);
  // The mask matters: without it the last windows' outputs change.
  op_attention_forward_naive (fast, qkv, bias, NULL, nW, B * nW, N, nh, Dh);
  g_assert_cmpfloat (fabsf (fast[nout - 1] - slow[nout - 1]), >, 1e-4f);
  g_rand_free (r);
  g_free (qkv), g_free (table), g_free (bias), g_free (mask), g_free (fast), g_free (slow);
  g_free (index), g_free (scratch);
}

// ---- names, config, sizes ----

static void
test_canonical_names (void)
{
  char buf[PEAC_NAME_MAX];
  g_assert_cmpstr (swin_canonical_name ("layers.1.downsample.reduction.weight", "timm", buf, sizeof buf),
                   ==, "layers.0.downsample.reduction.weight");
  g_assert_cmpstr (swin_canonical_name ("layers.3.downsample.norm.bias", "timm", buf, sizeof buf),
                   ==, "layers.2.downsample.norm.bias");
  g_assert_cmpstr (swin_canonical_name ("layers.1.downsample.norm.bias", "microsoft", buf, sizeof buf),
                   ==, "layers.1.downsample.norm.bias");
  g_assert_cmpstr (swin_canonical_name ("module.layers.0.blocks.1.mlp.fc1.weight", "microsoft", buf,
                                        sizeof buf), ==, "layers.0.blocks.1.mlp.fc1.weight");
  g_assert_null (swin_canonical_name ("layers.0.blocks.1.attn_mask", "microsoft", buf, sizeof buf));
  g_assert_null (swin_canonical_name ("layers.2.blocks.0.attn.relative_position_index", "timm", buf,
                                      sizeof buf));
  g_assert_null (swin_canonical_name ("head.fc.weight", "timm", buf, sizeof buf));
}

static const char *swin_b_448 =
  "{\"img_size\": 448, \"patch_size\": 4, \"embed_dim\": 128, \"depths\": [2, 2, 18, 2],"
  " \"num_heads\": [4, 8, 16, 32], \"window_size\": 7}";

static void
test_config_and_flops (void)
{
  SwinConfig cfg;
  char err[256];
  g_assert_cmpint (swin_config_parse (&cfg, swin_b_448, err, sizeof err), ==, 0);
  g_assert_cmpint (cfg.num_stages, ==, 4);
  g_assert_cmpint (cfg.depths[2], ==, 18);
  g_assert_cmpfloat (cfg.mlp_ratio, ==, 4.0f);
  g_assert_cmpint (swin_config_parse (&cfg, "{\"depths\": [2, 2], \"num_heads\": [2]}", err,
                                      sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "num_heads"));
  g_assert_cmpint (swin_config_parse (&cfg, "{\"depths\": [2], \"num_heads\": [5]}", err,
                                      sizeof err), ==, -1);

  // Swin-B/4 w7: 86 743 224 parameters without the head (keys.txt), 15.47 G multiply-adds
  // at 224 (timm's model table).
  g_assert_cmpint (swin_config_parse (&cfg, swin_b_448, err, sizeof err), ==, 0);
  SwinModel *m = swin_create (&cfg, err, sizeof err);
  g_assert_nonnull (m);
  size_t nparam = 0;
  for (int i = 0; i < swin_params (m)->n; i++)
    nparam += swin_params (m)->list[i].numel;
  g_assert_cmpuint (nparam, ==, 86743224);   // keys.txt, timm with num_classes = 0
  double macs = swin_flops (m, 224, 224) / 2;
  g_test_message ("Swin-B 224: %.3f GMACs; 448: %.3f", macs / 1e9, swin_flops (m, 448, 448) / 2e9);
  g_assert_cmpfloat (fabs (macs / 15.47e9 - 1), <, 0.02);

  // Sizes whose stage grids the windows do not tile are refused with a message.
  float *dummy = g_new0 (float, 3 * 200 * 200);
  g_assert_cmpint (swin_forward (m, dummy, 1, 200, 200, NULL, NULL, NULL, NULL, err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "200"));
  g_free (dummy);
  swin_free (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/swin/fixture/timm", "swin_micro.safetensors", test_fixture);
  g_test_add_data_func ("/swin/fixture/microsoft", "swin_micro_ms.safetensors", test_fixture);
  g_test_add_func ("/swin/stage-window", test_stage_window);
  g_test_add_func ("/swin/relative-position-index", test_relative_position_index);
  g_test_add_func ("/swin/attn-mask", test_attn_mask);
  g_test_add_func ("/swin/partition-roll", test_partition_roll);
  g_test_add_func ("/swin/merge-order", test_merge_order);
  g_test_add_func ("/swin/window-attention-naive", test_window_attention_naive);
  g_test_add_func ("/swin/canonical-names", test_canonical_names);
  g_test_add_func ("/swin/config-flops", test_config_and_flops);
  return g_test_run ();
}
