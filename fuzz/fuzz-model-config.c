// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-model-config: the model configuration parsers (vit.c, swin.c) that read the
// 'peac.config' metadata string of a model file, on arbitrary text. An accepted
// configuration must describe a buildable architecture (positive sizes, widths divisible
// by heads); nothing is allocated from it here.
#include "fuzz.h"

#include <string.h>

#include "swin.h"
#include "vit.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_strdup (data, size);
  char err[512] = "";
  VitConfig v;
  memset (&v, 0, sizeof v);
  if (vit_config_parse (&v, text, err, sizeof err) == 0)
    {
      FUZZ_CHECK (v.img_size > 0 && v.patch_size > 0 && v.img_size % v.patch_size == 0);
      FUZZ_CHECK (v.embed_dim > 0 && v.num_heads > 0 && v.embed_dim % v.num_heads == 0);
      FUZZ_CHECK (v.depth > 0 && v.mlp_hidden > 0 && v.in_chans > 0);
    }
  else
    FUZZ_CHECK (err[0] != '\0');
  SwinConfig s;
  err[0] = '\0';
  if (swin_config_parse (&s, text, err, sizeof err) == 0)
    {
      FUZZ_CHECK (s.num_stages >= 1 && s.num_stages <= SWIN_MAX_STAGES);
      FUZZ_CHECK (s.img_size > 0 && s.patch_size > 0 && s.embed_dim > 0 && s.window_size > 0);
      for (int i = 0; i < s.num_stages; i++)
        FUZZ_CHECK (s.depths[i] > 0 && s.num_heads[i] > 0);
    }
  else
    FUZZ_CHECK (err[0] != '\0');
  free (text);
  return 0;
}
