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

#include <math.h>
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


/* Agreement, each model's accuracy where the labels are its classes, and
 * McNemar's test on the accuracy difference */
static JsonNode *
compare_summary (JsonArray *records, const char *models, const char *dataset)
{
  guint n = json_array_get_length (records), agree = 0, right[2] = { 0, 0 }, labelled = 0;
  guint b_only_a = 0, b_only_b = 0;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  for (guint i = 0; i < n; i++)
    {
      JsonObject *r = json_array_get_object_element (records, i);
      JsonNode *ca = json_object_get_member (json_object_get_object_member (r, "a"), "correct");
      JsonNode *cb = json_object_get_member (json_object_get_object_member (r, "b"), "correct");
      agree += json_object_get_boolean_member (r, "agree");
      if (JSON_NODE_HOLDS_VALUE (ca) && JSON_NODE_HOLDS_VALUE (cb))
        {
          gboolean a = json_node_get_boolean (ca), bb = json_node_get_boolean (cb);
          labelled++, right[0] += a, right[1] += bb;
          b_only_a += a && !bb, b_only_b += !a && bb;
        }
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "models");
  json_builder_add_string_value (b, models);
  json_builder_set_member_name (b, "dataset");
  json_builder_add_string_value (b, dataset);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, n);
  json_builder_set_member_name (b, "agreement");
  json_builder_add_double_value (b, n ? (double) agree / n : 0.0);
  if (labelled > 0)
    {
      json_builder_set_member_name (b, "accuracy_a");
      json_builder_add_double_value (b, (double) right[0] / labelled);
      json_builder_set_member_name (b, "accuracy_b");
      json_builder_add_double_value (b, (double) right[1] / labelled);
      json_builder_set_member_name (b, "mcnemar");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "only_a_right");
      json_builder_add_int_value (b, b_only_a);
      json_builder_set_member_name (b, "only_b_right");
      json_builder_add_int_value (b, b_only_b);
      json_builder_set_member_name (b, "p_exact");
      json_builder_add_double_value (b, xc_mcnemar_exact_p (b_only_a, b_only_b));
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static int
compare_label (gconstpointer a, gconstpointer b, gpointer data)
{
  return g_strcmp0 (a, b);
}

/* Pointing game and mean IoU per label (in label order) and overall, summed
 * in id order */
static JsonNode *
localize_summary (JsonArray *records, const char *model, const char *what)
{
  guint n = json_array_get_length (records), hits = 0;
  double iou = 0;
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(GTree) labels = g_tree_new_full (compare_label, NULL, NULL, g_free);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  typedef struct { guint n, hits; double iou; gint64 cls; } Acc;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (sorted, json_array_get_element (records, i));
  g_ptr_array_sort (sorted, compare_id);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *r = json_node_get_object (sorted->pdata[i]);
      const char *label = json_object_get_string_member (r, "label");
      Acc *a = g_tree_lookup (labels, label);
      gboolean hit = json_object_get_boolean_member (r, "hit");
      double v = json_object_get_double_member (r, "iou");
      if (a == NULL)
        {
          a = g_new0 (Acc, 1);
          a->cls = json_object_get_int_member (r, "class");
          g_tree_insert (labels, (gpointer) label, a);
        }
      a->n++, a->hits += hit, a->iou += v;
      hits += hit, iou += v;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
  json_builder_set_member_name (b, "run");
  json_builder_add_string_value (b, what);
  json_builder_set_member_name (b, "classes");
  json_builder_begin_array (b);
  {
    GTreeNode *node = g_tree_node_first (labels);
    for (; node; node = g_tree_node_next (node))
      {
        Acc *a = g_tree_node_value (node);
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "label");
        json_builder_add_string_value (b, g_tree_node_key (node));
        json_builder_set_member_name (b, "class");
        json_builder_add_int_value (b, a->cls);
        json_builder_set_member_name (b, "n");
        json_builder_add_int_value (b, a->n);
        json_builder_set_member_name (b, "pointing_game");
        json_builder_add_double_value (b, (double) a->hits / a->n);
        json_builder_set_member_name (b, "miou");
        json_builder_add_double_value (b, a->iou / a->n);
        json_builder_end_object (b);
      }
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "overall");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "n");
  json_builder_add_int_value (b, n);
  json_builder_set_member_name (b, "pointing_game");
  json_builder_add_double_value (b, n ? (double) hits / n : 0.0);
  json_builder_set_member_name (b, "miou");
  json_builder_add_double_value (b, n ? iou / n : 0.0);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* explain --dataset: how many images each class was explained for, their
 * mean top probability, and the accuracy of the top class */
static JsonNode *
explain_summary (JsonArray *records, const char *model, const char *what)
{
  guint n = json_array_get_length (records), right = 0;
  g_autoptr(GTree) per = g_tree_new_full (compare_label, NULL, g_free, g_free);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  typedef struct { guint n; double prob; gint64 cls; } Acc;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (sorted, json_array_get_element (records, i));
  g_ptr_array_sort (sorted, compare_id);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *r = json_node_get_object (sorted->pdata[i]);
      gint64 cls = json_object_get_int_member (r, "class");
      g_autofree char *key = g_strdup_printf ("%08" G_GINT64_FORMAT, cls);
      Acc *a = g_tree_lookup (per, key);
      right += json_object_get_int_member (r, "pred") == json_object_get_int_member (r, "label");
      if (a == NULL)
        {
          a = g_new0 (Acc, 1);
          a->cls = cls;
          g_tree_insert (per, g_steal_pointer (&key), a);
        }
      a->n++, a->prob += json_object_get_double_member (r, "prob");
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
  json_builder_set_member_name (b, "run");
  json_builder_add_string_value (b, what);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, n);
  json_builder_set_member_name (b, "accuracy");
  json_builder_add_double_value (b, n ? (double) right / n : 0.0);
  json_builder_set_member_name (b, "classes");
  json_builder_begin_array (b);
  for (GTreeNode *node = g_tree_node_first (per); node; node = g_tree_node_next (node))
    {
      Acc *a = g_tree_node_value (node);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "class");
      json_builder_add_int_value (b, a->cls);
      json_builder_set_member_name (b, "n");
      json_builder_add_int_value (b, a->n);
      json_builder_set_member_name (b, "mean_probability");
      json_builder_add_double_value (b, a->prob / a->n);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
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

/* Each kind's summary from its records and the first shard's header, and
 * its text form */
static JsonNode *
summarise_evaluate (JsonArray *records, JsonObject *h)
{
  return xs_evaluate_summary (records, json_object_get_array_member (h, "classes"),
                              json_object_get_string_member (h, "model"),
                              json_object_get_string_member (h, "dataset"));
}

static JsonNode *
summarise_compare (JsonArray *records, JsonObject *h)
{
  return compare_summary (records, json_object_get_string_member (h, "model"),
                          json_object_get_string_member (h, "dataset"));
}

static JsonNode *
summarise_localize (JsonArray *records, JsonObject *h)
{
  return localize_summary (records, json_object_get_string_member (h, "model"),
                           json_object_get_string_member (h, "dataset"));
}

static JsonNode *
summarise_explain (JsonArray *records, JsonObject *h)
{
  return explain_summary (records, json_object_get_string_member (h, "model"),
                          json_object_get_string_member (h, "dataset"));
}

static void
print_evaluate (JsonObject *o, const char *dir)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), o);

  xs_evaluate_print (node);
}

static void
print_compare (JsonObject *o, const char *dir)
{
  g_print ("%s on %s: %" G_GINT64_FORMAT " images, agreement %.2f%%\n",
           json_object_get_string_member (o, "models"),
           json_object_get_string_member (o, "dataset"), json_object_get_int_member (o, "images"),
           100 * json_object_get_double_member (o, "agreement"));
  if (json_object_has_member (o, "mcnemar"))
    {
      JsonObject *mc = json_object_get_object_member (o, "mcnemar");
      g_print ("accuracy A %.2f%%, B %.2f%%; McNemar: %" G_GINT64_FORMAT " only A right, "
               "%" G_GINT64_FORMAT " only B right, exact p = %.4g\n",
               100 * json_object_get_double_member (o, "accuracy_a"),
               100 * json_object_get_double_member (o, "accuracy_b"),
               json_object_get_int_member (mc, "only_a_right"),
               json_object_get_int_member (mc, "only_b_right"),
               json_object_get_double_member (mc, "p_exact"));
    }
}

static void
print_localize (JsonObject *o, const char *dir)
{
  JsonArray *cl = json_object_get_array_member (o, "classes");
  JsonObject *all = json_object_get_object_member (o, "overall");

  g_print ("%-24s %6s %14s %6s\n", "class", "images", "pointing game", "mIoU");
  for (guint c = 0; c <= json_array_get_length (cl); c++)
    {
      JsonObject *r = c < json_array_get_length (cl) ? json_array_get_object_element (cl, c) : all;
      g_print ("%-24s %6" G_GINT64_FORMAT " %13.1f%% %6.3f\n",
               r == all ? "overall" : json_object_get_string_member (r, "label"),
               json_object_get_int_member (r, "n"),
               100 * json_object_get_double_member (r, "pointing_game"),
               json_object_get_double_member (r, "miou"));
    }
}

static void
print_explain (JsonObject *o, const char *dir)
{
  g_print ("%s on %s: %" G_GINT64_FORMAT " maps in %s/maps (top-1 accuracy %.2f%%)\n",
           json_object_get_string_member (o, "model"), json_object_get_string_member (o, "run"),
           json_object_get_int_member (o, "images"), dir,
           100 * json_object_get_double_member (o, "accuracy"));
}

static const struct {
  const char *kind;
  JsonNode *(*summarise) (JsonArray *records, JsonObject *header);
  void      (*print)     (JsonObject *summary, const char *dir);
} kinds[] = {
  { "evaluate", summarise_evaluate, print_evaluate },
  { "compare", summarise_compare, print_compare },
  { "localize", summarise_localize, print_localize },
  { "explain", summarise_explain, print_explain },
};

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
  for (guint k = 0; first && k < G_N_ELEMENTS (kinds); k++)
    if (g_str_equal (((ShardFile *) files->pdata[0])->kind, kinds[k].kind))
      {
        g_autoptr(JsonNode) summary = kinds[k].summarise (records, first);
        if (json)
          {
            g_autofree char *s = xs_cli_print_node (summary);
            g_print ("%s\n", s);
          }
        else
          {
            kinds[k].print (json_node_get_object (summary), dir);
            g_print ("(%u shards, every image once)\n", count);
          }
        return 0;
      }
  g_printerr ("xception-cli: %s: merging %s shards is not supported\n", dir,
              ((ShardFile *) files->pdata[0])->kind);
  return EXIT_USER;
}
