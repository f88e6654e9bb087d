// SPDX-License-Identifier: GPL-3.0-or-later
//
// distort: appearance distortions of the student's crop (see distort.h). Intensity
// mapping: the curve B(t) = (1−t)³P0 + 3(1−t)²t P1 + 3(1−t)t² P2 + t³P3 with P0 = (0, 0),
// P3 = (1, 1) is sampled at 1000 values of t, the samples sorted by x, and each pixel v
// mapped to the piecewise-linear y(x = v) (with invert, to y(x = v) of the reversed
// sample order, i.e. 1 − v is looked up: a decreasing mapping). Painting boxes have sides
// between S/8 and S/3 (in-painting, up to 5 boxes) or S·3/7 … S·4/7 (out-painting's kept
// box), filled with uniform noise in [0, 1). The reference style maps v ↦ v^γ, may invert,
// then out-paints around one kept window or sets 1–4 blocks to one grey each.
#include "distort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BEZ_N 1000

static int
rnd (PeacRng *rng, int n) // 0 … n − 1
{
  return n > 0 ? (int) (peac_rng_u64 (rng) % (uint64_t) n) : 0;
}

void
peac_distort_defaults (PeacDistortConfig *cfg, int S)
{
  cfg->p_shuffle = 0.5;
  cfg->shuffle_windows = S * S / 64 > 1 ? S * S / 64 : 1;
  cfg->shuffle_max = S / 8 > 2 ? S / 8 : 2;
  cfg->p_bezier = 0.9;
  cfg->p_paint = 0.9;
  cfg->p_inpaint = 0.5;
  cfg->style = PEAC_DISTORT_GENESIS;
  cfg->gamma_sigma = 0.5;
  cfg->p_invert = 0.25;
}

void
peac_distort_reference_defaults (PeacDistortConfig *cfg, int S)
{
  peac_distort_defaults (cfg, S);
  cfg->style = PEAC_DISTORT_REFERENCE;
  cfg->p_shuffle = 0.0, cfg->p_bezier = 0.0;
  cfg->p_paint = 1.0, cfg->p_inpaint = 0.2;
}

const char *
peac_distort_style_name (PeacDistortStyle s)
{
  return s == PEAC_DISTORT_REFERENCE ? "reference" : "genesis";
}

int
peac_distort_style_parse (const char *name)
{
  if (name && !strcmp (name, "genesis"))
    return PEAC_DISTORT_GENESIS;
  if (name && !strcmp (name, "reference"))
    return PEAC_DISTORT_REFERENCE;
  return -1;
}

void
peac_distort_local_shuffle (float *img, int S, int windows, int max_side, PeacRng *rng)
{
  float buf[64 * 64];
  if (max_side > 64)
    max_side = 64;
  for (int k = 0; k < windows; k++)
    {
      int h = 1 + rnd (rng, max_side), w = 1 + rnd (rng, max_side);
      h = h > S ? S : h, w = w > S ? S : w;
      int y0 = rnd (rng, S - h + 1), x0 = rnd (rng, S - w + 1), n = h * w;
      for (int y = 0; y < h; y++)
        memcpy (buf + y * w, img + (size_t) (y0 + y) * S + x0, (size_t) w * sizeof (float));
      for (int i = n - 1; i > 0; i--)
        {
          int j = rnd (rng, i + 1);
          float t = buf[i];
          buf[i] = buf[j], buf[j] = t;
        }
      for (int y = 0; y < h; y++)
        memcpy (img + (size_t) (y0 + y) * S + x0, buf + y * w, (size_t) w * sizeof (float));
    }
}

typedef struct { float x, y; } Pt;

static int
cmp_pt (const void *a, const void *b)
{
  float d = ((const Pt *) a)->x - ((const Pt *) b)->x;
  return d < 0 ? -1 : d > 0;
}

void
peac_distort_bezier (float *img, int S, const float p1[2], const float p2[2], int invert)
{
  Pt *pt = malloc (BEZ_N * sizeof *pt);
  for (int i = 0; i < BEZ_N; i++)
    {
      float t = (float) i / (BEZ_N - 1), u = 1.0f - t;
      float b1 = 3 * u * u * t, b2 = 3 * u * t * t, b3 = t * t * t;
      pt[i].x = b1 * p1[0] + b2 * p2[0] + b3;
      pt[i].y = b1 * p1[1] + b2 * p2[1] + b3;
    }
  qsort (pt, BEZ_N, sizeof *pt, cmp_pt);
  for (size_t i = 0; i < (size_t) S * S; i++)
    {
      float v = invert ? 1.0f - img[i] : img[i];
      // Binary search for the segment [lo, lo + 1] holding v; clamp outside.
      float out;
      if (v <= pt[0].x)
        out = pt[0].y;
      else if (v >= pt[BEZ_N - 1].x)
        out = pt[BEZ_N - 1].y;
      else
        {
          int lo = 0, hi = BEZ_N - 1;
          while (hi - lo > 1)
            {
              int mid = (lo + hi) / 2;
              if (pt[mid].x <= v)
                lo = mid;
              else
                hi = mid;
            }
          float dx = pt[hi].x - pt[lo].x;
          float f = dx > 0 ? (v - pt[lo].x) / dx : 0.0f;
          out = pt[lo].y + f * (pt[hi].y - pt[lo].y);
        }
      img[i] = out;
    }
  free (pt);
}

static void
noise_box (float *img, int S, int y0, int x0, int h, int w, PeacRng *rng)
{
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++)
      img[(size_t) y * S + x] = (float) peac_rng_uniform (rng);
}

void
peac_distort_inpaint (float *img, int S, PeacRng *rng)
{
  const int lo = S / 8 > 1 ? S / 8 : 1, hi = S / 3 > lo ? S / 3 : lo;
  int boxes = 1 + rnd (rng, 5);
  for (int k = 0; k < boxes; k++)
    {
      int h = lo + rnd (rng, hi - lo + 1), w = lo + rnd (rng, hi - lo + 1);
      noise_box (img, S, 3 + rnd (rng, S - h - 5), 3 + rnd (rng, S - w - 5), h, w, rng);
    }
}

// Noise everywhere but one kept h × w window (sides drawn in [lo, hi]) that stays 3 px off
// the top and left edges and 2 px off the others.
static void
keep_window (float *img, int S, int lo, int hi, PeacRng *rng)
{
  hi = hi > S - 5 ? S - 5 : hi, lo = lo > hi ? hi : lo;
  int h = lo + rnd (rng, hi - lo + 1), w = lo + rnd (rng, hi - lo + 1);
  int y0 = 3 + rnd (rng, S - h - 5), x0 = 3 + rnd (rng, S - w - 5);
  float *keep = malloc ((size_t) h * w * sizeof (float));
  for (int y = 0; y < h; y++)
    memcpy (keep + (size_t) y * w, img + (size_t) (y0 + y) * S + x0, (size_t) w * sizeof (float));
  noise_box (img, S, 0, 0, S, S, rng);
  for (int y = 0; y < h; y++)
    memcpy (img + (size_t) (y0 + y) * S + x0, keep + (size_t) y * w, (size_t) w * sizeof (float));
  free (keep);
}

void
peac_distort_outpaint (float *img, int S, PeacRng *rng)
{
  keep_window (img, S, 3 * S / 7, 4 * S / 7, rng);
}

// A length of the reference's 224-px crop, scaled to a crop of side S (at least 1).
static int
ref_px (int px, int S)
{
  int v = (int) lround ((double) px * S / 224.0);
  return v > 1 ? v : 1;
}

void
peac_distort_outpaint_window (float *img, int S, PeacRng *rng)
{
  keep_window (img, S, ref_px (80, S), ref_px (160, S), rng);
}

void
peac_distort_inpaint_grey (float *img, int S, PeacRng *rng)
{
  int lo = ref_px (30, S), hi = ref_px (70, S);
  hi = hi > S ? S : hi, lo = lo > hi ? hi : lo;
  int blocks = 1 + rnd (rng, 4);
  for (int k = 0; k < blocks; k++)
    {
      int h = lo + rnd (rng, hi - lo + 1), w = lo + rnd (rng, hi - lo + 1);
      int y0 = rnd (rng, S - h + 1), x0 = rnd (rng, S - w + 1);
      float grey = (float) peac_rng_uniform (rng);
      for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
          img[(size_t) y * S + x] = grey;
    }
}

void
peac_distort_gamma (float *img, int S, double gamma)
{
  for (size_t i = 0; i < (size_t) S * S; i++)
    img[i] = img[i] > 0.0f ? (float) pow (img[i], gamma) : 0.0f;
}

// The reference style: gamma always (σ = 0 leaves the crop as it is), inversion, painting.
static int
apply_reference (float *img, int S, const PeacDistortConfig *cfg, PeacRng *rng)
{
  int done = 0;
  if (cfg->gamma_sigma > 0)
    {
      peac_distort_gamma (img, S, exp (cfg->gamma_sigma * peac_rng_normal (rng)));
      done |= 16;
    }
  if (peac_rng_uniform (rng) < cfg->p_invert)
    {
      for (size_t i = 0; i < (size_t) S * S; i++)
        img[i] = 1.0f - img[i];
      done |= 32;
    }
  if (S >= 16 && peac_rng_uniform (rng) < cfg->p_paint)
    {
      if (peac_rng_uniform (rng) < cfg->p_inpaint)
        peac_distort_inpaint_grey (img, S, rng), done |= 4;
      else
        peac_distort_outpaint_window (img, S, rng), done |= 8;
    }
  return done;
}

int
peac_distort_apply (float *img, int S, const PeacDistortConfig *cfg, PeacRng *rng)
{
  if (cfg->style == PEAC_DISTORT_REFERENCE)
    return apply_reference (img, S, cfg, rng);
  int done = 0;
  if (peac_rng_uniform (rng) < cfg->p_shuffle)
    {
      peac_distort_local_shuffle (img, S, cfg->shuffle_windows, cfg->shuffle_max, rng);
      done |= 1;
    }
  if (peac_rng_uniform (rng) < cfg->p_bezier)
    {
      float p1[2] = { (float) peac_rng_uniform (rng), (float) peac_rng_uniform (rng) };
      float p2[2] = { (float) peac_rng_uniform (rng), (float) peac_rng_uniform (rng) };
      peac_distort_bezier (img, S, p1, p2, peac_rng_uniform (rng) < 0.5);
      done |= 2;
    }
  if (S >= 16 && peac_rng_uniform (rng) < cfg->p_paint)
    {
      if (peac_rng_uniform (rng) < cfg->p_inpaint)
        peac_distort_inpaint (img, S, rng), done |= 4;
      else
        peac_distort_outpaint (img, S, rng), done |= 8;
    }
  return done;
}
