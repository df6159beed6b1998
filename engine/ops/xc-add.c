/* SPDX-License-Identifier: MIT
 *
 * Add: the element-wise sum of two or more inputs of one shape (the
 * residual links of Xception).
 */
#define G_LOG_DOMAIN "xc-add"

#include "xc-error.h"
#include "xc-ops.h"

static gboolean
xc_add_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  const XcNode *in = inputs[0];

  if (node->n_inputs < 2)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: Add needs two or more inputs",
                   node->name);
      return FALSE;
    }
  node->h = in->h, node->w = in->w, node->c = in->c, node->flat = in->flat;
  for (guint i = 1; i < node->n_inputs; i++)
    {
      const XcNode *o = inputs[i];
      if (o->h != in->h || o->w != in->w || o->c != in->c || o->flat != in->flat)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_SHAPE,
                       "%s: Add inputs differ in shape: %s is (%d, %d, %d), %s is (%d, %d, %d)",
                       node->name, in->name, in->h, in->w, in->c, o->name, o->h, o->w, o->c);
          return FALSE;
        }
    }
  return TRUE;
}

XC_VECTORIZE static void
xc_add_forward (const XcOpArgs *args)
{
  size_t n = xc_tensor_size (args->out);
  float *y = args->out->data;
  const float *a = args->in[0].data, *b = args->in[1].data;

#pragma omp parallel for schedule(static) if (n > 65536)
  for (size_t i = 0; i < n; i++)
    y[i] = a[i] + b[i];
  for (guint k = 2; k < args->n_in; k++)
    {
      const float *o = args->in[k].data;
      for (size_t i = 0; i < n; i++)
        y[i] += o[i];
    }
}

XC_VECTORIZE static void
xc_add_backward (const XcOpBackArgs *args)
{
  size_t n = xc_tensor_size (args->dout);

  for (guint k = 0; k < args->n_in; k++)
    {
      float *dx = args->din[k].data;
      if (dx == NULL)
        continue;
      if (args->din_fresh && args->din_fresh[k])
        {
          /* a copy, not a zeroing pass and an add (Grad-CAM at block4: 12 Adds) */
#pragma omp parallel for schedule(static) if (n > 65536)
          for (size_t i = 0; i < n; i++)
            dx[i] = args->dout->data[i];
          continue;
        }
#pragma omp parallel for schedule(static) if (n > 65536)
      for (size_t i = 0; i < n; i++)
        dx[i] += args->dout->data[i];
    }
}

static const char *const keras_add[] = { "Add", NULL };

const XcOpClass xc_op_add = {
  .op = XC_OP_ADD,
  .keras_classes = keras_add,
  .infer = xc_add_infer,
  .forward = xc_add_forward,
  .backward = xc_add_backward,
  .backward_assigns = TRUE,
};
