/* SPDX-License-Identifier: MIT */
#pragma once

#include "xs-view.h"

G_BEGIN_DECLS

#define XS_TYPE_SEPARABLE_VIEW (xs_separable_view_get_type ())
G_DECLARE_FINAL_TYPE (XsSeparableView, xs_separable_view, XS, SEPARABLE_VIEW, XsView)

void xs_separable_view_cancel (XsSeparableView *self);

G_END_DECLS
