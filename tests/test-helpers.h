/* SPDX-License-Identifier: MIT
 *
 * Shared by the test binaries: golden paths and a tensor comparison that
 * reports the worst element before it asserts (llm.c's way).
 */
#pragma once

#include <math.h>
#include "xc.h"

/* The small Keras files under data/ops, one op (or a few) each */
static const char *const op_cases[] = {
  "activation_linear", "activation_relu", "activation_relu6", "activation_sigmoid",
  "activation_softmax", "activation_swish", "activation_tanh", "add3_gap_dense",
  "avgpool2_valid", "avgpool3_s1_same", "avgpool3_s2_same_odd", "batchnorm_eps",
  "batchnorm_nocenter", "conv1x1", "conv1x1_s2_same_odd", "conv3x3_s2_same_even",
  "conv3x3_s2_same_odd", "conv5x5_s2_same", "conv5x5_valid", "depthwise_5x5_valid",
  "depthwise_dm2_s2_same_odd", "flatten_dense", "gmp_dropout_rescaling", "maxpool2_valid",
  "maxpool3_s2_same_c19", "maxpool3_s2_same_even", "maxpool3_s2_same_odd",
  "relu_layer_max_slope",
  "separable_5x5_valid", "separable_dm2_same", "separable_s2_same_even", "sequential",
};

/* ../shared beside the project: real models and images; tests skip without it */
static inline char *
shared_path (const char *first, ...)
{
  g_autofree char *root = g_test_build_filename (G_TEST_DIST, "..", "..", "shared", NULL);
  va_list ap;
  GString *s = g_string_new (root);
  const char *part = first;

  va_start (ap, first);
  while (part)
    {
      g_string_append_c (s, G_DIR_SEPARATOR);
      g_string_append (s, part);
      part = va_arg (ap, const char *);
    }
  va_end (ap);
  return g_string_free (s, FALSE);
}

/* max |a - b| <= tol * max(floor, max |b|); prints where it is worst */
static inline void
assert_close_scaled (const char *what, const float *a, const float *b, size_t n, double tol,
                     double floor)
{
  double worst = 0, scale = floor;
  size_t at = 0;

  for (size_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]);
      g_assert_false (isnan (a[i]));
      if (d > worst)
        worst = d, at = i;
      scale = MAX (scale, fabs (b[i]));
    }
  if (g_test_verbose () || worst > tol * scale)
    g_test_message ("%s: max abs diff %.3g at %zu (ours %.7g, golden %.7g), scale %.3g", what,
                    worst, at, n ? a[at] : 0.0, n ? b[at] : 0.0, scale);
  g_assert_cmpfloat (worst, <=, tol * scale);
}

/* Absolute below magnitude 1, relative above */
static inline void
assert_close (const char *what, const float *a, const float *b, size_t n, double tol)
{
  assert_close_scaled (what, a, b, n, tol, 1.0);
}

/* Relative to the golden's largest magnitude, however small */
static inline void
assert_close_rel (const char *what, const float *a, const float *b, size_t n, double tol)
{
  assert_close_scaled (what, a, b, n, tol, 1e-30);
}

static inline float *
load_golden (const char *rel, int *shape, int *nd)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", rel, NULL);
  g_autoptr(GError) error = NULL;
  float *data = xc_npy_read (path, shape, nd, &error);

  g_assert_no_error (error);
  return data;
}

/* Relative to the golden's largest magnitude: all but a fraction `outliers`
 * of the elements within tol, every element within loose. For gradients
 * deep in a float32 network compared with a float64 reference: a ReLU whose
 * input is within rounding of 0, or a max-pool near-tie, routes that one
 * element's gradient differently, which no summation order can avoid. */
static inline void
assert_mostly_close_rel (const char *what, const float *a, const float *b, size_t n, double tol,
                         double outliers, double loose)
{
  double scale = 1e-30, worst = 0;
  size_t over = 0;

  for (size_t i = 0; i < n; i++)
    scale = MAX (scale, fabs (b[i]));
  for (size_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]);
      g_assert_false (isnan (a[i]));
      worst = MAX (worst, d);
      over += d > tol * scale;
    }
  g_test_message ("%s: %zu of %zu beyond %.0e relative (%.3f%%), worst %.2e relative", what, over,
                  n, tol, 100.0 * over / n, worst / scale);
  g_assert_cmpfloat ((double) over, <=, outliers * n);
  g_assert_cmpfloat (worst, <=, loose * scale);
}
