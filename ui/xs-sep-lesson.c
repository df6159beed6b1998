/* SPDX-License-Identifier: MIT
 *
 * XsSepLesson: one output value of a SeparableConv2D worked out as a
 * picture, CNN Explainer style. One row per depthwise channel c: the k x k
 * window of input channel c around the position, times that channel's own
 * k x k filter, summed into d[c]; then every d[c] times the pointwise
 * weight w[c, o], summed into the output y[o]. Every cell is coloured by
 * its value (blue negative, red positive, on one scale per column) and
 * carries the number when there is room.
 *
 * The lesson runs in stages: each shown channel's depthwise step, the rest
 * of the channels at once, the pointwise sum, the cost. The stage's cells
 * are framed; a click on a row goes to that channel's stage. The view
 * around it plays the stages on a timer and writes the words.
 */
#define G_LOG_DOMAIN "xs-sep-lesson"

#include <math.h>

#include "xs-sep-lesson.h"
#include "xs-util.h"

#define MAX_SHOWN 6     /* depthwise channels drawn as rows */
/* sizes at 100%; the projector zoom scales them (xs_text_scale) */
#define LABEL_W (44 * k)
#define GAP (22 * k)
#define HEADER_H (22 * k)

struct _XsSepLesson {
  GtkWidget     parent_instance;

  /* owned copies of what one position needs */
  int           k_h, k_w, mid, shown, oy, ox, o, c_in, c_out;
  float        *window;   /* (shown, kh, kw) input values, NAN for padding */
  float        *filter;   /* (shown, kh, kw) */
  float        *d;        /* (mid) depthwise outputs at the position */
  float        *w;        /* (mid) pointwise weights into output o */
  float         bias, y;
  gboolean      valid;
  int           stage;

  /* geometry of the last paint */
  double        cs, top, row_h;
};

G_DEFINE_FINAL_TYPE (XsSepLesson, xs_sep_lesson, GTK_TYPE_WIDGET)

enum {
  STAGE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* blue (negative) - white - red (positive), t in [-1, 1] */
static void
diverging (cairo_t *cr, double t)
{
  t = CLAMP (t, -1.0, 1.0);
  if (t >= 0)
    cairo_set_source_rgb (cr, 1.0, 1.0 - 0.75 * t, 1.0 - 0.8 * t);
  else
    cairo_set_source_rgb (cr, 1.0 + 0.8 * t, 1.0 + 0.55 * t, 1.0);
}

static double
max_abs (const float *v, int n)
{
  double m = 1e-12;

  for (int i = 0; i < n; i++)
    if (!isnan (v[i]))
      m = MAX (m, fabs (v[i]));
  return m;
}

/* one cell at (x, y), side cs, coloured by v / scale, the value written
 * when the cell is large enough; NAN is padding */
static void
cell (cairo_t *cr, double x, double y, double cs, float v, double scale, double k)
{
  char txt[16];
  cairo_text_extents_t ext;

  if (isnan (v))
    cairo_set_source_rgb (cr, 0.82, 0.82, 0.82);
  else
    diverging (cr, v / scale);
  cairo_rectangle (cr, x, y, cs - 1, cs - 1);
  cairo_fill (cr);
  if (cs < 26 * k)
    return;
  if (isnan (v))
    g_snprintf (txt, sizeof txt, "pad");
  else
    g_snprintf (txt, sizeof txt, fabs (v) >= 10 ? "%.0f" : fabs (v) >= 1 ? "%.1f" : "%.2f", v);
  cairo_set_font_size (cr, (cs >= 34 * k ? 10 : 8.5) * k);
  cairo_text_extents (cr, txt, &ext);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_move_to (cr, x + (cs - 1 - ext.x_advance) / 2, y + cs / 2 + 3 * k);
  cairo_show_text (cr, txt);
}

static void
text (cairo_t *cr, double x, double y, const char *s, double size)
{
  cairo_set_font_size (cr, size);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, s);
}

static void
frame (cairo_t *cr, double x, double y, double w, double h)
{
  cairo_set_source_rgb (cr, 1.0, 0.45, 0.1);
  cairo_set_line_width (cr, 2.5);
  cairo_rectangle (cr, x - 3, y - 3, w + 5, h + 5);
  cairo_stroke (cr);
}

static int
depthwise_stages (XsSepLesson *self)
{
  return self->shown + (self->mid > self->shown ? 1 : 0);
}

static void
xs_sep_lesson_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  XsSepLesson *self = XS_SEP_LESSON (widget);
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);
  double k = xs_text_scale (widget);
  int kk;
  double cs, xw, xf, xd, xp, xo, sx, sf, sd, sp, row_h, y0;
  gboolean pointwise = self->stage == depthwise_stages (self);
  GdkRGBA fg;
  cairo_t *cr;

  if (!self->valid || width <= 0)
    return;
  kk = self->k_h * self->k_w;
  /* columns: label, window (kw cells), filter (kw), d, w, output (2 cells) */
  cs = (width - LABEL_W - 5 * GAP - 10) / (double) (2 * self->k_w + 4);
  cs = floor (CLAMP (cs, 12 * k, 36 * k));
  row_h = self->k_h * cs + 8 * k;
  xw = LABEL_W;
  xf = xw + self->k_w * cs + GAP;
  xd = xf + self->k_w * cs + GAP;
  xp = xd + cs + GAP;
  xo = xp + cs + 1.6 * GAP;
  self->cs = cs, self->top = HEADER_H, self->row_h = row_h;
  sx = max_abs (self->window, self->shown * kk);
  sf = max_abs (self->filter, self->shown * kk);
  sd = max_abs (self->d, self->mid);
  sp = max_abs (self->w, self->mid);

  /* GTK 4.8: gtk_widget_get_color() arrives in 4.10 */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gdk_cairo_set_source_rgba (cr, &fg);
  text (cr, xw, 14 * k, "input window", 11 * k);
  text (cr, xf, 14 * k, "its own filter", 11 * k);
  text (cr, xd - 4 * k, 14 * k, "d[c]", 11 * k);
  text (cr, xp - 8 * k, 14 * k, "w[c, o]", 11 * k);
  text (cr, xo, 14 * k, "output", 11 * k);

  for (int r = 0; r < self->shown; r++)
    {
      double y = HEADER_H + r * row_h;
      char lbl[16];

      gdk_cairo_set_source_rgba (cr, &fg);
      g_snprintf (lbl, sizeof lbl, "c %d", r);
      text (cr, 4, y + row_h / 2, lbl, 11 * k);
      for (int ky = 0; ky < self->k_h; ky++)
        for (int kx = 0; kx < self->k_w; kx++)
          {
            cell (cr, xw + kx * cs, y + ky * cs, cs,
                  self->window[(r * self->k_h + ky) * self->k_w + kx], sx, k);
            cell (cr, xf + kx * cs, y + ky * cs, cs,
                  self->filter[(r * self->k_h + ky) * self->k_w + kx], sf, k);
          }
      gdk_cairo_set_source_rgba (cr, &fg);
      text (cr, xf - GAP + 6 * k, y + self->k_h * cs / 2 + 4 * k, "×", 14 * k);
      text (cr, xd - GAP + 5 * k, y + self->k_h * cs / 2 + 4 * k, "→", 14 * k);
      text (cr, xp - GAP + 6 * k, y + self->k_h * cs / 2 + 4 * k, "×", 14 * k);
      cell (cr, xd, y + (self->k_h - 1) * cs / 2, cs, self->d[r], sd, k);
      cell (cr, xp, y + (self->k_h - 1) * cs / 2, cs, self->w[r], sp, k);
      if (self->stage == r)
        frame (cr, xw, y, xd + cs - xw, self->k_h * cs);
    }
  y0 = HEADER_H + self->shown * row_h;
  if (self->mid > self->shown)
    {
      char more[96];
      gdk_cairo_set_source_rgba (cr, &fg);
      g_snprintf (more, sizeof more, "… and channels %d to %d the same way", self->shown,
                  self->mid - 1);
      text (cr, xw, y0 + 14 * k, more, 11 * k);
      if (self->stage == self->shown)
        frame (cr, xw, y0 + 2 * k, xd + cs - xw, 16 * k);
    }
  /* the pointwise sum into the output, beside the rows */
  {
    double oy = HEADER_H + (self->shown * row_h - 2 * cs) / 2;
    gdk_cairo_set_source_rgba (cr, &fg);
    text (cr, xo - 1.6 * GAP + 4 * k, oy + cs + 5 * k, "Σ→", 14 * k);
    cell (cr, xo, oy, 2 * cs, self->y, MAX (fabs (self->y), 1e-12), k);
    if (pointwise)
      {
        frame (cr, xd, HEADER_H, xp + cs - xd, self->shown * row_h - 8 * k);
        frame (cr, xo, oy, 2 * cs, 2 * cs);
      }
  }
  cairo_destroy (cr);
}

static void
on_pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, XsSepLesson *self)
{
  int r;

  if (!self->valid || self->row_h <= 0 || y < self->top)
    return;
  r = (int) ((y - self->top) / self->row_h);
  if (r < self->shown)
    xs_sep_lesson_set_stage (self, r);
  else if (r == self->shown && self->mid > self->shown)
    xs_sep_lesson_set_stage (self, self->shown);
}

static void
xs_sep_lesson_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                       int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  XsSepLesson *self = XS_SEP_LESSON (widget);
  double k = xs_text_scale (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = (int) (360 * k);
      *natural = (int) (640 * k);
      return;
    }
  {
    int kw = MAX (1, self->k_w), kh = MAX (1, self->k_h);
    int width = for_size > 0 ? for_size : (int) (640 * k);
    double cs = (width - LABEL_W - 5 * GAP - 10) / (double) (2 * kw + 4);
    cs = floor (CLAMP (cs, 12 * k, 36 * k));
    *minimum = *natural = self->valid ? (int) (HEADER_H + self->shown * (kh * cs + 8 * k) +
                                               (self->mid > self->shown ? 24 : 4) * k)
                                      : 0;
  }
}

static GtkSizeRequestMode
xs_sep_lesson_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
xs_sep_lesson_finalize (GObject *object)
{
  XsSepLesson *self = XS_SEP_LESSON (object);

  g_free (self->window);
  g_free (self->filter);
  g_free (self->d);
  g_free (self->w);
  G_OBJECT_CLASS (xs_sep_lesson_parent_class)->finalize (object);
}

static void
xs_sep_lesson_class_init (XsSepLessonClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = xs_sep_lesson_finalize;
  widget_class->snapshot = xs_sep_lesson_snapshot;
  widget_class->measure = xs_sep_lesson_measure;
  widget_class->get_request_mode = xs_sep_lesson_get_request_mode;

  /**
   * XsSepLesson::stage-changed:
   *
   * The stage changed by a click or xs_sep_lesson_set_stage().
   */
  signals[STAGE_CHANGED] = g_signal_new ("stage-changed", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 0);
  gtk_widget_class_set_css_name (widget_class, "xs-sep-lesson");
}

static void
xs_sep_lesson_init (XsSepLesson *self)
{
  GtkGesture *click = gtk_gesture_click_new ();

  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}

GtkWidget *
xs_sep_lesson_new (void)
{
  return g_object_new (XS_TYPE_SEP_LESSON, NULL);
}

/**
 * xs_sep_lesson_set:
 * @node: (nullable): the SeparableConv2D, or %NULL to show nothing
 * @in: its input node
 * @x: (array): its input (H, W, C)
 * @dw: (array): its depthwise output (OH, OW, C*DM)
 * @oy: the output position's row
 * @ox: its column
 * @o: the output channel
 *
 * Copies what position (@oy, @ox), channel @o needs; keeps the stage when
 * it still exists.
 */
void
xs_sep_lesson_set (XsSepLesson *self, const XcNode *node, const XcNode *in, const float *x,
                   const float *dw, int oy, int ox, int o)
{
  int pt, pl, kk;
  const float *kern;
  double y = 0;

  self->valid = node != NULL && x != NULL && dw != NULL;
  if (!self->valid)
    {
      gtk_widget_queue_resize (GTK_WIDGET (self));
      return;
    }
  self->k_h = node->kh, self->k_w = node->kw;
  self->c_in = in->c, self->c_out = node->c;
  self->mid = in->c * node->depth_multiplier;
  self->shown = MIN (self->mid, MAX_SHOWN);
  self->oy = oy, self->ox = ox, self->o = o;
  kk = self->k_h * self->k_w;
  g_free (self->window);
  g_free (self->filter);
  g_free (self->d);
  g_free (self->w);
  self->window = g_new (float, (size_t) self->shown * kk);
  self->filter = g_new (float, (size_t) self->shown * kk);
  self->d = g_new (float, self->mid);
  self->w = g_new (float, self->mid);
  pt = xc_pad_before (in->h, node->kh, node->sh, node->padding);
  pl = xc_pad_before (in->w, node->kw, node->sw, node->padding);
  kern = node->params[0].data;   /* (KH, KW, C, DM) */
  for (int r = 0; r < self->shown; r++)
    for (int ky = 0; ky < node->kh; ky++)
      for (int kx = 0; kx < node->kw; kx++)
        {
          int iy = oy * node->sh - pt + ky, ix = ox * node->sw - pl + kx;
          int ci = r / node->depth_multiplier;
          self->window[(r * node->kh + ky) * node->kw + kx] =
            iy < 0 || iy >= in->h || ix < 0 || ix >= in->w
              ? NAN : x[((size_t) iy * in->w + ix) * in->c + ci];
          self->filter[(r * node->kh + ky) * node->kw + kx] =
            kern[((size_t) ky * node->kw + kx) * self->mid + r];
        }
  for (int c = 0; c < self->mid; c++)
    {
      self->d[c] = dw[((size_t) oy * node->w + ox) * self->mid + c];
      /* (C*DM, OC), wherever its layout keeps it (xc_model_pack_panels()) */
      self->w[c] = xc_param_get (&node->params[1], (size_t) c * node->c + o);
      y += (double) self->d[c] * self->w[c];
    }
  self->bias = node->use_bias ? node->params[node->n_params - 1].data[o] : 0.0f;
  self->y = (float) (y + self->bias);
  self->stage = MIN (self->stage, xs_sep_lesson_get_n_stages (self) - 1);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

/* the shown channels' depthwise steps, the rest of the channels (when
 * there are more), the pointwise sum, the cost */
int
xs_sep_lesson_get_n_stages (XsSepLesson *self)
{
  return self->valid ? depthwise_stages (self) + 2 : 0;
}

int
xs_sep_lesson_get_stage (XsSepLesson *self)
{
  return self->stage;
}

void
xs_sep_lesson_set_stage (XsSepLesson *self, int stage)
{
  stage = CLAMP (stage, 0, MAX (0, xs_sep_lesson_get_n_stages (self) - 1));
  if (stage == self->stage)
    return;
  self->stage = stage;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[STAGE_CHANGED], 0);
}

/* The depthwise channel of the stage, or -1 when the stage is not one */
int
xs_sep_lesson_stage_channel (XsSepLesson *self)
{
  return self->valid && self->stage < self->shown ? self->stage : -1;
}

/* How many depthwise channels are drawn as rows */
int
xs_sep_lesson_get_shown (XsSepLesson *self)
{
  return self->shown;
}

/* the stage's paragraph in bold, the others plain */
static void
paragraph (GString *t, gboolean current, const char *text)
{
  g_autofree char *esc = g_markup_escape_text (text, -1);

  g_string_append_printf (t, current ? "<b>%s</b>\n" : "<span alpha=\"70%%\">%s</span>\n",
                          esc);
}

/**
 * xs_sep_lesson_describe:
 * @engine_y: the engine's own output at the position, to check against
 *
 * Returns: (transfer full): Pango markup: the lesson in words and numbers,
 *   a paragraph per stage, the current one in bold
 */
char *
xs_sep_lesson_describe (XsSepLesson *self, float engine_y)
{
  g_autoptr(GString) t = g_string_new (NULL);
  int kk = self->k_h * self->k_w, dws = depthwise_stages (self);
  int dwm = kk * self->mid, pwm = self->mid * self->c_out;
  int stdm = kk * self->c_in * self->c_out;

  if (!self->valid)
    return g_strdup ("");
  g_string_append_printf (t, "Output position (y %d, x %d), output channel %d. Stage %d of %d: "
                          "Play, Step, or click a row.\n\n", self->oy, self->ox, self->o,
                          self->stage + 1, xs_sep_lesson_get_n_stages (self));
  for (int r = 0; r < self->shown; r++)
    {
      g_autoptr(GString) p = g_string_new (NULL);
      double sum = 0;

      g_string_append_printf (p, "Depthwise, channel %d: its %d×%d window of input channel %d "
                              "times its own %d×%d filter: ", r, self->k_h, self->k_w,
                              r / MAX (1, self->mid / MAX (1, self->c_in)), self->k_h, self->k_w);
      for (int q = 0; q < kk; q++)
        {
          float xv = self->window[r * kk + q], kv = self->filter[r * kk + q];
          sum += isnan (xv) ? 0.0 : (double) xv * kv;
          if (q < 3)
            g_string_append_printf (p, "%s%.3f·%.3f", q ? " + " : "", isnan (xv) ? 0.0f : xv, kv);
        }
      g_string_append_printf (p, " + … (%d products) = d[%d] = %.5f", kk, r, sum);
      paragraph (t, self->stage == r, p->str);
    }
  if (self->mid > self->shown)
    {
      g_autofree char *p = g_strdup_printf ("Depthwise, channels %d to %d: the same, each "
                                            "channel alone with its own filter: %d products in "
                                            "all for the %d channels.", self->shown,
                                            self->mid - 1, dwm, self->mid);
      paragraph (t, self->stage == self->shown, p);
    }
  {
    g_autoptr(GString) p = g_string_new (NULL);
    g_string_append_printf (p, "Pointwise: a 1×1 convolution mixes the %d depthwise outputs "
                            "into output channel %d: y[%d] = ", self->mid, self->o, self->o);
    for (int c = 0; c < MIN (self->mid, 3); c++)
      g_string_append_printf (p, "%s%.4f·%.4f", c ? " + " : "", self->d[c], self->w[c]);
    g_string_append_printf (p, " + … (%d products)%s = %.5f. The engine's output there: %.5f "
                            "(%s).", self->mid, self->bias != 0.0f ? " + bias" : "", self->y,
                            engine_y,
                            fabs (self->y - engine_y) < 1e-3 * MAX (1.0, fabs (self->y))
                            ? "the same" : "differs");
    paragraph (t, self->stage == dws, p->str);
  }
  {
    g_autofree char *p =
      g_strdup_printf ("Cost at this position, for all %d output channels: the %d depthwise "
                       "products are computed once and shared by every output channel, then "
                       "each output channel takes %d pointwise products: %d + %d × %d = %d "
                       "multiply-adds. A standard %d×%d convolution needs its own %d×%d×%d = "
                       "%d products for each of the %d output channels: %d × %d = %d, %.1f× "
                       "as many.", self->c_out, dwm, self->mid, dwm, self->c_out, self->mid,
                       dwm + pwm, self->k_h, self->k_w, self->k_h, self->k_w, self->c_in,
                       kk * self->c_in, self->c_out, self->c_out, kk * self->c_in, stdm,
                       (double) stdm / (dwm + pwm));
    paragraph (t, self->stage == dws + 1, p);
  }
  return g_string_free (g_steal_pointer (&t), FALSE);
}
