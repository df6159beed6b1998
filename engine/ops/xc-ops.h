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

/* Hot loops are compiled for AVX-512, AVX2 and the baseline, picked at load
 * time (GCC function multi-versioning): the loops are plain C that GCC
 * vectorises, 16 floats a step on AVX-512 instead of SSE2's 4. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
#define XC_VECTORIZE __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define XC_VECTORIZE
#endif

/* Everything one node's forward pass reads and writes */
typedef struct {
  const XcNode   *node;
  const XcTensor *in;        /* n_in inputs, (N, H, W, C) each */
  guint           n_in;
  XcTensor       *out;       /* (N, OH, OW, OC) */
  float          *scratch;   /* xc_op_scratch() floats, unshared during the call */
  gboolean        training;  /* BN on batch statistics, dropout active */
  float          *saved;     /* xc_op_saved_size() floats that backward reads */
  guint64         seed;      /* dropout masks: (seed, element) */
} XcOpArgs;

/* Everything one node's backward pass reads and writes. Gradients are
 * accumulated (+=) into din, as llm.c does: the plan zeroes them first. */
typedef struct {
  const XcNode   *node;
  const XcTensor *in;        /* forward inputs */
  guint           n_in;
  const XcTensor *out;       /* forward output y */
  const XcTensor *dout;      /* dL/dy, same shape as out */
  XcTensor       *din;       /* dL/dx per input; data NULL where not wanted */
  float          *scratch;   /* xc_op_backward_scratch() floats */
  gboolean        guided;    /* guided backpropagation through ReLUs */
  gboolean        dout_is_pre; /* dout is w.r.t. the pre-activation of a fused activation */
  float *const   *dparams;   /* per parameter, += its gradient; NULL: no parameter gradients */
  const float    *saved;     /* what the training forward saved */
  gboolean        training;
} XcOpBackArgs;

size_t xc_op_scratch          (const XcNode *node, const XcNode *in, int batch);
size_t xc_op_saved_size       (const XcNode *node, int batch);
size_t xc_op_backward_scratch (const XcNode *node, const XcNode *in, int batch);
void   xc_op_forward          (const XcOpArgs *args);
void   xc_op_backward         (const XcOpBackArgs *args);
const float *xc_op_fused_act_backward (const XcOpBackArgs *args, float *dpre);

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
void   xc_dropout_forward     (const XcOpArgs *args);
void   xc_rescaling_forward   (const XcOpArgs *args);

void   xc_conv2d_backward      (const XcOpBackArgs *args);
void   xc_dwconv2d_backward    (const XcOpBackArgs *args);
void   xc_sepconv2d_backward   (const XcOpBackArgs *args);
void   xc_batchnorm_backward   (const XcOpBackArgs *args);
void   xc_activation_backward  (const XcOpBackArgs *args);
void   xc_pool2d_backward      (const XcOpBackArgs *args);
void   xc_global_pool_backward (const XcOpBackArgs *args);
void   xc_add_backward         (const XcOpBackArgs *args);
void   xc_dense_backward       (const XcOpBackArgs *args);
void   xc_copy_backward        (const XcOpBackArgs *args);
void   xc_dropout_backward     (const XcOpBackArgs *args);
void   xc_rescaling_backward   (const XcOpBackArgs *args);

/* Kernels: pointers and sizes only */
void   xc_f32_act_backward    (XcAct act, const float *x, const float *y, const float *dy,
                               float *dx, size_t rows, int c, gboolean guided);
void   xc_f32_dwconv2d_row_nhwc__ref (const float *x, int h, int w, int c,
                                      const float *k, int kh, int kw, int dm,
                                      int sh, int sw, int pt, int pl,
                                      float *y, int oy, int ow);
void   xc_f32_dwconv2d_backward_nhwc__ref (const float *dy, int oh, int ow,
                                           const float *k, int kh, int kw, int dm,
                                           int sh, int sw, int pt, int pl,
                                           float *dx, int h, int w, int c);
void   xc_f32_col2im_nhwc     (const float *col, int h, int w, int c,
                               int kh, int kw, int sh, int sw, int pt, int pl,
                               float *x, int oh, int ow);
void   xc_f32_gemm_nt         (const float *a, const float *b, float *c,
                               int m, int n, int k, float beta);
void   xc_f32_gemm_tn         (const float *a, const float *b, float *c,
                               int m, int n, int k, float beta);
void   xc_f32_bias_grad       (const float *dz, float *db, size_t rows, int c);
void   xc_f32_dwconv2d_wgrad_nhwc__ref (const float *x, int h, int w, int c,
                                        const float *dy, int oh, int ow, int dm,
                                        int kh, int kw, int sh, int sw, int pt, int pl,
                                        float *dk);
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
