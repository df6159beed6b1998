/* SPDX-License-Identifier: MIT
 *
 * Heatmaps as pictures: colour maps, upsampling a map to the image, alpha
 * blending over the original, and PNG output.
 */
#pragma once

#include "io/xc-image.h"

G_BEGIN_DECLS


void        xc_colormap_rgb         (XcColormap   cmap,
                                     float        t,
                                     guint8      *rgb);
guint8     *xc_render_heatmap       (const float *map,
                                     int          h,
                                     int          w,
                                     const XcImage *base,
                                     int          oh,
                                     int          ow,
                                     XcColormap   cmap,
                                     float        alpha);
gboolean    xc_write_png_rgb        (const char  *path,
                                     const guint8 *rgb,
                                     int          w,
                                     int          h,
                                     GError     **error);

G_END_DECLS
