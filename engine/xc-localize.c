/* SPDX-License-Identifier: MIT
 *
 * Localisation metrics, following CheXlocalize's definitions:
 *  - the map is upsampled to the image (bilinear, half-pixel centres) and
 *    scaled to [0, 1] (xc_map_upsample_normalised);
 *  - pointing game: a hit when the map's maximum (the first in row-major
 *    order) falls inside the ground truth;
 *  - IoU: the map quantised to 8 bits as uint8(255 * v) (truncated), then
 *    binarised at Otsu's threshold (OpenCV's THRESH_OTSU: the t maximising
 *    the between-class variance, inside = value > t), against the truth.
 * A box covers the pixels whose centres (x + 0.5, y + 0.5) lie in
 * [x, x + width) x [y, y + height).
 */
#define G_LOG_DOMAIN "xc-localize"

#include <math.h>
#include <string.h>

#include "xc-error.h"
#include "xc-localize.h"

/**
 * xc_boxes_mask:
 *
 * Returns: (transfer full): the (h, w) union of the boxes, 1 inside
 */
guint8 *
xc_boxes_mask (const XcBox *boxes, guint n, int h, int w)
{
  guint8 *mask = g_malloc0 ((size_t) h * w);

  for (guint b = 0; b < n; b++)
    {
      const XcBox *r = &boxes[b];
      int x0 = MAX (0, (int) ceil (r->x - 0.5)), y0 = MAX (0, (int) ceil (r->y - 0.5));
      int x1 = MIN (w, (int) ceil (r->x + r->width - 0.5));
      int y1 = MIN (h, (int) ceil (r->y + r->height - 0.5));
      for (int y = y0; y < y1; y++)
        memset (mask + (size_t) y * w + x0, 1, MAX (0, x1 - x0));
    }
  return mask;
}

/**
 * xc_otsu_threshold:
 *
 * Returns: Otsu's threshold of 8-bit values: the t (0..255, the first of
 *   equals) maximising w0 w1 (mu0 - mu1)^2, where class 0 is v <= t
 */
int
xc_otsu_threshold (const guint8 *v, size_t n)
{
  double hist[256] = { 0 }, total = 0, sum0 = 0, w0 = 0, best = -1;
  int t_best = 0;

  for (size_t i = 0; i < n; i++)
    hist[v[i]]++;
  for (int i = 0; i < 256; i++)
    total += i * hist[i];
  for (int t = 0; t < 256; t++)
    {
      double w1, mu0, mu1, between;
      w0 += hist[t];
      sum0 += t * hist[t];
      w1 = (double) n - w0;
      if (w0 == 0 || w1 == 0)
        continue;
      mu0 = sum0 / w0, mu1 = (total - sum0) / w1;
      between = w0 * w1 * (mu0 - mu1) * (mu0 - mu1);
      if (between > best)
        best = between, t_best = t;
    }
  return t_best;
}

/**
 * xc_localize_map:
 * @map01: (h, w) the map at the image's size, in [0, 1]
 * @truth: (h, w) 1 inside the ground truth
 */
void
xc_localize_map (const float *map01, const guint8 *truth, int h, int w, XcLocalization *out)
{
  size_t n = (size_t) h * w, at = 0, inter = 0, uni = 0;
  g_autofree guint8 *q = g_malloc (n);

  for (size_t i = 0; i < n; i++)
    {
      float v = CLAMP (map01[i], 0.0f, 1.0f);
      q[i] = (guint8) (255.0f * v);
      if (map01[i] > map01[at])
        at = i;
    }
  out->threshold = xc_otsu_threshold (q, n);
  for (size_t i = 0; i < n; i++)
    {
      gboolean in = q[i] > out->threshold;
      inter += in && truth[i];
      uni += in || truth[i];
    }
  out->hit = truth[at] != 0;
  out->argmax_x = (int) (at % w), out->argmax_y = (int) (at / w);
  out->iou = uni ? (double) inter / uni : 0.0;
}

void
xc_region_free (gpointer p)
{
  XcRegion *r = p;
  g_free (r->image);
  g_free (r->label);
  g_array_unref (r->boxes);
  g_free (r);
}

static gboolean
parse_number (const char *s, double *v)
{
  char *end = NULL;

  *v = g_ascii_strtod (s, &end);
  return end != s && *end == '\0' && isfinite (*v);
}

/**
 * xc_boxes_read:
 *
 * Reads image,x,y,width,height,label rows (a header row is skipped); the
 * boxes of one image and label make one region.
 *
 * Returns: (transfer full) (element-type XcRegion): the regions in file
 *   order, or %NULL with @error (a bad row: its number and text)
 */
GPtrArray *
xc_boxes_read (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) regions = g_ptr_array_new_with_free_func (xc_region_free);
  g_autoptr(GHashTable) index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gsize len;

  if (!xc_check_user_file (path, "a boxes file", error) ||
      !g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (len > 256 << 20)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "%s: over 256 MB", path);
      return NULL;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto(GStrv) f = NULL;
      g_autofree char *key = NULL;
      XcBox box;
      XcRegion *r;
      gpointer at;

      g_strstrip (lines[i]);
      if (lines[i][0] == '\0' || (i == 0 && g_str_has_prefix (lines[i], "image,")))
        continue;
      f = g_strsplit (lines[i], ",", -1);
      if (g_strv_length (f) != 6 || !parse_number (f[1], &box.x) ||
          !parse_number (f[2], &box.y) || !parse_number (f[3], &box.width) ||
          !parse_number (f[4], &box.height) || box.width < 0 || box.height < 0 ||
          f[0][0] == '\0' || f[5][0] == '\0')
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s:%u: expected image,x,y,width,height,"
                       "label with numbers and non-negative sizes, got '%s'", path, i + 1,
                       lines[i]);
          return NULL;
        }
      key = g_strdup_printf ("%s\n%s", f[0], f[5]);
      if (g_hash_table_lookup_extended (index, key, NULL, &at))
        r = regions->pdata[GPOINTER_TO_UINT (at)];
      else
        {
          r = g_new0 (XcRegion, 1);
          r->image = g_strdup (f[0]);
          r->label = g_strdup (f[5]);
          r->boxes = g_array_new (FALSE, FALSE, sizeof (XcBox));
          g_hash_table_insert (index, g_steal_pointer (&key), GUINT_TO_POINTER (regions->len));
          g_ptr_array_add (regions, r);
        }
      g_array_append_val (r->boxes, box);
    }
  if (regions->len == 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: no boxes", path);
      return NULL;
    }
  return g_steal_pointer (&regions);
}

