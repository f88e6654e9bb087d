// SPDX-License-Identifier: GPL-3.0-or-later
//
// PxStudy owns one loaded radiograph: the PxImage, the file it came from, a small
// thumbnail rendered with the image's default window, and the descriptive fields the
// sidebar and title show (patient, view, date). px_study_load_async() does the decoding
// and the thumbnail in a GTask worker, so big DICOMs never stall the main loop.
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "px-study.h"

struct _PxStudy
{
  GObject     parent_instance;

  GFile      *file;
  PxImage    *image;
  char       *title;
  char       *date;
  GdkTexture *thumbnail;
};

G_DEFINE_FINAL_TYPE (PxStudy, px_study, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FILE,
  PROP_TITLE,
  PROP_PATIENT_NAME,
  PROP_PATIENT_ID,
  PROP_VIEW,
  PROP_DATE,
  PROP_FORMAT,
  PROP_THUMBNAIL,
  N_PROPS
};

static GParamSpec *properties [N_PROPS];

// DICOM dates are YYYYMMDD; show them as ISO 8601, which reads the same in every locale.
static char *
format_dicom_date (const char *raw)
{
  if (raw == NULL || *raw == '\0')
    return NULL;
  if (strlen (raw) == 8)
    {
      for (guint i = 0; i < 8; i++)
        if (!g_ascii_isdigit (raw[i]))
          return g_strdup (raw);
      return g_strdup_printf ("%.4s-%.2s-%.2s", raw, raw + 4, raw + 6);
    }
  return g_strdup (raw);
}

// Box-filtered downscale of the 8-bit presentation into an RGB texture whose longer
// side is at most PX_STUDY_THUMBNAIL_SIZE.
static GdkTexture *
render_thumbnail (const PxImage *image)
{
  double center, width;
  int longest = MAX (image->width, image->height);
  double scale = MIN (1.0, (double) PX_STUDY_THUMBNAIL_SIZE / longest);
  int tw = MAX (1, (int) (image->width * scale + 0.5));
  int th = MAX (1, (int) (image->height * scale + 0.5));
  g_autofree guint8 *grey = g_malloc ((gsize) image->width * image->height);
  guint8 *rgb = g_malloc ((gsize) tw * th * 3);
  g_autoptr(GBytes) bytes = NULL;

  px_image_default_window (image, &center, &width);
  px_image_render_u8 (image, center, width, FALSE, grey);

  for (int ty = 0; ty < th; ty++)
    {
      int y0 = (int) ((gint64) ty * image->height / th);
      int y1 = MAX (y0 + 1, (int) ((gint64) (ty + 1) * image->height / th));

      for (int tx = 0; tx < tw; tx++)
        {
          int x0 = (int) ((gint64) tx * image->width / tw);
          int x1 = MAX (x0 + 1, (int) ((gint64) (tx + 1) * image->width / tw));
          guint64 sum = 0;
          guint8 v;

          for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
              sum += grey[(gsize) y * image->width + x];
          v = (guint8) (sum / ((guint64) (y1 - y0) * (x1 - x0)));
          rgb[((gsize) ty * tw + tx) * 3 + 0] = v;
          rgb[((gsize) ty * tw + tx) * 3 + 1] = v;
          rgb[((gsize) ty * tw + tx) * 3 + 2] = v;
        }
    }

  bytes = g_bytes_new_take (rgb, (gsize) tw * th * 3);
  return gdk_memory_texture_new (tw, th, GDK_MEMORY_R8G8B8, bytes, (gsize) tw * 3);
}

static PxStudy *
px_study_new_take (GFile   *file,
                   PxImage *image)
{
  PxStudy *self = g_object_new (PX_TYPE_STUDY, "file", file, NULL);

  self->image = image;
  self->date = format_dicom_date (image->study_date);
  self->thumbnail = render_thumbnail (image);
  return self;
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GFile *file = task_data;
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GError) error = NULL;
  PxImage *image;

  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Only local files can be opened (%s)"), uri);
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  if (!(image = px_image_load (path, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, px_study_new_take (file, image), g_object_unref);
}

static void
px_study_finalize (GObject *object)
{
  PxStudy *self = (PxStudy *)object;

  g_clear_object (&self->file);
  g_clear_pointer (&self->image, px_image_free);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->date, g_free);
  g_clear_object (&self->thumbnail);

  G_OBJECT_CLASS (px_study_parent_class)->finalize (object);
}

static void
px_study_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  PxStudy *self = PX_STUDY (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;

    case PROP_TITLE:
      g_value_set_string (value, px_study_get_title (self));
      break;

    case PROP_PATIENT_NAME:
      g_value_set_string (value, px_study_get_patient_name (self));
      break;

    case PROP_PATIENT_ID:
      g_value_set_string (value, px_study_get_patient_id (self));
      break;

    case PROP_VIEW:
      g_value_set_string (value, px_study_get_view (self));
      break;

    case PROP_DATE:
      g_value_set_string (value, px_study_get_date (self));
      break;

    case PROP_FORMAT:
      g_value_set_string (value, px_study_get_format (self));
      break;

    case PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_study_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  PxStudy *self = PX_STUDY (object);

  switch (prop_id)
    {
    case PROP_FILE:
      self->file = g_value_dup_object (value);
      if (self->file != NULL)
        self->title = g_file_get_basename (self->file);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
px_study_class_init (PxStudyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = px_study_finalize;
  object_class->get_property = px_study_get_property;
  object_class->set_property = px_study_set_property;

  properties [PROP_FILE] =
    g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  properties [PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties [PROP_PATIENT_NAME] =
    g_param_spec_string ("patient-name", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties [PROP_PATIENT_ID] =
    g_param_spec_string ("patient-id", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties [PROP_VIEW] =
    g_param_spec_string ("view", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties [PROP_DATE] =
    g_param_spec_string ("date", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties [PROP_FORMAT] =
    g_param_spec_string ("format", NULL, NULL, NULL,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  properties [PROP_THUMBNAIL] =
    g_param_spec_object ("thumbnail", NULL, NULL, GDK_TYPE_TEXTURE,
                         (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
px_study_init (PxStudy *self)
{
}

GFile *
px_study_get_file (PxStudy *self)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);
  return self->file;
}

const char *
px_study_get_title (PxStudy *self)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);
  return self->title;
}

const char *
px_study_get_patient_name (PxStudy *self)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);
  return self->image ? self->image->patient_name : NULL;
}

const char *
px_study_get_patient_id (PxStudy *self)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);
  return self->image ? self->image->patient_id : NULL;
}

const char *
px_study_get_view (PxStudy *self)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);
  return self->image ? self->image->view_position : NULL;
}

const char *
px_study_get_date (PxStudy *self)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);
  return self->date;
}

const char *
px_study_get_format (PxStudy *self)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);
  if (self->image == NULL)
    return NULL;
  if (self->image->format_detail != NULL)
    return self->image->format_detail;
  return px_format_to_string (self->image->format);
}

GdkTexture *
px_study_get_thumbnail (PxStudy *self)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);
  return self->thumbnail;
}

/**
 * px_study_get_image:
 *
 * Returns: (transfer none): the loaded image, owned by @self and never modified.
 */
const PxImage *
px_study_get_image (PxStudy *self)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);
  return self->image;
}

/**
 * px_study_dup_summary:
 * @privacy: whether patient identifiers (and the study date) must be left out
 *
 * One line for the sidebar and the window subtitle: patient, view, date, or the size and
 * format when the file carries no such fields.
 */
char *
px_study_dup_summary (PxStudy  *self,
                      gboolean  privacy)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  const char *patient;

  g_return_val_if_fail (PX_IS_STUDY (self), NULL);

  patient = px_study_get_patient_name (self);
  if (patient == NULL || *patient == '\0')
    patient = px_study_get_patient_id (self);
  if (patient != NULL && *patient != '\0')
    {
      if (privacy)
        g_ptr_array_add (parts, g_strdup (_("Patient hidden")));
      else
        g_ptr_array_add (parts, g_strdup (patient));
    }

  if (px_study_get_view (self) != NULL && *px_study_get_view (self) != '\0')
    g_ptr_array_add (parts, g_strdup (px_study_get_view (self)));
  if (self->date != NULL && !privacy)
    g_ptr_array_add (parts, g_strdup (self->date));

  if (parts->len == 0 && self->image != NULL)
    {
      /* Translators: image size in pixels, e.g. "640 × 547" */
      g_ptr_array_add (parts, g_strdup_printf (_("%d × %d"), self->image->width, self->image->height));
      if (px_study_get_format (self) != NULL)
        g_ptr_array_add (parts, g_strdup (px_study_get_format (self)));
    }

  g_ptr_array_add (parts, NULL);
  return g_strjoinv (" · ", (char **) parts->pdata);
}

void
px_study_load_async (GFile               *file,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, px_study_load_async);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, load_thread);
}

PxStudy *
px_study_load_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

// Elements that name or point at a person or a visit, after the DICOM basic
// de-identification profile (PS3.15 E.1): names, IDs, dates and times, UIDs, institution
// and device serials. Group 0010 (the patient module) is hidden as a whole, except sex,
// which identifies nobody and matters for reading.
static const char * const identifying_tags[] = {
  "0002,0003", // MediaStorageSOPInstanceUID
  "0008,0012", // InstanceCreationDate
  "0008,0013", // InstanceCreationTime
  "0008,0014", // InstanceCreatorUID
  "0008,0018", // SOPInstanceUID
  "0008,0020", // StudyDate
  "0008,0021", // SeriesDate
  "0008,0022", // AcquisitionDate
  "0008,0023", // ContentDate
  "0008,002A", // AcquisitionDateTime
  "0008,0030", // StudyTime
  "0008,0031", // SeriesTime
  "0008,0032", // AcquisitionTime
  "0008,0033", // ContentTime
  "0008,0050", // AccessionNumber
  "0008,0080", // InstitutionName
  "0008,0081", // InstitutionAddress
  "0008,0090", // ReferringPhysicianName
  "0008,1010", // StationName
  "0008,1040", // InstitutionalDepartmentName
  "0008,1048", // PhysiciansOfRecord
  "0008,1050", // PerformingPhysicianName
  "0008,1060", // NameOfPhysiciansReadingStudy
  "0008,1070", // OperatorsName
  "0008,1155", // ReferencedSOPInstanceUID
  "0018,1000", // DeviceSerialNumber
  "0018,1002", // DeviceUID
  "0020,000D", // StudyInstanceUID
  "0020,000E", // SeriesInstanceUID
  "0020,0010", // StudyID
  "0020,0052", // FrameOfReferenceUID
  "0020,0200", // SynchronizationFrameOfReferenceUID
  "0032,1032", // RequestingPhysician
  "0038,0010", // AdmissionID
  "0040,0253", // PerformedProcedureStepID
};

/**
 * px_tag_is_identifying:
 * @line: a tag line as PxImage stores it, "(gggg,eeee) Name: value"
 *
 * Returns: whether the line's value must be hidden in privacy mode
 */
gboolean
px_tag_is_identifying (const char *line)
{
  char tag[10];

  g_return_val_if_fail (line != NULL, FALSE);

  if (line[0] != '(' || strlen (line) < 11 || line[10] != ')')
    return FALSE;
  memcpy (tag, line + 1, 9);
  tag[9] = '\0';
  for (char *p = tag; *p; p++)
    *p = g_ascii_toupper (*p);

  if (g_str_has_prefix (tag, "0010,"))
    return !g_str_equal (tag, "0010,0040");
  for (guint i = 0; i < G_N_ELEMENTS (identifying_tags); i++)
    if (g_str_equal (tag, identifying_tags[i]))
      return TRUE;
  return FALSE;
}

/**
 * px_study_dup_tags:
 * @privacy: whether identifying values must be replaced
 *
 * Returns: (transfer full) (nullable): the DICOM header lines, identifying values
 *   replaced by “Hidden” when @privacy is set; %NULL for files without a header
 */
char **
px_study_dup_tags (PxStudy  *self,
                   gboolean  privacy)
{
  GStrvBuilder *builder;
  char **lines;

  g_return_val_if_fail (PX_IS_STUDY (self), NULL);

  if (self->image == NULL || self->image->tags == NULL)
    return NULL;

  builder = g_strv_builder_new ();
  for (guint i = 0; i < self->image->tags->len; i++)
    {
      const char *line = g_ptr_array_index (self->image->tags, i);

      if (privacy && px_tag_is_identifying (line))
        {
          const char *colon = strchr (line, ':');
          g_autofree char *head = colon ? g_strndup (line, colon - line) : g_strndup (line, 11);
          g_autofree char *masked = g_strdup_printf ("%s: %s", head, _("Hidden"));

          g_strv_builder_add (builder, masked);
        }
      else
        g_strv_builder_add (builder, line);
    }
  lines = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return lines;
}

// Whether @text holds the value of any identifying element of the header (or the patient's
// name or ID): values of four characters or more, so that "M" or "CR" never count.
static gboolean
holds_identifying_value (PxStudy    *self,
                         const char *text)
{
  const char *fields[2] = { px_study_get_patient_name (self), px_study_get_patient_id (self) };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (fields[i] != NULL && strlen (fields[i]) >= 4 && strstr (text, fields[i]) != NULL)
      return TRUE;
  for (guint i = 0; self->image != NULL && self->image->tags != NULL && i < self->image->tags->len; i++)
    {
      const char *line = g_ptr_array_index (self->image->tags, i);
      const char *colon = strchr (line, ':');
      g_autofree char *value = NULL;

      if (colon == NULL || !px_tag_is_identifying (line))
        continue;
      value = g_strstrip (g_strdup (colon + 1));
      if (strlen (value) >= 4 && strstr (text, value) != NULL)
        return TRUE;
    }
  return FALSE;
}

// Whether @text holds something shaped as a DICOM UID — digits in four or more
// dot-separated components, as PACS exports name their files — whatever header it belongs to.
static gboolean
holds_uid (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      int components = 0, digits = 0;
      const char *q;

      if (!g_ascii_isdigit (*p) || (p > text && g_ascii_isdigit (p[-1])))
        continue;
      for (q = p; g_ascii_isdigit (*q) || (*q == '.' && digits > 0 && g_ascii_isdigit (q[1])); q++)
        {
          if (*q == '.')
            components++, digits = 0;
          else
            digits++;
        }
      if (components + 1 >= 4)
        return TRUE;
    }
  return FALSE;
}

/**
 * px_privacy_mask_name:
 * @name: a file name as it would be shown
 * @studies: (array length=n_studies) (nullable): open studies whose headers' identifying
 *   values must not show
 *
 * The one privacy rule for names the app shows (sidebar, window title, pages, the embedding
 * map, the toasts of files that could not be opened): @name as it is, unless it holds an
 * identifying value of one of @studies' headers (px_tag_is_identifying(), the patient's
 * name or ID; four characters or more) or anything shaped as a DICOM UID. Then "Radiograph"
 * and a short checksum of the name (the first six hex digits of its SHA-256), which tells
 * names apart without naming anyone.
 *
 * Returns: (transfer full): the name to show in privacy mode
 */
char *
px_privacy_mask_name (const char     *name,
                      PxStudy *const *studies,
                      guint           n_studies)
{
  g_autofree char *sum = NULL;
  gboolean hide = holds_uid (name);

  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; !hide && i < n_studies; i++)
    hide = holds_identifying_value (studies[i], name);
  if (!hide)
    return g_strdup (name);
  sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, name, -1);
  /* Translators: a radiograph whose file name is hidden in privacy mode, with a short
   * checksum of the name that tells radiographs apart */
  return g_strdup_printf (_("Radiograph %.6s"), sum);
}

/**
 * px_study_dup_display_title:
 * @privacy: whether identifying values must be left out
 *
 * The study's title (its file name) as the window title, the sidebar and the pages show
 * it. In privacy mode px_privacy_mask_name() with this study's header: a file name that
 * holds an identifying value of the header or a UID — a DICOM file named by its SOP
 * Instance UID, say — becomes "Radiograph" and a short checksum of the name.
 *
 * Returns: (transfer full): the title to show
 */
char *
px_study_dup_display_title (PxStudy  *self,
                            gboolean  privacy)
{
  g_return_val_if_fail (PX_IS_STUDY (self), NULL);

  return privacy ? px_privacy_mask_name (self->title, &self, 1) : g_strdup (self->title);
}
