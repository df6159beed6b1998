/* SPDX-License-Identifier: MIT
 *
 * XsCompareView: side by side. A second model on the same image (or this
 * model on a second image): both predictions, agreement, the same method
 * and target matched by label, the correlation of the two maps, and params,
 * MACs, latency, memory and faithfulness; and both models over a folder of
 * class subfolders. It runs only while shown.
 */
#define G_LOG_DOMAIN "xs-compare-view"

#include "xs-compare-folder.h"
#include "xs-compare-view.h"
#include "xs-util.h"

struct _XsCompareView {
  XsView           parent_instance;

  /* template widgets */
  GtkDropDown     *compare_model_dropdown;
  GtkButton       *compare_image_button;
  GtkButton       *compare_clear_button;
  GtkLabel        *compare_summary_label;
  GtkLabel        *compare_title_a;
  GtkLabel        *compare_title_b;
  XsBars          *compare_bars_a;
  XsBars          *compare_bars_b;
  GtkPicture      *compare_overlay_a;
  GtkPicture      *compare_overlay_b;
  GtkPicture      *compare_colorbar_a;
  GtkPicture      *compare_colorbar_b;
  GtkLabel        *compare_colorbar_label_a;
  GtkLabel        *compare_colorbar_label_b;
  GtkLabel        *compare_table_label;
  GtkButton       *compare_folder_button;
  GtkDropDown     *compare_sort_dropdown;
  GtkLabel        *compare_folder_label;
  GtkLabel        *compare_confusion_label;
  GtkDrawingArea  *compare_reliability;
  GtkButton       *compare_export_button;
  GtkListBox      *compare_list;

  /* owned */
  XsCompareResult *compared;
  char            *compare_image;  /* set: one model on two images */
  GCancellable    *compare_cancel;
  GCancellable    *folder_cancel;
  XsFolderResult  *folder;
  gboolean         active;         /* shown: comparisons run */
  gboolean         updating;
  guint            request_source;  /* a request waits for the explanation's */
};

G_DEFINE_FINAL_TYPE (XsCompareView, xs_compare_view, XS_TYPE_VIEW)

static void
show_compare (XsCompareView *self)
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
      g_autoptr(GdkTexture) tex = xs_texture_from_rgb (rgb, r->image[k]->w, r->image[k]->h);
      g_autofree char *title = g_strdup_printf ("%c: %s on %s — %s of class %d%s%s%s",
                                                'A' + k, r->model[k]->display_name,
                                                r->image_name[k], xc_method_title (e->method),
                                                e->target_class,
                                                xc_model_label (m, e->target_class) ? " (" : "",
                                                xc_model_label (m, e->target_class) ?: "",
                                                xc_model_label (m, e->target_class) ? ")" : "");
      xs_fill_bars (k ? self->compare_bars_b : self->compare_bars_a, m, r->probs[k],
                 r->classes[k], 5);
      gtk_picture_set_paintable (k ? self->compare_overlay_b : self->compare_overlay_a,
                                 GDK_PAINTABLE (tex));
      xs_colorbar_show (k ? self->compare_colorbar_b : self->compare_colorbar_a,
                        k ? self->compare_colorbar_label_b : self->compare_colorbar_label_a,
                        e->map, e->map_h, e->map_w, XC_COLORMAP_JET, NULL);
      gtk_label_set_text (k ? self->compare_title_b : self->compare_title_a, title);
      top[k] = xs_top_of (r->probs[k], r->classes[k]);
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
  g_string_append_printf (table, "%-4s %14s %16s %20s %10s %14s %14s\n", "", "params", "MACs",
                          "latency ms (IQR)", "memory MB", "deletion AUC", "insertion AUC");
  for (int k = 0; k < 2; k++)
    {
      guint64 p, macs;
      g_autofree char *ps = NULL, *ms = NULL;
      xc_model_totals (r->model[k]->model, &p, NULL, &macs, NULL, NULL);
      ps = xc_format_count (p), ms = xc_format_count (macs);
      g_autofree char *lat = g_strdup_printf ("%.2f (%.2f-%.2f)", r->cost[k].latency_ms,
                                              r->cost[k].latency_q1_ms,
                                              r->cost[k].latency_q3_ms);
      g_string_append_printf (table, "%-4c %14s %16s %20s %10.1f %14.3f %14.3f\n", 'A' + k, ps,
                              ms, lat, r->cost[k].memory_bytes / 1048576.0,
                              r->faithfulness[k]->deletion_auc,
                              r->faithfulness[k]->insertion_auc);
    }
  g_string_append_printf (table, "latency: median and interquartile range of %d runs of each "
                          "model, A and B alternating, after a warm-up",
                          r->cost[0].runs);
  gtk_label_set_text (self->compare_table_label, table->str);
}

static void
on_compared_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(XsCompareView) self = data;
  g_autoptr(GError) error = NULL;
  XsCompareResult *r = xs_inference_compare_finish (XS_INFERENCE (source), result, &error);

  if (xs_session_failed (xs_view_get_session (XS_VIEW (self)), r, error))
    return;
  g_clear_pointer (&self->compared, xs_compare_result_free);
  self->compared = r;
  show_compare (self);
}

static void
request_compare (XsCompareView *self)
{
  XsSession *session = xs_view_get_session (XS_VIEW (self));
  XsAnalysis *a = xs_view_get_analysis (XS_VIEW (self));
  guint row = gtk_drop_down_get_selected (self->compare_model_dropdown);
  const char *spec_b = NULL;

  if (a == NULL || self->updating || !self->active)
    return;
  if (self->compare_image == NULL && (spec_b = xs_session_get_spec (session, row)) == NULL)
    return;
  xs_session_restart (&self->compare_cancel);
  xs_session_begin (session, "Comparing…");
  /* the explanation target of the Explain view, matched by label in model B */
  xs_inference_compare_async (xs_session_get_inference (session), a->model, spec_b, a->path,
                              self->compare_image, xs_session_get_method (session),
                              xs_session_get_target_class (session), self->compare_cancel,
                              on_compared_cb, g_object_ref (self));
}

static void
on_compare_setting_cb (XsCompareView *self)
{
  request_compare (self);
}

static void
on_compare_image_response_cb (GtkNativeDialog *dialog, int response, XsCompareView *self)
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
on_compare_image_cb (XsCompareView *self)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Second Image", GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                                              GTK_FILE_CHOOSER_ACTION_OPEN,
                                                              "_Open", "_Cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_compare_image_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_compare_clear_cb (XsCompareView *self)
{
  g_clear_pointer (&self->compare_image, g_free);
  gtk_widget_set_sensitive (GTK_WIDGET (self->compare_clear_button), FALSE);
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
  return xs_texture_from_rgb (rgb, ds->w, ds->h);
}

static const float *sort_probs;

static int
compare_by_conf (gconstpointer a, gconstpointer b)
{
  float x = sort_probs[*(const int *) a], y = sort_probs[*(const int *) b];
  return x > y ? -1 : x < y ? 1 : *(const int *) a - *(const int *) b;
}

static void
show_folder (XsCompareView *self)
{
  XsFolderResult *r = self->folder;
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *txt = NULL, *confusion = NULL;
  GtkWidget *child;
  guint sort = gtk_drop_down_get_selected (self->compare_sort_dropdown);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->compare_list))))
    gtk_list_box_remove (self->compare_list, child);
  gtk_widget_set_sensitive (GTK_WIDGET (self->compare_export_button), r != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->compare_reliability),
                          r != NULL && (r->accuracy[0] >= 0 || r->accuracy[1] >= 0));
  gtk_drawing_area_set_draw_func (self->compare_reliability, xs_folder_draw_reliability, r, NULL);
  confusion = r ? xs_folder_confusion_text (r) : NULL;
  gtk_widget_set_visible (GTK_WIDGET (self->compare_confusion_label), confusion != NULL);
  gtk_label_set_text (self->compare_confusion_label, confusion ? confusion : "");
  if (r == NULL)
    return;
  txt = xs_folder_summary_markup (r);
  gtk_label_set_markup (self->compare_folder_label, txt);
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
      g_autofree char *truth = r->dataset->unlabelled
                               ? g_strdup ("")
                               : g_strdup_printf ("   truth: %s", (char *) r->dataset->class_names->pdata[
                                                                   r->dataset->labels[i]]);
      g_autofree char *line = g_strdup_printf ("%s%s   A: %s (%.1f%%)   B: %s (%.1f%%)",
                                               (char *) r->dataset->ids->pdata[i], truth,
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
  g_autoptr(XsCompareView) self = data;
  g_autoptr(GError) error = NULL;
  XsFolderResult *r = xs_inference_compare_folder_finish (XS_INFERENCE (source), result, &error);

  if (xs_session_failed (xs_view_get_session (XS_VIEW (self)), r, error))
    return;
  g_clear_pointer (&self->folder, xs_folder_result_free);
  self->folder = r;
  show_folder (self);
}

/**
 * xs_compare_view_run_folder:
 *
 * Runs the current model and model B over a folder of class subfolders.
 */
void
xs_compare_view_run_folder (XsCompareView *self, const char *folder)
{
  XsSession *session = xs_view_get_session (XS_VIEW (self));
  XsModel *model = xs_view_get_model (XS_VIEW (self));
  const char *spec_b = xs_session_get_spec (session,
                                            gtk_drop_down_get_selected (self->compare_model_dropdown));

  if (model == NULL || spec_b == NULL)
    return;
  xs_session_restart (&self->folder_cancel);
  gtk_label_set_text (self->compare_folder_label, "Running both models over the folder…");
  xs_session_begin (session, "Comparing on a folder…");
  xs_inference_compare_folder_async (xs_session_get_inference (session), model, spec_b, folder,
                                     self->folder_cancel, on_folder_done_cb, g_object_ref (self));
}

static void
on_folder_response_cb (GtkNativeDialog *dialog, int response, XsCompareView *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path)
        xs_compare_view_run_folder (self, path);
    }
  g_object_unref (dialog);
}

static void
on_compare_folder_cb (XsCompareView *self)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Folder of Images or of Class Subfolders",
                                                              GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                                              GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                              "_Run", "_Cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_folder_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_export_response_cb (GtkNativeDialog *dialog, int response, XsCompareView *self)
{
  if (response == GTK_RESPONSE_ACCEPT && self->folder)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;
      if (path && !xs_folder_export (self->folder, path, &error))
        xs_session_failed (xs_view_get_session (XS_VIEW (self)), NULL, error);
    }
  g_object_unref (dialog);
}

/* Every image's row of the folder comparison: CSV, or JSON by the name */
static void
on_compare_export_cb (XsCompareView *self)
{
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Export Rows (CSV or .json)",
                                                              GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                                              GTK_FILE_CHOOSER_ACTION_SAVE,
                                                              "_Export", "_Cancel");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), "comparison.csv");
  g_signal_connect (dialog, "response", G_CALLBACK (on_export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/**
 * xs_compare_view_export_folder:
 *
 * Writes the last folder comparison's rows to @path (CSV, or JSON when it
 * ends in .json).
 */
gboolean
xs_compare_view_export_folder (XsCompareView *self, const char *path, GError **error)
{
  if (self->folder == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no folder comparison to export");
      return FALSE;
    }
  return xs_folder_export (self->folder, path, error);
}

static gboolean
request_idle_cb (gpointer data)
{
  XsCompareView *self = data;

  self->request_source = 0;
  request_compare (self);
  xs_session_end (xs_view_get_session (XS_VIEW (self)));
  return G_SOURCE_REMOVE;
}

static void
xs_compare_view_analysis_changed (XsView *view, XsAnalysis *a)
{
  XsCompareView *self = XS_COMPARE_VIEW (view);

  g_clear_pointer (&self->compared, xs_compare_result_free);
  /* after the explain page's request (its idle is queued first): the new
   * image's own explanation comes before the comparison */
  if (a != NULL && self->active && self->request_source == 0)
    {
      xs_session_begin (xs_view_get_session (view), NULL);
      self->request_source = g_idle_add (request_idle_cb, self);
    }
}

/* The page is shown (or hidden): comparisons run only while it is */
void
xs_compare_view_set_active (XsCompareView *self, gboolean active)
{
  self->active = active;
  if (active && self->compared == NULL)
    request_compare (self);
}

/* Model B: an index into the session's model list */
void
xs_compare_view_set_model_b (XsCompareView *self, guint index)
{
  self->updating = TRUE;
  gtk_drop_down_set_selected (self->compare_model_dropdown, index);
  self->updating = FALSE;
}

void
xs_compare_view_cancel (XsCompareView *self)
{
  g_cancellable_cancel (self->compare_cancel);
  g_cancellable_cancel (self->folder_cancel);
}

const XsCompareResult *
xs_compare_view_get_result (XsCompareView *self)
{
  return self->compared;
}

/* TRUE when the comparison is of this model on a second image */
gboolean
xs_compare_view_is_second_image (XsCompareView *self)
{
  return self->compare_image != NULL;
}

const XsFolderResult *
xs_compare_view_get_folder (XsCompareView *self)
{
  return self->folder;
}

static void
on_session_cb (XsCompareView *self)
{
  gtk_drop_down_set_model (self->compare_model_dropdown,
                           G_LIST_MODEL (xs_session_get_model_names (
                               xs_view_get_session (XS_VIEW (self)))));
}

static void
xs_compare_view_dispose (GObject *object)
{
  XsCompareView *self = XS_COMPARE_VIEW (object);

  xs_compare_view_cancel (self);
  if (self->request_source != 0)
    {
      g_clear_handle_id (&self->request_source, g_source_remove);
      xs_session_end (xs_view_get_session (XS_VIEW (self)));
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), XS_TYPE_COMPARE_VIEW);
  g_clear_object (&self->compare_cancel);
  g_clear_object (&self->folder_cancel);
  g_clear_pointer (&self->compared, xs_compare_result_free);
  g_clear_pointer (&self->folder, xs_folder_result_free);
  g_clear_pointer (&self->compare_image, g_free);
  G_OBJECT_CLASS (xs_compare_view_parent_class)->dispose (object);
}

static void
xs_compare_view_class_init (XsCompareViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  /* it runs only while active, which the window tells it */
  XS_VIEW_CLASS (klass)->eager = TRUE;

  G_OBJECT_CLASS (klass)->dispose = xs_compare_view_dispose;
  XS_VIEW_CLASS (klass)->analysis_changed = xs_compare_view_analysis_changed;

  g_type_ensure (XS_TYPE_BARS);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/xceptionstudio/XceptionStudio/ui/xs-compare-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, XsCompareView, name)
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
  BIND (compare_colorbar_a);
  BIND (compare_colorbar_b);
  BIND (compare_colorbar_label_a);
  BIND (compare_colorbar_label_b);
  BIND (compare_confusion_label);
  BIND (compare_reliability);
  BIND (compare_export_button);
  BIND (compare_list);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_compare_setting_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_compare_image_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_compare_clear_cb);
  gtk_widget_class_bind_template_callback (widget_class, show_folder);
  gtk_widget_class_bind_template_callback (widget_class, on_compare_folder_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_compare_export_cb);
}

static void
xs_compare_view_init (XsCompareView *self)
{
  static const char *sorts[] = { "Most confident A first", "Most confident B first",
                                  "In folder order" };
  g_autoptr(GtkStringList) l = xs_string_list_new (sorts, G_N_ELEMENTS (sorts));

  self->updating = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drop_down_set_model (self->compare_sort_dropdown, G_LIST_MODEL (l));
  self->updating = FALSE;
  g_signal_connect (self, "notify::session", G_CALLBACK (on_session_cb), NULL);
}
