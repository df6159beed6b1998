/* SPDX-License-Identifier: MIT
 *
 * What the libFuzzer targets share: a small memory limit (an input may ask
 * for any size; it must be refused, not allocated) and a temporary file for
 * the readers that take a path.
 */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "xc.h"

static inline void
fuzz_init (void)
{
  static gboolean done;

  if (!done)
    {
      xc_memory_set_limit ((guint64) 512 << 20);
      done = TRUE;
    }
}

/* The input as a file named with @ext (the image reader picks its decoder by
 * content; DICOM also by the .dcm extension); the caller unlinks it */
static inline char *
fuzz_file (const uint8_t *data, size_t size, const char *ext)
{
  g_autofree char *tmpl = g_strdup_printf ("%s/xc-fuzz-XXXXXX%s", g_get_tmp_dir (), ext);
  int fd = g_mkstemp_full (tmpl, O_RDWR, 0600);

  if (fd < 0)
    return NULL;
  if (write (fd, data, size) != (ssize_t) size)
    {
      close (fd);
      g_unlink (tmpl);
      return NULL;
    }
  close (fd);
  return g_steal_pointer (&tmpl);
}
