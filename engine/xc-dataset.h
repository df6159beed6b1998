/* SPDX-License-Identifier: MIT
 *
 * Labelled image sets for training and evaluation: Fashion-MNIST's IDX
 * files and folders of images (one subfolder per class), stored as 8-bit
 * images and turned into model inputs batch by batch, with augmentation.
 */
#pragma once

#include "xc-model.h"

G_BEGIN_DECLS

typedef struct {
  char      *name;
  int        n, h, w, c;     /* stored images: (n, h, w, c) bytes */
  guint8    *pixels;
  guint16   *labels;         /* (n) */
  int        n_classes;      /* 0 when unlabelled */
  gboolean   unlabelled;     /* an image folder without class subfolders: labels are 0 */
  GPtrArray *class_names;    /* char* */
  GPtrArray *skipped;        /* "path: why" for every unreadable file */
  GPtrArray *ids;            /* char* (n): a stable name per image: CLASS/FILE in an image
                                folder, SPLIT#INDEX in Fashion-MNIST */
} XcDataset;

typedef struct {
  int      crop_pad;         /* random crop after zero padding by this many pixels; 0: off */
  gboolean flip;             /* random horizontal flips */
  guint64  seed;
} XcAugment;

XcDataset *xc_dataset_load        (const char      *spec,
                                   const char      *split,
                                   int              h,
                                   int              w,
                                   int              c,
                                   guint64          seed,
                                   GError         **error);
void       xc_dataset_free        (XcDataset       *ds);
gboolean   xc_dataset_require_labels (const XcDataset *ds,
                                      const char      *what,
                                      GError         **error);
XcDataset *xc_dataset_subset      (const XcDataset *ds,
                                   int              n,
                                   guint64          seed);
XcDataset *xc_dataset_select       (const XcDataset *ds,
                                   const int       *indices,
                                   int              n);
guint      xc_shard_of            (const char      *id,
                                   guint            shards);
char      *xc_dataset_image_hash  (const XcDataset *ds,
                                   int              i);
void       xc_dataset_fill        (const XcDataset *ds,
                                   const int       *indices,
                                   int              count,
                                   const XcModel   *model,
                                   const XcAugment *augment,
                                   guint64          step,
                                   float           *dst);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (XcDataset, xc_dataset_free)

G_END_DECLS
