/* SPDX-License-Identifier: MIT
 *
 * XsWindow's win.* actions: open an image (dialog, recent, paste) or a
 * model, cancel, dismiss the banner, switch the view, export.
 */
#define G_LOG_DOMAIN "xs-window"

#include "xs-window-private.h"

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

  gtk_file_filter_set_name (filter, "Keras models (.keras, .h5, weights-only .h5)");
  gtk_file_filter_add_pattern (filter, "*.h5");
  gtk_file_filter_add_pattern (filter, "*.hdf5");
  gtk_file_filter_add_pattern (filter, "*.keras");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_model_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
on_open_boxes_response_cb (GtkNativeDialog *dialog, int response, XsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path)
        xs_window_open_boxes (self, path);
    }
  g_object_unref (dialog);
}

/* Ground-truth boxes (image,x,y,width,height,label), drawn over the
 * explanation of the image they name, with hit or miss */
static void
open_boxes_action (GtkWidget *widget, const char *name, GVariant *param)
{
  XsWindow *self = XS_WINDOW (widget);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new ("Open Ground-Truth Boxes",
                                                              GTK_WINDOW (self),
                                                              GTK_FILE_CHOOSER_ACTION_OPEN,
                                                              "_Open", "_Cancel");
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "Boxes (image,x,y,width,height,label .csv)");
  gtk_file_filter_add_pattern (filter, "*.csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  g_signal_connect (dialog, "response", G_CALLBACK (on_open_boxes_response_cb), self);
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
      _xs_window_show_error (self, "The clipboard holds no image");
      return;
    }
  dir = g_build_filename (g_get_user_cache_dir (), "xception-studio", NULL);
  g_mkdir_with_parents (dir, 0700);
  path = g_build_filename (dir, "pasted.png", NULL);
  if (!gdk_texture_save_to_png (tex, path))
    {
      _xs_window_show_error (self, "Cannot save the pasted image");
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

/* Download the ImageNet Xception: a worker thread runs the download
 * (engine/io/xc-download.c), progress reaches the status line through the
 * main context, win.cancel stops it (the part stays for a resume), and the
 * model is selected once its MD5 is verified ----------------------------- */

typedef struct {
  XsWindow *window;   /* owned */
  goffset   done, total;
  double    rate;     /* MB/s */
} DownloadProgress;

typedef struct {
  XsWindow     *window;   /* owned */
  GCancellable *cancel;   /* owned */
  gint64        t0, last;
  goffset       start;
} DownloadJob;

static void
download_job_free (gpointer p)
{
  DownloadJob *job = p;
  g_object_unref (job->window);
  g_object_unref (job->cancel);
  g_free (job);
}

static gboolean
show_download_progress (gpointer data)
{
  DownloadProgress *p = data;
  g_autofree char *what = g_strdup_printf ("Downloading the ImageNet Xception: %.1f of %.1f MB, "
                                           "%.1f MB/s —", p->done / 1e6, p->total / 1e6, p->rate);

  xs_session_progress (p->window->session, what, p->total > 0 ? (double) p->done / p->total : 0);
  g_object_unref (p->window);
  g_free (p);
  return G_SOURCE_REMOVE;
}

static gboolean
download_progress_cb (goffset done, goffset total, gpointer data)
{
  DownloadJob *job = data;
  gint64 now = g_get_monotonic_time ();

  if (job->t0 == 0)
    job->t0 = now, job->start = done;
  if (now - job->last > 200000 || done == total)
    {
      DownloadProgress *p = g_new0 (DownloadProgress, 1);
      p->window = g_object_ref (job->window);
      p->done = done, p->total = total;
      p->rate = (done - job->start) / MAX (1e-3, (now - job->t0) / 1e6) / 1e6;
      job->last = now;
      g_main_context_invoke (NULL, show_download_progress, p);
    }
  return !g_cancellable_is_cancelled (job->cancel);
}

static void
download_worker (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  DownloadJob *job = data;
  g_autofree char *dest = xc_imagenet_weights_path (FALSE);
  GError *error = NULL;
  /* a mirror (and the tests' unreachable address) */
  const char *url = g_getenv ("XCEPTION_STUDIO_IMAGENET_URL");

  if (xc_download_file (url ? url : XC_IMAGENET_URL, dest, XC_IMAGENET_MD5,
                        download_progress_cb, job, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_downloaded_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  XsWindow *self = XS_WINDOW (source);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);

  if (xs_session_failed (self->session, ok ? GINT_TO_POINTER (1) : NULL, error))
    return;
  xs_window_add_model (self, "imagenet:xception", TRUE);
}

static void
download_imagenet_action (GtkWidget *widget, const char *name, GVariant *param)
{
  XsWindow *self = XS_WINDOW (widget);
  g_autofree char *dest = xc_imagenet_weights_path (FALSE);
  g_autoptr(GTask) task = NULL;
  DownloadJob *job;

  if (g_file_test (dest, G_FILE_TEST_IS_REGULAR))
    {
      xs_window_add_model (self, "imagenet:xception", TRUE);
      return;
    }
  xs_session_restart (&self->download_cancel);
  job = g_new0 (DownloadJob, 1);
  job->window = g_object_ref (self);
  job->cancel = g_object_ref (self->download_cancel);
  xs_session_begin (self->session, "Downloading the ImageNet Xception (88 MB)…");
  task = g_task_new (self, self->download_cancel, on_downloaded_cb, NULL);
  g_task_set_task_data (task, job, download_job_free);
  g_task_run_in_thread (task, download_worker);
}

static void
cancel_action (GtkWidget *widget, const char *name, GVariant *param)
{
  _xs_window_cancel_all (XS_WINDOW (widget));
}

static void
dismiss_banner_action (GtkWidget *widget, const char *name, GVariant *param)
{
  XS_WINDOW (widget)->banner_sticky = FALSE;
  gtk_revealer_set_reveal_child (XS_WINDOW (widget)->banner_revealer, FALSE);
}

/* Projector mode: Ctrl+plus / Ctrl+minus scale every text of the window
 * (50% to 300%), Ctrl+0 resets; a CSS font-size on labels, text fields and
 * the drawn widgets, which scale their text and cells by it (xs_text_scale) */
static void set_zoom (XsWindow *self, int percent);

/**
 * xs_window_set_zoom:
 * @percent: 50 to 300
 *
 * Projector mode from the start (`--zoom`), as Ctrl+plus would set it.
 */
void
xs_window_set_zoom (XsWindow *self, int percent)
{
  set_zoom (self, percent);
}

static void
set_zoom (XsWindow *self, int percent)
{
  g_autofree char *css = NULL;

  self->zoom = CLAMP (percent, 50, 300);
  if (self->zoom_css == NULL)
    {
      self->zoom_css = gtk_css_provider_new ();
      gtk_style_context_add_provider_for_display (gtk_widget_get_display (GTK_WIDGET (self)),
                                                  GTK_STYLE_PROVIDER (self->zoom_css),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION + 1);
    }
  /* labels and text fields (which do not nest) scale from the inherited size */
  css = g_strdup_printf ("window.xs-main label, window.xs-main text, window.xs-main spinbutton, "
                         "window.xs-main xs-bars, window.xs-main xs-feature-grid, "
                         "window.xs-main xs-sep-lesson, window.xs-main xs-cost-chart, "
                         "window.xs-main xs-arch-view, window.xs-main drawingarea "
                         "{ font-size: %.2fem; }", self->zoom / 100.0);
  gtk_css_provider_load_from_data (self->zoom_css, css, -1);
}

static void
zoom_action (GtkWidget *widget, const char *name, GVariant *param)
{
  XsWindow *self = XS_WINDOW (widget);
  int current = self->zoom ? self->zoom : 100;

  if (g_str_equal (name, "win.zoom-in"))
    set_zoom (self, current + 25);
  else if (g_str_equal (name, "win.zoom-out"))
    set_zoom (self, current - 25);
  else
    set_zoom (self, 100);
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
        _xs_window_show_error (self, error->message);
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

/**
 * xs_window_open_boxes:
 *
 * Reads a boxes file; the explanation view draws the boxes of the image it
 * shows, with hit or miss. A bad file is reported and the old boxes stay.
 */
void
xs_window_open_boxes (XsWindow *self, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) regions = xc_boxes_read (path, &error);

  if (regions == NULL)
    {
      _xs_window_show_error (self, error->message);
      return;
    }
  xs_explain_view_set_boxes (self->explain_page, regions);
}

/* --over-input, --map-grid */
void
xs_window_set_overlay (XsWindow *self, gboolean over_input, gboolean grid)
{
  xs_explain_view_set_overlay (self->explain_page, over_input, grid);
}

/**
 * xs_window_set_image_options:
 *
 * The frame and window (--frame, --window) the next image opens with.
 */
void
xs_window_set_image_options (XsWindow *self, const XcImageOptions *options)
{
  self->first_image_options = *options;
}

void
_xs_window_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.open-image", NULL, open_image_action);
  gtk_widget_class_install_action (widget_class, "win.open-model", NULL, open_model_action);
  gtk_widget_class_install_action (widget_class, "win.open-recent", "s", open_recent_action);
  gtk_widget_class_install_action (widget_class, "win.open-boxes", NULL, open_boxes_action);
  gtk_widget_class_install_action (widget_class, "win.paste-image", NULL, paste_image_action);
  gtk_widget_class_install_action (widget_class, "win.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "win.download-imagenet", NULL,
                                   download_imagenet_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-banner", NULL,
                                   dismiss_banner_action);
  gtk_widget_class_install_action (widget_class, "win.view", "s", view_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-reset", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.export", "s", export_action);
}
