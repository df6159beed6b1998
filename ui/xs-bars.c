/* SPDX-License-Identifier: MIT
 *
 * XsBars: horizontal probability bars, one row per class (label, bar,
 * percentage), drawn with cairo. A row can be chosen with the mouse or the
 * keyboard (Up/Down, Enter); "activated" then carries the class id.
 */
#define G_LOG_DOMAIN "xs-bars"

#include "xs-bars.h"
#include "xs-util.h"

#define ROW_HEIGHT (30 * xs_text_scale (GTK_WIDGET (self)))

struct _XsBars {
  GtkWidget  parent_instance;

  /* owned */
  GPtrArray *labels;
  GArray    *values;
  GArray    *ids;
  int        selected;   /* class id, -1 for none */
  int        focus_row;
};

G_DEFINE_FINAL_TYPE (XsBars, xs_bars, GTK_TYPE_WIDGET)

enum {
  ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
xs_bars_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                 int *natural, int *minimum_baseline, int *natural_baseline)
{
  XsBars *self = XS_BARS (widget);

  if (orientation == GTK_ORIENTATION_VERTICAL)
    *minimum = *natural = (int) (MAX (1, (int) self->labels->len) * ROW_HEIGHT + 8);
  else
    *minimum = 200, *natural = 480;
}

static void
xs_bars_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  XsBars *self = XS_BARS (widget);
  int w = gtk_widget_get_width (widget);
  int h = gtk_widget_get_height (widget);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  GdkRGBA fg;
  double label_w = MIN (220, w * 0.35), pct_w = 80, bar_x = label_w + 12;
  double bar_w = MAX (10, w - bar_x - pct_w - 8);

  /* GTK 4.8: gtk_widget_get_color() arrives in 4.10 */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 13 * xs_text_scale (widget));
  for (guint i = 0; i < self->labels->len; i++)
    {
      double y = 4 + i * ROW_HEIGHT;
      float v = g_array_index (self->values, float, i);
      int id = g_array_index (self->ids, guint, i);
      gboolean sel = id == self->selected;
      char pct[32];
      cairo_text_extents_t ext;

      if (sel)
        {
          cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.18);
          cairo_rectangle (cr, 0, y, w, ROW_HEIGHT - 2);
          cairo_fill (cr);
        }
      if ((int) i == self->focus_row && gtk_widget_has_focus (widget))
        {
          cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.5);
          cairo_set_line_width (cr, 1);
          cairo_rectangle (cr, 0.5, y + 0.5, w - 1, ROW_HEIGHT - 3);
          cairo_stroke (cr);
        }
      /* label, clipped to its column */
      cairo_save (cr);
      cairo_rectangle (cr, 0, y, label_w, ROW_HEIGHT);
      cairo_clip (cr);
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, 6, y + ROW_HEIGHT / 2.0 + 4);
      cairo_show_text (cr, g_ptr_array_index (self->labels, i));
      cairo_restore (cr);
      /* track and bar */
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.08);
      cairo_rectangle (cr, bar_x, y + 7, bar_w, ROW_HEIGHT - 16);
      cairo_fill (cr);
      if (sel || i == 0)
        cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
      else
        cairo_set_source_rgb (cr, 0.38, 0.63, 0.92);
      cairo_rectangle (cr, bar_x, y + 7, bar_w * CLAMP (v, 0.0f, 1.0f), ROW_HEIGHT - 16);
      cairo_fill (cr);
      g_snprintf (pct, sizeof pct, "%.2f%%", 100.0 * v);
      cairo_text_extents (cr, pct, &ext);
      gdk_cairo_set_source_rgba (cr, &fg);
      cairo_move_to (cr, w - ext.x_advance - 6, y + ROW_HEIGHT / 2.0 + 4);
      cairo_show_text (cr, pct);
    }
  cairo_destroy (cr);
}

static void
activate_row (XsBars *self, int row)
{
  int id;

  if (row < 0 || row >= (int) self->labels->len)
    return;
  self->focus_row = row;
  id = g_array_index (self->ids, guint, row);
  self->selected = id;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_signal_emit (self, signals[ACTIVATED], 0, id);
}

static void
on_click_pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y, XsBars *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  activate_row (self, (int) ((y - 4) / ROW_HEIGHT));
}

static gboolean
on_key_pressed_cb (GtkEventControllerKey *ctrl, guint keyval, guint keycode,
                   GdkModifierType state, XsBars *self)
{
  switch (keyval)
    {
    case GDK_KEY_Up:
      self->focus_row = MAX (0, self->focus_row - 1);
      break;
    case GDK_KEY_Down:
      self->focus_row = MIN ((int) self->labels->len - 1, self->focus_row + 1);
      break;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_space:
      activate_row (self, self->focus_row);
      return TRUE;
    default:
      return FALSE;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

static void
xs_bars_finalize (GObject *object)
{
  XsBars *self = XS_BARS (object);

  g_ptr_array_unref (self->labels);
  g_array_unref (self->values);
  g_array_unref (self->ids);
  G_OBJECT_CLASS (xs_bars_parent_class)->finalize (object);
}

static void
xs_bars_class_init (XsBarsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = xs_bars_finalize;
  widget_class->measure = xs_bars_measure;
  widget_class->snapshot = xs_bars_snapshot;

  /**
   * XsBars::activated:
   * @id: the class chosen
   *
   * A row was clicked or chosen with the keyboard.
   */
  signals[ACTIVATED] = g_signal_new ("activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  gtk_widget_class_set_css_name (widget_class, "xs-bars");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_LIST);
}

static void
xs_bars_init (XsBars *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkEventController *key = gtk_event_controller_key_new ();

  self->labels = g_ptr_array_new_with_free_func (g_free);
  self->values = g_array_new (FALSE, FALSE, sizeof (float));
  self->ids = g_array_new (FALSE, FALSE, sizeof (guint));
  self->selected = -1;
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  g_signal_connect (click, "pressed", G_CALLBACK (on_click_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), key);
}

GtkWidget *
xs_bars_new (void)
{
  return g_object_new (XS_TYPE_BARS, NULL);
}

/**
 * xs_bars_set_data:
 * @labels: (array length=n): row labels
 * @values: (array length=n): values in [0, 1]
 * @ids: (array length=n): the class id of each row
 */
void
xs_bars_set_data (XsBars *self, const char *const *labels, const float *values, const guint *ids,
                  guint n)
{
  g_ptr_array_set_size (self->labels, 0);
  g_array_set_size (self->values, 0);
  g_array_set_size (self->ids, 0);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (self->labels, g_strdup (labels[i]));
  g_array_append_vals (self->values, values, n);
  g_array_append_vals (self->ids, ids, n);
  self->focus_row = 0;
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
xs_bars_set_selected (XsBars *self, int id)
{
  self->selected = id;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
xs_bars_get_selected (XsBars *self)
{
  return self->selected;
}

guint
xs_bars_get_n_rows (XsBars *self)
{
  return self->labels->len;
}

const char *
xs_bars_get_label (XsBars *self, guint row)
{
  g_return_val_if_fail (row < self->labels->len, NULL);
  return g_ptr_array_index (self->labels, row);
}
