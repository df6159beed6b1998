/* SPDX-License-Identifier: MIT
 *
 * xception-cli merge: joins the shards a sharded run wrote (cli-shard.c)
 * into the summary the one-process run prints. It checks that every shard
 * of the set is there and complete (naming the missing or unfinished ones),
 * that the shards ran the same command, and that every image their headers
 * list appears exactly once (naming the missing or repeated ones). The
 * summary is computed from the records in id order, so it is the same
 * whatever the number of shards.
 */
#define G_LOG_DOMAIN "xception-cli"

#include <string.h>
#include <json-glib/json-glib.h>

#include "cli-common.h"
#include "cli-shard.h"

static int
compare_id (gconstpointer a, gconstpointer b)
{
  JsonObject *x = json_node_get_object (*(JsonNode **) a);
  JsonObject *y = json_node_get_object (*(JsonNode **) b);

  return strcmp (json_object_get_string_member (x, "id"), json_object_get_string_member (y, "id"));
}

/**
 * xs_evaluate_summary:
 *
 * Accuracy, mean cross-entropy, per-class precision and recall and the
 * confusion matrix of evaluate records, summed in id order.
 */
JsonNode *
xs_evaluate_summary (JsonArray *records, JsonArray *classes, const char *model,
                     const char *dataset)
{
  guint n = json_array_get_length (records), k = json_array_get_length (classes);
  g_autofree guint *conf = g_new0 (guint, (size_t) MAX (k, 1) * MAX (k, 1));
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  guint correct = 0;
  double loss = 0;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (sorted, json_array_get_element (records, i));
  g_ptr_array_sort (sorted, compare_id);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *r = json_node_get_object (sorted->pdata[i]);
      gint64 label = json_object_get_int_member (r, "label");
      gint64 pred = json_object_get_int_member (r, "pred");
      correct += label == pred;
      loss += json_object_get_double_member (r, "loss");
      if (label >= 0 && label < k && pred >= 0 && pred < k)
        conf[(size_t) label * k + pred]++;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
  json_builder_set_member_name (b, "dataset");
  json_builder_add_string_value (b, dataset);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, n);
  json_builder_set_member_name (b, "accuracy");
  json_builder_add_double_value (b, n ? (double) correct / n : 0.0);
  json_builder_set_member_name (b, "loss");
  json_builder_add_double_value (b, n ? loss / n : 0.0);
  json_builder_set_member_name (b, "classes");
  json_builder_begin_array (b);
  for (guint c = 0; c < k; c++)
    {
      guint tp = conf[(size_t) c * k + c], col = 0, row = 0;
      for (guint o = 0; o < k; o++)
        col += conf[(size_t) o * k + c], row += conf[(size_t) c * k + o];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, json_array_get_string_element (classes, c));
      json_builder_set_member_name (b, "precision");
      json_builder_add_double_value (b, col ? (double) tp / col : 0.0);
      json_builder_set_member_name (b, "recall");
      json_builder_add_double_value (b, row ? (double) tp / row : 0.0);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "confusion");
  json_builder_begin_array (b);
  for (guint r = 0; r < k; r++)
    {
      json_builder_begin_array (b);
      for (guint c = 0; c < k; c++)
        json_builder_add_int_value (b, conf[(size_t) r * k + c]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
xs_evaluate_print (JsonNode *summary)
{
  JsonObject *o = json_node_get_object (summary);
  JsonArray *classes = json_object_get_array_member (o, "classes");

  g_print ("%s on %s: accuracy %.2f%% (%" G_GINT64_FORMAT " images), mean cross-entropy %.4f\n",
           json_object_get_string_member (o, "model"), json_object_get_string_member (o, "dataset"),
           100 * json_object_get_double_member (o, "accuracy"),
           json_object_get_int_member (o, "images"), json_object_get_double_member (o, "loss"));
  g_print ("%-16s %9s %9s\n", "class", "precision", "recall");
  for (guint c = 0; c < json_array_get_length (classes); c++)
    {
      JsonObject *r = json_array_get_object_element (classes, c);
      g_print ("%-16s %8.2f%% %8.2f%%\n", json_object_get_string_member (r, "label"),
               100 * json_object_get_double_member (r, "precision"),
               100 * json_object_get_double_member (r, "recall"));
    }
}

typedef struct {
  char      *kind;
  guint      index, count;
  gboolean   complete;
  char      *path;
} ShardFile;

static void
shard_file_free (gpointer p)
{
  ShardFile *f = p;
  g_free (f->kind);
  g_free (f->path);
  g_free (f);
}

int
xs_cli_merge (int argc, char **argv)
{
  g_autofree char *dir = NULL;
  gboolean json = FALSE;
  int status = 0;
  GOptionEntry entries[] = {
    { "out-dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "The folder the shards wrote", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (shard_file_free);
  g_autoptr(GPtrArray) parsers = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(JsonArray) records = json_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) expected = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *first = NULL;
  const char *e;
  guint count = 0, missing = 0, repeated = 0;

  g_option_context_set_summary (ctx, "Join the shards of a sharded run (--shard, "
                                "--shards-from-env) into the one-process summary.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    return status;
  if (dir == NULL)
    {
      g_printerr ("xception-cli merge: --out-dir is required\n");
      return EXIT_USAGE;
    }
  if (!(d = g_dir_open (dir, 0, &error)))
    {
      g_printerr ("xception-cli: %s\n", error->message);
      return EXIT_USER;
    }
  while ((e = g_dir_read_name (d)))
    {
      char kind[64];
      guint i, n;
      int end = 0;
      if (sscanf (e, "%63[a-z]-shard-%u-of-%u.jsonl%n", kind, &i, &n, &end) == 3 && end > 0 &&
          (e[end] == '\0' || g_str_equal (e + end, ".part")))
        {
          ShardFile *f = g_new0 (ShardFile, 1);
          f->kind = g_strdup (kind), f->index = i, f->count = n;
          f->complete = e[end] == '\0';
          f->path = g_build_filename (dir, e, NULL);
          g_ptr_array_add (files, f);
        }
    }
  if (files->len == 0)
    {
      g_printerr ("xception-cli: %s: no shard files (KIND-shard-I-of-N.jsonl)\n", dir);
      return EXIT_USER;
    }
  /* one set: one kind, one N, every index complete */
  for (guint k = 0; k < files->len; k++)
    {
      ShardFile *f = files->pdata[k], *f0 = files->pdata[0];
      if (!g_str_equal (f->kind, f0->kind) || f->count != f0->count)
        {
          g_printerr ("xception-cli: %s: shards of different runs (%s of %u and %s of %u): "
                      "merge one run per folder\n", dir, f0->kind, f0->count, f->kind, f->count);
          return EXIT_USER;
        }
      count = f->count;
    }
  for (guint i = 0; i < count; i++)
    {
      gboolean have = FALSE, done = FALSE;
      for (guint k = 0; k < files->len; k++)
        {
          ShardFile *f = files->pdata[k];
          if (f->index == i)
            have = TRUE, done |= f->complete;
        }
      if (!have)
        g_string_append_printf (problems, "%sshard %u is missing", problems->len ? "; " : "", i);
      else if (!done)
        g_string_append_printf (problems, "%sshard %u is unfinished (.part: run it again)",
                                problems->len ? "; " : "", i);
    }
  if (problems->len)
    {
      g_printerr ("xception-cli: %s: %u shards: %s\n", dir, count, problems->str);
      return EXIT_USER;
    }
  for (guint k = 0; k < files->len; k++)
    {
      ShardFile *f = files->pdata[k];
      g_autofree char *text = NULL;
      g_auto(GStrv) lines = NULL;
      if (!f->complete)
        continue;
      if (!g_file_get_contents (f->path, &text, NULL, &error))
        {
          g_printerr ("xception-cli: %s\n", error->message);
          return EXIT_USER;
        }
      lines = g_strsplit (text, "\n", -1);
      for (guint l = 0; lines[l] && lines[l][0]; l++)
        {
          JsonParser *p = json_parser_new ();
          JsonObject *o;
          g_ptr_array_add (parsers, p);
          if (!json_parser_load_from_data (p, lines[l], -1, NULL) ||
              !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (p)))
            {
              g_printerr ("xception-cli: %s:%u: not a JSON record\n", f->path, l + 1);
              return EXIT_USER;
            }
          o = json_node_get_object (json_parser_get_root (p));
          if (l == 0)
            {
              JsonArray *ids = json_object_get_array_member (o, "ids");
              if (first == NULL)
                first = o;
              else if (g_strcmp0 (json_object_get_string_member (o, "model"),
                                  json_object_get_string_member (first, "model")) ||
                       g_strcmp0 (json_object_get_string_member (o, "dataset"),
                                  json_object_get_string_member (first, "dataset")))
                {
                  g_printerr ("xception-cli: %s: ran another model or dataset than the other "
                              "shards\n", f->path);
                  return EXIT_USER;
                }
              for (guint j = 0; ids && j < json_array_get_length (ids); j++)
                g_hash_table_add (expected, (char *) json_array_get_string_element (ids, j));
              continue;
            }
          if (!json_object_has_member (o, "id"))
            continue;
          if (g_hash_table_contains (seen, json_object_get_string_member (o, "id")))
            {
              if (repeated++ < 5)
                g_string_append_printf (problems, "%s%s twice", problems->len ? "; " : "",
                                        json_object_get_string_member (o, "id"));
              continue;
            }
          g_hash_table_add (seen, (char *) json_object_get_string_member (o, "id"));
          json_array_add_element (records, json_node_copy (json_parser_get_root (p)));
        }
    }
  {
    GHashTableIter it;
    gpointer id;
    g_hash_table_iter_init (&it, expected);
    while (g_hash_table_iter_next (&it, &id, NULL))
      if (!g_hash_table_contains (seen, id) && missing++ < 5)
        g_string_append_printf (problems, "%s%s has no record", problems->len ? "; " : "",
                                (char *) id);
  }
  if (problems->len || g_hash_table_size (seen) != g_hash_table_size (expected))
    {
      g_printerr ("xception-cli: %s: %u missing, %u repeated, %u unexpected: %s\n", dir, missing,
                  repeated, g_hash_table_size (seen) + missing - g_hash_table_size (expected),
                  problems->str);
      return EXIT_USER;
    }
  if (first && g_str_equal (((ShardFile *) files->pdata[0])->kind, "evaluate"))
    {
      g_autoptr(JsonNode) summary = xs_evaluate_summary (
        records, json_object_get_array_member (first, "classes"),
        json_object_get_string_member (first, "model"),
        json_object_get_string_member (first, "dataset"));
      if (json)
        {
          g_autofree char *s = xs_cli_print_node (summary);
          g_print ("%s\n", s);
        }
      else
        {
          xs_evaluate_print (summary);
          g_print ("(%u shards, every image once)\n", count);
        }
      return 0;
    }
  g_printerr ("xception-cli: %s: merging %s shards is not supported\n", dir,
              ((ShardFile *) files->pdata[0])->kind);
  return EXIT_USER;
}
