/* SPDX-License-Identifier: MIT
 *
 * The window's state between runs: size, recent images (only images that
 * were analysed) and models opened by file (only models that loaded), in
 * a key file under the user's config folder.
 */
#define G_LOG_DOMAIN "xs-window"

#include "xs-window-private.h"

static char *
state_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "xception-studio", "state.ini", NULL);
}

void
_xs_window_save_state (XsWindow *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = state_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GPtrArray) files = g_ptr_array_new ();
  int w, h;

  gtk_window_get_default_size (GTK_WINDOW (self), &w, &h);
  g_key_file_set_integer (kf, "window", "width", w);
  g_key_file_set_integer (kf, "window", "height", h);
  g_key_file_set_boolean (kf, "window", "maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
  g_key_file_set_string_list (kf, "recent", "images",
                              (const char *const *) self->recent->pdata, self->recent->len);
  for (guint i = 0; i < xs_session_n_specs (self->session); i++)
    {
      const char *spec = xs_session_get_spec (self->session, i);
      if (!g_str_has_prefix (spec, "builtin:") && !g_str_has_prefix (spec, "embedded:") &&
          !g_str_has_prefix (spec, "imagenet:"))
        g_ptr_array_add (files, (gpointer) spec);
    }
  g_key_file_set_string_list (kf, "models", "opened", (const char *const *) files->pdata,
                              files->len);
  g_mkdir_with_parents (dir, 0700);
  g_key_file_save_to_file (kf, path, NULL);
}

static void
update_recent_menu (XsWindow *self)
{
  g_menu_remove_all (self->recent_submenu);
  for (guint i = 0; i < self->recent->len; i++)
    {
      g_autofree char *base = g_path_get_basename (self->recent->pdata[i]);
      g_autoptr(GMenuItem) item = g_menu_item_new (base, NULL);
      g_menu_item_set_action_and_target (item, "win.open-recent", "s", self->recent->pdata[i]);
      g_menu_append_item (self->recent_submenu, item);
    }
}

void
_xs_window_add_recent (XsWindow *self, const char *path)
{
  for (guint i = 0; i < self->recent->len; i++)
    if (g_str_equal (self->recent->pdata[i], path))
      {
        g_ptr_array_remove_index (self->recent, i);
        break;
      }
  g_ptr_array_insert (self->recent, 0, g_strdup (path));
  if (self->recent->len > 8)
    g_ptr_array_set_size (self->recent, 8);
  update_recent_menu (self);
}

void
_xs_window_restore_state (XsWindow *self)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = state_path ();
  g_auto(GStrv) recent = NULL, models = NULL;
  int w, h;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL))
    return;
  w = g_key_file_get_integer (kf, "window", "width", NULL);
  h = g_key_file_get_integer (kf, "window", "height", NULL);
  if (w >= 640 && h >= 480 && w <= 16384 && h <= 16384)
    gtk_window_set_default_size (GTK_WINDOW (self), w, h);
  if (g_key_file_get_boolean (kf, "window", "maximized", NULL))
    gtk_window_maximize (GTK_WINDOW (self));
  recent = g_key_file_get_string_list (kf, "recent", "images", NULL, NULL);
  for (guint i = 0; recent && recent[i] && i < 8; i++)
    if (g_file_test (recent[i], G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add (self->recent, g_strdup (recent[i]));
  update_recent_menu (self);
  models = g_key_file_get_string_list (kf, "models", "opened", NULL, NULL);
  for (guint i = 0; models && models[i]; i++)
    if (g_file_test (models[i], G_FILE_TEST_IS_REGULAR))
      xs_window_add_model (self, models[i], FALSE);
}

