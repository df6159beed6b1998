/* SPDX-License-Identifier: MIT
 *
 * The op table: one XcOpClass per XcOp, each defined in its own file
 * (ops/xc-<op>.c). The model infers shapes through it, the planner sizes
 * scratch and runs forward and backward through it, the Keras importer finds
 * the op of a class name in it. Adding an op: write ops/xc-<op>.c with its
 * class, add the XcOp value and a line here, and its config keys to the
 * importer (io/xc-keras-config.c).
 */
#define G_LOG_DOMAIN "xc-op"

#include "xc-ops.h"

static const XcOpClass *const op_classes[XC_N_OPS] = {
  [XC_OP_INPUT] = &xc_op_input,
  [XC_OP_CONV2D] = &xc_op_conv2d,
  [XC_OP_DWCONV2D] = &xc_op_dwconv2d,
  [XC_OP_SEPCONV2D] = &xc_op_sepconv2d,
  [XC_OP_BATCHNORM] = &xc_op_batchnorm,
  [XC_OP_ACTIVATION] = &xc_op_activation,
  [XC_OP_MAXPOOL] = &xc_op_maxpool2d,
  [XC_OP_AVGPOOL] = &xc_op_avgpool2d,
  [XC_OP_ADD] = &xc_op_add,
  [XC_OP_GAP] = &xc_op_global_avgpool,
  [XC_OP_GMP] = &xc_op_global_maxpool,
  [XC_OP_DENSE] = &xc_op_dense,
  [XC_OP_FLATTEN] = &xc_op_flatten,
  [XC_OP_DROPOUT] = &xc_op_dropout,
  [XC_OP_RESCALING] = &xc_op_rescaling,
};

const XcOpClass *
xc_op_class (XcOp op)
{
  g_assert (op < XC_N_OPS && op_classes[op] != NULL && op_classes[op]->op == op);
  return op_classes[op];
}

/* The op a Keras class name builds; FALSE when none does */
gboolean
xc_op_from_keras_class (const char *keras_class, XcOp *op)
{
  for (guint i = 0; i < XC_N_OPS; i++)
    for (const char *const *k = op_classes[i]->keras_classes; *k; k++)
      if (g_strcmp0 (keras_class, *k) == 0)
        {
          *op = i;
          return TRUE;
        }
  return FALSE;
}

/**
 * xc_op_name:
 *
 * Returns: (transfer none): the Keras class name the op is written as
 */
const char *
xc_op_name (XcOp op)
{
  g_return_val_if_fail (op < XC_N_OPS, "?");
  return op_classes[op]->keras_classes[0];
}

size_t
xc_op_scratch (const XcNode *node, const XcNode *in, int batch)
{
  const XcOpClass *k = xc_op_class (node->op);
  return k->scratch ? k->scratch (node, in, batch) : 0;
}

size_t
xc_op_saved_size (const XcNode *node, int batch)
{
  const XcOpClass *k = xc_op_class (node->op);
  return k->saved_size ? k->saved_size (node, batch) : 0;
}

size_t
xc_op_backward_scratch (const XcNode *node, const XcNode *in, int batch)
{
  const XcOpClass *k = xc_op_class (node->op);
  return k->backward_scratch ? k->backward_scratch (node, in, batch)
                             : xc_op_scratch (node, in, batch);
}

void
xc_op_forward (const XcOpArgs *args)
{
  const XcOpClass *k = xc_op_class (args->node->op);
  if (k->forward)
    k->forward (args);
}

/* whether the op's backward writes (=) the gradients of fresh inputs */
gboolean
xc_op_backward_assigns (XcOp op)
{
  return xc_op_class (op)->backward_assigns;
}

void
xc_op_backward (const XcOpBackArgs *args)
{
  const XcOpClass *k = xc_op_class (args->node->op);
  if (k->backward)
    k->backward (args);
}
