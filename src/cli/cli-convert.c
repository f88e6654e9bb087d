// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-convert: `peac convert FILE... -o OUT` writes the pixels px_image_load decoded, so
// that a user can check what the app reads and hand them to other tools. Without a window
// the output keeps the values: .npy holds the modality values as float32 [height, width]
// (what the engine receives before preprocessing); .png (16-bit grey) and .pgm (16-bit,
// maxval 65535) hold them exactly when they are integers spanning at most 65536 values,
// else rescaled linearly over 0..65535, with the mapping (modality = stored × slope +
// intercept) in PNG text chunks or a PGM comment. With --window C,W or --window-preset
// NAME the output is the 8-bit rendering the viewer shows (MONOCHROME1 bone-bright).
// Outputs are written beside their final name and renamed into place; an existing file
// is replaced only with --force. Each failed file is reported as "peac convert: FILE:
// reason" and the others are still written; the exit status is 1 if any failed.
#include "config.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli.h"
#include "npy.h"
#include "px-image.h"

typedef enum { OUT_PNG, OUT_NPY, OUT_PGM } OutFormat;
static const char *const format_ext[] = { "png", "npy", "pgm" };

// How the 16-bit outputs store modality values: modality = stored × slope + intercept.
typedef struct {
  double   slope, intercept;
  gboolean exact;
} Mapping;

typedef struct {
  OutFormat   format;
  gboolean    windowed;
  double      center, width;  // --window
  const char *preset;         // --window-preset, or NULL
} ConvertOptions;

static void
usage (FILE *to)
{
  fprintf (to,
           "Usage: peac convert FILE -o OUT.png|OUT.npy|OUT.pgm [OPTIONS]\n"
           "       peac convert FILE... -o DIR [--format png|npy|pgm] [OPTIONS]\n\n"
           "Writes the pixels of PNG, JPEG or DICOM radiographs as the app decodes them.\n"
           "  .npy  the modality values as float32 [height, width], exactly what the engine\n"
           "        receives before preprocessing (rescale or modality LUT applied,\n"
           "        MONOCHROME1 not inverted)\n"
           "  .png  16-bit grey: the values themselves when they are integers spanning at\n"
           "        most 65536 values (shifted to start at 0 if negative), else rescaled\n"
           "        linearly over 0..65535; the mapping modality = stored x slope +\n"
           "        intercept is in the text chunks 'Rescale Slope', 'Rescale Intercept'\n"
           "        and 'Mapping'\n"
           "  .pgm  16-bit binary PGM, same values and mapping (in a comment)\n"
           "With a window, PNG and PGM get the 8-bit rendering the viewer shows\n"
           "(MONOCHROME1 shown bone-bright).\n\n"
           "Options:\n"
           "  -o, --output OUT      the file to write; with several inputs an existing or\n"
           "                        new folder, one FILE-NAME.EXT per input\n"
           "  --format F            png, npy or pgm (default: OUT's extension, else png)\n"
           "  --window C,W          window centre and width in modality units\n"
           "  --window-preset NAME  default (the viewer's first window), full (the data\n"
           "                        range), or a preset of the file: its number (1, 2…)\n"
           "                        or its explanation\n"
           "  --force               replace existing output files\n"
           "  -q, --quiet           no line per written file on stderr\n");
}

static gboolean
parse_format (const char *s, OutFormat *f)
{
  for (int i = 0; i < 3; i++)
    if (g_ascii_strcasecmp (s, format_ext[i]) == 0)
      {
        *f = (OutFormat) i;
        return TRUE;
      }
  return FALSE;
}

static gboolean
parse_window (const char *s, double *c, double *w)
{
  char *end = NULL;

  *c = g_ascii_strtod (s, &end);
  if (end == s || *end != ',')
    return FALSE;
  s = end + 1;
  *w = g_ascii_strtod (s, &end);
  return end != s && *end == '\0' && isfinite (*c) && isfinite (*w) && *w > 0;
}

// The window of --window-preset NAME for @im, or FALSE with the reason in @error.
static gboolean
preset_window (const PxImage *im, const char *name, double *c, double *w, GError **error)
{
  guint64 index;

  if (g_ascii_strcasecmp (name, "default") == 0)
    {
      px_image_default_window (im, c, w);
      return TRUE;
    }
  if (g_ascii_strcasecmp (name, "full") == 0)
    {
      px_image_full_window (im, c, w);
      return TRUE;
    }
  for (int i = 0; i < im->n_windows; i++)
    if ((g_ascii_string_to_unsigned (name, 10, 1, G_MAXINT, &index, NULL) && index == (guint64) i + 1)
        || (im->windows[i].explanation && g_ascii_strcasecmp (name, im->windows[i].explanation) == 0))
      {
        *c = im->windows[i].center;
        *w = im->windows[i].width;
        return TRUE;
      }
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
               "%s: no window preset '%s' (it has %d; use default, full%s)", im->path, name,
               im->n_windows, im->n_windows > 0 ? " or a number from 1" : "");
  return FALSE;
}

// Exact when every value is an integer and they span at most 65536 values.
static Mapping
choose_mapping (const PxImage *im)
{
  gsize n = (gsize) im->width * im->height;
  double lo = im->data_min, hi = im->data_max;
  gboolean integers = TRUE;
  Mapping m = { 1.0, 0.0, TRUE };

  for (gsize i = 0; i < n && integers; i++)
    integers = im->pixels[i] == floorf (im->pixels[i]);
  if (integers && hi - lo <= 65535.0)
    {
      m.intercept = lo >= 0 && hi <= 65535.0 ? 0.0 : lo;
      return m;
    }
  m.exact = FALSE;
  m.intercept = lo;
  m.slope = hi > lo ? (hi - lo) / 65535.0 : 1.0;
  return m;
}

static guint16
map_value (const Mapping *m, float v)
{
  double s = round (((double) v - m->intercept) / m->slope);
  return (guint16) (s < 0 ? 0 : s > 65535 ? 65535 : s);
}

// libpng's default handlers print; the caller reports the failure with the file's name.
static void
png_quiet_error (png_structp png, png_const_charp msg)
{
  png_longjmp (png, 1);
}

static void
png_quiet_warning (png_structp png, png_const_charp msg)
{
}

static gboolean
write_png (FILE *f, const PxImage *im, const guint8 *u8, const Mapping *m,
           const ConvertOptions *o)
{
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, png_quiet_error,
                                             png_quiet_warning);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  // Allocated before setjmp: a longjmp back must not see a value set after it.
  guint16 *row = g_new (guint16, im->width);
  char slope[40], intercept[40], mapping[160], window[80], software[48];
  png_text text[6];
  int nt = 0;

  if (info == NULL)
    {
      png_destroy_write_struct (&png, NULL);
      g_free (row);
      return FALSE;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      g_free (row);
      png_destroy_write_struct (&png, &info);
      return FALSE;
    }
  png_init_io (png, f);
  png_set_IHDR (png, info, (png_uint_32) im->width, (png_uint_32) im->height, u8 ? 8 : 16,
                PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                PNG_FILTER_TYPE_DEFAULT);
#define TEXT(k, v) (text[nt].compression = PNG_TEXT_COMPRESSION_NONE, \
                    text[nt].key = (char *) (k), text[nt].text = (char *) (v), nt++)
  g_snprintf (software, sizeof software, "peac convert %s", PACKAGE_VERSION);
  TEXT ("Software", software);
  TEXT ("Source", im->path);
  if (u8)
    {
      g_snprintf (window, sizeof window, "centre %.17g width %.17g%s", o->center, o->width,
                  im->monochrome1 ? ", MONOCHROME1 inverted" : "");
      TEXT ("Window", window);
    }
  else
    {
      g_snprintf (slope, sizeof slope, "%.17g", m->slope);
      g_snprintf (intercept, sizeof intercept, "%.17g", m->intercept);
      g_snprintf (mapping, sizeof mapping, "modality = stored * %.17g + %.17g (%s)%s",
                  m->slope, m->intercept,
                  m->exact ? "exact" : "rescaled linearly, rounded to the nearest step",
                  im->monochrome1 ? "; MONOCHROME1: high values are dark" : "");
      TEXT ("Rescale Slope", slope);
      TEXT ("Rescale Intercept", intercept);
      TEXT ("Mapping", mapping);
    }
#undef TEXT
  png_set_text (png, info, text, nt);
  png_write_info (png, info);
  if (u8)
    for (int y = 0; y < im->height; y++)
      png_write_row (png, u8 + (gsize) y * im->width);
  else
    {
      png_set_swap (png); // rows are host order (little endian), PNG is big endian
      for (int y = 0; y < im->height; y++)
        {
          const float *p = im->pixels + (gsize) y * im->width;
          for (int x = 0; x < im->width; x++)
            row[x] = map_value (m, p[x]);
          png_write_row (png, (png_bytep) row);
        }
    }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  g_free (row);
  return TRUE;
}

static gboolean
write_pgm (FILE *f, const PxImage *im, const guint8 *u8, const Mapping *m)
{
  if (u8)
    {
      fprintf (f, "P5\n# peac convert: %s\n%d %d\n255\n", im->path, im->width, im->height);
      return fwrite (u8, 1, (gsize) im->width * im->height, f) == (gsize) im->width * im->height;
    }
  fprintf (f, "P5\n# peac convert: %s\n# modality = stored * %.17g + %.17g (%s)\n%d %d\n65535\n",
           im->path, m->slope, m->intercept, m->exact ? "exact" : "rescaled", im->width,
           im->height);
  g_autofree guint8 *row = g_new (guint8, (gsize) im->width * 2);
  for (int y = 0; y < im->height; y++)
    {
      const float *p = im->pixels + (gsize) y * im->width;
      for (int x = 0; x < im->width; x++)
        {
          guint16 v = map_value (m, p[x]);
          row[2 * x] = v >> 8; // PGM samples are big endian
          row[2 * x + 1] = v & 0xff;
        }
      if (fwrite (row, 2, im->width, f) != (gsize) im->width)
        return FALSE;
    }
  return TRUE;
}

// Writes @im to @out through a temporary file beside it, renamed into place.
static gboolean
convert_one (const PxImage *im, const char *out, const ConvertOptions *o, gboolean force,
             gboolean *exact, char *err, size_t errlen)
{
  g_autofree guint8 *u8 = NULL;
  g_autofree char *tmp = g_strdup_printf ("%s.partial-XXXXXX", out);
  Mapping m = choose_mapping (im);
  gboolean ok;
  int fd;

  *exact = m.exact;
  if (!force && g_file_test (out, G_FILE_TEST_EXISTS))
    {
      g_snprintf (err, errlen, "%s: exists (add --force to replace it)", out);
      return FALSE;
    }
  if (o->windowed)
    {
      u8 = g_malloc ((gsize) im->width * im->height);
      px_image_render_u8 (im, o->center, o->width, FALSE, u8);
    }
  fd = g_mkstemp (tmp);
  if (fd < 0)
    {
      g_snprintf (err, errlen, "%s: cannot create a temporary file beside it: %s", out,
                  g_strerror (errno));
      return FALSE;
    }
  mode_t mask = umask (0);
  umask (mask);
  fchmod (fd, 0666 & ~mask); // mkstemp's 0600 would make outputs private
  if (o->format == OUT_NPY)
    {
      close (fd);
      ok = npy_write_matrix (tmp, im->pixels, im->height, im->width, err, errlen) == 0;
    }
  else
    {
      FILE *f = fdopen (fd, "wb");
      errno = 0;
      ok = f != NULL && (o->format == OUT_PNG ? write_png (f, im, u8, &m, o)
                                              : write_pgm (f, im, u8, &m));
      int e = errno;
      if (f == NULL)
        close (fd);
      else if (fclose (f) != 0 && ok)
        ok = FALSE, e = errno;
      if (!ok)
        g_snprintf (err, errlen, "%s: cannot write: %s (the previous file, if any, is "
                    "unchanged)", out, e ? g_strerror (e) : "out of memory");
    }
  if (ok && g_rename (tmp, out) != 0)
    {
      g_snprintf (err, errlen, "%s: cannot write: %s", out, g_strerror (errno));
      ok = FALSE;
    }
  if (!ok)
    g_remove (tmp);
  return ok;
}

// DIR/NAME.EXT for input @in: its base name with the last extension replaced.
static char *
output_in_dir (const char *dir, const char *in, OutFormat f)
{
  g_autofree char *base = g_path_get_basename (in);
  char *dot = strrchr (base, '.');

  if (dot != NULL && dot != base)
    *dot = '\0';
  g_autofree char *name = g_strdup_printf ("%s.%s", base, format_ext[f]);
  return g_build_filename (dir, name, NULL);
}

typedef struct {
  char **inputs;
  int n_inputs;
  const char *out;
  ConvertOptions o;
  gboolean force, quiet, to_dir;
} ConvertArgs;

// Fills a from argv and checks the options against each other. Returns -1 to run, else the
// exit status.
static int
parse_args (ConvertArgs *a, int argc, char **argv)
{
  enum { O_FORMAT = 1000, O_WINDOW, O_WINDOW_PRESET, O_FORCE };
  static const struct option opts[] = {
    { "output", required_argument, NULL, 'o' },
    { "format", required_argument, NULL, O_FORMAT },
    { "window", required_argument, NULL, O_WINDOW },
    { "window-preset", required_argument, NULL, O_WINDOW_PRESET },
    { "force", no_argument, NULL, O_FORCE },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *format_s = NULL, *window_s = NULL;
  gboolean have_format = FALSE;
  int c;
  *a = (ConvertArgs) { .o = { OUT_PNG, FALSE, 0, 0, NULL } };
  optind = 0;
  while ((c = peac_cli_getopt ("convert", argc, argv, "o:qh", opts, NULL)) != -1)
    switch (c)
      {
      case 'h': return usage (stdout), 0;
      case 'o': a->out = optarg; break;
      case O_FORMAT: format_s = optarg; break;
      case O_WINDOW: window_s = optarg; break;
      case O_WINDOW_PRESET: a->o.preset = optarg; break;
      case O_FORCE: a->force = TRUE; break;
      case 'q': a->quiet = TRUE; break;
      default: return 2;
      }
  a->inputs = argv + optind;
  a->n_inputs = argc - optind;
  if (a->n_inputs == 0 || a->out == NULL)
    return fprintf (stderr, "peac convert: %s (see peac convert --help)\n",
                    a->n_inputs == 0 ? "no input files" : "no output: give -o OUT"), 2;
  if (format_s && !(have_format = parse_format (format_s, &a->o.format)))
    return fprintf (stderr, "peac convert: --format must be png, npy or pgm, not '%s'\n",
                    format_s), 2;
  if (window_s && a->o.preset)
    return fprintf (stderr, "peac convert: give --window or --window-preset, not both\n"), 2;
  if (window_s && !parse_window (window_s, &a->o.center, &a->o.width))
    return fprintf (stderr, "peac convert: --window: '%s' is not CENTRE,WIDTH with a "
                    "positive width\n", window_s), 2;
  a->o.windowed = window_s != NULL || a->o.preset != NULL;

  // One input and OUT not a folder: OUT is the file. Otherwise a folder (made if needed).
  a->to_dir = a->n_inputs > 1 || g_file_test (a->out, G_FILE_TEST_IS_DIR);
  if (!a->to_dir && !have_format)
    {
      const char *dot = strrchr (a->out, '.');
      if (dot == NULL || !parse_format (dot + 1, &a->o.format))
        return fprintf (stderr, "peac convert: %s: cannot tell the format from the name "
                        "(.png, .npy or .pgm, or give --format)\n", a->out), 2;
    }
  if (a->o.windowed && a->o.format == OUT_NPY)
    return fprintf (stderr, "peac convert: a window gives an 8-bit rendering: write .png "
                    "or .pgm (.npy holds the modality values)\n"), 2;
  return -1;
}

// The output path of each input into outputs; refuses (exit 2) two inputs with one output
// and an output that is its own input.
static int
plan_outputs (const ConvertArgs *a, GPtrArray *outputs)
{
  for (int i = 0; i < a->n_inputs; i++)
    {
      char *path = a->to_dir ? output_in_dir (a->out, a->inputs[i], a->o.format)
                             : g_strdup (a->out);
      for (guint j = 0; j < outputs->len; j++)
        if (strcmp (outputs->pdata[j], path) == 0)
          {
            fprintf (stderr, "peac convert: %s and %s would both be written to %s\n",
                     a->inputs[j], a->inputs[i], path);
            g_free (path);
            return 2;
          }
      if (strcmp (path, a->inputs[i]) == 0)
        {
          fprintf (stderr, "peac convert: %s: the output would replace its own input\n", path);
          g_free (path);
          return 2;
        }
      g_ptr_array_add (outputs, path);
    }
  return 0;
}

static int
run (const ConvertArgs *a)
{
  g_autoptr (GPtrArray) outputs = g_ptr_array_new_with_free_func (g_free);
  const ConvertOptions o = a->o;
  const char *out = a->out;
  int failed = 0;

  if (plan_outputs (a, outputs) != 0)
    return 2;
  if (a->to_dir && !g_file_test (out, G_FILE_TEST_IS_DIR) && g_mkdir (out, 0777) != 0)
    return fprintf (stderr, "peac convert: %s: cannot create the folder: %s\n", out,
                    g_strerror (errno)), 1;

  for (int i = 0; i < a->n_inputs; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PxImage) im = px_image_load (a->inputs[i], &error);
      ConvertOptions one = o;
      gboolean exact = FALSE;
      char err[1024] = "";

      if (im != NULL && o.preset != NULL
          && !preset_window (im, o.preset, &one.center, &one.width, &error))
        g_clear_pointer (&im, px_image_free);
      if (im == NULL)
        {
          fprintf (stderr, "peac convert: %s\n", error->message);
          failed++;
          continue;
        }
      if (!convert_one (im, outputs->pdata[i], &one, a->force, &exact, err, sizeof err))
        {
          fprintf (stderr, "peac convert: %s\n", err);
          failed++;
          continue;
        }
      if (!a->quiet)
        fprintf (stderr, "peac convert: %s → %s (%dx%d%s)\n", a->inputs[i],
                 (char *) outputs->pdata[i], im->width, im->height,
                 one.windowed ? ", 8-bit window" : o.format == OUT_NPY ? ", float32"
                 : exact ? ", 16-bit exact" : ", 16-bit rescaled");
    }
  return failed ? 1 : 0;
}

int
peac_cmd_convert (int argc, char **argv)
{
  ConvertArgs a;
  const int rc = parse_args (&a, argc, argv);
  return rc >= 0 ? rc : run (&a);
}
