// SPDX-License-Identifier: GPL-3.0-or-later
//
// blas-kernel: CPUID probing, the kernel decision table and the re-exec that makes
// OpenBLAS start again with OPENBLAS_CORETYPE set (see blas-kernel.h for the rules).
#include "blas-kernel.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

void
peac_cpu_flags (PeacCpuFlags *f)
{
  memset (f, 0, sizeof *f);
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  // libgcc's probe checks XCR0, so a feature the OS does not save is reported absent.
  __builtin_cpu_init ();
  f->avx2 = __builtin_cpu_supports ("avx2") != 0;
  f->fma = __builtin_cpu_supports ("fma") != 0;
  f->avx512f = __builtin_cpu_supports ("avx512f") != 0;
  f->avx512bw = __builtin_cpu_supports ("avx512bw") != 0;
  f->avx512dq = __builtin_cpu_supports ("avx512dq") != 0;
  f->avx512vl = __builtin_cpu_supports ("avx512vl") != 0;
  // AVX512_BF16: CPUID leaf 7 sub-leaf 1, EAX bit 5.
  unsigned a, b, c, d;
  if (f->avx512f && __get_cpuid_max (0, NULL) >= 7 && __get_cpuid_count (7, 1, &a, &b, &c, &d))
    f->avx512bf16 = (a >> 5) & 1;
#endif
}

const char *
peac_blas_best_kernel (const PeacCpuFlags *cpu)
{
  int avx512 = cpu->avx512f && cpu->avx512bw && cpu->avx512dq && cpu->avx512vl;
  if (avx512 && cpu->avx512bf16)
    return "Cooperlake";
  if (avx512)
    return "SkylakeX";
  if (cpu->avx2 && cpu->fma)
    return "Haswell";
  return NULL;
}

// What each kernel OpenBLAS names (openblas_get_corename / OPENBLAS_CORETYPE) needs:
// 0 = baseline x86-64 (SSE2…SSE4, AVX without FMA), 2 = AVX2 + FMA, 3 = AVX-512.
// The level also ranks how fast the kernel's sgemm is on a CPU that offers it.
typedef struct {
  const char *name;
  int         level;
} KernelLevel;

static const KernelLevel kernels[] = {
  { "Katmai", 0 },     { "Coppermine", 0 }, { "Northwood", 0 },  { "Prescott", 0 },
  { "Banias", 0 },     { "Atom", 0 },       { "Core2", 0 },      { "Penryn", 0 },
  { "Dunnington", 0 }, { "Nehalem", 0 },    { "Sandybridge", 0 }, { "Athlon", 0 },
  { "Opteron", 0 },    { "Opteron_SSE3", 0 }, { "Barcelona", 0 }, { "Bobcat", 0 },
  { "Bulldozer", 0 },  { "Piledriver", 0 }, { "Steamroller", 0 }, { "Excavator", 0 },
  { "Haswell", 2 },    { "Zen", 2 },        { "SkylakeX", 3 },   { "Cooperlake", 3 },
  { "SapphireRapids", 3 },
};

// −1 for a name this table does not know (then the decision leaves it alone).
static int
kernel_level (const char *name)
{
  for (size_t i = 0; name && i < sizeof kernels / sizeof kernels[0]; i++)
    if (strcasecmp (name, kernels[i].name) == 0)
      return kernels[i].level;
  return -1;
}

static int
cpu_level (const PeacCpuFlags *cpu)
{
  const char *best = peac_blas_best_kernel (cpu);
  return best ? kernel_level (best) : 0;
}

static int
is_set (const char *v)
{
  return v && *v;
}

const char *
peac_blas_choose_kernel (const char *corename, const PeacCpuFlags *cpu,
                         const char *env_coretype, const char *env_kernel,
                         const char *env_no_fix, const char *env_guard)
{
  // Already re-exec'ed, or someone chose: never override.
  if (is_set (env_guard) || is_set (env_coretype))
    return NULL;
  if (is_set (env_no_fix) && strcmp (env_no_fix, "0") != 0)
    return NULL;
  if (is_set (env_kernel) && strcasecmp (env_kernel, "keep") == 0)
    return NULL;
  if (is_set (env_kernel) && strcasecmp (env_kernel, "auto") != 0)
    {
      // An explicit kernel: honoured when known and the CPU has its instructions.
      int want = kernel_level (env_kernel);
      if (want < 0 || want > cpu_level (cpu) || (corename && strcasecmp (env_kernel, corename) == 0))
        return NULL;
      for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        if (strcasecmp (env_kernel, kernels[i].name) == 0)
          return kernels[i].name;
      return NULL;
    }
  // auto: replace a known kernel that sits below what CPUID offers.
  const char *best = peac_blas_best_kernel (cpu);
  int have = kernel_level (corename);
  if (!best || have < 0 || have >= kernel_level (best))
    return NULL;
  return best;
}

const char *
peac_blas_kernel (void)
{
  return openblas_get_corename ();
}

void
peac_blas_select_kernel (char **argv, int verbose)
{
  const char *v = getenv ("PEAC_VERBOSE");
  verbose = verbose || (is_set (v) && strcmp (v, "0") != 0);
  const char *core = openblas_get_corename ();
  const char *guard = getenv ("PEAC_BLAS_REEXEC");
  PeacCpuFlags cpu;
  peac_cpu_flags (&cpu);
  const char *k = peac_blas_choose_kernel (core, &cpu, getenv ("OPENBLAS_CORETYPE"),
                                           getenv ("PEAC_BLAS_KERNEL"),
                                           getenv ("PEAC_NO_KERNEL_FIX"), guard);
  if (!k)
    {
      if (verbose)
        fprintf (stderr, "peac: OpenBLAS kernel %s%s\n", core,
                 is_set (guard) ? " (environment set by peac at start-up; "
                                  "PEAC_BLAS_KERNEL=keep opts out)" : "");
      return;
    }
  if (verbose)
    fprintf (stderr, "peac: OpenBLAS chose its %s kernel; restarting with "
             "OPENBLAS_CORETYPE=%s\n", core, k);
  fflush (NULL);
  if (setenv ("OPENBLAS_CORETYPE", k, 1) == 0 && setenv ("PEAC_BLAS_REEXEC", "1", 1) == 0)
    execv ("/proc/self/exe", argv);
  // exec failed (no /proc?): carry on as we are.
  unsetenv ("OPENBLAS_CORETYPE");
  unsetenv ("PEAC_BLAS_REEXEC");
  if (verbose)
    fprintf (stderr, "peac: could not restart (%s); keeping OpenBLAS kernel %s\n",
             argv && argv[0] ? argv[0] : "?", core);
}
