/* SPDX-License-Identifier: MIT */
#pragma once

#include "xs-view.h"

G_BEGIN_DECLS

#define XS_TYPE_COMPARE_VIEW (xs_compare_view_get_type ())
G_DECLARE_FINAL_TYPE (XsCompareView, xs_compare_view, XS, COMPARE_VIEW, XsView)

void                   xs_compare_view_set_active   (XsCompareView *self,
                                                     gboolean       active);
void                   xs_compare_view_set_model_b  (XsCompareView *self,
                                                     guint          index);
void                   xs_compare_view_run_folder   (XsCompareView *self,
                                                     const char    *folder);
void                   xs_compare_view_cancel       (XsCompareView *self);
const XsCompareResult *xs_compare_view_get_result   (XsCompareView *self);
gboolean               xs_compare_view_is_second_image (XsCompareView *self);
const XsFolderResult  *xs_compare_view_get_folder   (XsCompareView *self);

gboolean xs_compare_view_export_folder (XsCompareView *self,
                                        const char    *path,
                                        GError       **error);

G_END_DECLS
