/* SPDX-License-Identifier: MIT
 *
 * The explanation methods, over one backward plan (batch 1, every output
 * kept) and, for the methods that score many perturbed inputs, a forward
 * plan of batch XC_EXPLAIN_BATCH.
 *
 * The score explained is the class' pre-softmax logit by default: a final
 * softmax (an Activation layer or fused into Dense) is bypassed, as the Keras
 * Grad-CAM example does. CAM weights follow pytorch-grad-cam's definitions:
 *   Grad-CAM    a_k = mean_ij G_ijk
 *   Grad-CAM++  a_k = sum_ij relu(G) G^2 / (2 G^2 + sum_ij(A_k) G^3 + 1e-6)   (0 where G = 0)
 *   XGrad-CAM   a_k = sum_ij G A / (sum_ij A + 1e-7)
 *   HiRes-CAM   cam_ij = sum_k G_ijk A_ijk (no pooling)
 *   LayerCAM    cam_ij = sum_k relu(G_ijk) A_ijk
 *   Score-CAM   a = softmax_k(score(x * norm(up(A_k))))
 *   Ablation    a_k = (s - s with A_k = 0) / s
 *   Eigen-CAM   the projection of the centred (hw, C) activations on their
 *               first principal direction (LAPACK ssyev), its sign chosen to
 *               agree with the mean activation
 * and cam = relu(sum_k a_k A_k), at the layer's resolution.
 */
#define G_LOG_DOMAIN "xc-explain"

#include <math.h>
#include <string.h>
#include <cblas.h>

#include "xc-random.h"
#include "xc-error.h"
#include "xc-explain.h"
#include "io/xc-image.h"

#define XC_EXPLAIN_BATCH 4

/* LAPACK from OpenBLAS */
extern void ssyev_ (const char *jobz, const char *uplo, const int *n, float *a, const int *lda,
                    float *w, float *work, const int *lwork, int *info);

struct _XcExplainer {
  const XcModel *model;
  XcPlan        *plan;        /* backward, batch 1 */
  guint          plan_layer;  /* the layer whose gradient the plan keeps, or G_MAXUINT */
  gboolean       plan_input;  /* the plan also keeps the input's gradient */
  XcPlan        *batch;       /* forward, batch_size images, lazily */
  int            batch_size;
  float         *input;       /* (H, W, C), preprocessed */
  size_t         input_size;
  float         *probs;       /* (classes), valid once the plan ran on the input */
  int            classes;
  gboolean       have_input;
  gboolean       have_probs;
  gboolean       plan_dirty;  /* the plan's activations are of another input */
};

/* Methods that read a target layer (the input methods ignore it) */
gboolean
xc_method_uses_layer (XcMethod method)
{
  return method <= XC_METHOD_EIGENCAM || method == XC_METHOD_GUIDED_GRADCAM;
}

void
xc_explain_options_init (XcExplainOptions *opts)
{
  *opts = (XcExplainOptions) {
    .method = XC_METHOD_GRADCAM, .target_class = -1, .layer = G_MAXUINT,
    .score = XC_SCORE_LOGIT, .noise = 0.15f, .baseline = XC_BASELINE_ZERO, .seed = 1,
  };
}

XcExplainer *
xc_explainer_new (const XcModel *model, GError **error)
{
  const XcNode *out = xc_model_node (model, model->output);
  const XcNode *in = xc_model_input (model);
  XcExplainer *ex;

  if (!out->flat)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                   "%s: the output %s is not a class vector", model->name, out->name);
      return NULL;
    }
  ex = g_new0 (XcExplainer, 1);
  ex->model = model;
  ex->plan_layer = G_MAXUINT - 1;
  ex->input_size = (size_t) in->h * in->w * in->c;
  /* perturbed inputs are scored a few at a time; large inputs one at a time
   * (their GEMMs are large already, and a batch multiplies the activations) */
  ex->batch_size = (size_t) in->h * in->w >= 128 * 128 ? 1 : XC_EXPLAIN_BATCH;
  ex->input = g_new0 (float, ex->input_size);
  ex->classes = out->c;
  ex->probs = g_new0 (float, out->c);
  return ex;
}

void
xc_explainer_free (XcExplainer *ex)
{
  if (ex == NULL)
    return;
  g_clear_pointer (&ex->plan, xc_plan_free);
  g_clear_pointer (&ex->batch, xc_plan_free);
  g_free (ex->input);
  g_free (ex->probs);
  g_free (ex);
}

static void
forward_single (XcExplainer *ex)
{
  XcTensor in = xc_plan_input (ex->plan), out;

  memcpy (in.data, ex->input, ex->input_size * sizeof (float));
  xc_plan_run (ex->plan, FALSE, NULL, NULL, NULL);
  xc_plan_output (ex->plan, ex->model->output, &out);
  memcpy (ex->probs, out.data, ex->classes * sizeof (float));
  ex->have_probs = TRUE;
  ex->plan_dirty = FALSE;
}

/* A backward plan keeping the gradient of layer (G_MAXUINT: none) and, with
 * want_input, of the input; it keeps only the activations a backward pass
 * down to the deepest of them reads. Reused while they stay the same. */
static gboolean
ensure_plan (XcExplainer *ex, guint layer, gboolean want_input, GError **error)
{
  g_autofree gboolean *want = NULL;

  if (ex->plan != NULL && ex->plan_layer == layer && ex->plan_input == want_input)
    {
      /* the plan scored perturbed inputs meanwhile: its activations are stale */
      if (ex->plan_dirty && ex->have_input)
        forward_single (ex);
      return TRUE;
    }
  g_clear_pointer (&ex->plan, xc_plan_free);
  ex->have_probs = FALSE;
  want = g_new0 (gboolean, xc_model_n_nodes (ex->model));
  want[0] = want_input;
  if (layer != G_MAXUINT)
    want[layer] = TRUE;
  ex->plan = xc_plan_new_backward_to (ex->model, 1, want,
                                      want_input || layer == G_MAXUINT ? 0 : layer, error);
  if (ex->plan == NULL)
    return FALSE;
  ex->plan_layer = layer;
  ex->plan_input = want_input;
  if (ex->have_input)
    forward_single (ex);
  return TRUE;
}

/**
 * xc_explainer_set_input:
 * @input: (array): one preprocessed image, (H, W, C) of the model's input
 *
 * Every explanation of this input reuses one forward pass (of the plan the
 * first explanation needs; the plans stay for the next input).
 */
gboolean
xc_explainer_set_input (XcExplainer *ex, const float *input, GError **error)
{
  memcpy (ex->input, input, ex->input_size * sizeof (float));
  ex->have_input = TRUE;
  ex->have_probs = FALSE;
  if (ex->plan != NULL)
    forward_single (ex);
  return TRUE;
}

/* The forward pass on the input, through the current plan or the default
 * CAM layer's (what the next explanation most likely needs) */
static gboolean
ensure_probs (XcExplainer *ex, GError **error)
{
  guint layer;

  if (ex->have_probs)
    return TRUE;
  if (ex->plan == NULL)
    {
      if (!xc_model_default_cam_layer (ex->model, &layer, NULL))
        layer = G_MAXUINT;
      return ensure_plan (ex, layer, layer == G_MAXUINT, error);
    }
  forward_single (ex);
  return TRUE;
}

/**
 * xc_explainer_plan:
 *
 * Returns: (transfer none) (nullable): the plan the explainer runs now
 */
XcPlan *
xc_explainer_plan (XcExplainer *ex)
{
  return ex->plan;
}

/**
 * xc_explainer_forward:
 * @input: (array): one preprocessed image
 * @stats: also take each layer's activation statistics
 *
 * Sets the input and runs the forward pass in the plan of the default CAM
 * layer (or the current one), so that explaining it next needs only the
 * backward pass: one forward serves both the predictions and Grad-CAM. The
 * plan, borrowed, has each node's time and statistics and the output.
 *
 * Returns: (transfer none): the plan, or %NULL with @error (cancelled, or no
 *   memory for the plan)
 */
XcPlan *
xc_explainer_forward (XcExplainer *ex, const float *input, gboolean stats,
                      XcProgressFunc progress, gpointer data, GError **error)
{
  return xc_explainer_forward_to (ex, input, G_MAXUINT, stats, progress, data, error);
}

/**
 * xc_explainer_forward_to:
 * @last: the last node to run (G_MAXUINT: all)
 *
 * xc_explainer_forward() as far as @last only (a layer's output copied out
 * between two nodes needs no more); the next explanation runs the rest.
 *
 * Returns: (transfer none): the plan, or %NULL with @error
 */
XcPlan *
xc_explainer_forward_to (XcExplainer *ex, const float *input, guint last, gboolean stats,
                         XcProgressFunc progress, gpointer data, GError **error)
{
  XcTensor in, out;
  guint layer, n = xc_model_n_nodes (ex->model);

  memcpy (ex->input, input, ex->input_size * sizeof (float));
  ex->have_input = FALSE;    /* until the run completes */
  ex->have_probs = FALSE;
  if (ex->plan == NULL)
    {
      if (!xc_model_default_cam_layer (ex->model, &layer, NULL))
        layer = G_MAXUINT;
      if (!ensure_plan (ex, layer, layer == G_MAXUINT, error))
        return NULL;
    }
  in = xc_plan_input (ex->plan);
  memcpy (in.data, ex->input, ex->input_size * sizeof (float));
  last = MIN (last, n - 1);
  if (last == 0 || !xc_plan_run_range (ex->plan, 1, last, stats, progress, data, error))
    {
      ex->plan_dirty = TRUE;
      if (last == 0)
        ex->have_input = TRUE;   /* the input alone: nothing to run */
      return last == 0 ? ex->plan : NULL;
    }
  if (last < n - 1)
    {
      ex->have_input = TRUE;
      ex->plan_dirty = TRUE;
      return ex->plan;
    }
  xc_plan_output (ex->plan, ex->model->output, &out);
  memcpy (ex->probs, out.data, ex->classes * sizeof (float));
  ex->have_input = ex->have_probs = TRUE;
  ex->plan_dirty = FALSE;
  return ex->plan;
}

/**
 * xc_explainer_probabilities:
 *
 * Returns: (transfer none) (nullable): the class probabilities of the input,
 *   or %NULL when the plan for them cannot be allocated
 */
const float *
xc_explainer_probabilities (XcExplainer *ex)
{
  g_return_val_if_fail (ex->have_input, NULL);
  return ensure_probs (ex, NULL) ? ex->probs : NULL;
}

/* Does the output end in a softmax/sigmoid whose input is the logit? */
static gboolean
output_squashed (const XcModel *model)
{
  XcAct act = xc_model_node (model, model->output)->act;
  return act == XC_ACT_SOFTMAX || act == XC_ACT_SIGMOID;
}

/* The score of class cls for batch element b of a plan that kept the output
 * and its input. Logits: the Activation layer's input, or for a fused Dense
 * softmax x . W[:, cls] + b[cls]; otherwise log p (equal up to a constant). */
static double
plan_score (const XcModel *model, XcPlan *plan, int b, int cls, XcScore score)
{
  const XcNode *out = xc_model_node (model, model->output);
  XcTensor y, x;
  double p;

  xc_plan_output (plan, model->output, &y);
  p = y.data[(size_t) b * y.c + cls];
  if (score == XC_SCORE_PROBABILITY || !output_squashed (model))
    return p;
  if (score == XC_SCORE_LOG_PROBABILITY)
    return log (MAX (p, 1e-30));
  if (out->op == XC_OP_ACTIVATION && xc_plan_output (plan, out->inputs[0], &x))
    return x.data[(size_t) b * x.c + cls];
  if (out->op == XC_OP_DENSE && xc_plan_output (plan, out->inputs[0], &x))
    {
      const float *w = out->params[0].data;
      double z = out->use_bias ? out->params[1].data[cls] : 0.0;
      for (int i = 0; i < x.c; i++)
        z += (double) x.data[(size_t) b * x.c + i] * w[(size_t) i * out->c + cls];
      return z;
    }
  return log (MAX (p, 1e-30));
}

/* Seeds the backward pass from the output for class cls */
static gboolean
backward_class (XcExplainer *ex, const XcExplainOptions *o, int cls, guint stop, gboolean guided,
                GError **error)
{
  g_autofree float *seed = g_new0 (float, ex->classes);
  gboolean pre = FALSE;
  float v = o->counterfactual ? -1.0f : 1.0f;

  if (o->score == XC_SCORE_LOGIT && output_squashed (ex->model))
    pre = TRUE;
  else if (o->score == XC_SCORE_LOG_PROBABILITY)
    v /= MAX (ex->probs[cls], 1e-30f);
  seed[cls] = v;
  return xc_plan_backward (ex->plan, ex->model->output, seed, pre, stop, guided, NULL, NULL,
                           error);
}

/* The plan that scores perturbed inputs. With one image at a time and
 * reuse allowed (the caller reads none of the plan's activations while it
 * scores), the single plan itself; otherwise a forward plan of its own. */
static XcPlan *
batch_plan (XcExplainer *ex, gboolean reuse, GError **error)
{
  g_autofree gboolean *keep = NULL;
  const XcNode *out = xc_model_node (ex->model, ex->model->output);

  if (ex->batch)
    return ex->batch;
  if (reuse && ex->batch_size == 1 && ex->plan != NULL)
    {
      /* one image at a time: the single plan scores them (its activations
       * are then stale until the next explanation runs it again) */
      ex->plan_dirty = TRUE;
      return ex->plan;
    }
  keep = g_new0 (gboolean, xc_model_n_nodes (ex->model));
  if (out->n_inputs)
    keep[out->inputs[0]] = TRUE;
  ex->batch = xc_plan_new (ex->model, ex->batch_size, keep, error);
  return ex->batch;
}

/* Scores n perturbed inputs made by fill(i, dst) in batches */
typedef void (*FillFunc) (gpointer data, int i, float *dst);

static void scorecam_fill (gpointer data, int i, float *dst);

static gboolean
score_many (XcExplainer *ex, int n, FillFunc fill, gpointer fill_data, int cls, XcScore score,
            double *out, XcProgressFunc progress, gpointer pdata, GError **error)
{
  /* Score-CAM's fill reads the layer's activations from the single plan */
  XcPlan *plan = batch_plan (ex, fill != scorecam_fill, error);
  XcTensor in;

  if (plan == NULL)
    return FALSE;
  in = xc_plan_input (plan);
  for (int i0 = 0; i0 < n; i0 += ex->batch_size)
    {
      int m = MIN (ex->batch_size, n - i0);
      if (progress && !progress (i0, n, pdata))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_CANCELLED, "cancelled");
          return FALSE;
        }
      for (int b = 0; b < ex->batch_size; b++)
        fill (fill_data, i0 + MIN (b, m - 1), in.data + b * ex->input_size);
      xc_plan_run (plan, FALSE, NULL, NULL, NULL);
      for (int b = 0; b < m; b++)
        out[i0 + b] = plan_score (ex->model, plan, b, cls, score);
    }
  return TRUE;
}

/* Bilinear, half-pixel centres: the same convention as the image resize
 * and PyTorch's interpolate(mode="bilinear", align_corners=False) */
static void
resize_map (const float *src, int h, int w, float *dst, int oh, int ow)
{
  XcImage s = { (float *) src, h, w, 1 }, d = { dst, oh, ow, 1 };

  if (h == oh && w == ow)
    memcpy (dst, src, (size_t) h * w * sizeof (float));
  else
    xc_image_resize (&s, &d);
}

static void
cam_from_weights (const XcTensor *a, const double *weights, float *cam)
{
  size_t hw = (size_t) a->h * a->w;

  for (size_t p = 0; p < hw; p++)
    {
      double s = 0;
      for (int k = 0; k < a->c; k++)
        s += weights[k] * a->data[p * a->c + k];
      cam[p] = (float) MAX (s, 0.0);
    }
}

static void
gradient_cam (XcMethod method, const XcTensor *a, const XcTensor *g, float *cam)
{
  size_t hw = (size_t) a->h * a->w;
  int c = a->c;
  g_autofree double *w = g_new0 (double, c);

  switch (method)
    {
    case XC_METHOD_GRADCAM:
    case XC_METHOD_GUIDED_GRADCAM:
      for (size_t p = 0; p < hw; p++)
        for (int k = 0; k < c; k++)
          w[k] += g->data[p * c + k];
      for (int k = 0; k < c; k++)
        w[k] /= hw;
      cam_from_weights (a, w, cam);
      break;
    case XC_METHOD_GRADCAMPP:
      {
        g_autofree double *sum_a = g_new0 (double, c);
        for (size_t p = 0; p < hw; p++)
          for (int k = 0; k < c; k++)
            sum_a[k] += a->data[p * c + k];
        for (size_t p = 0; p < hw; p++)
          for (int k = 0; k < c; k++)
            {
              double gr = g->data[p * c + k], g2 = gr * gr, g3 = g2 * gr;
              double aij = gr != 0 ? g2 / (2 * g2 + sum_a[k] * g3 + 1e-6) : 0;
              w[k] += MAX (gr, 0.0) * aij;
            }
        cam_from_weights (a, w, cam);
      }
      break;
    case XC_METHOD_XGRADCAM:
      {
        g_autofree double *sum_a = g_new0 (double, c);
        for (size_t p = 0; p < hw; p++)
          for (int k = 0; k < c; k++)
            {
              sum_a[k] += a->data[p * c + k];
              w[k] += (double) g->data[p * c + k] * a->data[p * c + k];
            }
        for (int k = 0; k < c; k++)
          w[k] /= sum_a[k] + 1e-7;
        cam_from_weights (a, w, cam);
      }
      break;
    case XC_METHOD_HIRESCAM:
    case XC_METHOD_LAYERCAM:
      for (size_t p = 0; p < hw; p++)
        {
          double s = 0;
          for (int k = 0; k < c; k++)
            {
              double gr = g->data[p * c + k];
              if (method == XC_METHOD_LAYERCAM)
                gr = MAX (gr, 0.0);
              s += gr * a->data[p * c + k];
            }
          cam[p] = (float) MAX (s, 0.0);
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
eigen_cam (const XcTensor *a, float *cam, GError **error)
{
  int hw = a->h * a->w, c = a->c;
  gboolean gram_rows = hw <= c;   /* decompose the smaller of M M^T (hw) and M^T M (c) */
  int n = gram_rows ? hw : c;
  g_autofree float *m = g_new (float, (size_t) hw * c);
  g_autofree float *cov = g_new0 (float, (size_t) n * n);
  g_autofree float *eig = g_new (float, n);
  g_autofree double *mean = g_new0 (double, c);
  int lwork = -1, info = 0;
  float wq;
  double sign = 0;
  g_autofree float *work = NULL;

  for (int p = 0; p < hw; p++)
    for (int k = 0; k < c; k++)
      mean[k] += a->data[(size_t) p * c + k] / (double) hw;
  for (int p = 0; p < hw; p++)
    for (int k = 0; k < c; k++)
      m[(size_t) p * c + k] = (float) (a->data[(size_t) p * c + k] - mean[k]);
  if (gram_rows)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, hw, hw, c, 1.0f, m, c, m, c, 0.0f,
                 cov, hw);
  else
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, c, c, hw, 1.0f, m, c, m, c, 0.0f,
                 cov, c);
  /* symmetric, so row- and column-major agree; eigenvalues ascending */
  ssyev_ ("V", "U", &n, cov, &n, eig, &wq, &lwork, &info);
  lwork = MAX (1, (int) wq);
  work = g_new (float, lwork);
  ssyev_ ("V", "U", &n, cov, &n, eig, work, &lwork, &info);
  if (info != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FAILED, "Eigen-CAM: the eigensolver failed (%d)",
                   info);
      return FALSE;
    }
  {
    const float *v = cov + (size_t) (n - 1) * n;   /* column-major: last eigenvector */
    for (int p = 0; p < hw; p++)
      {
        double s = 0;
        if (gram_rows)
          s = v[p] * sqrt (MAX (eig[n - 1], 0.0f));    /* sigma u */
        else
          for (int k = 0; k < c; k++)
            s += (double) m[(size_t) p * c + k] * v[k]; /* M v */
        cam[p] = (float) s;
      }
  }
  for (int p = 0; p < hw; p++)
    {
      double avg = 0;
      for (int k = 0; k < c; k++)
        avg += a->data[(size_t) p * c + k];
      sign += cam[p] * avg;
    }
  if (sign < 0)
    for (int p = 0; p < hw; p++)
      cam[p] = -cam[p];
  return TRUE;
}

static XcExplanation *
explanation_new (const XcExplainOptions *o, int cls, guint layer, int mh, int mw, int gh, int gw,
                 int gc)
{
  XcExplanation *e = g_new0 (XcExplanation, 1);

  e->method = o->method;
  e->target_class = cls;
  e->layer = layer;
  e->map_h = mh, e->map_w = mw;
  e->map = g_new0 (float, (size_t) mh * mw);
  e->grad_h = gh, e->grad_w = gw, e->grad_c = gc;
  e->grad = gc ? g_new0 (float, (size_t) gh * gw * gc) : NULL;
  return e;
}

void
xc_explanation_free (XcExplanation *e)
{
  if (e == NULL)
    return;
  g_free (e->map);
  g_free (e->grad);
  g_free (e);
}

/* Score-CAM: one masked input per channel */
typedef struct {
  XcExplainer    *ex;
  const XcTensor *a;
  float          *up;     /* (H, W) */
  float          *tmp;    /* (h, w) */
} ScoreCamFill;

static void
scorecam_fill (gpointer data, int k, float *dst)
{
  ScoreCamFill *f = data;
  const XcNode *in = xc_model_input (f->ex->model);
  size_t hw = (size_t) f->a->h * f->a->w, HW = (size_t) in->h * in->w;
  float mn = G_MAXFLOAT, mx = -G_MAXFLOAT;

  for (size_t p = 0; p < hw; p++)
    f->tmp[p] = f->a->data[p * f->a->c + k];
  resize_map (f->tmp, f->a->h, f->a->w, f->up, in->h, in->w);
  for (size_t p = 0; p < HW; p++)
    mn = MIN (mn, f->up[p]), mx = MAX (mx, f->up[p]);
  for (size_t p = 0; p < HW; p++)
    {
      float m = mx > mn ? (f->up[p] - mn) / (mx - mn) : 0.0f;
      for (int ch = 0; ch < in->c; ch++)
        dst[p * in->c + ch] = f->ex->input[p * in->c + ch] * m;
    }
}

/* Occlusion: one window of baseline (0) per input */
typedef struct {
  XcExplainer *ex;
  int         *pos;    /* (y, x) per window */
  int          window;
} OcclusionFill;

static void
occlusion_fill (gpointer data, int i, float *dst)
{
  OcclusionFill *f = data;
  const XcNode *in = xc_model_input (f->ex->model);
  int y0 = f->pos[2 * i], x0 = f->pos[2 * i + 1];

  memcpy (dst, f->ex->input, f->ex->input_size * sizeof (float));
  for (int y = y0; y < MIN (y0 + f->window, in->h); y++)
    for (int x = x0; x < MIN (x0 + f->window, in->w); x++)
      for (int ch = 0; ch < in->c; ch++)
        dst[((size_t) y * in->w + x) * in->c + ch] = 0.0f;
}

/* Window offsets along one axis, the last flush with the end; any stride
 * past the size means one window (and p + stride can no longer wrap) */
static int
window_positions (int size, int window, int stride, int *out)
{
  int n = 0;

  stride = CLAMP (stride, 1, MAX (size, 1));
  for (int p = 0; p <= size - window; p += stride)
    out[n++] = p;
  if (n == 0 || out[n - 1] + window < size)
    out[n++] = MAX (size - window, 0);
  return n;
}

static float
gaussian (guint64 seed, guint64 i)
{
  /* Box-Muller from two of the engine's seeded uniforms */
  double u1 = MAX (xc_seeded_uniform (seed, 1, i), 1e-7f);
  double u2 = xc_seeded_uniform (seed, 2, i);
  return (float) (sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2));
}

static void
box_blur (const float *src, float *dst, int h, int w, int c, int r)
{
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int ch = 0; ch < c; ch++)
        {
          double s = 0;
          int n = 0;
          for (int yy = MAX (y - r, 0); yy <= MIN (y + r, h - 1); yy++)
            for (int xx = MAX (x - r, 0); xx <= MIN (x + r, w - 1); xx++)
              s += src[((size_t) yy * w + xx) * c + ch], n++;
          dst[((size_t) y * w + x) * c + ch] = (float) (s / n);
        }
}

static void
channel_max_abs (const float *g, size_t pixels, int c, float *map)
{
  for (size_t p = 0; p < pixels; p++)
    {
      float m = 0;
      for (int k = 0; k < c; k++)
        m = MAX (m, fabsf (g[p * c + k]));
      map[p] = m;
    }
}

static gboolean
input_gradient (XcExplainer *ex, const XcExplainOptions *o, int cls, gboolean guided,
                float *dst, GError **error)
{
  XcTensor g;

  if (!backward_class (ex, o, cls, 0, guided, error))
    return FALSE;
  xc_plan_grad (ex->plan, 0, &g);
  memcpy (dst, g.data, ex->input_size * sizeof (float));
  return TRUE;
}

/* Run the single plan on a modified input (SmoothGrad, IG), then restore */
static void
forward_with (XcExplainer *ex, const float *x)
{
  XcTensor in = xc_plan_input (ex->plan);

  memcpy (in.data, x, ex->input_size * sizeof (float));
  xc_plan_run (ex->plan, FALSE, NULL, NULL, NULL);
}

static gboolean
cancelled (XcProgressFunc progress, gpointer data, int i, int n, GError **error)
{
  if (progress && !progress (i, n, data))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_CANCELLED, "cancelled");
      return TRUE;
    }
  return FALSE;
}

/**
 * xc_explainer_run:
 * @progress: (nullable) (scope call): step/total, FALSE cancels
 *
 * Returns: (transfer full): the explanation, or %NULL with @error (a bad
 *   class or layer, or cancelled)
 */
XcExplanation *
xc_explainer_run (XcExplainer            *ex,
                  const XcExplainOptions *o,
                  XcProgressFunc          progress,
                  gpointer                pdata,
                  GError                **error)
{
  const XcModel *model = ex->model;
  const XcNode *in = xc_model_input (model);
  g_autoptr(XcExplanation) e = NULL;
  gint64 t0 = g_get_monotonic_time ();
  guint layer = G_MAXUINT;
  int cls = o->target_class;
  size_t HW = (size_t) in->h * in->w;

  g_return_val_if_fail (ex->have_input, NULL);
  if (o->method >= XC_N_METHODS)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "unknown explanation method");
      return NULL;
    }
  if (o->steps < 0 || o->steps > XC_EXPLAIN_MAX_STEPS)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--steps %d: from 1 to %d (each step is "
                   "a forward and a backward pass)", o->steps, XC_EXPLAIN_MAX_STEPS);
      return NULL;
    }
  if (cls >= ex->classes)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                   "class %d is out of range: %s has %d classes (0 to %d)", cls, model->name,
                   ex->classes, ex->classes - 1);
      return NULL;
    }
  if (xc_method_uses_layer (o->method))
    {
      layer = o->layer;
      if (layer == G_MAXUINT && !xc_model_default_cam_layer (model, &layer, error))
        return NULL;
      if (layer == 0 || layer >= xc_model_n_nodes (model) || xc_model_node (model, layer)->flat ||
          layer >= model->output)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
                       "layer %s cannot be explained: %s needs a layer with spatial (H, W, C) "
                       "output between the input and the output",
                       layer < xc_model_n_nodes (model) ? xc_model_node (model, layer)->name : "?",
                       xc_method_name (o->method));
          return NULL;
        }
    }
  if (!ensure_plan (ex, layer,
                    layer == G_MAXUINT || o->method == XC_METHOD_GUIDED_GRADCAM, error) ||
      !ensure_probs (ex, error))
    return NULL;
  if (cls < 0)
    {
      cls = 0;
      for (int i = 1; i < ex->classes; i++)
        if (ex->probs[i] > ex->probs[cls])
          cls = i;
    }

  if (o->method <= XC_METHOD_EIGENCAM)
    {
      const XcNode *ln = xc_model_node (model, layer);
      XcTensor a, g;
      xc_plan_output (ex->plan, layer, &a);
      e = explanation_new (o, cls, layer, ln->h, ln->w, ln->h, ln->w, ln->c);
      switch (o->method)
        {
        case XC_METHOD_SCORECAM:
          {
            g_autofree double *scores = g_new (double, ln->c);
            g_autofree double *w = g_new (double, ln->c);
            g_autofree float *up = g_new (float, HW);
            g_autofree float *tmp = g_new (float, (size_t) ln->h * ln->w);
            ScoreCamFill f = { ex, &a, up, tmp };
            double mx = -G_MAXDOUBLE, sum = 0;
            if (!score_many (ex, ln->c, scorecam_fill, &f, cls, o->score, scores, progress, pdata,
                             error))
              return NULL;
            for (int k = 0; k < ln->c; k++)
              {
                if (o->counterfactual)
                  scores[k] = -scores[k];
                mx = MAX (mx, scores[k]);
              }
            for (int k = 0; k < ln->c; k++)
              sum += (w[k] = exp (scores[k] - mx));
            for (int k = 0; k < ln->c; k++)
              w[k] /= sum;
            cam_from_weights (&a, w, e->map);
            memcpy (e->grad, a.data, xc_tensor_size (&a) * sizeof (float));
          }
          break;
        case XC_METHOD_ABLATIONCAM:
          {
            guint last = xc_model_n_nodes (model) - 1;
            size_t hw = (size_t) ln->h * ln->w;
            g_autofree double *w = g_new (double, ln->c);
            g_autofree float *saved = g_new (float, hw);
            double s0 = plan_score (model, ex->plan, 0, cls, o->score);
            for (int k = 0; k < ln->c; k++)
              {
                double s;
                if (cancelled (progress, pdata, k, ln->c, error))
                  {
                    forward_single (ex);
                    return NULL;
                  }
                for (size_t p = 0; p < hw; p++)
                  saved[p] = a.data[p * ln->c + k], a.data[p * ln->c + k] = 0.0f;
                xc_plan_run_range (ex->plan, layer + 1, last, FALSE, NULL, NULL, NULL);
                s = plan_score (model, ex->plan, 0, cls, o->score);
                for (size_t p = 0; p < hw; p++)
                  a.data[p * ln->c + k] = saved[p];
                w[k] = (s0 - s) / (fabs (s0) > 1e-12 ? s0 : 1e-12);
                if (o->counterfactual)
                  w[k] = -w[k];
              }
            xc_plan_run_range (ex->plan, layer + 1, last, FALSE, NULL, NULL, NULL);
            cam_from_weights (&a, w, e->map);
            memcpy (e->grad, a.data, xc_tensor_size (&a) * sizeof (float));
          }
          break;
        case XC_METHOD_EIGENCAM:
          if (!eigen_cam (&a, e->map, error))
            return NULL;
          memcpy (e->grad, a.data, xc_tensor_size (&a) * sizeof (float));
          break;
        default:
          if (!backward_class (ex, o, cls, layer, FALSE, error))
            return NULL;
          xc_plan_grad (ex->plan, layer, &g);
          gradient_cam (o->method, &a, &g, e->map);
          memcpy (e->grad, g.data, xc_tensor_size (&g) * sizeof (float));
          break;
        }
    }
  else
    {
      e = explanation_new (o, cls, 0, in->h, in->w, in->h, in->w, in->c);
      switch (o->method)
        {
        case XC_METHOD_SALIENCY:
        case XC_METHOD_GUIDED_BACKPROP:
          if (!input_gradient (ex, o, cls, o->method == XC_METHOD_GUIDED_BACKPROP, e->grad, error))
            return NULL;
          channel_max_abs (e->grad, HW, in->c, e->map);
          break;

        case XC_METHOD_GUIDED_GRADCAM:
          {
            const XcNode *ln = xc_model_node (model, layer);
            g_autofree float *cam = g_new (float, (size_t) ln->h * ln->w);
            g_autofree float *up = g_new (float, HW);
            XcTensor a, g;
            e->layer = layer;
            if (!backward_class (ex, o, cls, layer, FALSE, error))
              return NULL;
            xc_plan_output (ex->plan, layer, &a);
            xc_plan_grad (ex->plan, layer, &g);
            gradient_cam (XC_METHOD_GRADCAM, &a, &g, cam);
            resize_map (cam, ln->h, ln->w, up, in->h, in->w);
            if (!input_gradient (ex, o, cls, TRUE, e->grad, error))
              return NULL;
            for (size_t p = 0; p < HW; p++)
              for (int ch = 0; ch < in->c; ch++)
                e->grad[p * in->c + ch] *= up[p];
            channel_max_abs (e->grad, HW, in->c, e->map);
          }
          break;

        case XC_METHOD_SMOOTHGRAD:
          {
            int n = o->steps > 0 ? o->steps : 25;
            g_autofree float *noisy = g_new (float, ex->input_size);
            g_autofree float *g = g_new (float, ex->input_size);
            float mn = G_MAXFLOAT, mx = -G_MAXFLOAT, sigma;
            for (size_t i = 0; i < ex->input_size; i++)
              mn = MIN (mn, ex->input[i]), mx = MAX (mx, ex->input[i]);
            sigma = o->noise * (mx - mn);
            for (int s = 0; s < n; s++)
              {
                if (cancelled (progress, pdata, s, n, error))
                  {
                    forward_single (ex);
                    return NULL;
                  }
                for (size_t i = 0; i < ex->input_size; i++)
                  noisy[i] = ex->input[i] + sigma * gaussian (o->seed + s, i);
                forward_with (ex, noisy);
                if (!input_gradient (ex, o, cls, FALSE, g, error))
                  return NULL;
                for (size_t i = 0; i < ex->input_size; i++)
                  e->grad[i] += g[i] / n;
              }
            forward_single (ex);
            channel_max_abs (e->grad, HW, in->c, e->map);
          }
          break;

        case XC_METHOD_INTEGRATED_GRADIENTS:
          {
            int n = o->steps > 0 ? o->steps : 32;
            g_autofree float *base = g_new0 (float, ex->input_size);
            g_autofree float *x = g_new (float, ex->input_size);
            g_autofree float *g = g_new (float, ex->input_size);
            if (o->baseline == XC_BASELINE_BLACK)
              xc_preprocess (model->preprocess, base, HW, in->c);
            else if (o->baseline == XC_BASELINE_BLURRED)
              box_blur (ex->input, base, in->h, in->w, in->c, MAX (1, MIN (in->h, in->w) / 16));
            /* midpoint Riemann sum: alpha_s = (s + 1/2) / n */
            for (int s = 0; s < n; s++)
              {
                float alpha = (s + 0.5f) / n;
                if (cancelled (progress, pdata, s, n, error))
                  {
                    forward_single (ex);
                    return NULL;
                  }
                for (size_t i = 0; i < ex->input_size; i++)
                  x[i] = base[i] + alpha * (ex->input[i] - base[i]);
                forward_with (ex, x);
                if (!input_gradient (ex, o, cls, FALSE, g, error))
                  return NULL;
                for (size_t i = 0; i < ex->input_size; i++)
                  e->grad[i] += g[i];
              }
            forward_single (ex);
            for (size_t i = 0; i < ex->input_size; i++)
              e->grad[i] *= (ex->input[i] - base[i]) / n;
            for (size_t p = 0; p < HW; p++)
              {
                double s = 0;
                for (int ch = 0; ch < in->c; ch++)
                  s += e->grad[p * in->c + ch];
                e->map[p] = (float) fabs (s);
              }
          }
          break;

        case XC_METHOD_OCCLUSION:
          {
            int window = o->window > 0 ? o->window : MAX (3, MIN (in->h, in->w) / 8);
            int stride = o->stride > 0 ? o->stride : MAX (1, window / 2);
            g_autofree int *ys = g_new (int, in->h + 2);
            g_autofree int *xs = g_new (int, in->w + 2);
            int ny, nx, n;
            g_autofree int *pos = NULL;
            g_autofree double *scores = NULL;
            g_autofree float *count = g_new0 (float, HW);
            OcclusionFill f;
            double s0 = plan_score (model, ex->plan, 0, cls, o->score);
            window = MIN (window, MIN (in->h, in->w));
            ny = window_positions (in->h, window, stride, ys);
            nx = window_positions (in->w, window, stride, xs);
            n = ny * nx;
            pos = g_new (int, 2 * n);
            scores = g_new (double, n);
            for (int i = 0; i < ny; i++)
              for (int j = 0; j < nx; j++)
                pos[2 * (i * nx + j)] = ys[i], pos[2 * (i * nx + j) + 1] = xs[j];
            f = (OcclusionFill) { ex, pos, window };
            if (!score_many (ex, n, occlusion_fill, &f, cls, o->score, scores, progress, pdata,
                             error))
              return NULL;
            for (int i = 0; i < n; i++)
              {
                double drop = (s0 - scores[i]) * (o->counterfactual ? -1 : 1);
                for (int y = pos[2 * i]; y < pos[2 * i] + window; y++)
                  for (int x = pos[2 * i + 1]; x < pos[2 * i + 1] + window; x++)
                    e->map[(size_t) y * in->w + x] += drop, count[(size_t) y * in->w + x] += 1;
              }
            for (size_t p = 0; p < HW; p++)
              e->map[p] = count[p] > 0 ? e->map[p] / count[p] : 0;
            g_clear_pointer (&e->grad, g_free);
            e->grad_c = 0;
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }
  e->score = plan_score (model, ex->plan, 0, cls, o->score);
  e->probability = ex->probs[cls];
  e->time_ms = (g_get_monotonic_time () - t0) / 1000.0;
  return g_steal_pointer (&e);
}

/* Faithfulness ---------------------------------------------------------- */

typedef struct {
  XcExplainer *ex;
  const float *start;     /* the image pixels begin as */
  const float *end;       /* and become, in saliency order */
  const guint *order;     /* pixel indices, most salient first */
  int          steps;
  size_t       pixels;
} CurveFill;

static void
curve_fill (gpointer data, int k, float *dst)
{
  CurveFill *f = data;
  int c = xc_model_input (f->ex->model)->c;
  size_t n = (size_t) ((double) f->pixels * k / f->steps + 0.5);

  memcpy (dst, f->start, f->ex->input_size * sizeof (float));
  for (size_t i = 0; i < n; i++)
    memcpy (dst + (size_t) f->order[i] * c, f->end + (size_t) f->order[i] * c,
            c * sizeof (float));
}

static int
compare_desc (gconstpointer a, gconstpointer b, gpointer data)
{
  const float *k = data;
  float x = k[*(const guint *) a], y = k[*(const guint *) b];
  return x > y ? -1 : x < y ? 1 : (int) (*(const guint *) a) - (int) (*(const guint *) b);
}

static double
auc (const double *v, int steps)
{
  double s = 0;
  for (int k = 0; k < steps; k++)
    s += (v[k] + v[k + 1]) / 2;
  return s / steps;
}

typedef struct {
  XcExplainer *ex;
  const float *mask;   /* (H*W) in [0, 1] */
} MaskFill;

static void
mask_fill (gpointer data, int i, float *dst)
{
  MaskFill *f = data;
  int c = xc_model_input (f->ex->model)->c;

  for (size_t p = 0; p < f->ex->input_size / c; p++)
    for (int ch = 0; ch < c; ch++)
      dst[p * c + ch] = f->ex->input[p * c + ch] * f->mask[p];
}

/**
 * xc_explainer_faithfulness:
 * @steps: points on each curve (0: 20)
 *
 * Deletion: the most salient pixels first replaced by 0 (the preprocessed
 * mid-grey), @steps equal fractions; insertion: from a box-blurred image,
 * the most salient original pixels put back. Both give the class
 * probability per step and the area under the curve (trapezoid, x in
 * [0, 1]). Average drop and increase in confidence (Chattopadhay et al.
 * 2018) use the image times the map normalised to [0, 1].
 */
/* Progress over the whole of several score_many() calls */
typedef struct {
  XcProgressFunc progress;
  gpointer       data;
  guint          offset, total;
} Overall;

static gboolean
overall_progress (guint done, guint n, gpointer data)
{
  Overall *o = data;
  return o->progress == NULL || o->progress (o->offset + done, o->total, o->data);
}

XcFaithfulness *
xc_explainer_faithfulness (XcExplainer         *ex,
                           const XcExplanation *e,
                           int                  steps,
                           XcProgressFunc       progress,
                           gpointer             pdata,
                           GError             **error)
{
  const XcNode *in = xc_model_input (ex->model);
  size_t HW = (size_t) in->h * in->w;
  g_autofree float *map = g_new (float, HW);
  g_autofree guint *order = g_new (guint, HW);
  g_autofree float *zeros = g_new0 (float, ex->input_size);
  g_autofree float *blur = g_new (float, ex->input_size);
  g_autoptr(XcFaithfulness) f = g_new0 (XcFaithfulness, 1);
  float mn = G_MAXFLOAT, mx = -G_MAXFLOAT;
  double y, o;
  CurveFill cf;
  MaskFill mf;
  Overall all;

  if (steps < 0 || steps > XC_EXPLAIN_MAX_CURVE_STEPS)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "faithfulness curves: %d steps (1 to %d)",
                   steps, XC_EXPLAIN_MAX_CURVE_STEPS);
      return NULL;
    }
  steps = steps > 0 ? steps : 20;
  /* the deletion and insertion curves, then the masked image: one progress */
  all = (Overall) { progress, pdata, 0, 2 * (steps + 1) + 1 };
  resize_map (e->map, e->map_h, e->map_w, map, in->h, in->w);
  for (size_t p = 0; p < HW; p++)
    {
      mn = MIN (mn, map[p]), mx = MAX (mx, map[p]);
      order[p] = p;
    }
  for (size_t p = 0; p < HW; p++)
    map[p] = mx > mn ? (map[p] - mn) / (mx - mn) : 0.0f;
  g_qsort_with_data (order, HW, sizeof (guint), compare_desc, map);

  f->steps = steps;
  f->deletion = g_new (double, steps + 1);
  f->insertion = g_new (double, steps + 1);
  cf = (CurveFill) { ex, ex->input, zeros, order, steps, HW };
  if (!score_many (ex, steps + 1, curve_fill, &cf, e->target_class, XC_SCORE_PROBABILITY,
                   f->deletion, overall_progress, &all, error))
    return NULL;
  all.offset += steps + 1;
  box_blur (ex->input, blur, in->h, in->w, in->c, MAX (1, MIN (in->h, in->w) / 16));
  cf = (CurveFill) { ex, blur, ex->input, order, steps, HW };
  if (!score_many (ex, steps + 1, curve_fill, &cf, e->target_class, XC_SCORE_PROBABILITY,
                   f->insertion, overall_progress, &all, error))
    return NULL;
  all.offset += steps + 1;
  f->deletion_auc = auc (f->deletion, steps);
  f->insertion_auc = auc (f->insertion, steps);

  mf = (MaskFill) { ex, map };
  /* the unperturbed probability: the explainer's own, or the curve's first
   * point (no pixel deleted) when no gradient plan ran on this input */
  y = ex->have_probs ? ex->probs[e->target_class] : f->deletion[0];
  if (!score_many (ex, 1, mask_fill, &mf, e->target_class, XC_SCORE_PROBABILITY, &o,
                   overall_progress, &all, error))
    return NULL;
  f->average_drop = y > 0 ? 100.0 * MAX (0.0, y - o) / y : 0.0;
  f->increase = o > y ? 1.0 : 0.0;
  return g_steal_pointer (&f);
}

void
xc_faithfulness_free (XcFaithfulness *f)
{
  if (f == NULL)
    return;
  g_free (f->deletion);
  g_free (f->insertion);
  g_free (f);
}

/**
 * xc_map_upsample_normalised:
 *
 * Returns: (transfer full): the (oh, ow) map, bilinear with half-pixel
 *   centres, scaled to [0, 1] (all zero when the map is constant)
 */
float *
xc_map_upsample_normalised (const float *map, int h, int w, int oh, int ow)
{
  XcImage src = { (float *) map, h, w, 1 };
  XcImage dst = { g_new (float, (size_t) oh * ow), oh, ow, 1 };
  size_t n = (size_t) oh * ow;
  float mn = G_MAXFLOAT, mx = -G_MAXFLOAT;

  xc_image_resize (&src, &dst);
  for (size_t i = 0; i < n; i++)
    mn = MIN (mn, dst.data[i]), mx = MAX (mx, dst.data[i]);
  for (size_t i = 0; i < n; i++)
    dst.data[i] = mx > mn ? (dst.data[i] - mn) / (mx - mn) : 0.0f;
  return dst.data;
}
