/* SPDX-License-Identifier: MIT
 *
 * The engine's hot loops, XNNPACK style: pointers and sizes only, named
 * xc_<dtype>_<op>[_<layout>][__<isa>], one file per kernel family
 * (f32-gemm.c, f32-dwconv2d-nhwc.c, ...). They never allocate and never
 * fail; ops/ calls them, and nothing here calls back up.
 */
#pragma once

#include <stddef.h>
#include <glib.h>

#include "xc-enums.h"   /* XcAct */

G_BEGIN_DECLS

/* Hot loops are compiled for AVX-512, AVX2 and the baseline, picked at load
 * time (GCC function multi-versioning): the loops are plain C that GCC
 * vectorises, 16 floats a step on AVX-512 instead of SSE2's 4. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__)
#define XC_VECTORIZE __attribute__ ((target_clones ("avx512f", "avx2", "default")))
#else
#define XC_VECTORIZE
#endif

void   xc_f32_act_backward    (XcAct act, const float *x, const float *y, const float *dy,
                               float *dx, size_t rows, int c, gboolean guided);
void   xc_f32_dwconv2d_row_nhwc__ref (const float *x, int h, int w, int c,
                                      const float *k, int kh, int kw, int dm,
                                      int sh, int sw, int pt, int pl,
                                      float *yrow, int oy, int ow, gboolean relu);
void   xc_f32_dwconv2d_backward_nhwc__ref (const float *dy, int oh, int ow,
                                           const float *k, int kh, int kw, int dm,
                                           int sh, int sw, int pt, int pl,
                                           float *dx, int h, int w, int c, int c0, int c1);
void   xc_f32_dwconv2d_flip_3x3 (const float *k, int c, float *kf);
void   xc_f32_dwconv2d_backward_3x3s1_rows (const float *dy, int oh, int ow, const float *kf,
                                            int pt, int pl, float *dx, int h, int w, int c,
                                            int iy0, int iy1, float *tmp);
void   xc_f32_col2im_nhwc     (const float *col, int h, int w, int c,
                               int kh, int kw, int sh, int sw, int pt, int pl,
                               float *x, int oh, int ow);
void   xc_f32_gemm_nt         (const float *a, const float *b, float *c,
                               int m, int n, int k, float beta);
void   xc_f32_gemm_tn         (const float *a, const float *b, float *c,
                               int m, int n, int k, float beta);
void   xc_f32_bias_grad       (const float *dz, float *db, size_t rows, int c);
void   xc_f32_dwconv2d_wgrad_nhwc__ref (const float *x, int h, int w, int c,
                                        const float *dy, int oh, int ow, int dm,
                                        int kh, int kw, int sh, int sw, int pt, int pl,
                                        float *dk);
void   xc_f32_act_inplace     (XcAct act, float *y, size_t rows, int c);
void   xc_f32_bias_add        (float *y, const float *bias, size_t rows, int c);
void   xc_f32_dwconv2d_nhwc__ref (const float *x, int h, int w, int c,
                                  const float *k, int kh, int kw, int dm,
                                  int sh, int sw, int pt, int pl,
                                  float *y, int oh, int ow);
void   xc_f32_im2col_nhwc     (const float *x, int h, int w, int c,
                               int kh, int kw, int sh, int sw, int pt, int pl,
                               float *col, int oh, int ow);
void   xc_f32_gemm            (const float *a, const float *b, float *c,
                               int m, int n, int k, float beta);
void   xc_f32_gemm_post       (const float *a, const float *b, float *c,
                               int m, int n, int k, float beta,
                               const float *scale, const float *shift);
const char *xc_f32_gemm_name  (void);
gboolean xc_f32_gemm_panels_ok (void);
void   xc_f32_pack_panels     (const float *b, int k, int n, float *bp);
void   xc_f32_unpack_panels   (const float *bp, int k, int n, float *b);
size_t xc_f32_panels_index    (int k, int n, int r, int j);
void   xc_f32_gemm_panels_post (const float *a, const float *bp, float *c, int m, int n, int k,
                                const float *scale, const float *shift);
void   xc_f32_gemm_nt_panels  (const float *a, const float *bp, float *c, int m, int n, int k);
gboolean xc_f32_conv_valid_post (const float *x, int w, int c, int kh, int kw, int sh, int sw,
                                 int oh, int ow, const float *kernel, int n, float *y,
                                 const float *scale, const float *shift, gboolean relu);
void   xc_f32_conv_6x16__avx2 (const float *x, int w, int c, int kh, int kw, int sh, int sw,
                               int ow, const float *b, int n, float *y, int i0, int i1,
                               const float *scale, const float *shift, gboolean relu);
void   xc_f32_gemm_6x16__avx2 (const float *a, size_t lda, const float *b, size_t ldb,
                               gboolean trans_b, float *c, size_t ldc, int m, int n, int k,
                               float beta, const float *scale, const float *shift);
void   xc_f32_gemm_panels_6x16__avx2 (const float *a, size_t lda, const float *bp, float *c,
                                      size_t ldc, int m, int n, int k, const float *scale,
                                      const float *shift);
void   xc_f32_gemm_bt_panels_6x16__avx2 (const float *a, size_t lda, const float *bp, int bk,
                                         int bn, int j0, float *c, size_t ldc, int m, int n,
                                         int k);
void   xc_f32_gemm_6x32__avx512 (const float *a, size_t lda, const float *b, size_t ldb,
                                 gboolean trans_b, float *c, size_t ldc, int m, int n, int k,
                                 float beta, const float *scale, const float *shift);

G_END_DECLS
