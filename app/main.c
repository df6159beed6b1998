/* SPDX-License-Identifier: MIT
 *
 * xception-studio: the GTK 4 application.
 */
#include <malloc.h>

#include "xc.h"
#include "xs-application.h"

int
main (int argc, char **argv)
{
  g_autoptr(XsApplication) app = NULL;
  int status;

  /* The window's engine thread shares 2 cores with GTK's main thread and the
   * display server: OpenMP workers that spin long between loops (the command
   * line's 300,000 spins, see engine/xc-runtime.c) get preempted there and
   * stall every loop's barrier (the embedded model's first forward: 111-136
   * ms), and workers that sleep at once wake late (Xception 299: 222-294 ms).
   * A short spin does best in the window (2.1-2.4 and 216-230 ms). A user's
   * setting wins. */
  if (g_getenv ("OMP_WAIT_POLICY") == NULL && g_getenv ("GOMP_SPINCOUNT") == NULL)
    g_setenv ("GOMP_SPINCOUNT", "1000", TRUE);
  xc_runtime_init (argv);
  /* Plans, activations and images are large and come and go with each image
   * and page: give them back to the system when freed (glibc would otherwise
   * raise its mmap threshold and keep them in the heap) */
  mallopt (M_MMAP_THRESHOLD, 1 << 20);
  xc_set_threads (2);
  app = xs_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);
  /* a --screenshot or --timings that could not be written */
  if (status == 0 && g_object_get_data (G_OBJECT (app), "xs-failed"))
    status = 1;
  return status;
}
