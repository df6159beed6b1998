/* SPDX-License-Identifier: MIT
 *
 * The model summary as JSON (xc-summary.h): every layer's name, Keras
 * class, inputs, output shape, params and MACs with the standard-convolution
 * equivalents, and with a run plan its time and activation statistics; then
 * the totals.
 */
#define G_LOG_DOMAIN "xc-summary"

#include "present/xc-summary.h"

static void
add_int (JsonBuilder *b, const char *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
add_double (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, v);
}

/* Keras' output_shape: [null, H, W, C] or [null, C] */
static void
add_shape (JsonBuilder *b, const XcNode *node)
{
  json_builder_begin_array (b);
  json_builder_add_null_value (b);
  if (!node->flat)
    {
      json_builder_add_int_value (b, node->h);
      json_builder_add_int_value (b, node->w);
    }
  json_builder_add_int_value (b, node->c);
  json_builder_end_array (b);
}

/**
 * xc_model_summary_json:
 * @model: a finished model
 * @plan: (nullable): a plan that has run, for per-layer time and statistics
 *
 * Returns: (transfer full): the summary object
 */
JsonNode *
xc_model_summary_json (const XcModel *model, XcPlan *plan)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  guint64 p, t, m, sp, sm;
  guint n_sep = 0;

  xc_model_totals (model, &p, &t, &m, &sp, &sm);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model->name);
  json_builder_set_member_name (b, "preprocess");
  json_builder_add_string_value (b, xc_preprocess_name (model->preprocess));
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    {
      const XcNode *node = xc_model_node (model, i);
      n_sep += node->op == XC_OP_SEPCONV2D;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, node->name);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, node->keras_class);
      json_builder_set_member_name (b, "inputs");
      json_builder_begin_array (b);
      for (guint k = 0; k < node->n_inputs; k++)
        json_builder_add_string_value (b, xc_model_node (model, node->inputs[k])->name);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "output_shape");
      add_shape (b, node);
      add_int (b, "params", node->n_weights);
      add_int (b, "macs", node->macs);
      add_int (b, "standard_params", node->std_params);
      add_int (b, "standard_macs", node->std_macs);
      if (plan)
        {
          const XcNodeRun *run = xc_plan_node_run (plan, i);
          add_double (b, "time_ms", run->time_us / 1000.0);
          json_builder_set_member_name (b, "stats");
          json_builder_begin_object (b);
          add_double (b, "min", run->stats.min);
          add_double (b, "max", run->stats.max);
          add_double (b, "mean", run->stats.mean);
          add_double (b, "std", run->stats.std);
          add_double (b, "zero_fraction", run->stats.zero_fraction);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "totals");
  json_builder_begin_object (b);
  add_int (b, "params", p);
  add_int (b, "trainable_params", t);
  add_int (b, "macs", m);
  add_int (b, "standard_params", sp);
  add_int (b, "standard_macs", sm);
  add_int (b, "separable_layers", n_sep);
  if (plan)
    {
      add_double (b, "time_ms", xc_plan_total_us (plan) / 1000.0);
      add_int (b, "activation_bytes", xc_plan_arena_bytes (plan));
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
