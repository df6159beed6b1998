/* SPDX-License-Identifier: MIT
 *
 * SeparableConv2D: the depthwise step for the whole batch into scratch
 * (xc-dwconv2d.c's batch loop), then its 1x1 pointwise step as one sgemm over
 * all N*OH*OW rows. Costs are counted against the standard convolution it
 * replaces (same kernel, channels and strides).
 */
#define G_LOG_DOMAIN "xc-sepconv2d"

#ifdef _OPENMP
#include <omp.h>
#endif

#include "xc-error.h"
#include "xc-ops.h"

/* The forward runs in bands (see xc_sepconv2d_forward()) from this many
 * floats of depthwise output on if the pointwise weights are few enough to be
 * packed again for every band: at 299x299 the entry flow's block2 and block3
 * layers (147x147 and 74x74, up to 256x256 weights), not block4's 728-channel
 * ones (2 MB packed for each 2-row band: block4_sepconv2 13% slower). Banding
 * block2_sepconv1 and block3 as well as block2_sepconv2 measured 1.6% off the
 * forward's layer times, alternating in one process. From BAND_ALWAYS_FLOATS
 * on every layer is banded, whatever its weights: a large input's full
 * depthwise output (block4's at 2048x2048: 190 MB) would not fit. */
#define BAND_MIN_FLOATS ((size_t) 1 << 19)
#define BAND_MAX_WEIGHTS ((size_t) 1 << 16)
#define BAND_ALWAYS_FLOATS ((size_t) 1 << 21)
#define BAND_FLOATS ((size_t) 1 << 16)   /* a band's depthwise output: 256 KB */

static int
max_threads (void)
{
#ifdef _OPENMP
  return omp_get_max_threads ();
#else
  return 1;
#endif
}

/* output rows (of OW positions) in a band, and how many bands run at once */
static int
band_rows (const XcNode *node, int mid)
{
  return (int) MAX (1, BAND_FLOATS / ((size_t) node->w * mid));
}

static gboolean
banded (const XcNode *node, int mid, int batch)
{
  size_t floats = (size_t) batch * node->h * node->w * mid;

  return floats >= BAND_ALWAYS_FLOATS ||
         (floats >= BAND_MIN_FLOATS && (size_t) mid * node->filters <= BAND_MAX_WEIGHTS);
}

static gboolean
xc_sepconv2d_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  const XcNode *in = inputs[0];
  guint64 hw;
  int mid;

  if (!_xc_node_spatial_out (node, in, error))
    return FALSE;
  if (node->depth_multiplier < 1 || node->depth_multiplier > 64 ||
      node->filters < 1 || node->filters > 65536)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: filters %d / depth multiplier %d out of range",
                   node->name, node->filters, node->depth_multiplier);
      return FALSE;
    }
  hw = (guint64) node->h * node->w;
  mid = in->c * node->depth_multiplier;
  node->c = node->filters;
  _xc_node_add_param (node, "depthwise_kernel", TRUE, 4, node->kh, node->kw, in->c,
                      node->depth_multiplier);
  _xc_node_add_param (node, "pointwise_kernel", TRUE, 4, 1, 1, mid, node->filters);
  node->macs = hw * ((guint64) node->kh * node->kw * mid + (guint64) mid * node->filters);
  node->std_macs = hw * node->kh * node->kw * in->c * node->filters;
  if (node->use_bias)
    _xc_node_add_param (node, "bias", TRUE, 1, node->c, 0, 0, 0);
  node->std_params = (guint64) node->kh * node->kw * in->c * node->c +
                     (node->use_bias ? node->c : 0);
  return TRUE;
}

/* The depthwise output, (N, OH, OW, C*DM); in banded layers one band per
 * thread (the thread count when the plan is made; a later, larger one
 * runs with no more threads than that) */
static size_t
xc_sepconv2d_scratch (const XcNode *node, const XcNode *in, int batch)
{
  int mid = in->c * node->depth_multiplier;

  if (banded (node, mid, batch))
    return (size_t) max_threads () * band_rows (node, mid) * node->w * mid;
  return (size_t) batch * (size_t) node->h * node->w * mid;
}

/* the forward's full depthwise output, which the backward needs */
static size_t
depthwise_size (const XcNode *node, const XcNode *in, int batch)
{
  return (size_t) batch * (size_t) node->h * node->w * in->c * node->depth_multiplier;
}

/* y (M, N) = d (M, K) . pointwise kernel (K, N), in whichever layout the
 * kernel is (xc_model_pack_panels()) */
static void
pointwise (const XcNode *node, const float *d, float *y, int m, int n, int k,
           const float *scale, const float *shift)
{
  const XcParam *w = &node->params[1];

  if (w->panels)
    xc_f32_gemm_panels_post (d, w->data, y, m, n, k, scale, shift);
  else
    xc_f32_gemm_post (d, w->data, y, m, n, k, 0.0f, scale, shift);
}

static void
xc_sepconv2d_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];  /* (N, H, W, C) */
  XcTensor *y = args->out;           /* (N, OH, OW, OC) */
  int mid = x->c * node->depth_multiplier;
  size_t rows = (size_t) y->n * y->h * y->w;

  if (banded (node, mid, y->n) && args->scratch_floats > 0)
    {
      /* Large layers are bound by memory, not multiply-adds: each thread
       * runs the depthwise step on a band of output rows into its own slot
       * and the pointwise GEMM on it while it is still in cache; no full
       * depthwise output is ever written */
      int band = band_rows (node, mid), n_rows = y->n * y->h;
      int slots = MAX (1, (int) (args->scratch_floats / ((size_t) band * y->w * mid)));
#pragma omp parallel for schedule(dynamic, 1) num_threads (MIN (slots, max_threads ()))
      for (int r = 0; r < n_rows; r += band)
        {
          int r1 = MIN (n_rows, r + band);
#ifdef _OPENMP
          float *d = args->scratch + (size_t) omp_get_thread_num () * band * y->w * mid;
#else
          float *d = args->scratch;
#endif
          _xc_dwconv2d_rows (node, x, d, y->h, y->w, r, r1, args->relu_in);
          pointwise (node, d, y->data + (size_t) r * y->w * y->c, (r1 - r) * y->w, y->c, mid,
                     args->post_scale, args->post_shift);
        }
    }
  else
    {
      _xc_dwconv2d_batch (node, x, args->scratch, y->h, y->w, args->relu_in); /* (N, OH, OW, C*DM) */
      pointwise (node, args->scratch, y->data, (int) rows, y->c, mid, args->post_scale,
                 args->post_shift);
    }
  if (node->use_bias && args->post_scale == NULL)
    xc_f32_bias_add (y->data, node->params[node->n_params - 1].data, rows, y->c);
  xc_f32_act_inplace (node->act, y->data, rows, y->c);
}

/* Over the batch, in one scratch buffer of (N*OH*OW, C*DM): for the weights,
 * the depthwise output d recomputed, dWpw += d^T . dz; then dmid = dz . Wpw^T,
 * and the depthwise step's weight and input gradients from it */
static void
xc_sepconv2d_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];
  const XcTensor *y = args->out;
  int mid = x->c * node->depth_multiplier;
  size_t rows = (size_t) y->n * y->h * y->w;
  const float *dz = _xc_op_fused_act_backward (args, args->scratch + rows * mid, xc_sepconv2d_forward);

  if (args->din[0].data == NULL && args->dparams == NULL)
    return;
  if (args->dparams)
    {
      /* training plans keep Keras' layout (plan_new_training()) */
      g_return_if_fail (!node->params[1].panels);
      _xc_dwconv2d_batch (node, x, args->scratch, y->h, y->w, FALSE);
      xc_f32_gemm_tn (args->scratch, dz, args->dparams[1], mid, y->c, (int) rows, 1.0f);
      if (node->use_bias)
        xc_f32_bias_grad (dz, args->dparams[node->n_params - 1], rows, y->c);
    }
  if (node->params[1].panels)
    xc_f32_gemm_nt_panels (dz, node->params[1].data, args->scratch, (int) rows, mid, y->c);
  else
    xc_f32_gemm_nt (dz, node->params[1].data, args->scratch, (int) rows, mid, y->c, 0.0f);
  _xc_dwconv2d_backward_batch (node, x, &args->din[0], args->dparams ? args->dparams[0] : NULL,
                               args->scratch, y->h, y->w);
}

static size_t
xc_sepconv2d_backward_scratch (const XcNode *node, const XcNode *in, int batch)
{
  return depthwise_size (node, in, batch) + _xc_op_fused_act_scratch (node, batch);
}

static const char *const keras_sepconv2d[] = {
  "SeparableConv2D", "SeparableConvolution2D", NULL
};

const XcOpClass xc_op_sepconv2d = {
  .op = XC_OP_SEPCONV2D,
  .keras_classes = keras_sepconv2d,
  .infer = xc_sepconv2d_infer,
  .scratch = xc_sepconv2d_scratch,
  .backward_scratch = xc_sepconv2d_backward_scratch,
  .forward = xc_sepconv2d_forward,
  .backward = xc_sepconv2d_backward,
};
