// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxPropagateDialog: "Propagate from References…" of the correspondence page — the folder
// of annotated references (any layout `peac propagate --atlas` reads), K, and a Propagate
// button; while the page's worker runs, its progress and a Cancel button, the window
// behind staying live. It closes once the points are on the page; on an error it stays
// open (the page shows the error in a toast).
#pragma once

#include <adwaita.h>

#include "px-correspondence-page.h"

G_BEGIN_DECLS

#define PX_TYPE_PROPAGATE_DIALOG (px_propagate_dialog_get_type ())

G_DECLARE_FINAL_TYPE (PxPropagateDialog, px_propagate_dialog, PX, PROPAGATE_DIALOG, AdwWindow)

PxPropagateDialog *px_propagate_dialog_new        (PxCorrespondencePage *page);
void               px_propagate_dialog_set_folder (PxPropagateDialog    *self,
                                                   const char           *folder);
void               px_propagate_dialog_set_k      (PxPropagateDialog    *self,
                                                   int                   k);
void               px_propagate_dialog_start      (PxPropagateDialog    *self);
int                px_propagate_dialog_get_n_references (PxPropagateDialog *self);
gboolean           px_propagate_dialog_get_busy   (PxPropagateDialog    *self);

G_END_DECLS
