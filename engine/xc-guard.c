/* SPDX-License-Identifier: MIT
 *
 * The fault guard of xc-guard.h: handlers installed for the guarded call
 * only, a thread-local return point, the previous handlers restored (and
 * called for faults in other threads).
 */
#define G_LOG_DOMAIN "xc-guard"

#include <string.h>

#include "xc-guard.h"

static const int signals[3] = { SIGSEGV, SIGBUS, SIGFPE };
static __thread XcGuard *current;
static struct sigaction previous[3];

static void
on_fault (int sig, siginfo_t *info, void *ctx)
{
  if (current != NULL)
    siglongjmp (current->env, sig);
  /* not ours: the handler from before, as it would have run */
  for (int k = 0; k < 3; k++)
    if (signals[k] == sig)
      {
        if (previous[k].sa_flags & SA_SIGINFO && previous[k].sa_sigaction)
          previous[k].sa_sigaction (sig, info, ctx);
        else if (previous[k].sa_handler != SIG_IGN && previous[k].sa_handler != SIG_DFL &&
                 previous[k].sa_handler)
          previous[k].sa_handler (sig);
        else
          {
            signal (sig, SIG_DFL);
            raise (sig);
          }
      }
}

void
_xc_guard_arm (XcGuard *g)
{
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigemptyset (&sa.sa_mask);
  for (int k = 0; k < 3; k++)
    {
      sigaction (signals[k], &sa, &g->old[k]);
      if (g->old[k].sa_sigaction != on_fault)
        previous[k] = g->old[k];
    }
  current = g;
}

void
_xc_guard_disarm (XcGuard *g)
{
  current = NULL;
  for (int k = 0; k < 3; k++)
    sigaction (signals[k], &g->old[k], NULL);
}
