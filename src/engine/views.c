// SPDX-License-Identifier: GPL-3.0-or-later
//
// views: sampling of PEAC's grid-aligned crop pairs, their cell pairing, cutting, and the
// order branch's cell permutation (see views.h). The lattice origin is uniform over the
// positions that leave room for G + max_shift cells; crop 1's offset is uniform over the
// lattice, and crop 2's is crop 1's shifted by a uniform (Δr, Δc) ∈ [−max_shift,
// max_shift]², redrawn until the crop fits. A whole-cell shift below G always overlaps.
#include "views.h"

#include <string.h>

static int
uniform_int (PeacRng *rng, int n) // 0 … n − 1
{
  return (int) (peac_rng_u64 (rng) % (uint64_t) n);
}

int
peac_views_sample (const PeacViewConfig *cfg, int img_h, int img_w, PeacRng *rng,
                   PeacViewPair *v)
{
  const int G = cfg->grid, cell = cfg->cell, ms = cfg->max_shift;
  if (G < 1 || G > PEAC_VIEWS_MAX_GRID || cell < 1 || ms < 1 || ms >= G
      || img_h < (G + ms) * cell || img_w < (G + ms) * cell)
    return -1;
  memset (v, 0, sizeof *v);
  v->grid = G, v->cell = cell;
  // Lattice: cells_h × cells_w whole cells from the origin; the leftover pixels place it.
  int cells_h = img_h / cell, cells_w = img_w / cell;
  v->oy = uniform_int (rng, img_h - cells_h * cell + 1);
  v->ox = uniform_int (rng, img_w - cells_w * cell + 1);
  v->dr[0] = uniform_int (rng, cells_h - G + 1);
  v->dc[0] = uniform_int (rng, cells_w - G + 1);
  for (;;)
    {
      int sr = uniform_int (rng, 2 * ms + 1) - ms, sc = uniform_int (rng, 2 * ms + 1) - ms;
      int r = v->dr[0] + sr, c = v->dc[0] + sc;
      if (r >= 0 && c >= 0 && r + G <= cells_h && c + G <= cells_w)
        {
          v->dr[1] = r, v->dc[1] = c;
          return 0;
        }
    }
}

int
peac_views_pairs (const PeacViewPair *v, int *pair)
{
  const int G = v->grid, sr = v->dr[0] - v->dr[1], sc = v->dc[0] - v->dc[1];
  int n = 0;
  for (int r = 0; r < G; r++)
    for (int c = 0; c < G; c++)
      {
        // Crop-1 cell (r, c) is lattice cell (dr1 + r, dc1 + c) = crop-2 cell (r + sr, c + sc).
        int r2 = r + sr, c2 = c + sc;
        int ok = r2 >= 0 && r2 < G && c2 >= 0 && c2 < G;
        pair[r * G + c] = ok ? r2 * G + c2 : -1;
        n += ok;
      }
  return n;
}

void
peac_views_cut (const PeacViewPair *v, int k, const float *img, int C, int img_h, int img_w,
                float *out)
{
  const int S = v->grid * v->cell;
  const int y0 = v->oy + v->dr[k] * v->cell, x0 = v->ox + v->dc[k] * v->cell;
  for (int ch = 0; ch < C; ch++)
    for (int y = 0; y < S; y++)
      memcpy (out + ((size_t) ch * S + y) * S,
              img + ((size_t) ch * img_h + y0 + y) * img_w + x0, (size_t) S * sizeof (float));
}

void
peac_views_permutation (PeacRng *rng, int *perm, int n)
{
  for (int i = 0; i < n; i++)
    perm[i] = i;
  for (int i = n - 1; i > 0; i--)
    {
      int j = uniform_int (rng, i + 1), t = perm[i];
      perm[i] = perm[j], perm[j] = t;
    }
}

void
peac_views_shuffle_cells (const float *in, float *out, const int *perm, int C, int G, int cell)
{
  const int S = G * cell;
  for (int i = 0; i < G * G; i++)
    {
      const int ry = (i / G) * cell, rx = (i % G) * cell;                 // destination
      const int sy = (perm[i] / G) * cell, sx = (perm[i] % G) * cell;     // source
      for (int ch = 0; ch < C; ch++)
        for (int y = 0; y < cell; y++)
          memcpy (out + ((size_t) ch * S + ry + y) * S + rx,
                  in + ((size_t) ch * S + sy + y) * S + sx, (size_t) cell * sizeof (float));
    }
}
