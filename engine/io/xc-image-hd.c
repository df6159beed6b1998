/* SPDX-License-Identifier: MIT
 *
 * High-depth images at full depth: DICOM (xc-dicom.cc), 16-bit PNG
 * (libpng) and 16-bit TIFF (libtiff). gdk-pixbuf cuts these to 8 bits, so
 * they are read here and keep their values; xc-image.c windows them.
 * 8-bit PNG and TIFF stay on gdk-pixbuf's exact path.
 */
#define G_LOG_DOMAIN "xc-image"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <tiffio.h>

#include "xc-error.h"
#include "xc-memory.h"
#include "xc-image-hd.h"

XcImage *
xc_image_new (int h, int w, int c)
{
  XcImage *image = g_new0 (XcImage, 1);

  image->h = h, image->w = w, image->c = c;
  image->data = g_try_malloc ((size_t) h * w * c * sizeof (float));
  if (image->data == NULL)
    g_clear_pointer (&image, g_free);
  return image;
}

void
xc_image_free (XcImage *image)
{
  if (image == NULL)
    return;
  g_free (image->data);
  g_free (image->values);
  g_free (image->source);
  g_free (image);
}

/**
 * xc_image_copy:
 *
 * Returns: (transfer full) (nullable): a deep copy (data, values, source),
 *   or %NULL when out of memory
 */
XcImage *
xc_image_copy (const XcImage *src)
{
  size_t n = (size_t) src->h * src->w;
  XcImage *image = xc_image_new (src->h, src->w, src->c);

  if (image == NULL)
    return NULL;
  memcpy (image->data, src->data, n * src->c * sizeof (float));
  if (src->values != NULL)
    {
      if ((image->values = g_try_malloc (n * sizeof (float))) == NULL)
        {
          xc_image_free (image);
          return NULL;
        }
      memcpy (image->values, src->values, n * sizeof (float));
    }
  if (src->source != NULL)
    image->source = g_memdup2 (src->source, sizeof *src->source);
  return image;
}

/**
 * xc_image_high_depth_kind:
 *
 * Returns: 1 for DICOM, 2 for a 16-bit PNG, 3 for a 16-bit TIFF, 0 for
 *   anything else (gdk-pixbuf's)
 */
int
xc_image_high_depth_kind (const char *path)
{
  guint8 head[32] = { 0 };
  FILE *f;
  size_t n;

  if (xc_dicom_probe (path))
    return 1;
  if ((f = fopen (path, "rb")) == NULL)
    return 0;
  n = fread (head, 1, sizeof head, f);
  fclose (f);
  /* PNG signature, then IHDR: width, height, bit depth at byte 24 */
  if (n >= 26 && memcmp (head, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp (head + 12, "IHDR", 4) == 0)
    return head[24] == 16 ? 2 : 0;
  if (n >= 4 && (memcmp (head, "II*\0", 4) == 0 || memcmp (head, "MM\0*", 4) == 0))
    {
      TIFFOpenOptions *o = TIFFOpenOptionsAlloc ();
      TIFF *tif;
      guint16 bps = 0;
      int kind = 0;
      TIFFOpenOptionsSetErrorHandlerExtR (o, NULL, NULL);
      TIFFSetWarningHandler (NULL);
      TIFFSetErrorHandler (NULL);
      if ((tif = TIFFOpenExt (path, "r", o)) != NULL)
        {
          if (TIFFGetFieldDefaulted (tif, TIFFTAG_BITSPERSAMPLE, &bps) && bps == 16)
            kind = 3;
          TIFFClose (tif);
        }
      TIFFOpenOptionsFree (o);
      return kind;
    }
  return 0;
}

static XcImage *
new_high_depth (int h, int w, int c, const char *format, int bits, const char *path,
                GError **error)
{
  XcImage *image;

  if ((guint64) w * h > XC_IMAGE_MAX_PIXELS || w <= 0 || h <= 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "%s: %d x %d pixels is over the 100-megapixel limit", path, w, h);
      return NULL;
    }
  /* the image, its values and the decoder's buffers */
  if (!xc_memory_check ((guint64) w * h * (c + 1) * 4 * 2, path, error))
    return NULL;
  image = xc_image_new (h, w, c);
  if (image != NULL && c == 1 &&
      (image->values = g_try_malloc ((size_t) h * w * sizeof (float))) == NULL)
    g_clear_pointer (&image, xc_image_free);
  if (image == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory for %d x %d pixels",
                   path, w, h);
      return NULL;
    }
  image->source = g_new0 (XcImageSource, 1);
  g_strlcpy (image->source->format, format, sizeof image->source->format);
  image->source->bits = bits;
  return image;
}

/* Colour samples to [0, 255] intensities: x / full scale; 8-bit YBR_FULL
 * to RGB first, as PS3.3 C.7.6.3.1.2 and pydicom's convert_color_space do
 * (rounded, clipped to 0..255) */
static void
colour_from_samples (XcImage *image, const float *x, gboolean ybr, double full_scale)
{
  size_t n = (size_t) image->h * image->w;

  for (size_t p = 0; p < n; p++)
    {
      const float *s = x + 3 * p;
      float *d = image->data + 3 * p;
      if (ybr)
        {
          float y = s[0], cb = s[1] - 128.0f, cr = s[2] - 128.0f;
          float rgb[3] = {
            y + 1.402f * cr,
            y - (0.114f * 1.772f / 0.587f) * cb - (0.299f * 1.402f / 0.587f) * cr,
            y + 1.772f * cb,
          };
          for (int k = 0; k < 3; k++)
            d[k] = CLAMP (floorf (rgb[k] + 0.5f), 0.0f, 255.0f);
        }
      else
        for (int k = 0; k < 3; k++)
          d[k] = (float) (s[k] / full_scale * 255.0);
    }
}

XcImage *
xc_image_load_dicom (const char *path, const XcImageOptions *opt, GError **error)
{
  XcDicomInfo info;
  g_autofree float *values = NULL;
  gboolean ybr;
  XcImage *image;

  if (!xc_dicom_read (path, opt->frame, opt->keep_patient_data, &info, &values, error))
    return NULL;
  ybr = g_str_has_prefix (info.photometric, "YBR");
  if (info.samples == 3 && strcmp (info.photometric, "RGB") != 0 &&
      strcmp (info.photometric, "YBR_FULL") != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: colour in %s (RGB and YBR_FULL "
                   "are read)", path, info.photometric);
      return NULL;
    }
  if (ybr && info.bits_stored != 8)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: YBR_FULL with %d bits (8 are "
                   "read)", path, info.bits_stored);
      return NULL;
    }
  image = new_high_depth (info.rows, info.cols, info.samples, "DICOM", info.bits_stored, path,
                          error);
  if (image == NULL)
    return NULL;
  image->source->is_dicom = TRUE;
  image->source->dicom = info;
  image->source->inverted = strcmp (info.photometric, "MONOCHROME1") == 0;
  if (info.samples == 1)
    memcpy (image->values, values, (size_t) info.rows * info.cols * sizeof (float));
  else
    colour_from_samples (image, values, ybr, ldexp (1.0, info.bits_stored) - 1.0);
  return image;
}

typedef struct {
  jmp_buf jmp;
  char    message[200];
} PngError;

static void
on_png_error (png_structp png, png_const_charp msg)
{
  PngError *e = png_get_error_ptr (png);

  g_strlcpy (e->message, msg, sizeof e->message);
  longjmp (e->jmp, 1);
}

static void
on_png_warning (png_structp png, png_const_charp msg)
{
}

/* libpng's setjmp rules: everything changed after setjmp and read after a
 * longjmp is volatile */
XcImage *
xc_image_load_png16 (const char *path, GError **error)
{
  FILE *volatile f = NULL;
  png_structp png = NULL;
  png_infop info = NULL;
  XcImage *volatile image = NULL;
  guint16 *volatile rows = NULL;
  png_bytep *volatile row_ptrs = NULL;
  PngError e = { .message = "" };
  png_uint_32 w, h;
  int depth, type, c, channels;

  if ((f = fopen (path, "rb")) == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot open", path);
      return NULL;
    }
  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &e, on_png_error, on_png_warning);
  info = png ? png_create_info_struct (png) : NULL;
  if (info == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory", path);
      goto out;
    }
  if (setjmp (e.jmp))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: cannot decode the 16-bit PNG: %s",
                   path, e.message);
      g_clear_pointer ((XcImage **) &image, xc_image_free);
      goto out;
    }
  png_init_io (png, f);
  png_set_user_limits (png, 0x7fffffff, 0x7fffffff);
  png_read_info (png, info);
  png_get_IHDR (png, info, &w, &h, &depth, &type, NULL, NULL, NULL);
  if (depth != 16 || (guint64) w * h > XC_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, depth != 16 ? "%s: not a 16-bit PNG"
                   : "%s: %u x %u pixels is over the 100-megapixel limit", path, w, h);
      goto out;
    }
  /* gray (+alpha) stays gray, RGB (+alpha) stays RGB; alpha is dropped
   * after reading; big-endian samples are swapped to host order */
  png_set_interlace_handling (png);
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    png_set_swap (png);
  png_read_update_info (png, info);
  channels = png_get_channels (png, info);
  c = (type & PNG_COLOR_MASK_COLOR) ? 3 : 1;
  image = new_high_depth (h, w, c, "PNG 16-bit", 16, path, error);
  if (image == NULL)
    goto out;
  rows = g_try_malloc ((size_t) w * h * channels * sizeof (guint16));
  row_ptrs = g_try_malloc ((size_t) h * sizeof (png_bytep));
  if (rows == NULL || row_ptrs == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory", path);
      g_clear_pointer ((XcImage **) &image, xc_image_free);
      goto out;
    }
  for (png_uint_32 y = 0; y < h; y++)
    row_ptrs[y] = (png_bytep) (rows + (size_t) y * w * channels);
  png_read_image (png, row_ptrs);
  for (size_t p = 0; p < (size_t) w * h; p++)
    {
      const guint16 *s = rows + p * channels;
      if (c == 1)
        image->values[p] = s[0];
      else
        for (int k = 0; k < 3; k++)
          image->data[3 * p + k] = (float) (s[k] / 65535.0 * 255.0);
    }
  image->source->lo = 0, image->source->full_scale = 65535;
out:
  if (png)
    png_destroy_read_struct (&png, info ? &info : NULL, NULL);
  g_free (rows);
  g_free (row_ptrs);
  fclose (f);
  return image;
}

static int
on_tiff_error (TIFF *tif, void *user_data, const char *module, const char *fmt, va_list ap)
{
  char *msg = user_data;

  if (msg[0] == '\0')
    g_vsnprintf (msg, 200, fmt, ap);
  return 1;
}

XcImage *
xc_image_load_tiff16 (const char *path, GError **error)
{
  char msg[200] = "";
  TIFFOpenOptions *o = TIFFOpenOptionsAlloc ();
  TIFF *tif;
  guint32 w = 0, h = 0;
  guint16 bps = 0, spp = 1, photometric = 0, planar = 1, format = 1;
  g_autofree guint16 *line = NULL;
  XcImage *image = NULL;
  int c;

  TIFFOpenOptionsSetErrorHandlerExtR (o, on_tiff_error, msg);
  TIFFOpenOptionsSetWarningHandlerExtR (o, on_tiff_error, msg);
  TIFFOpenOptionsSetMaxSingleMemAlloc (o, (tmsize_t) 1 << 30);
  tif = TIFFOpenExt (path, "r", o);
  TIFFOpenOptionsFree (o);
  if (tif == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: cannot open the TIFF: %s", path, msg);
      return NULL;
    }
  TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &h);
  TIFFGetFieldDefaulted (tif, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted (tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLEFORMAT, &format);
  if (!TIFFGetField (tif, TIFFTAG_PHOTOMETRIC, &photometric))
    photometric = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  c = photometric == PHOTOMETRIC_RGB ? 3 : 1;
  if (bps != 16 || format != SAMPLEFORMAT_UINT || planar != PLANARCONFIG_CONTIG ||
      TIFFIsTiled (tif) || spp < c || spp > 4 ||
      (photometric != PHOTOMETRIC_RGB && photometric != PHOTOMETRIC_MINISBLACK &&
       photometric != PHOTOMETRIC_MINISWHITE))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: a 16-bit TIFF with %u samples, "
                   "photometric %u, sample format %u, %s%s (read: unsigned gray or RGB in strips, "
                   "samples interleaved)", path, spp, photometric, format,
                   TIFFIsTiled (tif) ? "tiles" : "strips",
                   planar != PLANARCONFIG_CONTIG ? ", separate planes" : "");
      goto out;
    }
  image = new_high_depth (h, w, c, "TIFF 16-bit", 16, path, error);
  if (image == NULL)
    goto out;
  image->source->inverted = photometric == PHOTOMETRIC_MINISWHITE;
  image->source->lo = 0, image->source->full_scale = 65535;
  line = g_try_malloc (MAX ((size_t) TIFFScanlineSize (tif), (size_t) w * spp * 2));
  if (line == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory", path);
      g_clear_pointer (&image, xc_image_free);
      goto out;
    }
  for (guint32 y = 0; y < h; y++)
    {
      if (TIFFReadScanline (tif, line, y, 0) < 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: cannot read row %u: %s", path, y,
                       msg);
          g_clear_pointer (&image, xc_image_free);
          goto out;
        }
      for (guint32 x = 0; x < w; x++)
        {
          size_t p = (size_t) y * w + x;
          if (c == 1)
            image->values[p] = line[(size_t) x * spp];
          else
            for (int k = 0; k < 3; k++)
              image->data[3 * p + k] = (float) (line[(size_t) x * spp + k] / 65535.0 * 255.0);
        }
    }
out:
  TIFFClose (tif);
  return image;
}
