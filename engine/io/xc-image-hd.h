/* SPDX-License-Identifier: MIT
 *
 * The image type, and the readers that keep high-depth images at full
 * depth (xc-image-hd.c): DICOM (through xc-dicom.cc), 16-bit PNG, 16-bit
 * TIFF. xc-image.c decodes everything else and maps values to intensities.
 */
#pragma once

#include <glib.h>

#include "xc-dicom.h"

G_BEGIN_DECLS

#define XC_IMAGE_MAX_PIXELS 100000000  /* 100 megapixels */

/* Where a high-depth image came from, and the window that maps its values
 * to intensities. 8-bit images read by gdk-pixbuf have none. */
typedef struct {
  char        format[32];      /* "DICOM", "PNG 16-bit", "TIFF 16-bit" */
  int         bits;            /* bits stored per sample */
  gboolean    inverted;        /* MONOCHROME1 / min-is-white: v -> 1 - v */
  gboolean    is_dicom;
  XcDicomInfo dicom;           /* when is_dicom */
  /* gray images: the window in use, in the values' units */
  gboolean    windowed;        /* FALSE: v = x / full scale, or min-max */
  double      center, width;
  char        window_source[80];  /* "file: WINDOW1", "min-max", "--window", ... */
  double      full_scale;      /* v = (x - lo) / full_scale without a window */
  double      lo;
  double      min, max;        /* of the values over the frame */
} XcImageSource;

typedef struct {
  float         *data;      /* (H, W, C) in [0, 255]; owned */
  int            h, w, c;   /* c: 1 (gray) or 3 (RGB) */
  float         *values;    /* (H, W): gray high-depth values (modality values for
                               DICOM) that data is windowed from; owned, may be NULL */
  XcImageSource *source;    /* owned, NULL for 8-bit images */
} XcImage;

/* How to read: which frame, which window, whether to keep patient data */
typedef struct {
  int      frame;
  gboolean has_window;
  double   center, width;
  gboolean keep_patient_data;
} XcImageOptions;

XcImage  *xc_image_new              (int                   h,
                                     int                   w,
                                     int                   c);
void      xc_image_free             (XcImage              *image);
XcImage  *xc_image_copy             (const XcImage        *src);
int       xc_image_high_depth_kind  (const char           *path);
XcImage  *xc_image_load_dicom       (const char           *path,
                                     const XcImageOptions *options,
                                     GError              **error);
XcImage  *xc_image_load_png16       (const char           *path,
                                     GError              **error);
XcImage  *xc_image_load_tiff16      (const char           *path,
                                     GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcImage, xc_image_free)

G_END_DECLS
