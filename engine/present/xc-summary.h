/* SPDX-License-Identifier: MIT
 *
 * The model summary as JSON: one writer for `xception-cli summary --json`
 * and the window's cost-table export.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "xc-model.h"
#include "xc-plan.h"

G_BEGIN_DECLS

JsonNode *xc_model_summary_json (const XcModel *model,
                                 XcPlan        *plan);

G_END_DECLS
