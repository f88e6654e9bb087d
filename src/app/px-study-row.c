// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxStudyRow is the sidebar's list item: it shows a PxStudy's thumbnail, its file name
// and px_study_dup_summary(), recomputed when the study or the privacy flag changes.
// Rows are recycled by the list view, so everything shown derives from those two
// properties and nothing else.
#include "config.h"

#include "px-application.h"
#include "px-study-row.h"

struct _PxStudyRow
{
  GtkWidget   parent_instance;

  PxStudy    *study;
  gboolean    privacy;

  GtkImage   *thumbnail;
  GtkLabel   *title;
  GtkLabel   *subtitle;
};

G_DEFINE_FINAL_TYPE (PxStudyRow, px_study_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_STUDY,
  PROP_PRIVACY,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

static void
update (PxStudyRow *self)
{
  g_autofree char *summary = NULL, *title = NULL;

  if (self->study == NULL)
    {
      gtk_image_clear (self->thumbnail);
      gtk_label_set_text (self->title, "");
      gtk_label_set_text (self->subtitle, "");
      return;
    }

  summary = px_study_dup_summary (self->study, self->privacy);
  gtk_image_set_from_paintable (self->thumbnail, GDK_PAINTABLE (px_study_get_thumbnail (self->study)));
  title = px_study_dup_display_title (self->study, self->privacy);
  gtk_label_set_text (self->title, title);
  gtk_label_set_text (self->subtitle, summary);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->title), title);
}

static void
px_study_row_dispose (GObject *object)
{
  PxStudyRow *self = (PxStudyRow *)object;

  GtkWidget *child;

  gtk_widget_dispose_template (GTK_WIDGET (self), PX_TYPE_STUDY_ROW);
  // The template's top box has no id, so it is unparented here.
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  g_clear_object (&self->study);

  G_OBJECT_CLASS (px_study_row_parent_class)->dispose (object);
}

static void
px_study_row_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  PxStudyRow *self = PX_STUDY_ROW (object);

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
px_study_row_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  PxStudyRow *self = PX_STUDY_ROW (object);

  switch (prop_id)
    {
    case PROP_STUDY:
      px_study_row_set_study (self, g_value_get_object (value));
      break;

    case PROP_PRIVACY:
      px_study_row_set_privacy (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_study_row_class_init (PxStudyRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = px_study_row_dispose;
  object_class->get_property = px_study_row_get_property;
  object_class->set_property = px_study_row_set_property;

  properties [PROP_STUDY] =
    g_param_spec_object ("study", NULL, NULL, PX_TYPE_STUDY,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties [PROP_PRIVACY] =
    g_param_spec_boolean ("privacy", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  px_ensure_resources ();
  gtk_widget_class_set_template_from_resource (widget_class, "/org/peac/Explorer/px-study-row.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_bind_template_child (widget_class, PxStudyRow, thumbnail);
  gtk_widget_class_bind_template_child (widget_class, PxStudyRow, title);
  gtk_widget_class_bind_template_child (widget_class, PxStudyRow, subtitle);
}

static void
px_study_row_init (PxStudyRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
px_study_row_new (void)
{
  return g_object_new (PX_TYPE_STUDY_ROW, NULL);
}

/**
 * px_study_row_get_study:
 *
 * Returns: (transfer none) (nullable): the study shown
 */
PxStudy *
px_study_row_get_study (PxStudyRow *self)
{
  g_return_val_if_fail (PX_IS_STUDY_ROW (self), NULL);
  return self->study;
}

void
px_study_row_set_study (PxStudyRow *self,
                        PxStudy    *study)
{
  g_return_if_fail (PX_IS_STUDY_ROW (self));
  g_return_if_fail (!study || PX_IS_STUDY (study));

  if (g_set_object (&self->study, study))
    {
      update (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_STUDY]);
    }
}

gboolean
px_study_row_get_privacy (PxStudyRow *self)
{
  g_return_val_if_fail (PX_IS_STUDY_ROW (self), FALSE);
  return self->privacy;
}

void
px_study_row_set_privacy (PxStudyRow *self,
                          gboolean    privacy)
{
  g_return_if_fail (PX_IS_STUDY_ROW (self));

  privacy = !!privacy;
  if (self->privacy != privacy)
    {
      self->privacy = privacy;
      update (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties [PROP_PRIVACY]);
    }
}
