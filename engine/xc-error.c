/* SPDX-License-Identifier: MIT
 *
 * The XC_ERROR quark, and the one check every user file passes before it
 * is opened.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
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

/**
 * xc_check_output_path:
 *
 * An output a user names may replace a regular file, never a device, FIFO,
 * socket or folder (as root, replacing /dev/sda is one rename away).
 *
 * Returns: %FALSE with @error naming the path and why
 */
gboolean
xc_check_output_path (const char *path, GError **error)
{
  GStatBuf st;

  if (path == NULL || path[0] == '\0')
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "an empty output path");
      return FALSE;
    }
  if (g_stat (path, &st) == 0 && !S_ISREG (st.st_mode))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: exists and is not a regular file (%s): "
                   "refused as an output", path, S_ISDIR (st.st_mode) ? "a folder"
                   : "a device, FIFO or socket");
      return FALSE;
    }
  return TRUE;
}

/**
 * xc_output_begin:
 *
 * Starts an atomic write: checks @path (xc_check_output_path()) and creates
 * an empty temporary file beside it, for the writer to fill and
 * xc_output_end() to rename over @path (a reader never sees half a file;
 * a failed write leaves what was there).
 *
 * Returns: (transfer full): the temporary file's path, or %NULL with @error
 */
char *
xc_output_begin (const char *path, GError **error)
{
  g_autofree char *dir = NULL, *base = NULL, *tmpl = NULL;
  int fd;

  if (!xc_check_output_path (path, error))
    return NULL;
  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  tmpl = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  fd = g_mkstemp (tmpl);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot write here: %s", path,
                   g_strerror (e));
      return NULL;
    }
  {
    /* mkstemp's 0600 would make every output private: the target's mode
     * when it exists, else what the umask allows */
    GStatBuf st;
    mode_t mask = umask (0);
    umask (mask);
    fchmod (fd, g_stat (path, &st) == 0 ? (st.st_mode & 07777) : (0666 & ~mask));
  }
  close (fd);
  return g_steal_pointer (&tmpl);
}

/**
 * xc_output_end:
 * @tmp: (transfer full): from xc_output_begin()
 * @ok: whether the writer succeeded; if not, the temporary file is removed
 *
 * Returns: @ok and the rename's success, with @error when the rename failed
 */
gboolean
xc_output_end (char *tmp, const char *path, gboolean ok, GError **error)
{
  if (ok && g_rename (tmp, path) != 0)
    {
      int e = errno;
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot replace: %s", path, g_strerror (e));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);
  g_free (tmp);
  return ok;
}

/**
 * xc_output_write:
 *
 * Writes @data to @path atomically (xc_output_begin(), xc_output_end()).
 */
gboolean
xc_output_write (const char *path, const void *data, size_t len, GError **error)
{
  char *tmp = xc_output_begin (path, error);

  if (tmp == NULL)
    return FALSE;
  return xc_output_end (tmp, path, g_file_set_contents (tmp, data, len, error), error);
}
