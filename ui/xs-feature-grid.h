/* SPDX-License-Identifier: MIT */
#pragma once

#include <gtk/gtk.h>

#include "xc.h"

G_BEGIN_DECLS

#define XS_TYPE_FEATURE_GRID (xs_feature_grid_get_type ())
G_DECLARE_FINAL_TYPE (XsFeatureGrid, xs_feature_grid, XS, FEATURE_GRID, GtkWidget)

GtkWidget *xs_feature_grid_new          (void);
void       xs_feature_grid_take_tensor  (XsFeatureGrid *self,
                                         float         *data,
                                         int            h,
                                         int            w,
                                         int            c);
const float *xs_feature_grid_get_tensor (XsFeatureGrid *self);
void       xs_feature_grid_set_tensor   (XsFeatureGrid *self,
                                         const float   *data,
                                         int            h,
                                         int            w,
                                         int            c);
void       xs_feature_grid_set_options  (XsFeatureGrid *self,
                                         XcColormap     cmap,
                                         gboolean       shared_scale,
                                         gboolean       sort_by_mean);
void       xs_feature_grid_set_single   (XsFeatureGrid *self,
                                         int            channel);
void       xs_feature_grid_set_marker   (XsFeatureGrid *self,
                                         int            y,
                                         int            x,
                                         int            h,
                                         int            w,
                                         int            channel);
int        xs_feature_grid_get_n_tiles  (XsFeatureGrid *self);
int        xs_feature_grid_channel_at   (XsFeatureGrid *self,
                                         double         x,
                                         double         y);
gboolean   xs_feature_grid_save_png     (XsFeatureGrid *self,
                                         const char    *path,
                                         GError       **error);

G_END_DECLS
