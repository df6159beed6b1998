/* SPDX-License-Identifier: MIT */
#pragma once

#include "xs-feature-grid.h"
#include "xs-view.h"

G_BEGIN_DECLS

#define XS_TYPE_FEATURES_VIEW (xs_features_view_get_type ())
G_DECLARE_FINAL_TYPE (XsFeaturesView, xs_features_view, XS, FEATURES_VIEW, XsView)

void           xs_features_view_select_node (XsFeaturesView *self,
                                             guint           node);
XsFeatureGrid *xs_features_view_get_grid    (XsFeaturesView *self);

G_END_DECLS
