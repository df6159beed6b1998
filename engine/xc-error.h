/* SPDX-License-Identifier: MIT
 *
 * The engine's error domain: every error a user can cause (a file, a shape, a
 * flag, memory, cancel) is reported as a GError in XC_ERROR.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define XC_ERROR (xc_error_quark ())

typedef enum {
  XC_ERROR_FAILED,        /* anything else */
  XC_ERROR_IO,            /* missing, unreadable or unwritable file */
  XC_ERROR_FORMAT,        /* corrupt, truncated or not the expected format */
  XC_ERROR_UNSUPPORTED,   /* a valid file using something we do not implement */
  XC_ERROR_SHAPE,         /* shapes that do not fit together */
  XC_ERROR_WEIGHTS,       /* missing, extra or wrong-shaped weights */
  XC_ERROR_ARGUMENT,      /* a bad value given by the user (layer name, size, spec) */
  XC_ERROR_NO_MEMORY,     /* an allocation the user's sizes asked for failed */
  XC_ERROR_CANCELLED,
} XcErrorCode;

GQuark   xc_error_quark     (void);
gboolean xc_check_user_file (const char  *path,
                             const char  *what,
                             GError     **error);

gboolean xc_check_output_path (const char  *path,
                               GError     **error);
char    *xc_output_begin      (const char  *path,
                               GError     **error);
gboolean xc_output_end        (char        *tmp,
                               const char  *path,
                               gboolean     ok,
                               GError     **error);
gboolean xc_output_write      (const char  *path,
                               const void  *data,
                               size_t       len,
                               GError     **error);

G_END_DECLS
