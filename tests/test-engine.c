/* SPDX-License-Identifier: MIT
 *
 * Engine tests against goldens from PyTorch (tests/make-goldens.py): every
 * op on odd shapes, the real FER mini-Xception from ../shared, the built-in
 * Xception through a weights file in the official layout, the cost totals,
 * and the errors a user can cause.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* pthread_getaffinity_np */
#endif
#include <math.h>
#include <stdlib.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <glib/gstdio.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include <hdf5.h>

#include "test-helpers.h"
#include "kernels/xc-kernels.h"
#include "xc-affinity.h"

/* Loads ops/CASE.h5, runs ops/CASE.in.npy, compares with ops/CASE.out.npy */
static void
test_op_case (gconstpointer data)
{
  const char *name = data;
  g_autofree char *h5 = g_strdup_printf ("%s.h5", name);
  g_autofree char *h5_path = g_test_build_filename (G_TEST_DIST, "data", "ops", h5, NULL);
  g_autofree char *in_rel = g_strdup_printf ("ops/%s.in.npy", name);
  g_autofree char *out_rel = g_strdup_printf ("ops/%s.out.npy", name);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) model = xc_keras_load (h5_path, &error);
  g_autoptr(XcPlan) plan = NULL;
  g_autofree float *x = NULL, *y = NULL;
  int xs[4], ys[4], xn, yn;
  XcTensor in, out;
  size_t ny = 1;

  g_assert_no_error (error);
  plan = xc_plan_new (model, 1, NULL, &error);
  g_assert_no_error (error);
  x = load_golden (in_rel, xs, &xn);
  y = load_golden (out_rel, ys, &yn);
  in = xc_plan_input (plan);
  g_assert_cmpint (xn, ==, 4);
  g_assert_cmpint (xs[1], ==, in.h);
  g_assert_cmpint (xs[2], ==, in.w);
  g_assert_cmpint (xs[3], ==, in.c);
  memcpy (in.data, x, xc_tensor_size (&in) * sizeof (float));
  g_assert_true (xc_plan_run (plan, FALSE, NULL, NULL, NULL));
  g_assert_true (xc_plan_output (plan, model->output, &out));
  for (int i = 0; i < yn; i++)
    ny *= ys[i];
  g_assert_cmpuint (xc_tensor_size (&out), ==, ny);
  if (yn == 4)
    {
      g_assert_cmpint (out.h, ==, ys[1]);
      g_assert_cmpint (out.w, ==, ys[2]);
    }
  assert_close (name, out.data, y, ny, 1e-5);
}

/* The FER mini-Xception on the six face crops: probabilities and layers */
static void
test_fer (void)
{
  g_autofree char *model_path = shared_path ("models", "fer2013_mini_XCEPTION.102-0.66.hdf5",
                                             NULL);
  static const char *faces[] = { "face_cap", "face_left", "face_mid", "face_selfie",
                                 "face_stripes", "face_woman" };
  static const char *layers[] = { "activation_1", "separable_conv2d_3", "add_2", "add_4",
                                  "conv2d_7" };
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcPlan) plan = NULL;
  g_autofree float *probs = NULL;
  g_autofree gboolean *keep = NULL;
  int ps[4], pn;

  if (!g_file_test (model_path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("../shared/models is not here");
      return;
    }
  model = xc_model_load_spec (model_path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model->labels);   /* fer2013.labels found beside it */
  g_assert_cmpstr (xc_model_label (model, 3), ==, "happy");
  keep = g_new0 (gboolean, xc_model_n_nodes (model));
  for (guint i = 0; i < G_N_ELEMENTS (layers); i++)
    {
      guint idx;
      g_assert_true (xc_model_lookup (model, layers[i], &idx, &error));
      keep[idx] = TRUE;
    }
  plan = xc_plan_new (model, 1, keep, &error);
  g_assert_no_error (error);
  probs = load_golden ("fer/probabilities.npy", ps, &pn);
  g_assert_cmpint (ps[0], ==, 6);
  g_assert_cmpint (ps[1], ==, 7);

  for (guint f = 0; f < G_N_ELEMENTS (faces); f++)
    {
      g_autofree char *file = g_strdup_printf ("%s.png", faces[f]);
      g_autofree char *img_path = shared_path ("images", "faces", file, NULL);
      g_autoptr(XcImage) image = xc_image_load (img_path, &error);
      XcTensor out;

      g_assert_no_error (error);
      g_assert_cmpint (image->c, ==, 1);
      g_assert_true (xc_image_to_input (image, model, xc_plan_input (plan).data, &error));
      g_assert_true (xc_plan_run (plan, TRUE, NULL, NULL, NULL));
      xc_plan_output (plan, model->output, &out);
      assert_close (faces[f], out.data, probs + f * 7, 7, 1e-5);

      if (f == 0)
        for (guint i = 0; i < G_N_ELEMENTS (layers); i++)
          {
            g_autofree char *rel = g_strdup_printf ("fer/face_cap.%s.npy", layers[i]);
            g_autofree float *g = NULL;
            int gs[4], gn;
            guint idx;
            xc_model_lookup (model, layers[i], &idx, NULL);
            xc_plan_output (plan, idx, &out);
            g = load_golden (rel, gs, &gn);
            g_assert_cmpint (gs[3], ==, out.c);
            assert_close (layers[i], out.data, g, xc_tensor_size (&out), 1e-5);
          }
    }
}

/* The built-in Xception: seeded weights written as the official
 * xception_weights_tf_dim_ordering_tf_kernels.h5 is laid out, read back into
 * a fresh model, compared with PyTorch on the same weights. The residual
 * layers are renamed in the file (conv2d_5.. instead of conv2d_1..) so the
 * by-order fallback is exercised too. */
static void
test_xception_official_layout (void)
{
  static const char *layers[] = { "block1_conv1_act", "block4_sepconv2_bn",
                                  "block14_sepconv2_act" };
  XcXceptionOptions opts;
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) src = NULL;
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcPlan) plan = NULL;
  g_autofree char *dir = g_dir_make_tmp ("xc-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "xception_weights.h5", NULL);
  g_autofree gboolean *keep = NULL;
  g_autofree float *logits = NULL, *probs = NULL;
  size_t n_weights = 0;
  int gs[4], gn;
  XcTensor in, out;
  double mean_ours = 0, mean_gold = 0;
  g_autofree float *ours_c = NULL, *gold_c = NULL;

  xc_xception_options_init (&opts);
  src = xc_xception_new (&opts, NULL, &error);
  g_assert_no_error (error);
  xc_model_init_seeded (src, XC_XCEPTION_DEFAULT_SEED);
  for (int k = 1; k <= 4; k++)
    {
      g_autofree char *from = g_strdup_printf ("conv2d_%d", k);
      g_autofree char *to = g_strdup_printf ("conv2d_%d", k + 4);
      guint idx;
      g_assert_true (xc_model_lookup (src, from, &idx, NULL));
      g_assert_true (xc_model_rename_node (src, idx, to, &error));
    }
  g_assert_true (xc_keras_save_weights (src, path, &error));
  g_assert_no_error (error);

  model = xc_xception_new (&opts, NULL, &error);
  g_assert_true (xc_keras_load_weights (model, path, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    for (guint p = 0; p < xc_model_node (model, i)->n_params; p++)
      n_weights += xc_model_node (model, i)->params[p].size;
  g_assert_cmpuint (n_weights, ==, 22910480);
  g_assert_cmpint (memcmp (model->slab, src->slab, model->slab_size * sizeof (float)), ==, 0);
  g_unlink (path);
  g_rmdir (dir);

  keep = g_new0 (gboolean, xc_model_n_nodes (model));
  for (guint i = 0; i < G_N_ELEMENTS (layers); i++)
    {
      guint idx;
      g_assert_true (xc_model_lookup (model, layers[i], &idx, &error));
      keep[idx] = TRUE;
    }
  plan = xc_plan_new (model, 1, keep, &error);
  g_assert_no_error (error);
  in = xc_plan_input (plan);
  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    in.data[i] = 2.0f * xc_seeded_uniform (7, 0, i) - 1.0f;
  g_assert_true (xc_plan_run (plan, FALSE, NULL, NULL, NULL));

  /* probabilities, and logits recovered from them up to softmax's shift */
  xc_plan_output (plan, model->output, &out);
  probs = load_golden ("xception/probabilities.npy", gs, &gn);
  logits = load_golden ("xception/logits.npy", gs, &gn);
  g_assert_cmpint (gs[1], ==, 1000);
  assert_close ("probabilities", out.data, probs, 1000, 1e-6);
  ours_c = g_new (float, 1000);
  gold_c = g_new (float, 1000);
  for (int i = 0; i < 1000; i++)
    {
      mean_ours += log (out.data[i]) / 1000;
      mean_gold += logits[i] / 1000.0;
    }
  for (int i = 0; i < 1000; i++)
    {
      ours_c[i] = (float) (log (out.data[i]) - mean_ours);
      gold_c[i] = (float) (logits[i] - mean_gold);
    }
  assert_close ("logits (centred)", ours_c, gold_c, 1000, 1e-4);

  for (guint i = 0; i < G_N_ELEMENTS (layers); i++)
    {
      g_autofree char *rel = g_strdup_printf ("xception/%s.samples.npy", layers[i]);
      g_autofree char *srel = g_strdup_printf ("xception/%s.stats.npy", layers[i]);
      g_autofree float *samples = load_golden (rel, gs, &gn);
      g_autofree float *stats = NULL;
      g_autofree float *ours = NULL;
      int ss[4], sn;
      guint idx;
      double sum = 0;

      xc_model_lookup (model, layers[i], &idx, NULL);
      xc_plan_output (plan, idx, &out);
      stats = load_golden (srel, ss, &sn);
      g_assert_cmpuint (xc_tensor_size (&out), ==, (size_t) stats[0]);
      ours = g_new (float, gs[1]);
      for (int k = 0; k < gs[1]; k++)
        ours[k] = out.data[(size_t) samples[k]];
      assert_close (layers[i], ours, samples + gs[1], gs[1], 1e-4);
      for (size_t k = 0; k < xc_tensor_size (&out); k++)
        sum += out.data[k];
      g_assert_cmpfloat (fabs (sum - stats[1]), <=, 1e-4 * MAX (1.0, fabs (stats[1])) *
                         sqrt ((double) stats[0]));
    }
}

/* The weights-only files Keras Applications publishes (here written by
 * tests/make-goldens.py with h5py, width 1/8, with and without the top),
 * opened as --model: the built-in topology of their size, against PyTorch */
static void
test_weights_only_files (void)
{
  const struct { const char *name; int outputs; gboolean classifier; } cases[] = {
    { "xception-w8-top", 10, TRUE },
    { "xception-w8-notop", 256, FALSE },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *rel = g_strdup_printf ("weights/%s.h5", cases[c].name);
      g_autofree char *orel = g_strdup_printf ("weights/%s.out.npy", cases[c].name);
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", rel, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(XcModel) model = xc_model_load_spec (path, &error);
      g_autoptr(XcPlan) plan = NULL;
      g_autofree float *gold = NULL;
      const XcNode *out_node;
      XcTensor in, out;
      int gs[4], gn;

      g_assert_no_error (error);
      out_node = xc_model_node (model, model->output);
      g_assert_cmpstr (out_node->name, ==, cases[c].classifier ? "predictions" : "avg_pool");
      g_assert_cmpint (out_node->c, ==, cases[c].outputs);
      g_assert_cmpint (xc_model_is_classifier (model), ==, cases[c].classifier);
      g_assert_cmpint (xc_model_input (model)->h, ==, 299);
      plan = xc_plan_new (model, 1, NULL, &error);
      g_assert_no_error (error);
      in = xc_plan_input (plan);
      for (size_t i = 0; i < xc_tensor_size (&in); i++)
        in.data[i] = 2.0f * xc_seeded_uniform (7, 0, i) - 1.0f;
      g_assert_true (xc_plan_run (plan, FALSE, NULL, NULL, NULL));
      xc_plan_output (plan, model->output, &out);
      gold = load_golden (orel, gs, &gn);
      g_assert_cmpint (gs[gn - 1], ==, cases[c].outputs);
      assert_close_scaled (cases[c].name, out.data, gold, cases[c].outputs, 1e-5, 1.0);
    }
}

/* A Keras 3 .keras file and a tf.keras 2.x .h5 of the same small Xception,
 * both written by tests/make-goldens.py (zip + h5py, following Keras'
 * saving_lib and functional config), against PyTorch */
static void
test_keras3_files (void)
{
  const char *files[] = { "keras3/xception-small.keras", "keras3/xception-small-tfkeras.h5" };
  g_autofree float *gold = NULL;
  int gs[4], gn;

  gold = load_golden ("keras3/xception-small.out.npy", gs, &gn);
  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", files[f], NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(XcModel) model = xc_model_load_spec (path, &error);
      g_autoptr(XcPlan) plan = NULL;
      XcTensor in, out;

      g_assert_no_error (error);
      g_assert_cmpint (xc_model_input (model)->h, ==, 71);
      g_assert_cmpint (xc_model_node (model, model->output)->c, ==, 5);
      plan = xc_plan_new (model, 1, NULL, &error);
      g_assert_no_error (error);
      in = xc_plan_input (plan);
      for (size_t i = 0; i < xc_tensor_size (&in); i++)
        in.data[i] = 2.0f * xc_seeded_uniform (7, 0, i) - 1.0f;
      g_assert_true (xc_plan_run (plan, FALSE, NULL, NULL, NULL));
      xc_plan_output (plan, model->output, &out);
      assert_close (files[f], out.data, gold, 5, 1e-5);
    }
}

/* A model_config stored as a variable-length UTF-8 string (what h5py writes
 * for a Python str) is read, not refused */
static void
test_vlen_utf8_config (void)
{
  g_autofree char *src = g_test_build_filename (G_TEST_DIST, "data", "keras3",
                                                "xception-small-tfkeras.h5", NULL);
  g_autofree char *dir = g_dir_make_tmp ("xc-vlen-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "vlen.h5", NULL);
  g_autofree char *data = NULL, *config = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) model = NULL;
  gsize len;
  hid_t file, attr, type, space, vtype;
  char *one[1];

  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (path, data, len, NULL));
  file = H5Fopen (path, H5F_ACC_RDWR, H5P_DEFAULT);
  g_assert_cmpint (file, >=, 0);
  attr = H5Aopen (file, "model_config", H5P_DEFAULT);
  type = H5Aget_type (attr);
  if (H5Tis_variable_str (type) > 0)
    {
      char *v = NULL;
      hid_t m = H5Tcopy (H5T_C_S1);
      H5Tset_size (m, H5T_VARIABLE);
      H5Tset_cset (m, H5Tget_cset (type));
      H5Aread (attr, m, &v);
      config = g_strdup (v);
      H5free_memory (v);
      H5Tclose (m);
    }
  else
    {
      config = g_malloc0 (H5Tget_size (type) + 1);
      H5Aread (attr, type, config);
    }
  H5Tclose (type);
  H5Aclose (attr);
  H5Adelete (file, "model_config");
  vtype = H5Tcopy (H5T_C_S1);
  H5Tset_size (vtype, H5T_VARIABLE);
  H5Tset_cset (vtype, H5T_CSET_UTF8);
  space = H5Screate (H5S_SCALAR);
  attr = H5Acreate2 (file, "model_config", vtype, space, H5P_DEFAULT, H5P_DEFAULT);
  one[0] = config;
  g_assert_cmpint (H5Awrite (attr, vtype, one), >=, 0);
  H5Aclose (attr);
  H5Sclose (space);
  H5Tclose (vtype);
  H5Fclose (file);

  model = xc_model_load_spec (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (xc_model_node (model, model->output)->c, ==, 5);
  g_unlink (path);
  g_rmdir (dir);
}

/* Weights must live in the model file: a kernel in HDF5 external raw
 * storage (pointing at another file) and one behind an external link are
 * refused, naming the dataset */
static void
test_external_weights_refused (void)
{
  g_autofree char *src = g_test_build_filename (G_TEST_DIST, "data", "keras3",
                                                "xception-small-tfkeras.h5", NULL);
  g_autofree char *dir = g_dir_make_tmp ("xc-ext-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ext.h5", NULL);
  g_autofree char *raw = g_build_filename (dir, "raw.bin", NULL);
  g_autofree char *data = NULL, *zeros = g_malloc0 (1 << 16);
  const char *ds_path = "model_weights/block1_conv1/block1_conv1/kernel:0";
  gsize len;

  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (raw, zeros, 1 << 16, NULL));
  for (int kind = 0; kind < 2; kind++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(XcModel) model = NULL;
      hid_t file, ds, space, dcpl;
      hsize_t dims[4];
      int nd;

      g_assert_true (g_file_set_contents (path, data, len, NULL));
      file = H5Fopen (path, H5F_ACC_RDWR, H5P_DEFAULT);
      ds = H5Dopen2 (file, ds_path, H5P_DEFAULT);
      g_assert_cmpint (ds, >=, 0);
      space = H5Dget_space (ds);
      nd = H5Sget_simple_extent_dims (space, dims, NULL);
      H5Dclose (ds);
      H5Ldelete (file, ds_path, H5P_DEFAULT);
      if (kind == 0)
        {
          dcpl = H5Pcreate (H5P_DATASET_CREATE);
          H5Pset_external (dcpl, raw, 0, 1 << 16);
          ds = H5Dcreate2 (file, ds_path, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
          g_assert_cmpint (ds, >=, 0);
          H5Dclose (ds);
          H5Pclose (dcpl);
        }
      else
        g_assert_cmpint (H5Lcreate_external (src, ds_path, file, ds_path, H5P_DEFAULT,
                                             H5P_DEFAULT), >=, 0);
      H5Sclose (space);
      H5Fclose (file);
      g_assert_cmpint (nd, ==, 4);

      model = xc_model_load_spec (path, &error);
      g_assert_null (model);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "block1_conv1"));
      g_assert_nonnull (strstr (error->message, kind == 0 ? "stored externally"
                                                          : "external link"));
    }
  g_unlink (path);
  g_unlink (raw);
  g_rmdir (dir);
}

/* Numbers in a Keras config are range-checked before any cast: 1e300
 * filters, a kernel of 2^32 + 3 (which wrapped to 3) and an input of 2^32
 * are refused with the layer and key named */
static void
test_config_numbers_checked (void)
{
  const char *tmpl = "{\"class_name\": \"Model\", \"config\": {\"layers\": ["
    "{\"class_name\": \"InputLayer\", \"name\": \"in\", \"config\": {\"name\": \"in\", "
    "\"batch_input_shape\": [null, %s, 8, 1]}, \"inbound_nodes\": []},"
    "{\"class_name\": \"Conv2D\", \"name\": \"c\", \"config\": {\"name\": \"c\", "
    "\"filters\": %s, \"kernel_size\": [%s, 3], \"padding\": \"same\"}, "
    "\"inbound_nodes\": [[[\"in\", 0, 0, {}]]]}]}}";
  const struct { const char *h, *f, *k, *expect; } cases[] = {
    { "8", "4", "3", NULL },
    { "8", "1e300", "3", "c: 'filters' is not a whole number" },
    { "8", "4294967300", "3", "c: 'filters' is not a whole number" },
    { "8", "4", "4294967299", "c: 'kernel_size' is not a pair of whole numbers" },
    { "4294967296", "4", "3", "in: input shape entry 1 is not a whole number" },
    { "8", "2.5", "3", "c: 'filters' is not a whole number" },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *json = g_strdup_printf (tmpl, cases[c].h, cases[c].f, cases[c].k);
      g_autoptr(GError) error = NULL;
      g_autoptr(XcModel) model = xc_keras_model_from_json (json, "t.h5", &error);
      if (cases[c].expect == NULL)
        {
          g_assert_no_error (error);
          g_assert_nonnull (model);
          continue;
        }
      g_assert_null (model);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[c].expect));
    }
}

/* NaN in the input or in a weight: refused, naming the input or the first
 * layer whose output is not finite, instead of confident "probabilities" */
static void
test_nonfinite_refused (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "keras3",
                                                 "xception-small.keras", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) model = xc_model_load_spec (path, &error);
  g_autoptr(XcPlan) plan = NULL;
  XcTensor in;
  guint idx;

  g_assert_no_error (error);
  plan = xc_plan_new (model, 1, NULL, &error);
  g_assert_no_error (error);
  in = xc_plan_input (plan);
  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    in.data[i] = 0.1f;
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  g_assert_true (xc_plan_check_finite (plan, FALSE, &error));
  g_assert_no_error (error);

  in.data[7] = NAN;
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  g_assert_false (xc_plan_check_finite (plan, FALSE, &error));
  g_assert_nonnull (strstr (error->message, "the input has 1 values that are not finite"));
  g_clear_error (&error);

  /* a NaN weight: refused when the model is checked (as every loaded file is) */
  in.data[7] = 0.1f;
  g_assert_true (xc_model_lookup (model, "block4_sepconv1", &idx, NULL));
  xc_model_node (model, idx)->params[1].data[3] = NAN;
  g_assert_false (xc_model_check_weights (model, &error));
  g_assert_nonnull (strstr (error->message, "block4_sepconv1: 1 values of its pointwise_kernel"));
  g_clear_error (&error);
  xc_model_node (model, idx)->params[1].data[3] = 0.0f;

  /* an overflow: huge finite weights make the logits infinite; the first
   * layer whose output is not finite is named */
  g_assert_true (xc_model_lookup (model, "predictions", &idx, NULL));
  for (int k = 0; k < 40; k++)
    xc_model_node (model, idx)->params[0].data[k] = 3e38f;
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  g_assert_false (xc_plan_check_finite (plan, FALSE, &error));
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "predictions: its output is not finite"));
}

/* Broken .keras archives: one line naming the file and what is wrong */
static void
test_keras3_broken (void)
{
  g_autofree char *src = g_test_build_filename (G_TEST_DIST, "data", "keras3",
                                                "xception-small.keras", NULL);
  g_autofree char *dir = g_dir_make_tmp ("xc-keras3-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.keras", NULL);
  g_autofree char *data = NULL;
  gsize len;
  const struct { gsize cut; gssize flip; const char *expect; } cases[] = {
    { 100, -1, "not a zip archive" },          /* truncated: no directory */
    { 0, 4000, "CRC-32" },                     /* a byte of the weights changed */
  };

  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(XcModel) model = NULL;
      g_autofree char *copy = g_memdup2 (data, len);
      gsize n = cases[c].cut ? cases[c].cut : len;
      if (cases[c].flip >= 0)
        copy[len - 1 - (gsize) cases[c].flip - 2000] ^= 0x55;
      g_assert_true (g_file_set_contents (bad, copy, n, NULL));
      model = xc_model_load_spec (bad, &error);
      g_assert_null (model);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[c].expect));
      g_assert_nonnull (strstr (error->message, "bad.keras"));
    }
  g_unlink (bad);
  g_rmdir (dir);
}

/* The embedded ImageNet class names (Keras' class index, made readable) */
static void
test_imagenet_labels (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) model = xc_model_load_spec ("builtin:xception:size=71", &error);
  g_autoptr(XcModel) small = xc_model_load_spec ("builtin:xception:size=71,classes=10", &error);

  g_assert_no_error (error);
  g_assert_true (xc_model_set_imagenet_labels (model, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (xc_model_label (model, 0), ==, "tench");
  g_assert_cmpstr (xc_model_label (model, 2), ==, "great white shark");
  g_assert_cmpstr (xc_model_label (model, 999), ==, "toilet tissue");
  g_assert_false (xc_model_set_imagenet_labels (small, &error));
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
}

static void
test_summary_totals (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) model = xc_model_load_spec ("builtin:xception", &error);
  g_autoptr(XcModel) std = NULL;
  guint64 p, t, m, sp, sm, p2, m2;
  guint n_sep = 0;

  g_assert_no_error (error);
  xc_model_totals (model, &p, &t, &m, &sp, &sm);
  g_assert_cmpuint (p, ==, 22910480);
  g_assert_cmpuint (t, ==, 22855952);
  g_assert_cmpuint (m, ==, 8357403496);
  g_assert_cmpuint (sp, ==, 179126216);
  g_assert_cmpuint (sm, ==, 68818345696);
  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    n_sep += xc_model_node (model, i)->op == XC_OP_SEPCONV2D;
  g_assert_cmpuint (n_sep, ==, 34);
  g_assert_cmpuint (xc_model_n_nodes (model), ==, 134);

  /* the standard variant really is those standard convolutions */
  std = xc_model_load_spec ("builtin:xception:variant=standard", &error);
  g_assert_no_error (error);
  xc_model_totals (std, &p2, NULL, &m2, NULL, NULL);
  g_assert_cmpuint (p2, ==, sp);
  g_assert_cmpuint (m2, ==, sm);
}

static void
test_builtin_options (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,channels=1,classes=10,"
                                             "width=1/8", &error);
  g_autoptr(XcPlan) plan = NULL;
  XcTensor out;
  guint idx;

  g_assert_no_error (error);
  g_assert_cmpint (xc_model_input (m)->c, ==, 1);
  g_assert_true (xc_model_lookup (m, "block14_sepconv2_act", &idx, NULL));
  g_assert_cmpint (xc_model_node (m, idx)->c, ==, 256);
  g_assert_cmpint (xc_model_node (m, idx)->h, ==, 3);
  plan = xc_plan_new (m, 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (xc_plan_run (plan, FALSE, NULL, NULL, NULL));
  xc_plan_output (plan, m->output, &out);
  g_assert_cmpint (out.n, ==, 3);
  g_assert_cmpint (out.c, ==, 10);
  for (int n = 0; n < 3; n++)
    {
      double s = 0;
      for (int c = 0; c < 10; c++)
        s += out.data[n * 10 + c];
      g_assert_cmpfloat_with_epsilon (s, 1.0, 1e-5);
    }
  g_assert_cmpuint (xc_plan_arena_bytes (plan), <, xc_plan_naive_bytes (plan));

  g_clear_pointer (&m, xc_model_free);
  m = xc_model_load_spec ("builtin:xception:size=70", &error);
  g_assert_null (m);
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
  g_clear_error (&error);
  m = xc_model_load_spec ("builtin:xception:depth=3", &error);
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "depth"));
  g_clear_error (&error);
  m = xc_model_load_spec ("builtin:resnet", &error);
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
}

/* Bad inputs: each a clear error that names the file, never a crash */
static char *
write_temp (const char *name, const char *data, gsize len)
{
  g_autofree char *dir = g_dir_make_tmp ("xc-bad-XXXXXX", NULL);
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, data, len == (gsize) -1 ? (gssize) strlen (data) : (gssize) len, NULL));
  return path;
}

static void
remove_temp (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_errors_files (void)
{
  g_autofree char *good = g_test_build_filename (G_TEST_DIST, "data", "ops", "add3_gap_dense.h5",
                                                 NULL);
  g_autofree char *bytes = NULL;
  gsize len;
  g_autoptr(GError) error = NULL;
  XcModel *m;
  XcImage *img;
  char *path;

  /* missing */
  m = xc_model_load_spec ("/nonexistent/model.h5", &error);
  g_assert_null (m);
  g_assert_error (error, XC_ERROR, XC_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/model.h5"));
  g_clear_error (&error);

  /* empty */
  path = write_temp ("empty.h5", "", 0);
  m = xc_model_load_spec (path, &error);
  g_assert_null (m);
  g_assert_error (error, XC_ERROR, XC_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  img = xc_image_load (path, &error);
  g_assert_null (img);
  g_assert_error (error, XC_ERROR, XC_ERROR_FORMAT);
  g_clear_error (&error);
  remove_temp (path);
  g_free (path);

  /* truncated at several points */
  g_assert_true (g_file_get_contents (good, &bytes, &len, NULL));
  for (gsize cut = 16; cut < len; cut = cut * 2 + 7)
    {
      path = write_temp ("truncated.h5", bytes, cut);
      m = xc_model_load_spec (path, &error);
      g_assert_null (m);
      g_assert_nonnull (error);
      g_assert_true (error->domain == XC_ERROR);
      g_assert_nonnull (strstr (error->message, path));
      g_clear_error (&error);
      remove_temp (path);
      g_free (path);
    }

  /* not an image */
  img = xc_image_load (good, &error);
  g_assert_null (img);
  g_assert_error (error, XC_ERROR, XC_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "not an image"));
  g_clear_error (&error);
  img = xc_image_load ("/nonexistent.png", &error);
  g_assert_error (error, XC_ERROR, XC_ERROR_IO);
  g_clear_error (&error);

  /* a weights-only file is not a model */
  {
    g_autoptr(XcModel) x = xc_model_load_spec ("builtin:xception:size=71,width=1/16", &error);
    path = write_temp ("w.h5", "", 0);
    g_assert_true (xc_keras_save_weights (x, path, &error));
    m = xc_keras_load (path, &error);
    g_assert_null (m);
    g_assert_error (error, XC_ERROR, XC_ERROR_FORMAT);
    g_assert_nonnull (strstr (error->message, "weights-only"));
    g_clear_error (&error);

    /* wrong-shape weights: a width-1/16 file into a width-1/8 model */
    {
      g_autoptr(XcModel) y = xc_model_load_spec ("builtin:xception:size=71,width=1/8", &error);
      g_assert_false (xc_keras_load_weights (y, path, &error));
      g_assert_error (error, XC_ERROR, XC_ERROR_WEIGHTS);
      g_assert_nonnull (strstr (error->message, "block1_conv1"));
      g_test_message ("%s", error->message);
      g_clear_error (&error);
    }
    /* missing weights: a headless model's file into a model with a top */
    {
      g_autoptr(XcModel) h = xc_model_load_spec ("builtin:xception:size=71,width=1/16,top=0",
                                                 &error);
      g_autoptr(XcModel) y = xc_model_load_spec ("builtin:xception:size=71,width=1/16", &error);
      g_assert_true (xc_keras_save_weights (h, path, &error));
      g_assert_false (xc_keras_load_weights (y, path, &error));
      g_assert_error (error, XC_ERROR, XC_ERROR_WEIGHTS);
      g_assert_nonnull (strstr (error->message, "predictions"));
      g_clear_error (&error);
    }
    remove_temp (path);
    g_free (path);
  }
}

static void
test_errors_config (void)
{
  static const struct {
    const char *json;
    const char *expect;
  } cases[] = {
    { "{\"class_name\": \"Model\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
      "\"name\": \"in\", \"config\": {\"batch_input_shape\": [null, 8, 8, 1]}, "
      "\"inbound_nodes\": []}, {\"class_name\": \"LSTM\", \"name\": \"lstm_1\", \"config\": {}, "
      "\"inbound_nodes\": [[[\"in\", 0, 0, {}]]]}]}}", "lstm_1: layer class LSTM" },
    { "{\"class_name\": \"Model\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
      "\"name\": \"in\", \"config\": {\"batch_input_shape\": [null, 8, 8, 1]}, "
      "\"inbound_nodes\": []}, {\"class_name\": \"Conv2D\", \"name\": \"c\", \"config\": "
      "{\"filters\": 2, \"kernel_size\": [9, 9], \"padding\": \"valid\"}, "
      "\"inbound_nodes\": [[[\"in\", 0, 0, {}]]]}]}}", "does not fit" },
    { "{\"class_name\": \"Model\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
      "\"name\": \"in\", \"config\": {\"batch_input_shape\": [null, 8, 8, 1]}, "
      "\"inbound_nodes\": []}, {\"class_name\": \"Dense\", \"name\": \"d\", \"config\": "
      "{\"units\": 2}, \"inbound_nodes\": [[[\"nowhere\", 0, 0, {}]]]}]}}", "not an earlier" },
    { "{\"class_name\": \"Model\", \"config\": {\"layers\": [{\"class_name\": \"InputLayer\", "
      "\"name\": \"in\", \"config\": {\"batch_input_shape\": [null, null, null, 3]}, "
      "\"inbound_nodes\": []}]}}", "not fixed" },
    { "[1, 2", "not JSON" },
    { "{\"class_name\": \"Graph\"}", "not supported" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(XcModel) m = xc_keras_model_from_json (cases[i].json, "test.h5", &error);
      g_assert_null (m);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].expect));
    }
}

static void
test_labels (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/16,classes=3",
                                             &error);
  char *path = write_temp ("l.labels", "cat\ndog\nbird\n", 13);

  g_assert_no_error (error);
  xc_model_set_labels_file (m, path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (xc_model_label (m, 2), ==, "bird");
  remove_temp (path);
  g_free (path);
  path = write_temp ("l.json", "{\"0\": [\"n1\", \"tench\"], \"2\": [\"n3\", \"shark\"], "
                     "\"1\": [\"n2\", \"goldfish\"]}", -1);
  g_assert_true (xc_model_set_labels_file (m, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (xc_model_label (m, 1), ==, "goldfish");
  remove_temp (path);
  g_free (path);
  path = write_temp ("l.labels", "a\nb\n", 4);
  g_assert_false (xc_model_set_labels_file (m, path, &error));
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
  remove_temp (path);
  g_free (path);
}

static void
test_image_resize (void)
{
  /* a 2x2 gray image to 4x4: half-pixel centres give 0.25/0.75 blends */
  g_autoptr(XcImage) src = xc_image_new (2, 2, 1);
  g_autoptr(XcImage) dst = xc_image_new (4, 4, 1);
  const float expect_row0[4] = { 0, 25, 75, 100 };

  src->data[0] = 0, src->data[1] = 100, src->data[2] = 100, src->data[3] = 200;
  xc_image_resize (src, dst);
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon (dst->data[i], expect_row0[i], 1e-4);
  g_assert_cmpfloat_with_epsilon (dst->data[15], 200, 1e-4);
  g_assert_cmpfloat_with_epsilon (dst->data[5], 0.75 * 0.75 * 0 + 0.75 * 0.25 * 100 * 2 +
                                  0.25 * 0.25 * 200, 1e-3);
}

/* The calculator against hand-computed cases */
static void
test_conv_costs (void)
{
  g_autoptr(GError) error = NULL;
  XcConvShape a = { 728, 728, 3, 19, 19, 1, 1 };   /* Xception's middle flow */
  XcConvShape b = { 3, 4, 5, 10, 10, 2, 2 };       /* stride 2, 5x5, depth multiplier 2 */
  XcConvShape bad = { 0, 4, 3, 10, 10, 1, 1 };
  XcConvCosts c;
  XcConvTimes t;

  g_assert_true (xc_conv_costs (&a, &c, &error));
  g_assert_cmpint (c.out_h, ==, 19);
  g_assert_cmpuint (c.standard_params, ==, 4769856);
  g_assert_cmpuint (c.standard_macs, ==, 1721918016);
  g_assert_cmpuint (c.depthwise_params, ==, 6552);
  g_assert_cmpuint (c.depthwise_macs, ==, 2365272);
  g_assert_cmpuint (c.pointwise_params, ==, 529984);
  g_assert_cmpuint (c.pointwise_macs, ==, 191324224);
  g_assert_cmpuint (c.separable_params, ==, 536536);
  g_assert_cmpfloat_with_epsilon (c.formula, 1.0 / 728 + 1.0 / 9, 1e-12);
  g_assert_cmpfloat_with_epsilon (c.ratio, c.formula, 1e-12);

  g_assert_true (xc_conv_costs (&b, &c, &error));
  g_assert_cmpint (c.out_h, ==, 5);
  g_assert_cmpuint (c.standard_params, ==, 300);
  g_assert_cmpuint (c.standard_macs, ==, 7500);
  g_assert_cmpuint (c.depthwise_params, ==, 150);
  g_assert_cmpuint (c.depthwise_macs, ==, 3750);
  g_assert_cmpuint (c.pointwise_params, ==, 24);
  g_assert_cmpuint (c.pointwise_macs, ==, 600);
  g_assert_cmpfloat_with_epsilon (c.ratio, 4350.0 / 7500.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (c.formula, 2.0 / 4 + 2.0 / 25, 1e-12);

  g_assert_false (xc_conv_costs (&bad, &c, &error));
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
  g_clear_error (&error);

  /* measured: a separable convolution of a small middle-flow-like shape */
  a.c_in = a.c_out = 64;
  g_assert_true (xc_conv_measure (&a, 3, &t, &error));
  g_assert_cmpfloat (t.standard_ms, >, 0);
  g_assert_cmpfloat (t.separable_ms, >, 0);
  g_assert_cmpfloat (t.depthwise_ms, >=, 0);
}

/* The depthwise step the teaching view shows equals the engine's own: the
 * pointwise GEMM of it gives the layer's output */
static void
test_depthwise_output (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/16,classes=3",
                                             &error);
  g_autofree gboolean *keep = g_new (gboolean, xc_model_n_nodes (m));
  g_autoptr(XcPlan) plan = NULL;
  g_autofree float *d = NULL, *y = NULL;
  const XcNode *node;
  XcTensor out, in, x;
  guint idx;
  int mid;

  for (guint i = 0; i < xc_model_n_nodes (m); i++)
    keep[i] = TRUE;
  plan = xc_plan_new (m, 1, keep, &error);
  in = xc_plan_input (plan);
  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    in.data[i] = xc_seeded_uniform (9, 0, i);
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  g_assert_true (xc_model_lookup (m, "block4_sepconv1", &idx, NULL));
  node = xc_model_node (m, idx);
  mid = xc_model_node (m, node->inputs[0])->c;
  d = g_new (float, (size_t) node->h * node->w * mid);
  g_assert_true (xc_plan_output (plan, node->inputs[0], &x));
  g_assert_true (xc_sepconv_depthwise_output (m, idx, &x, d));
  y = g_new0 (float, (size_t) node->h * node->w * node->c);
  for (int p = 0; p < node->h * node->w; p++)
    for (int o = 0; o < node->c; o++)
      for (int c = 0; c < mid; c++)
        y[p * node->c + o] += d[p * mid + c] * xc_param_get (&node->params[1], c * node->c + o);
  xc_plan_output (plan, idx, &out);
  assert_close ("depthwise then pointwise", y, out.data, xc_tensor_size (&out), 1e-5);
}

static void
test_top_k_and_format (void)
{
  const float v[6] = { 0.1f, 0.5f, 0.2f, 0.5f, -1.0f, 0.3f };
  int top[6];
  g_autofree char *a = xc_format_count (22910480), *b = xc_format_count (999), *c = NULL;

  g_assert_cmpint (xc_top_k (v, 6, 4, top), ==, 4);
  g_assert_cmpint (top[0], ==, 1);   /* ties: the lower index first */
  g_assert_cmpint (top[1], ==, 3);
  g_assert_cmpint (top[2], ==, 5);
  g_assert_cmpint (top[3], ==, 2);
  g_assert_cmpint (xc_top_k (v, 2, 5, top), ==, 2);
  g_assert_cmpstr (a, ==, "22,910,480");
  g_assert_cmpstr (b, ==, "999");
  c = xc_format_count (1000);
  g_assert_cmpstr (c, ==, "1,000");
}

/* A seeded small Xception and a plan that keeps every output, run on a
 * seeded input with statistics */
static XcModel *
small_xception (XcPlan **full, float **input)
{
  g_autoptr(GError) error = NULL;
  XcModel *m = xc_model_load_spec ("builtin:xception:size=71,width=1/8,classes=10", &error);
  g_autofree gboolean *keep = NULL;
  XcTensor in;

  g_assert_no_error (error);
  keep = g_new (gboolean, xc_model_n_nodes (m));
  for (guint i = 0; i < xc_model_n_nodes (m); i++)
    keep[i] = TRUE;
  *full = xc_plan_new (m, 1, keep, &error);
  g_assert_no_error (error);
  in = xc_plan_input (*full);
  *input = g_new (float, xc_tensor_size (&in));
  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    (*input)[i] = in.data[i] = 2.0f * xc_seeded_uniform (11, 0, i) - 1.0f;
  g_assert_true (xc_plan_run (*full, TRUE, NULL, NULL, &error));
  return m;
}

/* The statistics a plan takes as each output is written (in place layers
 * overwrite their inputs later; nothing is kept) equal those of the kept
 * outputs, for the window's forward (the explainer's plan) */
static void
test_stats_on_the_fly (void)
{
  g_autoptr(XcPlan) full = NULL;
  g_autofree float *input = NULL;
  g_autoptr(XcModel) m = small_xception (&full, &input);
  g_autoptr(XcExplainer) ex = xc_explainer_new (m, NULL);
  g_autoptr(GError) error = NULL;
  XcPlan *lean = xc_explainer_forward (ex, input, TRUE, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (xc_plan_arena_bytes (lean), <, xc_plan_arena_bytes (full));
  for (guint i = 0; i < xc_model_n_nodes (m); i++)
    {
      const XcStats *a = &xc_plan_node_run (lean, i)->stats;
      XcStats b;
      XcTensor t;
      g_assert_true (xc_plan_output (full, i, &t));
      xc_tensor_stats (&t, &b);
      g_assert_cmpfloat_with_epsilon (a->min, b.min, 1e-5 * MAX (1, fabs (b.min)));
      g_assert_cmpfloat_with_epsilon (a->max, b.max, 1e-5 * MAX (1, fabs (b.max)));
      g_assert_cmpfloat_with_epsilon (a->mean, b.mean, 1e-5 * MAX (1, fabs (b.mean)));
      g_assert_cmpfloat_with_epsilon (a->std, b.std, 1e-5 * MAX (1, b.std));
      g_assert_cmpfloat (a->zero_fraction, ==, b.zero_fraction);
    }
  /* and the probabilities are the full plan's */
  {
    XcTensor y;
    g_assert_true (xc_plan_output (full, m->output, &y));
    assert_close ("probabilities", xc_explainer_probabilities (ex), y.data, y.c, 1e-6);
  }
}

typedef struct {
  XcPlan *plan;
  guint   node;
  float  *copy;
} Tap;

static gboolean
tap_cb (guint node, guint n, gpointer data)
{
  Tap *t = data;
  XcTensor x;

  if (node == t->node + 1 && t->plan)
    {
      xc_plan_peek (t->plan, t->node, &x);
      t->copy = g_memdup2 (x.data, xc_tensor_size (&x) * sizeof (float));
    }
  return TRUE;
}

/* A layer's output recomputed on demand equals the output a plan that kept
 * everything computed: in a plan keeping just it, run as far as it (within
 * float32 rounding: that run folds BatchNormalizations), and copied from
 * the window's lean plan between two nodes (xc_plan_peek; byte for byte) */
static void
test_activations_on_demand (void)
{
  g_autoptr(XcPlan) full = NULL;
  g_autofree float *input = NULL;
  g_autoptr(XcModel) m = small_xception (&full, &input);
  const char *names[] = { "block1_conv1_act", "block4_sepconv1", "add_5", "block14_sepconv2_act" };

  for (guint k = 0; k < G_N_ELEMENTS (names); k++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree gboolean *keep = g_new0 (gboolean, xc_model_n_nodes (m));
      g_autoptr(XcPlan) one = NULL;
      XcTensor a, b, in;
      guint node;

      g_assert_true (xc_model_lookup (m, names[k], &node, &error));
      keep[node] = TRUE;
      one = xc_plan_new (m, 1, keep, &error);
      g_assert_no_error (error);
      in = xc_plan_input (one);
      memcpy (in.data, input, xc_tensor_size (&in) * sizeof (float));
      g_assert_true (xc_plan_run_range (one, 1, node, FALSE, NULL, NULL, &error));
      g_assert_true (xc_plan_output (one, node, &a));
      g_assert_true (xc_plan_output (full, node, &b));
      g_assert_cmpuint (xc_tensor_size (&a), ==, xc_tensor_size (&b));
      /* a run without statistics folds BatchNormalizations: float32 rounding */
      assert_close ("own plan's partial run", a.data, b.data, xc_tensor_size (&a), 1e-5);
      {
        g_autoptr(XcExplainer) ex = xc_explainer_new (m, NULL);
        Tap t = { NULL, node, NULL };
        g_assert_nonnull (xc_explainer_forward (ex, input, FALSE, NULL, NULL, &error));
        t.plan = xc_explainer_plan (ex);
        xc_plan_set_progress_peeks (t.plan, TRUE);
        /* only as far as the node after it */
        g_assert_nonnull (xc_explainer_forward_to (ex, input, node + 1, FALSE, tap_cb, &t,
                                                   &error));
        g_assert_nonnull (t.copy);
        g_assert_cmpmem (t.copy, xc_tensor_size (&b) * sizeof (float), b.data,
                         xc_tensor_size (&b) * sizeof (float));
        g_free (t.copy);
        /* and the explainer's probabilities afterwards are the full plan's */
        {
          XcTensor y;
          g_assert_true (xc_plan_output (full, m->output, &y));
          assert_close ("probabilities after a partial run", xc_explainer_probabilities (ex),
                        y.data, y.c, 1e-6);
        }
      }
    }
}

/* A plan run without statistics folds each inference BatchNormalization
 * into the convolution before it (f32-gemm-6x16.c's epilogue) and each ReLU
 * into the SeparableConv2D after it (the depthwise step reads max(x, 0)); a
 * run with statistics applies the BatchNormalizations after the GEMM
 * (xc_tensor_affine_stats()) and takes a folded ReLU's statistics from its
 * input (xc_tensor_relu_stats()). The same probabilities and every node's
 * same statistics as the unfolded run (a progress callback that peeks), on the FER
 * mini-Xception, the big FER Xception and a seeded Xception whose
 * BatchNormalizations get seeded statistics */
static gboolean
any_progress (guint node, guint n, gpointer data)
{
  return TRUE;
}

/* The full-size Xception's weight slab and its plan's arena are asked for
 * 2 MB pages (xc_memory_advise_huge_pages): where the kernel gives them on
 * request, the mappings that hold them are eligible for huge pages (and
 * hold some once touched, unless memory is too fragmented: reported) */
static gboolean
huge_pages_at (const void *p, guint64 *kb)
{
  g_autofree char *smaps = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean inside = FALSE;
  int eligible = 0;

  *kb = 0;
  if (!g_file_get_contents ("/proc/self/smaps", &smaps, NULL, NULL))
    return FALSE;
  lines = g_strsplit (smaps, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      guint64 lo, hi;
      /* a mapping's first line, "start-end perms ...", or one of its fields */
      if (sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x", &lo, &hi) == 2)
        inside = (guint64) (guintptr) p >= lo && (guint64) (guintptr) p < hi;
      else if (inside)
        {
          sscanf (lines[i], "AnonHugePages: %" G_GUINT64_FORMAT, kb);
          if (sscanf (lines[i], "THPeligible: %d", &eligible) == 1)
            return eligible == 1;
        }
    }
  return FALSE;
}

static void
test_huge_pages (void)
{
  g_autofree char *mode = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = NULL;
  g_autoptr(XcPlan) p = NULL;
  guint64 kb = 0;
  XcTensor in, mid;
  guint node;
  guintptr lo = UINTPTR_MAX, hi = 0;

  if (!g_file_get_contents ("/sys/kernel/mm/transparent_hugepage/enabled", &mode, NULL, NULL) ||
      strstr (mode, "[never]") != NULL)
    {
      g_test_skip ("this kernel gives no transparent huge pages");
      return;
    }
  m = xc_model_load_spec ("builtin:xception", &error);
  g_assert_no_error (error);
  p = xc_plan_new (m, 1, NULL, &error);
  g_assert_no_error (error);
  in = xc_plan_input (p);
  memset (in.data, 0, xc_tensor_size (&in) * sizeof (float));
  xc_plan_run (p, FALSE, NULL, NULL, NULL);
  g_assert_true (huge_pages_at (m->slab + m->slab_size / 2, &kb));
  g_test_message ("weights: %" G_GUINT64_FORMAT " KB in huge pages", kb);
  /* the middle of the arena, where the layers' outputs lie: the advice
   * covers all but its unaligned ends (a given layer's output may be there) */
  for (node = 1; node < xc_model_n_nodes (m); node++)
    {
      xc_plan_peek (p, node, &mid);
      lo = MIN (lo, (guintptr) mid.data);
      hi = MAX (hi, (guintptr) (mid.data + xc_tensor_size (&mid)));
    }
  g_assert_cmpuint (hi - lo, >, 8 << 20);
  g_assert_true (huge_pages_at ((const void *) (lo + (hi - lo) / 2), &kb));
  g_test_message ("activations: %" G_GUINT64_FORMAT " KB in huge pages", kb);
}

static void
test_folded_layers (void)
{
  g_autofree char *mini = shared_path ("models", "fer2013_mini_XCEPTION.102-0.66.hdf5", NULL);
  g_autofree char *big = shared_path ("models", "fer2013_big_XCEPTION.54-0.66.hdf5", NULL);
  const char *specs[] = { "builtin:xception:size=71,width=1/8,classes=10", mini, big };

  for (guint s = 0; s < G_N_ELEMENTS (specs); s++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(XcModel) m = xc_model_load_spec (specs[s], &error);
      g_autoptr(XcPlan) plan = NULL;
      g_autofree float *unfolded = NULL;
      g_autofree XcStats *stats = NULL;
      XcTensor in, y;
      guint with_stats;

      g_assert_no_error (error);
      if (s == 0)
        for (guint i = 0; i < xc_model_n_nodes (m); i++)
          {
            const XcNode *node = xc_model_node (m, i);
            if (node->op != XC_OP_BATCHNORM)
              continue;
            for (guint p = 0; p < node->n_params; p++)
              for (int c = 0; c < node->c; c++)
                {
                  float u = xc_seeded_uniform (i, p, c);
                  /* gamma, beta, mean in [-1, 1); the variance in [0.1, 2.1) */
                  node->params[p].data[c] = p + 1 == node->n_params ? 0.1f + 2.0f * u
                                                                    : 2.0f * u - 1.0f;
                }
          }
      plan = xc_plan_new (m, 1, NULL, &error);
      g_assert_no_error (error);
      in = xc_plan_input (plan);
      for (size_t i = 0; i < xc_tensor_size (&in); i++)
        in.data[i] = s == 0 ? 2.0f * xc_seeded_uniform (5, 0, i) - 1.0f
                            : xc_seeded_uniform (5, 0, i);
      /* a progress callback that may peek: nothing folded */
      xc_plan_set_progress_peeks (plan, TRUE);
      g_assert_true (xc_plan_run (plan, TRUE, any_progress, NULL, &error));
      g_assert_cmpuint (xc_plan_n_folded (plan), ==, 0);
      g_assert_true (xc_plan_output (plan, m->output, &y));
      unfolded = g_memdup2 (y.data, xc_tensor_size (&y) * sizeof (float));
      stats = g_new (XcStats, xc_model_n_nodes (m));
      for (guint i = 0; i < xc_model_n_nodes (m); i++)
        stats[i] = xc_plan_node_run (plan, i)->stats;
      xc_plan_set_progress_peeks (plan, FALSE);
      /* with statistics (the window's run): BatchNormalizations and ReLUs
       * folded, each node's statistics those of its own output, the folded
       * convolution's before its BatchNormalization; in the seeded Xception
       * all 40 BatchNormalizations (the residual convolutions' four come a
       * pooling layer after them) and 32 ReLUs */
      g_assert_true (xc_plan_run (plan, TRUE, any_progress, NULL, &error));
      g_test_message ("%s: %u layers folded with statistics", specs[s], xc_plan_n_folded (plan));
      g_assert_cmpuint (xc_plan_n_folded (plan), >=, s == 0 ? 72 : 4);
      for (guint i = 0; i < xc_model_n_nodes (m); i++)
        {
          const XcStats *a = &xc_plan_node_run (plan, i)->stats, *b = &stats[i];
          double tol = 1e-5 * (1.0 + MAX (fabs (b->min), fabs (b->max)));

          if (fabs (a->min - b->min) > tol || fabs (a->max - b->max) > tol ||
              fabs (a->mean - b->mean) > tol || fabs (a->std - b->std) > tol ||
              fabs (a->zero_fraction - b->zero_fraction) > 1e-6)
            g_error ("%s, %s: statistics %g %g %g %g %g folded, %g %g %g %g %g unfolded",
                     specs[s], xc_model_node (m, i)->name, a->min, a->max, a->mean, a->std,
                     a->zero_fraction, b->min, b->max, b->mean, b->std, b->zero_fraction);
        }
      g_assert_true (xc_plan_output (plan, m->output, &y));
      assert_close ("probabilities folded with statistics", y.data, unfolded,
                    xc_tensor_size (&y), 1e-5);
      with_stats = xc_plan_n_folded (plan);
      g_assert_true (xc_plan_run (plan, FALSE, NULL, NULL, &error));
      g_test_message ("%s: %u layers folded", specs[s], xc_plan_n_folded (plan));
      /* seeded Xception: its BatchNormalizations and the ReLUs its
       * separable layers apply as they read, as with statistics, and
       * without statistics also the two ReLUs that the first two
       * convolutions (no padding, windows read in place) apply as they
       * store; the same two in both FER models */
      g_assert_cmpuint (xc_plan_n_folded (plan), >=, s == 0 ? 74 : 6);
      g_assert_cmpuint (xc_plan_n_folded (plan), ==, with_stats + 2);
      g_assert_true (xc_plan_output (plan, m->output, &y));
      assert_close ("folded probabilities", y.data, unfolded, xc_tensor_size (&y), 1e-5);
    }
}

/* The comparison statistics against values worked out by hand (and by
 * scipy: binomtest(5, 15).pvalue = 0.30175781) */
static void
test_compare_statistics (void)
{
  const float a[6] = { 0, 1, 2, 3, 4, 5 }, rev[6] = { 5, 4, 3, 2, 1, 0 };
  const float tied[6] = { 0, 0, 1, 1, 2, 2 };
  const float conf[5] = { 0.95f, 0.91f, 0.55f, 0.52f, 0.15f };
  const gboolean ok[5] = { TRUE, FALSE, TRUE, TRUE, FALSE };
  int count[10];
  double mc[10], acc[10], rank, iou, ece;

  xc_map_agreement (a, 2, 3, a, 2, 3, 0.5, &rank, &iou);
  g_assert_cmpfloat_with_epsilon (rank, 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (iou, 1.0, 1e-12);
  xc_map_agreement (a, 2, 3, rev, 2, 3, 0.5, &rank, &iou);
  g_assert_cmpfloat_with_epsilon (rank, -1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (iou, 0.0, 1e-12);        /* {3,4,5} against {0,1,2} */
  /* ties get their mean rank: ranks 1.5 1.5 3.5 3.5 5.5 5.5 against 1..6:
   * Pearson of those = 0.9561828875 */
  xc_map_agreement (a, 2, 3, tied, 2, 3, 1.0 / 3.0, &rank, &iou);
  g_assert_cmpfloat_with_epsilon (rank, 0.9561828875, 1e-9);
  g_assert_cmpfloat_with_epsilon (xc_mcnemar_exact_p (5, 10), 0.30175781, 1e-8);
  g_assert_cmpfloat_with_epsilon (xc_mcnemar_exact_p (0, 0), 1.0, 1e-12);
  /* bins (0.9, 1]: 0.93 conf, 1/2 right; (0.5, 0.6]: 0.535, 2/2; (0.1, 0.2]: 0.15, 0/1:
   * ECE = 2/5 * 0.43 + 2/5 * 0.465 + 1/5 * 0.15 = 0.388 */
  ece = xc_calibration (conf, ok, 5, 10, count, mc, acc);
  g_assert_cmpint (count[9], ==, 2);
  g_assert_cmpint (count[5], ==, 2);
  g_assert_cmpint (count[1], ==, 1);
  g_assert_cmpfloat_with_epsilon (mc[9], 0.93, 1e-6);
  g_assert_cmpfloat_with_epsilon (acc[5], 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (ece, 0.388, 1e-6);
}

/* Our GEMM (f32-gemm-6x16.c, through xc_f32_gemm's choice and thread split)
 * against a double-precision product: tile edges (M % 6, N % 16), K across
 * blocks of 256, the wide nest (K over 256 or N over 192: K in equal blocks
 * of at most 512, odd K, N in blocks of 64), beta 0 and 1, B as is and
 * transposed (xc_f32_gemm_nt), one and two threads */
static void
test_gemm_kernel (void)
{
  static const int shapes[][3] = { { 1, 1, 1 }, { 5, 15, 3 }, { 6, 16, 256 }, { 7, 17, 257 },
                                   { 361, 728, 728 }, { 100, 40, 600 }, { 13, 1000, 64 },
                                   { 2000, 33, 27 }, { 1, 1000, 2048 }, { 200, 70, 1536 },
                                   { 37, 300, 1030 }, { 50, 300, 100 }, { 57, 50, 300 } };

  g_test_message ("GEMM: %s", xc_f32_gemm_name ());
  for (int threads = 1; threads <= 2; threads++)
    for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
      for (int v = 0; v < 4; v++)
        {
          int beta = v & 1, trans = v >> 1;
          int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
          g_autofree float *a = g_new (float, (size_t) m * k);
          g_autofree float *b = g_new (float, (size_t) k * n);
          g_autofree float *c = g_new (float, (size_t) m * n);
          g_autofree float *c0 = g_new (float, (size_t) m * n);
          double worst = 0.0;

          for (size_t i = 0; i < (size_t) m * k; i++)
            a[i] = xc_seeded_uniform (s, 0, i) - 0.5f;
          for (size_t i = 0; i < (size_t) k * n; i++)
            b[i] = xc_seeded_uniform (s, 1, i) - 0.5f;
          for (size_t i = 0; i < (size_t) m * n; i++)
            c[i] = c0[i] = xc_seeded_uniform (s, 2, i);
          xc_set_threads (threads);
          if (trans)
            {
              /* C = A . (B^T)^T, through xc_f32_gemm_nt */
              g_autofree float *bt = g_new (float, (size_t) k * n);
              for (int q = 0; q < k; q++)
                for (int j = 0; j < n; j++)
                  bt[(size_t) j * k + q] = b[(size_t) q * n + j];
              xc_f32_gemm_nt (a, bt, c, m, n, k, (float) beta);
            }
          else
            xc_f32_gemm (a, b, c, m, n, k, (float) beta);
          xc_set_threads (1);
          for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
              {
                double want = beta * (double) c0[(size_t) i * n + j];
                for (int q = 0; q < k; q++)
                  want += (double) a[(size_t) i * k + q] * b[(size_t) q * n + j];
                worst = MAX (worst, fabs (want - c[(size_t) i * n + j]) / (1.0 + sqrt (k)));
              }
          if (worst > 1e-5)
            g_error ("GEMM %dx%dx%d beta %d%s, %d threads: off by %g", m, n, k, beta,
                     trans ? " (B transposed)" : "", threads, worst);

          /* B in panels (xc_model_pack_panels()): bit for bit what the
           * packed products give, B as is and transposed */
          if (beta == 0 && xc_f32_gemm_panels_ok ())
            {
              /* aligned as the model's slab aligns it */
              float *bp = aligned_alloc (64, ((size_t) k * n + 15) / 16 * 64);
              g_autofree float *cp = g_new (float, (size_t) m * n);

              xc_set_threads (threads);
              if (trans)
                {
                  g_autofree float *bt = g_new (float, (size_t) k * n);
                  for (int q = 0; q < k; q++)
                    for (int j = 0; j < n; j++)
                      bt[(size_t) j * k + q] = b[(size_t) q * n + j];
                  xc_f32_pack_panels (bt, n, k, bp);
                  xc_f32_gemm_nt_panels (a, bp, cp, m, n, k);
                }
              else
                {
                  xc_f32_pack_panels (b, k, n, bp);
                  xc_f32_gemm_panels_post (a, bp, cp, m, n, k, NULL, NULL);
                }
              xc_set_threads (1);
              /* (below 6 rows the packed products are OpenBLAS's: close) */
              for (size_t i = 0; i < (size_t) m * n && m < 6; i++)
                if (fabs (cp[i] - c[i]) > 1e-5 * (1.0 + sqrt (k)))
                  g_error ("GEMM %dx%dx%d%s, %d threads: B in panels off by %g", m, n, k,
                           trans ? " (B transposed)" : "", threads, fabs (cp[i] - c[i]));
              if (m >= 6 && memcmp (cp, c, (size_t) m * n * sizeof (float)) != 0)
                g_error ("GEMM %dx%dx%d%s, %d threads: B in panels differs", m, n, k,
                         trans ? " (B transposed)" : "", threads);
              free (bp);
            }
        }
}

/* A convolution without padding read in place (no im2col) against the same
 * sum in doubles: strides 1 and 2, 3 to 40 channels, 16 to 200 filters
 * (both loop nests, tiles cut at every edge), with and without a folded
 * scale, shift and ReLU; the kernel itself wherever the CPU has AVX2, and the
 * threaded entry point, which only runs it where it is the GEMM in use */
static void
test_conv_in_place_kernel (void)
{
  static const int shapes[][6] = { /* h, w, c, k, stride, n */
    { 9, 11, 3, 3, 2, 32 }, { 12, 13, 32, 3, 1, 64 }, { 7, 9, 5, 2, 1, 70 },
    { 10, 8, 40, 3, 1, 200 }, { 6, 6, 1, 5, 1, 16 } };

  g_test_message ("GEMM: %s", xc_f32_gemm_name ());
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int v = 0; v < 4; v++)
      {
        int h = shapes[s][0], w = shapes[s][1], c = shapes[s][2], k = shapes[s][3];
        int st = shapes[s][4], n = shapes[s][5], kdim = k * k * c;
        int oh = (h - k) / st + 1, ow = (w - k) / st + 1;
        gboolean post = v & 1, entry = v >> 1;
        g_autofree float *x = g_new (float, (size_t) h * w * c);
        g_autofree float *b = g_new (float, (size_t) kdim * n);
        g_autofree float *scale = g_new (float, n);
        g_autofree float *shift = g_new (float, n);
        g_autofree float *y = g_new (float, (size_t) oh * ow * n);
        double worst = 0.0;

        for (size_t i = 0; i < (size_t) h * w * c; i++)
          x[i] = xc_seeded_uniform (s, 0, i) - 0.5f;
        for (size_t i = 0; i < (size_t) kdim * n; i++)
          b[i] = xc_seeded_uniform (s, 1, i) - 0.5f;
        for (int j = 0; j < n; j++)
          scale[j] = 0.5f + xc_seeded_uniform (s, 2, j), shift[j] = xc_seeded_uniform (s, 3, j);
        for (size_t i = 0; i < (size_t) oh * ow * n; i++)
          y[i] = NAN;
        if (entry)
          {
            xc_set_threads (2);
            if (!xc_f32_conv_valid_post (x, w, c, k, k, st, st, oh, ow, b, n, y,
                                         post ? scale : NULL, post ? shift : NULL, post))
              {
                /* not ours: nothing written, the caller gathers im2col */
                for (size_t i = 0; i < (size_t) oh * ow * n; i++)
                  g_assert_true (isnan (y[i]));
                xc_set_threads (1);
                continue;
              }
            xc_set_threads (1);
          }
#if defined(__x86_64__) && defined(__GNUC__)
        else if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
          {
            /* in two calls, the second from a position inside a row */
            int cut = oh * ow / 3;
            xc_f32_conv_6x16__avx2 (x, w, c, k, k, st, st, ow, b, n, y, 0, cut,
                                    post ? scale : NULL, post ? shift : NULL, post);
            xc_f32_conv_6x16__avx2 (x, w, c, k, k, st, st, ow, b, n, y, cut, oh * ow,
                                    post ? scale : NULL, post ? shift : NULL, post);
          }
#endif
        else
          continue;
        for (int oy = 0; oy < oh; oy++)
          for (int ox = 0; ox < ow; ox++)
            for (int j = 0; j < n; j++)
              {
                double want = 0.0;
                float got = y[((size_t) oy * ow + ox) * n + j];

                for (int ky = 0; ky < k; ky++)
                  for (int kx = 0; kx < k; kx++)
                    for (int ci = 0; ci < c; ci++)
                      want += (double) x[(((size_t) oy * st + ky) * w + ox * st + kx) * c + ci] *
                              b[((size_t) (ky * k + kx) * c + ci) * n + j];
                if (post)
                  want = MAX (want * scale[j] + shift[j], 0.0);
                g_assert_false (isnan (got));
                worst = MAX (worst, fabs (want - got) / (1.0 + sqrt (kdim)));
              }
        if (worst > 1e-5)
          g_error ("convolution in place %dx%dx%d, %dx%d/%d -> %d%s%s: off by %g", h, w, c, k, k,
                   st, n, post ? ", scaled" : "", entry ? " (threaded)" : "", worst);
      }
}

/* The gathered 3x3 depthwise input gradient (the forward's kernel on dy,
 * kernel turned half a turn) against the adjoint summed directly in
 * doubles, scattering every dy to its nine taps; "same" and "valid"
 * padding, channels that are and are not multiples of 8, rows of 1-9
 * positions; dx already holds values (the gradient adds to them) */
static void
test_dwconv_backward_kernel (void)
{
  static const int shapes[][4] = { /* h, w, c, same */
    { 5, 7, 8, 1 }, { 5, 7, 8, 0 }, { 1, 1, 3, 1 }, { 9, 4, 13, 1 }, { 6, 9, 21, 0 },
    { 19, 19, 64, 1 }, { 3, 3, 1, 0 }, { 2, 9, 16, 1 } };

  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      int h = shapes[s][0], w = shapes[s][1], c = shapes[s][2], same = shapes[s][3];
      int pt = same ? 1 : 0, pl = same ? 1 : 0;
      int oh = same ? h : h - 2, ow = same ? w : w - 2;
      size_t nx = (size_t) h * w * c, ny = (size_t) MAX (oh, 0) * MAX (ow, 0) * c;
      g_autofree float *dy = g_new (float, MAX (ny, 1));
      g_autofree float *k = g_new (float, (size_t) 9 * c);
      g_autofree float *kf = g_new (float, (size_t) 9 * c);
      g_autofree float *dx = g_new (float, nx);
      g_autofree float *tmp = g_new (float, (size_t) w * c);
      g_autofree double *want = g_new (double, nx);
      double worst = 0.0;

      if (oh <= 0 || ow <= 0)
        continue;
      for (size_t i = 0; i < ny; i++)
        dy[i] = xc_seeded_uniform (s, 0, i) - 0.5f;
      for (size_t i = 0; i < (size_t) 9 * c; i++)
        k[i] = xc_seeded_uniform (s, 1, i) - 0.5f;
      for (size_t i = 0; i < nx; i++)
        want[i] = dx[i] = xc_seeded_uniform (s, 2, i);
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
              {
                int iy = oy - pt + ky, ix = ox - pl + kx;

                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                  continue;
                for (int ci = 0; ci < c; ci++)
                  want[((size_t) iy * w + ix) * c + ci] +=
                    (double) dy[((size_t) oy * ow + ox) * c + ci] *
                    k[(size_t) (3 * ky + kx) * c + ci];
              }
      xc_f32_dwconv2d_flip_3x3 (k, c, kf);
      /* in two calls, as two threads would split the rows */
      xc_f32_dwconv2d_backward_3x3s1_rows (dy, oh, ow, kf, pt, pl, dx, h, w, c, 0, h / 2, tmp);
      xc_f32_dwconv2d_backward_3x3s1_rows (dy, oh, ow, kf, pt, pl, dx, h, w, c, h / 2, h, tmp);
      for (size_t i = 0; i < nx; i++)
        worst = MAX (worst, fabs (want[i] - dx[i]));
      if (worst > 1e-5)
        g_error ("depthwise backward %dx%dx%d %s: off by %g", h, w, c, same ? "same" : "valid",
                 worst);
    }
}

/* each team thread's CPU set, seen between two nodes of a run */
typedef struct
{
  int      threads;
  int      count[8];   /* CPUs in each thread's set */
  int      cpu[8];     /* its first CPU */
  gboolean seen;
} TeamCpus;

static void
team_cpus (TeamCpus *t)
{
#ifdef _OPENMP
#pragma omp parallel num_threads (t->threads)
  {
    int i = omp_get_thread_num ();
    cpu_set_t set;

    CPU_ZERO (&set);
    pthread_getaffinity_np (pthread_self (), sizeof set, &set);
    t->count[i] = CPU_COUNT (&set);
    t->cpu[i] = -1;
    for (int c = CPU_SETSIZE - 1; c >= 0; c--)
      if (CPU_ISSET (c, &set))
        t->cpu[i] = c;
  }
#endif
  t->seen = TRUE;
}

static gboolean
team_cpus_mid_run_cb (guint node, guint n_nodes, gpointer data)
{
  if (node == n_nodes / 2)
    team_cpus (data);
  return TRUE;
}

/* With as many threads as CPUs, a forward and a backward run with each
 * thread on a CPU of its own, and the threads have their CPU sets back
 * after (xc-affinity.c) */
static void
test_threads_pinned (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = NULL;
  g_autoptr(XcPlan) p = NULL;
  int cpus[8], n = xc_affinity_team_cpus (cpus, G_N_ELEMENTS (cpus));
  TeamCpus during = { 0 }, after = { 0 }, back = { 0 };
  XcTensor in;
  guint out;
  g_autofree float *seed = NULL;
  g_autofree gboolean *want = NULL;

#ifndef _OPENMP
  g_test_skip ("built without OpenMP");
  return;
#endif
  if (n < 2)
    {
      g_test_skip ("fewer than 2 or more than 8 CPUs");
      return;
    }
  if (!xc_affinity_enabled ())
    {
      g_test_skip ("OMP_PROC_BIND, OMP_PLACES, GOMP_CPU_AFFINITY or XC_PIN_THREADS=0 is set");
      return;
    }
  xc_set_threads (n);
  m = xc_model_load_spec ("builtin:xception:size=71,width=1/8,classes=10", &error);
  g_assert_no_error (error);
  want = g_new0 (gboolean, xc_model_n_nodes (m));
  want[1] = TRUE;
  p = xc_plan_new_backward (m, 1, want, &error);
  g_assert_no_error (error);
  in = xc_plan_input (p);
  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    in.data[i] = xc_seeded_uniform (3, 0, i) - 0.5f;
  during.threads = after.threads = back.threads = n;
  g_assert_true (xc_plan_run (p, FALSE, team_cpus_mid_run_cb, &during, &error));
  team_cpus (&after);
  g_assert_true (during.seen);
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpint (during.count[i], ==, 1);
      for (int j = 0; j < i; j++)
        g_assert_cmpint (during.cpu[i], !=, during.cpu[j]);
      g_assert_cmpint (after.count[i], ==, n);
    }
  /* the backward too */
  out = m->output;
  seed = g_new0 (float, 10);
  seed[3] = 1.0f;
  during.seen = FALSE;
  g_assert_true (xc_plan_backward (p, out, seed, FALSE, 1, FALSE, team_cpus_mid_run_cb, &during,
                                   &error));
  team_cpus (&back);
  g_assert_true (during.seen);
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpint (during.count[i], ==, 1);
      g_assert_cmpint (back.count[i], ==, n);
    }
  xc_set_threads (1);
}

/* The large pointwise kernels in GEMM panels (xc_model_pack_panels()): a
 * plan puts them there once; forward outputs, input gradients and saved
 * files are what Keras' layout gives, bit for bit; xc_param_get() reads
 * the Keras values; a training plan puts them back */
static void
test_weights_in_panels (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/2,classes=10",
                                             &error);
  g_autoptr(XcPlan) p = NULL;
  g_autoptr(XcPlan) t = NULL;
  g_autoptr(XcModel) back = NULL;
  g_autofree char *dir = g_dir_make_tmp ("xc-test-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "w.h5", NULL);
  g_autofree float *keras = NULL, *y0 = NULL, *g0 = NULL;
  g_autofree gboolean *want = NULL;
  float seed[10] = { 0 };
  guint sep = 0, packed = 0;
  XcTensor in, out, g;
  size_t ny;

  g_assert_no_error (error);
  if (!xc_f32_gemm_panels_ok ())
    {
      g_test_skip ("our AVX2 GEMM does not run the products here");
      return;
    }
  g_assert_true (xc_model_lookup (m, "block8_sepconv2", &sep, NULL));
  keras = g_memdup2 (xc_model_node (m, sep)->params[1].data,
                     xc_model_node (m, sep)->params[1].size * sizeof (float));
  want = g_new0 (gboolean, xc_model_n_nodes (m));
  want[1] = TRUE;
  p = xc_plan_new_backward (m, 1, want, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < xc_model_n_nodes (m); i++)
    for (guint q = 0; q < xc_model_node (m, i)->n_params; q++)
      packed += xc_model_node (m, i)->params[q].panels;
  /* at half width the kernels from block4 on are over 64 KB */
  g_test_message ("%u kernels in panels", packed);
  g_assert_cmpuint (packed, >=, 20);
  g_assert_true (xc_model_node (m, sep)->params[1].panels);
  g_assert_cmpint (memcmp (xc_model_node (m, sep)->params[1].data, keras,
                           xc_model_node (m, sep)->params[1].size * sizeof (float)), !=, 0);
  for (size_t i = 0; i < xc_model_node (m, sep)->params[1].size; i += 97)
    g_assert_cmpfloat (xc_param_get (&xc_model_node (m, sep)->params[1], i), ==, keras[i]);

  /* panels, then Keras' layout: the same logits and input gradient */
  in = xc_plan_input (p);
  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    in.data[i] = xc_seeded_uniform (5, 0, i) - 0.5f;
  seed[4] = 1.0f;
  for (int pass = 0; pass < 2; pass++)
    {
      g_assert_true (xc_plan_run (p, FALSE, NULL, NULL, &error));
      g_assert_true (xc_plan_backward (p, m->output, seed, FALSE, 1, FALSE, NULL, NULL, &error));
      g_assert_true (xc_plan_output (p, m->output, &out));
      g_assert_true (xc_plan_grad (p, 1, &g));
      ny = xc_tensor_size (&out);
      if (pass == 0)
        {
          y0 = g_memdup2 (out.data, ny * sizeof (float));
          g0 = g_memdup2 (g.data, xc_tensor_size (&g) * sizeof (float));
          g_assert_true (xc_model_unpack_panels (m, &error));
          g_assert_false (xc_model_node (m, sep)->params[1].panels);
          g_assert_cmpint (memcmp (xc_model_node (m, sep)->params[1].data, keras,
                                   xc_model_node (m, sep)->params[1].size * sizeof (float)),
                           ==, 0);
        }
    }
  /* the same blocks in the same order: bit for bit */
  g_assert_cmpint (memcmp (out.data, y0, ny * sizeof (float)), ==, 0);
  g_assert_cmpint (memcmp (g.data, g0, xc_tensor_size (&g) * sizeof (float)), ==, 0);

  /* saved in panels, read back in Keras' layout */
  xc_model_pack_panels (m);
  g_assert_true (xc_model_node (m, sep)->params[1].panels);
  g_assert_true (xc_keras_save_weights (m, path, &error));
  g_assert_no_error (error);
  back = xc_model_load_spec ("builtin:xception:size=71,width=1/2,classes=10", &error);
  g_assert_true (xc_keras_load_weights (back, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (memcmp (xc_model_node (back, sep)->params[1].data, keras,
                           xc_model_node (m, sep)->params[1].size * sizeof (float)), ==, 0);

  /* a training plan: Keras' layout again, and kept when an inference plan
   * evaluates the model between epochs (xc_train() -> xc_evaluate()) */
  t = xc_plan_new_training (m, 2, &error);
  g_assert_no_error (error);
  g_assert_false (xc_model_node (m, sep)->params[1].panels);
  g_clear_pointer (&p, xc_plan_free);
  p = xc_plan_new (m, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (xc_model_node (m, sep)->params[1].panels);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  xc_runtime_init (argv);
  g_test_init (&argc, &argv, NULL);
  xc_set_threads (1);

  for (guint i = 0; i < G_N_ELEMENTS (op_cases); i++)
    {
      g_autofree char *p = g_strdup_printf ("/engine/ops/%s", op_cases[i]);
      g_test_add_data_func (p, op_cases[i], test_op_case);
    }
  g_test_add_func ("/engine/fer/faces", test_fer);
  g_test_add_func ("/engine/xception/official-layout", test_xception_official_layout);
  g_test_add_func ("/engine/xception/summary-totals", test_summary_totals);
  g_test_add_func ("/engine/xception/weights-only-files", test_weights_only_files);
  g_test_add_func ("/engine/xception/imagenet-labels", test_imagenet_labels);
  g_test_add_func ("/engine/keras3/files", test_keras3_files);
  g_test_add_func ("/engine/keras3/broken", test_keras3_broken);
  g_test_add_func ("/engine/errors/nonfinite", test_nonfinite_refused);
  g_test_add_func ("/engine/errors/config-numbers", test_config_numbers_checked);
  g_test_add_func ("/engine/keras/vlen-utf8-config", test_vlen_utf8_config);
  g_test_add_func ("/engine/keras/external-weights", test_external_weights_refused);
  g_test_add_func ("/engine/xception/options", test_builtin_options);
  g_test_add_func ("/engine/errors/files", test_errors_files);
  g_test_add_func ("/engine/errors/config", test_errors_config);
  g_test_add_func ("/engine/labels", test_labels);
  g_test_add_func ("/engine/image/resize", test_image_resize);
  g_test_add_func ("/engine/costs/calculator", test_conv_costs);
  g_test_add_func ("/engine/top-k-and-format", test_top_k_and_format);
  g_test_add_func ("/engine/costs/depthwise-output", test_depthwise_output);
  g_test_add_func ("/engine/plan/statistics-on-the-fly", test_stats_on_the_fly);
  g_test_add_func ("/engine/plan/activations-on-demand", test_activations_on_demand);
  g_test_add_func ("/engine/kernels/gemm", test_gemm_kernel);
  g_test_add_func ("/engine/kernels/conv-in-place", test_conv_in_place_kernel);
  g_test_add_func ("/engine/kernels/dwconv-backward", test_dwconv_backward_kernel);
  g_test_add_func ("/engine/compare/statistics", test_compare_statistics);
  g_test_add_func ("/engine/plan/folded-layers", test_folded_layers);
  g_test_add_func ("/engine/memory/huge-pages", test_huge_pages);
  g_test_add_func ("/engine/plan/threads-pinned", test_threads_pinned);
  g_test_add_func ("/engine/plan/weights-in-panels", test_weights_in_panels);
  return g_test_run ();
}
