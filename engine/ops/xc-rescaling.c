/* SPDX-License-Identifier: MIT
 *
 * Rescaling: y = x * scale + offset.
 */
#define G_LOG_DOMAIN "xc-rescaling"

#include "xc-error.h"
#include "xc-ops.h"

static void
xc_rescaling_forward (const XcOpArgs *args)
{
  size_t n = xc_tensor_size (args->out);
  const float *x = args->in[0].data;
  float *y = args->out->data;

  for (size_t i = 0; i < n; i++)
    y[i] = x[i] * args->node->scale + args->node->offset;
}

static void
xc_rescaling_backward (const XcOpBackArgs *args)
{
  size_t n = xc_tensor_size (args->dout);
  float *dx = args->din[0].data;

  if (dx != NULL)
    for (size_t i = 0; i < n; i++)
      dx[i] += args->dout->data[i] * args->node->scale;
}

static const char *const keras_rescaling[] = { "Rescaling", NULL };

const XcOpClass xc_op_rescaling = {
  .op = XC_OP_RESCALING,
  .keras_classes = keras_rescaling,
  .infer = _xc_node_same_shape,
  .forward = xc_rescaling_forward,
  .backward = xc_rescaling_backward,
};
