// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-safetensors: the checkpoint reader (checkpoint.c) on arbitrary bytes — header
// length, header JSON, tensor table, offsets — then, for a file it accepts, reading every
// float tensor and loading a small fixed parameter table (name stripping, shape checks,
// missing/unexpected lists). An accepted file must describe tensors that lie inside its
// data section and whose byte lengths match their shapes.
#include "fuzz.h"

#include <string.h>

#include "checkpoint.h"

// Bigger float tensors are not read (the input cannot hold them, but an accepted header
// may still promise them if the reader is wrong; that is checked on the table instead).
#define MAX_READ_NUMEL (1u << 20)

static void
load_small_table (const PeacSafetensors *st)
{
  PeacParams p;
  peac_params_init (&p);
  const int64_t s1[1] = { 4 }, s2[2] = { 2, 3 };
  FUZZ_CHECK (peac_params_add (&p, "a", 1, s1) >= 0);
  FUZZ_CHECK (peac_params_add (&p, "blocks.0.w", 2, s2) >= 0);
  FUZZ_CHECK (peac_params_alloc (&p) == 0);
  char warn[256], err[512];
  int n_unexpected = -1;
  const char *branches[] = { NULL, "student" };
  for (int b = 0; b < 2; b++)
    {
      PeacLoadOptions opt = { branches[b], NULL, NULL };
      int rc = peac_st_load_params (st, &p, &opt, warn, sizeof warn, &n_unexpected, err,
                                    sizeof err);
      FUZZ_CHECK (rc == 0 || rc == -1);
      if (rc == 0)
        FUZZ_CHECK (n_unexpected >= 0 && n_unexpected <= st->n);
      else
        FUZZ_CHECK (err[0] != '\0');
    }
  peac_params_free (&p);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char err[512] = "";
  PeacSafetensors *st = peac_st_open (fuzz_file (data, size), err, sizeof err);
  if (!st)
    {
      FUZZ_CHECK (err[0] != '\0');
      return 0;
    }
  FUZZ_CHECK (size >= 8 && st->data_start + st->data_len == size);
  for (int i = 0; i < st->n; i++)
    {
      const PeacStTensor *t = &st->tensors[i];
      FUZZ_CHECK (t->name && t->name[0]);
      FUZZ_CHECK (t->begin <= t->end && t->end <= st->data_len);
      FUZZ_CHECK (t->end - t->begin == t->numel * peac_dtype_size (t->dtype));
      FUZZ_CHECK (t->ndim >= 0 && t->ndim <= PEAC_ST_MAX_DIMS);
      FUZZ_CHECK (peac_st_find (st, t->name) == t);
      char buf[PEAC_NAME_MAX];
      FUZZ_CHECK (peac_st_strip_name (t->name, NULL, buf, sizeof buf) >= -1);
      if (t->numel > MAX_READ_NUMEL)
        continue;
      float *dst = malloc ((t->numel ? t->numel : 1) * sizeof *dst);
      FUZZ_CHECK (dst != NULL);
      int rc = peac_st_read_f32 (st, t, dst, err, sizeof err);
      int is_float = t->dtype == PEAC_DT_F32 || t->dtype == PEAC_DT_F16
                     || t->dtype == PEAC_DT_BF16 || t->dtype == PEAC_DT_F64;
      // Float tensors inside the data section always read; others are always refused.
      FUZZ_CHECK (is_float ? rc == 0 : rc == -1);
      free (dst);
    }
  for (int i = 0; i < st->n_meta; i++)
    FUZZ_CHECK (peac_st_meta (st, st->meta_keys[i]) != NULL);
  load_small_table (st);
  peac_st_close (st);
  return 0;
}
