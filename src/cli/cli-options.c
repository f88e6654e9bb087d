// SPDX-License-Identifier: GPL-3.0-or-later
//
// cli-options: the one option parser of every `peac` command, GNU getopt_long with the
// messages the commands share. Options and positional arguments may come in any order
// (getopt permutes argv, so positionals end up from optind on), values come as
// "--name VALUE" or "--name=VALUE", and a long name may be shortened while it stays
// unambiguous. What getopt refuses is reported here, once for all commands, as
// "peac CMD: unknown option '--x' (see peac CMD --help)", "peac CMD: --x needs a value"
// or "peac CMD: --x takes no value"; the command then exits 2 (docs/bad-input.md).
#include <stdio.h>
#include <string.h>

#include "cli.h"

// The long option whose name is the text of arg up to '=' (arg without its leading "--"),
// or NULL.
static const struct option *
find_long (const struct option *longs, const char *arg)
{
  const size_t len = strcspn (arg, "=");
  for (const struct option *o = longs; o && o->name; o++)
    if (strlen (o->name) == len && strncmp (o->name, arg, len) == 0)
      return o;
  return NULL;
}

int
peac_cli_getopt (const char *cmd, int argc, char **argv, const char *shorts,
                 const struct option *longs, const char *const *metavars)
{
  char optstring[128];
  snprintf (optstring, sizeof optstring, ":%s", shorts);
  opterr = 0;
  const int c = getopt_long (argc, argv, optstring, longs, NULL);
  if (c != '?' && c != ':')
    return c;

  // The argument getopt refused; it moved optind past it, except for a short option
  // inside a cluster ("-xq"), which optopt names.
  const char *arg = optind > 1 && optind <= argc ? argv[optind - 1] : "";
  const int is_long = arg[0] == '-' && arg[1] == '-';
  const struct option *o = is_long ? find_long (longs, arg + 2) : NULL;
  char name[96];
  if (c == ':')
    {
      // Only the last argument can lack its value, so arg is the option itself.
      const char *metavar = NULL;
      if (is_long)
        snprintf (name, sizeof name, "--%s", o ? o->name : arg + 2);
      else
        snprintf (name, sizeof name, "-%c", optopt);
      if (o && metavars)
        metavar = metavars[o - longs];
      if (metavar)
        fprintf (stderr, "peac %s: %s needs a value (%s)\n", cmd, name, metavar);
      else
        fprintf (stderr, "peac %s: %s needs a value\n", cmd, name);
    }
  else if (is_long && optopt != 0 && strchr (arg, '='))
    // A flag given as "--flag=value" (getopt names it by its val).
    fprintf (stderr, "peac %s: --%s takes no value\n", cmd, o ? o->name : arg + 2);
  else if (is_long && optopt == 0)
    // Not a long option, or a shortened name that fits several.
    fprintf (stderr, "peac %s: unknown option '%.*s' (see peac %s --help)\n", cmd,
             (int) strcspn (arg, "="), arg, cmd);
  else
    fprintf (stderr, "peac %s: unknown option '-%c' (see peac %s --help)\n", cmd, optopt, cmd);
  return '?';
}
