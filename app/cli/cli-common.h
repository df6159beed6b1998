/* SPDX-License-Identifier: MIT
 *
 * The pieces every xception-cli command shares (cli-common.c), and the
 * commands themselves, one file each (cli-<command>.c), which the dispatcher
 * (xception-cli.c) runs by name.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "xc.h"

G_BEGIN_DECLS

#define EXIT_USER  1
#define EXIT_USAGE 2

typedef struct {
  char    *model;
  char    *weights;
  char    *labels;
  char    *preprocess;
  gboolean allow_svg;
  char    *window;             /* --window CENTER,WIDTH */
  int      frame;              /* --frame N */
  gboolean keep_patient_data;
  char    *max_memory;         /* --max-memory SIZE */
} XsCliModelArgs;

/* How images are read, from the model arguments (xs_cli_load_model) */
extern XcImageOptions xs_cli_image_options;

/* The whole command line as typed, for the record a trained model keeps */
extern char *xs_cli_command_line;

void          xs_cli_model_args_clear (XsCliModelArgs   *a);
GOptionEntry *xs_cli_model_entries    (XsCliModelArgs   *a);
XcModel      *xs_cli_load_model       (XsCliModelArgs   *a,
                                       GError          **error);
int           xs_cli_fail             (GError           *error);
XcImage      *xs_cli_load_image       (const char       *path,
                                       GError          **error);
void          xs_cli_print_notices    (const char       *path,
                                       const XcImage    *image,
                                       const XcModel    *model);
gboolean      xs_cli_parse_args       (GOptionContext   *ctx,
                                       int              *argc,
                                       char           ***argv,
                                       int              *status);
gboolean      xs_cli_fill_input       (XcPlan           *plan,
                                       const XcModel    *model,
                                       const char       *image_path,
                                       const char       *npy,
                                       GError          **error);
char         *xs_cli_print_node       (JsonNode         *root);
char         *xs_cli_print_json       (JsonBuilder      *b);
void          xs_cli_add_int          (JsonBuilder      *b,
                                       const char       *name,
                                       gint64            v);
void          xs_cli_report_skipped   (const XcDataset  *ds);

int xs_cli_predict  (int argc, char **argv);
int xs_cli_dump     (int argc, char **argv);
int xs_cli_summary  (int argc, char **argv);
int xs_cli_bench    (int argc, char **argv);
int xs_cli_download (int argc, char **argv);
int xs_cli_explain  (int argc, char **argv);
int xs_cli_train    (int argc, char **argv);
int xs_cli_finetune (int argc, char **argv);
int xs_cli_evaluate (int argc, char **argv);
int xs_cli_compare  (int argc, char **argv);
int xs_cli_report   (int argc, char **argv);
int xs_cli_localize (int argc, char **argv);
int xs_cli_merge    (int argc, char **argv);

G_END_DECLS
