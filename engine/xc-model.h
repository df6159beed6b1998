/* SPDX-License-Identifier: MIT
 *
 * XcModel: a graph of named nodes (Keras layer names) in topological order,
 * with shapes inferred and checked when the graph is finished, and one
 * immutable slab that owns every weight. Nodes keep Keras' weight layouts
 * (Conv2D kernel (KH, KW, C, OC), depthwise (KH, KW, C, DM), Dense (C, OC)),
 * so import and export are plain copies.
 */
#pragma once

#include <glib.h>

#include "xc-tensor.h"

G_BEGIN_DECLS

typedef enum {
  XC_OP_INPUT,
  XC_OP_CONV2D,
  XC_OP_DWCONV2D,
  XC_OP_SEPCONV2D,
  XC_OP_BATCHNORM,
  XC_OP_ACTIVATION,
  XC_OP_MAXPOOL,
  XC_OP_AVGPOOL,
  XC_OP_ADD,
  XC_OP_GAP,            /* GlobalAveragePooling2D */
  XC_OP_GMP,            /* GlobalMaxPooling2D */
  XC_OP_DENSE,
  XC_OP_FLATTEN,
  XC_OP_DROPOUT,        /* identity at inference */
  XC_OP_RESCALING,
  XC_N_OPS
} XcOp;

typedef enum {
  XC_ACT_LINEAR,
  XC_ACT_RELU,
  XC_ACT_RELU6,
  XC_ACT_SIGMOID,
  XC_ACT_TANH,
  XC_ACT_SOFTMAX,
  XC_ACT_SWISH,
} XcAct;

typedef enum {
  XC_PAD_VALID,
  XC_PAD_SAME,          /* TensorFlow's: the extra row/column goes bottom/right */
} XcPadding;

typedef enum {
  XC_PREPROCESS_TF,     /* x / 127.5 - 1 */
  XC_PREPROCESS_CAFFE,  /* RGB->BGR, minus ImageNet BGR means */
  XC_PREPROCESS_TORCH,  /* x / 255, minus mean, over std (ImageNet) */
  XC_PREPROCESS_UNIT,   /* x / 255 */
} XcPreprocess;

#define XC_MAX_PARAMS 4

typedef struct {
  const char *name;     /* Keras weight name without layer and ":0": "kernel", "gamma" ... */
  int         ndims;
  int         dims[4];
  size_t      size;     /* elements */
  float      *data;     /* borrowed from the model slab */
  gboolean    trainable;
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

typedef struct {
  char        *name;        /* what the user called it: path or spec */
  GPtrArray   *nodes;       /* XcNode*, topological */
  GHashTable  *by_name;     /* char* -> index+1 */
  guint        output;      /* the output node */
  float       *slab;        /* all weights; owned */
  size_t       slab_size;   /* floats */
  XcPreprocess preprocess;
  GPtrArray   *labels;      /* char*, or NULL */
  gboolean     finished;
} XcModel;

XcModel     *xc_model_new             (const char  *name);
void         xc_model_free            (XcModel     *model);
XcNode      *xc_model_add_node        (XcModel     *model,
                                       XcOp         op,
                                       const char  *name,
                                       const char  *keras_class,
                                       const guint *inputs,
                                       guint        n_inputs,
                                       GError     **error);
gboolean     xc_model_finish          (XcModel     *model,
                                       GError     **error);
XcNode      *xc_model_node            (const XcModel *model,
                                       guint        index);
guint        xc_model_n_nodes         (const XcModel *model);
gboolean     xc_model_lookup          (const XcModel *model,
                                       const char  *name,
                                       guint       *index,
                                       GError     **error);
gboolean     xc_model_rename_node     (XcModel     *model,
                                       guint        index,
                                       const char  *name,
                                       GError     **error);
const XcNode *xc_model_input          (const XcModel *model);
const char  *xc_model_label           (const XcModel *model,
                                       guint        index);
gboolean     xc_model_set_labels_file (XcModel     *model,
                                       const char  *path,
                                       GError     **error);
void         xc_model_totals          (const XcModel *model,
                                       guint64     *params,
                                       guint64     *trainable,
                                       guint64     *macs,
                                       guint64     *std_params,
                                       guint64     *std_macs);
const char  *xc_op_name               (XcOp         op);
const char  *xc_act_name              (XcAct        act);
gboolean     xc_act_from_string       (const char  *s,
                                       XcAct       *act);
const char  *xc_preprocess_name       (XcPreprocess p);
gboolean     xc_preprocess_from_string (const char *s,
                                       XcPreprocess *p);
int          xc_same_out              (int in, int stride);
int          xc_valid_out             (int in, int k, int stride);
int          xc_pad_before            (int in, int k, int stride, XcPadding padding);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcModel, xc_model_free)

G_END_DECLS
