// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-preferences: the Preferences window (app.preferences, Ctrl+comma) over the app's
// GSettings: theme, privacy default, the correspondence page's default matching mode and
// the viewer's mouse bindings.
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

GtkWindow *px_preferences_window_new (GtkWindow *parent,
                                      GSettings *settings);
void       px_preferences_apply_theme (GSettings *settings);

G_END_DECLS
