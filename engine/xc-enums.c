/* SPDX-License-Identifier: MIT
 *
 * The string tables of the engine's enumerations (xc-enums.h): one name per
 * value, in enum order, and for methods the title the window shows.
 */
#define G_LOG_DOMAIN "xc-enums"

#include "xc-enums.h"

static const char *const act_names[] = {
  "linear", "relu", "relu6", "sigmoid", "tanh", "softmax", "swish", NULL
};
static const char *const pre_names[] = { "tf", "caffe", "torch", "unit", NULL };
static const char *const method_names[XC_N_METHODS + 1] = {
  "gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "scorecam", "ablationcam",
  "eigencam", "saliency", "smoothgrad", "integrated-gradients", "guided-backprop",
  "guided-gradcam", "occlusion", NULL
};
static const char *const method_titles[XC_N_METHODS + 1] = {
  "Grad-CAM", "Grad-CAM++", "XGrad-CAM", "HiRes-CAM", "LayerCAM", "Score-CAM", "Ablation-CAM",
  "Eigen-CAM", "Saliency", "SmoothGrad", "Integrated Gradients", "Guided Backprop",
  "Guided Grad-CAM", "Occlusion", NULL
};
static const char *const score_names[] = { "logit", "probability", "log-probability", NULL };
static const char *const baseline_names[] = { "zero", "black", "blurred", NULL };
static const char *const cmap_names[XC_N_COLORMAPS + 1] = {
  "jet", "turbo", "viridis", "inferno", "gray", NULL
};

static const char *
name_of (const char *const *names, guint value)
{
  for (guint i = 0; names[i]; i++)
    if (i == value)
      return names[i];
  g_return_val_if_reached ("?");
}

static gboolean
value_of (const char *const *names, const char *s, guint *value)
{
  for (guint i = 0; names[i]; i++)
    if (g_strcmp0 (s, names[i]) == 0)
      {
        *value = i;
        return TRUE;
      }
  return FALSE;
}

const char *
xc_act_name (XcAct act)
{
  return name_of (act_names, act);
}

gboolean
xc_act_from_string (const char *s, XcAct *act)
{
  guint v;

  if (g_strcmp0 (s, "silu") == 0)
    s = "swish";
  if (!value_of (act_names, s, &v))
    return FALSE;
  *act = v;
  return TRUE;
}

const char *
xc_preprocess_name (XcPreprocess p)
{
  return name_of (pre_names, p);
}

gboolean
xc_preprocess_from_string (const char *s, XcPreprocess *p)
{
  guint v;

  if (!value_of (pre_names, s, &v))
    return FALSE;
  *p = v;
  return TRUE;
}

const char *
xc_method_name (XcMethod method)
{
  return name_of (method_names, method);
}

const char *
xc_method_title (XcMethod method)
{
  return name_of (method_titles, method);
}

const char *const *
xc_method_titles (void)
{
  return method_titles;
}

gboolean
xc_method_from_string (const char *s, XcMethod *method)
{
  guint v;

  if (!value_of (method_names, s, &v))
    return FALSE;
  *method = v;
  return TRUE;
}

const char *
xc_score_name (XcScore score)
{
  return name_of (score_names, score);
}

gboolean
xc_score_from_string (const char *s, XcScore *score)
{
  guint v;

  if (!value_of (score_names, s, &v))
    return FALSE;
  *score = v;
  return TRUE;
}

const char *
xc_baseline_name (XcBaseline baseline)
{
  return name_of (baseline_names, baseline);
}

gboolean
xc_baseline_from_string (const char *s, XcBaseline *baseline)
{
  guint v;

  if (!value_of (baseline_names, s, &v))
    return FALSE;
  *baseline = v;
  return TRUE;
}

const char *
xc_colormap_name (XcColormap cmap)
{
  return name_of (cmap_names, cmap);
}

const char *const *
xc_colormap_names (void)
{
  return cmap_names;
}

gboolean
xc_colormap_from_string (const char *s, XcColormap *cmap)
{
  guint v;

  if (g_strcmp0 (s, "grey") == 0)
    s = "gray";
  if (!value_of (cmap_names, s, &v))
    return FALSE;
  *cmap = v;
  return TRUE;
}
