// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-info: `peac info FILE...`, a summary of each radiograph as px_image_load sees it:
// format (and DICOM transfer syntax), the decoder that read the pixels, size, bits, photometric, spacing with its source tag
// (calibrated PixelSpacing vs detector ImagerPixelSpacing), key tags, window presets and
// value range. Human-readable by default, one JSON array with --json, every DICOM tag with
// --tags. Files that fail are reported as "peac info: FILE: reason" on stderr, the others
// are still printed, and the exit status is 1 if any failed.
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "cli.h"
#include "px-image.h"

static void
print_field (const char *label, const char *value)
{
  if (value != NULL && *value != '\0')
    printf ("  %-18s %s\n", label, value);
}

static void
print_spacing (const char *label, const double sp[2], const char *source)
{
  if (sp[0] > 0 && sp[1] > 0)
    printf ("  %-18s %g x %g mm (row x column) from %s\n", label, sp[0], sp[1], source);
}

static void
print_text (const PxImage *im, gboolean tags)
{
  printf ("%s\n", im->path);
  if (im->transfer_syntax)
    printf ("  %-18s %s (transfer syntax %s)\n", "format:", im->format_detail,
            im->transfer_syntax);
  else
    print_field ("format:", im->format_detail);
  print_field ("decoder:", im->decoder);
  printf ("  %-18s %dx%d (width x height)\n", "dimensions:", im->width, im->height);
  printf ("  %-18s %d stored / %d allocated\n", "bits:", im->bits_stored, im->bits_allocated);
  print_field ("photometric:", im->photometric);
  if (im->monochrome1)
    printf ("  %-18s inverted at display (MONOCHROME1: high values are dark)\n", "presentation:");
  print_spacing ("pixel spacing:", im->pixel_spacing,
                 "PixelSpacing (0028,0030), calibrated");
  print_spacing ("imager spacing:", im->imager_pixel_spacing,
                 "ImagerPixelSpacing (0018,1164), at the detector, not calibrated");
  if (im->format == PX_FORMAT_DICOM && im->pixel_spacing[0] <= 0
      && im->imager_pixel_spacing[0] <= 0)
    print_field ("spacing:", "none in the file");
  print_field ("modality:", im->modality);
  print_field ("view position:", im->view_position);
  print_field ("patient id:", im->patient_id);
  print_field ("patient name:", im->patient_name);
  print_field ("patient sex:", im->patient_sex);
  print_field ("patient age:", im->patient_age);
  print_field ("study date:", im->study_date);
  for (int i = 0; i < im->n_windows; i++)
    printf ("  %-18s centre %g width %g%s%s\n", i == 0 ? "window presets:" : "",
            im->windows[i].center, im->windows[i].width,
            im->windows[i].explanation ? " " : "",
            im->windows[i].explanation ? im->windows[i].explanation : "");
  printf ("  %-18s %g .. %g\n", "value range:", im->data_min, im->data_max);
  if (tags && im->tags)
    {
      printf ("  tags:\n");
      for (guint i = 0; i < im->tags->len; i++)
        printf ("    %s\n", (const char *) im->tags->pdata[i]);
    }
}

static void
json_set_str (json_t *obj, const char *key, const char *value)
{
  if (value != NULL)
    json_object_set_new (obj, key, json_string (value));
}

static json_t *
json_spacing (const double sp[2])
{
  if (!(sp[0] > 0 && sp[1] > 0))
    return json_null ();
  return json_pack ("[f,f]", sp[0], sp[1]);
}

static json_t *
image_to_json (const PxImage *im, gboolean tags)
{
  json_t *o = json_object ();
  json_t *windows = json_array ();

  json_set_str (o, "path", im->path);
  json_set_str (o, "format", px_format_to_string (im->format));
  json_set_str (o, "format_detail", im->format_detail);
  json_set_str (o, "transfer_syntax", im->transfer_syntax);
  json_set_str (o, "decoder", im->decoder);
  json_object_set_new (o, "width", json_integer (im->width));
  json_object_set_new (o, "height", json_integer (im->height));
  json_object_set_new (o, "bits_stored", json_integer (im->bits_stored));
  json_object_set_new (o, "bits_allocated", json_integer (im->bits_allocated));
  json_set_str (o, "photometric", im->photometric);
  json_object_set_new (o, "monochrome1", json_boolean (im->monochrome1));
  json_object_set_new (o, "pixel_spacing", json_spacing (im->pixel_spacing));
  json_object_set_new (o, "imager_pixel_spacing", json_spacing (im->imager_pixel_spacing));
  json_set_str (o, "modality", im->modality);
  json_set_str (o, "view_position", im->view_position);
  json_set_str (o, "patient_id", im->patient_id);
  json_set_str (o, "patient_name", im->patient_name);
  json_set_str (o, "patient_sex", im->patient_sex);
  json_set_str (o, "patient_age", im->patient_age);
  json_set_str (o, "study_date", im->study_date);
  for (int i = 0; i < im->n_windows; i++)
    {
      json_t *w = json_pack ("{s:f,s:f}", "center", im->windows[i].center,
                             "width", im->windows[i].width);
      json_set_str (w, "explanation", im->windows[i].explanation);
      json_array_append_new (windows, w);
    }
  json_object_set_new (o, "windows", windows);
  json_object_set_new (o, "min", json_real (im->data_min));
  json_object_set_new (o, "max", json_real (im->data_max));
  if (tags && im->tags)
    {
      json_t *t = json_array ();
      for (guint i = 0; i < im->tags->len; i++)
        json_array_append_new (t, json_string (im->tags->pdata[i]));
      json_object_set_new (o, "tags", t);
    }
  return o;
}

static void
usage (FILE *to)
{
  fprintf (to,
    "Usage: peac info [--json] [--tags] FILE...\n\n"
    "Print format (DICOM transfer syntax), the decoder used, size, bits, photometric\n"
    "interpretation, pixel spacing and its source tag, key tags, window presets and the\n"
    "value range of PNG, JPEG and DICOM radiographs (DICOM: uncompressed, RLE, JPEG,\n"
    "JPEG-LS and JPEG 2000). Exit status 1 if any file could not be read.\n\n"
    "Options:\n"
    "  --json      print one JSON array (failed files get an \"error\")\n"
    "  --tags      also list every DICOM header element\n"
    "  -h, --help  this text\n");
}

// Reads --json, --tags and the files from argv. Returns -1 to run, else the exit status.
static int
parse_args (int argc, char **argv, int *json, int *tags, char ***files, int *n_files)
{
  enum { O_JSON = 1000, O_TAGS };
  static const struct option opts[] = {
    { "json", no_argument, NULL, O_JSON },
    { "tags", no_argument, NULL, O_TAGS },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;
  *json = *tags = 0;
  optind = 0;
  while ((c = peac_cli_getopt ("info", argc, argv, "h", opts, NULL)) != -1)
    switch (c)
      {
      case O_JSON: *json = 1; break;
      case O_TAGS: *tags = 1; break;
      case 'h': usage (stdout); return 0;
      default: return 2;
      }
  *files = argv + optind;
  *n_files = argc - optind;
  if (*n_files == 0)
    {
      fprintf (stderr, "peac info: no files given (see 'peac info --help')\n");
      return 2;
    }
  return -1;
}

int
peac_cmd_info (int argc, char **argv)
{
  int json, tags, n_files;
  char **files;
  json_t *array = NULL;
  int failed = 0;
  const int rc = parse_args (argc, argv, &json, &tags, &files, &n_files);
  if (rc >= 0)
    return rc;

  if (json)
    array = json_array ();
  for (int i = 0; i < n_files; i++)
    {
      g_autoptr (GError) err = NULL;
      g_autoptr (PxImage) im = px_image_load (files[i], &err);

      if (im == NULL)
        {
          fprintf (stderr, "peac info: %s\n", err->message);
          failed++;
          if (array)
            json_array_append_new (array, json_pack ("{s:s,s:s}", "path", files[i],
                                                     "error", err->message));
          continue;
        }
      if (array)
        json_array_append_new (array, image_to_json (im, tags));
      else
        {
          if (i > 0)
            printf ("\n");
          print_text (im, tags);
        }
    }
  if (array)
    {
      char *s = json_dumps (array, JSON_INDENT (2) | JSON_REAL_PRECISION (10));
      if (s)
        printf ("%s\n", s);
      free (s);
      json_decref (array);
    }
  fflush (stdout);
  return failed ? 1 : 0;
}
