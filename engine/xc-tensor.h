/* SPDX-License-Identifier: MIT
 *
 * A tensor is a dense NHWC float32 view. It never owns memory: data is
 * borrowed from an XcModel weight slab or an XcPlan arena.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  float *data;        /* borrowed: XcModel slab or plan arena */
  int    n, h, w, c;  /* NHWC, dense */
} XcTensor;

typedef struct {
  double min, max, mean, std;
  double zero_fraction;     /* fraction of elements exactly 0 */
} XcStats;

static inline size_t
xc_tensor_size (const XcTensor *t)
{
  return (size_t) t->n * t->h * t->w * t->c;
}

void  xc_tensor_stats (const XcTensor *t, XcStats *stats);
void  xc_tensor_relu_stats (const XcTensor *t, XcStats *stats);
void  xc_tensor_affine_stats (const XcTensor *t, const float *scale, const float *shift,
                              XcStats *before, XcStats *after);
int   xc_top_k        (const float *values, int n, int k, int *out);
char *xc_format_count (guint64 v);

G_END_DECLS
