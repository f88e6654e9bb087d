// SPDX-License-Identifier: GPL-3.0-or-later
//
// match-ncc: the pixel baseline for correspondence — exhaustive zero-mean normalised
// cross-correlation template matching. Each query point's patch×patch template is
// centred, scaled to unit norm and stacked into T [n, P²]; the target's patches are
// unrolled a band of rows at a time into C [positions, P²] (im2col) and scored for all
// templates at once with one sgemm, NCC = C·Tᵀ / ‖patch − mean‖. Memory stays bounded by
// the band size whatever the image size.
#include "match.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
clampi (int x, int lo, int hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

int
peac_ncc_match (const float *src, int sw, int sh, const float *tgt, int tw, int th,
                int patch, const float *xy, int n, float *out_xy, float *score)
{
  const int P = patch, PP = patch * patch;
  if (P <= 0 || P > sw || P > sh || P > tw || P > th || n < 0)
    return -1;
  if (n == 0)
    return 0;
  const int nx = tw - P + 1, ny = th - P + 1;
  const int band = 16;   // rows of positions unrolled per sgemm
  float *T = malloc ((size_t) n * PP * sizeof *T);
  float *C = malloc ((size_t) band * nx * PP * sizeof *C);
  float *R = malloc ((size_t) band * nx * n * sizeof *R);
  float *best = malloc ((size_t) n * sizeof *best);
  int *arg = malloc ((size_t) n * sizeof *arg);
  unsigned char *flat = calloc ((size_t) n, 1);
  if (!T || !C || !R || !best || !arg || !flat)
    {
      free (T), free (C), free (R), free (best), free (arg), free (flat);
      return -1;
    }

  // Templates: zero mean, unit norm (flat ones are marked and answered separately).
  for (int k = 0; k < n; k++)
    {
      int x0 = clampi ((int) lround (xy[2 * k] - 0.5 * P), 0, sw - P);
      int y0 = clampi ((int) lround (xy[2 * k + 1] - 0.5 * P), 0, sh - P);
      float *t = T + (size_t) k * PP;
      double sum = 0;
      for (int r = 0; r < P; r++)
        for (int c = 0; c < P; c++)
          sum += t[r * P + c] = src[(size_t) (y0 + r) * sw + x0 + c];
      double mean = sum / PP, ss = 0;
      for (int i = 0; i < PP; i++)
        {
          t[i] -= (float) mean;
          ss += (double) t[i] * t[i];
        }
      if (ss < 1e-12)
        flat[k] = 1;
      float inv = ss < 1e-12 ? 0.0f : (float) (1.0 / sqrt (ss));
      for (int i = 0; i < PP; i++)
        t[i] *= inv;
      best[k] = -INFINITY;
      arg[k] = 0;
    }

  for (int y0 = 0; y0 < ny; y0 += band)
    {
      int rows = ny - y0 < band ? ny - y0 : band, m = rows * nx;
      for (int yy = 0; yy < rows; yy++)
        for (int x = 0; x < nx; x++)
          {
            float *c = C + (size_t) (yy * nx + x) * PP;
            for (int r = 0; r < P; r++)
              memcpy (c + r * P, tgt + (size_t) (y0 + yy + r) * tw + x, (size_t) P * sizeof *c);
          }
      // R[m, n] = C[m, PP] · T[n, PP]ᵀ  (templates are zero-mean, so the patch mean drops out)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, m, n, PP, 1.0f, C, PP, T, PP,
                   0.0f, R, n);
      for (int i = 0; i < m; i++)
        {
          const float *c = C + (size_t) i * PP;
          double s = 0, ss = 0;
          for (int q = 0; q < PP; q++)
            {
              s += c[q];
              ss += (double) c[q] * c[q];
            }
          double var = ss - s * s / PP;
          if (var < 1e-9)
            continue;   // flat target patch: NCC undefined, never the answer
          float inv = (float) (1.0 / sqrt (var));
          const float *r = R + (size_t) i * n;
          int pos = (y0 + i / nx) * nx + i % nx;
          for (int k = 0; k < n; k++)
            if (r[k] * inv > best[k])
              best[k] = r[k] * inv, arg[k] = pos;
        }
    }

  for (int k = 0; k < n; k++)
    {
      if (flat[k] || !isfinite (best[k]))
        {
          // No texture to match: answer the same relative position, score 0.
          out_xy[2 * k] = (float) (xy[2 * k] * tw / sw);
          out_xy[2 * k + 1] = (float) (xy[2 * k + 1] * th / sh);
          if (score)
            score[k] = 0.0f;
          continue;
        }
      out_xy[2 * k] = (float) (arg[k] % nx) + 0.5f * P;
      out_xy[2 * k + 1] = (float) (arg[k] / nx) + 0.5f * P;
      if (score)
        score[k] = best[k];
    }
  free (T), free (C), free (R), free (best), free (arg), free (flat);
  return 0;
}
