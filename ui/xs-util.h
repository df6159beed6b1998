/* SPDX-License-Identifier: MIT
 *
 * Small helpers the views share: textures from engine images and RGB
 * buffers, string lists for drop-downs, top-k bars, and the layer tables
 * (column views over XsNodeRow).
 */
#pragma once

#include <gtk/gtk.h>

#include "xs-bars.h"
#include "xs-inference.h"
#include "xs-node-row.h"

G_BEGIN_DECLS

/* The node index of the "original image" row of a layer table */
#define XS_ORIGINAL_ROW G_MAXUINT

GdkTexture    *xs_texture_from_rgb     (const guint8      *rgb,
                                        int                w,
                                        int                h);
GdkTexture    *xs_texture_from_image   (const XcImage     *img);
GtkStringList *xs_string_list_new      (const char *const *items,
                                        guint              n);
void           xs_fill_bars            (XsBars            *bars,
                                        const XcModel     *m,
                                        const float       *probs,
                                        int                classes,
                                        int                k);
int            xs_top_of               (const float       *p,
                                        int                n);
char          *xs_shape_string         (const XcNode      *node);
void           xs_node_rows_fill       (GListStore        *rows,
                                        const XcModel     *m,
                                        XsAnalysis        *analysis);
void           xs_column_view_add      (GtkColumnView     *view,
                                        const char        *title,
                                        XsField            field,
                                        gboolean           expand);
GtkSingleSelection *xs_column_view_setup (GtkColumnView   *view,
                                        GListModel        *rows,
                                        GtkFilter         *filter);

double         xs_text_scale           (GtkWidget         *widget);

void           xs_colorbar_show        (GtkPicture        *bar,
                                        GtkLabel          *label,
                                        const float       *map,
                                        int                map_h,
                                        int                map_w,
                                        XcColormap         cmap,
                                        const char        *note);

G_END_DECLS
