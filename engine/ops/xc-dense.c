/* SPDX-License-Identifier: MIT
 *
 * Dense: one sgemm over the batch with Keras' (C, OC) kernel, bias and the
 * fused activation.
 */
#define G_LOG_DOMAIN "xc-dense"

#include "xc-error.h"
#include "xc-ops.h"

static gboolean
xc_dense_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  const XcNode *in = inputs[0];

  if (!in->flat)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: Dense on a (%d, %d, %d) tensor is not supported; "
                   "Flatten or pool first", node->name, in->h, in->w, in->c);
      return FALSE;
    }
  if (node->filters < 1 || node->filters > (1 << 20))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: %d units is out of range",
                   node->name, node->filters);
      return FALSE;
    }
  node->h = node->w = 1, node->flat = TRUE, node->c = node->filters;
  _xc_node_add_param (node, "kernel", TRUE, 2, in->c, node->filters, 0, 0);
  if (node->use_bias)
    _xc_node_add_param (node, "bias", TRUE, 1, node->c, 0, 0, 0);
  node->macs = (guint64) in->c * node->filters;
  node->std_macs = node->macs;
  return TRUE;
}

static void
xc_dense_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];  /* (N, C) */
  XcTensor *y = args->out;           /* (N, OC) */

  xc_f32_gemm (x->data, node->params[0].data, y->data, y->n, y->c, x->c, 0.0f);
  if (node->use_bias)
    xc_f32_bias_add (y->data, node->params[1].data, y->n, y->c);
  xc_f32_act_inplace (node->act, y->data, y->n, y->c);
}

static void
xc_dense_backward (const XcOpBackArgs *args)
{
  const XcTensor *x = &args->in[0];
  const XcTensor *y = args->out;
  const float *dz = _xc_op_fused_act_backward (args, args->scratch, xc_dense_forward);

  if (args->dparams)
    {
      xc_f32_gemm_tn (x->data, dz, args->dparams[0], x->c, y->c, y->n, 1.0f);
      if (args->node->use_bias)
        xc_f32_bias_grad (dz, args->dparams[1], y->n, y->c);
    }
  if (args->din[0].data != NULL)
    xc_f32_gemm_nt (dz, args->node->params[0].data, args->din[0].data, y->n, x->c, y->c, 1.0f);
}

/* average: dx += dy / (H W) everywhere; max: to the first maximal cell */

static size_t
xc_dense_backward_scratch (const XcNode *node, const XcNode *in, int batch)
{
  return _xc_op_fused_act_scratch (node, batch);
}

static const char *const keras_dense[] = { "Dense", NULL };

const XcOpClass xc_op_dense = {
  .op = XC_OP_DENSE,
  .keras_classes = keras_dense,
  .infer = xc_dense_infer,
  .backward_scratch = xc_dense_backward_scratch,
  .forward = xc_dense_forward,
  .backward = xc_dense_backward,
};
