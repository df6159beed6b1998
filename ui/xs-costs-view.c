/* SPDX-License-Identifier: MIT
 *
 * XsCostsView: what each layer costs in parameters and multiply-accumulates,
 * beside the standard convolution it replaces; the totals, a chart per
 * block, and 1/C_out + 1/k² worked out for the selected separable layer.
 * It needs only the model.
 */
#define G_LOG_DOMAIN "xs-costs-view"

#include <string.h>

#include "xs-cost-chart.h"
#include "xs-costs-view.h"
#include "xs-util.h"

struct _XsCostsView {
  XsView              parent_instance;

  /* template widgets */
  GtkLabel           *totals_label;
  GtkColumnView      *costs_view;
  XsCostChart        *cost_chart;
  GtkLabel           *formula_label;

  /* owned */
  GListStore         *rows;
  GtkSingleSelection *selection;
};

G_DEFINE_FINAL_TYPE (XsCostsView, xs_costs_view, XS_TYPE_VIEW)

static char *
block_of (const char *name, int *segment)
{
  if (g_str_has_prefix (name, "block"))
    {
      const char *us = strchr (name, '_');
      return us ? g_strndup (name, us - name) : g_strdup (name);
    }
  return g_strdup_printf ("part %d", *segment + 1);
}

static void
update_costs (XsCostsView *self, const XcModel *m)
{
  guint64 p, t, macs, sp, sm;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) act = g_array_new (FALSE, TRUE, sizeof (double));
  g_autoptr(GArray) std = g_array_new (FALSE, TRUE, sizeof (double));
  g_autofree char *sp_s = NULL, *p_s = NULL, *t_s = NULL, *m_s = NULL, *sm_s = NULL, *txt = NULL;
  int segment = 0;
  gboolean blocks = FALSE;

  xc_model_totals (m, &p, &t, &macs, &sp, &sm);
  for (guint i = 0; i < xc_model_n_nodes (m); i++)
    blocks |= g_str_has_prefix (xc_model_node (m, i)->name, "block");
  p_s = xc_format_count (p), t_s = xc_format_count (t), m_s = xc_format_count (macs);
  sp_s = xc_format_count (sp), sm_s = xc_format_count (sm);
  txt = g_strdup_printf ("<b>%s</b> params (%s trainable), <b>%s</b> MACs per image.   "
                         "As standard convolutions: %s params, %s MACs — "
                         "<b>%.1f×</b> the params, <b>%.1f×</b> the MACs.",
                         p_s, t_s, m_s, sp_s, sm_s, p ? (double) sp / p : 0,
                         macs ? (double) sm / macs : 0);
  gtk_label_set_markup (self->totals_label, txt);

  for (guint i = 0; i < xc_model_n_nodes (m); i++)
    {
      const XcNode *node = xc_model_node (m, i);
      g_autofree char *block = NULL;
      if (node->op == XC_OP_ADD)
        segment++;
      if (node->macs == 0)
        continue;
      /* with blockN_ names, automatically named layers (residual branches, the head)
       * count towards the block in progress */
      if (blocks && !g_str_has_prefix (node->name, "block") && names->len > 0)
        block = g_strdup (g_ptr_array_index (names, names->len - 1));
      else
        block = block_of (node->name, &segment);
      if (names->len == 0 || !g_str_equal (g_ptr_array_index (names, names->len - 1), block))
        {
          double zero = 0;
          g_ptr_array_add (names, g_strdup (block));
          g_array_append_val (act, zero);
          g_array_append_val (std, zero);
        }
      g_array_index (act, double, act->len - 1) += node->macs;
      g_array_index (std, double, std->len - 1) += node->std_macs;
    }
  xs_cost_chart_set_data (self->cost_chart, (const char *const *) names->pdata,
                          (double *) act->data, (double *) std->data, names->len);
}

static void
show_formula (XsCostsView *self)
{
  XsNodeRow *row = gtk_single_selection_get_selected_item (self->selection);
  XsModel *model = xs_view_get_model (XS_VIEW (self));
  const XcNode *node, *in;
  g_autofree char *txt = NULL;

  if (row == NULL || model == NULL)
    return;
  node = xc_model_node (model->model, row->index);
  in = node->n_inputs ? xc_model_node (model->model, node->inputs[0]) : NULL;
  {
    g_autofree char *np = xc_format_count (node->n_weights), *nm = xc_format_count (node->macs);
    g_autofree char *sp = xc_format_count (node->std_params);
    g_autofree char *sm = xc_format_count (node->std_macs);
    if (node->op == XC_OP_SEPCONV2D)
      {
        int k = node->kh, ci = in->c, co = node->c, dm = node->depth_multiplier;
        txt = g_strdup_printf (
            "<b>%s</b>: a %d×%d depthwise step on %d channels, then a 1×1 pointwise step to %d."
            "\n\nStandard convolution: k²·C<sub>in</sub>·C<sub>out</sub> = %d·%d·%d = <b>%s</b> "
            "params, × %d×%d positions = %s MACs.\n\n"
            "Separable: k²·C<sub>in</sub>%s + C<sub>in</sub>%s·C<sub>out</sub> = %d + %d = "
            "<b>%s</b> params, %s MACs.\n\n"
            "Ratio separable / standard = 1/C<sub>out</sub> + 1/k² = 1/%d + 1/%d = <b>%.4f</b> "
            "(%.1f× fewer MACs).",
            node->name, k, k, ci, co, k * k, ci, co, sp, node->h, node->w, sm,
            dm > 1 ? "·DM" : "", dm > 1 ? "·DM" : "", k * k * ci * dm, ci * dm * co, np, nm, co,
            k * k, 1.0 / co + 1.0 / (k * k), node->macs ? (double) node->std_macs / node->macs : 0);
      }
    else if (node->op == XC_OP_CONV2D)
      txt = g_strdup_printf ("<b>%s</b>: a standard %d×%d convolution, %d → %d channels: "
                             "k²·C<sub>in</sub>·C<sub>out</sub> = %s params, %s MACs at %d×%d.",
                             node->name, node->kh, node->kw, in->c, node->c, np, nm, node->h,
                             node->w);
    else
      txt = g_strdup_printf ("<b>%s</b> (%s): %s params, %s MACs. Select a SeparableConv2D "
                             "layer to see 1/C<sub>out</sub> + 1/k² worked out.", node->name,
                             node->keras_class, np, nm);
  }
  gtk_label_set_markup (self->formula_label, txt);
}

/* The view opens on the first separable layer: its formula is the lesson */
static void
select_first_separable (XsCostsView *self)
{
  GListModel *m = G_LIST_MODEL (self->selection);

  for (guint r = 0; r < g_list_model_get_n_items (m); r++)
    {
      g_autoptr(XsNodeRow) row = g_list_model_get_item (m, r);
      if (g_str_equal (row->type, "SeparableConv2D"))
        {
          gtk_single_selection_set_selected (self->selection, r);
          break;
        }
    }
  show_formula (self);
}

static void
xs_costs_view_model_changed (XsView *view, XsModel *model)
{
  XsCostsView *self = XS_COSTS_VIEW (view);

  xs_node_rows_fill (self->rows, model ? model->model : NULL, NULL);
  if (model == NULL)
    return;
  update_costs (self, model->model);
  select_first_separable (self);
}

static void
xs_costs_view_dispose (GObject *object)
{
  XsCostsView *self = XS_COSTS_VIEW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), XS_TYPE_COSTS_VIEW);
  g_clear_object (&self->selection);
  g_clear_object (&self->rows);
  G_OBJECT_CLASS (xs_costs_view_parent_class)->dispose (object);
}

static void
xs_costs_view_class_init (XsCostsViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = xs_costs_view_dispose;
  XS_VIEW_CLASS (klass)->model_changed = xs_costs_view_model_changed;

  g_type_ensure (XS_TYPE_COST_CHART);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/xceptionstudio/XceptionStudio/ui/xs-costs-view.ui");
  gtk_widget_class_bind_template_child (widget_class, XsCostsView, totals_label);
  gtk_widget_class_bind_template_child (widget_class, XsCostsView, costs_view);
  gtk_widget_class_bind_template_child (widget_class, XsCostsView, cost_chart);
  gtk_widget_class_bind_template_child (widget_class, XsCostsView, formula_label);
}

static void
xs_costs_view_init (XsCostsView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_list_store_new (XS_TYPE_NODE_ROW);
  xs_column_view_add (self->costs_view, "Layer", XS_FIELD_NAME, TRUE);
  xs_column_view_add (self->costs_view, "Type", XS_FIELD_TYPE, FALSE);
  xs_column_view_add (self->costs_view, "Output", XS_FIELD_SHAPE, FALSE);
  xs_column_view_add (self->costs_view, "Params", XS_FIELD_PARAMS, FALSE);
  xs_column_view_add (self->costs_view, "MACs", XS_FIELD_MACS, FALSE);
  xs_column_view_add (self->costs_view, "Std params", XS_FIELD_STD_PARAMS, FALSE);
  xs_column_view_add (self->costs_view, "Std MACs", XS_FIELD_STD_MACS, FALSE);
  xs_column_view_add (self->costs_view, "Ratio", XS_FIELD_RATIO, FALSE);
  self->selection = xs_column_view_setup (self->costs_view, G_LIST_MODEL (self->rows), NULL);
  g_signal_connect_object (self->selection, "notify::selected", G_CALLBACK (show_formula), self,
                           G_CONNECT_SWAPPED);
}
