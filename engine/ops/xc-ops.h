/* SPDX-License-Identifier: MIT
 *
 * Engine-internal op interface. Each op file holds, in this order: the
 * scratch it needs (a pure function of shapes) and its forward pass. Forward
 * passes never allocate and never fail: XcPlan validated every shape and
 * sized the scratch before the run.
 */
#pragma once

#include "xc-model.h"
#include "xc-tensor.h"

G_BEGIN_DECLS

/* Everything one node's forward pass reads and writes */
typedef struct {
  const XcNode   *node;
  const XcTensor *in;        /* n_in inputs, (N, H, W, C) each */
  guint           n_in;
  XcTensor       *out;       /* (N, OH, OW, OC) */
  float          *scratch;   /* xc_op_scratch() floats, unshared during the call */
} XcOpArgs;

size_t xc_op_scratch          (const XcNode *node, const XcNode *in, int batch);
void   xc_op_forward          (const XcOpArgs *args);

void   xc_conv2d_forward      (const XcOpArgs *args);
size_t xc_conv2d_scratch      (const XcNode *node, const XcNode *in);
void   xc_dwconv2d_forward    (const XcOpArgs *args);
void   xc_sepconv2d_forward   (const XcOpArgs *args);
size_t xc_sepconv2d_scratch   (const XcNode *node, const XcNode *in);
void   xc_batchnorm_forward   (const XcOpArgs *args);
void   xc_activation_forward  (const XcOpArgs *args);
void   xc_pool2d_forward      (const XcOpArgs *args);
void   xc_global_pool_forward (const XcOpArgs *args);
void   xc_add_forward         (const XcOpArgs *args);
void   xc_dense_forward       (const XcOpArgs *args);
void   xc_copy_forward        (const XcOpArgs *args);
void   xc_rescaling_forward   (const XcOpArgs *args);

/* Kernels: pointers and sizes only */
void   xc_f32_act_inplace     (XcAct act, float *y, size_t rows, int c);
void   xc_f32_bias_add        (float *y, const float *bias, size_t rows, int c);
void   xc_f32_dwconv2d_nhwc__ref (const float *x, int h, int w, int c,
                                  const float *k, int kh, int kw, int dm,
                                  int sh, int sw, int pt, int pl,
                                  float *y, int oh, int ow);
void   xc_f32_im2col_nhwc     (const float *x, int h, int w, int c,
                               int kh, int kw, int sh, int sw, int pt, int pl,
                               float *col, int oh, int ow);
void   xc_f32_gemm            (const float *a, const float *b, float *c,
                               int m, int n, int k, float beta);

G_END_DECLS
