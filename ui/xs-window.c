/* SPDX-License-Identifier: MIT
 *
 * XsWindow: the main window. It owns the current model, analysis (one
 * image through the model, every layer kept) and explanation, and keeps the
 * four views in step with them. Every engine job goes through XsInference
 * off the main thread; a newer request cancels the older one and stale
 * results are dropped (newest wins, as GNOME Text Editor's statistics do).
 */
#define G_LOG_DOMAIN "xs-window"

#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "xs-arch-view.h"
#include "xs-bars.h"
#include "xs-cost-chart.h"
#include "xs-feature-grid.h"
#include "xs-node-row.h"
#include "xs-window.h"

#define ORIGINAL_ROW G_MAXUINT

struct _XsWindow {
  GtkApplicationWindow  parent_instance;

  /* template widgets */
  GtkDropDown          *model_dropdown;
  GtkSpinner           *spinner;
  GtkLabel             *status_label;
  GtkButton            *cancel_button;
  GtkRevealer          *banner_revealer;
  GtkLabel             *banner_label;
  GtkPicture           *image_picture;
  GtkLabel             *image_label;
  GtkLabel             *model_info_label;
  GtkLabel             *top_label;
  GtkStack             *stack;
  XsBars               *bars;
  GtkLabel             *predictions_heading;
  GtkLabel             *predictions_note;
  GtkSearchEntry       *features_search;
  GtkColumnView        *features_view;
  GtkLabel             *feature_title;
  GtkDropDown          *feature_cmap_dropdown;
  GtkCheckButton       *shared_scale_check;
  GtkCheckButton       *sort_check;
  GtkButton            *grid_back_button;
  XsFeatureGrid        *feature_grid;
  GtkLabel             *feature_stats_label;
  GtkDropDown          *method_dropdown;
  GtkDropDown          *layer_dropdown;
  GtkDropDown          *class_dropdown;
  GtkDropDown          *cmap_dropdown;
  GtkCheckButton       *counterfactual_check;
  GtkScale             *opacity_scale;
  GtkPicture           *overlay_picture;
  GtkPicture           *raw_picture;
  GtkLabel             *explain_info_label;
  GtkLabel             *faithfulness_label;
  GtkLabel             *totals_label;
  GtkColumnView        *costs_view;
  XsCostChart          *cost_chart;
  GtkLabel             *formula_label;
  GMenu                *recent_submenu;
  XsArchView           *arch_view;
  GtkLabel             *arch_label;
  GtkButton            *zoom_in_button;
  GtkButton            *zoom_out_button;
  GtkButton            *zoom_reset_button;
  GtkDropDown          *sep_layer_dropdown;
  GtkLabel             *sep_counts_label;
  GtkLabel             *sep_input_title;
  GtkLabel             *sep_dw_title;
  GtkLabel             *sep_pw_title;
  XsFeatureGrid        *sep_input_grid;
  XsFeatureGrid        *sep_dw_grid;
  XsFeatureGrid        *sep_pw_grid;
  GtkSpinButton        *step_y_spin;
  GtkSpinButton        *step_x_spin;
  GtkSpinButton        *step_c_spin;
  GtkLabel             *step_label;
  GtkSpinButton        *calc_cin;
  GtkSpinButton        *calc_cout;
  GtkSpinButton        *calc_k;
  GtkSpinButton        *calc_h;
  GtkSpinButton        *calc_w;
  GtkSpinButton        *calc_stride;
  GtkSpinButton        *calc_dm;
  GtkButton            *calc_measure_button;
  GtkLabel             *calc_result_label;
  XsCostChart          *calc_chart;
  GtkLabel             *calc_measure_label;
  GtkDropDown          *compare_model_dropdown;
  GtkButton            *compare_image_button;
  GtkButton            *compare_clear_button;
  GtkLabel             *compare_summary_label;
  GtkLabel             *compare_title_a;
  GtkLabel             *compare_title_b;
  XsBars               *compare_bars_a;
  XsBars               *compare_bars_b;
  GtkPicture           *compare_overlay_a;
  GtkPicture           *compare_overlay_b;
  GtkLabel             *compare_table_label;
  GtkButton            *compare_folder_button;
  GtkDropDown          *compare_sort_dropdown;
  GtkLabel             *compare_folder_label;
  GtkListBox           *compare_list;

  /* owned */
  XsInference          *inference;
  GPtrArray            *specs;          /* model specs, in model_dropdown's order */
  GtkStringList        *model_names;
  XsModel              *model;
  XsAnalysis           *analysis;
  XsExplainResult      *explained;
  char                 *image_path;
  char                 *last_error;
  GCancellable         *load_cancel;
  GCancellable         *analyze_cancel;
  GCancellable         *explain_cancel;
  GListStore           *rows;
  GtkSingleSelection   *features_selection;
  GtkSingleSelection   *costs_selection;
  GArray               *layer_ids;      /* node index per layer_dropdown row */
  GPtrArray            *recent;
  char                 *screenshot_path;
  XsWindowRequest       pending;        /* from the command line, applied once possible */
  guint8               *overlay_rgb;
  int                   overlay_w, overlay_h;
  guint                 feature_node;   /* the layer the feature view shows */
  GArray               *sep_ids;        /* node per sep_layer_dropdown row */
  float                *dw_out;         /* the selected separable layer's depthwise output */
  XsCompareResult      *compared;
  char                 *compare_image;  /* set: one model on two images */
  GCancellable         *compare_cancel;
  GCancellable         *measure_cancel;
  GCancellable         *folder_cancel;
  XsFolderResult       *folder;
  guint                 busy;
  gboolean              updating;
};

G_DEFINE_FINAL_TYPE (XsWindow, xs_window, GTK_TYPE_APPLICATION_WINDOW)

static void request_analysis (XsWindow *self);
static void fill_bars (XsBars *bars, const XcModel *m, const float *probs, int classes, int k);
static int top_of (const float *p, int n);
static void request_compare (XsWindow *self);
static void update_separable (XsWindow *self);
static void fill_separable_choices (XsWindow *self);
static void on_arch_node_cb (XsArchView *view, guint node, XsWindow *self);
static void show_formula (XsWindow *self);
static void request_explanation (XsWindow *self);
static void render_overlay (XsWindow *self);

/* state file ------------------------------------------------------------- */

static char *
state_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "xception-studio", "state.ini", NULL);
}

static void
save_state (XsWindow *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = state_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  int w, h;

  gtk_window_get_default_size (GTK_WINDOW (self), &w, &h);
  g_key_file_set_integer (kf, "window", "width", w);
  g_key_file_set_integer (kf, "window", "height", h);
  g_key_file_set_boolean (kf, "window", "maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
  g_key_file_set_string_list (kf, "recent", "images",
                              (const char *const *) self->recent->pdata, self->recent->len);
  {
    g_autoptr(GPtrArray) files = g_ptr_array_new ();
    for (guint i = 0; i < self->specs->len; i++)
      if (!g_str_has_prefix (self->specs->pdata[i], "builtin:") &&
          !g_str_has_prefix (self->specs->pdata[i], "embedded:") &&
          !g_str_has_prefix (self->specs->pdata[i], "imagenet:"))
        g_ptr_array_add (files, self->specs->pdata[i]);
    g_key_file_set_string_list (kf, "models", "opened", (const char *const *) files->pdata,
                                files->len);
  }
  g_mkdir_with_parents (dir, 0700);
  g_key_file_save_to_file (kf, path, NULL);
}

static void
update_recent_menu (XsWindow *self)
{
  g_menu_remove_all (self->recent_submenu);
  for (guint i = 0; i < self->recent->len; i++)
    {
      g_autofree char *base = g_path_get_basename (self->recent->pdata[i]);
      g_autoptr(GMenuItem) item = g_menu_item_new (base, NULL);
      g_menu_item_set_action_and_target (item, "win.open-recent", "s", self->recent->pdata[i]);
      g_menu_append_item (self->recent_submenu, item);
    }
}

static void
add_recent (XsWindow *self, const char *path)
{
  for (guint i = 0; i < self->recent->len; i++)
    if (g_str_equal (self->recent->pdata[i], path))
      {
        g_ptr_array_remove_index (self->recent, i);
        break;
      }
  g_ptr_array_insert (self->recent, 0, g_strdup (path));
  if (self->recent->len > 8)
    g_ptr_array_set_size (self->recent, 8);
  update_recent_menu (self);
}

/* busy state and errors ---------------------------------------------------- */

static void
set_busy (XsWindow *self, int delta, const char *what)
{
  self->busy += delta;
  gtk_spinner_set_spinning (self->spinner, self->busy > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), self->busy > 0);
  gtk_label_set_text (self->status_label, self->busy > 0 && what ? what : "");
}

static void
show_error (XsWindow *self, const char *message)
{
  g_free (self->last_error);
  self->last_error = g_strdup (message);
  gtk_label_set_text (self->banner_label, message);
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
}

static gboolean take_screenshot_cb (gpointer data);

static void
maybe_screenshot (XsWindow *self)
{
  if (self->screenshot_path != NULL && self->busy == 0)
    g_timeout_add (400, take_screenshot_cb, g_object_ref (self));
}

/* A worker's result is NULL: say why unless it was cancelled. Returns TRUE
 * when the caller should stop. */
static gboolean
finish_failed (XsWindow *self, gpointer result, const GError *error)
{
  if (result != NULL)
    return FALSE;
  if (!g_error_matches (error, XC_ERROR, XC_ERROR_CANCELLED) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (self, error->message);
  maybe_screenshot (self);
  return TRUE;
}

/* textures --------------------------------------------------------------- */

static GdkTexture *
texture_from_rgb (const guint8 *rgb, int w, int h)
{
  g_autoptr(GBytes) bytes = g_bytes_new (rgb, (gsize) w * h * 3);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, (gsize) w * 3);
}

static GdkTexture *
texture_from_image (const XcImage *img)
{
  g_autofree guint8 *rgb = g_new (guint8, (size_t) img->w * img->h * 3);

  for (size_t p = 0; p < (size_t) img->w * img->h; p++)
    for (int k = 0; k < 3; k++)
      rgb[p * 3 + k] = (guint8) CLAMP (lroundf (img->data[p * img->c + (img->c == 3 ? k : 0)]),
                                       0, 255);
  return texture_from_rgb (rgb, img->w, img->h);
}

/* the model --------------------------------------------------------------- */

static char *
shape_string (const XcNode *node)
{
  return node->flat ? g_strdup_printf ("(%d)", node->c)
                    : g_strdup_printf ("(%d, %d, %d)", node->h, node->w, node->c);
}

static void
fill_rows (XsWindow *self)
{
  const XcModel *m = self->model->model;

  g_list_store_remove_all (self->rows);
  if (self->analysis)
    {
      g_autoptr(XsNodeRow) row = NULL;
      g_autofree char *shape = g_strdup_printf ("(%d, %d, %d)", self->analysis->image->h,
                                                self->analysis->image->w,
                                                self->analysis->image->c);
      row = xs_node_row_new (ORIGINAL_ROW, "original image", "Image", shape);
      g_list_store_append (self->rows, row);
    }
  for (guint i = 0; i < xc_model_n_nodes (m); i++)
    {
      const XcNode *node = xc_model_node (m, i);
      g_autofree char *shape = shape_string (node);
      g_autoptr(XsNodeRow) row = xs_node_row_new (i, node->name, node->keras_class, shape);
      row->params = node->n_weights;
      row->macs = node->macs;
      row->std_params = node->std_params;
      row->std_macs = node->std_macs;
      if (self->analysis)
        {
          const XcNodeRun *run = xc_plan_node_run (self->analysis->plan, i);
          row->time_ms = run->time_us / 1000.0;
          row->zeros = run->stats.zero_fraction;
        }
      g_list_store_append (self->rows, row);
    }
}

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
update_costs (XsWindow *self)
{
  const XcModel *m = self->model->model;
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
update_model_info (XsWindow *self)
{
  const XcModel *m = self->model->model;
  const XcNode *in = xc_model_input (m), *out = xc_model_node (m, m->output);
  guint64 p, macs;
  g_autofree char *p_s = NULL, *m_s = NULL, *txt = NULL;

  xc_model_totals (m, &p, NULL, &macs, NULL, NULL);
  p_s = xc_format_count (p), m_s = xc_format_count (macs);
  txt = g_strdup_printf ("%s\ninput %d×%d×%d, preprocessing %s\n%d classes%s\n%s params, %s MACs\n"
                         "%u layers",
                         self->model->display_name, in->h, in->w, in->c,
                         xc_preprocess_name (m->preprocess), out->c,
                         m->labels ? "" : " (no labels)", p_s, m_s, xc_model_n_nodes (m));
  gtk_label_set_text (self->model_info_label, txt);
}

static void
fill_explain_choices (XsWindow *self)
{
  const XcModel *m = self->model->model;
  g_autoptr(GtkStringList) layers = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) classes = gtk_string_list_new (NULL);
  const XcNode *out = xc_model_node (m, m->output);
  guint def = 0, def_row = 0;

  self->updating = TRUE;
  g_array_set_size (self->layer_ids, 0);
  xc_model_default_cam_layer (m, &def, NULL);
  for (guint i = 1; i < m->output; i++)
    if (!xc_model_node (m, i)->flat)
      {
        if (i == def)
          def_row = self->layer_ids->len;
        gtk_string_list_append (layers, xc_model_node (m, i)->name);
        g_array_append_val (self->layer_ids, i);
      }
  gtk_drop_down_set_model (self->layer_dropdown, G_LIST_MODEL (layers));
  gtk_drop_down_set_selected (self->layer_dropdown, def_row);

  gtk_string_list_append (classes, "Top-1 class");
  for (int c = 0; c < out->c; c++)
    {
      const char *label = xc_model_label (m, c);
      g_autofree char *s = label ? g_strdup_printf ("%d: %s", c, label)
                                 : g_strdup_printf ("class %d", c);
      gtk_string_list_append (classes, s);
    }
  gtk_drop_down_set_model (self->class_dropdown, G_LIST_MODEL (classes));
  gtk_drop_down_set_selected (self->class_dropdown, 0);
  self->updating = FALSE;
}

static void
clear_results (XsWindow *self)
{
  if (self->model)
    xs_arch_view_set_model (self->arch_view, self->model->model, NULL);
  g_clear_pointer (&self->compared, xs_compare_result_free);
  g_clear_pointer (&self->dw_out, g_free);
  g_clear_pointer (&self->analysis, xs_analysis_unref);
  g_clear_pointer (&self->explained, xs_explain_result_free);
  g_clear_pointer (&self->overlay_rgb, g_free);
  gtk_picture_set_paintable (self->overlay_picture, NULL);
  gtk_picture_set_paintable (self->raw_picture, NULL);
  xs_bars_set_data (self->bars, NULL, NULL, NULL, 0);
  xs_feature_grid_set_tensor (self->feature_grid, NULL, 0, 0, 0);
  gtk_label_set_text (self->top_label, "");
  gtk_label_set_text (self->explain_info_label, "");
  gtk_label_set_text (self->faithfulness_label, "");
}

static void
select_feature_node (XsWindow *self)
{
  GListModel *m = G_LIST_MODEL (self->features_selection);

  for (guint r = 0; r < g_list_model_get_n_items (m); r++)
    {
      g_autoptr(XsNodeRow) row = g_list_model_get_item (m, r);
      if (row->index == self->feature_node)
        {
          gtk_single_selection_set_selected (self->features_selection, r);
          return;
        }
    }
}

/* The costs view opens on the first separable layer: its formula is the lesson */
static void
select_first_separable (XsWindow *self)
{
  GListModel *m = G_LIST_MODEL (self->costs_selection);

  for (guint r = 0; r < g_list_model_get_n_items (m); r++)
    {
      g_autoptr(XsNodeRow) row = g_list_model_get_item (m, r);
      if (g_str_equal (row->type, "SeparableConv2D"))
        {
          gtk_single_selection_set_selected (self->costs_selection, r);
          break;
        }
    }
  show_formula (self);
}

static void
on_model_loaded_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  XsModel *m = xs_inference_load_model_finish (XS_INFERENCE (source), result, &error);

  set_busy (self, -1, NULL);
  if (finish_failed (self, m, error))
    return;
  g_clear_pointer (&self->model, xs_model_unref);
  self->model = m;
  clear_results (self);
  update_model_info (self);
  fill_explain_choices (self);
  fill_rows (self);
  update_costs (self);
  select_first_separable (self);
  fill_separable_choices (self);
  update_separable (self);
  xs_arch_view_set_model (self->arch_view, self->model->model, NULL);
  {
    g_autofree char *t = g_strdup_printf ("%u layers. Colour: kind (blue Conv2D, purple "
                                          "SeparableConv2D, grey BatchNormalization, green "
                                          "activation, teal pooling, orange Add and residual "
                                          "links, red Dense); the light bar: MACs (log scale). "
                                          "Hover for details, click for feature maps, Ctrl+scroll "
                                          "to zoom.", xc_model_n_nodes (self->model->model));
    gtk_label_set_text (self->arch_label, t);
  }
  xs_window_apply_request (self, NULL);
  if (self->image_path)
    request_analysis (self);
  maybe_screenshot (self);
}

static void
load_selected_model (XsWindow *self)
{
  guint i = gtk_drop_down_get_selected (self->model_dropdown);

  if (i >= self->specs->len)
    return;
  g_cancellable_cancel (self->load_cancel);
  g_clear_object (&self->load_cancel);
  self->load_cancel = g_cancellable_new ();
  set_busy (self, +1, "Loading model…");
  xs_inference_load_model_async (self->inference, self->specs->pdata[i], self->load_cancel,
                                 on_model_loaded_cb, g_object_ref (self));
}

static void
on_model_selected_cb (XsWindow *self)
{
  if (!self->updating)
    load_selected_model (self);
}

/**
 * xs_window_add_model:
 * @spec: a path or builtin:/embedded:/imagenet: spec
 * @select: also select (and so load) it
 */
void
xs_window_add_model (XsWindow *self, const char *spec, gboolean select)
{
  guint at = G_MAXUINT;

  for (guint i = 0; i < self->specs->len; i++)
    if (g_str_equal (self->specs->pdata[i], spec))
      at = i;
  if (at == G_MAXUINT)
    {
      g_autofree char *name = xs_model_display_name (spec);
      self->updating = TRUE;
      g_ptr_array_add (self->specs, g_strdup (spec));
      gtk_string_list_append (self->model_names, name);
      self->updating = FALSE;
      at = self->specs->len - 1;
    }
  if (select)
    {
      if (gtk_drop_down_get_selected (self->model_dropdown) == at)
        load_selected_model (self);
      else
        gtk_drop_down_set_selected (self->model_dropdown, at);
    }
}

/* analysis --------------------------------------------------------------- */

static void
update_predictions (XsWindow *self)
{
  XsAnalysis *a = self->analysis;
  guint n = MIN ((guint) a->classes, 10);
  g_autofree char *heading = NULL, *note = NULL, *top = NULL;

  fill_bars (self->bars, a->model->model, a->probs, a->classes, n);
  xs_bars_set_selected (self->bars, -1);
  heading = g_strdup_printf ("Top %u of %d classes", n, a->classes);
  gtk_label_set_text (self->predictions_heading, heading);
  note = g_strdup_printf ("Forward pass %.1f ms on %s. Click a class (or press Enter on it) to "
                          "explain it.", a->time_ms, self->model->display_name);
  gtk_label_set_text (self->predictions_note, note);
  top = g_strdup_printf ("%s — %.1f%%", xs_bars_get_label (self->bars, 0),
                         100.0 * a->probs[top_of (a->probs, a->classes)]);
  gtk_label_set_text (self->top_label, top);
}

static void
show_image (XsWindow *self)
{
  XsAnalysis *a = self->analysis;
  g_autoptr(GdkTexture) tex = texture_from_image (a->image);
  g_autofree char *base = g_path_get_basename (a->path);
  g_autofree char *txt = g_strdup_printf ("%s\n%d × %d %s", base, a->image->w, a->image->h,
                                          a->image->c == 1 ? "gray" : "RGB");

  gtk_picture_set_paintable (self->image_picture, GDK_PAINTABLE (tex));
  gtk_label_set_text (self->image_label, txt);
}

static void
on_analyzed_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  XsAnalysis *a = xs_inference_analyze_finish (XS_INFERENCE (source), result, &error);

  set_busy (self, -1, NULL);
  if (finish_failed (self, a, error))
    return;
  if (self->model == NULL || a->model != self->model)
    {
      xs_analysis_unref (a);   /* stale: the model changed meanwhile */
      maybe_screenshot (self);
      return;
    }
  g_clear_pointer (&self->analysis, xs_analysis_unref);
  self->analysis = a;
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
  show_image (self);
  update_predictions (self);
  fill_rows (self);
  select_feature_node (self);
  select_first_separable (self);
  xs_arch_view_set_model (self->arch_view, self->model->model, self->analysis->plan);
  update_separable (self);
  g_clear_pointer (&self->compared, xs_compare_result_free);
  xs_window_apply_request (self, NULL);
  request_compare (self);
  maybe_screenshot (self);
}

static gboolean
on_analysis_progress (guint node, guint n, gpointer data)
{
  return TRUE;
}

static void
request_analysis (XsWindow *self)
{
  (void) on_analysis_progress;
  if (self->model == NULL || self->image_path == NULL)
    return;
  g_cancellable_cancel (self->analyze_cancel);
  g_clear_object (&self->analyze_cancel);
  g_cancellable_cancel (self->explain_cancel);
  self->analyze_cancel = g_cancellable_new ();
  set_busy (self, +1, "Running the network…");
  xs_inference_analyze_async (self->inference, self->model, self->image_path,
                              self->analyze_cancel, on_analyzed_cb, g_object_ref (self));
}

void
xs_window_open_image (XsWindow *self, const char *path)
{
  g_free (self->image_path);
  self->image_path = g_strdup (path);
  add_recent (self, path);
  request_analysis (self);
}

/* explanation ------------------------------------------------------------ */

static void
render_raw (XsWindow *self)
{
  const XcExplanation *e = self->explained->explanation;
  int k = MAX (1, 256 / MAX (e->map_h, e->map_w));
  int w = e->map_w * k, h = e->map_h * k;
  g_autofree guint8 *rgb = g_new (guint8, (size_t) w * h * 3);
  g_autoptr(GdkTexture) tex = NULL;
  XcColormap cmap = gtk_drop_down_get_selected (self->cmap_dropdown);
  float mn = G_MAXFLOAT, mx = -G_MAXFLOAT;

  for (int i = 0; i < e->map_h * e->map_w; i++)
    mn = MIN (mn, e->map[i]), mx = MAX (mx, e->map[i]);
  /* nearest: each cell of the raw map stays a visible square */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float v = e->map[(y / k) * e->map_w + x / k];
        xc_colormap_rgb (cmap, mx > mn ? (v - mn) / (mx - mn) : 0, rgb + ((size_t) y * w + x) * 3);
      }
  tex = texture_from_rgb (rgb, w, h);
  gtk_picture_set_paintable (self->raw_picture, GDK_PAINTABLE (tex));
}

static void
render_overlay (XsWindow *self)
{
  const XcExplanation *e;
  const XcImage *img;
  g_autoptr(GdkTexture) tex = NULL;
  XcColormap cmap;

  if (self->explained == NULL || self->analysis == NULL)
    return;
  e = self->explained->explanation;
  img = self->analysis->image;
  cmap = gtk_drop_down_get_selected (self->cmap_dropdown);
  g_free (self->overlay_rgb);
  self->overlay_rgb = xc_render_heatmap (e->map, e->map_h, e->map_w, img, img->h, img->w, cmap,
                                         (float) gtk_range_get_value (GTK_RANGE (self->opacity_scale)));
  self->overlay_w = img->w, self->overlay_h = img->h;
  tex = texture_from_rgb (self->overlay_rgb, img->w, img->h);
  gtk_picture_set_paintable (self->overlay_picture, GDK_PAINTABLE (tex));
  render_raw (self);
}

static void
on_faithfulness_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  XcFaithfulness *f = xs_inference_faithfulness_finish (XS_INFERENCE (source), result, &error);
  g_autofree char *txt = NULL;

  set_busy (self, -1, NULL);
  if (finish_failed (self, f, error))
    return;
  if (self->explained == NULL)
    {
      xc_faithfulness_free (f);
      maybe_screenshot (self);
      return;
    }
  xc_faithfulness_free (self->explained->faithfulness);
  self->explained->faithfulness = f;
  txt = g_strdup_printf ("Faithfulness\ndeletion AUC %.3f (lower is better)\ninsertion AUC %.3f "
                         "(higher is better)\naverage drop %.1f%%\nincrease in confidence: %s",
                         f->deletion_auc, f->insertion_auc, f->average_drop,
                         f->increase ? "yes" : "no");
  gtk_label_set_text (self->faithfulness_label, txt);
  maybe_screenshot (self);
}

static void
on_explained_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  XsExplainResult *r = xs_inference_explain_finish (XS_INFERENCE (source), result, &error);
  const XcModel *m;
  const XcExplanation *e;
  const char *label;
  g_autofree char *info = NULL;

  set_busy (self, -1, NULL);
  if (finish_failed (self, r, error))
    return;
  if (self->analysis == NULL || r->explanation == NULL)
    {
      xs_explain_result_free (r);
      maybe_screenshot (self);
      return;
    }
  g_clear_pointer (&self->explained, xs_explain_result_free);
  self->explained = r;
  m = self->model->model;
  e = r->explanation;
  label = xc_model_label (m, e->target_class);
  info = g_strdup_printf ("%s of class %d%s%s%s at %s\np = %.4f, score %.4f\n%d × %d map, %.1f ms",
                          xc_method_title (e->method), e->target_class, label ? " (" : "",
                          label ? label : "", label ? ")" : "",
                          xc_method_uses_layer (e->method) ? xc_model_node (m, e->layer)->name
                                                           : "the input",
                          e->probability, e->score, e->map_w, e->map_h, e->time_ms);
  gtk_label_set_text (self->explain_info_label, info);
  gtk_label_set_text (self->faithfulness_label, "Faithfulness: measuring…");
  render_overlay (self);
  /* the map shows now; its deletion/insertion curves follow */
  set_busy (self, +1, "Measuring faithfulness…");
  xs_inference_faithfulness_async (self->inference, self->analysis, e, self->explain_cancel,
                                   on_faithfulness_cb, g_object_ref (self));
}

static void
request_explanation (XsWindow *self)
{
  XcExplainOptions o;
  guint row, cls;

  if (self->analysis == NULL || self->updating)
    return;
  xc_explain_options_init (&o);
  o.method = gtk_drop_down_get_selected (self->method_dropdown);
  if (o.method >= XC_N_METHODS)
    o.method = XC_METHOD_GRADCAM;
  row = gtk_drop_down_get_selected (self->layer_dropdown);
  if (row < self->layer_ids->len)
    o.layer = g_array_index (self->layer_ids, guint, row);
  cls = gtk_drop_down_get_selected (self->class_dropdown);
  o.target_class = cls == 0 || cls == GTK_INVALID_LIST_POSITION ? -1 : (int) cls - 1;
  o.counterfactual = gtk_check_button_get_active (self->counterfactual_check);
  xs_bars_set_selected (self->bars, o.target_class);

  g_cancellable_cancel (self->explain_cancel);
  g_clear_object (&self->explain_cancel);
  self->explain_cancel = g_cancellable_new ();
  set_busy (self, +1, "Explaining…");
  xs_inference_explain_async (self->inference, self->analysis, &o, self->explain_cancel,
                              on_explained_cb, g_object_ref (self));
}

static void
on_explain_setting_cb (XsWindow *self)
{
  request_explanation (self);
}

static void
on_render_setting_cb (XsWindow *self)
{
  render_overlay (self);
}

static void
on_bars_activated_cb (XsBars *bars, int id, XsWindow *self)
{
  /* the class becomes the explanation target */
  gtk_drop_down_set_selected (self->class_dropdown, id + 1);
}

/* feature maps ------------------------------------------------------------ */

static void
show_feature (XsWindow *self)
{
  XsNodeRow *row = gtk_single_selection_get_selected_item (self->features_selection);
  g_autofree char *title = NULL, *stats = NULL;

  if (row == NULL || self->analysis == NULL)
    return;
  xs_feature_grid_set_single (self->feature_grid, -1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->grid_back_button), FALSE);
  if (row->index == ORIGINAL_ROW)
    {
      const XcImage *img = self->analysis->image;
      xs_feature_grid_set_tensor (self->feature_grid, img->data, img->h, img->w, img->c);
      title = g_strdup_printf ("original image %s — what the file holds, before resizing and "
                               "preprocessing", row->shape);
    }
  else
    {
      const XcNode *node = xc_model_node (self->model->model, row->index);
      const XcNodeRun *run = xc_plan_node_run (self->analysis->plan, row->index);
      XcTensor t;
      xc_plan_output (self->analysis->plan, row->index, &t);
      xs_feature_grid_set_tensor (self->feature_grid, t.data, t.h, t.w, t.c);
      title = g_strdup_printf ("%s %s — %d channel%s%s", node->name, row->shape, t.c,
                               t.c == 1 ? "" : "s",
                               row->index == 0 ? " (the preprocessed input the network saw)" : "");
      stats = g_strdup_printf ("min %.4g   max %.4g   mean %.4g   std %.4g   zeros %.1f%%   "
                               "time %.3f ms.  Click a channel to enlarge it.",
                               run->stats.min, run->stats.max, run->stats.mean, run->stats.std,
                               100 * run->stats.zero_fraction, run->time_us / 1000.0);
    }
  gtk_label_set_text (self->feature_title, title);
  gtk_label_set_text (self->feature_stats_label, stats ? stats : "");
}

static void
on_feature_options_cb (XsWindow *self)
{
  xs_feature_grid_set_options (self->feature_grid,
                               gtk_drop_down_get_selected (self->feature_cmap_dropdown),
                               gtk_check_button_get_active (self->shared_scale_check),
                               gtk_check_button_get_active (self->sort_check));
}

static void
on_channel_activated_cb (XsFeatureGrid *grid, int channel, XsWindow *self)
{
  xs_feature_grid_set_single (grid, channel);
  gtk_widget_set_sensitive (GTK_WIDGET (self->grid_back_button), TRUE);
}

static void
on_grid_back_cb (XsWindow *self)
{
  xs_feature_grid_set_single (self->feature_grid, -1);
  gtk_widget_set_sensitive (GTK_WIDGET (self->grid_back_button), FALSE);
}

/* costs ------------------------------------------------------------------- */

static void
show_formula (XsWindow *self)
{
  XsNodeRow *row = gtk_single_selection_get_selected_item (self->costs_selection);
  const XcNode *node, *in;
  g_autofree char *txt = NULL;

  if (row == NULL || self->model == NULL || row->index == ORIGINAL_ROW)
    return;
  node = xc_model_node (self->model->model, row->index);
  in = node->n_inputs ? xc_model_node (self->model->model, node->inputs[0]) : NULL;
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


/* architecture -------------------------------------------------------------- */

static void
on_arch_node_cb (XsArchView *view, guint node, XsWindow *self)
{
  self->feature_node = node;
  select_feature_node (self);
  gtk_stack_set_visible_child_name (self->stack, "features");
}

static void
on_zoom_cb (GtkButton *button, XsWindow *self)
{
  double z = xs_arch_view_get_zoom (self->arch_view);

  if (button == self->zoom_in_button)
    z *= 1.25;
  else if (button == self->zoom_out_button)
    z /= 1.25;
  else
    z = 1.0;
  xs_arch_view_set_zoom (self->arch_view, z);
}

/* the separable convolution, explained ---------------------------------------- */

static void
fill_separable_choices (XsWindow *self)
{
  const XcModel *m = self->model->model;
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
selected_sep (XsWindow *self, guint *index)
{
  guint row = gtk_drop_down_get_selected (self->sep_layer_dropdown);

  if (self->model == NULL || row >= self->sep_ids->len)
    return NULL;
  *index = g_array_index (self->sep_ids, guint, row);
  return xc_model_node (self->model->model, *index);
}

static void
update_step (XsWindow *self)
{
  guint idx;
  const XcNode *node = selected_sep (self, &idx), *in;
  g_autoptr(GString) t = g_string_new (NULL);
  XcTensor x, y;
  int oy, ox, o, mid, shown;
  double dot = 0;
  const float *pw;

  if (node == NULL || self->analysis == NULL || self->dw_out == NULL || self->updating)
    return;
  in = xc_model_node (self->model->model, node->inputs[0]);
  xc_plan_output (self->analysis->plan, node->inputs[0], &x);
  xc_plan_output (self->analysis->plan, idx, &y);
  oy = MIN (gtk_spin_button_get_value_as_int (self->step_y_spin), node->h - 1);
  ox = MIN (gtk_spin_button_get_value_as_int (self->step_x_spin), node->w - 1);
  o = MIN (gtk_spin_button_get_value_as_int (self->step_c_spin), node->c - 1);
  mid = in->c * node->depth_multiplier;
  shown = MIN (mid, 3);
  g_string_append_printf (t, "Output position (y %d, x %d), channel %d.\n\n"
                          "Step 1, depthwise: each input channel c gets its own %d×%d filter.\n",
                          oy, ox, o, node->kh, node->kw);
  for (int c = 0; c < shown; c++)
    {
      int ci = c / node->depth_multiplier;
      int pt = xc_pad_before (in->h, node->kh, node->sh, node->padding);
      int pl = xc_pad_before (in->w, node->kw, node->sw, node->padding);
      double sum = 0;
      g_string_append_printf (t, "  d[%d] = ", c);
      for (int ky = 0; ky < node->kh; ky++)
        for (int kx = 0; kx < node->kw; kx++)
          {
            int iy = oy * node->sh - pt + ky, ix = ox * node->sw - pl + kx;
            float xv = (iy < 0 || iy >= in->h || ix < 0 || ix >= in->w) ? 0.0f
                       : x.data[((size_t) iy * in->w + ix) * in->c + ci];
            float kv = node->params[0].data[((size_t) ky * node->kw + kx) * mid + c];
            sum += (double) xv * kv;
            if (ky * node->kw + kx < 3)
              g_string_append_printf (t, "%s%.3f·%.3f", ky + kx ? " + " : "", xv, kv);
          }
      g_string_append_printf (t, " + … (%d products) = %.5f\n", node->kh * node->kw, sum);
    }
  g_string_append_printf (t, "  … and so on for all %d channels (%d multiply-adds).\n\n"
                          "Step 2, pointwise: a 1×1 convolution mixes the %d depthwise outputs "
                          "into output channel %d.\n  y[%d] = ", mid, node->kh * node->kw * mid,
                          mid, o, o);
  pw = node->params[1].data;
  for (int c = 0; c < mid; c++)
    {
      float d = self->dw_out[((size_t) oy * node->w + ox) * mid + c];
      dot += (double) d * pw[(size_t) c * node->c + o];
      if (c < shown)
        g_string_append_printf (t, "%s%.4f·%.4f", c ? " + " : "", d, pw[(size_t) c * node->c + o]);
    }
  if (node->use_bias)
    dot += node->params[node->n_params - 1].data[o];
  g_string_append_printf (t, " + … (%d products) = %.5f\n  The engine's output there: %.5f "
                          "(%s).\n\nThis position cost %d + %d = %d multiply-adds; a standard "
                          "%d×%d convolution would spend %d.", mid, dot,
                          y.data[((size_t) oy * node->w + ox) * node->c + o],
                          fabs (dot - y.data[((size_t) oy * node->w + ox) * node->c + o]) <
                          1e-3 * MAX (1.0, fabs (dot)) ? "the same" : "differs",
                          node->kh * node->kw * mid, mid, node->kh * node->kw * mid + mid,
                          node->kh, node->kw, node->kh * node->kw * in->c);
  gtk_label_set_text (self->step_label, t->str);
}

static void
update_separable (XsWindow *self)
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
  in = xc_model_node (self->model->model, node->inputs[0]);
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
  g_clear_pointer (&self->dw_out, g_free);
  if (self->analysis)
    {
      XcTensor x, y;
      self->dw_out = g_new (float, (size_t) node->h * node->w * mid);
      xc_sepconv_depthwise_output (self->model->model, self->analysis->plan, idx, self->dw_out);
      xc_plan_output (self->analysis->plan, node->inputs[0], &x);
      xc_plan_output (self->analysis->plan, idx, &y);
      xs_feature_grid_set_tensor (self->sep_input_grid, x.data, x.h, x.w, x.c);
      xs_feature_grid_set_tensor (self->sep_dw_grid, self->dw_out, node->h, node->w, mid);
      xs_feature_grid_set_tensor (self->sep_pw_grid, y.data, y.h, y.w, y.c);
      update_step (self);
    }
}

static void
on_sep_layer_cb (XsWindow *self)
{
  if (!self->updating)
    update_separable (self);
}

static void
update_calculator (XsWindow *self)
{
  XcConvShape sh = {
    gtk_spin_button_get_value_as_int (self->calc_cin),
    gtk_spin_button_get_value_as_int (self->calc_cout),
    gtk_spin_button_get_value_as_int (self->calc_k),
    gtk_spin_button_get_value_as_int (self->calc_h),
    gtk_spin_button_get_value_as_int (self->calc_w),
    gtk_spin_button_get_value_as_int (self->calc_stride),
    gtk_spin_button_get_value_as_int (self->calc_dm),
  };
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
  act[0] = c.separable_params, std[0] = c.standard_params;
  act[1] = c.separable_macs, std[1] = c.standard_macs;
  xs_cost_chart_set_data (self->calc_chart, names + 1, act + 1, std + 1, 1);
}

static void
on_measured_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  g_autofree XcConvTimes *t = xs_inference_measure_finish (XS_INFERENCE (source), result,
                                                           &error);
  g_autofree char *txt = NULL;
  XcConvShape sh = {
    gtk_spin_button_get_value_as_int (self->calc_cin),
    gtk_spin_button_get_value_as_int (self->calc_cout),
    gtk_spin_button_get_value_as_int (self->calc_k),
    gtk_spin_button_get_value_as_int (self->calc_h),
    gtk_spin_button_get_value_as_int (self->calc_w),
    gtk_spin_button_get_value_as_int (self->calc_stride),
    gtk_spin_button_get_value_as_int (self->calc_dm),
  };
  XcConvCosts c;

  set_busy (self, -1, NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->calc_measure_button), TRUE);
  if (t == NULL)
    {
      gtk_label_set_text (self->calc_measure_label, error->message);
      return;
    }
  xc_conv_costs (&sh, &c, NULL);
  txt = g_strdup_printf ("<b>Measured on this CPU</b> (median of 9): standard %.3f ms, separable "
                         "%.3f ms (depthwise %.3f ms, pointwise %.3f ms). Time ratio <b>%.3f</b> "
                         "against the MAC ratio %.3f.\nThey differ because the depthwise step "
                         "does only k² = %d multiply-adds for each value it reads: it is bound "
                         "by memory bandwidth, not arithmetic, while the standard and pointwise "
                         "convolutions are matrix products that reuse every value they load "
                         "C<sub>out</sub> times and run near the CPU's peak.",
                         t->standard_ms, t->separable_ms, t->depthwise_ms, t->pointwise_ms,
                         t->separable_ms / MAX (t->standard_ms, 1e-9), c.ratio, sh.k * sh.k);
  gtk_label_set_markup (self->calc_measure_label, txt);
}

static void
on_measure_cb (XsWindow *self)
{
  XcConvShape sh = {
    gtk_spin_button_get_value_as_int (self->calc_cin),
    gtk_spin_button_get_value_as_int (self->calc_cout),
    gtk_spin_button_get_value_as_int (self->calc_k),
    gtk_spin_button_get_value_as_int (self->calc_h),
    gtk_spin_button_get_value_as_int (self->calc_w),
    gtk_spin_button_get_value_as_int (self->calc_stride),
    gtk_spin_button_get_value_as_int (self->calc_dm),
  };

  g_cancellable_cancel (self->measure_cancel);
  g_clear_object (&self->measure_cancel);
  self->measure_cancel = g_cancellable_new ();
  gtk_widget_set_sensitive (GTK_WIDGET (self->calc_measure_button), FALSE);
  gtk_label_set_text (self->calc_measure_label, "Measuring…");
  set_busy (self, +1, "Measuring…");
  xs_inference_measure_async (self->inference, &sh, self->measure_cancel, on_measured_cb,
                              g_object_ref (self));
}

/* side by side --------------------------------------------------------------- */

/* The top-k classes as bars: labels, or "class N" when the model has none */
static void
fill_bars (XsBars *bars, const XcModel *m, const float *probs, int classes, int k)
{
  g_autofree int *order = g_new (int, classes);
  guint n = xc_top_k (probs, classes, k, order);
  g_autofree float *v = g_new (float, n);
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n; i++)
    {
      const char *l = xc_model_label (m, order[i]);
      g_ptr_array_add (labels, l ? g_strdup (l) : g_strdup_printf ("class %d", order[i]));
      v[i] = probs[order[i]];
    }
  xs_bars_set_data (bars, (const char *const *) labels->pdata, v, (guint *) order, n);
}

static int
top_of (const float *p, int n)
{
  int top;
  xc_top_k (p, n, 1, &top);
  return top;
}

static void
show_compare (XsWindow *self)
{
  XsCompareResult *r = self->compared;
  g_autoptr(GString) table = g_string_new (NULL);
  g_autofree char *summary = NULL;
  int top[2];
  gboolean same;

  for (int k = 0; k < 2; k++)
    {
      const XcModel *m = r->model[k]->model;
      const XcExplanation *e = r->explanation[k];
      g_autofree guint8 *rgb = xc_render_heatmap (e->map, e->map_h, e->map_w, r->image[k],
                                                  r->image[k]->h, r->image[k]->w,
                                                  XC_COLORMAP_JET, 0.5f);
      g_autoptr(GdkTexture) tex = texture_from_rgb (rgb, r->image[k]->w, r->image[k]->h);
      g_autofree char *title = g_strdup_printf ("%c: %s on %s — %s of class %d%s%s%s",
                                                'A' + k, r->model[k]->display_name,
                                                r->image_name[k], xc_method_title (e->method),
                                                e->target_class,
                                                xc_model_label (m, e->target_class) ? " (" : "",
                                                xc_model_label (m, e->target_class) ?: "",
                                                xc_model_label (m, e->target_class) ? ")" : "");
      fill_bars (k ? self->compare_bars_b : self->compare_bars_a, m, r->probs[k],
                 r->classes[k], 5);
      gtk_picture_set_paintable (k ? self->compare_overlay_b : self->compare_overlay_a,
                                 GDK_PAINTABLE (tex));
      gtk_label_set_text (k ? self->compare_title_b : self->compare_title_a, title);
      top[k] = top_of (r->probs[k], r->classes[k]);
    }
  same = xc_compare_same_class (r->model[0]->model, top[0], r->model[1]->model, top[1]);
  {
    const char *la = xc_model_label (r->model[0]->model, top[0]);
    const char *lb = xc_model_label (r->model[1]->model, top[1]);
    g_autofree char *fa = g_strdup_printf ("class %d", top[0]);
    g_autofree char *fb = g_strdup_printf ("class %d", top[1]);
    summary = same ? g_strdup_printf ("They agree: %s (%.1f%% and %.1f%%). Their maps for the "
                                      "same class correlate %.2f.", la ? la : fa,
                                      100 * r->probs[0][top[0]], 100 * r->probs[1][top[1]],
                                      r->correlation)
                   : g_strdup_printf ("They disagree: A says %s (%.1f%%), B says %s (%.1f%%). "
                                      "Their maps for A's class correlate %.2f.", la ? la : fa,
                                      100 * r->probs[0][top[0]], lb ? lb : fb,
                                      100 * r->probs[1][top[1]], r->correlation);
  }
  gtk_label_set_text (self->compare_summary_label, summary);
  g_string_append_printf (table, "%-4s %14s %16s %12s %10s %14s %14s\n", "", "params", "MACs",
                          "latency ms", "memory MB", "deletion AUC", "insertion AUC");
  for (int k = 0; k < 2; k++)
    {
      guint64 p, macs;
      g_autofree char *ps = NULL, *ms = NULL;
      xc_model_totals (r->model[k]->model, &p, NULL, &macs, NULL, NULL);
      ps = xc_format_count (p), ms = xc_format_count (macs);
      g_string_append_printf (table, "%-4c %14s %16s %12.2f %10.1f %14.3f %14.3f\n", 'A' + k, ps,
                              ms, r->cost[k].latency_ms, r->cost[k].memory_bytes / 1048576.0,
                              r->faithfulness[k]->deletion_auc,
                              r->faithfulness[k]->insertion_auc);
    }
  gtk_label_set_text (self->compare_table_label, table->str);
}

static void
on_compared_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  XsCompareResult *r = xs_inference_compare_finish (XS_INFERENCE (source), result, &error);

  set_busy (self, -1, NULL);
  if (finish_failed (self, r, error))
    return;
  g_clear_pointer (&self->compared, xs_compare_result_free);
  self->compared = r;
  show_compare (self);
  maybe_screenshot (self);
}

static void
request_compare (XsWindow *self)
{
  guint row = gtk_drop_down_get_selected (self->compare_model_dropdown);
  const char *spec_b = NULL;
  guint cls;
  XcMethod method;

  if (self->analysis == NULL || self->updating ||
      g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "compare") != 0)
    return;
  if (self->compare_image == NULL)
    {
      if (row >= self->specs->len)
        return;
      spec_b = self->specs->pdata[row];
    }
  method = gtk_drop_down_get_selected (self->method_dropdown);
  if (method >= XC_N_METHODS)
    method = XC_METHOD_GRADCAM;
  cls = gtk_drop_down_get_selected (self->class_dropdown);
  g_cancellable_cancel (self->compare_cancel);
  g_clear_object (&self->compare_cancel);
  self->compare_cancel = g_cancellable_new ();
  set_busy (self, +1, "Comparing…");
  xs_inference_compare_async (self->inference, self->model, spec_b, self->analysis->path,
                              self->compare_image, method,
                              cls == 0 || cls == GTK_INVALID_LIST_POSITION ? -1 : (int) cls - 1,
                              self->compare_cancel, on_compared_cb, g_object_ref (self));
}

static void
on_compare_setting_cb (XsWindow *self)
{
  request_compare (self);
}

static void
on_compare_image_response_cb (GtkNativeDialog *dialog, int response, XsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_free (self->compare_image);
      self->compare_image = g_file_get_path (file);
      gtk_widget_set_sensitive (GTK_WIDGET (self->compare_clear_button), TRUE);
      request_compare (self);
    }
  g_object_unref (dialog);
}

static void
on_compare_image_cb (XsWindow *self)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Second Image", GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_OPEN,
                                                              "_Open", "_Cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_compare_image_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_compare_clear_cb (XsWindow *self)
{
  g_clear_pointer (&self->compare_image, g_free);
  gtk_widget_set_sensitive (GTK_WIDGET (self->compare_clear_button), FALSE);
  request_compare (self);
}

static void
on_page_changed_cb (XsWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);

  if (g_strcmp0 (name, "compare") == 0 && self->compared == NULL)
    request_compare (self);
}


/* both models over a folder ------------------------------------------------- */

static GdkTexture *
texture_from_dataset (const XcDataset *ds, int i)
{
  size_t n = (size_t) ds->h * ds->w;
  g_autofree guint8 *rgb = g_new (guint8, n * 3);
  const guint8 *src = ds->pixels + (size_t) i * n * ds->c;

  for (size_t p = 0; p < n; p++)
    for (int k = 0; k < 3; k++)
      rgb[p * 3 + k] = src[p * ds->c + (ds->c == 3 ? k : 0)];
  return texture_from_rgb (rgb, ds->w, ds->h);
}

static const float *sort_probs;

static int
compare_by_conf (gconstpointer a, gconstpointer b)
{
  float x = sort_probs[*(const int *) a], y = sort_probs[*(const int *) b];
  return x > y ? -1 : x < y ? 1 : *(const int *) a - *(const int *) b;
}

static void
show_folder (XsWindow *self)
{
  XsFolderResult *r = self->folder;
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *txt = NULL, *acc0 = NULL, *acc1 = NULL;
  GtkWidget *child;
  guint sort = gtk_drop_down_get_selected (self->compare_sort_dropdown);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->compare_list))))
    gtk_list_box_remove (self->compare_list, child);
  if (r == NULL)
    return;
  acc0 = r->accuracy[0] >= 0 ? g_strdup_printf ("%.1f%%", 100 * r->accuracy[0])
                             : g_strdup ("n/a (labels differ)");
  acc1 = r->accuracy[1] >= 0 ? g_strdup_printf ("%.1f%%", 100 * r->accuracy[1])
                             : g_strdup ("n/a (labels differ)");
  txt = g_strdup_printf ("%d images: accuracy A %s, B %s; agreement %.1f%%; %d disagreements "
                         "listed below.", r->dataset->n, acc0, acc1, 100 * r->agreement,
                         r->n_disagree);
  gtk_label_set_text (self->compare_folder_label, txt);
  for (int i = 0; i < r->dataset->n; i++)
    if (!xc_compare_same_class (r->model[0]->model, r->top[0][i], r->model[1]->model,
                                r->top[1][i]))
      g_array_append_val (rows, i);
  if (sort < 2)
    {
      sort_probs = r->prob[sort];
      g_array_sort (rows, compare_by_conf);
    }
  for (guint j = 0; j < MIN (rows->len, 200u); j++)
    {
      int i = g_array_index (rows, int, j);
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      g_autoptr(GdkTexture) tex = texture_from_dataset (r->dataset, i);
      GtkWidget *pic = gtk_picture_new_for_paintable (GDK_PAINTABLE (tex));
      const char *la = xc_model_label (r->model[0]->model, r->top[0][i]);
      const char *lb = xc_model_label (r->model[1]->model, r->top[1][i]);
      g_autofree char *fa = g_strdup_printf ("class %d", r->top[0][i]);
      g_autofree char *fb = g_strdup_printf ("class %d", r->top[1][i]);
      g_autofree char *line = g_strdup_printf ("#%d   truth: %s   A: %s (%.1f%%)   B: %s (%.1f%%)",
                                               i,
                                               (char *) r->dataset->class_names->pdata[
                                                   r->dataset->labels[i]],
                                               la ? la : fa, 100 * r->prob[0][i], lb ? lb : fb,
                                               100 * r->prob[1][i]);
      gtk_widget_set_size_request (pic, 48, 48);
      gtk_box_append (GTK_BOX (box), pic);
      gtk_box_append (GTK_BOX (box), gtk_label_new (line));
      gtk_list_box_append (self->compare_list, box);
    }
}

static void
on_folder_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  XsFolderResult *r = xs_inference_compare_folder_finish (XS_INFERENCE (source), result, &error);

  set_busy (self, -1, NULL);
  if (r == NULL)
    {
      if (!g_error_matches (error, XC_ERROR, XC_ERROR_CANCELLED))
        show_error (self, error->message);
      return;
    }
  g_clear_pointer (&self->folder, xs_folder_result_free);
  self->folder = r;
  show_folder (self);
}

/**
 * xs_window_compare_folder:
 *
 * Runs the current model and the Compare view's model B over a folder of
 * class subfolders.
 */
void
xs_window_compare_folder (XsWindow *self, const char *folder)
{
  guint row = gtk_drop_down_get_selected (self->compare_model_dropdown);

  if (self->model == NULL || row >= self->specs->len)
    return;
  g_cancellable_cancel (self->folder_cancel);
  g_clear_object (&self->folder_cancel);
  self->folder_cancel = g_cancellable_new ();
  gtk_label_set_text (self->compare_folder_label, "Running both models over the folder…");
  set_busy (self, +1, "Comparing on a folder…");
  xs_inference_compare_folder_async (self->inference, self->model, self->specs->pdata[row], folder,
                                     self->folder_cancel, on_folder_done_cb,
                                     g_object_ref (self));
}

static void
on_folder_response_cb (GtkNativeDialog *dialog, int response, XsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path)
        xs_window_compare_folder (self, path);
    }
  g_object_unref (dialog);
}

static void
on_compare_folder_cb (XsWindow *self)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Folder of Class Subfolders",
                                                              GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                              "_Run", "_Cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_folder_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* column views ------------------------------------------------------------ */

static void
setup_cell_cb (GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), GPOINTER_TO_INT (data) >= XS_FIELD_TIME ? 1.0 : 0.0);
  gtk_list_item_set_child (item, label);
}

static void
bind_cell_cb (GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
  XsNodeRow *row = gtk_list_item_get_item (item);
  g_autofree char *text = xs_node_row_format (row, GPOINTER_TO_INT (data));
  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), text);
}

static int
compare_rows_cb (gconstpointer a, gconstpointer b, gpointer data)
{
  return xs_node_row_compare ((XsNodeRow *) a, (XsNodeRow *) b, GPOINTER_TO_INT (data));
}

static void
add_column (GtkColumnView *view, const char *title, XsField field, gboolean expand)
{
  GtkListItemFactory *f = gtk_signal_list_item_factory_new ();
  g_autoptr(GtkColumnViewColumn) col = NULL;
  g_autoptr(GtkSorter) sorter = NULL;

  g_signal_connect (f, "setup", G_CALLBACK (setup_cell_cb), GINT_TO_POINTER (field));
  g_signal_connect (f, "bind", G_CALLBACK (bind_cell_cb), GINT_TO_POINTER (field));
  col = gtk_column_view_column_new (title, f);
  sorter = GTK_SORTER (gtk_custom_sorter_new (compare_rows_cb, GINT_TO_POINTER (field), NULL));
  gtk_column_view_column_set_sorter (col, sorter);
  gtk_column_view_column_set_expand (col, expand);
  gtk_column_view_column_set_resizable (col, TRUE);
  gtk_column_view_append_column (view, col);
}

static gboolean
is_layer_row (gpointer item, gpointer data)
{
  return XS_NODE_ROW (item)->index != ORIGINAL_ROW;
}

static GtkSingleSelection *
setup_view (XsWindow *self, GtkColumnView *view, GtkFilter *filter)
{
  GListModel *model = G_LIST_MODEL (g_object_ref (self->rows));
  GtkSortListModel *sorted;
  GtkSingleSelection *sel;

  if (filter)
    model = G_LIST_MODEL (gtk_filter_list_model_new (model, filter));
  sorted = gtk_sort_list_model_new (model, g_object_ref (gtk_column_view_get_sorter (view)));
  sel = gtk_single_selection_new (G_LIST_MODEL (sorted));
  gtk_single_selection_set_autoselect (sel, TRUE);
  gtk_column_view_set_model (view, GTK_SELECTION_MODEL (sel));
  return sel;
}

/* actions ----------------------------------------------------------------- */

static void
on_open_image_response_cb (GtkNativeDialog *dialog, int response, XsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path)
        xs_window_open_image (self, path);
    }
  g_object_unref (dialog);
}

static void
open_image_action (GtkWidget *widget, const char *name, GVariant *param)
{
  XsWindow *self = XS_WINDOW (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Open Image", GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_OPEN,
                                                              "_Open", "_Cancel");
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "Images");
  gtk_file_filter_add_pixbuf_formats (filter);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_image_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_open_model_response_cb (GtkNativeDialog *dialog, int response, XsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path)
        xs_window_add_model (self, path, TRUE);
    }
  g_object_unref (dialog);
}

static void
open_model_action (GtkWidget *widget, const char *name, GVariant *param)
{
  XsWindow *self = XS_WINDOW (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Open Keras Model",
                                                              GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_OPEN,
                                                              "_Open", "_Cancel");
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "Keras HDF5 models");
  gtk_file_filter_add_pattern (filter, "*.h5");
  gtk_file_filter_add_pattern (filter, "*.hdf5");
  gtk_file_filter_add_pattern (filter, "*.keras.h5");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_model_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
open_recent_action (GtkWidget *widget, const char *name, GVariant *param)
{
  xs_window_open_image (XS_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
on_paste_texture_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) tex = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (source), result,
                                                                 &error);
  g_autofree char *dir = NULL, *path = NULL;

  if (tex == NULL)
    {
      show_error (self, "The clipboard holds no image");
      return;
    }
  dir = g_build_filename (g_get_user_cache_dir (), "xception-studio", NULL);
  g_mkdir_with_parents (dir, 0700);
  path = g_build_filename (dir, "pasted.png", NULL);
  if (!gdk_texture_save_to_png (tex, path))
    {
      show_error (self, "Cannot save the pasted image");
      return;
    }
  xs_window_open_image (self, path);
}

static void
paste_image_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gdk_clipboard_read_texture_async (gtk_widget_get_clipboard (widget), NULL, on_paste_texture_cb,
                                    g_object_ref (widget));
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  XsWindow *self = XS_WINDOW (widget);

  g_cancellable_cancel (self->analyze_cancel);
  g_cancellable_cancel (self->explain_cancel);
  g_cancellable_cancel (self->load_cancel);
}

static void
dismiss_banner_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_revealer_set_reveal_child (XS_WINDOW (widget)->banner_revealer, FALSE);
}

static void
view_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_stack_set_visible_child_name (XS_WINDOW (widget)->stack, g_variant_get_string (param, NULL));
}

static void
on_export_response_cb (GtkNativeDialog *dialog, int response, XsWindow *self)
{
  const char *kind = g_object_get_data (G_OBJECT (dialog), "kind");

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      if (path && !xs_window_export (self, kind, path, &error))
        show_error (self, error->message);
    }
  g_object_unref (dialog);
}

static void
export_action (GtkWidget *widget, const char *name, GVariant *param)
{
  XsWindow *self = XS_WINDOW (widget);
  const char *kind = g_variant_get_string (param, NULL);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Export", GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_SAVE,
                                                              "_Save", "_Cancel");
  const char *ext = g_str_has_suffix (kind, "csv") ? "csv" : g_str_has_suffix (kind, "json")
                    ? "json" : g_str_equal (kind, "report") ? "pdf" : "png";
  g_autofree char *suggest = g_strdup_printf ("%s.%s", kind, ext);

  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), suggest);
  g_object_set_data_full (G_OBJECT (dialog), "kind", g_strdup (kind), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* export ------------------------------------------------------------------ */

static char *
csv_field (const char *s)
{
  if (s == NULL)
    return g_strdup ("");
  if (strpbrk (s, ",\"\n") == NULL)
    return g_strdup (s);
  {
    g_auto(GStrv) parts = g_strsplit (s, "\"", -1);
    g_autofree char *joined = g_strjoinv ("\"\"", parts);
    return g_strdup_printf ("\"%s\"", joined);
  }
}

/**
 * xs_window_export:
 * @kind: overlay, grid, predictions-csv, predictions-json, costs-csv, costs-json
 */
gboolean
xs_window_export (XsWindow *self, const char *kind, const char *path, GError **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  const XcModel *m = self->model ? self->model->model : NULL;

  if (g_str_equal (kind, "overlay"))
    {
      if (self->overlay_rgb == NULL)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "no explanation to export yet");
          return FALSE;
        }
      return xc_write_png_rgb (path, self->overlay_rgb, self->overlay_w, self->overlay_h, error);
    }
  if (g_str_equal (kind, "grid"))
    return xs_feature_grid_save_png (self->feature_grid, path, error);
  if (g_str_equal (kind, "report"))
    {
      XcReport r = { 0 };
      if (self->analysis == NULL || self->explained == NULL)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "nothing to report yet: open an image");
          return FALSE;
        }
      r.image = self->analysis->image;
      r.image_name = self->analysis->path;
      r.a.model = self->model->model;
      r.a.probs = self->analysis->probs;
      r.a.explanation = self->explained->explanation;
      r.a.faithfulness = self->explained->faithfulness;
      r.a.cost.latency_ms = self->analysis->time_ms;
      r.a.cost.memory_bytes = self->model->model->slab_size * sizeof (float) +
                              xc_plan_arena_bytes (self->analysis->plan);
      if (self->compared && self->compare_image == NULL)
        {
          r.b.model = self->compared->model[1]->model;
          r.b.probs = self->compared->probs[1];
          r.b.explanation = self->compared->explanation[1];
          r.b.faithfulness = self->compared->faithfulness[1];
          r.b.cost = self->compared->cost[1];
        }
      return xc_report_write_pdf (&r, path, error);
    }
  if (m == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "no model loaded");
      return FALSE;
    }
  if (g_str_has_prefix (kind, "predictions"))
    {
      gboolean json = g_str_has_suffix (kind, "json");
      if (self->analysis == NULL)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "no predictions yet: open an image");
          return FALSE;
        }
      if (json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();
          g_autoptr(JsonGenerator) gen = json_generator_new ();
          g_autoptr(JsonNode) root = NULL;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "model");
          json_builder_add_string_value (b, m->name);
          json_builder_set_member_name (b, "input");
          json_builder_add_string_value (b, self->analysis->path);
          json_builder_set_member_name (b, "time_ms");
          json_builder_add_double_value (b, self->analysis->time_ms);
          json_builder_set_member_name (b, "classes");
          json_builder_begin_array (b);
          for (int c = 0; c < self->analysis->classes; c++)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "index");
              json_builder_add_int_value (b, c);
              json_builder_set_member_name (b, "label");
              if (xc_model_label (m, c))
                json_builder_add_string_value (b, xc_model_label (m, c));
              else
                json_builder_add_null_value (b);
              json_builder_set_member_name (b, "probability");
              json_builder_add_double_value (b, self->analysis->probs[c]);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
          root = json_builder_get_root (b);
          json_generator_set_root (gen, root);
          json_generator_set_pretty (gen, TRUE);
          return json_generator_to_file (gen, path, error);
        }
      g_string_append (out, "index,label,probability\n");
      for (int c = 0; c < self->analysis->classes; c++)
        {
          g_autofree char *l = csv_field (xc_model_label (m, c));
          g_string_append_printf (out, "%d,%s,%.8g\n", c, l, self->analysis->probs[c]);
        }
      return g_file_set_contents (path, out->str, out->len, error);
    }
  if (g_str_has_prefix (kind, "costs"))
    {
      gboolean json = g_str_has_suffix (kind, "json");
      guint64 p, t, macs, sp, sm;
      xc_model_totals (m, &p, &t, &macs, &sp, &sm);
      if (json)
        {
          /* the same summary as xception-cli summary --json */
          g_autoptr(JsonGenerator) gen = json_generator_new ();
          g_autoptr(JsonNode) root = xc_model_summary_json (m, NULL);
          json_generator_set_root (gen, root);
          json_generator_set_pretty (gen, TRUE);
          return json_generator_to_file (gen, path, error);
        }
      g_string_append (out, "name,type,output_shape,params,macs,standard_params,standard_macs,"
                            "ratio\n");
      for (guint i = 0; i < xc_model_n_nodes (m); i++)
        {
          const XcNode *n = xc_model_node (m, i);
          g_autofree char *shape = shape_string (n);
          g_autofree char *qs = csv_field (shape);
          g_string_append_printf (out, "%s,%s,%s,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
                                  ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%.4f\n",
                                  n->name, n->keras_class, qs, n->n_weights, n->macs,
                                  n->std_params, n->std_macs,
                                  n->macs ? (double) n->std_macs / n->macs : 0.0);
        }
      g_string_append_printf (out, "total,,,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
                              ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%.4f\n", p, macs, sp,
                              sm, macs ? (double) sm / macs : 0.0);
      return g_file_set_contents (path, out->str, out->len, error);
    }
  g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "unknown export '%s'", kind);
  return FALSE;
}

/* screenshots --------------------------------------------------------------- */

/**
 * xs_window_save_screenshot:
 *
 * Renders the window as it is now into a PNG.
 */
gboolean
xs_window_save_screenshot (XsWindow *self, const char *path, GError **error)
{
  GtkWidget *w = GTK_WIDGET (self);
  int width = gtk_widget_get_width (w), height = gtk_widget_get_height (w);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (w);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) tex = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (self));

  if (width <= 0 || height <= 0 || renderer == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FAILED, "the window is not shown yet");
      return FALSE;
    }
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FAILED, "nothing was drawn");
      return FALSE;
    }
  tex = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (tex, path))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot write the screenshot", path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
take_screenshot_cb (gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (self->screenshot_path == NULL || self->busy > 0)
    return G_SOURCE_REMOVE;
  path = g_steal_pointer (&self->screenshot_path);
  if (!xs_window_save_screenshot (self, path, &error))
    g_printerr ("xception-studio: %s\n", error->message);
  else
    g_print ("xception-studio: wrote %s\n", path);
  gtk_window_destroy (GTK_WINDOW (self));
  return G_SOURCE_REMOVE;
}

/**
 * xs_window_screenshot_when_done:
 *
 * Once no engine work is pending, renders the window to @path and closes it.
 */
void
xs_window_screenshot_when_done (XsWindow *self, const char *path)
{
  /* client-side decorations take a few pixels: keep the content >= 1280x800 */
  gtk_window_set_default_size (GTK_WINDOW (self), 1290, 812);
  g_free (self->screenshot_path);
  self->screenshot_path = g_strdup (path);
  maybe_screenshot (self);
}

/* the request from the command line --------------------------------------- */

/**
 * xs_window_apply_request:
 * @request: (nullable): view, layer, method and class to show; %NULL applies
 *   what is still pending once a model is loaded
 */
void
xs_window_apply_request (XsWindow *self, const XsWindowRequest *request)
{
  XsWindowRequest *p = &self->pending;

  if (request != NULL)
    {
      g_free (p->view);
      g_free (p->layer);
      g_free (p->method);
      p->view = g_strdup (request->view);
      p->layer = g_strdup (request->layer);
      p->method = g_strdup (request->method);
      p->class_index = request->class_index;
      if (request->compare_model)
        {
          g_free (p->compare_model);
          p->compare_model = g_strdup (request->compare_model);
        }
    }
  if (p->compare_model)
    {
      /* into the model list, selected as B, without loading it as A */
      g_autofree char *spec = g_steal_pointer (&p->compare_model);
      guint at = G_MAXUINT;
      xs_window_add_model (self, spec, FALSE);
      for (guint i = 0; i < self->specs->len; i++)
        if (g_str_equal (self->specs->pdata[i], spec))
          at = i;
      self->updating = TRUE;
      gtk_drop_down_set_selected (self->compare_model_dropdown, at);
      self->updating = FALSE;
    }
  if (p->view)
    gtk_stack_set_visible_child_name (self->stack, p->view);
  if (p->method)
    {
      XcMethod mth;
      if (xc_method_from_string (p->method, &mth))
        gtk_drop_down_set_selected (self->method_dropdown, mth);
      else
        {
          g_autofree char *msg = g_strdup_printf ("Unknown explanation method '%s'", p->method);
          show_error (self, msg);
        }
      g_clear_pointer (&p->method, g_free);
    }
  if (self->model == NULL)
    return;
  self->updating = TRUE;
  if (p->layer)
    {
      guint idx;
      gboolean found = FALSE;
      g_autoptr(GError) error = NULL;
      if (xc_model_lookup (self->model->model, p->layer, &idx, &error))
        for (guint r = 0; r < self->layer_ids->len; r++)
          if (g_array_index (self->layer_ids, guint, r) == idx)
            {
              gtk_drop_down_set_selected (self->layer_dropdown, r);
              found = TRUE;
            }
      if (!found)
        {
          g_autofree char *msg = error ? g_strdup (error->message)
                                       : g_strdup_printf ("Layer '%s' has no spatial output to "
                                                          "explain", p->layer);
          show_error (self, msg);
        }
      else
        {
          /* the feature view shows that layer too */
          self->feature_node = idx;
          select_feature_node (self);
        }
      g_clear_pointer (&p->layer, g_free);
    }
  if (p->class_index >= 0)
    {
      guint n = g_list_model_get_n_items (gtk_drop_down_get_model (self->class_dropdown));
      if ((guint) p->class_index + 1 < n)
        gtk_drop_down_set_selected (self->class_dropdown, p->class_index + 1);
      else
        {
          g_autofree char *msg = g_strdup_printf ("Class %d is out of range (0 to %u)",
                                                  p->class_index, n - 2);
          show_error (self, msg);
        }
      p->class_index = -1;
    }
  self->updating = FALSE;
  request_explanation (self);
}

/* drag and drop ------------------------------------------------------------ */

static gboolean
on_drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, XsWindow *self)
{
  GSList *files;
  g_autofree char *path = NULL;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = g_value_get_boxed (value);
  if (files == NULL)
    return FALSE;
  path = g_file_get_path (files->data);
  if (path == NULL)
    return FALSE;
  if (g_str_has_suffix (path, ".h5") || g_str_has_suffix (path, ".hdf5"))
    xs_window_add_model (self, path, TRUE);
  else
    xs_window_open_image (self, path);
  return TRUE;
}

/* lifecycle --------------------------------------------------------------- */

static gboolean
xs_window_close_request (GtkWindow *window)
{
  XsWindow *self = XS_WINDOW (window);

  cancel_action (GTK_WIDGET (self), NULL, NULL);
  if (self->screenshot_path == NULL)
    save_state (self);
  return GTK_WINDOW_CLASS (xs_window_parent_class)->close_request (window);
}

static void
xs_window_dispose (GObject *object)
{
  XsWindow *self = XS_WINDOW (object);

  cancel_action (GTK_WIDGET (self), NULL, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), XS_TYPE_WINDOW);
  g_clear_object (&self->inference);
  g_clear_object (&self->load_cancel);
  g_clear_object (&self->analyze_cancel);
  g_clear_object (&self->explain_cancel);
  g_cancellable_cancel (self->compare_cancel);
  g_cancellable_cancel (self->measure_cancel);
  g_clear_object (&self->compare_cancel);
  g_clear_object (&self->measure_cancel);
  g_clear_pointer (&self->compared, xs_compare_result_free);
  g_cancellable_cancel (self->folder_cancel);
  g_clear_object (&self->folder_cancel);
  g_clear_pointer (&self->folder, xs_folder_result_free);
  g_clear_object (&self->features_selection);
  g_clear_object (&self->costs_selection);
  g_clear_object (&self->rows);
  g_clear_object (&self->model_names);
  g_clear_pointer (&self->analysis, xs_analysis_unref);
  g_clear_pointer (&self->explained, xs_explain_result_free);
  g_clear_pointer (&self->model, xs_model_unref);
  G_OBJECT_CLASS (xs_window_parent_class)->dispose (object);
}

static void
xs_window_finalize (GObject *object)
{
  XsWindow *self = XS_WINDOW (object);

  g_ptr_array_unref (self->specs);
  g_ptr_array_unref (self->recent);
  g_array_unref (self->layer_ids);
  g_array_unref (self->sep_ids);
  g_free (self->dw_out);
  g_free (self->compare_image);
  g_free (self->pending.compare_model);
  g_free (self->image_path);
  g_free (self->last_error);
  g_free (self->screenshot_path);
  g_free (self->overlay_rgb);
  g_free (self->pending.view);
  g_free (self->pending.layer);
  g_free (self->pending.method);
  G_OBJECT_CLASS (xs_window_parent_class)->finalize (object);
}

static void
xs_window_class_init (XsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = xs_window_dispose;
  object_class->finalize = xs_window_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = xs_window_close_request;

  g_type_ensure (XS_TYPE_BARS);
  g_type_ensure (XS_TYPE_FEATURE_GRID);
  g_type_ensure (XS_TYPE_COST_CHART);
  g_type_ensure (XS_TYPE_ARCH_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xceptionstudio/XceptionStudio/ui/xs-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, XsWindow, name)
  BIND (model_dropdown);
  BIND (spinner);
  BIND (status_label);
  BIND (cancel_button);
  BIND (banner_revealer);
  BIND (banner_label);
  BIND (image_picture);
  BIND (image_label);
  BIND (model_info_label);
  BIND (top_label);
  BIND (stack);
  BIND (bars);
  BIND (predictions_heading);
  BIND (predictions_note);
  BIND (features_search);
  BIND (features_view);
  BIND (feature_title);
  BIND (feature_cmap_dropdown);
  BIND (shared_scale_check);
  BIND (sort_check);
  BIND (grid_back_button);
  BIND (feature_grid);
  BIND (feature_stats_label);
  BIND (method_dropdown);
  BIND (layer_dropdown);
  BIND (class_dropdown);
  BIND (cmap_dropdown);
  BIND (counterfactual_check);
  BIND (opacity_scale);
  BIND (overlay_picture);
  BIND (raw_picture);
  BIND (explain_info_label);
  BIND (faithfulness_label);
  BIND (totals_label);
  BIND (costs_view);
  BIND (cost_chart);
  BIND (formula_label);
  BIND (recent_submenu);
  BIND (arch_view);
  BIND (arch_label);
  BIND (zoom_in_button);
  BIND (zoom_out_button);
  BIND (zoom_reset_button);
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
  BIND (compare_model_dropdown);
  BIND (compare_image_button);
  BIND (compare_clear_button);
  BIND (compare_summary_label);
  BIND (compare_title_a);
  BIND (compare_title_b);
  BIND (compare_bars_a);
  BIND (compare_bars_b);
  BIND (compare_overlay_a);
  BIND (compare_overlay_b);
  BIND (compare_table_label);
  BIND (compare_folder_button);
  BIND (compare_sort_dropdown);
  BIND (compare_folder_label);
  BIND (compare_list);
#undef BIND

  gtk_widget_class_install_action (widget_class, "win.open-image", NULL, open_image_action);
  gtk_widget_class_install_action (widget_class, "win.open-model", NULL, open_model_action);
  gtk_widget_class_install_action (widget_class, "win.open-recent", "s", open_recent_action);
  gtk_widget_class_install_action (widget_class, "win.paste-image", NULL, paste_image_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-banner", NULL,
                                   dismiss_banner_action);
  gtk_widget_class_install_action (widget_class, "win.view", "s", view_action);
  gtk_widget_class_install_action (widget_class, "win.export", "s", export_action);
}

static GtkStringList *
string_list (const char *const *items, guint n)
{
  GtkStringList *l = gtk_string_list_new (NULL);
  for (guint i = 0; i < n; i++)
    gtk_string_list_append (l, items[i]);
  return l;
}

static void
restore_state (XsWindow *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = state_path ();
  g_auto(GStrv) recent = NULL, models = NULL;
  int w, h;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return;
  w = g_key_file_get_integer (kf, "window", "width", NULL);
  h = g_key_file_get_integer (kf, "window", "height", NULL);
  if (w >= 640 && h >= 480 && w <= 16384 && h <= 16384)
    gtk_window_set_default_size (GTK_WINDOW (self), w, h);
  if (g_key_file_get_boolean (kf, "window", "maximized", NULL))
    gtk_window_maximize (GTK_WINDOW (self));
  recent = g_key_file_get_string_list (kf, "recent", "images", NULL, NULL);
  for (guint i = 0; recent && recent[i] && i < 8; i++)
    if (g_file_test (recent[i], G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add (self->recent, g_strdup (recent[i]));
  update_recent_menu (self);
  models = g_key_file_get_string_list (kf, "models", "opened", NULL, NULL);
  for (guint i = 0; models && models[i]; i++)
    if (g_file_test (models[i], G_FILE_TEST_IS_REGULAR))
      xs_window_add_model (self, models[i], FALSE);
}

static void
xs_window_init (XsWindow *self)
{
  g_autoptr(GtkStringList) methods = string_list (xc_method_titles (), XC_N_METHODS);
  g_autoptr(GtkStringList) c1 = string_list (xc_colormap_names (), XC_N_COLORMAPS);
  g_autoptr(GtkStringList) c2 = string_list (xc_colormap_names (), XC_N_COLORMAPS);
  g_autoptr(GtkStringFilter) filter = NULL;
  GtkDropTarget *drop;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->inference = xs_inference_new ();
  self->specs = g_ptr_array_new_with_free_func (g_free);
  self->recent = g_ptr_array_new_with_free_func (g_free);
  self->layer_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  self->sep_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  self->model_names = gtk_string_list_new (NULL);
  self->rows = g_list_store_new (XS_TYPE_NODE_ROW);
  self->pending.class_index = -1;

  gtk_drop_down_set_model (self->model_dropdown, G_LIST_MODEL (self->model_names));
  gtk_drop_down_set_model (self->compare_model_dropdown, G_LIST_MODEL (self->model_names));
  gtk_drop_down_set_expression (self->sep_layer_dropdown,
                                gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL,
                                                             "string"));
  gtk_drop_down_set_model (self->method_dropdown, G_LIST_MODEL (methods));
  gtk_drop_down_set_model (self->cmap_dropdown, G_LIST_MODEL (c1));
  gtk_drop_down_set_model (self->feature_cmap_dropdown, G_LIST_MODEL (c2));
  gtk_drop_down_set_selected (self->feature_cmap_dropdown, XC_COLORMAP_VIRIDIS);
  gtk_drop_down_set_expression (self->layer_dropdown,
                                gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL,
                                                             "string"));
  gtk_drop_down_set_expression (self->class_dropdown,
                                gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL,
                                                             "string"));

  add_column (self->features_view, "Layer", XS_FIELD_NAME, TRUE);
  add_column (self->features_view, "Type", XS_FIELD_TYPE, FALSE);
  add_column (self->features_view, "Output", XS_FIELD_SHAPE, FALSE);
  add_column (self->features_view, "ms", XS_FIELD_TIME, FALSE);
  add_column (self->features_view, "Params", XS_FIELD_PARAMS, FALSE);
  add_column (self->features_view, "MACs", XS_FIELD_MACS, FALSE);
  add_column (self->features_view, "Zeros", XS_FIELD_ZEROS, FALSE);
  add_column (self->costs_view, "Layer", XS_FIELD_NAME, TRUE);
  add_column (self->costs_view, "Type", XS_FIELD_TYPE, FALSE);
  add_column (self->costs_view, "Output", XS_FIELD_SHAPE, FALSE);
  add_column (self->costs_view, "Params", XS_FIELD_PARAMS, FALSE);
  add_column (self->costs_view, "MACs", XS_FIELD_MACS, FALSE);
  add_column (self->costs_view, "Std params", XS_FIELD_STD_PARAMS, FALSE);
  add_column (self->costs_view, "Std MACs", XS_FIELD_STD_MACS, FALSE);
  add_column (self->costs_view, "Ratio", XS_FIELD_RATIO, FALSE);

  filter = gtk_string_filter_new (gtk_property_expression_new (XS_TYPE_NODE_ROW, NULL,
                                                               "search-text"));
  gtk_string_filter_set_match_mode (filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
  g_object_bind_property (self->features_search, "text", filter, "search", G_BINDING_DEFAULT);
  self->features_selection = setup_view (self, self->features_view,
                                         GTK_FILTER (g_steal_pointer (&filter)));
  self->costs_selection = setup_view (self, self->costs_view,
                                      GTK_FILTER (gtk_custom_filter_new (is_layer_row, NULL,
                                                                         NULL)));

  g_signal_connect_object (self->model_dropdown, "notify::selected",
                           G_CALLBACK (on_model_selected_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->method_dropdown, "notify::selected",
                           G_CALLBACK (on_explain_setting_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->layer_dropdown, "notify::selected",
                           G_CALLBACK (on_explain_setting_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->class_dropdown, "notify::selected",
                           G_CALLBACK (on_explain_setting_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->counterfactual_check, "toggled",
                           G_CALLBACK (on_explain_setting_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->cmap_dropdown, "notify::selected",
                           G_CALLBACK (on_render_setting_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->opacity_scale, "value-changed",
                           G_CALLBACK (on_render_setting_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->bars, "activated", G_CALLBACK (on_bars_activated_cb), self, 0);
  g_signal_connect_object (self->features_selection, "notify::selected",
                           G_CALLBACK (show_feature), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->costs_selection, "notify::selected",
                           G_CALLBACK (show_formula), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->feature_cmap_dropdown, "notify::selected",
                           G_CALLBACK (on_feature_options_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->shared_scale_check, "toggled",
                           G_CALLBACK (on_feature_options_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->sort_check, "toggled", G_CALLBACK (on_feature_options_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->feature_grid, "channel-activated",
                           G_CALLBACK (on_channel_activated_cb), self, 0);
  g_signal_connect_object (self->grid_back_button, "clicked", G_CALLBACK (on_grid_back_cb), self,
                           G_CONNECT_SWAPPED);
  on_feature_options_cb (self);
  g_signal_connect_object (self->arch_view, "node-activated", G_CALLBACK (on_arch_node_cb), self,
                           0);
  g_signal_connect_object (self->zoom_in_button, "clicked", G_CALLBACK (on_zoom_cb), self, 0);
  g_signal_connect_object (self->zoom_out_button, "clicked", G_CALLBACK (on_zoom_cb), self, 0);
  g_signal_connect_object (self->zoom_reset_button, "clicked", G_CALLBACK (on_zoom_cb), self, 0);
  g_signal_connect_object (self->sep_layer_dropdown, "notify::selected",
                           G_CALLBACK (on_sep_layer_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->step_y_spin, "value-changed", G_CALLBACK (update_step), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->step_x_spin, "value-changed", G_CALLBACK (update_step), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->step_c_spin, "value-changed", G_CALLBACK (update_step), self,
                           G_CONNECT_SWAPPED);
  {
    GtkSpinButton *spins[] = { self->calc_cin, self->calc_cout, self->calc_k, self->calc_h,
                               self->calc_w, self->calc_stride, self->calc_dm };
    for (guint i = 0; i < G_N_ELEMENTS (spins); i++)
      g_signal_connect_object (spins[i], "value-changed", G_CALLBACK (update_calculator), self,
                               G_CONNECT_SWAPPED);
  }
  g_signal_connect_object (self->calc_measure_button, "clicked", G_CALLBACK (on_measure_cb),
                           self, G_CONNECT_SWAPPED);
  update_calculator (self);
  g_signal_connect_object (self->compare_model_dropdown, "notify::selected",
                           G_CALLBACK (on_compare_setting_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->compare_image_button, "clicked",
                           G_CALLBACK (on_compare_image_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->compare_clear_button, "clicked",
                           G_CALLBACK (on_compare_clear_cb), self, G_CONNECT_SWAPPED);
  {
    static const char *sorts[] = { "Most confident A first", "Most confident B first",
                                    "In folder order" };
    g_autoptr(GtkStringList) l = string_list (sorts, G_N_ELEMENTS (sorts));
    gtk_drop_down_set_model (self->compare_sort_dropdown, G_LIST_MODEL (l));
  }
  g_signal_connect_object (self->compare_sort_dropdown, "notify::selected",
                           G_CALLBACK (show_folder), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->compare_folder_button, "clicked",
                           G_CALLBACK (on_compare_folder_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->stack, "notify::visible-child",
                           G_CALLBACK (on_page_changed_cb), self, G_CONNECT_SWAPPED);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  restore_state (self);
}

XsWindow *
xs_window_new (GtkApplication *app)
{
  return g_object_new (XS_TYPE_WINDOW, "application", app, NULL);
}

gboolean
xs_window_is_busy (XsWindow *self)
{
  return self->busy > 0;
}

XsAnalysis *
xs_window_get_analysis (XsWindow *self)
{
  return self->analysis;
}

const XcExplanation *
xs_window_get_explanation (XsWindow *self)
{
  return self->explained ? self->explained->explanation : NULL;
}

const XsFolderResult *
xs_window_get_folder_result (XsWindow *self)
{
  return self->folder;
}

guint
xs_window_get_n_arch_nodes (XsWindow *self)
{
  return xs_arch_view_get_n_nodes (self->arch_view);
}

const XsCompareResult *
xs_window_get_compare (XsWindow *self)
{
  return self->compared;
}

const char *
xs_window_get_last_error (XsWindow *self)
{
  return self->last_error;
}
