/* SPDX-License-Identifier: MIT
 *
 * The compute threads kept one to a CPU for the length of a run (see
 * xc-affinity.c).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gboolean pinned;
  int      threads;
  guint8   mask[128];   /* the calling thread's CPU set before, a cpu_set_t */
} XcPinning;

gboolean xc_affinity_pin_team    (XcPinning *pin);
void     xc_affinity_unpin_team  (XcPinning *pin);
gboolean xc_affinity_enabled     (void);
int      xc_affinity_team_cpus   (int       *cpus,
                                  int        max);

G_END_DECLS
