// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-answer-confidence: one per-answer confidence for the correspondence page, its drawing,
// its status line and its exports, computed from what the matcher knows. A matcher answer
// is graded by the distinctness of its cell (the Lowe margin over the best cell outside its
// 3×3 neighbourhood) and by the agreement of the local similarity peak with the answer (the
// cycle distance in cells); a propagated answer (fused from several annotated references)
// by the spread of the references' answers against the confirmation threshold; a point
// placed or corrected by hand is the user's own. Scores lie in [0, 1]; the grades and their
// thresholds are documented in docs/correspondence.md.
#pragma once

#include <glib.h>

#include "match.h"
#include "px-match-scene.h"

G_BEGIN_DECLS

// A margin of 0.4 (Lowe ratio 0.6) counts as fully distinct: the engine's own "found"
// threshold (min_confidence 0.2) is then half the distinctness.
#define PX_CONFIDENCE_FULL_MARGIN 0.4
// Agreement falls linearly from 1 at a cycle distance of one cell to 0 at three cells.
#define PX_CONFIDENCE_AGREE_CELLS 2.0
#define PX_CONFIDENCE_HIGH 0.75
#define PX_CONFIDENCE_MEDIUM 0.5

typedef enum {
  PX_CONFIDENCE_GRADE_LOW,
  PX_CONFIDENCE_GRADE_MEDIUM,
  PX_CONFIDENCE_GRADE_HIGH,
  PX_CONFIDENCE_GRADE_MANUAL,   // placed or corrected by hand
} PxConfidenceGrade;

typedef struct {
  double            score;      // [0, 1]; 1 for a point set by hand
  PxConfidenceGrade grade;
  double            spread_px;  // a propagated answer's spread in image pixels, or −1
  double            spread_mm;  // the same in mm where the pixel spacing is known, or −1
} PxConfidence;

double            px_confidence_match_score (const PeacMatch *match);
PxConfidenceGrade px_confidence_grade_of    (double           score);
PxConfidence      px_confidence_of_match    (const PeacMatch *match);
PxConfidence      px_confidence_of_pin      (const PxMatchScene *scene,
                                             const PxMatchPin   *pin,
                                             int                 panel);
const char       *px_confidence_grade_id    (PxConfidenceGrade grade);
char             *px_confidence_describe    (const PxConfidence *confidence);
char             *px_confidence_short       (const PxConfidence *confidence);
char             *px_confidence_pin_summary (const PxMatchScene *scene,
                                             const PxMatchPin   *pin,
                                             int                 panel);

G_END_DECLS
