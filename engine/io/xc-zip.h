/* SPDX-License-Identifier: MIT
 *
 * Reading and writing the zip archives Keras 3 saves models in (.keras).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

GBytes  *xc_zip_extract   (GBytes      *zip,
                           const char  *entry,
                           const char  *what,
                           GError     **error);
guint32  xc_crc32         (const guint8 *data,
                           gsize         len);
gboolean xc_zip_write     (const char        *path,
                           const char *const *names,
                           GBytes *const     *contents,
                           guint              n,
                           GError           **error);

G_END_DECLS
