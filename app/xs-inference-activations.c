/* SPDX-License-Identifier: MIT
 *
 * XsInference's layer outputs on demand: the feature and separable pages
 * show a layer the analysis did not keep; it is copied out of the model's
 * own plan between two nodes of a fresh forward pass.
 */
#define G_LOG_DOMAIN "xs-inference"

#include "xs-inference-private.h"

void
xs_activations_free (XsActivations *acts)
{
  if (acts == NULL)
    return;
  for (guint i = 0; i < acts->n; i++)
    g_free (acts->outputs[i].data);
  g_free (acts->outputs);
  g_free (acts->nodes);
  g_free (acts);
}

/* The output of node, or NULL when it was not asked for */
const XcTensor *
xs_activations_get (const XsActivations *acts, guint node)
{
  for (guint i = 0; acts && i < acts->n; i++)
    if (acts->nodes[i] == node)
      return &acts->outputs[i];
  return NULL;
}

/* The data of node's output, handed over (g_free() it); NULL if absent or
 * already taken */
float *
xs_activations_steal (XsActivations *acts, guint node)
{
  for (guint i = 0; acts && i < acts->n; i++)
    if (acts->nodes[i] == node)
      return g_steal_pointer (&acts->outputs[i].data);
  return NULL;
}

typedef struct {
  XsAnalysis *analysis;
  guint      *nodes;
  guint       n;
} ActivationsData;

static void
activations_data_free (gpointer p)
{
  ActivationsData *d = p;
  xs_analysis_unref (d->analysis);
  g_free (d->nodes);
  g_free (d);
}

typedef struct {
  ActivationsData *d;
  XsActivations   *acts;
  XcPlan          *plan;
  GCancellable    *cancellable;
} Tap;

/* Between nodes: the node that just ran, if asked for, is copied out before
 * a later node may reuse its buffer */
static gboolean
tap_cb (guint node, guint n_nodes, gpointer data)
{
  Tap *t = data;

  if (g_cancellable_is_cancelled (t->cancellable))
    return FALSE;
  for (guint i = 0; node > 0 && t->plan && i < t->d->n; i++)
    if (t->d->nodes[i] == node - 1)
      {
        XcTensor x;
        xc_plan_peek (t->plan, node - 1, &x);
        t->acts->outputs[i] = x;
        t->acts->outputs[i].data = g_memdup2 (x.data, xc_tensor_size (&x) * sizeof (float));
      }
  return TRUE;
}

/* The forward again in the model's own plan (no other is allocated), each
 * asked-for output copied out as it is written */
static void
activations_worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  XsInference *self = source;
  ActivationsData *d = data;
  XsModel *m = d->analysis->model;
  g_autoptr(XsActivations) acts = g_new0 (XsActivations, 1);
  g_autoptr(GError) error = NULL;
  Tap tap = { d, acts, NULL, cancellable };
  guint last = 0;
  XcExplainer *ex;
  XcTensor y;

  acts->n = d->n;
  acts->nodes = g_memdup2 (d->nodes, d->n * sizeof (guint));
  acts->outputs = g_new0 (XcTensor, d->n);
  g_mutex_lock (&self->engine_lock);
  m->explainer_of = 0;
  ex = _xs_inference_model_explainer (m, &error);
  /* the plan is the explainer's current one: found through a first forward
   * only if it has none yet */
  if (ex != NULL && (tap.plan = xc_explainer_plan (ex)) == NULL &&
      xc_explainer_forward (ex, d->analysis->input, FALSE, NULL, NULL, &error))
    tap.plan = xc_explainer_plan (ex);
  for (guint i = 0; i < d->n; i++)
    last = MAX (last, d->nodes[i]);
  /* as far as the deepest node asked for, and one more: its output is
   * copied out just before that one runs */
  /* tap_cb reads outputs: nothing folded in this run */
  if (tap.plan != NULL)
    xc_plan_set_progress_peeks (tap.plan, TRUE);
  if (tap.plan == NULL ||
      !xc_explainer_forward_to (ex, d->analysis->input, last + 1, FALSE, tap_cb, &tap, &error))
    {
      if (tap.plan != NULL)
        xc_plan_set_progress_peeks (tap.plan, FALSE);
      g_mutex_unlock (&self->engine_lock);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* the explainer holds this input, its plan run only part way: the next
   * explanation runs it again */
  m->explainer_of = d->analysis->serial;
  xc_plan_set_progress_peeks (tap.plan, FALSE);
  for (guint i = 0; i < d->n; i++)
    if (acts->outputs[i].data == NULL)
      {
        /* the last node (never followed by a callback), or the input */
        xc_plan_peek (tap.plan, d->nodes[i], &y);
        acts->outputs[i] = y;
        acts->outputs[i].data = g_memdup2 (y.data, xc_tensor_size (&y) * sizeof (float));
      }
  g_mutex_unlock (&self->engine_lock);
  g_task_return_pointer (task, g_steal_pointer (&acts), (GDestroyNotify) xs_activations_free);
}

/**
 * xs_inference_activations_async:
 * @nodes: (array length=n_nodes): node indices of the analysis' model
 *
 * Recomputes those layers' outputs for the analysis' image.
 */
void
xs_inference_activations_async (XsInference         *self,
                                XsAnalysis          *analysis,
                                const guint         *nodes,
                                guint                n_nodes,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  ActivationsData *d = g_new0 (ActivationsData, 1);

  d->analysis = xs_analysis_ref (analysis);
  d->nodes = g_memdup2 (nodes, n_nodes * sizeof (guint));
  d->n = n_nodes;
  g_task_set_source_tag (task, xs_inference_activations_async);
  g_task_set_task_data (task, d, activations_data_free);
  _xs_inference_run (self, task, activations_worker);
}

XsActivations *
xs_inference_activations_finish (XsInference *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
