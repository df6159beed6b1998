/* SPDX-License-Identifier: MIT
 *
 * xception-cli as a user runs it: exit statuses (0 ok, 1 user error with one
 * line on stderr, 2 bad usage), the JSON contracts of predict, summary and
 * bench, and dump's .npy files against the PyTorch goldens.
 */
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <libsoup/soup.h>

#include "test-helpers.h"

typedef struct {
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static void
run_cli (Run *r, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("XCEPTION_CLI");
  const char *a;
  va_list ap;
  int wait_status;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (char *) cli);
  va_start (ap, r);
  while ((a = va_arg (ap, const char *)))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r->out, &r->err,
                &wait_status, &error);
  g_assert_no_error (error);
  r->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128 + WTERMSIG (wait_status);
  g_test_message ("exit %d, stderr: %s", r->status, r->err);
}

/* A user error: status 1, exactly one line on stderr that contains expect */
static void
assert_user_error (Run *r, const char *expect)
{
  g_assert_cmpint (r->status, ==, 1);
  g_assert_nonnull (strstr (r->err, expect));
  g_assert_true (g_str_has_suffix (r->err, "\n"));
  g_assert_null (strchr (r->err, '\n') + 1 < r->err + strlen (r->err) ?
                 strchr (strchr (r->err, '\n') + 1, '\n') : NULL);
}

static char *fer_model;
static char *face;

static gboolean
have_shared (void)
{
  if (g_file_test (fer_model, G_FILE_TEST_EXISTS))
    return TRUE;
  g_test_skip ("../shared is not here");
  return FALSE;
}

static void
test_usage (void)
{
  g_auto(Run) r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 }, r5 = { 0 };

  run_cli (&r1, NULL);
  g_assert_cmpint (r1.status, ==, 2);
  run_cli (&r2, "frobnicate", NULL);
  g_assert_cmpint (r2.status, ==, 2);
  g_assert_nonnull (strstr (r2.err, "unknown command"));
  run_cli (&r3, "predict", NULL);
  g_assert_cmpint (r3.status, ==, 2);
  run_cli (&r4, "predict", "--top", "0", "x.png", NULL);
  g_assert_cmpint (r4.status, ==, 2);
  run_cli (&r5, "summary", "--no-such-flag", NULL);
  g_assert_cmpint (r5.status, ==, 2);
}

static void
test_predict_json (void)
{
  g_auto(Run) r = { 0 };
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree float *golden = NULL;
  JsonObject *root, *res;
  JsonArray *results, *probs, *top;
  int gs[4], gn;
  float ours[7];

  if (!have_shared ())
    return;
  run_cli (&r, "predict", "--model", fer_model, "--json", "--top", "3", face, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, r.out, -1, &error));
  root = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpstr (json_object_get_string_member (root, "model"), ==, fer_model);
  results = json_object_get_array_member (root, "results");
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  res = json_array_get_object_element (results, 0);
  g_assert_cmpstr (json_object_get_string_member (res, "input"), ==, face);
  g_assert_true (json_object_get_double_member (res, "time_ms") > 0);
  probs = json_object_get_array_member (res, "probabilities");
  g_assert_cmpuint (json_array_get_length (probs), ==, 7);
  for (int i = 0; i < 7; i++)
    ours[i] = (float) json_array_get_double_element (probs, i);
  golden = load_golden ("fer/probabilities.npy", gs, &gn);   /* row 0: face_cap */
  assert_close ("predict --json", ours, golden, 7, 1e-5);
  top = json_object_get_array_member (res, "top");
  g_assert_cmpuint (json_array_get_length (top), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (top, 0),
                                                  "label"), ==, "happy");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (top, 0), "index"),
                   ==, 3);
}

/* A weights-only Xception file as --model: with the top it classifies;
 * without, predict reports its feature vector and no classes */
static void
test_predict_weights_only (void)
{
  g_autofree char *top = g_test_build_filename (G_TEST_DIST, "data", "weights",
                                                "xception-w8-top.h5", NULL);
  g_autofree char *notop = g_test_build_filename (G_TEST_DIST, "data", "weights",
                                                  "xception-w8-notop.h5", NULL);
  g_autofree char *image = g_test_build_filename (G_TEST_DIST, "..", "resources", "samples",
                                                  "fmnist-test-0000-ankle-boot.png", NULL);
  g_auto(Run) a = { 0 }, b = { 0 }, t = { 0 };
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *res;

  run_cli (&a, "predict", "--model", top, "--json", "--top", "3", image, NULL);
  g_assert_cmpint (a.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, a.out, -1, &error));
  res = json_array_get_object_element (json_object_get_array_member (
          json_node_get_object (json_parser_get_root (p)), "results"), 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (res, "top")), ==, 3);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (res, "probabilities")),
                    ==, 10);

  run_cli (&b, "predict", "--model", notop, "--json", image, NULL);
  g_assert_cmpint (b.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, b.out, -1, &error));
  res = json_array_get_object_element (json_object_get_array_member (
          json_node_get_object (json_parser_get_root (p)), "results"), 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (res, "top")), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (res, "features")), ==,
                    256);
  g_assert_false (json_object_has_member (res, "probabilities"));

  run_cli (&t, "predict", "--model", notop, image, NULL);
  g_assert_cmpint (t.status, ==, 0);
  g_assert_nonnull (strstr (t.out, "no classes: avg_pool gives 256 features"));
}

/* A local HTTP server (libsoup's SoupServer, in its own thread) serving one
 * file at /w.h5 with HTTP Range support, recording the Range asked for */
typedef struct {
  GThread      *thread;
  GMainContext *ctx;
  GMainLoop    *loop;
  GBytes       *body;
  guint         port;
  GSocketService *cut;
  guint         cut_port;
  char         *last_range;
  int           requests;
  GMutex        lock;
  GCond         cond;
  gboolean      ready;
} TestServer;

static void
serve_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  TestServer *ts = data;
  const char *range = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                    "Range");
  gsize size;
  const char *bytes = g_bytes_get_data (ts->body, &size);
  guint64 start = 0;

  g_mutex_lock (&ts->lock);
  ts->requests++;
  g_free (ts->last_range);
  ts->last_range = g_strdup (range);
  g_mutex_unlock (&ts->lock);
  if (!g_str_equal (path, "/w.h5"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  if (range && sscanf (range, "bytes=%" G_GUINT64_FORMAT "-", &start) == 1 && start < size)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
      soup_message_headers_set_content_range (soup_server_message_get_response_headers (msg),
                                              start, size - 1, size);
    }
  else
    {
      start = 0;
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    }
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                    bytes + start, size - start);
}

static gboolean on_cut_incoming (GSocketService *service, GSocketConnection *conn,
                                 GObject *source, gpointer data);

static gpointer
server_thread (gpointer data)
{
  TestServer *ts = data;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (ts->ctx);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, serve_cb, ts, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  ts->cut = g_socket_service_new ();
  ts->cut_port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (ts->cut), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (ts->cut, "incoming", G_CALLBACK (on_cut_incoming), ts);
  g_socket_service_start (ts->cut);
  g_mutex_lock (&ts->lock);
  ts->port = g_uri_get_port (uris->data);
  ts->ready = TRUE;
  g_cond_signal (&ts->cond);
  g_mutex_unlock (&ts->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_main_loop_run (ts->loop);
  soup_server_disconnect (server);
  if (ts->cut != NULL)
    g_socket_service_stop (ts->cut);
  g_main_context_pop_thread_default (ts->ctx);
  return NULL;
}

/* A server that cuts the connection: it promises the whole file
 * (Content-Length) and closes after half of it */
static gboolean
on_cut_incoming (GSocketService *service, GSocketConnection *conn, GObject *source,
                 gpointer data)
{
  TestServer *ts = data;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  gsize size;
  const char *bytes = g_bytes_get_data (ts->body, &size);
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %" G_GSIZE_FORMAT
                                           "\r\nConnection: close\r\n\r\n", size);
  char req[4096];

  g_input_stream_read (in, req, sizeof req, NULL, NULL);   /* the request, ignored */
  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
  g_output_stream_write_all (out, bytes, size / 2, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  return TRUE;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* xception-cli download against the local server: a whole download whose
 * file then predicts as the original does; a resume of a half part (with
 * its Range request); a wrong MD5 (refused, part removed, nothing at the
 * destination); a 404; an unreachable host */
static void
test_download (void)
{
  g_autofree char *src = g_test_build_filename (G_TEST_DIST, "data", "weights",
                                                "xception-w8-top.h5", NULL);
  g_autofree char *image = g_test_build_filename (G_TEST_DIST, "..", "resources", "samples",
                                                  "fmnist-test-0000-ankle-boot.png", NULL);
  g_autofree char *dir = g_dir_make_tmp ("xc-download-XXXXXX", NULL);
  g_autofree char *dest = g_build_filename (dir, "w.h5", NULL);
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  g_autofree char *contents = NULL, *md5 = NULL, *url = NULL, *missing = NULL, *got = NULL;
  g_autofree char *got_json = NULL;
  gsize len = 0, got_len = 0;
  TestServer ts = { 0 };

  g_assert_true (g_file_get_contents (src, &contents, &len, NULL));
  md5 = g_compute_checksum_for_data (G_CHECKSUM_MD5, (const guchar *) contents, len);
  ts.body = g_bytes_new (contents, len);
  ts.ctx = g_main_context_new ();
  ts.loop = g_main_loop_new (ts.ctx, FALSE);
  g_mutex_init (&ts.lock);
  g_cond_init (&ts.cond);
  ts.thread = g_thread_new ("test-server", server_thread, &ts);
  g_mutex_lock (&ts.lock);
  while (!ts.ready)
    g_cond_wait (&ts.cond, &ts.lock);
  g_mutex_unlock (&ts.lock);
  url = g_strdup_printf ("http://127.0.0.1:%u/w.h5", ts.port);
  missing = g_strdup_printf ("http://127.0.0.1:%u/nothing.h5", ts.port);

  {
    g_auto(Run) r = { 0 }, a = { 0 }, b = { 0 };
    run_cli (&r, "download", "imagenet", "--url", url, "--md5", md5, "--out", dest, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "verified"));
    g_assert_true (g_file_get_contents (dest, &got, &got_len, NULL));
    g_assert_cmpuint (got_len, ==, len);
    g_assert_cmpint (memcmp (got, contents, len), ==, 0);
    g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
    /* the downloaded file predicts exactly as the original */
    run_cli (&a, "predict", "--json", "--model", src, image, NULL);
    run_cli (&b, "predict", "--json", "--model", dest, image, NULL);
    g_assert_cmpint (a.status, ==, 0);
    g_assert_cmpint (b.status, ==, 0);
    {
      const char *pa = strstr (a.out, "\"probabilities\""), *pb = strstr (b.out, "\"probabilities\"");
      g_assert_nonnull (pa);
      g_assert_nonnull (pb);
      g_assert_cmpint (strstr (pa, "time_ms") - pa, ==, strstr (pb, "time_ms") - pb);
      g_assert_cmpint (memcmp (pa, pb, strstr (pa, "time_ms") - pa), ==, 0);
    }
    g_unlink (dest);
  }
  {
    /* the connection is cut half-way: one line, no file, the part kept;
     * the rerun asks for the rest */
    g_auto(Run) cut = { 0 }, r = { 0 };
    g_autofree char *cut_url = g_strdup_printf ("http://127.0.0.1:%u/w.h5", ts.cut_port);
    GStatBuf st;
    run_cli (&cut, "download", "imagenet", "--url", cut_url, "--md5", md5, "--out", dest, NULL);
    assert_user_error (&cut, "resume");
    g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
    g_assert_cmpint (g_stat (part, &st), ==, 0);
    g_assert_cmpint (st.st_size, ==, (goffset) (len / 2));
    run_cli (&r, "download", "imagenet", "--url", url, "--md5", md5, "--out", dest, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_mutex_lock (&ts.lock);
    got_json = g_strdup_printf ("bytes=%" G_GSIZE_FORMAT "-", len / 2);
    g_assert_cmpstr (ts.last_range, ==, got_json);
    g_mutex_unlock (&ts.lock);
    g_clear_pointer (&got, g_free);
    g_assert_true (g_file_get_contents (dest, &got, &got_len, NULL));
    g_assert_cmpuint (got_len, ==, len);
    g_assert_cmpint (memcmp (got, contents, len), ==, 0);
    g_unlink (dest);
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "download", "imagenet", "--url", url, "--md5",
             "00000000000000000000000000000000", "--out", dest, NULL);
    assert_user_error (&r, "MD5");
    g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "download", "imagenet", "--url", missing, "--out", dest, NULL);
    assert_user_error (&r, "404");
    g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "download", "imagenet", "--url", "http://127.0.0.1:1/w.h5", "--out", dest, NULL);
    assert_user_error (&r, "cannot reach http://127.0.0.1:1/w.h5");
    g_assert_nonnull (strstr (r.err, "put it at"));
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "download", "imagenet", "--md5", "xyz", NULL);
    g_assert_cmpint (r.status, ==, 2);
  }

  g_main_context_invoke (ts.ctx, quit_cb, ts.loop);
  g_thread_join (ts.thread);
  g_clear_object (&ts.cut);
  g_main_loop_unref (ts.loop);
  g_main_context_unref (ts.ctx);
  g_bytes_unref (ts.body);
  g_free (ts.last_range);
  g_rmdir (dir);
}

/* Hostile inputs (#15, the first cases): a FIFO given as an image, model,
 * .npy or labels file is refused at once instead of blocking forever;
 * training hyper-parameters that are not finite or out of range are
 * refused instead of silently replaced */
static void
test_hostile_basics (void)
{
  g_autofree char *dir = g_dir_make_tmp ("xc-hostile-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo.png", NULL);
  g_autofree char *image = g_test_build_filename (G_TEST_DIST, "..", "resources", "samples",
                                                  "fmnist-test-0000-ankle-boot.png", NULL);
  const char *lrs[] = { "nan", "-1", "inf", "0", "1e9" };

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "predict", fifo, NULL);
    assert_user_error (&r, "not a regular file");
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "predict", "--model", fifo, image, NULL);
    assert_user_error (&r, "not a regular file");
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "predict", "--input-npy", fifo, NULL);
    assert_user_error (&r, "not a regular file");
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "predict", "--labels", fifo, image, NULL);
    assert_user_error (&r, "not a regular file");
  }
  for (guint i = 0; i < G_N_ELEMENTS (lrs); i++)
    {
      g_auto(Run) r = { 0 };
      g_autofree char *out = g_build_filename (dir, "m.h5", NULL);
      run_cli (&r, "train", "--arch", "mini-xception", "--input-size", "32", "--dataset",
               "fashion-mnist:/nonexistent", "--lr", lrs[i], "--out", out, NULL);
      g_assert_cmpint (r.status, !=, 0);
      g_assert_nonnull (strstr (r.err, "--lr"));
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "train", "--arch", "mini-xception", "--dataset", "fashion-mnist:/nonexistent",
             "--warmup", "nan", "--out", "/nonexistent/m.h5", NULL);
    g_assert_cmpint (r.status, !=, 0);
    g_assert_nonnull (strstr (r.err, "--warmup nan"));
  }
  {
    /* SVG is refused unless asked for (or unreadable when no SVG loader is installed) */
    g_auto(Run) r = { 0 };
    g_autofree char *svg = g_build_filename (dir, "t.svg", NULL);
    g_assert_true (g_file_set_contents (svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                                        "width=\"64\" height=\"64\"><rect width=\"64\" "
                                        "height=\"64\" fill=\"red\"/></svg>", -1, NULL));
    run_cli (&r, "predict", svg, NULL);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_true (strstr (r.err, "SVG input is refused") != NULL ||
                   strstr (r.err, "not an image") != NULL);
    g_unlink (svg);
  }
  {
    /* outputs: never over a device, FIFO or folder; a failed write leaves
     * what was there, a good one replaces it whole */
    g_auto(Run) r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 };
    g_autofree char *png = g_build_filename (dir, "o.png", NULL);
    g_autofree char *text = NULL;
    run_cli (&r1, "explain", "--cam-npy", "/dev/null", image, NULL);
    assert_user_error (&r1, "not a regular file");
    run_cli (&r2, "explain", "--out", fifo, image, NULL);
    assert_user_error (&r2, "not a regular file");
    run_cli (&r3, "explain", "--out", dir, image, NULL);
    assert_user_error (&r3, "a folder");
    g_assert_true (g_file_set_contents (png, "old", -1, NULL));
    run_cli (&r4, "explain", "--out", png, image, NULL);
    g_assert_cmpint (r4.status, ==, 0);
    g_assert_true (g_file_get_contents (png, &text, NULL, NULL));
    g_assert_true (g_str_has_prefix (text, "\x89PNG"));
    g_unlink (png);
  }
  {
    /* a 'shape' inside another value of the .npy header is not the shape */
    g_auto(Run) r = { 0 };
    g_autofree char *npy = g_build_filename (dir, "tricky.npy", NULL);
    static const char hdr[] = "{'descr': '<f4', 'fortran_order': False, 'x': 'shape': (1, 1)', "
                              "'shape': (2,), }";
    g_autoptr(GString) f = g_string_new_len ("\x93NUMPY\x01\x00", 8);
    guint16 hl = sizeof hdr - 1 + 1;
    float v[2] = { 1, 2 };
    g_string_append_len (f, (const char *) &hl, 2);
    g_string_append (f, hdr);
    g_string_append_c (f, '\n');
    g_string_append_len (f, (const char *) v, sizeof v);
    g_assert_true (g_file_set_contents (npy, f->str, f->len, NULL));
    run_cli (&r, "predict", "--input-npy", npy, NULL);
    assert_user_error (&r, "malformed .npy header");
    g_unlink (npy);
  }
  {
    /* an iteration count a user can set is bounded up front */
    g_auto(Run) r = { 0 };
    run_cli (&r, "explain", "--method", "integrated-gradients", "--steps", "1000000000", image,
             NULL);
    assert_user_error (&r, "--steps 1000000000: from 1 to 4096");
  }
  {
    /* memory: an estimate over the limit is refused up front, saying how much */
    g_auto(Run) r = { 0 };
    run_cli (&r, "predict", "--model", "builtin:xception:size=2048", "--max-memory", "256M",
             image, NULL);
    assert_user_error (&r, "over the memory limit");
    g_assert_nonnull (strstr (r.err, "needs 1.52 GB"));
  }
  {
    /* a .gz whose IDX header declares one 28x28 image but inflates to 64 MB */
    g_auto(Run) r = { 0 };
    g_autofree char *fm = g_build_filename (dir, "fm", NULL);
    const char *names[] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz" };
    g_assert_cmpint (g_mkdir (fm, 0700), ==, 0);
    for (guint k = 0; k < 2; k++)
      {
        g_autoptr(GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
        g_autoptr(GOutputStream) mem = g_memory_output_stream_new_resizable ();
        g_autoptr(GOutputStream) out = g_converter_output_stream_new (mem, G_CONVERTER (z));
        g_autofree guint8 *zeros = g_malloc0 (1 << 20);
        g_autofree char *path = g_build_filename (fm, names[k], NULL);
        static const guint8 img_head[16] = { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28 };
        static const guint8 lab_head[8] = { 0, 0, 8, 1, 0, 0, 0, 1 };
        g_assert_true (g_output_stream_write_all (out, k ? lab_head : img_head, k ? 8 : 16,
                                                  NULL, NULL, NULL));
        for (int m = 0; m < (k ? 1 : 64); m++)
          g_assert_true (g_output_stream_write_all (out, zeros, 1 << 20, NULL, NULL, NULL));
        g_assert_true (g_output_stream_close (out, NULL, NULL));
        g_assert_true (g_file_set_contents (path, g_memory_output_stream_get_data (
                                              G_MEMORY_OUTPUT_STREAM (mem)),
                                            g_memory_output_stream_get_data_size (
                                              G_MEMORY_OUTPUT_STREAM (mem)), NULL));
      }
    {
      g_autofree char *spec = g_strdup_printf ("fashion-mnist:%s", fm);
      g_autofree char *out = g_build_filename (dir, "m.h5", NULL);
      run_cli (&r, "train", "--arch", "mini-xception", "--input-size", "32", "--dataset", spec,
               "--epochs", "1", "--out", out, NULL);
      g_assert_cmpint (r.status, ==, 1);
      g_assert_nonnull (strstr (r.err, "inflates past"));
      g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
    }
    for (guint k = 0; k < 2; k++)
      {
        g_autofree char *path = g_build_filename (fm, names[k], NULL);
        g_unlink (path);
      }
    g_rmdir (fm);
  }
  g_unlink (fifo);
  g_rmdir (dir);
}

static void
test_summary_json (void)
{
  g_auto(Run) r = { 0 };
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *totals, *layer = NULL;
  JsonArray *layers;

  run_cli (&r, "summary", "--model", "builtin:xception", "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, r.out, -1, &error));
  root = json_node_get_object (json_parser_get_root (p));
  totals = json_object_get_object_member (root, "totals");
  g_assert_cmpint (json_object_get_int_member (totals, "params"), ==, 22910480);
  g_assert_cmpint (json_object_get_int_member (totals, "trainable_params"), ==, 22855952);
  g_assert_cmpint (json_object_get_int_member (totals, "macs"), ==, 8357403496);
  g_assert_cmpint (json_object_get_int_member (totals, "standard_params"), ==, 179126216);
  g_assert_cmpint (json_object_get_int_member (totals, "standard_macs"), ==, 68818345696);
  layers = json_object_get_array_member (root, "layers");
  for (guint i = 0; i < json_array_get_length (layers); i++)
    if (g_str_equal (json_object_get_string_member (json_array_get_object_element (layers, i),
                                                    "name"), "block4_sepconv1"))
      layer = json_array_get_object_element (layers, i);
  g_assert_nonnull (layer);
  g_assert_cmpstr (json_object_get_string_member (layer, "type"), ==, "SeparableConv2D");
  /* 3x3 depthwise on 256 channels + 1x1 to 728, at 37x37 */
  g_assert_cmpint (json_object_get_int_member (layer, "params"), ==, 9 * 256 + 256 * 728);
  g_assert_cmpint (json_object_get_int_member (layer, "macs"), ==,
                   37 * 37 * (9 * 256 + 256 * 728));
  g_assert_cmpint (json_object_get_int_member (layer, "standard_params"), ==, 9 * 256 * 728);
  g_assert_cmpint (json_object_get_int_member (layer, "standard_macs"), ==,
                   (gint64) 37 * 37 * 9 * 256 * 728);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (layer, "inputs"),
                                                  0), ==, "block4_sepconv1_act");
}

/* summary --image: per-layer statistics of a real run, checked against the
 * statistics of the PyTorch golden of the same layer */
static void
test_summary_stats (void)
{
  g_auto(Run) r = { 0 };
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree float *g = NULL;
  JsonArray *layers;
  int gs[4], gn;
  size_t n;
  double gmin = G_MAXDOUBLE, gmax = -G_MAXDOUBLE, gmean = 0;
  gboolean seen_relu = FALSE, seen_conv = FALSE;

  if (!have_shared ())
    return;
  run_cli (&r, "summary", "--model", fer_model, "--image", face, "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, r.out, -1, &error));
  layers = json_object_get_array_member (json_node_get_object (json_parser_get_root (p)),
                                         "layers");
  g = load_golden ("fer/face_cap.conv2d_7.npy", gs, &gn);
  n = (size_t) gs[1] * gs[2] * gs[3];
  for (size_t i = 0; i < n; i++)
    {
      gmin = MIN (gmin, g[i]);
      gmax = MAX (gmax, g[i]);
      gmean += g[i] / (double) n;
    }
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonObject *l = json_array_get_object_element (layers, i);
      JsonObject *st = json_object_get_object_member (l, "stats");
      const char *name = json_object_get_string_member (l, "name");
      g_assert_nonnull (st);
      g_assert_cmpfloat (json_object_get_double_member (l, "time_ms"), >=, 0);
      if (g_str_equal (name, "activation_1"))
        {
          seen_relu = TRUE;
          g_assert_cmpfloat (json_object_get_double_member (st, "min"), ==, 0);
          g_assert_cmpfloat (json_object_get_double_member (st, "zero_fraction"), >, 0.05);
          g_assert_cmpfloat (json_object_get_double_member (st, "zero_fraction"), <, 0.95);
        }
      if (g_str_equal (name, "conv2d_7"))
        {
          seen_conv = TRUE;
          g_assert_cmpfloat_with_epsilon (json_object_get_double_member (st, "min"), gmin, 1e-4);
          g_assert_cmpfloat_with_epsilon (json_object_get_double_member (st, "max"), gmax, 1e-4);
          g_assert_cmpfloat_with_epsilon (json_object_get_double_member (st, "mean"), gmean, 1e-4);
        }
    }
  g_assert_true (seen_relu && seen_conv);
}

static void
test_dump (void)
{
  g_auto(Run) r = { 0 };
  g_autofree char *dir = NULL, *add4 = NULL, *pred = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *a = NULL, *g = NULL, *pr = NULL, *gp = NULL;
  int s[4], n, gs[4], gn;

  if (!have_shared ())
    return;
  dir = g_dir_make_tmp ("xc-dump-XXXXXX", NULL);
  add4 = g_build_filename (dir, "add_4.npy", NULL);
  pred = g_build_filename (dir, "predictions.npy", NULL);
  run_cli (&r, "dump", "--model", fer_model, face, "--layer", "add_4", "--layer", "predictions",
           "--out-dir", dir, NULL);
  g_assert_cmpint (r.status, ==, 0);
  a = xc_npy_read (add4, s, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 4);
  g_assert_cmpint (s[0], ==, 1);
  g_assert_cmpint (s[1], ==, 4);
  g_assert_cmpint (s[3], ==, 128);
  g = load_golden ("fer/face_cap.add_4.npy", gs, &gn);
  assert_close ("dump add_4", a, g, 4 * 4 * 128, 1e-5);
  pr = xc_npy_read (pred, s, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpint (s[1], ==, 7);
  gp = load_golden ("fer/probabilities.npy", gs, &gn);
  assert_close ("dump predictions", pr, gp, 7, 1e-5);
  g_unlink (add4);
  g_unlink (pred);
  g_rmdir (dir);
}

static void
test_input_npy (void)
{
  g_auto(Run) r = { 0 }, bad = { 0 };
  g_autofree char *in = g_test_build_filename (G_TEST_DIST, "data", "ops", "sequential.in.npy",
                                               NULL);
  g_autofree char *model = g_test_build_filename (G_TEST_DIST, "data", "ops", "sequential.h5",
                                                  NULL);
  g_autofree char *other = g_test_build_filename (G_TEST_DIST, "data", "ops", "conv1x1.in.npy",
                                                  NULL);
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree float *golden = NULL;
  JsonArray *probs;
  float ours[4];
  int gs[4], gn;

  run_cli (&r, "predict", "--model", model, "--input-npy", in, "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, r.out, -1, &error));
  probs = json_object_get_array_member (
      json_array_get_object_element (json_object_get_array_member (
          json_node_get_object (json_parser_get_root (p)), "results"), 0), "probabilities");
  for (int i = 0; i < 4; i++)
    ours[i] = (float) json_array_get_double_element (probs, i);
  golden = load_golden ("ops/sequential.out.npy", gs, &gn);
  assert_close ("--input-npy", ours, golden, 4, 1e-5);

  run_cli (&bad, "predict", "--model", model, "--input-npy", other, NULL);
  assert_user_error (&bad, "does not fit the model's input (1, 9, 9, 2)");
}

static void
test_user_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("xc-cli-XXXXXX", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.h5", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.png", NULL);
  g_autofree char *truncated = g_build_filename (dir, "truncated.hdf5", NULL);
  g_autofree char *model = g_test_build_filename (G_TEST_DIST, "data", "ops", "add3_gap_dense.h5",
                                                  NULL);
  g_autofree char *bytes = NULL;
  gsize len;

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_true (g_file_set_contents (text, "not a picture\n", -1, NULL));
  g_assert_true (g_file_get_contents (model, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (truncated, bytes, len / 2, NULL));

  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "summary", "--model", "/no/such/model.h5", NULL);
    assert_user_error (&r, "/no/such/model.h5: no such file");
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "summary", "--model", empty, NULL);
    assert_user_error (&r, "not an HDF5 file");
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "summary", "--model", truncated, NULL);
    assert_user_error (&r, truncated);
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "predict", "--model", model, text, NULL);
    assert_user_error (&r, "not an image");
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "predict", "--model", model, "/no/such/image.png", NULL);
    assert_user_error (&r, "/no/such/image.png: no such file");
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "dump", "--model", model, "--input-npy",
             g_test_get_filename (G_TEST_DIST, "data", "ops", "add3_gap_dense.in.npy", NULL),
             "--layer", "block99", "--out-dir", dir, NULL);
    assert_user_error (&r, "no layer named 'block99'");
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "summary", "--model", "builtin:xception:size=12", NULL);
    assert_user_error (&r, "size");
  }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "summary", "--model", "builtin:xception", "--weights", model, NULL);
    assert_user_error (&r, "matches no layer");
  }
  g_unlink (empty);
  g_unlink (text);
  g_unlink (truncated);
  g_rmdir (dir);
}

static void
test_explain (void)
{
  g_autofree char *dir = NULL, *cam = NULL, *grad = NULL, *png = NULL;
  g_auto(Run) r = { 0 }, bad = { 0 }, badc = { 0 }, usage = { 0 };
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(XcImage) overlay = NULL;
  g_autofree float *c = NULL, *g = NULL, *gc = NULL, *gg = NULL;
  JsonObject *root, *metrics;
  int s[4], n, gs[4], gn;

  if (!have_shared ())
    return;
  dir = g_dir_make_tmp ("xc-explain-XXXXXX", NULL);
  cam = g_build_filename (dir, "cam.npy", NULL);
  grad = g_build_filename (dir, "grad.npy", NULL);
  png = g_build_filename (dir, "overlay.png", NULL);
  run_cli (&r, "explain", "--model", fer_model, face, "--method", "gradcam", "--class", "happy",
           "--cam-npy", cam, "--grad-npy", grad, "--out", png, "--colormap", "turbo",
           "--metrics", "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, r.out, -1, &error));
  root = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpstr (json_object_get_string_member (root, "layer"), ==, "add_4");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (root, "target"),
                                                  "label"), ==, "happy");
  metrics = json_object_get_object_member (root, "metrics");
  g_assert_nonnull (metrics);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (metrics, "deletion")),
                    ==, 21);

  c = xc_npy_read (cam, s, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 2);
  g_assert_cmpint (s[0], ==, 4);
  gc = load_golden ("fer/explain/cam.gradcam.npy", gs, &gn);
  assert_close_rel ("--cam-npy", c, gc, 16, 1e-3);
  g = xc_npy_read (grad, s, &n, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 4);
  g_assert_cmpint (s[3], ==, 128);
  gg = load_golden ("fer/explain/grad.add_4.npy", gs, &gn);
  assert_close_rel ("--grad-npy", g, gg, 4 * 4 * 128, 1e-3);
  overlay = xc_image_load (png, &error);
  g_assert_no_error (error);
  g_assert_cmpint (overlay->w, ==, 64);
  g_assert_cmpint (overlay->c, ==, 3);   /* coloured */

  run_cli (&bad, "explain", "--model", fer_model, face, "--layer", "global_average_pooling2d_1",
           NULL);
  assert_user_error (&bad, "global_average_pooling2d_1");
  run_cli (&badc, "explain", "--model", fer_model, face, "--class", "7", NULL);
  assert_user_error (&badc, "0 to 6");
  run_cli (&usage, "explain", "--model", fer_model, face, "--method", "magic", NULL);
  g_assert_cmpint (usage.status, ==, 2);

  g_unlink (cam);
  g_unlink (grad);
  g_unlink (png);
  g_rmdir (dir);
}

static void
test_compare (void)
{
  g_autofree char *big = NULL;
  char *faces[6];
  static const char *names[] = { "face_cap", "face_left", "face_mid", "face_selfie",
                                 "face_stripes", "face_woman" };
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *models, *results;
  int agree = 0;

  if (!have_shared ())
    return;
  big = shared_path ("models", "fer2013_big_XCEPTION.54-0.66.hdf5", NULL);
  for (int i = 0; i < 6; i++)
    {
      g_autofree char *f = g_strdup_printf ("%s.png", names[i]);
      faces[i] = shared_path ("images", "faces", f, NULL);
    }
  {
    g_auto(Run) r = { 0 };
    run_cli (&r, "compare", "--model", fer_model, "--model", big, "--method", "gradcam",
             "--runs", "2", "--json", faces[0], faces[1], faces[2], faces[3], faces[4], faces[5],
             NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (json_parser_load_from_data (p, r.out, -1, &error));
  }
  root = json_node_get_object (json_parser_get_root (p));
  models = json_object_get_array_member (root, "models");
  g_assert_cmpuint (json_array_get_length (models), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (models, 0),
                                               "params"), ==, 58423);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (models, 1),
                                               "params"), ==, 208871);
  g_assert_cmpfloat (json_object_get_double_member (json_array_get_object_element (models, 0),
                                                    "latency_ms"), >, 0);
  results = json_object_get_array_member (root, "results");
  g_assert_cmpuint (json_array_get_length (results), ==, 6);
  for (guint i = 0; i < 6; i++)
    {
      JsonObject *res = json_array_get_object_element (results, i);
      JsonArray *preds = json_object_get_array_member (res, "predictions");
      const char *la = json_object_get_string_member (json_array_get_object_element (preds, 0),
                                                      "label");
      const char *lb = json_object_get_string_member (json_array_get_object_element (preds, 1),
                                                      "label");
      gboolean same = json_object_get_boolean_member (res, "agree");
      double corr = json_object_get_double_member (res, "explanation_correlation");
      g_assert_cmpint (same, ==, g_str_equal (la, lb));   /* labels match the verdict */
      g_assert_true (corr >= -1.0 && corr <= 1.0);
      agree += same;
    }
  /* the first face: the golden's class for the mini model */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
      json_object_get_array_member (json_array_get_object_element (results, 0), "predictions"),
      0), "label"), ==, "happy");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (root, "agreement"), agree / 6.0,
                                  1e-9);

  /* the same faces as an image folder without class subfolders: compared
   * without labels (agreement, no accuracy), every row in a CSV file;
   * evaluate refuses the folder, naming what is missing */
  {
    g_autofree char *dir = g_dir_make_tmp ("xc-unlabelled-XXXXXX", NULL);
    g_autofree char *spec = g_strdup_printf ("imagefolder:%s", dir);
    g_autofree char *csv = g_build_filename (dir, "..", "xc-unlabelled-rows.csv", NULL);
    g_autofree char *text = NULL;
    g_autoptr(JsonParser) p2 = json_parser_new ();
    g_auto(GStrv) lines = NULL;
    g_auto(Run) r = { 0 }, e = { 0 };
    JsonObject *o, *res;

    for (int i = 0; i < 6; i++)
      {
        g_autofree char *base = g_path_get_basename (faces[i]);
        g_autofree char *dst = g_build_filename (dir, base, NULL);
        g_autofree char *data = NULL;
        gsize len;
        g_assert_true (g_file_get_contents (faces[i], &data, &len, NULL));
        g_assert_true (g_file_set_contents (dst, data, len, NULL));
      }
    run_cli (&r, "compare", "--model", fer_model, "--model", big, "--dataset", spec,
             "--method", "gradcam", "--runs", "2", "--csv", csv, "--json", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_true (json_parser_load_from_data (p2, r.out, -1, &error));
    o = json_node_get_object (json_parser_get_root (p2));
    g_assert_false (json_object_get_boolean_member (o, "labelled"));
    g_assert_false (json_object_has_member (o, "accuracy"));
    g_assert_false (json_object_has_member (o, "mcnemar"));
    g_assert_cmpint (json_object_get_int_member (o, "images"), ==, 6);
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "agreement"), agree / 6.0,
                                    1e-9);
    /* (a folder's images come in a seeded order) */
    res = json_array_get_object_element (json_object_get_array_member (o, "results"), 0);
    g_assert_true (g_str_has_prefix (json_object_get_string_member (res, "input"), "face_"));
    {
      JsonObject *own = json_object_get_object_member (res, "own_class_maps");
      double rank = json_object_get_double_member (own, "spearman");
      double iou = json_object_get_double_member (own, "top10_iou");
      g_assert_true (rank >= -1.0 && rank <= 1.0);
      g_assert_true (iou >= 0.0 && iou <= 1.0);
    }
    g_assert_true (g_file_get_contents (csv, &text, NULL, NULL));
    lines = g_strsplit (g_strstrip (text), "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 7);
    g_assert_true (g_str_has_prefix (lines[0], "input,truth,a_class,a_label,a_prob"));
    g_assert_true (g_str_has_prefix (lines[1], "face_"));
    g_assert_nonnull (strstr (lines[1], ".png,,"));   /* no truth */
    {
      /* --csv into a folder is refused before any image runs */
      g_auto(Run) bad = { 0 };
      run_cli (&bad, "compare", "--model", fer_model, "--model", big, "--dataset", spec,
               "--runs", "2", "--csv", dir, NULL);
      g_assert_cmpint (bad.status, ==, 1);
      g_assert_nonnull (strstr (bad.err, dir));
    }
    run_cli (&e, "evaluate", "--model", fer_model, "--dataset", spec, NULL);
    g_assert_cmpint (e.status, ==, 1);
    g_assert_nonnull (strstr (e.err, "without class subfolders"));
    g_unlink (csv);
    for (int i = 0; i < 6; i++)
      {
        g_autofree char *base = g_path_get_basename (faces[i]);
        g_autofree char *dst = g_build_filename (dir, base, NULL);
        g_unlink (dst);
      }
    g_rmdir (dir);
  }
  for (int i = 0; i < 6; i++)
    g_free (faces[i]);
}

static void
test_report (void)
{
  g_autofree char *dir = NULL, *pdf = NULL, *out = NULL, *err = NULL, *big = NULL;
  g_autofree char *pdfinfo = g_find_program_in_path ("pdfinfo");
  g_auto(Run) r = { 0 };
  int status;

  if (!have_shared ())
    return;
  dir = g_dir_make_tmp ("xc-report-XXXXXX", NULL);
  pdf = g_build_filename (dir, "report.pdf", NULL);
  big = shared_path ("models", "fer2013_big_XCEPTION.54-0.66.hdf5", NULL);
  run_cli (&r, "report", "--model", fer_model, "--compare-model", big, face, "--out", pdf, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_file_test (pdf, G_FILE_TEST_IS_REGULAR));
  if (pdfinfo)
    {
      const char *argv[] = { "pdfinfo", pdf, NULL };
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                   &out, &err, &status, NULL));
      g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
      g_assert_nonnull (g_regex_match_simple ("^Pages: +3$", out, G_REGEX_MULTILINE, 0) ? out : NULL);
      g_assert_nonnull (strstr (out, "Xception Studio report"));
    }
  else
    g_test_message ("pdfinfo is not installed: only the file's existence was checked");
  g_unlink (pdf);
  g_rmdir (dir);
}

/* The embedded twins: the default model classifies an embedded sample, and
 * the two agree on Fashion-MNIST test images they both classify well */
static void
test_embedded (void)
{
  g_auto(Run) r = { 0 }, list = { 0 }, c = { 0 };
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(JsonParser) p2 = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *top, *root;
  JsonArray *acc;

  run_cli (&list, "summary", "--model", "embedded:xception-tiny-fmnist", "--json", NULL);
  if (list.status != 0)
    {
      g_test_skip ("this build carries no embedded models");
      return;
    }
  run_cli (&r, "predict", "--json",
           "resource:///org/xceptionstudio/XceptionStudio/samples/fmnist-test-0000-ankle-boot.png",
           NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, r.out, -1, &error));
  root = json_node_get_object (json_parser_get_root (p));
  g_assert_cmpstr (json_object_get_string_member (root, "model"), ==,
                   "embedded:xception-tiny-fmnist");
  top = json_array_get_object_element (json_object_get_array_member (
      json_array_get_object_element (json_object_get_array_member (root, "results"), 0), "top"),
      0);
  g_assert_cmpstr (json_object_get_string_member (top, "label"), ==, "Ankle boot");

  if (!g_file_test ("/usr/share/datasets/fashion-mnist", G_FILE_TEST_IS_DIR))
    return;
  {
    g_auto(Run) twin = { 0 };
    run_cli (&twin, "summary", "--model", "embedded:xception-tiny-fmnist-standard", NULL);
    if (twin.status != 0)
      {
        g_test_message ("no standard twin embedded: the comparison is not run");
        return;
      }
  }
  run_cli (&c, "compare", "--model", "embedded:xception-tiny-fmnist", "--model",
           "embedded:xception-tiny-fmnist-standard", "--dataset",
           "fashion-mnist:/usr/share/datasets/fashion-mnist", "--subset", "300", "--runs", "2",
           "--json", NULL);
  g_assert_cmpint (c.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p2, c.out, -1, &error));
  root = json_node_get_object (json_parser_get_root (p2));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "results")), ==,
                    300);
  acc = json_object_get_array_member (root, "accuracy");
  g_test_message ("accuracy %.3f and %.3f, agreement %.3f",
                  json_array_get_double_element (acc, 0), json_array_get_double_element (acc, 1),
                  json_object_get_double_member (root, "agreement"));
  g_assert_cmpfloat (json_array_get_double_element (acc, 0), >=, 0.85);
  g_assert_cmpfloat (json_array_get_double_element (acc, 1), >=, 0.85);
  g_assert_cmpfloat (json_object_get_double_member (root, "agreement"), >=, 0.8);
  /* labelled: McNemar's test, calibration and confusion of each model */
  {
    JsonObject *mc = json_object_get_object_member (root, "mcnemar");
    JsonArray *ms = json_object_get_array_member (root, "models");
    double pv = json_object_get_double_member (mc, "p");
    g_assert_true (pv > 0.0 && pv <= 1.0);
    for (guint k = 0; k < 2; k++)
      {
        JsonObject *mo = json_array_get_object_element (ms, k);
        JsonArray *conf = json_object_get_array_member (mo, "confusion");
        JsonArray *rel = json_object_get_array_member (mo, "reliability");
        gint64 total = 0, diag = 0, binned = 0;
        double ece = json_object_get_double_member (mo, "ece");
        g_assert_cmpuint (json_array_get_length (conf), ==, 10);
        for (guint t = 0; t < 10; t++)
          for (guint q = 0; q < 10; q++)
            {
              gint64 v = json_array_get_int_element (json_array_get_array_element (conf, t), q);
              total += v;
              diag += t == q ? v : 0;
            }
        for (guint q = 0; q < json_array_get_length (rel); q++)
          binned += json_object_get_int_member (json_array_get_object_element (rel, q), "count");
        g_assert_cmpint (total, ==, 300);
        g_assert_cmpint (binned, ==, 300);
        g_assert_cmpfloat_with_epsilon ((double) diag / 300,
                                        json_array_get_double_element (acc, k), 1e-9);
        g_assert_true (ece >= 0.0 && ece < 0.5);
      }
  }
  /* the twins' costs: the standard one has more of both */
  {
    JsonArray *models = json_object_get_array_member (root, "models");
    JsonObject *a = json_array_get_object_element (models, 0);
    JsonObject *b = json_array_get_object_element (models, 1);
    g_assert_cmpint (json_object_get_int_member (a, "params"), <,
                     json_object_get_int_member (b, "params"));
    g_assert_cmpint (json_object_get_int_member (a, "macs"), <,
                     json_object_get_int_member (b, "macs"));
  }
}

static void
test_bench_json (void)
{
  g_auto(Run) r = { 0 };
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root, *fwd;
  JsonArray *gc;

  run_cli (&r, "bench", "--model", "builtin:xception:size=71,width=1/8", "--runs", "3",
           "--threads", "1", "--json", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, r.out, -1, &error));
  root = json_node_get_object (json_parser_get_root (p));
  fwd = json_object_get_object_member (root, "forward_ms");
  g_assert_cmpfloat (json_object_get_double_member (fwd, "min"), <=,
                     json_object_get_double_member (fwd, "median"));
  g_assert_cmpfloat (json_object_get_double_member (fwd, "median"), <=,
                     json_object_get_double_member (fwd, "max"));
  g_assert_cmpint (json_object_get_int_member (root, "peak_rss_bytes"), >, 0);
  g_assert_cmpint (json_object_get_int_member (root, "runs"), ==, 3);
  /* Grad-CAM's ratio is to the forwards run between its runs */
  gc = json_object_get_array_member (root, "gradcam");
  g_assert_cmpuint (json_array_get_length (gc), >=, 1);
  for (guint i = 0; i < json_array_get_length (gc); i++)
    {
      JsonObject *g = json_array_get_object_element (gc, i);
      double f = json_object_get_double_member (g, "forward_ms_interleaved");

      g_assert_cmpfloat (f, >, 0.0);
      g_assert_cmpfloat_with_epsilon (json_object_get_double_member (g, "ratio_to_forward"),
                                      json_object_get_double_member (g, "median_ms") / f, 1e-9);
    }
}

/* bench --interleave: "ready" after the warm-up, then one forward and its
 * time per line read, until standard input ends */
static void
test_bench_interleave (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) sp = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_auto(GStrv) lines = NULL;

  sp = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                         G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, g_getenv ("XCEPTION_CLI"),
                         "bench", "--model", "builtin:xception:size=71,width=1/8", "--threads",
                         "1", "--interleave", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (sp, "\n\nx\n", NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (sp));
  g_assert_cmpint (g_subprocess_get_exit_status (sp), ==, 0);
  lines = g_strsplit (out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);   /* ready, three times, "" */
  g_assert_cmpstr (lines[0], ==, "ready");
  for (int i = 1; i <= 3; i++)
    {
      char *end = NULL;
      double ms = g_ascii_strtod (lines[i], &end);

      g_assert_true (end != lines[i] && *end == '\0');
      g_assert_cmpfloat (ms, >, 0.0);
      g_assert_cmpfloat (ms, <, 60000.0);
    }
  g_assert_cmpstr (lines[4], ==, "");
}

/* DICOM through the CLI: what it prints, what it leaves out, how it fails */
static void
test_predict_dicom (void)
{
  const char *ct = "/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm";
  const char *mf = "/usr/lib/python3/dist-packages/pydicom/data/test_files/rtdose.dcm";
  g_auto(Run) r1 = { 0 }, r2 = { 0 }, r3 = { 0 }, r4 = { 0 }, r5 = { 0 }, r6 = { 0 };
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *res, *img, *dicom, *win;

  if (!g_file_test (ct, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("python3-pydicom's test files are not installed");
      return;
    }
  run_cli (&r1, "predict", "--json", "--window", "40,400", ct, NULL);
  g_assert_cmpint (r1.status, ==, 0);
  g_assert_true (json_parser_load_from_data (p, r1.out, -1, &error));
  g_assert_no_error (error);
  res = json_array_get_object_element (json_object_get_array_member (
    json_node_get_object (json_parser_get_root (p)), "results"), 0);
  img = json_object_get_object_member (res, "image");
  dicom = json_object_get_object_member (img, "dicom");
  win = json_object_get_object_member (img, "window");
  g_assert_cmpstr (json_object_get_string_member (dicom, "modality"), ==, "CT");
  g_assert_cmpint (json_object_get_int_member (img, "bits"), ==, 16);
  g_assert_cmpfloat (json_object_get_double_member (win, "center"), ==, 40.0);
  g_assert_cmpfloat (json_object_get_double_member (win, "width"), ==, 400.0);
  g_assert_cmpstr (json_object_get_string_member (win, "source"), ==, "--window");
  /* no patient data unless asked */
  g_assert_false (json_object_has_member (dicom, "patient_name"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (res, "warnings")), >=, 1);

  run_cli (&r2, "predict", "--json", "--keep-patient-data", ct, NULL);
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_nonnull (strstr (r2.out, "\"patient_name\""));

  run_cli (&r3, "predict", "--frame", "14", mf, NULL);
  g_assert_cmpint (r3.status, ==, 0);
  g_assert_nonnull (strstr (r3.out, "frame 14 of 15"));
  run_cli (&r4, "predict", "--frame", "15", mf, NULL);
  assert_user_error (&r4, "frame 15 does not exist");
  run_cli (&r5, "predict", "--window", "40", ct, NULL);
  assert_user_error (&r5, "expected CENTER,WIDTH");
  run_cli (&r6, "predict",
           "/usr/lib/python3/dist-packages/pydicom/data/test_files/MR_small_jp2klossless.dcm",
           NULL);
  assert_user_error (&r6, "JPEG 2000");
}

static int
compare_lines (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* The records of a shard folder, sorted, without the headers */
static char *
shard_records (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  const char *e;

  g_assert_nonnull (d);
  while ((e = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, e, NULL), *text = NULL;
      g_auto(GStrv) l = NULL;
      g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
      l = g_strsplit (text, "\n", -1);
      for (guint i = 1; l[i]; i++)
        if (l[i][0])
          g_ptr_array_add (lines, g_strdup (l[i]));
    }
  g_ptr_array_sort (lines, compare_lines);
  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("\n", (char **) lines->pdata);
}

/* Sharded evaluate: N = 1, 3, 7 give the same records and summary; a
 * killed shard resumes (its half-written line redone); merge names what is
 * missing */
static void
test_shards (void)
{
  const char *fm = "fashion-mnist:/usr/share/datasets/fashion-mnist";
  g_autofree char *root = g_dir_make_tmp ("xc-shards-XXXXXX", NULL);
  g_autofree char *one_records = NULL, *one_summary = NULL;
  const guint counts[] = { 1, 3, 7 };

  if (!g_file_test ("/usr/share/datasets/fashion-mnist", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("dataset-fashion-mnist is not installed");
      return;
    }
  for (guint c = 0; c < G_N_ELEMENTS (counts); c++)
    {
      g_autofree char *dir = g_strdup_printf ("%s/n%u", root, counts[c]);
      g_auto(Run) m = { 0 };
      g_autofree char *records = NULL;
      for (guint i = 0; i < counts[c]; i++)
        {
          g_auto(Run) r = { 0 };
          g_autofree char *shard = g_strdup_printf ("%u/%u", i, counts[c]);
          run_cli (&r, "evaluate", "--dataset", fm, "--subset", "70", "--shard", shard,
                   "--out-dir", dir, NULL);
          g_assert_cmpint (r.status, ==, 0);
        }
      run_cli (&m, "merge", "--out-dir", dir, "--json", NULL);
      g_assert_cmpint (m.status, ==, 0);
      records = shard_records (dir);
      if (c == 0)
        {
          one_records = g_steal_pointer (&records);
          one_summary = g_strdup (m.out);
          g_assert_nonnull (strstr (one_summary, "\"images\" : 70"));
        }
      else
        {
          /* (not cmpstr: a difference would print thousands of lines) */
          g_assert_true (g_str_equal (records, one_records));
          g_assert_cmpstr (m.out, ==, one_summary);
        }
    }
  {
    /* shard 1 of 3 killed mid-write: a .part with a half line */
    g_autofree char *dir = g_strdup_printf ("%s/n3", root);
    g_autofree char *done = g_strdup_printf ("%s/evaluate-shard-1-of-3.jsonl", dir);
    g_autofree char *part = g_strdup_printf ("%s.part", done);
    g_autofree char *text = NULL;
    g_auto(Run) r = { 0 }, m = { 0 }, gone = { 0 };
    gsize len;
    g_assert_true (g_file_get_contents (done, &text, &len, NULL));
    g_assert_true (g_file_set_contents (part, text, len / 2, NULL));
    g_unlink (done);
    run_cli (&gone, "merge", "--out-dir", dir, NULL);
    assert_user_error (&gone, "shard 1 is unfinished");
    run_cli (&r, "evaluate", "--dataset", fm, "--subset", "70", "--shard", "1/3", "--out-dir",
             dir, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "by an earlier run"));
    run_cli (&m, "merge", "--out-dir", dir, "--json", NULL);
    g_assert_cmpstr (m.out, ==, one_summary);
    g_unlink (done);
  }
  {
    g_autofree char *dir = g_strdup_printf ("%s/n7", root);
    g_autofree char *victim = g_strdup_printf ("%s/evaluate-shard-4-of-7.jsonl", dir);
    g_auto(Run) m = { 0 }, bad = { 0 };
    g_unlink (victim);
    run_cli (&m, "merge", "--out-dir", dir, NULL);
    assert_user_error (&m, "shard 4 is missing");
    run_cli (&bad, "evaluate", "--dataset", fm, "--shard", "7/7", "--out-dir", dir, NULL);
    assert_user_error (&bad, "--shard 7/7");
  }
  {
    /* compare and localize shard and merge the same way */
    g_autofree char *images = g_test_build_filename (G_TEST_DIST, "data", "localize", "images",
                                                     NULL);
    g_autofree char *boxes = g_test_build_filename (G_TEST_DIST, "data", "localize",
                                                    "boxes.csv", NULL);
    g_autofree char *folder = g_strdup_printf ("imagefolder:%s", images);
    const char *b = "builtin:xception:size=71,channels=1,classes=10,width=1/16";
    char *first[3] = { NULL, NULL, NULL };
    g_autofree char *labels = g_build_filename (root, "shapes.labels", NULL);
    g_assert_true (g_file_set_contents (labels, "square\ndisk\nc2\nc3\nc4\nc5\nc6\nc7\nc8\n"
                                        "c9\n", -1, NULL));
    for (guint n = 1; n <= 3; n += 2)
      for (guint kind = 0; kind < 3; kind++)
        {
          g_autofree char *dir = g_strdup_printf ("%s/%s%u", root,
                                                  (const char *[]) { "cmp", "loc", "exp" }[kind],
                                                  n);
          g_auto(Run) m = { 0 };
          for (guint i = 0; i < n; i++)
            {
              g_auto(Run) r = { 0 };
              g_autofree char *shard = g_strdup_printf ("%u/%u", i, n);
              if (kind == 0)
                run_cli (&r, "compare", "--model", "embedded:xception-tiny-fmnist", "--model", b,
                         "--dataset", fm, "--subset", "40", "--shard", shard, "--out-dir", dir,
                         NULL);
              else if (kind == 1)
                run_cli (&r, "localize", "--model", b, "--labels", labels, "--dataset", folder,
                         "--boxes", boxes, "--shard", shard, "--out-dir", dir, NULL);
              else
                run_cli (&r, "explain", "--dataset", fm, "--subset", "20", "--shard", shard,
                         "--out-dir", dir, NULL);
              g_assert_cmpint (r.status, ==, 0);
            }
          run_cli (&m, "merge", "--out-dir", dir, "--json", NULL);
          g_assert_cmpint (m.status, ==, 0);
          g_assert_nonnull (strstr (m.out, (const char *[]) { "\"p_exact\"",
                                                              "\"pointing_game\"",
                                                              "\"mean_probability\"" }[kind]));
          if (n == 1)
            first[kind] = g_strdup (m.out);
          else
            g_assert_cmpstr (m.out, ==, first[kind]);
        }
    g_free (first[0]);
    g_free (first[1]);
    g_free (first[2]);
  }
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", root);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  int rc;

  xc_runtime_init (argv);
  g_test_init (&argc, &argv, NULL);
  fer_model = shared_path ("models", "fer2013_mini_XCEPTION.102-0.66.hdf5", NULL);
  face = shared_path ("images", "faces", "face_cap.png", NULL);
  g_test_add_func ("/cli/usage", test_usage);
  g_test_add_func ("/cli/predict/json", test_predict_json);
  g_test_add_func ("/cli/predict/input-npy", test_input_npy);
  g_test_add_func ("/cli/predict/weights-only", test_predict_weights_only);
  g_test_add_func ("/cli/predict/dicom", test_predict_dicom);
  g_test_add_func ("/cli/shards", test_shards);
  g_test_add_func ("/cli/download", test_download);
  g_test_add_func ("/cli/hostile/basics", test_hostile_basics);
  g_test_add_func ("/cli/summary/json", test_summary_json);
  g_test_add_func ("/cli/summary/stats", test_summary_stats);
  g_test_add_func ("/cli/dump", test_dump);
  g_test_add_func ("/cli/explain", test_explain);
  g_test_add_func ("/cli/compare", test_compare);
  g_test_add_func ("/cli/embedded", test_embedded);
  g_test_add_func ("/cli/report", test_report);
  g_test_add_func ("/cli/bench/json", test_bench_json);
  g_test_add_func ("/cli/bench/interleave", test_bench_interleave);
  g_test_add_func ("/cli/errors", test_user_errors);
  rc = g_test_run ();
  g_free (fer_model);
  g_free (face);
  return rc;
}
