/* SPDX-License-Identifier: MIT
 *
 * XsPredictionsView: the top-k classes of the analysis as bars. Activating
 * a class emits ::class-activated, which the window makes the explanation
 * target.
 */
#define G_LOG_DOMAIN "xs-predictions-view"

#include "xs-predictions-view.h"
#include "xs-util.h"

struct _XsPredictionsView {
  XsView    parent_instance;

  /* template widgets */
  GtkLabel *predictions_heading;
  XsBars   *bars;
  GtkLabel *predictions_note;
};

G_DEFINE_FINAL_TYPE (XsPredictionsView, xs_predictions_view, XS_TYPE_VIEW)

enum {
  CLASS_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
xs_predictions_view_analysis_changed (XsView *view, XsAnalysis *a)
{
  XsPredictionsView *self = XS_PREDICTIONS_VIEW (view);
  guint n;
  g_autofree char *heading = NULL, *note = NULL;

  if (a == NULL)
    {
      xs_bars_set_data (self->bars, NULL, NULL, NULL, 0);
      return;
    }
  if (!xc_model_is_classifier (a->model->model))
    {
      /* a feature extractor (no top): its output is no class probabilities */
      const XcNode *out = xc_model_node (a->model->model, a->model->model->output);
      xs_bars_set_data (self->bars, NULL, NULL, NULL, 0);
      heading = g_strdup_printf ("No classes: %s gives %d features", out->name, out->c);
      gtk_label_set_text (self->predictions_heading, heading);
      note = g_strdup_printf ("Forward pass %.1f ms on %s, a model without its classification "
                              "top. The feature maps, explanations (of a feature), costs, "
                              "architecture and separable pages all work.",
                              a->time_ms, a->model->display_name);
      gtk_label_set_text (self->predictions_note, note);
      return;
    }
  n = MIN ((guint) a->classes, 10);
  xs_fill_bars (self->bars, a->model->model, a->probs, a->classes, n);
  xs_bars_set_selected (self->bars, -1);
  heading = g_strdup_printf ("Top %u of %d classes", n, a->classes);
  gtk_label_set_text (self->predictions_heading, heading);
  note = g_strdup_printf ("Forward pass %.1f ms on %s. Click a class (or press Enter on it) to "
                          "explain it.", a->time_ms, a->model->display_name);
  gtk_label_set_text (self->predictions_note, note);
}

static void
on_bars_activated_cb (XsPredictionsView *self, int id)
{
  g_signal_emit (self, signals[CLASS_ACTIVATED], 0, id);
}

/* The explanation's target, highlighted (-1: none) */
void
xs_predictions_view_set_selected_class (XsPredictionsView *self, int class_index)
{
  xs_bars_set_selected (self->bars, class_index);
}

static void
xs_predictions_view_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), XS_TYPE_PREDICTIONS_VIEW);
  G_OBJECT_CLASS (xs_predictions_view_parent_class)->dispose (object);
}

static void
xs_predictions_view_class_init (XsPredictionsViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  /* the predictions are what a new image shows first */
  XS_VIEW_CLASS (klass)->eager = TRUE;

  G_OBJECT_CLASS (klass)->dispose = xs_predictions_view_dispose;
  XS_VIEW_CLASS (klass)->analysis_changed = xs_predictions_view_analysis_changed;

  /**
   * XsPredictionsView::class-activated:
   * @class_index: the class the user chose
   */
  signals[CLASS_ACTIVATED] =
    g_signal_new ("class-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  g_type_ensure (XS_TYPE_BARS);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/xceptionstudio/XceptionStudio/ui/xs-predictions-view.ui");
  gtk_widget_class_bind_template_child (widget_class, XsPredictionsView, predictions_heading);
  gtk_widget_class_bind_template_child (widget_class, XsPredictionsView, bars);
  gtk_widget_class_bind_template_child (widget_class, XsPredictionsView, predictions_note);
  gtk_widget_class_bind_template_callback (widget_class, on_bars_activated_cb);
}

static void
xs_predictions_view_init (XsPredictionsView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
