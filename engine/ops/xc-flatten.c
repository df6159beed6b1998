/* SPDX-License-Identifier: MIT
 *
 * Flatten: (N, H, W, C) to (N, H*W*C) in NHWC order, as Keras does with
 * channels last; a copy, or nothing when the plan aliases it.
 */
#define G_LOG_DOMAIN "xc-flatten"

#include "xc-error.h"
#include "xc-ops.h"

static gboolean
xc_flatten_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  const XcNode *in = inputs[0];
  guint64 c = (guint64) in->h * in->w * in->c;

  if (c > G_MAXINT)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_SHAPE,
                   "%s: flattening (%d, %d, %d) gives more than 2^31 values",
                   node->name, in->h, in->w, in->c);
      return FALSE;
    }
  node->h = node->w = 1, node->flat = TRUE;
  node->c = (int) c;
  return TRUE;
}

static const char *const keras_flatten[] = { "Flatten", NULL };

const XcOpClass xc_op_flatten = {
  .op = XC_OP_FLATTEN,
  .keras_classes = keras_flatten,
  .infer = xc_flatten_infer,
  .forward = _xc_op_copy_forward,
  .backward = _xc_op_copy_backward,
};
