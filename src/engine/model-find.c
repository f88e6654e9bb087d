// SPDX-License-Identifier: GPL-3.0-or-later
//
// model-find: the default-model lookup of model-find.h — $PEAC_MODEL, then the bundled
// file in each search folder, with an error that lists every place tried.
#include "model-find.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
peac_model_find_default (const char *const *dirs, char *buf, size_t n, char *err, size_t errlen)
{
  if (!buf || n == 0)
    return snprintf (err, errlen, "model lookup: no room for the path"), -1;
  const char *env = getenv (PEAC_MODEL_ENV);
  if (env && strcmp (env, "none") == 0)
    {
      snprintf (err, errlen, "no model given and %s=none", PEAC_MODEL_ENV);
      buf[0] = 0;
      return -1;
    }
  if (env && *env)
    {
      if (access (env, R_OK) != 0)
        {
          snprintf (err, errlen, "%s=%s: %s", PEAC_MODEL_ENV, env, strerror (errno));
          return -1;
        }
      if ((size_t) snprintf (buf, n, "%s", env) >= n)
        return snprintf (err, errlen, "%s: path too long", env), -1;
      return 0;
    }
  size_t used = (size_t) snprintf (err, errlen, "no model given and no bundled model "
                                   "(%s) in", PEAC_MODEL_BUNDLED_NAME);
  for (int i = 0; dirs && dirs[i]; i++)
    {
      if ((size_t) snprintf (buf, n, "%s/%s", dirs[i], PEAC_MODEL_BUNDLED_NAME) < n
          && access (buf, R_OK) == 0)
        return 0;
      if (used < errlen)
        used += (size_t) snprintf (err + used, errlen - used, "%s %s", i ? "," : "", dirs[i]);
    }
  if (used < errlen)
    snprintf (err + used, errlen - used, "; give one with --model FILE or %s=FILE",
              PEAC_MODEL_ENV);
  buf[0] = 0;
  return -1;
}
