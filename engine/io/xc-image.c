/* SPDX-License-Identifier: MIT
 *
 * Decoding with gdk-pixbuf (whatever loaders are installed: PNG, JPEG with
 * its EXIF orientation applied, BMP, TIFF, GIF, WebP ...). Gray images are
 * kept gray until the model's channels are known: gray to RGB replicates,
 * RGB to gray is ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B); alpha is
 * dropped. Resizing is bilinear with half-pixel centres and no antialiasing,
 * as tf.image.resize(method="bilinear") does: source coordinate
 * (dst + 0.5) * in / out - 0.5, clamped at the borders.
 */
#define G_LOG_DOMAIN "xc-image"

#include <math.h>
#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "xc-error.h"
#include "xc-image.h"

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
  g_free (image);
}

/**
 * xc_image_load:
 *
 * Returns: (transfer full): the decoded image, gray if every pixel has
 *   R = G = B, or %NULL with @error (missing file, not an image, over 100
 *   megapixels)
 */
XcImage *
xc_image_load (const char *path, GError **error)
{
  g_autoptr(GdkPixbuf) raw = NULL;
  g_autoptr(GdkPixbuf) pb = NULL;
  g_autoptr(GError) local = NULL;
  int w = 0, h = 0, n_ch, stride;
  const guchar *px;
  gboolean gray = TRUE;
  XcImage *image;
  GdkPixbufFormat *fmt;
  g_autofree char *fmt_name = NULL;

  if (g_str_has_prefix (path, "resource://"))
    {
      /* an embedded sample image */
      raw = gdk_pixbuf_new_from_resource (path + strlen ("resource://"), &local);
      if (raw == NULL)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", path, local->message);
          return NULL;
        }
      w = gdk_pixbuf_get_width (raw), h = gdk_pixbuf_get_height (raw);
    }
  else if (!xc_check_user_file (path, "an image", error))
    return NULL;
  else if ((fmt = gdk_pixbuf_get_file_info (path, &w, &h)) == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                   "%s: not an image in a format gdk-pixbuf can read", path);
      return NULL;
    }
  else if ((fmt_name = gdk_pixbuf_format_get_name (fmt)) != NULL &&
           g_str_equal (fmt_name, "svg") && g_getenv ("XCEPTION_ALLOW_SVG") == NULL)
    {
      /* an SVG is a program for librsvg: entity expansion and huge
       * renderings cost unbounded memory */
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: SVG input is refused (it can "
                   "expand without bound); convert it to PNG, or pass --allow-svg", path);
      return NULL;
    }
  if (w <= 0 || h <= 0 || (guint64) w * h > XC_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "%s: %d x %d pixels is over the 100-megapixel limit", path, w, h);
      return NULL;
    }
  if (raw == NULL)
    raw = gdk_pixbuf_new_from_file (path, &local);
  if (raw == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: cannot decode the image: %s", path,
                   local->message);
      return NULL;
    }
  pb = gdk_pixbuf_apply_embedded_orientation (raw);
  w = gdk_pixbuf_get_width (pb);
  h = gdk_pixbuf_get_height (pb);
  n_ch = gdk_pixbuf_get_n_channels (pb);
  stride = gdk_pixbuf_get_rowstride (pb);
  px = gdk_pixbuf_read_pixels (pb);
  if (gdk_pixbuf_get_bits_per_sample (pb) != 8 || n_ch < 3)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: unsupported pixel layout", path);
      return NULL;
    }

  for (int y = 0; y < h && gray; y++)
    for (int x = 0; x < w; x++)
      {
        const guchar *p = px + (size_t) y * stride + (size_t) x * n_ch;
        if (p[0] != p[1] || p[1] != p[2])
          {
            gray = FALSE;
            break;
          }
      }
  image = xc_image_new (h, w, gray ? 1 : 3);
  if (image == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory", path);
      return NULL;
    }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guchar *p = px + (size_t) y * stride + (size_t) x * n_ch;
        float *d = image->data + ((size_t) y * w + x) * image->c;
        for (int k = 0; k < image->c; k++)
          d[k] = p[k];
      }
  return image;
}

/* Bilinear, half-pixel centres (see the top of this file); same channels */
void
xc_image_resize (const XcImage *src, XcImage *dst)
{
  int c = src->c;
  double sy = (double) src->h / dst->h, sx = (double) src->w / dst->w;

  g_return_if_fail (src->c == dst->c);
  for (int y = 0; y < dst->h; y++)
    {
      double fy = MAX ((y + 0.5) * sy - 0.5, 0.0);
      int y0 = MIN ((int) fy, src->h - 1), y1 = MIN (y0 + 1, src->h - 1);
      float wy = (float) (fy - y0);
      for (int x = 0; x < dst->w; x++)
        {
          double fx = MAX ((x + 0.5) * sx - 0.5, 0.0);
          int x0 = MIN ((int) fx, src->w - 1), x1 = MIN (x0 + 1, src->w - 1);
          float wx = (float) (fx - x0);
          const float *a = src->data + ((size_t) y0 * src->w + x0) * c;
          const float *b = src->data + ((size_t) y0 * src->w + x1) * c;
          const float *e = src->data + ((size_t) y1 * src->w + x0) * c;
          const float *f = src->data + ((size_t) y1 * src->w + x1) * c;
          float *d = dst->data + ((size_t) y * dst->w + x) * c;
          for (int k = 0; k < c; k++)
            {
              float top = a[k] + (b[k] - a[k]) * wx;
              float bot = e[k] + (f[k] - e[k]) * wx;
              d[k] = top + (bot - top) * wy;
            }
        }
    }
}

/* In place on (pixels, c) values in [0, 255] */
void
xc_preprocess (XcPreprocess mode, float *x, size_t pixels, int c)
{
  static const float caffe_bgr_mean[3] = { 103.939f, 116.779f, 123.68f };
  static const float torch_mean[3] = { 0.485f, 0.456f, 0.406f };
  static const float torch_std[3] = { 0.229f, 0.224f, 0.225f };

  for (size_t p = 0; p < pixels; p++)
    {
      float *v = x + p * c;
      switch (mode)
        {
        case XC_PREPROCESS_TF:
          for (int k = 0; k < c; k++)
            v[k] = v[k] / 127.5f - 1.0f;
          break;
        case XC_PREPROCESS_UNIT:
          for (int k = 0; k < c; k++)
            v[k] = v[k] / 255.0f;
          break;
        case XC_PREPROCESS_CAFFE:
          if (c == 3)
            {
              float r = v[0];
              v[0] = v[2] - caffe_bgr_mean[0];
              v[1] = v[1] - caffe_bgr_mean[1];
              v[2] = r - caffe_bgr_mean[2];
            }
          else
            for (int k = 0; k < c; k++)
              v[k] -= (caffe_bgr_mean[0] + caffe_bgr_mean[1] + caffe_bgr_mean[2]) / 3;
          break;
        case XC_PREPROCESS_TORCH:
          for (int k = 0; k < c; k++)
            {
              float m = c == 3 ? torch_mean[k] : 0.449f, s = c == 3 ? torch_std[k] : 0.226f;
              v[k] = (v[k] / 255.0f - m) / s;
            }
          break;
        }
    }
}

/**
 * xc_image_to_input:
 * @dst: (array): the model's input for one image, (H, W, C)
 *
 * Converts channels, resizes to the model's input and preprocesses.
 */
gboolean
xc_image_to_input (const XcImage *image, const XcModel *model, float *dst, GError **error)
{
  const XcNode *in = xc_model_input (model);
  g_autoptr(XcImage) conv = NULL;
  XcImage out = { dst, in->h, in->w, in->c };

  if (in->c != 1 && in->c != 3)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: images feed 1- or 3-channel inputs, this model takes %d channels",
                   model->name, in->c);
      return FALSE;
    }
  conv = xc_image_new (image->h, image->w, in->c);
  if (conv == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "out of memory converting the image");
      return FALSE;
    }
  for (size_t p = 0; p < (size_t) image->h * image->w; p++)
    {
      const float *s = image->data + p * image->c;
      float *d = conv->data + p * in->c;
      if (image->c == in->c)
        for (int k = 0; k < in->c; k++)
          d[k] = s[k];
      else if (in->c == 3)
        d[0] = d[1] = d[2] = s[0];
      else
        d[0] = 0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2];
    }
  if (conv->h == in->h && conv->w == in->w)
    memcpy (dst, conv->data, (size_t) in->h * in->w * in->c * sizeof (float));
  else
    xc_image_resize (conv, &out);
  xc_preprocess (model->preprocess, dst, (size_t) in->h * in->w, in->c);
  return TRUE;
}
