/* SPDX-License-Identifier: MIT
 *
 * NumPy .npy files (version 1.0/2.0, little-endian float32, C order), the
 * format of --input-npy, dump and golden data.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean xc_npy_write (const char  *path,
                       const float *data,
                       const int   *shape,
                       int          ndims,
                       GError     **error);
float   *xc_npy_read  (const char  *path,
                       int         *shape,
                       int         *ndims,
                       GError     **error);

G_END_DECLS
