/* SPDX-License-Identifier: MIT
 *
 * The Compare view's folder results: the summary in words and numbers,
 * the reliability diagram and the export of every image's row.
 */
#pragma once

#include <gtk/gtk.h>

#include "xs-inference.h"

G_BEGIN_DECLS

char     *xs_folder_summary_markup (const XsFolderResult *r);
char     *xs_folder_confusion_text (const XsFolderResult *r);
void      xs_folder_draw_reliability (GtkDrawingArea *area,
                                      cairo_t        *cr,
                                      int             width,
                                      int             height,
                                      gpointer        result);
gboolean  xs_folder_export         (const XsFolderResult *r,
                                    const char           *path,
                                    GError              **error);

G_END_DECLS
