/* SPDX-License-Identifier: MIT
 *
 * InputLayer: the model's one input, a fixed (H, W, C) image shape that the
 * plan fills before the run.
 */
#define G_LOG_DOMAIN "xc-input"

#include "xc-error.h"
#include "xc-ops.h"

static gboolean
xc_input_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  if (node->h < 1 || node->w < 1 || node->c < 1)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: input shape (%d, %d, %d) is not a fixed image shape",
                   node->name, node->h, node->w, node->c);
      return FALSE;
    }
  return TRUE;
}

static const char *const keras_input[] = { "InputLayer", NULL };

const XcOpClass xc_op_input = {
  .op = XC_OP_INPUT,
  .keras_classes = keras_input,
  .infer = xc_input_infer,
};
