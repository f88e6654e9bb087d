// SPDX-License-Identifier: GPL-3.0-or-later
//
// checkpoint: safetensors files, the engine's one on-disk format for weights, fixtures and
// embeddings. The reader keeps the file open and reads tensors with pread on request (so
// loading needs no memory beyond the destination), validates every header field before any tensor is
// touched (header length, JSON, dtype, shape, offsets inside the data section and
// non-overlapping, byte length = shape × dtype size, unique names) and converts F32, F16,
// BF16 and F64 tensors to float on request. Loading into a PeacParams table maps checkpoint
// names to canonical ones (PEAC/DDP prefixes stripped, the teacher or student branch
// chosen, then an architecture hook), checks shapes, and names missing and unexpected
// tensors. The writer is atomic: temporary file, fsync, rename.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "params.h"

#define PEAC_ST_MAX_DIMS 8
#define PEAC_ST_MAX_HEADER (100u * 1024u * 1024u)

typedef enum {
  PEAC_DT_F32 = 0,
  PEAC_DT_F16,
  PEAC_DT_BF16,
  PEAC_DT_F64,
  PEAC_DT_I64,
  PEAC_DT_I32,
  PEAC_DT_I16,
  PEAC_DT_I8,
  PEAC_DT_U8,
  PEAC_DT_BOOL,
  PEAC_DT_U16,
  PEAC_DT_U32,
  PEAC_DT_U64,
  PEAC_DT_F8_E4M3,
  PEAC_DT_F8_E5M2,
} PeacDtype;

typedef struct {
  char     *name;
  PeacDtype dtype;
  int       ndim;
  int64_t   shape[PEAC_ST_MAX_DIMS];
  size_t    numel;
  size_t    begin, end;   // byte offsets into the data section
} PeacStTensor;

typedef struct {
  char         *path;
  PeacStTensor *tensors;  // in header order
  int           n;
  char        **meta_keys, **meta_vals;
  int           n_meta;
  int           fd;       // open until peac_st_close
  size_t        data_start; // file offset of the data section (8 + header length)
  size_t        data_len;
} PeacSafetensors;

const char *peac_dtype_name (PeacDtype dt);
size_t      peac_dtype_size (PeacDtype dt);

// Opens and validates a file. NULL with a message naming the file (and tensor) in err.
PeacSafetensors    *peac_st_open (const char *path, char *err, size_t errlen);
void                peac_st_close (PeacSafetensors *st);
const char         *peac_st_meta (const PeacSafetensors *st, const char *key);
const PeacStTensor *peac_st_find (const PeacSafetensors *st, const char *name);
// Converts a float-typed tensor (F32/F16/BF16/F64) into dst[numel]. −1 with err otherwise.
int                 peac_st_read_f32 (const PeacSafetensors *st, const PeacStTensor *t,
                                      float *dst, char *err, size_t errlen);

// Maps a name (already stripped of PEAC prefixes) to the canonical parameter name in buf;
// returns buf, or NULL to skip the tensor silently (e.g. recomputed buffers, heads).
typedef const char *(*PeacNameMapFn) (const char *name, void *user, char *buf, size_t n);

typedef struct {
  const char   *branch;          // "teacher" (NULL = default) or "student"
  PeacNameMapFn map;             // NULL = identity
  void         *map_user;
} PeacLoadOptions;

// Strips `module.`, `swin_model.`, `backbone.`, `param.` and the chosen branch prefix
// (`teacher.`/`student.`) wherever they lead, repeatedly. Returns 0 with the result in buf,
// 1 when the name belongs to the other branch (to be ignored), −1 if it does not fit.
int peac_st_strip_name (const char *name, const char *branch, char *buf, size_t n);

// Loads every parameter of p from st. Tensors of other dtypes (I64 buffers…) are skipped.
// A missing parameter or a shape mismatch is an error naming the tensor. Unexpected
// tensors are listed in warn (may be NULL), truncated to warnlen, and counted in
// *n_unexpected (may be NULL). Returns 0 or −1.
int peac_st_load_params (const PeacSafetensors *st, PeacParams *p, const PeacLoadOptions *opt,
                         char *warn, size_t warnlen, int *n_unexpected,
                         char *err, size_t errlen);

// One tensor to write: float data stored as dtype (F32, F16 or BF16, round to nearest even).
typedef struct {
  const char    *name;
  int            ndim;
  const int64_t *shape;
  const float   *data;
  PeacDtype      dtype;
} PeacStWrite;

// Writes tensors and metadata (meta: NULL-terminated key, value, key, value… list, may be
// NULL) atomically to path. Returns 0, or −1 with err naming the file.
int peac_st_write (const char *path, const PeacStWrite *t, int n, const char *const *meta,
                   char *err, size_t errlen);
// Writes a whole parameter table as `dtype` with metadata.
int peac_st_write_params (const char *path, const PeacParams *p, PeacDtype dtype,
                          const char *const *meta, char *err, size_t errlen);

// Half-precision conversions (exposed for tests).
float    peac_f16_to_f32 (uint16_t h);
uint16_t peac_f32_to_f16 (float f);
float    peac_bf16_to_f32 (uint16_t h);
uint16_t peac_f32_to_bf16 (float f);
