/* SPDX-License-Identifier: MIT */
#pragma once

#include "xs-view.h"

G_BEGIN_DECLS

#define XS_TYPE_COSTS_VIEW (xs_costs_view_get_type ())
G_DECLARE_FINAL_TYPE (XsCostsView, xs_costs_view, XS, COSTS_VIEW, XsView)

G_END_DECLS
