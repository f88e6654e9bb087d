// SPDX-License-Identifier: GPL-3.0-or-later
//
// Test helpers for the GUI suite. px_test_wait_for() iterates the default main context
// until a condition holds or a generous timeout passes (the timeout only turns a hang
// into a failure; no test asserts on time). px_test_render_widget() snapshots a mapped
// widget through its own GskRenderer, i.e. the pixels the window would show.
#include "config.h"

#include "px-test-util.h"

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
px_test_wait_for (PxTestCondition  condition,
                  gpointer         data,
                  guint            timeout_seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (timeout_seconds, on_timeout, &timed_out);

  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (id);
  return condition (data);
}

static gboolean
on_frames_done (gpointer data)
{
  return GPOINTER_TO_INT (g_object_get_data (G_OBJECT (data), "px-test-done"));
}

static gboolean
mark_done (gpointer data)
{
  g_object_set_data (G_OBJECT (data), "px-test-done", GINT_TO_POINTER (TRUE));
  return G_SOURCE_REMOVE;
}

// Lets pending layout and drawing run: a low-priority idle fires after them.
void
px_test_settle (void)
{
  g_autoptr(GObject) token = g_object_new (G_TYPE_OBJECT, NULL);

  for (guint i = 0; i < 3; i++)
    {
      g_object_set_data (token, "px-test-done", GINT_TO_POINTER (FALSE));
      g_timeout_add_full (G_PRIORITY_LOW, 50, mark_done, token, NULL);
      px_test_wait_for (on_frames_done, token, 10);
    }
}

GdkTexture *
px_test_render_widget (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  return gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
}

// Mean of R, G and B per pixel (the viewer is grey anyway), width × height bytes.
guint8 *
px_test_texture_to_grey (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guint8 *bgra = g_malloc ((gsize) width * height * 4);
  guint8 *grey = g_malloc ((gsize) width * height);

  gdk_texture_download (texture, bgra, (gsize) width * 4);
  for (gsize i = 0; i < (gsize) width * height; i++)
    grey[i] = (guint8) ((bgra[4 * i] + bgra[4 * i + 1] + bgra[4 * i + 2]) / 3);
  return grey;
}

static void
collect (GtkWidget *widget,
         GPtrArray *texts)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget))
    g_ptr_array_add (texts, g_strdup (gtk_label_get_text (GTK_LABEL (widget))));

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, texts);
}

// Texts of the labels that are on screen under @root.
GPtrArray *
px_test_collect_labels (GtkWidget *root)
{
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);

  collect (root, texts);
  return texts;
}

gboolean
px_test_labels_contain (GtkWidget  *root,
                        const char *needle)
{
  g_autoptr(GPtrArray) texts = px_test_collect_labels (root);

  for (guint i = 0; i < texts->len; i++)
    if (strstr (g_ptr_array_index (texts, i), needle) != NULL)
      return TRUE;
  return FALSE;
}
