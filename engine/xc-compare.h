/* SPDX-License-Identifier: MIT
 *
 * Two models side by side: the same image through both, the explanation
 * target matched by label, how far their maps agree; and their costs.
 */
#pragma once

#include "xc-model.h"

G_BEGIN_DECLS

typedef struct {
  double  latency_ms;      /* median forward, batch 1 */
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
gboolean xc_model_measure_cost  (const XcModel *model,
                                 int            runs,
                                 XcModelCost   *out,
                                 GError       **error);

G_END_DECLS
