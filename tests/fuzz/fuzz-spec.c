/* SPDX-License-Identifier: MIT
 * The model-spec parser (builtin:xception:size=...,width=...) on arbitrary
 * text: only builtin: specs, so that the input names no files. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *tail = g_strndup ((const char *) data, size);
  g_autofree char *spec = g_strconcat ("builtin:xception:", tail, NULL);
  g_autoptr(GError) error = NULL;
  XcModel *model;

  fuzz_init ();
  model = xc_model_load_spec (spec, &error);
  g_assert ((model == NULL) == (error != NULL));
  g_clear_pointer (&model, xc_model_free);
  return 0;
}
