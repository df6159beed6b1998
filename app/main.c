/* SPDX-License-Identifier: MIT
 *
 * xception-studio: the GTK 4 application.
 */
#include "xc.h"
#include "xs-application.h"

int
main (int argc, char **argv)
{
  g_autoptr(XsApplication) app = NULL;

  xc_runtime_init (argv);
  xc_set_threads (2);
  app = xs_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
