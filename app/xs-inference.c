/* SPDX-License-Identifier: MIT
 *
 * Worker side of the app. Every job copies what it needs into its task
 * data, takes the engine lock (one engine job at a time: the GTask pool is
 * shared and BLAS must not be entered from two of our threads at once),
 * checks its GCancellable between nodes through the engine's progress
 * callback, and returns its result with g_task_return_pointer().
 */
#define G_LOG_DOMAIN "xs-inference"

#include <string.h>

#include "xs-inference-private.h"


G_DEFINE_FINAL_TYPE (XsInference, xs_inference, G_TYPE_OBJECT)

XsModel *
xs_model_ref (XsModel *m)
{
  return g_atomic_rc_box_acquire (m);
}

static void
xs_model_clear (gpointer data)
{
  XsModel *m = data;
  xc_explainer_free (m->explainer);
  xc_model_free (m->model);
  g_free (m->display_name);
}

void
xs_model_unref (XsModel *m)
{
  g_atomic_rc_box_release_full (m, xs_model_clear);
}

XsAnalysis *
xs_analysis_ref (XsAnalysis *a)
{
  return g_atomic_rc_box_acquire (a);
}

static void
xs_analysis_clear (gpointer data)
{
  XsAnalysis *a = data;
  g_free (a->input);
  g_free (a->runs);
  xc_image_free (a->image);
  xc_image_free (a->seen);
  g_free (a->path);
  g_free (a->probs);
  xs_model_unref (a->model);
}

void
xs_analysis_unref (XsAnalysis *a)
{
  g_atomic_rc_box_release_full (a, xs_analysis_clear);
}

void
xs_explain_result_free (XsExplainResult *r)
{
  if (r == NULL)
    return;
  xc_explanation_free (r->explanation);
  xc_faithfulness_free (r->faithfulness);
  g_free (r);
}

typedef struct {
  GTask           *task;
  GTaskThreadFunc  worker;
} Job;

static void
run_job (gpointer data, gpointer user_data)
{
  Job *job = data;

  job->worker (job->task, g_task_get_source_object (job->task), g_task_get_task_data (job->task),
               g_task_get_cancellable (job->task));
  g_object_unref (job->task);
  g_free (job);
}

/* Every engine job runs in one thread of the inference's own: OpenBLAS keeps
 * GEMM buffers per calling thread, so jobs spread over GLib's shared pool
 * would each grow the memory by tens of MB; they are serialised anyway. The
 * thread is the pool's own for its whole life (exclusive): a pool thread
 * that goes back to GLib's shared threads when idle is replaced by another
 * one, each starting its own OpenMP team; once libgomp manages more threads
 * than there are cores it cuts every worker's spinning to 1,000 turns, and
 * workers that sleep between loops made the forward 35% slower (136 -> 184
 * ms with a second team, alternating in one process; see app/main.c). */
void
_xs_inference_run (XsInference *self, GTask *task, GTaskThreadFunc worker)
{
  Job *job = g_new (Job, 1);

  job->task = g_object_ref (task);
  job->worker = worker;
  g_thread_pool_push (self->pool, job, NULL);
}

static void
xs_inference_finalize (GObject *object)
{
  XsInference *self = XS_INFERENCE (object);

  /* every queued job holds the inference: none is left, but this may run in
   * the pool's thread as its last job ends, so do not wait for it */
  g_thread_pool_free (self->pool, FALSE, FALSE);
  g_mutex_clear (&self->engine_lock);
  G_OBJECT_CLASS (xs_inference_parent_class)->finalize (object);
}

static void
xs_inference_class_init (XsInferenceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = xs_inference_finalize;
}

static void
xs_inference_init (XsInference *self)
{
  g_mutex_init (&self->engine_lock);
  self->pool = g_thread_pool_new (run_job, NULL, 1, TRUE, NULL);
}

XsInference *
xs_inference_new (void)
{
  return g_object_new (XS_TYPE_INFERENCE, NULL);
}

gboolean
_xs_inference_progress_cb (guint node, guint n_nodes, gpointer data)
{
  return !g_cancellable_is_cancelled (data);
}

/**
 * xs_model_display_name:
 *
 * Returns: (transfer full): what the app calls a model spec: a file's name,
 *   or the spec itself for builtin:, embedded: and imagenet: models
 */
char *
xs_model_display_name (const char *spec)
{
  if (g_str_has_prefix (spec, "builtin:") || g_str_has_prefix (spec, "embedded:") ||
      g_str_has_prefix (spec, "imagenet:"))
    return g_strdup (spec);
  return g_path_get_basename (spec);
}

/* The model's explainer, made once: its plan runs every image's forward
 * (the predictions and statistics) and keeps what Grad-CAM at the default
 * layer then needs; the caller holds the engine lock */
XcExplainer *
_xs_inference_model_explainer (XsModel *m, GError **error)
{
  if (m->explainer == NULL)
    m->explainer = xc_explainer_new (m->model, error);
  return m->explainer;
}

/* load ------------------------------------------------------------------- */

static void
load_worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  XsInference *self = source;
  const char *spec = data;
  g_autoptr(GError) error = NULL;
  XcModel *model;
  XsModel *m;

  g_mutex_lock (&self->engine_lock);
  model = xc_model_load_spec (spec, &error);
  /* its large kernels in the GEMM's layout now, before the window reads
   * them (the separable page) or any plan is made */
  if (model != NULL)
    xc_model_pack_panels (model);
  g_mutex_unlock (&self->engine_lock);
  if (model == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  m = g_atomic_rc_box_new0 (XsModel);
  m->model = model;
  m->display_name = xs_model_display_name (spec);
  /* the plans made and their memory touched now, with the model, so that the
   * first image runs as fast as the next (a failure here shows later) */
  if (xc_model_node (model, model->output)->flat)
    {
      const XcNode *in = xc_model_input (model);
      g_autofree float *zeros = g_new0 (float, (size_t) in->h * in->w * in->c);
      g_mutex_lock (&self->engine_lock);
      if (_xs_inference_model_explainer (m, NULL))
        xc_explainer_forward (m->explainer, zeros, TRUE, _xs_inference_progress_cb, cancellable,
                              NULL);
      g_mutex_unlock (&self->engine_lock);
    }
  g_task_return_pointer (task, m, (GDestroyNotify) xs_model_unref);
}

void
xs_inference_load_model_async (XsInference         *self,
                               const char          *spec,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, xs_inference_load_model_async);
  g_task_set_task_data (task, g_strdup (spec), g_free);
  _xs_inference_run (self, task, load_worker);
}

XsModel *
xs_inference_load_model_finish (XsInference *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* analyze ---------------------------------------------------------------- */

typedef struct {
  XsModel *model;
  char    *path;
  XcImageOptions options;
} AnalyzeData;

static void
analyze_data_free (gpointer p)
{
  AnalyzeData *d = p;
  xs_model_unref (d->model);
  g_free (d->path);
  g_free (d);
}

static gint next_serial;

static void
analyze_worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  XsInference *self = source;
  AnalyzeData *d = data;
  const XcModel *model = d->model->model;
  const XcNode *in = xc_model_input (model);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcImage) image = NULL;
  g_autoptr(XsAnalysis) a = NULL;
  XcExplainer *ex;
  XcPlan *plan;
  XcTensor out;
  size_t n_in = (size_t) in->h * in->w * in->c;
  guint n = xc_model_n_nodes (model);

  image = xc_image_load_with (d->path, &d->options, &error);
  if (image == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (!xc_model_node (model, model->output)->flat)
    {
      g_task_return_new_error (task, XC_ERROR, XC_ERROR_UNSUPPORTED,
                               "%s: the output is not a class vector", model->name);
      return;
    }
  a = g_atomic_rc_box_new0 (XsAnalysis);
  a->serial = (guint64) g_atomic_int_add (&next_serial, 1) + 1;
  a->model = xs_model_ref (d->model);
  a->path = g_strdup (d->path);
  a->options = d->options;
  a->seen = xc_image_new (in->h, in->w, in->c);
  if (a->seen == NULL || !xc_image_to_model_size (image, model, a->seen->data, &error))
    {
      g_task_return_error (task, error ? g_steal_pointer (&error)
                           : g_error_new (XC_ERROR, XC_ERROR_NO_MEMORY, "out of memory"));
      return;
    }
  a->input = g_memdup2 (a->seen->data, n_in * sizeof (float));
  xc_preprocess (model->preprocess, a->input, (size_t) in->h * in->w, in->c);
  g_mutex_lock (&self->engine_lock);
  /* statistics are taken as each output is written, while it is still in cache */
  d->model->explainer_of = 0;
  if (!(ex = _xs_inference_model_explainer (d->model, &error)) ||
      !(plan = xc_explainer_forward (ex, a->input, TRUE, _xs_inference_progress_cb, cancellable,
                                     &error)))
    goto fail;
  if (!xc_plan_check_finite (plan, TRUE, &error))
    {
      g_prefix_error (&error, "%s: ", d->path);
      goto fail;
    }
  d->model->explainer_of = a->serial;
  a->time_ms = xc_plan_total_us (plan) / 1000.0;
  a->runs = g_new (XcNodeRun, n);
  for (guint i = 0; i < n; i++)
    a->runs[i] = *xc_plan_node_run (plan, i);
  a->arena_bytes = xc_plan_arena_bytes (plan);
  xc_plan_output (plan, model->output, &out);
  a->classes = out.c;
  a->probs = g_memdup2 (out.data, out.c * sizeof (float));
  g_mutex_unlock (&self->engine_lock);
  a->image = g_steal_pointer (&image);
  g_task_return_pointer (task, g_steal_pointer (&a), (GDestroyNotify) xs_analysis_unref);
  return;

fail:
  g_mutex_unlock (&self->engine_lock);
  g_task_return_error (task, g_steal_pointer (&error));
}

void
xs_inference_analyze_async (XsInference         *self,
                            XsModel             *model,
                            const char          *image_path,
                            const XcImageOptions *options,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  AnalyzeData *d = g_new0 (AnalyzeData, 1);

  d->model = xs_model_ref (model);
  d->path = g_strdup (image_path);
  if (options != NULL)
    d->options = *options;
  g_task_set_source_tag (task, xs_inference_analyze_async);
  g_task_set_task_data (task, d, analyze_data_free);
  _xs_inference_run (self, task, analyze_worker);
}

XsAnalysis *
xs_inference_analyze_finish (XsInference *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* explain ---------------------------------------------------------------- */

typedef struct {
  XsAnalysis       *analysis;
  XcExplainOptions  options;
} ExplainData;

static void
explain_data_free (gpointer p)
{
  ExplainData *d = p;
  xs_analysis_unref (d->analysis);
  g_free (d);
}

/* The model's explainer, holding this analysis' input: made once per model
 * and kept with its plans; the caller holds the engine lock */
static XcExplainer *
explainer_for (XsAnalysis *a, GError **error)
{
  XsModel *m = a->model;

  if (_xs_inference_model_explainer (m, error) == NULL)
    return NULL;
  if (m->explainer_of != a->serial)
    {
      if (!xc_explainer_set_input (m->explainer, a->input, error))
        return NULL;
      m->explainer_of = a->serial;
    }
  return m->explainer;
}

static void
explain_worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  XsInference *self = source;
  ExplainData *d = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(XsExplainResult) r = g_new0 (XsExplainResult, 1);
  XcExplainer *ex;

  g_mutex_lock (&self->engine_lock);
  ex = explainer_for (d->analysis, &error);
  if (ex == NULL ||
      !(r->explanation = xc_explainer_run (ex, &d->options, _xs_inference_progress_cb,
                                           cancellable, &error)))
    {
      g_mutex_unlock (&self->engine_lock);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_mutex_unlock (&self->engine_lock);
  g_task_return_pointer (task, g_steal_pointer (&r), (GDestroyNotify) xs_explain_result_free);
}

void
xs_inference_explain_async (XsInference            *self,
                            XsAnalysis             *analysis,
                            const XcExplainOptions *options,
                            GCancellable           *cancellable,
                            GAsyncReadyCallback     callback,
                            gpointer                user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  ExplainData *d = g_new0 (ExplainData, 1);

  d->analysis = xs_analysis_ref (analysis);
  d->options = *options;
  g_task_set_source_tag (task, xs_inference_explain_async);
  g_task_set_task_data (task, d, explain_data_free);
  _xs_inference_run (self, task, explain_worker);
}

XsExplainResult *
xs_inference_explain_finish (XsInference *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* faithfulness ------------------------------------------------------------ */

typedef struct {
  XsAnalysis         *analysis;
  XcExplanation       e;          /* a copy; map owned */
  XsProgressCallback  progress;
  GObject            *progress_data;   /* owned */
  GCancellable       *cancellable;
  guint               last;      /* the last step reported */
} FaithData;

typedef struct {
  XsProgressCallback  progress;
  GObject            *data;      /* owned */
  GCancellable       *cancellable;  /* owned */
  guint               done, total;
} ProgressReport;

static gboolean
report_progress_cb (gpointer p)
{
  ProgressReport *r = p;

  if (!g_cancellable_is_cancelled (r->cancellable))
    r->progress (r->done, r->total, r->data);
  return G_SOURCE_REMOVE;
}

static void
progress_report_free (gpointer p)
{
  ProgressReport *r = p;
  g_object_unref (r->data);
  g_clear_object (&r->cancellable);
  g_free (r);
}

/* The worker's progress, to the main context, and the cancellation check */
static gboolean
faith_progress_cb (guint done, guint total, gpointer data)
{
  FaithData *d = data;

  if (g_cancellable_is_cancelled (d->cancellable))
    return FALSE;
  if (d->progress && done != d->last)
    {
      ProgressReport *r = g_new0 (ProgressReport, 1);
      *r = (ProgressReport) { d->progress, g_object_ref (d->progress_data),
                              d->cancellable ? g_object_ref (d->cancellable) : NULL, done, total };
      d->last = done;
      g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, report_progress_cb, r,
                                  progress_report_free);
    }
  return TRUE;
}

static void
faith_data_free (gpointer p)
{
  FaithData *d = p;
  xs_analysis_unref (d->analysis);
  g_clear_object (&d->progress_data);
  g_clear_object (&d->cancellable);
  g_free (d->e.map);
  g_free (d);
}

static void
faith_worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  XsInference *self = source;
  FaithData *d = data;
  g_autoptr(GError) error = NULL;
  XcExplainer *ex;
  XcFaithfulness *f = NULL;

  g_mutex_lock (&self->engine_lock);
  ex = explainer_for (d->analysis, &error);
  if (ex)
    f = xc_explainer_faithfulness (ex, &d->e, 20, faith_progress_cb, d, &error);
  g_mutex_unlock (&self->engine_lock);
  if (f == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, f, (GDestroyNotify) xc_faithfulness_free);
}

/**
 * xs_inference_faithfulness_async:
 *
 * Deletion/insertion curves and average drop of an explanation, apart from
 * the explanation itself so that the map shows first.
 */
void
xs_inference_faithfulness_async (XsInference         *self,
                                 XsAnalysis          *analysis,
                                 const XcExplanation *explanation,
                                 XsProgressCallback   progress,
                                 gpointer             progress_data,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  FaithData *d = g_new0 (FaithData, 1);

  d->analysis = xs_analysis_ref (analysis);
  d->progress = progress;
  d->progress_data = progress_data ? g_object_ref (progress_data) : NULL;
  d->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  d->last = G_MAXUINT;
  d->e = *explanation;
  d->e.map = g_memdup2 (explanation->map, (size_t) explanation->map_h * explanation->map_w *
                                          sizeof (float));
  d->e.grad = NULL;
  g_task_set_task_data (task, d, faith_data_free);
  _xs_inference_run (self, task, faith_worker);
}

XcFaithfulness *
xs_inference_faithfulness_finish (XsInference *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* measure ----------------------------------------------------------------- */

static void
measure_worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  XsInference *self = source;
  XcConvShape *shape = data;
  g_autofree XcConvTimes *t = g_new0 (XcConvTimes, 1);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_mutex_lock (&self->engine_lock);
  ok = xc_conv_measure (shape, 9, t, &error);
  g_mutex_unlock (&self->engine_lock);
  if (!ok)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_steal_pointer (&t), g_free);
}

void
xs_inference_measure_async (XsInference         *self,
                            const XcConvShape   *shape,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_task_data (task, g_memdup2 (shape, sizeof *shape), g_free);
  _xs_inference_run (self, task, measure_worker);
}

XcConvTimes *
xs_inference_measure_finish (XsInference *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
