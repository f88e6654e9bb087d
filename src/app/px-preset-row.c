// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-preset-row: the model row of the training page over the engine's preset registry (see
// px-preset-row.h). The row's model is a GtkStringList of the registry's names, in its
// order; everything else is looked up by name.
#include "config.h"

#include "presets.h"
#include "px-preset-row.h"

const char *
px_preset_row_get (AdwComboRow *row)
{
  const PeacPreset *const *presets = peac_presets ();
  guint selected = adw_combo_row_get_selected (row);

  for (guint i = 0; presets[i] != NULL; i++)
    if (i == selected)
      return presets[i]->name;
  return NULL;
}

void
px_preset_row_select (AdwComboRow *row,
                      const char  *name)
{
  const PeacPreset *const *presets = peac_presets ();

  for (guint i = 0; name != NULL && presets[i] != NULL; i++)
    if (g_str_equal (presets[i]->name, name))
      adw_combo_row_set_selected (row, i);
}

int
px_preset_row_cell (AdwComboRow *row)
{
  PeacModelSpec model;
  char err[256];

  return peac_preset_resolve (&model, px_preset_row_get (row), NULL, err, sizeof err) == 0
           ? model.cell : 16;
}

// A preset chosen: its summary under the row, its image size in the adjustment.
static void
on_selected (AdwComboRow   *row,
             GParamSpec    *pspec,
             GtkAdjustment *img_size)
{
  const PeacPreset *preset = peac_preset_find (px_preset_row_get (row));
  PeacModelSpec model;
  char err[256];

  if (preset == NULL || peac_preset_resolve (&model, preset->name, NULL, err, sizeof err) != 0)
    return;
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), preset->summary);
  gtk_adjustment_set_value (img_size, model.img_size);
}

void
px_preset_row_setup (AdwComboRow   *row,
                     GtkAdjustment *img_size)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  for (const PeacPreset *const *p = peac_presets (); *p != NULL; p++)
    gtk_string_list_append (names, (*p)->name);
  adw_combo_row_set_model (row, G_LIST_MODEL (names));
  g_signal_connect_object (row, "notify::selected", G_CALLBACK (on_selected), img_size, 0);
  on_selected (row, NULL, img_size);
}
