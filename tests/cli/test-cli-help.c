// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-cli-help: every option a command's --help documents is accepted by that command.
// The oracle is the help text itself, read the way a user reads it: the commands come from
// `peac --help`; a command's options are the names that open an indented line of its
// `peac CMD --help` (with the short alias before them, "-o, --output FILE") or stand in
// its usage lines ("[--threads N]"), and the word after a name, when it is written like a
// value (upper case, or alternatives with '|'), says that the option takes one. Each option
// is then given with a value of that shape ("1", "1,1" for X,Y, the first alternative),
// followed by an option no command has: the command must stop with exit 2 on that one (or
// on a complaint about the value that names the option), and never call the documented
// option unknown, say that it needs a value or that it takes none.
#include <glib.h>
#include <string.h>

#include "peac-test-cli.h"

static const char *peac_path;
static const char *const bogus = "--zz-not-an-option";

typedef struct {
  char *name;     // "--output" or "-o"
  char *metavar;  // NULL for a flag
} Opt;

static void
opt_free (gpointer p)
{
  Opt *o = p;
  g_free (o->name), g_free (o->metavar), g_free (o);
}

// Whether word (up to its end) looks like a value's name: DIR, X,Y, FILE..., 0|1,
// pca|random, OUT.safetensors.
static gboolean
is_metavar (const char *w, size_t len)
{
  if (len == 0)
    return FALSE;
  if (memchr (w, '|', len))
    return TRUE;
  return g_ascii_isupper (w[0]) || g_ascii_isdigit (w[0]);
}

// Adds the option at p ("--name" or "-x"); the word after one space is its value's name.
static void
add_option (GHashTable *opts, const char *p)
{
  size_t n = 1;
  while (p[n] == '-' || g_ascii_isalnum (p[n]))
    n++;
  if (n < 2 || (p[1] != '-' && n != 2))
    return;
  char *name = g_strndup (p, n);
  char *metavar = NULL;
  if (p[n] == ' ' || p[n] == '=')
    {
      const char *w = p + n + 1;
      size_t len = strcspn (w, " ],\n");
      if (w[len] == ',' && w[len + 1] != ' ')
        len += 1 + strcspn (w + len + 1, " ]\n");  // X,Y
      if (is_metavar (w, len))
        metavar = g_strndup (w, len);
    }
  Opt *o = g_hash_table_lookup (opts, name);
  if (o == NULL)
    {
      o = g_new0 (Opt, 1);
      o->name = name;
      g_hash_table_insert (opts, o->name, o);
    }
  else
    g_free (name);
  if (metavar && !o->metavar)
    o->metavar = metavar;
  else
    g_free (metavar);
}

// The options documented by help: those opening an indented line ("-o, --output F", the
// alias included) and those in the usage lines.
static GHashTable *
documented_options (const char *help)
{
  GHashTable *opts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, opt_free);
  g_auto (GStrv) lines = g_strsplit (help, "\n", -1);
  gboolean usage = FALSE;
  for (int i = 0; lines[i]; i++)
    {
      const char *l = lines[i];
      const char *t = l + strspn (l, " ");
      usage = g_str_has_prefix (l, "Usage:") || (usage && t > l && (*t == '[' || g_str_has_prefix (t, "peac ")));
      if (usage)
        {
          for (const char *p = strstr (l, "-"); p; p = strstr (p + 1, "-"))
            if ((p[-1] == '[' || p[-1] == ' ') && (p[1] == '-' || g_ascii_isalpha (p[1])))
              add_option (opts, p);
          continue;
        }
      if (t == l || t[0] != '-')
        continue;
      add_option (opts, t);
      if (t[1] != '-' && t[2] == ',' && t[3] == ' ' && t[4] == '-')
        add_option (opts, t + 4);  // "-o, --output FILE"
    }
  // An alias shares its long name's value.
  GHashTableIter it;
  Opt *o;
  g_hash_table_iter_init (&it, opts);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &o))
    if (o->name[1] != '-' && !o->metavar)
      for (int i = 0; lines[i]; i++)
        {
          const char *t = lines[i] + strspn (lines[i], " ");
          if (g_str_has_prefix (t, o->name) && t[2] == ',' && t[3] == ' ')
            {
              size_t n = strcspn (t + 4, " =");
              g_autofree char *ln = g_strndup (t + 4, n);
              Opt *lo = g_hash_table_lookup (opts, ln);
              if (lo && lo->metavar)
                o->metavar = g_strdup (lo->metavar);
            }
        }
  return opts;
}

// A value of the shape metavar names.
static char *
value_for (const char *metavar)
{
  if (strchr (metavar, '|'))
    return g_strndup (metavar, strcspn (metavar, "|"));
  if (strchr (metavar, ','))
    return g_strdup ("1,1");
  return g_strdup ("1");
}

static char **
commands (void)
{
  g_auto (PeacTestRun) r = { 0 };
  peac_test_run (&r, peac_path, "--help", (const char *[]) { NULL });
  g_assert_cmpint (r.status, ==, 0);
  GPtrArray *names = g_ptr_array_new ();
  g_auto (GStrv) lines = g_strsplit (r.out, "\n", -1);
  gboolean in = FALSE;
  for (int i = 0; lines[i]; i++)
    {
      if (g_str_has_prefix (lines[i], "Commands:"))
        in = TRUE;
      else if (in && g_str_has_prefix (lines[i], "  ") && g_ascii_isalpha (lines[i][2]))
        g_ptr_array_add (names, g_strndup (lines[i] + 2, strcspn (lines[i] + 2, " ")));
      else if (in && lines[i][0] == '\0' && names->len)
        break;
    }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

static void
test_command (gconstpointer data)
{
  const char *cmd = data;
  g_auto (PeacTestRun) h = { 0 };
  peac_test_run (&h, peac_path, cmd, (const char *[]) { "--help", NULL });
  g_assert_cmpint (h.status, ==, 0);
  g_assert_cmpstr (h.err, ==, "");
  g_autoptr (GHashTable) opts = documented_options (h.out);
  g_assert_cmpuint (g_hash_table_size (opts), >=, 1);

  GHashTableIter it;
  Opt *o;
  int tried = 0;
  g_hash_table_iter_init (&it, opts);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &o))
    {
      if (!strcmp (o->name, "--help") || !strcmp (o->name, "-h"))
        continue;
      g_autofree char *value = o->metavar ? value_for (o->metavar) : NULL;
      const char *args[] = { o->name, value ? value : bogus, value ? bogus : NULL, NULL };
      g_auto (PeacTestRun) r = { 0 };
      peac_test_run (&r, peac_path, cmd, args);
      g_autofree char *unknown = g_strdup_printf ("unknown option '%s'", o->name);
      g_autofree char *needs = g_strdup_printf ("%s needs a value", o->name);
      g_autofree char *takes = g_strdup_printf ("%s takes no value", o->name);
      g_test_message ("peac %s %s %s: %d %s", cmd, o->name, value ? value : "", r.status, r.err);
      // The first line says why: the unknown option after it, or the option's value.
      g_autofree char *first = g_strndup (r.err, strcspn (r.err, "\n"));
      if (r.status != 2 || strstr (r.err, unknown) || strstr (r.err, needs)
          || strstr (r.err, takes)
          || (!strstr (first, bogus) && !strstr (first, o->name)))
        g_error ("peac %s %s %s %s: exit %d, stderr:\n%s", cmd, o->name, value ? value : "",
                 bogus, r.status, r.err);
      tried++;
    }
  g_assert_cmpint (tried, >=, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  peac_path = argc > 1 ? argv[1] : g_getenv ("PEAC_CLI");
  if (peac_path == NULL)
    {
      g_printerr ("usage: test-cli-help PATH-TO-PEAC (or set PEAC_CLI)\n");
      return 2;
    }
  g_auto (GStrv) cmds = commands ();
  g_assert_cmpuint (g_strv_length (cmds), >=, 13);
  for (int i = 0; cmds[i]; i++)
    {
      g_autofree char *path = g_strdup_printf ("/cli/help/%s", cmds[i]);
      g_test_add_data_func (path, cmds[i], test_command);
    }
  return g_test_run ();
}
