/* SPDX-License-Identifier: MIT
 *
 * Medical and high-depth images against goldens from pydicom and numpy
 * (tests/make_medical.py): DICOM files shipped with Debian's python3-pydicom
 * in every transfer syntax DCMTK decodes, synthetic MONOCHROME1 and signed
 * 12-bit files, 16-bit PNG and TIFF ramps; the windowed image and the
 * network's input within 1e-5. Broken files are refused with a message.
 */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "xc.h"
#include "test-helpers.h"

#define PYDICOM "/usr/lib/python3/dist-packages/pydicom/data/test_files"
#define SIZE 64

/* xc_image_to_input() for a 64 x 64 input with tf preprocessing: a model of
 * just an input, as xc-dataset.c makes one */
static void
to_input (const XcImage *image, float *dst)
{
  XcNode in_node = { 0 };
  XcModel fake = { 0 };
  g_autoptr(GError) error = NULL;

  in_node.h = SIZE, in_node.w = SIZE, in_node.c = image->c, in_node.op = XC_OP_INPUT;
  fake.nodes = g_ptr_array_new ();
  g_ptr_array_add (fake.nodes, &in_node);
  fake.preprocess = XC_PREPROCESS_TF;
  fake.name = (char *) "test";
  g_assert_true (xc_image_to_input (image, &fake, dst, &error));
  g_assert_no_error (error);
  g_ptr_array_unref (fake.nodes);
}

static gboolean
have_pydicom_files (void)
{
  if (g_file_test (PYDICOM "/CT_small.dcm", G_FILE_TEST_EXISTS))
    return TRUE;
  g_test_skip ("python3-pydicom's test files are not installed");
  return FALSE;
}

static void
test_goldens (void)
{
  g_autofree char *cases_path = g_test_build_filename (G_TEST_DIST, "data", "medical",
                                                       "cases.txt", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_cases = 0;

  if (!have_pydicom_files ())
    return;
  g_assert_true (g_file_get_contents (cases_path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], " ", -1);
      g_autofree char *file = NULL, *img_rel = NULL, *in_rel = NULL, *img_path = NULL;
      g_autoptr(XcImage) image = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree float *golden_in = NULL, *input = NULL;
      XcImageOptions opt = { 0 };
      int shape[4], nd;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      g_assert_cmpuint (g_strv_length (f), ==, 4);
      file = g_path_is_absolute (f[1]) ? g_strdup (f[1])
                                       : g_test_build_filename (G_TEST_DIST, "data", f[1], NULL);
      opt.frame = atoi (f[2]);
      if (strcmp (f[3], "-") != 0)
        {
          g_assert_true (xc_parse_window (f[3], &opt.center, &opt.width, &error));
          opt.has_window = TRUE;
        }
      image = xc_image_load_with (file, &opt, &error);
      g_assert_no_error (error);
      g_assert_nonnull (image);
      g_assert_nonnull (image->source);

      img_rel = g_strdup_printf ("medical/%s.image.npy", f[0]);
      img_path = g_test_build_filename (G_TEST_DIST, "data", img_rel, NULL);
      if (g_file_test (img_path, G_FILE_TEST_EXISTS))
        {
          g_autofree float *golden = load_golden (img_rel, shape, &nd);
          g_autofree float *ours = g_new (float, (size_t) image->h * image->w * image->c);
          g_autofree float *theirs = g_new (float, (size_t) image->h * image->w * image->c);
          g_assert_cmpint (nd, ==, 3);
          g_assert_cmpint (shape[0], ==, image->h);
          g_assert_cmpint (shape[1], ==, image->w);
          g_assert_cmpint (shape[2], ==, image->c);
          /* v in [0, 1] within 1e-5 */
          for (size_t k = 0; k < (size_t) image->h * image->w * image->c; k++)
            ours[k] = image->data[k] / 255.0f, theirs[k] = golden[k] / 255.0f;
          assert_close (f[0], ours, theirs, (size_t) image->h * image->w * image->c, 1e-5);
        }
      in_rel = g_strdup_printf ("medical/%s.input.npy", f[0]);
      golden_in = load_golden (in_rel, shape, &nd);
      g_assert_cmpint (shape[2], ==, image->c);
      input = g_new (float, (size_t) SIZE * SIZE * image->c);
      to_input (image, input);
      assert_close (in_rel, input, golden_in, (size_t) SIZE * SIZE * image->c, 1e-5);
      n_cases++;
    }
  g_test_message ("%u medical image cases", n_cases);
  g_assert_cmpuint (n_cases, >=, 30);
}

/* What the window shows about a DICOM file, and what it never shows */
static void
test_dicom_info (void)
{
  g_autoptr(XcImage) ct = NULL, kept = NULL;
  g_autoptr(GError) error = NULL;
  XcImageOptions keep = { .keep_patient_data = TRUE };
  g_autofree char *desc = NULL;

  if (!have_pydicom_files ())
    return;
  ct = xc_image_load (PYDICOM "/CT_small.dcm", &error);
  g_assert_no_error (error);
  g_assert_true (ct->source->is_dicom);
  g_assert_cmpstr (ct->source->dicom.modality, ==, "CT");
  g_assert_cmpint (ct->source->dicom.rows, ==, 128);
  g_assert_cmpint (ct->source->dicom.bits_stored, ==, 16);
  g_assert_cmpstr (ct->source->dicom.photometric, ==, "MONOCHROME2");
  g_assert_cmpstr (ct->source->dicom.patient_name, ==, "");
  g_assert_cmpstr (ct->source->dicom.patient_id, ==, "");
  desc = xc_image_describe (ct);
  g_assert_nonnull (strstr (desc, "CT"));
  g_assert_nonnull (strstr (desc, "min-max"));

  kept = xc_image_load_with (PYDICOM "/CT_small.dcm", &keep, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kept->source->dicom.patient_name, !=, "");

  /* a window re-maps the kept values; reset returns to the default */
  {
    float before = ct->data[1000];
    g_assert_true (xc_image_set_window (ct, 40, 400, "Mediastinum", &error));
    g_assert_no_error (error);
    g_assert_cmpfloat (fabsf (ct->data[1000] - before), >, 0.0f);
    xc_image_reset_window (ct);
    g_assert_cmpfloat (ct->data[1000], ==, before);
    g_assert_false (xc_image_set_window (ct, 40, 0.5, NULL, &error));
    g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
  }
}

typedef struct {
  const char *file;       /* under data/medical, or absolute */
  int         frame;
  const char *window;
  const char *message;    /* part of the error */
} Broken;

static void
test_broken (void)
{
  static const Broken cases[] = {
    { PYDICOM "/MR_truncated.dcm", 0, NULL, "not a readable DICOM" },
    { PYDICOM "/rtplan.dcm", 0, NULL, "without pixel data" },
    { PYDICOM "/MR_small_jp2klossless.dcm", 0, NULL, "JPEG 2000" },
    { PYDICOM "/JPEG2000.dcm", 0, NULL, "JPEG 2000" },
    { PYDICOM "/liver_1frame.dcm", 0, NULL, "1 bits allocated" },
    { PYDICOM "/CT_small.dcm", 1, NULL, "frame 1 does not exist" },
    { PYDICOM "/CT_small.dcm", 0, "40,0", "width must be at least 1" },
    { "broken-huge.dcm", 0, NULL, "100-megapixel" },
    { "broken-frames.dcm", 2, NULL, "truncated pixel data" },
    { "broken-bits.dcm", 0, NULL, "BitsStored 20" },
    { "ramp16.png", 1, NULL, "--frame applies" },
  };

  if (!have_pydicom_files ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_path_is_absolute (cases[i].file)
        ? g_strdup (cases[i].file)
        : g_test_build_filename (G_TEST_DIST, "data", "medical", cases[i].file, NULL);
      XcImageOptions opt = { .frame = cases[i].frame };
      g_autoptr(GError) error = NULL;
      g_autoptr(XcImage) image = NULL;

      if (cases[i].window)
        {
          g_auto(GStrv) p = g_strsplit (cases[i].window, ",", 2);
          opt.has_window = TRUE, opt.center = g_ascii_strtod (p[0], NULL);
          opt.width = g_ascii_strtod (p[1], NULL);
        }
      image = xc_image_load_with (path, &opt, &error);
      g_assert_null (image);
      g_assert_nonnull (error);
      g_test_message ("%s: %s", cases[i].file, error->message);
      g_assert_nonnull (strstr (error->message, cases[i].message));
    }
}

/* An 8-bit image keeps gdk-pixbuf's exact path and refuses --window */
static void
test_eight_bit_path (void)
{
  g_autofree char *png = g_test_build_filename (G_TEST_DIST, "..", "resources", "samples",
                                                "fmnist-test-0002-trouser.png", NULL);
  XcImageOptions opt = { .has_window = TRUE, .center = 100, .width = 50 };
  g_autoptr(GError) error = NULL;
  g_autoptr(XcImage) plain = NULL, windowed = NULL;

  if (!g_file_test (png, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no sample image");
      return;
    }
  plain = xc_image_load (png, &error);
  g_assert_no_error (error);
  g_assert_null (plain->source);
  g_assert_null (plain->values);
  windowed = xc_image_load_with (png, &opt, &error);
  g_assert_null (windowed);
  g_assert_error (error, XC_ERROR, XC_ERROR_ARGUMENT);
}

/* Out-of-domain notices: a 512 x 512 16-bit CT into a 28 x 28 model */
static void
test_notices (void)
{
  g_autoptr(XcModel) model = NULL;
  g_autoptr(XcImage) image = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *joined = NULL;

  if (!have_pydicom_files ())
    return;
  image = xc_image_load (PYDICOM "/CT_small.dcm", &error);
  g_assert_no_error (error);
  /* the embedded Fashion-MNIST model: trained, 28 x 28 gray */
  model = xc_model_load_spec (xc_model_default_spec (), &error);
  g_assert_no_error (error);
  g_assert_false (model->random_weights);
  notes = xc_image_notices (image, model);
  g_ptr_array_add (notes, NULL);
  joined = g_strjoinv ("\n", (char **) notes->pdata);
  g_test_message ("%s", joined);
  g_assert_null (strstr (joined, "random weights"));
  g_assert_null (strstr (joined, "shrunk"));
  g_assert_nonnull (strstr (joined, "16-bit DICOM"));
  {
    /* 512 x 512 into the embedded model's 71 x 71 */
    g_autoptr(XcImage) big = xc_image_load (PYDICOM "/image_dfl.dcm", &error);
    g_autoptr(GPtrArray) big_notes = NULL;
    g_assert_no_error (error);
    big_notes = xc_image_notices (big, model);
    g_assert_cmpuint (big_notes->len, ==, 1);
    g_assert_nonnull (strstr (big_notes->pdata[0], "shrunk 7x"));
  }
  g_clear_pointer (&model, xc_model_free);
  g_clear_pointer (&notes, g_ptr_array_unref);
  g_clear_pointer (&joined, g_free);

  model = xc_model_load_spec ("builtin:xception:size=71,channels=1,classes=10,width=0.125",
                              &error);
  g_assert_no_error (error);
  g_assert_true (model->random_weights);
  notes = xc_image_notices (image, model);
  g_ptr_array_add (notes, NULL);
  joined = g_strjoinv ("\n", (char **) notes->pdata);
  g_assert_nonnull (strstr (joined, "random weights"));
  g_assert_null (strstr (joined, "shrunk"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/medical/goldens", test_goldens);
  g_test_add_func ("/image/medical/dicom-info", test_dicom_info);
  g_test_add_func ("/image/medical/broken", test_broken);
  g_test_add_func ("/image/eight-bit-path", test_eight_bit_path);
  g_test_add_func ("/image/notices", test_notices);
  return g_test_run ();
}
