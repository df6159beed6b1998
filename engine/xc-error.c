/* SPDX-License-Identifier: MIT
 *
 * The XC_ERROR quark, and the one check every user file passes before it
 * is opened.
 */
#include <errno.h>
#include <glib/gstdio.h>

#include "xc-error.h"

G_DEFINE_QUARK (xc-error-quark, xc_error)

/**
 * xc_check_user_file:
 * @path: a file the user named (image, model, weights, labels, .npy)
 * @what: what it should be, for the message ("an image", "a Keras file")
 *
 * Refuses, without opening it, what is missing or not a regular file: a
 * FIFO, socket or device would block the reader forever (or be read without
 * end), a folder is a mistake.
 *
 * Returns: %FALSE with @error (XC_ERROR_IO) naming the file and why
 */
gboolean
xc_check_user_file (const char *path, const char *what, GError **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int e = errno;
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", path,
                   e == ENOENT ? "no such file" : g_strerror (e));
      return FALSE;
    }
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: is a directory, not %s", path, what);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: not a regular file (a FIFO, socket or "
                   "device), refused: %s must be a regular file", path, what);
      return FALSE;
    }
  return TRUE;
}
