/* SPDX-License-Identifier: MIT
 *
 * The limit is half of physical memory unless set (--max-memory, or the
 * environment's XCEPTION_MAX_MEMORY): one process-wide number, written once
 * at start-up and read by every check.
 */
#define G_LOG_DOMAIN "xc-memory"

#include <stdlib.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#include "xc-error.h"
#include "xc-memory.h"

static guint64 limit;   /* 0: not set yet */

/**
 * xc_memory_parse_size:
 *
 * Parses "4G", "512M", "100K" or a byte count (binary units).
 */
gboolean
xc_memory_parse_size (const char *text, guint64 *bytes, GError **error)
{
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);
  double k = 1;

  if (end != text && *end)
    {
      switch (g_ascii_toupper (*end))
        {
        case 'K': k = 1024.0; break;
        case 'M': k = 1024.0 * 1024; break;
        case 'G': k = 1024.0 * 1024 * 1024; break;
        case 'T': k = 1024.0 * 1024 * 1024 * 1024; break;
        default: end = NULL;
        }
      if (end && end[1] != '\0' && !(g_ascii_toupper (end[1]) == 'B' && end[2] == '\0'))
        end = NULL;
    }
  if (end == text || end == NULL || !(v * k >= 1024 * 1024) || v * k > 1e18)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--max-memory %s: a size like 4G, 512M "
                   "or a byte count, at least 1M", text);
      return FALSE;
    }
  *bytes = (guint64) (v * k);
  return TRUE;
}

/* Half of physical memory, or XCEPTION_MAX_MEMORY */
guint64
xc_memory_limit (void)
{
  guint64 l = g_atomic_pointer_get ((gpointer *) &limit) ? limit : 0;

  if (l == 0)
    {
      const char *env = g_getenv ("XCEPTION_MAX_MEMORY");
      long pages = sysconf (_SC_PHYS_PAGES), size = sysconf (_SC_PAGESIZE);
      if (env == NULL || !xc_memory_parse_size (env, &l, NULL))
        l = pages > 0 && size > 0 ? (guint64) pages * size / 2 : (guint64) 4 << 30;
      limit = l;
    }
  return l;
}

void
xc_memory_set_limit (guint64 bytes)
{
  limit = bytes;
}

/**
 * xc_memory_check:
 * @what: what needs it, for the message ("the plan of xception at 2048x2048")
 *
 * Returns: %FALSE with @error when @bytes is over the limit
 */
gboolean
xc_memory_check (guint64 bytes, const char *what, GError **error)
{
  guint64 l = xc_memory_limit ();

  if (bytes <= l)
    return TRUE;
  g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s needs %.2f GB, over the memory limit of "
               "%.2f GB (half of physical memory unless --max-memory says otherwise)", what,
               bytes / 1e9, l / 1e9);
  return FALSE;
}

/**
 * xc_memory_advise_huge_pages:
 * @p: a large buffer the hot loops stream through (the weight slab, a
 *   plan's arena)
 *
 * Asks for 2 MB pages over the 2 MB-aligned part of it, before it is first
 * touched. Debian's kernels give transparent huge pages only on request
 * (transparent_hugepage=madvise), and the GEMM's packing walks the weights
 * a row (2.9 KB) at a time: each row a 4 KB page, a TLB miss each. Xception
 * 299's forward, both kinds of plan alternating in one process: 1.5-3%
 * faster, 122 of 200 runs. Advice only: nothing fails without it.
 */
void
xc_memory_advise_huge_pages (void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const guintptr huge = 2u << 20;
  guintptr start = ((guintptr) p + huge - 1) & ~(huge - 1);
  guintptr end = ((guintptr) p + bytes) & ~(huge - 1);

  if (p != NULL && end > start)
    (void) madvise ((void *) start, end - start, MADV_HUGEPAGE);
#else
  (void) p;
  (void) bytes;
#endif
}
