/* SPDX-License-Identifier: MIT
 *
 * XsSession: what the window and its views share. The engine door
 * (XsInference), the list of models, the current model and analysis, the
 * explanation target that comparisons reuse, and the busy count and errors
 * that the window's header and banner show. Views read and listen; only the
 * window sets the model and analysis.
 */
#pragma once

#include <gtk/gtk.h>

#include "xs-inference.h"

G_BEGIN_DECLS

#define XS_TYPE_MODEL    (xs_model_get_type ())
#define XS_TYPE_ANALYSIS (xs_analysis_get_type ())
GType xs_model_get_type    (void) G_GNUC_CONST;
GType xs_analysis_get_type (void) G_GNUC_CONST;

#define XS_TYPE_SESSION (xs_session_get_type ())
G_DECLARE_FINAL_TYPE (XsSession, xs_session, XS, SESSION, GObject)

XsSession     *xs_session_new             (void);
XsInference   *xs_session_get_inference   (XsSession    *self);
XsModel       *xs_session_get_model       (XsSession    *self);
void           xs_session_set_model       (XsSession    *self,
                                           XsModel      *model);
XsAnalysis    *xs_session_get_analysis    (XsSession    *self);
void           xs_session_set_analysis    (XsSession    *self,
                                           XsAnalysis   *analysis);
GtkStringList *xs_session_get_model_names (XsSession    *self);
const char    *xs_session_get_spec        (XsSession    *self,
                                           guint         index);
guint          xs_session_add_spec        (XsSession    *self,
                                           const char   *spec);
guint          xs_session_n_specs         (XsSession    *self);
void           xs_session_remove_spec     (XsSession    *self,
                                           guint         index);
guint          xs_session_find_spec       (XsSession    *self,
                                           const char   *spec);
void           xs_session_set_target      (XsSession    *self,
                                           XcMethod      method,
                                           int           target_class);
XcMethod       xs_session_get_method      (XsSession    *self);
int            xs_session_get_target_class (XsSession   *self);
void           xs_session_begin           (XsSession    *self,
                                           const char   *what);
void           xs_session_end             (XsSession    *self);
void           xs_session_progress        (XsSession    *self,
                                           const char   *what,
                                           double        fraction);
guint          xs_session_get_busy        (XsSession    *self);
void           xs_session_error           (XsSession    *self,
                                           const char   *message);
gboolean       xs_session_failed          (XsSession    *self,
                                           gpointer      result,
                                           const GError *error);
void           xs_session_restart         (GCancellable **cancellable);

G_END_DECLS
