// SPDX-License-Identifier: GPL-3.0-or-later
//
// Helpers shared by the GUI tests and the screenshot tool: wait on the main loop for a
// condition, render a widget to a texture as the screen would show it, and collect the
// text of every label under a widget.
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef gboolean (*PxTestCondition) (gpointer data);

gboolean    px_test_wait_for         (PxTestCondition  condition,
                                      gpointer         data,
                                      guint            timeout_seconds);
void        px_test_settle           (void);
GdkTexture *px_test_render_widget    (GtkWidget       *widget);
guint8     *px_test_texture_to_grey  (GdkTexture      *texture);
GPtrArray  *px_test_collect_labels   (GtkWidget       *root);
gboolean    px_test_labels_contain   (GtkWidget       *root,
                                      const char      *needle);

G_END_DECLS
