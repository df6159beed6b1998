/* SPDX-License-Identifier: MIT
 *
 * Helpers the views share (xs-util.h).
 */
#define G_LOG_DOMAIN "xs-util"

#include <math.h>

#include "xs-util.h"

GdkTexture *
xs_texture_from_rgb (const guint8 *rgb, int w, int h)
{
  g_autoptr(GBytes) bytes = g_bytes_new (rgb, (gsize) w * h * 3);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, (gsize) w * 3);
}

GdkTexture *
xs_texture_from_image (const XcImage *img)
{
  g_autofree guint8 *rgb = g_new (guint8, (size_t) img->w * img->h * 3);

  size_t n = (size_t) img->w * img->h;
  int c = img->c;

  for (size_t p = 0; p < n; p++)
    for (int k = 0; k < 3; k++)
      {
        float v = img->data[p * c + (c == 3 ? k : 0)] + 0.5f;
        rgb[p * 3 + k] = (guint8) (v <= 0.0f ? 0 : v >= 255.0f ? 255 : (int) v);
      }
  return xs_texture_from_rgb (rgb, img->w, img->h);
}

GtkStringList *
xs_string_list_new (const char *const *items, guint n)
{
  GtkStringList *l = gtk_string_list_new (NULL);
  for (guint i = 0; i < n; i++)
    gtk_string_list_append (l, items[i]);
  return l;
}

/* The top-k classes as bars: labels, or "class N" when the model has none */
void
xs_fill_bars (XsBars *bars, const XcModel *m, const float *probs, int classes, int k)
{
  g_autofree int *order = g_new (int, classes);
  guint n = xc_top_k (probs, classes, k, order);
  g_autofree float *v = g_new (float, n);
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < n; i++)
    {
      const char *l = xc_model_label (m, order[i]);
      g_ptr_array_add (labels, l ? g_strdup (l) : g_strdup_printf ("class %d", order[i]));
      v[i] = probs[order[i]];
    }
  xs_bars_set_data (bars, (const char *const *) labels->pdata, v, (guint *) order, n);
}

int
xs_top_of (const float *p, int n)
{
  int top;
  xc_top_k (p, n, 1, &top);
  return top;
}

char *
xs_shape_string (const XcNode *node)
{
  return node->flat ? g_strdup_printf ("(%d)", node->c)
                    : g_strdup_printf ("(%d, %d, %d)", node->h, node->w, node->c);
}

/* A row per layer (and, with an analysis, the original image first and each
 * layer's time and zeros) */
void
xs_node_rows_fill (GListStore *rows, const XcModel *m, XsAnalysis *analysis)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);

  if (m != NULL && analysis)
    {
      g_autofree char *shape = g_strdup_printf ("(%d, %d, %d)", analysis->image->h,
                                                analysis->image->w, analysis->image->c);
      g_ptr_array_add (all, xs_node_row_new (XS_ORIGINAL_ROW, "original image", "Image", shape));
    }
  for (guint i = 0; m != NULL && i < xc_model_n_nodes (m); i++)
    {
      const XcNode *node = xc_model_node (m, i);
      g_autofree char *shape = xs_shape_string (node);
      XsNodeRow *row = xs_node_row_new (i, node->name, node->keras_class, shape);
      row->params = node->n_weights;
      row->macs = node->macs;
      row->std_params = node->std_params;
      row->std_macs = node->std_macs;
      if (analysis)
        {
          const XcNodeRun *run = &analysis->runs[i];
          row->time_ms = run->time_us / 1000.0;
          row->zeros = run->stats.zero_fraction;
        }
      g_ptr_array_add (all, row);
    }
  /* one change for the views (appending row by row re-sorts for each) */
  g_list_store_splice (rows, 0, g_list_model_get_n_items (G_LIST_MODEL (rows)), all->pdata,
                       all->len);
}

static void
setup_cell_cb (GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), GPOINTER_TO_INT (data) >= XS_FIELD_TIME ? 1.0 : 0.0);
  gtk_list_item_set_child (item, label);
}

static void
bind_cell_cb (GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
  XsNodeRow *row = gtk_list_item_get_item (item);
  g_autofree char *text = xs_node_row_format (row, GPOINTER_TO_INT (data));
  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), text);
}

static int
compare_rows_cb (gconstpointer a, gconstpointer b, gpointer data)
{
  return xs_node_row_compare ((XsNodeRow *) a, (XsNodeRow *) b, GPOINTER_TO_INT (data));
}

/* A sortable, resizable column showing one field of the rows */
void
xs_column_view_add (GtkColumnView *view, const char *title, XsField field, gboolean expand)
{
  GtkListItemFactory *f = gtk_signal_list_item_factory_new ();
  g_autoptr(GtkColumnViewColumn) col = NULL;
  g_autoptr(GtkSorter) sorter = NULL;

  g_signal_connect (f, "setup", G_CALLBACK (setup_cell_cb), GINT_TO_POINTER (field));
  g_signal_connect (f, "bind", G_CALLBACK (bind_cell_cb), GINT_TO_POINTER (field));
  col = gtk_column_view_column_new (title, f);
  sorter = GTK_SORTER (gtk_custom_sorter_new (compare_rows_cb, GINT_TO_POINTER (field), NULL));
  gtk_column_view_column_set_sorter (col, sorter);
  gtk_column_view_column_set_expand (col, expand);
  gtk_column_view_column_set_resizable (col, TRUE);
  gtk_column_view_append_column (view, col);
}

/**
 * xs_column_view_setup:
 * @filter: (transfer full) (nullable): rows to show
 *
 * Returns: (transfer full): the view's selection over @rows, filtered and
 *   sorted by the view's columns
 */
GtkSingleSelection *
xs_column_view_setup (GtkColumnView *view, GListModel *rows, GtkFilter *filter)
{
  GListModel *model = G_LIST_MODEL (g_object_ref (rows));
  GtkSortListModel *sorted;
  GtkSingleSelection *sel;

  if (filter)
    model = G_LIST_MODEL (gtk_filter_list_model_new (model, filter));
  sorted = gtk_sort_list_model_new (model, g_object_ref (gtk_column_view_get_sorter (view)));
  sel = gtk_single_selection_new (G_LIST_MODEL (sorted));
  gtk_single_selection_set_autoselect (sel, TRUE);
  gtk_column_view_set_model (view, GTK_SELECTION_MODEL (sel));
  return sel;
}

/**
 * xs_text_scale:
 *
 * Returns: how much larger @widget's CSS font is than the desktop's (1.0
 *   normally; 1.5 at the window's 150% projector zoom): the factor the
 *   drawn widgets scale their text and cells by
 */
double
xs_text_scale (GtkWidget *widget)
{
  const PangoFontDescription *fd = pango_context_get_font_description (
      gtk_widget_get_pango_context (widget));
  g_autofree char *name = NULL;
  PangoFontDescription *base;
  double size, base_size;

  int dpi = 0;

  g_object_get (gtk_widget_get_settings (widget), "gtk-font-name", &name, "gtk-xft-dpi", &dpi,
                NULL);
  if (fd == NULL || name == NULL)
    return 1.0;
  base = pango_font_description_from_string (name);
  size = pango_font_description_get_size (fd);
  base_size = pango_font_description_get_size (base);
  /* CSS sizes come in pixels, the desktop font in points */
  if (pango_font_description_get_size_is_absolute (fd))
    size *= 72.0 / (dpi > 0 ? dpi / 1024.0 : 96.0);
  if (pango_font_description_get_size_is_absolute (base))
    base_size *= 72.0 / (dpi > 0 ? dpi / 1024.0 : 96.0);
  pango_font_description_free (base);
  return size > 0 && base_size > 0 ? CLAMP (size / base_size, 0.5, 3.0) : 1.0;
}

/**
 * xs_colorbar_show:
 * @note: (nullable): a second line under the range
 *
 * The colour bar of a map: @cmap from left to right in @bar, and in @label
 * the values its ends stand for (the map's minimum and maximum) and the
 * map's cells.
 */
void
xs_colorbar_show (GtkPicture *bar, GtkLabel *label, const float *map, int map_h, int map_w,
                  XcColormap cmap, const char *note)
{
  guint8 rgb[256 * 3];
  g_autoptr(GdkTexture) tex = NULL;
  g_autofree char *txt = NULL;
  float mn = G_MAXFLOAT, mx = -G_MAXFLOAT;

  for (int i = 0; i < map_h * map_w; i++)
    mn = MIN (mn, map[i]), mx = MAX (mx, map[i]);
  for (int i = 0; i < 256; i++)
    xc_colormap_rgb (cmap, i / 255.0f, rgb + 3 * i);
  tex = xs_texture_from_rgb (rgb, 256, 1);
  gtk_picture_set_paintable (bar, GDK_PAINTABLE (tex));
  txt = g_strdup_printf ("Colour bar: %.3g (left) to %.3g (right) · the map has %d × %d "
                         "cells%s%s", mn, mx, map_w, map_h, note ? "\n" : "", note ? note : "");
  gtk_label_set_text (label, txt);
}
