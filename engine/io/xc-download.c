/* SPDX-License-Identifier: MIT
 *
 * Downloading a model file over HTTP(S) with libsoup 3, the way a user can
 * trust: into DEST.part next to the destination, resumed with an HTTP Range
 * request when a part is already there, checked against its MD5 before it
 * is renamed to DEST; a part whose MD5 is wrong is removed and never used.
 * Proxies come from GLib's default resolver (the environment or GNOME's
 * settings), as libsoup does by default.
 */
#define G_LOG_DOMAIN "xc-download"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "xc-download.h"
#include "xc-error.h"

#define CHUNK (64 * 1024)

/* The MD5 of a file, lowercase hex, or NULL with error */
static char *
file_md5 (const char *path, GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_MD5);
  g_autofree guchar *buf = g_malloc (CHUNK);
  FILE *f = g_fopen (path, "rb");
  size_t n;

  if (f == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return NULL;
    }
  while ((n = fread (buf, 1, CHUNK, f)) > 0)
    g_checksum_update (sum, buf, n);
  fclose (f);
  return g_strdup (g_checksum_get_string (sum));
}

static gboolean
check_md5 (const char *part, const char *md5, GError **error)
{
  g_autofree char *got = NULL;

  if (md5 == NULL)
    return TRUE;
  if ((got = file_md5 (part, error)) == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (got, md5) != 0)
    {
      g_unlink (part);
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                   "the download's MD5 is %s, not %s: it was removed (a corrupt or different "
                   "file; try again)", got, md5);
      return FALSE;
    }
  return TRUE;
}

/**
 * xc_download_file:
 * @url: http(s) address
 * @dest: where the file goes; DEST.part holds it meanwhile
 * @md5: (nullable): the expected MD5, lowercase or uppercase hex
 * @progress: (nullable) (scope call): called as bytes arrive (done, total;
 *   total 0 when the server does not say); FALSE cancels
 *
 * Downloads @url to @dest, resuming DEST.part if present. On any failure
 * @dest is untouched, and DEST.part stays for a later resume unless its MD5
 * was wrong.
 *
 * Returns: %FALSE with @error (XC_ERROR_IO: network or disk, naming the URL
 *   and where to put the file by hand; XC_ERROR_FORMAT: wrong MD5;
 *   XC_ERROR_CANCELLED)
 */
gboolean
xc_download_file (const char *url, const char *dest, const char *md5,
                  XcDownloadProgress progress, gpointer data, GError **error)
{
  /* a stalled connection fails after a minute instead of hanging */
  g_autoptr(SoupSession) session = soup_session_new_with_options ("user-agent",
                                                                  "xception-studio",
                                                                  "timeout", 60, NULL);
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GInputStream) in = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  g_autofree char *dir = g_path_get_dirname (dest);
  g_autofree guchar *buf = NULL;
  GStatBuf st;
  goffset have = 0, total = 0;
  FILE *out;
  guint status;
  gssize n;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot create the folder: %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  /* the part is appended to and renamed over the destination: both must be
   * regular files if they exist */
  if (!xc_check_output_path (dest, error) || !xc_check_output_path (part, error))
    return FALSE;
  msg = soup_message_new (SOUP_METHOD_GET, url);
  if (msg == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "%s: not an http(s) address", url);
      return FALSE;
    }
  if (g_stat (part, &st) == 0 && S_ISREG (st.st_mode) && st.st_size > 0)
    {
      have = st.st_size;
      soup_message_headers_set_range (soup_message_get_request_headers (msg), have, -1);
    }
  in = soup_session_send (session, msg, NULL, &local);
  if (in == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO,
                   "cannot reach %s (%s): download it by hand and put it at %s", url,
                   local->message, dest);
      return FALSE;
    }
  status = soup_message_get_status (msg);
  if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE && have > 0)
    {
      /* the part is already whole */
      g_input_stream_close (in, NULL, NULL);
      if (!check_md5 (part, md5, error))
        return FALSE;
      goto done;
    }
  if (status != SOUP_STATUS_OK && status != SOUP_STATUS_PARTIAL_CONTENT)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: the server answered %u %s; download it "
                   "by hand and put it at %s", url, status,
                   soup_message_get_reason_phrase (msg), dest);
      return FALSE;
    }
  if (status == SOUP_STATUS_OK)
    have = 0;   /* no resume: the whole file again */
  total = soup_message_headers_get_content_length (soup_message_get_response_headers (msg));
  if (total > 0)
    total += have;
  out = g_fopen (part, have > 0 ? "ab" : "wb");
  if (out == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", part, g_strerror (errno));
      return FALSE;
    }
  buf = g_malloc (CHUNK);
  while ((n = g_input_stream_read (in, buf, CHUNK, NULL, &local)) > 0)
    {
      if (fwrite (buf, 1, n, out) != (size_t) n)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", part, g_strerror (errno));
          fclose (out);
          return FALSE;
        }
      have += n;
      if (progress != NULL && !progress (have, total, data))
        {
          fclose (out);
          g_set_error (error, XC_ERROR, XC_ERROR_CANCELLED,
                       "cancelled: %s keeps the %" G_GOFFSET_FORMAT " bytes so far for a resume",
                       part, have);
          return FALSE;
        }
    }
  if (fclose (out) != 0 || n < 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: the connection broke after %"
                   G_GOFFSET_FORMAT " bytes (%s); run the download again to resume", url, have,
                   local ? local->message : g_strerror (errno));
      return FALSE;
    }
  if (total > 0 && have != total)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: the connection ended after %"
                   G_GOFFSET_FORMAT " of %" G_GOFFSET_FORMAT " bytes; run the download again "
                   "to resume", url, have, total);
      return FALSE;
    }
  if (!check_md5 (part, md5, error))
    return FALSE;

done:
  if (g_rename (part, dest) != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", dest, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}
