// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-main-thread: queues a worker's result for the main thread (see px-main-thread.h).
// Every worker of the app (embedder, map job, probe page, trainer) goes through here.
#include "config.h"

#include "px-main-thread.h"

/**
 * px_main_thread_post:
 * @fn: called on the main thread; returns %G_SOURCE_REMOVE (one result, one call)
 * @data: handed to @fn
 * @destroy: (nullable): frees @data on the main thread after @fn has run
 *
 * Callable from any thread. The call is queued at default priority, so results reach the
 * main thread in the order a worker posted them.
 */
void
px_main_thread_post (GSourceFunc    fn,
                     gpointer       data,
                     GDestroyNotify destroy)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, fn, data, destroy);
  g_source_set_static_name (source, "[px] main-thread post");
  g_source_attach (source, NULL);
}
