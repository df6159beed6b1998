/* SPDX-License-Identifier: MIT
 *
 * Process-wide runtime settings of the two libraries that own threads:
 * OpenBLAS (GEMM) and OpenMP (our depthwise and pooling loops).
 *
 * Both read their environment once, when they are loaded, before main()
 * runs, so xc_runtime_init() fixes the environment and re-executes the
 * program once:
 * - OPENBLAS_CORETYPE: Debian's OpenBLAS 0.3.21 does not recognise recent
 *   CPUs (Sapphire Rapids, for one) and falls back to its SSE3 "Prescott"
 *   kernels, 5x slower than its AVX-512 ones; it takes AMD's AVX-512 EPYCs
 *   (Zen 4) for a Zen and uses AVX2 kernels (207 against 386 GFLOP/s of
 *   sgemm, measured on one). When OpenBLAS chose a core older than what the
 *   CPU supports, we name the newest kernel family the CPU has (SkylakeX for
 *   AVX-512, Haswell for AVX2). A value the user set is always kept.
 * - OMP_WAIT_POLICY=active, GOMP_SPINCOUNT=30000: OpenMP's threads are the
 *   only compute threads (OpenBLAS runs single-threaded inside them, see
 *   kernels/f32-gemm.c), so they spin a little after each parallel loop
 *   before sleeping: the next layer's loop starts at once. Without the
 *   explicit spin count libgomp spins only 1,000 times when it sees as many
 *   threads as cores (Xception 299 forward: 185-192 ms sleeping at once,
 *   145-149 ms spinning, alternating runs on 2 AVX2 cores). Each spin is a
 *   PAUSE (65-140 cycles): 30,000 of them leave 1.0 ms of CPU spent after a
 *   forward's last loop, where 300,000 left 9.5 ms, taken from whatever
 *   runs next (the window's paint of the predictions, another process) for
 *   the same forward (160 vs 163 ms, ten alternating runs each on Zen 3).
 * The thread count is then set once for both.
 */
#define G_LOG_DOMAIN "xc-runtime"

#include <unistd.h>
#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "xc.h"
#include "kernels/xc-kernels.h"

#define REEXEC_GUARD "XC_RUNTIME_INIT"

static const char *
wanted_coretype (void)
{
  static const char *old_cores[] = { "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                     "Atom", "Sandybridge", "Katmai", "Coppermine", "Northwood",
                                     "Banias" };
  /* AVX2 kernel families: on a CPU with AVX-512 (AMD Zen 4 is taken for a
   * "Zen"), their GEMM runs near half the speed of the SkylakeX kernels */
  static const char *avx2_cores[] = { "Haswell", "Zen" };
  const char *core = openblas_get_corename ();
  gboolean old = FALSE, avx2 = FALSE, avx512;

#if defined(__x86_64__) || defined(__i386__)
  for (guint i = 0; i < G_N_ELEMENTS (old_cores); i++)
    old |= g_ascii_strcasecmp (core, old_cores[i]) == 0;
  for (guint i = 0; i < G_N_ELEMENTS (avx2_cores); i++)
    avx2 |= g_ascii_strcasecmp (core, avx2_cores[i]) == 0;
  __builtin_cpu_init ();
  avx512 = __builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
           __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq");
  if (avx2 && avx512)
    return "SkylakeX";
  if (!old)
    return NULL;
  if (avx512)
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
#endif
  return NULL;
}

/**
 * xc_runtime_init:
 * @argv: main()'s argv, to re-execute with
 *
 * Call first thing in main(). May not return: it re-executes the program
 * once with a fixed environment (see the top of this file).
 */
void
xc_runtime_init (char **argv)
{
  const char *core;
  gboolean again = FALSE;

  if (g_getenv (REEXEC_GUARD) != NULL)
    return;
  g_setenv (REEXEC_GUARD, "1", TRUE);
  if (g_getenv ("OPENBLAS_CORETYPE") == NULL && (core = wanted_coretype ()) != NULL)
    {
      g_setenv ("OPENBLAS_CORETYPE", core, TRUE);
      again = TRUE;
    }
  /* no idle OpenBLAS server threads: xc_set_threads() keeps it at one */
  if (g_getenv ("OPENBLAS_NUM_THREADS") == NULL)
    {
      g_setenv ("OPENBLAS_NUM_THREADS", "1", TRUE);
      again = TRUE;
    }
  if (g_getenv ("OMP_WAIT_POLICY") == NULL && g_getenv ("GOMP_SPINCOUNT") == NULL)
    {
      g_setenv ("OMP_WAIT_POLICY", "active", TRUE);
      g_setenv ("GOMP_SPINCOUNT", "30000", TRUE);
      again = TRUE;
    }
  if (again)
    execv ("/proc/self/exe", argv);
  /* if exec failed we simply run with what we have */
}

void
xc_set_threads (int threads)
{
  threads = CLAMP (threads, 1, 256);
  /* OpenBLAS single-threaded: kernels/f32-gemm.c splits GEMMs over
   * OpenMP's threads */
  openblas_set_num_threads (1);
#ifdef _OPENMP
  omp_set_num_threads (threads);
#endif
}

int
xc_get_threads (void)
{
#ifdef _OPENMP
  return omp_get_max_threads ();
#else
  return 1;
#endif
}

const char *
xc_blas_core (void)
{
  return openblas_get_corename ();
}

/**
 * xc_gemm_name:
 *
 * Returns: the GEMM the forward pass's products run on: "own 6x16 AVX2",
 *   "own 6x32 AVX-512" or "OpenBLAS" (see kernels/f32-gemm.c)
 */
const char *
xc_gemm_name (void)
{
  return xc_f32_gemm_name ();
}
