// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "px-correspondence-page.h"

G_BEGIN_DECLS

void     px_landmark_save_choose          (PxCorrespondencePage *page);
char    *px_landmark_save_resolve_folder  (const char           *chosen,
                                           GError              **error);
void     px_landmark_save_to              (PxCorrespondencePage *page,
                                           const char           *chosen);

G_END_DECLS
