/* SPDX-License-Identifier: MIT
 *
 * Timing: a median of repeated runs (the bench, the comparison's latency,
 * the separable calculator's measurements all use these), and the sgemm
 * speed the bench compares the forward pass with.
 */
#define G_LOG_DOMAIN "xc-timing"

#include <stdlib.h>

#include "kernels/xc-kernels.h"
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
  return xc_plan_time_forward_ops (plan, runs, seed, ms, NULL);
}

/**
 * xc_plan_time_forward_ops:
 * @op_ms: (array fixed-size=XC_N_OPS) (out caller-allocates) (nullable): per
 *   op kind, the median over the runs of its nodes' summed time, in ms
 *
 * xc_plan_time_forward(), with where the time went.
 */
double
xc_plan_time_forward_ops (XcPlan *plan, int runs, guint64 seed, double *ms, double *op_ms)
{
  const XcModel *model = xc_plan_model (plan);
  g_autofree double *own = NULL;
  g_autofree double *per_op = op_ms ? g_new0 (double, (size_t) XC_N_OPS * runs) : NULL;
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
      for (guint i = 1; per_op && i < model->nodes->len; i++)
        per_op[(size_t) xc_model_node (model, i)->op * runs + r] +=
          xc_plan_node_run (plan, i)->time_us / 1000.0;
    }
  for (int op = 0; per_op && op < XC_N_OPS; op++)
    op_ms[op] = xc_timing_median (per_op + (size_t) op * runs, runs);
  return xc_timing_median (ms, runs);
}

/**
 * xc_sgemm_peak_gflops:
 *
 * The GEMM speed the forward pass is measured against: a 2048 x 2048 x
 * 2048 sgemm through the engine's GEMM (the threads set with
 * xc_set_threads()), the best of five, in GFLOP/s (2 FLOPs a multiply-add).
 */
double
xc_sgemm_peak_gflops (void)
{
  const int n = 2048;
  g_autofree float *a = g_new (float, (size_t) n * n);
  g_autofree float *b = g_new (float, (size_t) n * n);
  g_autofree float *c = g_new (float, (size_t) n * n);
  double best = G_MAXDOUBLE;

  for (size_t i = 0; i < (size_t) n * n; i++)
    {
      a[i] = xc_seeded_uniform (7, 0, i) - 0.5f;
      b[i] = xc_seeded_uniform (7, 1, i) - 0.5f;
    }
  for (int r = 0; r < 6; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      xc_f32_gemm (a, b, c, n, n, n, 0.0f);
      if (r > 0)
        best = MIN (best, (g_get_monotonic_time () - t0) / 1e6);
    }
  return 2.0 * n * n * n / best / 1e9;
}
