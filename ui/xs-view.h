/* SPDX-License-Identifier: MIT
 *
 * XsView: what every page of the window is. It holds the session it
 * belongs to and the analysis it shows (the `analysis` property, which the
 * window binds to the session's), and tells its subclass when the model or
 * the analysis changes — a hidden page only once it is shown, unless its
 * class is eager; a page that releases what it computed when hidden (the
 * hidden vfunc) is told the analysis again when shown. The seven pages
 * (xs-<name>-view.c) derive from it.
 */
#pragma once

#include <gtk/gtk.h>

#include "xs-session.h"

G_BEGIN_DECLS

#define XS_TYPE_VIEW (xs_view_get_type ())
G_DECLARE_DERIVABLE_TYPE (XsView, xs_view, XS, VIEW, GtkBox)

struct _XsViewClass {
  GtkBoxClass parent_class;

  /* TRUE: told of every change at once; FALSE (the default): a hidden page
   * is told when it is next shown, so that it costs nothing meanwhile */
  gboolean eager;

  /* the session's model changed (NULL: none); the analysis is NULL then */
  void (*model_changed)    (XsView     *self,
                            XsModel    *model);
  /* a new analysis of the current model, or NULL */
  void (*analysis_changed) (XsView     *self,
                            XsAnalysis *analysis);
  /* (optional) the page is hidden: release what it computed from the analysis */
  void (*hidden)           (XsView     *self);
};

XsSession  *xs_view_get_session  (XsView     *self);
void        xs_view_set_session  (XsView     *self,
                                  XsSession  *session);
XsModel    *xs_view_get_model    (XsView     *self);
XsAnalysis *xs_view_get_analysis (XsView     *self);
void        xs_view_set_analysis (XsView     *self,
                                  XsAnalysis *analysis);
void        xs_views_shown       (XsView *const *pages,
                                  guint       n,
                                  GtkWidget  *shown);

G_END_DECLS
