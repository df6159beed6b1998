/* SPDX-License-Identifier: MIT
 *
 * XcPlan: one forward pass of an XcModel at a batch size, planned ahead. All
 * activations live in one arena whose buffers are reused once a node's last
 * reader has run (unless the caller asked to keep that node's output), plus
 * one scratch region sized to the largest op. Create (validate, size,
 * allocate) can fail; run cannot, except by being cancelled.
 */
#pragma once

#include "xc-model.h"
#include "xc-tensor.h"

G_BEGIN_DECLS

typedef struct _XcPlan XcPlan;

/* Called between nodes; return FALSE to cancel the run */
typedef gboolean (*XcProgressFunc) (guint node, guint n_nodes, gpointer data);

typedef struct {
  gint64   time_us;      /* wall time of this node's forward, microseconds */
  XcStats  stats;        /* valid when the run asked for statistics */
} XcNodeRun;

XcPlan          *xc_plan_new          (const XcModel  *model,
                                       int             batch,
                                       const gboolean *keep,
                                       GError        **error);
XcPlan          *xc_plan_new_backward (const XcModel  *model,
                                       int             batch,
                                       const gboolean *want_grad,
                                       GError        **error);
XcPlan          *xc_plan_new_backward_to (const XcModel *model,
                                       int             batch,
                                       const gboolean *want_grad,
                                       guint           stop,
                                       GError        **error);
XcPlan          *xc_plan_new_training (const XcModel  *model,
                                       int             batch,
                                       GError        **error);
XcPlan          *xc_plan_new_training_wanting_input (const XcModel *model,
                                       int             batch,
                                       GError        **error);
void             xc_plan_set_param_grads (XcPlan      *plan,
                                       float          *grads);
void             xc_plan_set_step     (XcPlan         *plan,
                                       guint64         step);
void             xc_plan_set_frozen_until (XcPlan     *plan,
                                       guint           node);
void             xc_plan_free         (XcPlan         *plan);
const XcModel   *xc_plan_model        (XcPlan         *plan);
int              xc_plan_batch        (XcPlan         *plan);
XcTensor         xc_plan_input        (XcPlan         *plan);
void             xc_plan_set_progress_peeks (XcPlan *plan,
                                             gboolean peeks);
gboolean         xc_plan_run          (XcPlan         *plan,
                                       gboolean        stats,
                                       XcProgressFunc  progress,
                                       gpointer        data,
                                       GError        **error);
gboolean         xc_plan_run_range    (XcPlan         *plan,
                                       guint           first,
                                       guint           last,
                                       gboolean        stats,
                                       XcProgressFunc  progress,
                                       gpointer        data,
                                       GError        **error);
gboolean         xc_plan_backward     (XcPlan         *plan,
                                       guint           from,
                                       const float    *seed,
                                       gboolean        seed_is_pre,
                                       guint           stop,
                                       gboolean        guided,
                                       XcProgressFunc  progress,
                                       gpointer        data,
                                       GError        **error);
gboolean         xc_plan_grad         (XcPlan         *plan,
                                       guint           node,
                                       XcTensor       *out);
gboolean         xc_plan_output       (XcPlan         *plan,
                                       guint           node,
                                       XcTensor       *out);
void             xc_plan_peek         (XcPlan         *plan,
                                       guint           node,
                                       XcTensor       *out);
const XcNodeRun *xc_plan_node_run     (XcPlan         *plan,
                                       guint           node);
gboolean         xc_plan_check_finite (XcPlan         *plan,
                                       gboolean        have_stats,
                                       GError        **error);
size_t           xc_plan_arena_bytes  (XcPlan         *plan);
size_t           xc_plan_naive_bytes  (XcPlan         *plan);
gint64           xc_plan_total_us     (XcPlan         *plan);
guint            xc_plan_n_folded     (XcPlan         *plan);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcPlan, xc_plan_free)

G_END_DECLS
