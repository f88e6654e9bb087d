// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-convert: runs the built `peac convert` (path from argv) on shared DICOM files and
// reads what it wrote with libpng and hand-written .npy and PGM parsers. Oracles: the
// loader's values (tested against GDCM and other decoders in tests/io), a rescale written
// into a copy of a file with DCMTK's dcmodify and computed here, and the DICOM linear
// window formula (PS3.3 C.11.2.1.2.1) evaluated here for the 8-bit renderings. Also: every
// shared DICOM in one batch, and the refusals (existing output, bad options, clashes).
#include "io-test-util.h"

#include <math.h>
#include <png.h>

#include "peac-test-cli.h"

#define RLE "dicom/non-chest-format-coverage/WG04_RG2_RLE.dcm"
#define J2KR "dicom/non-chest-format-coverage/WG04_RG2_J2KR.dcm"
#define MONO1 "dicom/chest/gdcm-CR-MONO1-10-chest.dcm"

static const char *peac_path;

typedef struct {
  int        width, height, depth;
  guint16   *v;     // width × height samples
  GHashTable *text; // PNG text chunks
} Raster;

static void
raster_clear (Raster *r)
{
  g_free (r->v);
  if (r->text)
    g_hash_table_unref (r->text);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Raster, raster_clear)

static void
assert_contains (const char *haystack, const char *needle)
{
  if (haystack == NULL || strstr (haystack, needle) == NULL)
    g_error ("expected \"%s\" in:\n%s", needle, haystack ? haystack : "(null)");
}

// Reads a grey PNG with libpng's own API (16-bit samples in host order).
static void
read_png (const char *path, Raster *r)
{
  FILE *f = fopen (path, "rb");
  png_structp png = png_create_read_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  png_textp text = NULL;
  int nt = 0;

  g_assert_nonnull (f);
  if (setjmp (png_jmpbuf (png)))
    g_error ("libpng cannot read %s", path);
  png_init_io (png, f);
  png_read_info (png, info);
  g_assert_cmpint (png_get_color_type (png, info), ==, PNG_COLOR_TYPE_GRAY);
  r->width = (int) png_get_image_width (png, info);
  r->height = (int) png_get_image_height (png, info);
  r->depth = png_get_bit_depth (png, info);
  g_assert_true (r->depth == 8 || r->depth == 16);
  if (r->depth == 16)
    png_set_swap (png);
  r->v = g_new (guint16, (gsize) r->width * r->height);
  {
    g_autofree guint8 *row = g_malloc ((gsize) r->width * 2);
    for (int y = 0; y < r->height; y++)
      {
        png_read_row (png, row, NULL);
        for (int x = 0; x < r->width; x++)
          r->v[(gsize) y * r->width + x] = r->depth == 16 ? ((guint16 *) row)[x] : row[x];
      }
  }
  png_read_end (png, info);
  r->text = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  png_get_text (png, info, &text, &nt);
  for (int i = 0; i < nt; i++)
    g_hash_table_insert (r->text, g_strdup (text[i].key), g_strdup (text[i].text));
  png_destroy_read_struct (&png, &info, NULL);
  fclose (f);
}

// Binary PGM (P5): header tokens, comments, then 8- or 16-bit big-endian samples.
static void
read_pgm (const char *path, Raster *r, char **comments)
{
  g_autofree char *d = NULL;
  gsize len = 0, p = 2;
  long tok[3];
  g_autoptr (GString) com = g_string_new (NULL);

  g_assert_true (g_file_get_contents (path, &d, &len, NULL));
  g_assert_true (len > 2 && d[0] == 'P' && d[1] == '5');
  for (int t = 0; t < 3; t++)
    {
      while (p < len && (g_ascii_isspace (d[p]) || d[p] == '#'))
        if (d[p] == '#')
          {
            gsize e = p;
            while (e < len && d[e] != '\n')
              e++;
            g_string_append_len (com, d + p, (gssize) (e - p + 1));
            p = e;
          }
        else
          p++;
      tok[t] = strtol (d + p, NULL, 10);
      while (p < len && g_ascii_isdigit (d[p]))
        p++;
    }
  p++; // the single whitespace after maxval
  r->width = (int) tok[0];
  r->height = (int) tok[1];
  r->depth = tok[2] == 255 ? 8 : 16;
  g_assert_true (tok[2] == 255 || tok[2] == 65535);
  gsize n = (gsize) r->width * r->height, bps = r->depth / 8;
  g_assert_cmpuint (len - p, ==, n * bps);
  r->v = g_new (guint16, n);
  for (gsize i = 0; i < n; i++)
    r->v[i] = bps == 1 ? (guint8) d[p + i]
                       : (guint16) (((guint8) d[p + 2 * i] << 8) | (guint8) d[p + 2 * i + 1]);
  *comments = g_string_free (g_steal_pointer (&com), FALSE);
}

// A float32 C-order 2-D .npy (version 1.0), header checked literally.
static float *
read_npy (const char *path, int *rows, int *cols)
{
  g_autofree char *d = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &d, &len, NULL));
  g_assert_cmpint (memcmp (d, "\x93NUMPY\x01\x00", 8), ==, 0);
  gsize hlen = (guint8) d[8] | ((guint8) d[9] << 8);
  g_autofree char *hdr = g_strndup (d + 10, hlen);
  assert_contains (hdr, "'descr': '<f4'");
  assert_contains (hdr, "'fortran_order': False");
  const char *s = strstr (hdr, "'shape': (");
  g_assert_nonnull (s);
  g_assert_cmpint (sscanf (s, "'shape': (%d, %d)", rows, cols), ==, 2);
  g_assert_cmpuint (len - 10 - hlen, ==, (gsize) *rows * *cols * 4);
  return g_memdup2 (d + 10 + hlen, len - 10 - hlen);
}

// DICOM PS3.3 C.11.2.1.2.1, linear VOI function, to 0..255.
static double
window_formula (double x, double c, double w)
{
  if (x <= c - 0.5 - (w - 1) / 2)
    return 0;
  if (x > c - 0.5 + (w - 1) / 2)
    return 255;
  return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}

static void
assert_window (const Raster *r, const PxImage *im, double c, double w, gboolean invert)
{
  g_assert_cmpint (r->depth, ==, 8);
  g_assert_cmpint (r->width, ==, im->width);
  g_assert_cmpint (r->height, ==, im->height);
  for (gsize i = 0; i < (gsize) im->width * im->height; i++)
    {
      double e = window_formula (im->pixels[i], c, w);
      if (invert)
        e = 255 - e;
      if (fabs (r->v[i] - e) > 1.0)
        g_error ("pixel %zu: value %g, window %g/%g gives %.2f, file has %u", i,
                 im->pixels[i], c, w, e, r->v[i]);
    }
}

static char *
run_ok (const char *const *args)
{
  g_auto (PeacTestRun) r = { 0 };

  peac_test_run (&r, peac_path, "convert", args);
  if (r.status != 0)
    g_error ("peac convert exited %d: %s", r.status, r.err);
  return g_strdup (r.err);
}

// 16-bit PNG and PGM hold the stored values exactly (slope 1, intercept 0), and the
// lossless JPEG 2000 file gives the same samples as the RLE one.
static void
test_exact (void)
{
  g_autofree char *rle = peac_test_shared_path (RLE);
  g_autofree char *j2kr = peac_test_shared_path (J2KR);
  g_autofree char *comments = NULL;
  g_auto (Raster) a = { 0 };
  g_auto (Raster) b = { 0 };
  g_auto (Raster) p = { 0 };
  char *dir;

  dir = io_test_tmpdir ();
  {
    g_autoptr (PxImage) im = io_test_load_ok (rle);
    g_autofree char *out_dir = g_build_filename (dir, "png", NULL);
    g_autofree char *pa = g_build_filename (out_dir, "WG04_RG2_RLE.png", NULL);
    g_autofree char *pb = g_build_filename (out_dir, "WG04_RG2_J2KR.png", NULL);
    g_autofree char *pgm = g_build_filename (dir, "rle.pgm", NULL);
    g_autofree char *e1 = run_ok ((const char *[]) { rle, j2kr, "-o", out_dir, NULL });
    g_autofree char *e2 = run_ok ((const char *[]) { "-q", rle, "-o", pgm, NULL });
    gsize n = (gsize) im->width * im->height;

    assert_contains (e1, "16-bit exact");
    g_assert_cmpstr (e2, ==, "");
    read_png (pa, &a);
    read_png (pb, &b);
    read_pgm (pgm, &p, &comments);
    g_assert_cmpint (a.depth, ==, 16);
    g_assert_cmpint (a.width, ==, 1760);
    g_assert_cmpint (a.height, ==, 2140);
    for (gsize i = 0; i < n; i++)
      {
        g_assert_cmpfloat (a.v[i], ==, im->pixels[i]);
        g_assert_cmpuint (p.v[i], ==, a.v[i]);
      }
    g_assert_cmpint (memcmp (a.v, b.v, n * 2), ==, 0);
    g_assert_cmpstr (g_hash_table_lookup (a.text, "Rescale Slope"), ==, "1");
    g_assert_cmpstr (g_hash_table_lookup (a.text, "Rescale Intercept"), ==, "0");
    assert_contains (g_hash_table_lookup (a.text, "Mapping"), "(exact)");
    g_assert_cmpstr (g_hash_table_lookup (a.text, "Source"), ==, rle);
    g_assert_cmpint (p.depth, ==, 16);
    assert_contains (comments, "modality = stored * 1 + 0 (exact)");
    peac_test_remove_tree (out_dir);
    g_remove (pgm);
  }
  io_test_rmdir (dir);
}

// A copy of the MONOCHROME1 chest with RescaleSlope 0.37 and RescaleIntercept -1000.25
// (set by dcmodify): .npy has raw × 0.37 − 1000.25 in float, the PNG is rescaled over
// 0..65535 and its text chunks give the mapping back within half a step.
static void
test_rescaled (void)
{
  g_autofree char *src = peac_test_shared_path (MONO1);
  g_autoptr (GError) error = NULL;
  g_auto (Raster) png = { 0 };
  char *dir;

  dir = io_test_tmpdir ();
  {
    g_autoptr (PxImage) raw = io_test_load_ok (src);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (src, &data, &len, NULL));
    g_autofree char *copy = io_test_write (dir, "rescaled.dcm", data, len);
    g_autofree char *npy = g_build_filename (dir, "r.npy", NULL);
    g_autofree char *pngp = g_build_filename (dir, "r.png", NULL);
    const char *argv[] = { "dcmodify", "-nb", "-i", "(0028,1053)=0.37", "-i",
                           "(0028,1052)=-1000.25", copy, NULL };
    g_autofree char *err = NULL;
    int status = 0, rows, cols;

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                       NULL, NULL, NULL, &err, &status, &error))
      g_error ("cannot run dcmodify (Debian package dcmtk): %s", error->message);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_free (run_ok ((const char *[]) { "-q", copy, "-o", npy, NULL }));
    g_autofree char *e = run_ok ((const char *[]) { copy, "-o", pngp, NULL });
    assert_contains (e, "16-bit rescaled");
    g_autofree float *v = read_npy (npy, &rows, &cols);
    g_assert_cmpint (rows, ==, raw->height);
    g_assert_cmpint (cols, ==, raw->width);
    read_png (pngp, &png);
    double slope = g_ascii_strtod (g_hash_table_lookup (png.text, "Rescale Slope"), NULL);
    double icpt = g_ascii_strtod (g_hash_table_lookup (png.text, "Rescale Intercept"), NULL);
    assert_contains (g_hash_table_lookup (png.text, "Mapping"), "rescaled");
    assert_contains (g_hash_table_lookup (png.text, "Mapping"), "MONOCHROME1");
    guint16 lo = 65535, hi = 0;
    for (gsize i = 0; i < (gsize) rows * cols; i++)
      {
        float expect = (float) ((double) raw->pixels[i] * 0.37 + -1000.25);
        g_assert_cmpfloat (v[i], ==, expect);
        g_assert_cmpfloat (fabs (png.v[i] * slope + icpt - expect), <=, slope / 2 + 1e-4);
        lo = MIN (lo, png.v[i]);
        hi = MAX (hi, png.v[i]);
      }
    g_assert_cmpuint (lo, ==, 0);
    g_assert_cmpuint (hi, ==, 65535);
    g_assert_cmpfloat (fabs (icpt - (raw->data_min * 0.37 - 1000.25)), <, 1e-3);
  }
  io_test_rmdir (dir);
}

// --window and --window-preset give the 8-bit rendering; MONOCHROME1 comes out inverted.
static void
test_window (void)
{
  g_autofree char *rle = peac_test_shared_path (RLE);
  g_autofree char *mono1 = peac_test_shared_path (MONO1);
  g_autofree char *comments = NULL;
  char *dir;

  dir = io_test_tmpdir ();
  {
    g_autoptr (PxImage) a = io_test_load_ok (rle);
    g_autoptr (PxImage) m = io_test_load_ok (mono1);
    g_autofree char *p1 = g_build_filename (dir, "w.png", NULL);
    g_autofree char *p2 = g_build_filename (dir, "m.pgm", NULL);
    g_autofree char *p3 = g_build_filename (dir, "full.png", NULL);
    g_autofree char *p4 = g_build_filename (dir, "preset.png", NULL);
    g_auto (Raster) r1 = { 0 };
    g_auto (Raster) r2 = { 0 };
    g_auto (Raster) r3 = { 0 };
    g_auto (Raster) r4 = { 0 };
    g_auto (PeacTestRun) bad = { 0 };

    g_free (run_ok ((const char *[]) { "-q", "--window", "400,300", rle, "-o", p1, NULL }));
    read_png (p1, &r1);
    assert_window (&r1, a, 400, 300, FALSE);
    assert_contains (g_hash_table_lookup (r1.text, "Window"), "centre 400 width 300");
    // MONOCHROME1, its own preset (centre 550 width 1024) by number, as PGM.
    g_free (run_ok ((const char *[]) { "-q", "--window-preset", "1", mono1, "-o", p2, NULL }));
    read_pgm (p2, &r2, &comments);
    assert_window (&r2, m, 550, 1024, TRUE);
    // Full range: centre (min + max) / 2, width max − min + 1.
    g_free (run_ok ((const char *[]) { "-q", "--window-preset", "full", rle, "-o", p3, NULL }));
    read_png (p3, &r3);
    assert_window (&r3, a, (a->data_min + a->data_max) / 2.0,
                   a->data_max - a->data_min + 1, FALSE);
    // "default" is the file's first preset.
    g_free (run_ok ((const char *[]) { "-q", "--window-preset", "default", mono1, "-o", p4, NULL }));
    read_png (p4, &r4);
    g_assert_cmpint (memcmp (r4.v, r2.v, (gsize) m->width * m->height * 2), ==, 0);
    // A preset the file does not have.
    peac_test_run (&bad, peac_path, "convert",
                   (const char *[]) { "--window-preset", "lung", "--force", mono1, "-o", p4, NULL });
    g_assert_cmpint (bad.status, ==, 1);
    assert_contains (bad.err, mono1);
    assert_contains (bad.err, "no window preset 'lung'");
    g_remove (p1), g_remove (p2), g_remove (p3), g_remove (p4);
  }
  io_test_rmdir (dir);
}

// Every shared DICOM in one batch to .npy: each equals what the loader decodes.
static void
test_all_dicoms (void)
{
  static const char *files[] = {
    "chest/WG04_RG1_JLSN.dcm", "chest/gdcm-CR-MONO1-10-chest.dcm",
    "chest/siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm",
    "chest/txv_Fake_MONOHR1.dcm", "non-chest-format-coverage/WG04_RG2_J2KR.dcm",
    "non-chest-format-coverage/WG04_RG2_JLSL.dcm", "non-chest-format-coverage/WG04_RG2_JPLL.dcm",
    "non-chest-format-coverage/WG04_RG2_JPLY.dcm", "non-chest-format-coverage/WG04_RG2_RLE.dcm",
    "non-chest-format-coverage/WG04_RG3_J2KI.dcm", "non-chest-format-coverage/WG04_RG3_JPLY.dcm",
  };
  const char *args[G_N_ELEMENTS (files) + 6] = { "-q", "--format", "npy", "-o" };
  char *paths[G_N_ELEMENTS (files)] = { 0 };
  char *dir;

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *rel = g_build_filename ("dicom", files[i], NULL);
      paths[i] = peac_test_shared_path (rel);
      args[5 + i] = paths[i];
    }
  dir = io_test_tmpdir ();
  args[4] = dir;
  g_free (run_ok (args));
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr (PxImage) im = io_test_load_ok (paths[i]);
      g_autofree char *base = g_path_get_basename (files[i]);
      base[strlen (base) - 4] = '\0';
      g_autofree char *name = g_strconcat (base, ".npy", NULL);
      g_autofree char *npy = g_build_filename (dir, name, NULL);
      int rows, cols;
      g_autofree float *v = read_npy (npy, &rows, &cols);

      g_assert_cmpint (rows, ==, im->height);
      g_assert_cmpint (cols, ==, im->width);
      g_assert_cmpint (memcmp (v, im->pixels, sizeof (float) * rows * cols), ==, 0);
      g_free (paths[i]);
    }
  io_test_rmdir (dir);
}

// Refusals: nothing overwritten without --force, bad options exit 2 before writing.
static void
test_refusals (void)
{
  g_autofree char *mono1 = peac_test_shared_path (MONO1);
  char *dir;

  dir = io_test_tmpdir ();
  {
    g_autofree char *keep = io_test_write (dir, "keep.png", "user's work", 11);
    g_autofree char *other = g_build_filename (dir, "sub", NULL);
    g_autofree char *twin = g_build_filename (other, "gdcm-CR-MONO1-10-chest.dcm", NULL);
    g_autofree char *outdir = g_build_filename (dir, "batch", NULL);
    g_autofree char *content = NULL;
    g_autofree char *x_tiff = g_build_filename (dir, "x.tiff", NULL);
    g_autofree char *x_npy = g_build_filename (dir, "x.npy", NULL);
    g_autofree char *x_png = g_build_filename (dir, "x.png", NULL);
    g_autofree char *x = g_build_filename (dir, "x", NULL);
    const struct {
      const char *args[8];
      int         status;
      const char *message;
    } cases[] = {
      { { mono1, "-o", keep }, 1, "keep.png: exists (add --force to replace it)" },
      { { mono1, "-o", x_tiff }, 2, "cannot tell the format" },
      { { "--window", "550,1024", mono1, "-o", x_npy }, 2, "8-bit rendering" },
      { { "--window", "550", mono1, "-o", x_png }, 2, "--window: '550'" },
      { { "--window", "550,0", mono1, "-o", x_png }, 2, "positive width" },
      { { "--window", "1,2", "--window-preset", "full", mono1, "-o", x_png }, 2, "not both" },
      { { "--format", "tiff", mono1, "-o", x }, 2, "--format must be" },
      { { mono1 }, 2, "no output" },
      { { "-o", x_png }, 2, "no input files" },
      { { "--frob", mono1, "-o", x_png }, 2, "unknown option '--frob'" },
      { { mono1, twin, "-o", outdir }, 2, "would both be written to" },
      { { keep, "-o", keep, "--force" }, 2, "would replace its own input" },
    };

    g_assert_cmpint (g_mkdir (other, 0700), ==, 0);
    g_assert_true (g_file_set_contents (twin, "x", 1, NULL));
    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_auto (PeacTestRun) r = { 0 };
        peac_test_run (&r, peac_path, "convert", cases[i].args);
        g_test_message ("case %zu: %d %s", i, r.status, r.err);
        g_assert_cmpint (r.status, ==, cases[i].status);
        assert_contains (r.err, cases[i].message);
      }
    g_assert_false (g_file_test (outdir, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (x_png, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (x_npy, G_FILE_TEST_EXISTS));
    g_assert_true (g_file_get_contents (keep, &content, NULL, NULL));
    g_assert_cmpstr (content, ==, "user's work");
    // --force replaces it; a missing input fails alone while the other is written.
    g_free (run_ok ((const char *[]) { "-q", "--force", mono1, "-o", keep, NULL }));
    {
      g_auto (Raster) r = { 0 };
      g_auto (PeacTestRun) mixed = { 0 };
      g_autofree char *written = g_build_filename (outdir, "gdcm-CR-MONO1-10-chest.pgm", NULL);

      read_png (keep, &r);
      g_assert_cmpint (r.width, ==, 440);
      peac_test_run (&mixed, peac_path, "convert",
                     (const char *[]) { "-q", "/nonexistent/a.dcm", mono1, "--format", "pgm",
                                        "-o", outdir, NULL });
      g_assert_cmpint (mixed.status, ==, 1);
      assert_contains (mixed.err, "peac convert: /nonexistent/a.dcm: cannot open");
      g_assert_true (g_file_test (written, G_FILE_TEST_IS_REGULAR));
    }
    peac_test_remove_tree (outdir);
    g_remove (twin);
    g_rmdir (other);
    g_remove (keep);
  }
  io_test_rmdir (dir);
}

static void
test_help (void)
{
  g_auto (PeacTestRun) r = { 0 };

  peac_test_run (&r, peac_path, "convert", (const char *[]) { "--help", NULL });
  g_assert_cmpint (r.status, ==, 0);
  assert_contains (r.out, "--window-preset NAME");
  assert_contains (r.out, "float32");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_path = argc > 1 ? argv[1] : g_getenv ("PEAC_CLI");
  if (peac_path == NULL)
    {
      g_printerr ("usage: test-convert PATH-TO-PEAC (or set PEAC_CLI)\n");
      return 2;
    }
  g_test_add_func ("/cli/convert/exact", test_exact);
  g_test_add_func ("/cli/convert/rescaled", test_rescaled);
  g_test_add_func ("/cli/convert/window", test_window);
  g_test_add_func ("/cli/convert/all-dicoms", test_all_dicoms);
  g_test_add_func ("/cli/convert/refusals", test_refusals);
  g_test_add_func ("/cli/convert/help", test_help);
  return g_test_run ();
}
