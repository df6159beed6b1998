/* SPDX-License-Identifier: MIT
 *
 * XsWindow's exports: the overlay and the feature grid as PNG, the
 * predictions and the cost table as CSV or JSON (the cost JSON is
 * xception-cli summary --json's), the PDF report of what is shown, and
 * the window itself as a PNG.
 */
#define G_LOG_DOMAIN "xs-window"

#include <string.h>
#include <sys/resource.h>
#include <json-glib/json-glib.h>

#include "xs-util.h"
#include "xs-window-private.h"

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
 * @kind: overlay, grid, predictions-csv, predictions-json, costs-csv, costs-json, report,
 *   folder (the folder comparison's rows: CSV, or JSON when @path ends in .json)
 */
gboolean
xs_window_export (XsWindow *self, const char *kind, const char *path, GError **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  XsModel *model = xs_session_get_model (self->session);
  XsAnalysis *analysis = xs_session_get_analysis (self->session);
  XsExplainResult *explained = xs_explain_view_get_result (self->explain_page);
  const XsCompareResult *compared = xs_compare_view_get_result (self->compare_page);
  const XcModel *m = model ? model->model : NULL;

  /* never over a device, FIFO or folder; the writers below replace
   * atomically (GLib's g_file_set_contents, or xc_output_begin/end) */
  if (!xc_check_output_path (path, error))
    return FALSE;
  if (g_str_equal (kind, "overlay"))
    {
      int w, h;
      g_autofree guint8 *rgb = xs_explain_view_render_overlay (self->explain_page, &w, &h);
      if (rgb == NULL)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "no explanation to export yet");
          return FALSE;
        }
      return xc_write_png_rgb (path, rgb, w, h, error);
    }
  if (g_str_equal (kind, "folder"))
    return xs_compare_view_export_folder (self->compare_page, path, error);
  if (g_str_equal (kind, "grid"))
    return xs_feature_grid_save_png (xs_features_view_get_grid (self->features_page), path, error);
  if (g_str_equal (kind, "report"))
    {
      XcReport r = { 0 };
      if (analysis == NULL || explained == NULL)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "nothing to report yet: open an image");
          return FALSE;
        }
      r.image = analysis->image;
      r.image_name = analysis->path;
      r.a.model = model->model;
      r.a.probs = analysis->probs;
      r.a.explanation = explained->explanation;
      r.a.faithfulness = explained->faithfulness;
      r.a.cost.latency_ms = analysis->time_ms;
      r.a.cost.memory_bytes = model->model->slab_size * sizeof (float) +
                              analysis->arena_bytes;
      if (compared && !xs_compare_view_is_second_image (self->compare_page))
        {
          r.b.model = compared->model[1]->model;
          r.b.probs = compared->probs[1];
          r.b.explanation = compared->explanation[1];
          r.b.faithfulness = compared->faithfulness[1];
          r.b.cost = compared->cost[1];
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
      if (analysis == NULL)
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
          json_builder_add_string_value (b, analysis->path);
          json_builder_set_member_name (b, "time_ms");
          json_builder_add_double_value (b, analysis->time_ms);
          json_builder_set_member_name (b, "classes");
          json_builder_begin_array (b);
          for (int c = 0; c < analysis->classes; c++)
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
              json_builder_add_double_value (b, analysis->probs[c]);
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
      for (int c = 0; c < analysis->classes; c++)
        {
          g_autofree char *l = csv_field (xc_model_label (m, c));
          g_string_append_printf (out, "%d,%s,%.8g\n", c, l, analysis->probs[c]);
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
          g_autoptr(JsonBuilder) b = json_builder_new ();
          g_autoptr(JsonGenerator) gen = json_generator_new ();
          g_autoptr(JsonNode) root = NULL;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "model");
          json_builder_add_string_value (b, m->name);
          json_builder_set_member_name (b, "layers");
          json_builder_begin_array (b);
          for (guint i = 0; i < xc_model_n_nodes (m); i++)
            {
              const XcNode *n = xc_model_node (m, i);
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "name");
              json_builder_add_string_value (b, n->name);
              json_builder_set_member_name (b, "type");
              json_builder_add_string_value (b, n->keras_class);
              json_builder_set_member_name (b, "params");
              json_builder_add_int_value (b, n->n_weights);
              json_builder_set_member_name (b, "macs");
              json_builder_add_int_value (b, n->macs);
              json_builder_set_member_name (b, "standard_params");
              json_builder_add_int_value (b, n->std_params);
              json_builder_set_member_name (b, "standard_macs");
              json_builder_add_int_value (b, n->std_macs);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_set_member_name (b, "totals");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "params");
          json_builder_add_int_value (b, p);
          json_builder_set_member_name (b, "trainable_params");
          json_builder_add_int_value (b, t);
          json_builder_set_member_name (b, "macs");
          json_builder_add_int_value (b, macs);
          json_builder_set_member_name (b, "standard_params");
          json_builder_add_int_value (b, sp);
          json_builder_set_member_name (b, "standard_macs");
          json_builder_add_int_value (b, sm);
          json_builder_end_object (b);
          json_builder_end_object (b);
          root = json_builder_get_root (b);
          json_generator_set_root (gen, root);
          json_generator_set_pretty (gen, TRUE);
          return json_generator_to_file (gen, path, error);
        }
      g_string_append (out, "name,type,output_shape,params,macs,standard_params,standard_macs,"
                            "ratio\n");
      for (guint i = 0; i < xc_model_n_nodes (m); i++)
        {
          const XcNode *n = xc_model_node (m, i);
          g_autofree char *shape = xs_shape_string (n);
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

/**
 * xs_window_save_screenshot:
 *
 * Renders the window as it is now into a PNG.
 */
gboolean
xs_window_save_screenshot (XsWindow *self, const char *path, GError **error)
{
  char *tmp;
  gboolean ok;
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
  if ((tmp = xc_output_begin (path, error)) == NULL)
    return FALSE;
  ok = gdk_texture_save_to_png (tex, tmp);
  if (!ok)
    g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot write the screenshot", path);
  return xc_output_end (tmp, path, ok, error);
}

static void
add_ms (JsonBuilder *b, const char *name, gint64 from, gint64 to)
{
  json_builder_set_member_name (b, name);
  if (to > 0 && from > 0)
    json_builder_add_double_value (b, (to - from) / 1000.0);
  else
    json_builder_add_null_value (b);
}

/* "On screen" is the end of the next frame the window paints: what was
 * just shown is in it (GdkFrameClock::after-paint follows the paint phase,
 * and nothing is shown from inside one) */
static void
on_after_paint_cb (XsWindow *self, GdkFrameClock *clock)
{
  gint64 now = g_get_monotonic_time ();

  if (self->paint_pending[0])
    self->t_predictions = now;
  if (self->paint_pending[1])
    self->t_explanation = now;
  self->paint_pending[0] = self->paint_pending[1] = FALSE;
  g_clear_signal_handler (&self->after_paint_id, clock);
}

/* An image (or what the network sees of it) handed to the window now */
void
_xs_window_restart_timings (XsWindow *self)
{
  self->t_image = g_get_monotonic_time ();
  self->t_predictions = self->t_explanation = 0;
  self->paint_pending[0] = self->paint_pending[1] = FALSE;
}

/**
 * _xs_window_mark_painted:
 * @when: &self->t_predictions or &self->t_explanation
 *
 * What @when times was just shown: it is set now, and again when the frame
 * that shows it has been painted (an unmapped window paints none).
 */
void
_xs_window_mark_painted (XsWindow *self, gint64 *when)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  *when = g_get_monotonic_time ();
  if (clock == NULL)
    return;
  self->paint_pending[when == &self->t_predictions ? 0 : 1] = TRUE;
  /* a window unrealized meanwhile took its old clock's handler with it */
  if (self->after_paint_id != 0 && !g_signal_handler_is_connected (clock, self->after_paint_id))
    self->after_paint_id = 0;
  if (self->after_paint_id == 0)
    self->after_paint_id = g_signal_connect_object (clock, "after-paint",
                                                    G_CALLBACK (on_after_paint_cb), self,
                                                    G_CONNECT_SWAPPED);
  /* a frame even if nothing shown changed; nothing redrawn for it */
  gdk_frame_clock_request_phase (clock, GDK_FRAME_CLOCK_PHASE_PAINT);
}

/* --timings: from the image handed to the window (or its model loaded, if
 * later) to the predictions and the explanation overlay painted on screen,
 * and to the end of all engine work; the peak resident memory once
 * everything was done (and, apart, with the screenshot's own rendering,
 * which a user never pays) */
gboolean
_xs_window_write_timings (XsWindow *self, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  XsModel *model = xs_session_get_model (self->session);
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model ? model->display_name : "");
  json_builder_set_member_name (b, "image");
  json_builder_add_string_value (b, self->image_path ? self->image_path : "");
  add_ms (b, "predictions_ms", self->t_image, self->t_predictions);
  add_ms (b, "explanation_ms", self->t_image, self->t_explanation);
  /* the engine's last work ended, and what it showed was painted */
  add_ms (b, "all_done_ms", self->t_image,
          self->t_idle > 0 ? MAX (self->t_idle, MAX (self->t_predictions, self->t_explanation))
                           : 0);
  add_ms (b, "launch_to_predictions_ms", self->t_window, self->t_predictions);
  /* of the predictions' time, the engine's: the forward with every layer's statistics */
  json_builder_set_member_name (b, "forward_ms");
  if (xs_session_get_analysis (self->session))
    json_builder_add_double_value (b, xs_session_get_analysis (self->session)->time_ms);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "peak_rss_bytes");
  json_builder_add_int_value (b, self->rss_done > 0 ? self->rss_done : (gint64) ru.ru_maxrss * 1024);
  json_builder_set_member_name (b, "peak_rss_with_screenshot_bytes");
  json_builder_add_int_value (b, (gint64) ru.ru_maxrss * 1024);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return xc_check_output_path (self->timings_path, error) &&
         json_generator_to_file (gen, self->timings_path, error);
}

/* screenshots, --timings, --visit-all ------------------------------------- */

static gboolean take_screenshot_cb (gpointer data);

/* busy state, errors, screenshots ----------------------------------------- */

void
_xs_window_maybe_screenshot (XsWindow *self)
{
  if (self->screenshot_path != NULL && xs_session_get_busy (self->session) == 0)
    g_timeout_add (400, take_screenshot_cb, g_object_ref (self));
}

/* The application's exit status will say that --screenshot or --timings failed */
static void
mark_failed (void)
{
  GApplication *app = g_application_get_default ();

  if (app != NULL)
    g_object_set_data (G_OBJECT (app), "xs-failed", GINT_TO_POINTER (1));
}

static gboolean
take_screenshot_cb (gpointer data)
{
  g_autoptr(XsWindow) self = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (self->screenshot_path == NULL || xs_session_get_busy (self->session) > 0)
    return G_SOURCE_REMOVE;
  if (self->tour >= 0)
    {
      /* every page in turn, each once its work is done, then the asked-for one */
      static const char *pages[] = { "predictions", "features", "explain", "costs",
                                     "architecture", "separable", "compare" };
      const char *next = self->tour < (int) G_N_ELEMENTS (pages) ? pages[self->tour++]
                                                                  : self->tour_end;
      if (next == self->tour_end)
        self->tour = -1;
      gtk_stack_set_visible_child_name (self->stack, next);
      _xs_window_maybe_screenshot (self);
      return G_SOURCE_REMOVE;
    }
  if (self->rss_done == 0)
    {
      struct rusage ru;
      getrusage (RUSAGE_SELF, &ru);
      self->rss_done = (gint64) ru.ru_maxrss * 1024;
    }
  if (!xs_window_save_screenshot (self, self->screenshot_path, &error))
    {
      /* a window just shown may need a few frames before it has drawn
       * anything (on a loaded machine): try again, for up to 10 s */
      if (++self->screenshot_tries < 100)
        {
          g_timeout_add (100, take_screenshot_cb, g_object_ref (self));
          return G_SOURCE_REMOVE;
        }
      g_printerr ("xception-studio: %s: %s\n", self->screenshot_path, error->message);
      /* the exit status says so (see main.c) */
      mark_failed ();
    }
  else
    g_print ("xception-studio: wrote %s\n", self->screenshot_path);
  path = g_steal_pointer (&self->screenshot_path);
  if (self->timings_path && !_xs_window_write_timings (self, &error))
    {
      g_printerr ("xception-studio: %s\n", error->message);
      mark_failed ();
    }
  gtk_window_destroy (GTK_WINDOW (self));
  return G_SOURCE_REMOVE;
}

/**
 * xs_window_set_timings_path:
 *
 * With a screenshot pending: also write how long the window took (from the
 * image handed to it) to @path as JSON when the screenshot is taken.
 */
void
xs_window_set_timings_path (XsWindow *self, const char *path)
{
  g_free (self->timings_path);
  self->timings_path = g_strdup (path);
}

/**
 * xs_window_visit_all_before_screenshot:
 *
 * Before the pending screenshot, show every page in turn, each until its
 * work is done (peak memory and timings then cover them all), and end on
 * the page shown now.
 */
void
xs_window_visit_all_before_screenshot (XsWindow *self)
{
  g_free (self->tour_end);
  self->tour_end = g_strdup (gtk_stack_get_visible_child_name (self->stack));
  self->tour = 0;
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
  _xs_window_maybe_screenshot (self);
}
