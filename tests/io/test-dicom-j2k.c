// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-dicom-j2k: the two JPEG 2000 files of the shared data against an independent
// decoder (GDCM's `gdcmconv --raw`, then the uncompressed result read through DCMTK), small
// DICOMs (rescale, 8-bit, signed, Modality LUT, colour) encoded by GDCM against their
// originals, and variants of the pixel data written here: the codestream in a JP2 box,
// split into other fragments, as the first frame of a multi-frame file (with and without
// an offset table), and truncated or corrupted in its markers or its tiling, which must be
// refused with the file named.
#include "io-test-util.h"
#include "peac-test-cli.h"

#define J2KR "dicom/non-chest-format-coverage/WG04_RG2_J2KR.dcm"
#define J2KI "dicom/non-chest-format-coverage/WG04_RG3_J2KI.dcm"

// A DICOM file cut around its encapsulated pixel data: everything up to the value of
// (7FE0,0010), the joined fragments, and what follows the sequence delimiter.
typedef struct {
  GBytes     *pre;
  GByteArray *codestream;
  GBytes     *post;
  guint       n_fragments;
} J2kFile;

static guint32
le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static guint
be16 (const guint8 *p)
{
  return (p[0] << 8) | p[1];
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static gboolean
j2k_file_read (J2kFile *f, const char *path)
{
  static const guint8 tag[12] = { 0xe0, 0x7f, 0x10, 0x00, 'O', 'B', 0, 0, 0xff, 0xff, 0xff, 0xff };
  g_autofree guint8 *d = NULL;
  gsize len = 0, p = 0, start = 0;

  g_assert_true (g_file_get_contents (path, (char **) &d, &len, NULL));
  for (gsize i = 0; i + sizeof tag <= len; i++)
    if (memcmp (d + i, tag, sizeof tag) == 0)
      start = i + sizeof tag;
  g_assert_cmpuint (start, >, 0);
  f->pre = g_bytes_new (d, start);
  f->codestream = g_byte_array_new ();
  f->n_fragments = 0;
  for (p = start; p + 8 <= len;)
    {
      guint32 l = le32 (d + p + 4);
      gboolean item = d[p] == 0xfe && d[p + 1] == 0xff && d[p + 2] == 0x00 && d[p + 3] == 0xe0;
      gboolean end = d[p] == 0xfe && d[p + 1] == 0xff && d[p + 2] == 0xdd && d[p + 3] == 0xe0;
      p += 8;
      if (end)
        break;
      g_assert_true (item);
      g_assert_cmpuint (p + l, <=, len);
      if (f->n_fragments++ > 0) // item 0 is the offset table
        g_byte_array_append (f->codestream, d + p, l);
      p += l;
    }
  f->n_fragments--;
  f->post = g_bytes_new (d + p, len - p);
  return TRUE;
}

static void
j2k_file_clear (J2kFile *f)
{
  g_bytes_unref (f->pre);
  g_bytes_unref (f->post);
  g_byte_array_unref (f->codestream);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (J2kFile, j2k_file_clear)

static void
put_item (GByteArray *out, guint16 element, const guint8 *data, gsize len)
{
  guint8 h[8] = { 0xfe, 0xff, element & 0xff, element >> 8, 0, 0, 0, 0 };
  gsize padded = len + (len & 1);

  h[4] = padded & 0xff;
  h[5] = (padded >> 8) & 0xff;
  h[6] = (padded >> 16) & 0xff;
  h[7] = (padded >> 24) & 0xff;
  g_byte_array_append (out, h, 8);
  if (len)
    g_byte_array_append (out, data, (guint) len);
  if (len & 1)
    g_byte_array_append (out, (const guint8 *) "", 1);
}

// Writes @f with its fragments replaced: @table (offset table bytes, may be empty) and
// the @n pieces of @frags. @frames > 0 inserts NumberOfFrames before Rows.
static char *
write_variant (const char *dir, const char *name, const J2kFile *f, const GByteArray *table,
               GBytes **frags, guint n, int frames)
{
  static const guint8 rows_tag[8] = { 0x28, 0x00, 0x10, 0x00, 'U', 'S', 0x02, 0x00 };
  g_autoptr (GByteArray) out = g_byte_array_new ();
  gsize pre_len;
  const guint8 *pre = g_bytes_get_data (f->pre, &pre_len);
  gsize cut = 0;

  if (frames > 0)
    {
      char value[3];
      guint8 el[8] = { 0x28, 0x00, 0x08, 0x00, 'I', 'S', 0x02, 0x00 };

      for (gsize i = 0; i + 8 <= pre_len && cut == 0; i++)
        if (memcmp (pre + i, rows_tag, 8) == 0)
          cut = i;
      g_assert_cmpuint (cut, >, 0);
      g_snprintf (value, sizeof value, "%d ", frames);
      g_byte_array_append (out, pre, (guint) cut);
      g_byte_array_append (out, el, 8);
      g_byte_array_append (out, (const guint8 *) value, 2);
    }
  g_byte_array_append (out, pre + cut, (guint) (pre_len - cut));
  put_item (out, 0xe000, table ? table->data : NULL, table ? table->len : 0);
  for (guint i = 0; i < n; i++)
    put_item (out, 0xe000, g_bytes_get_data (frags[i], NULL), g_bytes_get_size (frags[i]));
  put_item (out, 0xe0dd, NULL, 0);
  g_byte_array_append (out, g_bytes_get_data (f->post, NULL),
                       (guint) g_bytes_get_size (f->post));
  return io_test_write (dir, name, out->data, out->len);
}

// One fragment holding @len bytes of @data.
static char *
write_one (const char *dir, const char *name, const J2kFile *f, const guint8 *data, gsize len)
{
  g_autoptr (GBytes) b = g_bytes_new (data, len);

  return write_variant (dir, name, f, NULL, &b, 1, 0);
}

static void
assert_same_pixels (const PxImage *a, const PxImage *b)
{
  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  g_assert_cmpint (memcmp (a->pixels, b->pixels, sizeof (float) * a->width * a->height), ==, 0);
}

// gdcmconv --raw decompresses with GDCM's JPEG 2000 path; DCMTK reads the result.
static void
test_gdcm (gconstpointer data)
{
  g_autofree char *path = peac_test_shared_path (data);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  char *dir;

  dir = io_test_tmpdir ();
  {
    g_autofree char *raw = g_build_filename (dir, "raw.dcm", NULL);
    const char *argv[] = { "gdcmconv", "--raw", path, raw, NULL };
    g_autoptr (PxImage) ours = io_test_load_ok (path);
    g_autoptr (PxImage) ref = NULL;

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                       &status, &error))
      g_error ("cannot run gdcmconv (Debian package libgdcm-tools, see dev.sh): %s",
               error->message);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("gdcmconv --raw %s failed: %s", path, err);
    ref = io_test_load_ok (raw);
    g_assert_cmpstr (ref->transfer_syntax, ==, "1.2.840.10008.1.2.1");
    g_assert_true (g_str_has_prefix (ref->decoder, "DCMTK"));
    g_assert_true (g_str_has_prefix (ours->decoder, "OpenJPEG"));
    assert_same_pixels (ours, ref);
    g_assert_cmpfloat (ours->data_max, ==, ref->data_max);
    g_assert_cmpfloat (ours->data_max, >, 512); // 10-bit data really arrived
    g_assert_cmpstr (ours->photometric, ==, ref->photometric);
    g_assert_cmpint (ours->monochrome1, ==, ref->monochrome1);
    g_assert_cmpint (ours->bits_stored, ==, ref->bits_stored);
    g_assert_cmpint (ours->n_windows, ==, ref->n_windows);
    g_assert_cmpfloat (ours->pixel_spacing[0], ==, ref->pixel_spacing[0]);
  }
  io_test_rmdir (dir);
}

static void
spawn_ok (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                     &status, &error))
    g_error ("cannot run %s (Debian packages libgdcm-tools, dcmtk; see dev.sh): %s", argv[0],
             error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
}

// The pixel transforms after decoding, through GDCM's encoder: small DICOMs of the fuzz
// corpus (NIH pixels; 16-bit MONOCHROME1 with rescale 0.5/-1024 and a VOI window, 8-bit,
// signed with a Modality LUT, the same without its LUT, and colour: the RGB JPEG seed
// decompressed by DCMTK's dcmdjpeg, its JPEG 2000 copy also labelled YBR_RCT) compressed
// with `gdcmconv --j2k` decode to what DCMTK gives for the uncompressed originals (colour
// converted to grey the same way).
typedef struct {
  const char *seed;
  const char *prepare[8]; // a DCMTK command on the original first ({} = the file), or none
  const char *relabel;    // dcmodify -m applied to the JPEG 2000 copy, or NULL
} GdcmCase;

static void
test_gdcm_encoded (void)
{
  static const GdcmCase cases[] = {
    { "mono1-16bit-rescale-voi.dcm", { NULL }, NULL },
    { "mono2-8bit.dcm", { NULL }, NULL },
    { "signed-modality-lut.dcm", { NULL }, NULL },
    { "signed-modality-lut.dcm", { "dcmodify", "-nb", "-e", "(0028,3000)", "{}" }, NULL },
    { "jpeg-baseline-rgb.dcm", { "dcmdjpeg", "{}", "{}" }, NULL },
    { "jpeg-baseline-rgb.dcm", { "dcmdjpeg", "{}", "{}" }, "(0028,0004)=YBR_RCT" },
  };
  char *dir = io_test_tmpdir ();

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const GdcmCase *c = &cases[i];
      g_autofree char *src = g_build_filename (g_getenv ("PEAC_SOURCE_DIR"), "fuzz", "corpus",
                                               "dicom", c->seed, NULL);
      g_autofree char *orig = g_build_filename (dir, "orig.dcm", NULL);
      g_autofree char *j2k = g_build_filename (dir, "j2k.dcm", NULL);
      g_autofree char *data = NULL;
      gsize len = 0;

      g_assert_true (g_file_get_contents (src, &data, &len, NULL));
      g_assert_true (g_file_set_contents (orig, data, (gssize) len, NULL));
      if (c->prepare[0])
        {
          const char *argv[8] = { NULL };
          for (int k = 0; k < 7 && c->prepare[k]; k++)
            argv[k] = strcmp (c->prepare[k], "{}") == 0 ? orig : c->prepare[k];
          spawn_ok (argv);
        }
      spawn_ok ((const char *[]) { "gdcmconv", "--j2k", orig, j2k, NULL });
      if (c->relabel)
        spawn_ok ((const char *[]) { "dcmodify", "-nb", "-m", c->relabel, j2k, NULL });
      g_autoptr (PxImage) a = io_test_load_ok (orig);
      g_autoptr (PxImage) b = io_test_load_ok (j2k);
      g_test_message ("%s (case %zu): %s %g..%g", c->seed, i, b->photometric, b->data_min,
                      b->data_max);
      g_assert_cmpstr (a->transfer_syntax, ==, i >= 4 ? "1.2.840.10008.1.2.1" : a->transfer_syntax);
      g_assert_cmpstr (b->transfer_syntax, ==, "1.2.840.10008.1.2.4.90");
      g_assert_true (g_str_has_prefix (b->decoder, "OpenJPEG"));
      assert_same_pixels (a, b);
      g_assert_cmpstr (b->photometric, ==, c->relabel ? "YBR_RCT" : a->photometric);
      g_assert_cmpint (a->monochrome1, ==, b->monochrome1);
      g_assert_cmpint (a->n_windows, ==, b->n_windows);
      if (a->n_windows > 0)
        g_assert_cmpfloat (a->windows[0].center, ==, b->windows[0].center);
      if (i == 0) // rescale applied
        g_assert_cmpfloat (b->data_min, ==, -1024);
      if (i == 3) // two's complement samples
        g_assert_cmpfloat (b->data_min, <, 0);
      if (i >= 4)
        g_assert_cmpstr (a->photometric, ==, "RGB");
      g_remove (orig);
      g_remove (j2k);
    }
  io_test_rmdir (dir);
}

// A JP2 file around the codestream: signature, file type, header (ihdr from the SIZ
// marker, greyscale colour box) and the contiguous codestream box.
static GBytes *
jp2_wrap (const GByteArray *cs)
{
  const guint8 *c = cs->data;
  guint32 w = be32 (c + 8) - be32 (c + 16), h = be32 (c + 12) - be32 (c + 20);
  guint nc = be16 (c + 40), bpc = c[42];
  g_autoptr (GByteArray) b = g_byte_array_new ();
  guint8 box[96];
  gsize n = 0;

  g_assert_cmpuint (be16 (c + 2), ==, 0xff51);
#define PUT32(v) (box[n++] = (v) >> 24, box[n++] = ((v) >> 16) & 0xff, \
                  box[n++] = ((v) >> 8) & 0xff, box[n++] = (v) & 0xff)
#define PUTS(s) (memcpy (box + n, s, 4), n += 4)
  PUT32 (12u); PUTS ("jP  "); PUT32 (0x0d0a870au);
  PUT32 (20u); PUTS ("ftyp"); PUTS ("jp2 "); PUT32 (0u); PUTS ("jp2 ");
  PUT32 (8u + 22u + 15u); PUTS ("jp2h");
  PUT32 (22u); PUTS ("ihdr"); PUT32 (h); PUT32 (w);
  box[n++] = nc >> 8; box[n++] = nc & 0xff; box[n++] = bpc; box[n++] = 7; box[n++] = 0;
  box[n++] = 0;
  PUT32 (15u); PUTS ("colr"); box[n++] = 1; box[n++] = 0; box[n++] = 0; PUT32 (17u);
  PUT32 (8u + cs->len); PUTS ("jp2c");
#undef PUT32
#undef PUTS
  g_byte_array_append (b, box, (guint) n);
  g_byte_array_append (b, cs->data, cs->len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&b));
}

// Same image through other encapsulations: JP2 box, other fragment boundaries, first frame
// of two with an offset table, one fragment per frame, and fragments ended by EOC.
static void
test_encapsulations (void)
{
  g_autofree char *path = peac_test_shared_path (J2KI);
  g_auto (J2kFile) f = { 0 };
  char *dir;

  j2k_file_read (&f, path);
  g_assert_cmpuint (f.n_fragments, >, 1);
  dir = io_test_tmpdir ();
  {
    g_autoptr (PxImage) ref = io_test_load_ok (path);
    const guint8 *cs = f.codestream->data;
    gsize len = f.codestream->len, half = (len / 2) & ~(gsize) 1;
    g_autoptr (GBytes) whole = g_bytes_new (cs, len);
    g_autoptr (GBytes) a = g_bytes_new (cs, 1000);
    g_autoptr (GBytes) b = g_bytes_new (cs + 1000, half - 1000);
    g_autoptr (GBytes) c = g_bytes_new (cs + half, len - half);
    g_autoptr (GBytes) jp2 = jp2_wrap (f.codestream);
    g_autoptr (GBytes) junk = g_bytes_new ("not a codestream", 16);
    g_autoptr (GByteArray) table = g_byte_array_new ();
    GBytes *three[] = { a, b, c, junk };
    GBytes *two[] = { whole, junk };
    guint8 offsets[8] = { 0 };
    // Offset of frame 2's first item: three item headers and the even item lengths.
    guint32 second = 8 * 3 + 1000 + (guint32) (half - 1000) + (guint32) ((len - half + 1) & ~(gsize) 1);

    offsets[4] = second & 0xff;
    offsets[5] = (second >> 8) & 0xff;
    offsets[6] = (second >> 16) & 0xff;
    offsets[7] = second >> 24;
    g_byte_array_append (table, offsets, 8);
    const struct {
      const char *name;
      char       *file;
      const char *detail;
    } ok[] = {
      { "jp2", write_variant (dir, "jp2.dcm", &f, NULL, &jp2, 1, 0), NULL },
      { "one", write_variant (dir, "one.dcm", &f, NULL, &whole, 1, 0), NULL },
      { "three", write_variant (dir, "three.dcm", &f, NULL, three, 3, 0), NULL },
      { "table", write_variant (dir, "table.dcm", &f, table, three, 4, 2), "several" },
      { "per-frame", write_variant (dir, "perframe.dcm", &f, NULL, two, 2, 2), "several" },
      { "eoc", write_variant (dir, "eoc.dcm", &f, NULL, three, 4, 2), "several" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
      {
        g_autoptr (PxImage) im = io_test_load_ok (ok[i].file);
        g_test_message ("%s: %s", ok[i].name, im->format_detail);
        assert_same_pixels (im, ref);
        g_assert_cmpstr (im->photometric, ==, "MONOCHROME1");
        if (ok[i].detail)
          g_assert_nonnull (strstr (im->format_detail, ok[i].detail));
        g_free (ok[i].file);
      }
    // The offset table is what selects the fragments: pointing frame 2 at the second
    // fragment leaves frame 1 cut short, which strict decoding refuses.
    offsets[4] = (8 + 1000) & 0xff;
    offsets[5] = (8 + 1000) >> 8;
    offsets[6] = offsets[7] = 0;
    memcpy (table->data, offsets, 8);
    g_autofree char *short_table = write_variant (dir, "short-table.dcm", &f, table, three, 4, 2);
    io_test_expect_failure (short_table);
  }
  io_test_rmdir (dir);
}

typedef struct {
  const char *name;
  const char *reason; // expected in the message
} Broken;

// Truncations and marker corruptions, each refused with the file named and the reason.
static void
test_broken (gconstpointer data)
{
  g_autofree char *path = peac_test_shared_path (data);
  g_auto (J2kFile) f = { 0 };
  char *dir;

  j2k_file_read (&f, path);
  dir = io_test_tmpdir ();
  {
    const guint8 *cs = f.codestream->data;
    gsize len = f.codestream->len;
    g_autoptr (GByteArray) x = g_byte_array_new ();
    gsize sot = 0, cod = 0;
    guint8 *m;
    const Broken expect[] = {
      { "half", "cannot decode the JPEG 2000 codestream" },
      { "header-only", "cannot decode the JPEG 2000 codestream" },
      { "last-bytes", "cannot decode the JPEG 2000 codestream" },
      { "first-fragment", "cannot decode the JPEG 2000 codestream" },
      { "no-soc", "neither a codestream" },
      { "siz-width", "the JPEG 2000 codestream holds" },
      { "cod-levels", "cannot read the JPEG 2000 header" },
      { "sot-length", "cannot decode the JPEG 2000 codestream" },
      { "jpeg", "neither a codestream" },
      { "empty", "without any fragment" },
      { "tiny-tiles", "tiles of 16×16 pixels (at most 4096" },
    };
    char *files[G_N_ELEMENTS (expect)];
    g_autoptr (GBytes) first = g_bytes_new (cs, 65536);

    for (gsize i = 0; i + 1 < len && (sot == 0 || cod == 0); i++)
      {
        if (cs[i] == 0xff && cs[i + 1] == 0x90 && sot == 0)
          sot = i;
        if (cs[i] == 0xff && cs[i + 1] == 0x52 && cod == 0)
          cod = i;
      }
    g_assert_cmpuint (sot, >, 0);
    g_assert_cmpuint (cod, >, 0);
    files[0] = write_one (dir, "half.dcm", &f, cs, len / 2);
    files[1] = write_one (dir, "header-only.dcm", &f, cs, sot + 14);
    files[2] = write_one (dir, "last-bytes.dcm", &f, cs, len - 2);
    files[3] = write_variant (dir, "first-fragment.dcm", &f, NULL, &first, 1, 0);
    g_byte_array_append (x, cs, (guint) len);
    m = x->data;
    m[1] = 0x00;
    files[4] = write_one (dir, "no-soc.dcm", &f, m, len);
    m[1] = 0x4f;
    m[10] ^= 0x01; // Xsiz: 256 columns more
    files[5] = write_one (dir, "siz-width.dcm", &f, m, len);
    m[10] ^= 0x01;
    m[cod + 9] = 40; // decomposition levels beyond OpenJPEG's 32
    files[6] = write_one (dir, "cod-levels.dcm", &f, m, len);
    m[cod + 9] = cs[cod + 9];
    m[sot + 6] = 0x7f; // Psot: a tile-part far longer than the stream
    files[7] = write_one (dir, "sot-length.dcm", &f, m, len);
    m[sot + 6] = cs[sot + 6];
    m[0] = 0xff, m[1] = 0xd8, m[2] = 0xff, m[3] = 0xe0;
    files[8] = write_one (dir, "jpeg.dcm", &f, m, len);
    files[9] = write_variant (dir, "empty.dcm", &f, NULL, NULL, 0, 0);
    memcpy (m, cs, 4);
    m[24] = m[25] = m[26] = m[28] = m[29] = m[30] = 0; // XTsiz = YTsiz = 16: > 12000 tiles
    m[27] = m[31] = 16;
    files[10] = write_one (dir, "tiny-tiles.dcm", &f, m, len);
    for (gsize i = 0; i < G_N_ELEMENTS (expect); i++)
      {
        g_autoptr (GError) error = NULL;
        g_autoptr (PxImage) im = px_image_load (files[i], &error);

        if (im != NULL)
          g_error ("%s: %s decoded but should have been refused", (char *) data, expect[i].name);
        g_assert_true (error->domain == PX_IMAGE_ERROR);
        g_test_message ("%s", error->message);
        g_assert_true (g_str_has_prefix (error->message, files[i]));
        if (strstr (error->message, expect[i].reason) == NULL)
          g_error ("%s: expected \"%s\" in: %s", expect[i].name, expect[i].reason,
                   error->message);
        g_free (files[i]);
      }
  }
  io_test_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/io/dicom-j2k/gdcm/J2KR", J2KR, test_gdcm);
  g_test_add_data_func ("/io/dicom-j2k/gdcm/J2KI", J2KI, test_gdcm);
  g_test_add_func ("/io/dicom-j2k/gdcm-encoded", test_gdcm_encoded);
  g_test_add_func ("/io/dicom-j2k/encapsulations", test_encapsulations);
  g_test_add_data_func ("/io/dicom-j2k/broken/J2KR", J2KR, test_broken);
  g_test_add_data_func ("/io/dicom-j2k/broken/J2KI", J2KI, test_broken);
  return g_test_run ();
}
