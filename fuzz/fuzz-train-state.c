// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-train-state: the training-state parser of `peac train --resume` (the `peac.train`
// metadata of a checkpoint, train.c) on arbitrary text. An accepted state has its
// integers in range, and writing it out and parsing that again gives the same text: the
// state a resumed run saves is the state it read.
#include "fuzz.h"

#include <string.h>

#include "train.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_strdup (data, size);
  PeacTrainConfig c;
  memset (&c, 0, sizeof c);
  long step = -1;
  PeacRng rng;
  if (peac_train_state_parse (&c, &step, &rng, text) == 0)
    {
      const PeacObjConfig *o = &c.obj;
      FUZZ_CHECK (step >= 0 && c.batch >= 0 && o->proj_hidden >= 0 && o->proj_out >= 0);
      FUZZ_CHECK (o->local_hidden >= 0 && o->local_out >= 0 && o->max_shift >= 0);
      FUZZ_CHECK (c.opt.warmup_steps >= 0 && c.opt.total_steps >= 0 && o->total_steps >= 0);
      char *once = peac_train_state_json (&c, step, &rng);
      FUZZ_CHECK (once != NULL);
      PeacTrainConfig c2;
      memset (&c2, 0, sizeof c2);
      long step2 = -1;
      PeacRng rng2;
      FUZZ_CHECK (peac_train_state_parse (&c2, &step2, &rng2, once) == 0);
      char *twice = peac_train_state_json (&c2, step2, &rng2);
      FUZZ_CHECK (twice != NULL && strcmp (once, twice) == 0);
      FUZZ_CHECK (step2 == step && memcmp (&rng, &rng2, sizeof rng) == 0);
      free (once), free (twice);
    }
  free (text);
  return 0;
}
