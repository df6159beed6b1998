/* SPDX-License-Identifier: MIT
 *
 * Where the evidence lies, against ground truth: the pointing game and IoU
 * after Otsu's threshold, as CheXlocalize (Saporta et al., Nature Machine
 * Intelligence 2022) defines them, on a map upsampled to the image.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  double x, y, width, height;   /* original-image pixels, top-left origin */
} XcBox;

/* The ground truth of one label in one image */
typedef struct {
  char   *image;      /* as written in the boxes file */
  char   *label;
  GArray *boxes;      /* XcBox */
} XcRegion;

typedef struct {
  gboolean hit;        /* the map's maximum falls inside the ground truth */
  double   iou;        /* |map > t AND truth| / |map > t OR truth| */
  int      threshold;  /* Otsu's t on the map quantised to 0..255 */
  int      argmax_x, argmax_y;
} XcLocalization;

GPtrArray *xc_boxes_read     (const char     *path,
                             GError        **error);
void    xc_region_free      (gpointer        region);
guint8 *xc_boxes_mask       (const XcBox    *boxes,
                             guint           n,
                             int             h,
                             int             w);
int     xc_otsu_threshold   (const guint8   *v,
                             size_t          n);
void    xc_localize_map     (const float    *map01,
                             const guint8   *truth,
                             int             h,
                             int             w,
                             XcLocalization *out);

G_END_DECLS
