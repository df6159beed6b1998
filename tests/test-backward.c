/* SPDX-License-Identifier: MIT
 *
 * Every op's backward against central finite differences: for each small
 * Keras file under data/ops, L = sum r * y with a fixed random r, and
 * dL/dx from xc_plan_backward() is compared element by element with
 * (L(x + e) - L(x - e)) / 2e, L accumulated in double.
 */
#include <string.h>

#include "test-helpers.h"

static double
loss (XcPlan *plan, const XcModel *model, const float *r)
{
  XcTensor y;
  double l = 0;

  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  xc_plan_output (plan, model->output, &y);
  for (size_t i = 0; i < xc_tensor_size (&y); i++)
    l += (double) r[i] * y.data[i];
  return l;
}

static void
check_case (const char *name, gboolean pre)
{
  g_autofree char *file = g_strdup_printf ("%s.h5", name);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "ops", file, NULL);
  g_autofree char *in_rel = g_strdup_printf ("ops/%s.in.npy", name);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) model = xc_keras_load (path, &error);
  g_autoptr(XcPlan) plan = NULL;
  g_autofree gboolean *want = NULL;
  g_autofree float *x0 = NULL, *r = NULL, *an = NULL;
  XcNode *out_node;
  XcAct saved_act;
  XcTensor in, y, g;
  int xs[4], xn;
  double worst = 0;
  size_t n, step, checked = 0, kinks = 0;

  g_assert_no_error (error);
  out_node = xc_model_node (model, model->output);
  if (pre && out_node->act == XC_ACT_LINEAR)
    return;
  want = g_new0 (gboolean, xc_model_n_nodes (model));
  want[0] = TRUE;
  plan = xc_plan_new_backward (model, 1, want, &error);
  g_assert_no_error (error);
  x0 = load_golden (in_rel, xs, &xn);
  in = xc_plan_input (plan);
  n = xc_tensor_size (&in);
  memcpy (in.data, x0, n * sizeof (float));
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  xc_plan_output (plan, model->output, &y);
  r = g_new (float, xc_tensor_size (&y));
  for (size_t i = 0; i < xc_tensor_size (&y); i++)
    r[i] = 2.0f * xc_seeded_uniform (99, 1, i) - 1.0f;
  g_assert_true (xc_plan_backward (plan, model->output, r, pre, 0, FALSE, NULL, NULL, &error));
  g_assert_true (xc_plan_grad (plan, 0, &g));
  an = g_memdup2 (g.data, n * sizeof (float));

  /* the pre-activation variant: L = sum r * z, z the output layer without its activation */
  saved_act = out_node->act;
  if (pre)
    out_node->act = XC_ACT_LINEAR;
  step = MAX (n / 97, 1);
  for (size_t i = 0; i < n; i += step)
    {
      const float eps = 1e-3f;
      double lp, lm, l0, fd, fd2, d;
      in.data[i] = x0[i] + eps;
      lp = loss (plan, model, r);
      in.data[i] = x0[i] - eps;
      lm = loss (plan, model, r);
      fd = (lp - lm) / (2.0 * eps);
      in.data[i] = x0[i];
      l0 = loss (plan, model, r);
      /* a kink (ReLU at 0, a max changing hands) within eps: the one-sided
       * slopes disagree and no difference quotient is a derivative; skip */
      fd2 = fabs ((lp - l0) / eps - (l0 - lm) / eps);
      checked++;
      if (fd2 > 0.05 * fabs (fd) + 2e-3)
        {
          kinks++;
          continue;
        }
      d = fabs (fd - an[i]) / (2e-3 + 2e-2 * MAX (fabs (fd), fabs (an[i])));
      if (d > worst)
        worst = d;
      if (d > 1.0)
        g_test_message ("%s%s: x[%zu]: analytic %.6g, finite differences %.6g", name,
                        pre ? " (pre-activation)" : "", i, an[i], fd);
    }
  out_node->act = saved_act;
  g_test_message ("%s%s: %zu elements, %zu at kinks, worst %.3g of tolerance", name,
                  pre ? " (pre-activation)" : "", checked, kinks, worst);
  g_assert_cmpfloat (worst, <=, 1.0);
  g_assert_cmpuint (kinks * 4, <=, checked);
}

/* Parameter gradients, in inference mode and in training mode (BN on batch
 * statistics, dropout with a fixed mask), batch 2, against central
 * differences on the weights */
static void
check_params (const char *name, gboolean training)
{
  g_autofree char *file = g_strdup_printf ("%s.h5", name);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "ops", file, NULL);
  g_autofree char *in_rel = g_strdup_printf ("ops/%s.in.npy", name);
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) model = xc_keras_load (path, &error);
  g_autoptr(XcPlan) plan = NULL;
  g_autofree float *x0 = NULL, *r = NULL, *grads = NULL;
  g_autofree gboolean *want = NULL, *trainable = NULL;
  XcTensor in, y;
  int xs[4], xn;
  size_t n, checked = 0, kinks = 0;
  double worst = 0;

  g_assert_no_error (error);
  if (model->slab_size == 0)
    return;
  want = g_new0 (gboolean, xc_model_n_nodes (model));
  plan = training ? xc_plan_new_training (model, 2, &error)
                  : xc_plan_new_backward (model, 2, want, &error);
  g_assert_no_error (error);
  grads = g_new0 (float, model->slab_size);
  xc_plan_set_param_grads (plan, grads);
  xc_plan_set_step (plan, 5);
  x0 = load_golden (in_rel, xs, &xn);
  in = xc_plan_input (plan);
  n = xc_tensor_size (&in) / 2;
  for (size_t i = 0; i < n; i++)
    {
      in.data[i] = x0[i];
      in.data[n + i] = 0.5f * x0[(i * 7) % n] - 0.25f;   /* a second, different image */
    }
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  xc_plan_output (plan, model->output, &y);
  r = g_new (float, xc_tensor_size (&y));
  for (size_t i = 0; i < xc_tensor_size (&y); i++)
    r[i] = 2.0f * xc_seeded_uniform (98, 1, i) - 1.0f;
  g_assert_true (xc_plan_backward (plan, model->output, r, FALSE, 0, FALSE, NULL, NULL, &error));

  trainable = g_new0 (gboolean, model->slab_size);
  for (guint k = 0; k < xc_model_n_nodes (model); k++)
    for (guint p = 0; p < xc_model_node (model, k)->n_params; p++)
      {
        const XcParam *param = &xc_model_node (model, k)->params[p];
        for (size_t e = 0; e < param->size; e++)
          trainable[param->data - model->slab + e] = param->trainable;
      }
  for (size_t i = 0; i < model->slab_size; i += MAX (1, model->slab_size / 61))
    {
      const float eps = 1e-3f;
      float w0 = model->slab[i];
      double lp, lm, l0, fd, fd2, d;
      g_autofree float *saved_slab = NULL;
      if (!trainable[i])
        continue;   /* moving statistics have no gradient */
      saved_slab = g_memdup2 (model->slab, model->slab_size * sizeof (float));
      /* BN's moving statistics move with each training forward: restore them */
      model->slab[i] = w0 + eps;
      lp = loss (plan, model, r);
      memcpy (model->slab, saved_slab, model->slab_size * sizeof (float));
      model->slab[i] = w0 - eps;
      lm = loss (plan, model, r);
      memcpy (model->slab, saved_slab, model->slab_size * sizeof (float));
      fd = (lp - lm) / (2.0 * eps);
      l0 = loss (plan, model, r);
      memcpy (model->slab, saved_slab, model->slab_size * sizeof (float));
      fd2 = fabs ((lp - l0) / eps - (l0 - lm) / eps);
      checked++;
      if (fd2 > 0.05 * fabs (fd) + 2e-3)
        {
          kinks++;
          continue;
        }
      d = fabs (fd - grads[i]) / (2e-3 + 2e-2 * MAX (fabs (fd), fabs (grads[i])));
      worst = MAX (worst, d);
      if (d > 1.0)
        g_test_message ("%s%s: w[%zu]: analytic %.6g, finite differences %.6g", name,
                        training ? " (training)" : "", i, grads[i], fd);
    }
  g_test_message ("%s params%s: %zu weights, %zu at kinks, worst %.3g of tolerance", name,
                  training ? " (training)" : "", checked, kinks, worst);
  g_assert_cmpfloat (worst, <=, 1.0);
  g_assert_cmpuint (kinks * 4, <=, checked);
}

static void
test_case (gconstpointer data)
{
  check_case (data, FALSE);
  check_case (data, TRUE);
  check_params (data, FALSE);
  check_params (data, TRUE);
}

/* The gradient of a logit w.r.t. a middle layer equals the one w.r.t. the
 * input pushed through only the nodes after it: stop must not change it */
static void
test_stop_is_exact (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(XcModel) m = xc_model_load_spec ("builtin:xception:size=71,width=1/16,classes=5",
                                             &error);
  g_autofree gboolean *want = g_new0 (gboolean, xc_model_n_nodes (m));
  g_autoptr(XcPlan) a = NULL;
  g_autoptr(XcPlan) b = NULL;
  g_autofree float *ga = NULL;
  float seed[5] = { 0, 0, 1, 0, 0 };
  guint mid;
  XcTensor in, t;

  g_assert_true (xc_model_lookup (m, "block8_sepconv2_act", &mid, &error));
  want[mid] = TRUE;
  want[0] = TRUE;
  a = xc_plan_new_backward (m, 1, want, &error);
  b = xc_plan_new_backward (m, 1, want, &error);
  g_assert_no_error (error);
  for (XcPlan *p = a; p; p = p == a ? b : NULL)
    {
      in = xc_plan_input (p);
      for (size_t i = 0; i < xc_tensor_size (&in); i++)
        in.data[i] = 2.0f * xc_seeded_uniform (5, 0, i) - 1.0f;
      xc_plan_run (p, FALSE, NULL, NULL, NULL);
    }
  xc_plan_backward (a, m->output, seed, TRUE, mid, FALSE, NULL, NULL, &error);
  xc_plan_backward (b, m->output, seed, TRUE, 0, FALSE, NULL, NULL, &error);
  xc_plan_grad (a, mid, &t);
  ga = g_memdup2 (t.data, xc_tensor_size (&t) * sizeof (float));
  xc_plan_grad (b, mid, &t);
  assert_close ("stop", ga, t.data, xc_tensor_size (&t), 0);
}

int
main (int argc, char **argv)
{
  xc_runtime_init (argv);
  g_test_init (&argc, &argv, NULL);
  xc_set_threads (1);
  for (guint i = 0; i < G_N_ELEMENTS (op_cases); i++)
    {
      g_autofree char *p = g_strdup_printf ("/backward/finite-differences/%s", op_cases[i]);
      g_test_add_data_func (p, op_cases[i], test_case);
    }
  g_test_add_func ("/backward/stop-is-exact", test_stop_is_exact);
  return g_test_run ();
}
