/* SPDX-License-Identifier: MIT
 *
 * The built-in Xception, layer by layer as Keras Applications' xception.py
 * builds it, nodes in Keras' depth order (the order of the official weight
 * file's layer_names): each residual branch's Conv2D, the block's pool, the
 * branch's BatchNormalization, then the Add. The residual layers carry
 * Keras 2's automatic names conv2d_N / batch_normalization_N / add_N.
 *
 * Seeded weights use a counter-based generator (splitmix64 of seed, tensor
 * index and element index) that tests/make-goldens.py reproduces exactly.
 */
#define G_LOG_DOMAIN "xc-xception"

#include <math.h>
#include <string.h>

#include "xc-random.h"
#include "xc-error.h"
#include "xc-xception.h"
#include "xc-explain.h"

void
xc_xception_options_init (XcXceptionOptions *opts)
{
  *opts = (XcXceptionOptions) {
    .size = 299, .channels = 3, .classes = 1000, .include_top = TRUE, .width = 1.0,
    .standard = FALSE,
  };
}

typedef struct {
  XcModel                 *model;
  const XcXceptionOptions *opts;
  guint                    last;
  int                      n_conv, n_bn, n_add;
  GError                  *error;
} Builder;

static int
scaled (const Builder *b, int filters)
{
  return MAX (1, (int) lround (filters * b->opts->width));
}

static guint
add (Builder *b, XcOp op, const char *name, guint input)
{
  XcNode *node;

  if (b->error != NULL)
    return 0;
  node = xc_model_add_node (b->model, op, name, NULL, &input, 1, &b->error);
  return node ? xc_model_n_nodes (b->model) - 1 : 0;
}

static XcNode *
last (Builder *b)
{
  return xc_model_node (b->model, xc_model_n_nodes (b->model) - 1);
}

static guint
conv (Builder *b, const char *name, guint input, int filters, int k, int stride, XcPadding pad,
      gboolean separable)
{
  guint id;
  XcNode *node;

  if (separable && b->opts->standard)
    separable = FALSE;
  id = add (b, separable ? XC_OP_SEPCONV2D : XC_OP_CONV2D, name, input);
  if (b->error)
    return 0;
  node = last (b);
  node->filters = scaled (b, filters);
  node->kh = node->kw = k;
  node->sh = node->sw = stride;
  node->padding = pad;
  node->use_bias = FALSE;
  return id;
}

static guint
bn (Builder *b, const char *name, guint input)
{
  return add (b, XC_OP_BATCHNORM, name, input);
}

static guint
relu (Builder *b, const char *name, guint input)
{
  guint id = add (b, XC_OP_ACTIVATION, name, input);
  if (!b->error)
    last (b)->act = XC_ACT_RELU;
  return id;
}

static guint
add2 (Builder *b, guint x, guint residual)
{
  g_autofree char *name = g_strdup_printf ("add_%d", ++b->n_add);
  guint in[2] = { x, residual };

  if (b->error || !xc_model_add_node (b->model, XC_OP_ADD, name, NULL, in, 2, &b->error))
    return 0;
  return xc_model_n_nodes (b->model) - 1;
}

/* Entry-flow and exit blocks: two separable convs, a pool, and a strided
 * 1x1 residual. first_relu is FALSE for block2, which follows a ReLU. */
static guint
down_block (Builder *b, int block, guint x, int f1, int f2, gboolean first_relu)
{
  g_autofree char *rc = g_strdup_printf ("conv2d_%d", ++b->n_conv);
  g_autofree char *rb = g_strdup_printf ("batch_normalization_%d", ++b->n_bn);
  char name[64];
  guint y = x, residual, pool;

  if (first_relu)
    {
      g_snprintf (name, sizeof name, "block%d_sepconv1_act", block);
      y = relu (b, name, y);
    }
  g_snprintf (name, sizeof name, "block%d_sepconv1", block);
  y = conv (b, name, y, f1, 3, 1, XC_PAD_SAME, TRUE);
  g_snprintf (name, sizeof name, "block%d_sepconv1_bn", block);
  y = bn (b, name, y);
  g_snprintf (name, sizeof name, "block%d_sepconv2_act", block);
  y = relu (b, name, y);
  g_snprintf (name, sizeof name, "block%d_sepconv2", block);
  y = conv (b, name, y, f2, 3, 1, XC_PAD_SAME, TRUE);
  g_snprintf (name, sizeof name, "block%d_sepconv2_bn", block);
  y = bn (b, name, y);
  residual = conv (b, rc, x, f2, 1, 2, XC_PAD_SAME, FALSE);
  g_snprintf (name, sizeof name, "block%d_pool", block);
  pool = add (b, XC_OP_MAXPOOL, name, y);
  if (!b->error)
    {
      XcNode *p = last (b);
      p->kh = p->kw = 3;
      p->sh = p->sw = 2;
      p->padding = XC_PAD_SAME;
    }
  residual = bn (b, rb, residual);
  return add2 (b, pool, residual);
}

/**
 * xc_xception_new:
 * @name: (nullable): the model's name; defaults to "builtin:xception"
 *
 * Builds and finishes the graph with zeroed weights; see
 * xc_model_init_seeded().
 *
 * Returns: (transfer full): the model, or %NULL with @error for bad options
 */
XcModel *
xc_xception_new (const XcXceptionOptions *opts, const char *name, GError **error)
{
  g_autoptr(XcModel) model = NULL;
  Builder b = { 0 };
  XcNode *node;
  guint x;
  char buf[64];

  if (opts->size < 71 || opts->size > 2048)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "Xception input size %d is out of range (71 to 2048)", opts->size);
      return NULL;
    }
  if (opts->channels < 1 || opts->channels > 4 || opts->classes < 1 || opts->classes > 100000 ||
      !(opts->width >= 1.0 / 64 && opts->width <= 4.0))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "Xception options out of range: channels %d (1 to 4), classes %d "
                   "(1 to 100000), width %g (1/64 to 4)", opts->channels, opts->classes,
                   opts->width);
      return NULL;
    }

  model = xc_model_new (name ? name : "builtin:xception");
  b.model = model;
  b.opts = opts;

  node = xc_model_add_node (model, XC_OP_INPUT, "input_1", NULL, NULL, 0, error);
  node->h = node->w = opts->size;
  node->c = opts->channels;

  /* Entry flow */
  x = conv (&b, "block1_conv1", 0, 32, 3, 2, XC_PAD_VALID, FALSE);
  x = bn (&b, "block1_conv1_bn", x);
  x = relu (&b, "block1_conv1_act", x);
  x = conv (&b, "block1_conv2", x, 64, 3, 1, XC_PAD_VALID, FALSE);
  x = bn (&b, "block1_conv2_bn", x);
  x = relu (&b, "block1_conv2_act", x);
  x = down_block (&b, 2, x, 128, 128, FALSE);
  x = down_block (&b, 3, x, 256, 256, TRUE);
  x = down_block (&b, 4, x, 728, 728, TRUE);

  /* Middle flow: eight identity-residual blocks of three separable convs */
  for (int i = 5; i < 13; i++)
    {
      guint residual = x;
      for (int j = 1; j <= 3; j++)
        {
          g_snprintf (buf, sizeof buf, "block%d_sepconv%d_act", i, j);
          x = relu (&b, buf, x);
          g_snprintf (buf, sizeof buf, "block%d_sepconv%d", i, j);
          x = conv (&b, buf, x, 728, 3, 1, XC_PAD_SAME, TRUE);
          g_snprintf (buf, sizeof buf, "block%d_sepconv%d_bn", i, j);
          x = bn (&b, buf, x);
        }
      x = add2 (&b, x, residual);
    }

  /* Exit flow */
  x = down_block (&b, 13, x, 728, 1024, TRUE);
  x = conv (&b, "block14_sepconv1", x, 1536, 3, 1, XC_PAD_SAME, TRUE);
  x = bn (&b, "block14_sepconv1_bn", x);
  x = relu (&b, "block14_sepconv1_act", x);
  x = conv (&b, "block14_sepconv2", x, 2048, 3, 1, XC_PAD_SAME, TRUE);
  x = bn (&b, "block14_sepconv2_bn", x);
  x = relu (&b, "block14_sepconv2_act", x);

  if (opts->include_top || opts->pool)
    x = add (&b, XC_OP_GAP, "avg_pool", x);
  if (opts->include_top)
    {
      x = add (&b, XC_OP_DENSE, "predictions", x);
      if (!b.error)
        {
          node = last (&b);
          node->filters = opts->classes;
          node->use_bias = TRUE;
          node->act = XC_ACT_SOFTMAX;
        }
    }
  if (b.error)
    {
      g_propagate_error (error, b.error);
      return NULL;
    }
  if (!xc_model_finish (model, error))
    return NULL;
  model->preprocess = XC_PREPROCESS_TF;
  return g_steal_pointer (&model);
}


/**
 * xc_model_init_seeded:
 *
 * Fills every weight of a finished model, tensor by tensor in node order:
 * kernels uniform with variance 1/fan_in, biases, BN beta and moving means
 * in +-0.1, gamma and moving variances in [0.8, 1.2). Keeps activations O(1)
 * through Xception's 14 blocks.
 */
void
xc_model_init_seeded (XcModel *model, guint64 seed)
{
  guint64 tensor = 0;

  model->random_weights = TRUE;
  for (guint n = 0; n < xc_model_n_nodes (model); n++)
    {
      XcNode *node = xc_model_node (model, n);
      for (guint p = 0; p < node->n_params; p++, tensor++)
        {
          XcParam *param = &node->params[p];
          const char *nm = param->name;
          float lo, span;

          if (g_str_has_suffix (nm, "kernel"))
            {
              /* fan_in: all dims but the last; the depthwise kernel's is KH*KW */
              double fan_in = 1;
              int nd = param->ndims - 1;
              if (g_str_equal (nm, "depthwise_kernel"))
                nd = 2;
              for (int d = 0; d < nd; d++)
                fan_in *= param->dims[d];
              span = 2.0f * (float) sqrt (3.0 / fan_in);
              lo = -span / 2;
            }
          else if (g_str_equal (nm, "gamma") || g_str_equal (nm, "moving_variance"))
            lo = 0.8f, span = 0.4f;
          else
            lo = -0.1f, span = 0.2f;
          for (size_t i = 0; i < param->size; i++)
            param->data[i] = lo + span * xc_seeded_uniform (seed, tensor, i);
        }
    }
}

/**
 * xc_model_init_training:
 *
 * Weights to train from: kernels He-uniform (variance 2/fan_in, for ReLU
 * networks), biases and BN beta 0, gamma 1, moving mean 0, variance 1.
 */
void
xc_model_init_training (XcModel *model, guint64 seed)
{
  guint64 tensor = 0;

  for (guint n = 0; n < xc_model_n_nodes (model); n++)
    {
      XcNode *node = xc_model_node (model, n);
      for (guint p = 0; p < node->n_params; p++, tensor++)
        {
          XcParam *param = &node->params[p];
          const char *nm = param->name;
          if (g_str_has_suffix (nm, "kernel"))
            {
              double fan_in = 1;
              int nd = g_str_equal (nm, "depthwise_kernel") ? 2 : param->ndims - 1;
              float a;
              for (int d = 0; d < nd; d++)
                fan_in *= param->dims[d];
              a = (float) sqrt (6.0 / fan_in);
              for (size_t i = 0; i < param->size; i++)
                param->data[i] = a * (2.0f * xc_seeded_uniform (seed, tensor, i) - 1.0f);
            }
          else
            {
              float v = g_str_equal (nm, "gamma") || g_str_equal (nm, "moving_variance") ? 1 : 0;
              for (size_t i = 0; i < param->size; i++)
                param->data[i] = v;
            }
        }
    }
}

/* The mini-Xception of Arriaga et al. (the FER models in ../shared): two
 * 3x3 convs of 8, four residual modules of separable convs (16 to 128
 * filters, stride-2 1x1 shortcuts), a 3x3 conv to the classes, global
 * average pooling, softmax. Keras 2's automatic names, as those files have. */
XcModel *
xc_mini_xception_new (int size, int channels, int classes, GError **error)
{
  g_autoptr(XcModel) m = NULL;
  XcNode *n;
  guint x, r, y;
  int nc = 0, nb = 0, na = 0, ns = 0, nmp = 0, nadd = 0;
  char a[64], b[64];

  if (size < 16 || size > 1024 || channels < 1 || channels > 4 || classes < 2)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "mini-Xception: size %d (16 to 1024), channels %d, classes %d", size,
                   channels, classes);
      return NULL;
    }
  m = xc_model_new ("mini-xception");
#define ADD(op, nm, ...) (xc_model_add_node (m, op, nm, NULL, (guint[]) { __VA_ARGS__ }, \
                          G_N_ELEMENTS (((guint[]) { __VA_ARGS__ })), NULL), \
                          xc_model_n_nodes (m) - 1)
  n = xc_model_add_node (m, XC_OP_INPUT, "input_1", NULL, NULL, 0, NULL);
  n->h = n->w = size, n->c = channels;
  x = 0;
  for (int i = 0; i < 2; i++)
    {
      g_snprintf (a, sizeof a, "conv2d_%d", ++nc);
      x = ADD (XC_OP_CONV2D, a, x);
      n = xc_model_node (m, x);
      n->filters = 8, n->use_bias = FALSE;
      g_snprintf (a, sizeof a, "batch_normalization_%d", ++nb);
      x = ADD (XC_OP_BATCHNORM, a, x);
      g_snprintf (a, sizeof a, "activation_%d", ++na);
      x = ADD (XC_OP_ACTIVATION, a, x);
      xc_model_node (m, x)->act = XC_ACT_RELU;
    }
  for (int f = 16; f <= 128; f *= 2)
    {
      g_snprintf (a, sizeof a, "separable_conv2d_%d", ++ns);
      y = ADD (XC_OP_SEPCONV2D, a, x);
      n = xc_model_node (m, y);
      n->filters = f, n->padding = XC_PAD_SAME, n->use_bias = FALSE;
      g_snprintf (a, sizeof a, "batch_normalization_%d", ++nb);
      y = ADD (XC_OP_BATCHNORM, a, y);
      g_snprintf (a, sizeof a, "activation_%d", ++na);
      y = ADD (XC_OP_ACTIVATION, a, y);
      xc_model_node (m, y)->act = XC_ACT_RELU;
      g_snprintf (a, sizeof a, "separable_conv2d_%d", ++ns);
      y = ADD (XC_OP_SEPCONV2D, a, y);
      n = xc_model_node (m, y);
      n->filters = f, n->padding = XC_PAD_SAME, n->use_bias = FALSE;
      g_snprintf (a, sizeof a, "batch_normalization_%d", ++nb);
      y = ADD (XC_OP_BATCHNORM, a, y);
      g_snprintf (a, sizeof a, "conv2d_%d", ++nc);
      r = ADD (XC_OP_CONV2D, a, x);
      n = xc_model_node (m, r);
      n->filters = f, n->kh = n->kw = 1, n->sh = n->sw = 2, n->padding = XC_PAD_SAME;
      n->use_bias = FALSE;
      g_snprintf (a, sizeof a, "max_pooling2d_%d", ++nmp);
      y = ADD (XC_OP_MAXPOOL, a, y);
      n = xc_model_node (m, y);
      n->kh = n->kw = 3, n->sh = n->sw = 2, n->padding = XC_PAD_SAME;
      g_snprintf (b, sizeof b, "batch_normalization_%d", ++nb);
      r = ADD (XC_OP_BATCHNORM, b, r);
      g_snprintf (a, sizeof a, "add_%d", ++nadd);
      x = ADD (XC_OP_ADD, a, y, r);
    }
  g_snprintf (a, sizeof a, "conv2d_%d", ++nc);
  x = ADD (XC_OP_CONV2D, a, x);
  n = xc_model_node (m, x);
  n->filters = classes, n->padding = XC_PAD_SAME, n->use_bias = TRUE;
  x = ADD (XC_OP_GAP, "global_average_pooling2d_1", x);
  x = ADD (XC_OP_ACTIVATION, "predictions", x);
  xc_model_node (m, x)->act = XC_ACT_SOFTMAX;
#undef ADD
  if (!xc_model_finish (m, error))
    return NULL;
  return g_steal_pointer (&m);
}

/**
 * xc_model_with_new_head:
 *
 * The body of @base up to its last spatial layer before the classifier
 * (weights copied), then a new head: global average pooling, dropout 0.5,
 * Dense softmax over @classes (seeded). For fine-tuning on the user's classes.
 *
 * Returns: (transfer full): the new model, or %NULL with @error
 */
XcModel *
xc_model_with_new_head (const XcModel *base, int classes, guint64 seed, GError **error)
{
  g_autofree char *name = g_strdup_printf ("%s (new head)", base->name);
  g_autoptr(XcModel) m = xc_model_new (name);
  guint body;
  XcNode *n;

  if (classes < 2)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "a classifier needs two or more classes");
      return NULL;
    }
  if (!xc_model_default_cam_layer (base, &body, error))
    return NULL;
  for (guint i = 0; i <= body; i++)
    {
      const XcNode *src = xc_model_node (base, i);
      XcNode *dst = xc_model_add_node (m, src->op, src->name, src->keras_class, src->inputs,
                                       src->n_inputs, error);
      char *nm, *cls;
      guint *in;
      if (dst == NULL)
        return NULL;
      nm = dst->name, cls = dst->keras_class, in = dst->inputs;
      *dst = *src;
      dst->name = nm, dst->keras_class = cls, dst->inputs = in;
    }
  n = xc_model_add_node (m, XC_OP_GAP, "head_pool", NULL, (guint[]) { body }, 1, error);
  n = xc_model_add_node (m, XC_OP_DROPOUT, "head_dropout", NULL, (guint[]) { body + 1 }, 1,
                         error);
  n->rate = 0.5f;
  n = xc_model_add_node (m, XC_OP_DENSE, "head_predictions", NULL, (guint[]) { body + 2 }, 1,
                         error);
  n->filters = classes, n->use_bias = TRUE, n->act = XC_ACT_SOFTMAX;
  if (!xc_model_finish (m, error))
    return NULL;
  xc_model_init_training (m, seed);
  for (guint i = 0; i <= body; i++)
    for (guint p = 0; p < xc_model_node (m, i)->n_params; p++)
      xc_param_copy (&xc_model_node (base, i)->params[p], xc_model_node (m, i)->params[p].data);
  m->preprocess = base->preprocess;
  return g_steal_pointer (&m);
}
