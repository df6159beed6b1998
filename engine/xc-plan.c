/* SPDX-License-Identifier: MIT
 *
 * Planning a forward pass: liveness of every activation over the topological
 * order, a best-fit offset allocator over one arena (a buffer is handed out
 * before the node's inputs die, since the node reads them while writing it),
 * and the run loop that times each node.
 */
#define G_LOG_DOMAIN "xc-plan"

#include <math.h>
#include <string.h>

#include "xc-affinity.h"
#include "xc-error.h"
#include "xc-memory.h"
#include "xc-plan.h"
#include "ops/xc-ops.h"

#define ALIGN_FLOATS 16   /* 64-byte alignment for every buffer */

struct _XcPlan {
  const XcModel *model;       /* borrowed; must outlive the plan */
  int            batch;
  float         *arena;       /* owned: activations, then scratch */
  size_t         arena_size;  /* floats for activations */
  size_t         scratch_size;
  size_t         naive_size;  /* floats if nothing were reused */
  size_t        *offset;      /* per node, floats into arena */
  gboolean      *keep;        /* per node: output survives the run */
  XcNodeRun     *runs;
  gint64         total_us;
  /* per node: a Conv2D or SeparableConv2D whose inference BatchNormalization
   * (its only reader, in place in the same buffer: the next node, or one
   * further on as a residual convolution's) can be folded into it: that
   * node's index, else 0 */
  guint         *foldable;
  gboolean      *folded_away; /* during a run: a BatchNormalization already applied */
  float         *fold;        /* owned: the folded scale and shift, 2 x max channels */
  /* per node: a SeparableConv2D whose input is a ReLU (the node before it,
   * read by nothing else) that it can apply itself as it reads the ReLU's
   * input, which is still intact when it runs */
  gboolean      *relu_foldable;
  /* per node: a foldable Conv2D whose BatchNormalization is followed by a
   * ReLU (in place, its only reader) that it can apply as it stores */
  gboolean      *relu_after;
  guint          n_folded;    /* BatchNormalizations and ReLUs folded in the last run */
  gboolean       progress_peeks; /* the progress callback reads node outputs */

  /* Backward plans only */
  gboolean       backward;
  float         *grads;       /* owned: gradient arena */
  size_t         grad_size;   /* floats */
  size_t        *grad_off;    /* per node, floats into grads */
  gboolean      *want_grad;   /* per node: gradient readable after xc_plan_backward() */
  guint          grad_stop;   /* no backward goes below this node: no gradient before it */
  gboolean      *reached;     /* per node, per backward run: gradient written */
  size_t         back_scratch;

  /* Training plans only */
  gboolean       training;
  float         *saved;       /* owned: what each training forward keeps for backward */
  size_t        *saved_off;   /* per node, floats into saved */
  float         *param_grads; /* borrowed: a slab shaped like the model's, or NULL */
  guint64        step;        /* dropout masks: set per training step */
  guint          frozen_until; /* nodes up to this one run in inference mode */
};

typedef struct {
  size_t off, size;
} Block;

static size_t
align_up (size_t n)
{
  return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

static size_t
alloc_block (GArray *free_list, size_t *end, size_t size)
{
  guint best = G_MAXUINT;
  size_t off;

  for (guint i = 0; i < free_list->len; i++)
    {
      Block *b = &g_array_index (free_list, Block, i);
      if (b->size >= size && (best == G_MAXUINT ||
                              b->size < g_array_index (free_list, Block, best).size))
        best = i;
    }
  if (best != G_MAXUINT)
    {
      Block *b = &g_array_index (free_list, Block, best);
      off = b->off;
      b->off += size;
      b->size -= size;
      if (b->size == 0)
        g_array_remove_index (free_list, best);
      return off;
    }
  /* grow the arena, reusing a free block that ends at its end */
  for (guint i = 0; i < free_list->len; i++)
    {
      Block *b = &g_array_index (free_list, Block, i);
      if (b->off + b->size == *end)
        {
          off = b->off;
          *end = off + size;
          g_array_remove_index (free_list, i);
          return off;
        }
    }
  off = *end;
  *end += size;
  return off;
}

static void
free_block (GArray *free_list, size_t off, size_t size)
{
  Block nb = { off, size };
  guint i;

  for (i = 0; i < free_list->len; i++)
    if (g_array_index (free_list, Block, i).off > off)
      break;
  g_array_insert_val (free_list, i, nb);
  /* merge with the next, then the previous */
  if (i + 1 < free_list->len)
    {
      Block *b = &g_array_index (free_list, Block, i), *n = b + 1;
      if (b->off + b->size == n->off)
        {
          b->size += n->size;
          g_array_remove_index (free_list, i + 1);
        }
    }
  if (i > 0)
    {
      Block *p = &g_array_index (free_list, Block, i - 1), *b = p + 1;
      if (p->off + p->size == b->off)
        {
          p->size += b->size;
          g_array_remove_index (free_list, i);
        }
    }
}

static gboolean
is_unary_elementwise (const XcNode *node)
{
  return node->op == XC_OP_BATCHNORM || node->op == XC_OP_ACTIVATION ||
         node->op == XC_OP_DROPOUT || node->op == XC_OP_RESCALING;
}

static size_t
node_floats (const XcNode *node, int batch)
{
  return align_up ((size_t) batch * node->h * node->w * node->c);
}

/**
 * xc_plan_new:
 * @model: a finished model; it must outlive the plan
 * @batch: images per run, 1 to 4096
 * @keep: (nullable) (array): per node, whether its output must be readable
 *   after the run; %NULL keeps only the model's output
 *
 * Returns: (transfer full): the plan, or %NULL with @error set when the
 *   arena cannot be allocated
 */
/* Gradient buffers, planned in reverse: node i's gradient is live from the
 * backward of its last consumer (which writes it first) until its own
 * backward has run; requested gradients live to the end. */
static gboolean
plan_gradients (XcPlan *plan, const gboolean *want_grad, guint stop, GError **error)
{
  const XcModel *model = plan->model;
  guint n = model->nodes->len;
  g_autoptr(GArray) free_list = g_array_new (FALSE, FALSE, sizeof (Block));
  g_autofree gboolean *allocated = g_new0 (gboolean, n);
  size_t end = 0;

  plan->backward = TRUE;
  plan->grad_off = g_new0 (size_t, n);
  plan->want_grad = g_new0 (gboolean, n);
  plan->reached = g_new0 (gboolean, n);
  memcpy (plan->want_grad, want_grad, n * sizeof (gboolean));

  plan->grad_stop = stop;
  for (guint t = n; t-- > stop;)
    {
      const XcNode *node = xc_model_node (model, t);
      const XcNode *in = node->n_inputs ? xc_model_node (model, node->inputs[0]) : NULL;
      if (!allocated[t])
        {
          plan->grad_off[t] = alloc_block (free_list, &end, node_floats (node, plan->batch));
          allocated[t] = TRUE;
        }
      for (guint k = 0; k < node->n_inputs; k++)
        {
          guint src = node->inputs[k];
          if (!allocated[src] && src >= stop)
            {
              plan->grad_off[src] = alloc_block (free_list, &end,
                                                 node_floats (xc_model_node (model, src),
                                                              plan->batch));
              allocated[src] = TRUE;
            }
        }
      plan->back_scratch = MAX (plan->back_scratch,
                                align_up (xc_op_backward_scratch (node, in, plan->batch)));
      if (!plan->want_grad[t])
        free_block (free_list, plan->grad_off[t], node_floats (node, plan->batch));
    }
  plan->grad_size = end;
  plan->scratch_size = MAX (plan->scratch_size, plan->back_scratch);
  if (!xc_memory_check ((guint64) end * sizeof (float), "the gradients", error))
    return FALSE;
  plan->grads = g_try_malloc ((end + ALIGN_FLOATS) * sizeof (float));
  if (plan->grads == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY,
                   "cannot allocate %zu MB of gradients for %s", end * sizeof (float) >> 20,
                   model->name);
      return FALSE;
    }
  return TRUE;
}

static XcPlan *plan_new (const XcModel *model, int batch, const gboolean *keep,
                         const gboolean *want_grad, guint stop, GError **error);

XcPlan *
xc_plan_new (const XcModel  *model,
             int             batch,
             const gboolean *keep,
             GError        **error)
{
  return plan_new (model, batch, keep, NULL, 0, error);
}

/**
 * xc_plan_new_backward:
 * @want_grad: (array): per node, whether its gradient must be readable after
 *   xc_plan_backward()
 *
 * A plan that keeps every forward output (each op's backward reads its
 * inputs and output) and has a gradient arena.
 *
 * Returns: (transfer full): the plan, or %NULL with @error
 */
XcPlan *
xc_plan_new_backward (const XcModel  *model,
                      int             batch,
                      const gboolean *want_grad,
                      GError        **error)
{
  return xc_plan_new_backward_to (model, batch, want_grad, 0, error);
}

/**
 * xc_plan_new_backward_to:
 * @stop: the deepest node any xc_plan_backward() of this plan will stop at
 *
 * A backward plan that keeps only what a backward pass down to @stop reads:
 * the outputs of @stop and of every later node, and the inputs of those
 * nodes. Earlier outputs share the arena as in a forward plan (Grad-CAM at
 * Xception's block14 keeps a few MB instead of every activation).
 *
 * Returns: (transfer full): the plan, or %NULL with @error
 */
XcPlan *
xc_plan_new_backward_to (const XcModel  *model,
                         int             batch,
                         const gboolean *want_grad,
                         guint           stop,
                         GError        **error)
{
  g_autofree gboolean *keep = g_new0 (gboolean, model->nodes->len);

  g_autofree guint *consumers = g_new0 (guint, model->nodes->len);

  for (guint i = MIN (stop, model->nodes->len); i < model->nodes->len; i++)
    {
      const XcNode *node = xc_model_node (model, i);
      keep[i] = TRUE;
      for (guint k = 0; k < node->n_inputs; k++)
        keep[node->inputs[k]] = TRUE;
    }
  for (guint i = 0; i < model->nodes->len; i++)
    for (guint k = 0; k < xc_model_node (model, i)->n_inputs; k++)
      consumers[xc_model_node (model, i)->inputs[k]]++;
  /* A linear Conv2D or SeparableConv2D past the target whose only reader is
   * the inference BatchNormalization after it: no backward reads its output
   * (the convolution's input gradient needs its input and weights, the
   * BatchNormalization's is dy times its scale), so it is not kept: the
   * BatchNormalization runs in its buffer, and runs without statistics fold
   * it into the convolution (xc_plan_run_range) */
  for (guint i = MAX (stop + 1, 1); i + 1 < model->nodes->len; i++)
    {
      const XcNode *node = xc_model_node (model, i), *next = xc_model_node (model, i + 1);
      if ((node->op == XC_OP_CONV2D || node->op == XC_OP_SEPCONV2D) &&
          node->act == XC_ACT_LINEAR && next->op == XC_OP_BATCHNORM && next->n_inputs == 1 &&
          next->inputs[0] == i && consumers[i] == 1 && i != model->output &&
          (want_grad == NULL || !want_grad[i]))
        keep[i] = FALSE;
    }
  return plan_new (model, batch, keep, want_grad, stop, error);
}

/**
 * xc_plan_new_training:
 *
 * A backward plan whose forward runs BatchNormalization on batch
 * statistics (updating the moving ones) and Dropout, saving what their
 * backward needs; with xc_plan_set_param_grads() its backward also
 * accumulates every parameter's gradient.
 *
 * Returns: (transfer full): the plan, or %NULL with @error
 */
static XcPlan *
plan_new_training (const XcModel *model, int batch, gboolean want_input, GError **error)
{
  g_autofree gboolean *want = g_new0 (gboolean, model->nodes->len);
  g_autoptr(XcPlan) plan = NULL;

  want[0] = want_input;
  /* its weights in Keras' layout from now on, before the plan is made (which
   * would otherwise put them in panels: xc_model_pack_panels()) */
  if (!xc_model_unpack_panels ((XcModel *) model, error))
    return NULL;
  ((XcModel *) model)->trained = TRUE;
  plan = xc_plan_new_backward (model, batch, want, error);
  size_t total = 0;

  if (plan == NULL)
    return NULL;
  plan->training = TRUE;
  plan->saved_off = g_new0 (size_t, model->nodes->len);
  for (guint i = 0; i < model->nodes->len; i++)
    {
      plan->saved_off[i] = total;
      total += align_up (xc_op_saved_size (xc_model_node (model, i), batch));
    }
  if (!xc_memory_check (((guint64) total + plan->arena_size + plan->grad_size) * sizeof (float),
                        "training (activations, gradients and saved state)", error))
    return NULL;
  plan->saved = g_try_malloc ((total + ALIGN_FLOATS) * sizeof (float));
  if (plan->saved == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "cannot allocate training state");
      return NULL;
    }
  return g_steal_pointer (&plan);
}

XcPlan *
xc_plan_new_training (const XcModel *model, int batch, GError **error)
{
  return plan_new_training (model, batch, FALSE, error);
}

/* The same, keeping the input's gradient (for tests and input attributions
 * through training-mode layers) */
XcPlan *
xc_plan_new_training_wanting_input (const XcModel *model, int batch, GError **error)
{
  return plan_new_training (model, batch, TRUE, error);
}

/**
 * xc_plan_set_param_grads:
 * @grads: (nullable): floats shaped like the model's weight slab; backward
 *   adds each parameter's gradient at its weight's offset (the caller zeroes)
 */
void
xc_plan_set_param_grads (XcPlan *plan, float *grads)
{
  plan->param_grads = grads;
}

/* Nodes up to @node run as at inference (BN on moving statistics, no
 * dropout): the frozen body of a fine-tuned model */
void
xc_plan_set_frozen_until (XcPlan *plan, guint node)
{
  plan->frozen_until = node;
}

/* Dropout masks are drawn from (step, node, element): the same step, the same masks */
void
xc_plan_set_step (XcPlan *plan, guint64 step)
{
  plan->step = step;
}

static XcPlan *
plan_new (const XcModel  *model,
          int             batch,
          const gboolean *keep,
          const gboolean *want_grad,
          guint           stop,
          GError        **error)
{
  /* the large pointwise kernels in the GEMM's panels, once per model
   * (training plans put them back: the optimizer updates Keras' layout) */
  xc_model_pack_panels ((XcModel *) model);
  g_autoptr(XcPlan) plan = NULL;
  g_autoptr(GArray) free_list = g_array_new (FALSE, FALSE, sizeof (Block));
  guint n = model->nodes->len;
  g_autofree guint *last_use = g_new0 (guint, n);
  size_t end = 0;

  g_return_val_if_fail (model->finished, NULL);

  if (batch < 1 || batch > 4096)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "batch size %d is out of range (1 to 4096)",
                   batch);
      return NULL;
    }

  plan = g_new0 (XcPlan, 1);
  plan->model = model;
  plan->batch = batch;
  plan->offset = g_new0 (size_t, n);
  plan->keep = g_new0 (gboolean, n);
  plan->runs = g_new0 (XcNodeRun, n);

  for (guint i = 0; i < n; i++)
    {
      const XcNode *node = xc_model_node (model, i);
      plan->keep[i] = (keep != NULL && keep[i]) || i == model->output || i == 0;
      last_use[i] = i;
      for (guint k = 0; k < node->n_inputs; k++)
        last_use[node->inputs[k]] = MAX (last_use[node->inputs[k]], i);
    }

  for (guint i = 0; i < n; i++)
    {
      const XcNode *node = xc_model_node (model, i);
      const XcNode *in = node->n_inputs ? xc_model_node (model, node->inputs[0]) : NULL;
      size_t size = node_floats (node, batch);

      plan->naive_size += size;
      /* An element-wise layer whose input dies here and is not kept runs in
       * place: its output takes over the input's buffer (fewer bytes moved,
       * warmer caches). Backward plans keep everything, so never alias. */
      if (in != NULL && node->n_inputs == 1 && is_unary_elementwise (node) &&
          last_use[node->inputs[0]] == i && !plan->keep[node->inputs[0]] &&
          node_floats (in, batch) == size)
        {
          plan->offset[i] = plan->offset[node->inputs[0]];
          plan->scratch_size = MAX (plan->scratch_size,
                                    align_up (xc_op_scratch (node, in, batch)));
          if (last_use[i] == i && !plan->keep[i])
            free_block (free_list, plan->offset[i], size);
          continue;
        }
      plan->offset[i] = alloc_block (free_list, &end, size);
      plan->scratch_size = MAX (plan->scratch_size, align_up (xc_op_scratch (node, in, batch)));
      for (guint k = 0; k < node->n_inputs; k++)
        {
          guint src = node->inputs[k];
          gboolean seen = FALSE;
          for (guint j = 0; j < k; j++)
            seen |= node->inputs[j] == src;
          if (last_use[src] == i && !plan->keep[src] && !seen)
            free_block (free_list, plan->offset[src], node_floats (xc_model_node (model, src),
                                                                  batch));
        }
      if (last_use[i] == i && !plan->keep[i])
        free_block (free_list, plan->offset[i], size);
    }
  plan->arena_size = end;
  plan->foldable = g_new0 (guint, n);
  plan->folded_away = g_new0 (gboolean, n);
  {
    int max_c = 1;
    g_autofree guint *reader = g_new0 (guint, n);   /* a node's one reader, G_MAXUINT: more */

    for (guint j = 1; j < n; j++)
      for (guint k = 0; k < xc_model_node (model, j)->n_inputs; k++)
        {
          guint src = xc_model_node (model, j)->inputs[k];
          reader[src] = reader[src] == 0 ? j : G_MAXUINT;
        }
    for (guint i = 1; i + 1 < n; i++)
      {
        const XcNode *node = xc_model_node (model, i);
        guint j = reader[i];
        const XcNode *bn = j > i && j < n ? xc_model_node (model, j) : NULL;

        if ((node->op == XC_OP_CONV2D || node->op == XC_OP_SEPCONV2D) &&
            node->act == XC_ACT_LINEAR && bn != NULL && bn->op == XC_OP_BATCHNORM &&
            bn->n_inputs == 1 && !plan->keep[i] && plan->offset[j] == plan->offset[i] &&
            bn->c == node->c)
          plan->foldable[i] = j;
        max_c = MAX (max_c, node->c);
      }
    plan->fold = g_new (float, 2 * (size_t) max_c);
  }
  plan->relu_foldable = g_new0 (gboolean, n);
  plan->relu_after = g_new0 (gboolean, n);
  {
    g_autofree guint *consumers = g_new0 (guint, n);
    for (guint i = 0; i < n; i++)
      for (guint k = 0; k < xc_model_node (model, i)->n_inputs; k++)
        consumers[xc_model_node (model, i)->inputs[k]]++;
    /* Xception's block1_conv1, block1_conv1_bn, block1_conv1_act */
    for (guint i = 1; i + 2 < n; i++)
      {
        const XcNode *node = xc_model_node (model, i), *act = xc_model_node (model, i + 2);

        plan->relu_after[i] = plan->foldable[i] == i + 1 && node->op == XC_OP_CONV2D &&
                              act->op == XC_OP_ACTIVATION && act->act == XC_ACT_RELU &&
                              act->n_inputs == 1 && act->inputs[0] == i + 1 &&
                              consumers[i + 1] == 1 && !plan->keep[i + 1] &&
                              plan->offset[i + 2] == plan->offset[i + 1];
      }
    for (guint i = 2; i < n; i++)
      {
        const XcNode *node = xc_model_node (model, i), *prev = xc_model_node (model, i - 1);
        guint src;
        if (node->op != XC_OP_SEPCONV2D || node->n_inputs != 1 || node->inputs[0] != i - 1 ||
            prev->op != XC_OP_ACTIVATION || prev->act != XC_ACT_RELU || prev->n_inputs != 1 ||
            consumers[i - 1] != 1 || plan->keep[i - 1])
          continue;
        src = prev->inputs[0];
        /* the ReLU's input still holds its values while this node runs: the
         * ReLU ran in its buffer (then it is freed after this node), or
         * something after the ReLU reads it too */
        plan->relu_foldable[i] = plan->offset[i - 1] == plan->offset[src] ||
                                 last_use[src] > i - 1;
      }
  }
  if (want_grad != NULL && !plan_gradients (plan, want_grad, stop, error))
    return NULL;
  {
    g_autofree char *what = g_strdup_printf ("the plan of %s at batch %d (activations and "
                                             "gradients)", model->name, batch);
    if (!xc_memory_check (((guint64) end + plan->scratch_size + plan->grad_size) * sizeof (float),
                          what, error))
      return NULL;
  }
  plan->arena = g_try_malloc ((end + plan->scratch_size + ALIGN_FLOATS) * sizeof (float));
  xc_memory_advise_huge_pages (plan->arena,
                               (end + plan->scratch_size + ALIGN_FLOATS) * sizeof (float));
  if (plan->arena == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY,
                   "cannot allocate %zu MB of activations for %s at batch %d",
                   (end + plan->scratch_size) * sizeof (float) >> 20, model->name, batch);
      return NULL;
    }
  return g_steal_pointer (&plan);
}

void
xc_plan_free (XcPlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->arena);
  g_free (plan->offset);
  g_free (plan->keep);
  g_free (plan->foldable);
  g_free (plan->folded_away);
  g_free (plan->relu_foldable);
  g_free (plan->relu_after);
  g_free (plan->fold);
  g_free (plan->runs);
  g_free (plan->grads);
  g_free (plan->grad_off);
  g_free (plan->want_grad);
  g_free (plan->reached);
  g_free (plan->saved);
  g_free (plan->saved_off);
  g_free (plan);
}

static XcTensor
node_tensor (XcPlan *plan, guint i)
{
  const XcNode *node = xc_model_node (plan->model, i);

  return (XcTensor) { plan->arena + plan->offset[i], plan->batch, node->h, node->w, node->c };
}

/**
 * xc_plan_input:
 *
 * Returns: the input tensor (N, H, W, C) to fill before xc_plan_run()
 */
XcTensor
xc_plan_input (XcPlan *plan)
{
  return node_tensor (plan, 0);
}

/**
 * xc_plan_set_progress_peeks:
 * @peeks: the progress callbacks of the next runs read node outputs
 *   (xc_plan_peek())
 *
 * A run folds an inference BatchNormalization into the convolution before
 * it (and a ReLU into the SeparableConv2D after it) unless it trains or its
 * progress callback peeks: the folded node's own output is then never
 * written. Off by default; a callback that peeks turns it on for its runs.
 */
void
xc_plan_set_progress_peeks (XcPlan *plan, gboolean peeks)
{
  plan->progress_peeks = peeks;
}

/**
 * xc_plan_run:
 * @stats: also compute each node's activation statistics (one more pass over
 *   every output)
 * @progress: (nullable) (scope call): called before each node; FALSE cancels
 *
 * Returns: %FALSE only when @progress cancelled the run (XC_ERROR_CANCELLED)
 */
gboolean
xc_plan_run (XcPlan         *plan,
             gboolean        stats,
             XcProgressFunc  progress,
             gpointer        data,
             GError        **error)
{
  return xc_plan_run_range (plan, 1, plan->model->nodes->len - 1, stats, progress, data, error);
}

/* xc_plan_run_range() without the pinning and the total time */
static gboolean
run_range (XcPlan         *plan,
           guint           first,
           guint           last,
           gboolean        stats,
           XcProgressFunc  progress,
           gpointer        data,
           GError        **error)
{
  const XcModel *model = plan->model;
  guint n = model->nodes->len;

  plan->n_folded = 0;
  memset (plan->folded_away, 0, n * sizeof (gboolean));

  if (stats && first == 1)
    {
      XcTensor in = node_tensor (plan, 0);
      xc_tensor_stats (&in, &plan->runs[0].stats);
    }

  for (guint i = first; i <= last; i++)
    {
      const XcNode *node = xc_model_node (model, i);
      XcTensor in[8], *ins = in, out;
      g_autofree XcTensor *heap = NULL;
      gboolean fold, lean, relu_in, relu_out;
      guint bn;
      gint64 t0;

      if (plan->folded_away[i])
        {
          /* a residual convolution's BatchNormalization, applied by it */
          plan->folded_away[i] = FALSE;
          plan->runs[i].time_us = 0;
          plan->n_folded++;
          continue;
        }
      if (progress != NULL && !progress (i, n, data))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_CANCELLED, "cancelled at %s", node->name);
          return FALSE;
        }
      /* Folding needs a run in which nothing reads a folded node's own
       * output: no training, no progress callback that peeks. A ReLU that
       * only feeds the SeparableConv2D after it is applied by it; its
       * statistics are taken from its input, which that node reads */
      lean = !plan->training && (progress == NULL || !plan->progress_peeks);
      if (lean && i < last && plan->relu_foldable[i + 1])
        {
          if (stats)
            {
              XcTensor x = node_tensor (plan, node->inputs[0]);
              xc_tensor_relu_stats (&x, &plan->runs[i].stats);
            }
          plan->runs[i].time_us = 0;
          plan->n_folded++;
          continue;
        }
      relu_in = lean && i > first && plan->relu_foldable[i];
      if (node->n_inputs > G_N_ELEMENTS (in))
        ins = heap = g_new (XcTensor, node->n_inputs);
      for (guint k = 0; k < node->n_inputs; k++)
        ins[k] = node_tensor (plan, node->inputs[k]);
      if (relu_in)
        ins[0] = node_tensor (plan, xc_model_node (model, i - 1)->inputs[0]);
      out = node_tensor (plan, i);

      /* Nothing reads this node's own output between it and its
       * BatchNormalization: the BatchNormalization is folded into its
       * GEMM; with statistics, applied after it in the pass that takes the
       * statistics of both (xc_tensor_affine_stats()) */
      bn = plan->foldable[i];
      fold = lean && bn != 0 && bn <= last;
      /* without statistics, the ReLU after the folded BatchNormalization
       * too */
      relu_out = fold && !stats && i + 2 <= last && plan->relu_after[i];
      t0 = g_get_monotonic_time ();
      if (fold)
        {
          float *scale = plan->fold, *shift = plan->fold + node->c;
          _xc_batchnorm_affine (xc_model_node (model, bn), scale, shift);
          if (node->use_bias && !stats)
            for (int c = 0; c < node->c; c++)
              shift[c] += scale[c] * node->params[node->n_params - 1].data[c];
        }
      xc_op_forward (&(XcOpArgs) { node, ins, node->n_inputs, &out,
                                   plan->arena + plan->arena_size,
                                   plan->training && i > plan->frozen_until,
                                   plan->training ? plan->saved + plan->saved_off[i] : NULL,
                                   plan->step * 1000003u + i, plan->scratch_size,
                                   fold && !stats ? plan->fold : NULL,
                                   fold && !stats ? plan->fold + node->c : NULL,
                                   relu_in, relu_out });
      /* the folded BatchNormalization's time is its convolution's */
      if (stats && fold)
        xc_tensor_affine_stats (&out, plan->fold, plan->fold + node->c,
                                &plan->runs[i].stats, &plan->runs[bn].stats);
      plan->runs[i].time_us = g_get_monotonic_time () - t0;
      if (stats && !fold)
        xc_tensor_stats (&out, &plan->runs[i].stats);
      if (fold && bn == i + 1)
        {
          plan->runs[++i].time_us = 0;
          plan->n_folded++;
        }
      else if (fold)
        plan->folded_away[bn] = TRUE;
      if (relu_out)
        {
          plan->runs[++i].time_us = 0;
          plan->n_folded++;
        }
    }
  return TRUE;
}

/**
 * xc_plan_run_range:
 * @first: first node to run (>= 1)
 * @last: last node to run
 *
 * Runs nodes @first to @last only: the inputs they read must be valid,
 * which a backward plan (it keeps every output) guarantees after one full
 * run. Ablation runs the tail of the network this way.
 */
gboolean
xc_plan_run_range (XcPlan         *plan,
                   guint           first,
                   guint           last,
                   gboolean        stats,
                   XcProgressFunc  progress,
                   gpointer        data,
                   GError        **error)
{
  gint64 t_start = g_get_monotonic_time ();
  XcPinning pin;
  gboolean ok;

  g_return_val_if_fail (first >= 1 && last < plan->model->nodes->len, FALSE);
  /* the team's threads one to a CPU for the run (xc-affinity.c) */
  xc_affinity_pin_team (&pin);
  ok = run_range (plan, first, last, stats, progress, data, error);
  xc_affinity_unpin_team (&pin);
  plan->total_us = g_get_monotonic_time () - t_start;
  return ok;
}

static XcTensor
grad_tensor (XcPlan *plan, guint i)
{
  const XcNode *node = xc_model_node (plan->model, i);

  return (XcTensor) { plan->grads + plan->grad_off[i], plan->batch, node->h, node->w, node->c };
}

/* A gradient buffer zeroed before its first sum: large ones by every
 * thread (one thread's memset left the other waiting, 2% of a Grad-CAM) */
static void
zero_floats (float *p, size_t n)
{
  size_t chunk = 65536, chunks = (n + chunk - 1) / chunk;

#pragma omp parallel for schedule(static) if (chunks > 4)
  for (size_t i = 0; i < chunks; i++)
    memset (p + i * chunk, 0, MIN (chunk, n - i * chunk) * sizeof (float));
}

/* xc_plan_backward() without the pinning */
static gboolean
backward (XcPlan         *plan,
          guint           from,
          const float    *seed,
          gboolean        seed_is_pre,
          guint           stop,
          gboolean        guided,
          XcProgressFunc  progress,
          gpointer        data,
          GError        **error)
{
  const XcModel *model = plan->model;
  guint n = model->nodes->len;
  XcTensor g;


  memset (plan->reached, 0, n * sizeof (gboolean));
  g = grad_tensor (plan, from);
  memcpy (g.data, seed, xc_tensor_size (&g) * sizeof (float));
  plan->reached[from] = TRUE;

  for (guint t = from; t > stop; t--)
    {
      const XcNode *node = xc_model_node (model, t);
      XcTensor in[8], din[8], out, dout;
      g_autofree XcTensor *heap = NULL;
      g_autofree gboolean *fresh_heap = NULL;
      XcTensor *ins = in, *dins = din;
      gboolean fresh_in[8] = { FALSE }, *fresh = fresh_in;
      gboolean assigns = xc_op_backward_assigns (node->op);
      float *dparams[XC_MAX_PARAMS];

      if (!plan->reached[t])
        continue;
      if (progress != NULL && !progress (n - 1 - t, n, data))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_CANCELLED, "cancelled at %s", node->name);
          return FALSE;
        }
      if (node->n_inputs > G_N_ELEMENTS (in))
        {
          heap = g_new (XcTensor, 2 * node->n_inputs);
          ins = heap, dins = heap + node->n_inputs;
          fresh = fresh_heap = g_new0 (gboolean, node->n_inputs);
        }
      for (guint k = 0; k < node->n_inputs; k++)
        {
          guint src = node->inputs[k];
          ins[k] = node_tensor (plan, src);
          dins[k] = grad_tensor (plan, src);
          if (src < stop)
            dins[k].data = NULL;
          else if (!plan->reached[src])
            {
              /* no gradient there yet: zeroed for the op to add to, or the
               * op writes it (an input twice: the first assigns, the
               * second adds) */
              if (assigns)
                fresh[k] = TRUE;
              else
                zero_floats (dins[k].data, xc_tensor_size (&dins[k]));
              plan->reached[src] = TRUE;
            }
        }
      out = node_tensor (plan, t);
      dout = grad_tensor (plan, t);
      if (plan->param_grads != NULL)
        for (guint p = 0; p < node->n_params; p++)
          dparams[p] = plan->param_grads + (node->params[p].data - model->slab);
      xc_op_backward (&(XcOpBackArgs) { node, ins, node->n_inputs, &out, &dout, dins,
                                        plan->arena + plan->arena_size, guided,
                                        seed_is_pre && t == from,
                                        plan->param_grads && node->n_params ? dparams : NULL,
                                        plan->training ? plan->saved + plan->saved_off[t] : NULL,
                                        plan->training && t > plan->frozen_until,
                                        assigns ? fresh : NULL });
    }
  /* a wanted node that the seed does not depend on has a zero gradient */
  for (guint i = stop; i <= from; i++)
    if (plan->want_grad[i] && !plan->reached[i])
      {
        g = grad_tensor (plan, i);
        memset (g.data, 0, xc_tensor_size (&g) * sizeof (float));
      }
  return TRUE;
}

/**
 * xc_plan_backward:
 * @from: the node whose output gradient is seeded
 * @seed: (array): dL/d(output of @from), (N, H, W, C) of that node
 * @seed_is_pre: the seed is w.r.t. @from's pre-activation (its fused
 *   activation is bypassed, e.g. the logits under a Dense softmax)
 * @stop: the deepest node whose gradient is wanted; nodes before it are not
 *   traversed
 * @guided: guided backpropagation through every ReLU
 *
 * Reverse mode from @from down to @stop after xc_plan_run(): only nodes that
 * @from depends on are visited. Gradients of the nodes the plan was created
 * to want are then readable with xc_plan_grad().
 *
 * Returns: %FALSE only when @progress cancelled the run
 */
gboolean
xc_plan_backward (XcPlan         *plan,
                  guint           from,
                  const float    *seed,
                  gboolean        seed_is_pre,
                  guint           stop,
                  gboolean        guided,
                  XcProgressFunc  progress,
                  gpointer        data,
                  GError        **error)
{
  XcPinning pin;
  gboolean ok;

  g_return_val_if_fail (plan->backward, FALSE);
  g_return_val_if_fail (from < plan->model->nodes->len && stop <= from &&
                        stop >= plan->grad_stop, FALSE);
  xc_affinity_pin_team (&pin);
  ok = backward (plan, from, seed, seed_is_pre, stop, guided, progress, data, error);
  xc_affinity_unpin_team (&pin);
  return ok;
}

/**
 * xc_plan_grad:
 * @out: (out): dL/d(output of @node), (N, H, W, C)
 *
 * Returns: %FALSE if the plan was not created to want this gradient
 */
gboolean
xc_plan_grad (XcPlan *plan, guint node, XcTensor *out)
{
  g_return_val_if_fail (node < plan->model->nodes->len, FALSE);
  if (!plan->backward || !plan->want_grad[node])
    return FALSE;
  *out = grad_tensor (plan, node);
  return TRUE;
}

const XcModel *
xc_plan_model (XcPlan *plan)
{
  return plan->model;
}

int
xc_plan_batch (XcPlan *plan)
{
  return plan->batch;
}

/**
 * xc_plan_output:
 * @out: (out): the node's output (N, H, W, C); vectors are (N, 1, 1, C)
 *
 * Returns: %FALSE if the plan did not keep that node's output
 */
gboolean
xc_plan_output (XcPlan *plan, guint node, XcTensor *out)
{
  g_return_val_if_fail (node < plan->model->nodes->len, FALSE);
  if (!plan->keep[node])
    return FALSE;
  *out = node_tensor (plan, node);
  return TRUE;
}

/**
 * xc_plan_peek:
 *
 * The output of @node where the plan placed it, kept or not: valid from the
 * moment that node has run until a later node reuses its buffer, so for an
 * unkept node only in the progress callback called right after it (before
 * node + 1 runs). A way to copy any layer out of a lean forward pass.
 */
void
xc_plan_peek (XcPlan *plan, guint node, XcTensor *out)
{
  g_return_if_fail (node < plan->model->nodes->len);
  *out = node_tensor (plan, node);
}

const XcNodeRun *
xc_plan_node_run (XcPlan *plan, guint node)
{
  g_return_val_if_fail (node < plan->model->nodes->len, NULL);
  return &plan->runs[node];
}

/* Bytes of the arena: activations plus scratch */
size_t
xc_plan_arena_bytes (XcPlan *plan)
{
  return (plan->arena_size + plan->scratch_size + plan->grad_size) * sizeof (float);
}

/* Bytes the activations would take with no reuse */
size_t
xc_plan_naive_bytes (XcPlan *plan)
{
  return plan->naive_size * sizeof (float);
}

gint64
xc_plan_total_us (XcPlan *plan)
{
  return plan->total_us;
}

/**
 * xc_plan_check_finite:
 * @have_stats: the last run computed statistics (else it is run again with
 *   them when the output is not finite)
 *
 * After a run: whether its input and the model's output are finite. When
 * not, says why instead of letting NaN or Inf pass for probabilities: the
 * input's non-finite values, or the first layer whose output is not finite
 * (a NaN or Inf weight, or an overflow).
 *
 * Returns: %FALSE with @error (XC_ERROR_FORMAT)
 */
gboolean
xc_plan_check_finite (XcPlan *plan, gboolean have_stats, GError **error)
{
  const XcModel *model = plan->model;
  XcTensor out = node_tensor (plan, model->output), in = node_tensor (plan, 0);
  size_t bad = 0;

  /* the input first: a ReLU turns NaN into 0, so a NaN input can give a
   * finite, meaningless output */
  for (size_t i = 0; i < xc_tensor_size (&in); i++)
    bad += !isfinite (in.data[i]);
  if (bad > 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "the input has %zu values that are not "
                   "finite (NaN or Inf): refused", bad);
      return FALSE;
    }
  for (size_t i = 0; i < xc_tensor_size (&out); i++)
    bad += !isfinite (out.data[i]);
  if (bad == 0)
    return TRUE;
  if (!have_stats)
    xc_plan_run (plan, TRUE, NULL, NULL, NULL);
  for (guint i = 1; i < model->nodes->len; i++)
    {
      const XcStats *st = &plan->runs[i].stats;
      if (!isfinite (st->min) || !isfinite (st->max) || !isfinite (st->mean))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: its output is not finite (NaN or "
                       "Inf: a weight that is, or an overflow), so neither are the model's "
                       "outputs: refused", xc_model_node (model, i)->name);
          return FALSE;
        }
    }
  g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "the model's output is not finite (NaN or Inf)");
  return FALSE;
}

/**
 * xc_plan_n_folded:
 *
 * Returns: how many layers the last run folded into their neighbours:
 *   inference BatchNormalizations into the convolution before them, ReLUs
 *   into the SeparableConv2D after them (runs without statistics or a
 *   progress callback fold every one whose output nothing else reads)
 */
guint
xc_plan_n_folded (XcPlan *plan)
{
  return plan->n_folded;
}
