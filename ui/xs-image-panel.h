/* SPDX-License-Identifier: MIT */
#pragma once

#include <gtk/gtk.h>

#include "xs-inference.h"

G_BEGIN_DECLS

#define XS_TYPE_IMAGE_PANEL (xs_image_panel_get_type ())
G_DECLARE_FINAL_TYPE (XsImagePanel, xs_image_panel, XS, IMAGE_PANEL, GtkBox)

void                  xs_image_panel_show          (XsImagePanel         *self,
                                                    XsAnalysis           *analysis);
void                  xs_image_panel_set_model     (XsImagePanel         *self,
                                                    const XcModel        *model);
const XcImageOptions *xs_image_panel_get_options   (XsImagePanel         *self);
void                  xs_image_panel_set_options   (XsImagePanel         *self,
                                                    const XcImageOptions *options);

G_END_DECLS
