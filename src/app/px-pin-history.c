// SPDX-License-Identifier: GPL-3.0-or-later
//
// The correspondence page's pins as the user's work. A snapshot holds the pins of one
// source image with their hand corrections keyed by target image (not by the target's
// position, which changes when images are opened, closed or unticked). PxPinHistory keeps,
// per source image, the pins put aside while another image is the source, the undo and redo
// steps, and whether there is anything not yet saved (Save Landmarks, Export Points).
#include "config.h"

#include "px-pin-history.h"

#define MAX_STEPS 100

typedef struct {
  PxStudy *target;
  double   x, y;
  gboolean fused, doubtful;  // a propagated answer (PxMatchPin), not a hand correction
  double   spread;
} PinFix;

typedef struct {
  char   *name;
  char   *structure;
  int     colour;
  double  x, y;
  gboolean fused, doubtful;  // on the source
  double   spread;
  guint   n_fixes;
  PinFix  fixes[PX_MATCH_MAX_TARGETS];
} SavedPin;

typedef struct {
  GArray    *stash;    // SavedPin, nullable: the pins while another image is the source
  GPtrArray *undo;     // GArray of SavedPin, oldest first
  GPtrArray *redo;
  gboolean   unsaved;
} SourceRecord;

struct _PxPinHistory
{
  GHashTable *records; // PxStudy (strong) → SourceRecord
};

static void
saved_pin_clear (gpointer data)
{
  SavedPin *pin = data;

  g_free (pin->name);
  g_free (pin->structure);
  for (guint i = 0; i < pin->n_fixes; i++)
    g_object_unref (pin->fixes[i].target);
}

/**
 * px_pin_snapshot_take:
 * @pins: (element-type PxMatchPin): the page's pins
 * @targets: (element-type PxStudy): the targets the pins' matches refer to, in order
 *
 * Returns: (transfer full): a snapshot of @pins, corrections keyed by target image
 */
GArray *
px_pin_snapshot_take (const GArray *pins,
                      GPtrArray    *targets)
{
  GArray *snapshot = g_array_sized_new (FALSE, TRUE, sizeof (SavedPin), pins->len);

  g_array_set_clear_func (snapshot, saved_pin_clear);
  for (guint i = 0; i < pins->len; i++)
    {
      const PxMatchPin *pin = &g_array_index (pins, PxMatchPin, i);
      SavedPin saved = { g_strdup (pin->name), g_strdup (pin->structure), pin->colour,
                         pin->x, pin->y, pin->fused[0], pin->doubtful[0], pin->spread[0],
                         0, { { 0 } } };

      for (guint t = 0; t < targets->len && t < PX_MATCH_MAX_TARGETS; t++)
        if (pin->moved[t])
          saved.fixes[saved.n_fixes++] = (PinFix) { g_object_ref (g_ptr_array_index (targets, t)),
                                                    pin->match[t].x, pin->match[t].y,
                                                    pin->fused[t + 1], pin->doubtful[t + 1],
                                                    pin->spread[t + 1] };
      g_array_append_val (snapshot, saved);
    }
  return snapshot;
}

/**
 * px_pin_snapshot_apply:
 * @pins: (element-type PxMatchPin): emptied, then filled from @snapshot
 * @targets: (element-type PxStudy): the targets now; corrections on other images wait
 *
 * Corrections on targets no longer shown are dropped from @pins (the snapshot keeps them).
 */
void
px_pin_snapshot_apply (const GArray *snapshot,
                       GArray       *pins,
                       GPtrArray    *targets)
{
  g_array_set_size (pins, 0);
  for (guint i = 0; snapshot != NULL && i < snapshot->len; i++)
    {
      const SavedPin *saved = &g_array_index (snapshot, SavedPin, i);
      PxMatchPin pin = { 0 };

      pin.name = g_strdup (saved->name);
      pin.structure = g_strdup (saved->structure);
      pin.colour = saved->colour;
      pin.x = saved->x;
      pin.y = saved->y;
      pin.fused[0] = saved->fused;
      pin.doubtful[0] = saved->doubtful;
      pin.spread[0] = saved->spread;
      for (guint k = 0; k < saved->n_fixes; k++)
        for (guint t = 0; t < targets->len && t < PX_MATCH_MAX_TARGETS; t++)
          if (g_ptr_array_index (targets, t) == (gpointer) saved->fixes[k].target)
            {
              pin.moved[t] = TRUE;
              pin.match[t].x = (float) saved->fixes[k].x;
              pin.match[t].y = (float) saved->fixes[k].y;
              pin.fused[t + 1] = saved->fixes[k].fused;
              pin.doubtful[t + 1] = saved->fixes[k].doubtful;
              pin.spread[t + 1] = saved->fixes[k].spread;
            }
      g_array_append_val (pins, pin);
    }
}

static void
source_record_free (gpointer data)
{
  SourceRecord *record = data;

  g_clear_pointer (&record->stash, g_array_unref);
  g_ptr_array_unref (record->undo);
  g_ptr_array_unref (record->redo);
  g_free (record);
}

static SourceRecord *
get_record (PxPinHistory *self,
            PxStudy      *source)
{
  SourceRecord *record = g_hash_table_lookup (self->records, source);

  if (record == NULL)
    {
      record = g_new0 (SourceRecord, 1);
      record->undo = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
      record->redo = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
      g_hash_table_insert (self->records, g_object_ref (source), record);
    }
  return record;
}

PxPinHistory *
px_pin_history_new (void)
{
  PxPinHistory *self = g_new0 (PxPinHistory, 1);

  self->records = g_hash_table_new_full (NULL, NULL, g_object_unref, source_record_free);
  return self;
}

void
px_pin_history_free (PxPinHistory *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->records);
  g_free (self);
}

/**
 * px_pin_history_record:
 * @before: (transfer full): the pins of @source before a change the user makes now
 *
 * Makes @before an undo step; the redo steps are dropped, and @source has unsaved work.
 */
void
px_pin_history_record (PxPinHistory *self,
                       PxStudy      *source,
                       GArray       *before)
{
  SourceRecord *record = get_record (self, source);

  g_ptr_array_add (record->undo, before);
  if (record->undo->len > MAX_STEPS)
    g_ptr_array_remove_index (record->undo, 0);
  g_ptr_array_set_size (record->redo, 0);
  record->unsaved = TRUE;
}

static GArray *
step (PxPinHistory *self,
      PxStudy      *source,
      GArray       *current,
      gboolean      undo)
{
  SourceRecord *record = g_hash_table_lookup (self->records, source);
  GPtrArray *from = record ? (undo ? record->undo : record->redo) : NULL;
  GPtrArray *to = record ? (undo ? record->redo : record->undo) : NULL;

  if (from == NULL || from->len == 0)
    {
      g_array_unref (current);
      return NULL;
    }
  g_ptr_array_add (to, current);
  record->unsaved = TRUE;
  return g_ptr_array_steal_index (from, from->len - 1);
}

/**
 * px_pin_history_undo:
 * @current: (transfer full): the pins now, which become the redo step
 *
 * Returns: (transfer full) (nullable): the pins to show, or %NULL when there is no step
 */
GArray *
px_pin_history_undo (PxPinHistory *self,
                     PxStudy      *source,
                     GArray       *current)
{
  return step (self, source, current, TRUE);
}

/**
 * px_pin_history_redo:
 * @current: (transfer full): the pins now, which become an undo step again
 *
 * Returns: (transfer full) (nullable): the pins to show, or %NULL when there is no step
 */
GArray *
px_pin_history_redo (PxPinHistory *self,
                     PxStudy      *source,
                     GArray       *current)
{
  return step (self, source, current, FALSE);
}

gboolean
px_pin_history_can_undo (PxPinHistory *self,
                         PxStudy      *source)
{
  SourceRecord *record = source ? g_hash_table_lookup (self->records, source) : NULL;

  return record != NULL && record->undo->len > 0;
}

gboolean
px_pin_history_can_redo (PxPinHistory *self,
                         PxStudy      *source)
{
  SourceRecord *record = source ? g_hash_table_lookup (self->records, source) : NULL;

  return record != NULL && record->redo->len > 0;
}

/**
 * px_pin_history_stash:
 * @pins: (transfer full): the pins of @source, put aside while another image is the source
 */
void
px_pin_history_stash (PxPinHistory *self,
                      PxStudy      *source,
                      GArray       *pins)
{
  SourceRecord *record = get_record (self, source);

  g_clear_pointer (&record->stash, g_array_unref);
  record->stash = pins;
}

/**
 * px_pin_history_unstash:
 *
 * Returns: (transfer full) (nullable): the pins put aside for @source
 */
GArray *
px_pin_history_unstash (PxPinHistory *self,
                        PxStudy      *source)
{
  SourceRecord *record = g_hash_table_lookup (self->records, source);

  return record != NULL ? g_steal_pointer (&record->stash) : NULL;
}

/**
 * px_pin_history_forget:
 *
 * Drops everything kept for @study (an image that was closed), as a source and as the
 * target of corrections.
 */
void
px_pin_history_forget (PxPinHistory *self,
                       PxStudy      *study)
{
  g_hash_table_remove (self->records, study);
}

/**
 * px_pin_history_get_unsaved:
 * @source: (nullable): one source image, or %NULL for any
 *
 * Returns: whether pins were placed, moved or removed since the last save
 */
gboolean
px_pin_history_get_unsaved (PxPinHistory *self,
                            PxStudy      *source)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->records);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if ((source == NULL || key == source) && ((SourceRecord *) value)->unsaved)
      return TRUE;
  return FALSE;
}

// The pins of @source were written to a file.
void
px_pin_history_mark_saved (PxPinHistory *self,
                           PxStudy      *source)
{
  SourceRecord *record = g_hash_table_lookup (self->records, source);

  if (record != NULL)
    record->unsaved = FALSE;
}
