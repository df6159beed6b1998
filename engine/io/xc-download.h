/* SPDX-License-Identifier: MIT
 *
 * Resumable, MD5-checked downloads of model files (libsoup 3).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* done and total bytes (total 0: unknown); return FALSE to cancel */
typedef gboolean (*XcDownloadProgress) (goffset done, goffset total, gpointer data);

gboolean xc_download_file (const char         *url,
                           const char         *dest,
                           const char         *md5,
                           XcDownloadProgress  progress,
                           gpointer            data,
                           GError            **error);

G_END_DECLS
