/* SPDX-License-Identifier: MIT
 * The Keras config parser (model_config JSON) on arbitrary text. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *json = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  XcModel *model;

  fuzz_init ();
  model = xc_keras_model_from_json (json, "fuzz", &error);
  g_assert ((model == NULL) == (error != NULL));
  g_clear_pointer (&model, xc_model_free);
  return 0;
}
