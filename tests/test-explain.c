/* SPDX-License-Identifier: MIT
 *
 * Explanations against PyTorch autograd (tests/make-goldens.py): layer and
 * input gradients at several depths, Grad-CAM, Grad-CAM++, XGrad-CAM,
 * HiRes-CAM, LayerCAM and Integrated Gradients on the FER model and the
 * seeded full-size Xception, within 1e-3 relative; every method on every
 * kind of layer; faithfulness curves; rendering; bad requests.
 */
#include <string.h>

#include "test-helpers.h"

static XcExplanation *
run_method (XcExplainer *ex, const XcModel *m, XcMethod method, const char *layer, int steps)
{
  g_autoptr(GError) error = NULL;
  XcExplainOptions o;
  XcExplanation *e;

  xc_explain_options_init (&o);
  o.method = method;
  o.steps = steps;
  if (layer)
    g_assert_true (xc_model_lookup (m, layer, &o.layer, &error));
  e = xc_explainer_run (ex, &o, NULL, NULL, &error);
  g_assert_no_error (error);
  return e;
}

/* A few elements may be routed differently: face_cap.png has flat regions
 * (24% of horizontal neighbours equal), so the float64 golden has exact
 * max-pool ties that float32 breaks by the GEMM kernel's rounding. Measured:
 * with OpenBLAS's SSE/AVX kernels 0 of 4096 beyond 1e-3 (worst 2.6e-7); with
 * its Haswell FMA kernels (AVX2 machines) 43 for the input gradient and 125
 * (3.1%) for the 16-step integrated gradients, worst 1.99e-2. */
static void
compare_full_mostly (const char *what, const float *ours, size_t n, const char *rel)
{
  int s[4], nd;
  size_t gn = 1;
  g_autofree float *g = load_golden (rel, s, &nd);

  for (int i = 0; i < nd; i++)
    gn *= s[i];
  g_assert_cmpuint (gn, ==, n);
  assert_mostly_close_rel (what, ours, g, n, 1e-3, 0.04, 3e-2);
}

static void
compare_full (const char *what, const float *ours, size_t n, const char *rel)
{
  int s[4], nd;
  size_t gn = 1;
  g_autofree float *g = load_golden (rel, s, &nd);

  for (int i = 0; i < nd; i++)
    gn *= s[i];
  g_assert_cmpuint (gn, ==, n);
  assert_close_rel (what, ours, g, n, 1e-3);
}

static void
compare_samples (const char *what, const float *ours, size_t n, const char *rel)
{
  int s[4], nd;
  g_autofree float *g = load_golden (rel, s, &nd);
  g_autofree float *picked = g_new (float, s[1]);

  for (int k = 0; k < s[1]; k++)
    {
      g_assert_cmpuint ((size_t) g[k], <, n);
      picked[k] = ours[(size_t) g[k]];
    }
  assert_mostly_close_rel (what, picked, g + s[1], s[1], 1e-3, 0.005, 2e-2);
}

static void
test_fer (void)
{
  g_autofree char *path = shared_path ("models", "fer2013_mini_XCEPTION.102-0.66.hdf5", NULL);
  g_autofree char *img = shared_path ("images", "faces", "face_cap.png", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = NULL;
  g_autoptr(XcImage) image = NULL;
  g_autoptr(XcExplainer) ex = NULL;
  g_autofree float *input = g_new (float, 64 * 64);
  g_autofree float *target = NULL;
  static const struct { XcMethod m; const char *golden; } cams[] = {
    { XC_METHOD_GRADCAM, "fer/explain/cam.gradcam.npy" },
    { XC_METHOD_GRADCAMPP, "fer/explain/cam.gradcam++.npy" },
    { XC_METHOD_XGRADCAM, "fer/explain/cam.xgradcam.npy" },
    { XC_METHOD_HIRESCAM, "fer/explain/cam.hirescam.npy" },
    { XC_METHOD_LAYERCAM, "fer/explain/cam.layercam.npy" },
  };
  static const char *layers[] = { "add_4", "separable_conv2d_5", "batch_normalization_8" };
  int ts[4], tn;
  guint def;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("../shared is not here");
      return;
    }
  m = xc_model_load_spec (path, &error);
  g_assert_no_error (error);
  g_assert_true (xc_model_default_cam_layer (m, &def, &error));
  g_assert_cmpstr (xc_model_node (m, def)->name, ==, "add_4");
  image = xc_image_load (img, &error);
  g_assert_true (xc_image_to_input (image, m, input, &error));
  ex = xc_explainer_new (m, &error);
  g_assert_true (xc_explainer_set_input (ex, input, &error));
  target = load_golden ("fer/explain/target.npy", ts, &tn);

  for (guint i = 0; i < G_N_ELEMENTS (cams); i++)
    {
      g_autoptr(XcExplanation) e = run_method (ex, m, cams[i].m, NULL, 0);
      g_assert_cmpint (e->target_class, ==, (int) target[0]);
      g_assert_cmpfloat_with_epsilon (e->score, target[1], 1e-4 * MAX (1, fabs (target[1])));
      g_assert_cmpint (e->map_h, ==, 4);
      compare_full (xc_method_name (cams[i].m), e->map, 16, cams[i].golden);
    }
  for (guint i = 0; i < G_N_ELEMENTS (layers); i++)
    {
      g_autoptr(XcExplanation) e = run_method (ex, m, XC_METHOD_GRADCAM, layers[i], 0);
      g_autofree char *rel = g_strdup_printf ("fer/explain/grad.%s.npy", layers[i]);
      compare_full (layers[i], e->grad, (size_t) e->grad_h * e->grad_w * e->grad_c, rel);
    }
  {
    g_autoptr(XcExplanation) e = run_method (ex, m, XC_METHOD_SALIENCY, NULL, 0);
    compare_full_mostly ("input gradient", e->grad, 64 * 64, "fer/explain/input_grad.npy");
  }
  {
    g_autoptr(XcExplanation) e = run_method (ex, m, XC_METHOD_INTEGRATED_GRADIENTS, NULL, 16);
    /* sixteen gradients at scaled inputs: ReLUs within rounding of 0 may flip (see
     * assert_mostly_close_rel) */
    compare_full_mostly ("integrated gradients", e->grad, 64 * 64, "fer/explain/ig16.npy");
  }
}

static void
test_xception (void)
{
  XcXceptionOptions opts;
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = NULL;
  g_autoptr(XcExplainer) ex = NULL;
  g_autofree float *input = g_new (float, 299 * 299 * 3);
  g_autofree float *target = NULL;
  static const char *layers[] = { "block14_sepconv2_act", "block8_sepconv2_act",
                                  "block4_sepconv2_bn" };
  int ts[4], tn;

  xc_xception_options_init (&opts);
  m = xc_xception_new (&opts, NULL, &error);
  xc_model_init_seeded (m, XC_XCEPTION_DEFAULT_SEED);
  for (size_t i = 0; i < 299 * 299 * 3; i++)
    input[i] = 2.0f * xc_seeded_uniform (7, 0, i) - 1.0f;
  ex = xc_explainer_new (m, &error);
  g_assert_true (xc_explainer_set_input (ex, input, &error));
  target = load_golden ("xception/explain/target.npy", ts, &tn);

  for (guint i = 0; i < G_N_ELEMENTS (layers); i++)
    {
      g_autoptr(XcExplanation) e = run_method (ex, m, XC_METHOD_GRADCAM, i ? layers[i] : NULL, 0);
      g_autofree char *rel = g_strdup_printf ("xception/explain/grad.%s.samples.npy", layers[i]);
      g_assert_cmpint (e->target_class, ==, (int) target[0]);
      g_assert_cmpfloat_with_epsilon (e->score, target[1], 1e-4 * MAX (1, fabs (target[1])));
      compare_samples (layers[i], e->grad, (size_t) e->grad_h * e->grad_w * e->grad_c, rel);
      if (i == 0)
        compare_full ("gradcam", e->map, 100, "xception/explain/cam.gradcam.npy");
    }
  {
    g_autoptr(XcExplanation) e = run_method (ex, m, XC_METHOD_GRADCAMPP, NULL, 0);
    compare_full ("gradcam++", e->map, 100, "xception/explain/cam.gradcam++.npy");
  }
  {
    g_autoptr(XcExplanation) e = run_method (ex, m, XC_METHOD_LAYERCAM, NULL, 0);
    compare_full ("layercam", e->map, 100, "xception/explain/cam.layercam.npy");
  }
  {
    g_autoptr(XcExplanation) e = run_method (ex, m, XC_METHOD_SALIENCY, NULL, 0);
    compare_samples ("input gradient", e->grad, 299 * 299 * 3,
                     "xception/explain/input_grad.samples.npy");
  }
  {
    g_autoptr(XcExplanation) e = run_method (ex, m, XC_METHOD_INTEGRATED_GRADIENTS, NULL, 8);
    compare_samples ("integrated gradients", e->grad, 299 * 299 * 3,
                     "xception/explain/ig8.samples.npy");
  }
}

/* Every method on a layer of every kind the engine has, on a small
 * Xception: runs, gives a finite map of the right size */
static void
test_every_method_every_layer (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/16,classes=4",
                                             &error);
  g_autoptr(XcExplainer) ex = NULL;
  g_autofree float *input = g_new (float, 71 * 71 * 3);
  static const char *layers[] = { "block1_conv1", "block1_conv1_bn", "block1_conv1_act",
                                  "block2_sepconv1", "block2_pool", "add_1", "conv2d_2",
                                  "block13_sepconv2_bn", "block14_sepconv2_act" };

  for (size_t i = 0; i < 71 * 71 * 3; i++)
    input[i] = 2.0f * xc_seeded_uniform (3, 0, i) - 1.0f;
  ex = xc_explainer_new (m, &error);
  g_assert_true (xc_explainer_set_input (ex, input, &error));
  for (int method = 0; method < XC_N_METHODS; method++)
    for (guint l = 0; l < G_N_ELEMENTS (layers); l++)
      {
        g_autoptr(XcExplanation) e = NULL;
        const XcNode *node;
        guint idx;
        if (!xc_method_uses_layer (method) && l > 0)
          break;
        xc_model_lookup (m, layers[l], &idx, NULL);
        node = xc_model_node (m, idx);
        e = run_method (ex, m, method, layers[l], 4);
        if (xc_method_uses_layer (method) && method != XC_METHOD_GUIDED_GRADCAM)
          {
            g_assert_cmpint (e->map_h, ==, node->h);
            g_assert_cmpint (e->map_w, ==, node->w);
          }
        else
          {
            g_assert_cmpint (e->map_h, ==, 71);
            g_assert_cmpint (e->map_w, ==, 71);
          }
        for (int i = 0; i < e->map_h * e->map_w; i++)
          g_assert_true (isfinite (e->map[i]));
      }
}

static void
test_bad_requests (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/16,classes=4",
                                             &error);
  g_autoptr(XcExplainer) ex = xc_explainer_new (m, &error);
  g_autofree float *input = g_new0 (float, 71 * 71 * 3);
  XcExplainOptions o;
  XcExplanation *e;

  g_assert_true (xc_explainer_set_input (ex, input, &error));
  xc_explain_options_init (&o);
  o.target_class = 4;
  e = xc_explainer_run (ex, &o, NULL, NULL, &error);
  g_assert_null (e);
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "0 to 3"));
  g_clear_error (&error);

  o.target_class = -1;
  g_assert_true (xc_model_lookup (m, "avg_pool", &o.layer, NULL));
  e = xc_explainer_run (ex, &o, NULL, NULL, &error);
  g_assert_null (e);
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "avg_pool"));
  g_clear_error (&error);

  o.layer = 0;
  e = xc_explainer_run (ex, &o, NULL, NULL, &error);
  g_assert_null (e);
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
}

static gboolean
cancel_at_third (guint step, guint n, gpointer data)
{
  return step < 3;
}

static void
test_faithfulness_and_cancel (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/16,classes=4",
                                             &error);
  g_autoptr(XcExplainer) ex = xc_explainer_new (m, &error);
  g_autofree float *input = g_new (float, 71 * 71 * 3);
  g_autoptr(XcExplanation) e = NULL;
  g_autoptr(XcFaithfulness) f = NULL;
  XcExplainOptions o;
  XcExplanation *none;
  double p;

  for (size_t i = 0; i < 71 * 71 * 3; i++)
    input[i] = 2.0f * xc_seeded_uniform (3, 0, i) - 1.0f;
  g_assert_true (xc_explainer_set_input (ex, input, &error));
  xc_explain_options_init (&o);
  e = xc_explainer_run (ex, &o, NULL, NULL, &error);
  g_assert_no_error (error);
  f = xc_explainer_faithfulness (ex, e, 10, NULL, NULL, &error);
  g_assert_no_error (error);
  p = xc_explainer_probabilities (ex)[e->target_class];
  g_assert_cmpint (f->steps, ==, 10);
  /* nothing deleted yet / everything inserted: the original image */
  g_assert_cmpfloat_with_epsilon (f->deletion[0], p, 1e-5);
  g_assert_cmpfloat_with_epsilon (f->insertion[10], p, 1e-5);
  g_assert_true (f->deletion_auc >= 0 && f->deletion_auc <= 1);
  g_assert_true (f->insertion_auc >= 0 && f->insertion_auc <= 1);
  g_assert_true (f->average_drop >= 0 && f->average_drop <= 100);

  o.method = XC_METHOD_SMOOTHGRAD;
  none = xc_explainer_run (ex, &o, cancel_at_third, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, XC_ERROR, XC_ERROR_CANCELLED);
  g_clear_error (&error);
  /* the explainer is intact after a cancel */
  g_assert_cmpfloat_with_epsilon (xc_explainer_probabilities (ex)[e->target_class], p, 1e-6);
}

static void
test_render (void)
{
  guint8 rgb[3];
  float map[4] = { 0, 1, 2, 3 };
  g_autoptr(XcImage) gray = xc_image_new (4, 4, 1);
  g_autofree guint8 *out = NULL;
  g_autofree float *up = xc_map_upsample_normalised (map, 2, 2, 8, 8);
  float mn = 1, mx = 0;

  xc_colormap_rgb (XC_COLORMAP_JET, 0, rgb);
  g_assert_cmpint (rgb[0], ==, 0);
  g_assert_cmpint (rgb[2], ==, 128);
  xc_colormap_rgb (XC_COLORMAP_JET, 1, rgb);
  g_assert_cmpint (rgb[0], ==, 128);
  g_assert_cmpint (rgb[2], ==, 0);
  xc_colormap_rgb (XC_COLORMAP_VIRIDIS, 0, rgb);   /* #440154 */
  g_assert_cmpint (abs (rgb[0] - 0x44), <=, 6);
  g_assert_cmpint (abs (rgb[1] - 0x01), <=, 6);
  g_assert_cmpint (abs (rgb[2] - 0x54), <=, 6);
  xc_colormap_rgb (XC_COLORMAP_VIRIDIS, 1, rgb);   /* #fde725 */
  g_assert_cmpint (abs (rgb[0] - 0xfd), <=, 6);
  g_assert_cmpint (abs (rgb[1] - 0xe7), <=, 6);
  g_assert_cmpint (abs (rgb[2] - 0x25), <=, 6);
  for (int i = 0; i < 64; i++)
    mn = MIN (mn, up[i]), mx = MAX (mx, up[i]);
  g_assert_cmpfloat (mn, ==, 0);
  g_assert_cmpfloat (mx, ==, 1);
  /* alpha 0 leaves a gray original gray */
  for (int i = 0; i < 16; i++)
    gray->data[i] = i * 16;
  out = xc_render_heatmap (map, 2, 2, gray, 4, 4, XC_COLORMAP_JET, 0.0f);
  for (int i = 0; i < 16; i++)
    {
      g_assert_cmpint (out[i * 3], ==, i * 16);
      g_assert_cmpint (out[i * 3 + 1], ==, i * 16);
      g_assert_cmpint (out[i * 3 + 2], ==, i * 16);
    }
}

int
main (int argc, char **argv)
{
  xc_runtime_init (argv);
  g_test_init (&argc, &argv, NULL);
  xc_set_threads (1);
  g_test_add_func ("/explain/fer/against-autograd", test_fer);
  g_test_add_func ("/explain/xception/against-autograd", test_xception);
  g_test_add_func ("/explain/every-method-every-layer", test_every_method_every_layer);
  g_test_add_func ("/explain/bad-requests", test_bad_requests);
  g_test_add_func ("/explain/faithfulness-and-cancel", test_faithfulness_and_cancel);
  g_test_add_func ("/explain/render", test_render);
  return g_test_run ();
}
