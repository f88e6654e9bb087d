// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-atlas: the file side of multi-reference landmark propagation, shared by
// `peac propagate`, `peac eval-landmarks --atlas` and the app's "Propagate from
// references…" — a folder of annotated radiographs (an atlas) read in any of the three
// landmark layouts into the engine's PeacAtlas (landmark-atlas.h), each image embedded once
// into its dense token grid and global embedding (with an optional on-disk token cache),
// and a target's fused answer turned into a landmark set with its spreads, confirmation
// and cardiothoracic ratio, ready for the one JSON writer (px-landmarks.h).
#pragma once

#include <glib.h>
#include <stddef.h>

#include "landmark-atlas.h"
#include "model.h"
#include "px-landmarks.h"

// The model side: the model and the grid it gives at the chosen stride.
typedef struct {
  PeacModel    *model;
  PeacAtlasGrid grid;
  char         *cache_dir;  // token cache folder, or NULL: no cache
  char         *model_key;  // SHA-256 of the model file's content (with a cache)
} PxAtlasEmbedder;

// Sets up e for model m at stride (0: the patch size; ViT only; −1: the default, half the
// patch for a ViT, the patch for others). 0, or −1 with err (a bad command line rather than
// bad data).
int  px_atlas_embedder_init (PxAtlasEmbedder *e, PeacModel *m, int stride, char *err,
                             size_t errlen);
// Keeps every image's tokens under <user cache>/peac-explorer/tokens, keyed by the SHA-256
// of the model file, of the image file and the grid, so that a later run with the same
// references only reads them back. 0, or −1 with err when the model cannot be read.
int  px_atlas_embedder_use_cache (PxAtlasEmbedder *e, const char *model_path, char *err,
                                  size_t errlen);
void px_atlas_embedder_clear (PxAtlasEmbedder *e);
// Dense tokens [gh, gw, dim] and the unit mean token [dim] of one image (from the cache when
// it holds them); the image's size in *width, *height. 0, or −1 with a message naming the
// file.
int  px_atlas_embedder_run (const PxAtlasEmbedder *e, const char *path, float *tok,
                            float *global, int *width, int *height, char *err,
                            size_t errlen);

// Reads every annotated image of dir: the JSRT layout (images_2048/,
// hybridgnet_landmarks_1024/), the per-image CSV layout (geometry.csv, image_frame_csv/,
// image paths relative to root; NULL: the folder two levels up), or *.landmarks.json files
// whose image.path (relative to dir when not absolute) names their radiograph. Landmarks
// only; nothing is embedded yet. 0, or −1 with a message naming the file and the reason
// (no annotated image, an image without landmarks, a landmark file without image).
int  px_atlas_load (PeacAtlas *a, const char *dir, const char *root, char *err,
                    size_t errlen);
// Keeps the first n images of a.
void px_atlas_truncate (PeacAtlas *a, int n);
// Embeds image i of a (tok, global, width, height); the image must have the size its
// landmarks were made for. 0, or −1 with err.
int  px_atlas_embed_one (PeacAtlas *a, int i, const PxAtlasEmbedder *e, char *err,
                         size_t errlen);
// px_atlas_embed_one over every image of a. 0, or −1 with err.
int  px_atlas_embed (PeacAtlas *a, const PxAtlasEmbedder *e, char *err, size_t errlen);
void px_atlas_clear (PeacAtlas *a);

// One target's fused answer (peac_atlas_propagate: xy [n, 2], spread [n], found [n] for the
// points of reference r0 fused from k references) as a landmark set of the image at path
// (width × height; mm the calibrated pixel size, or 0): points named and grouped as r0's,
// spread_px (and spread_mm when mm > 0), unconfirmed where peac_atlas_confirmed says so,
// and the cardiothoracic ratio of the fused points (px_landmark_set_measure_ctr).
PxLandmarkSet *px_atlas_fused_set (const PeacAtlasImage *r0, const char *path, int width,
                                   int height, double mm, const double *xy,
                                   const double *spread, const int *found, int k,
                                   const PxAtlasEmbedder *e);
// The calibrated square pixel size of the image at path in mm, or 0 (none, not square, or
// the image does not load).
double px_atlas_pixel_mm (const char *path);
