/* SPDX-License-Identifier: MIT
 *
 * XsWindow: the frame. A header bar (open, model selector, menu, cancel,
 * what is running and for how long), the image sidebar, the banner for
 * errors, and a stack of seven pages (xs-<name>-view.c), each an XsView
 * bound to the window's XsSession.
 * The window loads models and analyses images through the session's
 * XsInference off the main thread (newest request wins); the pages react to
 * the session's model and analysis. Actions are in xs-window-actions.c,
 * exports in xs-window-export.c.
 */
#define G_LOG_DOMAIN "xs-window"

#include <math.h>

#include "xs-util.h"
#include "xs-window-private.h"

G_DEFINE_FINAL_TYPE (XsWindow, xs_window, GTK_TYPE_APPLICATION_WINDOW)

static void request_analysis (XsWindow *self);
static void request_analysis_with (XsWindow *self, XsModel *model);

/* A job that knows how far it is (a download, faithfulness curves) */
static void
on_progress_cb (XsWindow *self, double fraction)
{
  gtk_progress_bar_set_fraction (self->progress_bar, fraction);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), xs_window_is_busy (self));
}

/* What runs, and after a second for how long, twice a second. No spinner:
 * its 60 frames a second, drawn in software (cairo, llvmpipe, Xvfb), took a
 * core's worth from the engine's two threads and made the window's forward
 * pass 1.3-1.9x slower than the same forward without it (README "Speed") */
static void
show_status (XsWindow *self)
{
  double s = (g_get_monotonic_time () - self->t_busy) / 1e6;
  g_autofree char *text = NULL;

  if (self->status_what == NULL)
    text = g_strdup ("");
  else if (s < 1.0)
    text = g_strdup (self->status_what);
  else
    text = g_strdup_printf ("%s %.0f s", self->status_what, floor (s));
  gtk_label_set_text (self->status_label, text);
}

static gboolean
status_tick_cb (gpointer data)
{
  show_status (data);
  return G_SOURCE_CONTINUE;
}

static void
on_busy_changed_cb (XsWindow *self, guint busy, const char *what)
{
  gtk_widget_set_visible (GTK_WIDGET (self->cancel_button), busy > 0);
  if (busy > 0 && (self->status_what == NULL || g_strcmp0 (what, self->status_what) != 0))
    self->t_busy = g_get_monotonic_time ();
  g_free (self->status_what);
  self->status_what = busy > 0 ? g_strdup (what ? what : "Working") : NULL;
  show_status (self);
  if (busy > 0 && self->status_source == 0)
    self->status_source = g_timeout_add (500, status_tick_cb, self);
  if (busy == 0)
    {
      g_clear_handle_id (&self->status_source, g_source_remove);
      self->t_idle = g_get_monotonic_time ();
      gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), FALSE);
    }
  _xs_window_maybe_screenshot (self);
}

void
_xs_window_show_error (XsWindow *self, const char *message)
{
  g_free (self->last_error);
  self->last_error = g_strdup (message);
  gtk_label_set_text (self->banner_label, message);
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
}

/* Every engine job the window or a page started */
void
_xs_window_cancel_all (XsWindow *self)
{
  g_cancellable_cancel (self->analyze_cancel);
  g_cancellable_cancel (self->load_cancel);
  g_cancellable_cancel (self->download_cancel);
  xs_explain_view_cancel (self->explain_page);
  xs_separable_view_cancel (self->separable_page);
  xs_compare_view_cancel (self->compare_page);
}

/* the model --------------------------------------------------------------- */

static void
update_model_info (XsWindow *self, XsModel *model)
{
  const XcModel *m = model->model;
  const XcNode *in = xc_model_input (m), *out = xc_model_node (m, m->output);
  guint64 p, macs;
  g_autofree char *p_s = NULL, *m_s = NULL, *txt = NULL;

  xc_model_totals (m, &p, NULL, &macs, NULL, NULL);
  p_s = xc_format_count (p), m_s = xc_format_count (macs);
  txt = g_strdup_printf ("%s\ninput %d×%d×%d, preprocessing %s\n%d %s%s\n%s params, %s MACs\n"
                         "%u layers",
                         model->display_name, in->h, in->w, in->c,
                         xc_preprocess_name (m->preprocess), out->c,
                         xc_model_is_classifier (m) ? "classes" : "features (no top)",
                         m->labels || !xc_model_is_classifier (m) ? "" : " (no labels)", p_s, m_s,
                         xc_model_n_nodes (m));
  gtk_label_set_text (self->model_info_label, txt);
  xs_image_panel_set_model (self->image_panel, m);
}

/* A model that failed to load leaves everything as it was: the file is
 * dropped from the selector (and so from the saved state), the selector
 * shows the model still running; with none running yet (a broken --model),
 * the embedded default is loaded instead. The banner has the error. */
static void
model_failed (XsWindow *self, const char *spec)
{
  guint at = xs_session_find_spec (self->session, spec);
  guint loaded = xs_session_find_spec (self->session, self->loaded_spec);
  const char *fallback = xc_model_default_spec ();

  self->banner_sticky = TRUE;
  self->updating = TRUE;
  if (at != G_MAXUINT && !g_str_has_prefix (spec, "builtin:") &&
      !g_str_has_prefix (spec, "embedded:") && !g_str_has_prefix (spec, "imagenet:"))
    xs_session_remove_spec (self->session, at);
  loaded = xs_session_find_spec (self->session, self->loaded_spec);
  if (loaded != G_MAXUINT)
    gtk_drop_down_set_selected (self->model_dropdown, loaded);
  self->updating = FALSE;
  if (loaded == G_MAXUINT && g_strcmp0 (spec, fallback) != 0)
    xs_window_add_model (self, fallback, TRUE);
}

static void
on_model_loaded_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(XsModel) m = xs_inference_load_model_finish (XS_INFERENCE (source), result, &error);
  g_autofree char *spec = g_steal_pointer (&self->loading_spec);

  if (xs_session_failed (self->session, m, error))
    {
      if (!g_error_matches (error, XC_ERROR, XC_ERROR_CANCELLED) &&
          !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        model_failed (self, spec);
      return;
    }
  g_free (self->loaded_spec);
  self->loaded_spec = g_strdup (spec);
  gtk_label_set_text (self->top_label, "");
  /* an image handed over before any model was there waits from now */
  self->t_image = MAX (self->t_image, g_get_monotonic_time ());
  /* the image runs through the network while the pages take the new model */
  request_analysis_with (self, m);
  xs_session_set_model (self->session, m);
  update_model_info (self, m);
  xs_window_apply_request (self, NULL);
}

static void
load_selected_model (XsWindow *self)
{
  const char *spec = xs_session_get_spec (self->session,
                                          gtk_drop_down_get_selected (self->model_dropdown));

  if (spec == NULL)
    return;
  xs_session_restart (&self->load_cancel);
  g_free (self->loading_spec);
  self->loading_spec = g_strdup (spec);
  xs_session_begin (self->session, "Loading model…");
  xs_inference_load_model_async (xs_session_get_inference (self->session), spec,
                                 self->load_cancel, on_model_loaded_cb, g_object_ref (self));
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
  guint at;

  self->updating = TRUE;
  at = xs_session_add_spec (self->session, spec);
  self->updating = FALSE;
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
show_image (XsWindow *self, XsAnalysis *a)
{
  int top = xs_top_of (a->probs, a->classes);
  const char *label = xc_model_label (a->model->model, top);
  g_autofree char *fallback = g_strdup_printf ("class %d", top);
  g_autofree char *top_txt = xc_model_is_classifier (a->model->model)
                             ? g_strdup_printf ("%s — %.1f%%", label ? label : fallback,
                                                100.0 * a->probs[top])
                             : g_strdup ("none: no classification top");

  xs_image_panel_show (self->image_panel, a);
  gtk_label_set_text (self->top_label, top_txt);
}

static void
on_analyzed_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(XsAnalysis) a = xs_inference_analyze_finish (XS_INFERENCE (source), result, &error);

  if (xs_session_failed (self->session, a, error))
    return;
  if (a->model != xs_session_get_model (self->session))
    return;   /* stale: the model changed meanwhile */
  /* an image that worked clears an image's error, not a model's */
  if (!self->banner_sticky)
    gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
  /* only an image that worked becomes recent (and so saved) */
  if (!g_str_has_prefix (a->path, "resource://"))
    _xs_window_add_recent (self, a->path);
  show_image (self, a);
  xs_session_set_analysis (self->session, a);
  _xs_window_mark_painted (self, &self->t_predictions);
  xs_window_apply_request (self, NULL);
}

static void
request_analysis_with (XsWindow *self, XsModel *model)
{
  if (model == NULL || self->image_path == NULL)
    return;
  xs_session_restart (&self->analyze_cancel);
  xs_explain_view_cancel (self->explain_page);
  xs_session_begin (self->session, "Running the network…");
  xs_inference_analyze_async (xs_session_get_inference (self->session), model, self->image_path,
                              xs_image_panel_get_options (self->image_panel),
                              self->analyze_cancel, on_analyzed_cb, g_object_ref (self));
}

static void
request_analysis (XsWindow *self)
{
  request_analysis_with (self, xs_session_get_model (self->session));
}

/* window/level, a preset or a frame: what the network sees changed */
static void
on_image_options_changed_cb (XsWindow *self)
{
  _xs_window_restart_timings (self);
  request_analysis (self);
}


void
xs_window_open_image (XsWindow *self, const char *path)
{
  g_free (self->image_path);
  self->image_path = g_strdup (path);
  /* a new image: frame 0, its default window (the command line's once) */
  xs_image_panel_set_options (self->image_panel, &self->first_image_options);
  memset (&self->first_image_options, 0, sizeof self->first_image_options);
  _xs_window_restart_timings (self);
  request_analysis (self);
}

/* the request from the command line --------------------------------------- */

/* Explain settings from the request; TRUE when one changed */
static gboolean
apply_explain_request (XsWindow *self, XsWindowRequest *p)
{
  g_autoptr(GError) error = NULL;
  gboolean changed = FALSE;

  if (p->layer)
    {
      guint idx;
      if (xs_explain_view_set_layer (self->explain_page, p->layer, &idx, &error))
        {
          /* the feature view shows that layer too */
          xs_features_view_select_node (self->features_page, idx);
          changed = TRUE;
        }
      else
        _xs_window_show_error (self, error->message);
      g_clear_pointer (&p->layer, g_free);
      g_clear_error (&error);
    }
  if (p->class_index >= 0)
    {
      if (xs_explain_view_set_target_class (self->explain_page, p->class_index, &error))
        changed = TRUE;
      else
        _xs_window_show_error (self, error->message);
      p->class_index = -1;
    }
  return changed;
}

/**
 * xs_window_apply_request:
 * @request: (nullable): view, layer, method and class to show; %NULL applies
 *   what is still pending once a model is loaded
 */
void
xs_window_apply_request (XsWindow *self, const XsWindowRequest *request)
{
  XsWindowRequest *p = &self->pending;
  gboolean changed = FALSE;

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
      if (request->compare_folder)
        {
          g_free (p->compare_folder);
          p->compare_folder = g_strdup (request->compare_folder);
        }
    }
  if (p->compare_model)
    {
      /* into the model list, selected as B, without loading it as A */
      g_autofree char *spec = g_steal_pointer (&p->compare_model);
      xs_window_add_model (self, spec, FALSE);
      xs_compare_view_set_model_b (self->compare_page, xs_session_add_spec (self->session, spec));
    }
  if (p->view)
    gtk_stack_set_visible_child_name (self->stack, p->view);
  if (p->compare_folder && xs_session_get_model (self->session) != NULL)
    {
      g_autofree char *folder = g_steal_pointer (&p->compare_folder);
      xs_compare_view_run_folder (self->compare_page, folder);
    }
  if (p->method)
    {
      XcMethod mth;
      if (xc_method_from_string (p->method, &mth))
        {
          xs_explain_view_set_method (self->explain_page, mth);
          changed = TRUE;
        }
      else
        {
          g_autofree char *msg = g_strdup_printf ("Unknown explanation method '%s'", p->method);
          _xs_window_show_error (self, msg);
        }
      g_clear_pointer (&p->method, g_free);
    }
  if (xs_session_get_model (self->session) == NULL)
    return;
  changed |= apply_explain_request (self, p);
  if (changed)
    xs_explain_view_refresh (self->explain_page);
}

/* between the pages ------------------------------------------------------- */

static void
on_page_changed_cb (XsWindow *self)
{
  GtkWidget *shown = gtk_stack_get_visible_child (self->stack);
  XsView *pages[] = { XS_VIEW (self->predictions_page), XS_VIEW (self->features_page),
                      XS_VIEW (self->explain_page), XS_VIEW (self->costs_page),
                      XS_VIEW (self->architecture_page), XS_VIEW (self->separable_page),
                      XS_VIEW (self->compare_page) };

  xs_views_shown (pages, G_N_ELEMENTS (pages), shown);
  xs_compare_view_set_active (self->compare_page,
                              g_strcmp0 (gtk_stack_get_visible_child_name (self->stack),
                                         "compare") == 0);
}

/* A class chosen in the predictions becomes the explanation target */
static void
on_class_activated_cb (XsWindow *self, int class_index)
{
  if (xs_explain_view_set_target_class (self->explain_page, class_index, NULL))
    xs_explain_view_refresh (self->explain_page);
}

static void
on_target_changed_cb (XsWindow *self, int class_index)
{
  xs_predictions_view_set_selected_class (self->predictions_page, class_index);
}

/* A node clicked in the architecture: its feature maps */
static void
on_node_activated_cb (XsWindow *self, guint node)
{
  xs_features_view_select_node (self->features_page, node);
  gtk_stack_set_visible_child_name (self->stack, "features");
}

static void
on_explained_cb (XsWindow *self)
{
  _xs_window_mark_painted (self, &self->t_explanation);
}

static void
on_session_analysis_cb (XsWindow *self)
{
  if (xs_session_get_analysis (self->session) == NULL)
    gtk_label_set_text (self->top_label, "");
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
  if (g_str_has_suffix (path, ".h5") || g_str_has_suffix (path, ".hdf5") ||
      g_str_has_suffix (path, ".keras"))
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

  _xs_window_cancel_all (self);
  if (self->screenshot_path == NULL)
    _xs_window_save_state (self);
  return GTK_WINDOW_CLASS (xs_window_parent_class)->close_request (window);
}

static void
xs_window_dispose (GObject *object)
{
  XsWindow *self = XS_WINDOW (object);

  if (self->session)
    _xs_window_cancel_all (self);
  g_clear_handle_id (&self->status_source, g_source_remove);
  g_clear_pointer (&self->status_what, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), XS_TYPE_WINDOW);
  g_clear_object (&self->load_cancel);
  g_clear_object (&self->download_cancel);
  g_clear_object (&self->analyze_cancel);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (xs_window_parent_class)->dispose (object);
}

static void
xs_window_finalize (GObject *object)
{
  XsWindow *self = XS_WINDOW (object);

  if (self->zoom_css)
    gtk_style_context_remove_provider_for_display (gdk_display_get_default (),
                                                   GTK_STYLE_PROVIDER (self->zoom_css));
  g_clear_object (&self->zoom_css);
  g_ptr_array_unref (self->recent);
  g_free (self->pending.compare_model);
  g_free (self->pending.compare_folder);
  g_free (self->image_path);
  g_free (self->loading_spec);
  g_free (self->loaded_spec);
  g_free (self->last_error);
  g_free (self->screenshot_path);
  g_free (self->timings_path);
  g_free (self->tour_end);
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

  g_type_ensure (XS_TYPE_IMAGE_PANEL);
  g_type_ensure (XS_TYPE_PREDICTIONS_VIEW);
  g_type_ensure (XS_TYPE_FEATURES_VIEW);
  g_type_ensure (XS_TYPE_EXPLAIN_VIEW);
  g_type_ensure (XS_TYPE_COSTS_VIEW);
  g_type_ensure (XS_TYPE_ARCHITECTURE_VIEW);
  g_type_ensure (XS_TYPE_SEPARABLE_VIEW);
  g_type_ensure (XS_TYPE_COMPARE_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xceptionstudio/XceptionStudio/ui/xs-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, XsWindow, name)
  BIND (model_dropdown);
  BIND (progress_bar);
  BIND (status_label);
  BIND (cancel_button);
  BIND (banner_revealer);
  BIND (banner_label);
  BIND (image_panel);
  BIND (model_info_label);
  BIND (top_label);
  BIND (stack);
  BIND (recent_submenu);
  BIND (predictions_page);
  BIND (features_page);
  BIND (explain_page);
  BIND (costs_page);
  BIND (architecture_page);
  BIND (separable_page);
  BIND (compare_page);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_model_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_page_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_image_options_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_class_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_target_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_node_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_explained_cb);
  _xs_window_actions_init (widget_class);
}

static void
xs_window_init (XsWindow *self)
{
  XsView *pages[7];
  GtkDropTarget *drop;

  self->t_window = g_get_monotonic_time ();
  self->session = xs_session_new ();
  self->recent = g_ptr_array_new_with_free_func (g_free);
  self->pending.class_index = -1;
  self->tour = -1;
  self->updating = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drop_down_set_model (self->model_dropdown,
                           G_LIST_MODEL (xs_session_get_model_names (self->session)));
  self->updating = FALSE;
  /* in this order: the explanation target is set before the comparison reads it */
  pages[0] = XS_VIEW (self->predictions_page);
  pages[1] = XS_VIEW (self->explain_page);
  pages[2] = XS_VIEW (self->features_page);
  pages[3] = XS_VIEW (self->costs_page);
  pages[4] = XS_VIEW (self->architecture_page);
  pages[5] = XS_VIEW (self->separable_page);
  pages[6] = XS_VIEW (self->compare_page);
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    xs_view_set_session (pages[i], self->session);
  g_signal_connect_object (self->session, "progress", G_CALLBACK (on_progress_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "busy-changed", G_CALLBACK (on_busy_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "error", G_CALLBACK (_xs_window_show_error), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->session, "notify::analysis",
                           G_CALLBACK (on_session_analysis_cb), self, G_CONNECT_SWAPPED);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  _xs_window_restore_state (self);
}

XsWindow *
xs_window_new (GtkApplication *app)
{
  return g_object_new (XS_TYPE_WINDOW, "application", app, NULL);
}

gboolean
xs_window_is_busy (XsWindow *self)
{
  return xs_session_get_busy (self->session) > 0;
}

XsAnalysis *
xs_window_get_analysis (XsWindow *self)
{
  return xs_session_get_analysis (self->session);
}

const XcExplanation *
xs_window_get_explanation (XsWindow *self)
{
  XsExplainResult *r = xs_explain_view_get_result (self->explain_page);
  return r ? r->explanation : NULL;
}

const XsFolderResult *
xs_window_get_folder_result (XsWindow *self)
{
  return xs_compare_view_get_folder (self->compare_page);
}

void
xs_window_compare_folder (XsWindow *self, const char *folder)
{
  xs_compare_view_run_folder (self->compare_page, folder);
}

guint
xs_window_get_n_arch_nodes (XsWindow *self)
{
  return xs_architecture_view_get_n_nodes (self->architecture_page);
}

const XsCompareResult *
xs_window_get_compare (XsWindow *self)
{
  return xs_compare_view_get_result (self->compare_page);
}

const char *
xs_window_get_last_error (XsWindow *self)
{
  return self->last_error;
}

/**
 * xs_window_get_page:
 * @name: predictions, features, explain, costs, architecture, separable or compare
 *
 * Returns: (transfer none) (nullable): that page
 */
GtkWidget *
xs_window_get_page (XsWindow *self, const char *name)
{
  /* each page sits in a horizontal scroller (the window fits a laptop) */
  const struct { const char *name; gpointer page; } pages[] = {
    { "predictions", self->predictions_page }, { "features", self->features_page },
    { "explain", self->explain_page }, { "costs", self->costs_page },
    { "architecture", self->architecture_page }, { "separable", self->separable_page },
    { "compare", self->compare_page },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    if (g_strcmp0 (pages[i].name, name) == 0)
      return pages[i].page;
  return NULL;
}
