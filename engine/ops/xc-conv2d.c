/* SPDX-License-Identifier: MIT
 *
 * Conv2D, NHWC with Keras' (KH, KW, C, OC) kernel. A 1x1 stride-1 convolution
 * is one sgemm over all N*H*W rows, with no im2col (as darknet does for size
 * 1); anything else gathers patches per image into scratch (im2col, whose
 * column order ky, kx, c matches the kernel's row-major layout) and runs one
 * sgemm per image. Bias and the fused activation follow.
 */
#define G_LOG_DOMAIN "xc-conv2d"

#include <string.h>

#include "xc-error.h"
#include "xc-ops.h"

static gboolean
is_pointwise (const XcNode *node)
{
  return node->kh == 1 && node->kw == 1 && node->sh == 1 && node->sw == 1;
}

static gboolean
xc_conv2d_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  const XcNode *in = inputs[0];

  if (!_xc_node_spatial_out (node, in, error))
    return FALSE;
  if (node->filters < 1 || node->filters > 65536)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: filters %d / depth multiplier %d out of range",
                   node->name, node->filters, node->depth_multiplier);
      return FALSE;
    }
  node->c = node->filters;
  _xc_node_add_param (node, "kernel", TRUE, 4, node->kh, node->kw, in->c, node->filters);
  node->macs = (guint64) node->h * node->w * node->kh * node->kw * in->c * node->filters;
  node->std_macs = node->macs;
  if (node->use_bias)
    _xc_node_add_param (node, "bias", TRUE, 1, node->c, 0, 0, 0);
  return TRUE;
}

/* One image is convolved a band of output rows at a time, its im2col
 * columns at most this many floats (4 MB: Xception's block1_conv2 needs 25 MB
 * whole, which every plan's arena would carry); the GEMMs stay thousands of
 * rows tall */
#define BAND_FLOATS ((size_t) 1 << 20)

static int
band_rows (const XcNode *node, int in_c)
{
  size_t row = (size_t) node->w * node->kh * node->kw * in_c;
  return (int) CLAMP (BAND_FLOATS / MAX (row, 1), 1, (size_t) node->h);
}

/* im2col's columns: a band of (rows * OW, KH*KW*C) for one image, the whole
 * batch's (N*OH*OW, KH*KW*C) for more; none for a pointwise convolution */
static size_t
xc_conv2d_scratch (const XcNode *node, const XcNode *in, int batch)
{
  size_t row = (size_t) node->w * node->kh * node->kw * in->c;

  if (is_pointwise (node))
    return 0;
  if (batch == 1)
    return row * band_rows (node, in->c);
  return (size_t) batch * node->h * row;
}

/* im2col for the whole batch into col (N*OH*OW, KH*KW*C), images in parallel */
static void
im2col_batch (const XcNode *node, const XcTensor *x, int oh, int ow, float *col)
{
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  size_t per = (size_t) oh * ow * node->kh * node->kw * x->c;

#pragma omp parallel for schedule(static) if (x->n > 1)
  for (int n = 0; n < x->n; n++)
    xc_f32_im2col_nhwc (x->data + (size_t) n * x->h * x->w * x->c, x->h, x->w, x->c, node->kh,
                        node->kw, node->sh, node->sw, pt, pl, col + n * per, oh, ow);
}

/* Without padding every window lies inside the image: the products read
 * the windows where they are, no im2col (Xception's block1_conv1 and
 * block1_conv2: 25 MB of columns written and read back for the latter,
 * 6.0 -> 5.0 ms). FALSE where that kernel is not ours (then nothing is
 * done) */
static gboolean
in_place (const XcNode *node, const XcTensor *x, XcTensor *y, const float *kernel,
          const XcOpArgs *args)
{
  if (xc_pad_before (x->h, node->kh, node->sh, node->padding) != 0 ||
      xc_pad_before (x->w, node->kw, node->sw, node->padding) != 0 ||
      (y->h - 1) * node->sh + node->kh > x->h || (y->w - 1) * node->sw + node->kw > x->w)
    return FALSE;
  for (int n = 0; n < x->n; n++)
    if (!xc_f32_conv_valid_post (x->data + (size_t) n * x->h * x->w * x->c, x->w, x->c,
                                 node->kh, node->kw, node->sh, node->sw, y->h, y->w, kernel,
                                 y->c, y->data + (size_t) n * y->h * y->w * y->c,
                                 args->post_scale, args->post_shift, args->post_relu))
      return FALSE;
  return TRUE;
}

static void
xc_conv2d_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];   /* (N, H, W, C) */
  XcTensor *y = args->out;            /* (N, OH, OW, OC) */
  const float *kernel = node->params[0].data;   /* (KH, KW, C, OC) */
  size_t rows = (size_t) y->n * y->h * y->w;
  gboolean relu_done = FALSE;

  if (is_pointwise (node))
    xc_f32_gemm_post (x->data, kernel, y->data, (int) rows, y->c, x->c, 0.0f,
                      args->post_scale, args->post_shift);
  else if (in_place (node, x, y, kernel, args))
    relu_done = args->post_relu;
  else if (x->n == 1)
    {
      int kdim = node->kh * node->kw * x->c;
      int band = band_rows (node, x->c);
      int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
      int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);

      /* output rows [r, r + m) read input rows from r * sh - pt on */
      for (int r = 0; r < y->h; r += band)
        {
          int m = MIN (band, y->h - r);
          size_t col_row = (size_t) y->w * kdim;
          /* the band's rows split over the threads */
#pragma omp parallel for schedule(static) if ((size_t) m * col_row > 65536)
          for (int q = r; q < r + m; q++)
            xc_f32_im2col_nhwc (x->data, x->h, x->w, x->c, node->kh, node->kw, node->sh,
                                node->sw, pt - q * node->sh, pl,
                                args->scratch + (size_t) (q - r) * col_row, 1, y->w);
          xc_f32_gemm_post (args->scratch, kernel, y->data + (size_t) r * y->w * y->c, m * y->w,
                            y->c, kdim, 0.0f, args->post_scale, args->post_shift);
        }
    }
  else
    {
      im2col_batch (node, x, y->h, y->w, args->scratch);
      xc_f32_gemm_post (args->scratch, kernel, y->data, (int) rows, y->c,
                        node->kh * node->kw * x->c, 0.0f, args->post_scale, args->post_shift);
    }
  if (node->use_bias && args->post_scale == NULL)
    xc_f32_bias_add (y->data, node->params[node->n_params - 1].data, rows, y->c);
  xc_f32_act_inplace (node->act, y->data, rows, y->c);
  if (args->post_relu && !relu_done)
    xc_f32_act_inplace (XC_ACT_RELU, y->data, rows, y->c);
}

/* y = act(conv(x, W) + b): dz = dy * act'(z); dW += im2col(x)^T . dz;
 * db += sum of dz over positions; dx += col2im(dz . W^T), with W^T the
 * (OC, KH*KW*C) transpose of the row-major kernel. Whole batch per GEMM. */
static void
xc_conv2d_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];    /* (N, H, W, C) */
  const XcTensor *y = args->out;       /* (N, OH, OW, OC) */
  XcTensor *dx = &args->din[0];
  const float *kernel = node->params[0].data;   /* (KH, KW, C, OC) */
  size_t rows = (size_t) y->n * y->h * y->w;
  int kdim = node->kh * node->kw * x->c;
  size_t fwd = is_pointwise (node) ? 0 : rows * kdim;
  const float *dz = _xc_op_fused_act_backward (args, args->scratch + fwd, xc_conv2d_forward);
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  size_t per = (size_t) y->h * y->w * kdim;

  if (args->dparams)
    {
      if (is_pointwise (node))
        xc_f32_gemm_tn (x->data, dz, args->dparams[0], x->c, y->c, (int) rows, 1.0f);
      else
        {
          im2col_batch (node, x, y->h, y->w, args->scratch);
          xc_f32_gemm_tn (args->scratch, dz, args->dparams[0], kdim, y->c, (int) rows, 1.0f);
        }
      if (node->use_bias)
        xc_f32_bias_grad (dz, args->dparams[node->n_params - 1], rows, y->c);
    }
  if (dx->data == NULL)
    return;
  if (is_pointwise (node))
    {
      xc_f32_gemm_nt (dz, kernel, dx->data, (int) rows, x->c, y->c, 1.0f);
      return;
    }
  xc_f32_gemm_nt (dz, kernel, args->scratch, (int) rows, kdim, y->c, 0.0f);
#pragma omp parallel for schedule(static) if (x->n > 1)
  for (int n = 0; n < x->n; n++)
    xc_f32_col2im_nhwc (args->scratch + n * per, x->h, x->w, x->c, node->kh, node->kw, node->sh,
                        node->sw, pt, pl, dx->data + (size_t) n * x->h * x->w * x->c, y->h, y->w);
}

/* The forward's columns are reused for their gradient, then dz */
static size_t
xc_conv2d_backward_scratch (const XcNode *node, const XcNode *in, int batch)
{
  size_t whole = is_pointwise (node) ? 0 : (size_t) batch * node->h * node->w * node->kh *
                                           node->kw * in->c;
  return whole + _xc_op_fused_act_scratch (node, batch);
}

static const char *const keras_conv2d[] = { "Conv2D", "Convolution2D", NULL };

const XcOpClass xc_op_conv2d = {
  .op = XC_OP_CONV2D,
  .keras_classes = keras_conv2d,
  .infer = xc_conv2d_infer,
  .scratch = xc_conv2d_scratch,
  .backward_scratch = xc_conv2d_backward_scratch,
  .forward = xc_conv2d_forward,
  .backward = xc_conv2d_backward,
};
