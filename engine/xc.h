/* SPDX-License-Identifier: MIT
 *
 * The only header app/ and ui/ include: the whole engine API.
 */
#pragma once

#include "xc-enums.h"
#include "xc-error.h"
#include "xc-memory.h"
#include "xc-random.h"
#include "xc-tensor.h"
#include "xc-model.h"
#include "xc-plan.h"
#include "xc-xception.h"
#include "xc-explain.h"
#include "xc-dataset.h"
#include "xc-train.h"
#include "xc-costs.h"
#include "xc-compare.h"
#include "xc-localize.h"
#include "xc-spec.h"
#include "xc-timing.h"
#include "io/xc-download.h"
#include "io/xc-image.h"
#include "io/xc-keras.h"
#include "io/xc-npy.h"
#include "present/xc-render.h"
#include "present/xc-report.h"
#include "present/xc-summary.h"

G_BEGIN_DECLS

void        xc_runtime_init (char **argv);
void        xc_set_threads  (int    threads);
int         xc_get_threads  (void);
const char *xc_blas_core    (void);
const char *xc_gemm_name    (void);

G_END_DECLS
