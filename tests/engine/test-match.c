// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-match: the correspondence engine on synthetic textured images with hand-made local
// descriptors as the token grid (each cell's neighbourhood sampled on an 8×8 lattice, zero
// mean — a legitimate token grid for testing the matcher, independent of any network).
// A copy translated by whole cells must match every cell to its partner with high
// confidence in both modes; a blanked region must answer "no match"; guided matching must
// recover a known affine warp to within half a cell, with the registration fitted one way
// or both ways, and a known smooth non-rigid warp of up to two cells to within a quarter of
// a cell through the deformable refinement; best buddies, their spread selection
// and the pixel NCC baseline are checked on the same images.
#include <glib.h>
#include <math.h>
#include <string.h>

#include "match.h"

#define W 256
#define H 256
#define CELL 16
#define G (W / CELL)
#define DIM 64

// Deterministic smooth texture: white noise box-blurred twice (radius 3), two octaves.
static void
texture (float *img, int w, int h, guint32 seed, int smooth)
{
  GRand *rng = g_rand_new_with_seed (seed);
  float *a = g_new (float, (gsize) w * h), *b = g_new (float, (gsize) w * h);
  memset (img, 0, sizeof (float) * w * h);
  for (int octave = 0; octave < 2; octave++)
    {
      int rad = octave ? 2 : smooth;
      for (int i = 0; i < w * h; i++)
        a[i] = (float) g_rand_double_range (rng, -1, 1);
      for (int pass = 0; pass < 2; pass++)
        {
          for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
              {
                float s = 0;
                for (int d = -rad; d <= rad; d++)
                  s += a[y * w + CLAMP (x + d, 0, w - 1)];
                b[y * w + x] = s / (2 * rad + 1);
              }
          for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
              {
                float s = 0;
                for (int d = -rad; d <= rad; d++)
                  s += b[CLAMP (y + d, 0, h - 1) * w + x];
                a[y * w + x] = s / (2 * rad + 1);
              }
        }
      for (int i = 0; i < w * h; i++)
        img[i] += a[i] * (octave ? (smooth > 5 ? 0.0f : 0.5f) : 1.0f);
    }
  g_free (a);
  g_free (b);
  g_rand_free (rng);
}

static float
sample (const float *img, int w, int h, double x, double y)
{
  // Bilinear at continuous position (pixel i spans [i, i + 1)), clamped at the border.
  double fx = x - 0.5, fy = y - 0.5;
  int x0 = (int) floor (fx), y0 = (int) floor (fy);
  double ax = fx - x0, ay = fy - y0;
  float v[4];
  for (int k = 0; k < 4; k++)
    {
      int xx = CLAMP (x0 + (k & 1), 0, w - 1), yy = CLAMP (y0 + (k >> 1), 0, h - 1);
      v[k] = img[yy * w + xx];
    }
  return (float) ((1 - ay) * ((1 - ax) * v[0] + ax * v[1]) + ay * ((1 - ax) * v[2] + ax * v[3]));
}

// Token of each cell: the 8×8 lattice spanning `span` cells around its centre, zero mean.
static void
descriptors (const float *img, float span, float *tok)
{
  for (int r = 0; r < G; r++)
    for (int c = 0; c < G; c++)
      {
        float *t = tok + (r * G + c) * DIM;
        double cx = (c + 0.5) * CELL, cy = (r + 0.5) * CELL, step = span * CELL / 8.0;
        double mean = 0;
        for (int i = 0; i < 8; i++)
          for (int j = 0; j < 8; j++)
            mean += t[i * 8 + j] = sample (img, W, H, cx + (j - 3.5) * step, cy + (i - 3.5) * step);
        mean /= DIM;
        for (int k = 0; k < DIM; k++)
          t[k] -= (float) mean;
      }
}

// target(x, y) = source(x − dx·CELL, y − dy·CELL) + noise (about a tenth of the texture's
// standard deviation); uncovered pixels from another texture.
static void
translate (const float *src, float *dst, int dx, int dy)
{
  float *fill = g_new (float, W * H);
  texture (fill, W, H, 99, 5);
  GRand *rng = g_rand_new_with_seed (5);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        int sx = x - dx * CELL, sy = y - dy * CELL;
        dst[y * W + x] = (sx >= 0 && sx < W && sy >= 0 && sy < H) ? src[sy * W + sx] : fill[y * W + x];
        dst[y * W + x] += (float) g_rand_double_range (rng, -0.01, 0.01);
      }
  g_rand_free (rng);
  g_free (fill);
}

static PeacMatchContext *
context_for (const float *a, const float *b, float span, const PeacMatchParams *p)
{
  static float ta[G * G * DIM], tb[G * G * DIM];
  descriptors (a, span, ta);
  descriptors (b, span, tb);
  PeacGrid ga = { ta, G, G, W, H }, gb = { tb, G, G, W, H };
  char err[256];
  PeacMatchContext *ctx = peac_match_context_new (&ga, &gb, 1, DIM, p, err, sizeof err);
  g_assert_nonnull (ctx);
  return ctx;
}

static void
test_translation (void)
{
  float *a = g_new (float, W * H), *b = g_new (float, W * H);
  texture (a, W, H, 7, 5);
  const int dx = 3, dy = -2;
  translate (a, b, dx, dy);
  PeacMatchContext *ctx = context_for (a, b, 1.0f, NULL);

  double A[6];
  int inl = peac_match_affine (ctx, 0, A);
  g_assert_cmpint (inl, >=, 100);
  g_assert_cmpfloat (fabs (A[0] - 1), <, 1e-3);
  g_assert_cmpfloat (fabs (A[4] - 1), <, 1e-3);
  g_assert_cmpfloat (fabs (A[1]) + fabs (A[3]), <, 1e-3);
  g_assert_cmpfloat (fabs (A[2] - dx * CELL), <, 0.05);
  g_assert_cmpfloat (fabs (A[5] - dy * CELL), <, 0.05);

  int checked = 0;
  float map[G * G];
  for (int mode = 0; mode < 2; mode++)
    for (int r = 0; r < G; r++)
      for (int c = 0; c < G; c++)
        {
          int pr = r + dy, pc = c + dx;
          if (pr < 0 || pr >= G || pc < 0 || pc >= G)
            continue;
          PeacMatch m;
          g_assert_cmpint (peac_match_query_cell (ctx, 0, r, c, mode, &m, map), ==, 0);
          g_assert_cmpint (m.row, ==, pr);
          g_assert_cmpint (m.col, ==, pc);
          g_assert_true (m.found);
          g_assert_cmpfloat (m.confidence, >, 0.5f);
          g_assert_cmpfloat (m.cycle, ==, 0.0f);
          g_assert_cmpfloat (m.sim, >, 0.9f);
          g_assert_cmpfloat (m.sim, <, 1.0f);
          g_assert_cmpfloat (fabs (map[pr * G + pc] - m.sim), <, 1e-6);
          g_assert_cmpint (m.top[0], ==, pr * G + pc);
          g_assert_cmpint (m.n_top, ==, PEAC_MATCH_TOPK);
          for (int k = 1; k < m.n_top; k++)
            g_assert_cmpfloat (m.top_sim[k], <=, m.top_sim[k - 1]);
          // Sub-cell position within a quarter cell of the partner's centre.
          g_assert_cmpfloat (fabs (m.x - (pc + 0.5) * CELL), <, 0.25 * CELL);
          g_assert_cmpfloat (fabs (m.y - (pr + 0.5) * CELL), <, 0.25 * CELL);
          // A point off the cell centre carries its offset over.
          g_assert_cmpint (peac_match_query (ctx, 0, c * CELL + 3.0, r * CELL + 12.0, mode,
                                             &m, NULL), ==, 0);
          g_assert_cmpfloat (fabs (m.x - (pc * CELL + 3.0)), <, 0.25 * CELL);
          g_assert_cmpfloat (fabs (m.y - (pr * CELL + 12.0)), <, 0.25 * CELL);
          checked++;
        }
  g_assert_cmpint (checked, ==, 2 * (G - 3) * (G - 2));

  // Propagation is the query, point by point.
  float pts[4] = { 40.5f, 100.25f, 130.0f, 70.0f };
  PeacMatch pm[2], q;
  g_assert_cmpint (peac_match_propagate (ctx, pts, 2, PEAC_MATCH_GUIDED, pm), ==, 0);
  for (int i = 0; i < 2; i++)
    {
      peac_match_query (ctx, 0, pts[2 * i], pts[2 * i + 1], PEAC_MATCH_GUIDED, &q, NULL);
      g_assert_cmpfloat (pm[i].x, ==, q.x);
      g_assert_cmpfloat (pm[i].y, ==, q.y);
      g_assert_cmpfloat (fabs (pm[i].x - (pts[2 * i] + dx * CELL)), <, 0.25 * CELL);
    }
  g_assert_cmpint (peac_match_query_cell (ctx, 1, 0, 0, 0, &q, NULL), ==, -1);
  peac_match_context_free (ctx);
  g_free (a);
  g_free (b);
}

// Bilinear query tokens: at cell centres they are the cells' own tokens, so the answers
// equal the containing-cell mode's; between centres the map is computed afresh (sgemv).
static void
test_bilinear (void)
{
  float *a = g_new (float, W * H), *b = g_new (float, W * H);
  texture (a, W, H, 13, 5);
  const int dx = 2, dy = 3;
  translate (a, b, dx, dy);
  PeacMatchParams p;
  peac_match_params_default (&p);
  // Tokens spanning 3 cells overlap like a network's receptive fields, so a blend of two
  // neighbours resembles the token halfway between them.
  PeacMatchContext *cell = context_for (a, b, 3.0f, &p);
  p.bilinear = 1;
  PeacMatchContext *bil = context_for (a, b, 3.0f, &p);
  float m1[G * G], m2[G * G];
  int between = 0, n = 0;
  double err = 0;
  for (int mode = 0; mode < 2; mode++)
    for (int r = 0; r < G - dy; r++)
      for (int c = 0; c < G - dx; c++)
        {
          PeacMatch x, y;
          peac_match_query_cell (cell, 0, r, c, mode, &x, m1);
          peac_match_query_cell (bil, 0, r, c, mode, &y, m2);
          g_assert_cmpint (x.row, ==, y.row);
          g_assert_cmpint (x.col, ==, y.col);
          g_assert_cmpfloat (fabs (x.x - y.x), <, 1e-3);
          g_assert_cmpfloat (fabs (x.confidence - y.confidence), <, 1e-4);
          for (int k = 0; k < G * G; k++)
            g_assert_cmpfloat (fabs (m1[k] - m2[k]), <, 1e-5);
          // Halfway between two cell centres: the answer lies between their partners.
          peac_match_query (bil, 0, (c + 1.0) * CELL, (r + 0.5) * CELL, mode, &y, NULL);
          if (c + 1 < G - dx)
            {
              between += y.x >= (c + dx + 0.5) * CELL - 1e-3 && y.x <= (c + dx + 1.5) * CELL + 1e-3;
              err += hypot (y.x - (c + dx + 1.0) * CELL, y.y - (r + dy + 0.5) * CELL) / CELL;
              n++;
            }
        }
  g_test_message ("halfway queries: %d of %d between the partners, mean error %.3f cells",
                  between, n, err / n);
  g_assert_cmpint (between, >=, 0.9 * n);
  g_assert_cmpfloat (err / n, <, 0.5);
  peac_match_context_free (cell);
  peac_match_context_free (bil);
  g_free (a);
  g_free (b);
}

static void
test_blanked (void)
{
  float *a = g_new (float, W * H), *b = g_new (float, W * H);
  texture (a, W, H, 11, 5);
  const int dx = 1, dy = 1;
  translate (a, b, dx, dy);
  // Blank target cells rows 5..8, cols 6..9.
  for (int y = 5 * CELL; y < 9 * CELL; y++)
    for (int x = 6 * CELL; x < 10 * CELL; x++)
      b[y * W + x] = 0.3f;
  PeacMatchContext *ctx = context_for (a, b, 1.0f, NULL);
  int blank = 0, kept = 0, kept_found = 0;
  for (int mode = 0; mode < 2; mode++)
    for (int r = 0; r < G; r++)
      for (int c = 0; c < G; c++)
        {
          int pr = r + dy, pc = c + dx;
          if (pr >= G || pc >= G)
            continue;
          PeacMatch m;
          peac_match_query_cell (ctx, 0, r, c, mode, &m, NULL);
          if (pr >= 5 && pr < 9 && pc >= 6 && pc < 10)
            {
              g_assert_false (m.found);
              g_assert_cmpfloat (m.confidence, <, 0.25f);
              blank++;
            }
          else
            {
              kept++;
              if (m.found && m.row == pr && m.col == pc)
                kept_found++;
            }
        }
  g_assert_cmpint (blank, ==, 2 * 16);
  // Everything outside the blank still matches (cells are whole, so tokens are intact).
  g_assert_cmpint (kept_found, ==, kept);
  peac_match_context_free (ctx);
  g_free (a);
  g_free (b);
}

// target(p') = source(M⁻¹(p' − t)): the source warped by scale, rotation and shift.
static void
warp (const float *src, float *dst, double scale, double deg, double tx, double ty, double M[6])
{
  double th = deg * G_PI / 180, c = cos (th) * scale, s = sin (th) * scale;
  double cx = W / 2.0, cy = H / 2.0;
  // p' = R·(p − centre) + centre + t
  M[0] = c, M[1] = -s, M[2] = cx + tx - (c * cx - s * cy);
  M[3] = s, M[4] = c, M[5] = cy + ty - (s * cx + c * cy);
  double det = M[0] * M[4] - M[1] * M[3];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        double px = x + 0.5 - M[2], py = y + 0.5 - M[5];
        double u = (M[4] * px - M[1] * py) / det, v = (-M[3] * px + M[0] * py) / det;
        dst[y * W + x] = sample (src, W, H, u, v);
      }
}

static void
check_warp (double scale, double deg, double tx, double ty, PeacSubcell how, int symmetric)
{
  float *a = g_new (float, W * H), *b = g_new (float, W * H);
  texture (a, W, H, 23, 8);
  double M[6];
  warp (a, b, scale, deg, tx, ty, M);
  PeacMatchParams p;
  peac_match_params_default (&p);
  p.subcell = how;
  p.symmetric = symmetric;
  PeacMatchContext *ctx = context_for (a, b, 3.0f, &p);
  double A[6];
  g_assert_cmpint (peac_match_affine (ctx, 0, A), >=, 20);
  for (int k = 0; k < 6; k++)
    g_assert_cmpfloat (fabs (A[k] - M[k]), <, (k == 2 || k == 5) ? 0.5 * CELL : 0.05);

  double err[2] = { 0, 0 };
  int n = 0;
  for (int r = 1; r < G - 1; r++)
    for (int c = 1; c < G - 1; c++)
      {
        double x = (c + 0.5) * CELL, y = (r + 0.5) * CELL;
        double x2 = M[0] * x + M[1] * y + M[2], y2 = M[3] * x + M[4] * y + M[5];
        if (x2 < CELL || x2 > W - CELL || y2 < CELL || y2 > H - CELL)
          continue;
        for (int mode = 0; mode < 2; mode++)
          {
            PeacMatch m;
            peac_match_query (ctx, 0, x, y, mode, &m, NULL);
            err[mode] += hypot (m.x - x2, m.y - y2) / CELL;
          }
        n++;
      }
  g_assert_cmpint (n, >, 100);
  g_test_message ("warp s=%.2f rot=%.1f°%s: mean error guided %.3f, nearest %.3f cells (%d points)",
                  scale, deg, symmetric ? " (symmetric)" : "", err[0] / n, err[1] / n, n);
  g_assert_cmpfloat (err[0] / n, <, 0.5);
  g_assert_cmpfloat (err[0], <, err[1]);
  peac_match_context_free (ctx);
  g_free (a);
  g_free (b);
}

static void
test_affine_warp (void)
{
  for (int symmetric = 0; symmetric < 2; symmetric++)
    {
      check_warp (1.08, 4.0, 10.3, -7.6, PEAC_SUBCELL_SOFTARGMAX, symmetric);
      check_warp (0.92, -3.0, -6.0, 12.5, PEAC_SUBCELL_QUADRATIC, symmetric);
    }
}

// A smooth non-rigid warp, given by its inverse: target pixel x shows source pixel
// V(x) = x + d(x), d up to two cells (zero at the border, its largest shift mid-image, a
// swirl that no affine follows).
static void
warp_inverse (double x, double y, double *sx, double *sy)
{
  const double px = G_PI * x / W, py = G_PI * y / H;
  *sx = x + 2.0 * CELL * sin (px) * sin (py);
  *sy = y - 1.0 * CELL * sin (px) * sin (2.0 * py);
}

static void
test_deform_warp (void)
{
  float *a = g_new (float, W * H), *b = g_new (float, W * H);
  texture (a, W, H, 23, 8);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        double sx, sy;
        warp_inverse (x + 0.5, y + 0.5, &sx, &sy);
        b[y * W + x] = sample (a, W, H, sx, sy);
      }
  // The largest displacement really is about two cells (checked on a fine lattice).
  double dmax = 0;
  for (int y = 0; y <= H; y += 4)
    for (int x = 0; x <= W; x += 4)
      {
        double sx, sy;
        warp_inverse (x, y, &sx, &sy);
        dmax = MAX (dmax, hypot (sx - x, sy - y));
      }
  g_assert_cmpfloat (dmax, >, 1.5 * CELL);
  g_assert_cmpfloat (dmax, <=, 2.0 * CELL);

  PeacMatchContext *ctx = context_for (a, b, 3.0f, NULL);
  double err[3] = { 0, 0, 0 };
  int n = 0;
  for (int r = 1; r < G - 1; r++)
    for (int c = 1; c < G - 1; c++)
      {
        // Where source cell centre p lands: the q with V(q) = p, by fixed-point iteration
        // q ← p − d(q) (d's slope stays under ½, so it contracts).
        const double x = (c + 0.5) * CELL, y = (r + 0.5) * CELL;
        double qx = x, qy = y;
        for (int it = 0; it < 100; it++)
          {
            double sx, sy;
            warp_inverse (qx, qy, &sx, &sy);
            qx -= sx - x;
            qy -= sy - y;
          }
        double sx, sy;
        warp_inverse (qx, qy, &sx, &sy);
        g_assert_cmpfloat (hypot (sx - x, sy - y), <, 1e-6);
        const PeacMatchMode modes[3] = { PEAC_MATCH_GUIDED, PEAC_MATCH_AFFINE,
                                         PEAC_MATCH_NEAREST };
        for (int k = 0; k < 3; k++)
          {
            PeacMatch m;
            g_assert_cmpint (peac_match_query (ctx, 0, x, y, modes[k], &m, NULL), ==, 0);
            err[k] += hypot (m.x - qx, m.y - qy) / CELL;
          }
        n++;
      }
  g_test_message ("smooth warp of up to %.2f cells: mean error deformable %.3f, affine %.3f, "
                  "nearest %.3f cells (%d points)", dmax / CELL, err[0] / n, err[1] / n,
                  err[2] / n, n);
  g_assert_cmpfloat (err[0] / n, <, 0.25);
  // The warp is beyond one affine: the refinement is what gets there.
  g_assert_cmpfloat (err[1] / n, >, 2.0 * err[0] / n);
  peac_match_context_free (ctx);
  g_free (a);
  g_free (b);
}

static void
test_buddies (void)
{
  float *a = g_new (float, W * H), *b = g_new (float, W * H);
  texture (a, W, H, 31, 5);
  const int dx = -2, dy = 1;
  translate (a, b, dx, dy);
  PeacMatchContext *ctx = context_for (a, b, 1.0f, NULL);
  PeacBuddy all[G * G], pick[8];
  int n = peac_match_buddies (ctx, 0, all, G * G);
  // Every overlapping cell is its partner's buddy; a few fill cells may pair up by chance.
  int right = 0;
  for (int i = 0; i < n; i++)
    {
      int r = all[i].src / G, c = all[i].src % G;
      right += all[i].tgt == (r + dy) * G + (c + dx);
      if (i)
        g_assert_cmpint (all[i].src, >, all[i - 1].src);
    }
  g_assert_cmpint (right, ==, (G - 2) * (G - 1));
  g_assert_cmpint (n, <=, right + 2 * G);

  int k = peac_match_buddies_spread (ctx, 0, 8, pick);
  g_assert_cmpint (k, ==, 8);
  double mind = INFINITY;
  for (int i = 0; i < k; i++)
    {
      int r = pick[i].src / G, c = pick[i].src % G;
      g_assert_cmpint (pick[i].tgt, ==, (r + dy) * G + (c + dx));
      if (i)
        g_assert_cmpfloat (pick[i].distinct, <=, pick[i - 1].distinct);
      for (int j = 0; j < i; j++)
        mind = MIN (mind, hypot (r - pick[j].src / G, c - pick[j].src % G));
    }
  // Spread: no two picks closer than 2 cells (k-means cells on a 14×15 overlap are ~5 wide).
  g_assert_cmpfloat (mind, >=, 2.0);
  peac_match_context_free (ctx);
  g_free (a);
  g_free (b);
}

static void
test_ncc (void)
{
  float *a = g_new (float, W * H), *b = g_new (float, W * H);
  texture (a, W, H, 41, 5);
  translate (a, b, 2, 1);
  float xy[6] = { 40.0f, 50.0f, 100.5f, 130.5f, 200.0f, 60.0f }, out[6], score[3];
  g_assert_cmpint (peac_ncc_match (a, W, H, b, W, H, CELL, xy, 3, out, score), ==, 0);
  for (int k = 0; k < 3; k++)
    {
      // Template corners are whole pixels, so the answer is the shifted point to ½ pixel.
      g_assert_cmpfloat (fabs (out[2 * k] - (xy[2 * k] + 2 * CELL)), <=, 0.5);
      g_assert_cmpfloat (fabs (out[2 * k + 1] - (xy[2 * k + 1] + CELL)), <=, 0.5);
      g_assert_cmpfloat (score[k], >, 0.95f);
      g_assert_cmpfloat (score[k], <=, 1.0001f);
    }
  g_assert_cmpint (peac_ncc_match (a, W, H, b, W, H, W + 1, xy, 3, out, score), ==, -1);
  g_free (a);
  g_free (b);
}

// Query cost with the app's shape: 8 targets of 14×14 tokens, ViT-S width. Reported, not
// asserted (timings depend on the machine); repeated queries must give the same answers.
static void
test_query_cost (void)
{
  enum { NT = 8, GG = 14, D = 384 };
  GRand *rng = g_rand_new_with_seed (3);
  float *tok = g_new (float, (gsize) (NT + 1) * GG * GG * D);
  for (gsize i = 0; i < (gsize) (NT + 1) * GG * GG * D; i++)
    tok[i] = (float) g_rand_double_range (rng, -1, 1);
  PeacGrid src = { tok, GG, GG, 224, 224 }, tg[NT];
  for (int t = 0; t < NT; t++)
    tg[t] = (PeacGrid) { tok + (gsize) (t + 1) * GG * GG * D, GG, GG, 224, 224 };
  char err[128];
  // Built twice: the first call also pays for OpenBLAS's one-time set-up.
  PeacMatchContext *ctx = peac_match_context_new (&src, tg, NT, D, NULL, err, sizeof err);
  peac_match_context_free (ctx);
  gint64 t0 = g_get_monotonic_time ();
  ctx = peac_match_context_new (&src, tg, NT, D, NULL, err, sizeof err);
  gint64 t1 = g_get_monotonic_time ();
  g_assert_nonnull (ctx);
  PeacMatch m[NT], m2[NT];
  float map[GG * GG];
  const int reps = 200;
  for (int i = 0; i < reps; i++)
    for (int t = 0; t < NT; t++)
      peac_match_query (ctx, t, 17.0 * (i % 13), 11.0 * (i % 19), PEAC_MATCH_GUIDED, &m[t], map);
  gint64 t2 = g_get_monotonic_time ();
  g_test_message ("context for %d targets of %d×%d×%d: %.2f ms; one query against all: %.1f µs",
                  NT, GG, GG, D, (t1 - t0) / 1e3, (double) (t2 - t1) / reps);
  for (int t = 0; t < NT; t++)
    {
      peac_match_query (ctx, t, 17.0 * ((reps - 1) % 13), 11.0 * ((reps - 1) % 19),
                        PEAC_MATCH_GUIDED, &m2[t], NULL);
      g_assert_cmpfloat (m2[t].x, ==, m[t].x);
      g_assert_cmpfloat (m2[t].confidence, ==, m[t].confidence);
    }
  peac_match_context_free (ctx);
  g_free (tok);
  g_rand_free (rng);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/match/translation", test_translation);
  g_test_add_func ("/match/bilinear", test_bilinear);
  g_test_add_func ("/match/blanked", test_blanked);
  g_test_add_func ("/match/affine-warp", test_affine_warp);
  g_test_add_func ("/match/deform-warp", test_deform_warp);
  g_test_add_func ("/match/buddies", test_buddies);
  g_test_add_func ("/match/ncc", test_ncc);
  g_test_add_func ("/match/query-cost", test_query_cost);
  return g_test_run ();
}
