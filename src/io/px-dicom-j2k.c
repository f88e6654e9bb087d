// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-dicom-j2k: one DICOM frame's JPEG 2000 codestream decoded by OpenJPEG. It recognises
// a raw codestream (SOC marker) or a JP2 file (signature box), reads the SIZ marker itself
// (size, components, tile count) and then the main header through OpenJPEG, and refuses,
// before any sample buffer exists, a codestream whose size, component count, subsampling,
// precision or tiling disagree with the DICOM header or the limits; it then decodes in strict mode
// (a truncated codestream is an error, not a half-grey image) and writes the components
// interleaved in the DICOM sample width. OpenJPEG's error messages become the reason of
// the GError; its warnings and information are dropped.
#include "px-dicom-j2k.h"
#include "px-image-private.h"

#include <openjpeg.h>
#include <string.h>

// The memory stream OpenJPEG reads the codestream from.
typedef struct {
  const guint8 *data;
  gsize         len;
  gsize         pos;
} J2kSource;

static OPJ_SIZE_T
source_read (void *buffer, OPJ_SIZE_T n, void *user)
{
  J2kSource *s = user;
  gsize left = s->len - s->pos;

  if (left == 0)
    return (OPJ_SIZE_T) -1;
  if (n > left)
    n = left;
  memcpy (buffer, s->data + s->pos, n);
  s->pos += n;
  return n;
}

static OPJ_OFF_T
source_skip (OPJ_OFF_T n, void *user)
{
  J2kSource *s = user;

  if (n < 0)
    {
      if ((guint64) -n > s->pos)
        return -1;
      s->pos -= (gsize) -n;
      return n;
    }
  if ((guint64) n > s->len - s->pos)
    n = (OPJ_OFF_T) (s->len - s->pos);
  s->pos += (gsize) n;
  return n;
}

static OPJ_BOOL
source_seek (OPJ_OFF_T to, void *user)
{
  J2kSource *s = user;

  if (to < 0 || (guint64) to > s->len)
    return OPJ_FALSE;
  s->pos = (gsize) to;
  return OPJ_TRUE;
}

// Keeps OpenJPEG's first error message (without its trailing newline).
static void
on_error (const char *msg, void *user)
{
  GString *first = user;

  if (first->len == 0 && msg != NULL)
    {
      g_string_append (first, msg);
      while (first->len > 0 && g_ascii_isspace (first->str[first->len - 1]))
        g_string_truncate (first, first->len - 1);
    }
}

static void
on_quiet (const char *msg, void *user)
{
}

const char *
px_j2k_decoder_name (void)
{
  static char name[48];

  if (name[0] == '\0')
    g_snprintf (name, sizeof name, "OpenJPEG %s", opj_version ());
  return name;
}

// Raw codestream (SOC then SIZ) or JP2 (signature box); anything else is not JPEG 2000.
static gboolean
codec_format (const guint8 *d, gsize len, OPJ_CODEC_FORMAT *format)
{
  static const guint8 jp2_sig[12] = { 0, 0, 0, 0x0c, 'j', 'P', ' ', ' ', 0x0d, 0x0a, 0x87, 0x0a };

  if (len >= 4 && d[0] == 0xff && d[1] == 0x4f && d[2] == 0xff && d[3] == 0x51)
    *format = OPJ_CODEC_J2K;
  else if (len >= 12 && memcmp (d, jp2_sig, 12) == 0)
    *format = OPJ_CODEC_JP2;
  else
    return FALSE;
  return TRUE;
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

// Reads the SIZ marker before OpenJPEG does: its header reading allocates a structure for
// every tile, so a 200-byte codestream declaring tens of thousands of tiles cost seconds
// and hundreds of MB before any check (fuzz/README.md, finding 9). The image size and
// component count must be the DICOM header's and the tiles at most PX_J2K_MAX_TILES. A
// codestream without a readable SIZ is left to OpenJPEG, which refuses it.
#define PX_J2K_MAX_TILES 4096

static gboolean
check_siz (const char *path, const guint8 *d, gsize len, const PxJ2kFrame *f, GError **error)
{
  const guint8 *s = NULL;

  for (gsize i = 0; i + 42 <= len && i < 4096; i++)
    if (d[i] == 0xff && d[i + 1] == 0x4f && d[i + 2] == 0xff && d[i + 3] == 0x51)
      {
        s = d + i;
        break;
      }
  if (s == NULL)
    return TRUE;
  guint32 x1 = be32 (s + 8), y1 = be32 (s + 12), x0 = be32 (s + 16), y0 = be32 (s + 20);
  guint32 tw = be32 (s + 24), th = be32 (s + 28), tx0 = be32 (s + 32), ty0 = be32 (s + 36);
  guint nc = (guint) (s[40] << 8 | s[41]);
  if (x1 <= x0 || y1 <= y0 || x1 - x0 != (guint32) f->width || y1 - y0 != (guint32) f->height
      || nc != (guint) f->samples)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "the JPEG 2000 codestream holds %" G_GINT64_FORMAT "×%"
                          G_GINT64_FORMAT " pixels with %u component(s), the DICOM header "
                          "declares %d×%d with %d", (gint64) x1 - x0, (gint64) y1 - y0, nc,
                          f->width, f->height, f->samples);
      return FALSE;
    }
  if (tw == 0 || th == 0 || tx0 > x0 || ty0 > y0)
    return TRUE; // invalid tiling: OpenJPEG's own check names it
  guint64 tiles = ((guint64) x1 - tx0 + tw - 1) / tw * (((guint64) y1 - ty0 + th - 1) / th);
  if (tiles > PX_J2K_MAX_TILES)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_UNSUPPORTED, path,
                          "the JPEG 2000 codestream is cut into %" G_GUINT64_FORMAT
                          " tiles of %u×%u pixels (at most %d are accepted)", tiles, tw, th,
                          PX_J2K_MAX_TILES);
      return FALSE;
    }
  return TRUE;
}

// The header must describe exactly the frame the DICOM header declares.
static gboolean
check_header (const char *path, const opj_image_t *im, const PxJ2kFrame *f, GError **error)
{
  guint64 w = (guint64) im->x1 - im->x0, h = (guint64) im->y1 - im->y0;

  if (im->x1 < im->x0 || im->y1 < im->y0 || w != (guint64) f->width
      || h != (guint64) f->height || im->numcomps != (OPJ_UINT32) f->samples)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "the JPEG 2000 codestream holds %" G_GUINT64_FORMAT "×%"
                          G_GUINT64_FORMAT " pixels with %u component(s), the DICOM header "
                          "declares %d×%d with %d", w, h, im->numcomps, f->width, f->height,
                          f->samples);
      return FALSE;
    }
  for (OPJ_UINT32 c = 0; c < im->numcomps; c++)
    {
      const opj_image_comp_t *comp = &im->comps[c];
      if (comp->dx != 1 || comp->dy != 1 || comp->w != w || comp->h != h)
        {
          px_image_set_error (error, PX_IMAGE_ERROR_UNSUPPORTED, path,
                              "JPEG 2000 component %u is subsampled (%u×%u); DICOM "
                              "pixel data cannot hold it", c, comp->dx, comp->dy);
          return FALSE;
        }
      if (comp->prec < 1 || comp->prec > (OPJ_UINT32) f->bits_allocated)
        {
          px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                              "JPEG 2000 component %u has %u-bit samples, the DICOM "
                              "header allocates %d bits", c, comp->prec, f->bits_allocated);
          return FALSE;
        }
    }
  return TRUE;
}

// Interleaves the decoded components into the DICOM sample width.
static guint8 *
interleave (const opj_image_t *im, const PxJ2kFrame *f, gsize *out_len)
{
  gsize n = (gsize) f->width * (gsize) f->height, ns = (gsize) f->samples;
  gsize bytes = n * ns * (f->bits_allocated == 8 ? 1 : 2);
  guint8 *out = g_try_malloc (bytes);

  if (out == NULL)
    return NULL;
  for (gsize c = 0; c < ns; c++)
    {
      const OPJ_INT32 *src = im->comps[c].data;
      if (f->bits_allocated == 8)
        for (gsize i = 0; i < n; i++)
          out[i * ns + c] = (guint8) (guint32) src[i];
      else
        {
          guint16 *o = (guint16 *) out;
          for (gsize i = 0; i < n; i++)
            o[i * ns + c] = (guint16) (guint32) src[i];
        }
    }
  *out_len = bytes;
  return out;
}

guint8 *
px_j2k_decode (const char *path, const guint8 *data, gsize len, const PxJ2kFrame *frame,
               gsize *out_len, gboolean *mct, GError **error)
{
  OPJ_CODEC_FORMAT format;
  opj_dparameters_t params;
  opj_codec_t *codec = NULL;
  opj_stream_t *stream = NULL;
  opj_image_t *image = NULL;
  guint8 *out = NULL;
  J2kSource src = { data, len, 0 };
  g_autoptr (GString) why = g_string_new (NULL);

  *mct = FALSE;
  if (frame->bits_allocated != 8 && frame->bits_allocated != 16)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_UNSUPPORTED, path,
                          "JPEG 2000 pixel data with %d bits allocated is not supported "
                          "(8 or 16)", frame->bits_allocated);
      return NULL;
    }
  if (!codec_format (data, len, &format))
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "the JPEG 2000 pixel data starts with neither a codestream "
                          "(SOC, SIZ markers) nor a JP2 signature");
      return NULL;
    }

  if (!check_siz (path, data, len, frame, error))
    return NULL;

  codec = opj_create_decompress (format);
  stream = opj_stream_create (64 * 1024, OPJ_TRUE);
  if (codec == NULL || stream == NULL)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_TOO_LARGE, path,
                          "out of memory for the JPEG 2000 decoder");
      goto out;
    }
  opj_set_error_handler (codec, on_error, why);
  opj_set_warning_handler (codec, on_quiet, NULL);
  opj_set_info_handler (codec, on_quiet, NULL);
  opj_stream_set_user_data (stream, &src, NULL);
  opj_stream_set_user_data_length (stream, len);
  opj_stream_set_read_function (stream, source_read);
  opj_stream_set_skip_function (stream, source_skip);
  opj_stream_set_seek_function (stream, source_seek);
  opj_set_default_decoder_parameters (&params);

  if (!opj_setup_decoder (codec, &params) || !opj_decoder_set_strict_mode (codec, OPJ_TRUE)
      || !opj_read_header (stream, codec, &image) || image == NULL)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "cannot read the JPEG 2000 header: %s",
                          why->len ? why->str : "OpenJPEG gave no reason");
      goto out;
    }
  if (!check_header (path, image, frame, error))
    goto out;
  if (!opj_decode (codec, stream, image) || !opj_end_decompress (codec, stream))
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "cannot decode the JPEG 2000 codestream: %s",
                          why->len ? why->str : "OpenJPEG gave no reason");
      goto out;
    }
  // OpenJPEG may keep the header's description if decoding produced nothing.
  for (OPJ_UINT32 c = 0; c < image->numcomps; c++)
    if (image->comps[c].data == NULL)
      {
        px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                            "the JPEG 2000 codestream decoded to no data for component %u",
                            c);
        goto out;
      }
  {
    opj_codestream_info_v2_t *info = opj_get_cstr_info (codec);
    if (info != NULL)
      *mct = info->m_default_tile_info.mct != 0;
    opj_destroy_cstr_info (&info);
  }
  out = interleave (image, frame, out_len);
  if (out == NULL)
    px_image_set_error (error, PX_IMAGE_ERROR_TOO_LARGE, path,
                        "out of memory for %d×%d decoded pixels", frame->width,
                        frame->height);

out:
  if (image)
    opj_image_destroy (image);
  if (stream)
    opj_stream_destroy (stream);
  if (codec)
    opj_destroy_codec (codec);
  return out;
}
