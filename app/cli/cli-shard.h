/* SPDX-License-Identifier: MIT
 *
 * Sharded, resumable dataset runs (cli-shard.c) and their merge
 * (cli-merge.c).
 */
#pragma once

#include <stdio.h>
#include <json-glib/json-glib.h>

#include "xc.h"

G_BEGIN_DECLS

typedef struct {
  guint       index, count;
  char       *path;        /* OUT/KIND-shard-I-of-N.jsonl */
  char       *part;        /* its .part while being written */
  GHashTable *done;        /* ids with a record */
  FILE       *f;
  gboolean    complete;
} XsShard;

typedef struct {
  const char *what;
  gint64      start, last;
  guint       decile;
  gboolean    tty;
} XsProgress;

gboolean xs_shard_parse   (const char  *spec,
                           gboolean     from_env,
                           guint       *index,
                           guint       *count,
                           GError     **error);
XsShard *xs_shard_open    (const char  *dir,
                           const char  *kind,
                           guint        index,
                           guint        count,
                           JsonNode    *header,
                           GError     **error);
gboolean xs_shard_is_done (XsShard     *s,
                           const char  *id);
gboolean xs_shard_write   (XsShard     *s,
                           JsonNode    *record,
                           GError     **error);
gboolean xs_shard_finish  (XsShard     *s,
                           GError     **error);
void     xs_shard_free    (XsShard     *s);
GArray    *xs_shard_select (const XcDataset *ds,
                            guint            index,
                            guint            count);
GPtrArray *xs_shard_ids    (const XcDataset *ds,
                            GArray          *mine);
JsonNode  *xs_shard_header (const char      *kind,
                            const char      *model,
                            const char      *dataset,
                            guint            index,
                            guint            count,
                            GPtrArray       *ids);
JsonBuilder *xs_shard_record_begin (const XcDataset *ds,
                                   int              i);
gboolean   xs_shard_add    (XsShard         *s,
                            JsonBuilder     *record,
                            XsProgress      *progress,
                            guint           *done,
                            guint            total,
                            GError         **error);
int        xs_shard_end    (XsShard         *s,
                            const char      *kind,
                            const char      *what,
                            guint            n,
                            guint            done,
                            guint            before);
void     xs_progress_update (XsProgress *p,
                           guint        done,
                           guint        total);

/* cli-merge.c: the summary every evaluate shard set (or one-process run) gives */
JsonNode *xs_evaluate_summary (JsonArray  *records,
                               JsonArray  *classes,
                               const char *model,
                               const char *dataset);
void      xs_evaluate_print   (JsonNode   *summary);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (XsShard, xs_shard_free)

G_END_DECLS
