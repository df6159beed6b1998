/* SPDX-License-Identifier: MIT
 *
 * XcModel: building a graph node by node, then xc_model_finish() infers and
 * checks every shape, derives each weight's shape, counts parameters and
 * multiply-accumulates, and allocates the one weight slab. Importers and the
 * built-in Xception fill the slab afterwards.
 */
#define G_LOG_DOMAIN "xc-model"

#include <errno.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "xc-error.h"
#include "xc-memory.h"
#include "xc-model.h"
#include "kernels/xc-kernels.h"
#include "ops/xc-ops.h"

/* A tensor larger than this (elements, per image) is refused as absurd */
#define XC_MAX_ELEMENTS ((guint64) 1 << 31)

static void
xc_node_free (gpointer data)
{
  XcNode *node = data;

  g_free (node->name);
  g_free (node->keras_class);
  g_free (node->inputs);
  g_free (node);
}

/**
 * xc_model_new:
 * @name: what the user called the model (a path or a spec)
 *
 * Returns: (transfer full): an empty model
 */
XcModel *
xc_model_new (const char *name)
{
  XcModel *model = g_new0 (XcModel, 1);

  model->name = g_strdup (name);
  model->nodes = g_ptr_array_new_with_free_func (xc_node_free);
  model->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  model->preprocess = XC_PREPROCESS_TF;
  return model;
}

void
xc_model_free (XcModel *model)
{
  if (model == NULL)
    return;
  g_free (model->name);
  g_hash_table_unref (model->by_name);
  g_ptr_array_unref (model->nodes);
  g_clear_pointer (&model->labels, g_ptr_array_unref);
  g_free (model->slab);
  g_free (model);
}

/**
 * xc_model_add_node:
 * @inputs: (array length=n_inputs): indices of earlier nodes
 *
 * Appends a node with default attributes (3x3, stride 1, valid, no bias,
 * linear, depth multiplier 1, epsilon 1e-3); the caller sets the rest.
 *
 * Returns: (transfer none): the node, or %NULL with @error set on a duplicate
 *   name or a bad input index
 */
XcNode *
xc_model_add_node (XcModel     *model,
                   XcOp         op,
                   const char  *name,
                   const char  *keras_class,
                   const guint *inputs,
                   guint        n_inputs,
                   GError     **error)
{
  XcNode *node;

  g_return_val_if_fail (model != NULL && !model->finished, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (g_hash_table_contains (model->by_name, name))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: layer name used twice", name);
      return NULL;
    }
  for (guint i = 0; i < n_inputs; i++)
    if (inputs[i] >= model->nodes->len)
      {
        g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                     "%s: input %u refers to no earlier layer", name, i);
        return NULL;
      }

  node = g_new0 (XcNode, 1);
  node->name = g_strdup (name);
  node->keras_class = g_strdup (keras_class ? keras_class : xc_op_name (op));
  node->op = op;
  node->inputs = g_memdup2 (inputs, sizeof (guint) * n_inputs);
  node->n_inputs = n_inputs;
  node->kh = node->kw = 3;
  node->sh = node->sw = 1;
  node->depth_multiplier = 1;
  node->epsilon = 1e-3f;
  node->momentum = 0.99f;
  node->bn_center = node->bn_scale = TRUE;
  node->scale = 1.0f;
  node->act = XC_ACT_LINEAR;

  g_ptr_array_add (model->nodes, node);
  g_hash_table_insert (model->by_name, node->name, GUINT_TO_POINTER (model->nodes->len));
  return node;
}

XcNode *
xc_model_node (const XcModel *model, guint index)
{
  g_return_val_if_fail (index < model->nodes->len, NULL);
  return g_ptr_array_index (model->nodes, index);
}

guint
xc_model_n_nodes (const XcModel *model)
{
  return model->nodes->len;
}

const XcNode *
xc_model_input (const XcModel *model)
{
  return model->nodes->len ? g_ptr_array_index (model->nodes, 0) : NULL;
}

/**
 * xc_model_lookup:
 * @index: (out): the node's index
 *
 * Returns: %TRUE if a node is named @name; otherwise sets an error that
 *   names the model and suggests similar layer names.
 */
gboolean
xc_model_lookup (const XcModel *model,
                 const char    *name,
                 guint         *index,
                 GError       **error)
{
  gpointer v = g_hash_table_lookup (model->by_name, name);
  g_autoptr(GString) hint = NULL;
  guint n_hint = 0;

  if (v != NULL)
    {
      *index = GPOINTER_TO_UINT (v) - 1;
      return TRUE;
    }

  hint = g_string_new (NULL);
  for (guint i = 0; i < model->nodes->len && n_hint < 5; i++)
    {
      XcNode *node = g_ptr_array_index (model->nodes, i);
      size_t n = MIN (strlen (name), 6);
      if (n > 0 && strncmp (node->name, name, n) == 0)
        {
          g_string_append_printf (hint, "%s%s", n_hint ? ", " : "", node->name);
          n_hint++;
        }
    }
  g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
               "no layer named '%s' in %s (%u layers%s%s%s)", name, model->name,
               model->nodes->len, n_hint ? "; similar: " : "", hint->str,
               n_hint ? "" : "; 'xception-cli summary' lists them");
  return FALSE;
}

/**
 * xc_model_rename_node:
 *
 * Returns: %FALSE with @error if another node already has @name
 */
gboolean
xc_model_rename_node (XcModel *model, guint index, const char *name, GError **error)
{
  XcNode *node = xc_model_node (model, index);

  g_return_val_if_fail (node != NULL && name != NULL, FALSE);
  if (g_str_equal (node->name, name))
    return TRUE;
  if (g_hash_table_contains (model->by_name, name))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "%s: layer name already used", name);
      return FALSE;
    }
  g_hash_table_remove (model->by_name, node->name);
  g_free (node->name);
  node->name = g_strdup (name);
  g_hash_table_insert (model->by_name, node->name, GUINT_TO_POINTER (index + 1));
  return TRUE;
}

/* One node through its op's shape inference (ops/), then what every op
 * shares: the element limit and the parameter counts */
static gboolean
infer_node (XcModel *model, XcNode *node, GError **error)
{
  g_autofree const XcNode **in = g_new0 (const XcNode *, MAX (node->n_inputs, 1));

  if (node->op != XC_OP_INPUT && node->n_inputs == 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: layer has no input", node->name);
      return FALSE;
    }
  if (node->op != XC_OP_ADD && node->n_inputs > 1)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: %s with %u inputs is not supported (one expected)",
                   node->name, node->keras_class, node->n_inputs);
      return FALSE;
    }
  for (guint i = 0; i < node->n_inputs; i++)
    in[i] = g_ptr_array_index (model->nodes, node->inputs[i]);
  node->n_params = 0;
  node->std_params = 0;
  if (!xc_op_class (node->op)->infer (node, in, error))
    return FALSE;

  if ((guint64) node->h * node->w * node->c > XC_MAX_ELEMENTS)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_SHAPE,
                   "%s: output (%d, %d, %d) exceeds 2^31 elements per image",
                   node->name, node->h, node->w, node->c);
      return FALSE;
    }

  node->n_weights = node->n_trainable = 0;
  for (guint i = 0; i < node->n_params; i++)
    {
      node->n_weights += node->params[i].size;
      if (node->params[i].trainable)
        node->n_trainable += node->params[i].size;
    }
  if (node->op != XC_OP_SEPCONV2D && node->op != XC_OP_DWCONV2D)
    node->std_params = node->n_weights;
  return TRUE;
}

/* where xc_model_pack_panels() may put a weight in panels */
static gboolean
param_aligned (const XcNode *node, guint p)
{
  return node->op == XC_OP_SEPCONV2D && p == 1;
}

/**
 * xc_model_finish:
 *
 * Infers every node's shape in order, derives weight shapes and costs, and
 * allocates the zero-filled weight slab. The last node is the output.
 *
 * Returns: %FALSE with @error naming the layer and the rule on failure
 */
gboolean
xc_model_finish (XcModel *model, GError **error)
{
  size_t total = 0, off = 0;

  g_return_val_if_fail (!model->finished, FALSE);

  if (model->nodes->len == 0 || xc_model_node (model, 0)->op != XC_OP_INPUT)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "the model has no input layer first");
      return FALSE;
    }
  for (guint i = 0; i < model->nodes->len; i++)
    {
      XcNode *node = xc_model_node (model, i);
      if (i > 0 && node->op == XC_OP_INPUT)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                       "%s: models with more than one input are not supported", node->name);
          return FALSE;
        }
      if (!infer_node (model, node, error))
        return FALSE;
      /* a SeparableConv2D's pointwise kernel starts on a cache line: in GEMM
       * panels it is read aligned (xc_model_pack_panels()) */
      for (guint p = 0; p < node->n_params; p++)
        total = (param_aligned (node, p) ? (total + 15) / 16 * 16 : total) + node->params[p].size;
    }
  if (total > ((size_t) 1 << 32))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%zu weights is more than we accept", total);
      return FALSE;
    }
  {
    g_autofree char *what = g_strdup_printf ("the weights of %s", model->name);
    if (!xc_memory_check ((guint64) total * sizeof (float), what, error))
      return FALSE;
  }
  /* a cache line's alignment (the panels' loads), the same offsets in every
   * model of a topology; advised for huge pages before it is first touched */
  total = MAX (total, 1);
  if (posix_memalign ((void **) &model->slab, 64, total * sizeof (float)) != 0)
    model->slab = NULL;
  if (model->slab != NULL)
    {
      xc_memory_advise_huge_pages (model->slab, total * sizeof (float));
      memset (model->slab, 0, total * sizeof (float));
    }
  if (model->slab == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "cannot allocate %zu MB of weights",
                   total * sizeof (float) >> 20);
      return FALSE;
    }
  model->slab_size = total;
  for (guint i = 0; i < model->nodes->len; i++)
    {
      XcNode *node = xc_model_node (model, i);
      for (guint p = 0; p < node->n_params; p++)
        {
          off = param_aligned (node, p) ? (off + 15) / 16 * 16 : off;
          node->params[p].data = model->slab + off;
          off += node->params[p].size;
        }
    }
  model->output = model->nodes->len - 1;
  model->finished = TRUE;
  return TRUE;
}

/**
 * xc_model_default_cam_layer:
 *
 * The last spatial layer feeding the classifier: the input of the last
 * layer with weights, followed back through vector layers (pooling,
 * flatten). block14_sepconv2_act for Xception, add_4 for the FER
 * mini-Xception (whose classifier is the 3x3 conv2d_7).
 */
gboolean
xc_model_default_cam_layer (const XcModel *model, guint *layer, GError **error)
{
  gint last = -1;
  guint x;

  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    if (xc_model_node (model, i)->n_params > 0 && i <= model->output)
      last = i;
  if (last > 0)
    {
      x = xc_model_node (model, last)->inputs[0];
      while (x > 0 && xc_model_node (model, x)->flat)
        x = xc_model_node (model, x)->inputs[0];
      if (x > 0)
        {
          *layer = x;
          return TRUE;
        }
    }
  g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
               "%s: no spatial layer before the classifier to explain", model->name);
  return FALSE;
}

void
xc_model_totals (const XcModel *model,
                 guint64       *params,
                 guint64       *trainable,
                 guint64       *macs,
                 guint64       *std_params,
                 guint64       *std_macs)
{
  guint64 p = 0, t = 0, m = 0, sp = 0, sm = 0;

  for (guint i = 0; i < model->nodes->len; i++)
    {
      const XcNode *node = g_ptr_array_index (model->nodes, i);
      p += node->n_weights;
      t += node->n_trainable;
      m += node->macs;
      sp += node->std_params;
      sm += node->std_macs;
    }
  if (params) *params = p;
  if (trainable) *trainable = t;
  if (macs) *macs = m;
  if (std_params) *std_params = sp;
  if (std_macs) *std_macs = sm;
}

const char *
xc_model_label (const XcModel *model, guint index)
{
  if (model->labels == NULL || index >= model->labels->len)
    return NULL;
  return g_ptr_array_index (model->labels, index);
}

static gboolean
parse_class_index_json (const char *text, gsize len, GPtrArray *labels)
{
  /* Keras' imagenet_class_index.json: {"0": ["n01440764", "tench"], ...}.
   * Parsed by hand (it is one flat shape) to keep json-glib out of this file. */
  GHashTable *map = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  const char *p = text, *end = text + len;
  guint max = 0;
  gboolean ok = TRUE;

  while (p < end)
    {
      const char *q;
      char *e;
      guint64 idx;
      const char *s[2];
      gsize sl[2];

      q = memchr (p, '"', end - p);
      if (q == NULL)
        break;
      idx = g_ascii_strtoull (q + 1, &e, 10);
      if (e == q + 1 || *e != '"' || idx > 1000000)
        {
          ok = FALSE;
          break;
        }
      p = e + 1;
      for (int k = 0; k < 2 && ok; k++)
        {
          q = memchr (p, '"', end - p);
          if (q == NULL) { ok = FALSE; break; }
          s[k] = q + 1;
          q = memchr (s[k], '"', end - s[k]);
          if (q == NULL) { ok = FALSE; break; }
          sl[k] = q - s[k];
          p = q + 1;
        }
      if (!ok)
        break;
      g_hash_table_insert (map, GUINT_TO_POINTER (idx + 1), g_strndup (s[1], sl[1]));
      max = MAX (max, idx + 1);
    }
  if (ok && max > 0 && g_hash_table_size (map) == max)
    for (guint i = 0; i < max; i++)
      g_ptr_array_add (labels, g_strdup (g_hash_table_lookup (map, GUINT_TO_POINTER (i + 1))));
  else
    ok = FALSE;
  g_hash_table_unref (map);
  return ok;
}

/**
 * xc_model_check_weights:
 *
 * Refuses weights that are not finite (NaN or Inf), naming the first layer
 * and weight: they would give numbers that look like predictions.
 */
gboolean
xc_model_check_weights (const XcModel *model, GError **error)
{
  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    {
      const XcNode *node = xc_model_node (model, i);
      for (guint p = 0; p < node->n_params; p++)
        {
          const XcParam *param = &node->params[p];
          size_t n = 1, bad = 0;
          for (int d = 0; d < param->ndims; d++)
            n *= param->dims[d];
          for (size_t k = 0; k < n; k++)
            bad += !isfinite (param->data[k]);
          if (bad > 0)
            {
              g_set_error (error, XC_ERROR, XC_ERROR_WEIGHTS, "%s: %zu values of its %s are "
                           "not finite (NaN or Inf): refused", node->name, bad, param->name);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/**
 * xc_model_is_classifier:
 *
 * Whether the model's output is class probabilities (a softmax or sigmoid
 * output layer), as opposed to a feature vector or map (a Keras
 * application without its top).
 */
gboolean
xc_model_is_classifier (const XcModel *model)
{
  const XcNode *out = xc_model_node (model, model->output);

  return out->flat && (out->act == XC_ACT_SOFTMAX || out->act == XC_ACT_SIGMOID);
}

/**
 * xc_model_set_labels_data:
 * @text: (array length=len): one class name a line or, when @json, Keras'
 *   imagenet_class_index.json (its names made readable: "tabby_cat" ->
 *   "tabby cat")
 * @what: the labels' source, for errors
 *
 * Sets class names from text and checks their number against the model's
 * outputs.
 */
gboolean
xc_model_set_labels_data (XcModel *model, const char *text, gsize len, gboolean json,
                          const char *what, GError **error)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  const XcNode *out = xc_model_node (model, model->output);

  if (!g_utf8_validate (text, len, NULL))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: labels are not UTF-8 text", what);
      return FALSE;
    }
  if (json)
    {
      if (!parse_class_index_json (text, len, labels))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                       "%s: not a class index JSON ({\"0\": [\"id\", \"name\"], ...})", what);
          return FALSE;
        }
      for (guint i = 0; i < labels->len; i++)
        g_strdelimit (labels->pdata[i], "_", ' ');
    }
  else
    {
      g_autofree char *copy = g_strndup (text, len);
      g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);
      guint n = g_strv_length (lines);
      /* a final newline leaves one empty string */
      while (n > 0 && g_strstrip (lines[n - 1])[0] == '\0')
        n--;
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (labels, g_strdup (g_strstrip (lines[i])));
    }
  if (!out->flat || (guint) out->c != labels->len)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "%s: %u labels for a model with %d outputs", what, labels->len, out->c);
      return FALSE;
    }
  g_clear_pointer (&model->labels, g_ptr_array_unref);
  model->labels = g_steal_pointer (&labels);
  return TRUE;
}

/**
 * xc_model_set_labels_file:
 * @path: one class name a line, or Keras' imagenet_class_index.json
 *
 * Reads class names and checks their number against the model's outputs.
 */
gboolean
xc_model_set_labels_file (XcModel *model, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!xc_check_user_file (path, "a labels file", error) ||
      !g_file_get_contents (path, &text, &len, error))
    return FALSE;
  return xc_model_set_labels_data (model, text, len, g_str_has_suffix (path, ".json"), path,
                                   error);
}


/**
 * xc_model_class_name:
 * @buf: (out caller-allocates): room for "class N" when the model has no label
 *
 * Returns: class @c's label, or "class @c" written in @buf
 */
const char *
xc_model_class_name (const XcModel *model, int c, char *buf, gsize len)
{
  const char *l = xc_model_label (model, c);

  if (l)
    return l;
  g_snprintf (buf, len, "class %d", c);
  return buf;
}

/* A SeparableConv2D's pointwise kernel whose products are worth reading in
 * place: over 64 KB (Xception from block3_sepconv1 on; the entry flow's
 * smaller ones are packed in cache for every band anyway) */
static gboolean
param_packable (const XcNode *node, guint p)
{
  return param_aligned (node, p) && node->params[p].ndims == 4 && node->params[p].size > 16384;
}

static void
param_kn (const XcParam *param, int *k, int *n)
{
  *n = param->dims[param->ndims - 1];
  *k = (int) (param->size / MAX (*n, 1));
}

/* in place, through a copy */
static gboolean
param_set_panels (XcParam *param, gboolean panels)
{
  int k, n;
  g_autofree float *tmp = NULL;

  if (param->panels == panels)
    return TRUE;
  if ((tmp = g_try_malloc (param->size * sizeof (float))) == NULL)
    return FALSE;
  param_kn (param, &k, &n);
  if (panels)
    xc_f32_pack_panels (param->data, k, n, tmp);
  else
    xc_f32_unpack_panels (param->data, k, n, tmp);
  memcpy (param->data, tmp, param->size * sizeof (float));
  param->panels = panels;
  return TRUE;
}

/**
 * xc_model_pack_panels:
 *
 * Puts the large pointwise kernels (SeparableConv2D, over 64 KB) in the
 * layout our AVX2 GEMM reads them in (xc_f32_pack_panels()), once, where
 * that GEMM runs the products: every forward then reads them in place
 * instead of packing 4-13% of each product's work again (ONNX Runtime packs
 * its weights once per session too). The same floats in the same slab: no
 * memory beside the model's. The values are the same; only where each
 * lies changes, so it is done on a model nothing else reads at the time
 * (plans call it when they are made). Readers that want Keras' layout use
 * xc_param_get(); writers call xc_model_unpack_panels() first. A model a
 * training plan was made for stays in Keras' layout (the optimizer updates
 * it in place from gradients in that layout, and the plans that evaluate it
 * between epochs must not move it). XC_PANELS=0 in the environment turns
 * it off.
 */
void
xc_model_pack_panels (XcModel *model)
{
  /* XC_PANELS=0 keeps Keras' layout (to measure the difference) */
  if (model->trained || !xc_f32_gemm_panels_ok () ||
      g_strcmp0 (g_getenv ("XC_PANELS"), "0") == 0)
    return;
  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    {
      XcNode *node = xc_model_node (model, i);
      for (guint p = 0; p < node->n_params; p++)
        if (param_packable (node, p) && !param_set_panels (&node->params[p], TRUE))
          return;   /* no memory for the copy: that kernel stays as it is */
    }
}

/**
 * xc_model_unpack_panels:
 *
 * Every weight back in Keras' layout, for code that writes weights
 * (loading, training): a later plan packs them again, unless a training
 * plan was made for the model (XcModel.trained).
 *
 * Returns: %FALSE with @error if the memory for a copy is missing
 */
gboolean
xc_model_unpack_panels (XcModel *model, GError **error)
{
  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    {
      XcNode *node = xc_model_node (model, i);
      for (guint p = 0; p < node->n_params; p++)
        if (!param_set_panels (&node->params[p], FALSE))
          {
            g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY,
                         "%s: no memory to unpack its %s", node->name, node->params[p].name);
            return FALSE;
          }
    }
  return TRUE;
}

/**
 * xc_param_get:
 * @i: the index of a value in Keras' layout
 *
 * Returns: that value, wherever the weight's layout keeps it
 */
float
xc_param_get (const XcParam *param, size_t i)
{
  int k, n;

  if (!param->panels)
    return param->data[i];
  param_kn (param, &k, &n);
  return param->data[xc_f32_panels_index (k, n, (int) (i / n), (int) (i % n))];
}

/**
 * xc_param_copy:
 * @dst: (out caller-allocates): param->size floats in Keras' layout
 */
void
xc_param_copy (const XcParam *param, float *dst)
{
  int k, n;

  if (!param->panels)
    {
      memcpy (dst, param->data, param->size * sizeof (float));
      return;
    }
  param_kn (param, &k, &n);
  xc_f32_unpack_panels (param->data, k, n, dst);
}
