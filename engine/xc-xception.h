/* SPDX-License-Identifier: MIT
 *
 * The built-in Xception: Keras Applications' topology and layer names, with
 * options, and seeded weights that keep activations O(1).
 */
#pragma once

#include "xc-model.h"

G_BEGIN_DECLS

typedef struct {
  int      size;          /* input height and width, >= 71 */
  int      channels;      /* 1 or 3 */
  int      classes;
  gboolean include_top;   /* avg_pool + predictions (softmax) */
  gboolean pool;          /* without the top: end with avg_pool, a feature vector */
  double   width;         /* multiplies every filter count */
  gboolean standard;      /* every SeparableConv2D becomes a Conv2D */
} XcXceptionOptions;

#define XC_XCEPTION_DEFAULT_SEED 20170708u

void      xc_xception_options_init (XcXceptionOptions       *opts);
XcModel  *xc_xception_new          (const XcXceptionOptions *opts,
                                    const char              *name,
                                    GError                 **error);
void      xc_model_init_seeded     (XcModel                 *model,
                                    guint64                  seed);
void      xc_model_init_training   (XcModel                 *model,
                                    guint64                  seed);
XcModel  *xc_mini_xception_new     (int                      size,
                                    int                      channels,
                                    int                      classes,
                                    GError                 **error);
XcModel  *xc_model_with_new_head   (const XcModel           *base,
                                    int                      classes,
                                    guint64                  seed,
                                    GError                 **error);

G_END_DECLS
