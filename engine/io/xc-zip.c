/* SPDX-License-Identifier: MIT
 *
 * The zip container of Keras 3's .keras files (PKWARE APPNOTE 6.3): entries
 * found through the central directory at the end, read without unpacking to
 * disk. Keras writes them stored (uncompressed): such an entry is a slice of
 * the archive's own bytes, no copy; a deflated one (a re-zipped file) is
 * inflated with GIO's zlib converter. The CRC-32 of every entry read is
 * checked. ZIP64 archives (over 4 GB) are refused by name.
 */
#define G_LOG_DOMAIN "xc-zip"

#include <string.h>
#include <errno.h>
#include <stdio.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "xc-error.h"
#include "xc-zip.h"

static guint32
le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static guint16
le16 (const guint8 *p)
{
  return p[0] | (p[1] << 8);
}

/* CRC-32 (ISO-HDLC, as zip uses), table-driven */
guint32
xc_crc32 (const guint8 *data, gsize len)
{
  static guint32 table[256];
  static gsize once;
  guint32 c = 0xffffffffu;

  if (g_once_init_enter (&once))
    {
      for (guint32 i = 0; i < 256; i++)
        {
          guint32 v = i;
          for (int k = 0; k < 8; k++)
            v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
          table[i] = v;
        }
      g_once_init_leave (&once, 1);
    }
  for (gsize i = 0; i < len; i++)
    c = table[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static GBytes *
inflate_raw (const guint8 *src, gsize len, gsize want, GError **error)
{
  g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  guint8 *out = g_try_malloc (MAX (want, 1));
  gsize read, written;
  GConverterResult r;

  if (out == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "cannot allocate %zu bytes", want);
      return NULL;
    }
  r = g_converter_convert (G_CONVERTER (z), src, len, out, want, G_CONVERTER_INPUT_AT_END,
                           &read, &written, NULL);
  if (r != G_CONVERTER_FINISHED || written != want)
    {
      g_free (out);
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "a deflated entry does not inflate to its "
                   "stated size");
      return NULL;
    }
  return g_bytes_new_take (out, want);
}

/**
 * xc_zip_extract:
 * @zip: the whole archive
 * @entry: the entry's name, e.g. "config.json"
 * @what: the archive's name, for errors
 *
 * Returns: (transfer full): the entry's bytes (for a stored entry, a slice
 *   of @zip), or %NULL with @error
 */
GBytes *
xc_zip_extract (GBytes *zip, const char *entry, const char *what, GError **error)
{
  gsize size;
  const guint8 *z = g_bytes_get_data (zip, &size);
  gsize eocd = 0, cd, cd_end, p;
  guint n;
  gboolean found = FALSE;

  /* the end of central directory record: 22 bytes, then up to 64 KB of comment */
  for (gsize back = 22; back <= MIN (size, (gsize) 22 + 65535); back++)
    if (le32 (z + size - back) == 0x06054b50)
      {
        eocd = size - back;
        found = TRUE;
        break;
      }
  if (!found)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: not a zip archive (no end of central "
                   "directory): a .keras file is one", what);
      return NULL;
    }
  n = le16 (z + eocd + 10);
  cd = le32 (z + eocd + 16);
  cd_end = cd + (gsize) le32 (z + eocd + 12);
  if (le32 (z + eocd + 16) == 0xffffffffu || n == 0xffff)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: a ZIP64 archive (over 4 GB) is "
                   "not supported", what);
      return NULL;
    }
  if (cd_end > eocd || cd > cd_end)
    goto corrupt;
  for (p = cd; n > 0; n--)
    {
      guint16 method, name_len, extra_len, comment_len;
      guint32 crc, csize, usize, local;
      gsize data;
      GBytes *out;

      if (p + 46 > cd_end || le32 (z + p) != 0x02014b50)
        goto corrupt;
      method = le16 (z + p + 10);
      crc = le32 (z + p + 16);
      csize = le32 (z + p + 20);
      usize = le32 (z + p + 24);
      name_len = le16 (z + p + 28);
      extra_len = le16 (z + p + 30);
      comment_len = le16 (z + p + 32);
      local = le32 (z + p + 42);
      if (p + 46 + name_len > cd_end)
        goto corrupt;
      if (name_len != strlen (entry) || memcmp (z + p + 46, entry, name_len) != 0)
        {
          p += 46 + (gsize) name_len + extra_len + comment_len;
          continue;
        }
      if (csize == 0xffffffffu || usize == 0xffffffffu || local == 0xffffffffu)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: %s is a ZIP64 entry (over "
                       "4 GB): not supported", what, entry);
          return NULL;
        }
      if ((gsize) local + 30 > size || le32 (z + local) != 0x04034b50)
        goto corrupt;
      data = (gsize) local + 30 + le16 (z + local + 26) + le16 (z + local + 28);
      if (data > size || csize > size - data)
        goto corrupt;
      if (method == 0 && csize == usize)
        out = g_bytes_new_from_bytes (zip, data, csize);
      else if (method == 8)
        {
          out = inflate_raw (z + data, csize, usize, error);
          if (out == NULL)
            {
              g_prefix_error (error, "%s: %s: ", what, entry);
              return NULL;
            }
        }
      else
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: %s is compressed with method "
                       "%u (only stored and deflated are read)", what, entry, method);
          return NULL;
        }
      if (xc_crc32 (g_bytes_get_data (out, NULL), g_bytes_get_size (out)) != crc)
        {
          g_bytes_unref (out);
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: %s fails its CRC-32 check "
                       "(corrupt archive)", what, entry);
          return NULL;
        }
      return out;
    }
  g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: no %s in the archive (not a Keras 3 "
               "model file)", what, entry);
  return NULL;

corrupt:
  g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: the zip directory is corrupt or "
               "truncated", what);
  return NULL;
}

static void
put16 (GByteArray *a, guint16 v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };
  g_byte_array_append (a, b, 2);
}

static void
put32 (GByteArray *a, guint32 v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
  g_byte_array_append (a, b, 4);
}

/**
 * xc_zip_write:
 * @names: (array length=n): entry names
 * @contents: (array length=n): their bytes, stored uncompressed as Keras does
 *
 * Writes a zip archive to @path (through a temporary file renamed over it).
 */
gboolean
xc_zip_write (const char *path, const char *const *names, GBytes *const *contents, guint n,
              GError **error)
{
  g_autoptr(GByteArray) head = g_byte_array_new ();
  g_autoptr(GByteArray) dir = g_byte_array_new ();
  char *tmp = xc_output_begin (path, error);
  gsize offset = 0;
  FILE *f;
  gboolean ok;

  if (tmp == NULL)
    return FALSE;
  if ((f = g_fopen (tmp, "wb")) == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", path, g_strerror (errno));
      return xc_output_end (tmp, path, FALSE, NULL);
    }
  ok = TRUE;
  for (guint i = 0; i < n && ok; i++)
    {
      gsize len;
      const guint8 *d = g_bytes_get_data (contents[i], &len);
      guint32 crc = xc_crc32 (d, len);
      guint16 nl = (guint16) strlen (names[i]);

      if (len >= 0xffffffffu || offset >= 0xffffffffu)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: over 4 GB (ZIP64) is not "
                       "written", path);
          ok = FALSE;
          break;
        }
      g_byte_array_set_size (head, 0);
      put32 (head, 0x04034b50);
      put16 (head, 20), put16 (head, 0), put16 (head, 0);   /* version, flags, stored */
      put16 (head, 0), put16 (head, 0x21);                    /* time, date: 1980-01-01 */
      put32 (head, crc), put32 (head, len), put32 (head, len);
      put16 (head, nl), put16 (head, 0);
      g_byte_array_append (head, (const guint8 *) names[i], nl);
      ok = fwrite (head->data, 1, head->len, f) == head->len && fwrite (d, 1, len, f) == len;

      put32 (dir, 0x02014b50);
      put16 (dir, 20), put16 (dir, 20), put16 (dir, 0), put16 (dir, 0);
      put16 (dir, 0), put16 (dir, 0x21);
      put32 (dir, crc), put32 (dir, len), put32 (dir, len);
      put16 (dir, nl), put16 (dir, 0), put16 (dir, 0), put16 (dir, 0), put16 (dir, 0);
      put32 (dir, 0), put32 (dir, offset);
      g_byte_array_append (dir, (const guint8 *) names[i], nl);
      offset += head->len + len;
    }
  if (ok)
    {
      g_byte_array_set_size (head, 0);
      put32 (head, 0x06054b50);
      put16 (head, 0), put16 (head, 0), put16 (head, n), put16 (head, n);
      put32 (head, dir->len), put32 (head, offset), put16 (head, 0);
      ok = fwrite (dir->data, 1, dir->len, f) == dir->len &&
           fwrite (head->data, 1, head->len, f) == head->len;
      if (!ok)
        g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", path, g_strerror (errno));
    }
  if (fclose (f) != 0 && ok)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", path, g_strerror (errno));
      ok = FALSE;
    }
  return xc_output_end (tmp, path, ok, error);
}
