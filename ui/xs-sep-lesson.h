/* SPDX-License-Identifier: MIT */
#pragma once

#include <gtk/gtk.h>

#include "xc.h"

G_BEGIN_DECLS

#define XS_TYPE_SEP_LESSON (xs_sep_lesson_get_type ())
G_DECLARE_FINAL_TYPE (XsSepLesson, xs_sep_lesson, XS, SEP_LESSON, GtkWidget)

GtkWidget *xs_sep_lesson_new          (void);
void       xs_sep_lesson_set          (XsSepLesson  *self,
                                       const XcNode *node,
                                       const XcNode *in,
                                       const float  *x,
                                       const float  *dw,
                                       int           oy,
                                       int           ox,
                                       int           o);
int        xs_sep_lesson_get_n_stages (XsSepLesson  *self);
int        xs_sep_lesson_get_stage    (XsSepLesson  *self);
void       xs_sep_lesson_set_stage    (XsSepLesson  *self,
                                       int           stage);
int        xs_sep_lesson_stage_channel (XsSepLesson *self);
int        xs_sep_lesson_get_shown    (XsSepLesson  *self);
char      *xs_sep_lesson_describe     (XsSepLesson  *self,
                                       float         engine_y);

G_END_DECLS
