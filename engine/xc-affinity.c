/* SPDX-License-Identifier: MIT
 *
 * One CPU a compute thread while a plan runs.
 *
 * On a small machine with as many OpenMP threads as CPUs (2 threads on the
 * 2-vCPU VMs we measure on), a thread of another process that keeps a CPU
 * busy (ONNX Runtime's pool spins for 30-40 ms after each of its runs) makes
 * the scheduler move our threads about: a thread woken at a barrier lands
 * where the other just ran, and a parallel loop's two halves share a CPU
 * for a while. Pinning each thread of the team to a CPU of its own for the
 * run, and giving the threads back their CPU set after it, measured the
 * Xception 299 forward 1.5-4% faster with such a neighbour (run by run
 * against the same binary unpinned, 56 of 90 pairs), and the same without
 * one (49 of 90 pairs: 1.007, 0.997, 1.010).
 *
 * It is done only when it cannot fight with someone else's choice: the
 * user set none of OMP_PROC_BIND, OMP_PLACES, GOMP_CPU_AFFINITY (and not
 * XC_PIN_THREADS=0), the team has at least two threads and exactly as many
 * CPUs as the calling thread may run on. The calling thread (the team's
 * master) keeps the CPU it is on; the others take the rest in order.
 * Bound to the length of a run, nothing outlives it: threads made later
 * (GLib's, the app's) inherit the CPU set they would have had.
 */
#define G_LOG_DOMAIN "xc-affinity"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "xc-affinity.h"

G_STATIC_ASSERT (sizeof (((XcPinning *) NULL)->mask) >= sizeof (cpu_set_t));

/**
 * xc_affinity_enabled:
 *
 * Returns: whether runs may pin their threads: no OpenMP affinity setting
 *   of the user's, and XC_PIN_THREADS is not "0"
 */
gboolean
xc_affinity_enabled (void)
{
  static int enabled = -1;

  if (enabled < 0)
    enabled = g_getenv ("OMP_PROC_BIND") == NULL && g_getenv ("OMP_PLACES") == NULL &&
              g_getenv ("GOMP_CPU_AFFINITY") == NULL &&
              g_strcmp0 (g_getenv ("XC_PIN_THREADS"), "0") != 0;
  return enabled;
}

/**
 * xc_affinity_team_cpus:
 * @cpus: (out caller-allocates) (array length=max): the CPU for each thread
 *   of the team, the caller's own first
 * @max: room in @cpus
 *
 * Returns: how many CPUs the calling thread may run on and were written to
 *   @cpus (at most @max), the one it runs on first; 0 if unknown
 */
int
xc_affinity_team_cpus (int *cpus, int max)
{
  cpu_set_t set;
  int n = 0, here = sched_getcpu ();

  CPU_ZERO (&set);
  if (max < 1 || pthread_getaffinity_np (pthread_self (), sizeof set, &set) != 0)
    return 0;
  if (here >= 0 && here < CPU_SETSIZE && CPU_ISSET (here, &set))
    cpus[n++] = here;
  for (int c = 0; c < CPU_SETSIZE && n < max; c++)
    if (CPU_ISSET (c, &set) && c != here)
      cpus[n++] = c;
  return CPU_COUNT (&set) <= max ? n : 0;
}

/**
 * xc_affinity_pin_team:
 * @pin: (out): what to undo with xc_affinity_unpin_team()
 *
 * Pins each thread of the next parallel regions' team (omp_get_max_threads()
 * of them) to a CPU of its own, where the rules at the top of this file
 * allow it. Call outside any parallel region, from the thread that will run
 * the regions.
 *
 * Returns: whether the team was pinned
 */
gboolean
xc_affinity_pin_team (XcPinning *pin)
{
  memset (pin, 0, sizeof *pin);
#ifdef _OPENMP
  {
    int t = omp_get_max_threads (), cpus[256], n;
    gboolean ok = TRUE;

    if (!xc_affinity_enabled () || omp_in_parallel () || t < 2 || t > 256)
      return FALSE;
    n = xc_affinity_team_cpus (cpus, G_N_ELEMENTS (cpus));
    if (n != t ||
        pthread_getaffinity_np (pthread_self (), sizeof (cpu_set_t), (cpu_set_t *) pin->mask) != 0)
      return FALSE;
#pragma omp parallel num_threads (t) reduction (&& : ok)
    {
      int i = omp_get_thread_num ();
      cpu_set_t one;

      CPU_ZERO (&one);
      CPU_SET (cpus[i], &one);
      ok = omp_get_num_threads () == t &&
           pthread_setaffinity_np (pthread_self (), sizeof one, &one) == 0;
    }
    pin->pinned = TRUE;
    pin->threads = t;
    if (!ok)
      {
        /* a thread short or a CPU refused: give every thread its set back */
        xc_affinity_unpin_team (pin);
        return FALSE;
      }
    return TRUE;
  }
#else
  return FALSE;
#endif
}

/**
 * xc_affinity_unpin_team:
 * @pin: what xc_affinity_pin_team() did
 *
 * Gives the team's threads back the CPU set the calling thread had before.
 */
void
xc_affinity_unpin_team (XcPinning *pin)
{
#ifdef _OPENMP
  if (!pin->pinned)
    return;
#pragma omp parallel num_threads (pin->threads)
  pthread_setaffinity_np (pthread_self (), sizeof (cpu_set_t), (const cpu_set_t *) pin->mask);
  pin->pinned = FALSE;
#else
  (void) pin;
#endif
}
