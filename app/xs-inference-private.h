/* SPDX-License-Identifier: MIT
 *
 * XsInference's internals, shared by xs-inference.c (load, analyse,
 * explain, faithfulness, measure) and xs-inference-compare.c.
 */
#pragma once

#include "xs-inference.h"

G_BEGIN_DECLS

struct _XsInference {
  GObject      parent_instance;
  GMutex       engine_lock;   /* one engine job at a time */
  GThreadPool *pool;          /* the one thread engine jobs run in */
};

/* Runs worker for task in the inference's own thread (as g_task_run_in_thread
 * would in GLib's shared pool) */
void _xs_inference_run (XsInference *self, GTask *task, GTaskThreadFunc worker);

/* An XcProgressFunc: go on unless the GCancellable in data is cancelled */
gboolean _xs_inference_progress_cb (guint    node,
                                    guint    n_nodes,
                                    gpointer data);

/* The model's explainer, made once per model; the caller holds the engine lock */
XcExplainer *_xs_inference_model_explainer (XsModel *m, GError **error);

G_END_DECLS
