/* SPDX-License-Identifier: MIT
 *
 * XsExplainView: one explanation of the analysis. Method, layer, class and
 * counterfactual choose it; the heatmap over the image (opacity, colour
 * map) and the raw map show it; its faithfulness figures follow from a
 * second worker task. A newer request cancels the older one.
 */
#define G_LOG_DOMAIN "xs-explain-view"

#include <math.h>
#include <string.h>

#include "xs-explain-view.h"
#include "xs-overlay.h"
#include "xs-util.h"

struct _XsExplainView {
  XsView           parent_instance;

  /* template widgets */
  GtkDropDown     *method_dropdown;
  GtkDropDown     *layer_dropdown;
  GtkDropDown     *class_dropdown;
  GtkCheckButton  *counterfactual_check;
  GtkDropDown     *cmap_dropdown;
  GtkScale        *opacity_scale;
  GtkPicture      *overlay_picture;
  GtkPicture      *colorbar_picture;
  GtkLabel        *colorbar_label;
  GtkDropDown     *over_dropdown;
  GtkCheckButton  *grid_check;
  GtkPicture      *raw_picture;
  GtkLabel        *explain_info_label;
  GtkLabel        *faithfulness_label;

  /* owned */
  XsExplainResult *explained;
  GArray          *layer_ids;      /* node index per layer_dropdown row */
  XcImage         *display;        /* the analysis' image scaled to DISPLAY_MAX, if larger */
  GPtrArray       *regions;        /* XcRegion: ground-truth boxes, or NULL */
  GCancellable    *cancel;
  guint            refresh_source;  /* an idle refresh is pending */
  GdkFrameClock   *paint_clock;     /* owned: ... or waits for this clock's next paint */
  gulong           paint_handler;
  XsModel         *lists_model;     /* owned: the drop-downs wait to list its layers/classes */
  guint            lists_source;    /* ... until this fires, or an analysis comes first */
  gboolean         updating;
};

G_DEFINE_FINAL_TYPE (XsExplainView, xs_explain_view, XS_TYPE_VIEW)

/* The overlay is drawn at most this large (a 2048x1536 photo: 4x fewer
 * pixels to colour and blend on every change); exports are full size */
#define DISPLAY_MAX 1024
#define DISPLAY_MIN 448

enum {
  TARGET_CHANGED,
  EXPLAINED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void fill_lists (XsExplainView *self);

static void cancel_pending_refresh (XsExplainView *self);

static void
render_raw (XsExplainView *self)
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
  tex = xs_texture_from_rgb (rgb, w, h);
  gtk_picture_set_paintable (self->raw_picture, GDK_PAINTABLE (tex));
}

static void
render_colorbar (XsExplainView *self, const XcExplanation *e, XcColormap cmap,
                 const char *note)
{
  xs_colorbar_show (self->colorbar_picture, self->colorbar_label, e->map, e->map_h, e->map_w,
                    cmap, note);
}

static void
render_overlay (XsExplainView *self)
{
  XsAnalysis *a = xs_view_get_analysis (XS_VIEW (self));
  const XcExplanation *e;
  const XcImage *img;
  g_autoptr(XcImage) seen = NULL;
  g_autoptr(GdkTexture) tex = NULL;
  g_autofree guint8 *rgb = NULL;
  g_autofree char *truth_note = NULL;
  XcColormap cmap;

  if (self->explained == NULL || a == NULL)
    return;
  e = self->explained->explanation;
  /* large photos are drawn smaller, small inputs larger (so that the cell
   * grid and boxes are drawn at screen resolution) */
  if (self->display == NULL && (MAX (a->image->w, a->image->h) > DISPLAY_MAX ||
                                MAX (a->image->w, a->image->h) < DISPLAY_MIN))
    {
      double k = (double) (MAX (a->image->w, a->image->h) > DISPLAY_MAX ? DISPLAY_MAX
                                                                        : DISPLAY_MIN) /
                 MAX (a->image->w, a->image->h);
      int w = MAX (1, (int) lround (a->image->w * k)), h = MAX (1, (int) lround (a->image->h * k));
      self->display = xc_image_new (h, w, a->image->c);
      xc_image_resize (a->image, self->display);
    }
  img = self->display ? self->display : a->image;
  if (gtk_drop_down_get_selected (self->over_dropdown) == 1 && a->seen != NULL &&
      (seen = xs_overlay_enlarge (a->seen)) != NULL)
    img = seen;
  cmap = gtk_drop_down_get_selected (self->cmap_dropdown);
  rgb = xc_render_heatmap (e->map, e->map_h, e->map_w, img, img->h, img->w, cmap,
                           (float) gtk_range_get_value (GTK_RANGE (self->opacity_scale)));
  if (gtk_check_button_get_active (self->grid_check))
    xs_overlay_draw_cell_grid (rgb, img->w, img->h, e->map_w, e->map_h);
  if (self->regions != NULL && seen == NULL)
    truth_note = xs_overlay_draw_ground_truth (self->regions, a, e, rgb, img);
  tex = xs_texture_from_rgb (rgb, img->w, img->h);
  gtk_picture_set_paintable (self->overlay_picture, GDK_PAINTABLE (tex));
  render_colorbar (self, e, cmap, truth_note);
  render_raw (self);
}

/**
 * xs_explain_view_set_boxes:
 * @regions: (element-type XcRegion): ground truth from xc_boxes_read()
 */
void
xs_explain_view_set_boxes (XsExplainView *self, GPtrArray *regions)
{
  g_clear_pointer (&self->regions, g_ptr_array_unref);
  self->regions = g_ptr_array_ref (regions);
  render_overlay (self);
}

/**
 * xs_explain_view_set_overlay:
 * @over_input: draw over what the network saw instead of the original
 * @grid: draw the map's cells
 */
void
xs_explain_view_set_overlay (XsExplainView *self, gboolean over_input, gboolean grid)
{
  gtk_drop_down_set_selected (self->over_dropdown, over_input ? 1 : 0);
  gtk_check_button_set_active (self->grid_check, grid);
}

static void
on_faithfulness_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsExplainView) self = data;
  g_autoptr(GError) error = NULL;
  XcFaithfulness *f = xs_inference_faithfulness_finish (XS_INFERENCE (source), result, &error);
  g_autofree char *txt = NULL;

  if (xs_session_failed (xs_view_get_session (XS_VIEW (self)), f, error))
    return;
  if (self->explained == NULL)
    {
      xc_faithfulness_free (f);
      return;
    }
  xc_faithfulness_free (self->explained->faithfulness);
  self->explained->faithfulness = f;
  txt = g_strdup_printf ("Faithfulness\ndeletion AUC %.3f (lower is better)\ninsertion AUC %.3f "
                         "(higher is better)\naverage drop %.1f%%\nincrease in confidence: %s",
                         f->deletion_auc, f->insertion_auc, f->average_drop,
                         f->increase ? "yes" : "no");
  gtk_label_set_text (self->faithfulness_label, txt);
}

/* The deletion and insertion curves take one forward per step: say how far */
static void
on_faithfulness_progress_cb (guint done, guint total, gpointer data)
{
  XsExplainView *self = data;
  g_autofree char *txt = g_strdup_printf ("Faithfulness: measuring… %u of %u forward passes",
                                          done, total);

  gtk_label_set_text (self->faithfulness_label, txt);
  xs_session_progress (xs_view_get_session (XS_VIEW (self)), "Measuring faithfulness…",
                       (double) done / MAX (total, 1));
}

static void
on_explained_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsExplainView) self = data;
  g_autoptr(GError) error = NULL;
  XsExplainResult *r = xs_inference_explain_finish (XS_INFERENCE (source), result, &error);
  XsSession *session = xs_view_get_session (XS_VIEW (self));
  XsAnalysis *a = xs_view_get_analysis (XS_VIEW (self));
  const XcModel *m;
  const XcExplanation *e;
  const char *label;
  g_autofree char *info = NULL;

  if (xs_session_failed (session, r, error))
    return;
  if (a == NULL || r->explanation == NULL)
    {
      xs_explain_result_free (r);
      return;
    }
  g_clear_pointer (&self->explained, xs_explain_result_free);
  self->explained = r;
  m = a->model->model;
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
  g_signal_emit (self, signals[EXPLAINED], 0);
  /* the map shows now; its deletion/insertion curves follow */
  xs_session_begin (session, "Measuring faithfulness…");
  xs_inference_faithfulness_async (xs_session_get_inference (session), a, e,
                                   on_faithfulness_progress_cb, self, self->cancel,
                                   on_faithfulness_cb, g_object_ref (self));
}

/**
 * xs_explain_view_refresh:
 *
 * Explains the analysis with the chosen method, layer and class (the newest
 * request wins).
 */
void
xs_explain_view_refresh (XsExplainView *self)
{
  XsSession *session = xs_view_get_session (XS_VIEW (self));
  XsAnalysis *a = xs_view_get_analysis (XS_VIEW (self));
  XcExplainOptions o;
  guint row, cls;

  cancel_pending_refresh (self);
  fill_lists (self);
  if (a == NULL || self->updating)
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
  xs_session_set_target (session, o.method, o.target_class);
  g_signal_emit (self, signals[TARGET_CHANGED], 0, o.target_class);

  xs_session_restart (&self->cancel);
  xs_session_begin (session, "Explaining…");
  xs_inference_explain_async (xs_session_get_inference (session), a, &o, self->cancel,
                              on_explained_cb, g_object_ref (self));
}

void
xs_explain_view_cancel (XsExplainView *self)
{
  g_cancellable_cancel (self->cancel);
}

static void
on_explain_setting_cb (XsExplainView *self)
{
  xs_explain_view_refresh (self);
}

static void
on_render_setting_cb (XsExplainView *self)
{
  render_overlay (self);
}

/* The choices lists_model offers: its spatial layers (the default CAM
 * layer selected) and its classes. Filling them takes the main thread
 * 20-30 ms (GtkDropDown with 1,001 classes), which on two cores is taken
 * from the engine's threads: a new model's first image runs through the
 * network meanwhile, so they wait for its analysis (or 250 ms, when there
 * is no image) */
static void
fill_lists (XsExplainView *self)
{
  g_autoptr(GtkStringList) layers = NULL;
  g_autoptr(GtkStringList) classes = NULL;
  g_autoptr(XsModel) model = g_steal_pointer (&self->lists_model);
  gboolean was_updating = self->updating;
  const XcModel *m;
  const XcNode *out;
  guint def = 0, def_row = 0;

  if (model == NULL)
    return;
  g_clear_handle_id (&self->lists_source, g_source_remove);
  xs_session_end (xs_view_get_session (XS_VIEW (self)));
  layers = gtk_string_list_new (NULL);
  classes = gtk_string_list_new (NULL);
  m = model->model;
  out = xc_model_node (m, m->output);
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
  self->updating = was_updating;
}

static gboolean
lists_timeout_cb (gpointer data)
{
  XsExplainView *self = data;

  self->lists_source = 0;
  fill_lists (self);
  return G_SOURCE_REMOVE;
}

static void
xs_explain_view_model_changed (XsView *view, XsModel *model)
{
  XsExplainView *self = XS_EXPLAIN_VIEW (view);

  if (model == NULL)
    return;
  if (self->lists_model == NULL)
    {
      /* pending work: screenshots wait for it */
      xs_session_begin (xs_view_get_session (view), NULL);
      self->lists_source = g_timeout_add_full (G_PRIORITY_LOW, 250, lists_timeout_cb, self, NULL);
    }
  g_clear_pointer (&self->lists_model, xs_model_unref);
  self->lists_model = xs_model_ref (model);
}

static void
stop_waiting_for_paint (XsExplainView *self)
{
  if (self->paint_clock != NULL)
    g_clear_signal_handler (&self->paint_handler, self->paint_clock);
  g_clear_object (&self->paint_clock);
}

/* A pending refresh counts as work in progress (screenshots wait for it) */
static void
cancel_pending_refresh (XsExplainView *self)
{
  if (self->refresh_source == 0)
    return;
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  stop_waiting_for_paint (self);
  xs_session_end (xs_view_get_session (XS_VIEW (self)));
}

static gboolean
refresh_idle_cb (gpointer data)
{
  XsExplainView *self = data;

  self->refresh_source = 0;
  stop_waiting_for_paint (self);
  xs_explain_view_refresh (self);
  xs_session_end (xs_view_get_session (XS_VIEW (self)));
  return G_SOURCE_REMOVE;
}

/* The predictions are painted: the refresh (the lists first) may run */
static void
refresh_after_paint_cb (XsExplainView *self)
{
  stop_waiting_for_paint (self);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  self->refresh_source = g_idle_add (refresh_idle_cb, self);
}

static void
xs_explain_view_analysis_changed (XsView *view, XsAnalysis *a)
{
  XsExplainView *self = XS_EXPLAIN_VIEW (view);

  if (a != NULL)
    {
      /* once every page has taken the analysis and the predictions are
       * painted: on two cores the engine's threads would starve the UI's,
       * and the refresh first fills the lists (GtkDropDown makes the rows
       * of its list at once: 20-28 ms), which an idle callback would run
       * before GTK's next frame */
      if (self->refresh_source == 0)
        {
          GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

          xs_session_begin (xs_view_get_session (view), NULL);
          if (clock == NULL)
            {
              self->refresh_source = g_idle_add (refresh_idle_cb, self);
              return;
            }
          self->paint_clock = g_object_ref (clock);
          self->paint_handler = g_signal_connect_object (clock, "after-paint",
                                                         G_CALLBACK (refresh_after_paint_cb),
                                                         self, G_CONNECT_SWAPPED);
          gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_PAINT);
          /* a window that paints no frame (minimised) does not wait for one */
          self->refresh_source = g_timeout_add (250, refresh_idle_cb, self);
        }
      return;
    }
  cancel_pending_refresh (self);
  g_cancellable_cancel (self->cancel);
  g_clear_pointer (&self->explained, xs_explain_result_free);
  g_clear_pointer (&self->display, xc_image_free);
  gtk_picture_set_paintable (self->overlay_picture, NULL);
  gtk_picture_set_paintable (self->raw_picture, NULL);
  gtk_label_set_text (self->explain_info_label, "");
  gtk_label_set_text (self->faithfulness_label, "");
}

void
xs_explain_view_set_method (XsExplainView *self, XcMethod method)
{
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->method_dropdown, method);
  self->updating = FALSE;
}

/**
 * xs_explain_view_set_layer:
 * @node: (out): the layer's node index
 *
 * Returns: %FALSE, with @error, when the model has no such layer or it has no
 *   spatial output to explain
 */
gboolean
xs_explain_view_set_layer (XsExplainView *self, const char *name, guint *node, GError **error)
{
  XsModel *model = xs_view_get_model (XS_VIEW (self));

  if (model == NULL || !xc_model_lookup (model->model, name, node, error))
    return FALSE;
  fill_lists (self);
  for (guint r = 0; r < self->layer_ids->len; r++)
    if (g_array_index (self->layer_ids, guint, r) == *node)
      {
        self->updating = TRUE;
        gtk_drop_down_set_selected (self->layer_dropdown, r);
        self->updating = FALSE;
        return TRUE;
      }
  g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "Layer '%s' has no spatial output to explain",
               name);
  return FALSE;
}

/* The class to explain; -1: the top-1 class */
gboolean
xs_explain_view_set_target_class (XsExplainView *self, int class_index, GError **error)
{
  guint n;

  fill_lists (self);
  n = g_list_model_get_n_items (gtk_drop_down_get_model (self->class_dropdown));

  if (class_index + 1 >= (int) n)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "Class %d is out of range (0 to %d)",
                   class_index, (int) n - 2);
      return FALSE;
    }
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->class_dropdown, class_index + 1);
  self->updating = FALSE;
  return TRUE;
}

XsExplainResult *
xs_explain_view_get_result (XsExplainView *self)
{
  return self->explained;
}

/**
 * xs_explain_view_render_overlay:
 * @w: (out): @h: (out): its size, the original image's
 *
 * Returns: (transfer full) (nullable): the overlay as shown (colour map,
 *   opacity) at the original image's size, or %NULL before an explanation
 */
guint8 *
xs_explain_view_render_overlay (XsExplainView *self, int *w, int *h)
{
  XsAnalysis *a = xs_view_get_analysis (XS_VIEW (self));
  const XcExplanation *e;

  if (self->explained == NULL || a == NULL)
    return NULL;
  e = self->explained->explanation;
  *w = a->image->w, *h = a->image->h;
  return xc_render_heatmap (e->map, e->map_h, e->map_w, a->image, a->image->h, a->image->w,
                            gtk_drop_down_get_selected (self->cmap_dropdown),
                            (float) gtk_range_get_value (GTK_RANGE (self->opacity_scale)));
}

static void
xs_explain_view_dispose (GObject *object)
{
  XsExplainView *self = XS_EXPLAIN_VIEW (object);

  g_cancellable_cancel (self->cancel);
  if (xs_view_get_session (XS_VIEW (self)))
    {
      cancel_pending_refresh (self);
      if (self->lists_model != NULL)
        xs_session_end (xs_view_get_session (XS_VIEW (self)));
    }
  stop_waiting_for_paint (self);
  g_clear_handle_id (&self->lists_source, g_source_remove);
  g_clear_pointer (&self->lists_model, xs_model_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), XS_TYPE_EXPLAIN_VIEW);
  g_clear_object (&self->cancel);
  g_clear_pointer (&self->explained, xs_explain_result_free);
  g_clear_pointer (&self->regions, g_ptr_array_unref);
  G_OBJECT_CLASS (xs_explain_view_parent_class)->dispose (object);
}

static void
xs_explain_view_finalize (GObject *object)
{
  XsExplainView *self = XS_EXPLAIN_VIEW (object);

  g_array_unref (self->layer_ids);
  xc_image_free (self->display);
  G_OBJECT_CLASS (xs_explain_view_parent_class)->finalize (object);
}

static void
xs_explain_view_class_init (XsExplainViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  /* the explanation and its target are needed by others, shown or not */
  XS_VIEW_CLASS (klass)->eager = TRUE;

  G_OBJECT_CLASS (klass)->dispose = xs_explain_view_dispose;
  G_OBJECT_CLASS (klass)->finalize = xs_explain_view_finalize;
  XS_VIEW_CLASS (klass)->model_changed = xs_explain_view_model_changed;
  XS_VIEW_CLASS (klass)->analysis_changed = xs_explain_view_analysis_changed;

  /**
   * XsExplainView::target-changed:
   * @class_index: the class being explained, -1 for the top-1 class
   */
  signals[TARGET_CHANGED] =
    g_signal_new ("target-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  /**
   * XsExplainView::explained:
   *
   * A new explanation is on screen (its faithfulness figures follow).
   */
  signals[EXPLAINED] =
    g_signal_new ("explained", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/xceptionstudio/XceptionStudio/ui/xs-explain-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, XsExplainView, name)
  BIND (method_dropdown);
  BIND (layer_dropdown);
  BIND (class_dropdown);
  BIND (counterfactual_check);
  BIND (cmap_dropdown);
  BIND (opacity_scale);
  BIND (overlay_picture);
  BIND (colorbar_picture);
  BIND (colorbar_label);
  BIND (over_dropdown);
  BIND (grid_check);
  BIND (raw_picture);
  BIND (explain_info_label);
  BIND (faithfulness_label);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_explain_setting_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_render_setting_cb);
}

static void
xs_explain_view_init (XsExplainView *self)
{
  g_autoptr(GtkStringList) methods = xs_string_list_new (xc_method_titles (), XC_N_METHODS);
  g_autoptr(GtkStringList) cmaps = xs_string_list_new (xc_colormap_names (), XC_N_COLORMAPS);

  self->layer_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  self->updating = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drop_down_set_model (self->method_dropdown, G_LIST_MODEL (methods));
  gtk_drop_down_set_model (self->cmap_dropdown, G_LIST_MODEL (cmaps));
  gtk_drop_down_set_expression (self->layer_dropdown,
                                gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL,
                                                             "string"));
  gtk_drop_down_set_expression (self->class_dropdown,
                                gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL,
                                                             "string"));
  self->updating = FALSE;
}
