/* SPDX-License-Identifier: MIT
 *
 * XsCostChart: per block, the multiply-accumulates the model spends (its
 * separable convolutions) beside what standard convolutions would cost,
 * on one linear scale, with the ratio above each pair.
 */
#define G_LOG_DOMAIN "xs-cost-chart"

#include "xs-cost-chart.h"
#include "xs-util.h"

struct _XsCostChart {
  GtkWidget  parent_instance;

  /* owned */
  GPtrArray *names;
  GArray    *actual;
  GArray    *standard;
  char      *caption;   /* the blue bars' legend */
};

G_DEFINE_FINAL_TYPE (XsCostChart, xs_cost_chart, GTK_TYPE_WIDGET)

static void
xs_cost_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  XsCostChart *self = XS_COST_CHART (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  guint n = self->names->len;
  double mx = 1, left = 50, bottom = 40, top = 36, plot_h, group_w;
  GdkRGBA fg;
  cairo_t *cr;

  if (n == 0 || w <= 0 || h <= 0)
    return;
  /* GTK 4.8: gtk_widget_get_color() arrives in 4.10 */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  for (guint i = 0; i < n; i++)
    mx = MAX (mx, MAX (g_array_index (self->actual, double, i),
                       g_array_index (self->standard, double, i)));
  plot_h = h - bottom - top;
  group_w = (w - left - 10) / n;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_set_font_size (cr, 11 * xs_text_scale (widget));

  /* legend */
  cairo_set_source_rgb (cr, 0.85, 0.45, 0.25);
  cairo_rectangle (cr, left, 8, 12, 12);
  cairo_fill (cr);
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_move_to (cr, left + 18, 18);
  cairo_show_text (cr, "as standard convolutions");
  cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
  cairo_rectangle (cr, left + 190, 8, 12, 12);
  cairo_fill (cr);
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_move_to (cr, left + 208, 18);
  cairo_show_text (cr, self->caption ? self->caption : "this model (separable) — MACs per block");

  /* axis: GMACs */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.3);
  cairo_set_line_width (cr, 1);
  for (int t = 0; t <= 4; t++)
    {
      double y = top + plot_h * (1 - t / 4.0);
      char lab[32];
      cairo_move_to (cr, left, y + 0.5);
      cairo_line_to (cr, w - 10, y + 0.5);
      cairo_stroke (cr);
      double v = mx * t / 4;
      if (mx >= 1e9)
        g_snprintf (lab, sizeof lab, "%.3g G", v / 1e9);
      else if (mx >= 1e6)
        g_snprintf (lab, sizeof lab, "%.3g M", v / 1e6);
      else
        g_snprintf (lab, sizeof lab, "%.3g K", v / 1e3);
      cairo_move_to (cr, 4, y + 4);
      cairo_show_text (cr, lab);
    }
  for (guint i = 0; i < n; i++)
    {
      double a = g_array_index (self->actual, double, i);
      double s = g_array_index (self->standard, double, i);
      double x = left + i * group_w, bw = MAX (2, group_w * 0.38);
      double hs = plot_h * s / mx, ha = plot_h * a / mx;
      cairo_set_source_rgb (cr, 0.85, 0.45, 0.25);
      cairo_rectangle (cr, x + group_w * 0.08, top + plot_h - hs, bw, hs);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
      cairo_rectangle (cr, x + group_w * 0.08 + bw, top + plot_h - ha, bw, ha);
      cairo_fill (cr);
      gdk_cairo_set_source_rgba (cr, &fg);
      if (a > 0 && s > a * 1.01 && group_w > 26)
        {
          char r[32];
          g_snprintf (r, sizeof r, "%.1f×", s / a);
          cairo_move_to (cr, x + group_w * 0.08, top + plot_h - hs - 4);
          cairo_show_text (cr, r);
        }
      cairo_save (cr);
      cairo_move_to (cr, x + group_w * 0.3, h - bottom + 12);
      cairo_rotate (cr, G_PI / 6);
      cairo_show_text (cr, g_ptr_array_index (self->names, i));
      cairo_restore (cr);
    }
  cairo_destroy (cr);
}

static void
xs_cost_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                       int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_VERTICAL ? 160 : 200;
  *natural = orientation == GTK_ORIENTATION_VERTICAL ? 240 : 600;
}

static void
xs_cost_chart_finalize (GObject *object)
{
  XsCostChart *self = XS_COST_CHART (object);

  g_ptr_array_unref (self->names);
  g_array_unref (self->actual);
  g_array_unref (self->standard);
  g_free (self->caption);
  G_OBJECT_CLASS (xs_cost_chart_parent_class)->finalize (object);
}

static void
xs_cost_chart_class_init (XsCostChartClass *klass)
{
  GTK_WIDGET_CLASS (klass)->snapshot = xs_cost_chart_snapshot;
  GTK_WIDGET_CLASS (klass)->measure = xs_cost_chart_measure;
  G_OBJECT_CLASS (klass)->finalize = xs_cost_chart_finalize;
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "xs-cost-chart");
}

static void
xs_cost_chart_init (XsCostChart *self)
{
  self->names = g_ptr_array_new_with_free_func (g_free);
  self->actual = g_array_new (FALSE, FALSE, sizeof (double));
  self->standard = g_array_new (FALSE, FALSE, sizeof (double));
}

GtkWidget *
xs_cost_chart_new (void)
{
  return g_object_new (XS_TYPE_COST_CHART, NULL);
}

void
xs_cost_chart_set_caption (XsCostChart *self, const char *caption)
{
  g_free (self->caption);
  self->caption = g_strdup (caption);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
xs_cost_chart_set_data (XsCostChart *self, const char *const *names, const double *actual,
                        const double *standard, guint n)
{
  g_ptr_array_set_size (self->names, 0);
  g_array_set_size (self->actual, 0);
  g_array_set_size (self->standard, 0);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (self->names, g_strdup (names[i]));
  g_array_append_vals (self->actual, actual, n);
  g_array_append_vals (self->standard, standard, n);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
xs_cost_chart_get_n_groups (XsCostChart *self)
{
  return self->names->len;
}
