/* SPDX-License-Identifier: MIT
 *
 * Every enumeration of the engine and its one string table: the names the
 * CLI takes and prints, the Keras/JSON spellings, and the titles the window
 * shows. The CLI, the window and the engine all read them here.
 */
#pragma once

#include <glib.h>

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

typedef enum {
  XC_METHOD_GRADCAM,
  XC_METHOD_GRADCAMPP,
  XC_METHOD_XGRADCAM,
  XC_METHOD_HIRESCAM,
  XC_METHOD_LAYERCAM,
  XC_METHOD_SCORECAM,
  XC_METHOD_ABLATIONCAM,
  XC_METHOD_EIGENCAM,
  XC_METHOD_SALIENCY,
  XC_METHOD_SMOOTHGRAD,
  XC_METHOD_INTEGRATED_GRADIENTS,
  XC_METHOD_GUIDED_BACKPROP,
  XC_METHOD_GUIDED_GRADCAM,
  XC_METHOD_OCCLUSION,
  XC_N_METHODS
} XcMethod;

typedef enum {
  XC_SCORE_LOGIT,            /* the class' pre-softmax score (default) */
  XC_SCORE_PROBABILITY,
  XC_SCORE_LOG_PROBABILITY,
} XcScore;

typedef enum {
  XC_BASELINE_ZERO,          /* zeros in the preprocessed input */
  XC_BASELINE_BLACK,         /* a black image, preprocessed */
  XC_BASELINE_BLURRED,       /* the input, box-blurred */
} XcBaseline;

typedef enum {
  XC_COLORMAP_JET,
  XC_COLORMAP_TURBO,
  XC_COLORMAP_VIRIDIS,
  XC_COLORMAP_INFERNO,
  XC_COLORMAP_GRAY,
  XC_N_COLORMAPS
} XcColormap;

const char *xc_op_name                (XcOp          op);     /* ops/xc-op.c: the Keras class */

const char *xc_act_name               (XcAct         act);
gboolean    xc_act_from_string        (const char   *s,
                                       XcAct        *act);
const char *xc_preprocess_name        (XcPreprocess  p);
gboolean    xc_preprocess_from_string (const char   *s,
                                       XcPreprocess *p);
const char *xc_method_name            (XcMethod      method);
const char *xc_method_title           (XcMethod      method);
gboolean    xc_method_from_string     (const char   *s,
                                       XcMethod     *method);
const char *xc_score_name             (XcScore       score);
gboolean    xc_score_from_string      (const char   *s,
                                       XcScore      *score);
const char *xc_baseline_name          (XcBaseline    baseline);
gboolean    xc_baseline_from_string   (const char   *s,
                                       XcBaseline   *baseline);
const char *xc_colormap_name          (XcColormap    cmap);
gboolean    xc_colormap_from_string   (const char   *s,
                                       XcColormap   *cmap);
/* NULL-terminated, in enum order: what a drop-down lists */
const char *const *xc_method_titles   (void);
const char *const *xc_colormap_names  (void);

G_END_DECLS
