/* SPDX-License-Identifier: MIT
 *
 * Two models side by side: the same image through both, the explanation
 * target matched by label, how far their maps agree; and their costs.
 */
#pragma once

#include "xc-model.h"
#include "xc-plan.h"
#include "xc-dataset.h"

G_BEGIN_DECLS

typedef struct {
  double  latency_ms;      /* median forward, batch 1 */
  double  latency_q1_ms;   /* its interquartile range (xc_models_measure_pair) */
  double  latency_q3_ms;
  int     runs;
  size_t  memory_bytes;    /* weights plus the planned activations */
} XcModelCost;

gboolean xc_compare_match_class (const XcModel *a,
                                 int            class_a,
                                 const XcModel *b,
                                 int           *class_b);
gboolean xc_compare_same_class  (const XcModel *a,
                                 int            class_a,
                                 const XcModel *b,
                                 int            class_b);
double   xc_map_correlation     (const float   *a,
                                 int            ha,
                                 int            wa,
                                 const float   *b,
                                 int            hb,
                                 int            wb);
void     xc_map_agreement       (const float   *a,
                                 int            ha,
                                 int            wa,
                                 const float   *b,
                                 int            hb,
                                 int            wb,
                                 double         top_fraction,
                                 double        *rank,
                                 double        *overlap);
double   xc_mcnemar_exact_p     (guint          only_a,
                                 guint          only_b);
double   xc_calibration         (const float   *confidence,
                                 const gboolean *correct,
                                 int            n,
                                 int            bins,
                                 int           *count,
                                 double        *mean_confidence,
                                 double        *accuracy);
char    *xc_csv_field           (const char    *value);
int      xc_dataset_class_in_model (const XcDataset *ds,
                                    int              c,
                                    const XcModel   *model);
gboolean xc_models_measure_pair (const XcModel *a,
                                 const XcModel *b,
                                 int            runs,
                                 XcModelCost   *out,
                                 GError       **error);
void     xc_plans_time_pair     (XcPlan        *a,
                                 XcPlan        *b,
                                 int            runs,
                                 XcModelCost   *out);
gboolean xc_model_measure_cost  (const XcModel *model,
                                 int            runs,
                                 XcModelCost   *out,
                                 GError       **error);

G_END_DECLS
