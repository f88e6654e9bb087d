// SPDX-License-Identifier: GPL-3.0-or-later
//
// checkpoint: the safetensors reader (pread + validation of every header field), float
// conversion of F32/F16/BF16/F64 tensors, name mapping into a PeacParams table, and the
// atomic writer. Layout of a file: u64 little-endian header length n, n bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then
// the data section that the offsets index.
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
  const char *name;
  size_t      size;
} dtypes[] = {
  [PEAC_DT_F32] = { "F32", 4 },         [PEAC_DT_F16] = { "F16", 2 },
  [PEAC_DT_BF16] = { "BF16", 2 },       [PEAC_DT_F64] = { "F64", 8 },
  [PEAC_DT_I64] = { "I64", 8 },         [PEAC_DT_I32] = { "I32", 4 },
  [PEAC_DT_I16] = { "I16", 2 },         [PEAC_DT_I8] = { "I8", 1 },
  [PEAC_DT_U8] = { "U8", 1 },           [PEAC_DT_BOOL] = { "BOOL", 1 },
  [PEAC_DT_U16] = { "U16", 2 },         [PEAC_DT_U32] = { "U32", 4 },
  [PEAC_DT_U64] = { "U64", 8 },         [PEAC_DT_F8_E4M3] = { "F8_E4M3", 1 },
  [PEAC_DT_F8_E5M2] = { "F8_E5M2", 1 },
};
#define N_DTYPES ((int) (sizeof dtypes / sizeof dtypes[0]))

const char *
peac_dtype_name (PeacDtype dt)
{
  return (int) dt >= 0 && (int) dt < N_DTYPES ? dtypes[dt].name : "?";
}

size_t
peac_dtype_size (PeacDtype dt)
{
  return (int) dt >= 0 && (int) dt < N_DTYPES ? dtypes[dt].size : 0;
}

static void
seterr (char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || !errlen)
    return;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err, errlen, fmt, ap);
  va_end (ap);
}

// ---------------------------------------------------------------------------------------
// Half-precision conversion

float
peac_f16_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
  if (exp == 0x1f)
    bits = sign | 0x7f800000u | (man << 13);            // inf / nan
  else if (exp != 0)
    bits = sign | ((exp + 112u) << 23) | (man << 13);   // normal: rebias 15 → 127
  else if (man == 0)
    bits = sign;                                        // ±0
  else
    {
      // subnormal: value = man · 2^−24; normalise.
      int e = -1;
      do
        {
          e++;
          man <<= 1;
        }
      while (!(man & 0x400u));
      bits = sign | ((uint32_t) (112 - e) << 23) | ((man & 0x3ffu) << 13);
    }
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

uint16_t
peac_f32_to_f16 (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // inf / nan
    return (uint16_t) (sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
  if (absx >= 0x477ff000u) // rounds to ≥ 65520 → inf
    return (uint16_t) (sign | 0x7c00u);
  if (absx < 0x38800000u)  // below the smallest normal half (2^−14): subnormal or zero
    {
      if (absx < 0x33000000u) // < 2^−25 rounds to 0
        return (uint16_t) sign;
      uint32_t e = absx >> 23, man = (absx & 0x7fffffu) | 0x800000u;
      uint32_t shift = 126 - e; // half subnormal unit is 2^−24: man · 2^(e−150) / 2^−24
      uint32_t r = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
      if (rem > half || (rem == half && (r & 1)))
        r++;
      return (uint16_t) (sign | r);
    }
  uint32_t r = absx - 0x38000000u; // rebias exponent 127 → 15 (shifted form)
  uint32_t out = r >> 13, rem = r & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (out & 1)))
    out++;
  return (uint16_t) (sign | out);
}

float
peac_bf16_to_f32 (uint16_t h)
{
  uint32_t bits = (uint32_t) h << 16;
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

uint16_t
peac_f32_to_bf16 (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t) ((x >> 16) | 0x40u); // quiet nan
  x += 0x7fffu + ((x >> 16) & 1u);         // round to nearest even
  return (uint16_t) (x >> 16);
}

// ---------------------------------------------------------------------------------------
// Reader

void
peac_st_close (PeacSafetensors *st)
{
  if (!st)
    return;
  for (int i = 0; i < st->n; i++)
    free (st->tensors[i].name);
  for (int i = 0; i < st->n_meta; i++)
    free (st->meta_keys[i]), free (st->meta_vals[i]);
  free (st->tensors);
  free (st->meta_keys);
  free (st->meta_vals);
  if (st->fd >= 0)
    close (st->fd);
  free (st->path);
  free (st);
}

static int
cmp_begin (const void *a, const void *b)
{
  const PeacStTensor *x = *(const PeacStTensor *const *) a, *y = *(const PeacStTensor *const *) b;
  return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

// Validates one header entry into t. Returns 0 or −1 with err naming the tensor.
static int
parse_entry (PeacStTensor *t, const char *path, const char *name, json_t *v, size_t data_len,
             char *err, size_t errlen)
{
  if (!json_is_object (v))
    return seterr (err, errlen, "%s: tensor '%s': header entry is not an object", path, name), -1;
  json_t *dt = json_object_get (v, "dtype"), *shape = json_object_get (v, "shape");
  json_t *offs = json_object_get (v, "data_offsets");
  if (!json_is_string (dt))
    return seterr (err, errlen, "%s: tensor '%s': missing dtype", path, name), -1;
  int k = 0;
  while (k < N_DTYPES && strcmp (dtypes[k].name, json_string_value (dt)) != 0)
    k++;
  if (k == N_DTYPES)
    return seterr (err, errlen, "%s: tensor '%s': unknown dtype '%s'", path, name,
                   json_string_value (dt)), -1;
  t->dtype = (PeacDtype) k;
  if (!json_is_array (shape) || json_array_size (shape) > PEAC_ST_MAX_DIMS)
    return seterr (err, errlen, "%s: tensor '%s': shape is not an array of at most %d "
                   "dimensions", path, name, PEAC_ST_MAX_DIMS), -1;
  t->ndim = (int) json_array_size (shape);
  size_t numel = 1;
  for (int i = 0; i < t->ndim; i++)
    {
      json_t *d = json_array_get (shape, (size_t) i);
      if (!json_is_integer (d) || json_integer_value (d) < 0
          || json_integer_value (d) > (json_int_t) PEAC_ST_MAX_HEADER * 1000000)
        return seterr (err, errlen, "%s: tensor '%s': bad dimension %d in shape", path, name,
                       i), -1;
      t->shape[i] = json_integer_value (d);
      if (t->shape[i] && numel > SIZE_MAX / 16 / (size_t) t->shape[i])
        return seterr (err, errlen, "%s: tensor '%s': shape too large", path, name), -1;
      numel *= (size_t) t->shape[i];
    }
  t->numel = numel;
  if (!json_is_array (offs) || json_array_size (offs) != 2
      || !json_is_integer (json_array_get (offs, 0)) || !json_is_integer (json_array_get (offs, 1)))
    return seterr (err, errlen, "%s: tensor '%s': data_offsets must be [begin, end]", path,
                   name), -1;
  json_int_t b = json_integer_value (json_array_get (offs, 0));
  json_int_t e = json_integer_value (json_array_get (offs, 1));
  if (b < 0 || e < b || (uint64_t) e > data_len)
    return seterr (err, errlen, "%s: tensor '%s': data_offsets [%lld, %lld] outside the "
                   "data section of %zu bytes", path, name, (long long) b, (long long) e,
                   data_len), -1;
  t->begin = (size_t) b;
  t->end = (size_t) e;
  if (t->end - t->begin != numel * dtypes[k].size)
    return seterr (err, errlen, "%s: tensor '%s': %zu bytes for shape of %zu %s values "
                   "(%zu bytes expected)", path, name, t->end - t->begin, numel,
                   dtypes[k].name, numel * dtypes[k].size), -1;
  return 0;
}

PeacSafetensors *
peac_st_open (const char *path, char *err, size_t errlen)
{
  PeacSafetensors *st = calloc (1, sizeof *st);
  json_t *root = NULL;
  char *header = NULL;
  if (!st)
    return seterr (err, errlen, "%s: out of memory", path), NULL;
  st->fd = -1;
  st->path = strdup (path);
  st->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (st->fd < 0)
    {
      seterr (err, errlen, "%s: cannot open: %s", path, strerror (errno));
      goto fail;
    }
  struct stat sb;
  if (fstat (st->fd, &sb) != 0 || !S_ISREG (sb.st_mode))
    {
      seterr (err, errlen, "%s: not a regular file", path);
      goto fail;
    }
  size_t size = (size_t) sb.st_size;
  uint8_t len8[8];
  if (size < 8 || pread (st->fd, len8, 8, 0) != 8)
    {
      seterr (err, errlen, "%s: truncated file (%zu bytes, no header length)", path, size);
      goto fail;
    }
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--)
    hlen = (hlen << 8) | len8[i];
  if (hlen > PEAC_ST_MAX_HEADER)
    {
      seterr (err, errlen, "%s: header length %llu exceeds the %u-byte limit", path,
              (unsigned long long) hlen, PEAC_ST_MAX_HEADER);
      goto fail;
    }
  if (hlen > size - 8)
    {
      seterr (err, errlen, "%s: truncated file: header length %llu but only %zu bytes follow",
              path, (unsigned long long) hlen, size - 8);
      goto fail;
    }
  // Tensors are read with pread when asked for, never mapped: loading a model then needs
  // the parameter memory only, not the file's pages on top (ViT-B stays under 600 MB).
  st->data_start = 8 + (size_t) hlen;
  st->data_len = size - 8 - (size_t) hlen;
  header = malloc ((size_t) hlen + 1);
  if (!header || pread (st->fd, header, (size_t) hlen, 8) != (ssize_t) hlen)
    {
      seterr (err, errlen, "%s: cannot read the header: %s", path, strerror (errno));
      goto fail;
    }
  json_error_t je;
  root = json_loadb (header, (size_t) hlen, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    {
      seterr (err, errlen, "%s: bad header JSON: %s (byte %d)", path, je.text, je.position);
      goto fail;
    }
  if (!json_is_object (root))
    {
      seterr (err, errlen, "%s: header is not a JSON object", path);
      goto fail;
    }
  size_t nk = json_object_size (root);
  st->tensors = calloc (nk ? nk : 1, sizeof *st->tensors);
  const char *key;
  json_t *val;
  json_object_foreach (root, key, val)
    {
      if (strcmp (key, "__metadata__") == 0)
        {
          if (!json_is_object (val))
            {
              seterr (err, errlen, "%s: __metadata__ is not an object", path);
              goto fail;
            }
          size_t nm = json_object_size (val);
          st->meta_keys = calloc (nm ? nm : 1, sizeof (char *));
          st->meta_vals = calloc (nm ? nm : 1, sizeof (char *));
          const char *mk;
          json_t *mv;
          json_object_foreach (val, mk, mv)
            {
              if (!json_is_string (mv))
                {
                  seterr (err, errlen, "%s: metadata '%s' is not a string", path, mk);
                  goto fail;
                }
              st->meta_keys[st->n_meta] = strdup (mk);
              st->meta_vals[st->n_meta++] = strdup (json_string_value (mv));
            }
          continue;
        }
      if (key[0] == '\0')
        {
          seterr (err, errlen, "%s: a tensor has an empty name", path);
          goto fail;
        }
      PeacStTensor *t = &st->tensors[st->n];
      if (parse_entry (t, path, key, val, st->data_len, err, errlen) != 0)
        goto fail;
      t->name = strdup (key);
      st->n++;
    }
  // Non-overlapping: sorted by begin, each starts at or after the previous end.
  PeacStTensor **order = malloc ((size_t) (st->n ? st->n : 1) * sizeof *order);
  for (int i = 0; i < st->n; i++)
    order[i] = &st->tensors[i];
  qsort (order, (size_t) st->n, sizeof *order, cmp_begin);
  for (int i = 1; i < st->n; i++)
    if (order[i]->begin < order[i - 1]->end)
      {
        seterr (err, errlen, "%s: tensors '%s' and '%s' overlap in the data section", path,
                order[i - 1]->name, order[i]->name);
        free (order);
        goto fail;
      }
  free (order);
  json_decref (root);
  free (header);
  return st;
fail:
  json_decref (root);
  free (header);
  peac_st_close (st);
  return NULL;
}

const char *
peac_st_meta (const PeacSafetensors *st, const char *key)
{
  for (int i = 0; i < st->n_meta; i++)
    if (strcmp (st->meta_keys[i], key) == 0)
      return st->meta_vals[i];
  return NULL;
}

const PeacStTensor *
peac_st_find (const PeacSafetensors *st, const char *name)
{
  for (int i = 0; i < st->n; i++)
    if (strcmp (st->tensors[i].name, name) == 0)
      return &st->tensors[i];
  return NULL;
}

static int
read_at (const PeacSafetensors *st, void *dst, size_t n, size_t off)
{
  uint8_t *p = dst;
  while (n)
    {
      ssize_t r = pread (st->fd, p, n, (off_t) (st->data_start + off));
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return -1;
      p += r, off += (size_t) r, n -= (size_t) r;
    }
  return 0;
}

int
peac_st_read_f32 (const PeacSafetensors *st, const PeacStTensor *t, float *dst,
                  char *err, size_t errlen)
{
  const size_t es = peac_dtype_size (t->dtype);
  errno = 0;
  if (t->dtype != PEAC_DT_F32 && t->dtype != PEAC_DT_F16 && t->dtype != PEAC_DT_BF16
      && t->dtype != PEAC_DT_F64)
    {
      seterr (err, errlen, "%s: tensor '%s' has dtype %s, not a float type", st->path,
              t->name, peac_dtype_name (t->dtype));
      return -1;
    }
  if (t->dtype == PEAC_DT_F32) // straight into place
    {
      if (read_at (st, dst, t->numel * 4, t->begin) != 0)
        goto io;
      return 0;
    }
  // Other float types through a bounded buffer, converted chunk by chunk.
  enum { CHUNK = 1 << 16 };
  uint8_t *buf = malloc (CHUNK * 8);
  if (!buf)
    goto io;
  for (size_t i0 = 0; i0 < t->numel; i0 += CHUNK)
    {
      size_t n = t->numel - i0 < CHUNK ? t->numel - i0 : CHUNK;
      if (read_at (st, buf, n * es, t->begin + i0 * es) != 0)
        {
          free (buf);
          goto io;
        }
      for (size_t i = 0; i < n; i++)
        {
          const uint8_t *src = buf + i * es;
          if (t->dtype == PEAC_DT_F64)
            {
              double d;
              memcpy (&d, src, 8);
              dst[i0 + i] = (float) d;
            }
          else
            {
              uint16_t h = (uint16_t) (src[0] | (src[1] << 8));
              dst[i0 + i] = t->dtype == PEAC_DT_F16 ? peac_f16_to_f32 (h) : peac_bf16_to_f32 (h);
            }
        }
    }
  free (buf);
  return 0;
io:
  seterr (err, errlen, "%s: cannot read tensor '%s': %s", st->path, t->name,
          errno ? strerror (errno) : "short read");
  return -1;
}

// ---------------------------------------------------------------------------------------
// Names and loading

int
peac_st_strip_name (const char *name, const char *branch, char *buf, size_t n)
{
  static const char *const strip[] = { "module.", "swin_model.", "backbone.", "param." };
  if (!branch)
    branch = "teacher";
  const char *other = strcmp (branch, "teacher") == 0 ? "student" : "teacher";
  size_t bl = strlen (branch), ol = strlen (other);
  const char *s = name;
  for (int changed = 1; changed;)
    {
      changed = 0;
      for (size_t i = 0; i < sizeof strip / sizeof strip[0]; i++)
        {
          size_t l = strlen (strip[i]);
          if (strncmp (s, strip[i], l) == 0)
            s += l, changed = 1;
        }
      if (strncmp (s, branch, bl) == 0 && s[bl] == '.')
        s += bl + 1, changed = 1;
      else if (strncmp (s, other, ol) == 0 && s[ol] == '.')
        return 1;
    }
  if (strlen (s) >= n)
    return -1;
  strcpy (buf, s);
  return 0;
}

static int
is_float_dtype (PeacDtype d)
{
  return d == PEAC_DT_F32 || d == PEAC_DT_F16 || d == PEAC_DT_BF16 || d == PEAC_DT_F64;
}

static void
append (char *warn, size_t warnlen, const char *s)
{
  if (!warn || !warnlen)
    return;
  size_t l = strlen (warn);
  if (l + 1 < warnlen)
    snprintf (warn + l, warnlen - l, "%s%s", l ? ", " : "", s);
}

int
peac_st_load_params (const PeacSafetensors *st, PeacParams *p, const PeacLoadOptions *opt,
                     char *warn, size_t warnlen, int *n_unexpected, char *err, size_t errlen)
{
  PeacLoadOptions none = { 0 };
  if (!opt)
    opt = &none;
  if (warn && warnlen)
    warn[0] = '\0';
  int unexpected = 0;
  unsigned char *seen = calloc ((size_t) p->n + 1, 1);
  char stripped[512], mapped[512];
  for (int i = 0; i < st->n; i++)
    {
      const PeacStTensor *t = &st->tensors[i];
      int s = peac_st_strip_name (t->name, opt->branch, stripped, sizeof stripped);
      if (s == 1)
        continue; // the other branch
      if (s < 0 || !is_float_dtype (t->dtype))
        continue; // I64 buffers (relative_position_index…), bool masks
      const char *name = stripped;
      if (opt->map)
        {
          name = opt->map (stripped, opt->map_user, mapped, sizeof mapped);
          if (!name)
            continue;
        }
      PeacParam *e = peac_params_find (p, name);
      if (!e)
        {
          unexpected++;
          append (warn, warnlen, t->name);
          continue;
        }
      int same = e->ndim == t->ndim;
      for (int d = 0; same && d < e->ndim; d++)
        same = e->shape[d] == t->shape[d];
      if (!same)
        {
          char a[96] = "", b[96] = "";
          for (int d = 0; d < e->ndim; d++)
            snprintf (a + strlen (a), sizeof a - strlen (a), "%s%lld", d ? "," : "",
                      (long long) e->shape[d]);
          for (int d = 0; d < t->ndim; d++)
            snprintf (b + strlen (b), sizeof b - strlen (b), "%s%lld", d ? "," : "",
                      (long long) t->shape[d]);
          seterr (err, errlen, "%s: tensor '%s' has shape [%s], the model expects [%s] for '%s'",
                  st->path, t->name, b, a, e->name);
          free (seen);
          return -1;
        }
      int idx = (int) (e - p->list);
      if (seen[idx])
        {
          seterr (err, errlen, "%s: tensor '%s' maps onto '%s', which was already loaded",
                  st->path, t->name, e->name);
          free (seen);
          return -1;
        }
      if (peac_st_read_f32 (st, t, e->data, err, errlen) != 0)
        {
          free (seen);
          return -1;
        }
      seen[idx] = 1;
    }
  int missing = 0;
  char list[512] = "";
  for (int i = 0; i < p->n; i++)
    if (!seen[i])
      {
        if (missing < 6)
          append (list, sizeof list, p->list[i].name);
        missing++;
      }
  free (seen);
  if (n_unexpected)
    *n_unexpected = unexpected;
  if (missing)
    {
      seterr (err, errlen, "%s: %d parameter%s missing: %s%s", st->path, missing,
              missing > 1 ? "s" : "", list, missing > 6 ? ", …" : "");
      return -1;
    }
  return 0;
}

// ---------------------------------------------------------------------------------------
// Writer

static int
write_all (int fd, const void *buf, size_t n)
{
  const uint8_t *p = buf;
  while (n)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      p += w;
      n -= (size_t) w;
    }
  return 0;
}

// Temporaries live beside the target (rename stays on one file system) and are named
// PATH.tmp-PID-N: unique per process and call, and the PID tells a later writer whether
// the one that left it behind (killed mid-write) is gone.
static char *
open_temp (const char *path, int *fd)
{
  static _Atomic unsigned counter;
  size_t n = strlen (path) + 48;
  char *tmp = malloc (n);
  if (!tmp)
    return errno = ENOMEM, NULL;
  for (int tries = 0; tries < 100; tries++)
    {
      snprintf (tmp, n, "%s.tmp-%ld-%u", path, (long) getpid (), counter++);
      *fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666); // umask applies
      if (*fd >= 0)
        return tmp;
      if (errno != EEXIST)
        break;
    }
  int e = errno;
  free (tmp);
  errno = e;
  return NULL;
}

// Makes the rename itself durable. Best effort: some file systems refuse fsync on a
// directory, and the new file is already complete under its name either way.
static void
sync_parent (const char *path)
{
  const char *slash = strrchr (path, '/');
  char *dir = slash ? strndup (path, (size_t) (slash - path) + (slash == path)) : strdup (".");
  if (!dir)
    return;
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    fsync (fd), close (fd);
  free (dir);
}

// Removes PATH.tmp-PID-N files whose writer process no longer exists (a kill -9 during a
// save leaves one behind; with a large model each is as big as the checkpoint).
static void
sweep_stale_temps (const char *path)
{
  const char *slash = strrchr (path, '/');
  const char *base = slash ? slash + 1 : path;
  char *dir = slash ? strndup (path, (size_t) (slash - path) + (slash == path)) : strdup (".");
  DIR *d = dir ? opendir (dir) : NULL;
  size_t bl = strlen (base);
  struct dirent *e;
  while (d && (e = readdir (d)))
    {
      if (strncmp (e->d_name, base, bl) != 0 || strncmp (e->d_name + bl, ".tmp-", 5) != 0)
        continue;
      char *end;
      long pid = strtol (e->d_name + bl + 5, &end, 10);
      if (end == e->d_name + bl + 5 || *end != '-' || pid <= 0 || pid == (long) getpid ()
          || kill ((pid_t) pid, 0) == 0 || errno != ESRCH)
        continue;
      size_t ln = strlen (dir) + strlen (e->d_name) + 2;
      char *full = malloc (ln);
      if (full)
        snprintf (full, ln, "%s/%s", dir, e->d_name), unlink (full), free (full);
    }
  if (d)
    closedir (d);
  free (dir);
}

int
peac_st_write (const char *path, const PeacStWrite *t, int n, const char *const *meta,
               char *err, size_t errlen)
{
  json_t *root = json_object ();
  if (meta && meta[0])
    {
      json_t *m = json_object ();
      for (int i = 0; meta[i] && meta[i + 1]; i += 2)
        json_object_set_new (m, meta[i], json_string (meta[i + 1]));
      json_object_set_new (root, "__metadata__", m);
    }
  size_t off = 0;
  for (int i = 0; i < n; i++)
    {
      if (t[i].dtype != PEAC_DT_F32 && t[i].dtype != PEAC_DT_F16 && t[i].dtype != PEAC_DT_BF16)
        {
          json_decref (root);
          return seterr (err, errlen, "%s: tensor '%s': can only write F32, F16 or BF16",
                         path, t[i].name), -1;
        }
      if (json_object_get (root, t[i].name))
        {
          json_decref (root);
          return seterr (err, errlen, "%s: tensor '%s' given twice", path, t[i].name), -1;
        }
      size_t numel = 1;
      json_t *shape = json_array ();
      for (int d = 0; d < t[i].ndim; d++)
        {
          numel *= (size_t) t[i].shape[d];
          json_array_append_new (shape, json_integer (t[i].shape[d]));
        }
      size_t bytes = numel * peac_dtype_size (t[i].dtype);
      json_t *e = json_object ();
      json_object_set_new (e, "dtype", json_string (peac_dtype_name (t[i].dtype)));
      json_object_set_new (e, "shape", shape);
      json_t *o = json_array ();
      json_array_append_new (o, json_integer ((json_int_t) off));
      json_array_append_new (o, json_integer ((json_int_t) (off + bytes)));
      json_object_set_new (e, "data_offsets", o);
      json_object_set_new (root, t[i].name, e);
      off += bytes;
    }
  char *header = json_dumps (root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref (root);
  if (!header)
    return seterr (err, errlen, "%s: cannot encode the header", path), -1;
  size_t hl = strlen (header), padded = (hl + 7) & ~(size_t) 7; // 8-byte aligned data
  int fd = -1;
  char *tmp = open_temp (path, &fd);
  if (!tmp)
    {
      seterr (err, errlen, "%s: cannot create a temporary file beside it: %s (the previous "
              "file, if any, is unchanged)", path, strerror (errno));
      free (header);
      return -1;
    }
  uint8_t len8[8];
  for (int i = 0; i < 8; i++)
    len8[i] = (uint8_t) ((uint64_t) padded >> (8 * i));
  int bad = write_all (fd, len8, 8) || write_all (fd, header, hl)
            || write_all (fd, "        ", padded - hl);
  free (header);
  uint16_t *buf = NULL;
  size_t bufn = 0;
  for (int i = 0; i < n && !bad; i++)
    {
      size_t numel = 1;
      for (int d = 0; d < t[i].ndim; d++)
        numel *= (size_t) t[i].shape[d];
      if (t[i].dtype == PEAC_DT_F32)
        {
          bad = write_all (fd, t[i].data, numel * 4);
          continue;
        }
      if (numel > bufn)
        {
          free (buf);
          buf = malloc (numel * 2);
          bufn = buf ? numel : 0;
          if (!buf)
            {
              bad = 1, errno = ENOMEM;
              break;
            }
        }
      for (size_t k = 0; k < numel; k++)
        buf[k] = t[i].dtype == PEAC_DT_F16 ? peac_f32_to_f16 (t[i].data[k])
                                           : peac_f32_to_bf16 (t[i].data[k]);
      bad = write_all (fd, buf, numel * 2);
    }
  free (buf);
  // Data on disk before the name points at it: after a crash, PATH is the old file or the
  // complete new one, never a prefix.
  if (!bad)
    bad = fsync (fd) != 0;
  int saved = errno;
  if (close (fd) != 0 && !bad)
    bad = 1, saved = errno;
  if (!bad && rename (tmp, path) != 0)
    bad = 1, saved = errno;
  if (bad)
    {
      unlink (tmp);
      seterr (err, errlen, "%s: cannot write: %s (the previous file, if any, is unchanged)",
              path, strerror (saved));
      free (tmp);
      return -1;
    }
  free (tmp);
  sync_parent (path);
  sweep_stale_temps (path);
  return 0;
}

int
peac_st_write_params (const char *path, const PeacParams *p, PeacDtype dtype,
                      const char *const *meta, char *err, size_t errlen)
{
  PeacStWrite *t = calloc ((size_t) (p->n ? p->n : 1), sizeof *t);
  for (int i = 0; i < p->n; i++)
    t[i] = (PeacStWrite) { p->list[i].name, p->list[i].ndim, p->list[i].shape,
                           p->list[i].data, dtype };
  int r = peac_st_write (path, t, p->n, meta, err, errlen);
  free (t);
  return r;
}
