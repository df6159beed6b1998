/* SPDX-License-Identifier: MIT
 *
 * XsInference's comparisons: two models (or two images) on one image with
 * the same explanation target, and two models over a folder of class
 * subfolders. Same rules as xs-inference.c: one engine job at a time.
 */
#define G_LOG_DOMAIN "xs-inference"

#include "xs-inference-private.h"

/* compare ---------------------------------------------------------------- */

/* Model B of a comparison: loaded from its spec, or A again; the caller
 * holds the engine lock */
static XsModel *
load_model_b (XsModel *a, const char *spec_b, GError **error)
{
  XsModel *m;
  XcModel *mb;

  if (spec_b == NULL)
    return xs_model_ref (a);
  mb = xc_model_load_spec (spec_b, error);
  if (mb == NULL)
    return NULL;
  /* as the window's model (xs-inference.c load_worker()) */
  xc_model_pack_panels (mb);
  m = g_atomic_rc_box_new0 (XsModel);
  m->model = mb;
  m->display_name = xs_model_display_name (spec_b);
  return m;
}

void
xs_compare_result_free (XsCompareResult *r)
{
  if (r == NULL)
    return;
  for (int k = 0; k < 2; k++)
    {
      g_clear_pointer (&r->model[k], xs_model_unref);
      xc_image_free (r->image[k]);
      g_free (r->image_name[k]);
      g_free (r->probs[k]);
      xc_explanation_free (r->explanation[k]);
      xc_faithfulness_free (r->faithfulness[k]);
    }
  g_free (r);
}

typedef struct {
  XsModel  *model_a;
  char     *spec_b;
  char     *image[2];
  XcMethod  method;
  int       class_a;
} CompareData;

static void
compare_data_free (gpointer p)
{
  CompareData *d = p;
  xs_model_unref (d->model_a);
  g_free (d->spec_b);
  g_free (d->image[0]);
  g_free (d->image[1]);
  g_free (d);
}

static void
compare_worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  XsInference *self = source;
  CompareData *d = data;
  g_autoptr(XsCompareResult) r = g_new0 (XsCompareResult, 1);
  g_autoptr(GError) error = NULL;

  r->model[0] = xs_model_ref (d->model_a);
  g_mutex_lock (&self->engine_lock);
  r->model[1] = load_model_b (d->model_a, d->spec_b, &error);
  if (r->model[1] == NULL)
    {
      g_mutex_unlock (&self->engine_lock);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  XcExplainer *own_b = NULL, *explainers[2] = { NULL, NULL };

  for (int k = 0; k < 2; k++)
    {
      const XcModel *m = r->model[k]->model;
      const XcNode *in = xc_model_input (m);
      const char *path = d->image[k] ? d->image[k] : d->image[0];
      g_autofree float *input = g_new (float, (size_t) in->h * in->w * in->c);
      XcExplainer *ex = NULL;
      XcExplainOptions o;
      int cls;

      if (g_cancellable_is_cancelled (cancellable))
        {
          g_set_error (&error, XC_ERROR, XC_ERROR_CANCELLED, "cancelled");
          break;
        }
      r->image[k] = xc_image_load (path, &error);
      r->image_name[k] = g_path_get_basename (path);
      if (r->image[k] == NULL || !xc_image_to_input (r->image[k], m, input, &error))
        break;
      /* the current model's explainer and its plans serve here too (its input
       * is then no analysis'); a second model's are made for this run only */
      if (r->model[k] == d->model_a)
        {
          if (d->model_a->explainer == NULL &&
              !(d->model_a->explainer = xc_explainer_new (m, &error)))
            break;
          ex = d->model_a->explainer;
          d->model_a->explainer_of = 0;
        }
      else if (!(ex = own_b = xc_explainer_new (m, &error)))
        break;
      explainers[k] = ex;
      if (!xc_explainer_set_input (ex, input, &error))
        break;
      r->classes[k] = xc_model_node (m, m->output)->c;
      r->probs[k] = g_memdup2 (xc_explainer_probabilities (ex), r->classes[k] * sizeof (float));
      xc_explain_options_init (&o);
      o.method = d->method;
      if (k == 0)
        o.target_class = d->class_a;
      else if (r->explanation[0] &&
               xc_compare_match_class (r->model[0]->model, r->explanation[0]->target_class, m,
                                       &cls))
        o.target_class = cls;
      r->explanation[k] = xc_explainer_run (ex, &o, _xs_inference_progress_cb, cancellable, &error);
      if (r->explanation[k] == NULL)
        break;
      /* memory on the plan the model runs in (no second plan) */
      if (xc_explainer_plan (ex) != NULL)
        r->cost[k].memory_bytes = m->slab_size * sizeof (float) +
                                  xc_plan_arena_bytes (xc_explainer_plan (ex));
      r->faithfulness[k] = xc_explainer_faithfulness (ex, r->explanation[k], 20, _xs_inference_progress_cb,
                                                      cancellable, &error);
      if (r->faithfulness[k] == NULL)
        break;
    }
  /* latency: warm-up, then 20 alternating runs of A and B on their own
   * plans (a machine that slows down meanwhile slows both); median and IQR */
  if (error == NULL && !g_cancellable_is_cancelled (cancellable))
    {
      XcPlan *pa = xc_explainer_plan (explainers[0]), *pb = xc_explainer_plan (explainers[1]);
      if (pa == NULL || pb == NULL)
        ;
      else if (pa != pb)
        xc_plans_time_pair (pa, pb, 20, r->cost);
      else
        {
          XcModelCost pair[2];
          xc_plans_time_pair (pa, pa, 20, pair);
          r->cost[0].latency_ms = r->cost[1].latency_ms = pair[0].latency_ms;
          r->cost[0].latency_q1_ms = r->cost[1].latency_q1_ms = pair[0].latency_q1_ms;
          r->cost[0].latency_q3_ms = r->cost[1].latency_q3_ms = pair[0].latency_q3_ms;
          r->cost[0].runs = r->cost[1].runs = pair[0].runs;
        }
    }
  g_clear_pointer (&own_b, xc_explainer_free);
  g_mutex_unlock (&self->engine_lock);
  if (error)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  r->correlation = xc_map_correlation (r->explanation[0]->map, r->explanation[0]->map_h,
                                       r->explanation[0]->map_w, r->explanation[1]->map,
                                       r->explanation[1]->map_h, r->explanation[1]->map_w);
  g_task_return_pointer (task, g_steal_pointer (&r), (GDestroyNotify) xs_compare_result_free);
}

/**
 * xs_inference_compare_async:
 * @spec_b: (nullable): the second model, or %NULL to use @model_a on @image_b
 * @image_b: (nullable): a second image, or %NULL for @image_a through both models
 * @class_a: the class to explain in A (-1: its top-1); B's is matched by label
 */
void
xs_inference_compare_async (XsInference         *self,
                            XsModel             *model_a,
                            const char          *spec_b,
                            const char          *image_a,
                            const char          *image_b,
                            XcMethod             method,
                            int                  class_a,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  CompareData *d = g_new0 (CompareData, 1);

  d->model_a = xs_model_ref (model_a);
  d->spec_b = g_strdup (spec_b);
  d->image[0] = g_strdup (image_a);
  d->image[1] = g_strdup (image_b);
  d->method = method;
  d->class_a = class_a;
  g_task_set_source_tag (task, xs_inference_compare_async);
  g_task_set_task_data (task, d, compare_data_free);
  _xs_inference_run (self, task, compare_worker);
}

XsCompareResult *
xs_inference_compare_finish (XsInference *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* compare over a folder -------------------------------------------------- */

void
xs_folder_result_free (XsFolderResult *r)
{
  if (r == NULL)
    return;
  for (int k = 0; k < 2; k++)
    {
      g_clear_pointer (&r->model[k], xs_model_unref);
      g_free (r->top[k]);
      g_free (r->prob[k]);
      g_free (r->truth[k]);
    }
  xc_dataset_free (r->dataset);
  g_free (r);
}

static void
folder_worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  XsInference *self = source;
  CompareData *d = data;
  g_autoptr(XsFolderResult) r = g_new0 (XsFolderResult, 1);
  g_autoptr(GError) error = NULL;
  const XcNode *in = xc_model_input (d->model_a->model);
  int agree = 0;

  r->model[0] = xs_model_ref (d->model_a);
  g_mutex_lock (&self->engine_lock);
  r->model[1] = load_model_b (d->model_a, d->spec_b, &error);
  if (r->model[1])
    {
      g_autofree char *spec = g_strdup_printf ("imagefolder:%s", d->image[0]);
      r->dataset = xc_dataset_load (spec, "all", in->h, in->w, in->c, 1, &error);
    }
  if (r->dataset)
    {
      for (int k = 0; k < 2 && !error; k++)
        {
          const XcModel *m = r->model[k]->model;
          g_autoptr(XcPlan) plan = xc_plan_new (m, 1, NULL, &error);
          int correct = 0, known = 0;
          if (plan == NULL)
            break;
          r->top[k] = g_new (int, r->dataset->n);
          r->prob[k] = g_new (float, r->dataset->n);
          r->truth[k] = g_new (int, r->dataset->n);
          for (int i = 0; i < r->dataset->n; i++)
            {
              XcTensor x = xc_plan_input (plan), y;
              int t;
              if (g_cancellable_is_cancelled (cancellable))
                {
                  g_set_error (&error, XC_ERROR, XC_ERROR_CANCELLED, "cancelled");
                  break;
                }
              xc_dataset_fill (r->dataset, &i, 1, m, NULL, 0, x.data);
              xc_plan_run (plan, FALSE, NULL, NULL, NULL);
              xc_plan_output (plan, m->output, &y);
              r->top[k][i] = 0;
              for (int c = 1; c < y.c; c++)
                if (y.data[c] > y.data[r->top[k][i]])
                  r->top[k][i] = c;
              r->prob[k][i] = y.data[r->top[k][i]];
              t = r->truth[k][i] = xc_dataset_class_in_model (r->dataset, r->dataset->labels[i], m);
              known += t >= 0;
              correct += t >= 0 && t == r->top[k][i];
            }
          r->accuracy[k] = known == r->dataset->n ? (double) correct / known : -1;
          if (r->accuracy[k] >= 0)
            {
              g_autofree gboolean *ok = g_new (gboolean, r->dataset->n);
              for (int i = 0; i < r->dataset->n; i++)
                ok[i] = r->top[k][i] == r->truth[k][i];
              r->ece[k] = xc_calibration (r->prob[k], ok, r->dataset->n, XS_CALIBRATION_BINS,
                                          r->bin_count[k], r->bin_confidence[k],
                                          r->bin_accuracy[k]);
            }
        }
    }
  g_mutex_unlock (&self->engine_lock);
  if (error)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  for (int i = 0; i < r->dataset->n; i++)
    agree += xc_compare_same_class (r->model[0]->model, r->top[0][i], r->model[1]->model,
                                    r->top[1][i]);
  r->agreement = (double) agree / MAX (1, r->dataset->n);
  if (r->accuracy[0] >= 0 && r->accuracy[1] >= 0)
    for (int i = 0; i < r->dataset->n; i++)
      {
        gboolean a = r->top[0][i] == r->truth[0][i], b = r->top[1][i] == r->truth[1][i];
        r->only_a += a && !b;
        r->only_b += b && !a;
      }
  r->n_disagree = r->dataset->n - agree;
  g_task_return_pointer (task, g_steal_pointer (&r), (GDestroyNotify) xs_folder_result_free);
}

void
xs_inference_compare_folder_async (XsInference         *self,
                                   XsModel             *model_a,
                                   const char          *spec_b,
                                   const char          *folder,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  CompareData *d = g_new0 (CompareData, 1);

  d->model_a = xs_model_ref (model_a);
  d->spec_b = g_strdup (spec_b);
  d->image[0] = g_strdup (folder);
  g_task_set_task_data (task, d, compare_data_free);
  _xs_inference_run (self, task, folder_worker);
}

XsFolderResult *
xs_inference_compare_folder_finish (XsInference *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
