/* SPDX-License-Identifier: MIT */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define XS_TYPE_APPLICATION (xs_application_get_type ())
G_DECLARE_FINAL_TYPE (XsApplication, xs_application, XS, APPLICATION, GtkApplication)

XsApplication *xs_application_new (void);

G_END_DECLS
