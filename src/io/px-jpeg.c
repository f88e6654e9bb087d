// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-jpeg: JPEG decoding through libjpeg(-turbo) into a PxImage. Grey files decode as is;
// colour files are decoded straight to grey (libjpeg keeps the luma channel). The library's
// error_exit is replaced by a longjmp back here, and its "corrupt data" warnings (which
// otherwise pad a truncated image with grey) are turned into errors, so a damaged file is
// reported with its name and never exits the process.
#include "px-image-private.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf               jump;
  char                  message[JMSG_LENGTH_MAX];
  gboolean              warned;
} JpegErr;

// State that must survive a longjmp lives on the heap.
typedef struct {
  struct jpeg_decompress_struct cinfo;
  JpegErr   err;
  PxImage  *image;
  JSAMPLE  *row;
  gboolean ok;
} JpegCtx;

static void
jpeg_ctx_error_exit (j_common_ptr cinfo)
{
  JpegErr *err = (JpegErr *) cinfo->err;

  err->pub.format_message (cinfo, err->message);
  longjmp (err->jump, 1);
}

static void
jpeg_ctx_emit_message (j_common_ptr cinfo, int level)
{
  JpegErr *err = (JpegErr *) cinfo->err;

  // Level -1 is a warning about corrupt data (premature end, bad Huffman code…): keep the
  // first one, the image is refused after decoding.
  if (level < 0 && !err->warned)
    {
      err->pub.format_message (cinfo, err->message);
      err->warned = TRUE;
    }
}

static const char *
jpeg_process_name (const struct jpeg_decompress_struct *cinfo)
{
  if (cinfo->progressive_mode)
    return "progressive";
  if (cinfo->arith_code)
    return "arithmetic";
  return "baseline/extended";
}

// Frees the context and hands back its image if decoding completed, else NULL.
static PxImage *
jpeg_ctx_finish (JpegCtx *ctx)
{
  PxImage *image = ctx->image;

  if (!ctx->ok)
    g_clear_pointer (&image, px_image_free);
  g_free (ctx);
  return image;
}

PxImage *
px_jpeg_load (const char *path, const guint8 *data, gsize len, GError **error)
{
  JpegCtx *ctx = g_new0 (JpegCtx, 1);

  ctx->cinfo.err = jpeg_std_error (&ctx->err.pub);
  ctx->err.pub.error_exit = jpeg_ctx_error_exit;
  ctx->err.pub.emit_message = jpeg_ctx_emit_message;
  if (setjmp (ctx->err.jump))
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path, "corrupt JPEG: %s",
                          ctx->err.message);
      goto out;
    }
  jpeg_create_decompress (&ctx->cinfo);
  jpeg_mem_src (&ctx->cinfo, data, (unsigned long) len);
  jpeg_read_header (&ctx->cinfo, TRUE);

  if (!px_image_check_size (ctx->cinfo.image_width, ctx->cinfo.image_height, path, error))
    goto out;
  if (ctx->cinfo.jpeg_color_space == JCS_CMYK || ctx->cinfo.jpeg_color_space == JCS_YCCK)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_UNSUPPORTED, path,
                          "CMYK JPEG is not a radiograph colour space");
      goto out;
    }
  ctx->cinfo.out_color_space = JCS_GRAYSCALE;
  jpeg_start_decompress (&ctx->cinfo);
  // A corrupt-data warning refuses the image, so stop at the first one instead of letting
  // libjpeg pad the rest: a 100-byte file declaring 16385×7171 pixels otherwise costs a
  // full decode of grey padding (found by fuzz-jpeg as a 12 s timeout).
  if (ctx->err.warned)
    goto corrupt;
  if (ctx->cinfo.output_components != 1)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_UNSUPPORTED, path,
                          "cannot convert %d JPEG components to grey",
                          ctx->cinfo.output_components);
      goto out;
    }

  ctx->image = px_image_new_sized (path, PX_FORMAT_JPEG, ctx->cinfo.output_width,
                                   ctx->cinfo.output_height, error);
  if (ctx->image == NULL)
    goto out;
  ctx->row = g_malloc (ctx->cinfo.output_width);
  while (ctx->cinfo.output_scanline < ctx->cinfo.output_height)
    {
      JSAMPROW rows[1] = { ctx->row };
      JDIMENSION y = ctx->cinfo.output_scanline;
      float *out = ctx->image->pixels + (gsize) y * ctx->cinfo.output_width;

      if (jpeg_read_scanlines (&ctx->cinfo, rows, 1) != 1 || ctx->err.warned)
        break;
      for (JDIMENSION x = 0; x < ctx->cinfo.output_width; x++)
        out[x] = (float) ctx->row[x];
    }
  if (ctx->err.warned)
    goto corrupt;
  jpeg_finish_decompress (&ctx->cinfo);
  if (ctx->err.warned)
    goto corrupt;

  ctx->image->bits_stored = ctx->cinfo.data_precision;
  ctx->image->bits_allocated = 8;
  ctx->image->photometric = g_strdup (ctx->cinfo.num_components == 1 ? "GRAY" : "YBR");
  ctx->image->format_detail = g_strdup_printf ("JPEG %s, %s", jpeg_process_name (&ctx->cinfo),
                                               ctx->cinfo.num_components == 1
                                                 ? "grey" : "colour converted to grey");
  ctx->image->decoder = g_strdup ("libjpeg-turbo (libjpeg API " G_STRINGIFY (JPEG_LIB_VERSION) ")");
  px_image_update_range (ctx->image);
  ctx->ok = TRUE;
  goto out;

corrupt:
  px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path, "corrupt JPEG data: %s",
                      ctx->err.message);
out:
  jpeg_destroy_decompress (&ctx->cinfo);
  g_free (ctx->row);
  return jpeg_ctx_finish (ctx);
}
