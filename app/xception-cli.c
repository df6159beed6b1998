/* SPDX-License-Identifier: MIT
 *
 * xception-cli: the engine from the command line. This file only dispatches:
 * each command lives in app/cli/cli-<command>.c and what they share in
 * app/cli/cli-common.c. Every user error ends in one line on stderr and exit
 * status 1, bad usage in exit status 2.
 */
#define G_LOG_DOMAIN "xception-cli"

#include <locale.h>
#include <string.h>

#include "cli/cli-common.h"

static const struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *help;
} commands[] = {
  { "predict", xs_cli_predict, "top-k classes for images" },
  { "dump", xs_cli_dump, "write layer outputs as .npy" },
  { "explain", xs_cli_explain, "heatmaps: Grad-CAM and family, gradients, occlusion" },
  { "train", xs_cli_train, "train a classifier from scratch" },
  { "finetune", xs_cli_finetune, "a new classifier head on a trained body" },
  { "evaluate", xs_cli_evaluate, "accuracy, precision, recall, confusion matrix" },
  { "compare", xs_cli_compare, "two models on the same images" },
  { "localize", xs_cli_localize, "pointing game and IoU of explanations against boxes" },
  { "merge", xs_cli_merge, "join the shards of a sharded run into its summary" },
  { "report", xs_cli_report, "a PDF report of an analysis" },
  { "summary", xs_cli_summary, "layers, params, MACs, standard-convolution costs" },
  { "bench", xs_cli_bench, "time the forward pass" },
  { "download", xs_cli_download, "the official ImageNet Xception weights" },
};

static void
print_usage (void)
{
  g_printerr ("Usage: xception-cli COMMAND [OPTIONS]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_printerr ("  %-10s %s\n", commands[i].name, commands[i].help);
  g_printerr ("\n'xception-cli COMMAND --help' describes each.\n");
}

int
main (int argc, char **argv)
{
  xc_runtime_init (argv);
  setlocale (LC_ALL, "");
  {
    GString *c = g_string_new ("xception-cli");
    for (int i = 1; i < argc; i++)
      {
        g_autofree char *q = g_shell_quote (argv[i]);
        /* quote only what needs it */
        g_string_append_printf (c, " %s", strpbrk (argv[i], " '\"$") ? q : argv[i]);
      }
    xs_cli_command_line = g_string_free (c, FALSE);
  }
  setlocale (LC_NUMERIC, "C");

  if (argc < 2)
    {
      print_usage ();
      return EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_usage ();
      return 0;
    }
  if (g_getenv ("OPENBLAS_NUM_THREADS") == NULL && g_getenv ("OMP_NUM_THREADS") == NULL)
    xc_set_threads (2);
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        g_autofree char *prg = g_strdup_printf ("xception-cli %s", argv[1]);
        argv[1] = prg;
        return commands[i].run (argc - 1, argv + 1);
      }
  g_printerr ("xception-cli: unknown command '%s'\n", argv[1]);
  print_usage ();
  return EXIT_USAGE;
}
