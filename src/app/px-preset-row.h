// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-preset-row: the training page's model row, filled from the engine's registry of
// presets (presets.h) — the same names `peac train --preset` takes. Choosing a preset shows
// its summary under the row and puts its image size in the page's size adjustment.
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

// Fills row with the registry's names and keeps img_size in step with the choice.
void        px_preset_row_setup  (AdwComboRow   *row,
                                  GtkAdjustment *img_size);
void        px_preset_row_select (AdwComboRow   *row,
                                  const char    *name);
// The chosen preset's name (the registry's own string), or NULL.
const char *px_preset_row_get    (AdwComboRow   *row);
// Pixels per cell of the chosen preset's token grid (the ViT's patch, the Swin's last
// stage): image sizes are whole multiples of it.
int         px_preset_row_cell   (AdwComboRow   *row);

G_END_DECLS
