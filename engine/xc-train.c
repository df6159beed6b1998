/* SPDX-License-Identifier: MIT
 *
 * The training loop. One training plan at the batch size (BatchNormalization
 * on batch statistics, moving averages with the layer's Keras momentum), a
 * gradient slab shaped like the weight slab, and optimizer state slabs.
 * Per step: fill the batch (seeded shuffle and augmentation), forward,
 * cross-entropy on the softmax output, backward from the logits
 * (dL/dz = (p - onehot) / B), update. Both BLAS and our OpenMP loops use
 * every core, so a mini-batch runs in parallel. Evaluation runs the model
 * in inference mode.
 */
#define G_LOG_DOMAIN "xc-train"

#include <math.h>
#include <string.h>

#include "xc-random.h"
#include "xc-error.h"
#include "xc-train.h"
#include "io/xc-keras.h"

void
xc_train_options_init (XcTrainOptions *o)
{
  *o = (XcTrainOptions) {
    .epochs = 10, .batch = 64, .lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4,
    .warmup_epochs = 1.0, .optimizer = XC_OPTIMIZER_SGD, .seed = 1,
    .augment = { .crop_pad = 0, .flip = FALSE, .seed = 1 },
  };
}

/* Linear warm-up, then cosine decay to zero, per step */
double
xc_train_lr_at (const XcTrainOptions *o, guint64 step, guint64 steps, guint64 steps_per_epoch)
{
  double warm = o->warmup_epochs * steps_per_epoch;

  if (step < warm)
    return o->lr * (step + 1) / warm;
  if (steps <= warm)
    return o->lr;
  return o->lr * 0.5 * (1.0 + cos (G_PI * (step - warm) / (steps - warm)));
}

static gboolean
check_softmax_output (const XcModel *model, GError **error)
{
  const XcNode *out = xc_model_node (model, model->output);

  if (!out->flat || out->act != XC_ACT_SOFTMAX)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: training needs a softmax class output; %s is not one", model->name,
                   out->name);
      return FALSE;
    }
  return TRUE;
}

/* BatchNormalization's moving statistics lag the weights while they move
 * fast; once training ends they are re-estimated as exact averages over up
 * to 100 batches of the (unaugmented) training data: batch k enters the
 * moving mean with weight 1/(k+1), by setting each BN's momentum to
 * k/(k+1) for that forward pass. */
static void
calibrate_batchnorm (XcModel *model, XcPlan *plan, const XcDataset *train, int B,
                     const int *order)
{
  g_autofree float *saved = g_new (float, xc_model_n_nodes (model));
  int batches = MIN (100, train->n / B);
  g_autofree int *idx = g_new (int, B);

  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    saved[i] = xc_model_node (model, i)->momentum;
  for (int k = 0; k < batches; k++)
    {
      XcTensor x = xc_plan_input (plan);
      for (guint i = 0; i < xc_model_n_nodes (model); i++)
        if (xc_model_node (model, i)->op == XC_OP_BATCHNORM)
          xc_model_node (model, i)->momentum = (float) k / (k + 1);
      for (int b = 0; b < B; b++)
        idx[b] = order[(k * B + b) % train->n];
      xc_dataset_fill (train, idx, B, model, NULL, 0, x.data);
      xc_plan_run (plan, FALSE, NULL, NULL, NULL);
    }
  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    xc_model_node (model, i)->momentum = saved[i];
}

/**
 * xc_train:
 * @model: trained in place
 * @val: (nullable): evaluated after every epoch
 * @progress: (nullable) (scope call): after every step; FALSE cancels
 *
 * Returns: %FALSE with @error on bad options or a cancel (the model then
 *   holds the weights of the last completed step)
 */
gboolean
xc_train (XcModel              *model,
          const XcDataset      *train,
          const XcDataset      *val,
          const XcTrainOptions *o,
          XcTrainProgressFunc   progress,
          gpointer              data,
          GError              **error)
{
  const XcNode *in = xc_model_input (model);
  const XcNode *out = xc_model_node (model, model->output);
  g_autoptr(XcPlan) plan = NULL;
  g_autofree float *grads = NULL, *m1 = NULL, *m2 = NULL, *seed = NULL;
  g_autofree int *order = NULL, *idx = NULL;
  g_autofree gboolean *trainable = NULL;
  guint64 steps_per_epoch, steps, step = 0;
  gint64 t_start = g_get_monotonic_time ();
  size_t in_size = (size_t) in->h * in->w * in->c;
  int B = o->batch;

  if (!check_softmax_output (model, error))
    return FALSE;
  if (train->n_classes != out->c)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_SHAPE, "%s has %d classes, the model's output %d",
                   train->name, train->n_classes, out->c);
      return FALSE;
    }
  if (B < 1 || B > 4096 || o->epochs < 1 || o->epochs > 100000 || !(o->lr > 0) ||
      train->n < 1)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "training options out of range: batch %d (1 to 4096), epochs %d, lr %g", B,
                   o->epochs, o->lr);
      return FALSE;
    }
  plan = xc_plan_new_training (model, B, error);
  if (plan == NULL)
    return FALSE;
  grads = g_try_malloc0 (model->slab_size * sizeof (float));
  m1 = g_try_malloc0 (model->slab_size * sizeof (float));
  m2 = o->optimizer == XC_OPTIMIZER_ADAMW ? g_try_malloc0 (model->slab_size * sizeof (float))
                                          : NULL;
  if (grads == NULL || m1 == NULL || (o->optimizer == XC_OPTIMIZER_ADAMW && m2 == NULL))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "cannot allocate optimizer state");
      return FALSE;
    }
  xc_plan_set_param_grads (plan, grads);
  xc_plan_set_frozen_until (plan, o->freeze_until);

  /* which weights move, and which decay: kernels of unfrozen layers */
  trainable = g_new0 (gboolean, model->slab_size);
  {
    for (guint k = 0; k < xc_model_n_nodes (model); k++)
      {
        XcNode *node = xc_model_node (model, k);
        for (guint p = 0; p < node->n_params; p++)
          {
            XcParam *param = &node->params[p];
            gboolean t = param->trainable && (o->freeze_until == 0 || k > o->freeze_until);
            size_t off = param->data - model->slab;
            for (size_t e = 0; e < param->size; e++)
              trainable[off + e] = t ? (g_str_has_suffix (param->name, "kernel") ? 2 : 1) : 0;
          }
      }
  }

  order = g_new (int, train->n);
  idx = g_new (int, B);
  seed = g_new (float, (size_t) B * out->c);
  steps_per_epoch = MAX (1, train->n / B);   /* drop the last partial batch */
  steps = steps_per_epoch * o->epochs;

  model->random_weights = FALSE;  /* trained from here on */
  for (int epoch = 1; epoch <= o->epochs; epoch++)
    {
      double loss_sum = 0;
      guint64 correct = 0, seen = 0;

      for (int i = 0; i < train->n; i++)
        order[i] = i;
      for (int i = train->n - 1; i > 0; i--)
        {
          int j = MIN (i, (int) (xc_seeded_uniform (o->seed, 1000 + epoch, i) * (i + 1)));
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      for (guint64 s = 0; s < steps_per_epoch; s++, step++)
        {
          XcTensor x, p;
          double lr = xc_train_lr_at (o, step, steps, steps_per_epoch);
          XcAugment aug = o->augment;
          XcTrainProgress pr = { 0 };

          for (int b = 0; b < B; b++)
            idx[b] = order[(s * B + b) % train->n];
          x = xc_plan_input (plan);
          aug.seed = o->augment.seed ^ (o->seed * 0x9E3779B97F4A7C15ull);
          xc_dataset_fill (train, idx, B, model, &aug, step, x.data);
          g_assert (xc_tensor_size (&x) == (size_t) B * in_size);
          xc_plan_set_step (plan, step + o->seed * 1000003u);
          xc_plan_run (plan, FALSE, NULL, NULL, NULL);
          xc_plan_output (plan, model->output, &p);

          /* softmax cross-entropy; its gradient w.r.t. the logits */
          for (int b = 0; b < B; b++)
            {
              int label = train->labels[idx[b]], arg = 0;
              const float *pb = p.data + (size_t) b * out->c;
              for (int c = 0; c < out->c; c++)
                {
                  seed[b * out->c + c] = (pb[c] - (c == label)) / B;
                  if (pb[c] > pb[arg])
                    arg = c;
                }
              loss_sum -= log (MAX (pb[label], 1e-12f));
              correct += arg == label;
              seen++;
            }
          memset (grads, 0, model->slab_size * sizeof (float));
          xc_plan_backward (plan, model->output, seed, TRUE, o->freeze_until, FALSE, NULL, NULL,
                            NULL);

          /* the update */
          if (o->optimizer == XC_OPTIMIZER_SGD)
            {
              float mu = (float) o->momentum, wd = (float) o->weight_decay, flr = (float) lr;
              for (size_t i = 0; i < model->slab_size; i++)
                if (trainable[i])
                  {
                    float g = grads[i] + (trainable[i] == 2 ? wd * model->slab[i] : 0.0f);
                    m1[i] = mu * m1[i] + g;
                    model->slab[i] -= flr * m1[i];
                  }
            }
          else
            {
              const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
              double c1 = 1.0 - pow (b1, step + 1), c2 = 1.0 - pow (b2, step + 1);
              for (size_t i = 0; i < model->slab_size; i++)
                if (trainable[i])
                  {
                    double g = grads[i];
                    m1[i] = (float) (b1 * m1[i] + (1 - b1) * g);
                    m2[i] = (float) (b2 * m2[i] + (1 - b2) * g * g);
                    model->slab[i] -= (float) (lr * ((m1[i] / c1) / (sqrt (m2[i] / c2) + eps) +
                                                     (trainable[i] == 2 ? o->weight_decay *
                                                      model->slab[i] : 0.0)));
                  }
            }

          if (progress)
            {
              double secs = (g_get_monotonic_time () - t_start) / 1e6;
              pr.epoch = epoch, pr.epochs = o->epochs;
              pr.step = step + 1, pr.steps = steps;
              pr.loss = loss_sum / seen;
              pr.accuracy = (double) correct / seen;
              pr.lr = lr;
              pr.images_per_s = (step + 1) * B / MAX (secs, 1e-6);
              pr.eta_s = (steps - step - 1) * B / MAX (pr.images_per_s, 1e-6);
              pr.val_accuracy = -1;
              if (!progress (&pr, data))
                {
                  g_set_error (error, XC_ERROR, XC_ERROR_CANCELLED, "training cancelled at "
                               "epoch %d, step %" G_GUINT64_FORMAT, epoch, step + 1);
                  return FALSE;
                }
            }
        }

      /* epoch end: validation, checkpoint */
      {
        XcTrainProgress pr = { 0 };
        double secs = (g_get_monotonic_time () - t_start) / 1e6;   /* training steps only */
        if (epoch == o->epochs)
          calibrate_batchnorm (model, plan, train, B, order);
        pr.epoch = epoch, pr.epochs = o->epochs, pr.step = step, pr.steps = steps;
        pr.loss = loss_sum / MAX (seen, 1);
        pr.accuracy = (double) correct / MAX (seen, 1);
        pr.images_per_s = step * B / MAX (secs, 1e-6);
        pr.eta_s = (steps - step) * B / MAX (pr.images_per_s, 1e-6);
        pr.epoch_done = TRUE;
        pr.val_accuracy = -1;
        if (val)
          {
            g_autoptr(XcEvaluation) ev = xc_evaluate (model, val, 100, NULL, NULL, error);
            if (ev == NULL)
              return FALSE;
            pr.val_accuracy = ev->accuracy;
          }
        if (o->checkpoint &&
            !xc_keras_save_model (model, o->checkpoint, o->checkpoint_attrs, error))
          return FALSE;
        if (progress && !progress (&pr, data))
          {
            g_set_error (error, XC_ERROR, XC_ERROR_CANCELLED, "training cancelled after epoch %d",
                         epoch);
            return FALSE;
          }
      }
    }
  return TRUE;
}

void
xc_evaluation_free (XcEvaluation *e)
{
  if (e == NULL)
    return;
  g_free (e->confusion);
  g_free (e->precision);
  g_free (e->recall);
  g_free (e);
}

/**
 * xc_evaluate:
 *
 * Returns: (transfer full): accuracy, mean cross-entropy, the confusion
 *   matrix and per-class precision and recall
 */
XcEvaluation *
xc_evaluate (const XcModel   *model,
             const XcDataset *ds,
             int              batch,
             XcProgressFunc   progress,
             gpointer         data,
             GError         **error)
{
  const XcNode *out = xc_model_node (model, model->output);
  g_autoptr(XcPlan) plan = NULL;
  g_autoptr(XcEvaluation) e = g_new0 (XcEvaluation, 1);
  g_autofree int *idx = NULL;
  int C = out->c;
  guint64 correct = 0;

  if (!out->flat)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: the output is not a class vector",
                   model->name);
      return NULL;
    }
  if (ds->n_classes != C)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_SHAPE, "%s has %d classes, the model's output %d",
                   ds->name, ds->n_classes, C);
      return NULL;
    }
  batch = CLAMP (batch, 1, MAX (1, ds->n));
  plan = xc_plan_new (model, batch, NULL, error);
  if (plan == NULL)
    return NULL;
  idx = g_new (int, batch);
  e->n = ds->n;
  e->n_classes = C;
  e->confusion = g_new0 (guint, (size_t) C * C);
  e->precision = g_new0 (double, C);
  e->recall = g_new0 (double, C);
  for (int i0 = 0; i0 < ds->n; i0 += batch)
    {
      int m = MIN (batch, ds->n - i0);
      XcTensor x, p;
      if (progress && !progress (i0, ds->n, data))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_CANCELLED, "evaluation cancelled");
          return NULL;
        }
      for (int b = 0; b < batch; b++)
        idx[b] = i0 + MIN (b, m - 1);
      x = xc_plan_input (plan);
      xc_dataset_fill (ds, idx, batch, model, NULL, 0, x.data);
      xc_plan_run (plan, FALSE, NULL, NULL, NULL);
      xc_plan_output (plan, model->output, &p);
      for (int b = 0; b < m; b++)
        {
          const float *pb = p.data + (size_t) b * C;
          int label = ds->labels[i0 + b], arg = 0;
          for (int c = 1; c < C; c++)
            if (pb[c] > pb[arg])
              arg = c;
          e->confusion[(size_t) label * C + arg]++;
          e->loss -= log (MAX (pb[label], 1e-12f));
          correct += arg == label;
        }
    }
  e->accuracy = (double) correct / MAX (ds->n, 1);
  e->loss /= MAX (ds->n, 1);
  for (int c = 0; c < C; c++)
    {
      guint64 tp = e->confusion[(size_t) c * C + c], pred = 0, truth = 0;
      for (int k = 0; k < C; k++)
        {
          pred += e->confusion[(size_t) k * C + c];
          truth += e->confusion[(size_t) c * C + k];
        }
      e->precision[c] = pred ? (double) tp / pred : 0;
      e->recall[c] = truth ? (double) tp / truth : 0;
    }
  return g_steal_pointer (&e);
}
