// SPDX-License-Identifier: GPL-3.0-or-later
//
// The pages' drop-downs of open radiographs: the button shows the chosen radiograph's title
// shortened in the middle, so that a long file name (a DICOM named by its UID, say) does not
// push a page's tool bar past a 1024-px window; the list shows titles in full.
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void px_study_dropdown_setup (GtkDropDown   *dropdown,
                              GtkExpression *title);

G_END_DECLS
