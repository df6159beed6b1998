/* SPDX-License-Identifier: MIT
 *
 * The HDF5 side of Keras files. A weights group (the root of a weights-only
 * file, or "model_weights" in a full model) lists its layers in the
 * attribute layer_names; each layer's group lists its datasets, relative to
 * itself, in weight_names ("conv2d_7_1/kernel:0"). Weights are matched to
 * nodes by layer name, then unnamed leftovers by order and shape; every
 * shape is checked. libhdf5 as Debian builds it is not thread-safe, so all
 * calls hold one lock.
 */
#define G_LOG_DOMAIN "xc-keras"
#define _GNU_SOURCE  /* memmem */

#include <string.h>
#include <hdf5.h>
#include <json-glib/json-glib.h>

#include "xc-error.h"
#include "xc-guard.h"
#include "xc-keras.h"
#include "xc-zip.h"

static GMutex h5_lock;
static gboolean h5_poisoned;      /* libhdf5 faulted once: its state is not to be trusted */

/* The lock every HDF5 call is made under. Before the library's first use,
 * its exit-time cleanup is turned off: after a fault (xc-guard.h) a file
 * stays open in a broken state, and closing it at exit would crash */
static void
h5_lock_acquire (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      H5dont_atexit ();
      g_once_init_leave (&once, 1);
    }
  g_mutex_lock (&h5_lock);
}
static guint64 gheap_max_object;  /* of the file being read; guarded by h5_lock */

/* Reads a string or string-array attribute, fixed or variable length.
 * An empty numeric array (how Keras writes "no weights") gives an empty list. */
static GStrv
read_strings_attr (hid_t obj, const char *name, GError **error)
{
  hid_t attr = -1, type = -1, space = -1, mtype = -1;
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  hssize_t n;
  GStrv result = NULL;

  attr = H5Aopen (obj, name, H5P_DEFAULT);
  if (attr < 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "attribute '%s' is missing", name);
      return NULL;
    }
  type = H5Aget_type (attr);
  space = H5Aget_space (attr);
  n = H5Sget_simple_extent_npoints (space);
  if (n < 0 || n > 1000000)
    goto bad;
  if (H5Tget_class (type) != H5T_STRING)
    {
      if (n == 0)
        result = g_strv_builder_end (b);
      else
        goto bad;
    }
  else if (H5Tis_variable_str (type) > 0)
    {
      g_autofree char **vals = NULL;
      /* HDF5 allocates every string of the list whole: a list of many
       * references to one large heap object costs n times its size */
      if ((guint64) n * MAX (gheap_max_object, 64) > ((guint64) 256 << 20))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "attribute '%s': %" G_GINT64_FORMAT
                       " strings of up to %" G_GUINT64_FORMAT " bytes would take over 256 MB: "
                       "refused", name, (gint64) n, gheap_max_object);
          goto out;
        }
      vals = g_new0 (char *, n + 1);
      mtype = H5Tcopy (H5T_C_S1);
      H5Tset_size (mtype, H5T_VARIABLE);
      /* h5py writes a Python str as variable-length UTF-8: read it as such
       * (HDF5 does not convert between character sets) */
      H5Tset_cset (mtype, H5Tget_cset (type));
      if (H5Aread (attr, mtype, vals) < 0)
        goto bad;
      for (hssize_t i = 0; i < n; i++)
        g_strv_builder_add (b, vals[i] ? vals[i] : "");
      H5Dvlen_reclaim (mtype, space, H5P_DEFAULT, vals);
      result = g_strv_builder_end (b);
    }
  else
    {
      size_t sz = H5Tget_size (type);
      g_autofree char *buf = NULL;
      if (sz == 0 || sz > (1 << 24) || (size_t) n * sz > (1 << 28))
        goto bad;
      buf = g_malloc0 (n * sz + 1);
      mtype = H5Tcopy (H5T_C_S1);
      H5Tset_size (mtype, sz);
      H5Tset_strpad (mtype, H5T_STR_NULLPAD);  /* NULLTERM would drop the last byte */
      H5Tset_cset (mtype, H5Tget_cset (type));
      if (H5Aread (attr, mtype, buf) < 0)
        goto bad;
      for (hssize_t i = 0; i < n; i++)
        {
          g_autofree char *s = g_strndup (buf + i * sz, sz);
          g_strv_builder_add (b, s);
        }
      result = g_strv_builder_end (b);
    }
  goto out;

bad:
  g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "attribute '%s' is not a list of strings", name);
out:
  if (mtype >= 0) H5Tclose (mtype);
  H5Sclose (space);
  H5Tclose (type);
  H5Aclose (attr);
  return result;
}

static char *
read_string_attr (hid_t obj, const char *name, GError **error)
{
  g_auto(GStrv) v = read_strings_attr (obj, name, error);

  if (v == NULL)
    return NULL;
  if (g_strv_length (v) != 1)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "attribute '%s' is not one string", name);
      return NULL;
    }
  return g_strdup (v[0]);
}

/* "block1_conv1/kernel:0" -> "kernel" */
static char *
weight_basename (const char *wname)
{
  const char *slash = strrchr (wname, '/');
  const char *base = slash ? slash + 1 : wname;
  const char *colon = strrchr (base, ':');

  return g_strndup (base, colon ? (size_t) (colon - base) : strlen (base));
}

typedef struct {
  char  *layer;
  GStrv  weights;      /* dataset paths relative to the layer group */
  int    node;         /* matched node, or -1 */
} FileLayer;

static void
file_layer_clear (gpointer p)
{
  FileLayer *fl = p;
  g_free (fl->layer);
  g_strfreev (fl->weights);
}

static char *
shape_string (const hsize_t *dims, int nd)
{
  GString *s = g_string_new ("(");
  for (int i = 0; i < nd; i++)
    g_string_append_printf (s, "%s%llu", i ? ", " : "", (unsigned long long) dims[i]);
  g_string_append (s, nd == 1 ? ",)" : ")");
  return g_string_free (s, FALSE);
}

static char *
param_shape_string (const XcParam *p)
{
  hsize_t d[4];
  for (int i = 0; i < p->ndims; i++)
    d[i] = p->dims[i];
  return shape_string (d, p->ndims);
}

/* Do the file layer's datasets have the node's parameter shapes? */
static gboolean
shapes_match (hid_t group, const FileLayer *fl, const XcNode *node)
{
  guint n = g_strv_length (fl->weights);
  gboolean ok = n == node->n_params;

  for (guint i = 0; ok && i < n; i++)
    {
      hid_t ds = H5Dopen2 (group, fl->weights[i], H5P_DEFAULT);
      hid_t sp;
      hsize_t dims[8];
      int nd;
      if (ds < 0)
        return FALSE;
      sp = H5Dget_space (ds);
      nd = H5Sget_simple_extent_ndims (sp);
      ok = nd == node->params[i].ndims && nd <= 8;
      if (ok)
        {
          H5Sget_simple_extent_dims (sp, dims, NULL);
          for (int d = 0; d < nd; d++)
            ok &= dims[d] == (hsize_t) node->params[i].dims[d];
        }
      H5Sclose (sp);
      H5Dclose (ds);
    }
  return ok;
}

/* Refuses following an external link (to another file) anywhere */
static herr_t
deny_external_link (const char *parent_file, const char *parent_group, const char *child_file,
                    const char *child_object, unsigned *acc_flags, hid_t fapl_id, void *data)
{
  return -1;
}

/* A weight must live in this file: an external link, external raw storage
 * (a kernel "stored" in /etc/passwd) or a virtual dataset (whose missing
 * source reads as zeros) is refused, naming the dataset */
static hid_t
open_weight (hid_t lg, const char *name, const XcNode *node, GError **error)
{
  hid_t dapl = H5Pcreate (H5P_DATASET_ACCESS), ds, dcpl;
  const char *why = NULL;

  H5Pset_elink_cb (dapl, deny_external_link, NULL);
  ds = H5Dopen2 (lg, name, dapl);
  H5Pclose (dapl);
  if (ds < 0)
    {
      H5L_info_t li;
      if (H5Lget_info (lg, name, &li, H5P_DEFAULT) >= 0 && li.type == H5L_TYPE_EXTERNAL)
        g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: weight '%s' is an external "
                     "link to another file: refused (weights must be in the model file)",
                     node->name, name);
      else
        g_set_error (error, XC_ERROR, XC_ERROR_WEIGHTS, "%s: dataset '%s' is missing (or "
                     "reached through an external link, which is refused)", node->name, name);
      return -1;
    }
  dcpl = H5Dget_create_plist (ds);
  if (H5Pget_layout (dcpl) == H5D_VIRTUAL)
    why = "a virtual dataset (its data comes from other files)";
  else if (H5Pget_external_count (dcpl) > 0)
    why = "stored externally (its data is read from other files)";
  H5Pclose (dcpl);
  if (why != NULL)
    {
      H5Dclose (ds);
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: weight '%s' is %s: refused "
                   "(weights must be in the model file)", node->name, name, why);
      return -1;
    }
  return ds;
}

static gboolean
read_layer (hid_t lg, const FileLayer *fl, XcNode *node, GError **error)
{
  guint n = g_strv_length (fl->weights);

  if (n != node->n_params)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_WEIGHTS,
                   "%s: %u weights in the file, the layer has %u", node->name, n, node->n_params);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *base = weight_basename (fl->weights[i]);
      XcParam *p = NULL;
      hid_t ds, sp, ty;
      hsize_t dims[8];
      int nd;
      herr_t rc;

      /* by name when the name is one of ours, else by position */
      for (guint k = 0; k < node->n_params; k++)
        if (g_str_equal (node->params[k].name, base))
          p = &node->params[k];
      if (p == NULL)
        p = &node->params[i];

      ds = open_weight (lg, fl->weights[i], node, error);
      if (ds < 0)
        return FALSE;
      sp = H5Dget_space (ds);
      ty = H5Dget_type (ds);
      nd = H5Sget_simple_extent_ndims (sp);
      if (nd >= 0 && nd <= 8)
        H5Sget_simple_extent_dims (sp, dims, NULL);
      if (H5Tget_class (ty) != H5T_FLOAT)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED,
                       "%s: weight '%s' is not floating point", node->name, fl->weights[i]);
          rc = -1;
        }
      else
        {
          gboolean ok = nd == p->ndims;
          for (int d = 0; ok && d < nd; d++)
            ok = dims[d] == (hsize_t) p->dims[d];
          if (!ok)
            {
              g_autofree char *got = nd >= 0 && nd <= 8 ? shape_string (dims, nd) : g_strdup ("?");
              g_autofree char *want = param_shape_string (p);
              g_set_error (error, XC_ERROR, XC_ERROR_WEIGHTS,
                           "%s: weight '%s' has shape %s, the layer expects %s %s",
                           node->name, fl->weights[i], got, p->name, want);
              rc = -1;
            }
          else
            {
              rc = H5Dread (ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, p->data);
              if (rc < 0)
                g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                             "%s: cannot read weight '%s' (truncated or corrupt file)",
                             node->name, fl->weights[i]);
            }
        }
      H5Tclose (ty);
      H5Sclose (sp);
      H5Dclose (ds);
      if (rc < 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
load_weights_group (XcModel *model, hid_t group, GError **error)
{
  g_auto(GStrv) names = NULL;
  g_autoptr(GArray) layers = g_array_new (FALSE, TRUE, sizeof (FileLayer));
  g_autofree gboolean *used = g_new0 (gboolean, xc_model_n_nodes (model));
  guint next = 0;

  g_array_set_clear_func (layers, file_layer_clear);
  names = read_strings_attr (group, "layer_names", error);
  if (names == NULL)
    return FALSE;

  for (guint i = 0; names[i]; i++)
    {
      FileLayer fl = { g_strdup (names[i]), NULL, -1 };
      hid_t lg = H5Gopen2 (group, names[i], H5P_DEFAULT);
      if (lg < 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_WEIGHTS,
                       "layer_names lists '%s' but there is no such group", names[i]);
          g_free (fl.layer);
          return FALSE;
        }
      fl.weights = read_strings_attr (lg, "weight_names", error);
      H5Gclose (lg);
      if (fl.weights == NULL)
        {
          g_prefix_error (error, "%s: ", names[i]);
          g_free (fl.layer);
          return FALSE;
        }
      if (fl.weights[0] == NULL)
        {
          file_layer_clear (&fl);
          continue;   /* a layer without weights */
        }
      /* a name twice would load one weight twice and leave another unloaded */
      for (guint a = 0; fl.weights[a]; a++)
        for (guint b = a + 1; fl.weights[b]; b++)
          if (g_str_equal (fl.weights[a], fl.weights[b]))
            {
              g_set_error (error, XC_ERROR, XC_ERROR_WEIGHTS, "layer %s: weight_names lists "
                           "'%s' twice", names[i], fl.weights[a]);
              file_layer_clear (&fl);
              return FALSE;
            }
      g_array_append_val (layers, fl);
    }

  /* by name */
  for (guint i = 0; i < layers->len; i++)
    {
      FileLayer *fl = &g_array_index (layers, FileLayer, i);
      guint idx;
      if (xc_model_lookup (model, fl->layer, &idx, NULL) &&
          xc_model_node (model, idx)->n_params > 0 && !used[idx])
        {
          fl->node = idx;
          used[idx] = TRUE;
        }
    }
  /* leftovers by order: the next unmatched layer whose weights have these shapes */
  for (guint i = 0; i < layers->len; i++)
    {
      FileLayer *fl = &g_array_index (layers, FileLayer, i);
      hid_t lg;
      if (fl->node >= 0)
        continue;
      lg = H5Gopen2 (group, fl->layer, H5P_DEFAULT);
      for (guint k = next; k < xc_model_n_nodes (model); k++)
        if (!used[k] && xc_model_node (model, k)->n_params > 0 &&
            shapes_match (lg, fl, xc_model_node (model, k)))
          {
            fl->node = k;
            used[k] = TRUE;
            next = k + 1;
            break;
          }
      H5Gclose (lg);
      if (fl->node < 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_WEIGHTS,
                       "the file's layer '%s' (%u weights) matches no layer of the model by "
                       "name or by shape", fl->layer, g_strv_length (fl->weights));
          return FALSE;
        }
    }
  for (guint k = 0; k < xc_model_n_nodes (model); k++)
    if (!used[k] && xc_model_node (model, k)->n_params > 0)
      {
        g_set_error (error, XC_ERROR, XC_ERROR_WEIGHTS, "%s: no weights for this layer in the file",
                     xc_model_node (model, k)->name);
        return FALSE;
      }

  for (guint i = 0; i < layers->len; i++)
    {
      FileLayer *fl = &g_array_index (layers, FileLayer, i);
      hid_t lg = H5Gopen2 (group, fl->layer, H5P_DEFAULT);
      gboolean ok = read_layer (lg, fl, xc_model_node (model, fl->node), error);
      H5Gclose (lg);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* ["name", ...] as our saver writes it; anything else is ignored */
static void
set_labels_from_json (XcModel *model, const char *json)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  const XcNode *out = xc_model_node (model, model->output);
  JsonArray *arr;

  if (!json_parser_load_from_data (p, json, -1, NULL) ||
      !JSON_NODE_HOLDS_ARRAY (json_parser_get_root (p)))
    return;
  arr = json_node_get_array (json_parser_get_root (p));
  if (!out->flat || json_array_get_length (arr) != (guint) out->c)
    return;
  g_clear_pointer (&model->labels, g_ptr_array_unref);
  model->labels = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      const char *s = json_node_get_value_type (json_array_get_element (arr, i)) == G_TYPE_STRING
                      ? json_array_get_string_element (arr, i) : "";
      g_ptr_array_add (model->labels, g_strdup (s));
    }
}

/* libhdf5 1.10 loops forever reading a global heap collection (where
 * variable-length strings such as h5py's model_config live) that holds an
 * object of size 0 with index 0 (H5HG__cache_heap_deserialize advances by
 * the object's size): found by tests/fuzz/fuzz-keras-h5. Every collection
 * ("GCOL", version 1, at least 4096 bytes) is walked here first, as HDF5
 * walks it, and a file with one that would stall or run past its end is
 * refused. */
static gboolean
check_global_heaps (const guint8 *data, gsize len, const char *path, guint64 *max_object,
                    GError **error)
{
  const guint8 *p = data, *end = data + len;

  *max_object = 0;
  if (data == NULL || len < 16)
    return TRUE;   /* (an empty file maps to NULL) */
  while ((p = memmem (p, end - p, "GCOL", 4)) != NULL)
    {
      const guint8 *col = p;
      guint64 size, at = 16;

      p += 4;
      if (end - col < 16 || col[4] != 1 || col[5] || col[6] || col[7])
        continue;
      memcpy (&size, col + 8, 8);
      size = GUINT64_FROM_LE (size);
      if (size < 4096 || size > (guint64) (end - col))
        continue;
      while (at < size)
        {
          guint16 idx;
          guint64 osize, need;
          if (at + 16 > size)
            break;   /* the rest is free space */
          memcpy (&idx, col + at, 2);
          memcpy (&osize, col + at + 8, 8);
          idx = GUINT16_FROM_LE (idx), osize = GUINT64_FROM_LE (osize);
          need = idx > 0 ? 16 + ((osize + 7) & ~(guint64) 7) : osize;
          if (need == 0 || osize > size || need > size - at)
            {
              g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: corrupt HDF5 global heap at "
                           "byte %" G_GSIZE_FORMAT " (an object of %" G_GUINT64_FORMAT " bytes "
                           "at %" G_GUINT64_FORMAT " of a %" G_GUINT64_FORMAT "-byte "
                           "collection): refused, libhdf5 would loop or read past it", path,
                           (gsize) (col - data), osize, at, size);
              return FALSE;
            }
          *max_object = MAX (*max_object, osize);
          at += need;
        }
    }
  return TRUE;
}

/* libhdf5 1.10 can crash on corrupt metadata (H5HG_read on a global heap
 * reference past the heap, found by tests/fuzz): its reads run under the
 * fault guard; after a fault HDF5 is not used again in this process */
static gboolean
h5_usable (const char *path, GError **error)
{
  if (!h5_poisoned)
    return TRUE;
  g_set_error (error, XC_ERROR, XC_ERROR_FAILED, "%s: not read: a corrupt HDF5 file crashed "
               "libhdf5 earlier in this session; restart the program to read HDF5 files again",
               path);
  return FALSE;
}

static void
h5_fault (const XcGuard *g, const char *path, GError **error)
{
  h5_poisoned = TRUE;
  g_clear_error (error);
  g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: corrupt HDF5 metadata crashed libhdf5 "
               "(signal %d) while reading it: refused", path, g->faulted);
}

static hid_t
open_file (const char *path, unsigned flags, GError **error)
{
  hid_t file;

  if (!xc_check_user_file (path, "a Keras file", error))
    return -1;
  {
    g_autoptr(GMappedFile) map = g_mapped_file_new (path, FALSE, NULL);
    if (map != NULL &&
        !check_global_heaps ((const guint8 *) g_mapped_file_get_contents (map),
                             g_mapped_file_get_length (map), path, &gheap_max_object, error))
      return -1;
  }
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  if (H5Fis_hdf5 (path) <= 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                   "%s: not an HDF5 file (empty, truncated or another format)", path);
      return -1;
    }
  file = H5Fopen (path, flags, H5P_DEFAULT);
  if (file < 0)
    g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: HDF5 file cannot be opened (truncated "
                 "or corrupt)", path);
  return file;
}

/**
 * xc_keras_load:
 * @path: a full-model Keras HDF5 file
 *
 * Returns: (transfer full): the model with its weights, or %NULL with @error
 *   naming the file, the layer and the rule
 */
/* Reads a full model from an open file; the caller holds h5_lock */
static XcModel *
load_open_file (hid_t file, const char *path, GError **error)
{
  g_autoptr(XcModel) model = NULL;
  g_autofree char *config = NULL;
  g_autofree char *pre = NULL;
  hid_t wg;
  gboolean ok;

  if (H5Aexists (file, "model_config") <= 0)
    {
      if (H5Aexists (file, "layer_names") > 0)
        g_set_error (error, XC_ERROR, XC_ERROR_FORMAT,
                     "%s: a weights-only file (no model_config); load it into the built-in "
                     "Xception with --model builtin:xception --weights %s", path, path);
      else
        g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: not a Keras model file "
                     "(no model_config attribute)", path);
      return NULL;
    }
  config = read_string_attr (file, "model_config", error);
  if (config == NULL)
    goto fail;
  model = xc_keras_model_from_json (config, path, error);
  if (model == NULL)
    goto fail;

  if (H5Aexists (file, "xception_studio_preprocess") > 0)
    {
      pre = read_string_attr (file, "xception_studio_preprocess", NULL);
      if (pre)
        xc_preprocess_from_string (pre, &model->preprocess);
    }
  if (H5Aexists (file, "xception_studio_labels") > 0)
    {
      g_autofree char *labels = read_string_attr (file, "xception_studio_labels", NULL);
      if (labels)
        set_labels_from_json (model, labels);
    }

  wg = H5Lexists (file, "model_weights", H5P_DEFAULT) > 0
       ? H5Gopen2 (file, "model_weights", H5P_DEFAULT) : H5Gopen2 (file, "/", H5P_DEFAULT);
  if (wg < 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "cannot open model_weights");
      goto fail;
    }
  ok = load_weights_group (model, wg, error);
  H5Gclose (wg);
  if (!ok)
    goto fail;
  return g_steal_pointer (&model);

fail:
  g_prefix_error (error, "%s: ", path);
  return NULL;
}

/**
 * xc_keras_load:
 * @path: a full-model Keras HDF5 file
 *
 * Returns: (transfer full): the model with its weights, or %NULL with @error
 *   naming the file, the layer and the rule
 */
static XcModel *
guarded_load (hid_t file, const char *path, GError **error)
{
  XcGuard g;
  XcModel *volatile model = NULL;
  GError *local = NULL;
  GError **volatile where = &local;

  XC_GUARD_BEGIN (g)
    model = load_open_file (file, path, where);
  XC_GUARD_END (g)
  if (g.faulted)
    {
      /* the half-built model is lost with the frames the fault skipped */
      h5_fault (&g, path, error);
      g_clear_error (&local);
      return NULL;
    }
  if (local)
    g_propagate_error (error, local);
  return model;
}

XcModel *
xc_keras_load (const char *path, GError **error)
{
  XcModel *model;
  hid_t file;

  h5_lock_acquire ();
  file = h5_usable (path, error) ? open_file (path, H5F_ACC_RDONLY, error) : -1;
  if (file < 0)
    {
      g_mutex_unlock (&h5_lock);
      return NULL;
    }
  model = guarded_load (file, path, error);
  if (!h5_poisoned)
    H5Fclose (file);
  g_mutex_unlock (&h5_lock);
  return model;
}

/* HDF5's file image callbacks that hand out the caller's buffer itself
 * instead of copies (as H5LTopen_file_image's "don't copy" does): the
 * embedded models are read in place, read-only, and never freed here.
 * Without them the core driver held two 10 MB copies of a tiny model. */
static void *
image_malloc (size_t size, H5FD_file_image_op_t op, void *udata)
{
  (void) size; (void) op;
  return udata;
}

static void *
image_memcpy (void *dest, const void *src, size_t size, H5FD_file_image_op_t op, void *udata)
{
  (void) op; (void) udata;
  if (dest != src)
    memcpy (dest, src, size);
  return dest;
}

static void *
image_realloc (void *ptr, size_t size, H5FD_file_image_op_t op, void *udata)
{
  (void) ptr; (void) size; (void) op; (void) udata;
  return NULL;   /* read-only: never grows */
}

static herr_t
image_free (void *ptr, H5FD_file_image_op_t op, void *udata)
{
  (void) ptr; (void) op; (void) udata;
  return 0;
}

static void *
image_udata_copy (void *udata)
{
  return udata;
}

static herr_t
image_udata_free (void *udata)
{
  (void) udata;
  return 0;
}

/* Keras' naming.to_snake_case: "SeparableConv2D" -> "separable_conv2d" */
static char *
snake_case (const char *cls)
{
  GString *s = g_string_new (NULL);
  size_t n = strlen (cls);

  for (size_t i = 0; i < n; i++)
    {
      char c = cls[i];
      if (!g_ascii_isalnum (c) && c != '_')
        continue;
      /* "(.)([A-Z][a-z]+)" -> "\\1_\\2", then "([a-z])([A-Z])" -> "\\1_\\2" */
      if (i > 0 && g_ascii_isupper (c) &&
          ((i + 1 < n && g_ascii_islower (cls[i + 1])) || g_ascii_islower (cls[i - 1])))
        g_string_append_c (s, '_');
      g_string_append_c (s, g_ascii_tolower (c));
    }
  return g_string_free (s, FALSE);
}

/* layers/<snake_case class>[_k]/vars for the next layer of class cls, k
 * counting the earlier layers of that class in used (Keras' saving_lib
 * _save_container_state) */
static char *
keras3_vars_path (GHashTable *used, const char *cls)
{
  g_autofree char *snake = snake_case (cls);
  gpointer seen;

  if (g_hash_table_lookup_extended (used, snake, NULL, &seen))
    {
      guint k = GPOINTER_TO_UINT (seen) + 1;
      g_hash_table_insert (used, g_strdup (snake), GUINT_TO_POINTER (k));
      return g_strdup_printf ("layers/%s_%u/vars", snake, k);
    }
  g_hash_table_insert (used, g_strdup (snake), GUINT_TO_POINTER (0));
  return g_strdup_printf ("layers/%s/vars", snake);
}

/* A Keras 3 weights file (model.weights.h5 of a .keras): each layer's
 * variables at layers/<snake_case class>[_k]/vars/<i>, k counting earlier
 * layers of the same class, in the model's layer order (Keras'
 * saving_lib._save_container_state) */
static gboolean
load_keras3_weights (XcModel *model, hid_t file, GError **error)
{
  g_autoptr(GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    {
      XcNode *node = xc_model_node (model, i);
      g_autofree char *path = NULL;
      FileLayer fl = { 0 };
      H5G_info_t info;
      hid_t g;
      gboolean ok;

      if (node->keras_class == NULL)
        continue;   /* the input a Sequential config implies */
      path = keras3_vars_path (used, node->keras_class);
      if (node->n_params == 0)
        continue;
      if (H5Lexists (file, "layers", H5P_DEFAULT) <= 0 ||
          H5Lexists (file, path, H5P_DEFAULT) <= 0 || (g = H5Gopen2 (file, path, H5P_DEFAULT)) < 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_WEIGHTS, "%s: no %s in model.weights.h5",
                       node->name, path);
          return FALSE;
        }
      H5Gget_info (g, &info);
      fl.layer = node->name;
      fl.weights = g_new0 (char *, info.nlinks + 1);
      for (hsize_t v = 0; v < info.nlinks; v++)
        fl.weights[v] = g_strdup_printf ("%u", (guint) v);
      ok = read_layer (g, &fl, node, error);
      g_strfreev (fl.weights);
      H5Gclose (g);
      if (!ok)
        {
          g_prefix_error (error, "%s: ", path);
          return FALSE;
        }
    }
  return TRUE;
}

/* Opens HDF5 bytes in memory read-only, in place (the callbacks above) */
static hid_t
open_memory (gconstpointer data, gsize size)
{
  hid_t fapl = H5Pcreate (H5P_FILE_ACCESS), file;

  H5Pset_fapl_core (fapl, 1 << 20, 0);
  H5Pset_file_image_callbacks (fapl, &(H5FD_file_image_callbacks_t) {
                                 image_malloc, image_memcpy, image_realloc, image_free,
                                 image_udata_copy, image_udata_free, (void *) data });
  H5Pset_file_image (fapl, (void *) data, size);
  file = H5Fopen ("model.weights.h5", H5F_ACC_RDONLY, fapl);
  H5Pclose (fapl);
  return file;
}

/**
 * xc_keras3_load:
 * @path: a Keras 3 .keras file: a zip of config.json, metadata.json and
 *   model.weights.h5
 *
 * Reads it in place (the archive mapped, its entries sliced, the weights
 * opened by HDF5's core driver from memory): nothing is unpacked to disk.
 *
 * Returns: (transfer full): the model, or %NULL with @error
 */
XcModel *
xc_keras3_load (const char *path, GError **error)
{
  g_autoptr(GMappedFile) mf = NULL;
  g_autoptr(GBytes) zip = NULL, config = NULL, weights = NULL, meta = NULL;
  g_autoptr(XcModel) model = NULL;
  g_autofree char *json = NULL;
  gsize size;
  gconstpointer data;
  hid_t file;
  gboolean ok;

  if (!xc_check_user_file (path, "a .keras file", error))
    return NULL;
  mf = g_mapped_file_new (path, FALSE, error);
  if (mf == NULL)
    {
      if (error && *error)
        (*error)->domain = XC_ERROR, (*error)->code = XC_ERROR_IO;
      return NULL;
    }
  zip = g_mapped_file_get_bytes (mf);
  if (!(config = xc_zip_extract (zip, "config.json", path, error)) ||
      !(weights = xc_zip_extract (zip, "model.weights.h5", path, error)))
    return NULL;
  data = g_bytes_get_data (config, &size);
  json = g_strndup (data, size);
  model = xc_keras_model_from_json (json, path, error);
  if (model == NULL)
    {
      g_prefix_error (error, "%s: config.json: ", path);
      return NULL;
    }
  /* what our own writer keeps in metadata.json: labels, preprocessing */
  if ((meta = xc_zip_extract (zip, "metadata.json", path, NULL)) != NULL)
    {
      g_autoptr(JsonParser) mp = json_parser_new ();
      JsonNode *mr, *xs;
      data = g_bytes_get_data (meta, &size);
      if (json_parser_load_from_data (mp, data, size, NULL) &&
          (mr = json_parser_get_root (mp)) && JSON_NODE_HOLDS_OBJECT (mr) &&
          (xs = json_object_get_member (json_node_get_object (mr), "xception_studio")) &&
          JSON_NODE_HOLDS_OBJECT (xs))
        {
          JsonObject *o = json_node_get_object (xs);
          JsonNode *labels = json_object_get_member (o, "labels");
          if (json_object_has_member (o, "preprocess") &&
              JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "preprocess")))
            xc_preprocess_from_string (json_object_get_string_member (o, "preprocess"),
                                       &model->preprocess);
          if (labels && JSON_NODE_HOLDS_ARRAY (labels))
            {
              g_autofree char *text = json_to_string (labels, FALSE);
              set_labels_from_json (model, text);
            }
        }
    }
  data = g_bytes_get_data (weights, &size);
  {
    guint64 max_object;
    if (!check_global_heaps (data, size, path, &max_object, error))
      return NULL;
    h5_lock_acquire ();
    gheap_max_object = max_object;
  }
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  file = open_memory (data, size);
  if (file < 0)
    {
      g_mutex_unlock (&h5_lock);
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: model.weights.h5 is not readable HDF5",
                   path);
      return NULL;
    }
  ok = load_keras3_weights (model, file, error);
  H5Fclose (file);
  g_mutex_unlock (&h5_lock);
  if (!ok)
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  return g_steal_pointer (&model);
}

/**
 * xc_keras_load_memory:
 * @data: (array length=size): a whole HDF5 file in memory (an embedded model)
 * @name: what to call it in the model and in errors
 *
 * Opens the bytes with HDF5's core driver; nothing touches the disk.
 */
XcModel *
xc_keras_load_memory (gconstpointer data, gsize size, const char *name, GError **error)
{
  XcModel *model;
  hid_t fapl, file;
  guint64 max_object;

  if (!check_global_heaps (data, size, name, &max_object, error))
    return NULL;
  h5_lock_acquire ();
  gheap_max_object = max_object;
  if (!h5_usable (name, error))
    {
      g_mutex_unlock (&h5_lock);
      return NULL;
    }
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  fapl = H5Pcreate (H5P_FILE_ACCESS);
  H5Pset_fapl_core (fapl, 1 << 20, 0);
  H5Pset_file_image_callbacks (fapl, &(H5FD_file_image_callbacks_t) {
                                 image_malloc, image_memcpy, image_realloc, image_free,
                                 image_udata_copy, image_udata_free, (void *) data });
  H5Pset_file_image (fapl, (void *) data, size);
  file = H5Fopen (name, H5F_ACC_RDONLY, fapl);
  H5Pclose (fapl);
  if (file < 0)
    {
      g_mutex_unlock (&h5_lock);
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: not a readable HDF5 image", name);
      return NULL;
    }
  model = guarded_load (file, name, error);
  if (!h5_poisoned)
    H5Fclose (file);
  g_mutex_unlock (&h5_lock);
  return model;
}

/* The dimensions of layer's first weight (its kernel) in weights group wg;
 * FALSE if the layer has no weights there */
static gboolean
first_weight_dims (hid_t wg, const char *layer, hsize_t *dims, int *rank)
{
  g_auto(GStrv) names = NULL;
  hid_t lg, ds, space;

  if (H5Lexists (wg, layer, H5P_DEFAULT) <= 0 || (lg = H5Gopen2 (wg, layer, H5P_DEFAULT)) < 0)
    return FALSE;
  names = read_strings_attr (lg, "weight_names", NULL);
  ds = names && names[0] && H5Lexists (lg, names[0], H5P_DEFAULT) > 0
       ? H5Dopen2 (lg, names[0], H5P_DEFAULT) : -1;
  H5Gclose (lg);
  if (ds < 0)
    return FALSE;
  space = H5Dget_space (ds);
  *rank = H5Sget_simple_extent_ndims (space);
  if (*rank < 1 || *rank > 4)
    *rank = 0;
  else
    H5Sget_simple_extent_dims (space, dims, NULL);
  H5Sclose (space);
  H5Dclose (ds);
  return *rank > 0;
}

/**
 * xc_keras_probe_xception_weights:
 * @info: (out caller-allocates): what the file holds
 *
 * Whether @path is a weights-only file (no model_config, root layer_names)
 * of the Keras Xception, as Keras Applications publishes them: its input
 * channels and first filter count (block1_conv1's kernel), and whether it
 * has the top (a "predictions" layer) and how many classes.
 *
 * Returns: FALSE (with @error) if the file cannot be read; TRUE otherwise,
 *   with info->xception telling whether it is such a file
 */
gboolean
xc_keras_probe_xception_weights (const char *path, XcKerasWeightsInfo *info, GError **error)
{
  hid_t file, wg;
  hsize_t dims[4];
  int rank;

  memset (info, 0, sizeof *info);
  h5_lock_acquire ();
  file = open_file (path, H5F_ACC_RDONLY, error);
  if (file < 0)
    {
      g_mutex_unlock (&h5_lock);
      return FALSE;
    }
  if (H5Aexists (file, "model_config") <= 0 && H5Aexists (file, "layer_names") > 0 &&
      (wg = H5Gopen2 (file, "/", H5P_DEFAULT)) >= 0)
    {
      if (first_weight_dims (wg, "block1_conv1", dims, &rank) && rank == 4 &&
          dims[0] == 3 && dims[1] == 3 && dims[2] >= 1 && dims[2] <= 4 && dims[3] >= 1 &&
          dims[3] <= 4096 && H5Lexists (wg, "block14_sepconv2", H5P_DEFAULT) > 0)
        {
          info->xception = TRUE;
          info->channels = (int) dims[2];
          info->first_filters = (int) dims[3];
          if (first_weight_dims (wg, "predictions", dims, &rank) && rank == 2 &&
              dims[1] >= 1 && dims[1] <= 100000)
            {
              info->include_top = TRUE;
              info->classes = (int) dims[1];
            }
        }
      H5Gclose (wg);
    }
  H5Fclose (file);
  g_mutex_unlock (&h5_lock);
  return TRUE;
}

/**
 * xc_keras_load_weights:
 * @model: a finished model, e.g. the built-in Xception
 * @path: a weights-only file (root layer_names) or a full-model file
 *
 * Returns: %FALSE with @error on a missing, extra or wrong-shaped weight; the
 *   model's weights are then unspecified
 */
gboolean
xc_keras_load_weights (XcModel *model, const char *path, GError **error)
{
  hid_t file, wg;
  gboolean ok;

  /* the file's values go where Keras' layout puts them */
  if (!xc_model_unpack_panels (model, error))
    return FALSE;

  h5_lock_acquire ();
  file = h5_usable (path, error) ? open_file (path, H5F_ACC_RDONLY, error) : -1;
  if (file < 0)
    {
      g_mutex_unlock (&h5_lock);
      return FALSE;
    }
  {
    XcGuard g;
    volatile gboolean vok = FALSE;
    GError *local = NULL;
    GError **volatile where = &local;
    XC_GUARD_BEGIN (g)
      wg = H5Lexists (file, "model_weights", H5P_DEFAULT) > 0
           ? H5Gopen2 (file, "model_weights", H5P_DEFAULT) : H5Gopen2 (file, "/", H5P_DEFAULT);
      vok = wg >= 0 && load_weights_group (model, wg, where);
      if (wg >= 0)
        H5Gclose (wg);
      else
        g_set_error (where, XC_ERROR, XC_ERROR_FORMAT, "no weights group");
    XC_GUARD_END (g)
    ok = vok;
    if (g.faulted)
      {
        g_clear_error (&local);
        h5_fault (&g, path, error);
        g_mutex_unlock (&h5_lock);
        return FALSE;
      }
    if (local)
      g_propagate_error (error, local);
  }
  H5Fclose (file);
  g_mutex_unlock (&h5_lock);
  if (!ok)
    g_prefix_error (error, "%s: ", path);
  else
    model->random_weights = FALSE;
  return ok;
}

static herr_t
write_strings_attr (hid_t obj, const char *name, const char *const *strs, guint n)
{
  size_t width = 1;
  g_autofree char *buf = NULL;
  hid_t type, space, attr;
  hsize_t dims[1] = { n };
  herr_t rc;

  if (n == 0)
    {
      /* Keras writes an empty float64 array */
      space = H5Screate_simple (1, dims, NULL);
      attr = H5Acreate2 (obj, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
      H5Sclose (space);
      if (attr < 0)
        return -1;
      return H5Aclose (attr);
    }
  for (guint i = 0; i < n; i++)
    width = MAX (width, strlen (strs[i]));
  buf = g_malloc0 (width * n);
  for (guint i = 0; i < n; i++)
    memcpy (buf + i * width, strs[i], strlen (strs[i]));
  type = H5Tcopy (H5T_C_S1);
  H5Tset_size (type, width);
  H5Tset_strpad (type, H5T_STR_NULLPAD);
  space = H5Screate_simple (1, dims, NULL);
  attr = H5Acreate2 (obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  rc = attr < 0 ? -1 : H5Awrite (attr, type, buf);
  if (attr >= 0)
    H5Aclose (attr);
  H5Sclose (space);
  H5Tclose (type);
  return rc;
}

/**
 * xc_keras_save_weights:
 *
 * Writes a weights-only file in the layout of Keras' save_weights (and of the
 * official Xception weights): root attributes layer_names, backend and
 * keras_version; per layer a group with weight_names and datasets
 * LAYER/LAYER/NAME:0.
 */
/* One string as Keras writes it: a scalar fixed-length string attribute */
static herr_t
write_string_attr (hid_t obj, const char *name, const char *value)
{
  size_t len = MAX (strlen (value), 1);
  hid_t type = H5Tcopy (H5T_C_S1), space = H5Screate (H5S_SCALAR), attr;
  herr_t rc;

  H5Tset_size (type, len);
  H5Tset_strpad (type, H5T_STR_NULLPAD);
  attr = H5Acreate2 (obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  rc = attr < 0 ? -1 : H5Awrite (attr, type, value);
  if (attr >= 0)
    H5Aclose (attr);
  H5Sclose (space);
  H5Tclose (type);
  return rc;
}

/* a weight's values in Keras' layout: its own, or a copy in *keras (for
 * the caller to free) where they are in GEMM panels; NULL without memory */
static const float *
param_values (const XcParam *param, float **keras)
{
  *keras = NULL;
  if (!param->panels)
    return param->data;
  if ((*keras = g_try_malloc (param->size * sizeof (float))) != NULL)
    xc_param_copy (param, *keras);
  return *keras;
}

static herr_t
write_weights_group (hid_t group, const XcModel *model)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  herr_t rc = 0;

  for (guint i = 0; i < xc_model_n_nodes (model); i++)
    g_ptr_array_add (names, xc_model_node (model, i)->name);
  rc |= write_strings_attr (group, "layer_names", (const char *const *) names->pdata, names->len);
  rc |= write_string_attr (group, "backend", "tensorflow");
  rc |= write_string_attr (group, "keras_version", "2.2.4");

  for (guint i = 0; i < xc_model_n_nodes (model) && rc >= 0; i++)
    {
      const XcNode *node = xc_model_node (model, i);
      g_autoptr(GPtrArray) wn = g_ptr_array_new_with_free_func (g_free);
      hid_t lg = H5Gcreate2 (group, node->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      hid_t inner = -1;

      if (lg < 0)
        return -1;
      if (node->n_params > 0)
        inner = H5Gcreate2 (lg, node->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      for (guint p = 0; p < node->n_params && rc >= 0; p++)
        {
          const XcParam *param = &node->params[p];
          g_autofree char *ds_name = g_strdup_printf ("%s:0", param->name);
          hsize_t dims[4];
          hid_t sp, ds;
          float *keras = NULL;
          const float *values;
          for (int d = 0; d < param->ndims; d++)
            dims[d] = param->dims[d];
          sp = H5Screate_simple (param->ndims, dims, NULL);
          ds = H5Dcreate2 (inner, ds_name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT,
                           H5P_DEFAULT);
          values = param_values (param, &keras);
          rc = ds < 0 || values == NULL ? -1 : H5Dwrite (ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                                         H5P_DEFAULT, values);
          g_clear_pointer (&keras, g_free);
          if (ds >= 0)
            H5Dclose (ds);
          H5Sclose (sp);
          g_ptr_array_add (wn, g_strdup_printf ("%s/%s", node->name, ds_name));
        }
      if (rc >= 0)
        rc = write_strings_attr (lg, "weight_names", (const char *const *) wn->pdata, wn->len);
      if (inner >= 0)
        H5Gclose (inner);
      H5Gclose (lg);
    }
  return rc;
}

/**
 * xc_keras_save_weights:
 *
 * Writes a weights-only file in the layout of Keras' save_weights (and of the
 * official Xception weights): root attributes layer_names, backend and
 * keras_version; per layer a group with weight_names and datasets
 * LAYER/LAYER/NAME:0.
 */
static gboolean save_weights_to (const XcModel *model, const char *tmp, const char *path,
                                 GError **error);

gboolean
xc_keras_save_weights (const XcModel *model, const char *path, GError **error)
{
  char *tmp = xc_output_begin (path, error);

  if (tmp == NULL)
    return FALSE;
  return xc_output_end (tmp, path, save_weights_to (model, tmp, path, error), error);
}

static gboolean
save_weights_to (const XcModel *model, const char *tmp, const char *path, GError **error)
{
  hid_t file;
  herr_t rc;

  h5_lock_acquire ();
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  file = H5Fcreate (tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0)
    {
      g_mutex_unlock (&h5_lock);
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot create the file", path);
      return FALSE;
    }
  rc = write_weights_group (file, model);
  if (H5Fclose (file) < 0)
    rc = -1;
  g_mutex_unlock (&h5_lock);
  if (rc < 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: writing the weights failed", path);
      return FALSE;
    }
  return TRUE;
}

/**
 * xc_keras_save_model:
 * @attrs: (nullable) (array zero-terminated=1): extra root attributes,
 *   key/value pairs ("xception_studio_labels", "[...]", ...)
 *
 * Writes a full-model file as Keras 2 does: root attributes model_config
 * (functional JSON), keras_version and backend, and the group model_weights
 * in save_weights' layout. Keras, h5py-based tools and our reader open it.
 */
gboolean
xc_keras_save_model (const XcModel *model, const char *path, const char *const *attrs,
                     GError **error)
{
  g_autofree char *config = NULL;
  char *tmp;
  hid_t file, wg;
  herr_t rc = 0;

  if (g_str_has_suffix (path, ".keras"))
    return xc_keras3_save (model, path, attrs, error);
  if ((tmp = xc_output_begin (path, error)) == NULL)
    return FALSE;
  config = xc_keras_model_to_json (model);
  h5_lock_acquire ();
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  file = H5Fcreate (tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0)
    {
      g_mutex_unlock (&h5_lock);
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot create the file", path);
      return xc_output_end (tmp, path, FALSE, NULL);
    }
  rc |= write_string_attr (file, "model_config", config);
  rc |= write_string_attr (file, "keras_version", "2.2.4");
  rc |= write_string_attr (file, "backend", "tensorflow");
  rc |= write_string_attr (file, "xception_studio_preprocess",
                           xc_preprocess_name (model->preprocess));
  for (guint i = 0; attrs && attrs[i] && attrs[i + 1] && rc >= 0; i += 2)
    rc |= write_string_attr (file, attrs[i], attrs[i + 1]);
  wg = H5Gcreate2 (file, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (wg < 0 || rc < 0 || write_weights_group (wg, model) < 0)
    rc = -1;
  if (wg >= 0)
    H5Gclose (wg);
  if (H5Fclose (file) < 0)
    rc = -1;
  g_mutex_unlock (&h5_lock);
  if (rc < 0)
    g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: writing the model failed", path);
  return xc_output_end (tmp, path, rc >= 0, error);
}

/* model.weights.h5 of a .keras, built in memory (the core driver without a
 * backing file): every layer gets layers/<snake_case class>[_k]/vars, its
 * variables as datasets "0", "1", ... in Keras' order */
static GBytes *
keras3_weights_image (const XcModel *model, GError **error)
{
  g_autoptr(GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  hid_t fapl = H5Pcreate (H5P_FILE_ACCESS), file;
  herr_t rc = 0;
  ssize_t size;
  void *buf;

  H5Pset_fapl_core (fapl, 1 << 20, 0);
  file = H5Fcreate ("model.weights.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose (fapl);
  if (file < 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "cannot create model.weights.h5 in memory");
      return NULL;
    }
  for (guint i = 0; i < xc_model_n_nodes (model) && rc >= 0; i++)
    {
      const XcNode *node = xc_model_node (model, i);
      g_autofree char *path = keras3_vars_path (used, node->keras_class ? node->keras_class
                                                                         : "InputLayer");
      hid_t lcpl = H5Pcreate (H5P_LINK_CREATE), g;

      H5Pset_create_intermediate_group (lcpl, 1);
      g = H5Gcreate2 (file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
      H5Pclose (lcpl);
      if (g < 0)
        {
          rc = -1;
          break;
        }
      for (guint p = 0; p < node->n_params && rc >= 0; p++)
        {
          const XcParam *param = &node->params[p];
          g_autofree char *ds_name = g_strdup_printf ("%u", p);
          hsize_t dims[4];
          hid_t sp, ds;
          float *keras = NULL;
          const float *values;
          for (int d = 0; d < param->ndims; d++)
            dims[d] = param->dims[d];
          sp = H5Screate_simple (param->ndims, dims, NULL);
          ds = H5Dcreate2 (g, ds_name, H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
          values = param_values (param, &keras);
          rc = ds < 0 || values == NULL ? -1 : H5Dwrite (ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                                         H5P_DEFAULT, values);
          g_clear_pointer (&keras, g_free);
          if (ds >= 0)
            H5Dclose (ds);
          H5Sclose (sp);
        }
      H5Gclose (g);
    }
  if (rc >= 0)
    rc = H5Fflush (file, H5F_SCOPE_GLOBAL);
  size = rc >= 0 ? H5Fget_file_image (file, NULL, 0) : -1;
  buf = size > 0 ? g_try_malloc (size) : NULL;
  if (buf == NULL || H5Fget_file_image (file, buf, size) != size)
    {
      g_free (buf);
      H5Fclose (file);
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "writing model.weights.h5 failed");
      return NULL;
    }
  H5Fclose (file);
  return g_bytes_new_take (buf, size);
}

/**
 * xc_keras3_save:
 * @attrs: (nullable) (array zero-terminated=1): key/value pairs kept in
 *   metadata.json under "xception_studio" (labels, the training command...)
 *
 * Writes the model as Keras 3 saves it (keras/src/saving/saving_lib.py): a
 * stored zip of metadata.json, config.json and model.weights.h5.
 */
gboolean
xc_keras3_save (const XcModel *model, const char *path, const char *const *attrs,
                GError **error)
{
  g_autofree char *config = xc_keras3_model_to_json (model);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%d@%H:%M:%S");
  g_autoptr(GString) meta = g_string_new (NULL);
  g_autoptr(GBytes) weights = NULL, meta_b = NULL, config_b = NULL;
  const char *names[] = { "metadata.json", "config.json", "model.weights.h5" };
  GBytes *contents[3];
  gboolean ok;

  g_string_append_printf (meta, "{\"keras_version\": \"3.3.3\", \"date_saved\": \"%s\", "
                          "\"xception_studio\": {\"preprocess\": \"%s\"", date,
                          xc_preprocess_name (model->preprocess));
  for (guint i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2)
    {
      g_autofree char *v = g_strescape (attrs[i + 1], NULL);
      const char *key = g_str_has_prefix (attrs[i], "xception_studio_")
                        ? attrs[i] + strlen ("xception_studio_") : attrs[i];
      /* labels are JSON already; everything else a string */
      if (g_str_equal (key, "labels"))
        g_string_append_printf (meta, ", \"labels\": %s", attrs[i + 1]);
      else
        g_string_append_printf (meta, ", \"%s\": \"%s\"", key, v);
    }
  g_string_append (meta, "}}");
  h5_lock_acquire ();
  H5Eset_auto2 (H5E_DEFAULT, NULL, NULL);
  weights = keras3_weights_image (model, error);
  g_mutex_unlock (&h5_lock);
  if (weights == NULL || config == NULL)
    {
      if (weights != NULL)
        g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: the model has no Keras config", path);
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  meta_b = g_bytes_new (meta->str, meta->len);
  config_b = g_bytes_new (config, strlen (config));
  contents[0] = meta_b, contents[1] = config_b, contents[2] = weights;
  ok = xc_zip_write (path, names, contents, 3, error);
  return ok;
}
