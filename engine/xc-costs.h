/* SPDX-License-Identifier: MIT
 *
 * The separable convolution, counted and measured: parameters and
 * multiply-accumulates of a standard convolution and of its depthwise and
 * pointwise steps for any shape, and the time each takes on this CPU.
 */
#pragma once

#include "xc-model.h"
#include "xc-plan.h"

G_BEGIN_DECLS

typedef struct {
  int c_in, c_out, k, h, w, stride, depth_multiplier;
} XcConvShape;

typedef struct {
  int     out_h, out_w;            /* "same" padding */
  guint64 standard_params, standard_macs;
  guint64 depthwise_params, depthwise_macs;
  guint64 pointwise_params, pointwise_macs;
  guint64 separable_params, separable_macs;
  double  ratio;                   /* separable / standard MACs */
  double  formula;                 /* DM / C_out + DM / k^2, equal to ratio */
} XcConvCosts;

typedef struct {
  double standard_ms, separable_ms;  /* medians */
  double depthwise_ms, pointwise_ms;
} XcConvTimes;

gboolean xc_conv_costs      (const XcConvShape *s,
                             XcConvCosts       *out,
                             GError           **error);
gboolean xc_conv_measure    (const XcConvShape *s,
                             int                runs,
                             XcConvTimes       *out,
                             GError           **error);
gboolean xc_sepconv_depthwise_output (const XcModel *model,
                             guint              node,
                             const XcTensor    *x,
                             float             *out);

G_END_DECLS
