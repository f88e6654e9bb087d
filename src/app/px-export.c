// SPDX-License-Identifier: GPL-3.0-or-later
//
// Exports share one rule: what is written is what is shown. Drawings go through the
// caller's own draw routine onto a PNG image surface or an SVG surface; a failed write is
// an error naming the file. The points format (pins, and the best-buddy pairs when they
// are drawn) is documented at px_export_match_points(). The file and folder choosers are
// native ones, modal to the asking widget's window.
#include "config.h"

#include <cairo-svg.h>
#include <glib/gi18n.h>
#include <math.h>

#include "px-answer-confidence.h"
#include "px-export.h"

/**
 * px_export_drawing:
 * @format: "png" or "svg"
 *
 * Calls @draw on a @width × @height surface and writes it to @path.
 */
gboolean
px_export_drawing (const char  *path,
                   const char  *format,
                   double       width,
                   double       height,
                   PxDrawFunc   draw,
                   gpointer     data,
                   GError     **error)
{
  gboolean svg = g_str_equal (format, "svg");
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;

  if (svg)
    surface = cairo_svg_surface_create (path, width, height);
  else
    surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, (int) ceil (width), (int) ceil (height));
  cr = cairo_create (surface);
  draw (data, cr, width, height);
  cairo_destroy (cr);
  status = cairo_surface_status (surface);
  if (status == CAIRO_STATUS_SUCCESS && !svg)
    status = cairo_surface_write_to_png (surface, path);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_autofree char *name = g_path_get_basename (path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   /* Translators: a file name, then the reason */
                   _("Could not write “%s”: %s"), name, cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

// Quoted, quotes doubled (RFC 4180): names come from file names and user labels.
void
px_export_csv_field (GString    *out,
                     const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

void
px_export_json_string (GString    *out,
                       const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (out, "\\u%04x", *p);
      else
        g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

// A number in the export's fixed notation, or an empty CSV field / JSON null when absent.
static void
append_optional (GString  *out,
                 double    value,
                 gboolean  json)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];

  if (value < 0)
    g_string_append (out, json ? "null" : "");
  else
    g_string_append (out, g_ascii_formatd (text, sizeof text, "%.2f", value));
}

// A best-buddy end's cell centre on @panel: image pixels, continuous.
static void
buddy_point (const PxMatchScene *scene,
             int                 panel,
             int                 cell,
             double             *x,
             double             *y)
{
  const PxMatchPanel *p = &scene->panels[panel];

  *x = (cell % p->gw + 0.5) * p->width / p->gw;
  *y = (cell / p->gw + 0.5) * p->height / p->gh;
}

// Continuous pixels in mm from the image's corner, or −1 (absent) without a spacing.
static double
to_mm (const PxMatchScene *scene,
       int                 panel,
       double              v)
{
  return scene->panels[panel].mm > 0 ? v * scene->panels[panel].mm : -1;
}

static void
append_buddies (GString            *out,
                const PxMatchScene *scene,
                const char * const *names,
                gboolean            json)
{
  char sim[G_ASCII_DTOSTR_BUF_SIZE], a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE];
  int n = scene->n_panels > 1 ? scene->n_buddies : 0;

  if (json && n > 0)
    g_string_append (out, ",\n  \"buddies\": [");
  for (int i = 0; i < n; i++)
    {
      const PeacBuddy *bd = &scene->buddies[i];
      char label[16];

      px_match_scene_buddy_label (i, label, sizeof label);
      g_ascii_formatd (sim, sizeof sim, "%.4f", bd->sim);
      if (json)
        {
          g_string_append (out, i == 0 ? "\n    { \"label\": " : ",\n    { \"label\": ");
          px_export_json_string (out, label);
          g_string_append_printf (out, ", \"similarity\": %s", sim);
        }
      for (int p = 0; p < 2; p++)
        {
          double x, y;

          buddy_point (scene, p, p == 0 ? bd->src : bd->tgt, &x, &y);
          g_ascii_formatd (a, sizeof a, "%.2f", x - 0.5);
          g_ascii_formatd (b, sizeof b, "%.2f", y - 0.5);
          if (json)
            {
              g_string_append_printf (out, ", \"%s\": { \"image\": ", p == 0 ? "source" : "target");
              px_export_json_string (out, names[p]);
              g_string_append_printf (out, ", \"x\": %s, \"y\": %s, \"x_mm\": ", a, b);
              append_optional (out, to_mm (scene, p, x), TRUE);
              g_string_append (out, ", \"y_mm\": ");
              append_optional (out, to_mm (scene, p, y), TRUE);
              g_string_append (out, " }");
            }
          else
            {
              px_export_csv_field (out, label);
              g_string_append_c (out, ',');
              px_export_csv_field (out, names[p]);
              g_string_append_printf (out, ",%s,%s,%s,1,%s,buddy,,,0,", p == 0 ? "buddy-source" : "buddy-target",
                                      a, b, sim);
              append_optional (out, to_mm (scene, p, x), FALSE);
              g_string_append_c (out, ',');
              append_optional (out, to_mm (scene, p, y), FALSE);
              g_string_append_printf (out, ",%s\n", sim);
            }
        }
      if (json)
        g_string_append (out, " }");
    }
  if (json && n > 0)
    g_string_append (out, "\n  ]");
}

/**
 * px_export_match_points:
 * @names: (array): one name per panel, as the export should call the images
 * @format: "csv" or "json"
 *
 * Writes every pin with its answer in every target: CSV columns pin, image, role (source
 * or target), x, y, found, confidence, grade, spread_px, spread_mm, corrected, x_mm, y_mm,
 * similarity; JSON {"format": "peac-correspondence", "version": 2, "pins": [ the same
 * fields per row ]}. Coordinates are image pixels in the pixel-centre convention of the
 * landmark files, x_mm and y_mm (x + 0.5) times the pixel spacing where it is known.
 * confidence and grade are px_confidence_of_pin()'s (high, medium, low or manual); found
 * is 1 unless the grade is low; the spreads are a propagated answer's, empty (null)
 * otherwise, spread_mm also where the pixel spacing is unknown.
 *
 * The best-buddy pairs the scene draws follow (none while they are hidden: what is written
 * is what is shown), labelled as on the drawing (px_match_scene_buddy_label): in the CSV
 * two rows per pair, roles buddy-source and buddy-target, grade "buddy", confidence and
 * similarity the pair's cosine similarity; in the JSON a "buddies" list of {label,
 * similarity, source: {image, x, y, x_mm, y_mm}, target: {…}}. Each end is its token
 * cell's centre. docs/correspondence.md documents the columns.
 */
gboolean
px_export_match_points (const PxMatchScene *scene,
                        const char * const *names,
                        const char         *path,
                        const char         *format,
                        GError            **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean json = g_str_equal (format, "json");
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];

  if (json)
    g_string_append (out, "{\n  \"format\": \"peac-correspondence\",\n  \"version\": 2,\n  \"pins\": [");
  else
    g_string_append (out, "pin,image,role,x,y,found,confidence,grade,spread_px,spread_mm,corrected,x_mm,y_mm,"
                          "similarity\n");

  for (guint i = 0; i < scene->pins->len; i++)
    {
      const PxMatchPin *pin = &g_array_index (scene->pins, PxMatchPin, i);

      for (int p = 0; p < scene->n_panels; p++)
        {
          const PeacMatch *m = p > 0 ? &pin->match[p - 1] : NULL;
          PxConfidence conf = px_confidence_of_pin (scene, pin, p);
          gboolean found = conf.grade != PX_CONFIDENCE_GRADE_LOW;
          gboolean corrected = p > 0 && pin->moved[p - 1] && !pin->fused[p];
          const char *grade = px_confidence_grade_id (conf.grade);

          g_ascii_formatd (a, sizeof a, "%.2f", (p == 0 ? pin->x : m->x) - 0.5);
          g_ascii_formatd (b, sizeof b, "%.2f", (p == 0 ? pin->y : m->y) - 0.5);
          g_ascii_formatd (c, sizeof c, "%.4f", conf.score);
          if (json)
            {
              g_string_append (out, i == 0 && p == 0 ? "\n    { " : (p == 0 ? ",\n    { " : ",\n      { "));
              g_string_append (out, "\"pin\": ");
              px_export_json_string (out, pin->name);
              g_string_append (out, ", \"image\": ");
              px_export_json_string (out, names[p]);
              g_string_append_printf (out, ", \"role\": \"%s\", \"x\": %s, \"y\": %s, \"found\": %s,"
                                      " \"confidence\": %s, \"grade\": \"%s\", \"spread_px\": ",
                                      p == 0 ? "source" : "target", a, b, found ? "true" : "false",
                                      c, grade);
              append_optional (out, conf.spread_px, TRUE);
              g_string_append (out, ", \"spread_mm\": ");
              append_optional (out, conf.spread_mm, TRUE);
              g_string_append_printf (out, ", \"corrected\": %s, \"x_mm\": ", corrected ? "true" : "false");
              append_optional (out, to_mm (scene, p, p == 0 ? pin->x : m->x), TRUE);
              g_string_append (out, ", \"y_mm\": ");
              append_optional (out, to_mm (scene, p, p == 0 ? pin->y : m->y), TRUE);
              g_string_append (out, " }");
            }
          else
            {
              px_export_csv_field (out, pin->name);
              g_string_append_c (out, ',');
              px_export_csv_field (out, names[p]);
              g_string_append_printf (out, ",%s,%s,%s,%d,%s,%s,", p == 0 ? "source" : "target",
                                      a, b, found, c, grade);
              append_optional (out, conf.spread_px, FALSE);
              g_string_append_c (out, ',');
              append_optional (out, conf.spread_mm, FALSE);
              g_string_append_printf (out, ",%d,", corrected);
              append_optional (out, to_mm (scene, p, p == 0 ? pin->x : m->x), FALSE);
              g_string_append_c (out, ',');
              append_optional (out, to_mm (scene, p, p == 0 ? pin->y : m->y), FALSE);
              g_string_append (out, ",\n");
            }
        }
    }
  if (json)
    g_string_append (out, "\n  ]");
  append_buddies (out, scene, names, json);
  if (json)
    g_string_append (out, "\n}\n");
  return g_file_set_contents (path, out->str, (gssize) out->len, error);
}

typedef struct
{
  PxFileChosenFunc chosen;
  gpointer data;
  char *format;
} ChooseFile;

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int              response,
                     ChooseFile      *choose)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      choose->chosen (choose->data, file, choose->format);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

// A native chooser, modal to @widget's window, accepting with @accept.
static GtkFileChooserNative *
new_chooser (GtkWidget            *widget,
             const char           *title,
             GtkFileChooserAction  mode,
             const char           *accept)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, mode,
                                 accept, _("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  return chooser;
}

static void
choose_file_free (gpointer data)
{
  ChooseFile *choose = data;

  g_free (choose->format);
  g_free (choose);
}

/**
 * px_export_choose_file:
 * @page: the page asking; the dialog is modal to its window
 * @mode: a save dialog accepts with "Save", any other with "Open"
 * @suggested: (nullable): the file name to offer
 * @format: (nullable): passed on to @chosen
 *
 * Opens a native file chooser and, once a file is accepted, calls @chosen with @data, the
 * file and @format. Nothing is called when the dialog is cancelled.
 */
void
px_export_choose_file (GtkWidget           *page,
                       const char          *title,
                       GtkFileChooserAction mode,
                       const char          *suggested,
                       const char          *format,
                       PxFileChosenFunc     chosen,
                       gpointer             data)
{
  GtkFileChooserNative *chooser =
    new_chooser (page, title, mode, mode == GTK_FILE_CHOOSER_ACTION_SAVE ? _("_Save") : _("_Open"));
  ChooseFile *choose = g_new0 (ChooseFile, 1);

  choose->chosen = chosen;
  choose->data = data;
  choose->format = g_strdup (format);
  if (suggested != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), suggested);
  g_object_set_data_full (G_OBJECT (chooser), "px-choose-file", choose, choose_file_free);
  g_signal_connect (chooser, "response", G_CALLBACK (on_chooser_response), choose);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

typedef struct
{
  PxFolderChosenFunc chosen;
  GtkWidget *widget;
} ChooseFolder;

static void
on_folder_response (GtkNativeDialog *dialog,
                    int              response,
                    ChooseFolder    *choose)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      choose->chosen (choose->widget, path);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (choose->widget);
  g_free (choose);
}

/**
 * px_export_choose_folder:
 * @widget: the widget asking (a window asks for itself), kept until the chooser closes;
 *   the chooser is modal to its window
 * @accept: the label of the button that accepts the folder
 * @chosen: called with @widget and the folder's local path (%NULL for a folder that is
 *   not local) once a folder is accepted; not called when the chooser is cancelled
 *
 * Opens a native folder chooser.
 */
void
px_export_choose_folder (GtkWidget          *widget,
                         const char         *title,
                         const char         *accept,
                         PxFolderChosenFunc  chosen)
{
  GtkFileChooserNative *chooser =
    new_chooser (widget, title, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, accept);
  ChooseFolder *choose = g_new0 (ChooseFolder, 1);

  choose->chosen = chosen;
  choose->widget = g_object_ref (widget);
  g_signal_connect (chooser, "response", G_CALLBACK (on_folder_response), choose);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}
