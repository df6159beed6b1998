/* SPDX-License-Identifier: MIT
 *
 * Training: BatchNormalization in training mode against PyTorch autograd,
 * the learning-rate schedule, a short seeded run on Fashion-MNIST that must
 * learn, save-then-load, a file our engine saved read by h5py + PyTorch
 * (tests/make-goldens.py train), and fine-tuning on an image folder the test
 * makes, through the command line.
 */
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "test-helpers.h"

#define FMNIST "/usr/share/datasets/fashion-mnist"

static void
test_bn_training (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "train", "bn.h5", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_keras_load (path, &error);
  g_autoptr(XcPlan) plan = NULL;
  g_autofree float *x = NULL, *dy = NULL, *y = NULL, *dx = NULL, *dgb = NULL, *mv = NULL;
  g_autofree float *grads = NULL;
  g_autofree gboolean *want = NULL;
  int s[4], n;
  XcTensor in, out, g;
  XcNode *bn;

  g_assert_no_error (error);
  want = g_new0 (gboolean, xc_model_n_nodes (m));
  plan = xc_plan_new_training (m, 4, &error);
  g_assert_no_error (error);
  grads = g_new0 (float, m->slab_size);
  xc_plan_set_param_grads (plan, grads);
  x = load_golden ("train/bn.x.npy", s, &n);
  dy = load_golden ("train/bn.dy.npy", s, &n);
  y = load_golden ("train/bn.y.npy", s, &n);
  dx = load_golden ("train/bn.dx.npy", s, &n);
  dgb = load_golden ("train/bn.dgamma_dbeta.npy", s, &n);
  mv = load_golden ("train/bn.moving.npy", s, &n);
  in = xc_plan_input (plan);
  memcpy (in.data, x, xc_tensor_size (&in) * sizeof (float));
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  xc_plan_output (plan, m->output, &out);
  assert_close ("training forward", out.data, y, 240, 1e-5);
  bn = xc_model_node (m, 1);
  assert_close ("moving mean", bn->params[2].data, mv, 3, 1e-6);
  assert_close ("moving variance", bn->params[3].data, mv + 3, 3, 1e-6);
  g_assert_true (xc_plan_backward (plan, m->output, dy, FALSE, 0, FALSE, NULL, NULL, &error));
  assert_close ("dgamma", grads, dgb, 3, 1e-5);
  assert_close ("dbeta", grads + 3, dgb + 3, 3, 1e-5);
  (void) want;
  (void) g;
  (void) dx;
}

/* the input gradient through a training-mode BN, via a training plan that
 * wants it: training plans want nothing, so use the op-level check */
static void
test_bn_training_dx (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "train", "bn.h5", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_keras_load (path, &error);
  g_autoptr(XcPlan) plan = NULL;
  g_autofree float *x = NULL, *dy = NULL, *dx = NULL;
  int s[4], n;
  XcTensor in, g;

  g_assert_no_error (error);
  plan = xc_plan_new_training_wanting_input (m, 4, &error);
  g_assert_no_error (error);
  x = load_golden ("train/bn.x.npy", s, &n);
  dy = load_golden ("train/bn.dy.npy", s, &n);
  dx = load_golden ("train/bn.dx.npy", s, &n);
  in = xc_plan_input (plan);
  memcpy (in.data, x, xc_tensor_size (&in) * sizeof (float));
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  g_assert_true (xc_plan_backward (plan, m->output, dy, FALSE, 0, FALSE, NULL, NULL, &error));
  g_assert_true (xc_plan_grad (plan, 0, &g));
  assert_close ("training dx", g.data, dx, 240, 1e-5);
}

static void
test_lr_schedule (void)
{
  XcTrainOptions o;

  xc_train_options_init (&o);
  o.lr = 0.1;
  o.warmup_epochs = 1;
  /* 10 steps an epoch, 100 in all: linear warm-up to 0.1, cosine to 0 */
  g_assert_cmpfloat_with_epsilon (xc_train_lr_at (&o, 0, 100, 10), 0.01, 1e-12);
  g_assert_cmpfloat_with_epsilon (xc_train_lr_at (&o, 9, 100, 10), 0.1, 1e-12);
  g_assert_cmpfloat_with_epsilon (xc_train_lr_at (&o, 10, 100, 10), 0.1, 1e-12);
  g_assert_cmpfloat_with_epsilon (xc_train_lr_at (&o, 55, 100, 10), 0.05, 1e-12);
  g_assert_cmpfloat (xc_train_lr_at (&o, 99, 100, 10), <, 0.001);
}

typedef struct {
  double first_loss, last_loss;
  int    epochs_done;
} RunLog;

static gboolean
log_cb (const XcTrainProgress *p, gpointer data)
{
  RunLog *log = data;
  if (p->step == 20 && !p->epoch_done)
    log->first_loss = p->loss;
  if (p->epoch_done)
    {
      log->last_loss = p->loss;
      log->epochs_done++;
    }
  return TRUE;
}

/* A mini-Xception at 28x28 on 2,000 training images, 3 epochs, seed 1: the
 * loss falls and 1,000 test images are classified far above chance */
static void
test_short_run (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = NULL, back = NULL;
  g_autoptr(XcDataset) full = NULL, train = NULL, test_full = NULL, test = NULL;
  g_autoptr(XcEvaluation) ev = NULL;
  g_autoptr(XcPlan) p1 = NULL, p2 = NULL;
  g_autofree char *dir = NULL, *path = NULL;
  XcTrainOptions o;
  RunLog log = { 0 };
  XcTensor a, b;
  int idx[8];

  if (!g_file_test (FMNIST, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("dataset-fashion-mnist is not installed");
      return;
    }
  m = xc_mini_xception_new (28, 1, 10, &error);
  g_assert_no_error (error);
  xc_model_init_training (m, 1);
  full = xc_dataset_load ("fashion-mnist:" FMNIST, "train", 28, 28, 1, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (full->n, ==, 60000);
  train = xc_dataset_subset (full, 2000, 1);
  test_full = xc_dataset_load ("fashion-mnist:" FMNIST, "test", 28, 28, 1, 1, &error);
  g_assert_cmpint (test_full->n, ==, 10000);
  test = xc_dataset_subset (test_full, 1000, 2);
  xc_train_options_init (&o);
  o.epochs = 3;
  o.batch = 32;
  o.lr = 0.05;
  o.augment.crop_pad = 2;
  g_assert_true (xc_train (m, train, NULL, &o, log_cb, &log, &error));
  g_assert_no_error (error);
  g_assert_cmpint (log.epochs_done, ==, 3);
  g_test_message ("loss %.3f after 20 steps, %.3f in the last epoch", log.first_loss,
                  log.last_loss);
  g_assert_cmpfloat (log.last_loss, <, 0.75 * log.first_loss);
  ev = xc_evaluate (m, test, 100, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("test accuracy %.2f%% on %d images", 100 * ev->accuracy, ev->n);
  g_assert_cmpfloat (ev->accuracy, >=, 0.65);

  /* save, load: the same outputs */
  dir = g_dir_make_tmp ("xc-train-XXXXXX", NULL);
  path = g_build_filename (dir, "m.h5", NULL);
  g_assert_true (xc_keras_save_model (m, path, (const char *[]) { "xception_studio_labels",
                                      "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]",
                                      NULL }, &error));
  back = xc_keras_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (xc_model_label (back, 9), ==, "j");
  p1 = xc_plan_new (m, 8, NULL, &error);
  p2 = xc_plan_new (back, 8, NULL, &error);
  for (int i = 0; i < 8; i++)
    idx[i] = i;
  xc_dataset_fill (test, idx, 8, m, NULL, 0, xc_plan_input (p1).data);
  xc_dataset_fill (test, idx, 8, back, NULL, 0, xc_plan_input (p2).data);
  xc_plan_run (p1, FALSE, NULL, NULL, NULL);
  xc_plan_run (p2, FALSE, NULL, NULL, NULL);
  xc_plan_output (p1, m->output, &a);
  xc_plan_output (p2, back->output, &b);
  assert_close ("save-load", b.data, a.data, 80, 0);
  g_unlink (path);
  g_rmdir (dir);
}

/* A file our engine trained and saved (.h5 and .keras), as an independent
 * reader (h5py, or zip + h5py) and PyTorch read it */
static void
check_engine_saved (const char *file, const char *golden)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "train", file, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec (path, &error);
  g_autoptr(XcPlan) plan = NULL;
  g_autofree float *x = NULL, *probs = NULL;
  int s[4], n;
  XcTensor in, out;

  g_assert_no_error (error);
  g_assert_cmpstr (xc_model_label (m, 9), ==, "Ankle boot");
  plan = xc_plan_new (m, 3, NULL, &error);
  x = load_golden ("train/engine-saved.in.npy", s, &n);
  probs = load_golden (golden, s, &n);
  in = xc_plan_input (plan);
  memcpy (in.data, x, xc_tensor_size (&in) * sizeof (float));
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  xc_plan_output (plan, m->output, &out);
  assert_close (file, out.data, probs, 30, 1e-5);
}

static void
test_engine_saved_vs_pytorch (void)
{
  check_engine_saved ("engine-saved.h5", "train/engine-saved.probs.npy");
}

/* saved as Keras 3 .keras, read by tests/keras_torch.py load_keras3 */
static void
test_engine_saved_keras3 (void)
{
  check_engine_saved ("engine-saved.keras", "train/engine-saved-keras3.probs.npy");
}

/* train --out FILE.keras, then read back: the same predictions as the
 * .h5 of the same run */
static void
test_save_keras3_roundtrip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("xc-k3-XXXXXX", NULL);
  g_autofree char *k3 = g_build_filename (dir, "m.keras", NULL);
  g_autofree char *h5 = g_build_filename (dir, "m.h5", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/16,classes=4",
                                             &error);
  g_autoptr(XcModel) a = NULL, b = NULL;

  g_assert_no_error (error);
  m->preprocess = XC_PREPROCESS_UNIT;
  g_assert_true (xc_keras_save_model (m, k3, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (xc_keras_save_model (m, h5, NULL, &error));
  a = xc_model_load_spec (k3, &error);
  g_assert_no_error (error);
  b = xc_model_load_spec (h5, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->preprocess, ==, XC_PREPROCESS_UNIT);
  g_assert_cmpuint (a->slab_size, ==, m->slab_size);
  g_assert_cmpint (memcmp (a->slab, m->slab, m->slab_size * sizeof (float)), ==, 0);
  g_assert_cmpint (memcmp (b->slab, m->slab, m->slab_size * sizeof (float)), ==, 0);
  g_unlink (k3);
  g_unlink (h5);
  g_rmdir (dir);
}

static void
write_pattern (const char *path, int kind, int variant)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 40, 40);
  guint8 *px = gdk_pixbuf_get_pixels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);

  for (int y = 0; y < 40; y++)
    for (int x = 0; x < 40; x++)
      {
        int v = kind == 0 ? ((y + variant) / 4) % 2 : ((x + variant) / 4) % 2;
        guint8 g = v ? 220 - variant * 5 : 30 + variant * 5;
        px[y * stride + x * 3] = px[y * stride + x * 3 + 1] = px[y * stride + x * 3 + 2] = g;
      }
  g_assert_true (gdk_pixbuf_save (pb, path, "png", NULL, NULL));
}

/* finetune through the command line on a folder of two classes, one
 * unreadable file among them */
static void
test_finetune_cli (void)
{
  g_autofree char *dir = g_dir_make_tmp ("xc-ft-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (dir, "ft.h5", NULL);
  g_autofree char *data = g_build_filename (dir, "data", NULL);
  g_autofree char *spec = g_strdup_printf ("imagefolder:%s", data);
  g_autofree char *std_out = NULL, *std_err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = NULL;
  const char *cli = g_getenv ("XCEPTION_CLI");
  const char *kinds[] = { "horizontal", "vertical" };
  int status;

  for (int k = 0; k < 2; k++)
    {
      g_autofree char *cdir = g_build_filename (data, kinds[k], NULL);
      g_assert_cmpint (g_mkdir_with_parents (cdir, 0755), ==, 0);
      for (int v = 0; v < 8; v++)
        {
          g_autofree char *name = g_strdup_printf ("%s/%d.png", cdir, v);
          write_pattern (name, k, v);
        }
    }
  {
    g_autofree char *bad = g_build_filename (data, "vertical", "broken.png", NULL);
    g_assert_true (g_file_set_contents (bad, "not a png", -1, NULL));
  }
  {
    const char *argv[] = { cli, "finetune", "--model", "builtin:xception:size=71,width=1/16",
                           "--dataset", spec, "--epochs", "2", "--batch", "4", "--threads", "1",
                           "--out", out, NULL };
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &std_out, &std_err, &status, &error));
  }
  g_test_message ("%s\n%s", std_out, std_err);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_assert_nonnull (strstr (std_err, "skipped"));
  g_assert_nonnull (strstr (std_err, "broken.png"));
  m = xc_keras_load (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (xc_model_node (m, m->output)->c, ==, 2);
  g_assert_cmpstr (xc_model_label (m, 0), ==, "horizontal");
  g_assert_cmpstr (xc_model_label (m, 1), ==, "vertical");

  /* evaluate prints accuracy at the top level of its JSON */
  {
    g_autofree char *o2 = NULL, *e2 = NULL;
    g_autoptr(JsonParser) p = json_parser_new ();
    const char *argv[] = { cli, "evaluate", "--model", out, "--dataset", spec, "--split", "val",
                           "--json", NULL };
    double acc;
    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o2,
                                 &e2, &status, &error));
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    g_assert_true (json_parser_load_from_data (p, o2, -1, &error));
    acc = json_object_get_double_member (json_node_get_object (json_parser_get_root (p)),
                                         "accuracy");
    g_assert_true (acc >= 0 && acc <= 1);
  }
  g_unlink (out);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  xc_runtime_init (argv);
  g_test_init (&argc, &argv, NULL);
  xc_set_threads (2);
  g_test_add_func ("/train/batchnorm/training-mode", test_bn_training);
  g_test_add_func ("/train/batchnorm/training-mode-dx", test_bn_training_dx);
  g_test_add_func ("/train/lr-schedule", test_lr_schedule);
  g_test_add_func ("/train/short-run", test_short_run);
  g_test_add_func ("/train/engine-saved-vs-pytorch", test_engine_saved_vs_pytorch);
  g_test_add_func ("/train/engine-saved-keras3-vs-pytorch", test_engine_saved_keras3);
  g_test_add_func ("/train/save-keras3-roundtrip", test_save_keras3_roundtrip);
  g_test_add_func ("/train/finetune-cli", test_finetune_cli);
  return g_test_run ();
}
