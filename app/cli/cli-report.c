/* SPDX-License-Identifier: MIT
 *
 * xception-cli report: a PDF report (cairo) of one image through one model, beside a second model.
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

static gboolean
report_model (XcModel *model, const XcImage *image, const XcModel *ref, int ref_class,
              XcReportModel *rm, float **probs, XcExplanation **e, XcFaithfulness **f,
              GError **error)
{
  const XcNode *in = xc_model_input (model);
  g_autofree float *input = g_new (float, (size_t) in->h * in->w * in->c);
  g_autoptr(XcExplainer) ex = NULL;
  XcExplainOptions o;
  int cls;

  if (!xc_image_to_input (image, model, input, error) ||
      !xc_model_measure_cost (model, 5, &rm->cost, error) ||
      !(ex = xc_explainer_new (model, error)) || !xc_explainer_set_input (ex, input, error))
    return FALSE;
  *probs = g_memdup2 (xc_explainer_probabilities (ex),
                      xc_model_node (model, model->output)->c * sizeof (float));
  xc_explain_options_init (&o);
  if (ref && xc_compare_match_class (ref, ref_class, model, &cls))
    o.target_class = cls;
  *e = xc_explainer_run (ex, &o, NULL, NULL, error);
  if (*e == NULL)
    return FALSE;
  *f = xc_explainer_faithfulness (ex, *e, 20, NULL, NULL, error);
  if (*f == NULL)
    return FALSE;
  rm->model = model;
  rm->probs = *probs;
  rm->explanation = *e;
  rm->faithfulness = *f;
  return TRUE;
}

int
xs_cli_report (int argc, char **argv)
{
  XsCliModelArgs ma = { 0 };
  int status = 0;
  g_autofree char *compare = NULL, *out = NULL;
  g_auto(GStrv) images = NULL;
  GOptionEntry entries[] = {
    { "compare-model", 0, 0, G_OPTION_ARG_STRING, &compare, "A second model, side by side",
      "MODEL" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The PDF to write", "FILE.pdf" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("IMAGE");
  g_autoptr(XcModel) a = NULL, b = NULL;
  g_autoptr(XcImage) image = NULL;
  g_autofree float *pa = NULL, *pb = NULL;
  g_autoptr(XcExplanation) ea = NULL, eb = NULL;
  g_autoptr(XcFaithfulness) fa = NULL, fb = NULL;
  g_autofree char *base = NULL;
  XcReport r = { 0 };
  GError *error = NULL;

  g_option_context_set_summary (ctx, "A PDF report: image, predictions, explanation, costs, "
                                "and a second model side by side.");
  g_option_context_add_main_entries (ctx, xs_cli_model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out_label;
  if (images == NULL || g_strv_length (images) != 1 || out == NULL)
    {
      g_printerr ("xception-cli report: give one IMAGE and --out FILE.pdf\n");
      status = EXIT_USAGE;
      goto out_label;
    }
  if (!(a = xs_cli_load_model (&ma, &error)) || !(image = xs_cli_load_image (images[0], &error)) ||
      !report_model (a, image, NULL, 0, &r.a, &pa, &ea, &fa, &error))
    {
      status = xs_cli_fail (error);
      goto out_label;
    }
  if (compare)
    {
      if (!(b = xc_model_load_spec (compare, &error)) ||
          !report_model (b, image, a, ea->target_class, &r.b, &pb, &eb, &fb, &error))
        {
          status = xs_cli_fail (error);
          goto out_label;
        }
    }
  base = g_path_get_basename (images[0]);
  r.image = image;
  r.image_name = base;
  if (!xc_report_write_pdf (&r, out, &error))
    {
      status = xs_cli_fail (error);
      goto out_label;
    }
  g_print ("wrote %s (%d pages)\n", out, compare ? 3 : 2);

out_label:
  xs_cli_model_args_clear (&ma);
  return status;
}
