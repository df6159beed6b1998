/* SPDX-License-Identifier: MIT
 * The image loaders on arbitrary bytes: the first byte picks the name's
 * extension (.png, .tif, .dcm, .jpg), the rest is the file; gdk-pixbuf,
 * libpng, libtiff and DCMTK each get their share. A loaded image is also
 * windowed and described. */
#include "fuzz-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *exts[] = { ".png", ".tif", ".dcm", ".jpg" };
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(XcImage) image = NULL;

  fuzz_init ();
  if (size < 1)
    return 0;
  path = fuzz_file (data + 1, size - 1, exts[data[0] % 4]);
  if (path == NULL)
    return 0;
  image = xc_image_load_with (path, NULL, &error);
  g_assert ((image == NULL) == (error != NULL));
  if (image != NULL)
    {
      g_autofree char *desc = xc_image_describe (image);
      g_assert_nonnull (desc);
      if (image->values != NULL)
        g_assert_true (xc_image_set_window (image, 40, 400, NULL, NULL));
    }
  g_unlink (path);
  return 0;
}
