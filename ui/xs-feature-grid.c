/* SPDX-License-Identifier: MIT
 *
 * XsFeatureGrid: a layer's output as a grid of small maps, one per channel,
 * coloured with a colour map on a per-channel or a shared scale and
 * optionally sorted by mean activation; or, in single mode, one channel
 * large with the value under the pointer. The picture is built once per
 * tensor or option change into a cairo image surface (premultiplied
 * ARGB32); the snapshot only paints it, scaled with nearest filtering so
 * every activation stays a crisp cell, with a colour bar under it (the
 * shared scale's values, or how each map is scaled) and, when set, a
 * marker: a window of cells framed on every map (a receptive field, a
 * position), one map picked out.
 */
#define G_LOG_DOMAIN "xs-feature-grid"

#include <math.h>

#include "xs-feature-grid.h"
#include "xs-util.h"

#define MAX_SURFACE 1280
#define BAR_H (24 * xs_text_scale (GTK_WIDGET (self)))   /* the colour bar and its labels */

struct _XsFeatureGrid {
  GtkWidget        parent_instance;

  /* owned */
  float           *data;          /* (H, W, C) */
  int              h, w, c;
  int             *order;         /* tile -> channel */
  cairo_surface_t *surface;
  char            *hover;         /* text about the cell under the pointer */

  XcColormap       cmap;
  gboolean         shared;
  gboolean         sorted;
  int              single;        /* channel in single mode, or -1 */
  float            lo, hi;        /* the tensor's range, or the one map's */
  gboolean         one_map;
  int              mark_y, mark_x, mark_h, mark_w;   /* marker cells; mark_h 0: none */
  int              mark_channel;  /* map framed, or -1 */
  int              cols, rows, tile_w, tile_h;
  double           scale, off_x, off_y;   /* of the last paint */
};

G_DEFINE_FINAL_TYPE (XsFeatureGrid, xs_feature_grid, GTK_TYPE_WIDGET)

enum {
  CHANNEL_ACTIVATED,
  CELL_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
put_pixel (guint32 *row, int x, XcColormap cmap, float t)
{
  guint8 rgb[3];
  xc_colormap_rgb (cmap, t, rgb);
  row[x] = 0xff000000u | ((guint32) rgb[0] << 16) | ((guint32) rgb[1] << 8) | rgb[2];
}

static void
rebuild (XsFeatureGrid *self)
{
  g_autofree float *mn = NULL, *mx = NULL;
  g_autofree double *mean = NULL;
  int n_tiles, sw, sh, stride;
  guint32 *px;
  float gmn = G_MAXFLOAT, gmx = -G_MAXFLOAT;
  size_t hw;

  g_clear_pointer (&self->surface, cairo_surface_destroy);
  g_clear_pointer (&self->order, g_free);
  if (self->data == NULL)
    return;
  hw = (size_t) self->h * self->w;
  mn = g_new (float, self->c);
  mx = g_new (float, self->c);
  mean = g_new0 (double, self->c);
  for (int k = 0; k < self->c; k++)
    mn[k] = G_MAXFLOAT, mx[k] = -G_MAXFLOAT;
  for (size_t p = 0; p < hw; p++)
    for (int k = 0; k < self->c; k++)
      {
        float v = self->data[p * self->c + k];
        mn[k] = MIN (mn[k], v), mx[k] = MAX (mx[k], v);
        mean[k] += v / (double) hw;
      }
  for (int k = 0; k < self->c; k++)
    gmn = MIN (gmn, mn[k]), gmx = MAX (gmx, mx[k]);
  self->lo = gmn, self->hi = gmx;

  n_tiles = self->single >= 0 ? 1 : self->c;
  self->one_map = n_tiles == 1;
  self->order = g_new (int, n_tiles);
  if (self->single >= 0)
    self->order[0] = self->single;
  else
    {
      for (int k = 0; k < self->c; k++)
        self->order[k] = k;
      if (self->sorted)
        for (int i = 1; i < self->c; i++)   /* insertion sort, descending mean */
          {
            int v = self->order[i], j = i - 1;
            while (j >= 0 && mean[self->order[j]] < mean[v])
              {
                self->order[j + 1] = self->order[j];
                j--;
              }
            self->order[j + 1] = v;
          }
    }
  self->cols = (int) ceil (sqrt ((double) n_tiles * self->h / MAX (1, self->w)));
  self->cols = CLAMP (self->cols, 1, n_tiles);
  self->rows = (n_tiles + self->cols - 1) / self->cols;
  /* tiles at native size unless the grid would exceed MAX_SURFACE */
  self->tile_w = MIN (self->w, MAX (1, (MAX_SURFACE - self->cols) / self->cols));
  self->tile_h = MAX (1, (int) lround ((double) self->tile_w * self->h / self->w));
  if (self->tile_h * self->rows > MAX_SURFACE)
    {
      self->tile_h = MAX (1, (MAX_SURFACE - self->rows) / self->rows);
      self->tile_w = MAX (1, (int) lround ((double) self->tile_h * self->w / self->h));
    }
  sw = self->cols * (self->tile_w + 1) + 1;
  sh = self->rows * (self->tile_h + 1) + 1;
  self->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, sw, sh);
  stride = cairo_image_surface_get_stride (self->surface) / 4;
  cairo_surface_flush (self->surface);
  px = (guint32 *) cairo_image_surface_get_data (self->surface);
  for (int i = 0; i < sw * sh; i++)
    px[i % sw + (i / sw) * stride] = 0xff3a3a3a;
  for (int t = 0; t < n_tiles; t++)
    {
      int k = self->order[t];
      int ox = (t % self->cols) * (self->tile_w + 1) + 1;
      int oy = (t / self->cols) * (self->tile_h + 1) + 1;
      float lo = self->shared ? gmn : mn[k], hi = self->shared ? gmx : mx[k];
      for (int y = 0; y < self->tile_h; y++)
        {
          int sy = MIN (self->h - 1, y * self->h / self->tile_h);
          guint32 *row = px + (size_t) (oy + y) * stride;
          for (int x = 0; x < self->tile_w; x++)
            {
              int sx = MIN (self->w - 1, x * self->w / self->tile_w);
              float v = self->data[((size_t) sy * self->w + sx) * self->c + k];
              put_pixel (row, ox + x, self->cmap, hi > lo ? (v - lo) / (hi - lo) : 0.0f);
            }
        }
    }
  cairo_surface_mark_dirty (self->surface);
  if (self->one_map && !self->shared)
    self->lo = mn[self->order[0]], self->hi = mx[self->order[0]];
}

/* Frames the marker's cells on every map (a few hundred rectangles at most
 * are drawn: maps past that are left alone), and the marked map */
static void
draw_marker (XsFeatureGrid *self, cairo_t *cr)
{
  int n_tiles = self->single >= 0 ? 1 : self->c;

  cairo_set_line_width (cr, 1.5);
  for (int t = 0; t < MIN (n_tiles, 512); t++)
    {
      double ox = (t % self->cols) * (self->tile_w + 1) + 1;
      double oy = (t / self->cols) * (self->tile_h + 1) + 1;
      double cw = (double) self->tile_w / self->w, ch = (double) self->tile_h / self->h;
      int y0 = MAX (0, self->mark_y), x0 = MAX (0, self->mark_x);
      int y1 = MIN (self->h, self->mark_y + self->mark_h);
      int x1 = MIN (self->w, self->mark_x + self->mark_w);

      if (self->mark_channel >= 0 && self->order[t] == self->mark_channel)
        {
          cairo_set_source_rgb (cr, 1.0, 0.35, 0.2);
          cairo_set_line_width (cr, 3.0);
          cairo_rectangle (cr, self->off_x + (ox - 1) * self->scale,
                           self->off_y + (oy - 1) * self->scale,
                           (self->tile_w + 1) * self->scale, (self->tile_h + 1) * self->scale);
          cairo_stroke (cr);
          cairo_set_line_width (cr, 1.5);
        }
      if (self->mark_h <= 0 || y1 <= y0 || x1 <= x0)
        continue;
      cairo_set_source_rgb (cr, 0.1, 0.95, 1.0);
      cairo_rectangle (cr, self->off_x + (ox + x0 * cw) * self->scale,
                       self->off_y + (oy + y0 * ch) * self->scale,
                       (x1 - x0) * cw * self->scale, (y1 - y0) * ch * self->scale);
      cairo_stroke (cr);
    }
}

/* The colour bar under the maps: the shared scale's range, or that each
 * map runs from its own minimum to its own maximum */
static void
draw_colorbar (XsFeatureGrid *self, cairo_t *cr, int w, int y)
{
  int bar_w = MIN (w / 2, 200);
  char lo[32], hi[32], mid[64];
  cairo_text_extents_t ext;

  if (bar_w < 40)
    return;
  for (int x = 0; x < bar_w; x++)
    {
      guint8 rgb[3];
      xc_colormap_rgb (self->cmap, (float) x / (bar_w - 1), rgb);
      cairo_set_source_rgb (cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
      cairo_rectangle (cr, 8 + x, y + 2, 1, 8 * xs_text_scale (GTK_WIDGET (self)));
      cairo_fill (cr);
    }
  if (self->shared || self->one_map)
    {
      g_snprintf (lo, sizeof lo, "%.3g", self->lo);
      g_snprintf (hi, sizeof hi, "%.3g", self->hi);
      g_snprintf (mid, sizeof mid, self->one_map ? "" : "shared scale");
    }
  else
    {
      g_snprintf (lo, sizeof lo, "min");
      g_snprintf (hi, sizeof hi, "max");
      g_snprintf (mid, sizeof mid, "per map (all %.2g…%.2g)", self->lo, self->hi);
    }
  cairo_set_font_size (cr, 10 * xs_text_scale (GTK_WIDGET (self)));
  cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
  cairo_move_to (cr, 8, y + 21 * xs_text_scale (GTK_WIDGET (self)));
  cairo_show_text (cr, lo);
  cairo_text_extents (cr, hi, &ext);
  cairo_move_to (cr, 8 + bar_w - ext.x_advance, y + 21 * xs_text_scale (GTK_WIDGET (self)));
  cairo_show_text (cr, hi);
  cairo_move_to (cr, 8 + bar_w + 8, y + 10 * xs_text_scale (GTK_WIDGET (self)));
  cairo_show_text (cr, mid);
}

static void
xs_feature_grid_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  XsFeatureGrid *self = XS_FEATURE_GRID (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget) - (int) BAR_H;
  int sw, sh;
  cairo_t *cr;

  if (self->surface == NULL || w <= 0 || h <= 0)
    return;
  sw = cairo_image_surface_get_width (self->surface);
  sh = cairo_image_surface_get_height (self->surface);
  self->scale = MIN ((double) w / sw, (double) h / sh);
  self->off_x = (w - sw * self->scale) / 2;
  self->off_y = (h - sh * self->scale) / 2;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h + BAR_H));
  cairo_save (cr);
  cairo_translate (cr, self->off_x, self->off_y);
  cairo_scale (cr, self->scale, self->scale);
  cairo_set_source_surface (cr, self->surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
  if (self->mark_h > 0 || self->mark_channel >= 0)
    draw_marker (self, cr);
  draw_colorbar (self, cr, w, (int) (self->off_y + sh * self->scale) + 2);
  if (self->hover)
    {
      cairo_text_extents_t ext;
      cairo_set_font_size (cr, 13 * xs_text_scale (widget));
      cairo_text_extents (cr, self->hover, &ext);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.7);
      cairo_rectangle (cr, 6, h - 28, ext.x_advance + 12, 22);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_move_to (cr, 12, h - 12);
      cairo_show_text (cr, self->hover);
    }
  cairo_destroy (cr);
}

/* Tile under a widget point, and the cell within it */
static int
tile_at (XsFeatureGrid *self, double x, double y, int *cx, int *cy)
{
  double sx, sy;
  int col, row, t, ix, iy;

  if (self->surface == NULL || self->scale <= 0)
    return -1;
  sx = (x - self->off_x) / self->scale;
  sy = (y - self->off_y) / self->scale;
  if (sx < 0 || sy < 0)
    return -1;
  col = (int) (sx / (self->tile_w + 1));
  row = (int) (sy / (self->tile_h + 1));
  if (col >= self->cols || row >= self->rows)
    return -1;
  t = row * self->cols + col;
  if (t >= (self->single >= 0 ? 1 : self->c))
    return -1;
  ix = (int) (sx - col * (self->tile_w + 1) - 1);
  iy = (int) (sy - row * (self->tile_h + 1) - 1);
  if (ix < 0 || iy < 0 || ix >= self->tile_w || iy >= self->tile_h)
    return -1;
  if (cx)
    *cx = MIN (self->w - 1, ix * self->w / self->tile_w);
  if (cy)
    *cy = MIN (self->h - 1, iy * self->h / self->tile_h);
  return t;
}

int
xs_feature_grid_channel_at (XsFeatureGrid *self, double x, double y)
{
  int t = tile_at (self, x, y, NULL, NULL);
  return t < 0 ? -1 : self->order[t];
}

static void
on_motion_cb (GtkEventControllerMotion *ctrl, double x, double y, XsFeatureGrid *self)
{
  int cx, cy, t = tile_at (self, x, y, &cx, &cy);

  g_clear_pointer (&self->hover, g_free);
  if (t >= 0)
    {
      int k = self->order[t];
      self->hover = g_strdup_printf ("channel %d  (x %d, y %d) = %.5g", k, cx, cy,
                                     self->data[((size_t) cy * self->w + cx) * self->c + k]);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_leave_cb (GtkEventControllerMotion *ctrl, XsFeatureGrid *self)
{
  g_clear_pointer (&self->hover, g_free);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, XsFeatureGrid *self)
{
  int cx, cy, t = tile_at (self, x, y, &cx, &cy);

  if (t < 0)
    return;
  g_signal_emit (self, signals[CHANNEL_ACTIVATED], 0, self->order[t]);
  g_signal_emit (self, signals[CELL_ACTIVATED], 0, self->order[t], cy, cx);
}

static void
xs_feature_grid_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                         int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  XsFeatureGrid *self = XS_FEATURE_GRID (widget);

  *minimum = 64 + (orientation == GTK_ORIENTATION_VERTICAL ? (int) BAR_H : 0);
  *natural = 400;
}

static void
xs_feature_grid_finalize (GObject *object)
{
  XsFeatureGrid *self = XS_FEATURE_GRID (object);

  g_free (self->data);
  g_free (self->order);
  g_free (self->hover);
  g_clear_pointer (&self->surface, cairo_surface_destroy);
  G_OBJECT_CLASS (xs_feature_grid_parent_class)->finalize (object);
}

static void
xs_feature_grid_class_init (XsFeatureGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = xs_feature_grid_finalize;
  widget_class->snapshot = xs_feature_grid_snapshot;
  widget_class->measure = xs_feature_grid_measure;

  /**
   * XsFeatureGrid::channel-activated:
   * @channel: the channel clicked
   */
  signals[CHANNEL_ACTIVATED] = g_signal_new ("channel-activated", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 1, G_TYPE_INT);
  /**
   * XsFeatureGrid::cell-activated:
   * @channel: the map clicked
   * @y: the cell's row in the tensor
   * @x: its column
   */
  signals[CELL_ACTIVATED] = g_signal_new ("cell-activated", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 3, G_TYPE_INT, G_TYPE_INT, G_TYPE_INT);
  gtk_widget_class_set_css_name (widget_class, "xs-feature-grid");
}

static void
xs_feature_grid_init (XsFeatureGrid *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkGesture *click = gtk_gesture_click_new ();

  self->single = -1;
  self->mark_channel = -1;
  self->cmap = XC_COLORMAP_VIRIDIS;
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}

GtkWidget *
xs_feature_grid_new (void)
{
  return g_object_new (XS_TYPE_FEATURE_GRID, NULL);
}

/**
 * xs_feature_grid_take_tensor:
 * @data: (nullable) (transfer full) (array): (H, W, C), g_free()d by the grid
 */
void
xs_feature_grid_take_tensor (XsFeatureGrid *self, float *data, int h, int w, int c)
{
  g_clear_pointer (&self->data, g_free);
  if (data != NULL)
    {
      self->data = data;
      self->h = h, self->w = w, self->c = c;
    }
  if (self->single >= self->c)
    self->single = 0;
  rebuild (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * xs_feature_grid_set_tensor:
 * @data: (nullable) (array): (H, W, C), copied
 */
void
xs_feature_grid_set_tensor (XsFeatureGrid *self, const float *data, int h, int w, int c)
{
  xs_feature_grid_take_tensor (self, data ? g_memdup2 (data, (size_t) h * w * c * sizeof (float))
                                          : NULL, h, w, c);
}

/**
 * xs_feature_grid_get_tensor:
 *
 * Returns: (transfer none) (nullable): the grid's (H, W, C) data, valid
 *   until the next xs_feature_grid_take_tensor() or set_tensor()
 */
const float *
xs_feature_grid_get_tensor (XsFeatureGrid *self)
{
  return self->data;
}

void
xs_feature_grid_set_options (XsFeatureGrid *self, XcColormap cmap, gboolean shared_scale,
                             gboolean sort_by_mean)
{
  self->cmap = cmap;
  self->shared = shared_scale;
  self->sorted = sort_by_mean;
  rebuild (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Shows one channel alone (channel >= 0) or the whole grid (-1) */
void
xs_feature_grid_set_single (XsFeatureGrid *self, int channel)
{
  self->single = self->data ? MIN (channel, self->c - 1) : channel;
  rebuild (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * xs_feature_grid_set_marker:
 * @h: rows of cells framed on every map from (@y, @x), 0 for none; cells
 *   outside the maps are left out
 * @channel: the map to frame, or -1
 */
void
xs_feature_grid_set_marker (XsFeatureGrid *self, int y, int x, int h, int w, int channel)
{
  self->mark_y = y, self->mark_x = x, self->mark_h = h, self->mark_w = w;
  self->mark_channel = channel;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
xs_feature_grid_get_n_tiles (XsFeatureGrid *self)
{
  return self->data == NULL ? 0 : self->single >= 0 ? 1 : self->c;
}

gboolean
xs_feature_grid_save_png (XsFeatureGrid *self, const char *path, GError **error)
{
  cairo_status_t st;
  char *tmp;

  if (self->surface == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no feature maps to save");
      return FALSE;
    }
  if ((tmp = xc_output_begin (path, error)) == NULL)
    return FALSE;
  st = cairo_surface_write_to_png (self->surface, tmp);
  if (st != CAIRO_STATUS_SUCCESS)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                 cairo_status_to_string (st));
  return xc_output_end (tmp, path, st == CAIRO_STATUS_SUCCESS, error);
}
