/* SPDX-License-Identifier: MIT
 *
 * The memory limit: every large allocation a user's input sizes (a plan's
 * activations and gradients, a decoded image, a dataset) is estimated and
 * refused above it, with how much it would have needed.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

guint64  xc_memory_limit       (void);
void     xc_memory_set_limit   (guint64      bytes);
gboolean xc_memory_parse_size  (const char  *text,
                                guint64     *bytes,
                                GError     **error);
gboolean xc_memory_check       (guint64      bytes,
                                const char  *what,
                                GError     **error);
void     xc_memory_advise_huge_pages (void   *p,
                                      size_t  bytes);

G_END_DECLS
