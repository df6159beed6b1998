/* SPDX-License-Identifier: MIT
 *
 * The PDF report: A4 landscape pages drawn with cairo. Page 1: the image,
 * its explanation overlay, the top-5 predictions and the faithfulness
 * figures; page 2: the costs, per block and for the costliest separable
 * layers against standard convolutions; page 3 (with a second model): both
 * models' predictions, their agreement, both overlays for the same target
 * and a table of params, MACs, latency and memory.
 */
#define G_LOG_DOMAIN "xc-report"

#include <math.h>
#include <string.h>
#include <cairo.h>
#include <cairo-pdf.h>

#include "xc-error.h"
#include "present/xc-render.h"
#include "present/xc-report.h"

#define PAGE_W 842.0
#define PAGE_H 595.0

static cairo_surface_t *
surface_from_rgb (const guint8 *rgb, int w, int h)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  int stride = cairo_image_surface_get_stride (s) / 4;
  guint32 *px;

  cairo_surface_flush (s);
  px = (guint32 *) cairo_image_surface_get_data (s);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = rgb + ((size_t) y * w + x) * 3;
        px[(size_t) y * stride + x] = ((guint32) p[0] << 16) | ((guint32) p[1] << 8) | p[2];
      }
  cairo_surface_mark_dirty (s);
  return s;
}

/* An image fitted into (x, y, w, h), nearest filtering for small ones */
static void
draw_rgb (cairo_t *cr, const guint8 *rgb, int iw, int ih, double x, double y, double w, double h)
{
  cairo_surface_t *s = surface_from_rgb (rgb, iw, ih);
  double scale = MIN (w / iw, h / ih);

  cairo_save (cr);
  cairo_translate (cr, x + (w - iw * scale) / 2, y + (h - ih * scale) / 2);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, s, 0, 0);
  if (scale > 2)
    cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (s);
}

static guint8 *
image_rgb (const XcImage *img)
{
  guint8 *rgb = g_new (guint8, (size_t) img->w * img->h * 3);

  for (size_t p = 0; p < (size_t) img->w * img->h; p++)
    for (int k = 0; k < 3; k++)
      rgb[p * 3 + k] = (guint8) CLAMP (lroundf (img->data[p * img->c + (img->c == 3 ? k : 0)]),
                                       0, 255);
  return rgb;
}

static void
text (cairo_t *cr, double x, double y, double size, gboolean bold, const char *s)
{
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL,
                          bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, size);
  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_move_to (cr, x, y);
  cairo_show_text (cr, s);
}

static int
top_class (const XcModel *m, const float *probs, int rank)
{
  int c = xc_model_node (m, m->output)->c;
  g_autofree int *top = g_new (int, rank + 1);

  xc_top_k (probs, c, rank + 1, top);
  return top[MIN (rank, c - 1)];
}

static void
draw_predictions (cairo_t *cr, const XcReportModel *rm, double x, double y, double w, int k)
{
  int classes = xc_model_node (rm->model, rm->model->output)->c;

  for (int r = 0; r < MIN (k, classes); r++)
    {
      int c = top_class (rm->model, rm->probs, r);
      const char *label = xc_model_label (rm->model, c);
      g_autofree char *name = label ? g_strdup (label) : g_strdup_printf ("class %d", c);
      g_autofree char *pct = g_strdup_printf ("%.2f%%", 100.0 * rm->probs[c]);
      double by = y + r * 18;
      text (cr, x, by + 11, 10, r == 0, name);
      cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
      cairo_rectangle (cr, x + 110, by + 2, w - 170, 11);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0.21, 0.52, 0.89);
      cairo_rectangle (cr, x + 110, by + 2, (w - 170) * CLAMP (rm->probs[c], 0.0f, 1.0f), 11);
      cairo_fill (cr);
      text (cr, x + w - 50, by + 11, 10, FALSE, pct);
    }
}

static void
draw_overlay (cairo_t *cr, const XcReport *r, const XcExplanation *e, double x, double y,
              double w, double h)
{
  g_autofree guint8 *rgb = xc_render_heatmap (e->map, e->map_h, e->map_w, r->image, r->image->h,
                                              r->image->w, XC_COLORMAP_JET, 0.5f);
  draw_rgb (cr, rgb, r->image->w, r->image->h, x, y, w, h);
}

static char *
explanation_text (const XcReportModel *rm)
{
  const XcExplanation *e = rm->explanation;
  const char *label = xc_model_label (rm->model, e->target_class);

  return g_strdup_printf ("%s of class %d%s%s%s at %s (p = %.4f)", xc_method_name (e->method),
                          e->target_class, label ? " (" : "", label ? label : "",
                          label ? ")" : "",
                          xc_method_uses_layer (e->method)
                          ? xc_model_node (rm->model, e->layer)->name : "the input",
                          e->probability);
}

static void
page_analysis (cairo_t *cr, const XcReport *r)
{
  const XcReportModel *a = &r->a;
  g_autofree guint8 *rgb = image_rgb (r->image);
  g_autofree char *title = NULL, *sub = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%d %H:%M");

  text (cr, 40, 50, 22, TRUE, "Xception Studio report");
  sub = g_strdup_printf ("%s — model %s — %s", date, a->model->name, r->image_name);
  text (cr, 40, 72, 10, FALSE, sub);
  text (cr, 40, 105, 12, TRUE, "Image");
  draw_rgb (cr, rgb, r->image->w, r->image->h, 40, 115, 230, 230);
  title = g_strdup_printf ("%d × %d, %s", r->image->w, r->image->h,
                           r->image->c == 1 ? "gray" : "RGB");
  text (cr, 40, 360, 9, FALSE, title);
  if (a->explanation)
    {
      g_autofree char *et = explanation_text (a);
      text (cr, 300, 105, 12, TRUE, "Explanation");
      draw_overlay (cr, r, a->explanation, 300, 115, 230, 230);
      text (cr, 300, 360, 9, FALSE, et);
    }
  text (cr, 560, 105, 12, TRUE, "Predictions");
  draw_predictions (cr, a, 560, 115, 250, 5);
  if (a->faithfulness)
    {
      const XcFaithfulness *f = a->faithfulness;
      g_autofree char *l1 = g_strdup_printf ("deletion AUC %.3f (lower is better)",
                                             f->deletion_auc);
      g_autofree char *l2 = g_strdup_printf ("insertion AUC %.3f (higher is better)",
                                             f->insertion_auc);
      g_autofree char *l3 = g_strdup_printf ("average drop %.1f%%, increase in confidence: %s",
                                             f->average_drop, f->increase ? "yes" : "no");
      text (cr, 560, 230, 12, TRUE, "Faithfulness");
      text (cr, 560, 248, 10, FALSE, l1);
      text (cr, 560, 263, 10, FALSE, l2);
      text (cr, 560, 278, 10, FALSE, l3);
    }
}

static void
page_costs (cairo_t *cr, const XcReport *r)
{
  const XcModel *m = r->a.model;
  guint64 p, t, macs, sp, sm;
  g_autofree char *ps = NULL, *ms = NULL, *sps = NULL, *sms = NULL, *l1 = NULL, *l2 = NULL;
  g_autofree guint *order = NULL;
  guint n = 0;

  xc_model_totals (m, &p, &t, &macs, &sp, &sm);
  ps = xc_format_count (p), ms = xc_format_count (macs), sps = xc_format_count (sp), sms = xc_format_count (sm);
  text (cr, 40, 50, 18, TRUE, "Costs");
  l1 = g_strdup_printf ("%s params, %s multiply-accumulates per image; as standard convolutions "
                        "%s params, %s MACs (%.1f× the MACs).", ps, ms, sps, sms,
                        macs ? (double) sm / macs : 0.0);
  text (cr, 40, 72, 10, FALSE, l1);
  l2 = g_strdup_printf ("Forward pass %.1f ms (median, batch 1), %.1f MB of weights and "
                        "activations.", r->a.cost.latency_ms, r->a.cost.memory_bytes / 1048576.0);
  text (cr, 40, 87, 10, FALSE, l2);

  /* the costliest separable layers */
  order = g_new (guint, xc_model_n_nodes (m));
  for (guint i = 0; i < xc_model_n_nodes (m); i++)
    if (xc_model_node (m, i)->op == XC_OP_SEPCONV2D)
      order[n++] = i;
  for (guint i = 0; i < n; i++)      /* by standard MACs, descending */
    for (guint j = i + 1; j < n; j++)
      if (xc_model_node (m, order[j])->std_macs > xc_model_node (m, order[i])->std_macs)
        {
          guint tmp = order[i];
          order[i] = order[j];
          order[j] = tmp;
        }
  text (cr, 40, 115, 12, TRUE, "Separable layers, costliest first");
  text (cr, 40, 132, 9, TRUE, "layer");
  text (cr, 220, 132, 9, TRUE, "params");
  text (cr, 300, 132, 9, TRUE, "MACs");
  text (cr, 400, 132, 9, TRUE, "standard params");
  text (cr, 500, 132, 9, TRUE, "standard MACs");
  text (cr, 620, 132, 9, TRUE, "ratio");
  text (cr, 680, 132, 9, TRUE, "1/C_out + 1/k²");
  for (guint i = 0; i < MIN (n, 24u); i++)
    {
      const XcNode *node = xc_model_node (m, order[i]);
      double y = 147 + i * 15;
      g_autofree char *a1 = xc_format_count (node->n_weights), *a2 = xc_format_count (node->macs);
      g_autofree char *a3 = xc_format_count (node->std_params), *a4 = xc_format_count (node->std_macs);
      g_autofree char *a5 = g_strdup_printf ("%.4f", (double) node->macs / node->std_macs);
      g_autofree char *a6 = g_strdup_printf ("%.4f", 1.0 * node->depth_multiplier / node->c +
                                             1.0 * node->depth_multiplier /
                                             (node->kh * node->kw));
      text (cr, 40, y, 9, FALSE, node->name);
      text (cr, 220, y, 9, FALSE, a1);
      text (cr, 300, y, 9, FALSE, a2);
      text (cr, 400, y, 9, FALSE, a3);
      text (cr, 500, y, 9, FALSE, a4);
      text (cr, 620, y, 9, FALSE, a5);
      text (cr, 680, y, 9, FALSE, a6);
    }
  if (n == 0)
    text (cr, 40, 150, 10, FALSE, "This model has no separable convolutions.");
}

static void
page_compare (cairo_t *cr, const XcReport *r)
{
  const XcReportModel *ms[2] = { &r->a, &r->b };
  int ta = top_class (r->a.model, r->a.probs, 0), tb = top_class (r->b.model, r->b.probs, 0);
  gboolean agree = xc_compare_same_class (r->a.model, ta, r->b.model, tb);
  g_autofree char *verdict = g_strdup_printf ("The two models %s on this image.",
                                              agree ? "agree" : "disagree");

  text (cr, 40, 50, 18, TRUE, "Side by side");
  text (cr, 40, 72, 11, FALSE, verdict);
  for (int k = 0; k < 2; k++)
    {
      const XcReportModel *rm = ms[k];
      double x = 40 + k * 400;
      guint64 p, macs;
      g_autofree char *l = NULL, *ps = NULL, *mc = NULL;
      xc_model_totals (rm->model, &p, NULL, &macs, NULL, NULL);
      ps = xc_format_count (p), mc = xc_format_count (macs);
      text (cr, x, 100, 12, TRUE, rm->model->name);
      l = g_strdup_printf ("%s params, %s MACs, %.1f ms, %.1f MB", ps, mc, rm->cost.latency_ms,
                           rm->cost.memory_bytes / 1048576.0);
      text (cr, x, 116, 9, FALSE, l);
      draw_predictions (cr, rm, x, 126, 360, 5);
      if (rm->explanation)
        {
          g_autofree char *et = explanation_text (rm);
          draw_overlay (cr, r, rm->explanation, x, 225, 330, 300);
          text (cr, x, 540, 9, FALSE, et);
        }
    }
  if (r->a.explanation && r->b.explanation)
    {
      const XcExplanation *ea = r->a.explanation, *eb = r->b.explanation;
      g_autofree char *c = g_strdup_printf ("Correlation of the two maps: %.3f",
                                            xc_map_correlation (ea->map, ea->map_h, ea->map_w,
                                                                eb->map, eb->map_h, eb->map_w));
      text (cr, 40, 565, 10, FALSE, c);
    }
}

/**
 * xc_report_write_pdf:
 *
 * Returns: %FALSE with @error when the file cannot be written
 */
gboolean
xc_report_write_pdf (const XcReport *r, const char *path, GError **error)
{
  char *tmp = xc_output_begin (path, error);
  cairo_surface_t *s;
  cairo_t *cr;
  cairo_status_t st;

  if (tmp == NULL)
    return FALSE;
  s = cairo_pdf_surface_create (tmp, PAGE_W, PAGE_H);
  if (cairo_surface_status (s) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", path,
                   cairo_status_to_string (cairo_surface_status (s)));
      cairo_surface_destroy (s);
      return xc_output_end (tmp, path, FALSE, NULL);
    }
  cairo_pdf_surface_set_metadata (s, CAIRO_PDF_METADATA_TITLE, "Xception Studio report");
  cairo_pdf_surface_set_metadata (s, CAIRO_PDF_METADATA_CREATOR, "Xception Studio");
  cr = cairo_create (s);
  page_analysis (cr, r);
  cairo_show_page (cr);
  page_costs (cr, r);
  cairo_show_page (cr);
  if (r->b.model)
    {
      page_compare (cr, r);
      cairo_show_page (cr);
    }
  cairo_destroy (cr);
  cairo_surface_finish (s);
  st = cairo_surface_status (s);
  cairo_surface_destroy (s);
  if (st != CAIRO_STATUS_SUCCESS)
    g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", path, cairo_status_to_string (st));
  return xc_output_end (tmp, path, st == CAIRO_STATUS_SUCCESS, error);
}
