/* SPDX-License-Identifier: MIT
 *
 * Dropout and SpatialDropout2D: identity at inference; in training, inverted
 * dropout with a mask drawn from (seed, element) and saved for backward.
 */
#define G_LOG_DOMAIN "xc-dropout"

#include "xc-random.h"
#include "xc-ops.h"

/* Dropout: identity at inference; in training, keep with probability
 * 1 - rate and scale by 1 / (1 - rate) (Keras' inverted dropout), the mask
 * drawn from (seed, element) and saved for backward */
static void
xc_dropout_forward (const XcOpArgs *args)
{
  size_t n = xc_tensor_size (args->out);
  float rate = args->node->rate;

  if (!args->training || rate <= 0.0f)
    {
      _xc_op_copy_forward (args);
      return;
    }
  for (size_t i = 0; i < n; i++)
    {
      float keep = xc_seeded_uniform (args->seed, 77, i) >= rate ? 1.0f / (1.0f - rate) : 0.0f;
      args->saved[i] = keep;
      args->out->data[i] = args->in[0].data[i] * keep;
    }
}

static void
xc_dropout_backward (const XcOpBackArgs *args)
{
  size_t n = xc_tensor_size (args->dout);
  float *dx = args->din[0].data;

  if (!args->training || args->node->rate <= 0.0f)
    {
      _xc_op_copy_backward (args);
      return;
    }
  if (dx != NULL)
    for (size_t i = 0; i < n; i++)
      dx[i] += args->dout->data[i] * args->saved[i];
}

/* The mask */
static size_t
xc_dropout_saved_size (const XcNode *node, int batch)
{
  return (size_t) batch * node->h * node->w * node->c;
}

static const char *const keras_dropout[] = { "Dropout", "SpatialDropout2D", NULL };

const XcOpClass xc_op_dropout = {
  .op = XC_OP_DROPOUT,
  .keras_classes = keras_dropout,
  .infer = _xc_node_same_shape,
  .saved_size = xc_dropout_saved_size,
  .forward = xc_dropout_forward,
  .backward = xc_dropout_backward,
};
