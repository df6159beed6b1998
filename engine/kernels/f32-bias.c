/* SPDX-License-Identifier: MIT
 *
 * Per-channel bias over (rows, C): its addition and its gradient.
 */
#define G_LOG_DOMAIN "xc-kernels"

#include "xc-kernels.h"

XC_VECTORIZE void
xc_f32_bias_add (float *y, const float *bias, size_t rows, int c)
{
  for (size_t r = 0; r < rows; r++)
    {
      float *row = y + r * c;
      for (int i = 0; i < c; i++)
        row[i] += bias[i];
    }
}

/* db (C) += the column sums of dz (rows, C) */
void
xc_f32_bias_grad (const float *dz, float *db, size_t rows, int c)
{
  for (size_t r = 0; r < rows; r++)
    for (int i = 0; i < c; i++)
      db[i] += dz[r * c + i];
}
