// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-checkpoint: safetensors round trips (F32, F16, BF16 with metadata), the half
// conversions on exact and rounding cases, a table of corrupted files each rejected with
// an error that names the problem and the tensor, name mapping (prefixes, teacher/student
// branch, missing/unexpected reports) and a model saved and loaded back giving the same
// forward. Files are written to a fresh temporary folder.
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "model.h"
#include "ops.h"

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static void
test_half (void)
{
  // Exactly representable values survive both ways.
  const float exact[] = { 0.0f, 1.0f, -2.5f, 65504.0f, 0x1p-14f, 0x1p-24f, -0x1.8p-20f, 1000.5f };
  for (size_t i = 0; i < G_N_ELEMENTS (exact); i++)
    g_assert_cmpfloat (peac_f16_to_f32 (peac_f32_to_f16 (exact[i])), ==, exact[i]);
  g_assert_cmphex (peac_f32_to_f16 (1.0f), ==, 0x3c00);
  g_assert_cmphex (peac_f32_to_f16 (-2.0f), ==, 0xc000);
  g_assert_cmphex (peac_f32_to_f16 (0x1p-24f), ==, 0x0001);
  g_assert_cmphex (peac_f32_to_f16 (1e6f), ==, 0x7c00);
  // Round to nearest even: 1 + 2^−11 is halfway between 1 and 1 + 2^−10 → 1.
  g_assert_cmphex (peac_f32_to_f16 (1.0f + 0x1p-11f), ==, 0x3c00);
  g_assert_cmphex (peac_f32_to_f16 (1.0f + 3 * 0x1p-11f), ==, 0x3c02);
  g_assert_true (isnan (peac_f16_to_f32 (peac_f32_to_f16 (NAN))));
  g_assert_cmpfloat (peac_f16_to_f32 (0x7bff), ==, 65504.0f);
  g_assert_cmpfloat (peac_f16_to_f32 (0x0200), ==, 0x1p-15f);
  // bfloat16 keeps the top 16 bits, rounding to nearest even.
  g_assert_cmphex (peac_f32_to_bf16 (1.0f), ==, 0x3f80);
  g_assert_cmpfloat (peac_bf16_to_f32 (peac_f32_to_bf16 (3.140625f)), ==, 3.140625f);
  g_assert_cmphex (peac_f32_to_bf16 (1.0f + 0x1p-8f), ==, 0x3f80);
  g_assert_cmphex (peac_f32_to_bf16 (1.0f + 3 * 0x1p-8f), ==, 0x3f82);
}

static void
test_round_trip (void)
{
  g_autofree char *path = tmp_path ("rt.safetensors");
  GRand *r = g_rand_new_with_seed (11);
  float a[6], b[24], c[5];
  for (int i = 0; i < 6; i++)
    a[i] = (float) g_rand_double_range (r, -3, 3);
  for (int i = 0; i < 24; i++)
    b[i] = (float) g_rand_double_range (r, -100, 100);
  for (int i = 0; i < 5; i++)
    c[i] = (float) g_rand_double_range (r, -1e-3, 1e-3);
  int64_t sa[2] = { 2, 3 }, sb[3] = { 2, 3, 4 }, sc[1] = { 5 };
  PeacStWrite t[3] = { { "alpha", 2, sa, a, PEAC_DT_F32 }, { "beta.weight", 3, sb, b, PEAC_DT_F16 },
                       { "gamma", 1, sc, c, PEAC_DT_BF16 } };
  const char *meta[] = { "peac.arch", "vit", "note", "ünïcode ✓", NULL };
  char err[512] = "";
  g_assert_cmpint (peac_st_write (path, t, 3, meta, err, sizeof err), ==, 0);

  PeacSafetensors *st = peac_st_open (path, err, sizeof err);
  g_assert_nonnull (st);
  g_assert_cmpint (st->n, ==, 3);
  g_assert_cmpstr (peac_st_meta (st, "peac.arch"), ==, "vit");
  g_assert_cmpstr (peac_st_meta (st, "note"), ==, "ünïcode ✓");
  g_assert_null (peac_st_meta (st, "absent"));
  const PeacStTensor *ta = peac_st_find (st, "alpha"), *tb = peac_st_find (st, "beta.weight");
  const PeacStTensor *tc = peac_st_find (st, "gamma");
  g_assert_true (ta && tb && tc);
  g_assert_cmpint (tb->dtype, ==, PEAC_DT_F16);
  g_assert_cmpint (tc->dtype, ==, PEAC_DT_BF16);
  g_assert_cmpint (tb->ndim, ==, 3);
  g_assert_cmpint (tb->shape[2], ==, 4);
  float ra[6], rb[24], rc[5];
  g_assert_cmpint (peac_st_read_f32 (st, ta, ra, err, sizeof err), ==, 0);
  g_assert_cmpint (peac_st_read_f32 (st, tb, rb, err, sizeof err), ==, 0);
  g_assert_cmpint (peac_st_read_f32 (st, tc, rc, err, sizeof err), ==, 0);
  g_assert_cmpmem (ra, sizeof ra, a, sizeof a);
  for (int i = 0; i < 24; i++) // F16: 11 significant bits → relative error ≤ 2^−11
    g_assert_cmpfloat (fabs (rb[i] - b[i]), <=, fabs (b[i]) * 0x1p-11 + 1e-7);
  for (int i = 0; i < 5; i++)  // BF16: 8 significant bits
    g_assert_cmpfloat (fabs (rc[i] - c[i]), <=, fabs (c[i]) * 0x1p-8);
  // F16 result equals the per-value conversion exactly.
  g_assert_cmpfloat (rb[7], ==, peac_f16_to_f32 (peac_f32_to_f16 (b[7])));
  peac_st_close (st);
  // The writer leaves no temporary files behind.
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const char *n;
  while ((n = g_dir_read_name (d)))
    g_assert_null (strstr (n, ".tmp-"));
  g_dir_close (d);
  g_rand_free (r);
}

// Writes a file from a raw header (length prefix computed unless override ≠ 0) and data.
static void
write_raw (const char *path, const char *header, guint64 len_override, gsize data_len,
           gsize truncate_to)
{
  gsize hl = strlen (header);
  guint64 len = len_override ? len_override : hl;
  GByteArray *a = g_byte_array_new ();
  guint8 l8[8];
  for (int i = 0; i < 8; i++)
    l8[i] = (guint8) (len >> (8 * i));
  g_byte_array_append (a, l8, 8);
  g_byte_array_append (a, (const guint8 *) header, (guint) hl);
  for (gsize i = 0; i < data_len; i++)
    g_byte_array_append (a, (const guint8 *) "\0", 1);
  gsize n = truncate_to ? truncate_to : a->len;
  g_assert_true (g_file_set_contents (path, (const char *) a->data, (gssize) n, NULL));
  g_byte_array_unref (a);
}

static void
test_corrupt (void)
{
  const struct {
    const char *what, *header;
    guint64     len_override;
    gsize       data_len, truncate_to;
    const char *expect1, *expect2; // substrings the error must contain
  } cases[] = {
    { "truncated file", "", 0, 0, 5, "truncated", NULL },
    { "header longer than file", "{}", 1000, 0, 0, "truncated", "1000" },
    { "header length huge", "{}", 1ull << 40, 0, 0, "exceeds", NULL },
    { "bad JSON", "{\"a\": {\"dtype\": \"F32\", ", 0, 0, 0, "JSON", NULL },
    { "not an object", "[1, 2]", 0, 0, 0, "not a JSON object", NULL },
    { "offsets out of range",
      "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 0, 8, 0,
      "'w'", "outside" },
    { "negative offset",
      "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 0, 8, 0,
      "'w'", "outside" },
    { "overlapping",
      "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
      " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 0, 12, 0,
      "overlap", "'b'" },
    { "wrong size for shape",
      "{\"w\": {\"dtype\": \"F16\", \"shape\": [3, 2], \"data_offsets\": [0, 8]}}", 0, 8, 0,
      "'w'", "12 bytes expected" },
    { "duplicate names",
      "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
      " \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 0, 8, 0,
      "duplicate", "w" },
    { "unknown dtype",
      "{\"w\": {\"dtype\": \"F12\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 0, 4, 0,
      "'w'", "unknown dtype 'F12'" },
    { "shape not integers",
      "{\"w\": {\"dtype\": \"F32\", \"shape\": [\"2\"], \"data_offsets\": [0, 8]}}", 0, 8, 0,
      "'w'", "dimension" },
    { "offsets missing",
      "{\"w\": {\"dtype\": \"F32\", \"shape\": [2]}}", 0, 8, 0, "'w'", "data_offsets" },
    { "metadata not strings",
      "{\"__metadata__\": {\"k\": 3}}", 0, 0, 0, "metadata", "'k'" },
  };
  g_autofree char *path = tmp_path ("bad.safetensors");
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      write_raw (path, cases[i].header, cases[i].len_override, cases[i].data_len,
                 cases[i].truncate_to);
      char err[512] = "";
      PeacSafetensors *st = peac_st_open (path, err, sizeof err);
      g_test_message ("%s → %s", cases[i].what, err);
      if (st)
        g_error ("%s: accepted a corrupt file", cases[i].what);
      if (!strstr (err, path))
        g_error ("%s: error does not name the file: %s", cases[i].what, err);
      if (!strstr (err, cases[i].expect1) || (cases[i].expect2 && !strstr (err, cases[i].expect2)))
        g_error ("%s: unexpected message: %s", cases[i].what, err);
    }
  // A valid file of the same shape is accepted (the table is not rejecting everything).
  write_raw (path, "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                   " \"i\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [8, 16]}}",
             0, 16, 0);
  char err[256];
  PeacSafetensors *st = peac_st_open (path, err, sizeof err);
  g_assert_nonnull (st);
  float x;
  g_assert_cmpint (peac_st_read_f32 (st, peac_st_find (st, "i"), &x, err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "'i'"));
  peac_st_close (st);
  // Missing file.
  g_assert_null (peac_st_open ("/nonexistent/x.safetensors", err, sizeof err));
  g_assert_nonnull (strstr (err, "/nonexistent/x.safetensors"));
}

static void
test_names (void)
{
  char buf[128];
  g_assert_cmpint (peac_st_strip_name ("module.teacher.backbone.blocks.0.norm1.weight", NULL, buf,
                                       sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, "blocks.0.norm1.weight");
  g_assert_cmpint (peac_st_strip_name ("teacher.module.swin_model.layers.0.x", "teacher", buf,
                                       sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, "layers.0.x");
  g_assert_cmpint (peac_st_strip_name ("module.student.backbone.norm.bias", NULL, buf, sizeof buf),
                   ==, 1);
  g_assert_cmpint (peac_st_strip_name ("module.student.backbone.norm.bias", "student", buf,
                                       sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, "norm.bias");
  g_assert_cmpint (peac_st_strip_name ("param.cls_token", NULL, buf, sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, "cls_token");
  // Only leading prefixes are stripped.
  g_assert_cmpint (peac_st_strip_name ("blocks.module.x", NULL, buf, sizeof buf), ==, 0);
  g_assert_cmpstr (buf, ==, "blocks.module.x");
}

static const char *micro_cfg =
  "{\"img_size\": 32, \"patch_size\": 8, \"embed_dim\": 16, \"depth\": 2, \"num_heads\": 2,"
  " \"layernorm_eps\": 1e-6, \"gelu\": \"erf\"}";

static void
test_model_io (void)
{
  char err[1024], warn[1024];
  PeacModel *m = peac_model_new (PEAC_ARCH_VIT, "timm", micro_cfg, 42, err, sizeof err);
  g_assert_nonnull (m);
  PeacParams *p = peac_model_params (m);
  // Init rules: LayerNorm weight 1, biases 0, weights ~ N(0, 0.02²) within ±2σ.
  g_assert_cmpfloat (peac_params_find (p, "blocks.1.norm2.weight")->data[3], ==, 1.0f);
  g_assert_cmpfloat (peac_params_find (p, "blocks.0.mlp.fc1.bias")->data[5], ==, 0.0f);
  PeacParam *q = peac_params_find (p, "blocks.0.attn.qkv.weight");
  double s2 = 0;
  for (size_t i = 0; i < q->numel; i++)
    {
      g_assert_cmpfloat (fabs (q->data[i]), <=, 0.04f);
      s2 += (double) q->data[i] * q->data[i];
    }
  g_assert_cmpfloat (sqrt (s2 / q->numel), >, 0.014);
  g_assert_cmpfloat (sqrt (s2 / q->numel), <, 0.022);
  // Same seed → same weights; another seed → different.
  PeacModel *m2 = peac_model_new (PEAC_ARCH_VIT, "timm", micro_cfg, 42, err, sizeof err);
  PeacModel *m3 = peac_model_new (PEAC_ARCH_VIT, "timm", micro_cfg, 43, err, sizeof err);
  g_assert_cmpmem (p->memory, p->total * 4, peac_model_params (m2)->memory, p->total * 4);
  g_assert_true (memcmp (p->memory, peac_model_params (m3)->memory, p->total * 4) != 0);

  g_autofree char *path = tmp_path ("model.safetensors");
  g_assert_cmpint (peac_model_save (m, path, err, sizeof err), ==, 0);
  PeacModel *back = peac_model_load (path, err, sizeof err);
  g_assert_nonnull (back);
  g_assert_cmpmem (p->memory, p->total * 4, peac_model_params (back)->memory, p->total * 4);
  float in[2 * 3 * 32 * 32], f1[2 * 16 * 16], f2[2 * 16 * 16], p1[32], p2[32];
  for (size_t i = 0; i < G_N_ELEMENTS (in); i++)
    in[i] = sinf ((float) i * 0.37f);
  g_assert_cmpint (peac_model_forward (m, in, 2, 32, 32, f1, p1, NULL, NULL, err, sizeof err), ==, 0);
  g_assert_cmpint (peac_model_forward (back, in, 2, 32, 32, f2, p2, NULL, NULL, err, sizeof err), ==, 0);
  g_assert_cmpmem (f1, sizeof f1, f2, sizeof f2);
  g_assert_cmpmem (p1, sizeof p1, p2, sizeof p2);

  // A PEAC-style file: teacher and student branches under module., plus an extra head.
  PeacStWrite *t = g_new0 (PeacStWrite, 2 * p->n + 1);
  char **names = g_new0 (char *, 2 * p->n + 1);
  float *zeros = g_new0 (float, p->total);
  int n = 0;
  for (int i = 0; i < p->n; i++)
    {
      names[n] = g_strdup_printf ("module.teacher.backbone.%s", p->list[i].name);
      t[n] = (PeacStWrite) { names[n], p->list[i].ndim, p->list[i].shape, p->list[i].data,
                             PEAC_DT_F32 };
      n++;
      names[n] = g_strdup_printf ("module.student.backbone.%s", p->list[i].name);
      t[n] = (PeacStWrite) { names[n], p->list[i].ndim, p->list[i].shape, zeros, PEAC_DT_BF16 };
      n++;
    }
  int64_t hs[1] = { 7 };
  t[n++] = (PeacStWrite) { "module.teacher.proj_head.bias", 1, hs, zeros, PEAC_DT_F32 };
  const char *meta[] = { "peac.arch", "vit", "peac.layout", "timm", "peac.config", micro_cfg, NULL };
  g_autofree char *peac = tmp_path ("peac.safetensors");
  g_assert_cmpint (peac_st_write (peac, t, n, meta, err, sizeof err), ==, 0);
  PeacModel *teacher = peac_model_load_ex (peac, NULL, warn, sizeof warn, err, sizeof err);
  g_assert_nonnull (teacher);
  g_assert_cmpmem (p->memory, p->total * 4, peac_model_params (teacher)->memory, p->total * 4);
  g_assert_cmpstr (warn, ==, "module.teacher.proj_head.bias");
  PeacModel *student = peac_model_load_ex (peac, "student", NULL, 0, err, sizeof err);
  g_assert_nonnull (student);
  g_assert_cmpfloat (peac_params_find (peac_model_params (student), "norm.weight")->data[0], ==, 0.0f);

  // Missing tensors and wrong shapes are named.
  int64_t wrong[2] = { 5, 5 };
  PeacStWrite partial[2] = { { "cls_token", 3, p->list[0].shape, p->list[0].data, PEAC_DT_F32 },
                             { "norm.bias", 2, wrong, zeros, PEAC_DT_F32 } };
  g_autofree char *bad = tmp_path ("partial.safetensors");
  g_assert_cmpint (peac_st_write (bad, partial, 1, meta, err, sizeof err), ==, 0);
  g_assert_null (peac_model_load (bad, err, sizeof err));
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "missing"));
  g_assert_nonnull (strstr (err, "pos_embed"));
  g_assert_cmpint (peac_st_write (bad, partial, 2, meta, err, sizeof err), ==, 0);
  g_assert_null (peac_model_load (bad, err, sizeof err));
  g_assert_nonnull (strstr (err, "'norm.bias'"));
  g_assert_nonnull (strstr (err, "[5,5]"));
  // No metadata → not a PEAC model file.
  g_assert_cmpint (peac_st_write (bad, partial, 1, NULL, err, sizeof err), ==, 0);
  g_assert_null (peac_model_load (bad, err, sizeof err));
  g_assert_nonnull (strstr (err, "peac.arch"));

  for (int i = 0; i < n; i++)
    g_free (names[i]);
  g_free (names), g_free (t), g_free (zeros);
  peac_model_free (m), peac_model_free (m2), peac_model_free (m3), peac_model_free (back);
  peac_model_free (teacher), peac_model_free (student);
}

// Swin through the same path: a fresh model saved under its layout and loaded back
// (names through swin_canonical_name) gives identical weights and outputs; --layer picks
// a stage's output of the documented shape.
static void
test_swin_io (void)
{
  const char *cfg = "{\"img_size\": 64, \"patch_size\": 4, \"embed_dim\": 16, \"depths\": [2, 2],"
                    " \"num_heads\": [2, 4], \"window_size\": 4}";
  const char *layouts[] = { "microsoft", "timm" };
  for (int l = 0; l < 2; l++)
    {
      char err[1024];
      PeacModel *m = peac_model_new (PEAC_ARCH_SWIN, layouts[l], cfg, 5, err, sizeof err);
      if (!m)
        g_error ("%s", err);
      g_autofree char *path = tmp_path ("swin.safetensors");
      g_assert_cmpint (peac_model_save (m, path, err, sizeof err), ==, 0);
      PeacModel *back = peac_model_load (path, err, sizeof err);
      if (!back)
        g_error ("%s", err);
      g_assert_cmpstr (peac_model_layout (back), ==, layouts[l]);
      PeacParams *p = peac_model_params (m), *q = peac_model_params (back);
      g_assert_cmpmem (p->memory, p->total * 4, q->memory, q->total * 4);
      int gh, gw, D;
      peac_model_output_shape (m, 64, 64, &gh, &gw, &D);
      g_assert_cmpint (gh, ==, 8);
      g_assert_cmpint (D, ==, 32);
      float *in = g_new (float, 3 * 64 * 64), *f1 = g_new (float, 8 * 8 * 32);
      float *f2 = g_new (float, 8 * 8 * 32), p1[32], p2[32];
      for (int i = 0; i < 3 * 64 * 64; i++)
        in[i] = cosf ((float) i * 0.05f);
      g_assert_cmpint (peac_model_forward (m, in, 1, 64, 64, f1, p1, NULL, NULL, err, sizeof err), ==, 0);
      g_assert_cmpint (peac_model_forward (back, in, 1, 64, 64, f2, p2, NULL, NULL, err, sizeof err), ==, 0);
      g_assert_cmpmem (f1, 8 * 8 * 32 * 4, f2, 8 * 8 * 32 * 4);
      // Stage 0: 16×16 tokens of width 16, pooled = their mean.
      PeacForwardOptions o = { 0, 0 };
      peac_model_output_shape_ex (m, &o, 64, 64, &gh, &gw, &D);
      g_assert_cmpint (gh, ==, 16);
      g_assert_cmpint (D, ==, 16);
      float *s0 = g_new (float, 16 * 16 * 16), ps[16];
      g_assert_cmpint (peac_model_forward_ex (m, &o, in, 1, 64, 64, s0, ps, NULL, NULL, err,
                                              sizeof err), ==, 0);
      double mean = 0;
      for (int t = 0; t < 256; t++)
        mean += s0[t * 16 + 3];
      g_assert_cmpfloat (fabs (mean / 256 - ps[3]), <, 1e-5);
      o.stride = 2;
      g_assert_cmpint (peac_model_forward_ex (m, &o, in, 1, 64, 64, s0, ps, NULL, NULL, err,
                                              sizeof err), ==, -1);
      g_free (in), g_free (f1), g_free (f2), g_free (s0);
      peac_model_free (m), peac_model_free (back);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_threads_set (2);
  tmpdir = g_dir_make_tmp ("peac-ckpt-XXXXXX", NULL);
  g_test_add_func ("/checkpoint/half", test_half);
  g_test_add_func ("/checkpoint/round-trip", test_round_trip);
  g_test_add_func ("/checkpoint/corrupt", test_corrupt);
  g_test_add_func ("/checkpoint/names", test_names);
  g_test_add_func ("/checkpoint/model-io", test_model_io);
  g_test_add_func ("/checkpoint/swin-io", test_swin_io);
  int r = g_test_run ();
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name (d)))
    {
      g_autofree char *f = g_build_filename (tmpdir, n, NULL);
      g_unlink (f);
    }
  if (d)
    g_dir_close (d);
  g_rmdir (tmpdir);
  return r;
}
