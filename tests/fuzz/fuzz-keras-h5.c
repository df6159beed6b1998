/* SPDX-License-Identifier: MIT
 * The HDF5 model and weight loader on arbitrary bytes (as a file image). */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  XcModel *model;

  fuzz_init ();
  model = xc_keras_load_memory (data, size, "fuzz.h5", &error);
  g_assert ((model == NULL) == (error != NULL));
  g_clear_pointer (&model, xc_model_free);
  return 0;
}
