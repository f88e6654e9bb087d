// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean  px_train_run_folder_holds_run   (const char         *folder);
char    **px_train_run_read_data_folders  (const char         *folder);
char     *px_train_run_info_json          (const char * const *data_folders,
                                           int                 threads,
                                           int                 save_every);
char     *px_train_run_new_folder         (const char         *folder);

G_END_DECLS
