// SPDX-License-Identifier: GPL-3.0-or-later
//
// The per-answer confidence (px-answer-confidence.h): scores, grades and the words that
// show them. The export writes the grade's untranslated id; the page shows the words.
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "landmark-atlas.h"
#include "px-answer-confidence.h"

/**
 * px_confidence_match_score:
 *
 * The mean of two terms in [0, 1]: distinctness, the margin over
 * %PX_CONFIDENCE_FULL_MARGIN, and agreement, 1 while the similarity peak lies within one
 * cell of the answer (the cycle check), falling linearly to 0 over the next
 * %PX_CONFIDENCE_AGREE_CELLS cells.
 */
double
px_confidence_match_score (const PeacMatch *match)
{
  double distinct = CLAMP (match->margin / PX_CONFIDENCE_FULL_MARGIN, 0.0, 1.0);
  double agree = CLAMP (1.0 - MAX (0.0, match->cycle - 1.0) / PX_CONFIDENCE_AGREE_CELLS, 0.0, 1.0);

  return 0.5 * distinct + 0.5 * agree;
}

PxConfidenceGrade
px_confidence_grade_of (double score)
{
  if (score >= PX_CONFIDENCE_HIGH)
    return PX_CONFIDENCE_GRADE_HIGH;
  if (score >= PX_CONFIDENCE_MEDIUM)
    return PX_CONFIDENCE_GRADE_MEDIUM;
  return PX_CONFIDENCE_GRADE_LOW;
}

PxConfidence
px_confidence_of_match (const PeacMatch *match)
{
  PxConfidence c = { px_confidence_match_score (match), 0, -1.0, -1.0 };

  c.grade = px_confidence_grade_of (c.score);
  return c;
}

/**
 * px_confidence_of_pin:
 * @panel: 0 the source, t + 1 target t
 *
 * A point placed on the source or corrected by hand is graded manual (score 1). A
 * propagated answer scores 1 − spread / (2τ), clamped to [0, 1], τ the confirmation
 * threshold (%PEAC_ATLAS_SPREAD_CELLS of the panel's cells), halved when propagation left
 * it unconfirmed: a spread of τ or more is low, at most τ/2 high. Any other answer is
 * graded by px_confidence_match_score().
 */
PxConfidence
px_confidence_of_pin (const PxMatchScene *scene,
                      const PxMatchPin   *pin,
                      int                 panel)
{
  const PxMatchPanel *p = &scene->panels[panel];
  PxConfidence c = { 1.0, PX_CONFIDENCE_GRADE_MANUAL, -1.0, -1.0 };

  if (pin->fused[panel])
    {
      double tau = PEAC_ATLAS_SPREAD_CELLS * p->width / MAX (p->gw, 1);

      c.spread_px = pin->spread[panel];
      c.spread_mm = p->mm > 0 ? pin->spread[panel] * p->mm : -1.0;
      c.score = CLAMP (1.0 - c.spread_px / (2.0 * tau), 0.0, 1.0);
      if (pin->doubtful[panel])
        c.score *= 0.5;
      c.grade = px_confidence_grade_of (c.score);
    }
  else if (panel > 0 && !pin->moved[panel - 1])
    c = px_confidence_of_match (&pin->match[panel - 1]);
  return c;
}

// The export's column value: never translated.
const char *
px_confidence_grade_id (PxConfidenceGrade grade)
{
  switch (grade)
    {
    case PX_CONFIDENCE_GRADE_HIGH:
      return "high";
    case PX_CONFIDENCE_GRADE_MEDIUM:
      return "medium";
    case PX_CONFIDENCE_GRADE_MANUAL:
      return "manual";
    case PX_CONFIDENCE_GRADE_LOW:
    default:
      return "low";
    }
}

static const char *
grade_words (PxConfidenceGrade grade)
{
  switch (grade)
    {
    case PX_CONFIDENCE_GRADE_HIGH:
      /* Translators: a match confidence grade */
      return C_("confidence", "high");
    case PX_CONFIDENCE_GRADE_MEDIUM:
      /* Translators: a match confidence grade */
      return C_("confidence", "medium");
    case PX_CONFIDENCE_GRADE_MANUAL:
      /* Translators: a point placed or corrected by hand, in place of a confidence */
      return C_("confidence", "set by hand");
    case PX_CONFIDENCE_GRADE_LOW:
    default:
      /* Translators: a match confidence grade */
      return C_("confidence", "low");
    }
}

// "±4.1 mm" where the spacing is known, else "±12 px"; empty when not propagated.
static void
append_spread (GString            *out,
               const PxConfidence *c)
{
  if (c->spread_mm >= 0)
    /* Translators: the spread of a propagated point in mm */
    g_string_append_printf (out, _(", ±%.1f mm"), c->spread_mm);
  else if (c->spread_px >= 0)
    /* Translators: the spread of a propagated point in image pixels */
    g_string_append_printf (out, _(", ±%.0f px"), c->spread_px);
}

/**
 * px_confidence_describe:
 *
 * "match confidence: medium (0.62)", with ", ±4.1 mm" (or px) for a propagated answer.
 *
 * Returns: (transfer full): the text
 */
char *
px_confidence_describe (const PxConfidence *c)
{
  GString *out = g_string_new (NULL);

  if (c->grade == PX_CONFIDENCE_GRADE_MANUAL)
    g_string_append (out, grade_words (c->grade));
  else
    /* Translators: a grade (high, medium, low) and the score from 0 to 1 */
    g_string_append_printf (out, _("match confidence: %s (%.2f)"), grade_words (c->grade), c->score);
  append_spread (out, c);
  return g_string_free (out, FALSE);
}

/**
 * px_confidence_short:
 *
 * The same for a label on the drawing: "medium 0.62".
 *
 * Returns: (transfer full): the text
 */
char *
px_confidence_short (const PxConfidence *c)
{
  GString *out = g_string_new (NULL);

  /* Translators: a confidence grade and its score, drawn next to an answer */
  g_string_append_printf (out, _("%s %.2f"), grade_words (c->grade), c->score);
  append_spread (out, c);
  return g_string_free (out, FALSE);
}

/**
 * px_confidence_pin_summary:
 * @panel: 0 the source, t + 1 target t
 *
 * The tooltip of a pin's marker: its name (with what its structure outlines), its
 * confidence on @panel and its position there, e.g. "H.3 (H — heart outline)",
 * "match confidence: high (0.80), ±4.1 mm", "at x 100, y 200 px".
 *
 * Returns: (transfer full): three lines
 */
char *
px_confidence_pin_summary (const PxMatchScene *scene,
                           const PxMatchPin   *pin,
                           int                 panel)
{
  PxConfidence c = px_confidence_of_pin (scene, pin, panel);
  g_autofree char *words = px_confidence_describe (&c);
  g_autofree char *where = px_match_scene_describe_point (scene, panel, panel == 0 ? pin->x : pin->match[panel - 1].x,
                                                          panel == 0 ? pin->y : pin->match[panel - 1].y);
  g_autofree char *structure = pin->structure != NULL ? px_match_structure_words (pin->structure) : NULL;

  if (structure != NULL)
    return g_strdup_printf ("%s (%s)\n%s\n%s", pin->name, structure, words, where);
  return g_strdup_printf ("%s\n%s\n%s", pin->name, words, where);
}
