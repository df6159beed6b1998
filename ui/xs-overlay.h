/* SPDX-License-Identifier: MIT */
#pragma once

#include "xs-inference.h"

G_BEGIN_DECLS

void     xs_overlay_draw_cell_grid    (guint8              *rgb,
                                       int                  w,
                                       int                  h,
                                       int                  map_w,
                                       int                  map_h);
XcImage *xs_overlay_enlarge           (const XcImage       *seen);
char    *xs_overlay_draw_ground_truth (GPtrArray           *regions,
                                       XsAnalysis          *a,
                                       const XcExplanation *e,
                                       guint8              *rgb,
                                       const XcImage       *img);

G_END_DECLS
