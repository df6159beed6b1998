/* SPDX-License-Identifier: MIT
 *
 * MaxPooling2D and AveragePooling2D with TensorFlow's padding: padded
 * positions never win a max and are not counted in an average.
 */
#define G_LOG_DOMAIN "xc-pool2d"

#include <float.h>
#include <string.h>

#include "xc-error.h"
#include "xc-ops.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static gboolean
xc_pool2d_infer (XcNode *node, const XcNode *const *inputs, GError **error)
{
  if (!_xc_node_spatial_out (node, inputs[0], error))
    return FALSE;
  node->c = inputs[0]->c;
  return TRUE;
}

/* The max over a window of one output position, 32 channels at a time in
 * registers: each input tap is read once and dst written once (a running
 * max in dst loaded and stored it at every tap: block2_pool 0.8 ms) */
XC_VECTORIZE static void
max_position (const float *x, int w, int c, int y0, int y1, int x0, int x1, float *dst)
{
  int i0 = 0;

  for (; i0 + 32 <= c; i0 += 32)
    {
      float m[32];

      for (int i = 0; i < 32; i++)
        m[i] = -FLT_MAX;
      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++)
          {
            const float *src = x + ((size_t) iy * w + ix) * c + i0;
            for (int i = 0; i < 32; i++)
              m[i] = src[i] > m[i] ? src[i] : m[i];
          }
      for (int i = 0; i < 32; i++)
        dst[i0 + i] = m[i];
    }
  for (int i = i0; i < c; i++)
    {
      float m = -FLT_MAX;

      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++)
          {
            float v = x[((size_t) iy * w + ix) * c + i];
            m = v > m ? v : m;
          }
      dst[i] = m;
    }
}

XC_VECTORIZE static void
xc_pool2d_forward (const XcOpArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];   /* (N, H, W, C) */
  XcTensor *y = args->out;            /* (N, OH, OW, C) */
  int c = x->c;
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  gboolean is_max = node->op == XC_OP_MAXPOOL;

  for (int n = 0; n < y->n; n++)
#pragma omp parallel for schedule(static)
    for (int oy = 0; oy < y->h; oy++)
      for (int ox = 0; ox < y->w; ox++)
        {
          float *dst = y->data + (((size_t) n * y->h + oy) * y->w + ox) * c;
          int y0 = MAX (oy * node->sh - pt, 0), y1 = MIN (oy * node->sh - pt + node->kh, x->h);
          int x0 = MAX (ox * node->sw - pl, 0), x1 = MIN (ox * node->sw - pl + node->kw, x->w);
          if (is_max)
            {
              max_position (x->data + (size_t) n * x->h * x->w * c, x->w, c, y0, y1, x0, x1, dst);
              continue;
            }
          for (int i = 0; i < c; i++)
            dst[i] = 0.0f;
          for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++)
              {
                const float *src = x->data + (((size_t) n * x->h + iy) * x->w + ix) * c;
                for (int i = 0; i < c; i++)
                  dst[i] += src[i];
              }
          {
            float inv = 1.0f / ((y1 - y0) * (x1 - x0));
            for (int i = 0; i < c; i++)
              dst[i] *= inv;
          }
        }
}

typedef float XcV8 __attribute__ ((vector_size (32)));
typedef int XcV8i __attribute__ ((vector_size (32)));

/* windows of at most this many cells take max_back_16() */
#define XC_POOL_MAX_CELLS 64

/* dx += the gradient g of one max window, 16 channels from c0: each to its
 * window's first maximal cell (none above -FLT_MAX, all NaN or -inf: its
 * first cell, as the scalar loop below), found without branches, 8 channels
 * a vector (a branch per cell mispredicted half the time: Grad-CAM at
 * block4 spent 2% in this) */
XC_VECTORIZE static void
max_back_16 (const float *x, int w, int c, int y0, int y1, int x0, int x1, int c0,
             const float *g, float *dx, size_t image)
{
  XcV8 best[2], at[2];
  int ww = x1 - x0;

  for (int h = 0; h < 2; h++)
    for (int i = 0; i < 8; i++)
      best[h][i] = -FLT_MAX, at[h][i] = -1.0f;
  for (int iy = y0; iy < y1; iy++)
    for (int ix = x0; ix < x1; ix++)
      {
        /* the cell's index in the window, as a float (exact) for the blend */
        float t = (float) ((iy - y0) * ww + ix - x0);
        XcV8 tap = { t, t, t, t, t, t, t, t };
        const float *src = x + (image + (size_t) iy * w + ix) * c + c0;

        for (int h = 0; h < 2; h++)
          {
            XcV8 v;
            XcV8i take;

            memcpy (&v, src + 8 * h, sizeof v);
            take = v > best[h];
            at[h] = (XcV8) (((XcV8i) tap & take) | ((XcV8i) at[h] & ~take));
            best[h] = (XcV8) (((XcV8i) v & take) | ((XcV8i) best[h] & ~take));
          }
      }
  {
    /* each cell's offset from the window's first, by its index in the
     * window: no division per channel */
    size_t off[XC_POOL_MAX_CELLS];
    float *d = dx + (image + (size_t) y0 * w + x0) * c + c0;
    int cells = (y1 - y0) * ww;

    for (int t = 0; t < cells; t++)
      off[t] = ((size_t) (t / ww) * w + t % ww) * c;
    for (int i = 0; i < 16; i++)
      d[off[MAX (0, (int) at[i / 8][i % 8])] + i] += g[c0 + i];
  }
}

/* Max: the gradient goes to the first maximal cell of each window (the
 * forward's choice, recomputed; a window with nothing above -FLT_MAX: its
 * first cell, in the channel's own block); average: spread evenly over the
 * window's valid cells. */
static void
xc_pool2d_backward (const XcOpBackArgs *args)
{
  const XcNode *node = args->node;
  const XcTensor *x = &args->in[0];
  const XcTensor *dy = args->dout;
  float *dx = args->din[0].data;
  int c = x->c;
  int pt = xc_pad_before (x->h, node->kh, node->sh, node->padding);
  int pl = xc_pad_before (x->w, node->kw, node->sw, node->padding);
  gboolean is_max = node->op == XC_OP_MAXPOOL;

  if (dx == NULL)
    return;
  /* windows overlap, channels do not: each thread a range of blocks of 16
   * channels, every position in turn (each position's blocks side by side
   * in memory) */
#pragma omp parallel if ((size_t) dy->n * dy->h * dy->w * c > 65536)
  {
    int blocks = (c + 15) / 16, b0 = 0, b1 = blocks;

#ifdef _OPENMP
    b0 = (int) ((gint64) blocks * omp_get_thread_num () / omp_get_num_threads ());
    b1 = (int) ((gint64) blocks * (omp_get_thread_num () + 1) / omp_get_num_threads ());
#endif
    for (int n = 0; n < dy->n; n++)
      for (int oy = 0; oy < dy->h; oy++)
        for (int ox = 0; ox < dy->w; ox++)
          for (int cb = b0; cb < b1; cb++)
            {
              const float *g = dy->data + (((size_t) n * dy->h + oy) * dy->w + ox) * c;
              int y0 = MAX (oy * node->sh - pt, 0);
              int y1 = MIN (oy * node->sh - pt + node->kh, x->h);
              int x0 = MAX (ox * node->sw - pl, 0);
              int x1 = MIN (ox * node->sw - pl + node->kw, x->w);
              int c0 = 16 * cb, c1 = MIN (c, c0 + 16);
              size_t image = (size_t) n * x->h * x->w;

              if (is_max && c1 - c0 == 16 && node->kh * node->kw <= XC_POOL_MAX_CELLS)
                max_back_16 (x->data, x->w, c, y0, y1, x0, x1, c0, g, dx, image);
              else if (is_max)
                for (int i = c0; i < c1; i++)
                  {
                    float best = -FLT_MAX;
                    size_t at = (image + (size_t) y0 * x->w + x0) * c + i;

                    for (int iy = y0; iy < y1; iy++)
                      for (int ix = x0; ix < x1; ix++)
                        {
                          size_t off = (image + (size_t) iy * x->w + ix) * c + i;
                          if (x->data[off] > best)
                            best = x->data[off], at = off;
                        }
                    dx[at] += g[i];
                  }
              else
                {
                  float inv = 1.0f / ((y1 - y0) * (x1 - x0));

                  for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++)
                      {
                        float *d = dx + ((image + (size_t) iy * x->w + ix) * c);
                        for (int i = c0; i < c1; i++)
                          d[i] += g[i] * inv;
                      }
                }
            }
  }
}

static const char *const keras_maxpool[] = { "MaxPooling2D", "MaxPool2D", NULL };
static const char *const keras_avgpool[] = { "AveragePooling2D", "AvgPool2D", NULL };

const XcOpClass xc_op_maxpool2d = {
  .op = XC_OP_MAXPOOL,
  .keras_classes = keras_maxpool,
  .infer = xc_pool2d_infer,
  .forward = xc_pool2d_forward,
  .backward = xc_pool2d_backward,
};

const XcOpClass xc_op_avgpool2d = {
  .op = XC_OP_AVGPOOL,
  .keras_classes = keras_avgpool,
  .infer = xc_pool2d_infer,
  .forward = xc_pool2d_forward,
  .backward = xc_pool2d_backward,
};
