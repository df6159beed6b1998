/* SPDX-License-Identifier: MIT
 *
 * DICOM reading through DCMTK, behind a small C API (the only C++ in the
 * project is xc-dicom.cc). One frame is decoded into modality values
 * m = RescaleSlope * stored + RescaleIntercept (gray) or into RGB samples
 * (colour); the VOI window and everything after it are done in C by
 * xc-image.c, so that the whole pipeline is in one readable place.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define XC_DICOM_MAX_WINDOWS 8

typedef struct {
  int    rows, cols, samples, frames, frame;
  int    bits_allocated, bits_stored, high_bit, pixel_representation;
  char   photometric[32];       /* as decoded: JPEG YBR comes out RGB */
  char   transfer_syntax[96];
  char   modality[32];
  char   body_part[80];
  char   voi_lut_function[24];  /* LINEAR when absent */
  double slope, intercept;
  int    n_windows;             /* the file's own VOI windows */
  double window_center[XC_DICOM_MAX_WINDOWS];
  double window_width[XC_DICOM_MAX_WINDOWS];
  char   window_name[XC_DICOM_MAX_WINDOWS][64];
  /* identifying data: empty unless asked for (keep_patient_data) */
  char   patient_name[128];
  char   patient_id[96];
  char   study_date[32];
} XcDicomInfo;

gboolean xc_dicom_probe (const char  *path);
gboolean xc_dicom_read  (const char  *path,
                         int          frame,
                         gboolean     keep_patient_data,
                         XcDicomInfo *info,
                         float      **values,
                         GError     **error);

G_END_DECLS
