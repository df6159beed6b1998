/* SPDX-License-Identifier: MIT
 *
 * XcModel: a graph of named nodes (Keras layer names) in topological order,
 * with shapes inferred and checked when the graph is finished, and one
 * immutable slab that owns every weight. Nodes keep Keras' weight layouts
 * (Conv2D kernel (KH, KW, C, OC), depthwise (KH, KW, C, DM), Dense (C, OC)),
 * so import and export are plain copies.
 */
#pragma once

#include <glib.h>

#include "xc-node.h"
#include "xc-tensor.h"

G_BEGIN_DECLS


typedef struct {
  char        *name;        /* what the user called it: path or spec */
  GPtrArray   *nodes;       /* XcNode*, topological */
  GHashTable  *by_name;     /* char* -> index+1 */
  guint        output;      /* the output node */
  float       *slab;        /* all weights; owned */
  size_t       slab_size;   /* floats */
  XcPreprocess preprocess;
  GPtrArray   *labels;      /* char*, or NULL */
  gboolean     finished;
  gboolean     random_weights;  /* seeded (builtin: without --weights), never loaded or trained */
  gboolean     trained;     /* a training plan was made: weights stay in Keras' layout */
} XcModel;

XcModel     *xc_model_new             (const char  *name);
void         xc_model_free            (XcModel     *model);
XcNode      *xc_model_add_node        (XcModel     *model,
                                       XcOp         op,
                                       const char  *name,
                                       const char  *keras_class,
                                       const guint *inputs,
                                       guint        n_inputs,
                                       GError     **error);
gboolean     xc_model_finish          (XcModel     *model,
                                       GError     **error);
XcNode      *xc_model_node            (const XcModel *model,
                                       guint        index);
guint        xc_model_n_nodes         (const XcModel *model);
gboolean     xc_model_lookup          (const XcModel *model,
                                       const char  *name,
                                       guint       *index,
                                       GError     **error);
gboolean     xc_model_rename_node     (XcModel     *model,
                                       guint        index,
                                       const char  *name,
                                       GError     **error);
const XcNode *xc_model_input          (const XcModel *model);
const char  *xc_model_label           (const XcModel *model,
                                       guint        index);
const char  *xc_model_class_name     (const XcModel *model,
                                      int            c,
                                      char          *buf,
                                      gsize          len);
gboolean     xc_model_is_classifier   (const XcModel *model);
void         xc_model_pack_panels     (XcModel     *model);
gboolean     xc_model_unpack_panels   (XcModel     *model,
                                       GError     **error);
float        xc_param_get             (const XcParam *param,
                                       size_t       i);
void         xc_param_copy            (const XcParam *param,
                                       float       *dst);
gboolean     xc_model_check_weights   (const XcModel *model,
                                       GError       **error);
gboolean     xc_model_set_labels_data (XcModel     *model,
                                       const char  *text,
                                       gsize        len,
                                       gboolean     json,
                                       const char  *what,
                                       GError     **error);
gboolean     xc_model_set_labels_file (XcModel     *model,
                                       const char  *path,
                                       GError     **error);
gboolean     xc_model_default_cam_layer (const XcModel *model,
                                         guint       *layer,
                                         GError     **error);
void         xc_model_totals          (const XcModel *model,
                                       guint64     *params,
                                       guint64     *trainable,
                                       guint64     *macs,
                                       guint64     *std_params,
                                       guint64     *std_macs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcModel, xc_model_free)

G_END_DECLS
