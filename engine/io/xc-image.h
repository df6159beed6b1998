/* SPDX-License-Identifier: MIT
 *
 * Images in, model inputs out: decoding (gdk-pixbuf), channel conversion,
 * resizing and the preprocessing modes of Keras applications.
 */
#pragma once

#include "xc-model.h"

G_BEGIN_DECLS

#define XC_IMAGE_MAX_PIXELS 100000000  /* 100 megapixels */

typedef struct {
  float *data;      /* (H, W, C) in [0, 255]; owned */
  int    h, w, c;   /* c: 1 (gray) or 3 (RGB) */
} XcImage;

XcImage  *xc_image_load      (const char    *path,
                              GError       **error);
XcImage  *xc_image_new       (int            h,
                              int            w,
                              int            c);
void      xc_image_free      (XcImage       *image);
void      xc_image_resize    (const XcImage *src,
                              XcImage       *dst);
gboolean  xc_image_to_input  (const XcImage *image,
                              const XcModel *model,
                              float         *dst,
                              GError       **error);
void      xc_preprocess      (XcPreprocess   mode,
                              float         *x,
                              size_t         pixels,
                              int            c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcImage, xc_image_free)

G_END_DECLS
