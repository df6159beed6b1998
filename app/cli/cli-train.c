/* SPDX-License-Identifier: MIT
 *
 * xception-cli train: train a classifier from scratch; and what finetune
 * shares with it (cli-train.h).
 */
#define G_LOG_DOMAIN "xception-cli"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <locale.h>
#include <string.h>
#include <sys/resource.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "xc.h"
#include "cli-train.h"

static volatile gint cancel_requested;

static void
on_sigint (int sig)
{
  g_atomic_int_set (&cancel_requested, 1);
}

typedef struct {
  gboolean json;
  gint64   last_print;
} TrainLog;

static gboolean
train_progress_cb (const XcTrainProgress *p, gpointer data)
{
  TrainLog *log = data;
  gint64 now = g_get_monotonic_time ();

  if (p->epoch_done || now - log->last_print > 2 * G_USEC_PER_SEC)
    {
      log->last_print = now;
      if (log->json)
        g_print ("{\"epoch\": %d, \"step\": %" G_GUINT64_FORMAT ", \"steps\": %" G_GUINT64_FORMAT
                 ", \"loss\": %.5f, \"accuracy\": %.5f, \"lr\": %.6f, \"images_per_s\": %.1f, "
                 "\"eta_s\": %.0f, \"epoch_done\": %s, \"val_accuracy\": %.5f}\n", p->epoch,
                 p->step, p->steps, p->loss, p->accuracy, p->lr, p->images_per_s, p->eta_s,
                 p->epoch_done ? "true" : "false", p->val_accuracy);
      else if (p->epoch_done)
        {
          g_autofree char *val = p->val_accuracy >= 0
                                 ? g_strdup_printf (", validation accuracy %.2f%%",
                                                    100 * p->val_accuracy)
                                 : g_strdup ("");
          g_print ("epoch %d/%d done: loss %.4f, train accuracy %.2f%%%s, %.0f images/s\n",
                   p->epoch, p->epochs, p->loss, 100 * p->accuracy, val, p->images_per_s);
        }
      else
        g_print ("epoch %d/%d step %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ": loss %.4f, "
                 "accuracy %.2f%%, lr %.5f, %.0f images/s, %.0f s left\n", p->epoch, p->epochs,
                 p->step, p->steps, p->loss, 100 * p->accuracy, p->lr, p->images_per_s,
                 p->eta_s);
    }
  return !g_atomic_int_get (&cancel_requested);
}

static char *
labels_json (const XcDataset *ds)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; i < ds->class_names->len; i++)
    json_builder_add_string_value (b, ds->class_names->pdata[i]);
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}


GOptionEntry *
_xs_cli_train_entries (XsCliTrainArgs *t)
{
  static GOptionEntry e[16];
  GOptionEntry entries[] = {
    { "dataset", 'd', 0, G_OPTION_ARG_STRING, &t->dataset,
      "fashion-mnist:DIR or imagefolder:DIR", "SPEC" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &t->epochs, "Epochs (10)", "N" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &t->batch, "Batch size (64)", "B" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &t->lr, "Peak learning rate (SGD 0.05, AdamW 0.002)",
      "LR" },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &t->optimizer, "sgd (momentum 0.9) or adamw",
      "NAME" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &t->weight_decay, "On kernels (5e-4)", "WD" },
    { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &t->warmup, "Warm-up epochs (1)", "E" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &t->seed, "Seed for init, shuffling, augmentation (1)",
      "S" },
    { "subset", 0, 0, G_OPTION_ARG_INT, &t->subset, "Train on a seeded subset of N images",
      "N" },
    { "crop-pad", 0, 0, G_OPTION_ARG_INT, &t->crop_pad,
      "Random crop after zero padding by P pixels (2; 0 turns it off)", "P" },
    { "flip", 0, 0, G_OPTION_ARG_NONE, &t->flip, "Random horizontal flips (off by default: "
      "wrong for X-rays and digits)", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &t->threads, "Threads (all cores)", "T" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &t->out, "The trained model: FILE.h5 (Keras 2) or FILE.keras (Keras 3)", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &t->json, "Progress as JSON lines", NULL },
    { NULL }
  };
  memcpy (e, entries, sizeof entries);
  return e;
}

void
_xs_cli_train_args_defaults (XsCliTrainArgs *t)
{
  *t = (XsCliTrainArgs) { .epochs = 10, .batch = 64, .lr = -G_MAXDOUBLE, .weight_decay = 5e-4,
                          .warmup = 1, .seed = 1, .crop_pad = 2, .threads = 0 };
}

void
_xs_cli_train_args_clear (XsCliTrainArgs *t)
{
  g_free (t->optimizer);
  g_free (t->dataset);
  g_free (t->out);
}

gboolean
_xs_cli_train_options_from (const XsCliTrainArgs *t, XcTrainOptions *o, GError **error)
{
  xc_train_options_init (o);
  o->epochs = t->epochs;
  o->batch = t->batch;
  o->seed = (guint64) t->seed;
  o->weight_decay = t->weight_decay;
  o->warmup_epochs = t->warmup;
  o->augment.crop_pad = t->crop_pad;
  o->augment.flip = t->flip;
  o->augment.seed = (guint64) t->seed;
  /* -G_MAXDOUBLE marks "not given" (any value a user types is checked below) */
  if (t->optimizer == NULL || g_str_equal (t->optimizer, "sgd"))
    o->optimizer = XC_OPTIMIZER_SGD, o->lr = t->lr == -G_MAXDOUBLE ? 0.05 : t->lr;
  else if (g_str_equal (t->optimizer, "adamw"))
    o->optimizer = XC_OPTIMIZER_ADAMW, o->lr = t->lr == -G_MAXDOUBLE ? 0.002 : t->lr;
  else
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--optimizer %s: sgd or adamw",
                   t->optimizer);
      return FALSE;
    }
  if (!(isfinite (o->lr) && o->lr > 0 && o->lr <= 10))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--lr %g: the learning rate must be a "
                   "finite number above 0 and at most 10", o->lr);
      return FALSE;
    }
  if (!(isfinite (t->warmup) && t->warmup >= 0 && t->warmup <= 1000) ||
      !(isfinite (t->weight_decay) && t->weight_decay >= 0 && t->weight_decay <= 1))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--warmup %g / --weight-decay %g: "
                   "warm-up epochs 0 to 1000 and weight decay 0 to 1, finite", t->warmup,
                   t->weight_decay);
      return FALSE;
    }
  if (t->epochs < 1 || t->epochs > 100000 || t->batch < 1 || t->batch > 4096 ||
      t->crop_pad < 0 || t->crop_pad > 64)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "--epochs %d (1 to 100000), --batch %d "
                   "(1 to 4096) or --crop-pad %d (0 to 64) out of range", t->epochs, t->batch,
                   t->crop_pad);
      return FALSE;
    }
  return TRUE;
}

/* Train, report, evaluate on the test/val split, save with our attributes */
int
_xs_cli_run_training (XcModel *model, const XsCliTrainArgs *t, const XcTrainOptions *o0, char **argv,
              int argc, const char *cmd)
{
  const XcNode *in = xc_model_input (model);
  g_autoptr(XcDataset) train = NULL, full = NULL, test = NULL;
  g_autoptr(XcEvaluation) ev = NULL;
  g_autofree char *labels = NULL, *command = NULL, *acc = NULL, *ckpt = NULL;
  g_autofree char *secs_s = NULL, *rate_s = NULL;
  GError *error = NULL;
  XcTrainOptions o = *o0;
  TrainLog log = { t->json, 0 };
  gint64 t0;
  double secs;
  const char *attrs[13];

  full = xc_dataset_load (t->dataset, "train", in->h, in->w, in->c, (guint64) t->seed, &error);
  if (full == NULL || !xc_dataset_require_labels (full, "training", &error))
    return xs_cli_fail (error);
  xs_cli_report_skipped (full);
  train = t->subset > 0 ? xc_dataset_subset (full, t->subset, (guint64) t->seed)
                        : g_steal_pointer (&full);
  test = xc_dataset_load (t->dataset, g_str_has_prefix (t->dataset, "fashion-mnist:") ? "test"
                                                                                      : "val",
                          in->h, in->w, in->c, (guint64) t->seed, &error);
  if (test == NULL)
    return xs_cli_fail (error);
  if (train->n_classes != xc_model_node (model, model->output)->c)
    {
      g_printerr ("xception-cli: %s has %d classes, the model %d\n", t->dataset,
                  train->n_classes, xc_model_node (model, model->output)->c);
      return EXIT_USER;
    }
  labels = labels_json (train);
  command = g_strdup (xs_cli_command_line ? xs_cli_command_line : cmd);
  ckpt = g_strdup_printf ("%s.checkpoint.h5", t->out);
  attrs[0] = "xception_studio_labels", attrs[1] = labels;
  attrs[2] = "xception_studio_command", attrs[3] = command;
  attrs[4] = NULL;
  o.checkpoint = ckpt;
  o.checkpoint_attrs = attrs;
  g_print ("training %s on %d images of %s (%d classes), %d epochs of batch %d, %s lr %g, "
           "seed %d; evaluating on %d images\n", model->name, train->n, train->name,
           train->n_classes, o.epochs, o.batch,
           o.optimizer == XC_OPTIMIZER_SGD ? "SGD" : "AdamW", o.lr, t->seed, test->n);
  signal (SIGINT, on_sigint);
  t0 = g_get_monotonic_time ();
  if (!xc_train (model, train, NULL, &o, train_progress_cb, &log, &error))
    {
      g_printerr ("xception-cli: %s (the last epoch's checkpoint is %s)\n", error->message, ckpt);
      g_error_free (error);
      return EXIT_USER;
    }
  secs = (g_get_monotonic_time () - t0) / 1e6;
  ev = xc_evaluate (model, test, 100, NULL, NULL, &error);
  if (ev == NULL)
    return xs_cli_fail (error);
  g_print ("trained in %.1f s (%.1f images/s); %s accuracy %.2f%% on %d images\n", secs,
           (double) train->n * o.epochs / secs, test->name, 100 * ev->accuracy, ev->n);
  acc = g_strdup_printf ("%.6f", ev->accuracy);
  secs_s = g_strdup_printf ("%.1f", secs);
  rate_s = g_strdup_printf ("%.1f", (double) (train->n / o.batch) * o.batch * o.epochs / secs);
  attrs[4] = "xception_studio_test_accuracy", attrs[5] = acc;
  attrs[6] = "xception_studio_train_seconds", attrs[7] = secs_s;
  attrs[8] = "xception_studio_images_per_second", attrs[9] = rate_s;
  attrs[10] = NULL;
  if (!xc_keras_save_model (model, t->out, attrs, &error))
    return xs_cli_fail (error);
  g_unlink (ckpt);
  g_print ("wrote %s\n", t->out);
  return 0;
}

int
xs_cli_train (int argc, char **argv)
{
  XsCliTrainArgs t;
  int status = 0, input_size = 71;
  g_autofree char *arch = NULL, *width = NULL;
  GOptionEntry entries[] = {
    { "arch", 'a', 0, G_OPTION_ARG_STRING, &arch, "xception, xception-standard or mini-xception",
      "ARCH" },
    { "width", 'w', 0, G_OPTION_ARG_STRING, &width, "Xception width multiplier (1/8)", "W" },
    { "input-size", 's', 0, G_OPTION_ARG_INT, &input_size,
      "Input size (71; Xception needs >= 71; images are resized to it)", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcDataset) probe = NULL;
  XcTrainOptions o;
  GError *error = NULL;
  int channels = 1, classes = 10;

  _xs_cli_train_args_defaults (&t);
  g_option_context_set_summary (ctx, "Train a classifier from scratch and save it as a Keras "
                                "HDF5 model.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_main_entries (ctx, _xs_cli_train_entries (&t), NULL);
  if (!xs_cli_parse_args (ctx, &argc, &argv, &status))
    goto out;
  if (arch == NULL || t.dataset == NULL || t.out == NULL)
    {
      g_printerr ("xception-cli train: --arch, --dataset and --out are required\n");
      status = EXIT_USAGE;
      goto out;
    }
  if (!_xs_cli_train_options_from (&t, &o, &error))
    {
      g_printerr ("xception-cli train: %s\n", error->message);
      g_error_free (error);
      status = EXIT_USAGE;
      goto out;
    }
  xc_set_threads (t.threads > 0 ? t.threads : (int) g_get_num_processors ());
  /* the dataset decides channels and classes */
  if (g_str_has_prefix (t.dataset, "imagefolder:"))
    {
      g_autoptr(XcDataset) d = xc_dataset_load (t.dataset, "val", 8, 8, 3, 1, &error);
      if (d == NULL)
        {
          status = xs_cli_fail (error);
          goto out;
        }
      classes = d->n_classes;
      channels = 3;
    }
  if (g_str_equal (arch, "mini-xception"))
    model = xc_mini_xception_new (input_size, channels, classes, &error);
  else if (g_str_equal (arch, "xception") || g_str_equal (arch, "xception-standard"))
    {
      g_autofree char *spec = g_strdup_printf ("builtin:xception:size=%d,channels=%d,classes=%d,"
                                               "width=%s%s", input_size, channels, classes,
                                               width ? width : "1/8",
                                               g_str_equal (arch, "xception-standard")
                                               ? ",variant=standard" : "");
      model = xc_model_load_spec (spec, &error);
    }
  else
    {
      g_printerr ("xception-cli train: --arch %s: xception, xception-standard or mini-xception\n",
                  arch);
      status = EXIT_USAGE;
      goto out;
    }
  if (model == NULL)
    {
      status = xs_cli_fail (error);
      goto out;
    }
  xc_model_init_training (model, (guint64) t.seed);
  model->preprocess = XC_PREPROCESS_TF;
  status = _xs_cli_run_training (model, &t, &o, argv, argc, "train");

out:
  _xs_cli_train_args_clear (&t);
  return status;
}
