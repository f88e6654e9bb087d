// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-png: PNG decoding through libpng into a PxImage. Grey 1–16 bit is kept at its own
// precision (16-bit samples stay 0..65535), grey+alpha drops the alpha, RGB(A) becomes
// grey (exactly the common value when R = G = B, Rec. 601 luma otherwise), and palette
// images have their palette applied, so an inverted palette (the JSRT files) comes out
// the right way round. Dimensions are checked before any row buffer is allocated, and
// libpng errors come back through setjmp/longjmp as an error naming the file.
#include "px-image-private.h"

#include <png.h>
#include <setjmp.h>
#include <string.h>

// Deflate's largest possible expansion on decompression (258-byte matches in 2-bit codes).
#define PNG_MAX_DEFLATE_RATIO 1032u
// Largest ancillary chunk libpng may allocate (its documented default, 8 MB).
#define PNG_MAX_CHUNK_BYTES 8000000u

// Everything that must survive a longjmp lives here, on the heap, not in locals.
typedef struct {
  const char   *path;
  const guint8 *data;
  gsize         len;
  gsize         pos;
  char          message[256];
  guint8       *rows;      // decoded rows, contiguous
  png_bytep    *row_ptrs;
  PxImage      *image;
  int           file_depth; // bit depth in the file, before any transform
  int           color_type;
  gboolean ok;
} PngCtx;

static void
png_ctx_error (png_structp png, png_const_charp msg)
{
  PngCtx *ctx = png_get_error_ptr (png);

  g_strlcpy (ctx->message, msg ? msg : "libpng error", sizeof ctx->message);
  png_longjmp (png, 1);
}

static void
png_ctx_warning (png_structp png, png_const_charp msg)
{
  // Warnings (unknown chunks, bad ancillary CRCs) do not make an image unusable.
}

static void
png_ctx_read (png_structp png, png_bytep out, png_size_t n)
{
  PngCtx *ctx = png_get_io_ptr (png);

  if (n > ctx->len - ctx->pos)
    png_error (png, "unexpected end of file (truncated PNG)");
  memcpy (out, ctx->data + ctx->pos, n);
  ctx->pos += n;
}

static const char *
color_type_name (int color_type)
{
  switch (color_type)
    {
    case PNG_COLOR_TYPE_GRAY:
      return "grey";
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return "grey+alpha";
    case PNG_COLOR_TYPE_PALETTE:
      return "palette";
    case PNG_COLOR_TYPE_RGB:
      return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA:
      return "RGBA";
    default:
      return "unknown colour type";
    }
}

static inline float
rgb_to_grey (guint r, guint g, guint b)
{
  if (r == g && g == b)
    return (float) r;
  return 0.299f * (float) r + 0.587f * (float) g + 0.114f * (float) b;
}

// Turns the decoded rows (1 or 3 channels after the transforms, 8 or 16 bits) into floats.
static void
rows_to_pixels (PngCtx *ctx, int channels, int depth, gsize rowbytes)
{
  PxImage *image = ctx->image;

  for (int y = 0; y < image->height; y++)
    {
      const guint8 *row = ctx->rows + (gsize) y * rowbytes;
      float *out = image->pixels + (gsize) y * (gsize) image->width;

      for (int x = 0; x < image->width; x++)
        {
          guint v[3];
          for (int c = 0; c < channels; c++)
            {
              gsize k = (gsize) x * (gsize) channels + (gsize) c;
              v[c] = depth == 16 ? ((guint) row[2 * k] << 8) | row[2 * k + 1] : row[k];
            }
          out[x] = channels == 1 ? (float) v[0] : rgb_to_grey (v[0], v[1], v[2]);
        }
    }
}

// Frees the context and hands back its image if decoding completed, else NULL.
static PxImage *
png_ctx_finish (PngCtx *ctx)
{
  PxImage *image = ctx->image;

  if (!ctx->ok)
    g_clear_pointer (&image, px_image_free);
  g_free (ctx);
  return image;
}

PxImage *
px_png_load (const char *path, const guint8 *data, gsize len, GError **error)
{
  PngCtx *ctx;
  png_structp png;
  png_infop info = NULL;

  // Refuse absurd sizes straight from IHDR, before libpng reads (or needs) any more.
  if (len >= 24 && memcmp (data + 12, "IHDR", 4) == 0)
    {
      guint32 w = ((guint32) data[16] << 24) | (data[17] << 16) | (data[18] << 8) | data[19];
      guint32 h = ((guint32) data[20] << 24) | (data[21] << 16) | (data[22] << 8) | data[23];
      if (w > PX_IMAGE_MAX_SIDE || h > PX_IMAGE_MAX_SIDE
          || (guint64) w * h > (guint64) PX_IMAGE_MAX_PIXELS)
        {
          px_image_check_size (w, h, path, error);
          return NULL;
        }
    }

  ctx = g_new0 (PngCtx, 1);
  ctx->path = path;
  ctx->data = data;
  ctx->len = len;

  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, ctx, png_ctx_error, png_ctx_warning);
  if (png != NULL)
    info = png_create_info_struct (png);
  if (png == NULL || info == NULL)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path, "cannot initialise libpng");
      goto out;
    }

  if (setjmp (png_jmpbuf (png)))
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path, "corrupt PNG: %s",
                          ctx->message);
      goto out;
    }

  png_set_read_fn (png, ctx, png_ctx_read);
  // Our own limits are checked below with a clearer error; let libpng's be wider.
  png_set_user_limits (png, 0x7fffffff, 0x7fffffff);
  // A chunk's declared length is allocated before it is read, and libpng's default has
  // no bound: a 1.3 KB file with a zTXt chunk of 2 GB made it allocate 2 GB (found by
  // fuzz-png). Text, ICC profiles and suggested palettes are never used here, so skip
  // them unread, and bound what any other ancillary chunk may ask for.
  {
    static const png_byte unused[] = "tEXt\0zTXt\0iTXt\0iCCP\0sPLT\0eXIf\0";
    png_set_keep_unknown_chunks (png, PNG_HANDLE_CHUNK_NEVER, unused, 6);
    png_set_chunk_malloc_max (png, PNG_MAX_CHUNK_BYTES);
  }
  png_read_info (png, info);

  {
    png_uint_32 w = png_get_image_width (png, info);
    png_uint_32 h = png_get_image_height (png, info);
    int depth = png_get_bit_depth (png, info);
    int color_type = png_get_color_type (png, info);
    int channels;
    gsize rowbytes;

    if (!px_image_check_size (w, h, path, error))
      goto out;
    // The pixel rows are deflate-compressed, and deflate cannot shrink data more than
    // 1032:1, so a file too short to hold them is refused here, before gigabytes are
    // allocated for a header of a few bytes (a 16384² IHDR alone asks for 1.25 GB).
    {
      guint64 bits = (guint64) depth * png_get_channels (png, info);
      guint64 raw = (guint64) h * (((guint64) w * bits + 7) / 8);
      guint64 left = ctx->len - ctx->pos;
      if (raw > left * PNG_MAX_DEFLATE_RATIO + PNG_MAX_DEFLATE_RATIO)
        {
          px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                              "truncated PNG: %u×%u pixels need at least %" G_GUINT64_FORMAT
                              " bytes of compressed data, only %" G_GUINT64_FORMAT
                              " bytes follow the header", (guint) w, (guint) h,
                              raw / PNG_MAX_DEFLATE_RATIO, left);
          goto out;
        }
    }
    ctx->file_depth = depth;
    ctx->color_type = color_type;

    if (color_type == PNG_COLOR_TYPE_PALETTE)
      png_set_palette_to_rgb (png);
    if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8)
      png_set_expand_gray_1_2_4_to_8 (png);
    if (color_type & PNG_COLOR_MASK_ALPHA)
      png_set_strip_alpha (png);
    png_set_interlace_handling (png);
    png_read_update_info (png, info);

    channels = png_get_channels (png, info);
    depth = png_get_bit_depth (png, info);
    rowbytes = png_get_rowbytes (png, info);
    if ((channels != 1 && channels != 3) || (depth != 8 && depth != 16)
        || rowbytes < (gsize) w * (gsize) channels * (gsize) (depth / 8))
      {
        g_strlcpy (ctx->message, "unexpected layout after transforms", sizeof ctx->message);
        png_longjmp (png, 1);
      }

    ctx->image = px_image_new_sized (path, PX_FORMAT_PNG, w, h, error);
    if (ctx->image == NULL)
      goto out;
    ctx->rows = g_try_malloc ((gsize) h * rowbytes);
    ctx->row_ptrs = g_try_new (png_bytep, h);
    if (ctx->rows == NULL || ctx->row_ptrs == NULL)
      {
        px_image_set_error (error, PX_IMAGE_ERROR_TOO_LARGE, path, "out of memory");
        goto out;
      }
    for (png_uint_32 y = 0; y < h; y++)
      ctx->row_ptrs[y] = ctx->rows + (gsize) y * rowbytes;
    png_read_image (png, ctx->row_ptrs);
    png_read_end (png, NULL);

    rows_to_pixels (ctx, channels, depth, rowbytes);
    // Palette indices are not sample values: after the palette is applied they are 8-bit.
    ctx->image->bits_stored = ctx->color_type == PNG_COLOR_TYPE_PALETTE ? 8 : ctx->file_depth;
    ctx->image->bits_allocated = depth;
    ctx->image->photometric = g_strdup (
      ctx->color_type == PNG_COLOR_TYPE_PALETTE ? "PALETTE"
      : (ctx->color_type & PNG_COLOR_MASK_COLOR) ? "RGB" : "GRAY");
    ctx->image->format_detail = g_strdup_printf ("PNG %s %d-bit",
                                                 color_type_name (ctx->color_type),
                                                 ctx->file_depth);
    ctx->image->decoder = g_strdup_printf ("libpng %s", png_get_libpng_ver (NULL));
    px_image_update_range (ctx->image);
    ctx->ok = TRUE;
  }

out:
  png_destroy_read_struct (&png, info ? &info : NULL, NULL);
  g_free (ctx->rows);
  g_free (ctx->row_ptrs);
  return png_ctx_finish (ctx);
}
