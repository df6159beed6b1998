/* SPDX-License-Identifier: MIT
 *
 * Timing: a median of repeated runs (the bench, the comparison's latency,
 * the separable calculator's measurements all use these two).
 */
#define G_LOG_DOMAIN "xc-timing"

#include <stdlib.h>

#include "xc-random.h"
#include "xc-timing.h"

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/**
 * xc_timing_median:
 * @ms: (array length=n) (inout): times; sorted on return
 *
 * Returns: the median (the upper one of an even count)
 */
double
xc_timing_median (double *ms, int n)
{
  g_return_val_if_fail (n > 0, 0.0);
  qsort (ms, n, sizeof (double), cmp_double);
  return ms[n / 2];
}

/**
 * xc_plan_time_forward:
 * @plan: a plan
 * @runs: timed runs (at least 1)
 * @seed: the input is uniform in [-1, 1) from this seed
 * @ms: (array length=runs) (out caller-allocates) (nullable): each run's
 *   time, sorted
 *
 * One untimed warm-up forward, then @runs timed ones (the plan's own
 * per-node clock, in ms).
 *
 * Returns: the median forward time in ms
 */
double
xc_plan_time_forward (XcPlan *plan, int runs, guint64 seed, double *ms)
{
  g_autofree double *own = NULL;
  XcTensor in = xc_plan_input (plan);

  g_return_val_if_fail (runs > 0, 0.0);
  if (ms == NULL)
    ms = own = g_new (double, runs);
  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    in.data[i] = 2.0f * xc_seeded_uniform (seed, 0, i) - 1.0f;
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  for (int r = 0; r < runs; r++)
    {
      xc_plan_run (plan, FALSE, NULL, NULL, NULL);
      ms[r] = xc_plan_total_us (plan) / 1000.0;
    }
  return xc_timing_median (ms, runs);
}
