/* SPDX-License-Identifier: MIT
 *
 * Engine-internal op interface. One op = one file (ops/xc-<op>.c) holding,
 * in this order: its shape inference with parameter and MAC counts, the
 * scratch and saved state it needs (pure functions of shapes), its forward
 * and its backward, registered as one XcOpClass in the op table (xc-op.c)
 * that the model, the planner and the Keras importer consult. Forward passes
 * never allocate and never fail: XcPlan validated every shape and sized the
 * scratch before the run. Hot loops live in engine/kernels/.
 */
#pragma once

#include "xc-node.h"
#include "xc-tensor.h"
#include "kernels/xc-kernels.h"

G_BEGIN_DECLS

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
  size_t          scratch_floats; /* what scratch holds (>= xc_op_scratch() when the plan
                                   * was made); 0: exactly xc_op_backward_scratch() */
  /* Conv2D and SeparableConv2D only, NULL otherwise: the inference
   * BatchNormalization that follows, folded in (out = out * post_scale +
   * post_shift per channel, the layer's bias already in post_shift) */
  const float    *post_scale;
  const float    *post_shift;
  /* SeparableConv2D only: in[0] is the input of the ReLU before the layer,
   * folded in (max(x, 0) is what the depthwise step reads) */
  gboolean        relu_in;
  /* Conv2D only, with post_scale: the ReLU after the folded
   * BatchNormalization, folded in too (out = max(out, 0)) */
  gboolean        post_relu;
} XcOpArgs;

/* Everything one node's backward pass reads and writes. Gradients are
 * accumulated (+=) into din, as llm.c does: the plan zeroes them first,
 * except for ops whose class sets backward_assigns, which are told which
 * inputs have no gradient yet (din_fresh) and write theirs (=) there. */
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
  const gboolean *din_fresh; /* per input, with backward_assigns: din not zeroed, assign it */
} XcOpBackArgs;

typedef void (*XcOpForwardFunc) (const XcOpArgs *args);

/* One op: what the model, planner and importer need to know of it */
typedef struct {
  XcOp               op;
  /* Keras class names that build it, the first the one we write */
  const char *const *keras_classes;
  /* Output shape, parameters, MACs and std_macs from the inputs (node->n_inputs
   * of them, already checked to exist); FALSE with an error naming the layer */
  gboolean         (*infer)            (XcNode *node, const XcNode *const *in, GError **error);
  /* Floats of scratch for a forward of `batch` images (NULL: none) */
  size_t           (*scratch)          (const XcNode *node, const XcNode *in, int batch);
  /* Floats a training forward keeps for backward (NULL: none) */
  size_t           (*saved_size)       (const XcNode *node, int batch);
  /* Floats of backward scratch (NULL: the forward's) */
  size_t           (*backward_scratch) (const XcNode *node, const XcNode *in, int batch);
  XcOpForwardFunc    forward;          /* NULL: nothing to compute (the input) */
  void             (*backward)         (const XcOpBackArgs *args);
  /* backward honours din_fresh: the plan need not zero those gradients */
  gboolean           backward_assigns;
} XcOpClass;
gboolean         xc_op_backward_assigns (XcOp         op);

/* The table (xc-op.c) */
const XcOpClass *xc_op_class            (XcOp         op);
gboolean         xc_op_from_keras_class (const char  *keras_class,
                                         XcOp        *op);
size_t           xc_op_scratch          (const XcNode *node, const XcNode *in, int batch);
size_t           xc_op_saved_size       (const XcNode *node, int batch);
size_t           xc_op_backward_scratch (const XcNode *node, const XcNode *in, int batch);
void             xc_op_forward          (const XcOpArgs *args);
void             xc_op_backward         (const XcOpBackArgs *args);

/* The ops, one file each */
extern const XcOpClass xc_op_input;
extern const XcOpClass xc_op_conv2d;
extern const XcOpClass xc_op_dwconv2d;
extern const XcOpClass xc_op_sepconv2d;
extern const XcOpClass xc_op_batchnorm;
extern const XcOpClass xc_op_activation;
extern const XcOpClass xc_op_maxpool2d;
extern const XcOpClass xc_op_avgpool2d;
extern const XcOpClass xc_op_add;
extern const XcOpClass xc_op_global_avgpool;
extern const XcOpClass xc_op_global_maxpool;
extern const XcOpClass xc_op_dense;
extern const XcOpClass xc_op_flatten;
extern const XcOpClass xc_op_dropout;
extern const XcOpClass xc_op_rescaling;

/* What several ops share (xc-op-common.c) */
void         _xc_node_add_param       (XcNode *node, const char *name, gboolean trainable,
                                       int ndims, int d0, int d1, int d2, int d3);
gboolean     _xc_node_spatial_out     (XcNode *node, const XcNode *in, GError **error);
gboolean     _xc_node_same_shape      (XcNode *node, const XcNode *const *in, GError **error);
size_t       _xc_op_fused_act_scratch (const XcNode *node, int batch);
const float *_xc_op_fused_act_backward (const XcOpBackArgs *args, float *dpre,
                                        XcOpForwardFunc forward);
void         _xc_op_copy_forward      (const XcOpArgs *args);
void         _xc_op_copy_backward     (const XcOpBackArgs *args);

/* The depthwise step for a whole batch, which SeparableConv2D shares
 * (xc-dwconv2d.c) */
void         _xc_batchnorm_affine     (const XcNode *node, float *scale, float *shift);
void         _xc_dwconv2d_batch       (const XcNode *node, const XcTensor *x, float *y,
                                       int oh, int ow, gboolean relu);
void         _xc_dwconv2d_rows        (const XcNode *node, const XcTensor *x, float *y,
                                       int oh, int ow, int r0, int r1, gboolean relu);
void         _xc_dwconv2d_backward_batch (const XcNode *node, const XcTensor *x, XcTensor *dx,
                                          float *dk, const float *dy, int oh, int ow);

G_END_DECLS
