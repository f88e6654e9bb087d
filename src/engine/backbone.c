// SPDX-License-Identifier: GPL-3.0-or-later
//
// backbone: the registry of backbone rows (see backbone.h). Each architecture's row is
// defined in its own file; this list is the one place that enumerates them.
#include "backbone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const PeacBackbone peac_backbone_vit;
extern const PeacBackbone peac_backbone_swin;

static const PeacBackbone *const rows[] = { &peac_backbone_vit, &peac_backbone_swin, NULL };

const PeacBackbone *const *
peac_backbones (void)
{
  return rows;
}

const PeacBackbone *
peac_backbone_find (const char *name)
{
  for (int i = 0; name && rows[i]; i++)
    if (strcmp (rows[i]->name, name) == 0)
      return rows[i];
  return NULL;
}

const PeacBackbone *
peac_backbone_of (PeacArch arch)
{
  for (int i = 0; rows[i]; i++)
    if (rows[i]->arch == arch)
      return rows[i];
  return NULL;
}

int
peac_model_spec_parse (PeacModelSpec *s, const char *arch, const char *config_json,
                       char *err, size_t errlen)
{
  memset (s, 0, sizeof *s);
  if (!(s->backbone = peac_backbone_find (arch)))
    {
      char names[128] = "";
      for (int i = 0; rows[i]; i++)
        snprintf (names + strlen (names), sizeof names - strlen (names), "%s%s",
                  i ? ", " : "", rows[i]->name);
      snprintf (err, errlen, "'%s' is not an architecture (%s)", arch ? arch : "", names);
      return -1;
    }
  int gh = 0, gw = 0;
  char *text = s->backbone->describe (config_json, &s->img_size, &gh, &gw, &s->dim, err,
                                      errlen);
  if (!text)
    return -1;
  const size_t n = strlen (text);
  if (n >= sizeof s->config)
    {
      snprintf (err, errlen, "%s configuration: %zu bytes, more than %d", s->backbone->label,
                n, PEAC_CONFIG_MAX - 1);
      free (text);
      return -1;
    }
  memcpy (s->config, text, n + 1);
  free (text);
  if (gh < 1 || gh != gw || s->img_size % gh)
    {
      snprintf (err, errlen, "%s configuration: a %d px input gives a %d×%d token grid that "
                "does not tile it in square cells", s->backbone->label, s->img_size, gh, gw);
      return -1;
    }
  s->grid = gh, s->cell = s->img_size / gh;
  return 0;
}
