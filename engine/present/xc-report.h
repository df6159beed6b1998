/* SPDX-License-Identifier: MIT
 *
 * A PDF report of one analysis (cairo's PDF surface): the image, the
 * predictions, the explanation overlay and its faithfulness, the model's
 * costs, and a second model side by side when one is given.
 */
#pragma once

#include "xc-compare.h"
#include "xc-explain.h"
#include "io/xc-image.h"

G_BEGIN_DECLS

typedef struct {
  const XcModel        *model;
  const float          *probs;
  const XcExplanation  *explanation;      /* nullable */
  const XcFaithfulness *faithfulness;     /* nullable */
  XcModelCost           cost;
} XcReportModel;

typedef struct {
  const XcImage *image;
  const char    *image_name;
  XcReportModel  a;
  XcReportModel  b;                       /* b.model NULL: no comparison */
} XcReport;

gboolean xc_report_write_pdf (const XcReport *report,
                              const char     *path,
                              GError        **error);

G_END_DECLS
