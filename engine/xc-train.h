/* SPDX-License-Identifier: MIT
 *
 * Training and evaluation: softmax cross-entropy, SGD with momentum or
 * AdamW, weight decay, a cosine learning-rate schedule with linear warm-up,
 * seeded shuffling and augmentation, progress and cancel between steps,
 * checkpoints.
 */
#pragma once

#include "xc-dataset.h"
#include "xc-model.h"
#include "xc-plan.h"

G_BEGIN_DECLS

typedef enum {
  XC_OPTIMIZER_SGD,
  XC_OPTIMIZER_ADAMW,
} XcOptimizer;

typedef struct {
  int          epochs;
  int          batch;
  double       lr;
  double       momentum;       /* SGD */
  double       weight_decay;   /* on kernels only */
  double       warmup_epochs;
  XcOptimizer  optimizer;
  guint64      seed;
  XcAugment    augment;
  guint        freeze_until;   /* nodes up to and including this one are frozen; 0: none */
  const char  *checkpoint;     /* written after every epoch; nullable */
  const char *const *checkpoint_attrs;
} XcTrainOptions;

typedef struct {
  int      epoch, epochs;      /* 1-based */
  guint64  step, steps;        /* over the whole run */
  double   loss;               /* running mean over the epoch so far */
  double   accuracy;           /* training accuracy over the epoch so far */
  double   lr;
  double   images_per_s;
  double   eta_s;
  gboolean epoch_done;
  double   val_accuracy;       /* at epoch ends, when a validation set was given; else -1 */
} XcTrainProgress;

typedef gboolean (*XcTrainProgressFunc) (const XcTrainProgress *p, gpointer data);

typedef struct {
  int      n, n_classes;
  double   accuracy;
  double   loss;
  guint   *confusion;          /* (n_classes, n_classes): true row, predicted column */
  double  *precision, *recall;
} XcEvaluation;

void          xc_train_options_init (XcTrainOptions       *o);
gboolean      xc_train              (XcModel              *model,
                                     const XcDataset      *train,
                                     const XcDataset      *val,
                                     const XcTrainOptions *o,
                                     XcTrainProgressFunc   progress,
                                     gpointer              data,
                                     GError              **error);
XcEvaluation *xc_evaluate           (const XcModel        *model,
                                     const XcDataset      *ds,
                                     int                   batch,
                                     XcProgressFunc        progress,
                                     gpointer              data,
                                     GError              **error);
void          xc_evaluation_free    (XcEvaluation         *e);
double        xc_train_lr_at        (const XcTrainOptions *o,
                                     guint64               step,
                                     guint64               steps,
                                     guint64               steps_per_epoch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcEvaluation, xc_evaluation_free)

G_END_DECLS
