/* SPDX-License-Identifier: MIT
 *
 * XsArchView: the loaded network drawn from its graph. Nodes are grouped in
 * columns by block (Keras' blockN_ prefixes, else the stretches between
 * residual Adds), stacked in graph order; Xception's entry, middle and exit
 * flows are labelled above their columns. Each node is coloured by kind and
 * carries a bar for its share of the multiply-accumulates; edges follow the
 * graph, residual links in orange. A residual block's shortcut branch (the
 * shorter of an Add's two paths inside the column, e.g. the 1x1 strided
 * convolution and its BatchNormalization) runs in its own lane beside the
 * main path, from the block's start to the Add, so no line crosses a name.
 * Each node shows its output shape. Hover for params, MACs and time; click
 * to open the node's feature maps; Ctrl+scroll or the zoom setter to zoom
 * (xs_arch_view_fit() fits the whole graph), the surrounding scrolled
 * window to pan.
 */
#define G_LOG_DOMAIN "xs-arch-view"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xs-arch-view.h"
#include "xs-util.h"

#define BOX_W   200.0     /* a main-lane node */
#define SIDE_W  175.0     /* a shortcut-lane node */
#define LANE_GAP 24.0
#define COL_GAP 44.0
#define BOX_H    22.0
#define GAP_Y     8.0
#define TOP      60.0
#define LEFT     20.0

typedef struct {
  double x, y;     /* top-left, unzoomed */
  double w;        /* box width */
  gboolean side;   /* in a shortcut lane */
} Pos;

struct _XsArchView {
  GtkWidget      parent_instance;

  /* borrowed; the window keeps the model and plan alive while shown */
  const XcModel *model;
  const XcNodeRun *runs;     /* per node, or NULL */

  /* owned */
  Pos           *pos;
  GPtrArray     *columns;    /* column titles */
  GArray        *col_x;      /* double per column: its left edge */
  guint          n;
  double         width, height, zoom;
  guint64        max_macs;
};

G_DEFINE_FINAL_TYPE (XsArchView, xs_arch_view, GTK_TYPE_WIDGET)

enum {
  NODE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static char *
group_of (const char *name, int segment)
{
  if (g_str_has_prefix (name, "block"))
    {
      const char *us = strchr (name, '_');
      return us ? g_strndup (name, us - name) : g_strdup (name);
    }
  return g_strdup_printf ("part %d", segment + 1);
}

/* The nodes of the chain ending at node `end` inside column c, following
 * single inputs: how many, and (when mark) flagged in side[] */
static int
chain_in_column (XsArchView *self, const int *col, guint end, int c, gboolean *side,
                 gboolean mark)
{
  int n = 0;
  guint i = end;

  while (col[i] == c && i > 0)
    {
      const XcNode *node = xc_model_node (self->model, i);
      if (mark)
        side[i] = TRUE;
      n++;
      if (node->n_inputs != 1)
        break;
      i = node->inputs[0];
    }
  return n;
}

static void
layout (XsArchView *self)
{
  int c = -1, segment = 0;
  double max_y = 0, x;
  gboolean blocks = FALSE;
  g_autofree char *current = NULL;
  g_autofree int *col = NULL, *row_main = NULL;
  g_autofree gboolean *side = NULL, *has_side = NULL;

  g_clear_pointer (&self->pos, g_free);
  g_ptr_array_set_size (self->columns, 0);
  g_array_set_size (self->col_x, 0);
  self->n = self->model ? xc_model_n_nodes (self->model) : 0;
  self->max_macs = 1;
  if (self->n == 0)
    return;
  self->pos = g_new0 (Pos, self->n);
  col = g_new0 (int, self->n);
  side = g_new0 (gboolean, self->n);
  for (guint i = 0; i < self->n; i++)
    blocks |= g_str_has_prefix (xc_model_node (self->model, i)->name, "block");
  /* columns: blocks, in graph order */
  {
    int rows_in_col = 0;
    for (guint i = 0; i < self->n; i++)
      {
        const XcNode *node = xc_model_node (self->model, i);
        g_autofree char *g = NULL;
        self->max_macs = MAX (self->max_macs, node->macs);
        /* in a model with blockN_ names, the automatically named layers (the
         * residual branches, the head) join the block in progress */
        if (i == 0)
          g = g_strdup ("input");
        else if (blocks && !g_str_has_prefix (node->name, "block") && current &&
                 !g_str_equal (current, "input"))
          g = g_strdup (current);
        else
          g = group_of (node->name, segment);
        if (node->op == XC_OP_ADD)
          segment++;
        if (current == NULL || (!g_str_equal (g, current) &&
                                !(g_str_has_prefix (g, "part") &&
                                  g_str_has_prefix (current, "part") && rows_in_col < 12)))
          {
            c++;
            rows_in_col = 0;
            g_free (current);
            current = g_strdup (g);
            g_ptr_array_add (self->columns, g_strdup (g));
          }
        col[i] = c;
        rows_in_col++;
      }
  }
  /* shortcut lanes: of each Add's two paths inside its column, the shorter */
  has_side = g_new0 (gboolean, c + 1);
  for (guint i = 0; i < self->n; i++)
    {
      const XcNode *node = xc_model_node (self->model, i);
      int la, lb;
      if (node->op != XC_OP_ADD || node->n_inputs != 2)
        continue;
      la = chain_in_column (self, col, node->inputs[0], col[i], side, FALSE);
      lb = chain_in_column (self, col, node->inputs[1], col[i], side, FALSE);
      if (MIN (la, lb) > 0 && MIN (la, lb) < MAX (la, lb))
        {
          chain_in_column (self, col, la < lb ? node->inputs[0] : node->inputs[1], col[i], side,
                           TRUE);
          has_side[col[i]] = TRUE;
        }
    }
  /* x: columns side by side, wider where there is a shortcut lane */
  x = LEFT;
  for (int k = 0; k <= c; k++)
    {
      g_array_append_val (self->col_x, x);
      x += BOX_W + (has_side[k] ? LANE_GAP + SIDE_W : 0) + COL_GAP;
    }
  self->width = x + LEFT - COL_GAP;
  /* y: the main lane stacked in graph order; a shortcut lane starts level
   * with the first main node after its input, and stacks down */
  row_main = g_new0 (int, c + 1);
  {
    g_autofree double *side_y = g_new0 (double, c + 1);
    for (guint i = 0; i < self->n; i++)
      {
        double cx = g_array_index (self->col_x, double, col[i]);
        if (side[i])
          {
            const XcNode *node = xc_model_node (self->model, i);
            guint src = node->n_inputs ? node->inputs[0] : 0;
            double start = col[src] == col[i] && !side[src] ? self->pos[src].y + BOX_H + GAP_Y
                                                            : TOP;
            if (!(node->n_inputs && side[src] && col[src] == col[i]))
              side_y[col[i]] = start;
            self->pos[i].x = cx + BOX_W + LANE_GAP;
            self->pos[i].y = side_y[col[i]];
            self->pos[i].w = SIDE_W;
            self->pos[i].side = TRUE;
            side_y[col[i]] += BOX_H + GAP_Y;
          }
        else
          {
            self->pos[i].x = cx;
            self->pos[i].y = TOP + row_main[col[i]]++ * (BOX_H + GAP_Y);
            self->pos[i].w = BOX_W;
          }
        max_y = MAX (max_y, self->pos[i].y);
      }
  }
  self->height = max_y + BOX_H + 20;
}

static void
kind_colour (XcOp op, double *r, double *g, double *b)
{
  switch (op)
    {
    case XC_OP_INPUT: *r = 0.3, *g = 0.3, *b = 0.3; break;
    case XC_OP_CONV2D: *r = 0.20, *g = 0.45, *b = 0.85; break;
    case XC_OP_SEPCONV2D: *r = 0.55, *g = 0.30, *b = 0.80; break;
    case XC_OP_DWCONV2D: *r = 0.65, *g = 0.45, *b = 0.85; break;
    case XC_OP_BATCHNORM: *r = 0.55, *g = 0.55, *b = 0.60; break;
    case XC_OP_ACTIVATION: *r = 0.25, *g = 0.65, *b = 0.35; break;
    case XC_OP_MAXPOOL: case XC_OP_AVGPOOL: *r = 0.15, *g = 0.60, *b = 0.65; break;
    case XC_OP_ADD: *r = 0.90, *g = 0.55, *b = 0.15; break;
    case XC_OP_DENSE: *r = 0.85, *g = 0.25, *b = 0.25; break;
    default: *r = 0.45, *g = 0.45, *b = 0.45; break;
    }
}

static void
xs_arch_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  XsArchView *self = XS_ARCH_VIEW (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  cairo_t *cr;
  GdkRGBA fg;

  if (self->n == 0)
    return;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_scale (cr, self->zoom * xs_text_scale (widget), self->zoom * xs_text_scale (widget));
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  /* flows over Xception's columns */
  for (guint c = 0; c < self->columns->len; c++)
    {
      const char *t = self->columns->pdata[c];
      const char *flow = NULL;
      int b = g_str_has_prefix (t, "block") ? atoi (t + 5) : 0;
      if (b >= 1 && b <= 4)
        flow = "entry flow";
      else if (b >= 5 && b <= 12)
        flow = "middle flow";
      else if (b >= 13)
        flow = "exit flow";
      cairo_set_font_size (cr, 13);
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, g_array_index (self->col_x, double, c), TOP - 12);
      cairo_show_text (cr, t);
      if (flow)
        {
          cairo_set_font_size (cr, 10);
          cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
          cairo_move_to (cr, g_array_index (self->col_x, double, c), TOP - 30);
          cairo_show_text (cr, flow);
        }
    }

  /* edges first */
  cairo_set_line_width (cr, 1.2);
  for (guint i = 0; i < self->n; i++)
    {
      const XcNode *node = xc_model_node (self->model, i);
      for (guint k = 0; k < node->n_inputs; k++)
        {
          Pos a = self->pos[node->inputs[k]], b = self->pos[i];
          gboolean residual = node->op == XC_OP_ADD && node->n_inputs > 1 && k > 0;
          if (residual)
            cairo_set_source_rgba (cr, 0.90, 0.55, 0.15, 0.9);
          else
            cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.35);
          if (fabs (a.x - b.x) < 1 && b.y > a.y)
            {
              if (b.y - a.y < BOX_H + GAP_Y + 1)
                {
                  /* next in the lane: straight down */
                  cairo_move_to (cr, a.x + a.w / 2, a.y + BOX_H);
                  cairo_line_to (cr, b.x + b.w / 2, b.y);
                }
              else
                {
                  /* a skip inside the lane: bow out to the left */
                  cairo_move_to (cr, a.x, a.y + BOX_H / 2);
                  cairo_curve_to (cr, a.x - 16, a.y + BOX_H / 2, b.x - 16, b.y + BOX_H / 2,
                                  b.x, b.y + BOX_H / 2);
                }
            }
          else if (b.x > a.x + a.w - 1 && b.x - (a.x + a.w) < LANE_GAP + 1)
            {
              /* main lane into the shortcut lane beside it */
              cairo_move_to (cr, a.x + a.w, a.y + BOX_H / 2);
              cairo_curve_to (cr, a.x + a.w + LANE_GAP, a.y + BOX_H / 2, b.x + b.w / 2, b.y - 8,
                              b.x + b.w / 2, b.y);
            }
          else if (b.x + b.w < a.x + 1)
            {
              if (a.x - (b.x + b.w) < LANE_GAP + 1)
                {
                  /* the shortcut lane back into the Add */
                  cairo_move_to (cr, a.x + a.w / 2, a.y + BOX_H);
                  cairo_curve_to (cr, a.x + a.w / 2, b.y + BOX_H / 2, a.x, b.y + BOX_H / 2,
                                  b.x + b.w, b.y + BOX_H / 2);
                }
              else
                {
                  /* back to an earlier column: under everything */
                  cairo_move_to (cr, a.x + a.w / 2, a.y + BOX_H);
                  cairo_curve_to (cr, a.x + a.w / 2, self->height, b.x + b.w / 2, self->height,
                                  b.x + b.w / 2, b.y + BOX_H);
                }
            }
          else
            {
              /* from an earlier column: out to the right at the source's
               * height (under its column's shortcut lane), then in the gap
               * before the target's column to the target's side; into a
               * shortcut lane over the top of the main lane */
              double lane = b.side ? b.x - LANE_GAP - BOX_W : b.x, gap = lane - COL_GAP / 2;
              double ya = a.y + BOX_H / 2, yb = b.y + BOX_H / 2, over = TOP - 5;
              cairo_move_to (cr, a.x + a.w, ya);
              cairo_line_to (cr, MAX (a.x + a.w, gap - 14), ya);
              if (b.side)
                {
                  cairo_curve_to (cr, gap, ya, gap, over, gap + 14, over);
                  cairo_line_to (cr, b.x + b.w / 2 - 12, over);
                  cairo_curve_to (cr, b.x + b.w / 2, over, b.x + b.w / 2, over, b.x + b.w / 2,
                                  b.y);
                }
              else
                cairo_curve_to (cr, gap + 10, ya, gap - 10, yb, b.x, yb);
            }
          cairo_stroke (cr);
        }
    }

  /* nodes */
  for (guint i = 0; i < self->n; i++)
    {
      const XcNode *node = xc_model_node (self->model, i);
      Pos p = self->pos[i];
      double r, g, b, share = node->macs ? log1p ((double) node->macs) /
                                           log1p ((double) self->max_macs) : 0;
      kind_colour (node->op, &r, &g, &b);
      cairo_set_source_rgb (cr, r, g, b);
      cairo_rectangle (cr, p.x, p.y, p.w, BOX_H);
      cairo_fill (cr);
      if (share > 0)
        {
          /* the cost bar: log-scaled share of the costliest layer's MACs */
          cairo_set_source_rgba (cr, 1, 1, 1, 0.35);
          cairo_rectangle (cr, p.x, p.y + BOX_H - 4, p.w * share, 4);
          cairo_fill (cr);
        }
      /* the output shape, right-aligned, then the name in what is left */
      {
        char shape[48];
        cairo_text_extents_t ext;
        if (node->flat || (node->h == 1 && node->w == 1))
          g_snprintf (shape, sizeof shape, "%d", node->c);
        else
          g_snprintf (shape, sizeof shape, "%d×%d×%d", node->h, node->w, node->c);
        cairo_set_font_size (cr, 9);
        cairo_text_extents (cr, shape, &ext);
        cairo_set_source_rgba (cr, 1, 1, 1, 0.8);
        cairo_move_to (cr, p.x + p.w - ext.x_advance - 4, p.y + 14);
        cairo_show_text (cr, shape);
        cairo_set_source_rgb (cr, 1, 1, 1);
        cairo_set_font_size (cr, 10);
        cairo_save (cr);
        cairo_rectangle (cr, p.x, p.y, p.w - ext.x_advance - 8, BOX_H);
        cairo_clip (cr);
        cairo_move_to (cr, p.x + 4, p.y + 14);
        cairo_show_text (cr, node->name);
        cairo_restore (cr);
      }
    }
  cairo_destroy (cr);
}

static void
xs_arch_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                      int *natural, int *minimum_baseline, int *natural_baseline)
{
  XsArchView *self = XS_ARCH_VIEW (widget);
  double size = orientation == GTK_ORIENTATION_HORIZONTAL ? self->width : self->height;

  *minimum = *natural = (int) ceil (MAX (size, 100) * self->zoom * xs_text_scale (widget));
}

int
xs_arch_view_node_at (XsArchView *self, double x, double y)
{
  x /= self->zoom * xs_text_scale (GTK_WIDGET (self));
  y /= self->zoom * xs_text_scale (GTK_WIDGET (self));
  for (guint i = 0; i < self->n; i++)
    if (x >= self->pos[i].x && x < self->pos[i].x + self->pos[i].w && y >= self->pos[i].y &&
        y < self->pos[i].y + BOX_H)
      return i;
  return -1;
}

static gboolean
xs_arch_view_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard,
                            GtkTooltip *tooltip)
{
  XsArchView *self = XS_ARCH_VIEW (widget);
  int i = xs_arch_view_node_at (self, x, y);
  const XcNode *node;
  g_autofree char *txt = NULL, *time = NULL;

  if (i < 0)
    return FALSE;
  node = xc_model_node (self->model, i);
  if (self->runs)
    time = g_strdup_printf ("\n%.3f ms", self->runs[i].time_us / 1000.0);
  {
    g_autofree char *shape = node->flat ? g_strdup_printf ("(%d)", node->c)
                             : g_strdup_printf ("(%d, %d, %d)", node->h, node->w, node->c);
    txt = g_strdup_printf ("<b>%s</b> (%s)\noutput %s\n%" G_GUINT64_FORMAT " params, %"
                           G_GUINT64_FORMAT " MACs%s", node->name, node->keras_class, shape,
                           node->n_weights, node->macs, time ? time : "");
  }
  gtk_tooltip_set_markup (tooltip, txt);
  return TRUE;
}

static void
on_pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, XsArchView *self)
{
  int i = xs_arch_view_node_at (self, x, y);

  if (i >= 0)
    g_signal_emit (self, signals[NODE_ACTIVATED], 0, (guint) i);
}

static gboolean
on_scroll_cb (GtkEventControllerScroll *ctrl, double dx, double dy, XsArchView *self)
{
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (ctrl));

  if (!(mods & GDK_CONTROL_MASK))
    return FALSE;
  xs_arch_view_set_zoom (self, self->zoom * (dy < 0 ? 1.15 : 1 / 1.15));
  return TRUE;
}

static void
xs_arch_view_finalize (GObject *object)
{
  XsArchView *self = XS_ARCH_VIEW (object);

  g_free (self->pos);
  g_ptr_array_unref (self->columns);
  g_array_unref (self->col_x);
  G_OBJECT_CLASS (xs_arch_view_parent_class)->finalize (object);
}

static void
xs_arch_view_class_init (XsArchViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = xs_arch_view_finalize;
  widget_class->snapshot = xs_arch_view_snapshot;
  widget_class->measure = xs_arch_view_measure;
  widget_class->query_tooltip = xs_arch_view_query_tooltip;

  /**
   * XsArchView::node-activated:
   * @node: the node clicked
   */
  signals[NODE_ACTIVATED] = g_signal_new ("node-activated", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                          1, G_TYPE_UINT);
  gtk_widget_class_set_css_name (widget_class, "xs-arch-view");
}

static void
xs_arch_view_init (XsArchView *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkEventController *scroll = gtk_event_controller_scroll_new (
      GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);

  self->zoom = 1.0;
  self->columns = g_ptr_array_new_with_free_func (g_free);
  self->col_x = g_array_new (FALSE, FALSE, sizeof (double));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
}

GtkWidget *
xs_arch_view_new (void)
{
  return g_object_new (XS_TYPE_ARCH_VIEW, NULL);
}

/**
 * xs_arch_view_set_model:
 * @model: (nullable): borrowed; must stay alive while shown
 * @runs: (nullable) (array): an analysis' per-node times; borrowed too
 */
void
xs_arch_view_set_model (XsArchView *self, const XcModel *model, const XcNodeRun *runs)
{
  self->model = model;
  self->runs = runs;
  layout (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
xs_arch_view_set_zoom (XsArchView *self, double zoom)
{
  self->zoom = CLAMP (zoom, 0.2, 4.0);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

/**
 * xs_arch_view_fit:
 * @width: the space to fit in, in pixels
 * @height: (its height; 0 to fit the width only)
 *
 * Zooms so that the whole graph fits, within the zoom's range.
 */
void
xs_arch_view_fit (XsArchView *self, int width, int height)
{
  double z;

  if (self->width <= 0 || width <= 0)
    return;
  z = width / self->width;
  if (height > 0 && self->height > 0)
    z = MIN (z, height / self->height);
  xs_arch_view_set_zoom (self, z);
}

double
xs_arch_view_get_zoom (XsArchView *self)
{
  return self->zoom;
}

guint
xs_arch_view_get_n_nodes (XsArchView *self)
{
  return self->n;
}
