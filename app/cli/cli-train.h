/* SPDX-License-Identifier: MIT
 *
 * What train and finetune share (cli-train.c): their options, and a run of
 * the trainer with progress, Ctrl+C and the saved model.
 */
#pragma once

#include "cli-common.h"

G_BEGIN_DECLS

typedef struct {
  int      epochs, batch, threads, subset, crop_pad;
  double   lr, weight_decay, warmup;
  char    *optimizer, *dataset, *out;
  int      seed;
  gboolean no_augment, flip, json;
} XsCliTrainArgs;

GOptionEntry * _xs_cli_train_entries (XsCliTrainArgs *t);
void _xs_cli_train_args_defaults (XsCliTrainArgs *t);
void _xs_cli_train_args_clear (XsCliTrainArgs *t);
gboolean _xs_cli_train_options_from (const XsCliTrainArgs *t, XcTrainOptions *o, GError **error);
int _xs_cli_run_training (XcModel *model, const XsCliTrainArgs *t, const XcTrainOptions *o0, char **argv, int argc, const char *cmd);

G_END_DECLS
