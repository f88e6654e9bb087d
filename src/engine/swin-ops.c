// SPDX-License-Identifier: GPL-3.0-or-later
//
// swin-ops: the window geometry of Swin that is not a GEMM: the per-stage window and shift
// rule, the relative position index, the shifted-window attention mask, cyclic shift fused
// with window partition / reverse, and the PatchMerging gather and its backward scatter.
// Pure index arithmetic over NHWC float arrays; every function here is its own reference (tests compare against
// PyTorch fixtures and against the Microsoft formulas written out independently).
#include "swin.h"
#include "ops.h"

#include <stddef.h>
#include <string.h>

#include "pool.h"

void
swin_stage_window (int H, int W, int window, int *wh, int *ww, int *sh, int *sw)
{
  // timm _calc_window_shift / Microsoft SwinTransformerBlock.__init__: clamp the window to
  // the resolution; a stage that fits in one window is not shifted.
  *wh = H <= window ? H : window;
  *ww = W <= window ? W : window;
  *sh = H <= window ? 0 : window / 2;
  *sw = W <= window ? 0 : window / 2;
}

void
swin_relative_position_index (int *index, int wh, int ww, int tw)
{
  int N = wh * ww;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++)
      {
        int dr = i / ww - j / ww, dc = i % ww - j % ww;
        index[(size_t) i * N + j] = (dr + tw - 1) * (2 * tw - 1) + (dc + tw - 1);
      }
}

// Region of one coordinate of the rolled frame: Microsoft slices (0, −w), (−w, −s), (−s, ∞).
static int
region (int r, int n, int w, int s)
{
  if (s == 0)
    return 0;
  return r < n - w ? 0 : (r < n - s ? 1 : 2);
}

void
swin_attn_mask (float *mask, int H, int W, int wh, int ww, int sh, int sw)
{
  int nWw = W / ww, nW = (H / wh) * nWw, N = wh * ww;
  for (int w = 0; w < nW; w++)
    {
      int r0 = (w / nWw) * wh, c0 = (w % nWw) * ww;
      float *m = mask + (size_t) w * N * N;
      for (int i = 0; i < N; i++)
        {
          int ri = 3 * region (r0 + i / ww, H, wh, sh) + region (c0 + i % ww, W, ww, sw);
          for (int j = 0; j < N; j++)
            {
              int rj = 3 * region (r0 + j / ww, H, wh, sh) + region (c0 + j % ww, W, ww, sw);
              m[(size_t) i * N + j] = ri == rj ? 0.0f : -100.0f;
            }
        }
    }
}

// Token (b, wi·wh + i, wj·ww + j) of the rolled frame is token (b, (· + sh) mod H, …) of x.
static size_t
src_row (int b, int H, int W, int r, int c, int sh, int sw)
{
  int y = (r + sh) % H, x = (c + sw) % W;
  return ((size_t) b * H + y) * W + x;
}

// Window copies run over (image, window row) pairs on the engine's pool.
typedef struct {
  float       *dst;
  const float *src;
  int          H, W, C, wh, ww, sh, sw, add;
} WindowJob;

static void
window_rows (void *ctx, int task, int thread)
{
  (void) thread;
  const WindowJob *j = ctx;
  const int nWh = j->H / j->wh, nWw = j->W / j->ww, C = j->C;
  const int b = task / nWh, wr = task % nWh;
  for (int wc = 0; wc < nWw; wc++)
    for (int i = 0; i < j->wh; i++)
      for (int jj = 0; jj < j->ww; jj++)
        {
          size_t w = ((((size_t) b * nWh + wr) * nWw + wc) * j->wh + i) * j->ww + jj;
          size_t x = src_row (b, j->H, j->W, wr * j->wh + i, wc * j->ww + jj, j->sh, j->sw);
          if (j->add)
            {
              float *d = j->dst + x * C;
              const float *s = j->src + w * C;
              for (int k = 0; k < C; k++)
                d[k] += s[k];
            }
          else
            memcpy (j->dst + w * C, j->src + x * C, (size_t) C * sizeof (float));
        }
}

void
swin_window_partition (float *win, const float *x, int B, int H, int W, int C,
                       int wh, int ww, int sh, int sw)
{
  WindowJob j = { win, x, H, W, C, wh, ww, sh, sw, 0 };
  peac_parallel_for (B * (H / wh), peac_threads_get (), window_rows, &j);
}

void
swin_window_reverse_add (float *x, const float *win, int B, int H, int W, int C,
                         int wh, int ww, int sh, int sw)
{
  WindowJob j = { x, win, H, W, C, wh, ww, sh, sw, 1 };
  peac_parallel_for (B * (H / wh), peac_threads_get (), window_rows, &j);
}

// The gather reads grid and writes packed; the scatter (its backward) the other way round.
typedef struct {
  float *packed, *grid;
  int    H, W, C, scatter;
} MergeJob;

// One output row of PatchMerging: out[b, r, c] = x[b, 2r, 2c] | x[b, 2r+1, 2c] |
// x[b, 2r, 2c+1] | x[b, 2r+1, 2c+1] (the Microsoft/timm x0 x1 x2 x3 order).
static void
merge_row (void *ctx, int task, int thread)
{
  (void) thread;
  static const int dr[4] = { 0, 1, 0, 1 }, dc[4] = { 0, 0, 1, 1 };
  const MergeJob *j = ctx;
  const int Ho = j->H / 2, Wo = j->W / 2, C = j->C, b = task / Ho, r = task % Ho;
  for (int c = 0; c < Wo; c++)
    {
      float *d = j->packed + (((size_t) b * Ho + r) * Wo + c) * 4 * C;
      for (int q = 0; q < 4; q++)
        {
          float *x = j->grid + (((size_t) b * j->H + 2 * r + dr[q]) * j->W + 2 * c + dc[q]) * C;
          if (j->scatter)
            memcpy (x, d + (size_t) q * C, (size_t) C * sizeof (float));
          else
            memcpy (d + (size_t) q * C, x, (size_t) C * sizeof (float));
        }
    }
}

void
swin_merge_gather (float *out, const float *x, int B, int H, int W, int C)
{
  MergeJob j = { out, (float *) x, H, W, C, 0 };
  peac_parallel_for (B * (H / 2), peac_threads_get (), merge_row, &j);
}

void
swin_merge_scatter (float *dx, const float *dout, int B, int H, int W, int C)
{
  MergeJob j = { (float *) dout, dx, H, W, C, 1 };
  peac_parallel_for (B * (H / 2), peac_threads_get (), merge_row, &j);
}
