/* SPDX-License-Identifier: MIT
 *
 * XcNode: one layer of a model, as the ops see it (types only, so that ops/
 * need not know XcModel). TensorFlow's output sizes and padding, which every
 * windowed op and the cost counts use, are defined in ops/xc-op-common.c.
 */
#pragma once

#include <glib.h>

#include "xc-enums.h"

G_BEGIN_DECLS

#define XC_MAX_PARAMS 4

typedef struct {
  const char *name;     /* Keras weight name without layer and ":0": "kernel", "gamma" ... */
  int         ndims;
  int         dims[4];
  size_t      size;     /* elements */
  float      *data;     /* borrowed from the model slab */
  gboolean    trainable;
  gboolean    panels;   /* data holds the (K, N) kernel in GEMM panels, not Keras' row-major
                         * layout: see xc_model_pack_panels(); read it with xc_param_get() */
} XcParam;

typedef struct {
  char      *name;
  char      *keras_class;   /* as in the config: "SeparableConv2D" ... */
  XcOp       op;
  guint     *inputs;        /* indices of earlier nodes */
  guint      n_inputs;

  /* Attributes; which ones matter depends on op */
  int        kh, kw;        /* kernel or pool size */
  int        sh, sw;        /* strides */
  XcPadding  padding;
  int        filters;       /* Conv2D/SeparableConv2D output channels, Dense units */
  int        depth_multiplier;
  gboolean   use_bias;
  XcAct      act;           /* fused activation, or the Activation layer's */
  float      relu_max;      /* ReLU layer: max_value (0: none) */
  float      relu_slope;    /* ReLU layer: negative_slope */
  float      epsilon;       /* BatchNormalization */
  float      momentum;      /* BatchNormalization: moving = m moving + (1 - m) batch */
  float      rate;          /* Dropout */
  gboolean   bn_center, bn_scale;
  float      scale, offset; /* Rescaling */

  /* Output shape without the batch; vectors have h = w = 1 and flat = TRUE */
  int        h, w, c;
  gboolean   flat;

  XcParam    params[XC_MAX_PARAMS];
  guint      n_params;

  /* Costs, pure functions of shapes (1 MAC = 2 FLOPs), per image */
  guint64    n_weights;
  guint64    n_trainable;
  guint64    macs;
  guint64    std_params;    /* a SeparableConv2D as a standard Conv2D; else = n_weights */
  guint64    std_macs;
} XcNode;

int xc_same_out   (int in, int stride);
int xc_valid_out  (int in, int k, int stride);
int xc_pad_before (int in, int k, int stride, XcPadding padding);

G_END_DECLS
