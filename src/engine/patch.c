// SPDX-License-Identifier: GPL-3.0-or-later
//
// patch: the image-to-token ops of a vision transformer. Patch embedding is a strided
// convolution with kernel = patch, computed as im2col (one row of Cin·P·P pixels per
// patch, in the conv weight's [Cin, P, P] order) followed by one GEMM; a stride below the
// patch size gives overlapping patches (dense embedding). Position-embedding resampling
// reproduces timm's resample_abs_pos_embed (PyTorch bicubic, align_corners=False, no
// antialias) so a model trained at one grid runs at another.
#include "ops.h"
#include "ops-internal.h"

#include <math.h>
#include <string.h>

#include "pool.h"

size_t
op_patch_embed_col_floats (int B, int Cin, int H, int W, int P, int S)
{
  int gh = (H - P) / S + 1, gw = (W - P) / S + 1;
  return (size_t) B * gh * gw * Cin * P * P;
}

typedef struct {
  float       *col;
  const float *in;
  int          Cin, H, W, P, S, gh, gw, rows, parts;
} Im2colJob;

// col[(b·gh + y)·gw + x, (c·P + i)·P + j] = in[b, c, y·S + i, x·S + j] for one range of rows.
static void
im2col_part (void *ctx, int t, int thread)
{
  const Im2colJob *j = ctx;
  const int P = j->P, K = j->Cin * P * P;
  const int r0 = (int) ((long) j->rows * t / j->parts), r1 = (int) ((long) j->rows * (t + 1) / j->parts);
  for (int r = r0; r < r1; r++)
    {
      const int bb = r / (j->gh * j->gw), y = (r / j->gw) % j->gh, x = r % j->gw;
      float *dst = j->col + (size_t) r * K;
      for (int c = 0; c < j->Cin; c++)
        for (int i = 0; i < P; i++)
          memcpy (dst + ((size_t) c * P + i) * P,
                  j->in + (((size_t) bb * j->Cin + c) * j->H + (size_t) y * j->S + i) * j->W
                      + (size_t) x * j->S,
                  (size_t) P * sizeof (float));
    }
}

void
op_patch_embed_forward (float *out, float *col, const float *in, const float *w,
                        const float *b, int B, int Cin, int H, int W, int P, int S, int D)
{
  const int gh = (H - P) / S + 1, gw = (W - P) / S + 1;
  const int rows = B * gh * gw;
  const int nt = peac_threads_get ();
  Im2colJob j = { col, in, Cin, H, W, P, S, gh, gw, rows, nt };
  peac_parallel_for (nt, nt, im2col_part, &j);
  // out[rows, D] = col[rows, K] · w[D, K]ᵀ + b
  op_linear_forward (out, col, w, b, rows, Cin * P * P, D);
}

void
op_patch_embed_forward_naive (float *out, const float *in, const float *w, const float *b,
                              int B, int Cin, int H, int W, int P, int S, int D)
{
  const int gh = (H - P) / S + 1, gw = (W - P) / S + 1;
  for (int bb = 0; bb < B; bb++)
    for (int y = 0; y < gh; y++)
      for (int x = 0; x < gw; x++)
        for (int d = 0; d < D; d++)
          {
            double s = b ? b[d] : 0.0;
            for (int c = 0; c < Cin; c++)
              for (int i = 0; i < P; i++)
                for (int j = 0; j < P; j++)
                  s += (double) w[(((size_t) d * Cin + c) * P + i) * P + j]
                       * in[(((size_t) bb * Cin + c) * H + y * S + i) * W + x * S + j];
            out[(((size_t) bb * gh + y) * gw + x) * D + d] = (float) s;
          }
}

// Cubic convolution weights (Keys, A = −0.75, as PyTorch) for fractional offset t ∈ [0, 1)
// of the taps at −1, 0, 1, 2.
static void
cubic_weights (float t, float wt[4])
{
  const float A = -0.75f;
  float x;
  x = t + 1.0f; // |x| in [1, 2)
  wt[0] = ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A;
  x = t;        // |x| in [0, 1)
  wt[1] = ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f;
  x = 1.0f - t;
  wt[2] = ((A + 2.0f) * x - (A + 3.0f)) * x * x + 1.0f;
  x = 2.0f - t;
  wt[3] = ((A * x - 5.0f * A) * x + 8.0f * A) * x - 4.0f * A;
}

static int
clampi (int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

void
op_pos_embed_resample (float *out, const float *pos, int num_prefix, int gh0, int gw0,
                       int gh, int gw, int D)
{
  memcpy (out, pos, (size_t) num_prefix * D * sizeof (float));
  const float *grid = pos + (size_t) num_prefix * D;
  float *dst = out + (size_t) num_prefix * D;
  // PyTorch: scale = in/out as float; src = scale·(dst + ½) − ½ (not clamped for cubic);
  // taps floor(src) − 1 … + 2 clamped to the border.
  const float sy = (float) gh0 / (float) gh, sx = (float) gw0 / (float) gw;
  for (int y = 0; y < gh; y++)
    {
      float fy = sy * ((float) y + 0.5f) - 0.5f;
      int iy = (int) floorf (fy);
      float wy[4];
      cubic_weights (fy - (float) iy, wy);
      for (int x = 0; x < gw; x++)
        {
          float fx = sx * ((float) x + 0.5f) - 0.5f;
          int ix = (int) floorf (fx);
          float wx[4];
          cubic_weights (fx - (float) ix, wx);
          float *o = dst + ((size_t) y * gw + x) * D;
          for (int d = 0; d < D; d++)
            o[d] = 0.0f;
          // PyTorch interpolates along x for each of the four rows, then along y.
          for (int a = 0; a < 4; a++)
            {
              int yy = clampi (iy - 1 + a, 0, gh0 - 1);
              for (int d = 0; d < D; d++)
                {
                  float row = 0.0f;
                  for (int c = 0; c < 4; c++)
                    {
                      int xx = clampi (ix - 1 + c, 0, gw0 - 1);
                      row += wx[c] * grid[((size_t) yy * gw0 + xx) * D + d];
                    }
                  o[d] += wy[a] * row;
                }
            }
        }
    }
}
