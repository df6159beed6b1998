/* SPDX-License-Identifier: MIT */
#pragma once

#include <gtk/gtk.h>

#include "xc.h"

G_BEGIN_DECLS

#define XS_TYPE_ARCH_VIEW (xs_arch_view_get_type ())
G_DECLARE_FINAL_TYPE (XsArchView, xs_arch_view, XS, ARCH_VIEW, GtkWidget)

GtkWidget *xs_arch_view_new       (void);
void       xs_arch_view_set_model (XsArchView    *self,
                                   const XcModel *model,
                                   const XcNodeRun *runs);
void       xs_arch_view_set_zoom  (XsArchView    *self,
                                   double         zoom);
double     xs_arch_view_get_zoom  (XsArchView    *self);
guint      xs_arch_view_get_n_nodes (XsArchView  *self);
int        xs_arch_view_node_at   (XsArchView    *self,
                                   double         x,
                                   double         y);

void        xs_arch_view_fit        (XsArchView    *self,
                                     int            width,
                                     int            height);

G_END_DECLS
