/* SPDX-License-Identifier: MIT
 *
 * Images in, model inputs out: decoding (gdk-pixbuf), channel conversion,
 * resizing and the preprocessing modes of Keras applications.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "xc-model.h"
#include "xc-image-hd.h"

G_BEGIN_DECLS

/* CT presets (centre, width in Hounsfield units) */
typedef struct {
  const char *name;
  double      center, width;
} XcWindowPreset;

extern const XcWindowPreset xc_ct_window_presets[4];

XcImage  *xc_image_load      (const char    *path,
                              GError       **error);
XcImage  *xc_image_load_with (const char    *path,
                              const XcImageOptions *options,
                              GError       **error);
gboolean  xc_image_set_window (XcImage      *image,
                              double         center,
                              double         width,
                              const char    *source,
                              GError       **error);
void      xc_image_reset_window (XcImage    *image);
char     *xc_image_describe  (const XcImage *image);
gboolean  xc_parse_window    (const char    *text,
                              double        *center,
                              double        *width,
                              GError       **error);
GPtrArray *xc_model_notices  (const XcModel *model);
GPtrArray *xc_image_notices  (const XcImage *image,
                              const XcModel *model);
void      xc_image_add_json  (const XcImage *image,
                              JsonBuilder   *b);
void      xc_image_resize    (const XcImage *src,
                              XcImage       *dst);
gboolean  xc_image_to_model_size (const XcImage *image,
                              const XcModel *model,
                              float         *dst,
                              GError       **error);
gboolean  xc_image_to_input  (const XcImage *image,
                              const XcModel *model,
                              float         *dst,
                              GError       **error);
void      xc_preprocess      (XcPreprocess   mode,
                              float         *x,
                              size_t         pixels,
                              int            c);

G_END_DECLS
