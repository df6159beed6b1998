/* SPDX-License-Identifier: MIT
 *
 * XsInference: the app's one door to the engine. Loading a model, analysing
 * an image (forward pass keeping every layer's output) and explaining run
 * in GTask worker threads, one at a time, and never touch widgets.
 */
#pragma once

#include <gio/gio.h>

#include "xc.h"

G_BEGIN_DECLS

/* A loaded model, shared read-only between the UI and workers; the engine
 * state kept with it for the next image is touched only by workers that
 * hold the engine lock */
typedef struct {
  XcModel     *model;
  char        *display_name;
  XcExplainer *explainer;      /* its plans serve every image's forward and explanations */
  guint64      explainer_of;   /* the serial of the analysis whose input it holds */
} XsModel;

XsModel *xs_model_ref   (XsModel *m);
char    *xs_model_display_name (const char *spec);
void     xs_model_unref (XsModel *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XsModel, xs_model_unref)

/* One image through one model: the predictions and every layer's time and
 * statistics, folded into the forward pass. Layer outputs are not kept:
 * xs_inference_activations_async() recomputes the ones a view shows. */
typedef struct {
  XsModel   *model;
  guint64    serial;       /* unique to this analysis */
  XcImage   *image;        /* the original, [0, 255] (DICOM and 16-bit: windowed) */
  XcImage   *seen;         /* at the model's size and channels, [0, 255]: what the network
                              saw, before its preprocessing */
  XcImageOptions options;  /* how the image was read: frame, window */
  char      *path;
  float     *input;        /* (H, W, C): the preprocessed input, what the network saw */
  XcNodeRun *runs;         /* per node: time and statistics */
  size_t     arena_bytes;  /* the forward's activation memory */
  float     *probs;        /* (classes) */
  int        classes;
  double     time_ms;
} XsAnalysis;

/* Some layers' outputs for one analysis, recomputed */
typedef struct {
  guint     n;
  guint    *nodes;
  XcTensor *outputs;       /* owned data, batch 1 */
} XsActivations;

void        xs_activations_free (XsActivations *acts);
const XcTensor *xs_activations_get (const XsActivations *acts,
                                    guint                node);
float      *xs_activations_steal (XsActivations *acts,
                                  guint          node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XsActivations, xs_activations_free)

XsAnalysis *xs_analysis_ref   (XsAnalysis *a);
void        xs_analysis_unref (XsAnalysis *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XsAnalysis, xs_analysis_unref)

/* An explanation of an analysis; its faithfulness figures arrive later,
 * from xs_inference_faithfulness_async() */
typedef struct {
  XcExplanation  *explanation;
  XcFaithfulness *faithfulness;
} XsExplainResult;

void xs_explain_result_free (XsExplainResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XsExplainResult, xs_explain_result_free)

/* Two models on one image, or one model on two images */
typedef struct {
  XsModel        *model[2];
  XcImage        *image[2];
  char           *image_name[2];
  float          *probs[2];
  int             classes[2];
  XcExplanation  *explanation[2];
  XcFaithfulness *faithfulness[2];
  XcModelCost     cost[2];
  double          correlation;
} XsCompareResult;

void xs_compare_result_free (XsCompareResult *r);

#define XS_CALIBRATION_BINS 10

/* Two models over a folder, with class subfolders (labelled) or without */
typedef struct {
  XsModel   *model[2];
  XcDataset *dataset;        /* stored at model A's input size */
  int       *top[2];         /* (n) */
  float     *prob[2];
  int       *truth[2];       /* (n) the label as the model's class, -1 when unknown */
  double     accuracy[2];    /* -1 when the labels do not match the model's */
  double     ece[2];         /* expected calibration error, when accuracy >= 0 */
  int        bin_count[2][XS_CALIBRATION_BINS];
  double     bin_confidence[2][XS_CALIBRATION_BINS];
  double     bin_accuracy[2][XS_CALIBRATION_BINS];
  guint      only_a, only_b; /* McNemar's discordant pairs, when both have accuracy */
  double     agreement;
  int        n_disagree;
} XsFolderResult;

void xs_folder_result_free (XsFolderResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XsFolderResult, xs_folder_result_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (XsCompareResult, xs_compare_result_free)

#define XS_TYPE_INFERENCE (xs_inference_get_type ())
G_DECLARE_FINAL_TYPE (XsInference, xs_inference, XS, INFERENCE, GObject)

XsInference     *xs_inference_new              (void);
void             xs_inference_load_model_async (XsInference         *self,
                                                const char          *spec,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
XsModel         *xs_inference_load_model_finish (XsInference        *self,
                                                GAsyncResult        *result,
                                                GError             **error);
void             xs_inference_analyze_async    (XsInference         *self,
                                                XsModel             *model,
                                                const char          *image_path,
                                                const XcImageOptions *options,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
XsAnalysis      *xs_inference_analyze_finish   (XsInference         *self,
                                                GAsyncResult        *result,
                                                GError             **error);
void             xs_inference_activations_async (XsInference        *self,
                                                XsAnalysis          *analysis,
                                                const guint         *nodes,
                                                guint                n_nodes,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
XsActivations   *xs_inference_activations_finish (XsInference       *self,
                                                GAsyncResult        *result,
                                                GError             **error);
void             xs_inference_explain_async    (XsInference         *self,
                                                XsAnalysis          *analysis,
                                                const XcExplainOptions *options,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
XsExplainResult *xs_inference_explain_finish   (XsInference         *self,
                                                GAsyncResult        *result,
                                                GError             **error);

/* Called in the main context with the steps done of a job's total */
typedef void (*XsProgressCallback) (guint done, guint total, gpointer user_data);

void             xs_inference_faithfulness_async (XsInference       *self,
                                                XsAnalysis          *analysis,
                                                const XcExplanation *explanation,
                                                XsProgressCallback   progress,
                                                gpointer             progress_data,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
XcFaithfulness  *xs_inference_faithfulness_finish (XsInference      *self,
                                                GAsyncResult        *result,
                                                GError             **error);
void             xs_inference_compare_async    (XsInference         *self,
                                                XsModel             *model_a,
                                                const char          *spec_b,
                                                const char          *image_a,
                                                const char          *image_b,
                                                XcMethod             method,
                                                int                  class_a,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
XsCompareResult *xs_inference_compare_finish   (XsInference         *self,
                                                GAsyncResult        *result,
                                                GError             **error);
void             xs_inference_compare_folder_async (XsInference     *self,
                                                XsModel             *model_a,
                                                const char          *spec_b,
                                                const char          *folder,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
XsFolderResult  *xs_inference_compare_folder_finish (XsInference    *self,
                                                GAsyncResult        *result,
                                                GError             **error);
void             xs_inference_measure_async    (XsInference         *self,
                                                const XcConvShape   *shape,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
XcConvTimes     *xs_inference_measure_finish   (XsInference         *self,
                                                GAsyncResult        *result,
                                                GError             **error);

G_END_DECLS
