/* SPDX-License-Identifier: MIT
 *
 * Model specs as users type them: a Keras .h5/.hdf5 path, or
 * builtin:xception[:size=S,channels=C,classes=K,width=W,variant=standard,top=0,seed=N].
 */
#pragma once

#include "xc-model.h"

G_BEGIN_DECLS

/* Where the programs' GResources keep embedded models and sample images */
#define XC_RESOURCE_PREFIX "/org/xceptionstudio/XceptionStudio/"
#define XC_DEFAULT_SAMPLE "resource://" XC_RESOURCE_PREFIX "samples/fmnist-test-0000-ankle-boot.png"

XcModel    *xc_model_load_spec    (const char *spec,
                                   GError    **error);
const char *xc_model_default_spec (void);
/* Keras Applications' official Xception weights (keras/applications/xception.py) */
#define XC_IMAGENET_URL "https://storage.googleapis.com/tensorflow/keras-applications/" \
                        "xception/xception_weights_tf_dim_ordering_tf_kernels.h5"
#define XC_IMAGENET_MD5 "0a58e3b7378bc2990ea3b43d5981f1f6"
#define XC_IMAGENET_NOTOP_URL "https://storage.googleapis.com/tensorflow/keras-applications/" \
                              "xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
#define XC_IMAGENET_NOTOP_MD5 "b0042744bf5b25fce3cb969f33bebb97"

char    *xc_imagenet_weights_path (gboolean notop);
gboolean xc_model_set_imagenet_labels (XcModel  *model,
                                       GError  **error);
gboolean xc_model_find_labels (XcModel  *model,
                               const char *path);

G_END_DECLS
