// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-export: what the analysis pages write to files — a Cairo drawing as PNG or SVG (the
// same routine that draws on screen), the correspondence points as CSV or JSON, and the
// quoting both text formats need; and the file and folder choosers the pages and dialogs
// open before they write (or read) one.
#pragma once

#include <gtk/gtk.h>

#include "px-match-scene.h"

G_BEGIN_DECLS

typedef void (*PxDrawFunc) (gpointer data, cairo_t *cr, double width, double height);
typedef void (*PxFileChosenFunc) (gpointer data, GFile *file, const char *format);
typedef void (*PxFolderChosenFunc) (GtkWidget *widget, const char *path);

void     px_export_choose_file  (GtkWidget           *page,
                                 const char          *title,
                                 GtkFileChooserAction mode,
                                 const char          *suggested,
                                 const char          *format,
                                 PxFileChosenFunc     chosen,
                                 gpointer             data);
void     px_export_choose_folder (GtkWidget          *widget,
                                  const char         *title,
                                  const char         *accept,
                                  PxFolderChosenFunc  chosen);

gboolean px_export_drawing      (const char          *path,
                                 const char          *format,
                                 double               width,
                                 double               height,
                                 PxDrawFunc           draw,
                                 gpointer             data,
                                 GError             **error);
void     px_export_csv_field    (GString             *out,
                                 const char          *text);
void     px_export_json_string  (GString             *out,
                                 const char          *text);
gboolean px_export_match_points (const PxMatchScene  *scene,
                                 const char * const  *names,
                                 const char          *path,
                                 const char          *format,
                                 GError             **error);

G_END_DECLS
