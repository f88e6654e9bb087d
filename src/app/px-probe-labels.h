// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

char *px_probe_resolve_image (GFile       *csv,
                              GFile       *images,
                              const char  *path);
char *px_probe_folder_labels (const char  *root,
                              GError     **error);

G_END_DECLS
