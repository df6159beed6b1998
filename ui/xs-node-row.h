/* SPDX-License-Identifier: MIT */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
  XS_FIELD_NAME,
  XS_FIELD_TYPE,
  XS_FIELD_SHAPE,
  XS_FIELD_TIME,
  XS_FIELD_PARAMS,
  XS_FIELD_MACS,
  XS_FIELD_ZEROS,
  XS_FIELD_STD_PARAMS,
  XS_FIELD_STD_MACS,
  XS_FIELD_RATIO,
  XS_N_FIELDS
} XsField;

#define XS_TYPE_NODE_ROW (xs_node_row_get_type ())
G_DECLARE_FINAL_TYPE (XsNodeRow, xs_node_row, XS, NODE_ROW, GObject)

/* Plain data: the views read the fields directly */
struct _XsNodeRow {
  GObject  parent_instance;
  guint    index;
  char    *name;
  char    *type;
  char    *shape;
  double   time_ms;
  guint64  params, macs, std_params, std_macs;
  double   zeros;        /* fraction of zero activations, -1 if unknown */
};

XsNodeRow *xs_node_row_new        (guint index, const char *name, const char *type,
                                   const char *shape);
char      *xs_node_row_format     (XsNodeRow *row, XsField field);
int        xs_node_row_compare    (XsNodeRow *a, XsNodeRow *b, XsField field);
double     xs_node_row_ratio      (XsNodeRow *row);

G_END_DECLS
