/* SPDX-License-Identifier: MIT
 *
 * XsWindow's fields, shared by its three files: the frame (xs-window.c),
 * its actions (xs-window-actions.c) and its exports (xs-window-export.c).
 */
#pragma once

#include "xs-architecture-view.h"
#include "xs-compare-view.h"
#include "xs-costs-view.h"
#include "xs-explain-view.h"
#include "xs-features-view.h"
#include "xs-image-panel.h"
#include "xs-predictions-view.h"
#include "xs-separable-view.h"
#include "xs-session.h"
#include "xs-window.h"

G_BEGIN_DECLS

struct _XsWindow {
  GtkApplicationWindow  parent_instance;

  /* template widgets */
  GtkDropDown          *model_dropdown;
  GtkProgressBar       *progress_bar;
  GtkLabel             *status_label;
  GtkButton            *cancel_button;
  GtkRevealer          *banner_revealer;
  GtkLabel             *banner_label;
  XsImagePanel         *image_panel;
  GtkLabel             *model_info_label;
  GtkLabel             *top_label;
  GtkStack             *stack;
  GMenu                *recent_submenu;
  XsPredictionsView    *predictions_page;
  XsFeaturesView       *features_page;
  XsExplainView        *explain_page;
  XsCostsView          *costs_page;
  XsArchitectureView   *architecture_page;
  XsSeparableView      *separable_page;
  XsCompareView        *compare_page;

  /* owned */
  XsSession            *session;
  char                 *image_path;
  char                 *loading_spec;   /* the model being loaded */
  char                 *loaded_spec;    /* the model running */
  gboolean              banner_sticky;  /* a model's error: stays until dismissed */
  int                   zoom;           /* text scale in percent (0: 100) */
  GtkCssProvider       *zoom_css;
  XcImageOptions        first_image_options;  /* --window, --frame: for the first image only */
  char                 *last_error;
  GCancellable         *load_cancel;
  GCancellable         *analyze_cancel;
  GCancellable         *download_cancel;
  GPtrArray            *recent;
  char                 *screenshot_path;
  XsWindowRequest       pending;        /* from the command line, applied once possible */
  gboolean              updating;

  /* --visit-all: pages still to show before the screenshot, then the one to end on */
  int                   tour;           /* -1: no tour; else the next page's index */
  int                   screenshot_tries;
  char                 *tour_end;

  /* --timings: monotonic microseconds */
  char                 *timings_path;
  gint64                t_window;       /* the window was created */
  gint64                t_image;        /* an image was handed to it, or later its model came */
  gint64                t_predictions;  /* predictions on screen */
  gint64                t_explanation;  /* the explanation overlay on screen */
  gint64                t_idle;         /* the last time no engine work was left */
  gboolean              paint_pending[2]; /* t_predictions, t_explanation: set by the next paint */
  gulong                after_paint_id; /* on the frame clock while one is pending */
  gint64                t_busy;         /* the status's work began */
  char                 *status_what;    /* what runs, NULL when idle */
  guint                 status_source;  /* the status's seconds, twice a second */
  gint64                rss_done;       /* peak RSS once all work was done, before the screenshot */
};

void _xs_window_actions_init (GtkWidgetClass *widget_class);
void _xs_window_show_error   (XsWindow       *self,
                              const char     *message);
void _xs_window_cancel_all   (XsWindow       *self);
void _xs_window_maybe_screenshot (XsWindow *self);
void _xs_window_restart_timings (XsWindow *self);
void _xs_window_mark_painted (XsWindow *self,
                              gint64   *when);
gboolean _xs_window_write_timings (XsWindow   *self,
                                   GError    **error);

/* xs-window-state.c */
void _xs_window_save_state    (XsWindow   *self);
void _xs_window_restore_state (XsWindow   *self);
void _xs_window_add_recent    (XsWindow   *self,
                               const char *path);

G_END_DECLS
