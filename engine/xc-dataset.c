/* SPDX-License-Identifier: MIT
 *
 * Datasets. fashion-mnist:DIR reads train-images-idx3-ubyte.gz and friends
 * (IDX: a big-endian magic, the dimensions, then bytes), gunzipped with
 * GIO's zlib converter. imagefolder:DIR reads DIR/CLASS/IMAGE (classes in
 * name order), every image converted to the model's channels and resized to
 * its input once at load; unreadable files are listed and skipped. A seeded
 * shuffle splits an image folder into train (80%) and val (20%).
 */
#define G_LOG_DOMAIN "xc-dataset"

#include <string.h>
#include <gio/gio.h>

#include "xc-random.h"
#include "xc-dataset.h"
#include "xc-error.h"
#include "xc-memory.h"
#include "io/xc-image.h"

void
xc_dataset_free (XcDataset *ds)
{
  if (ds == NULL)
    return;
  g_free (ds->name);
  g_free (ds->pixels);
  g_free (ds->labels);
  g_clear_pointer (&ds->class_names, g_ptr_array_unref);
  g_clear_pointer (&ds->skipped, g_ptr_array_unref);
  g_clear_pointer (&ds->ids, g_ptr_array_unref);
  g_free (ds);
}

static XcDataset *
dataset_new (const char *name)
{
  XcDataset *ds = g_new0 (XcDataset, 1);

  ds->name = g_strdup (name);
  ds->class_names = g_ptr_array_new_with_free_func (g_free);
  ds->skipped = g_ptr_array_new_with_free_func (g_free);
  ds->ids = g_ptr_array_new_with_free_func (g_free);
  return ds;
}

/* An IDX file inside a .gz, read no further than its header says: a file
 * that inflates past that (a .gz bomb) is refused, as is one whose
 * declared size is over the memory limit */
static GBytes *
read_gz (const char *path, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GInputStream) raw = NULL;
  g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) in = NULL;
  g_autofree guint8 *buf = NULL;
  guint8 head[4 + 4 * 3], extra;
  guint64 total = 1;
  gsize got = 0, hl;
  int ndims;

  if (!xc_check_user_file (path, "a .gz IDX file", error) ||
      !(raw = G_INPUT_STREAM (g_file_read (file, NULL, error))))
    return NULL;
  in = g_converter_input_stream_new (raw, G_CONVERTER (z));
  if (!g_input_stream_read_all (in, head, 4, &got, NULL, error) || got != 4 ||
      head[0] != 0 || head[1] != 0 || (ndims = head[3]) < 1 || ndims > 3)
    {
      if (error && *error == NULL)
        g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: not an IDX file", path);
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  hl = 4 + 4 * (gsize) ndims;
  if (!g_input_stream_read_all (in, head + 4, hl - 4, &got, NULL, error) || got != hl - 4)
    {
      if (error && *error == NULL)
        g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: truncated IDX header", path);
      return NULL;
    }
  for (int d = 0; d < ndims; d++)
    {
      guint8 *q = head + 4 + 4 * d;
      total *= ((guint32) q[0] << 24) | ((guint32) q[1] << 16) | ((guint32) q[2] << 8) | q[3];
      if (total > ((guint64) 1 << 40))
        break;
    }
  if (!xc_memory_check (total + hl, path, error))
    return NULL;
  if ((buf = g_try_malloc (hl + total)) == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory", path);
      return NULL;
    }
  memcpy (buf, head, hl);
  if (!g_input_stream_read_all (in, buf + hl, total, &got, NULL, error) || got != total)
    {
      if (error && *error == NULL)
        g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: truncated: the header declares %"
                     G_GUINT64_FORMAT " bytes, the file inflates to %" G_GSIZE_FORMAT, path,
                     total, got);
      return NULL;
    }
  if (g_input_stream_read (in, &extra, 1, NULL, NULL) > 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: inflates past the %" G_GUINT64_FORMAT
                   " bytes its header declares (refused: a .gz bomb, or not this file)", path,
                   total + hl);
      return NULL;
    }
  return g_bytes_new_take (g_steal_pointer (&buf), hl + total);
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static const char *fmnist_names[] = { "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

static XcDataset *
load_fashion_mnist (const char *dir, const char *split, GError **error)
{
  gboolean test = g_strcmp0 (split, "train") != 0;
  const char *prefix = test ? "t10k" : "train";
  g_autofree char *img_path = g_strdup_printf ("%s/%s-images-idx3-ubyte.gz", dir, prefix);
  g_autofree char *lab_path = g_strdup_printf ("%s/%s-labels-idx1-ubyte.gz", dir, prefix);
  g_autoptr(GBytes) img = NULL, lab = NULL;
  const guint8 *ip, *lp;
  gsize il, ll;
  guint32 n, h, w;
  XcDataset *ds;

  if (!(img = read_gz (img_path, error)) || !(lab = read_gz (lab_path, error)))
    return NULL;
  ip = g_bytes_get_data (img, &il);
  lp = g_bytes_get_data (lab, &ll);
  if (il < 16 || ll < 8 || be32 (ip) != 0x803 || be32 (lp) != 0x801)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: not IDX image and label files", dir);
      return NULL;
    }
  n = be32 (ip + 4), h = be32 (ip + 8), w = be32 (ip + 12);
  if (n == 0 || n > 10000000 || h == 0 || w == 0 || h > 4096 || w > 4096 ||
      il < 16 + (gsize) n * h * w || be32 (lp + 4) != n || ll < 8 + (gsize) n)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: IDX sizes disagree or are truncated",
                   dir);
      return NULL;
    }
  ds = dataset_new (test ? "fashion-mnist test" : "fashion-mnist train");
  ds->n = n, ds->h = h, ds->w = w, ds->c = 1;
  ds->pixels = g_memdup2 (ip + 16, (gsize) n * h * w);
  ds->labels = g_new (guint16, n);
  ds->n_classes = 10;
  for (guint32 i = 0; i < n; i++)
    {
      ds->labels[i] = lp[8 + i];
      if (ds->labels[i] >= 10)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: label %u out of range", dir,
                       ds->labels[i]);
          xc_dataset_free (ds);
          return NULL;
        }
    }
  for (int i = 0; i < 10; i++)
    g_ptr_array_add (ds->class_names, g_strdup (fmnist_names[i]));
  for (guint32 i = 0; i < n; i++)
    g_ptr_array_add (ds->ids, g_strdup_printf ("%s#%u", prefix, i));
  return ds;
}

static int
compare_str (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* Fisher-Yates with the engine's counter-based generator */
static void
shuffle (int *v, int n, guint64 seed, guint64 stream)
{
  for (int i = n - 1; i > 0; i--)
    {
      int j = (int) (xc_seeded_uniform (seed, stream, i) * (i + 1));
      int t = v[i];
      v[i] = v[MIN (j, i)];
      v[MIN (j, i)] = t;
    }
}

static XcDataset *
load_image_folder (const char *dir, const char *split, int h, int w, int c, guint64 seed,
                   GError **error)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, error);
  g_autoptr(GPtrArray) classes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) lab = g_array_new (FALSE, FALSE, sizeof (guint16));
  g_autoptr(GByteArray) pix = g_byte_array_new ();
  g_autoptr(GPtrArray) skipped = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  XcModel fake = { 0 };
  XcNode in_node = { 0 };
  const char *entry;
  XcDataset *ds;
  g_autofree int *order = NULL;
  int n, n_val, first, count;
  gboolean val = g_strcmp0 (split, "val") == 0 || g_strcmp0 (split, "test") == 0;
  gboolean all = g_strcmp0 (split, "all") == 0;
  gboolean unlabelled;

  if (d == NULL)
    {
      g_prefix_error (error, "imagefolder: ");
      return NULL;
    }
  while ((entry = g_dir_read_name (d)))
    {
      g_autofree char *full = g_build_filename (dir, entry, NULL);
      if (g_file_test (full, G_FILE_TEST_IS_DIR) && entry[0] != '.')
        g_ptr_array_add (classes, g_strdup (entry));
    }
  g_ptr_array_sort (classes, compare_str);
  /* no subfolders at all: the folder's own images, without labels */
  unlabelled = classes->len == 0;
  if (unlabelled)
    g_ptr_array_add (classes, g_strdup (""));
  else if (classes->len < 2 || classes->len > 65535)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                   "%s: an image folder needs two or more class subfolders, or images and no "
                   "subfolders (found %u subfolder)", dir, classes->len);
      return NULL;
    }
  /* xc_image_to_input() without preprocessing: a model of just an input */
  in_node.h = h, in_node.w = w, in_node.c = c, in_node.op = XC_OP_INPUT;
  fake.nodes = g_ptr_array_new ();
  g_ptr_array_add (fake.nodes, &in_node);
  fake.preprocess = XC_PREPROCESS_UNIT;
  fake.name = (char *) dir;
  for (guint k = 0; k < classes->len; k++)
    {
      g_autofree char *cdir = g_build_filename (dir, classes->pdata[k], NULL);
      g_autoptr(GDir) cd = g_dir_open (cdir, 0, NULL);
      g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
      while (cd && (entry = g_dir_read_name (cd)))
        {
          g_autofree char *full = g_build_filename (cdir, entry, NULL);
          if (entry[0] != '.' && !g_file_test (full, G_FILE_TEST_IS_DIR))
            g_ptr_array_add (files, g_strdup (entry));
        }
      g_ptr_array_sort (files, compare_str);
      for (guint f = 0; f < files->len; f++)
        {
          g_autofree char *path = g_build_filename (cdir, files->pdata[f], NULL);
          g_autoptr(GError) local = NULL;
          g_autoptr(XcImage) img = xc_image_load (path, &local);
          g_autofree float *buf = g_new (float, (size_t) h * w * c);
          guint16 label = k;
          if (img == NULL || !xc_image_to_input (img, &fake, buf, &local))
            {
              g_ptr_array_add (skipped, g_strdup (local->message));
              continue;
            }
          for (size_t i = 0; i < (size_t) h * w * c; i++)
            {
              guint8 b = (guint8) CLAMP (buf[i] * 255.0f + 0.5f, 0.0f, 255.0f);
              g_byte_array_append (pix, &b, 1);
            }
          g_array_append_val (lab, label);
          g_ptr_array_add (names, unlabelled ? g_strdup (files->pdata[f])
                                             : g_build_filename (classes->pdata[k],
                                                                 files->pdata[f], NULL));
        }
    }
  g_ptr_array_unref (fake.nodes);
  n = lab->len;
  if (n < 2)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: fewer than two readable images (%u "
                   "skipped)", dir, skipped->len);
      return NULL;
    }
  /* the seeded split */
  order = g_new (int, n);
  for (int i = 0; i < n; i++)
    order[i] = i;
  shuffle (order, n, seed, 4242);
  n_val = MAX (1, n / 5);
  first = val || all ? 0 : n_val;
  count = all ? n : val ? n_val : n - n_val;
  ds = dataset_new (val ? "image folder val" : "image folder train");
  ds->n = count, ds->h = h, ds->w = w, ds->c = c;
  ds->pixels = g_new (guint8, (size_t) count * h * w * c);
  ds->labels = g_new (guint16, count);
  for (int i = 0; i < count; i++)
    {
      int src = order[first + i];
      memcpy (ds->pixels + (size_t) i * h * w * c, pix->data + (size_t) src * h * w * c,
              (size_t) h * w * c);
      ds->labels[i] = g_array_index (lab, guint16, src);
      g_ptr_array_add (ds->ids, g_strdup (names->pdata[src]));
    }
  ds->unlabelled = unlabelled;
  ds->n_classes = unlabelled ? 0 : classes->len;
  for (guint k = 0; k < classes->len && !unlabelled; k++)
    g_ptr_array_add (ds->class_names, g_strdup (classes->pdata[k]));
  g_ptr_array_extend_and_steal (ds->skipped, g_steal_pointer (&skipped));
  return ds;
}

/**
 * xc_dataset_load:
 * @spec: fashion-mnist:DIR or imagefolder:DIR
 * @split: train, val, test, or all (an image folder's every image; Fashion-MNIST's test
 *   set serves val, test and all)
 * @h: (in): image folders are resized to the model input (h, w, c) at load
 * @seed: the image-folder split
 *
 * Returns: (transfer full): the dataset, or %NULL with @error
 */
XcDataset *
xc_dataset_load (const char *spec, const char *split, int h, int w, int c, guint64 seed,
                 GError **error)
{
  if (g_strcmp0 (split, "train") != 0 && g_strcmp0 (split, "val") != 0 &&
      g_strcmp0 (split, "test") != 0 && g_strcmp0 (split, "all") != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "split '%s': train, val, test or all",
                   split);
      return NULL;
    }
  if (g_str_has_prefix (spec, "fashion-mnist:"))
    return load_fashion_mnist (spec + strlen ("fashion-mnist:"), split, error);
  if (g_str_has_prefix (spec, "imagefolder:"))
    return load_image_folder (spec + strlen ("imagefolder:"), split, h, w, c, seed, error);
  g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
               "dataset '%s': give fashion-mnist:DIR or imagefolder:DIR", spec);
  return NULL;
}

/**
 * xc_dataset_subset:
 *
 * Returns: (transfer full): a seeded random @n of the images (all if fewer)
 */
XcDataset *
xc_dataset_subset (const XcDataset *ds, int n, guint64 seed)
{
  g_autofree int *order = g_new (int, ds->n);
  XcDataset *out = dataset_new (ds->name);
  size_t sz = (size_t) ds->h * ds->w * ds->c;

  n = MIN (n, ds->n);
  for (int i = 0; i < ds->n; i++)
    order[i] = i;
  shuffle (order, ds->n, seed, 99);
  out->n = n, out->h = ds->h, out->w = ds->w, out->c = ds->c;
  out->pixels = g_new (guint8, n * sz);
  out->labels = g_new (guint16, n);
  out->n_classes = ds->n_classes;
  out->unlabelled = ds->unlabelled;
  for (guint k = 0; k < ds->class_names->len; k++)
    g_ptr_array_add (out->class_names, g_strdup (ds->class_names->pdata[k]));
  for (int i = 0; i < n; i++)
    {
      memcpy (out->pixels + i * sz, ds->pixels + order[i] * sz, sz);
      out->labels[i] = ds->labels[order[i]];
      g_ptr_array_add (out->ids, g_strdup (ds->ids->pdata[order[i]]));
    }
  return out;
}

/**
 * xc_dataset_select:
 * @indices: (array length=n): images of @ds, in the order wanted
 *
 * Returns: (transfer full): those images, with their labels and ids
 */
XcDataset *
xc_dataset_select (const XcDataset *ds, const int *indices, int n)
{
  XcDataset *out = dataset_new (ds->name);
  size_t sz = (size_t) ds->h * ds->w * ds->c;

  out->n = n, out->h = ds->h, out->w = ds->w, out->c = ds->c;
  out->pixels = g_new (guint8, MAX (n, 1) * sz);
  out->labels = g_new (guint16, MAX (n, 1));
  out->n_classes = ds->n_classes;
  out->unlabelled = ds->unlabelled;
  for (guint k = 0; k < ds->class_names->len; k++)
    g_ptr_array_add (out->class_names, g_strdup (ds->class_names->pdata[k]));
  for (int i = 0; i < n; i++)
    {
      memcpy (out->pixels + i * sz, ds->pixels + (size_t) indices[i] * sz, sz);
      out->labels[i] = ds->labels[indices[i]];
      g_ptr_array_add (out->ids, g_strdup (ds->ids->pdata[indices[i]]));
    }
  return out;
}

/**
 * xc_shard_of:
 *
 * Returns: the shard (0 to @shards - 1) an image belongs to, from its id
 *   alone (FNV-1a, 64 bits): the same on every machine and in every run
 */
guint
xc_shard_of (const char *id, guint shards)
{
  guint64 h = 0xcbf29ce484222325ull;

  for (const guchar *p = (const guchar *) id; *p; p++)
    h = (h ^ *p) * 0x100000001b3ull;
  return (guint) (h % MAX (shards, 1));
}

/**
 * xc_dataset_image_hash:
 *
 * Returns: (transfer full): SHA-256 of the stored image (its 8-bit pixels
 *   at the dataset's size), hex
 */
char *
xc_dataset_image_hash (const XcDataset *ds, int i)
{
  size_t sz = (size_t) ds->h * ds->w * ds->c;

  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, ds->pixels + i * sz, sz);
}

/**
 * xc_dataset_fill:
 * @indices: (array length=count): which images
 * @augment: (nullable): random crop/flip, drawn from (seed, step, slot)
 * @dst: (count, H, W, C) of the model's input, preprocessed
 *
 * Each image: bytes to [0, 255], augmentation at its stored size, channel
 * conversion and bilinear resize to the model input, preprocessing.
 */
void
xc_dataset_fill (const XcDataset *ds, const int *indices, int count, const XcModel *model,
                 const XcAugment *augment, guint64 step, float *dst)
{
  const XcNode *in = xc_model_input (model);
  size_t per = (size_t) in->h * in->w * in->c;
  g_autoptr(XcImage) img = xc_image_new (ds->h, ds->w, ds->c);

  for (int b = 0; b < count; b++)
    {
      const guint8 *src = ds->pixels + (size_t) indices[b] * ds->h * ds->w * ds->c;
      int dy = 0, dx = 0;
      gboolean flip = FALSE;
      if (augment && augment->crop_pad > 0)
        {
          int span = 2 * augment->crop_pad + 1;
          dy = (int) (xc_seeded_uniform (augment->seed, step * 4096 + b, 1) * span) -
               augment->crop_pad;
          dx = (int) (xc_seeded_uniform (augment->seed, step * 4096 + b, 2) * span) -
               augment->crop_pad;
        }
      if (augment && augment->flip)
        flip = xc_seeded_uniform (augment->seed, step * 4096 + b, 3) < 0.5f;
      for (int y = 0; y < ds->h; y++)
        for (int x = 0; x < ds->w; x++)
          {
            int sy = y + dy, sx = flip ? ds->w - 1 - (x + dx) : x + dx;
            for (int k = 0; k < ds->c; k++)
              img->data[((size_t) y * ds->w + x) * ds->c + k] =
                  (sy < 0 || sy >= ds->h || sx < 0 || sx >= ds->w)
                  ? 0.0f : src[((size_t) sy * ds->w + sx) * ds->c + k];
          }
      xc_image_to_input (img, model, dst + b * per, NULL);
    }
}

/**
 * xc_dataset_require_labels:
 * @what: what needs them ("training", "evaluate")
 *
 * Returns: %FALSE with @error set when @ds is an image folder without class
 *   subfolders
 */
gboolean
xc_dataset_require_labels (const XcDataset *ds, const char *what, GError **error)
{
  if (!ds->unlabelled)
    return TRUE;
  g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT,
               "%s: an image folder without class subfolders has no labels, and %s needs them "
               "(put each class's images in a subfolder named after it)", ds->name, what);
  return FALSE;
}
