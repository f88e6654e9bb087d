// SPDX-License-Identifier: GPL-3.0-or-later
//
// swin: placeholder that refuses until the Swin forward lands (see swin.h).
#include "swin.h"

#include <stdio.h>

int
swin_config_parse (SwinConfig *cfg, const char *json, char *err, size_t errlen)
{
  snprintf (err, errlen, "Swin is not built yet");
  return -1;
}

SwinModel *
swin_create (const SwinConfig *cfg, char *err, size_t errlen)
{
  snprintf (err, errlen, "Swin is not built yet");
  return NULL;
}

void swin_free (SwinModel *m) {}
PeacParams *swin_params (SwinModel *m) { return NULL; }
const SwinConfig *swin_config (const SwinModel *m) { return NULL; }

const char *
swin_canonical_name (const char *name, const char *layout, char *buf, size_t n)
{
  return NULL;
}

void
swin_output_shape (const SwinModel *m, int H, int W, int *grid_h, int *grid_w, int *dim)
{
  *grid_h = *grid_w = *dim = 0;
}

int
swin_forward (SwinModel *m, const float *input, int B, int H, int W, float *features,
              float *pooled, PeacActFn act, void *user, char *err, size_t errlen)
{
  snprintf (err, errlen, "Swin is not built yet");
  return -1;
}
