// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-folder-scan: finds the radiographs below a folder and tries each, off the main thread.
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

gboolean   px_file_is_radiograph_candidate (const char          *path);
void       px_folder_scan_async            (GFile               *folder,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
GPtrArray *px_folder_scan_finish           (GAsyncResult        *result,
                                            GPtrArray          **skipped,
                                            GError             **error);
void       px_folder_check_async           (GPtrArray           *files,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean   px_folder_check_finish          (GAsyncResult        *result,
                                            GPtrArray          **usable,
                                            GPtrArray          **unreadable);

G_END_DECLS
