/* SPDX-License-Identifier: MIT
 *
 * XsSession (xs-session.h): the state the window and its views share.
 */
#define G_LOG_DOMAIN "xs-session"

#include "xs-session.h"

G_DEFINE_BOXED_TYPE (XsModel, xs_model, xs_model_ref, xs_model_unref)
G_DEFINE_BOXED_TYPE (XsAnalysis, xs_analysis, xs_analysis_ref, xs_analysis_unref)

struct _XsSession {
  GObject        parent_instance;

  /* owned */
  XsInference   *inference;
  GPtrArray     *specs;        /* model specs, in model_names' order */
  GtkStringList *model_names;
  XsModel       *model;
  XsAnalysis    *analysis;
  XcMethod       method;       /* the explanation target comparisons reuse */
  int            target_class;
  guint          busy;
};

G_DEFINE_FINAL_TYPE (XsSession, xs_session, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MODEL,
  PROP_ANALYSIS,
  N_PROPS
};

enum {
  BUSY_CHANGED,
  PROGRESS,
  ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
xs_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  XsSession *self = XS_SESSION (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_boxed (value, self->model);
      break;
    case PROP_ANALYSIS:
      g_value_set_boxed (value, self->analysis);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xs_session_dispose (GObject *object)
{
  XsSession *self = XS_SESSION (object);

  g_clear_pointer (&self->analysis, xs_analysis_unref);
  g_clear_pointer (&self->model, xs_model_unref);
  g_clear_object (&self->model_names);
  g_clear_object (&self->inference);
  G_OBJECT_CLASS (xs_session_parent_class)->dispose (object);
}

static void
xs_session_finalize (GObject *object)
{
  g_ptr_array_unref (XS_SESSION (object)->specs);
  G_OBJECT_CLASS (xs_session_parent_class)->finalize (object);
}

static void
xs_session_class_init (XsSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = xs_session_get_property;
  object_class->dispose = xs_session_dispose;
  object_class->finalize = xs_session_finalize;

  properties[PROP_MODEL] =
    g_param_spec_boxed ("model", NULL, NULL, XS_TYPE_MODEL,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ANALYSIS] =
    g_param_spec_boxed ("analysis", NULL, NULL, XS_TYPE_ANALYSIS,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * XsSession::busy-changed:
   * @busy: engine jobs running
   * @what: (nullable): what the newest one does
   */
  signals[BUSY_CHANGED] =
    g_signal_new ("busy-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
  /**
   * XsSession::progress:
   * @fraction: how far the newest job is, 0 to 1
   */
  signals[PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  /**
   * XsSession::error:
   * @message: what went wrong, for the banner
   */
  signals[ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
xs_session_init (XsSession *self)
{
  self->inference = xs_inference_new ();
  self->specs = g_ptr_array_new_with_free_func (g_free);
  self->model_names = gtk_string_list_new (NULL);
  self->method = XC_METHOD_GRADCAM;
  self->target_class = -1;
}

XsSession *
xs_session_new (void)
{
  return g_object_new (XS_TYPE_SESSION, NULL);
}

XsInference *
xs_session_get_inference (XsSession *self)
{
  return self->inference;
}

XsModel *
xs_session_get_model (XsSession *self)
{
  return self->model;
}

/* A new model drops the analysis first: views never see an analysis of
 * another model */
void
xs_session_set_model (XsSession *self, XsModel *model)
{
  if (model == self->model)
    return;
  xs_session_set_analysis (self, NULL);
  g_clear_pointer (&self->model, xs_model_unref);
  self->model = model ? xs_model_ref (model) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

XsAnalysis *
xs_session_get_analysis (XsSession *self)
{
  return self->analysis;
}

void
xs_session_set_analysis (XsSession *self, XsAnalysis *analysis)
{
  if (analysis == self->analysis)
    return;
  g_clear_pointer (&self->analysis, xs_analysis_unref);
  self->analysis = analysis ? xs_analysis_ref (analysis) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANALYSIS]);
}

GtkStringList *
xs_session_get_model_names (XsSession *self)
{
  return self->model_names;
}

const char *
xs_session_get_spec (XsSession *self, guint index)
{
  return index < self->specs->len ? self->specs->pdata[index] : NULL;
}

guint
xs_session_n_specs (XsSession *self)
{
  return self->specs->len;
}

/* The index of @spec in the model list, added at the end if new */
guint
xs_session_add_spec (XsSession *self, const char *spec)
{
  g_autofree char *name = NULL;

  for (guint i = 0; i < self->specs->len; i++)
    if (g_str_equal (self->specs->pdata[i], spec))
      return i;
  name = xs_model_display_name (spec);
  g_ptr_array_add (self->specs, g_strdup (spec));
  gtk_string_list_append (self->model_names, name);
  return self->specs->len - 1;
}

/* Drops a spec that failed to load, so that it is neither listed nor saved */
void
xs_session_remove_spec (XsSession *self, guint index)
{
  if (index >= self->specs->len)
    return;
  g_ptr_array_remove_index (self->specs, index);
  gtk_string_list_remove (self->model_names, index);
}

/* The index of @spec, or G_MAXUINT */
guint
xs_session_find_spec (XsSession *self, const char *spec)
{
  for (guint i = 0; spec && i < self->specs->len; i++)
    if (g_str_equal (self->specs->pdata[i], spec))
      return i;
  return G_MAXUINT;
}

void
xs_session_set_target (XsSession *self, XcMethod method, int target_class)
{
  self->method = method;
  self->target_class = target_class;
}

XcMethod
xs_session_get_method (XsSession *self)
{
  return self->method;
}

int
xs_session_get_target_class (XsSession *self)
{
  return self->target_class;
}

void
xs_session_begin (XsSession *self, const char *what)
{
  self->busy++;
  g_signal_emit (self, signals[BUSY_CHANGED], 0, self->busy, what);
}

void
xs_session_end (XsSession *self)
{
  g_return_if_fail (self->busy > 0);
  self->busy--;
  g_signal_emit (self, signals[BUSY_CHANGED], 0, self->busy, NULL);
}

/* How far the newest job is, for the status line */
void
xs_session_progress (XsSession *self, const char *what, double fraction)
{
  g_autofree char *txt = g_strdup_printf ("%s %.0f%%", what, 100.0 * CLAMP (fraction, 0.0, 1.0));

  if (self->busy > 0)
    {
      g_signal_emit (self, signals[BUSY_CHANGED], 0, self->busy, txt);
      g_signal_emit (self, signals[PROGRESS], 0, CLAMP (fraction, 0.0, 1.0));
    }
}

guint
xs_session_get_busy (XsSession *self)
{
  return self->busy;
}

void
xs_session_error (XsSession *self, const char *message)
{
  g_signal_emit (self, signals[ERROR], 0, message);
}

/**
 * xs_session_failed:
 * @result: (nullable): a worker's result
 *
 * Ends one job. A NULL result failed: says why unless it was cancelled.
 *
 * Returns: %TRUE when the caller should stop (no result)
 */
gboolean
xs_session_failed (XsSession *self, gpointer result, const GError *error)
{
  if (result == NULL && error != NULL &&
      !g_error_matches (error, XC_ERROR, XC_ERROR_CANCELLED) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    xs_session_error (self, error->message);
  xs_session_end (self);
  return result == NULL;
}

/* Newest request wins: cancels what *cancellable guards and puts a fresh one there */
void
xs_session_restart (GCancellable **cancellable)
{
  g_cancellable_cancel (*cancellable);
  g_clear_object (cancellable);
  *cancellable = g_cancellable_new ();
}
