/* SPDX-License-Identifier: MIT
 *
 * Counting and timing convolutions. With "same" padding and stride s the
 * output is ceil(H/s) x ceil(W/s) = P positions:
 *   standard   k^2 C_in C_out params, P k^2 C_in C_out MACs
 *   depthwise  k^2 C_in DM params,    P k^2 C_in DM MACs
 *   pointwise  C_in DM C_out params,  P C_in DM C_out MACs
 * and separable / standard = DM / C_out + DM / k^2 (Chollet 2017 with DM = 1).
 * Measured: one-layer models (Conv2D; SeparableConv2D) run by the engine on
 * seeded data, the median of several runs.
 */
#define G_LOG_DOMAIN "xc-costs"

#include <stdlib.h>
#include <string.h>

#include "xc-timing.h"
#include "xc-costs.h"
#include "xc-error.h"
#include "xc-xception.h"
#include "ops/xc-ops.h"

gboolean
xc_conv_costs (const XcConvShape *s, XcConvCosts *o, GError **error)
{
  guint64 P, k2;

  if (s->c_in < 1 || s->c_out < 1 || s->k < 1 || s->h < 1 || s->w < 1 || s->stride < 1 ||
      s->depth_multiplier < 1 || s->c_in > 65536 || s->c_out > 65536 || s->k > 64 ||
      s->h > 65536 || s->w > 65536 || s->stride > 64 || s->depth_multiplier > 64)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "convolution shape out of range: C_in %d, C_out %d, k %d, %dx%d, stride %d, "
                   "depth multiplier %d", s->c_in, s->c_out, s->k, s->h, s->w, s->stride,
                   s->depth_multiplier);
      return FALSE;
    }
  o->out_h = xc_same_out (s->h, s->stride);
  o->out_w = xc_same_out (s->w, s->stride);
  P = (guint64) o->out_h * o->out_w;
  k2 = (guint64) s->k * s->k;
  o->standard_params = k2 * s->c_in * s->c_out;
  o->standard_macs = P * o->standard_params;
  o->depthwise_params = k2 * s->c_in * s->depth_multiplier;
  o->depthwise_macs = P * o->depthwise_params;
  o->pointwise_params = (guint64) s->c_in * s->depth_multiplier * s->c_out;
  o->pointwise_macs = P * o->pointwise_params;
  o->separable_params = o->depthwise_params + o->pointwise_params;
  o->separable_macs = o->depthwise_macs + o->pointwise_macs;
  o->ratio = (double) o->separable_macs / o->standard_macs;
  o->formula = (double) s->depth_multiplier / s->c_out + (double) s->depth_multiplier / k2;
  return TRUE;
}

static XcModel *
one_layer (const XcConvShape *s, XcOp op, GError **error)
{
  g_autoptr(XcModel) m = xc_model_new ("measure");
  XcNode *n = xc_model_add_node (m, XC_OP_INPUT, "input_1", NULL, NULL, 0, error);
  guint zero = 0;

  n->h = s->h, n->w = s->w, n->c = s->c_in;
  n = xc_model_add_node (m, op, "conv", NULL, &zero, 1, error);
  n->kh = n->kw = s->k;
  n->sh = n->sw = s->stride;
  n->padding = XC_PAD_SAME;
  n->filters = s->c_out;
  n->depth_multiplier = s->depth_multiplier;
  if (!xc_model_finish (m, error))
    return NULL;
  xc_model_init_seeded (m, 1);
  return g_steal_pointer (&m);
}

static double
time_plan (XcPlan *plan, int runs)
{
  return xc_plan_time_forward (plan, runs, 3, NULL);
}

/**
 * xc_conv_measure:
 * @runs: timed runs after one warm-up (median reported)
 *
 * Times a standard and a separable convolution of this shape in the
 * engine, and the separable one's depthwise and pointwise steps apart.
 */
gboolean
xc_conv_measure (const XcConvShape *s, int runs, XcConvTimes *o, GError **error)
{
  g_autoptr(XcModel) std = NULL, sep = NULL;
  g_autoptr(XcPlan) ps = NULL, pp = NULL;
  XcConvCosts c;

  if (!xc_conv_costs (s, &c, error))
    return FALSE;
  if ((guint64) s->h * s->w * MAX (s->c_in * s->depth_multiplier, s->c_out) > (1u << 26) ||
      c.standard_macs > (guint64) 200e9)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "that shape is too large to time here (%.0f G standard MACs)",
                   c.standard_macs / 1e9);
      return FALSE;
    }
  runs = CLAMP (runs, 1, 1000);
  if (!(std = one_layer (s, XC_OP_CONV2D, error)) || !(sep = one_layer (s, XC_OP_SEPCONV2D, error)) ||
      !(ps = xc_plan_new (std, 1, NULL, error)) || !(pp = xc_plan_new (sep, 1, NULL, error)))
    return FALSE;
  o->standard_ms = time_plan (ps, runs);
  o->separable_ms = time_plan (pp, runs);
  /* the depthwise step alone, on the same data */
  {
    const XcNode *node = xc_model_node (sep, 1);
    XcTensor in = xc_plan_input (pp);
    int pt = xc_pad_before (s->h, s->k, s->stride, XC_PAD_SAME);
    int pl = xc_pad_before (s->w, s->k, s->stride, XC_PAD_SAME);
    g_autofree float *buf = g_new (float, (size_t) c.out_h * c.out_w * s->c_in *
                                          s->depth_multiplier);
    g_autofree double *t = g_new (double, runs);
    for (int r = 0; r < runs; r++)
      {
        gint64 t0 = g_get_monotonic_time ();
        xc_f32_dwconv2d_nhwc__ref (in.data, s->h, s->w, s->c_in, node->params[0].data, s->k,
                                   s->k, s->depth_multiplier, s->stride, s->stride, pt, pl, buf,
                                   c.out_h, c.out_w);
        t[r] = (g_get_monotonic_time () - t0) / 1000.0;
      }
    o->depthwise_ms = xc_timing_median (t, runs);
    o->pointwise_ms = MAX (0.0, o->separable_ms - o->depthwise_ms);
  }
  return TRUE;
}

/**
 * xc_sepconv_depthwise_output:
 * @x: the separable layer's input, (1, H, W, C)
 * @out: (out caller-allocates): (OH, OW, C*DM)
 *
 * The depthwise step's own output, which the engine never keeps (it lives
 * in scratch between the two steps): recomputed for teaching views.
 */
gboolean
xc_sepconv_depthwise_output (const XcModel *model, guint node, const XcTensor *x, float *out)
{
  const XcNode *n = xc_model_node (model, node);
  const XcNode *in;
  int pt, pl;

  if (n->op != XC_OP_SEPCONV2D && n->op != XC_OP_DWCONV2D)
    return FALSE;
  in = xc_model_node (model, n->inputs[0]);
  if (x->h != in->h || x->w != in->w || x->c != in->c)
    return FALSE;
  pt = xc_pad_before (x->h, n->kh, n->sh, n->padding);
  pl = xc_pad_before (x->w, n->kw, n->sw, n->padding);
  xc_f32_dwconv2d_nhwc__ref (x->data, x->h, x->w, x->c, n->params[0].data, n->kh, n->kw,
                             n->depth_multiplier, n->sh, n->sw, pt, pl, out, n->h, n->w);
  return TRUE;
}
