/* SPDX-License-Identifier: MIT
 *
 * Reading and writing .npy: a magic string, a header length, a Python dict
 * literal {'descr': '<f4', 'fortran_order': False, 'shape': (...), } padded
 * to 64 bytes, then the raw data. We accept float32 (and float64, converted)
 * in C order with up to 4 dimensions.
 */
#define G_LOG_DOMAIN "xc-npy"

#include <string.h>

#include "xc-error.h"
#include "xc-npy.h"

gboolean
xc_npy_write (const char  *path,
              const float *data,
              const int   *shape,
              int          ndims,
              GError     **error)
{
  g_autoptr(GString) header = g_string_new ("{'descr': '<f4', 'fortran_order': False, 'shape': (");
  g_autoptr(GString) file = NULL;
  size_t n = 1;
  guint16 hlen;

  g_return_val_if_fail (ndims >= 1 && ndims <= 4, FALSE);
  for (int i = 0; i < ndims; i++)
    {
      g_string_append_printf (header, "%d,%s", shape[i], i + 1 < ndims ? " " : "");
      n *= shape[i];
    }
  g_string_append (header, "), }");
  while ((10 + header->len + 1) % 64 != 0)
    g_string_append_c (header, ' ');
  g_string_append_c (header, '\n');
  hlen = GUINT16_TO_LE ((guint16) header->len);

  file = g_string_sized_new (10 + header->len + n * 4);
  g_string_append_len (file, "\x93NUMPY\x01\x00", 8);
  g_string_append_len (file, (const char *) &hlen, 2);
  g_string_append_len (file, header->str, header->len);
  g_string_append_len (file, (const char *) data, n * sizeof (float));
  return xc_output_write (path, file->str, file->len, error);
}

/* One value of the header dict: a quoted string, a bare word (True,
 * False) or a tuple; returns where it ends, or NULL */
static const char *
scan_value (const char *p, char **value)
{
  const char *start = p, *end;

  if (*p == '\'' || *p == '"')
    end = strchr (p + 1, *p), end = end ? end + 1 : NULL;
  else if (*p == '(')
    end = strchr (p, ')'), end = end ? end + 1 : NULL;
  else
    {
      for (end = p; g_ascii_isalnum (*end) || *end == '_'; end++)
        ;
      if (end == p)
        end = NULL;
    }
  if (end == NULL)
    return NULL;
  *value = g_strndup (start, end - start);
  return end;
}

/* The header as the Python dict literal it is: exactly the keys descr,
 * fortran_order and shape, each once (a 'shape' inside another value is
 * not the shape) */
static gboolean
parse_header (const char *h, char **descr, char **fortran, char **shape)
{
  const char *p = h;

  while (*p == ' ')
    p++;
  if (*p++ != '{')
    return FALSE;
  for (;;)
    {
      g_autofree char *key = NULL, *value = NULL;
      char **slot;

      while (*p == ' ' || *p == ',')
        p++;
      if (*p == '}')
        break;
      if ((*p != '\'' && *p != '"') || !(p = scan_value (p, &key)))
        return FALSE;
      while (*p == ' ')
        p++;
      if (*p++ != ':')
        return FALSE;
      while (*p == ' ')
        p++;
      if (!(p = scan_value (p, &value)))
        return FALSE;
      if (strcmp (key + 1, "descr'") == 0 || strcmp (key + 1, "descr\"") == 0)
        slot = descr;
      else if (strcmp (key + 1, "fortran_order'") == 0 || strcmp (key + 1, "fortran_order\"") == 0)
        slot = fortran;
      else if (strcmp (key + 1, "shape'") == 0 || strcmp (key + 1, "shape\"") == 0)
        slot = shape;
      else
        return FALSE;
      if (*slot != NULL)
        return FALSE;
      *slot = g_steal_pointer (&value);
    }
  return *descr && *fortran && *shape;
}

/**
 * xc_npy_read:
 * @shape: (out caller-allocates) (array fixed-size=4): dimensions
 * @ndims: (out): their number
 *
 * Returns: (transfer full): the data as float32, or %NULL with @error naming
 *   the file and the problem
 */
float *
xc_npy_read (const char *path, int *shape, int *ndims, GError **error)
{
  g_autofree char *buf = NULL;
  g_autofree char *header = NULL;
  gsize len = 0;
  size_t hlen, hoff, n = 1;
  g_autofree char *descr = NULL, *fortran = NULL, *shape_s = NULL;
  const char *sh;
  gboolean f64;
  float *out;
  char *end;

  if (!xc_check_user_file (path, "a .npy file", error) ||
      !g_file_get_contents (path, &buf, &len, error))
    return NULL;
  if (len < 10 || memcmp (buf, "\x93NUMPY", 6) != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: not a .npy file", path);
      return NULL;
    }
  if (buf[6] == 1)
    hlen = (guint8) buf[8] | ((guint8) buf[9] << 8), hoff = 10;
  else if ((buf[6] == 2 || buf[6] == 3) && len >= 12)
    hlen = (guint8) buf[8] | ((guint8) buf[9] << 8) | ((size_t) (guint8) buf[10] << 16) |
           ((size_t) (guint8) buf[11] << 24), hoff = 12;
  else
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: unknown .npy version %d", path, buf[6]);
      return NULL;
    }
  if (hoff + hlen > len)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: truncated .npy header", path);
      return NULL;
    }
  header = g_strndup (buf + hoff, hlen);
  if (!parse_header (header, &descr, &fortran, &shape_s) || shape_s[0] != '(')
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: malformed .npy header (a dict of "
                   "exactly descr, fortran_order and shape expected)", path);
      return NULL;
    }
  sh = shape_s;
  if (strcmp (descr, "'<f4'") == 0)
    f64 = FALSE;
  else if (strcmp (descr, "'<f8'") == 0)
    f64 = TRUE;
  else
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: dtype %.6s is not supported (float32 or float64 expected)", path, descr);
      return NULL;
    }
  if (strcmp (fortran, "False") != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: Fortran-ordered arrays are not "
                   "supported", path);
      return NULL;
    }
  *ndims = 0;
  sh++;
  for (;;)
    {
      guint64 d;
      while (*sh == ' ' || *sh == ',')
        sh++;
      if (*sh == ')')
        break;
      d = g_ascii_strtoull (sh, &end, 10);
      if (end == sh || *ndims == 4 || d == 0 || d > (1u << 30))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                       "%s: shape must have 1 to 4 non-zero dimensions", path);
          return NULL;
        }
      shape[(*ndims)++] = (int) d;
      n *= d;
      if (n > ((size_t) 1 << 31))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: array too large", path);
          return NULL;
        }
      sh = end;
    }
  if (*ndims == 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: scalar arrays are not supported",
                   path);
      return NULL;
    }
  if (len - hoff - hlen < n * (f64 ? 8 : 4))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: truncated: %zu values expected",
                   path, n);
      return NULL;
    }
  out = g_try_malloc (n * sizeof (float));
  if (out == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory", path);
      return NULL;
    }
  if (f64)
    for (size_t i = 0; i < n; i++)
      {
        double v;
        memcpy (&v, buf + hoff + hlen + i * 8, 8);
        out[i] = (float) v;
      }
  else
    memcpy (out, buf + hoff + hlen, n * sizeof (float));
  return out;
}
