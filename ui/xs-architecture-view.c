/* SPDX-License-Identifier: MIT
 *
 * XsArchitectureView: the model's graph drawn by XsArchView, with zoom
 * buttons and a legend. Activating a node emits ::node-activated, which the
 * window turns into that layer's feature maps.
 */
#define G_LOG_DOMAIN "xs-architecture-view"

#include "xs-arch-view.h"
#include "xs-architecture-view.h"

struct _XsArchitectureView {
  XsView      parent_instance;

  /* template widgets */
  XsArchView *arch_view;
  GtkScrolledWindow *arch_scroll;
  GtkLabel   *arch_label;
};

G_DEFINE_FINAL_TYPE (XsArchitectureView, xs_architecture_view, XS_TYPE_VIEW)

enum {
  NODE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
xs_architecture_view_model_changed (XsView *view, XsModel *model)
{
  XsArchitectureView *self = XS_ARCHITECTURE_VIEW (view);
  g_autofree char *t = NULL;

  xs_arch_view_set_model (self->arch_view, model ? model->model : NULL, NULL);
  if (model == NULL)
    return;
  t = g_strdup_printf ("%u layers. Colour: kind (blue Conv2D, purple SeparableConv2D, grey "
                       "BatchNormalization, green activation, teal pooling, orange Add and "
                       "residual links, red Dense); the light bar: MACs (log scale). Hover for "
                       "details, click for feature maps, Ctrl+scroll to zoom.",
                       xc_model_n_nodes (model->model));
  gtk_label_set_text (self->arch_label, t);
}

static void
xs_architecture_view_analysis_changed (XsView *view, XsAnalysis *a)
{
  XsArchitectureView *self = XS_ARCHITECTURE_VIEW (view);

  XsModel *model = xs_view_get_model (view);

  /* the view borrows the plan: never keep one whose analysis is gone */
  xs_arch_view_set_model (self->arch_view, model ? model->model : NULL, a ? a->runs : NULL);
}

static void
on_node_activated_cb (XsArchitectureView *self, guint node)
{
  g_signal_emit (self, signals[NODE_ACTIVATED], 0, node);
}

static void
on_zoom_in_cb (XsArchitectureView *self)
{
  xs_arch_view_set_zoom (self->arch_view, xs_arch_view_get_zoom (self->arch_view) * 1.25);
}

static void
on_zoom_out_cb (XsArchitectureView *self)
{
  xs_arch_view_set_zoom (self->arch_view, xs_arch_view_get_zoom (self->arch_view) / 1.25);
}

static void
on_zoom_fit_cb (XsArchitectureView *self)
{
  GtkWidget *sw = GTK_WIDGET (self->arch_scroll);
  xs_arch_view_fit (self->arch_view, gtk_widget_get_width (sw) - 4,
                    gtk_widget_get_height (sw) - 4);
}

static void
on_zoom_fit_height_cb (XsArchitectureView *self)
{
  GtkWidget *sw = GTK_WIDGET (self->arch_scroll);
  xs_arch_view_fit (self->arch_view, G_MAXINT / 2, gtk_widget_get_height (sw) - 16);
}

static void
on_zoom_reset_cb (XsArchitectureView *self)
{
  xs_arch_view_set_zoom (self->arch_view, 1.0);
}

guint
xs_architecture_view_get_n_nodes (XsArchitectureView *self)
{
  return xs_arch_view_get_n_nodes (self->arch_view);
}

static void
xs_architecture_view_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), XS_TYPE_ARCHITECTURE_VIEW);
  G_OBJECT_CLASS (xs_architecture_view_parent_class)->dispose (object);
}

static void
xs_architecture_view_class_init (XsArchitectureViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = xs_architecture_view_dispose;
  XS_VIEW_CLASS (klass)->model_changed = xs_architecture_view_model_changed;
  XS_VIEW_CLASS (klass)->analysis_changed = xs_architecture_view_analysis_changed;

  /**
   * XsArchitectureView::node-activated:
   * @node: the node index the user clicked
   */
  signals[NODE_ACTIVATED] =
    g_signal_new ("node-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_UINT);

  g_type_ensure (XS_TYPE_ARCH_VIEW);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/xceptionstudio/XceptionStudio/ui/xs-architecture-view.ui");
  gtk_widget_class_bind_template_child (widget_class, XsArchitectureView, arch_view);
  gtk_widget_class_bind_template_child (widget_class, XsArchitectureView, arch_scroll);
  gtk_widget_class_bind_template_child (widget_class, XsArchitectureView, arch_label);
  gtk_widget_class_bind_template_callback (widget_class, on_node_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_zoom_in_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_zoom_out_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_zoom_reset_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_zoom_fit_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_zoom_fit_height_cb);
}

static void
xs_architecture_view_init (XsArchitectureView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
