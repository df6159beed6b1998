/* SPDX-License-Identifier: MIT */
#pragma once

#include "xs-view.h"

G_BEGIN_DECLS

#define XS_TYPE_ARCHITECTURE_VIEW (xs_architecture_view_get_type ())
G_DECLARE_FINAL_TYPE (XsArchitectureView, xs_architecture_view, XS, ARCHITECTURE_VIEW, XsView)

guint xs_architecture_view_get_n_nodes (XsArchitectureView *self);

G_END_DECLS
