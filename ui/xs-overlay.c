/* SPDX-License-Identifier: MIT
 *
 * Drawing over a rendered explanation (RGB, 3 bytes a pixel): the map's
 * cell grid, ground-truth boxes with hit or miss and the map's maximum, and
 * what the network saw, enlarged without smoothing.
 */
#define G_LOG_DOMAIN "xs-overlay"

#include <math.h>
#include <string.h>

#include "xs-overlay.h"

/* The map's cells as lines over the rendered overlay (w x h RGB) */
void
xs_overlay_draw_cell_grid (guint8 *rgb, int w, int h, int map_w, int map_h)
{
  for (int i = 1; i < map_w; i++)
    {
      int x = (int) lround ((double) i * w / map_w);
      for (int y = 0; y < h && x < w; y++)
        memset (rgb + ((size_t) y * w + x) * 3, 255, 3);
    }
  for (int j = 1; j < map_h; j++)
    {
      int y = (int) lround ((double) j * h / map_h);
      if (y < h)
        memset (rgb + (size_t) y * w * 3, 255, (size_t) w * 3);
    }
}

/* What the network saw, enlarged without smoothing so its pixels show */
XcImage *
xs_overlay_enlarge (const XcImage *seen)
{
  int k = MAX (1, 448 / MAX (seen->h, seen->w));
  XcImage *up = xc_image_new (seen->h * k, seen->w * k, seen->c);

  for (int y = 0; up && y < up->h; y++)
    for (int x = 0; x < up->w; x++)
      memcpy (up->data + ((size_t) y * up->w + x) * seen->c,
              seen->data + ((size_t) (y / k) * seen->w + x / k) * seen->c,
              seen->c * sizeof (float));
  return up;
}

static void
draw_rect (guint8 *rgb, int w, int h, int x0, int y0, int x1, int y1, const guint8 *c)
{
  for (int t = 0; t < 2; t++)
    {
      for (int x = MAX (0, x0); x < MIN (w, x1); x++)
        for (int k = 0; k < 2; k++)
          {
            int y = k ? y1 - 1 - t : y0 + t;
            if (y >= 0 && y < h)
              memcpy (rgb + ((size_t) y * w + x) * 3, c, 3);
          }
      for (int y = MAX (0, y0); y < MIN (h, y1); y++)
        for (int k = 0; k < 2; k++)
          {
            int x = k ? x1 - 1 - t : x0 + t;
            if (x >= 0 && x < w)
              memcpy (rgb + ((size_t) y * w + x) * 3, c, 3);
          }
    }
}

/* The ground-truth boxes of this image and the explained class over the
 * overlay (green: the map's maximum is inside, red: it is not), the
 * maximum as a cross; returns a line on the result */
char *
xs_overlay_draw_ground_truth (GPtrArray *regions, XsAnalysis *a, const XcExplanation *e, guint8 *rgb,
                   const XcImage *img)
{
  static const guint8 hit_c[3] = { 40, 220, 60 }, miss_c[3] = { 240, 30, 30 };
  static const guint8 white[3] = { 255, 255, 255 };
  g_autofree char *base = g_path_get_basename (a->path);
  const char *label = xc_model_label (a->model->model, e->target_class);
  g_autofree char *index = g_strdup_printf ("%d", e->target_class);
  g_autoptr(GString) others = g_string_new (NULL);
  double k = (double) img->w / a->image->w;

  for (guint i = 0; i < regions->len; i++)
    {
      XcRegion *r = regions->pdata[i];
      size_t lp = strlen (a->path), lr = strlen (r->image);
      g_autoptr(GArray) scaled = NULL;
      g_autofree guint8 *truth = NULL;
      g_autofree float *map = NULL;
      XcLocalization loc;

      /* the boxes file names images relative to its dataset folder */
      if (!g_str_has_suffix (a->path, r->image) || (lp > lr && a->path[lp - lr - 1] != '/'))
        continue;
      if (!g_str_equal (r->label, index) && !(label && g_str_equal (r->label, label)))
        {
          g_string_append_printf (others, "%s%s", others->len ? ", " : "", r->label);
          continue;
        }
      scaled = g_array_copy (r->boxes);
      for (guint b = 0; b < scaled->len; b++)
        {
          XcBox *x = &g_array_index (scaled, XcBox, b);
          x->x *= k, x->y *= k, x->width *= k, x->height *= k;
        }
      truth = xc_boxes_mask ((XcBox *) scaled->data, scaled->len, img->h, img->w);
      map = xc_map_upsample_normalised (e->map, e->map_h, e->map_w, img->h, img->w);
      xc_localize_map (map, truth, img->h, img->w, &loc);
      for (guint b = 0; b < scaled->len; b++)
        {
          const XcBox *x = &g_array_index (scaled, XcBox, b);
          draw_rect (rgb, img->w, img->h, (int) lround (x->x), (int) lround (x->y),
                     (int) lround (x->x + x->width), (int) lround (x->y + x->height),
                     loc.hit ? hit_c : miss_c);
        }
      for (int d = -6; d <= 6; d++)
        {
          int px = loc.argmax_x + d, py = loc.argmax_y + d;
          if (px >= 0 && px < img->w)
            memcpy (rgb + ((size_t) loc.argmax_y * img->w + px) * 3, white, 3);
          if (py >= 0 && py < img->h)
            memcpy (rgb + ((size_t) py * img->w + loc.argmax_x) * 3, white, 3);
        }
      return g_strdup_printf ("Ground truth '%s': %s (the map's maximum, the cross, is %s the "
                              "box), IoU %.2f after Otsu's threshold", r->label,
                              loc.hit ? "hit" : "miss", loc.hit ? "inside" : "outside", loc.iou);
    }
  if (others->len)
    return g_strdup_printf ("Ground truth: boxes for %s in this image, none for the explained "
                            "class", others->str);
  return g_strdup_printf ("Ground truth: no boxes for %s", base);
}

