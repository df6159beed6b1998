/* SPDX-License-Identifier: MIT
 *
 * What several ops share: TensorFlow's output sizes and padding, a node's
 * parameters, the spatial output of a windowed op, the identity ops, and the
 * backward of a fused activation. Below the op files: it calls none of them.
 */
#define G_LOG_DOMAIN "xc-op"

#include <string.h>

#include "xc-error.h"
#include "xc-ops.h"

int
xc_same_out (int in, int stride)
{
  return (in + stride - 1) / stride;
}

int
xc_valid_out (int in, int k, int stride)
{
  return in < k ? 0 : (in - k) / stride + 1;
}

/* TensorFlow's "same": pad_total = max((out - 1) * s + k - in, 0), the smaller
 * half before. "valid" pads nothing. */
int
xc_pad_before (int in, int k, int stride, XcPadding padding)
{
  int out, total;

  if (padding == XC_PAD_VALID)
    return 0;
  out = xc_same_out (in, stride);
  total = MAX ((out - 1) * stride + k - in, 0);
  return total / 2;
}

void
_xc_node_add_param (XcNode *node, const char *name, gboolean trainable, int ndims, int d0,
                    int d1, int d2, int d3)
{
  XcParam *p = &node->params[node->n_params++];
  int dims[4] = { d0, d1, d2, d3 };

  g_assert (node->n_params <= XC_MAX_PARAMS);
  p->name = name;
  p->ndims = ndims;
  p->size = 1;
  p->trainable = trainable;
  for (int i = 0; i < ndims; i++)
    {
      p->dims[i] = dims[i];
      p->size *= dims[i];
    }
}

gboolean
_xc_node_spatial_out (XcNode *node, const XcNode *in, GError **error)
{
  if (in->flat)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_SHAPE,
                   "%s: %s needs a spatial (H, W, C) input, got a vector of %d from %s",
                   node->name, node->keras_class, in->c, in->name);
      return FALSE;
    }
  if (node->kh < 1 || node->kw < 1 || node->sh < 1 || node->sw < 1 || node->kh > 64 ||
      node->kw > 64 || node->sh > 64 || node->sw > 64)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: kernel %dx%d with strides %dx%d is out of range (1 to 64)",
                   node->name, node->kh, node->kw, node->sh, node->sw);
      return FALSE;
    }
  if (node->padding == XC_PAD_SAME)
    {
      node->h = xc_same_out (in->h, node->sh);
      node->w = xc_same_out (in->w, node->sw);
    }
  else
    {
      node->h = xc_valid_out (in->h, node->kh, node->sh);
      node->w = xc_valid_out (in->w, node->kw, node->sw);
    }
  if (node->h < 1 || node->w < 1)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_SHAPE,
                   "%s: a %dx%d 'valid' window does not fit the %dx%d input from %s",
                   node->name, node->kh, node->kw, in->h, in->w, in->name);
      return FALSE;
    }
  return TRUE;
}

/* The output has the input's shape (element-wise layers) */
gboolean
_xc_node_same_shape (XcNode *node, const XcNode *const *in, GError **error)
{
  node->h = in[0]->h, node->w = in[0]->w, node->c = in[0]->c, node->flat = in[0]->flat;
  return TRUE;
}

/* Backward scratch for a fused activation: one output-sized buffer for the
 * gradient of the pre-activation, and one more for swish's recomputed z */
size_t
_xc_op_fused_act_scratch (const XcNode *node, int batch)
{
  return (size_t) batch * node->h * node->w * node->c * (node->act == XC_ACT_SWISH ? 2 : 1);
}

/* The gradient w.r.t. a fused activation's input (the op's pre-activation
 * z), written to dpre (output-sized) unless the activation is linear or the
 * caller already seeded w.r.t. z. Activations whose derivative needs z
 * (swish) recompute z by running the op once more without its activation. */
const float *
_xc_op_fused_act_backward (const XcOpBackArgs *args, float *dpre, XcOpForwardFunc forward)
{
  const XcNode *node = args->node;
  const XcTensor *y = args->out;
  size_t rows = xc_tensor_size (y) / y->c;

  if (node->act == XC_ACT_LINEAR || args->dout_is_pre)
    return args->dout->data;
  memset (dpre, 0, xc_tensor_size (y) * sizeof (float));
  if (node->act == XC_ACT_SWISH)
    {
      /* z goes right after dpre: _xc_op_fused_act_scratch() reserved it */
      XcNode lin = *node;
      XcTensor z = *y;
      lin.act = XC_ACT_LINEAR;
      z.data = dpre + xc_tensor_size (y);
      forward (&(XcOpArgs) { &lin, args->in, args->n_in, &z, args->scratch });
      xc_f32_act_backward (node->act, z.data, y->data, args->dout->data, dpre, rows, y->c,
                           args->guided);
      return dpre;
    }
  xc_f32_act_backward (node->act, NULL, y->data, args->dout->data, dpre, rows, y->c,
                       args->guided);
  return dpre;
}

void
_xc_op_copy_forward (const XcOpArgs *args)
{
  if (args->out->data != args->in[0].data)
    memcpy (args->out->data, args->in[0].data, xc_tensor_size (args->out) * sizeof (float));
}

void
_xc_op_copy_backward (const XcOpBackArgs *args)
{
  size_t n = xc_tensor_size (args->dout);
  float *dx = args->din[0].data;

  if (dx != NULL)
    for (size_t i = 0; i < n; i++)
      dx[i] += args->dout->data[i];
}
