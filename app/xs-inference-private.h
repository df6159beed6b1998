/* SPDX-License-Identifier: MIT
 *
 * XsInference's internals, shared by xs-inference.c (load, analyse,
 * explain, faithfulness, measure) and xs-inference-compare.c.
 */
#pragma once

#include "xs-inference.h"

G_BEGIN_DECLS

struct _XsInference {
  GObject  parent_instance;
  GMutex   engine_lock;   /* one engine job at a time */
};

/* An XcProgressFunc: go on unless the GCancellable in data is cancelled */
gboolean _xs_inference_progress_cb (guint    node,
                                    guint    n_nodes,
                                    gpointer data);

G_END_DECLS
