/* SPDX-License-Identifier: MIT */
#pragma once

#include "xs-view.h"

G_BEGIN_DECLS

#define XS_TYPE_PREDICTIONS_VIEW (xs_predictions_view_get_type ())
G_DECLARE_FINAL_TYPE (XsPredictionsView, xs_predictions_view, XS, PREDICTIONS_VIEW, XsView)

void xs_predictions_view_set_selected_class (XsPredictionsView *self,
                                             int                class_index);

G_END_DECLS
