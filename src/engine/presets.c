// SPDX-License-Identifier: GPL-3.0-or-later
//
// presets: the registry of named model configurations (see presets.h). micro and
// swin-micro are for tests (seconds per step on one core); mini is the app's untrained
// stand-in (a 14 × 14 grid at 224 px, quick to train); tiny, small and base are the
// ViT-Ti/S/B with 16-px patches at 224 px; swin-tiny is Swin-T at 224 and swin-base the
// PEAC paper's Swin-B at 448 (embed 128, depths 2-2-18-2, heads 4-8-16-32, window 7).
#include "presets.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const PeacPreset micro = {
  "micro", "vit",
  "{\"img_size\":32,\"patch_size\":8,\"embed_dim\":32,\"depth\":2,\"num_heads\":2}",
  "ViT, 32 px, 8-px patches, width 32, 2 blocks (for tests)" };
static const PeacPreset mini = {
  "mini", "vit",
  "{\"img_size\":224,\"patch_size\":16,\"embed_dim\":64,\"depth\":2,\"num_heads\":2}",
  "ViT, 224 px, 16-px patches, width 64, 2 blocks (the app's default)" };
static const PeacPreset tiny = {
  "tiny", "vit",
  "{\"img_size\":224,\"patch_size\":16,\"embed_dim\":192,\"depth\":12,\"num_heads\":3}",
  "ViT-Ti/16, 224 px, width 192, 12 blocks" };
static const PeacPreset small = {
  "small", "vit",
  "{\"img_size\":224,\"patch_size\":16,\"embed_dim\":384,\"depth\":12,\"num_heads\":6}",
  "ViT-S/16, 224 px, width 384, 12 blocks" };
static const PeacPreset base = {
  "base", "vit",
  "{\"img_size\":224,\"patch_size\":16,\"embed_dim\":768,\"depth\":12,\"num_heads\":12}",
  "ViT-B/16, 224 px, width 768, 12 blocks" };
static const PeacPreset swin_micro = {
  "swin-micro", "swin",
  "{\"img_size\":32,\"patch_size\":4,\"embed_dim\":16,\"depths\":[2,2],\"num_heads\":[1,2],"
  "\"window_size\":4}",
  "Swin, 32 px, 4-px patches, width 16, 2 stages, window 4 (for tests)" };
static const PeacPreset swin_tiny = {
  "swin-tiny", "swin",
  "{\"img_size\":224,\"patch_size\":4,\"embed_dim\":96,\"depths\":[2,2,6,2],"
  "\"num_heads\":[3,6,12,24],\"window_size\":7}",
  "Swin-T, 224 px, width 96, depths 2-2-6-2, window 7" };
static const PeacPreset swin_base = {
  "swin-base", "swin",
  "{\"img_size\":448,\"patch_size\":4,\"embed_dim\":128,\"depths\":[2,2,18,2],"
  "\"num_heads\":[4,8,16,32],\"window_size\":7}",
  "Swin-B, 448 px, width 128, depths 2-2-18-2, window 7 (the PEAC paper's)" };

static const PeacPreset *const rows[] = { &micro, &mini, &tiny, &small, &base, &swin_micro,
                                          &swin_tiny, &swin_base, NULL };

const PeacPreset *const *
peac_presets (void)
{
  return rows;
}

const PeacPreset *
peac_preset_find (const char *name)
{
  for (int i = 0; name && rows[i]; i++)
    if (strcmp (rows[i]->name, name) == 0)
      return rows[i];
  return NULL;
}

void
peac_preset_names (char *buf, size_t n)
{
  if (n > 0)
    buf[0] = '\0';
  for (int i = 0; rows[i] && n > 0; i++)
    snprintf (buf + strlen (buf), n - strlen (buf), "%s%s", i ? ", " : "", rows[i]->name);
}

int
peac_preset_resolve (PeacModelSpec *s, const char *name, const char *config_json, char *err,
                     size_t errlen)
{
  const PeacPreset *p = peac_preset_find (name ? name : PEAC_PRESET_DEFAULT);
  if (!p)
    {
      char names[256];
      peac_preset_names (names, sizeof names);
      snprintf (err, errlen, "'%s' is not a preset (%s)", name, names);
      return -1;
    }
  json_t *j = json_loads (p->config, 0, NULL);
  if (config_json)
    {
      json_error_t je;
      json_t *o = json_loads (config_json, 0, &je);
      if (!json_is_object (o))
        {
          snprintf (err, errlen, "the configuration is not a JSON object%s%s", o ? "" : ": ",
                    o ? "" : je.text);
          json_decref (o), json_decref (j);
          return -1;
        }
      json_object_update (j, o);
      json_decref (o);
    }
  char *text = json_dumps (j, JSON_COMPACT);
  json_decref (j);
  const int rc = text ? peac_model_spec_parse (s, p->arch, text, err, errlen) : -1;
  if (!text)
    snprintf (err, errlen, "out of memory");
  free (text);
  return rc;
}
