// SPDX-License-Identifier: GPL-3.0-or-later
//
// preprocess: resize (separable triangle filter, PIL-style antialiasing), crop, normalise
// and channel replication of a grey radiograph into the network's NCHW input.
#include "preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Taps of output sample i for a length n_in → n_out resize: the triangle kernel
// max(0, 1 − |x|) stretched by the downscale factor, centred on (i + ½)·n_in/n_out,
// weights normalised to sum 1.
static int
taps (int i, int n_in, int n_out, int *j0, float *wt, int max_taps)
{
  const double scale = (double) n_in / n_out, support = scale > 1 ? scale : 1.0;
  const double center = (i + 0.5) * scale;
  int lo = (int) floor (center - support), hi = (int) ceil (center + support);
  lo = lo < 0 ? 0 : lo;
  hi = hi > n_in ? n_in : hi;
  if (hi - lo > max_taps)
    hi = lo + max_taps;
  double sum = 0;
  for (int j = lo; j < hi; j++)
    {
      double x = fabs ((j + 0.5 - center) / support);
      double v = x < 1 ? 1 - x : 0;
      wt[j - lo] = (float) v;
      sum += v;
    }
  for (int j = lo; j < hi; j++)
    wt[j - lo] = sum > 0 ? (float) (wt[j - lo] / sum) : 0.0f;
  *j0 = lo;
  return hi - lo;
}

void
peac_resample_1d (const float *src, int n_in, float *dst, int n_out, int first, int count)
{
  int max_taps = 2 * (n_in / n_out + 2) + 2;
  float *wt = malloc ((size_t) max_taps * sizeof *wt);
  for (int k = 0; k < count; k++)
    {
      int j0, n = taps (first + k, n_in, n_out, &j0, wt, max_taps);
      double s = 0;
      for (int t = 0; t < n; t++)
        s += (double) wt[t] * src[j0 + t];
      dst[k] = (float) s;
    }
  free (wt);
}

int
peac_preprocess (const float *grey, int w, int h, const PeacPreprocess *p, float *out)
{
  const int S = p->size;
  if (!grey || w <= 0 || h <= 0 || S <= 0 || !(p->std > 0))
    return -1;
  // Resized size (rw, rh) and the crop window [x0, x0 + S) × [y0, y0 + S) inside it.
  int rw = S, rh = S, x0 = 0, y0 = 0;
  if (p->crop)
    {
      if (w <= h)
        rh = (int) ((double) S * h / w); // torchvision: long side = int(size · long / short)
      else
        rw = (int) ((double) S * w / h);
      rw = rw < S ? S : rw;
      rh = rh < S ? S : rh;
      x0 = (int) lround ((rw - S) / 2.0);
      y0 = (int) lround ((rh - S) / 2.0);
    }
  // Horizontal pass on every input row (only the S output columns kept), then vertical.
  float *tmp = malloc ((size_t) h * S * sizeof *tmp);
  float *col = malloc ((size_t) (h > S ? h : S) * sizeof *col);
  float *res = malloc ((size_t) S * sizeof *res);
  if (!tmp || !col || !res)
    {
      free (tmp), free (col), free (res);
      return -1;
    }
  for (int y = 0; y < h; y++)
    peac_resample_1d (grey + (size_t) y * w, w, tmp + (size_t) y * S, rw, x0, S);
  const float inv = 1.0f / p->std;
  for (int x = 0; x < S; x++)
    {
      for (int y = 0; y < h; y++)
        col[y] = tmp[(size_t) y * S + x];
      peac_resample_1d (col, h, res, rh, y0, S);
      for (int y = 0; y < S; y++)
        out[(size_t) y * S + x] = (res[y] - p->mean) * inv;
    }
  memcpy (out + (size_t) S * S, out, (size_t) S * S * sizeof (float));
  memcpy (out + (size_t) 2 * S * S, out, (size_t) S * S * sizeof (float));
  free (tmp), free (col), free (res);
  return 0;
}

int
peac_dense_pad (int side, int patch, int stride)
{
  if (stride <= 0 || stride == patch)
    return 0;
  if (stride > patch || (patch - stride) % 2 || side % stride)
    return -1;
  return (patch - stride) / 2;
}

void
peac_pad_edges (const float *in, int C, int side, int pad, float *out)
{
  const int n = side + 2 * pad;
  for (int c = 0; c < C; c++)
    for (int y = 0; y < n; y++)
      {
        const int sy = y < pad ? 0 : y - pad >= side ? side - 1 : y - pad;
        const float *row = in + ((size_t) c * side + sy) * side;
        float *o = out + ((size_t) c * n + y) * n;
        for (int x = 0; x < n; x++)
          o[x] = row[x < pad ? 0 : x - pad >= side ? side - 1 : x - pad];
      }
}
