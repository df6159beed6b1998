/* SPDX-License-Identifier: MIT
 *
 * The engine's thread count: OpenBLAS's pool and OpenMP's, set together,
 * once, by the program (never per call: neither library likes it changed
 * while running).
 */
#define G_LOG_DOMAIN "xc-threads"

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "xc.h"

void
xc_set_threads (int threads)
{
  threads = CLAMP (threads, 1, 256);
  openblas_set_num_threads (threads);
#ifdef _OPENMP
  omp_set_num_threads (threads);
#endif
}

int
xc_get_threads (void)
{
  return openblas_get_num_threads ();
}
