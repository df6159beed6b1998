/* SPDX-License-Identifier: MIT
 *
 * xception-cli compare's per-image rows and what is reported of them:
 * text, JSON, CSV.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "xc.h"

G_BEGIN_DECLS

#define XS_COMPARE_TOP_FRACTION 0.1   /* the overlap of the maps' top 10% cells */
#define XS_COMPARE_ECE_BINS 10

/* One image of a comparison */
typedef struct {
  char    *name;
  int      truth;                  /* the dataset's class, -1 without labels */
  int      truth_in[2];            /* it as each model's class, -1 when none */
  int      top[2];
  float    prob[2];
  int      correct[2];             /* 1, 0, or -1 when that model has no labels here */
  gboolean agree;
  /* with --method: A's and B's maps for their own top classes, then A's
   * map and B's for A's top class (matched by label in B; -1: none) */
  double   own[3];                 /* Pearson, Spearman, top-10% IoU */
  int      common_class;
  double   common[3];
} XsCompareRow;

typedef struct {
  int      agree, disagree;
  int      correct[2];
  guint    only_a, only_b;         /* McNemar's discordant pairs */
  double   ece[2];
  int      bin_count[2][XS_COMPARE_ECE_BINS];
  double   bin_conf[2][XS_COMPARE_ECE_BINS], bin_acc[2][XS_COMPARE_ECE_BINS];
  int     *confusion[2];           /* (classes, classes): truth row, prediction column */
  double   own_mean[3], common_mean[3];
  int      n_common;
} XsCompareSummary;


void xs_compare_print_row     (XcModel **m, const XsCompareRow *r, gboolean maps);
void xs_compare_summarise     (XcModel **m, const XsCompareRow *rows, int n,
                               const gboolean *labelled, const XcDataset *ds,
                               XsCompareSummary *s);
gboolean xs_compare_write_csv (const char *path, XcModel **m, const XsCompareRow *rows, int n,
                               gboolean maps, GError **error);
void xs_compare_json          (JsonBuilder *b, XcModel **m, const XcModelCost *cost,
                               const XsCompareRow *rows, int n, const gboolean *labelled,
                               const XcDataset *ds, gboolean maps, const XsCompareSummary *s);
void xs_compare_print_summary (XcModel **m, const XcModelCost *cost, int n,
                               const gboolean *labelled, const XcDataset *ds, gboolean maps,
                               const XsCompareSummary *s);

G_END_DECLS
