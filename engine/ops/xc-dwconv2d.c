/* SPDX-License-Identifier: MIT
 *
 * DepthwiseConv2D. The depthwise step is a direct loop with channels
 * innermost (kernels/f32-dwconv2d-nhwc.c); output channel c * DM + m reads
 * input channel c, as Keras orders them. SeparableConv2D (xc-sepconv2d.c)
 * shares the batch loops here.
 * Threads: one OpenMP region per layer, over (image, output row) pairs
 * (never one region per image: waking threads costs more than small rows).
 */
#define G_LOG_DOMAIN "xc-dwconv2d"

#include <string.h>

#include "xc-error.h"
#include "xc-ops.h"

static gboolean
xc_dwconv2d_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  const XcNode *in = inputs[0];
  guint64 hw;

  if (!_xc_node_spatial_out (node, in, error))
    return FALSE;
  if (node->depth_multiplier < 1 || node->depth_multiplier > 64)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: filters %d / depth multiplier %d out of range",
                   node->name, node->filters, node->depth_multiplier);
      return FALSE;
    }
  hw = (guint64) node->h * node->w;
  node->c = in->c * node->depth_multiplier;
  _xc_node_add_param (node, "depthwise_kernel", TRUE, 4, node->kh, node->kw, in->c,
                      node->depth_multiplier);
  node->macs = hw * node->kh * node->kw * node->c;
  /* the standard convolution with the same kernel and channels */
  node->std_macs = hw * node->kh * node->kw * in->c * node->c;
  if (node->use_bias)
    _xc_node_add_param (node, "bias", TRUE, 1, node->c, 0, 0, 0);
  node->std_params = (guint64) node->kh * node->kw * in->c * node->c +
                     (node->use_bias ? node->c : 0);
  return TRUE;
}

/* The whole batch: y (N, OH, OW, C*DM) */
void
_xc_dwconv2d_batch (const XcNode *node, const XcTensor *x, float *y, int oh, int ow,
                    gboolean relu)
{
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  int rows = x->n * oh;
  size_t in_per = (size_t) x->h * x->w * x->c;
  size_t out_per = (size_t) oh * ow * x->c * node->depth_multiplier;

#pragma omp parallel for schedule(static) if (rows > 1 && out_per * x->n > 32768)
  for (int r = 0; r < rows; r++)
    {
      int n = r / oh, oy = r % oh;
      xc_f32_dwconv2d_row_nhwc__ref (x->data + n * in_per, x->h, x->w, x->c,
                                     node->params[0].data, node->kh, node->kw,
                                     node->depth_multiplier, node->sh, node->sw, pt, pl,
                                     y + n * out_per + (size_t) oy * ow * x->c *
                                                       node->depth_multiplier, oy, ow, relu);
    }
}

/* Output rows [r0, r1) of the batch (row r is image r / OH, row r % OH) on
 * the calling thread, into y (r1 - r0 rows of (OW, C*DM)) */
void
_xc_dwconv2d_rows (const XcNode *node, const XcTensor *x, float *y, int oh, int ow, int r0,
                   int r1, gboolean relu)
{
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  size_t in_per = (size_t) x->h * x->w * x->c;

  for (int r = r0; r < r1; r++)
    xc_f32_dwconv2d_row_nhwc__ref (x->data + (r / oh) * in_per, x->h, x->w, x->c,
                                   node->params[0].data, node->kh, node->kw,
                                   node->depth_multiplier, node->sh, node->sw, pt, pl,
                                   y + (size_t) (r - r0) * ow * x->c * node->depth_multiplier,
                                   r % oh, ow, relu);
}

static void
xc_dwconv2d_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  XcTensor *y = args->out;  /* (N, OH, OW, C*DM) */
  size_t rows = (size_t) y->n * y->h * y->w;

  _xc_dwconv2d_batch (node, &args->in[0], y->data, y->h, y->w, FALSE);
  if (node->use_bias)
    xc_f32_bias_add (y->data, node->params[node->n_params - 1].data, rows, y->c);
  xc_f32_act_inplace (node->act, y->data, rows, y->c);
}

/* The batch's input and weight gradients from dmid (N, OH, OW, C*DM), images
 * in parallel: each writes its own dx, and sums the weight gradient into a
 * private copy of dk that OpenMP adds up at the end */
void
_xc_dwconv2d_backward_batch (const XcNode *node, const XcTensor *x, XcTensor *dx, float *dk,
                             const float *dmid, int oh, int ow)
{
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  size_t in_per = (size_t) x->h * x->w * x->c;
  size_t out_per = (size_t) oh * ow * x->c * node->depth_multiplier;

  size_t k_size = (size_t) node->kh * node->kw * x->c * node->depth_multiplier;

  if (dk)
#pragma omp parallel for schedule(static) reduction(+: dk[:k_size]) \
  if (x->n > 1 && out_per * x->n > 32768)
    for (int n = 0; n < x->n; n++)
      xc_f32_dwconv2d_wgrad_nhwc__ref (x->data + n * in_per, x->h, x->w, x->c, dmid + n * out_per,
                                       oh, ow, node->depth_multiplier, node->kh, node->kw,
                                       node->sh, node->sw, pt, pl, dk);
  if (dx->data == NULL)
    return;
  if (node->kh == 3 && node->kw == 3 && node->depth_multiplier == 1 && node->sh == 1 &&
      node->sw == 1)
    {
      /* gathered by input rows, the forward's kernel on dy (see
       * xc_f32_dwconv2d_backward_3x3s1_rows()): every thread its own rows */
      g_autofree float *kf = g_new (float, (size_t) 9 * x->c);
      int rows = x->n * x->h;

      xc_f32_dwconv2d_flip_3x3 (node->params[0].data, x->c, kf);
#pragma omp parallel if (out_per * x->n > 32768)
      {
        g_autofree float *tmp = g_new (float, (size_t) x->w * x->c);

#pragma omp for schedule(static)
        for (int r = 0; r < rows; r++)
          {
            int n = r / x->h, iy = r % x->h;

            xc_f32_dwconv2d_backward_3x3s1_rows (dmid + n * out_per, oh, ow, kf, pt, pl,
                                                 dx->data + n * in_per, x->h, x->w, x->c, iy,
                                                 iy + 1, tmp);
          }
      }
      return;
    }
  if (x->n == 1)
    {
      /* one image: its channels split over the threads, 8 at a time */
      int groups = (x->c + 7) / 8;
#pragma omp parallel for schedule(static) if (out_per > 32768)
      for (int g = 0; g < groups; g++)
        xc_f32_dwconv2d_backward_nhwc__ref (dmid, oh, ow, node->params[0].data, node->kh,
                                            node->kw, node->depth_multiplier, node->sh, node->sw,
                                            pt, pl, dx->data, x->h, x->w, x->c, 8 * g,
                                            MIN (x->c, 8 * g + 8));
      return;
    }
#pragma omp parallel for schedule(static) if (out_per * x->n > 32768)
  for (int n = 0; n < x->n; n++)
    xc_f32_dwconv2d_backward_nhwc__ref (dmid + n * out_per, oh, ow, node->params[0].data,
                                        node->kh, node->kw, node->depth_multiplier, node->sh,
                                        node->sw, pt, pl, dx->data + n * in_per, x->h, x->w,
                                        x->c, 0, x->c);
}

static void
xc_dwconv2d_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *y = args->out;
  const float *dz = _xc_op_fused_act_backward (args, args->scratch, xc_dwconv2d_forward);

  if (args->dparams && node->use_bias)
    xc_f32_bias_grad (dz, args->dparams[node->n_params - 1], (size_t) y->n * y->h * y->w, y->c);
  _xc_dwconv2d_backward_batch (node, &args->in[0], &args->din[0],
                            args->dparams ? args->dparams[0] : NULL, dz, y->h, y->w);
}

static size_t
xc_dwconv2d_backward_scratch (const XcNode *node, const XcNode *in, int batch)
{
  return _xc_op_fused_act_scratch (node, batch);
}

static const char *const keras_dwconv2d[] = { "DepthwiseConv2D", NULL };

const XcOpClass xc_op_dwconv2d = {
  .op = XC_OP_DWCONV2D,
  .keras_classes = keras_dwconv2d,
  .infer = xc_dwconv2d_infer,
  .backward_scratch = xc_dwconv2d_backward_scratch,
  .forward = xc_dwconv2d_forward,
  .backward = xc_dwconv2d_backward,
};
