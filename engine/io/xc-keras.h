/* SPDX-License-Identifier: MIT
 *
 * Keras HDF5 files: full models (model_config JSON + model_weights) as
 * Keras 2.x writes them, and weights-only files (root layer_names) such as
 * the official xception_weights_tf_dim_ordering_tf_kernels.h5.
 */
#pragma once

#include "xc-model.h"

G_BEGIN_DECLS

/* What a weights-only Keras Xception file holds (xc_keras_probe_xception_weights) */
typedef struct {
  gboolean xception;       /* a weights-only file with the Keras Xception's layers */
  int      channels;       /* input channels */
  int      first_filters;  /* block1_conv1's filters: 32 at full width */
  gboolean include_top;    /* a "predictions" layer */
  int      classes;
} XcKerasWeightsInfo;

gboolean  xc_keras_probe_xception_weights (const char         *path,
                                           XcKerasWeightsInfo *info,
                                           GError            **error);
XcModel  *xc_keras3_load         (const char    *path,
                                  GError       **error);
XcModel  *xc_keras_load          (const char    *path,
                                  GError       **error);
XcModel  *xc_keras_model_from_json (const char  *json,
                                  const char    *name,
                                  GError       **error);
gboolean  xc_keras_load_weights  (XcModel       *model,
                                  const char    *path,
                                  GError       **error);
gboolean  xc_keras_save_weights  (const XcModel *model,
                                  const char    *path,
                                  GError       **error);
gboolean  xc_keras_save_model    (const XcModel *model,
                                  const char    *path,
                                  const char *const *attrs,
                                  GError       **error);
char     *xc_keras_model_to_json (const XcModel *model);
char     *xc_keras3_model_to_json (const XcModel *model);
gboolean  xc_keras3_save         (const XcModel      *model,
                                  const char         *path,
                                  const char *const  *attrs,
                                  GError            **error);
XcModel  *xc_keras_load_memory   (gconstpointer  data,
                                  gsize          size,
                                  const char    *name,
                                  GError       **error);

G_END_DECLS
