/* SPDX-License-Identifier: MIT
 *
 * xception-cli bench: time the forward pass (and Grad-CAM) over repeated runs.
 */
#define G_LOG_DOMAIN "xception-cli"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <locale.h>
#include <string.h>
#include <sys/resource.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "xc.h"
#include "cli-common.h"

/* --interleave: the caller decides when each forward runs, so that its own
 * runs and ours alternate one by one and see the same moments of a noisy
 * machine (tests/bench/bench-onnxruntime.py) */
static int
interleaved (XcPlan *plan)
{
  char line[64];
  XcTensor in = xc_plan_input (plan);

  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    in.data[i] = 2.0f * xc_seeded_uniform (1, 0, i) - 1.0f;
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  g_print ("ready\n");
  fflush (stdout);
  while (fgets (line, sizeof line, stdin) != NULL)
    {
      gint64 t0 = g_get_monotonic_time ();

      xc_plan_run (plan, FALSE, NULL, NULL, NULL);
      g_print ("%.3f\n", (g_get_monotonic_time () - t0) / 1000.0);
      fflush (stdout);
    }
  return 0;
}

int
xs_cli_bench (int argc, char **argv)
{
  XsCliModelArgs ma = { 0 };
  int status = 0, runs = 10, threads = 2, batch = 1;
  gboolean json = FALSE, interleave = FALSE;
  GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Timed runs after one warm-up (default 10)", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads (default 2)", "T" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Batch size (default 1)", "B" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "interleave", 0, 0, G_OPTION_ARG_NONE, &interleave,
      "After one warm-up, one timed forward per line read on standard input, its ms printed "
      "(for scripts that alternate with another runtime run by run)", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcPlan) plan = NULL;
  g_autofree double *ms = NULL;
  GError *error = NULL;
  XcTensor in;
  struct rusage ru;
  guint64 macs;
  gint64 forward_rss;
  const char *gradcam_layer[2];
  double gradcam_ms[2];
  double gradcam_forward_ms[2];   /* the forwards run between those Grad-CAMs */
  gint64 gradcam_rss[2];   /* peak RSS once Grad-CAM at that layer (and those before) ran */
  guint n_gradcam = 0;
  double op_ms[XC_N_OPS], peak;

  g_option_context_set_summary (ctx, "Time the forward pass on seeded random input.");
  g_option_context_add_main_entries (ctx, xs_cli_model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (runs < 1 || runs > 100000 || threads < 1 || threads > 256)
    {
      g_printerr ("xception-cli bench: --runs 1 to 100000, --threads 1 to 256\n");
      status = EXIT_USAGE;
      goto out;
    }
  xc_set_threads (threads);
  model = xs_cli_load_model (&ma, &error);
  if (model == NULL || !(plan = xc_plan_new (model, batch, NULL, &error)))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if (interleave)
    {
      status = interleaved (plan);
      goto out;
    }
  ms = g_new (double, runs);
  xc_plan_time_forward_ops (plan, runs, 1, ms, op_ms);
  in = xc_plan_input (plan);
  xc_model_totals (model, NULL, NULL, &macs, NULL, NULL);
  getrusage (RUSAGE_SELF, &ru);
  forward_rss = (gint64) ru.ru_maxrss * 1024;

  /* Grad-CAM from the image: forward, backward to the layer, the map */
  if (batch == 1 && xc_model_node (model, model->output)->flat)
    {
      guint layers[2], n_layers = 0;
      g_autoptr(XcExplainer) ex = xc_explainer_new (model, NULL);
      if (xc_model_default_cam_layer (model, &layers[0], NULL))
        n_layers++;
      if (xc_model_lookup (model, "block4_sepconv1_act", &layers[n_layers], NULL) &&
          (n_layers == 0 || layers[n_layers] != layers[0]))
        n_layers++;
      for (guint l = 0; l < n_layers && ex; l++)
        {
          XcExplainOptions o;
          g_autofree double *t = g_new (double, runs);
          g_autofree double *f = g_new (double, runs);
          xc_explain_options_init (&o);
          o.layer = layers[l];
          /* each Grad-CAM followed by one forward of the plan above: the
           * ratio from runs that saw the same moments of a noisy machine */
          for (int r = -1; r < runs; r++)
            {
              gint64 t0 = g_get_monotonic_time ();
              XcExplanation *e;
              xc_explainer_set_input (ex, in.data, NULL);
              e = xc_explainer_run (ex, &o, NULL, NULL, NULL);
              if (r >= 0)
                t[r] = (g_get_monotonic_time () - t0) / 1000.0;
              xc_explanation_free (e);
              xc_plan_run (plan, FALSE, NULL, NULL, NULL);
              if (r >= 0)
                f[r] = xc_plan_total_us (plan) / 1000.0;
            }
          gradcam_layer[l] = xc_model_node (model, layers[l])->name;
          gradcam_ms[l] = xc_timing_median (t, runs);
          gradcam_forward_ms[l] = xc_timing_median (f, runs);
          getrusage (RUSAGE_SELF, &ru);
          gradcam_rss[l] = (gint64) ru.ru_maxrss * 1024;
          n_gradcam = l + 1;
        }
    }
  getrusage (RUSAGE_SELF, &ru);
  peak = xc_sgemm_peak_gflops ();   /* after every RSS reading: it takes 48 MB */

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *s = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, model->name);
      xs_cli_add_int (b, "threads", threads);
      json_builder_set_member_name (b, "blas_core");
      json_builder_add_string_value (b, xc_blas_core ());
      json_builder_set_member_name (b, "gemm");
      json_builder_add_string_value (b, xc_gemm_name ());
      xs_cli_add_int (b, "batch", batch);
      xs_cli_add_int (b, "runs", runs);
      json_builder_set_member_name (b, "forward_ms");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "median");
      json_builder_add_double_value (b, ms[runs / 2]);
      json_builder_set_member_name (b, "min");
      json_builder_add_double_value (b, ms[0]);
      json_builder_set_member_name (b, "max");
      json_builder_add_double_value (b, ms[runs - 1]);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "gmacs_per_s");
      json_builder_add_double_value (b, macs * batch / (ms[runs / 2] * 1e6));
      json_builder_set_member_name (b, "sgemm_peak_gflops");
      json_builder_add_double_value (b, peak);
      json_builder_set_member_name (b, "fraction_of_sgemm_peak");
      json_builder_add_double_value (b, 2.0 * macs * batch / (ms[runs / 2] * 1e6) / peak);
      json_builder_set_member_name (b, "op_ms");
      json_builder_begin_object (b);
      for (int op = 1; op < XC_N_OPS; op++)
        if (op_ms[op] > 0.0)
          {
            json_builder_set_member_name (b, xc_op_name (op));
            json_builder_add_double_value (b, op_ms[op]);
          }
      json_builder_end_object (b);
      json_builder_set_member_name (b, "gradcam");
      json_builder_begin_array (b);
      for (guint l = 0; l < n_gradcam; l++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "layer");
          json_builder_add_string_value (b, gradcam_layer[l]);
          json_builder_set_member_name (b, "median_ms");
          json_builder_add_double_value (b, gradcam_ms[l]);
          json_builder_set_member_name (b, "forward_ms_interleaved");
          json_builder_add_double_value (b, gradcam_forward_ms[l]);
          json_builder_set_member_name (b, "ratio_to_forward");
          json_builder_add_double_value (b, gradcam_ms[l] / gradcam_forward_ms[l]);
          xs_cli_add_int (b, "peak_rss_bytes", gradcam_rss[l]);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      xs_cli_add_int (b, "arena_bytes", xc_plan_arena_bytes (plan));
      xs_cli_add_int (b, "weights_bytes", model->slab_size * sizeof (float));
      xs_cli_add_int (b, "peak_rss_bytes", forward_rss);
      xs_cli_add_int (b, "peak_rss_with_gradcam_bytes", (gint64) ru.ru_maxrss * 1024);
      json_builder_end_object (b);
      s = xs_cli_print_json (b);
      g_print ("%s\n", s);
    }
  else
    g_print ("%s, batch %d, %d threads (GEMM: %s; OpenBLAS %s kernels), %d runs\n"
             "forward: median %.2f ms, min %.2f ms, max %.2f ms (%.1f GMAC/s, %.0f%% of the "
             "%.0f GFLOP/s a 2048x2048 sgemm reaches here)\n"
             "activations arena %.1f MB (%.1f MB without reuse), weights %.1f MB, "
             "peak RSS %.1f MB (%.1f MB once Grad-CAM ran)\n",
             model->name, batch, threads, xc_gemm_name (), xc_blas_core (), runs, ms[runs / 2], ms[0], ms[runs - 1],
             macs * batch / (ms[runs / 2] * 1e6),
             100.0 * 2.0 * macs * batch / (ms[runs / 2] * 1e6) / peak, peak,
             xc_plan_arena_bytes (plan) / 1048576.0,
             xc_plan_naive_bytes (plan) / 1048576.0,
             model->slab_size * 4 / 1048576.0, forward_rss / 1048576.0, ru.ru_maxrss / 1024.0);
  if (!json)
    {
      g_print ("by op:");
      for (int op = 1, first = 1; op < XC_N_OPS; op++)
        if (op_ms[op] >= 0.05)
          {
            g_print ("%s %s %.1f ms", first ? "" : ",", xc_op_name (op), op_ms[op]);
            first = 0;
          }
      g_print ("\n");
    }
  for (guint l = 0; l < n_gradcam && !json; l++)
    g_print ("Grad-CAM at %s (forward + backward + map): median %.2f ms, %.2fx the forward "
             "(%.2f ms, runs between them), peak RSS %.1f MB\n", gradcam_layer[l], gradcam_ms[l],
             gradcam_ms[l] / gradcam_forward_ms[l], gradcam_forward_ms[l],
             gradcam_rss[l] / 1048576.0);

out:
  xs_cli_model_args_clear (&ma);
  return status;
}
