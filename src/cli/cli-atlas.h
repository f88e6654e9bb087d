// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-atlas: what `peac propagate` and `peac eval-landmarks --atlas` share — a folder of
// annotated radiographs (an atlas) read in any of the three landmark layouts, each image
// embedded once into its dense token grid and a global embedding, the choice of the K
// references most like a target, and the propagation of every reference landmark onto the
// target through the guided matcher with the K answers fused per point (landmark-fuse.h).
#pragma once

#include <stddef.h>

#include "match.h"
#include "model.h"

typedef struct {
  char   *name;          // the image's id (JSRT, CSV layouts) or file stem (JSON layout)
  char   *image_path;
  char   *source;        // the landmark file or folder named in messages
  int     width, height; // image pixels (0 until known)
  int     n;             // landmarks
  double *xy;            // [n, 2] image pixels, pixel-centre convention
  char  **point;         // [n] point names ("RL.3"), the identity fusion matches on
  char  **structure;     // [n] structure or NULL
  float  *tok;           // [gh, gw, dim] dense tokens (after cli_atlas_embed)
  float  *global;        // [dim] unit mean token
} CliAtlasImage;

typedef struct {
  CliAtlasImage *img;
  int            n;
} CliAtlas;

// The model side: the model, its input side, patch and stride, and the grid it gives.
typedef struct {
  PeacModel *model;
  int        side, patch, stride;
  int        gh, gw, dim;
  char      *cache_dir;  // token cache folder, or NULL: no cache
  char      *model_key;  // SHA-256 of the model file's content (with a cache)
} CliEmbedder;

// Sets up e for model m at stride (0: the patch size; ViT only). 0, or −1 with err (then a
// bad command line rather than bad data).
int  cli_embedder_init (CliEmbedder *e, PeacModel *m, int stride, char *err, size_t errlen);
// Keeps every image's tokens under <user cache>/peac-explorer/tokens, keyed by the SHA-256
// of the model file, of the image file and the grid, so that a later run with the same
// references only reads them back. 0, or −1 with err when the model cannot be read.
int  cli_embedder_use_cache (CliEmbedder *e, const char *model_path, char *err,
                             size_t errlen);
void cli_embedder_clear (CliEmbedder *e);
// Dense tokens [gh, gw, dim] and the unit mean token [dim] of one image (from the cache when
// it holds them); the image's size in *width, *height. 0, or −1 with a message naming the
// file.
int  cli_embedder_run (const CliEmbedder *e, const char *path, float *tok, float *global,
                       int *width, int *height, char *err, size_t errlen);

// Reads every annotated image of dir: the JSRT layout (images_2048/,
// hybridgnet_landmarks_1024/), the per-image CSV layout (geometry.csv, image_frame_csv/,
// image paths relative to root; NULL: the folder two levels up), or *.landmarks.json files
// whose image.path (relative to dir when not absolute) names their radiograph. Landmarks
// only; nothing is embedded yet. 0, or −1 with a message naming the file and the reason
// (no annotated image, an image without landmarks, a landmark file without image).
int  cli_atlas_load (CliAtlas *a, const char *dir, const char *root, char *err,
                     size_t errlen);
// Keeps the first n images of a.
void cli_atlas_truncate (CliAtlas *a, int n);
// Embeds every image of a (tok, global, width, height). 0, or −1 with err.
int  cli_atlas_embed (CliAtlas *a, const CliEmbedder *e, char *err, size_t errlen);
void cli_atlas_clear (CliAtlas *a);

// The structures shared by ref and target and their point counts must agree: 0, or −1 with a
// message naming the two files (a shared structure with a different number of points, no
// structure in common). Points are compared by structure; target may have no points (a
// target to propagate onto), in which case only ref is checked for having some.
int  cli_atlas_check_shared (const CliAtlasImage *ref, const CliAtlasImage *target,
                             char *err, size_t errlen);

// The K references of a most like the target's global embedding (cosine), skipping
// `exclude` (−1: none); out [k]. Returns how many were chosen.
int  cli_atlas_pick (const CliAtlas *a, const float *global, int dim, int exclude, int k,
                     int *out);

// Candidates per kept reference: a target is registered with CLI_ATLAS_CANDIDATES·K
// references chosen by global embedding (as many as the atlas has), and the K that
// register best (peac_match_score) are fused.
#define CLI_ATLAS_CANDIDATES 2

// One target's fused answer for the points of the first candidate cand[0] (its point
// names, in its order): every candidate cand [n_cand] is registered onto the target, the k
// with the highest registration score are kept, and each point's answers in them are fused
// by weighted median, weights the registration score times the similarity of the point's
// token at its answer (floored at 0.01). xy [n, 2] target pixels; spread [n] pixels (the
// weighted median of the answers' distances to the fused point; 0 for k = 1); found [n]
// how many kept references' matchers confirmed the point; weight [n_cand] each candidate's
// registration score (0: not kept). Points of cand[0] missing from a reference are fused
// from those that have them. mean_xy [n, 2] (may be NULL): the kept references'
// coordinates averaged in relative image coordinates, no matching (the mean-shape
// baseline). 0, or −1 with err.
int  cli_atlas_propagate (const CliAtlas *a, const int *cand, int n_cand, int k,
                          const CliEmbedder *e, const float *tok, int width, int height,
                          const PeacMatchParams *mp, double *xy, double *spread,
                          int *found, double *weight, double *mean_xy, char *err,
                          size_t errlen);

// A fused point is confirmed when its spread is at most this many of the model's patch cells
// (the image width over the patch grid's width: 0.5 cells is 73 px of a 2048-px JSRT image
// under a 224-px, 16-px-patch ViT, 12.8 mm). With one reference there is no spread: the
// point is confirmed when the matcher confirmed it.
#define CLI_ATLAS_SPREAD_CELLS 0.5
int  cli_atlas_confirmed (double spread, int k, int found, int width, const CliEmbedder *e);

// `peac eval-landmarks --atlas` (cli-eval-atlas.c): the options it takes over from
// eval-landmarks, and the run itself, which prints its figures. Returns the exit code.
typedef struct {
  const char     *model_path;   // for the token cache's key
  const char     *data, *atlas, *root;
  int             k, stride, max_images, json;
  int             cache;        // 1: cli_embedder_use_cache
  double          pixel_mm;     // size of a 1024-frame pixel in mm
  const char     *protocol;     // NULL, "hybridgnet" or "uod6"
  PeacMatchParams mp;
} CliEvalAtlasOptions;

int  cli_eval_atlas (PeacModel *m, const CliEvalAtlasOptions *o);
