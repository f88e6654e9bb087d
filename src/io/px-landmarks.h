// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-landmarks: named points on one radiograph, from three sources — the HybridGNet .npy
// landmark sets of the JSRT layout (`images_2048/<ID>.IMG.png` with
// `hybridgnet_landmarks_1024/{RL,LL,H,RCLA,LCLA}/<ID>.npy`, (N, 2) float32/float64 x, y in
// a 1024×1024 frame, scaled here to the image), the per-image CSVs of the Shenzhen and
// Montgomery sets (`image_frame_csv/{RL,LL}/<id>.csv`, already in image pixels, located
// through `geometry.csv`), and our own JSON files for user-placed points (read and written
// atomically). Every coordinate held in a PxLandmarkSet is in image pixels with the
// pixel-centre convention: an integer value is the centre of that pixel, so the image spans
// [−0.5, W − 0.5]. Frame changes follow it: x_img = (x_frame + 0.5)·W/W_frame − 0.5.
//
// The JSON format (docs/landmarks-json.md has the same text with an example):
//
//   {
//     "format": "peac-landmarks",          required, exactly this string
//     "version": 1,                        required; files of a newer version are refused
//     "image": {                           optional
//       "path": "JPCLN004.IMG.png",        optional string (as the user opened it)
//       "width": 2048, "height": 2048      optional positive integers, both or neither
//     },
//     "landmarks": [                       required array, may be empty
//       { "name": "carina",                required non-empty string, unique in the file
//         "x": 1010.5, "y": 655.25,        required finite numbers, image pixels
//         "color": "#e01b24",              optional "#rrggbb"
//         "structure": "RL", "index": 3,   optional group name and index ≥ 0 within it
//         "confirmed": false,              optional boolean: false marks a propagated answer
//                                          the embedding did not confirm (absent: true)
//         "spread_px": 12.5,               optional number ≥ 0: spread of a fused answer
//         "spread_mm": 2.2 }               optional number ≥ 0: the same in mm
//     ],
//     "measurements": {                    optional
//       "cardiothoracic_ratio": {          optional; all five keys required when present
//         "ratio": 0.46, "heart_width_px": 880, "thorax_width_px": 1900,
//         "heart_line": [x0, y, x1, y], "thorax_line": [x0, y, x1, y] } }
//   }
//
// Unknown keys are ignored (room for later versions); anything else malformed is refused
// with a message naming the file and the offending landmark and field.
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PX_LANDMARKS_ERROR (px_landmarks_error_quark ())
GQuark px_landmarks_error_quark (void);

typedef enum {
  PX_LANDMARKS_ERROR_OPEN,     // cannot open/read/write the file
  PX_LANDMARKS_ERROR_PARSE,    // not well-formed (JSON syntax, CSV numbers, .npy header)
  PX_LANDMARKS_ERROR_INVALID,  // well-formed but violates the format (field, shape, value)
  PX_LANDMARKS_ERROR_MISSING,  // an expected file of a data-set layout is absent
} PxLandmarksError;

typedef struct {
  char  *name;       // "RL.0" for data-set points (structure.index), or the user's label
  char  *structure;  // "RL", "LL", "H", "RCLA", "LCLA", or NULL
  int    index;      // index within the structure, −1 when none
  double x, y;       // image pixels, pixel-centre convention
  char  *color;      // "#rrggbb" or NULL
  gboolean unconfirmed; // a propagated answer the embedding did not confirm ("confirmed": false)
  double spread_px;  // fused propagation: the spread of the references' answers, image
                     // pixels ("spread_px"); −1 when absent
  double spread_mm;  // the same in mm where the pixel spacing is known ("spread_mm"); −1: absent
} PxLandmark;

// The cardiothoracic ratio measured on a set's points ("measurements" in the JSON file):
// lines are x0, y, x1, y in image pixels.
typedef struct {
  gboolean valid;
  double   ratio, heart_width_px, thorax_width_px;
  double   heart_line[4], thorax_line[4];
} PxLandmarkCtr;

typedef struct {
  char   *image_path;   // may be NULL
  int     image_width;  // 0 when unknown
  int     image_height;
  GArray *points;       // of PxLandmark
  PxLandmarkCtr ctr;    // valid FALSE when the file has none
} PxLandmarkSet;

// The JSRT structures in file order, with their point counts (44, 50, 26, 23, 23).
extern const char *const px_landmarks_jsrt_structures[5];

PxLandmarkSet *px_landmark_set_new (void);
void           px_landmark_set_free (PxLandmarkSet *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PxLandmarkSet, px_landmark_set_free)
// Appends a point (strings are copied; structure and color may be NULL) and returns it,
// for the fields set less often (valid until the next append).
PxLandmark    *px_landmark_set_add (PxLandmarkSet *set, const char *name,
                                    const char *structure, int index, double x, double y,
                                    const char *color);
guint          px_landmark_set_size (const PxLandmarkSet *set);
PxLandmark    *px_landmark_set_get (const PxLandmarkSet *set, guint i);
// Sets set->ctr from the set's own points by the engine's peac_ctr: the heart is structure
// "H", the thorax the points of "RL" and "LL" together. valid FALSE (the rest zero) when
// either has fewer than two points or the thorax no width. Returns ctr.valid.
gboolean       px_landmark_set_measure_ctr (PxLandmarkSet *set);

// Appends the (N, 2) points of one .npy file as structure.0 … structure.N−1, mapped from a
// frame_w × frame_h frame to the set's image size (which must be known).
gboolean px_landmarks_add_npy (PxLandmarkSet *set, const char *path, const char *structure,
                               double frame_w, double frame_h, GError **error);
// Appends the points of one "x,y" CSV (image pixels, pixel-centre) as structure.k.
gboolean px_landmarks_add_csv (PxLandmarkSet *set, const char *path, const char *structure,
                               GError **error);

// JSRT layout: the IDs under dir that have an image and all five landmark files, sorted.
GStrv          px_landmarks_jsrt_list (const char *dir, GError **error);
// The image path and size (from the PNG header) and all five structures of one JSRT ID.
PxLandmarkSet *px_landmarks_load_jsrt (const char *dir, const char *id, GError **error);

// Shenzhen/Montgomery layout (landmarks/{shenzhen,montgomery}): the image named in
// geometry.csv (resolved against data_dir, the folder that holds cxr/ and landmarks/) and
// the RL and LL CSVs of that id.
// The ids of that layout's geometry.csv (its "id" column), sorted.
GStrv          px_landmarks_nlm_list (const char *dir, GError **error);
PxLandmarkSet *px_landmarks_load_nlm (const char *dir, const char *data_dir, const char *id,
                                      GError **error);

PxLandmarkSet *px_landmarks_load_json (const char *path, GError **error);
// Writes atomically (temporary file, fsync, rename): an interrupted save leaves the old file.
gboolean       px_landmarks_save_json (const PxLandmarkSet *set, const char *path,
                                       GError **error);

G_END_DECLS
