/* SPDX-License-Identifier: MIT
 *
 * XsImagePanel: the image the analysis ran on, in the window's sidebar,
 * with what it is (format, size, bits, photometric interpretation,
 * modality, the window used) and the notices that must not be missed
 * (random weights, out of domain). For gray DICOM and 16-bit images it is
 * also the window/level control, as in radiology viewers: dragging on the
 * image changes the width (horizontally) and centre (vertically) and
 * re-windows the picture live; on release, and on a preset, reset or a
 * frame of a multi-frame file, "options-changed" asks the window to run
 * the network again, because the windowed image is what the network sees.
 */
#define G_LOG_DOMAIN "xs-image-panel"

#include <math.h>

#include "xs-image-panel.h"
#include "xs-util.h"

struct _XsImagePanel {
  GtkBox          parent_instance;

  /* template widgets */
  GtkPicture     *picture;
  GtkLabel       *info_label;
  GtkBox         *window_box;
  GtkDropDown    *preset_dropdown;
  GtkButton      *reset_button;
  GtkBox         *frame_box;
  GtkSpinButton  *frame_spin;
  GtkLabel       *notice_label;

  /* owned */
  XsAnalysis     *analysis;
  XcImage        *live;          /* a copy re-windowed while dragging */
  GArray         *presets;       /* XcWindowPreset per dropdown row after the first */
  XcImageOptions  options;
  double          drag_center, drag_width;
  gboolean        updating;
};

G_DEFINE_FINAL_TYPE (XsImagePanel, xs_image_panel, GTK_TYPE_BOX)

enum {
  OPTIONS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
emit_changed (XsImagePanel *self)
{
  g_signal_emit (self, signals[OPTIONS_CHANGED], 0);
}

static const XcImage *
current_image (XsImagePanel *self)
{
  return self->analysis ? self->analysis->image : NULL;
}

/* The drag's scale: the full range of the values over about 300 pixels */
static double
value_range (const XcImage *img)
{
  const XcImageSource *s = img->source;

  return s->is_dicom ? MAX (s->max - s->min, 1.0) : MAX (s->full_scale, 1.0);
}

static void
on_drag_begin_cb (GtkGestureDrag *gesture, double x, double y, XsImagePanel *self)
{
  const XcImage *img = current_image (self);

  if (img == NULL || img->values == NULL)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  g_clear_pointer (&self->live, xc_image_free);
  self->live = xc_image_copy (img);
  self->drag_center = img->source->center;
  self->drag_width = img->source->width;
}

static void
on_drag_update_cb (GtkGestureDrag *gesture, double dx, double dy, XsImagePanel *self)
{
  g_autoptr(GdkTexture) tex = NULL;
  g_autofree char *desc = NULL;
  double k;

  if (self->live == NULL)
    return;
  k = value_range (self->live) / 300.0;
  if (!xc_image_set_window (self->live, self->drag_center + dy * k,
                            MAX (1.0, self->drag_width + dx * k), "dragged", NULL))
    return;
  tex = xs_texture_from_image (self->live);
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (tex));
  desc = xc_image_describe (self->live);
  gtk_label_set_text (self->info_label, desc);
}

static void
on_drag_end_cb (GtkGestureDrag *gesture, double dx, double dy, XsImagePanel *self)
{
  if (self->live == NULL)
    return;
  if (dx != 0 || dy != 0)
    {
      self->options.has_window = TRUE;
      self->options.center = self->live->source->center;
      self->options.width = self->live->source->width;
      emit_changed (self);
    }
  g_clear_pointer (&self->live, xc_image_free);
}

static void
on_preset_selected_cb (XsImagePanel *self)
{
  guint i = gtk_drop_down_get_selected (self->preset_dropdown);

  if (self->updating || i == GTK_INVALID_LIST_POSITION || self->presets == NULL)
    return;
  if (i == 0)
    self->options.has_window = FALSE;
  else
    {
      const XcWindowPreset *p = &g_array_index (self->presets, XcWindowPreset, i - 1);
      self->options.has_window = TRUE;
      self->options.center = p->center, self->options.width = p->width;
    }
  emit_changed (self);
}

static void
on_reset_clicked_cb (XsImagePanel *self)
{
  self->options.has_window = FALSE;
  emit_changed (self);
}

static void
on_frame_changed_cb (XsImagePanel *self)
{
  if (self->updating)
    return;
  self->options.frame = gtk_spin_button_get_value_as_int (self->frame_spin);
  emit_changed (self);
}

/* The presets of this image: the file's own windows, then CT's */
static void
fill_presets (XsImagePanel *self, const XcImage *img)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  const XcImageSource *s = img->source;
  guint selected = 0;

  g_array_set_size (self->presets, 0);
  gtk_string_list_append (names, s->is_dicom ? (s->dicom.n_windows ? "The file's window"
                                                : "Min-max of the frame")
                                             : "Full range");
  for (int k = 0; s->is_dicom && k < s->dicom.n_windows; k++)
    {
      g_autofree char *name = g_strdup_printf ("File: %s (%g/%g)", s->dicom.window_name[k][0]
                                               ? s->dicom.window_name[k] : "window",
                                               s->dicom.window_center[k],
                                               s->dicom.window_width[k]);
      XcWindowPreset p = { NULL, s->dicom.window_center[k], s->dicom.window_width[k] };
      g_array_append_val (self->presets, p);
      gtk_string_list_append (names, name);
    }
  if (s->is_dicom && g_str_equal (s->dicom.modality, "CT"))
    for (guint k = 0; k < G_N_ELEMENTS (xc_ct_window_presets); k++)
      {
        const XcWindowPreset *p = &xc_ct_window_presets[k];
        g_autofree char *name = g_strdup_printf ("CT %s (%g/%g)", p->name, p->center, p->width);
        g_array_append_val (self->presets, *p);
        gtk_string_list_append (names, name);
      }
  for (guint k = 0; self->options.has_window && k < self->presets->len; k++)
    {
      const XcWindowPreset *p = &g_array_index (self->presets, XcWindowPreset, k);
      if (p->center == self->options.center && p->width == self->options.width)
        selected = k + 1;
    }
  gtk_drop_down_set_model (self->preset_dropdown, G_LIST_MODEL (names));
  gtk_drop_down_set_selected (self->preset_dropdown, selected);
}

/* The notices, one a line; the same text again changes nothing */
static void
show_notices (XsImagePanel *self, GPtrArray *notes)
{
  if (notes->len > 0)
    {
      g_ptr_array_add (notes, NULL);
      g_autofree char *joined = g_strjoinv ("\n", (char **) notes->pdata);
      gtk_label_set_text (self->notice_label, joined);
      g_ptr_array_remove_index (notes, notes->len - 1);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->notice_label), notes->len > 0);
}

/**
 * xs_image_panel_show:
 *
 * Shows the analysis' image, what it is, its notices and the controls it
 * takes (window for gray high-depth images, frame for multi-frame DICOM).
 */
void
xs_image_panel_show (XsImagePanel *self, XsAnalysis *a)
{
  const XcImage *img = a->image;
  g_autoptr(GdkTexture) tex = xs_texture_from_image (img);
  g_autofree char *base = g_path_get_basename (a->path);
  g_autofree char *desc = xc_image_describe (img);
  g_autofree char *txt = g_strdup_printf ("%s\n%s", base, desc);
  g_autoptr(GPtrArray) notes = xc_image_notices (img, a->model->model);
  gboolean frames = img->source && img->source->is_dicom && img->source->dicom.frames > 1;

  g_clear_pointer (&self->analysis, xs_analysis_unref);
  self->analysis = xs_analysis_ref (a);
  self->options = a->options;
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (tex));
  gtk_label_set_text (self->info_label, txt);

  self->updating = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self->window_box), img->values != NULL);
  if (img->values != NULL)
    fill_presets (self, img);
  gtk_widget_set_visible (GTK_WIDGET (self->frame_box), frames);
  if (frames)
    {
      gtk_spin_button_set_range (self->frame_spin, 0, img->source->dicom.frames - 1);
      gtk_spin_button_set_value (self->frame_spin, img->source->dicom.frame);
    }
  self->updating = FALSE;

  show_notices (self, notes);
}

/**
 * xs_image_panel_set_model:
 *
 * Shows @model's own notices (random weights) from the moment it is
 * loaded, before its first image: what is there already is not laid out
 * again when that image's analysis shows the same notices (a wrapped
 * paragraph took 3-4.5 ms of measuring in the frame that shows the
 * predictions, 9 Pango layouts at various widths)
 */
void
xs_image_panel_set_model (XsImagePanel *self, const XcModel *model)
{
  g_autoptr(GPtrArray) notes = xc_model_notices (model);

  show_notices (self, notes);
}

const XcImageOptions *
xs_image_panel_get_options (XsImagePanel *self)
{
  return &self->options;
}

/* A new image starts at frame 0 with the default window, unless the
 * command line asked otherwise */
void
xs_image_panel_set_options (XsImagePanel *self, const XcImageOptions *options)
{
  if (options != NULL)
    self->options = *options;
  else
    memset (&self->options, 0, sizeof self->options);
}

static void
xs_image_panel_dispose (GObject *object)
{
  XsImagePanel *self = XS_IMAGE_PANEL (object);

  g_clear_pointer (&self->analysis, xs_analysis_unref);
  g_clear_pointer (&self->live, xc_image_free);
  g_clear_pointer (&self->presets, g_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), XS_TYPE_IMAGE_PANEL);
  G_OBJECT_CLASS (xs_image_panel_parent_class)->dispose (object);
}

static void
xs_image_panel_class_init (XsImagePanelClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = xs_image_panel_dispose;

  /**
   * XsImagePanel::options-changed:
   *
   * The window, frame or preset changed: the image must be read again.
   */
  signals[OPTIONS_CHANGED] = g_signal_new ("options-changed", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/xceptionstudio/XceptionStudio/ui/"
                                               "xs-image-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, XsImagePanel, picture);
  gtk_widget_class_bind_template_child (widget_class, XsImagePanel, info_label);
  gtk_widget_class_bind_template_child (widget_class, XsImagePanel, window_box);
  gtk_widget_class_bind_template_child (widget_class, XsImagePanel, preset_dropdown);
  gtk_widget_class_bind_template_child (widget_class, XsImagePanel, reset_button);
  gtk_widget_class_bind_template_child (widget_class, XsImagePanel, frame_box);
  gtk_widget_class_bind_template_child (widget_class, XsImagePanel, frame_spin);
  gtk_widget_class_bind_template_child (widget_class, XsImagePanel, notice_label);
  gtk_widget_class_bind_template_callback (widget_class, on_preset_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_reset_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_frame_changed_cb);
}

static void
xs_image_panel_init (XsImagePanel *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->presets = g_array_new (FALSE, FALSE, sizeof (XcWindowPreset));
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->picture), GTK_EVENT_CONTROLLER (drag));
}
