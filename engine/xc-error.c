/* SPDX-License-Identifier: MIT
 *
 * The XC_ERROR quark.
 */
#include "xc-error.h"

G_DEFINE_QUARK (xc-error-quark, xc_error)
