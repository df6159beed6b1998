/* SPDX-License-Identifier: MIT
 *
 * Explanations: where is the evidence for a class? Class activation maps
 * (Grad-CAM and its family, Score-CAM, Ablation-CAM, Eigen-CAM), gradient
 * attributions (saliency, SmoothGrad, Integrated Gradients, guided
 * backpropagation), occlusion, and faithfulness metrics for any map.
 */
#pragma once

#include "xc-model.h"
#include "xc-plan.h"

G_BEGIN_DECLS

/* Iteration counts a user can set are bounded (Integrated Gradients steps,
 * SmoothGrad samples; deletion/insertion curve steps) */
#define XC_EXPLAIN_MAX_STEPS       4096
#define XC_EXPLAIN_MAX_CURVE_STEPS 1000




typedef struct {
  XcMethod   method;
  int        target_class;   /* -1: the top-1 class */
  guint      layer;          /* target node; G_MAXUINT: xc_model_default_cam_layer() */
  XcScore    score;
  gboolean   counterfactual; /* negated gradient: evidence against the class */
  int        steps;          /* Integrated Gradients steps, SmoothGrad samples (0: default) */
  float      noise;          /* SmoothGrad sigma as a fraction of the input range */
  XcBaseline baseline;       /* Integrated Gradients */
  int        window, stride; /* occlusion, input pixels (0: default) */
  guint64    seed;           /* SmoothGrad noise */
} XcExplainOptions;

typedef struct {
  XcMethod  method;
  int       target_class;
  guint     layer;           /* the CAM layer, or 0 for input attributions */
  double    score;           /* the explained score of the class, as chosen */
  double    probability;
  float    *map;             /* (map_h, map_w), raw: before normalisation or upsampling */
  int       map_h, map_w;
  float    *grad;            /* (1, grad_h, grad_w, grad_c): dScore/dLayer for the CAMs,
                                dScore/dInput (or the attribution) for input methods */
  int       grad_h, grad_w, grad_c;
  double    time_ms;
} XcExplanation;

typedef struct {
  double  deletion_auc;      /* lower is more faithful */
  double  insertion_auc;     /* higher is more faithful */
  double  average_drop;      /* percent, lower is better */
  double  increase;          /* 1 if the masked image scores higher, else 0 */
  int     steps;
  double *deletion;          /* steps + 1 probabilities */
  double *insertion;
} XcFaithfulness;

typedef struct _XcExplainer XcExplainer;

void            xc_explain_options_init   (XcExplainOptions *opts);
gboolean        xc_method_uses_layer      (XcMethod          method);

XcExplainer    *xc_explainer_new          (const XcModel    *model,
                                           GError          **error);
void            xc_explainer_free         (XcExplainer      *ex);
gboolean        xc_explainer_set_input    (XcExplainer      *ex,
                                           const float      *input,
                                           GError          **error);
const float    *xc_explainer_probabilities (XcExplainer     *ex);
XcPlan         *xc_explainer_plan         (XcExplainer      *ex);
XcPlan         *xc_explainer_forward_to   (XcExplainer      *ex,
                                           const float      *input,
                                           guint             last,
                                           gboolean          stats,
                                           XcProgressFunc    progress,
                                           gpointer          data,
                                           GError          **error);
XcPlan         *xc_explainer_forward      (XcExplainer      *ex,
                                           const float      *input,
                                           gboolean          stats,
                                           XcProgressFunc    progress,
                                           gpointer          data,
                                           GError          **error);
XcExplanation  *xc_explainer_run          (XcExplainer      *ex,
                                           const XcExplainOptions *opts,
                                           XcProgressFunc    progress,
                                           gpointer          data,
                                           GError          **error);
XcFaithfulness *xc_explainer_faithfulness (XcExplainer      *ex,
                                           const XcExplanation *e,
                                           int               steps,
                                           XcProgressFunc    progress,
                                           gpointer          data,
                                           GError          **error);
void            xc_explanation_free       (XcExplanation    *e);
void            xc_faithfulness_free      (XcFaithfulness   *f);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcExplainer, xc_explainer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcExplanation, xc_explanation_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcFaithfulness, xc_faithfulness_free)

/* The map resized bilinearly with half-pixel centres to (OH, OW), scaled to [0, 1] */
float          *xc_map_upsample_normalised (const float *map,
                                     int          h,
                                     int          w,
                                     int          oh,
                                     int          ow);

G_END_DECLS
