/* SPDX-License-Identifier: MIT
 *
 * Localisation metrics against numpy (tests/make_localize.py): Otsu's
 * threshold and IoU on the golden's own 8-bit map exactly, the whole
 * pipeline from a raw map within float rounding; then `xception-cli
 * localize` with a model trained on the generated shapes.
 */
#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "xc.h"
#include "test-helpers.h"

typedef struct {
  int     k, h, w;
  GArray *boxes;
  int     hit, otsu, ax, ay;
  double  iou;
} Case;

static GArray *
read_cases (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "localize", "maps",
                                                 "cases.txt", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GArray *cases = g_array_new (FALSE, TRUE, sizeof (Case));

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto(GStrv) halves = NULL, a = NULL, b = NULL;
      Case c = { 0 };
      guint n;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      halves = g_strsplit (lines[i], " | ", 2);
      a = g_strsplit (halves[0], " ", -1);
      b = g_strsplit (halves[1], " ", -1);
      n = g_strv_length (a);
      g_assert_cmpuint ((n - 3) % 4, ==, 0);
      c.k = atoi (a[0]), c.h = atoi (a[1]), c.w = atoi (a[2]);
      c.boxes = g_array_new (FALSE, FALSE, sizeof (XcBox));
      for (guint j = 3; j + 3 < n; j += 4)
        {
          XcBox box = { g_ascii_strtod (a[j], NULL), g_ascii_strtod (a[j + 1], NULL),
                        g_ascii_strtod (a[j + 2], NULL), g_ascii_strtod (a[j + 3], NULL) };
          g_array_append_val (c.boxes, box);
        }
      c.hit = atoi (b[0]), c.iou = g_ascii_strtod (b[1], NULL), c.otsu = atoi (b[2]);
      c.ax = atoi (b[3]), c.ay = atoi (b[4]);
      g_array_append_val (cases, c);
    }
  return cases;
}

static void
test_metrics (void)
{
  g_autoptr(GArray) cases = read_cases ();

  g_assert_cmpuint (cases->len, ==, 16);
  for (guint i = 0; i < cases->len; i++)
    {
      Case *c = &g_array_index (cases, Case, i);
      g_autofree char *map_rel = g_strdup_printf ("localize/maps/%d.map.npy", c->k);
      g_autofree char *q_rel = g_strdup_printf ("localize/maps/%d.q.npy", c->k);
      int shape[4], nd;
      g_autofree float *map = load_golden (map_rel, shape, &nd);
      int map_h = shape[0], map_w = shape[1];
      g_autofree float *qf = NULL;
      g_autofree guint8 *truth = xc_boxes_mask ((XcBox *) c->boxes->data, c->boxes->len,
                                                c->h, c->w);
      g_autofree guint8 *q = g_new (guint8, (size_t) c->h * c->w);
      g_autofree float *up = NULL;
      size_t n = (size_t) c->h * c->w, inter = 0, uni = 0;
      XcLocalization loc;
      int t;

      /* Otsu and IoU on the golden's own quantised map: exact */
      g_assert_cmpint (nd, ==, 2);
      qf = load_golden (q_rel, shape, &nd);
      g_assert_cmpint (shape[0], ==, c->h);
      g_assert_cmpint (shape[1], ==, c->w);
      for (size_t p = 0; p < n; p++)
        q[p] = (guint8) qf[p];
      t = xc_otsu_threshold (q, n);
      g_assert_cmpint (t, ==, c->otsu);
      for (size_t p = 0; p < n; p++)
        inter += q[p] > t && truth[p], uni += q[p] > t || truth[p];
      g_assert_cmpfloat_with_epsilon ((double) inter / uni, c->iou, 1e-9);

      /* the whole pipeline from the raw map: float32 against float64 can move
       * a pixel across a quantisation step, so the threshold within 1 and
       * IoU within 0.01; the maximum's place exactly */
      up = xc_map_upsample_normalised (map, map_h, map_w, c->h, c->w);
      xc_localize_map (up, truth, c->h, c->w, &loc);
      g_test_message ("case %d: %dx%d, hit %d/%d, otsu %d/%d, IoU %.4f/%.4f", c->k, c->w, c->h,
                      loc.hit, c->hit, loc.threshold, c->otsu, loc.iou, c->iou);
      g_assert_cmpint (loc.argmax_x, ==, c->ax);
      g_assert_cmpint (loc.argmax_y, ==, c->ay);
      g_assert_cmpint (loc.hit, ==, c->hit);
      g_assert_cmpint (ABS (loc.threshold - c->otsu), <=, 1);
      g_assert_cmpfloat (fabs (loc.iou - c->iou), <, 0.01);
      g_array_unref (c->boxes);
    }
}

static void
run (const char *const *argv, char **out, int *status)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL, *ignored = NULL;
  int wait_status;

  /* stdout is always captured: it must not reach the TAP stream */
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out ? out : &ignored,
                &err, &wait_status, &error);
  g_assert_no_error (error);
  *status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128;
  g_test_message ("%s: exit %d: %s", argv[1], *status, err);
}

/* A model trained on the shapes: its Grad-CAM should point at them */
static void
test_cli_localize (void)
{
  const char *cli = g_getenv ("XCEPTION_CLI");
  g_autofree char *images = g_test_build_filename (G_TEST_DIST, "data", "localize", "images",
                                                   NULL);
  g_autofree char *boxes = g_test_build_filename (G_TEST_DIST, "data", "localize", "boxes.csv",
                                                  NULL);
  g_autofree char *dir = g_dir_make_tmp ("xs-localize-XXXXXX", NULL);
  g_autofree char *model = g_build_filename (dir, "shapes.h5", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.csv", NULL);
  g_autofree char *dataset = g_strdup_printf ("imagefolder:%s", images);
  g_autofree char *out = NULL, *out2 = NULL;
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *overall;
  JsonArray *rows, *classes;
  int status;

  g_assert_nonnull (cli);
  {
    const char *argv[] = { cli, "train", "--arch", "xception", "--dataset", dataset, "--width",
                           "1/16", "--epochs",
                           "15", "--batch", "16", "--optimizer", "adamw", "--crop-pad", "0",
                           "--out", model, NULL };
    run (argv, NULL, &status);
    g_assert_cmpint (status, ==, 0);
  }
  {
    const char *argv[] = { cli, "localize", "--model", model, "--dataset", dataset, "--boxes",
                           boxes, "--layer", "block4_sepconv2_act", "--json", NULL };
    run (argv, &out, &status);
    g_assert_cmpint (status, ==, 0);
  }
  g_assert_true (json_parser_load_from_data (p, out, -1, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (p));
  rows = json_object_get_array_member (root, "images");
  classes = json_object_get_array_member (root, "classes");
  overall = json_object_get_object_member (root, "overall");
  g_assert_cmpuint (json_array_get_length (rows), ==, 80);
  g_assert_cmpuint (json_array_get_length (classes), ==, 2);
  g_assert_cmpint (json_object_get_int_member (overall, "n"), ==, 80);
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *r = json_array_get_object_element (rows, i);
      double iou = json_object_get_double_member (r, "iou");
      g_assert_cmpfloat (iou, >=, 0.0);
      g_assert_cmpfloat (iou, <=, 1.0);
    }
  g_test_message ("pointing game %.3f, mIoU %.3f",
                  json_object_get_double_member (overall, "pointing_game"),
                  json_object_get_double_member (overall, "miou"));
  /* a shape covers about a tenth of the image: chance pointing is near 0.1
   * (measured here: 0.46 at block4, 6x6 cells) */
  g_assert_cmpfloat (json_object_get_double_member (overall, "pointing_game"), >, 0.3);

  /* a bad row is one clear error */
  g_assert_true (g_file_set_contents (bad, "image,x,y,width,height,label\nsquare/000.png,1,2,"
                                      "three,4,square\n", -1, NULL));
  {
    const char *argv[] = { cli, "localize", "--model", model, "--dataset", dataset, "--boxes",
                           bad, NULL };
    run (argv, &out2, &status);
    g_assert_cmpint (status, ==, 1);
  }
  g_unlink (model);
  g_unlink (bad);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/localize/metrics", test_metrics);
  g_test_add_func ("/localize/cli", test_cli_localize);
  return g_test_run ();
}
