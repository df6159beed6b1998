/* SPDX-License-Identifier: MIT
 *
 * Sharded, resumable dataset runs. A run over a dataset takes shard I of N
 * (--shard I/N, or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or
 * JOB_COMPLETION_INDEX with --shards-from-env; XCEPTION_SHARDS, when set,
 * is N); an image belongs to shard
 * xc_shard_of (its id, N), the same on every machine. Each shard writes
 * OUT/KIND-shard-I-of-N.jsonl: a header line (what ran, and the ids the
 * shard owns) then one record per image, appended to a .part file flushed
 * after every record and renamed when the shard is complete. A rerun skips
 * the records already written; a half-written last line (a task killed
 * mid-write) is cut off and its image done again. `xception-cli merge`
 * joins the shards (cli-merge.c).
 */
#define G_LOG_DOMAIN "xception-cli"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "cli-common.h"
#include "cli-shard.h"

/**
 * xs_shard_parse:
 *
 * "I/N" from --shard, or the scheduler's environment.
 */
gboolean
xs_shard_parse (const char *spec, gboolean from_env, guint *index, guint *count, GError **error)
{
  const char *id = NULL, *n = NULL;
  guint64 i = 0, c = 1;

  if (spec && from_env)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--shard and --shards-from-env: give "
                   "one");
      return FALSE;
    }
  if (from_env)
    {
      /* XCEPTION_SHARDS wins over the array's own count: a task resubmitted
       * alone (sbatch --array=2) is still shard 2 of the original N */
      if ((id = g_getenv ("SLURM_ARRAY_TASK_ID")) &&
          ((n = g_getenv ("XCEPTION_SHARDS")) || (n = g_getenv ("SLURM_ARRAY_TASK_COUNT"))))
        ;
      else if ((id = g_getenv ("JOB_COMPLETION_INDEX")) && (n = g_getenv ("XCEPTION_SHARDS")))
        ;
      else
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--shards-from-env: neither "
                       "SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (a Slurm job array) nor "
                       "JOB_COMPLETION_INDEX and XCEPTION_SHARDS (a Kubernetes Indexed Job) "
                       "are set");
          return FALSE;
        }
      if (!g_ascii_string_to_unsigned (id, 10, 0, 1000000, &i, NULL) ||
          !g_ascii_string_to_unsigned (n, 10, 1, 1000000, &c, NULL) || i >= c)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--shards-from-env: task %s of %s "
                       "is not a shard (0 to count - 1; an array must start at 0)", id, n);
          return FALSE;
        }
    }
  else if (spec)
    {
      g_auto(GStrv) p = g_strsplit (spec, "/", -1);
      if (g_strv_length (p) != 2 || !g_ascii_string_to_unsigned (p[0], 10, 0, 1000000, &i, NULL)
          || !g_ascii_string_to_unsigned (p[1], 10, 1, 1000000, &c, NULL) || i >= c)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--shard %s: expected I/N with 0 <= "
                       "I < N (e.g. 0/4)", spec);
          return FALSE;
        }
    }
  *index = (guint) i, *count = (guint) c;
  return TRUE;
}

void
xs_shard_free (XsShard *s)
{
  if (s == NULL)
    return;
  if (s->f)
    fclose (s->f);
  g_free (s->part);
  g_free (s->path);
  g_clear_pointer (&s->done, g_hash_table_unref);
  g_free (s);
}

/* The ids of the complete record lines of a shard file; @keep: the bytes of
 * the header and complete lines (a partial last line is past it) */
static gboolean
read_records (const char *path, GHashTable *done, gsize *keep, GError **error)
{
  g_autofree char *text = NULL;
  gsize len, at = 0;
  guint line = 0;

  if (!g_file_get_contents (path, &text, &len, error))
    return FALSE;
  while (at < len)
    {
      char *nl = memchr (text + at, '\n', len - at);
      g_autoptr(JsonParser) p = json_parser_new ();
      JsonNode *root;
      if (nl == NULL)
        break;   /* a line cut short: its image is done again */
      *nl = '\0';
      if (!json_parser_load_from_data (p, text + at, -1, NULL) ||
          !(root = json_parser_get_root (p)) || !JSON_NODE_HOLDS_OBJECT (root))
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s:%u: not a JSON record: the file "
                       "is not ours, or damaged; remove it to redo the shard", path, line + 1);
          return FALSE;
        }
      if (line > 0 && json_object_has_member (json_node_get_object (root), "id"))
        g_hash_table_add (done, g_strdup (json_object_get_string_member (
                                            json_node_get_object (root), "id")));
      at = (nl - text) + 1;
      line++;
    }
  *keep = at;
  return TRUE;
}

/**
 * xs_shard_open:
 * @header: (transfer none): the header record (kind, model, dataset, ids
 *   of this shard...), written when the shard starts
 *
 * Opens shard @index of @count for appending, after the records a former
 * run wrote. A complete shard is opened read-only: every image is done.
 */
XsShard *
xs_shard_open (const char *dir, const char *kind, guint index, guint count, JsonNode *header,
               GError **error)
{
  g_autoptr(XsShard) s = g_new0 (XsShard, 1);
  gsize keep = 0;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: cannot create the folder: %s", dir,
                   g_strerror (errno));
      return NULL;
    }
  s->index = index, s->count = count;
  s->path = g_strdup_printf ("%s/%s-shard-%u-of-%u.jsonl", dir, kind, index, count);
  s->part = g_strconcat (s->path, ".part", NULL);
  s->done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (!xc_check_output_path (s->path, error) || !xc_check_output_path (s->part, error))
    return NULL;
  if (g_file_test (s->path, G_FILE_TEST_EXISTS))
    {
      if (!read_records (s->path, s->done, &keep, error))
        return NULL;
      s->complete = TRUE;
      return g_steal_pointer (&s);
    }
  if (g_file_test (s->part, G_FILE_TEST_EXISTS))
    {
      if (!read_records (s->part, s->done, &keep, error))
        return NULL;
      if (truncate (s->part, keep) != 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", s->part, g_strerror (errno));
          return NULL;
        }
    }
  s->f = g_fopen (s->part, "a");
  if (s->f == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", s->part, g_strerror (errno));
      return NULL;
    }
  if (keep == 0)
    {
      g_autofree char *line = json_to_string (header, FALSE);
      if (fprintf (s->f, "%s\n", line) < 0 || fflush (s->f) != 0)
        {
          g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", s->part, g_strerror (errno));
          return NULL;
        }
    }
  return g_steal_pointer (&s);
}

gboolean
xs_shard_is_done (XsShard *s, const char *id)
{
  return g_hash_table_contains (s->done, id);
}

/* One record, one line, flushed: a kill loses at most the line being written */
gboolean
xs_shard_write (XsShard *s, JsonNode *record, GError **error)
{
  g_autofree char *line = json_to_string (record, FALSE);

  if (fprintf (s->f, "%s\n", line) < 0 || fflush (s->f) != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", s->part, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* The shard is whole: on disk, then renamed to its final name */
gboolean
xs_shard_finish (XsShard *s, GError **error)
{
  if (s->complete)
    return TRUE;
  if (fflush (s->f) != 0 || fsync (fileno (s->f)) != 0 || fclose (s->f) != 0)
    {
      s->f = NULL;
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", s->part, g_strerror (errno));
      return FALSE;
    }
  s->f = NULL;
  if (g_rename (s->part, s->path) != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_IO, "%s: %s", s->path, g_strerror (errno));
      return FALSE;
    }
  s->complete = TRUE;
  return TRUE;
}

/* Progress on long runs: a bar with images/s and time left on a terminal,
 * a plain line every 10% otherwise (cluster logs) */
void
xs_progress_update (XsProgress *p, guint done, guint total)
{
  gint64 now = g_get_monotonic_time ();
  double rate, left;

  if (p->start == 0)
    p->start = now, p->tty = isatty (STDERR_FILENO);
  if (total == 0 || (now - p->last < 200000 && done < total))
    return;
  rate = done / MAX ((now - p->start) / 1e6, 1e-3);
  left = rate > 0 ? (total - done) / rate : 0;
  if (p->tty)
    {
      int w = 30, fill = (int) ((double) w * done / total);
      g_printerr ("\r%s [%.*s%*s] %u/%u  %.1f images/s  %.0f s left ", p->what, fill,
                  "##############################", w - fill, "", done, total, rate, left);
      if (done == total)
        g_printerr ("\n");
    }
  else if (done * 10 / total != p->decile || done == total)
    {
      p->decile = done * 10 / total;
      g_printerr ("%s: %u/%u images, %.1f images/s, %.0f s left\n", p->what, done, total, rate,
                  left);
    }
  p->last = now;
}

/**
 * xs_shard_select:
 *
 * Returns: (transfer full) (element-type int): the images of @ds in shard
 *   @index of @count, in dataset order
 */
GArray *
xs_shard_select (const XcDataset *ds, guint index, guint count)
{
  GArray *mine = g_array_new (FALSE, FALSE, sizeof (int));

  for (int i = 0; i < ds->n; i++)
    if (xc_shard_of (ds->ids->pdata[i], count) == index)
      g_array_append_val (mine, i);
  return mine;
}

/**
 * xs_shard_header:
 * @ids: (element-type utf8): the ids the shard owns (borrowed)
 *
 * Returns: (transfer full): the header record of a shard file: what ran
 *   (kind, model, dataset), the shard, its ids
 */
JsonNode *
xs_shard_header (const char *kind, const char *model, const char *dataset, guint index,
                 guint count, GPtrArray *ids)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
  json_builder_set_member_name (b, "dataset");
  json_builder_add_string_value (b, dataset);
  json_builder_set_member_name (b, "shard");
  json_builder_add_int_value (b, index);
  json_builder_set_member_name (b, "shards");
  json_builder_add_int_value (b, count);
  json_builder_set_member_name (b, "ids");
  json_builder_begin_array (b);
  for (guint k = 0; k < ids->len; k++)
    json_builder_add_string_value (b, ids->pdata[k]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* The ids of the selected images (borrowed from @ds) */
GPtrArray *
xs_shard_ids (const XcDataset *ds, GArray *mine)
{
  GPtrArray *ids = g_ptr_array_new ();

  for (guint k = 0; k < mine->len; k++)
    g_ptr_array_add (ids, ds->ids->pdata[g_array_index (mine, int, k)]);
  return ids;
}

/* One record (the builder's object), then the progress line */
gboolean
xs_shard_add (XsShard *s, JsonBuilder *record, XsProgress *progress, guint *done, guint total,
              GError **error)
{
  g_autoptr(JsonNode) node = json_builder_get_root (record);

  if (!xs_shard_write (s, node, error))
    return FALSE;
  xs_progress_update (progress, ++*done, total);
  return TRUE;
}

/* The shard is complete: renamed, and said so. Returns the exit status */
int
xs_shard_end (XsShard *s, const char *kind, const char *what, guint n, guint done,
              guint before)
{
  GError *error = NULL;

  if (!xs_shard_finish (s, &error))
    return xs_cli_fail (error);
  g_print ("%s shard %u/%u: %u %s, %u done now, %u by an earlier run: %s\n", kind, s->index,
           s->count, n, what, done, before, s->path);
  return 0;
}

/**
 * xs_shard_record_begin:
 *
 * Returns: (transfer full): a builder with a shard record's object begun
 *   and its common members written: the image's id, its SHA-256 and its
 *   label (null in a folder without class subfolders)
 */
JsonBuilder *
xs_shard_record_begin (const XcDataset *ds, int i)
{
  JsonBuilder *rb = json_builder_new ();
  g_autofree char *hash = xc_dataset_image_hash (ds, i);

  json_builder_begin_object (rb);
  json_builder_set_member_name (rb, "id");
  json_builder_add_string_value (rb, ds->ids->pdata[i]);
  json_builder_set_member_name (rb, "sha256");
  json_builder_add_string_value (rb, hash);
  json_builder_set_member_name (rb, "label");
  if (ds->unlabelled)
    json_builder_add_null_value (rb);
  else
    json_builder_add_int_value (rb, ds->labels[i]);
  return rb;
}
