/* SPDX-License-Identifier: MIT
 *
 * XsView (xs-view.h): the base of the window's pages.
 */
#define G_LOG_DOMAIN "xs-view"

#include "xs-view.h"

typedef struct {
  XsSession  *session;    /* owned */
  XsAnalysis *analysis;   /* owned */
  gboolean    model_stale;     /* changed while hidden: tell the subclass when shown */
  gboolean    analysis_stale;
  gboolean    left;            /* another page is shown (this one may still fade out) */
} XsViewPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (XsView, xs_view, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_SESSION,
  PROP_ANALYSIS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
deferred (XsView *self)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);

  return !XS_VIEW_GET_CLASS (self)->eager &&
         (!gtk_widget_get_mapped (GTK_WIDGET (self)) || priv->left);
}

static void
tell_model (XsView *self)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);

  priv->model_stale = FALSE;
  if (XS_VIEW_GET_CLASS (self)->model_changed)
    XS_VIEW_GET_CLASS (self)->model_changed (self, xs_session_get_model (priv->session));
}

static void
tell_analysis (XsView *self)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);

  priv->analysis_stale = FALSE;
  if (XS_VIEW_GET_CLASS (self)->analysis_changed)
    XS_VIEW_GET_CLASS (self)->analysis_changed (self, priv->analysis);
}

static void
on_model_cb (XsView *self)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);

  if (deferred (self))
    priv->model_stale = TRUE;
  else
    tell_model (self);
}

/* Another page is shown: one with a hidden vfunc releases what it computed
 * now, not when it is unmapped at the end of the stack's crossfade. (The
 * next page's work starts at once: the separable page's 40 MB of Xception
 * activations were still held while the compare page loaded its second
 * model, and made the app's peak.) */
static void
xs_view_left (XsView *self)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);

  priv->left = TRUE;
  if (XS_VIEW_GET_CLASS (self)->hidden && priv->analysis != NULL && !priv->analysis_stale)
    {
      XS_VIEW_GET_CLASS (self)->hidden (self);
      priv->analysis_stale = TRUE;
    }
}

static void
xs_view_unmap (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (xs_view_parent_class)->unmap (widget);
  xs_view_left (XS_VIEW (widget));
}

/* shown: told what changed while it was hidden */
static void
catch_up (XsView *self)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);

  priv->left = FALSE;
  if (priv->model_stale)
    tell_model (self);
  if (priv->analysis_stale)
    tell_analysis (self);
}

/**
 * xs_views_shown:
 * @pages: (array length=n): the window's pages (%NULL ones are skipped)
 * @shown: the stack's visible child, which holds one of them
 *
 * The window shows another page: the others are left at once (see
 * xs_view_left()); the one shown, if it is still mapped (left during a
 * crossfade, now back), catches up now, otherwise when it is mapped.
 */
void
xs_views_shown (XsView *const *pages, guint n, GtkWidget *shown)
{
  for (guint i = 0; i < n; i++)
    if (pages[i] != NULL &&
        (shown == NULL || !gtk_widget_is_ancestor (GTK_WIDGET (pages[i]), shown)))
      xs_view_left (pages[i]);
  for (guint i = 0; i < n; i++)
    if (pages[i] != NULL && shown != NULL &&
        gtk_widget_is_ancestor (GTK_WIDGET (pages[i]), shown))
      {
        XsViewPrivate *priv = xs_view_get_instance_private (pages[i]);

        if (gtk_widget_get_mapped (GTK_WIDGET (pages[i])))
          catch_up (pages[i]);
        else
          priv->left = FALSE;
      }
}

static void
xs_view_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (xs_view_parent_class)->map (widget);
  catch_up (XS_VIEW (widget));
}

XsSession *
xs_view_get_session (XsView *self)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);
  return priv->session;
}

void
xs_view_set_session (XsView *self, XsSession *session)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);

  g_return_if_fail (priv->session == NULL);
  priv->session = g_object_ref (session);
  g_signal_connect_object (session, "notify::model", G_CALLBACK (on_model_cb), self,
                           G_CONNECT_SWAPPED);
  g_object_bind_property (session, "analysis", self, "analysis", G_BINDING_SYNC_CREATE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

XsModel *
xs_view_get_model (XsView *self)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);
  return priv->session ? xs_session_get_model (priv->session) : NULL;
}

XsAnalysis *
xs_view_get_analysis (XsView *self)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);
  return priv->analysis;
}

void
xs_view_set_analysis (XsView *self, XsAnalysis *analysis)
{
  XsViewPrivate *priv = xs_view_get_instance_private (self);

  if (analysis == priv->analysis)
    return;
  g_clear_pointer (&priv->analysis, xs_analysis_unref);
  priv->analysis = analysis ? xs_analysis_ref (analysis) : NULL;
  if (deferred (self) && analysis != NULL)
    priv->analysis_stale = TRUE;
  else
    tell_analysis (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANALYSIS]);
}

static void
xs_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  XsView *self = XS_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, xs_view_get_session (self));
      break;
    case PROP_ANALYSIS:
      g_value_set_boxed (value, xs_view_get_analysis (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xs_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  XsView *self = XS_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      xs_view_set_session (self, g_value_get_object (value));
      break;
    case PROP_ANALYSIS:
      xs_view_set_analysis (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xs_view_dispose (GObject *object)
{
  XsViewPrivate *priv = xs_view_get_instance_private (XS_VIEW (object));

  g_clear_pointer (&priv->analysis, xs_analysis_unref);
  g_clear_object (&priv->session);
  G_OBJECT_CLASS (xs_view_parent_class)->dispose (object);
}

static void
xs_view_class_init (XsViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = xs_view_get_property;
  object_class->set_property = xs_view_set_property;
  object_class->dispose = xs_view_dispose;
  GTK_WIDGET_CLASS (klass)->map = xs_view_map;
  GTK_WIDGET_CLASS (klass)->unmap = xs_view_unmap;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, XS_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ANALYSIS] =
    g_param_spec_boxed ("analysis", NULL, NULL, XS_TYPE_ANALYSIS,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
xs_view_init (XsView *self)
{
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
}
