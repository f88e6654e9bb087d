// SPDX-License-Identifier: GPL-3.0-or-later
//
// backbone: the registry of backbone rows (see backbone.h). Each architecture's row is
// defined in its own file; this list is the one place that enumerates them.
#include "backbone.h"

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
