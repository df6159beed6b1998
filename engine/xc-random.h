/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

float xc_seeded_uniform (guint64 seed,
                         guint64 tensor,
                         guint64 i);

G_END_DECLS
