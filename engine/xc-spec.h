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
gboolean xc_model_set_imagenet_labels (XcModel  *model,
                                       GError  **error);
gboolean xc_model_find_labels (XcModel  *model,
                               const char *path);

G_END_DECLS
