/* SPDX-License-Identifier: MIT */
#pragma once

#include <gtk/gtk.h>

#include "xs-inference.h"

G_BEGIN_DECLS

#define XS_TYPE_WINDOW (xs_window_get_type ())
G_DECLARE_FINAL_TYPE (XsWindow, xs_window, XS, WINDOW, GtkApplicationWindow)

typedef struct {
  char *view;      /* predictions, features, explain, costs */
  char *layer;
  char *method;
  int   class_index;   /* -1: top-1 */
  char *compare_model; /* the Compare view's second model */
  char *compare_folder; /* a folder to run both models over, once model A is loaded */
} XsWindowRequest;

XsWindow   *xs_window_new              (GtkApplication       *app);
void        xs_window_add_model        (XsWindow             *self,
                                        const char           *spec,
                                        gboolean              select);
void        xs_window_open_image       (XsWindow             *self,
                                        const char           *path);
void        xs_window_open_boxes       (XsWindow             *self,
                                        const char           *path);
void        xs_window_set_overlay      (XsWindow             *self,
                                        gboolean              over_input,
                                        gboolean              grid);
void        xs_window_set_image_options (XsWindow            *self,
                                        const XcImageOptions *options);
void        xs_window_apply_request    (XsWindow             *self,
                                        const XsWindowRequest *request);
void        xs_window_set_timings_path (XsWindow             *self,
                                        const char           *path);
void        xs_window_visit_all_before_screenshot (XsWindow   *self);
void        xs_window_screenshot_when_done (XsWindow         *self,
                                        const char           *path);
gboolean    xs_window_is_busy          (XsWindow             *self);
XsAnalysis *xs_window_get_analysis     (XsWindow             *self);
const XcExplanation *xs_window_get_explanation (XsWindow     *self);
const char *xs_window_get_last_error   (XsWindow             *self);
gboolean    xs_window_export           (XsWindow             *self,
                                        const char           *kind,
                                        const char           *path,
                                        GError              **error);
void        xs_window_compare_folder   (XsWindow             *self,
                                        const char           *folder);
const XsFolderResult *xs_window_get_folder_result (XsWindow  *self);
guint       xs_window_get_n_arch_nodes (XsWindow           *self);
const XsCompareResult *xs_window_get_compare (XsWindow       *self);
GtkWidget  *xs_window_get_page         (XsWindow             *self,
                                        const char           *name);
gboolean    xs_window_save_screenshot  (XsWindow             *self,
                                        const char           *path,
                                        GError              **error);

void        xs_window_set_zoom         (XsWindow             *self,
                                        int                   percent);

G_END_DECLS
