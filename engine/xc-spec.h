/* SPDX-License-Identifier: MIT
 *
 * Model specs as users type them: a Keras .h5/.hdf5 path, or
 * builtin:xception[:size=S,channels=C,classes=K,width=W,variant=standard,top=0,seed=N].
 */
#pragma once

#include "xc-model.h"

G_BEGIN_DECLS

XcModel *xc_model_load_spec (const char *spec,
                             GError    **error);
gboolean xc_model_find_labels (XcModel  *model,
                               const char *path);

G_END_DECLS
