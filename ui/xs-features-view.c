/* SPDX-License-Identifier: MIT
 *
 * XsFeaturesView: every layer of the model in a searchable, sortable table
 * (type, shape, time, params, MACs, zeros), and the selected layer's
 * channels as a grid; the original image and the preprocessed input are
 * rows too.
 */
#define G_LOG_DOMAIN "xs-features-view"

#include "xs-features-view.h"
#include "xs-util.h"

struct _XsFeaturesView {
  XsView              parent_instance;

  /* template widgets */
  GtkSearchEntry     *features_search;
  GtkColumnView      *features_view;
  GtkLabel           *feature_title;
  GtkDropDown        *feature_cmap_dropdown;
  GtkCheckButton     *shared_scale_check;
  GtkCheckButton     *sort_check;
  GtkButton          *grid_back_button;
  XsFeatureGrid      *feature_grid;
  GtkLabel           *feature_stats_label;

  /* owned */
  GListStore         *rows;
  GtkSingleSelection *selection;
  guint               node;       /* the layer to show once rows exist */
  GCancellable       *cancel;
  gboolean            stale;      /* a layer to compute once the page is shown */
};

G_DEFINE_FINAL_TYPE (XsFeaturesView, xs_features_view, XS_TYPE_VIEW)

static void
show_tensor (XsFeaturesView *self, guint node, const XcTensor *t)
{
  XsAnalysis *a = xs_view_get_analysis (XS_VIEW (self));
  const XcNode *n = xc_model_node (a->model->model, node);
  const XcNodeRun *run = &a->runs[node];
  g_autofree char *shape = xs_shape_string (n);
  g_autofree char *title = NULL, *stats = NULL;

  xs_feature_grid_set_tensor (self->feature_grid, t->data, t->h, t->w, t->c);
  title = g_strdup_printf ("%s %s — %d channel%s%s", n->name, shape, t->c, t->c == 1 ? "" : "s",
                           node == 0 ? " (the preprocessed input the network saw)" : "");
  stats = g_strdup_printf ("min %.4g   max %.4g   mean %.4g   std %.4g   zeros %.1f%%   "
                           "time %.3f ms.  Click a channel to enlarge it.",
                           run->stats.min, run->stats.max, run->stats.mean, run->stats.std,
                           100 * run->stats.zero_fraction, run->time_us / 1000.0);
  gtk_label_set_text (self->feature_title, title);
  gtk_label_set_text (self->feature_stats_label, stats);
}

static void
on_activations_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsFeaturesView) self = data;
  g_autoptr(GError) error = NULL;
  XsActivations *acts = xs_inference_activations_finish (XS_INFERENCE (source), result, &error);

  if (xs_session_failed (xs_view_get_session (XS_VIEW (self)), acts, error))
    return;
  /* the grid keeps a copy of what it shows */
  show_tensor (self, acts->nodes[0], &acts->outputs[0]);
  xs_activations_free (acts);
}

/* The selected row's channels: the image, the input the analysis kept, or a
 * layer's output recomputed (the analysis keeps none) */
static void
show_feature (XsFeaturesView *self)
{
  XsNodeRow *row = gtk_single_selection_get_selected_item (self->selection);
  XsAnalysis *a = xs_view_get_analysis (XS_VIEW (self));
  XsSession *session = xs_view_get_session (XS_VIEW (self));
  g_autofree char *title = NULL;

  if (row == NULL || a == NULL)
    return;
  g_cancellable_cancel (self->cancel);
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      /* nothing is drawn for a hidden page: the grid waits until it is shown */
      self->stale = TRUE;
      return;
    }
  self->stale = FALSE;
  xs_feature_grid_set_single (self->feature_grid, -1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->grid_back_button), FALSE);
  if (row->index == XS_ORIGINAL_ROW)
    {
      const XcImage *img = a->image;
      xs_feature_grid_set_tensor (self->feature_grid, img->data, img->h, img->w, img->c);
      title = g_strdup_printf ("original image %s — what the file holds, before resizing and "
                               "preprocessing", row->shape);
      gtk_label_set_text (self->feature_title, title);
      gtk_label_set_text (self->feature_stats_label, "");
    }
  else if (row->index == 0)
    {
      const XcNode *in = xc_model_input (a->model->model);
      XcTensor t = { a->input, 1, in->h, in->w, in->c };
      show_tensor (self, 0, &t);
    }
  else
    {
      xs_session_restart (&self->cancel);
      xs_session_begin (session, "Computing the layer's output…");
      xs_inference_activations_async (xs_session_get_inference (session), a, &row->index, 1,
                                      self->cancel, on_activations_cb, g_object_ref (self));
    }
}

static void
on_map_cb (XsFeaturesView *self)
{
  if (self->stale)
    show_feature (self);
}

/**
 * xs_features_view_select_node:
 * @node: a node index of the model
 *
 * Selects that layer's row (now, or once the analysis arrives).
 */
void
xs_features_view_select_node (XsFeaturesView *self, guint node)
{
  GListModel *m = G_LIST_MODEL (self->selection);

  self->node = node;
  for (guint r = 0; r < g_list_model_get_n_items (m); r++)
    {
      g_autoptr(XsNodeRow) row = g_list_model_get_item (m, r);
      if (row->index == node)
        {
          gtk_single_selection_set_selected (self->selection, r);
          return;
        }
    }
}

XsFeatureGrid *
xs_features_view_get_grid (XsFeaturesView *self)
{
  return self->feature_grid;
}

static void
xs_features_view_model_changed (XsView *view, XsModel *model)
{
  XsFeaturesView *self = XS_FEATURES_VIEW (view);

  xs_node_rows_fill (self->rows, model ? model->model : NULL, NULL);
  xs_feature_grid_set_tensor (self->feature_grid, NULL, 0, 0, 0);
}

static void
xs_features_view_analysis_changed (XsView *view, XsAnalysis *a)
{
  XsFeaturesView *self = XS_FEATURES_VIEW (view);

  if (a == NULL)
    {
      g_cancellable_cancel (self->cancel);
      xs_feature_grid_set_tensor (self->feature_grid, NULL, 0, 0, 0);
      return;
    }
  xs_node_rows_fill (self->rows, a->model->model, a);
  xs_features_view_select_node (self, self->node);
}

static void
on_feature_options_cb (XsFeaturesView *self)
{
  xs_feature_grid_set_options (self->feature_grid,
                               gtk_drop_down_get_selected (self->feature_cmap_dropdown),
                               gtk_check_button_get_active (self->shared_scale_check),
                               gtk_check_button_get_active (self->sort_check));
}

static void
on_channel_activated_cb (XsFeaturesView *self, int channel)
{
  xs_feature_grid_set_single (self->feature_grid, channel);
  gtk_widget_set_sensitive (GTK_WIDGET (self->grid_back_button), TRUE);
}

static void
on_grid_back_cb (XsFeaturesView *self)
{
  xs_feature_grid_set_single (self->feature_grid, -1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->grid_back_button), FALSE);
}

static void
xs_features_view_dispose (GObject *object)
{
  XsFeaturesView *self = XS_FEATURES_VIEW (object);

  g_cancellable_cancel (self->cancel);
  gtk_widget_dispose_template (GTK_WIDGET (self), XS_TYPE_FEATURES_VIEW);
  g_clear_object (&self->cancel);
  g_clear_object (&self->selection);
  g_clear_object (&self->rows);
  G_OBJECT_CLASS (xs_features_view_parent_class)->dispose (object);
}

static void
xs_features_view_class_init (XsFeaturesViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = xs_features_view_dispose;
  XS_VIEW_CLASS (klass)->model_changed = xs_features_view_model_changed;
  XS_VIEW_CLASS (klass)->analysis_changed = xs_features_view_analysis_changed;

  g_type_ensure (XS_TYPE_FEATURE_GRID);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/xceptionstudio/XceptionStudio/ui/xs-features-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, XsFeaturesView, name)
  BIND (features_search);
  BIND (features_view);
  BIND (feature_title);
  BIND (feature_cmap_dropdown);
  BIND (shared_scale_check);
  BIND (sort_check);
  BIND (grid_back_button);
  BIND (feature_grid);
  BIND (feature_stats_label);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_feature_options_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_channel_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_grid_back_cb);
}

static void
xs_features_view_init (XsFeaturesView *self)
{
  g_autoptr(GtkStringList) cmaps = xs_string_list_new (xc_colormap_names (), XC_N_COLORMAPS);
  g_autoptr(GtkStringFilter) filter = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_list_store_new (XS_TYPE_NODE_ROW);
  gtk_drop_down_set_model (self->feature_cmap_dropdown, G_LIST_MODEL (cmaps));
  gtk_drop_down_set_selected (self->feature_cmap_dropdown, XC_COLORMAP_VIRIDIS);

  xs_column_view_add (self->features_view, "Layer", XS_FIELD_NAME, TRUE);
  xs_column_view_add (self->features_view, "Type", XS_FIELD_TYPE, FALSE);
  xs_column_view_add (self->features_view, "Output", XS_FIELD_SHAPE, FALSE);
  xs_column_view_add (self->features_view, "ms", XS_FIELD_TIME, FALSE);
  xs_column_view_add (self->features_view, "Params", XS_FIELD_PARAMS, FALSE);
  xs_column_view_add (self->features_view, "MACs", XS_FIELD_MACS, FALSE);
  xs_column_view_add (self->features_view, "Zeros", XS_FIELD_ZEROS, FALSE);
  filter = gtk_string_filter_new (gtk_property_expression_new (XS_TYPE_NODE_ROW, NULL,
                                                               "search-text"));
  gtk_string_filter_set_match_mode (filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
  g_object_bind_property (self->features_search, "text", filter, "search", G_BINDING_DEFAULT);
  self->selection = xs_column_view_setup (self->features_view, G_LIST_MODEL (self->rows),
                                          GTK_FILTER (g_steal_pointer (&filter)));
  g_signal_connect_object (self->selection, "notify::selected", G_CALLBACK (show_feature), self,
                           G_CONNECT_SWAPPED);
  on_feature_options_cb (self);
  g_signal_connect (self, "map", G_CALLBACK (on_map_cb), NULL);
}
