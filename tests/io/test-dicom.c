// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-dicom: every DICOM in the shared data against the MANIFEST table (size, bits,
// photometric, transfer syntax, decoder); the hip film decoding bit-identically from RLE,
// JPEG lossless, JPEG-LS lossless and JPEG 2000 lossless; MONOCHROME1 shown bone-bright;
// window presets, spacing and the tag list; and files without preamble or without any
// meta header. JPEG 2000 against GDCM and broken codestreams: test-dicom-j2k.c.
#include "io-test-util.h"
#include "peac-test-cli.h"

typedef struct {
  const char *file;
  int         width, height;   // MANIFEST gives rows×cols; here columns×rows
  int         allocated, stored;
  const char *photometric;
  const char *transfer_syntax;
  const char *decoder;         // start of PxImage.decoder
} DicomCase;

static const DicomCase cases[] = {
  { "chest/gdcm-CR-MONO1-10-chest.dcm", 440, 440, 16, 10, "MONOCHROME1", "1.2.840.10008.1.2.1",
    "DCMTK 3.6.7 (uncompressed" },
  { "chest/WG04_RG1_JLSN.dcm", 1841, 1955, 16, 15, "MONOCHROME1", "1.2.840.10008.1.2.4.81",
    "DCMTK 3.6.7 dcmjpls" },
  { "chest/siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm", 1024, 1024, 8, 8,
    "MONOCHROME2", "1.2.840.10008.1.2.4.50", "DCMTK 3.6.7 dcmjpeg" },
  { "chest/txv_Fake_MONOHR1.dcm", 1024, 1024, 8, 8, "MONOCHROME1", "1.2.840.10008.1.2.4.50",
    "DCMTK 3.6.7 dcmjpeg" },
  { "non-chest-format-coverage/WG04_RG2_JPLL.dcm", 1760, 2140, 16, 10, "MONOCHROME2",
    "1.2.840.10008.1.2.4.70", "DCMTK 3.6.7 dcmjpeg" },
  { "non-chest-format-coverage/WG04_RG2_RLE.dcm", 1760, 2140, 16, 10, "MONOCHROME2",
    "1.2.840.10008.1.2.5", "DCMTK 3.6.7 RLE" },
  { "non-chest-format-coverage/WG04_RG2_JLSL.dcm", 1760, 2140, 16, 10, "MONOCHROME2",
    "1.2.840.10008.1.2.4.80", "DCMTK 3.6.7 dcmjpls" },
  { "non-chest-format-coverage/WG04_RG2_J2KR.dcm", 1760, 2140, 16, 10, "MONOCHROME2",
    "1.2.840.10008.1.2.4.90", "OpenJPEG 2.5" },
  { "non-chest-format-coverage/WG04_RG2_JPLY.dcm", 1760, 2140, 16, 10, "MONOCHROME2",
    "1.2.840.10008.1.2.4.51", "DCMTK 3.6.7 dcmjpeg" },
  { "non-chest-format-coverage/WG04_RG3_J2KI.dcm", 1760, 1760, 16, 10, "MONOCHROME1",
    "1.2.840.10008.1.2.4.91", "OpenJPEG 2.5" },
  { "non-chest-format-coverage/WG04_RG3_JPLY.dcm", 1760, 1760, 16, 10, "MONOCHROME1",
    "1.2.840.10008.1.2.4.51", "DCMTK 3.6.7 dcmjpeg" },
};

static void
test_manifest (gconstpointer data)
{
  const DicomCase *c = data;
  g_autofree char *rel = g_build_filename ("dicom", c->file, NULL);
  g_autofree char *path = peac_test_shared_path (rel);
  g_autoptr (GError) error = NULL;
  g_autoptr (PxImage) im = NULL;

  im = px_image_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (im->format, ==, PX_FORMAT_DICOM);
  g_assert_cmpint (im->width, ==, c->width);
  g_assert_cmpint (im->height, ==, c->height);
  g_assert_cmpint (im->bits_allocated, ==, c->allocated);
  g_assert_cmpint (im->bits_stored, ==, c->stored);
  g_assert_cmpstr (im->photometric, ==, c->photometric);
  g_assert_cmpint (im->monochrome1, ==, strcmp (c->photometric, "MONOCHROME1") == 0);
  g_assert_cmpstr (im->transfer_syntax, ==, c->transfer_syntax);
  g_assert_true (g_str_has_prefix (im->decoder, c->decoder));
  g_assert_cmpstr (im->modality, ==, "CR");
  // Values stay within the stored bit depth (no rescale in these files) and use it.
  g_assert_cmpfloat (im->data_min, >=, 0);
  g_assert_cmpfloat (im->data_max, <, (float) (1 << c->stored));
  g_assert_cmpfloat (im->data_max, >, (float) (1 << (c->stored - 2)));
  g_assert_nonnull (im->tags);
  g_assert_cmpuint (im->tags->len, >, 20);
}

static PxImage *
load_shared (const char *rel)
{
  g_autofree char *path = peac_test_shared_path (rel);

  return io_test_load_ok (path);
}

static void
test_hip_identical (void)
{
  g_autoptr (PxImage) rle = load_shared ("dicom/non-chest-format-coverage/WG04_RG2_RLE.dcm");
  g_autoptr (PxImage) jpll = load_shared ("dicom/non-chest-format-coverage/WG04_RG2_JPLL.dcm");
  g_autoptr (PxImage) jlsl = load_shared ("dicom/non-chest-format-coverage/WG04_RG2_JLSL.dcm");
  g_autoptr (PxImage) jply = load_shared ("dicom/non-chest-format-coverage/WG04_RG2_JPLY.dcm");
  g_autoptr (PxImage) j2kr = load_shared ("dicom/non-chest-format-coverage/WG04_RG2_J2KR.dcm");
  gsize n, differ = 0;

  n = (gsize) rle->width * rle->height;
  g_assert_cmpint (memcmp (rle->pixels, jpll->pixels, n * sizeof (float)), ==, 0);
  g_assert_cmpint (memcmp (rle->pixels, jlsl->pixels, n * sizeof (float)), ==, 0);
  // JPEG 2000 lossless through OpenJPEG: the same samples as DCMTK's RLE and JPEG decoders.
  g_assert_cmpint (j2kr->width, ==, rle->width);
  g_assert_cmpint (j2kr->height, ==, rle->height);
  g_assert_cmpint (memcmp (rle->pixels, j2kr->pixels, n * sizeof (float)), ==, 0);
  g_assert_cmpint (memcmp (jpll->pixels, j2kr->pixels, n * sizeof (float)), ==, 0);
  g_assert_cmpfloat (j2kr->pixel_spacing[0], ==, rle->pixel_spacing[0]);
  g_assert_cmpint (j2kr->n_windows, ==, rle->n_windows);
  // More than 8 bits of data really arrived.
  g_assert_cmpfloat (rle->data_max, ==, 893);
  // The lossy 12-bit JPEG of the same film is close but not identical.
  for (gsize i = 0; i < n; i++)
    differ += rle->pixels[i] != jply->pixels[i];
  g_assert_cmpuint (differ, >, 0);
  g_assert_cmpuint (differ, <, n);
}

static double
mean_u8 (const guint8 *p, int stride, int x0, int y0, int x1, int y1)
{
  double s = 0;

  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      s += p[y * stride + x];
  return s / ((double) (x1 - x0) * (y1 - y0));
}

static double
mean_raw (const PxImage *im, int x0, int y0, int x1, int y1)
{
  double s = 0;

  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      s += im->pixels[y * im->width + x];
  return s / ((double) (x1 - x0) * (y1 - y0));
}

static void
test_monochrome1_bone_bright (void)
{
  g_autoptr (PxImage) im = load_shared ("dicom/chest/gdcm-CR-MONO1-10-chest.dcm");
  g_autofree guint8 *out = NULL;
  double c, w;

  px_image_default_window (im, &c, &w);
  g_assert_cmpfloat (c, ==, 550);
  g_assert_cmpfloat (w, ==, 1024);
  out = g_malloc ((gsize) im->width * im->height);
  px_image_render_u8 (im, c, w, FALSE, out);
  // 440×440 PA chest: mediastinum column against both lung fields, mid-thorax rows.
  double med = mean_u8 (out, im->width, 170, 110, 215, 220);
  double lung_r = mean_u8 (out, im->width, 110, 110, 160, 220);
  double lung_l = mean_u8 (out, im->width, 280, 110, 330, 220);
  g_test_message ("rendered: mediastinum %.1f, lungs %.1f / %.1f", med, lung_r, lung_l);
  g_assert_cmpfloat (med, >, lung_r + 30);
  g_assert_cmpfloat (med, >, lung_l + 30);
  // The stored values are the other way round: inversion happens only when rendering.
  g_assert_cmpfloat (mean_raw (im, 170, 110, 215, 220), <, mean_raw (im, 110, 110, 160, 220));
}

static void
test_fake_mono1 (void)
{
  // Same pixels as the SIIM image, header says MONOCHROME1: same values, inverse display.
  g_autoptr (PxImage) siim = load_shared (
    "dicom/chest/siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm");
  g_autoptr (PxImage) fake = load_shared ("dicom/chest/txv_Fake_MONOHR1.dcm");
  g_autofree guint8 *a = NULL, *b = NULL;
  gsize n;

  n = (gsize) siim->width * siim->height;
  g_assert_cmpint (memcmp (siim->pixels, fake->pixels, n * sizeof (float)), ==, 0);
  a = g_malloc (n);
  b = g_malloc (n);
  px_image_render_u8 (siim, 128, 256, FALSE, a);
  px_image_render_u8 (fake, 128, 256, FALSE, b);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (abs ((int) a[i] + (int) b[i] - 255), <=, 1);
}

static void
test_metadata (void)
{
  g_autoptr (PxImage) siim = load_shared (
    "dicom/chest/siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm");
  g_autoptr (PxImage) rg1 = load_shared ("dicom/chest/WG04_RG1_JLSN.dcm");
  g_autoptr (PxImage) rg2 = load_shared ("dicom/non-chest-format-coverage/WG04_RG2_RLE.dcm");
  gboolean name = FALSE, pixel_data = FALSE;

  // Calibrated spacing is PixelSpacing; no file here has ImagerPixelSpacing.
  g_assert_cmpfloat (siim->pixel_spacing[0], ==, 0.168);
  g_assert_cmpfloat (siim->pixel_spacing[1], ==, 0.168);
  g_assert_cmpfloat (siim->imager_pixel_spacing[0], ==, 0);
  g_assert_cmpstr (siim->patient_sex, ==, "M");
  g_assert_cmpstr (siim->patient_age, ==, "62");
  g_assert_cmpstr (siim->view_position, ==, "PA");
  g_assert_cmpint (siim->n_windows, ==, 0);
  // RG1 stores 0.000\0.000: not a spacing.
  g_assert_cmpfloat (rg1->pixel_spacing[0], ==, 0);
  g_assert_cmpint (rg1->n_windows, ==, 1);
  g_assert_cmpfloat (rg1->windows[0].center, ==, 15000);
  g_assert_cmpfloat (rg1->windows[0].width, ==, 30000);
  g_assert_cmpstr (rg1->patient_name, ==, "CompressedSamples^RG1");
  g_assert_cmpstr (rg2->study_date, ==, "20031208");
  g_assert_cmpfloat (rg2->pixel_spacing[0], ==, 0.2);

  for (guint i = 0; i < rg2->tags->len; i++)
    {
      const char *line = rg2->tags->pdata[i];
      name |= strcmp (line, "(0010,0010) PatientName: CompressedSamples^RG2") == 0;
      if (g_str_has_prefix (line, "(7fe0,0010) PixelData: "))
        {
          pixel_data = TRUE;
          g_assert_nonnull (strstr (line, "bytes of binary data"));
        }
      g_assert_cmpuint (strlen (line), <, 200);
    }
  g_assert_true (name);
  g_assert_true (pixel_data);
}

// Meta group length from an explicit-VR (0002,0000) UL element at offset 132.
static gsize
meta_end (const guint8 *d)
{
  return 132 + 12 + (d[140] | (d[141] << 8) | (d[142] << 16) | ((gsize) d[143] << 24));
}

static void
test_no_preamble (void)
{
  g_autofree char *path = peac_test_shared_path ("dicom/chest/gdcm-CR-MONO1-10-chest.dcm");
  g_autofree char *data = NULL;
  gsize len = 0;
  char *dir;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_autoptr (PxImage) ref = io_test_load_ok (path);
  dir = io_test_tmpdir ();
  {
    // No preamble, meta header kept; then neither preamble nor meta header.
    g_autofree char *p1 = io_test_write (dir, "no-preamble", data + 132, len - 132);
    gsize skip = meta_end ((const guint8 *) data);
    g_autofree char *p2 = io_test_write (dir, "dataset-only", data + skip, len - skip);
    g_autoptr (PxImage) a = io_test_load_ok (p1);
    g_autoptr (PxImage) b = io_test_load_ok (p2);
    gsize n = (gsize) ref->width * ref->height;

    g_assert_cmpint (a->width, ==, 440);
    g_assert_cmpint (b->width, ==, 440);
    g_assert_cmpint (memcmp (a->pixels, ref->pixels, n * sizeof (float)), ==, 0);
    g_assert_cmpint (memcmp (b->pixels, ref->pixels, n * sizeof (float)), ==, 0);
    g_assert_true (b->monochrome1);
  }
  io_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/io/dicom/manifest/%s",
                                               strrchr (cases[i].file, '/') + 1);
      g_test_add_data_func (name, &cases[i], test_manifest);
    }
  g_test_add_func ("/io/dicom/hip-bit-identical", test_hip_identical);
  g_test_add_func ("/io/dicom/monochrome1-bone-bright", test_monochrome1_bone_bright);
  g_test_add_func ("/io/dicom/fake-monochrome1", test_fake_mono1);
  g_test_add_func ("/io/dicom/metadata", test_metadata);
  g_test_add_func ("/io/dicom/no-preamble", test_no_preamble);
  return g_test_run ();
}
