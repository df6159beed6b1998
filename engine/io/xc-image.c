/* SPDX-License-Identifier: MIT
 *
 * Decoding with gdk-pixbuf (whatever loaders are installed: PNG, JPEG with
 * its EXIF orientation applied, BMP, TIFF, GIF, WebP ...). Gray images are
 * kept gray until the model's channels are known: gray to RGB replicates,
 * RGB to gray is ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B); alpha is
 * dropped. Resizing is bilinear with half-pixel centres and no antialiasing,
 * as tf.image.resize(method="bilinear") does: source coordinate
 * (dst + 0.5) * in / out - 0.5, clamped at the borders.
 *
 * High-depth images (DICOM, 16-bit PNG and TIFF; xc-image-hd.c) keep their
 * values and are mapped to intensities here, in this order:
 *   DICOM: modality values m = RescaleSlope * stored + RescaleIntercept;
 *   VOI: the user's window, else the file's first window, else min-max of
 *   m over the frame (16-bit PNG/TIFF: v = x / 65535 unless a window is
 *   given), with the VOI LUT function of PS3.3 C.11.2.1.2 (LINEAR unless
 *   the file says LINEAR_EXACT or SIGMOID), v in [0, 1], never rounded;
 *   MONOCHROME1 (and TIFF min-is-white) gives 1 - v; the image holds
 *   v * 255, so a model's preprocessing sees the intensity v * 255.
 */
#define G_LOG_DOMAIN "xc-image"

#include <math.h>
#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "xc-error.h"
#include "xc-memory.h"
#include "xc-image.h"

const XcWindowPreset xc_ct_window_presets[4] = {
  { "Lung", -600, 1500 },
  { "Mediastinum", 50, 350 },
  { "Bone", 400, 1800 },
  { "Brain", 40, 80 },
};

/* The VOI LUT functions of PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.1
 * (SIGMOID) and C.11.2.1.3.2 (LINEAR_EXACT), with output range [0, 1] */
static inline double
voi (double x, double c, double w, int function)
{
  switch (function)
    {
    case 1:  /* LINEAR_EXACT */
      if (x <= c - w / 2)
        return 0.0;
      if (x > c + w / 2)
        return 1.0;
      return (x - c) / w + 0.5;
    case 2:  /* SIGMOID */
      return 1.0 / (1.0 + exp (-4.0 * (x - c) / w));
    default: /* LINEAR */
      if (x <= c - 0.5 - (w - 1) / 2)
        return 0.0;
      if (x > c - 0.5 + (w - 1) / 2)
        return 1.0;
      return (x - (c - 0.5)) / (w - 1) + 0.5;
    }
}

/* data = 255 * v(values) for a gray high-depth image */
static void
apply_window (XcImage *image)
{
  const XcImageSource *s = image->source;
  size_t n = (size_t) image->h * image->w;
  int function = 0;

  if (s->is_dicom && strcmp (s->dicom.voi_lut_function, "LINEAR_EXACT") == 0)
    function = 1;
  else if (s->is_dicom && strcmp (s->dicom.voi_lut_function, "SIGMOID") == 0)
    function = 2;
  for (size_t p = 0; p < n; p++)
    {
      double x = image->values[p], v;
      if (s->windowed)
        v = voi (x, s->center, s->width, function);
      else
        v = s->full_scale > 0 ? (x - s->lo) / s->full_scale : 0.0;
      if (s->inverted)
        v = 1.0 - v;
      image->data[p] = (float) (v * 255.0);
    }
}

/**
 * xc_image_set_window:
 * @source: (nullable): where the window comes from, for display
 *
 * Re-maps a gray high-depth image through the window (@center, @width) in
 * the units of its values (Hounsfield units for CT).
 *
 * Returns: %FALSE with @error for an 8-bit or colour image, or a width
 *   under 1
 */
gboolean
xc_image_set_window (XcImage *image, double center, double width, const char *source,
                     GError **error)
{
  if (image->values == NULL || image->source == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "a window applies to gray DICOM and "
                   "16-bit images; this image is %s", image->c == 3 ? "in colour" : "8-bit");
      return FALSE;
    }
  if (!isfinite (center) || !isfinite (width) || width < 1.0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "window %g,%g: the width must be at "
                   "least 1 and both numbers finite", center, width);
      return FALSE;
    }
  image->source->windowed = TRUE;
  image->source->center = center, image->source->width = width;
  g_strlcpy (image->source->window_source, source ? source : "user",
             sizeof image->source->window_source);
  apply_window (image);
  return TRUE;
}

/**
 * xc_image_reset_window:
 *
 * Back to the default mapping: the file's first window, else min-max over
 * the frame for DICOM, x / full scale for 16-bit PNG and TIFF.
 */
void
xc_image_reset_window (XcImage *image)
{
  XcImageSource *s = image->source;

  if (image->values == NULL || s == NULL)
    return;
  s->windowed = FALSE;
  if (s->is_dicom && s->dicom.n_windows > 0)
    {
      s->windowed = TRUE;
      s->center = s->dicom.window_center[0], s->width = s->dicom.window_width[0];
      g_snprintf (s->window_source, sizeof s->window_source, "file%s%s",
                  s->dicom.window_name[0][0] ? ": " : "", s->dicom.window_name[0]);
    }
  else if (s->is_dicom)
    {
      s->lo = s->min, s->full_scale = s->max - s->min;
      s->center = (s->max + s->min) / 2, s->width = s->max - s->min;
      g_strlcpy (s->window_source, "min-max of the frame", sizeof s->window_source);
    }
  else
    {
      s->center = s->lo + s->full_scale / 2, s->width = s->full_scale;
      g_strlcpy (s->window_source, "full range", sizeof s->window_source);
    }
  apply_window (image);
}

/**
 * xc_parse_window:
 *
 * Parses "CENTER,WIDTH" as given to --window.
 */
gboolean
xc_parse_window (const char *text, double *center, double *width, GError **error)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  char *end0 = NULL, *end1 = NULL;

  if (g_strv_length (parts) == 2)
    {
      *center = g_ascii_strtod (parts[0], &end0);
      *width = g_ascii_strtod (parts[1], &end1);
    }
  if (g_strv_length (parts) != 2 || end0 == parts[0] || *end0 || end1 == parts[1] || *end1 ||
      !isfinite (*center) || !isfinite (*width) || *width < 1.0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--window '%s': expected CENTER,WIDTH "
                   "with finite numbers and a width of at least 1 (e.g. -600,1500)", text);
      return FALSE;
    }
  return TRUE;
}

/**
 * xc_image_describe:
 *
 * Returns: (transfer full): one line on where the image came from: format,
 *   size, bits, photometric interpretation, modality and the window in use
 */
char *
xc_image_describe (const XcImage *image)
{
  const XcImageSource *s = image->source;
  GString *out = g_string_new (NULL);

  if (s == NULL)
    {
      g_string_append_printf (out, "%d x %d, 8-bit %s", image->w, image->h,
                              image->c == 1 ? "gray" : "colour");
      return g_string_free (out, FALSE);
    }
  g_string_append_printf (out, "%s, %d x %d, %d-bit", s->format, image->w, image->h, s->bits);
  if (s->is_dicom)
    {
      g_string_append_printf (out, " %s", s->dicom.photometric);
      if (s->dicom.modality[0])
        g_string_append_printf (out, ", %s", s->dicom.modality);
      if (s->dicom.body_part[0])
        g_string_append_printf (out, " %s", s->dicom.body_part);
      if (s->dicom.frames > 1)
        g_string_append_printf (out, ", frame %d of %d", s->dicom.frame, s->dicom.frames);
    }
  else
    g_string_append (out, image->c == 1 ? (s->inverted ? " min-is-white" : " gray") : " colour");
  if (image->values != NULL)
    g_string_append_printf (out, ", window %g/%g (%s)", s->center, s->width, s->window_source);
  return g_string_free (out, FALSE);
}

/* The range of a gray high-depth image's values, then its default or the
 * user's window */
static XcImage *
finish_high_depth (XcImage *image, const XcImageOptions *opt, const char *path, GError **error)
{
  XcImageSource *s = image->source;

  if (image->values != NULL)
    {
      size_t n = (size_t) image->h * image->w;
      s->min = G_MAXDOUBLE, s->max = -G_MAXDOUBLE;
      for (size_t p = 0; p < n; p++)
        {
          if (!isfinite (image->values[p]))
            {
              g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: a pixel value is not finite",
                           path);
              xc_image_free (image);
              return NULL;
            }
          s->min = MIN (s->min, image->values[p]);
          s->max = MAX (s->max, image->values[p]);
        }
      xc_image_reset_window (image);
    }
  if (opt->has_window &&
      !xc_image_set_window (image, opt->center, opt->width, "--window", error))
    {
      g_prefix_error (error, "%s: ", path);
      xc_image_free (image);
      return NULL;
    }
  return image;
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
  return xc_image_load_with (path, NULL, error);
}

/**
 * xc_image_load_with:
 * @options: (nullable): frame, window, patient data
 *
 * As xc_image_load(), and DICOM (through DCMTK), 16-bit PNG and 16-bit
 * TIFF at full depth, windowed as the top of this file says.
 */
XcImage *
xc_image_load_with (const char *path, const XcImageOptions *options, GError **error)
{
  static const XcImageOptions defaults = { 0 };
  const XcImageOptions *opt = options ? options : &defaults;
  XcImage *hd = NULL;
  int kind;

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
  else if ((kind = xc_image_high_depth_kind (path)) != 0)
    {
      if (kind == 1)
        hd = xc_image_load_dicom (path, opt, error);
      else if (kind == 2)
        hd = xc_image_load_png16 (path, error);
      else
        hd = xc_image_load_tiff16 (path, error);
      if (hd == NULL)
        return NULL;
      if (opt->frame != 0 && !hd->source->is_dicom)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "%s: --frame applies to multi-frame "
                       "DICOM files; this is a %s", path, hd->source->format);
          xc_image_free (hd);
          return NULL;
        }
      return finish_high_depth (hd, opt, path, error);
    }
  else if (opt->frame != 0 || opt->has_window)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "%s: %s applies to DICOM%s; this is an "
                   "8-bit image", path, opt->frame ? "--frame" : "--window",
                   opt->frame ? "" : " and 16-bit PNG/TIFF images");
      return NULL;
    }
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
  /* the decoded pixels (4 bytes a pixel) and our float copy (up to 12) */
  if (!xc_memory_check ((guint64) w * h * 16, path, error))
    return NULL;
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
 * xc_image_to_model_size:
 * @dst: (array): (H, W, C) of the model's input, intensities in [0, 255]
 *
 * Converts channels and resizes to the model's input: what the network
 * sees, before its preprocessing.
 */
gboolean
xc_image_to_model_size (const XcImage *image, const XcModel *model, float *dst, GError **error)
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
  if (image->c == in->c)
    {
      /* the channels the model takes: resized (or copied) straight from the
       * image, without a converted copy (a 299x299 photo: 1 MB less to
       * allocate, fault in and write) */
      if (image->h == in->h && image->w == in->w)
        memcpy (dst, image->data, (size_t) in->h * in->w * in->c * sizeof (float));
      else
        xc_image_resize (image, &out);
      return TRUE;
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
      if (in->c == 3)
        d[0] = d[1] = d[2] = s[0];
      else
        d[0] = 0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2];
    }
  if (conv->h == in->h && conv->w == in->w)
    memcpy (dst, conv->data, (size_t) in->h * in->w * in->c * sizeof (float));
  else
    xc_image_resize (conv, &out);
  return TRUE;
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

  if (!xc_image_to_model_size (image, model, dst, error))
    return FALSE;
  xc_preprocess (model->preprocess, dst, (size_t) in->h * in->w, in->c);
  return TRUE;
}


/**
 * xc_model_notices:
 *
 * Returns: (transfer full): warnings about the model a user should see on
 *   every view (random weights), possibly empty
 */
GPtrArray *
xc_model_notices (const XcModel *model)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  if (model->random_weights)
    g_ptr_array_add (out, g_strdup ("random weights: this model was built with seeded random "
                                    "weights (no --weights file, never trained); its "
                                    "predictions and explanations mean nothing"));
  return out;
}

/**
 * xc_image_notices:
 *
 * Out-of-domain notices for an image going into a model: much larger or
 * smaller than the input, a different aspect ratio (the image is squashed),
 * colour into a gray model, more than 8 bits (the window decides what the
 * network sees). The random-weights notice of xc_model_notices() comes first.
 *
 * Returns: (transfer full): notices, possibly empty
 */
GPtrArray *
xc_image_notices (const XcImage *image, const XcModel *model)
{
  GPtrArray *out = xc_model_notices (model);
  const XcNode *in = xc_model_input (model);
  double scale = MIN ((double) image->h / in->h, (double) image->w / in->w);
  double aspect = ((double) image->w / image->h) / ((double) in->w / in->h);

  if (scale >= 4.0)
    g_ptr_array_add (out, g_strdup_printf ("out of domain: the %d x %d image is shrunk %.0fx to "
                                           "the model's %d x %d input; detail below %.0f pixels "
                                           "is lost", image->w, image->h, scale, in->w, in->h,
                                           scale));
  else if (scale < 0.5)
    g_ptr_array_add (out, g_strdup_printf ("out of domain: the %d x %d image is enlarged %.1fx "
                                           "to the model's %d x %d input", image->w, image->h,
                                           1.0 / scale, in->w, in->h));
  if (aspect > 1.5 || aspect < 1.0 / 1.5)
    g_ptr_array_add (out, g_strdup_printf ("out of domain: the image's aspect ratio (%d x %d) "
                                           "is squashed to the model's (%d x %d)", image->w,
                                           image->h, in->w, in->h));
  if (image->c == 3 && in->c == 1)
    g_ptr_array_add (out, g_strdup ("out of domain: a colour image into a gray model (converted "
                                    "to luma)"));
  if (image->source != NULL && image->source->bits > 8)
    g_ptr_array_add (out, g_strdup_printf ("out of domain: a %d-bit %s image; the model sees "
                                           "%s, mapped to 0-255 intensities",
                                           image->source->bits, image->source->format,
                                           image->values ? "the windowed values" : "the values"));
  return out;
}

/**
 * xc_image_add_json:
 *
 * Adds the members "image" (format, size, bits, window, DICOM attributes;
 * patient data only when it was kept at load time) to an open object.
 */
void
xc_image_add_json (const XcImage *image, JsonBuilder *b)
{
  const XcImageSource *s = image->source;
  g_autofree char *desc = xc_image_describe (image);

  json_builder_set_member_name (b, "image");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, desc);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, image->w);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, image->h);
  json_builder_set_member_name (b, "channels");
  json_builder_add_int_value (b, image->c);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, s ? s->format : "8-bit");
  json_builder_set_member_name (b, "bits");
  json_builder_add_int_value (b, s ? s->bits : 8);
  if (s && image->values)
    {
      json_builder_set_member_name (b, "window");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "center");
      json_builder_add_double_value (b, s->center);
      json_builder_set_member_name (b, "width");
      json_builder_add_double_value (b, s->width);
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, s->window_source);
      json_builder_end_object (b);
    }
  if (s && s->is_dicom)
    {
      const XcDicomInfo *d = &s->dicom;
      const struct { const char *k; const char *v; } str[] = {
        { "modality", d->modality }, { "body_part", d->body_part },
        { "photometric_interpretation", d->photometric },
        { "transfer_syntax", d->transfer_syntax }, { "voi_lut_function", d->voi_lut_function },
        { "patient_name", d->patient_name }, { "patient_id", d->patient_id },
        { "study_date", d->study_date },
      };
      json_builder_set_member_name (b, "dicom");
      json_builder_begin_object (b);
      for (guint i = 0; i < G_N_ELEMENTS (str); i++)
        if (str[i].v[0] != '\0')
          {
            json_builder_set_member_name (b, str[i].k);
            json_builder_add_string_value (b, str[i].v);
          }
      json_builder_set_member_name (b, "rows");
      json_builder_add_int_value (b, d->rows);
      json_builder_set_member_name (b, "columns");
      json_builder_add_int_value (b, d->cols);
      json_builder_set_member_name (b, "bits_stored");
      json_builder_add_int_value (b, d->bits_stored);
      json_builder_set_member_name (b, "frames");
      json_builder_add_int_value (b, d->frames);
      json_builder_set_member_name (b, "frame");
      json_builder_add_int_value (b, d->frame);
      json_builder_set_member_name (b, "rescale_slope");
      json_builder_add_double_value (b, d->slope);
      json_builder_set_member_name (b, "rescale_intercept");
      json_builder_add_double_value (b, d->intercept);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}
