/* SPDX-License-Identifier: MIT */
#pragma once

#include "xs-view.h"

G_BEGIN_DECLS

#define XS_TYPE_EXPLAIN_VIEW (xs_explain_view_get_type ())
G_DECLARE_FINAL_TYPE (XsExplainView, xs_explain_view, XS, EXPLAIN_VIEW, XsView)

void                 xs_explain_view_set_method       (XsExplainView  *self,
                                                       XcMethod        method);
gboolean             xs_explain_view_set_layer        (XsExplainView  *self,
                                                       const char     *name,
                                                       guint          *node,
                                                       GError        **error);
gboolean             xs_explain_view_set_target_class (XsExplainView  *self,
                                                       int             class_index,
                                                       GError        **error);
void                 xs_explain_view_set_boxes        (XsExplainView  *self,
                                                       GPtrArray      *regions);
void                 xs_explain_view_set_overlay      (XsExplainView  *self,
                                                       gboolean        over_input,
                                                       gboolean        grid);
void                 xs_explain_view_refresh          (XsExplainView  *self);
void                 xs_explain_view_cancel           (XsExplainView  *self);
XsExplainResult     *xs_explain_view_get_result       (XsExplainView  *self);
guint8              *xs_explain_view_render_overlay   (XsExplainView  *self,
                                                       int            *w,
                                                       int            *h);

G_END_DECLS
