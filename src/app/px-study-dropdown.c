// SPDX-License-Identifier: GPL-3.0-or-later
//
// px_study_dropdown_setup(): a GtkDropDown of PxStudy items whose text comes from one
// expression (the pages' titles, which may follow the privacy switch), through two list-item
// factories: the button's labels are ellipsized in the middle at a modest width, the popup
// list's are not. Each label is bound to the expression, so a title that changes (privacy
// on or off) is shown at once.
#include "config.h"

#include "px-study-dropdown.h"

// Characters the button's title takes at most before it is shortened.
#define BUTTON_CHARS 16

static void
setup_label (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             gpointer                  data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (factory), "px-ellipsize")))
    {
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), BUTTON_CHARS);
    }
  gtk_list_item_set_child (item, label);
}

static void
end_watch (gpointer watch)
{
  gtk_expression_watch_unwatch (watch);
  gtk_expression_watch_unref (watch);
}

static void
bind_label (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  data)
{
  GtkWidget *label = gtk_list_item_get_child (item);
  GtkExpressionWatch *watch = gtk_expression_bind (gtk_expression_ref (data), label, "label",
                                                   gtk_list_item_get_item (item));

  // The label's earlier binding, to another item, ends here.
  g_object_set_data_full (G_OBJECT (label), "px-title-watch", gtk_expression_watch_ref (watch),
                          end_watch);
}

static void
unref_expression (gpointer  data,
                  GClosure *closure)
{
  gtk_expression_unref (data);
}

static GtkListItemFactory *
label_factory (GtkExpression *title,
               gboolean       ellipsize)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  g_object_set_data (G_OBJECT (factory), "px-ellipsize", GINT_TO_POINTER (ellipsize));
  g_signal_connect (factory, "setup", G_CALLBACK (setup_label), NULL);
  g_signal_connect_data (factory, "bind", G_CALLBACK (bind_label), gtk_expression_ref (title),
                         unref_expression, 0);
  return factory;
}

/**
 * px_study_dropdown_setup:
 * @title: (transfer full): evaluated on a PxStudy, gives its title as a string
 */
void
px_study_dropdown_setup (GtkDropDown   *dropdown,
                         GtkExpression *title)
{
  g_autoptr(GtkListItemFactory) button = label_factory (title, TRUE);
  g_autoptr(GtkListItemFactory) list = label_factory (title, FALSE);

  gtk_drop_down_set_factory (dropdown, button);
  gtk_drop_down_set_list_factory (dropdown, list);
  gtk_drop_down_set_expression (dropdown, title);
  gtk_expression_unref (title);
}
