// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxApplication: the application object — app-wide actions (open, open folder, recent
// files, privacy, about, shortcuts, quit), keyboard accelerators and window creation.
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PX_TYPE_APPLICATION (px_application_get_type ())

// The application name recorded with recent files, independent of the locale.
#define PX_RECENT_APP_NAME "peac-explorer"
#define PX_RECENT_MAX_ITEMS 8

G_DECLARE_FINAL_TYPE (PxApplication, px_application, PX, APPLICATION, AdwApplication)

PxApplication *px_application_new             (const char        *application_id,
                                               GApplicationFlags  flags);
GMenuModel    *px_application_get_recent_menu (PxApplication     *self);
GSettings     *px_application_get_settings    (PxApplication     *self);
void           px_ensure_resources            (void);
GSettingsSchema *px_settings_find_schema      (GError           **error);
GSettings     *px_settings_new                (void);
gboolean       px_send_notification           (GApplication      *app,
                                               const char        *id,
                                               GNotification     *notification);

G_END_DECLS
