/* SPDX-License-Identifier: MIT
 *
 * XsSeparableView: the separable convolution worked out on the real image.
 * For a SeparableConv2D layer: its input channels, the depthwise outputs
 * (recomputed: the engine never keeps them), the pointwise outputs, a
 * step-through of one output value through both steps checked against the
 * engine's output; and a calculator of both convolutions' costs with real
 * timings on this CPU.
 */
#define G_LOG_DOMAIN "xs-separable-view"

#include <math.h>

#include "xs-cost-chart.h"
#include "xs-feature-grid.h"
#include "xs-sep-lesson.h"
#include "xs-separable-view.h"

struct _XsSeparableView {
  XsView         parent_instance;

  /* template widgets */
  GtkDropDown   *sep_layer_dropdown;
  GtkLabel      *sep_counts_label;
  GtkLabel      *sep_input_title;
  GtkLabel      *sep_dw_title;
  GtkLabel      *sep_pw_title;
  XsFeatureGrid *sep_input_grid;
  XsFeatureGrid *sep_dw_grid;
  XsFeatureGrid *sep_pw_grid;
  GtkSpinButton *step_y_spin;
  GtkSpinButton *step_x_spin;
  GtkSpinButton *step_c_spin;
  GtkLabel      *step_label;
  XsSepLesson   *step_lesson;
  GtkToggleButton *step_play;
  GtkSpinButton *calc_cin;
  GtkSpinButton *calc_cout;
  GtkSpinButton *calc_k;
  GtkSpinButton *calc_h;
  GtkSpinButton *calc_w;
  GtkSpinButton *calc_stride;
  GtkSpinButton *calc_dm;
  GtkButton     *calc_measure_button;
  GtkLabel      *calc_result_label;
  XsCostChart   *calc_chart;
  GtkLabel      *calc_measure_label;

  /* owned */
  GArray        *sep_ids;        /* node per sep_layer_dropdown row */
  guint          tensors_of;     /* the layer whose input, depthwise and pointwise outputs
                                  * the grids hold (the step-through reads them there), or
                                  * G_MAXUINT */
  GCancellable  *acts_cancel;
  GCancellable  *measure_cancel;
  gboolean       updating;
  guint          play_source;    /* the lesson's timer while playing */
};

G_DEFINE_FINAL_TYPE (XsSeparableView, xs_separable_view, XS_TYPE_VIEW)

/* the separable convolution, explained ---------------------------------------- */

static void
fill_separable_choices (XsSeparableView *self)
{
  const XcModel *m = xs_view_get_model (XS_VIEW (self))->model;
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  self->updating = TRUE;
  g_array_set_size (self->sep_ids, 0);
  for (guint i = 0; i < xc_model_n_nodes (m); i++)
    if (xc_model_node (m, i)->op == XC_OP_SEPCONV2D)
      {
        gtk_string_list_append (names, xc_model_node (m, i)->name);
        g_array_append_val (self->sep_ids, i);
      }
  gtk_drop_down_set_model (self->sep_layer_dropdown, G_LIST_MODEL (names));
  gtk_drop_down_set_selected (self->sep_layer_dropdown, 0);
  self->updating = FALSE;
}

static const XcNode *
selected_sep (XsSeparableView *self, guint *index)
{
  guint row = gtk_drop_down_get_selected (self->sep_layer_dropdown);

  if (xs_view_get_model (XS_VIEW (self)) == NULL || row >= self->sep_ids->len)
    return NULL;
  *index = g_array_index (self->sep_ids, guint, row);
  return xc_model_node (xs_view_get_model (XS_VIEW (self))->model, *index);
}

/* The step-through: the lesson widget for the chosen position and output
 * channel, its words, and markers on the three grids: the receptive field
 * on the input, the position on the depthwise and pointwise maps, the
 * stage's channel and the output channel framed */
static void
update_step (XsSeparableView *self)
{
  guint idx;
  const XcNode *node = selected_sep (self, &idx), *in;
  const float *x, *dw, *y;
  g_autofree char *words = NULL;
  int oy, ox, o, c, pt, pl;

  if (node == NULL || self->tensors_of != idx || self->updating)
    return;
  in = xc_model_node (xs_view_get_model (XS_VIEW (self))->model, node->inputs[0]);
  x = xs_feature_grid_get_tensor (self->sep_input_grid);
  dw = xs_feature_grid_get_tensor (self->sep_dw_grid);
  y = xs_feature_grid_get_tensor (self->sep_pw_grid);
  if (x == NULL || y == NULL || dw == NULL)
    return;
  oy = MIN (gtk_spin_button_get_value_as_int (self->step_y_spin), node->h - 1);
  ox = MIN (gtk_spin_button_get_value_as_int (self->step_x_spin), node->w - 1);
  o = MIN (gtk_spin_button_get_value_as_int (self->step_c_spin), node->c - 1);
  xs_sep_lesson_set (self->step_lesson, node, in, x, dw, oy, ox, o);
  c = xs_sep_lesson_stage_channel (self->step_lesson);
  pt = xc_pad_before (in->h, node->kh, node->sh, node->padding);
  pl = xc_pad_before (in->w, node->kw, node->sw, node->padding);
  xs_feature_grid_set_marker (self->sep_input_grid, oy * node->sh - pt, ox * node->sw - pl,
                              node->kh, node->kw, c >= 0 ? c / node->depth_multiplier : -1);
  xs_feature_grid_set_marker (self->sep_dw_grid, oy, ox, 1, 1, c);
  xs_feature_grid_set_marker (self->sep_pw_grid, oy, ox, 1, 1, o);
  words = xs_sep_lesson_describe (self->step_lesson, y[((size_t) oy * node->w + ox) * node->c + o]);
  gtk_label_set_markup (self->step_label, words);
}

static void
on_stage_changed_cb (XsSeparableView *self)
{
  update_step (self);
}

static gboolean
play_tick_cb (gpointer data)
{
  XsSeparableView *self = data;
  int stage = xs_sep_lesson_get_stage (self->step_lesson);

  if (stage + 1 >= xs_sep_lesson_get_n_stages (self->step_lesson))
    {
      self->play_source = 0;
      gtk_toggle_button_set_active (self->step_play, FALSE);
      return G_SOURCE_REMOVE;
    }
  xs_sep_lesson_set_stage (self->step_lesson, stage + 1);
  return G_SOURCE_CONTINUE;
}

/* Play goes through the stages from the first, one every 1.2 s */
static void
on_step_play_cb (XsSeparableView *self)
{
  g_clear_handle_id (&self->play_source, g_source_remove);
  if (!gtk_toggle_button_get_active (self->step_play))
    return;
  xs_sep_lesson_set_stage (self->step_lesson, 0);
  self->play_source = g_timeout_add (1200, play_tick_cb, self);
}

static void
on_step_next_cb (XsSeparableView *self)
{
  xs_sep_lesson_set_stage (self->step_lesson, xs_sep_lesson_get_stage (self->step_lesson) + 1);
}

static void
on_step_back_cb (XsSeparableView *self)
{
  xs_sep_lesson_set_stage (self->step_lesson, xs_sep_lesson_get_stage (self->step_lesson) - 1);
}

/* A click on a map chooses the position: on the input, the output whose
 * window is centred there; on the depthwise maps, also that channel's
 * stage; on the pointwise maps, also the output channel */
static void
on_grid_cell_cb (XsFeatureGrid *grid, int channel, int y, int x, XsSeparableView *self)
{
  guint idx;
  const XcNode *node = selected_sep (self, &idx), *in;

  if (node == NULL)
    return;
  in = xc_model_node (xs_view_get_model (XS_VIEW (self))->model, node->inputs[0]);
  if (grid == self->sep_input_grid)
    {
      y = (y + xc_pad_before (in->h, node->kh, node->sh, node->padding) - node->kh / 2) /
          node->sh;
      x = (x + xc_pad_before (in->w, node->kw, node->sw, node->padding) - node->kw / 2) /
          node->sw;
    }
  self->updating = TRUE;
  gtk_spin_button_set_value (self->step_y_spin, CLAMP (y, 0, node->h - 1));
  gtk_spin_button_set_value (self->step_x_spin, CLAMP (x, 0, node->w - 1));
  if (grid == self->sep_pw_grid)
    gtk_spin_button_set_value (self->step_c_spin, channel);
  self->updating = FALSE;
  if (grid == self->sep_dw_grid && channel < xs_sep_lesson_get_shown (self->step_lesson))
    xs_sep_lesson_set_stage (self->step_lesson, channel);
  update_step (self);
}

static void update_step (XsSeparableView *self);

/* The grids' tensors (the step-through's too) */
static void
clear_tensors (XsSeparableView *self)
{
  xs_feature_grid_set_tensor (self->sep_input_grid, NULL, 0, 0, 0);
  xs_feature_grid_set_tensor (self->sep_dw_grid, NULL, 0, 0, 0);
  xs_feature_grid_set_tensor (self->sep_pw_grid, NULL, 0, 0, 0);
  self->tensors_of = G_MAXUINT;
}

static void
on_tensors_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsSeparableView) self = data;
  g_autoptr(GError) error = NULL;
  XsActivations *acts = xs_inference_activations_finish (XS_INFERENCE (source), result, &error);
  XsModel *model = xs_view_get_model (XS_VIEW (self));
  const XcNode *node;
  const XcTensor *x, *y;
  float *dw_out;
  guint idx;
  int h, w, c;

  if (xs_session_failed (xs_view_get_session (XS_VIEW (self)), acts, error))
    return;
  node = selected_sep (self, &idx);
  if (model == NULL || node == NULL || !(y = xs_activations_get (acts, idx)))
    {
      xs_activations_free (acts);   /* another layer was chosen meanwhile */
      return;
    }
  /* the grids own the tensors; the step-through reads them there */
  clear_tensors (self);
  x = xs_activations_get (acts, node->inputs[0]);
  dw_out = g_new (float, (size_t) node->h * node->w * x->c * node->depth_multiplier);
  xc_sepconv_depthwise_output (model->model, idx, x, dw_out);
  h = x->h, w = x->w, c = x->c;
  xs_feature_grid_take_tensor (self->sep_input_grid, xs_activations_steal (acts, node->inputs[0]),
                               h, w, c);
  xs_feature_grid_take_tensor (self->sep_dw_grid, dw_out, node->h, node->w,
                               c * node->depth_multiplier);
  h = y->h, w = y->w, c = y->c;
  xs_feature_grid_take_tensor (self->sep_pw_grid, xs_activations_steal (acts, idx), h, w, c);
  xs_activations_free (acts);
  self->tensors_of = idx;
  update_step (self);
}

/* The selected layer's input and output for the analysis, recomputed; only
 * while the page is shown */
static void
request_tensors (XsSeparableView *self)
{
  XsSession *session = xs_view_get_session (XS_VIEW (self));
  XsAnalysis *a = xs_view_get_analysis (XS_VIEW (self));
  const XcNode *node;
  guint nodes[2];

  g_cancellable_cancel (self->acts_cancel);
  if (a == NULL || (node = selected_sep (self, &nodes[1])) == NULL)
    return;
  /* a hidden page computes nothing: shown, it is told the analysis again */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    return;
  nodes[0] = node->inputs[0];
  xs_session_restart (&self->acts_cancel);
  xs_session_begin (session, "Computing the layer's input and output…");
  xs_inference_activations_async (xs_session_get_inference (session), a, nodes, 2,
                                  self->acts_cancel, on_tensors_cb, g_object_ref (self));
}

static void
update_separable (XsSeparableView *self)
{
  guint idx;
  const XcNode *node = selected_sep (self, &idx), *in;
  g_autofree char *np = NULL, *nm = NULL, *sp = NULL, *sm = NULL, *txt = NULL;
  g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL;
  int mid;

  if (node == NULL)
    {
      gtk_label_set_text (self->sep_counts_label, "This model has no separable convolutions.");
      return;
    }
  in = xc_model_node (xs_view_get_model (XS_VIEW (self))->model, node->inputs[0]);
  mid = in->c * node->depth_multiplier;
  np = xc_format_count (node->n_weights), nm = xc_format_count (node->macs);
  sp = xc_format_count (node->std_params), sm = xc_format_count (node->std_macs);
  txt = g_strdup_printf ("<b>%s</b>: %d×%d×%d in, %d×%d×%d out.  Depthwise: k²·C<sub>in</sub> = "
                         "%d params; pointwise: C<sub>in</sub>·C<sub>out</sub> = %d params; "
                         "together %s params and %s MACs, against %s params and %s MACs for a "
                         "standard %d×%d convolution: 1/C<sub>out</sub> + 1/k² = 1/%d + 1/%d = "
                         "<b>%.4f</b>.", node->name, in->h, in->w, in->c, node->h, node->w,
                         node->c, node->kh * node->kw * mid, mid * node->c, np, nm, sp, sm,
                         node->kh, node->kw, node->c, node->kh * node->kw,
                         1.0 * node->depth_multiplier / node->c +
                         1.0 * node->depth_multiplier / (node->kh * node->kw));
  {
    /* the two convolutions side by side, as tensor shapes */
    g_autofree char *shapes =
      g_strdup_printf ("\n<tt>Standard:  (%d, %d, %d) ⊛ %d filters of %d×%d×%d"
                       " → (%d, %d, %d)\nSeparable: (%d, %d, %d) ⊛ %d filters of %d×%d×1"
                       " → (%d, %d, %d) ⊛ %d filters of 1×1×%d → (%d, %d, %d)</tt>",
                       in->h, in->w, in->c, node->c, node->kh, node->kw, in->c, node->h, node->w,
                       node->c, in->h, in->w, in->c, mid, node->kh, node->kw, node->h, node->w,
                       mid, node->c, mid, node->h, node->w, node->c);
    char *both = g_strconcat (txt, shapes, NULL);
    g_free (txt);
    txt = both;
  }
  gtk_label_set_markup (self->sep_counts_label, txt);
  t1 = g_strdup_printf ("Input (%d, %d, %d)", in->h, in->w, in->c);
  t2 = g_strdup_printf ("Depthwise %d×%d: one filter per channel (%d, %d, %d)", node->kh,
                        node->kw, node->h, node->w, mid);
  t3 = g_strdup_printf ("Pointwise 1×1: channels mixed (%d, %d, %d)", node->h, node->w,
                        node->c);
  gtk_label_set_text (self->sep_input_title, t1);
  gtk_label_set_text (self->sep_dw_title, t2);
  gtk_label_set_text (self->sep_pw_title, t3);
  gtk_adjustment_set_upper (gtk_spin_button_get_adjustment (self->step_y_spin), node->h - 1);
  gtk_adjustment_set_upper (gtk_spin_button_get_adjustment (self->step_x_spin), node->w - 1);
  gtk_adjustment_set_upper (gtk_spin_button_get_adjustment (self->step_c_spin), node->c - 1);
  /* start in the middle: no padding in the way */
  self->updating = TRUE;
  gtk_spin_button_set_value (self->step_y_spin, node->h / 2);
  gtk_spin_button_set_value (self->step_x_spin, node->w / 2);
  self->updating = FALSE;
  request_tensors (self);
}

static void
on_sep_layer_cb (XsSeparableView *self)
{
  if (!self->updating)
    update_separable (self);
}

/* The calculator's layer */
static XcConvShape
calc_shape (XsSeparableView *self)
{
  return (XcConvShape) {
    gtk_spin_button_get_value_as_int (self->calc_cin),
    gtk_spin_button_get_value_as_int (self->calc_cout),
    gtk_spin_button_get_value_as_int (self->calc_k),
    gtk_spin_button_get_value_as_int (self->calc_h),
    gtk_spin_button_get_value_as_int (self->calc_w),
    gtk_spin_button_get_value_as_int (self->calc_stride),
    gtk_spin_button_get_value_as_int (self->calc_dm),
  };
}

static void
update_calculator (XsSeparableView *self)
{
  XcConvShape sh = calc_shape (self);
  XcConvCosts c;
  g_autoptr(GError) error = NULL;
  g_autofree char *txt = NULL;
  g_autofree char *a = NULL, *b = NULL, *d = NULL, *e = NULL, *f = NULL, *g = NULL, *h = NULL;
  g_autofree char *i = NULL;
  const char *names[2] = { "params", "MACs" };
  double act[2], std[2];

  if (!xc_conv_costs (&sh, &c, &error))
    {
      gtk_label_set_text (self->calc_result_label, error->message);
      return;
    }
  a = xc_format_count (c.standard_params), b = xc_format_count (c.standard_macs);
  d = xc_format_count (c.depthwise_params), e = xc_format_count (c.depthwise_macs);
  f = xc_format_count (c.pointwise_params), g = xc_format_count (c.pointwise_macs);
  h = xc_format_count (c.separable_params), i = xc_format_count (c.separable_macs);
  txt = g_strdup_printf ("Output %d×%d (same padding).\n"
                         "Standard convolution: %s params, %s MACs\n"
                         "Depthwise step: %s params, %s MACs\n"
                         "Pointwise step: %s params, %s MACs\n"
                         "Separable (sum): %s params, %s MACs\n"
                         "Ratio %.4f = DM/C<sub>out</sub> + DM/k² = %.4f (%.1f× fewer MACs)",
                         c.out_h, c.out_w, a, b, d, e, f, g, h, i, c.ratio, c.formula,
                         1.0 / c.ratio);
  gtk_label_set_markup (self->calc_result_label, txt);
  /* a measurement belongs to the numbers it was made with */
  gtk_label_set_text (self->calc_measure_label, "Not measured for these numbers yet: press "
                      "Measure to time both convolutions on this CPU.");
  act[0] = c.separable_params, std[0] = c.standard_params;
  act[1] = c.separable_macs, std[1] = c.standard_macs;
  xs_cost_chart_set_data (self->calc_chart, names + 1, act + 1, std + 1, 1);
  xs_cost_chart_set_caption (self->calc_chart, "this layer as separable — its MACs");
}

static void
on_measured_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsSeparableView) self = data;
  g_autoptr(GError) error = NULL;
  g_autofree XcConvTimes *t = xs_inference_measure_finish (XS_INFERENCE (source), result,
                                                           &error);
  g_autofree char *txt = NULL;
  XcConvShape sh = calc_shape (self);
  XcConvCosts c;

  xs_session_end (xs_view_get_session (XS_VIEW (self)));
  gtk_widget_set_sensitive (GTK_WIDGET (self->calc_measure_button), TRUE);
  if (t == NULL)
    {
      gtk_label_set_text (self->calc_measure_label, error->message);
      return;
    }
  xc_conv_costs (&sh, &c, NULL);
  {
    /* the explanation follows what was measured, not a general rule */
    double time_ratio = t->separable_ms / MAX (t->standard_ms, 1e-9);
    gboolean dw_dominates = t->depthwise_ms > t->pointwise_ms;
    double dw_share = (double) c.depthwise_macs / MAX (c.separable_macs, 1);
    g_autofree char *why = NULL;
    if (dw_dominates)
      why = g_strdup_printf ("Here the depthwise step took most of the time (%.3f of %.3f ms) "
                             "for %.0f%% of the MACs: it does only k² = %d multiply-adds per "
                             "value it reads, so memory, not arithmetic, bounds it.",
                             t->depthwise_ms, t->separable_ms, 100 * dw_share, sh.k * sh.k);
    else
      why = g_strdup_printf ("Here the pointwise step took most of the time (%.3f of %.3f ms) "
                             "for %.0f%% of the MACs; the depthwise step took %.3f ms. Both "
                             "the standard and the pointwise convolutions are matrix products; "
                             "the time ratio %s the MAC ratio because %s.",
                             t->pointwise_ms, t->separable_ms, 100 * (1 - dw_share),
                             t->depthwise_ms, time_ratio > c.ratio ? "is above" : "is near",
                             time_ratio > c.ratio
                             ? "the smaller products of the separable steps run further below "
                               "the CPU's peak, and the depthwise step adds its own pass over "
                               "memory"
                             : "both run near the same fraction of the CPU's peak");
    txt = g_strdup_printf ("<b>Measured on this CPU</b> (median of 9): standard %.3f ms, "
                           "separable %.3f ms (depthwise %.3f ms, pointwise %.3f ms). Time ratio "
                           "<b>%.3f</b> against the MAC ratio %.3f.\n%s",
                           t->standard_ms, t->separable_ms, t->depthwise_ms, t->pointwise_ms,
                           time_ratio, c.ratio, why);
  }
  gtk_label_set_markup (self->calc_measure_label, txt);
}

static void
on_measure_cb (XsSeparableView *self)
{
  XcConvShape sh = calc_shape (self);

  xs_session_restart (&self->measure_cancel);
  gtk_widget_set_sensitive (GTK_WIDGET (self->calc_measure_button), FALSE);
  gtk_label_set_text (self->calc_measure_label, "Measuring…");
  xs_session_begin (xs_view_get_session (XS_VIEW (self)), "Measuring…");
  xs_inference_measure_async (xs_session_get_inference (xs_view_get_session (XS_VIEW (self))), &sh, self->measure_cancel, on_measured_cb,
                              g_object_ref (self));
}

/* The mouse wheel over a spin button the user is not editing scrolls the
 * page, as it does everywhere else, instead of changing the number */
static gboolean
on_spin_scroll_cb (GtkEventControllerScroll *scroll, double dx, double dy, gpointer data)
{
  GtkWidget *spin = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (scroll));
  GtkWidget *sw;
  GtkAdjustment *adj;

  if (gtk_widget_has_focus (spin) ||
      gtk_widget_is_ancestor (gtk_root_get_focus (gtk_widget_get_root (spin)), spin))
    return FALSE;
  sw = gtk_widget_get_ancestor (spin, GTK_TYPE_SCROLLED_WINDOW);
  if (sw == NULL)
    return TRUE;
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (sw));
  gtk_adjustment_set_value (adj, gtk_adjustment_get_value (adj) +
                                 dy * MAX (gtk_adjustment_get_step_increment (adj), 40.0));
  return TRUE;
}

static void
xs_separable_view_model_changed (XsView *view, XsModel *model)
{
  XsSeparableView *self = XS_SEPARABLE_VIEW (view);

  if (model == NULL)
    return;
  fill_separable_choices (self);
  update_separable (self);
}

/* Hidden, the page holds no activations: shown again, it computes them anew */
static void
xs_separable_view_hidden (XsView *view)
{
  XsSeparableView *self = XS_SEPARABLE_VIEW (view);

  g_cancellable_cancel (self->acts_cancel);
  clear_tensors (self);
}

static void
xs_separable_view_analysis_changed (XsView *view, XsAnalysis *a)
{
  XsSeparableView *self = XS_SEPARABLE_VIEW (view);

  if (a == NULL)
    {
      g_cancellable_cancel (self->acts_cancel);
      clear_tensors (self);
      return;
    }
  update_separable (self);
}

void
xs_separable_view_cancel (XsSeparableView *self)
{
  g_cancellable_cancel (self->measure_cancel);
  g_cancellable_cancel (self->acts_cancel);
}

static void
xs_separable_view_dispose (GObject *object)
{
  XsSeparableView *self = XS_SEPARABLE_VIEW (object);

  g_cancellable_cancel (self->measure_cancel);
  g_cancellable_cancel (self->acts_cancel);
  g_clear_handle_id (&self->play_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), XS_TYPE_SEPARABLE_VIEW);
  g_clear_object (&self->measure_cancel);
  g_clear_object (&self->acts_cancel);
  G_OBJECT_CLASS (xs_separable_view_parent_class)->dispose (object);
}

static void
xs_separable_view_finalize (GObject *object)
{
  XsSeparableView *self = XS_SEPARABLE_VIEW (object);

  g_array_unref (self->sep_ids);
  G_OBJECT_CLASS (xs_separable_view_parent_class)->finalize (object);
}

static void
xs_separable_view_class_init (XsSeparableViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = xs_separable_view_dispose;
  G_OBJECT_CLASS (klass)->finalize = xs_separable_view_finalize;
  XS_VIEW_CLASS (klass)->model_changed = xs_separable_view_model_changed;
  XS_VIEW_CLASS (klass)->analysis_changed = xs_separable_view_analysis_changed;
  XS_VIEW_CLASS (klass)->hidden = xs_separable_view_hidden;

  g_type_ensure (XS_TYPE_FEATURE_GRID);
  g_type_ensure (XS_TYPE_SEP_LESSON);
  g_type_ensure (XS_TYPE_COST_CHART);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/xceptionstudio/XceptionStudio/ui/xs-separable-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, XsSeparableView, name)
  BIND (sep_layer_dropdown);
  BIND (sep_counts_label);
  BIND (sep_input_title);
  BIND (sep_dw_title);
  BIND (sep_pw_title);
  BIND (sep_input_grid);
  BIND (sep_dw_grid);
  BIND (sep_pw_grid);
  BIND (step_y_spin);
  BIND (step_x_spin);
  BIND (step_c_spin);
  BIND (step_label);
  BIND (step_lesson);
  BIND (step_play);
  BIND (calc_cin);
  BIND (calc_cout);
  BIND (calc_k);
  BIND (calc_h);
  BIND (calc_w);
  BIND (calc_stride);
  BIND (calc_dm);
  BIND (calc_measure_button);
  BIND (calc_result_label);
  BIND (calc_chart);
  BIND (calc_measure_label);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_sep_layer_cb);
  gtk_widget_class_bind_template_callback (widget_class, update_step);
  gtk_widget_class_bind_template_callback (widget_class, on_stage_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_step_play_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_step_next_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_step_back_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_grid_cell_cb);
  gtk_widget_class_bind_template_callback (widget_class, update_calculator);
  gtk_widget_class_bind_template_callback (widget_class, on_measure_cb);
}

static void
xs_separable_view_init (XsSeparableView *self)
{
  self->sep_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  self->tensors_of = G_MAXUINT;
  self->updating = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drop_down_set_expression (self->sep_layer_dropdown,
                                gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL,
                                                             "string"));
  self->updating = FALSE;
  {
    GtkSpinButton *spins[] = { self->calc_cin, self->calc_cout, self->calc_k, self->calc_h,
                               self->calc_w, self->calc_stride, self->calc_dm,
                               self->step_y_spin, self->step_x_spin, self->step_c_spin };
    for (guint k = 0; k < G_N_ELEMENTS (spins); k++)
      {
        GtkEventController *sc =
          gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
        gtk_event_controller_set_propagation_phase (sc, GTK_PHASE_CAPTURE);
        g_signal_connect (sc, "scroll", G_CALLBACK (on_spin_scroll_cb), NULL);
        gtk_widget_add_controller (GTK_WIDGET (spins[k]), sc);
      }
  }
  update_calculator (self);
}
