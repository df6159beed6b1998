/* SPDX-License-Identifier: MIT */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define XS_TYPE_BARS (xs_bars_get_type ())
G_DECLARE_FINAL_TYPE (XsBars, xs_bars, XS, BARS, GtkWidget)

GtkWidget *xs_bars_new          (void);
void       xs_bars_set_data     (XsBars            *self,
                                 const char *const *labels,
                                 const float       *values,
                                 const guint       *ids,
                                 guint              n);
void       xs_bars_set_selected (XsBars            *self,
                                 int                id);
int        xs_bars_get_selected (XsBars            *self);
guint      xs_bars_get_n_rows   (XsBars            *self);
const char *xs_bars_get_label   (XsBars            *self,
                                 guint              row);

G_END_DECLS
