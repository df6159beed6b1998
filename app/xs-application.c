/* SPDX-License-Identifier: MIT
 *
 * XsApplication: startup (CSS, accelerators, app.* actions), the command
 * line (--model, --view, --layer, --method, --class, --screenshot, IMAGE),
 * and one window per activation.
 */
#define G_LOG_DOMAIN "xs-application"

#include <string.h>

#include "xs-application.h"
#include "xc.h"
#include "xs-window.h"

struct _XsApplication {
  GtkApplication parent_instance;

  /* from the command line */
  char *model;
  char *view;
  char *layer;
  char *method;
  int   class_index;
  char *screenshot;
  int   size_w, size_h;   /* --size, or 0 */
  int   zoom;             /* --zoom percent, or 0 */
  char *timings;
  gboolean visit_all;
  char *compare_model;
  char *compare_folder;
  XcImageOptions image_options;   /* --window, --frame */
  gboolean over_input;            /* --over-input */
  gboolean map_grid;              /* --map-grid */
  char *boxes;                    /* --boxes */
};

G_DEFINE_FINAL_TYPE (XsApplication, xs_application, GTK_TYPE_APPLICATION)

static const char *views[] = { "predictions", "features", "explain", "costs", "architecture",
                               "separable", "compare", NULL };

static char *
default_model (void)
{
  return g_strdup (xc_model_default_spec ());
}

static void
add_embedded_models (XsWindow *win)
{
  g_auto(GStrv) names = g_resources_enumerate_children (XC_RESOURCE_PREFIX "models/",
                                                        G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  for (guint i = 0; names && names[i]; i++)
    if (g_str_has_suffix (names[i], ".h5"))
      {
        g_autofree char *spec = g_strdup_printf ("embedded:%.*s",
                                                 (int) (strlen (names[i]) - 3), names[i]);
        xs_window_add_model (win, spec, FALSE);
      }
}

static XsWindow *
new_window (XsApplication *self)
{
  XsWindow *win = xs_window_new (GTK_APPLICATION (self));
  XsWindowRequest req = { self->view, self->layer, self->method, self->class_index,
                          self->compare_model, self->compare_folder };
  g_autofree char *def = default_model ();
  g_autofree char *weights = xc_imagenet_weights_path (FALSE);

  /* the real ImageNet Xception first, once downloaded */
  if (g_file_test (weights, G_FILE_TEST_IS_REGULAR))
    xs_window_add_model (win, "imagenet:xception", FALSE);
  add_embedded_models (win);
  xs_window_add_model (win, "builtin:xception", FALSE);
  xs_window_apply_request (win, &req);
  xs_window_set_image_options (win, &self->image_options);
  xs_window_set_overlay (win, self->over_input, self->map_grid);
  if (self->boxes)
    xs_window_open_boxes (win, self->boxes);
  xs_window_add_model (win, self->model ? self->model : def, TRUE);
  if (self->timings)
    xs_window_set_timings_path (win, self->timings);
  if (self->visit_all)
    xs_window_visit_all_before_screenshot (win);
  if (self->screenshot)
    xs_window_screenshot_when_done (win, self->screenshot);
  if (self->size_w > 0)
    gtk_window_set_default_size (GTK_WINDOW (win), self->size_w, self->size_h);
  if (self->zoom > 0)
    xs_window_set_zoom (win, self->zoom);
  return win;
}

static void
xs_application_activate (GApplication *app)
{
  XsWindow *win = new_window (XS_APPLICATION (app));

  /* no image given: one of the embedded Fashion-MNIST samples */
  xs_window_open_image (win, XC_DEFAULT_SAMPLE);
  gtk_window_present (GTK_WINDOW (win));
}

static void
xs_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  XsWindow *win = new_window (XS_APPLICATION (app));
  g_autofree char *path = n_files > 0 ? g_file_get_path (files[0]) : NULL;

  if (path)
    xs_window_open_image (win, path);
  gtk_window_present (GTK_WINDOW (win));
}

static int
xs_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  XsApplication *self = XS_APPLICATION (app);
  const char *s;

  if (g_variant_dict_lookup (options, "model", "&s", &s))
    self->model = g_strdup (s);
  if (g_variant_dict_lookup (options, "view", "&s", &s))
    {
      if (!g_strv_contains (views, s))
        {
          g_printerr ("xception-studio: --view %s: not one of predictions, features, explain, "
                      "costs, architecture, separable, compare\n", s);
          return 2;
        }
      self->view = g_strdup (s);
    }
  if (g_variant_dict_lookup (options, "layer", "&s", &s))
    self->layer = g_strdup (s);
  if (g_variant_dict_lookup (options, "method", "&s", &s))
    {
      XcMethod m;
      if (!xc_method_from_string (s, &m))
        {
          g_printerr ("xception-studio: --method %s: unknown (gradcam, gradcam++, xgradcam, "
                      "hirescam, layercam, scorecam, ablationcam, eigencam, saliency, smoothgrad, "
                      "integrated-gradients, guided-backprop, guided-gradcam, occlusion)\n", s);
          return 2;
        }
      self->method = g_strdup (s);
    }
  if (g_variant_dict_lookup (options, "class", "i", &self->class_index) &&
      self->class_index < 0)
    {
      g_printerr ("xception-studio: --class must be 0 or more\n");
      return 2;
    }
  if (g_variant_dict_lookup (options, "window", "&s", &s))
    {
      g_autoptr(GError) error = NULL;
      if (!xc_parse_window (s, &self->image_options.center, &self->image_options.width, &error))
        {
          g_printerr ("xception-studio: %s\n", error->message);
          return 2;
        }
      self->image_options.has_window = TRUE;
    }
  if (g_variant_dict_lookup (options, "frame", "i", &self->image_options.frame) &&
      self->image_options.frame < 0)
    {
      g_printerr ("xception-studio: --frame counts from 0\n");
      return 2;
    }
  if (g_variant_dict_lookup (options, "boxes", "^&ay", &s))
    self->boxes = g_strdup (s);
  self->over_input = g_variant_dict_contains (options, "over-input");
  self->map_grid = g_variant_dict_contains (options, "map-grid");
  if (g_variant_dict_lookup (options, "compare-model", "&s", &s))
    self->compare_model = g_strdup (s);
  if (g_variant_dict_lookup (options, "compare-folder", "^&ay", &s))
    self->compare_folder = g_strdup (s);
  if (g_variant_dict_lookup (options, "screenshot", "^&ay", &s))
    self->screenshot = g_strdup (s);
  if (g_variant_dict_lookup (options, "zoom", "i", &self->zoom) &&
      (self->zoom < 50 || self->zoom > 300))
    {
      g_printerr ("xception-studio: --zoom %d: 50 to 300 (percent)\n", self->zoom);
      return 2;
    }
  if (g_variant_dict_lookup (options, "size", "&s", &s))
    {
      char *end = NULL;
      gint64 w = g_ascii_strtoll (s, &end, 10), h = 0;
      if (end != NULL && (*end == 'x' || *end == 'X'))
        h = g_ascii_strtoll (end + 1, &end, 10);
      if (end == NULL || *end != '\0' || w < 640 || h < 480 || w > 16384 || h > 16384)
        {
          g_printerr ("xception-studio: --size %s: expected WIDTHxHEIGHT, 640x480 to "
                      "16384x16384\n", s);
          return 2;
        }
      self->size_w = (int) w, self->size_h = (int) h;
    }
  if (g_variant_dict_lookup (options, "timings", "^&ay", &s))
    {
      if (self->screenshot == NULL)
        {
          g_printerr ("xception-studio: --timings needs --screenshot (it is written when the "
                      "screenshot is taken)\n");
          return 2;
        }
      self->timings = g_strdup (s);
    }
  if (g_variant_dict_contains (options, "visit-all"))
    {
      if (self->screenshot == NULL)
        {
          g_printerr ("xception-studio: --visit-all needs --screenshot\n");
          return 2;
        }
      self->visit_all = TRUE;
    }
  return -1;
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer data)
{
  static const char *authors[] = { "The Xception Studio developers", NULL };
  GtkWindow *win = gtk_application_get_active_window (GTK_APPLICATION (data));

  /* license-type MIT_X11 makes GTK 4.8 say "See the The MIT License": the
   * text is given instead */
  gtk_show_about_dialog (win, "program-name", "Xception Studio", "version", PACKAGE_VERSION,
                         "comments", "Look inside Xception convolutional networks: predictions, "
                                     "feature maps, explanations and costs.",
                         "license-type", GTK_LICENSE_CUSTOM,
                         "license", "Xception Studio is free software under the MIT License: "
                                    "use, copy, modify and distribute it freely, with the "
                                    "copyright notice. It comes with no warranty.",
                         "wrap-license", TRUE, "authors", authors,
                         "logo-icon-name", "org.xceptionstudio.XceptionStudio", NULL);
}

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer data)
{
  /* every window closes (and saves its state) before the application ends */
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (data));

  for (GList *l = windows; l; )
    {
      GList *next = l->next;
      gtk_window_close (GTK_WINDOW (l->data));
      l = next;
    }
  g_application_quit (G_APPLICATION (data));
}

static void
xs_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { "about", about_action },
    { "quit", quit_action },
  };
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "win.open-image", { "<Primary>o", NULL } },
    { "win.open-model", { "<Primary><Shift>o", NULL } },
    { "win.paste-image", { "<Primary><Shift>v", NULL } },
    { "win.cancel", { "Escape", NULL } },
    { "win.view::predictions", { "<Primary>1", NULL } },
    { "win.view::features", { "<Primary>2", NULL } },
    { "win.view::explain", { "<Primary>3", NULL } },
    { "win.view::costs", { "<Primary>4", NULL } },
    { "win.view::architecture", { "<Primary>5", NULL } },
    { "win.view::separable", { "<Primary>6", NULL } },
    { "win.view::compare", { "<Primary>7", NULL } },
    { "win.export::overlay", { "<Primary>e", NULL } },
    { "win.show-help-overlay", { "<Primary>question", NULL } },
    { "app.quit", { "<Primary>q", NULL } },
    { "window.close", { "<Primary>w", NULL } },
    { "win.zoom-in", { "<Primary>plus", "<Primary>equal" } },
    { "win.zoom-out", { "<Primary>minus", NULL } },
    { "win.zoom-reset", { "<Primary>0", NULL } },
  };
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (xs_application_parent_class)->startup (app);
  gtk_window_set_default_icon_name ("org.xceptionstudio.XceptionStudio");
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
  /* GtkApplication does not load style.css by itself (AdwApplication would) */
  gtk_css_provider_load_from_resource (css, "/org/xceptionstudio/XceptionStudio/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void
xs_application_finalize (GObject *object)
{
  XsApplication *self = XS_APPLICATION (object);

  g_free (self->model);
  g_free (self->view);
  g_free (self->layer);
  g_free (self->method);
  g_free (self->screenshot);
  g_free (self->timings);
  g_free (self->compare_model);
  g_free (self->compare_folder);
  g_free (self->boxes);
  G_OBJECT_CLASS (xs_application_parent_class)->finalize (object);
}

static void
xs_application_class_init (XsApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = xs_application_finalize;
  app_class->activate = xs_application_activate;
  app_class->open = xs_application_open;
  app_class->startup = xs_application_startup;
  app_class->handle_local_options = xs_application_handle_local_options;
}

static void
xs_application_init (XsApplication *self)
{
  static const GOptionEntry options[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, NULL,
      "Keras .h5 file, builtin:xception[:options], imagenet:xception or embedded:NAME", "MODEL" },
    { "view", 0, 0, G_OPTION_ARG_STRING, NULL,
      "predictions, features, explain, costs, architecture, separable or compare", "VIEW" },
    { "compare-model", 0, 0, G_OPTION_ARG_STRING, NULL, "The second model of the Compare view",
      "MODEL" },
    { "layer", 0, 0, G_OPTION_ARG_STRING, NULL, "Layer to explain and show", "NAME" },
    { "method", 0, 0, G_OPTION_ARG_STRING, NULL, "Explanation method (gradcam ...)", "NAME" },
    { "class", 0, 0, G_OPTION_ARG_INT, NULL, "Class to explain (default: the top-1)", "IDX" },
    { "window", 0, 0, G_OPTION_ARG_STRING, NULL,
      "VOI window of a DICOM or 16-bit image, in its units (e.g. -600,1500)", "C,W" },
    { "frame", 0, 0, G_OPTION_ARG_INT, NULL, "Frame of a multi-frame DICOM file", "N" },
    { "over-input", 0, 0, G_OPTION_ARG_NONE, NULL,
      "Draw the explanation over what the network saw (model size and channels)", NULL },
    { "map-grid", 0, 0, G_OPTION_ARG_NONE, NULL, "Draw the explanation map's cells", NULL },
    { "boxes", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      "Ground-truth boxes (image,x,y,width,height,label) drawn over explanations", "FILE.csv" },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      "When all work is done, save the window as a PNG and exit", "FILE.png" },
    { "compare-folder", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      "Run both Compare models over this folder (class subfolders optional)", "DIR" },
    { "zoom", 0, 0, G_OPTION_ARG_INT, NULL,
      "Projector mode: text and drawings at this size, 50 to 300 (Ctrl+plus/minus/0 in the window)",
      "PERCENT" },
    { "size", 0, 0, G_OPTION_ARG_STRING, NULL,
      "The window's size (a screenshot's too; screenshots are 1290x812 otherwise)", "WxH" },
    { "visit-all", 0, 0, G_OPTION_ARG_NONE, NULL,
      "With --screenshot: show every view in turn (each until its work is done) first", NULL },
    { "timings", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      "With --screenshot: write predictions_ms, explanation_ms, all_done_ms, peak_rss_bytes "
      "and model as JSON", "FILE.json" },
    { NULL }
  };

  self->class_index = -1;
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), "[IMAGE]");
}

XsApplication *
xs_application_new (void)
{
  return g_object_new (XS_TYPE_APPLICATION,
                       "application-id", "org.xceptionstudio.XceptionStudio",
                       "flags", G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/org/xceptionstudio/XceptionStudio",
                       NULL);
}
