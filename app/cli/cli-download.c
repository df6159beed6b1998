/* SPDX-License-Identifier: MIT
 *
 * xception-cli download imagenet: Keras' official ImageNet Xception weights
 * into the user data folder (where imagenet:xception looks), resumable and
 * MD5-checked (engine/io/xc-download.c). A progress bar with bytes and rate
 * on a terminal, a line every 10% otherwise (both on stdout).
 */
#define G_LOG_DOMAIN "xception-cli"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xc.h"
#include "cli-common.h"

typedef struct {
  gint64  t0;
  goffset start;       /* bytes at the first report (a resumed part) */
  int     last_tenth;
  gboolean tty;
} Progress;

static gboolean
on_progress (goffset done, goffset total, gpointer data)
{
  Progress *p = data;
  gint64 now = g_get_monotonic_time ();
  double secs, rate;

  if (p->t0 == 0)
    p->t0 = now, p->start = done;
  secs = MAX (1e-3, (now - p->t0) / 1e6);
  rate = (done - p->start) / secs / 1e6;
  if (p->tty)
    {
      if (total > 0)
        g_print ("\r  %6.1f / %.1f MB  %5.1f%%  %5.1f MB/s ", done / 1e6, total / 1e6,
                    100.0 * done / total, rate);
      else
        g_print ("\r  %6.1f MB  %5.1f MB/s ", done / 1e6, rate);
    }
  else if (total > 0 && (int) (10 * done / total) > p->last_tenth)
    {
      p->last_tenth = (int) (10 * done / total);
      g_print ("  %.1f / %.1f MB (%d%%), %.1f MB/s\n", done / 1e6, total / 1e6,
                  10 * p->last_tenth, rate);
    }
  return TRUE;
}

int
xs_cli_download (int argc, char **argv)
{
  gboolean notop = FALSE;
  g_autofree char *url = NULL, *md5 = NULL, *out = NULL;
  GOptionEntry entries[] = {
    { "notop", 0, 0, G_OPTION_ARG_NONE, &notop, "The file without the top (a feature "
      "extractor, 80 MB)", NULL },
    { "url", 0, 0, G_OPTION_ARG_STRING, &url, "Download from here instead (a mirror)", "URL" },
    { "md5", 0, 0, G_OPTION_ARG_STRING, &md5, "Expected MD5 (default: the official file's)",
      "HEX" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write here instead of the user data folder",
      "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("imagenet");
  g_autofree char *dest = NULL;
  GError *error = NULL;
  Progress p = { 0 };
  int status = 0;

  g_option_context_set_summary (ctx, "Download Keras' official ImageNet Xception weights "
                                "(88 MB; md5-checked, resumable) for imagenet:xception.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    return status;
  if (argc != 2 || !g_str_equal (argv[1], "imagenet"))
    {
      g_printerr ("xception-cli download: say what to download: 'imagenet'\n");
      return EXIT_USAGE;
    }
  if (md5 != NULL && (strlen (md5) != 32 || strspn (md5, "0123456789abcdefABCDEF") != 32))
    {
      g_printerr ("xception-cli download: --md5 %s: not 32 hex digits\n", md5);
      return EXIT_USAGE;
    }
  dest = out ? g_strdup (out) : xc_imagenet_weights_path (notop);
  if (url == NULL)
    url = g_strdup (notop ? XC_IMAGENET_NOTOP_URL : XC_IMAGENET_URL);
  if (md5 == NULL)
    md5 = g_strdup (notop ? XC_IMAGENET_NOTOP_MD5 : XC_IMAGENET_MD5);
  if (out == NULL && g_file_test (dest, G_FILE_TEST_IS_REGULAR))
    {
      g_print ("%s is already there\n", dest);
      return 0;
    }
  /* progress on stdout: stderr keeps the one-line error */
  p.tty = isatty (STDOUT_FILENO);
  g_print ("downloading %s\n  to %s\n", url, dest);
  if (!xc_download_file (url, dest, md5, on_progress, &p, &error))
    {
      if (p.tty)
        g_print ("\n");
      return xs_cli_fail (error);
    }
  if (p.tty)
    g_print ("\n");
  g_print ("%s: MD5 %s verified; --model %s now works\n", dest, md5,
           out ? dest : notop ? "imagenet:xception-notop" : "imagenet:xception");
  return 0;
}
