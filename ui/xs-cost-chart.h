/* SPDX-License-Identifier: MIT */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define XS_TYPE_COST_CHART (xs_cost_chart_get_type ())
G_DECLARE_FINAL_TYPE (XsCostChart, xs_cost_chart, XS, COST_CHART, GtkWidget)

GtkWidget *xs_cost_chart_new       (void);
void       xs_cost_chart_set_data  (XsCostChart       *self,
                                    const char *const *names,
                                    const double      *actual,
                                    const double      *standard,
                                    guint              n);
void       xs_cost_chart_set_caption (XsCostChart     *self,
                                    const char        *caption);
guint      xs_cost_chart_get_n_groups (XsCostChart    *self);

G_END_DECLS
