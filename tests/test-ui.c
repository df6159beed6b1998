/* SPDX-License-Identifier: MIT
 *
 * The real window under a display (Xvfb in CI, GSK_RENDERER=cairo): open a
 * model and an image, wait for the worker threads, check what the views
 * show, switch every view, pick a layer and a method, export, and take a
 * non-blank screenshot of each view. Skips without a display.
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "test-helpers.h"
#include "xs-bars.h"
#include "xs-cost-chart.h"
#include "xs-feature-grid.h"
#include "xs-image-panel.h"
#include "xs-sep-lesson.h"
#include "xs-arch-view.h"
#include "xs-util.h"
#include "xs-window.h"
#include "xs-inference-private.h"

static char *fer_model;
static char *face;

static void
wait_idle (XsWindow *win)
{
  gint64 end = g_get_monotonic_time () + 120 * G_USEC_PER_SEC;

  /* let the queued work start, then wait for it to finish */
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  while (xs_window_is_busy (win) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_false (xs_window_is_busy (win));
}

/* A named widget of the window's template or of one of its pages' */
static gpointer
child (XsWindow *win, const char *name)
{
  static const char *pages[] = { "predictions", "features", "explain", "costs", "architecture",
                                 "separable", "compare" };
  gpointer w = gtk_widget_get_template_child (GTK_WIDGET (win), XS_TYPE_WINDOW, name);

  for (guint i = 0; w == NULL && i < G_N_ELEMENTS (pages); i++)
    {
      GtkWidget *page = xs_window_get_page (win, pages[i]);
      g_assert_nonnull (page);
      w = gtk_widget_get_template_child (page, G_OBJECT_TYPE (page), name);
    }
  if (w == NULL)
    w = gtk_widget_get_template_child (GTK_WIDGET (gtk_widget_get_template_child (
                                         GTK_WIDGET (win), XS_TYPE_WINDOW, "image_panel")),
                                       XS_TYPE_IMAGE_PANEL, name);
  if (w == NULL)
    g_test_message ("no widget named %s", name);
  g_assert_nonnull (w);
  return w;
}

/* A PNG with more than a handful of distinct colours */
static void
assert_png_not_blank (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcImage) img = xc_image_load (path, &error);
  g_autoptr(GHashTable) colours = g_hash_table_new (g_direct_hash, g_direct_equal);

  g_assert_no_error (error);
  g_assert_cmpint (img->w, >=, 1280);
  g_assert_cmpint (img->h, >=, 800);
  for (size_t p = 0; p < (size_t) img->w * img->h; p += 7)
    {
      guint key = 0;
      for (int k = 0; k < img->c; k++)
        key = key * 256 + (guint) img->data[p * img->c + k];
      g_hash_table_add (colours, GUINT_TO_POINTER (key + 1));
    }
  g_test_message ("%s: %u colours", path, g_hash_table_size (colours));
  g_assert_cmpuint (g_hash_table_size (colours), >, 50);
}

static XsWindow *
open_window (const char *model, const char *image)
{
  XsWindow *win = xs_window_new (NULL);

  gtk_window_set_default_size (GTK_WINDOW (win), 1290, 812);
  gtk_window_present (GTK_WINDOW (win));
  xs_window_add_model (win, model, TRUE);
  wait_idle (win);
  if (image)
    {
      xs_window_open_image (win, image);
      wait_idle (win);
    }
  return win;
}

/* The explain page's layer and class lists wait for a new model's first
 * analysis (filling them took the engine's CPU): with no image they are
 * filled all the same, the default layer chosen, before the window is idle.
 * A random-weights model says so from the moment it is loaded. */
static void
test_explain_lists_without_image (void)
{
  XsWindow *win = open_window ("builtin:xception:size=71,width=1/8,classes=10", NULL);
  GtkDropDown *layer = child (win, "layer_dropdown"), *cls = child (win, "class_dropdown");
  GtkStringObject *s;
  GtkLabel *notice;
  g_autofree char *text = NULL, *img = NULL, *img71 = NULL;

  g_assert_null (xs_window_get_last_error (win));
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (layer)), >, 100);
  s = GTK_STRING_OBJECT (gtk_drop_down_get_selected_item (layer));
  g_assert_cmpstr (gtk_string_object_get_string (s), ==, "block14_sepconv2_act");
  /* "Top-1 class" and the 10 classes */
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (cls)), ==, 11);
  /* the model's own notice is there before any image, and an image that
   * adds none leaves the label as it was (not laid out again) */
  notice = child (win, "notice_label");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (notice)));
  g_assert_nonnull (strstr (gtk_label_get_text (notice), "random weights"));
  text = g_strdup (gtk_label_get_text (notice));
  img = g_test_build_filename (G_TEST_DIST, "..", "resources", "samples",
                               "fmnist-test-0002-trouser.png", NULL);
  img71 = g_strdup_printf ("%s/xs-test-notice-%d.png", g_get_tmp_dir (), (int) getpid ());
  {
    g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_file (img, NULL);
    g_autoptr(GdkPixbuf) big = NULL;

    g_assert_nonnull (pb);
    big = gdk_pixbuf_scale_simple (pb, 71, 71, GDK_INTERP_BILINEAR);
    g_assert_true (gdk_pixbuf_save (big, img71, "png", NULL, NULL));
  }
  xs_window_open_image (win, img71);
  wait_idle (win);
  g_assert_nonnull (xs_window_get_analysis (win));
  g_assert_cmpstr (gtk_label_get_text (notice), ==, text);
  gtk_window_destroy (GTK_WINDOW (win));
  g_unlink (img71);
}

/* The separable lesson on a seeded Xception's block2_sepconv1 (8 channels
 * in, 16 out) with a seeded input: its stages (6 channels drawn, the rest,
 * the pointwise sum, the cost), the stage's paragraph in bold, d[c] the sum
 * of its window times its filter, the shared-cost sum; shown, it is tall
 * enough for its rows, and stages past the end stop at the cost */
static void
test_sep_lesson (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/8,classes=10",
                                             &error);
  GtkWidget *win = gtk_window_new ();
  XsSepLesson *lesson = XS_SEP_LESSON (xs_sep_lesson_new ());
  const XcNode *node, *in;
  g_autofree float *x = NULL, *dw = NULL;
  g_autofree char *words = NULL, *want = NULL;
  guint id;
  XcTensor xt;
  double d2 = 0;

  g_assert_no_error (error);
  g_assert_true (xc_model_lookup (m, "block2_sepconv1", &id, &error));
  node = xc_model_node (m, id);
  in = xc_model_node (m, node->inputs[0]);
  x = g_new (float, (size_t) in->h * in->w * in->c);
  for (size_t i = 0; i < (size_t) in->h * in->w * in->c; i++)
    x[i] = xc_seeded_uniform (3, 0, i) - 0.5f;
  dw = g_new (float, (size_t) node->h * node->w * in->c);
  xt = (XcTensor) { x, 1, in->h, in->w, in->c };
  xc_sepconv_depthwise_output (m, id, &xt, dw);
  xs_sep_lesson_set (lesson, node, in, x, dw, 5, 7, 3);
  g_assert_cmpint (xs_sep_lesson_get_shown (lesson), ==, 6);
  g_assert_cmpint (xs_sep_lesson_get_n_stages (lesson), ==, 6 + 1 + 2);
  xs_sep_lesson_set_stage (lesson, 2);
  g_assert_cmpint (xs_sep_lesson_stage_channel (lesson), ==, 2);
  words = xs_sep_lesson_describe (lesson, 0.0f);
  /* d[2]: its window (same padding, stride 1: rows 4-6, columns 6-8) times its filter */
  for (int ky = 0; ky < 3; ky++)
    for (int kx = 0; kx < 3; kx++)
      d2 += (double) x[((size_t) (4 + ky) * in->w + 6 + kx) * in->c + 2] *
            node->params[0].data[(ky * 3 + kx) * in->c + 2];
  g_assert_cmpfloat_with_epsilon (d2, dw[((size_t) 5 * node->w + 7) * in->c + 2], 1e-5);
  want = g_strdup_printf ("= d[2] = %.5f</b>", d2);
  g_test_message ("%s", words);
  g_assert_nonnull (strstr (words, "<b>Depthwise, channel 2:"));
  g_assert_nonnull (strstr (words, want));
  g_assert_nonnull (strstr (words, "72 + 16 × 8 = 200"));
  g_assert_nonnull (strstr (words, "16 × 72 = 1152"));
  g_assert_nonnull (strstr (words, "(differs)"));   /* 0.0 is not the output */
  gtk_window_set_child (GTK_WINDOW (win), GTK_WIDGET (lesson));
  gtk_window_set_default_size (GTK_WINDOW (win), 700, 900);
  gtk_window_present (GTK_WINDOW (win));
  for (int i = 0; i < 40 && gtk_widget_get_height (GTK_WIDGET (lesson)) <= 0; i++)
    {
      g_usleep (20000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  {
    GtkWidget *w = GTK_WIDGET (lesson);
    g_assert_cmpint (gtk_widget_get_height (w), >, 400);
    g_assert_cmpint (xs_sep_lesson_get_stage (lesson), ==, 2);
    xs_sep_lesson_set_stage (lesson, 99);
    g_assert_cmpint (xs_sep_lesson_get_stage (lesson), ==, 8);
    g_assert_cmpint (xs_sep_lesson_stage_channel (lesson), ==, -1);
  }
  gtk_window_destroy (GTK_WINDOW (win));
}

/* The architecture drawing of Xception: Fit zooms the whole graph into the
 * space given (out, to at most its width and height), the shortcut lane's
 * nodes sit beside the main lane (conv2d_1 right of block2_sepconv1, level
 * with it) */
static void
test_arch_fit (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/8,classes=10",
                                             &error);
  XsArchView *view = XS_ARCH_VIEW (g_object_ref_sink (xs_arch_view_new ()));
  int w, h, nat;
  guint sc, sh;

  g_assert_no_error (error);
  xs_arch_view_set_model (view, m, NULL);
  gtk_widget_measure (GTK_WIDGET (view), GTK_ORIENTATION_HORIZONTAL, -1, &w, &nat, NULL, NULL);
  gtk_widget_measure (GTK_WIDGET (view), GTK_ORIENTATION_VERTICAL, -1, &h, &nat, NULL, NULL);
  g_assert_cmpint (w, >, 2000);
  xs_arch_view_fit (view, 1000, 800);
  g_assert_cmpfloat (xs_arch_view_get_zoom (view), <, 1.0);
  gtk_widget_measure (GTK_WIDGET (view), GTK_ORIENTATION_HORIZONTAL, -1, &w, &nat, NULL, NULL);
  gtk_widget_measure (GTK_WIDGET (view), GTK_ORIENTATION_VERTICAL, -1, &h, &nat, NULL, NULL);
  g_test_message ("fitted: %d x %d at %.2f", w, h, xs_arch_view_get_zoom (view));
  g_assert_true ((w <= 1001 && h <= 801) || xs_arch_view_get_zoom (view) <= 0.2 + 1e-9);
  /* lanes: at zoom 1, conv2d_1 is right of block2_sepconv1 and level with it */
  xs_arch_view_set_zoom (view, 1.0);
  g_assert_true (xc_model_lookup (m, "block2_sepconv1", &sh, NULL));
  g_assert_true (xc_model_lookup (m, "conv2d_1", &sc, NULL));
  {
    double x, y;
    gboolean found = FALSE;
    for (y = 0; y < 200 && !found; y += 2)
      for (x = 0; x < 3000 && !found; x += 4)
        found = xs_arch_view_node_at (view, x, y) == (int) sh;
    g_assert_true (found);
    y -= 2, x -= 4;
    g_assert_cmpint (xs_arch_view_node_at (view, x + 240, y), ==, (int) sc);
  }
  g_object_unref (view);
}

/* Leaving the separable page releases its layer's tensors at once, before
 * the stack's crossfade ends and before the next page's work starts (they
 * made the app's peak memory); back during the crossfade (the page still
 * mapped), it computes them again */
static void
test_separable_leaves (GtkStack *stack)
{
  XsWindow *win = XS_WINDOW (gtk_widget_get_root (GTK_WIDGET (stack)));
  XsFeatureGrid *grids[] = { child (win, "sep_input_grid"), child (win, "sep_dw_grid"),
                             child (win, "sep_pw_grid") };

  for (guint k = 0; k < G_N_ELEMENTS (grids); k++)
    g_assert_nonnull (xs_feature_grid_get_tensor (grids[k]));
  gtk_stack_set_visible_child_name (stack, "costs");
  for (guint k = 0; k < G_N_ELEMENTS (grids); k++)
    g_assert_null (xs_feature_grid_get_tensor (grids[k]));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (grids[0])));   /* still fading out */
  gtk_stack_set_visible_child_name (stack, "separable");
  wait_idle (win);
  for (guint k = 0; k < G_N_ELEMENTS (grids); k++)
    g_assert_nonnull (xs_feature_grid_get_tensor (grids[k]));
}

static void
test_window_fer (void)
{
  XsWindow *win;
  XsBars *bars;
  GtkStack *stack;
  GtkDropDown *method, *layer;
  const XcExplanation *e;
  g_autofree char *dir = NULL;
  static const char *views[] = { "predictions", "features", "explain", "costs", "architecture",
                                 "separable", "compare" };

  if (!g_file_test (fer_model, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("../shared is not here");
      return;
    }
  win = open_window (fer_model, face);
  g_assert_null (xs_window_get_last_error (win));

  /* predictions: the golden's order, happy first */
  bars = child (win, "bars");
  g_assert_cmpuint (xs_bars_get_n_rows (bars), ==, 7);
  g_assert_cmpstr (xs_bars_get_label (bars, 0), ==, "happy");
  g_assert_cmpstr (xs_bars_get_label (bars, 1), ==, "neutral");
  g_assert_cmpstr (gtk_label_get_text (child (win, "top_label")), ==, "happy — 57.0%");

  /* an explanation of the top class at the default layer came with it */
  e = xs_window_get_explanation (win);
  g_assert_nonnull (e);
  g_assert_cmpint (e->method, ==, XC_METHOD_GRADCAM);
  g_assert_cmpint (e->target_class, ==, 3);
  g_assert_cmpint (e->map_h, ==, 4);
  g_assert_nonnull (gtk_picture_get_paintable (child (win, "overlay_picture")));
  /* and its faithfulness figures after it */
  g_assert_true (g_str_has_prefix (gtk_label_get_text (child (win, "faithfulness_label")),
                                   "Faithfulness\ndeletion AUC"));

  /* every view, and a screenshot of each */
  stack = child (win, "stack");
  dir = g_dir_make_tmp ("xs-ui-XXXXXX", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s.png", dir, views[i]);
      g_autoptr(GError) error = NULL;
      gtk_stack_set_visible_child_name (stack, views[i]);
      wait_idle (win);
      /* a view just shown may need a frame or two before it has drawn anything */
      for (int tries = 0; tries < 40; tries++)
        {
          g_clear_error (&error);
          if (xs_window_save_screenshot (win, path, &error))
            break;
          g_usleep (50000);
          while (g_main_context_iteration (NULL, FALSE))
            ;
        }
      g_assert_no_error (error);
      assert_png_not_blank (path);
      g_unlink (path);
      if (g_str_equal (views[i], "separable"))
        test_separable_leaves (stack);
    }

  /* a laptop's window: at most 1,024 px wide at minimum, and screenshots at
   * 1,280x720 and 1,920x1,080 (every page scrolls rather than clips) */
  {
    int min_w = 0, nat_w = 0;
    const int sizes[][2] = { { 1280, 720 }, { 1920, 1080 } };
    gtk_widget_measure (GTK_WIDGET (win), GTK_ORIENTATION_HORIZONTAL, -1, &min_w, &nat_w, NULL,
                        NULL);
    g_test_message ("window width: minimum %d, natural %d", min_w, nat_w);
    g_assert_cmpint (min_w, <=, 1024);
    gtk_stack_set_visible_child_name (stack, "explain");
    for (guint k = 0; k < G_N_ELEMENTS (sizes); k++)
      {
        g_autofree char *path = g_strdup_printf ("%s/size-%d.png", dir, sizes[k][0]);
        g_autoptr(GError) error = NULL;
        g_autoptr(XcImage) shot = NULL;
        gtk_window_set_default_size (GTK_WINDOW (win), sizes[k][0], sizes[k][1]);
        for (int tries = 0; tries < 60; tries++)
          {
            g_usleep (50000);
            while (g_main_context_iteration (NULL, FALSE))
              ;
            g_clear_error (&error);
            if (ABS (gtk_widget_get_width (GTK_WIDGET (win)) - sizes[k][0]) <= 20 &&
                xs_window_save_screenshot (win, path, &error))
              break;
          }
        g_assert_no_error (error);
        shot = xc_image_load (path, &error);
        g_assert_no_error (error);
        /* (the client-side decorations take a few pixels of the default size) */
        g_assert_cmpint (ABS (shot->w - sizes[k][0]), <=, 20);
        g_assert_cmpint (ABS (shot->h - sizes[k][1]), <=, 20);
        g_unlink (path);
      }
    gtk_window_set_default_size (GTK_WINDOW (win), 1290, 812);
    wait_idle (win);
  }

  /* the architecture view (drawn once shown) has every node of the graph */
  g_assert_cmpuint (xs_window_get_n_arch_nodes (win), ==, 46);

  /* the compare view ran the model against itself (the only other model) */
  g_assert_nonnull (xs_window_get_compare (win));
  g_assert_cmpint (xs_window_get_compare (win)->classes[0], ==, 7);

  /* the feature grid has a tile per channel of the selected layer */
  g_assert_cmpint (xs_feature_grid_get_n_tiles (child (win, "feature_grid")), ==, 1);
  g_assert_cmpuint (xs_cost_chart_get_n_groups (child (win, "cost_chart")), >=, 4);

  /* choose a layer and a method: a new explanation of that kind */
  method = child (win, "method_dropdown");
  layer = child (win, "layer_dropdown");
  gtk_drop_down_set_selected (method, XC_METHOD_LAYERCAM);
  wait_idle (win);
  for (guint r = 0; r < g_list_model_get_n_items (gtk_drop_down_get_model (layer)); r++)
    {
      GtkStringObject *s = g_list_model_get_item (gtk_drop_down_get_model (layer), r);
      if (g_str_equal (gtk_string_object_get_string (s), "separable_conv2d_5"))
        gtk_drop_down_set_selected (layer, r);
      g_object_unref (s);
    }
  wait_idle (win);
  e = xs_window_get_explanation (win);
  g_assert_cmpint (e->method, ==, XC_METHOD_LAYERCAM);
  g_assert_cmpint (e->map_h, ==, 15);

  /* a class chosen in the predictions becomes the target */
  g_signal_emit_by_name (bars, "activated", 6);
  wait_idle (win);
  g_assert_cmpint (xs_window_get_explanation (win)->target_class, ==, 6);

  /* both models over a folder: FER's labels as class folders, the golden's answers */
  {
    g_autofree char *fdir = g_dir_make_tmp ("xs-ui-folder-XXXXXX", NULL);
    static const struct { const char *face, *cls; } files[] = {
      { "face_cap", "happy" }, { "face_woman", "happy" }, { "face_selfie", "neutral" } };
    const XsFolderResult *fr;
    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *cdir = g_build_filename (fdir, files[i].cls, NULL);
        g_autofree char *src_name = g_strdup_printf ("%s.png", files[i].face);
        g_autofree char *src = shared_path ("images", "faces", src_name, NULL);
        g_autofree char *dst = g_build_filename (cdir, src_name, NULL);
        g_autofree char *bytes = NULL;
        gsize len;
        g_mkdir_with_parents (cdir, 0755);
        g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
        g_assert_true (g_file_set_contents (dst, bytes, len, NULL));
      }
    xs_window_compare_folder (win, fdir);
    wait_idle (win);
    fr = xs_window_get_folder_result (win);
    g_assert_nonnull (fr);
    g_assert_cmpint (fr->dataset->n, ==, 3);
    g_assert_cmpfloat (fr->accuracy[0], ==, 1.0);
    g_assert_cmpfloat (fr->agreement, ==, 1.0);
    /* calibration: all right, so the error is 1 - mean confidence; no
     * discordant pairs for McNemar */
    {
      double mean = 0;
      for (int i = 0; i < 3; i++)
        mean += fr->prob[0][i] / 3.0;
      g_assert_cmpfloat_with_epsilon (fr->ece[0], 1.0 - mean, 1e-6);
      g_assert_cmpuint (fr->only_a + fr->only_b, ==, 0);
    }
    /* every row exported, CSV and JSON */
    {
      g_autofree char *csv = g_build_filename (dir, "rows.csv", NULL);
      g_autofree char *json = g_build_filename (dir, "rows.json", NULL);
      g_autofree char *text = NULL;
      g_auto(GStrv) lines = NULL;
      g_autoptr(JsonParser) jp = json_parser_new ();
      g_autoptr(GError) error = NULL;
      g_assert_true (xs_window_export (win, "folder", csv, &error));
      g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
      lines = g_strsplit (g_strstrip (text), "\n", -1);
      g_assert_cmpuint (g_strv_length (lines), ==, 4);
      g_assert_true (g_str_has_prefix (lines[0], "input,truth,a_class"));
      g_assert_true (xs_window_export (win, "folder", json, &error));
      g_assert_true (json_parser_load_from_file (jp, json, &error));
      g_assert_cmpuint (json_array_get_length (json_node_get_array (json_parser_get_root (jp))),
                        ==, 3);
      g_unlink (csv);
      g_unlink (json);
    }
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", fdir);
      g_assert_cmpint (system (cmd), ==, 0);
    }
  }

  /* the same faces without class subfolders: agreement only */
  {
    g_autofree char *fdir = g_dir_make_tmp ("xs-ui-flat-XXXXXX", NULL);
    static const char *faces[] = { "face_cap", "face_woman", "face_selfie" };
    const XsFolderResult *fr;
    for (guint i = 0; i < G_N_ELEMENTS (faces); i++)
      {
        g_autofree char *src_name = g_strdup_printf ("%s.png", faces[i]);
        g_autofree char *src = shared_path ("images", "faces", src_name, NULL);
        g_autofree char *dst = g_build_filename (fdir, src_name, NULL);
        g_autofree char *bytes = NULL;
        gsize len;
        g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
        g_assert_true (g_file_set_contents (dst, bytes, len, NULL));
      }
    xs_window_compare_folder (win, fdir);
    wait_idle (win);
    fr = xs_window_get_folder_result (win);
    g_assert_nonnull (fr);
    g_assert_true (fr->dataset->unlabelled);
    g_assert_cmpint (fr->dataset->n, ==, 3);
    g_assert_cmpfloat (fr->accuracy[0], <, 0);
    g_assert_cmpfloat (fr->agreement, ==, 1.0);
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", fdir);
      g_assert_cmpint (system (cmd), ==, 0);
    }
  }

  /* exports */
  {
    static const char *kinds[] = { "overlay", "grid", "predictions-csv", "predictions-json",
                                   "costs-csv", "costs-json", "report" };
    for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
      {
        g_autofree char *path = g_strdup_printf ("%s/%s", dir, kinds[i]);
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        g_assert_true (xs_window_export (win, kinds[i], path, &error));
        g_assert_no_error (error);
        g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
        if (g_str_equal (kinds[i], "predictions-csv"))
          g_assert_nonnull (strstr (text, "3,happy,"));
        if (g_str_equal (kinds[i], "report"))
          g_assert_true (g_str_has_prefix (text, "%PDF"));
        if (g_str_equal (kinds[i], "costs-csv"))
          g_assert_nonnull (strstr (text, "separable_conv2d_1,SeparableConv2D,\"(60, 60, 16)\",200,"
                                          "720000,1152,4147200"));
        g_unlink (path);
      }
  }
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (win));
}

/* A bad image and a bad model show an error in the window; it goes on */
static void
test_window_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("xs-ui-bad-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.png", NULL);
  g_autofree char *badh5 = g_build_filename (dir, "bad.h5", NULL);
  XsWindow *win;

  g_assert_true (g_file_set_contents (bad, "not an image", -1, NULL));
  g_assert_true (g_file_set_contents (badh5, "not a model", -1, NULL));
  win = open_window ("builtin:xception:size=71,width=1/16,classes=3", bad);
  g_assert_nonnull (xs_window_get_last_error (win));
  g_assert_nonnull (strstr (xs_window_get_last_error (win), "not an image"));
  g_assert_true (gtk_revealer_get_reveal_child (child (win, "banner_revealer")));

  xs_window_add_model (win, badh5, TRUE);
  wait_idle (win);
  g_assert_nonnull (strstr (xs_window_get_last_error (win), "not an HDF5 file"));

  /* the broken model is not listed, the selector shows the model running */
  {
    GtkDropDown *dd = child (win, "model_dropdown");
    GListModel *names = gtk_drop_down_get_model (dd);
    for (guint i = 0; i < g_list_model_get_n_items (names); i++)
      g_assert_null (strstr (gtk_string_list_get_string (GTK_STRING_LIST (names), i), "bad.h5"));
    g_assert_nonnull (strstr (gtk_string_list_get_string (GTK_STRING_LIST (names),
                                                          gtk_drop_down_get_selected (dd)),
                              "builtin:xception"));
  }

  /* and a good image afterwards still works, on the model that stayed loaded */
  if (g_file_test (face, G_FILE_TEST_EXISTS))
    {
      xs_window_open_image (win, face);
      wait_idle (win);
      g_assert_nonnull (xs_window_get_analysis (win));
      g_assert_cmpint (xs_window_get_analysis (win)->classes, ==, 3);
    }
  gtk_window_destroy (GTK_WINDOW (win));
  g_unlink (bad);
  g_unlink (badh5);
  g_rmdir (dir);
}

/* Window state in GSettings (the memory backend here): closing the window
 * saves the size, the analysed image, not the broken one */
static void
test_window_state (void)
{
  g_autofree char *img = g_test_build_filename (G_TEST_DIST, "..", "resources", "samples",
                                                "fmnist-test-0002-trouser.png", NULL);
  g_autofree char *dir = g_dir_make_tmp ("xs-ui-state-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.png", NULL);
  g_autoptr(GSettingsSchemaSource) src = g_settings_schema_source_new_from_directory (
    XS_BUILD_SCHEMA_DIR, g_settings_schema_source_get_default (), FALSE, NULL);
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettings) st = NULL;
  g_auto(GStrv) recent = NULL;
  XsWindow *win;

  g_assert_nonnull (src);
  schema = g_settings_schema_source_lookup (src, "org.xceptionstudio.XceptionStudio", FALSE);
  g_assert_nonnull (schema);
  st = g_settings_new_full (schema, NULL, NULL);
  g_assert_true (g_file_set_contents (bad, "not an image", -1, NULL));
  win = open_window (xc_model_default_spec (), img);
  xs_window_open_image (win, bad);
  wait_idle (win);
  gtk_window_set_default_size (GTK_WINDOW (win), 1111, 777);
  gtk_window_close (GTK_WINDOW (win));
  recent = g_settings_get_strv (st, "recent-images");
  g_assert_cmpuint (g_strv_length (recent), >=, 1);
  g_assert_cmpstr (recent[0], ==, img);
  g_assert_false (g_strv_contains ((const char *const *) recent, bad));
  g_assert_cmpint (g_settings_get_int (st, "window-width"), ==, 1111);
  g_clear_pointer (&recent, g_strfreev);

  /* projector mode: Ctrl+plus scales the window's text, Ctrl+0 resets it */
  win = open_window (xc_model_default_spec (), img);
  {
    int before, zoomed, after, bars_before, bars_zoomed;
    gtk_widget_measure (child (win, "model_info_label"), GTK_ORIENTATION_VERTICAL, 300, NULL,
                        &before, NULL, NULL);
    gtk_widget_measure (child (win, "bars"), GTK_ORIENTATION_VERTICAL, 300, NULL, &bars_before,
                        NULL, NULL);
    /* at 100% the drawn widgets draw at their own sizes */
    g_assert_cmpfloat_with_epsilon (xs_text_scale (child (win, "bars")), 1.0, 0.02);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.zoom-in", NULL));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.zoom-in", NULL));
    wait_idle (win);
    for (int i = 0; i < 20; i++)   /* styles are recomputed on the next frames */
      {
        g_usleep (20000);
        while (g_main_context_iteration (NULL, FALSE))
          ;
      }
    gtk_widget_measure (child (win, "model_info_label"), GTK_ORIENTATION_VERTICAL, 300, NULL,
                        &zoomed, NULL, NULL);
    /* the drawn widgets scale too: the prediction bars' rows */
    gtk_widget_measure (child (win, "bars"), GTK_ORIENTATION_VERTICAL, 300, NULL, &bars_zoomed,
                        NULL, NULL);
    g_test_message ("prediction bars: %d px high, %d at 150%%", bars_before, bars_zoomed);
    g_assert_cmpfloat ((double) bars_zoomed / bars_before, >, 1.3);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.zoom-reset", NULL));
    wait_idle (win);
    /* styles are recomputed on the next frames */
    for (int i = 0; i < 20; i++)
      {
        g_usleep (20000);
        while (g_main_context_iteration (NULL, FALSE))
          ;
      }
    gtk_widget_measure (child (win, "model_info_label"), GTK_ORIENTATION_VERTICAL, 300, NULL,
                        &after, NULL, NULL);
    g_test_message ("model info label (300 px wide): %d px high, %d at 150%%, %d reset", before,
                    zoomed, after);
    g_assert_cmpfloat ((double) zoomed / before, >, 1.3);
    g_assert_cmpint (after, ==, before);
  }
  gtk_window_destroy (GTK_WINDOW (win));
  g_unlink (bad);
  g_rmdir (dir);
}

/* A broken model on the command line: the embedded default instead, the
 * error in the banner (it stays after the image is analysed) */
static void
test_window_model_fallback (void)
{
  g_autofree char *dir = g_dir_make_tmp ("xs-ui-trunc-XXXXXX", NULL);
  g_autofree char *trunc = g_build_filename (dir, "trunc.h5", NULL);
  g_autofree char *img = g_test_build_filename (G_TEST_DIST, "..", "resources", "samples",
                                                "fmnist-test-0002-trouser.png", NULL);
  g_autofree char *src = g_test_build_filename (G_TEST_DIST, "data", "keras3",
                                                "xception-small-tfkeras.h5", NULL);
  g_autofree char *data = NULL;
  gsize len;
  XsWindow *win;

  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (trunc, data, MIN (len, 5000), NULL));
  win = open_window (trunc, img);
  wait_idle (win);
  g_assert_nonnull (xs_window_get_analysis (win));
  {
    g_autofree char *fallback = xs_model_display_name (xc_model_default_spec ());
    g_assert_cmpstr (xs_window_get_analysis (win)->model->display_name, ==, fallback);
  }
  g_assert_nonnull (xs_window_get_last_error (win));
  g_assert_nonnull (strstr (xs_window_get_last_error (win), "trunc.h5"));
  g_assert_true (gtk_revealer_get_reveal_child (child (win, "banner_revealer")));
  gtk_window_destroy (GTK_WINDOW (win));
  g_unlink (trunc);
  g_rmdir (dir);
}

/* A DICOM CT in the window: what it is, the notice, presets and reset
 * re-running the network on the windowed image, the frame picker */
static void
test_window_dicom (void)
{
  const char *ct = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm";
  const char *dose = "/usr/lib/python3/dist-packages/pydicom/data/test_files/rtdose.dcm";
  XsWindow *win;
  XsAnalysis *a;
  GtkDropDown *presets;
  float p_default, p_lung;
  int top;

  if (!g_file_test (ct, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("python3-pydicom's test files are not installed");
      return;
    }
  win = open_window (xc_model_default_spec (), ct);
  g_assert_null (xs_window_get_last_error (win));
  a = xs_window_get_analysis (win);
  g_assert_true (a->image->source->is_dicom);
  g_assert_false (a->options.has_window);
  g_assert_nonnull (strstr (gtk_label_get_text (child (win, "info_label")), "MONOCHROME2, CT"));
  g_assert_nonnull (strstr (gtk_label_get_text (child (win, "info_label")), "min-max"));
  g_assert_true (gtk_widget_get_visible (child (win, "window_box")));
  g_assert_false (gtk_widget_get_visible (child (win, "frame_box")));
  g_assert_true (gtk_widget_get_visible (child (win, "notice_label")));
  g_assert_nonnull (strstr (gtk_label_get_text (child (win, "notice_label")), "16-bit DICOM"));
  top = xs_top_of (a->probs, a->classes);
  p_default = a->probs[top];
  /* the seen image is the model's size: what the explanation can be drawn over */
  g_assert_cmpint (a->seen->w, ==, xc_model_input (a->model->model)->w);

  /* presets: default, then CT lung, mediastinum, bone, brain */
  presets = child (win, "preset_dropdown");
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (presets)), ==, 5);
  gtk_drop_down_set_selected (presets, 1);
  wait_idle (win);
  a = xs_window_get_analysis (win);
  g_assert_true (a->options.has_window);
  g_assert_cmpfloat (a->options.center, ==, -600);
  g_assert_cmpfloat (a->image->source->width, ==, 1500);
  p_lung = a->probs[top];
  g_assert_cmpfloat (fabsf (p_lung - p_default), >, 1e-4);
  g_assert_nonnull (strstr (gtk_label_get_text (child (win, "info_label")), "-600/1500"));

  g_signal_emit_by_name (child (win, "reset_button"), "clicked");
  wait_idle (win);
  a = xs_window_get_analysis (win);
  g_assert_false (a->options.has_window);
  g_assert_cmpfloat (a->probs[top], ==, p_default);

  /* a multi-frame file: the picker reads another frame */
  xs_window_open_image (win, dose);
  wait_idle (win);
  g_assert_true (gtk_widget_get_visible (child (win, "frame_box")));
  gtk_spin_button_set_value (child (win, "frame_spin"), 7);
  wait_idle (win);
  a = xs_window_get_analysis (win);
  g_assert_cmpint (a->options.frame, ==, 7);
  g_assert_cmpint (a->image->source->dicom.frame, ==, 7);
  g_assert_nonnull (strstr (gtk_label_get_text (child (win, "info_label")), "frame 7 of 15"));
  gtk_window_destroy (GTK_WINDOW (win));
}

/* The menu's "Download the ImageNet Xception" with the network unreachable:
 * the banner says so with the address, the window goes on */
static void
test_download_offline (void)
{
  XsWindow *win = open_window ("builtin:xception:size=71,width=1/16,classes=3", NULL);

  g_setenv ("XCEPTION_STUDIO_IMAGENET_URL", "http://127.0.0.1:1/w.h5", TRUE);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (win), "win.download-imagenet", NULL));
  wait_idle (win);
  g_assert_nonnull (xs_window_get_last_error (win));
  g_assert_nonnull (strstr (xs_window_get_last_error (win), "cannot reach http://127.0.0.1:1/w.h5"));
  g_assert_nonnull (strstr (xs_window_get_last_error (win), "put it at"));
  g_assert_true (gtk_revealer_get_reveal_child (child (win, "banner_revealer")));
  g_unsetenv ("XCEPTION_STUDIO_IMAGENET_URL");
  gtk_window_destroy (GTK_WINDOW (win));
}

static void
test_no_display (void)
{
  g_test_skip ("no display (run the suite under xvfb-run)");
}

/* xception-studio --screenshot --timings: the app itself, on its embedded
 * model and sample, writes the screenshot and every timing key with a
 * positive value (times from the image handed over; the explanation comes
 * after the predictions, all the work after both) */
static void
test_app_timings (void)
{
  const char *app = g_getenv ("XCEPTION_STUDIO");
  g_autofree char *dir = g_dir_make_tmp ("xs-ui-timings-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "explain.png", NULL);
  g_autofree char *json = g_build_filename (dir, "timings.json", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) env = g_get_environ ();
  const char *keys[] = { "predictions_ms", "explanation_ms", "all_done_ms",
                         "launch_to_predictions_ms", "peak_rss_bytes",
                         "peak_rss_with_screenshot_bytes" };
  const char *argv[] = { app, "--view", "explain", "--screenshot", png, "--timings", json, NULL };
  JsonObject *o;
  int status;

  g_assert_nonnull (app);
  env = g_environ_setenv (env, "XDG_CONFIG_HOME", dir, TRUE);
  env = g_environ_setenv (env, "XDG_DATA_HOME", dir, TRUE);
  g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  g_test_message ("%s%s", out, err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  assert_png_not_blank (png);
  g_assert_true (json_parser_load_from_file (parser, json, &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "model"), "embedded:"));
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_test_message ("%s = %g", keys[i], json_object_get_double_member (o, keys[i]));
      g_assert_cmpfloat (json_object_get_double_member (o, keys[i]), >, 0);
    }
  g_assert_cmpfloat (json_object_get_double_member (o, "explanation_ms"), >=,
                     json_object_get_double_member (o, "predictions_ms"));
  g_assert_cmpfloat (json_object_get_double_member (o, "all_done_ms"), >=,
                     json_object_get_double_member (o, "explanation_ms"));
  /* the peak once all was done cannot exceed the peak at the very end */
  g_assert_cmpint (json_object_get_int_member (o, "peak_rss_bytes"), <=,
                   json_object_get_int_member (o, "peak_rss_with_screenshot_bytes"));
  g_unlink (png);
  g_unlink (json);
  g_rmdir (dir);
}


/* Engine jobs run in one thread for the inference's life, even when GLib's
 * shared threads are busy with other work between them: each thread that
 * runs the engine starts an OpenMP team of its own, and with more libgomp
 * threads than cores every worker's spinning is cut short (app/xs-inference.c) */
static void
record_thread_job (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  g_task_return_pointer (task, g_thread_self (), NULL);
}

static void
sleep_job (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  g_usleep (200000);
  g_task_return_boolean (task, TRUE);
}

static void
got_result_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  *(gpointer *) data = g_task_propagate_pointer (G_TASK (result), NULL);
}

static void
test_inference_one_thread (void)
{
  g_autoptr(XsInference) inf = xs_inference_new ();
  gpointer threads[3] = { NULL, NULL, NULL };

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_autoptr(GTask) task = g_task_new (inf, NULL, got_result_cb, &threads[i]);
      GPtrArray *busy = g_ptr_array_new_with_free_func (g_object_unref);

      _xs_inference_run (inf, task, record_thread_job);
      while (threads[i] == NULL)
        g_main_context_iteration (NULL, TRUE);
      /* a pool thread left idle for half a second goes back to GLib's
       * shared threads (unless it is the pool's own), and GLib's shared pool
       * then takes it for its work */
      g_usleep (700000);
      for (int k = 0; k < 4; k++)
        {
          GTask *t = g_task_new (NULL, NULL, NULL, NULL);
          g_task_run_in_thread (t, sleep_job);
          g_ptr_array_add (busy, t);
        }
      g_usleep (20000);
      g_ptr_array_unref (busy);
    }
  g_assert_true (threads[1] == threads[0]);
  g_assert_true (threads[2] == threads[0]);
}

int
main (int argc, char **argv)
{
  int rc;

  xc_runtime_init (argv);
  g_test_init (&argc, &argv, NULL);
  g_setenv ("XDG_CONFIG_HOME", g_get_tmp_dir (), TRUE);
  /* no ImageNet weights there: the download test starts a download */
  {
    g_autofree char *data = g_strdup_printf ("%s/xs-ui-data-%d", g_get_tmp_dir (), (int) getpid ());
    g_setenv ("XDG_DATA_HOME", data, TRUE);
  }
  /* no session bus under Xvfb: the accessibility bridge would warn, and tests make warnings fatal */
  g_setenv ("GTK_A11Y", "none", FALSE);
  fer_model = shared_path ("models", "fer2013_mini_XCEPTION.102-0.66.hdf5", NULL);
  face = shared_path ("images", "faces", "face_cap.png", NULL);
  g_test_add_func ("/ui/inference/one-thread", test_inference_one_thread);
  if (gtk_init_check ())
    {
      g_test_add_func ("/ui/window/fer", test_window_fer);
      g_test_add_func ("/ui/explain/lists-without-image", test_explain_lists_without_image);
      g_test_add_func ("/ui/separable/lesson", test_sep_lesson);
      g_test_add_func ("/ui/architecture/fit-and-lanes", test_arch_fit);
      g_test_add_func ("/ui/window/errors", test_window_errors);
      g_test_add_func ("/ui/window/dicom", test_window_dicom);
      g_test_add_func ("/ui/window/model-fallback", test_window_model_fallback);
      g_test_add_func ("/ui/window/state", test_window_state);
      g_test_add_func ("/ui/window/download-offline", test_download_offline);
      g_test_add_func ("/ui/app/timings", test_app_timings);
    }
  else
    g_test_add_func ("/ui/no-display", test_no_display);
  rc = g_test_run ();
  g_free (fer_model);
  g_free (face);
  return rc;
}
