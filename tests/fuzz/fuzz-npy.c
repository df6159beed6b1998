/* SPDX-License-Identifier: MIT
 * The .npy reader on arbitrary bytes. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *path = fuzz_file (data, size, ".npy");
  g_autoptr(GError) error = NULL;
  g_autofree float *v = NULL;
  int shape[4], nd;

  fuzz_init ();
  if (path == NULL)
    return 0;
  v = xc_npy_read (path, shape, &nd, &error);
  g_assert ((v == NULL) == (error != NULL));
  g_unlink (path);
  return 0;
}
