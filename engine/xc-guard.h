/* SPDX-License-Identifier: MIT
 *
 * A last line of defence around third-party parsers that crash on hostile
 * files (libhdf5 1.10 reading a corrupt global heap, DCMTK's RLE decoder on
 * corrupt runs; both found by tests/fuzz): a SIGSEGV/SIGBUS/SIGFPE inside
 * a guarded call returns to the caller as an error instead of killing the
 * program. Only the thread that entered the guard is caught; a fault
 * anywhere else goes to the handler that was there before.
 *
 *   XC_GUARD_BEGIN (g)
 *     ... the library call ...
 *   XC_GUARD_END (g)
 *   if (g.faulted) -> report, and do not use that library's state again
 */
#pragma once

#include <setjmp.h>
#include <signal.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  sigjmp_buf       env;
  struct sigaction old[3];
  int              faulted;    /* the signal that was caught, or 0 */
} XcGuard;

void _xc_guard_arm    (XcGuard *g);
void _xc_guard_disarm (XcGuard *g);

#define XC_GUARD_BEGIN(g)                              \
  (g).faulted = sigsetjmp ((g).env, 1);                 \
  if ((g).faulted == 0)                                 \
    {                                                   \
      _xc_guard_arm (&(g));

#define XC_GUARD_END(g)                                \
    }                                                   \
  _xc_guard_disarm (&(g));

G_END_DECLS
