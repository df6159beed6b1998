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

  /* The window's engine thread shares the cores with GTK's main thread and
   * the display server. Its OpenMP threads spin between loops as the command
   * line's do (engine/xc-runtime.c): workers that sleep at once wake late
   * (Xception 299's forward in the window: 224 ms median with 1,000 spins,
   * 181 ms with 300,000, six alternating runs each; 30,000 as fast, and the
   * predictions painted 6 ms sooner after it, five runs each). What made
   * long spins cost before (the embedded model's forward 2 ms -> 10-136 ms)
   * was a second team: the main thread's own parallel loops (resizing the
   * shown image, drawing heatmaps) left two workers of its own spinning
   * beside the engine's. The main thread now runs its loops alone (below). */
  xc_runtime_init (argv);
  /* Plans, activations and images are large and come and go with each image
   * and page: give them back to the system when freed (glibc would otherwise
   * raise its mmap threshold and keep them in the heap) */
  mallopt (M_MMAP_THRESHOLD, 1 << 20);
  /* the main thread's loops on one thread: no OpenMP team of its own
   * spinning beside the engine thread's (which takes one thread per core,
   * or OMP_NUM_THREADS) */
  xc_set_threads (1);
  app = xs_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);
  /* a --screenshot or --timings that could not be written */
  if (status == 0 && g_object_get_data (G_OBJECT (app), "xs-failed"))
    status = 1;
  return status;
}
