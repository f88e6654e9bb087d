// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-main-thread: the one way a worker thread hands a result to the main thread. The
// function is queued as an idle source on the default main context, so it runs on the
// thread that iterates that context (the main thread), whenever that is — never on the
// worker, which g_main_context_invoke() would do whenever no thread owns the context.
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void px_main_thread_post (GSourceFunc    fn,
                          gpointer       data,
                          GDestroyNotify destroy);

G_END_DECLS
