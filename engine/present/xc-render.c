/* SPDX-License-Identifier: MIT
 *
 * Rendering explanation maps. A map of h x w cells is upsampled bilinearly
 * with half-pixel centres: cell (i, j) of a layer with stride s covers the
 * input band [i s, (i + 1) s) and its value is placed at that band's centre,
 * (i + 0.5) H / h, which is where its receptive field is centred; this is
 * also what cv2.resize (pytorch-grad-cam) and tf.image.resize do, so our
 * overlays line up with theirs. The upsampled map is normalised to [0, 1]
 * by its minimum and maximum, coloured, and alpha-blended over the
 * original: a gray original stays gray underneath the colours.
 *
 * Turbo, viridis and inferno are polynomial fits of the published colour
 * maps (Google's turbo approximation; Matt Zucker's fits of matplotlib's
 * viridis and inferno), within a few 1/255 of the published tables.
 */
#define G_LOG_DOMAIN "xc-render"

#include <math.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "xc-error.h"
#include "xc-explain.h"
#include "present/xc-render.h"

static double
poly6 (const double *c, double t)
{
  return c[0] + t * (c[1] + t * (c[2] + t * (c[3] + t * (c[4] + t * (c[5] + t * c[6])))));
}

static guint8
to_byte (double v)
{
  return (guint8) CLAMP (lround (v * 255.0), 0, 255);
}

void
xc_colormap_rgb (XcColormap cmap, float t, guint8 *rgb)
{
  static const double viridis[3][7] = {
    { 0.2777273272234177, 0.1050930431085774, -0.3308618287255563, -4.634230498983486,
      6.228269936347081, 4.776384997670288, -5.435455855934631 },
    { 0.005407344544966578, 1.404613529898575, 0.214847559468213, -5.799100973351585,
      14.17993336680509, -13.74514537774601, 4.645852612178535 },
    { 0.3340998053353061, 1.384590162594685, 0.09509516302823659, -19.33244095627987,
      56.69055260068105, -65.35303263337234, 26.3124352495832 },
  };
  static const double inferno[3][7] = {
    { 0.0002189403691192265, 0.1065134194856116, 11.60249308247187, -41.70399613139459,
      77.162935699427, -71.31942824499214, 25.13112622477341 },
    { 0.001651004631001012, 0.5639564367884091, -3.972853965665698, 17.43639888205313,
      -33.40235894210092, 32.62606426397723, -12.24266895238567 },
    { -0.01948089843709184, 3.932712388889277, -15.9423941062914, 44.35414519872813,
      -81.80730925738993, 73.20951985803202, -23.07032500287172 },
  };
  static const double turbo[3][7] = {
    { 0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943, 0 },
    { 0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604, 0 },
    { 0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973, 0 },
  };
  double x = CLAMP (isnan (t) ? 0.0 : t, 0.0, 1.0);

  switch (cmap)
    {
    case XC_COLORMAP_JET:
      /* piecewise linear, as MATLAB's and OpenCV's COLORMAP_JET */
      rgb[0] = to_byte (CLAMP (MIN (4 * x - 1.5, -4 * x + 4.5), 0, 1));
      rgb[1] = to_byte (CLAMP (MIN (4 * x - 0.5, -4 * x + 3.5), 0, 1));
      rgb[2] = to_byte (CLAMP (MIN (4 * x + 0.5, -4 * x + 2.5), 0, 1));
      break;
    case XC_COLORMAP_TURBO:
      for (int k = 0; k < 3; k++)
        rgb[k] = to_byte (poly6 (turbo[k], x));
      break;
    case XC_COLORMAP_VIRIDIS:
      for (int k = 0; k < 3; k++)
        rgb[k] = to_byte (poly6 (viridis[k], x));
      break;
    case XC_COLORMAP_INFERNO:
      for (int k = 0; k < 3; k++)
        rgb[k] = to_byte (poly6 (inferno[k], x));
      break;
    case XC_COLORMAP_GRAY:
    default:
      rgb[0] = rgb[1] = rgb[2] = to_byte (x);
      break;
    }
}

/**
 * xc_render_heatmap:
 * @base: (nullable): the original image (gray or RGB, [0, 255]); %NULL
 *   renders the map alone
 * @alpha: the heatmap's opacity over the base, 0 to 1
 *
 * Returns: (transfer full): (oh, ow, 3) RGB bytes
 */
guint8 *
xc_render_heatmap (const float *map, int h, int w, const XcImage *base, int oh, int ow,
                   XcColormap cmap, float alpha)
{
  g_autofree float *m = xc_map_upsample_normalised (map, h, w, oh, ow);
  guint8 *rgb = g_new (guint8, (size_t) oh * ow * 3);
  /* the colour map sampled once: 1024 steps, within one level of the exact colour */
  enum { LUT = 1024 };
  float lut[LUT][3];

  if (base == NULL)
    alpha = 1.0f;
  for (int i = 0; i < LUT; i++)
    {
      guint8 c[3];
      xc_colormap_rgb (cmap, (float) i / (LUT - 1), c);
      for (int k = 0; k < 3; k++)
        lut[i][k] = alpha * c[k] + 0.5f;
    }
#pragma omp parallel for schedule(static) if ((size_t) oh * ow > 262144)
  for (size_t p = 0; p < (size_t) oh * ow; p++)
    {
      float t = m[p] * (LUT - 1) + 0.5f;
      const float *c = lut[!(t > 0.0f) ? 0 : t >= LUT - 1 ? LUT - 1 : (int) t];
      for (int k = 0; k < 3; k++)
        {
          float b = base ? base->data[p * base->c + (base->c == 3 ? k : 0)] : 0.0f;
          float v = (1.0f - alpha) * b + c[k];
          rgb[p * 3 + k] = (guint8) (v <= 0.0f ? 0 : v >= 255.0f ? 255 : (int) v);
        }
    }
  return rgb;
}

gboolean
xc_write_png_rgb (const char *path, const guint8 *rgb, int w, int h, GError **error)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_data (rgb, GDK_COLORSPACE_RGB, FALSE, 8, w, h,
                                                      w * 3, NULL, NULL);
  g_autoptr(GError) local = NULL;
  char *tmp = xc_output_begin (path, error);

  if (tmp == NULL)
    return FALSE;
  if (!gdk_pixbuf_save (pb, tmp, "png", &local, NULL))
    g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot write the PNG: %s", path,
                 local->message);
  return xc_output_end (tmp, path, local == NULL, error);
}
