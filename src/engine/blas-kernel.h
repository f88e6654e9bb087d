// SPDX-License-Identifier: GPL-3.0-or-later
//
// blas-kernel: picks the OpenBLAS kernel this CPU deserves. Debian's OpenBLAS 0.3.21 does
// not recognise some newer CPUs (AVX-512 Xeons among them) and silently falls back to a
// generic kernel (Prescott, Core2, Nehalem…) that runs sgemm 3–5× slower. OpenBLAS reads
// OPENBLAS_CORETYPE once, in a library constructor, so the only way to change the kernel is
// to re-exec the process with the variable set. The decision is a pure function (tested on
// a table of cases); peac_blas_select_kernel applies it.
//
// Environment: OPENBLAS_CORETYPE set by anyone is always respected.
//   PEAC_BLAS_KERNEL=auto (default) fix a generic kernel from CPUID; =keep never change;
//   =<name> (e.g. Haswell) use that kernel unless CPUID says the CPU lacks its instructions.
//   PEAC_NO_KERNEL_FIX=1 is the same as keep. PEAC_BLAS_REEXEC marks the re-exec'ed process.
//   PEAC_VERBOSE=1 (or verbose = 1) reports the decision once on stderr.
#pragma once

typedef struct {
  int avx2, fma;
  int avx512f, avx512bw, avx512dq, avx512vl, avx512bf16;
} PeacCpuFlags;

// The features of the running CPU (all zero off x86-64), OS support for the vector state
// included.
void        peac_cpu_flags (PeacCpuFlags *f);
// The kernel CPUID supports best: "Cooperlake" (AVX-512 F/BW/DQ/VL + BF16), "SkylakeX"
// (AVX-512 F/BW/DQ/VL), "Haswell" (AVX2 + FMA), or NULL.
const char *peac_blas_best_kernel (const PeacCpuFlags *cpu);
// Pure decision: the OPENBLAS_CORETYPE value to re-exec with, or NULL to keep `corename`.
// The env arguments are the values of OPENBLAS_CORETYPE, PEAC_BLAS_KERNEL,
// PEAC_NO_KERNEL_FIX and PEAC_BLAS_REEXEC (NULL when unset).
const char *peac_blas_choose_kernel (const char *corename, const PeacCpuFlags *cpu,
                                     const char *env_coretype, const char *env_kernel,
                                     const char *env_no_fix, const char *env_guard);
// Applies the decision to this process: when a better kernel is chosen, sets
// OPENBLAS_CORETYPE and the guard and re-execs /proc/self/exe with argv, once (does not
// return unless exec fails, in which case it carries on as it is). When the kernel is
// right already (the usual case) nothing happens and there is no re-exec. Call it first
// thing in main, before any thread starts. verbose (or PEAC_VERBOSE=1) reports on stderr.
// PEAC_BLAS_KERNEL=keep or PEAC_NO_KERNEL_FIX=1 turn it off.
void        peac_blas_select_kernel (char **argv, int verbose);
// The kernel OpenBLAS runs with (openblas_get_corename).
const char *peac_blas_kernel (void);
