// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxTagPanel shows the study's DICOM header as a filtered list. Each row splits a
// "(gggg,eeee) Name: value" line into the element name with its tag and the value. The
// lines come from px_study_dup_tags(), which applies the privacy mask, and are rebuilt
// whenever the study or the privacy setting changes, so no unmasked text lingers in a
// recycled row.
#include "config.h"

#include <glib/gi18n.h>

#include "px-application.h"
#include "px-tag-panel.h"

struct _PxTagPanel
{
  GtkWidget       parent_instance;

  PxStudy        *study;
  gboolean        privacy;

  GtkStringList  *lines;
  GtkStack       *stack;
  GtkSearchEntry *search_entry;
  GtkListView    *list_view;
  GtkStringFilter *filter;
};

G_DEFINE_FINAL_TYPE (PxTagPanel, px_tag_panel, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_STUDY,
  PROP_PRIVACY,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
rebuild (PxTagPanel *self)
{
  g_auto(GStrv) tags = NULL;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->lines));

  if (self->study != NULL)
    tags = px_study_dup_tags (self->study, self->privacy);

  gtk_string_list_splice (self->lines, 0, n, (const char * const *) tags);
  gtk_stack_set_visible_child_name (self->stack, tags && tags[0] ? "tags" : "empty");
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *value = gtk_label_new (NULL);

  gtk_widget_add_css_class (name, "caption");
  gtk_widget_add_css_class (name, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (value), 0);
  gtk_label_set_wrap (GTK_LABEL (value), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (value), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (value), TRUE);
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), value);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_list_item_set_child (item, box);
  gtk_list_item_set_activatable (item, FALSE);
}

// Plain words for the header's technical element names, shown as the row's tooltip.
static const char *
element_explanation (const char *element)
{
  static const struct { const char *element, *words; } table[] = {
    /* Translators: tooltips of DICOM header rows, for readers who are not DICOM experts */
    { "TransferSyntaxUID", N_("Transfer syntax: how the image data is encoded and compressed in the file") },
    { "PhotometricInterpretation", N_("How grey values map to brightness: MONOCHROME1 shows low values white, MONOCHROME2 shows them black") },
    { "SOPClassUID", N_("The kind of DICOM object, such as a computed radiography image") },
    { "MediaStorageSOPClassUID", N_("The kind of DICOM object, such as a computed radiography image") },
    { "ViewPosition", N_("The direction of the X-ray beam: PA back to front, AP front to back, LL/RL from the side") },
    { "PixelSpacing", N_("The size of one pixel on the patient in mm (row, column)") },
    { "ImagerPixelSpacing", N_("The size of one detector pixel in mm, not corrected for magnification") },
    { "WindowCenter", N_("The brightness the file suggests for display (window level)") },
    { "WindowWidth", N_("The contrast the file suggests for display (window width)") },
    { "BitsStored", N_("How many bits of each pixel value carry image data") },
    { "RescaleSlope", N_("Pixel values are multiplied by this before display") },
    { "RescaleIntercept", N_("Added to the pixel values before display") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_str_equal (element, table[i].element))
      return _(table[i].words);
  return NULL;
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *name = gtk_widget_get_first_child (box);
  GtkWidget *value = gtk_widget_get_next_sibling (name);
  const char *line = gtk_string_object_get_string (gtk_list_item_get_item (item));
  const char *colon = strchr (line, ':');

  if (line[0] == '(' && colon != NULL && strlen (line) > 12 && colon > line + 11)
    {
      // "(0010,0010) PatientName: X" → "PatientName (0010,0010)" over "X"
      g_autofree char *element = g_strndup (line + 12, colon - (line + 12));
      g_autofree char *tag = g_strndup (line, 11);
      g_autofree char *title = g_strdup_printf ("%s %s", element, tag);
      g_autofree char *text = g_strstrip (g_strdup (colon + 1));

      gtk_label_set_text (GTK_LABEL (name), title);
      gtk_label_set_text (GTK_LABEL (value), text);
      gtk_widget_set_tooltip_text (box, element_explanation (element));
    }
  else
    {
      gtk_label_set_text (GTK_LABEL (name), "");
      gtk_label_set_text (GTK_LABEL (value), line);
      gtk_widget_set_tooltip_text (box, NULL);
    }
}

static void
px_tag_panel_dispose (GObject *object)
{
  PxTagPanel *self = (PxTagPanel *)object;

  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), PX_TYPE_TAG_PANEL);
  // The template's top box has no id, so it is unparented here.
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  g_clear_object (&self->study);

  G_OBJECT_CLASS (px_tag_panel_parent_class)->dispose (object);
}

static void
px_tag_panel_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  PxTagPanel *self = PX_TAG_PANEL (object);

  switch (prop_id)
    {
    case PROP_STUDY:
      g_value_set_object (value, self->study);
      break;

    case PROP_PRIVACY:
      g_value_set_boolean (value, self->privacy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_tag_panel_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  PxTagPanel *self = PX_TAG_PANEL (object);

  switch (prop_id)
    {
    case PROP_STUDY:
      px_tag_panel_set_study (self, g_value_get_object (value));
      break;

    case PROP_PRIVACY:
      px_tag_panel_set_privacy (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_tag_panel_class_init (PxTagPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = px_tag_panel_dispose;
  object_class->get_property = px_tag_panel_get_property;
  object_class->set_property = px_tag_panel_set_property;

  properties [PROP_STUDY] =
    g_param_spec_object ("study", NULL, NULL, PX_TYPE_STUDY,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_PRIVACY] =
    g_param_spec_boolean ("privacy", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  px_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class, "/org/peac/Explorer/px-tag-panel.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "pxtagpanel");
  gtk_widget_class_bind_template_child (widget_class, PxTagPanel, lines);
  gtk_widget_class_bind_template_child (widget_class, PxTagPanel, stack);
  gtk_widget_class_bind_template_child (widget_class, PxTagPanel, search_entry);
  gtk_widget_class_bind_template_child (widget_class, PxTagPanel, list_view);
  gtk_widget_class_bind_template_child (widget_class, PxTagPanel, filter);
  gtk_widget_class_bind_template_callback (widget_class, setup_row);
  gtk_widget_class_bind_template_callback (widget_class, bind_row);
}

static void
px_tag_panel_init (PxTagPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  rebuild (self);
}

/**
 * px_tag_panel_get_study:
 *
 * Returns: (transfer none) (nullable): the study whose header is listed
 */
PxStudy *
px_tag_panel_get_study (PxTagPanel *self)
{
  g_return_val_if_fail (PX_IS_TAG_PANEL (self), NULL);
  return self->study;
}

void
px_tag_panel_set_study (PxTagPanel *self,
                        PxStudy    *study)
{
  g_return_if_fail (PX_IS_TAG_PANEL (self));
  g_return_if_fail (!study || PX_IS_STUDY (study));

  if (g_set_object (&self->study, study))
    {
      rebuild (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STUDY]);
    }
}

gboolean
px_tag_panel_get_privacy (PxTagPanel *self)
{
  g_return_val_if_fail (PX_IS_TAG_PANEL (self), FALSE);
  return self->privacy;
}

void
px_tag_panel_set_privacy (PxTagPanel *self,
                          gboolean    privacy)
{
  g_return_if_fail (PX_IS_TAG_PANEL (self));

  privacy = !!privacy;
  if (self->privacy != privacy)
    {
      self->privacy = privacy;
      rebuild (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_PRIVACY]);
    }
}

/**
 * px_tag_panel_get_lines:
 *
 * Returns: (transfer none): the lines listed, as #GtkStringObject, masked as shown
 */
GListModel *
px_tag_panel_get_lines (PxTagPanel *self)
{
  g_return_val_if_fail (PX_IS_TAG_PANEL (self), NULL);
  return G_LIST_MODEL (self->lines);
}
