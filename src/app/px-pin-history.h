// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "px-match-scene.h"
#include "px-study.h"

G_BEGIN_DECLS

typedef struct _PxPinHistory PxPinHistory;

GArray       *px_pin_snapshot_take        (const GArray *pins,
                                           GPtrArray    *targets);
void          px_pin_snapshot_apply       (const GArray *snapshot,
                                           GArray       *pins,
                                           GPtrArray    *targets);

PxPinHistory *px_pin_history_new          (void);
void          px_pin_history_free         (PxPinHistory *self);
void          px_pin_history_record       (PxPinHistory *self,
                                           PxStudy      *source,
                                           GArray       *before);
GArray       *px_pin_history_undo         (PxPinHistory *self,
                                           PxStudy      *source,
                                           GArray       *current);
GArray       *px_pin_history_redo         (PxPinHistory *self,
                                           PxStudy      *source,
                                           GArray       *current);
gboolean      px_pin_history_can_undo     (PxPinHistory *self,
                                           PxStudy      *source);
gboolean      px_pin_history_can_redo     (PxPinHistory *self,
                                           PxStudy      *source);
void          px_pin_history_stash        (PxPinHistory *self,
                                           PxStudy      *source,
                                           GArray       *pins);
GArray       *px_pin_history_unstash      (PxPinHistory *self,
                                           PxStudy      *source);
void          px_pin_history_forget       (PxPinHistory *self,
                                           PxStudy      *study);
gboolean      px_pin_history_get_unsaved  (PxPinHistory *self,
                                           PxStudy      *source);
void          px_pin_history_mark_saved   (PxPinHistory *self,
                                           PxStudy      *source);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PxPinHistory, px_pin_history_free)

G_END_DECLS
