// SPDX-License-Identifier: GPL-3.0-or-later
//
// The correspondence page's points as landmarks and pictures: the view and the points
// exported, the points of a panel as a landmark set (the one the Save Landmarks flow writes
// through the one JSON writer, px-landmarks.h), a landmark file loaded onto the source, and
// the cardiothoracic ratio measured on each panel's points (drawn by px-match-scene.c,
// with its value and a caveat in the page's label).
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "px-correspondence-page-private.h"
#include "px-export.h"
#include "px-landmarks.h"

// The calibrated square pixel size of a study's image in mm, or 0.
double
_px_correspondence_page_pixel_mm (PxStudy *study)
{
  const PxImage *image = study != NULL ? px_study_get_image (study) : NULL;

  if (image == NULL || !(image->pixel_spacing[0] > 0)
      || fabs (image->pixel_spacing[0] - image->pixel_spacing[1]) > 1e-6)
    return 0.0;
  return image->pixel_spacing[0];
}

void
_px_correspondence_page_measure (PxCorrespondencePage *self)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (int p = 0; p < self->scene.n_panels; p++)
    {
      g_autoptr(PxLandmarkSet) set = px_correspondence_page_dup_landmarks (self, p, FALSE);
      PxMatchCtr *c = &self->scene.ctr[p];

      c->valid = set->ctr.valid;
      c->ratio = set->ctr.ratio;
      memcpy (c->heart, set->ctr.heart_line, sizeof c->heart);
      memcpy (c->thorax, set->ctr.thorax_line, sizeof c->thorax);
      if (c->valid)
        {
          g_autofree char *label = _px_correspondence_page_panel_label (self, p);

          /* Translators: a radiograph's name and its cardiothoracic ratio */
          g_string_append_printf (text, text->len > 0 ? ", %s %.2f" : "%s %.2f", label, c->ratio);
        }
    }
  if (text->len > 0)
    {
      /* Translators: followed by the image names and their ratios */
      g_string_prepend (text, _("Cardiothoracic ratio: "));
    }
  gtk_label_set_text (self->ctr_label, text->str);
  gtk_widget_set_visible (GTK_WIDGET (self->ctr_label), text->len > 0);
}

static void
draw_export (gpointer  data,
             cairo_t  *cr,
             double    width,
             double    height)
{
  PxCorrespondencePage *self = data;

  self->scene.opacity = gtk_adjustment_get_value (self->opacity);
  self->scene.heatmap = _px_correspondence_page_get_flag (self, "heatmap");
  self->scene.grid_layout = _px_correspondence_page_get_flag (self, "grid");
  px_match_scene_draw (&self->scene, cr, width, height);
}

/**
 * px_correspondence_page_export_view:
 * @format: "png" or "svg"
 *
 * Draws the view as it is on screen (without the tool bar) into a file.
 */
gboolean
px_correspondence_page_export_view (PxCorrespondencePage *self,
                                    const char           *path,
                                    const char           *format,
                                    double                width,
                                    double                height,
                                    GError              **error)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);
  return px_export_drawing (path, format, width, height, draw_export, self, error);
}

/**
 * px_correspondence_page_export_points:
 * @format: "csv" or "json"
 *
 * Writes every pin with its answer in every target (see px_export_match_points()). Images
 * are named as the sidebar names them: with privacy on, px_privacy_mask_name()'s name
 * (the title, or "Radiograph" and a checksum where the title identifies someone); which
 * image is the source is the role column's (the JSON's role field, and the buddies'
 * source and target objects).
 */
gboolean
px_correspondence_page_export_points (PxCorrespondencePage *self,
                                      const char           *path,
                                      const char           *format,
                                      GError              **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);

  for (int p = 0; p < self->scene.n_panels; p++)
    g_ptr_array_add (names, _px_correspondence_page_panel_label (self, p));
  g_ptr_array_add (names, NULL);
  if (!px_export_match_points (&self->scene, (const char * const *) names->pdata, path, format, error))
    return FALSE;
  if (self->source != NULL)
    px_pin_history_mark_saved (self->history, self->source);
  return TRUE;
}

/**
 * px_correspondence_page_get_panel_study:
 * @panel: 0 for the source, t + 1 for target t
 *
 * Returns: (transfer none) (nullable): the study shown in @panel
 */
PxStudy *
px_correspondence_page_get_panel_study (PxCorrespondencePage *self,
                                        int                   panel)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), NULL);

  if (panel < 0 || panel >= self->scene.n_panels)
    return NULL;
  return panel == 0 ? self->source : g_ptr_array_index (self->targets, panel - 1);
}

/**
 * px_correspondence_page_dup_landmarks:
 * @panel: 0 for the source, t + 1 for target t
 *
 * The pins as landmarks of @panel's image (pixel-centre convention, palette colours, their
 * structures), with the cardiothoracic ratio of the points when they have the heart and
 * both lungs (px_landmark_set_measure_ctr()). Points fused from several references keep
 * their spread (spread_px, and spread_mm where the image's pixel spacing is known) and are
 * unconfirmed where the spread is over the threshold (px-correspondence-propagate.c). On a
 * target: the answers found there or corrected by hand; the guided mode's unconfirmed
 * answers (a registration always answers), marked unconfirmed; and, when @with_rejected
 * asks for them, the rejected candidates of nearest-mode "no match" answers, marked so too.
 * The image path is the file's base name, left out with privacy on.
 *
 * Returns: (transfer full): a new landmark set
 */
PxLandmarkSet *
px_correspondence_page_dup_landmarks (PxCorrespondencePage *self,
                                      int                   panel,
                                      gboolean              with_rejected)
{
  PxLandmarkSet *set;
  double mm;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), NULL);
  g_return_val_if_fail (panel >= 0 && panel < self->scene.n_panels, NULL);

  set = px_landmark_set_new ();
  if (!self->privacy)
    set->image_path = g_file_get_basename (px_study_get_file (px_correspondence_page_get_panel_study (self, panel)));
  set->image_width = (int) self->scene.panels[panel].width;
  set->image_height = (int) self->scene.panels[panel].height;
  mm = _px_correspondence_page_pixel_mm (px_correspondence_page_get_panel_study (self, panel));
  for (guint i = 0; i < self->scene.pins->len; i++)
    {
      const PxMatchPin *pin = &g_array_index (self->scene.pins, PxMatchPin, i);
      const PeacMatch *m = panel > 0 ? &pin->match[panel - 1] : NULL;
      double r, g, b;
      char colour[8];
      gboolean unconfirmed = panel > 0 && !m->found && !pin->moved[panel - 1];
      const char *dot = pin->name != NULL ? strrchr (pin->name, '.') : NULL;
      int index = -1;

      if (unconfirmed && self->scene.mode == PEAC_MATCH_NEAREST && !with_rejected)
        continue;
      px_match_palette (pin->colour, &r, &g, &b);
      g_snprintf (colour, sizeof colour, "#%02x%02x%02x", (int) lround (r * 255),
                  (int) lround (g * 255), (int) lround (b * 255));
      // Data-set points keep their structure.index names ("RL.3").
      if (pin->structure != NULL && dot != NULL && g_str_has_prefix (pin->name, pin->structure)
          && (size_t) (dot - pin->name) == strlen (pin->structure))
        index = atoi (dot + 1);
      PxLandmark *l = px_landmark_set_add (set, pin->name, pin->structure, index,
                                           (panel == 0 ? pin->x : m->x) - 0.5,
                                           (panel == 0 ? pin->y : m->y) - 0.5, colour);
      l->unconfirmed = pin->fused[panel] ? pin->doubtful[panel] : unconfirmed;
      if (pin->fused[panel])
        {
          l->spread_px = pin->spread[panel];
          l->spread_mm = mm > 0 ? pin->spread[panel] * mm : -1.0;
        }
    }
  px_landmark_set_measure_ctr (set);
  return set;
}

/**
 * px_correspondence_page_dup_landmark_file_names:
 *
 * Returns: (transfer full): the names px_correspondence_page_save_landmarks() gives the
 *   files of the panels, in panel order: the image's name as the sidebar shows it (with
 *   privacy on, px_privacy_mask_name()'s), " (2)", " (3)", … on the later ones of
 *   panels that share a name, then ".landmarks.json"
 */
GStrv
px_correspondence_page_dup_landmark_file_names (PxCorrespondencePage *self)
{
  GStrv names;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), NULL);

  names = g_new0 (char *, self->scene.n_panels + 1);
  for (int p = 0; p < self->scene.n_panels; p++)
    {
      g_autofree char *name = _px_correspondence_page_panel_label (self, p);
      int seen = 0;

      // Two radiographs of one name (files of one name in two folders) get two files.
      for (int q = 0; q < p; q++)
        {
          g_autofree char *earlier = _px_correspondence_page_panel_label (self, q);

          seen += g_str_equal (earlier, name);
        }
      names[p] = seen > 0 ? g_strdup_printf ("%s (%d).landmarks.json", name, seen + 1)
                          : g_strdup_printf ("%s.landmarks.json", name);
    }
  return names;
}

/**
 * px_correspondence_page_save_landmarks:
 *
 * Writes one landmark JSON file per panel into @folder (see
 * px_correspondence_page_dup_landmarks()), named as
 * px_correspondence_page_dup_landmark_file_names() says. Existing files are replaced:
 * px-landmark-save.c asks first.
 */
gboolean
px_correspondence_page_save_landmarks (PxCorrespondencePage *self,
                                       const char           *folder,
                                       GError              **error)
{
  g_auto(GStrv) names = NULL;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);

  names = px_correspondence_page_dup_landmark_file_names (self);
  for (int p = 0; p < self->scene.n_panels; p++)
    {
      g_autoptr(PxLandmarkSet) set = px_correspondence_page_dup_landmarks (self, p, FALSE);
      g_autofree char *path = g_build_filename (folder, names[p], NULL);

      if (!px_landmarks_save_json (set, path, error))
        return FALSE;
    }
  if (self->source != NULL)
    px_pin_history_mark_saved (self->history, self->source);
  return TRUE;
}

/**
 * px_correspondence_page_get_unsaved:
 * @study: (nullable): one image, or %NULL for any
 *
 * Returns: whether pins on @study as the source were placed, moved or removed since
 *   they were last saved (Save Landmarks, Export Points)
 */
gboolean
px_correspondence_page_get_unsaved (PxCorrespondencePage *self,
                                    PxStudy              *study)
{
  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);
  return px_pin_history_get_unsaved (self->history, study);
}

/**
 * px_correspondence_page_load_landmarks:
 *
 * Replaces the pins with the landmarks of a JSON file placed on the source, and answers
 * them in every target. Landmark mode is switched on.
 */
gboolean
px_correspondence_page_load_landmarks (PxCorrespondencePage *self,
                                       const char           *path,
                                       GError              **error)
{
  g_autoptr(PxLandmarkSet) set = NULL;

  g_return_val_if_fail (PX_IS_CORRESPONDENCE_PAGE (self), FALSE);

  set = px_landmarks_load_json (path, error);
  if (set == NULL)
    return FALSE;
  g_action_group_change_action_state (G_ACTION_GROUP (self->actions), "landmarks", g_variant_new_boolean (TRUE));
  _px_correspondence_page_record_pins (self);
  g_array_set_size (self->scene.pins, 0);
  self->pin_counter = 0;
  for (guint i = 0; i < px_landmark_set_size (set); i++)
    {
      const PxLandmark *l = px_landmark_set_get (set, i);
      int colour = _px_correspondence_page_structure_colour (l->structure);

      for (int k = 0; l->color != NULL && k < PX_MATCH_N_COLOURS; k++)
        {
          double r, g, b;
          char hex[8];

          px_match_palette (k, &r, &g, &b);
          g_snprintf (hex, sizeof hex, "#%02x%02x%02x", (int) lround (r * 255),
                      (int) lround (g * 255), (int) lround (b * 255));
          if (g_ascii_strcasecmp (hex, l->color) == 0)
            colour = k;
        }
      PxMatchPin *pin = _px_correspondence_page_add_pin (self, l->name, l->x + 0.5, l->y + 0.5, colour);

      pin->structure = g_strdup (l->structure);
    }
  _px_correspondence_page_refresh (self);
  return TRUE;
}
