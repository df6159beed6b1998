/* SPDX-License-Identifier: MIT
 *
 * XsNodeRow: one layer in the feature-map and cost tables. The "name"
 * property feeds the search filter; the fields are formatted and compared
 * by column.
 */
#define G_LOG_DOMAIN "xs-node-row"

#include <string.h>

#include "xc.h"
#include "xs-node-row.h"

G_DEFINE_FINAL_TYPE (XsNodeRow, xs_node_row, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_SEARCH_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
xs_node_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  XsNodeRow *self = XS_NODE_ROW (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_SEARCH_TEXT:
      g_value_take_string (value, g_strdup_printf ("%s %s", self->name, self->type));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
xs_node_row_finalize (GObject *object)
{
  XsNodeRow *self = XS_NODE_ROW (object);

  g_free (self->name);
  g_free (self->type);
  g_free (self->shape);
  G_OBJECT_CLASS (xs_node_row_parent_class)->finalize (object);
}

static void
xs_node_row_class_init (XsNodeRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = xs_node_row_get_property;
  object_class->finalize = xs_node_row_finalize;
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SEARCH_TEXT] = g_param_spec_string ("search-text", NULL, NULL, NULL,
                                                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
xs_node_row_init (XsNodeRow *self)
{
  self->zeros = -1;
}

XsNodeRow *
xs_node_row_new (guint index, const char *name, const char *type, const char *shape)
{
  XsNodeRow *row = g_object_new (XS_TYPE_NODE_ROW, NULL);

  row->index = index;
  row->name = g_strdup (name);
  row->type = g_strdup (type);
  row->shape = g_strdup (shape);
  return row;
}

double
xs_node_row_ratio (XsNodeRow *row)
{
  return row->macs > 0 ? (double) row->std_macs / row->macs : 0.0;
}

char *
xs_node_row_format (XsNodeRow *row, XsField field)
{
  switch (field)
    {
    case XS_FIELD_NAME:
      return g_strdup (row->name);
    case XS_FIELD_TYPE:
      return g_strdup (row->type);
    case XS_FIELD_SHAPE:
      return g_strdup (row->shape);
    case XS_FIELD_TIME:
      return g_strdup_printf ("%.2f", row->time_ms);
    case XS_FIELD_PARAMS:
      return xc_format_count (row->params);
    case XS_FIELD_MACS:
      return xc_format_count (row->macs);
    case XS_FIELD_ZEROS:
      return row->zeros < 0 ? g_strdup ("") : g_strdup_printf ("%.1f%%", 100 * row->zeros);
    case XS_FIELD_STD_PARAMS:
      return xc_format_count (row->std_params);
    case XS_FIELD_STD_MACS:
      return xc_format_count (row->std_macs);
    case XS_FIELD_RATIO:
      return row->macs > 0 && row->std_macs != row->macs
             ? g_strdup_printf ("%.2f×", xs_node_row_ratio (row)) : g_strdup ("");
    default:
      g_return_val_if_reached (NULL);
    }
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

int
xs_node_row_compare (XsNodeRow *a, XsNodeRow *b, XsField field)
{
  switch (field)
    {
    case XS_FIELD_NAME:
      return g_strcmp0 (a->name, b->name);
    case XS_FIELD_TYPE:
      return g_strcmp0 (a->type, b->type);
    case XS_FIELD_SHAPE:
      return CMP (a->index, b->index);
    case XS_FIELD_TIME:
      return CMP (a->time_ms, b->time_ms);
    case XS_FIELD_PARAMS:
      return CMP (a->params, b->params);
    case XS_FIELD_MACS:
      return CMP (a->macs, b->macs);
    case XS_FIELD_ZEROS:
      return CMP (a->zeros, b->zeros);
    case XS_FIELD_STD_PARAMS:
      return CMP (a->std_params, b->std_params);
    case XS_FIELD_STD_MACS:
      return CMP (a->std_macs, b->std_macs);
    case XS_FIELD_RATIO:
      return CMP (xs_node_row_ratio (a), xs_node_row_ratio (b));
    default:
      return 0;
    }
}
