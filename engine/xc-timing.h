/* SPDX-License-Identifier: MIT
 *
 * The one way the engine times things: repeated runs, sorted, the median.
 */
#pragma once

#include "xc-plan.h"

G_BEGIN_DECLS

double xc_timing_median          (double  *ms,
                                  int      n);
double xc_plan_time_forward      (XcPlan  *plan,
                                  int      runs,
                                  guint64  seed,
                                  double  *ms);
double xc_plan_time_forward_ops  (XcPlan  *plan,
                                  int      runs,
                                  guint64  seed,
                                  double  *ms,
                                  double  *op_ms);
double xc_sgemm_peak_gflops      (void);

G_END_DECLS
