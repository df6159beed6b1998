/* SPDX-License-Identifier: MIT
 *
 * The hostile corpus: over 300 inputs generated here from a fixed seed (no
 * committed blobs) by cutting, flipping and rewriting valid files — images,
 * 16-bit PNG and TIFF, DICOM, Keras .h5 and .keras, .npy tensors, labels,
 * boxes — and by out-of-range flags and model specs. Each runs through
 * xception-cli under a time bound (and, in the sanitizer build, ASan and
 * UBSan set to abort) and must end as a user's input should: exit 0 (a
 * mutation the format tolerates), 1 with one line on stderr naming the
 * file or flag, or 2 for bad usage. Never a signal, a hang, a sanitizer
 * report or several lines of noise.
 */
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "xc.h"
#include "io/xc-zip.h"

#define SEED      20261127
#define TIME_LIMIT "120"   /* seconds a case may take, sanitizers included */

static const char *dir;
static GRand *rng;
static guint n_cases, n_ok, n_user, n_usage;

/* Runs the CLI on one case and checks how it ended */
static gboolean leaks_expected;   /* a fault caught by xc-guard.h leaks what it skipped */

static void
run_case (const char *name, const char *named, const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_auto(GStrv) env = g_get_environ ();
  const char *asan = g_environ_getenv (env, "ASAN_OPTIONS");
  const char *ubsan = g_environ_getenv (env, "UBSAN_OPTIONS");
  g_autofree char *asan2 = g_strdup_printf ("%s%sabort_on_error=1%s", asan ? asan : "",
                                            asan ? ":" : "",
                                            leaks_expected ? ":detect_leaks=0" : "");
  g_autofree char *ubsan2 = g_strdup_printf ("%s%shalt_on_error=1:abort_on_error=1",
                                             ubsan ? ubsan : "", ubsan ? ":" : "");
  int status, code;

  env = g_environ_setenv (env, "ASAN_OPTIONS", asan2, TRUE);
  env = g_environ_setenv (env, "UBSAN_OPTIONS", ubsan2, TRUE);
  env = g_environ_setenv (env, "XCEPTION_MAX_MEMORY", "2G", TRUE);
  g_ptr_array_add (argv, (char *) "timeout");
  g_ptr_array_add (argv, (char *) "-s");
  g_ptr_array_add (argv, (char *) "KILL");
  g_ptr_array_add (argv, (char *) TIME_LIMIT);
  g_ptr_array_add (argv, (char *) g_getenv ("XCEPTION_CLI"));
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  n_cases++;
  if (!WIFEXITED (status) || (code = WEXITSTATUS (status)) > 2)
    {
      g_test_message ("%s: exit status %d (a signal, a hang or a sanitizer): %s", name,
                      status, err);
      g_test_fail ();
      return;
    }
  if (strstr (err, "runtime error:") || strstr (err, "Sanitizer"))
    {
      g_test_message ("%s: a sanitizer spoke: %s", name, err);
      g_test_fail ();
      return;
    }
  if (code == 1)
    {
      const char *nl = strchr (err, '\n');
      n_user++;
      /* one line, naming what it is about */
      if (nl == NULL || nl[1] != '\0' || (named && !strstr (err, named)))
        {
          g_test_message ("%s: exit 1 should say one line naming %s, said: %s", name,
                          named ? named : "the input", err);
          g_test_fail ();
        }
    }
  else if (code == 2)
    n_usage++;
  else
    n_ok++;
}

static GBytes *
read_file (const char *path)
{
  char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_bytes_new_take (data, len);
}

/* A mutation of a valid file: cut short, bytes flipped, a run overwritten
 * with 0xff, or a 4-byte field set to a huge or negative number */
static char *
mutate (GBytes *orig, const char *ext, guint k, char **what)
{
  gsize len;
  const guint8 *src = g_bytes_get_data (orig, &len);
  g_autofree guint8 *buf = g_memdup2 (src, len);
  char *path = g_strdup_printf ("%s/case-%u.%s", dir, n_cases, ext);
  gsize n = len;
  guint kind = k % 4;

  if (kind == 0)
    n = g_rand_int_range (rng, 0, (gint32) len);
  else if (kind == 1)
    for (int f = 0; f < 1 + g_rand_int_range (rng, 0, 16); f++)
      buf[g_rand_int_range (rng, 0, (gint32) len)] ^= 1 << g_rand_int_range (rng, 0, 8);
  else if (kind == 2)
    {
      gsize at = g_rand_int_range (rng, 0, (gint32) len), run = g_rand_int_range (rng, 1, 64);
      memset (buf + at, 0xff, MIN (run, len - at));
    }
  else
    {
      static const guint32 huge[] = { 0xffffffffu, 0x7fffffffu, 0x80000000u, 65535, 0 };
      gsize at = g_rand_int_range (rng, 0, (gint32) MIN (len - 4, 2048));
      guint32 v = huge[g_rand_int_range (rng, 0, G_N_ELEMENTS (huge))];
      memcpy (buf + at, &v, 4);
    }
  *what = g_strdup_printf ("%s at %" G_GSIZE_FORMAT " bytes",
                           (const char *[]) { "cut", "bits flipped", "0xff run",
                                              "a field rewritten" }[kind], n);
  g_assert_true (g_file_set_contents (path, (const char *) buf, n, NULL));
  return path;
}

typedef struct {
  const char *source;   /* a valid file */
  const char *ext;
  guint       count;
  const char *role;     /* image, model, npy, labels */
} Family;

static void
test_corpus (void)
{
  const char *pyd = "/usr/lib/python3/dist-packages/pydicom/data/test_files";
  g_autofree char *sample = g_test_build_filename (G_TEST_DIST, "..", "resources", "samples",
                                                   "fmnist-test-0000-ankle-boot.png", NULL);
  g_autofree char *png16 = g_test_build_filename (G_TEST_DIST, "data", "medical", "ramp16.png",
                                                  NULL);
  g_autofree char *tif16 = g_test_build_filename (G_TEST_DIST, "data", "medical", "ramp16.tif",
                                                  NULL);
  g_autofree char *dcm = g_test_build_filename (G_TEST_DIST, "data", "medical", "signed12.dcm",
                                                NULL);
  g_autofree char *ct = g_build_filename (pyd, "CT_small.dcm", NULL);
  g_autofree char *rle = g_build_filename (pyd, "MR_small_RLE.dcm", NULL);
  g_autofree char *jls = g_build_filename (pyd, "MR_small_jpeg_ls_lossless.dcm", NULL);
  g_autofree char *h5 = g_test_build_filename (G_TEST_DIST, "data", "keras3",
                                               "xception-small-tfkeras.h5", NULL);
  g_autofree char *keras = g_test_build_filename (G_TEST_DIST, "data", "keras3",
                                                  "xception-small.keras", NULL);
  g_autofree char *npy = g_test_build_filename (G_TEST_DIST, "data", "keras3",
                                                "xception-small.out.npy", NULL);
  g_autofree char *wonly = g_test_build_filename (G_TEST_DIST, "data", "weights",
                                                  "xception-w8-top.h5", NULL);
  gboolean have_pydicom = g_file_test (ct, G_FILE_TEST_EXISTS);
  const Family families[] = {
    { sample, "png", 40, "image" },
    { png16, "png", 24, "image" },
    { tif16, "tif", 24, "image" },
    { dcm, "dcm", 24, "image" },
    { have_pydicom ? ct : dcm, "dcm", 24, "image" },
    { have_pydicom ? rle : dcm, "dcm", 16, "image" },
    { have_pydicom ? jls : dcm, "dcm", 16, "image" },
    { h5, "h5", 30, "model" },
    { keras, "keras", 24, "model" },
    { wonly, "h5", 12, "weights" },
    { npy, "npy", 20, "npy" },
  };
  guint before;

  for (guint f = 0; f < G_N_ELEMENTS (families); f++)
    {
      g_autoptr(GBytes) orig = read_file (families[f].source);
      for (guint k = 0; k < families[f].count; k++)
        {
          g_autofree char *what = NULL;
          g_autofree char *path = mutate (orig, families[f].ext, k, &what);
          g_autofree char *name = g_strdup_printf ("%s %s (%s)", families[f].role, path, what);
          const char *role = families[f].role;
          if (g_str_equal (role, "image"))
            run_case (name, path, (const char *[]) { "predict", path, NULL });
          else if (g_str_equal (role, "model"))
            run_case (name, path, (const char *[]) { "predict", "--model", path, sample, NULL });
          else if (g_str_equal (role, "weights"))
            run_case (name, path, (const char *[]) { "predict", "--model",
                                                     "builtin:xception:size=71,width=1/8,"
                                                     "classes=10", "--weights", path, sample,
                                                     NULL });
          else
            run_case (name, path, (const char *[]) { "predict", "--model",
                                                     "builtin:xception:size=71,width=1/16,"
                                                     "classes=10", "--input-npy", path, NULL });
          g_unlink (path);
        }
    }
  g_test_message ("%u file cases", n_cases);

  /* flags out of range: exit 1 or 2 naming the flag, never a crash or hours */
  before = n_cases;
  {
    static const char *numbers[] = { "0", "-1", "2147483647", "-2147483648", "1e300", "nan",
                                     "inf", "99999999999999999999", "3.5", "" };
    static const char *flags[][3] = {
      { "explain", "--steps", "integrated-gradients" },
      { "explain", "--window", "occlusion" },
      { "explain", "--stride", "occlusion" },
      { "explain", "--class", "gradcam" },
      { "predict", "--top", NULL },
      { "predict", "--frame", NULL },
      { "predict", "--window", NULL },
      { "predict", "--max-memory", NULL },
    };
    for (guint f = 0; f < G_N_ELEMENTS (flags); f++)
      for (guint v = 0; v < G_N_ELEMENTS (numbers); v++)
        {
          g_autofree char *name = g_strdup_printf ("%s %s '%s'", flags[f][0], flags[f][1],
                                                   numbers[v]);
          if (flags[f][2])
            run_case (name, NULL, (const char *[]) { flags[f][0], "--method", flags[f][2],
                                                     flags[f][1], numbers[v], sample, NULL });
          else
            run_case (name, NULL, (const char *[]) { flags[f][0], flags[f][1], numbers[v],
                                                     sample, NULL });
        }
  }
  /* model specs */
  {
    static const char *specs[] = {
      "builtin:xception:size=0", "builtin:xception:size=4294967367", "builtin:xception:size=70",
      "builtin:xception:size=71,width=0", "builtin:xception:width=1e300",
      "builtin:xception:classes=-3", "builtin:xception:classes=0", "builtin:xception:channels=2",
      "builtin:xception:channels=100000", "builtin:xception:variant=huge",
      "builtin:xception:seed=nan", "builtin:xception:top=maybe", "builtin:xception:=",
      "builtin:xception:,,,", "builtin:xception:size", "builtin:nothing", "embedded:",
      "embedded:../../etc/passwd", "imagenet:nothing", "", ":", "/nonexistent.h5",
      "/dev/null", "/", "builtin:xception:size=8192", "builtin:xception:size=71,width=64",
    };
    for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
      {
        g_autofree char *name = g_strdup_printf ("--model '%s'", specs[i]);
        run_case (name, NULL, (const char *[]) { "predict", "--max-memory", "1G", "--model",
                                                 specs[i], sample, NULL });
      }
  }
  /* labels and boxes files of random bytes */
  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/junk-%u.txt", dir, i);
      g_autofree char *name = NULL;
      guint8 junk[512];
      gsize n = g_rand_int_range (rng, 0, sizeof junk);
      for (gsize b = 0; b < n; b++)
        junk[b] = i % 2 ? g_rand_int_range (rng, 0, 256) : "0123456789,.-\nabc"[g_rand_int_range (rng, 0, 17)];
      g_assert_true (g_file_set_contents (path, (const char *) junk, n, NULL));
      name = g_strdup_printf ("labels %s", path);
      run_case (name, NULL, (const char *[]) { "predict", "--labels", path, sample, NULL });
      g_free (name);
      name = g_strdup_printf ("boxes %s", path);
      run_case (name, NULL, (const char *[]) { "localize", "--dataset", dir, "--boxes", path,
                                               NULL });
      g_unlink (path);
    }
  /* what the fuzzers found (tests/fuzz), kept as regression cases: the
   * name says how each is given (.h5: a model) */
  {
    g_autofree char *rdir = g_test_build_filename (G_TEST_DIST, "data", "hostile", NULL);
    g_autoptr(GDir) d = g_dir_open (rdir, 0, NULL);
    const char *e;
    g_assert_nonnull (d);
    while ((e = g_dir_read_name (d)))
      {
        g_autofree char *path = g_build_filename (rdir, e, NULL);
        g_autofree char *name = g_strdup_printf ("regression %s", e);
        /* inputs that crash a library: caught by the fault guard, which
         * leaks what the library held */
        leaks_expected = strstr (e, "crash") != NULL;
        if (g_str_has_suffix (e, ".h5") || g_str_has_suffix (e, ".keras"))
          run_case (name, path, (const char *[]) { "predict", "--model", path, sample, NULL });
        else
          run_case (name, path, (const char *[]) { "predict", path, NULL });
        leaks_expected = FALSE;
      }
  }
  g_test_message ("%u flag and spec cases; %u in all: %u succeeded, %u user errors, %u usage",
                  n_cases - before, n_cases, n_ok, n_user, n_usage);
  g_assert_cmpuint (n_cases, >=, 300);
}

int
main (int argc, char **argv)
{
  g_autofree char *tmp = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp = g_dir_make_tmp ("xc-hostile-corpus-XXXXXX", NULL);
  dir = tmp;
  rng = g_rand_new_with_seed (SEED);
  g_test_add_func ("/hostile/corpus", test_corpus);
  status = g_test_run ();
  g_rand_free (rng);
  g_rmdir (tmp);
  return status;
}
