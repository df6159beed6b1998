/* SPDX-License-Identifier: MIT
 *
 * xception-cli finetune: a new classifier head (global average pooling,
 * dropout, softmax Dense) on a trained body, for an image folder's classes.
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
#include "cli-train.h"

int
xs_cli_finetune (int argc, char **argv)
{
  XsCliTrainArgs t;
  XsCliModelArgs ma = { 0 };
  int status = 0;
  g_autofree char *freeze = NULL;
  GOptionEntry entries[] = {
    { "freeze-until", 0, 0, G_OPTION_ARG_STRING, &freeze,
      "Keep this layer and all before it fixed (default: the whole body)", "LAYER" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(XcModel) base = NULL, model = NULL;
  XcTrainOptions o;
  GError *error = NULL;

  _xs_cli_train_args_defaults (&t);
  t.epochs = 5;
  t.crop_pad = 0;
  g_option_context_set_summary (ctx, "A new classifier head (global average pooling, dropout, "
                                "dense) on a trained body, for the classes of an image folder.");
  g_option_context_add_main_entries (ctx, xs_cli_model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_main_entries (ctx, _xs_cli_train_entries (&t), NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (ma.model == NULL || t.dataset == NULL || t.out == NULL)
    {
      g_printerr ("xception-cli finetune: --model, --dataset and --out are required\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (!_xs_cli_train_options_from (&t, &o, &error))
    {
      g_printerr ("xception-cli finetune: %s\n", error->message);
      g_error_free (error);
      status = EXIT_USAGE;
      goto out;
    }
  xc_set_threads (t.threads > 0 ? t.threads : (int) g_get_num_processors ());
  base = xs_cli_load_model (&ma, &error);
  if (base == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  {
    const XcNode *in = xc_model_input (base);
    g_autoptr(XcDataset) d = xc_dataset_load (t.dataset, "val", in->h, in->w, in->c,
                                              (guint64) t.seed, &error);
    if (d == NULL || !xc_dataset_require_labels (d, "fine-tuning", &error))
      {
        status = xs_cli_fail (error);
        goto out;
      }
    model = xc_model_with_new_head (base, d->n_classes, (guint64) t.seed, &error);
  }
  if (model == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if (freeze && !xc_model_lookup (model, freeze, &o.freeze_until, &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  if (freeze == NULL)
    xc_model_lookup (model, "head_pool", &o.freeze_until, NULL), o.freeze_until--;
  status = _xs_cli_run_training (model, &t, &o, argv, argc, "finetune");

out:
  _xs_cli_train_args_clear (&t);
  xs_cli_model_args_clear (&ma);
  return status;
}
