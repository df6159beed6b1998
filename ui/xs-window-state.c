/* SPDX-License-Identifier: MIT
 *
 * The window's state between runs: size, recent images (only images that
 * were analysed) and models opened by file (only models that loaded), in
 * GSettings (org.xceptionstudio.XceptionStudio; the tests use the memory
 * backend). Saved by every way the window closes, Ctrl+Q included.
 */
#define G_LOG_DOMAIN "xs-window"

#include "xs-window-private.h"

#define APP_ID "org.xceptionstudio.XceptionStudio"

/* The app's settings: the installed schema, or (run from the build tree)
 * the one meson compiled there; NULL if neither is found */
static GSettings *
state_settings (void)
{
  GSettingsSchemaSource *def = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = def ? g_settings_schema_source_lookup (def, APP_ID, TRUE)
                                          : NULL;

  if (schema == NULL)
    {
      g_autoptr(GSettingsSchemaSource) build =
        g_settings_schema_source_new_from_directory (XS_BUILD_SCHEMA_DIR, def, FALSE, NULL);
      if (build)
        schema = g_settings_schema_source_lookup (build, APP_ID, FALSE);
    }
  return schema ? g_settings_new_full (schema, NULL, NULL) : NULL;
}

void
_xs_window_save_state (XsWindow *self)
{
  g_autoptr(GSettings) st = state_settings ();
  g_autoptr(GPtrArray) files = g_ptr_array_new ();
  int w, h;

  if (st == NULL)
    return;
  gtk_window_get_default_size (GTK_WINDOW (self), &w, &h);
  g_settings_delay (st);
  if (w >= 640 && h >= 480 && w <= 16384 && h <= 16384)
    {
      g_settings_set_int (st, "window-width", w);
      g_settings_set_int (st, "window-height", h);
    }
  g_settings_set_boolean (st, "window-maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
  g_ptr_array_add (self->recent, NULL);
  g_settings_set_strv (st, "recent-images", (const char *const *) self->recent->pdata);
  g_ptr_array_remove_index (self->recent, self->recent->len - 1);
  for (guint i = 0; i < xs_session_n_specs (self->session); i++)
    {
      const char *spec = xs_session_get_spec (self->session, i);
      if (!g_str_has_prefix (spec, "builtin:") && !g_str_has_prefix (spec, "embedded:") &&
          !g_str_has_prefix (spec, "imagenet:"))
        g_ptr_array_add (files, (gpointer) spec);
    }
  g_ptr_array_add (files, NULL);
  g_settings_set_strv (st, "opened-models", (const char *const *) files->pdata);
  g_settings_apply (st);
  g_settings_sync ();
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
  g_autoptr(GSettings) st = state_settings ();
  g_auto(GStrv) recent = NULL, models = NULL;

  if (st == NULL)
    return;
  gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (st, "window-width"),
                               g_settings_get_int (st, "window-height"));
  if (g_settings_get_boolean (st, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  recent = g_settings_get_strv (st, "recent-images");
  for (guint i = 0; recent[i] && i < 8; i++)
    if (g_file_test (recent[i], G_FILE_TEST_IS_REGULAR))
      g_ptr_array_add (self->recent, g_strdup (recent[i]));
  update_recent_menu (self);
  models = g_settings_get_strv (st, "opened-models");
  for (guint i = 0; models[i]; i++)
    if (g_file_test (models[i], G_FILE_TEST_IS_REGULAR))
      xs_window_add_model (self, models[i], FALSE);
}

