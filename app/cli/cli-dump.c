/* SPDX-License-Identifier: MIT
 *
 * xception-cli dump: write chosen layers' outputs as .npy files.
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

int
xs_cli_dump (int argc, char **argv)
{
  XsCliModelArgs ma = { 0 };
  int status = 0;
  g_autofree char *npy = NULL, *out_dir = NULL;
  g_auto(GStrv) layers = NULL, images = NULL;
  gboolean all = FALSE;
  GOptionEntry entries[] = {
    { "layer", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &layers, "Layer to write (repeatable)", "NAME" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Write every layer", NULL },
    { "out-dir", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Folder for NAME.npy files", "DIR" },
    { "input-npy", 0, 0, G_OPTION_ARG_FILENAME, &npy, "A preprocessed (1,H,W,C) float32 tensor",
      "FILE" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, NULL, "IMAGE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("(IMAGE | --input-npy FILE)");
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcPlan) plan = NULL;
  g_autofree gboolean *keep = NULL;
  GError *error = NULL;
  guint n;

  g_option_context_set_summary (ctx, "Write layer outputs as .npy files (1,H,W,C) or (1,C).");
  g_option_context_add_main_entries (ctx, xs_cli_model_entries (&ma), NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  if ((images ? g_strv_length (images) : 0) + (npy ? 1 : 0) != 1 || (!layers && !all) || !out_dir)
    {
      g_printerr ("xception-cli dump: give one IMAGE or --input-npy, --layer NAME (or --all) "
                  "and --out-dir DIR\n");
      status = EXIT_USAGE;
      goto out;
    }
  model = xs_cli_load_model (&ma, &error);
  if (model == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  n = xc_model_n_nodes (model);
  keep = g_new0 (gboolean, n);
  for (guint i = 0; layers && layers[i]; i++)
    {
      guint idx;
      if (!xc_model_lookup (model, layers[i], &idx, &error))
        {
          status = xs_cli_fail (error);
          goto out;
        }
      keep[idx] = TRUE;
    }
  if (all)
    for (guint i = 0; i < n; i++)
      keep[i] = TRUE;
  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      g_printerr ("xception-cli: %s: cannot create the folder: %s\n", out_dir, g_strerror (errno));
      status = EXIT_USER;
      goto out;
    }
  plan = xc_plan_new (model, 1, keep, &error);
  if (plan == NULL || !xs_cli_fill_input (plan, model, npy ? NULL : images[0], npy, &error))
    {
      status = xs_cli_fail (error);
      goto out;
    }
  xc_plan_run (plan, FALSE, NULL, NULL, NULL);
  for (guint i = 0; i < n; i++)
    {
      const XcNode *node = xc_model_node (model, i);
      g_autofree char *safe = NULL, *file = NULL, *path = NULL;
      XcTensor t;
      int shape4[4], shape2[2];

      if (!keep[i])
        continue;
      xc_plan_output (plan, i, &t);
      safe = g_strdelimit (g_strdup (node->name), "/\\", '_');
      file = g_strconcat (safe, ".npy", NULL);
      path = g_build_filename (out_dir, file, NULL);
      shape4[0] = 1, shape4[1] = t.h, shape4[2] = t.w, shape4[3] = t.c;
      shape2[0] = 1, shape2[1] = t.c;
      if (!xc_npy_write (path, t.data, node->flat ? shape2 : shape4, node->flat ? 2 : 4, &error))
        {
          status = xs_cli_fail (error);
          goto out;
        }
    }

out:
  xs_cli_model_args_clear (&ma);
  return status;
}
