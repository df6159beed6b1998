/* SPDX-License-Identifier: MIT
 *
 * Both models over a folder, reported as a careful paper would: accuracy
 * and expected calibration error per model (when the folder's class
 * subfolders are the model's classes), McNemar's exact test of the
 * accuracy difference, agreement, the confusion matrices, a reliability
 * diagram (accuracy against confidence in ten bins, the diagonal being
 * perfect calibration), and every image's row as CSV or JSON.
 */
#define G_LOG_DOMAIN "xs-compare-folder"

#include <json-glib/json-glib.h>

#include "xs-compare-folder.h"
#include "xs-util.h"


char *
xs_folder_summary_markup (const XsFolderResult *r)
{
  g_autoptr(GString) t = g_string_new (NULL);

  g_string_append_printf (t, "<b>%d images</b>%s: agreement %.1f%%, %d disagreements (listed "
                          "below).", r->dataset->n,
                          r->dataset->unlabelled ? " without labels (no class subfolders)" : "",
                          100 * r->agreement, r->n_disagree);
  for (int k = 0; k < 2; k++)
    {
      if (r->accuracy[k] >= 0)
        g_string_append_printf (t, "\n%c: accuracy %.1f%%, expected calibration error %.3f",
                                'A' + k, 100 * r->accuracy[k], r->ece[k]);
      else if (!r->dataset->unlabelled)
        g_string_append_printf (t, "\n%c: no accuracy (the folder's classes are not its "
                                "classes)", 'A' + k);
    }
  if (r->accuracy[0] >= 0 && r->accuracy[1] >= 0)
    g_string_append_printf (t, "\nMcNemar's exact test: %u images only A got right, %u only B: "
                            "p = %.3g%s", r->only_a, r->only_b,
                            xc_mcnemar_exact_p (r->only_a, r->only_b),
                            xc_mcnemar_exact_p (r->only_a, r->only_b) < 0.05
                            ? " (the accuracies differ at the 5% level)"
                            : " (no evidence the accuracies differ)");
  return g_string_free (g_steal_pointer (&t), FALSE);
}

/* Both confusion matrices side by side, for up to 12 classes; NULL else */
char *
xs_folder_confusion_text (const XsFolderResult *r)
{
  const XcDataset *ds = r->dataset;
  g_autoptr(GString) t = g_string_new ("Confusion of A, then B (rows: truth; columns: "
                                     "prediction)\n");
  int nc = ds->n_classes;

  if (ds->unlabelled || nc > 12 || (r->accuracy[0] < 0 && r->accuracy[1] < 0))
    return NULL;
  /* the model's class for each of the folder's classes, from any image of it */
  {
    g_autofree int *as_model = g_new (int, 2 * (size_t) nc);
    for (int q = 0; q < 2 * nc; q++)
      as_model[q] = -1;
    for (int i = 0; i < ds->n; i++)
      for (int k = 0; k < 2; k++)
        as_model[k * nc + ds->labels[i]] = r->truth[k][i];
    for (int k = 0; k < 2; k++)
      {
        if (r->accuracy[k] < 0)
          continue;
        g_string_append_printf (t, "%c %-10s", 'A' + k, "");
        for (int q = 0; q < nc; q++)
          g_string_append_printf (t, " %5.5s", (const char *) ds->class_names->pdata[q]);
        g_string_append_c (t, '\n');
        for (int c = 0; c < nc; c++)
          {
            g_string_append_printf (t, "%-12.12s", (const char *) ds->class_names->pdata[c]);
            for (int q = 0; q < nc; q++)
              {
                int n = 0;
                for (int i = 0; i < ds->n; i++)
                  n += ds->labels[i] == c && as_model[k * nc + q] >= 0 &&
                       r->top[k][i] == as_model[k * nc + q];
                g_string_append_printf (t, " %5d", n);
              }
            g_string_append_c (t, '\n');
          }
      }
  }
  return g_string_free (g_steal_pointer (&t), FALSE);
}

/* Accuracy against mean confidence per bin, both models, the diagonal */
void
xs_folder_draw_reliability (GtkDrawingArea *area, cairo_t *cr, int width, int height,
                            gpointer data)
{
  const XsFolderResult *r = data;
  static const double colour[2][3] = { { 0.15, 0.45, 0.85 }, { 0.9, 0.45, 0.1 } };
  double x0 = 36, y0 = 8, w = width - x0 - 10, h = height - y0 - 30;
  GdkRGBA fg;

  if (r == NULL || w < 40 || h < 40)
    return;
  /* GTK 4.8: gtk_widget_get_color() arrives in 4.10 */
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  gdk_cairo_set_source_rgba (cr, &fg);
  cairo_set_line_width (cr, 1);
  cairo_rectangle (cr, x0, y0, w, h);
  cairo_stroke (cr);
  cairo_set_dash (cr, (double[]) { 3, 3 }, 2, 0);
  cairo_move_to (cr, x0, y0 + h);
  cairo_line_to (cr, x0 + w, y0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_set_font_size (cr, 10 * xs_text_scale (GTK_WIDGET (area)));
  cairo_move_to (cr, x0, y0 + h + 12);
  cairo_show_text (cr, "0");
  cairo_move_to (cr, x0 + w - 6, y0 + h + 12);
  cairo_show_text (cr, "1");
  cairo_move_to (cr, x0 + w / 2 - 30, y0 + h + 24);
  cairo_show_text (cr, "confidence");
  cairo_move_to (cr, 2, y0 + 10);
  cairo_show_text (cr, "acc 1");
  cairo_move_to (cr, 2, y0 + h);
  cairo_show_text (cr, "0");
  for (int k = 0; k < 2; k++)
    {
      gboolean first = TRUE;
      if (r->accuracy[k] < 0)
        continue;
      cairo_set_source_rgb (cr, colour[k][0], colour[k][1], colour[k][2]);
      cairo_set_line_width (cr, 2);
      for (int b = 0; b < XS_CALIBRATION_BINS; b++)
        {
          double px, py;
          if (r->bin_count[k][b] == 0)
            continue;
          px = x0 + r->bin_confidence[k][b] * w;
          py = y0 + (1 - r->bin_accuracy[k][b]) * h;
          if (first)
            cairo_move_to (cr, px, py);
          else
            cairo_line_to (cr, px, py);
          first = FALSE;
        }
      cairo_stroke (cr);
      for (int b = 0; b < XS_CALIBRATION_BINS; b++)
        if (r->bin_count[k][b] > 0)
          {
            cairo_arc (cr, x0 + r->bin_confidence[k][b] * w,
                       y0 + (1 - r->bin_accuracy[k][b]) * h, 3, 0, 2 * G_PI);
            cairo_fill (cr);
          }
      cairo_move_to (cr, x0 + 6, y0 + 14 + 13 * k);
      cairo_show_text (cr, k ? "B" : "A");
    }
}

/* Every image's row, CSV (quoted where needed) or JSON by the file's name */
gboolean
xs_folder_export (const XsFolderResult *r, const char *path, GError **error)
{
  const XcDataset *ds = r->dataset;
  gboolean json = g_str_has_suffix (path, ".json") || g_str_has_suffix (path, ".JSON");
  g_autoptr(GString) t = g_string_new (NULL);
  g_autoptr(JsonBuilder) b = json_builder_new ();

  if (json)
    json_builder_begin_array (b);
  else
    g_string_append (t, "input,truth,a_class,a_label,a_prob,a_correct,b_class,b_label,b_prob,"
                        "b_correct,agree\n");
  for (int i = 0; i < ds->n; i++)
    {
      gboolean agree = xc_compare_same_class (r->model[0]->model, r->top[0][i],
                                              r->model[1]->model, r->top[1][i]);
      const char *truth = ds->unlabelled ? NULL : ds->class_names->pdata[ds->labels[i]];
      if (json)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "input");
          json_builder_add_string_value (b, ds->ids->pdata[i]);
          json_builder_set_member_name (b, "truth");
          if (truth)
            json_builder_add_string_value (b, truth);
          else
            json_builder_add_null_value (b);
        }
      else
        {
          g_autofree char *id = xc_csv_field (ds->ids->pdata[i]);
          g_autofree char *tr = truth ? xc_csv_field (truth) : g_strdup ("");
          g_string_append_printf (t, "%s,%s", id, tr);
        }
      for (int k = 0; k < 2; k++)
        {
          char buf[32];
          const char *lab = xc_model_class_name (r->model[k]->model, r->top[k][i], buf,
                                                 sizeof buf);
          int correct = r->truth[k][i] < 0 ? -1 : r->top[k][i] == r->truth[k][i];
          if (json)
            {
              json_builder_set_member_name (b, k ? "b" : "a");
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "class");
              json_builder_add_int_value (b, r->top[k][i]);
              json_builder_set_member_name (b, "label");
              json_builder_add_string_value (b, lab);
              json_builder_set_member_name (b, "prob");
              json_builder_add_double_value (b, r->prob[k][i]);
              json_builder_set_member_name (b, "correct");
              if (correct < 0)
                json_builder_add_null_value (b);
              else
                json_builder_add_boolean_value (b, correct);
              json_builder_end_object (b);
            }
          else
            {
              g_autofree char *l = xc_csv_field (lab);
              g_string_append_printf (t, ",%d,%s,%.6f,%s", r->top[k][i], l, r->prob[k][i],
                                      correct < 0 ? "" : correct ? "1" : "0");
            }
        }
      if (json)
        {
          json_builder_set_member_name (b, "agree");
          json_builder_add_boolean_value (b, agree);
          json_builder_end_object (b);
        }
      else
        g_string_append_printf (t, ",%d\n", agree);
    }
  if (json)
    {
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *s = NULL;
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      json_generator_set_pretty (gen, TRUE);
      s = json_generator_to_data (gen, NULL);
      g_string_assign (t, s);
      g_string_append_c (t, '\n');
    }
  return xc_output_write (path, t->str, t->len, error);
}
