/* SPDX-License-Identifier: MIT
 *
 * Keras model_config JSON to an XcModel: functional ("Model"/"Functional")
 * and Sequential configs as Keras 2.0 to 2.x write them. Each supported layer
 * class maps to one node; anything we cannot run exactly as Keras does is
 * refused with the layer's name and the reason.
 */
#define G_LOG_DOMAIN "xc-keras"

#include <math.h>
#include <json-glib/json-glib.h>

#include "xc-error.h"
#include "xc-keras.h"
#include "ops/xc-ops.h"

/* A JSON number that must be a whole number in [lo, hi], checked in 64
 * bits and as a double before any cast: 2^32 + 3 does not wrap to 3, 1e300
 * is not cast to int */
static gboolean
whole_number (JsonNode *n, gint64 lo, gint64 hi, gint64 *out)
{
  double d;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    {
      gint64 v = json_node_get_int (n);
      if (v < lo || v > hi)
        return FALSE;
      *out = v;
      return TRUE;
    }
  if (json_node_get_value_type (n) != G_TYPE_DOUBLE)
    return FALSE;
  d = json_node_get_double (n);
  if (!(d >= (double) lo && d <= (double) hi) || d != floor (d))
    return FALSE;
  *out = (gint64) d;
  return TRUE;
}

static gboolean
int_pair (JsonObject *cfg, const char *key, int *a, int *b, const char *layer, GError **error)
{
  JsonNode *n = json_object_get_member (cfg, key);
  gint64 x, y;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;  /* keep the default */
  if (JSON_NODE_HOLDS_VALUE (n) && whole_number (n, 1, 8192, &x))
    {
      *a = *b = (int) x;
      return TRUE;
    }
  if (JSON_NODE_HOLDS_ARRAY (n) && json_array_get_length (json_node_get_array (n)) == 2 &&
      whole_number (json_array_get_element (json_node_get_array (n), 0), 1, 8192, &x) &&
      whole_number (json_array_get_element (json_node_get_array (n), 1), 1, 8192, &y))
    {
      *a = (int) x;
      *b = (int) y;
      return TRUE;
    }
  g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: '%s' is not a pair of whole numbers from "
               "1 to 8192", layer, key);
  return FALSE;
}

/* An integer option (filters, units, depth_multiplier) in [lo, hi] */
static gboolean
int_member (JsonObject *cfg, const char *key, gint64 dflt, gint64 lo, gint64 hi, int *out,
            const char *layer, GError **error)
{
  JsonNode *n = json_object_get_member (cfg, key);
  gint64 v = dflt;

  if (n != NULL && !JSON_NODE_HOLDS_NULL (n) && !whole_number (n, lo, hi, &v))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: '%s' is not a whole number from "
                   "%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, layer, key, lo, hi);
      return FALSE;
    }
  *out = (int) v;
  return TRUE;
}

static const char *
str_member (JsonObject *cfg, const char *key, const char *dflt)
{
  JsonNode *n = json_object_get_member (cfg, key);

  if (n == NULL || json_node_get_value_type (n) != G_TYPE_STRING)
    return dflt;
  return json_node_get_string (n);
}

static gboolean
bool_member (JsonObject *cfg, const char *key, gboolean dflt)
{
  JsonNode *n = json_object_get_member (cfg, key);

  if (n == NULL || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return dflt;
  return json_node_get_boolean (n);
}

static double
num_member (JsonObject *cfg, const char *key, double dflt)
{
  JsonNode *n = json_object_get_member (cfg, key);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return dflt;
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    return (double) json_node_get_int (n);
  if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    return json_node_get_double (n);
  return dflt;
}

static gboolean
activation_member (JsonObject *cfg, const char *key, XcAct *act, const char *layer,
                   GError **error)
{
  const char *s = str_member (cfg, key, "linear");

  if (!xc_act_from_string (s, act))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: activation '%s' is not supported (linear, relu, relu6, sigmoid, tanh, "
                   "softmax, swish)", layer, s);
      return FALSE;
    }
  return TRUE;
}

static gboolean
configure_node (XcNode *node, const char *cls, JsonObject *cfg, GError **error)
{
  const char *name = node->name;
  const char *fmt = str_member (cfg, "data_format", "channels_last");
  const char *pad = str_member (cfg, "padding", "valid");
  int d1 = 1, d2 = 1;

  if (g_strcmp0 (fmt, "channels_last") != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: data_format '%s' is not supported (channels_last only)", name, fmt);
      return FALSE;
    }
  if (g_strcmp0 (pad, "same") == 0)
    node->padding = XC_PAD_SAME;
  else if (g_strcmp0 (pad, "valid") == 0)
    node->padding = XC_PAD_VALID;
  else
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: padding '%s' is not supported "
                   "(same, valid)", name, pad);
      return FALSE;
    }

  switch (node->op)
    {
    case XC_OP_CONV2D:
    case XC_OP_DWCONV2D:
    case XC_OP_SEPCONV2D:
      if (!int_pair (cfg, "kernel_size", &node->kh, &node->kw, name, error) ||
          !int_pair (cfg, "strides", &node->sh, &node->sw, name, error) ||
          !int_pair (cfg, "dilation_rate", &d1, &d2, name, error) ||
          !activation_member (cfg, "activation", &node->act, name, error))
        return FALSE;
      if (d1 != 1 || d2 != 1 || num_member (cfg, "groups", 1) != 1)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                       "%s: dilated or grouped convolutions are not supported", name);
          return FALSE;
        }
      if (!int_member (cfg, "filters", 0, 1, 1 << 20, &node->filters, name, error) ||
          !int_member (cfg, "depth_multiplier", 1, 1, 1024, &node->depth_multiplier, name, error))
        return FALSE;
      node->use_bias = bool_member (cfg, "use_bias", TRUE);
      break;

    case XC_OP_BATCHNORM:
      {
        JsonNode *axis = json_object_get_member (cfg, "axis");
        gint64 ax = -1;
        if (axis && JSON_NODE_HOLDS_ARRAY (axis) &&
            json_array_get_length (json_node_get_array (axis)) == 1)
          ax = json_array_get_int_element (json_node_get_array (axis), 0);
        else if (axis && JSON_NODE_HOLDS_VALUE (axis))
          ax = json_node_get_int (axis);
        if (ax != -1 && ax != 3 && ax != 1)
          {
            g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                         "%s: BatchNormalization over axis %" G_GINT64_FORMAT
                         " is not supported (the channel axis only)", name, ax);
            return FALSE;
          }
        node->epsilon = (float) num_member (cfg, "epsilon", 1e-3);
        node->momentum = (float) num_member (cfg, "momentum", 0.99);
        node->bn_center = bool_member (cfg, "center", TRUE);
        node->bn_scale = bool_member (cfg, "scale", TRUE);
      }
      break;

    case XC_OP_ACTIVATION:
      if (g_str_equal (cls, "ReLU"))
        {
          node->act = XC_ACT_RELU;
          node->relu_max = (float) num_member (cfg, "max_value", 0);
          node->relu_slope = (float) num_member (cfg, "negative_slope", 0);
          if (num_member (cfg, "threshold", 0) != 0)
            {
              g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                           "%s: ReLU with a threshold is not supported", name);
              return FALSE;
            }
          if (node->relu_max == 6.0f && node->relu_slope == 0.0f)
            node->act = XC_ACT_RELU6, node->relu_max = 0;
        }
      else if (g_str_equal (cls, "Softmax"))
        node->act = XC_ACT_SOFTMAX;
      else if (!activation_member (cfg, "activation", &node->act, name, error))
        return FALSE;
      break;

    case XC_OP_MAXPOOL:
    case XC_OP_AVGPOOL:
      node->kh = node->kw = 2;
      if (!int_pair (cfg, "pool_size", &node->kh, &node->kw, name, error))
        return FALSE;
      node->sh = node->kh, node->sw = node->kw;
      if (!int_pair (cfg, "strides", &node->sh, &node->sw, name, error))
        return FALSE;
      break;

    case XC_OP_GAP:
    case XC_OP_GMP:
      if (bool_member (cfg, "keepdims", FALSE))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                       "%s: global pooling with keepdims is not supported", name);
          return FALSE;
        }
      break;

    case XC_OP_DENSE:
      if (!int_member (cfg, json_object_has_member (cfg, "units") ? "units" : "output_dim", 0, 1,
                       1 << 24, &node->filters, name, error))
        return FALSE;
      node->use_bias = bool_member (cfg, "use_bias", TRUE);
      if (!activation_member (cfg, "activation", &node->act, name, error))
        return FALSE;
      break;

    case XC_OP_DROPOUT:
      node->rate = (float) num_member (cfg, "rate", 0.0);
      if (!(node->rate >= 0.0f && node->rate < 1.0f))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: dropout rate %g is not in [0, 1)",
                       name, node->rate);
          return FALSE;
        }
      break;

    case XC_OP_RESCALING:
      node->scale = (float) num_member (cfg, "scale", 1.0);
      node->offset = (float) num_member (cfg, "offset", 0.0);
      break;

    default:
      break;
    }
  return TRUE;
}

static gboolean
input_shape (JsonObject *cfg, XcNode *node, GError **error)
{
  JsonNode *n = json_object_get_member (cfg, "batch_input_shape");
  JsonArray *arr;

  if (n == NULL)
    n = json_object_get_member (cfg, "batch_shape");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n) || json_array_get_length (json_node_get_array (n)) != 4)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: the input must be an image (None, H, W, C)", node->name);
      return FALSE;
    }
  arr = json_node_get_array (n);
  for (int i = 1; i < 4; i++)
    if (JSON_NODE_HOLDS_NULL (json_array_get_element (arr, i)))
      {
        g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                     "%s: input size not fixed (None in the shape); not supported", node->name);
        return FALSE;
      }
  {
    gint64 v[3];
    for (int i = 0; i < 3; i++)
      if (!whole_number (json_array_get_element (arr, i + 1), 1, 8192, &v[i]))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: input shape entry %d is not a "
                       "whole number from 1 to 8192", node->name, i + 1);
          return FALSE;
        }
    node->h = (int) v[0], node->w = (int) v[1], node->c = (int) v[2];
  }
  if (node->h < 1 || node->w < 1 || node->c < 1 || node->h > 8192 || node->w > 8192 ||
      node->c > 64)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: input shape (%d, %d, %d) is out "
                   "of range", node->name, node->h, node->w, node->c);
      return FALSE;
    }
  return TRUE;
}

/* Keras 3's inbound node: {"args": [tensor or [tensors]], "kwargs": {}},
 * each tensor {"class_name": "__keras_tensor__", "config": {"keras_history":
 * ["name", node, tensor]}}; collects the names in argument order */
static gboolean
keras3_tensors (JsonNode *n, const char *name, GPtrArray *out, GError **error)
{
  if (JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *a = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (a); i++)
        if (!keras3_tensors (json_array_get_element (a, i), name, out, error))
          return FALSE;
      return TRUE;
    }
  if (JSON_NODE_HOLDS_OBJECT (n))
    {
      JsonObject *o = json_node_get_object (n);
      JsonNode *cfg = json_object_get_member (o, "config"), *hist;
      JsonArray *h;
      if (!g_str_equal (str_member (o, "class_name", ""), "__keras_tensor__"))
        return TRUE;   /* a constant or option among the arguments */
      if (cfg == NULL || !JSON_NODE_HOLDS_OBJECT (cfg) ||
          !(hist = json_object_get_member (json_node_get_object (cfg), "keras_history")) ||
          !JSON_NODE_HOLDS_ARRAY (hist) ||
          json_array_get_length (h = json_node_get_array (hist)) < 1 ||
          json_node_get_value_type (json_array_get_element (h, 0)) != G_TYPE_STRING)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                       "%s: an input tensor without keras_history", name);
          return FALSE;
        }
      if (json_array_get_length (h) >= 2 && json_array_get_int_element (h, 1) != 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                       "%s: input from a shared layer's second call is not supported", name);
          return FALSE;
        }
      g_ptr_array_add (out, (gpointer) json_array_get_string_element (h, 0));
    }
  return TRUE;
}

/* Inbound names of a functional layer: Keras 2's [[["name", node, tensor,
 * {}], ...]] or Keras 3's [{"args": [...], "kwargs": {...}}] */
static gboolean
inbound_names (JsonObject *layer, const char *name, GPtrArray *out, GError **error)
{
  JsonNode *n = json_object_get_member (layer, "inbound_nodes");
  JsonArray *nodes, *first;

  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    goto bad;
  nodes = json_node_get_array (n);
  if (json_array_get_length (nodes) == 0)
    return TRUE;
  if (json_array_get_length (nodes) > 1)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: a layer applied more than once (shared layer) is not supported", name);
      return FALSE;
    }
  if (JSON_NODE_HOLDS_OBJECT (json_array_get_element (nodes, 0)))
    {
      JsonObject *call = json_array_get_object_element (nodes, 0);
      JsonNode *args = json_object_get_member (call, "args");
      if (args == NULL)
        goto bad;
      return keras3_tensors (args, name, out, error);
    }
  if (!JSON_NODE_HOLDS_ARRAY (json_array_get_element (nodes, 0)))
    goto bad;
  first = json_array_get_array_element (nodes, 0);
  for (guint i = 0; i < json_array_get_length (first); i++)
    {
      JsonNode *e = json_array_get_element (first, i);
      JsonArray *a;
      if (!JSON_NODE_HOLDS_ARRAY (e))
        goto bad;
      a = json_node_get_array (e);
      if (json_array_get_length (a) < 1 ||
          json_node_get_value_type (json_array_get_element (a, 0)) != G_TYPE_STRING)
        goto bad;
      if (json_array_get_length (a) >= 3 && json_array_get_int_element (a, 1) != 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                       "%s: input from a shared layer's second call is not supported", name);
          return FALSE;
        }
      g_ptr_array_add (out, (gpointer) json_array_get_string_element (a, 0));
    }
  return TRUE;

bad:
  g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
               "%s: inbound_nodes in neither the Keras 2 nor the Keras 3 format",
               name);
  return FALSE;
}

static gboolean
add_layer (XcModel *model, JsonObject *layer, gboolean sequential, GError **error)
{
  const char *cls = str_member (layer, "class_name", NULL);
  JsonObject *cfg = NULL;
  const char *name;
  g_autoptr(GPtrArray) in_names = g_ptr_array_new ();
  g_autoptr(GArray) inputs = g_array_new (FALSE, FALSE, sizeof (guint));
  gboolean found;
  XcOp op;
  XcNode *node;

  if (json_object_has_member (layer, "config") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (layer, "config")))
    cfg = json_object_get_object_member (layer, "config");
  name = str_member (layer, "name", cfg ? str_member (cfg, "name", NULL) : NULL);
  if (cls == NULL || cfg == NULL || name == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                   "layer %u: no class_name, name or config", xc_model_n_nodes (model));
      return FALSE;
    }
  found = xc_op_from_keras_class (cls, &op);
  if (!found)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: layer class %s is not supported", name, cls);
      return FALSE;
    }

  if (sequential)
    {
      guint n = xc_model_n_nodes (model);
      if (op == XC_OP_INPUT && n > 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: InputLayer in the middle", name);
          return FALSE;
        }
      if (op != XC_OP_INPUT && n == 0)
        {
          /* the first layer carries the input shape */
          XcNode *in = xc_model_add_node (model, XC_OP_INPUT, "input_1", NULL, NULL, 0, error);
          if (in == NULL || !input_shape (cfg, in, error))
            return FALSE;
          n = 1;
        }
      if (op != XC_OP_INPUT)
        {
          guint prev = n - 1;
          g_array_append_val (inputs, prev);
        }
    }
  else
    {
      if (!inbound_names (layer, name, in_names, error))
        return FALSE;
      for (guint i = 0; i < in_names->len; i++)
        {
          guint idx;
          if (!xc_model_lookup (model, in_names->pdata[i], &idx, NULL))
            {
              g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                           "%s: input '%s' is not an earlier layer", name,
                           (char *) in_names->pdata[i]);
              return FALSE;
            }
          g_array_append_val (inputs, idx);
        }
      if (op != XC_OP_INPUT && inputs->len == 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: layer has no inbound node", name);
          return FALSE;
        }
    }

  node = xc_model_add_node (model, op, name, cls, (guint *) inputs->data, inputs->len, error);
  if (node == NULL)
    return FALSE;
  if (op == XC_OP_INPUT)
    return input_shape (cfg, node, error);
  return configure_node (node, cls, cfg, error);
}

/**
 * xc_keras_model_from_json:
 * @json: a Keras model_config
 * @name: the model's name (its file)
 *
 * Returns: (transfer full): a finished model with zeroed weights, or %NULL
 */
XcModel *
xc_keras_model_from_json (const char *json, const char *name, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(XcModel) model = xc_model_new (name);
  g_autoptr(GError) local = NULL;
  JsonNode *root, *cfgn;
  JsonObject *obj;
  JsonArray *layers;
  const char *cls;
  gboolean sequential;

  if (!json_parser_load_from_data (parser, json, -1, &local))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "model_config is not JSON: %s",
                   local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    goto bad;
  obj = json_node_get_object (root);
  cls = str_member (obj, "class_name", "");
  cfgn = json_object_get_member (obj, "config");
  sequential = g_str_equal (cls, "Sequential");
  if (!sequential && !g_str_equal (cls, "Model") && !g_str_equal (cls, "Functional"))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "model class '%s' is not supported (Model, Functional, Sequential)", cls);
      return NULL;
    }
  if (cfgn == NULL)
    goto bad;
  if (JSON_NODE_HOLDS_ARRAY (cfgn))
    layers = json_node_get_array (cfgn);  /* Keras 2.0's Sequential */
  else if (JSON_NODE_HOLDS_OBJECT (cfgn) &&
           json_object_has_member (json_node_get_object (cfgn), "layers") &&
           JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (cfgn), "layers")))
    layers = json_object_get_array_member (json_node_get_object (cfgn), "layers");
  else
    goto bad;
  if (json_array_get_length (layers) == 0)
    goto bad;

  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonNode *l = json_array_get_element (layers, i);
      if (!JSON_NODE_HOLDS_OBJECT (l))
        goto bad;
      if (!add_layer (model, json_node_get_object (l), sequential, error))
        return NULL;
    }

  if (!xc_model_finish (model, error))
    return NULL;

  /* a functional model's declared output, when it is not the last layer */
  if (!sequential)
    {
      JsonObject *c = json_node_get_object (cfgn);
      JsonNode *outs = json_object_get_member (c, "output_layers");
      if (outs && JSON_NODE_HOLDS_ARRAY (outs))
        {
          JsonArray *oa = json_node_get_array (outs);
          guint idx;
          if (json_array_get_length (oa) > 1 &&
              JSON_NODE_HOLDS_ARRAY (json_array_get_element (oa, 0)))
            {
              g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                           "models with %u outputs are not supported", json_array_get_length (oa));
              return NULL;
            }
          if (JSON_NODE_HOLDS_ARRAY (json_array_get_element (oa, 0)))
            oa = json_array_get_array_element (oa, 0);
          if (json_array_get_length (oa) >= 1 &&
              json_node_get_value_type (json_array_get_element (oa, 0)) == G_TYPE_STRING &&
              xc_model_lookup (model, json_array_get_string_element (oa, 0), &idx, NULL))
            model->output = idx;
        }
    }
  return g_steal_pointer (&model);

bad:
  g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "model_config is not a Keras model config");
  return NULL;
}

/* Writing ----------------------------------------------------------------- */

static void
add_pair (JsonBuilder *b, const char *key, int x, int y)
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  json_builder_add_int_value (b, x);
  json_builder_add_int_value (b, y);
  json_builder_end_array (b);
}

static void
add_str (JsonBuilder *b, const char *key, const char *v)
{
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, v);
}

static void
add_layer_config (JsonBuilder *b, const XcModel *model, const XcNode *node)
{
  json_builder_set_member_name (b, "config");
  json_builder_begin_object (b);
  add_str (b, "name", node->name);
  json_builder_set_member_name (b, "trainable");
  json_builder_add_boolean_value (b, TRUE);
  switch (node->op)
    {
    case XC_OP_INPUT:
      json_builder_set_member_name (b, "batch_input_shape");
      json_builder_begin_array (b);
      json_builder_add_null_value (b);
      json_builder_add_int_value (b, node->h);
      json_builder_add_int_value (b, node->w);
      json_builder_add_int_value (b, node->c);
      json_builder_end_array (b);
      add_str (b, "dtype", "float32");
      json_builder_set_member_name (b, "sparse");
      json_builder_add_boolean_value (b, FALSE);
      break;
    case XC_OP_CONV2D:
    case XC_OP_SEPCONV2D:
    case XC_OP_DWCONV2D:
      if (node->op != XC_OP_DWCONV2D)
        {
          json_builder_set_member_name (b, "filters");
          json_builder_add_int_value (b, node->filters);
        }
      add_pair (b, "kernel_size", node->kh, node->kw);
      add_pair (b, "strides", node->sh, node->sw);
      add_str (b, "padding", node->padding == XC_PAD_SAME ? "same" : "valid");
      add_str (b, "data_format", "channels_last");
      add_pair (b, "dilation_rate", 1, 1);
      if (node->op != XC_OP_CONV2D)
        {
          json_builder_set_member_name (b, "depth_multiplier");
          json_builder_add_int_value (b, node->depth_multiplier);
        }
      add_str (b, "activation", xc_act_name (node->act));
      json_builder_set_member_name (b, "use_bias");
      json_builder_add_boolean_value (b, node->use_bias);
      break;
    case XC_OP_BATCHNORM:
      json_builder_set_member_name (b, "axis");
      json_builder_add_int_value (b, -1);
      json_builder_set_member_name (b, "momentum");
      json_builder_add_double_value (b, node->momentum);
      json_builder_set_member_name (b, "epsilon");
      json_builder_add_double_value (b, node->epsilon);
      json_builder_set_member_name (b, "center");
      json_builder_add_boolean_value (b, node->bn_center);
      json_builder_set_member_name (b, "scale");
      json_builder_add_boolean_value (b, node->bn_scale);
      break;
    case XC_OP_ACTIVATION:
      if (g_str_equal (node->keras_class, "ReLU"))
        {
          json_builder_set_member_name (b, "max_value");
          if (node->act == XC_ACT_RELU6)
            json_builder_add_double_value (b, 6.0);
          else if (node->relu_max > 0)
            json_builder_add_double_value (b, node->relu_max);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "negative_slope");
          json_builder_add_double_value (b, node->relu_slope);
          json_builder_set_member_name (b, "threshold");
          json_builder_add_double_value (b, 0.0);
        }
      else
        add_str (b, "activation", xc_act_name (node->act));
      break;
    case XC_OP_MAXPOOL:
    case XC_OP_AVGPOOL:
      add_pair (b, "pool_size", node->kh, node->kw);
      add_pair (b, "strides", node->sh, node->sw);
      add_str (b, "padding", node->padding == XC_PAD_SAME ? "same" : "valid");
      add_str (b, "data_format", "channels_last");
      break;
    case XC_OP_GAP:
    case XC_OP_GMP:
    case XC_OP_FLATTEN:
      add_str (b, "data_format", "channels_last");
      break;
    case XC_OP_DENSE:
      json_builder_set_member_name (b, "units");
      json_builder_add_int_value (b, node->filters);
      add_str (b, "activation", xc_act_name (node->act));
      json_builder_set_member_name (b, "use_bias");
      json_builder_add_boolean_value (b, node->use_bias);
      break;
    case XC_OP_DROPOUT:
      json_builder_set_member_name (b, "rate");
      json_builder_add_double_value (b, node->rate);
      break;
    case XC_OP_RESCALING:
      json_builder_set_member_name (b, "scale");
      json_builder_add_double_value (b, node->scale);
      json_builder_set_member_name (b, "offset");
      json_builder_add_double_value (b, node->offset);
      break;
    default:
      break;
    }
  json_builder_end_object (b);
}

/**
 * xc_keras_model_to_json:
 *
 * Returns: (transfer full): the model as a Keras 2 functional model_config
 */
char *
xc_keras_model_to_json (const XcModel *model)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  add_str (b, "class_name", "Model");
  json_builder_set_member_name (b, "config");
  json_builder_begin_object (b);
  add_str (b, "name", "model_1");
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    {
      const XcNode *node = xc_model_node (model, i);
      const char *cls = node->keras_class;
      /* only the classes our reader maps back to the same op */
      if (g_str_equal (cls, "Convolution2D"))
        cls = "Conv2D";
      json_builder_begin_object (b);
      add_str (b, "name", node->name);
      add_str (b, "class_name", node->op == XC_OP_ACTIVATION && !g_str_equal (cls, "ReLU")
                                ? "Activation" : node->op == XC_OP_ACTIVATION ? "ReLU"
                                : xc_op_name (node->op));
      add_layer_config (b, model, node);
      json_builder_set_member_name (b, "inbound_nodes");
      json_builder_begin_array (b);
      if (node->n_inputs)
        {
          json_builder_begin_array (b);
          for (guint k = 0; k < node->n_inputs; k++)
            {
              json_builder_begin_array (b);
              json_builder_add_string_value (b, xc_model_node (model, node->inputs[k])->name);
              json_builder_add_int_value (b, 0);
              json_builder_add_int_value (b, 0);
              json_builder_begin_object (b);
              json_builder_end_object (b);
              json_builder_end_array (b);
            }
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "input_layers");
  json_builder_begin_array (b);
  json_builder_begin_array (b);
  json_builder_add_string_value (b, xc_model_node (model, 0)->name);
  json_builder_add_int_value (b, 0);
  json_builder_add_int_value (b, 0);
  json_builder_end_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "output_layers");
  json_builder_begin_array (b);
  json_builder_begin_array (b);
  json_builder_add_string_value (b, xc_model_node (model, model->output)->name);
  json_builder_add_int_value (b, 0);
  json_builder_add_int_value (b, 0);
  json_builder_end_array (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  add_str (b, "keras_version", "2.2.4");
  add_str (b, "backend", "tensorflow");
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/* {"class_name": "__keras_tensor__", "config": {"keras_history": [name, 0, 0]}} */
static JsonNode *
keras3_tensor (const char *name)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_str (b, "class_name", "__keras_tensor__");
  json_builder_set_member_name (b, "config");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "shape");
  json_builder_add_null_value (b);
  add_str (b, "dtype", "float32");
  json_builder_set_member_name (b, "keras_history");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, name);
  json_builder_add_int_value (b, 0);
  json_builder_add_int_value (b, 0);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/**
 * xc_keras3_model_to_json:
 *
 * Returns: (transfer full): the model as Keras 3's config.json: a
 *   Functional with module/registered_name, DTypePolicy dtypes, batch_shape
 *   and inbound_nodes as calls on __keras_tensor__ arguments
 */
char *
xc_keras3_model_to_json (const XcModel *model)
{
  g_autofree char *k2 = xc_keras_model_to_json (model);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  JsonObject *root, *cfg;
  JsonArray *layers;

  if (!json_parser_load_from_data (parser, k2, -1, NULL))
    return NULL;
  root = json_node_get_object (json_parser_get_root (parser));
  json_object_set_string_member (root, "module", "keras.src.models.functional");
  json_object_set_string_member (root, "class_name", "Functional");
  json_object_set_string_member (root, "registered_name", "Functional");
  json_object_remove_member (root, "keras_version");
  json_object_remove_member (root, "backend");
  cfg = json_object_get_object_member (root, "config");
  layers = json_object_get_array_member (cfg, "layers");
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonObject *l = json_array_get_object_element (layers, i);
      JsonObject *c = json_object_get_object_member (l, "config");
      JsonArray *in = json_object_get_array_member (l, "inbound_nodes");
      JsonArray *calls = json_array_new ();

      json_object_set_string_member (l, "module", "keras.layers");
      json_object_set_null_member (l, "registered_name");
      if (json_object_has_member (c, "batch_input_shape"))
        {
          JsonNode *shape = json_node_copy (json_object_get_member (c, "batch_input_shape"));
          json_object_remove_member (c, "batch_input_shape");
          json_object_set_member (c, "batch_shape", shape);
          json_object_set_boolean_member (c, "sparse", FALSE);
        }
      else
        {
          JsonObject *policy = json_object_new (), *pc = json_object_new ();
          json_object_set_string_member (pc, "name", "float32");
          json_object_set_string_member (policy, "module", "keras");
          json_object_set_string_member (policy, "class_name", "DTypePolicy");
          json_object_set_object_member (policy, "config", pc);
          json_object_set_null_member (policy, "registered_name");
          json_object_set_object_member (c, "dtype", policy);
        }
      if (json_array_get_length (in) > 0)
        {
          JsonArray *first = json_array_get_array_element (in, 0);
          JsonObject *call = json_object_new ();
          JsonArray *args = json_array_new ();
          guint n = json_array_get_length (first);
          if (n == 1)
            json_array_add_element (args, keras3_tensor (json_array_get_string_element (
                                      json_array_get_array_element (first, 0), 0)));
          else
            {
              JsonArray *list = json_array_new ();
              for (guint k = 0; k < n; k++)
                json_array_add_element (list, keras3_tensor (json_array_get_string_element (
                                          json_array_get_array_element (first, k), 0)));
              json_array_add_array_element (args, list);
            }
          json_object_set_array_member (call, "args", args);
          json_object_set_object_member (call, "kwargs", json_object_new ());
          json_array_add_object_element (calls, call);
        }
      json_object_set_array_member (l, "inbound_nodes", calls);
    }
  json_generator_set_root (gen, json_parser_get_root (parser));
  return json_generator_to_data (gen, NULL);
}
