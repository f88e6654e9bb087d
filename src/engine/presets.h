// SPDX-License-Identifier: GPL-3.0-or-later
//
// presets: the one registry of named model configurations that `peac train --preset`, its
// --help, the app's training page and the benchmarks offer — each a backbone row name
// and its `peac.config` keys, defined once here. A preset resolves, with a caller's
// configuration keys merged over its own, into a checked model description
// (PeacModelSpec, backbone.h).
#pragma once

#include <stddef.h>

#include "backbone.h"

typedef struct {
  const char *name;     // what --preset takes: "micro", "tiny", "swin-tiny", …
  const char *arch;     // the backbone row: "vit", "swin"
  const char *config;   // its `peac.config` keys (JSON object)
  const char *summary;  // one line for help texts and the app ("ViT-Ti/16, 224 px")
} PeacPreset;

// The preset a run gets when none is named.
#define PEAC_PRESET_DEFAULT "tiny"

// The presets in the order lists show them, NULL-terminated.
const PeacPreset *const *peac_presets (void);
// The preset called name, or NULL.
const PeacPreset *peac_preset_find (const char *name);
// The names, comma-separated ("micro, mini, tiny, …"), for messages: into buf (cut to n).
void peac_preset_names (char *buf, size_t n);
// The model of preset `name` (NULL: the default) with the keys of config_json (an object,
// may be NULL) merged over the preset's. Returns 0, or −1 with err naming the preset or the
// configuration's fault.
int peac_preset_resolve (PeacModelSpec *s, const char *name, const char *config_json,
                         char *err, size_t errlen);
