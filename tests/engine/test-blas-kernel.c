// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-blas-kernel: the OpenBLAS kernel decision on a table of CPUs and environments, and
// end to end: this program re-runs itself as a child that calls peac_blas_select_kernel
// with OPENBLAS_CORETYPE unset, and the re-exec'ed child must report the chosen kernel from
// openblas_get_corename (Prescott, which every x86-64 CPU runs, so the test is safe
// anywhere); a child whose kernel is already right must not restart at all.
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "blas-kernel.h"

typedef struct {
  const char  *core;
  PeacCpuFlags cpu;
  const char  *coretype, *kernel, *no_fix, *guard;
  const char  *want;    // NULL = keep
} Case;

#define AVX2 { 1, 1, 0, 0, 0, 0, 0 }
#define AVX512 { 1, 1, 1, 1, 1, 1, 0 }
#define AVX512BF16 { 1, 1, 1, 1, 1, 1, 1 }
#define SSE { 0, 0, 0, 0, 0, 0, 0 }

static const Case cases[] = {
  // auto: a generic kernel below what CPUID offers is replaced.
  { "Prescott", AVX512, NULL, NULL, NULL, NULL, "SkylakeX" },
  { "Prescott", AVX512BF16, NULL, NULL, NULL, NULL, "Cooperlake" },
  { "Core2", AVX2, NULL, NULL, NULL, NULL, "Haswell" },
  { "Nehalem", AVX512, NULL, "auto", NULL, NULL, "SkylakeX" },
  { "Sandybridge", AVX2, NULL, NULL, NULL, NULL, "Haswell" },
  { "Haswell", AVX512, NULL, NULL, NULL, NULL, "SkylakeX" },
  { "Katmai", AVX2, NULL, NULL, NULL, NULL, "Haswell" },
  // AVX-512 without VL is not SkylakeX-capable: fall back to Haswell.
  { "Prescott", { 1, 1, 1, 1, 1, 0, 0 }, NULL, NULL, NULL, NULL, "Haswell" },
  // Nothing to do: right kernel already, no better one, or a name we do not know.
  { "SkylakeX", AVX512, NULL, NULL, NULL, NULL, NULL },
  { "Cooperlake", AVX512BF16, NULL, NULL, NULL, NULL, NULL },
  { "Zen", AVX2, NULL, NULL, NULL, NULL, NULL },
  { "Haswell", AVX2, NULL, NULL, NULL, NULL, NULL },
  { "Prescott", SSE, NULL, NULL, NULL, NULL, NULL },
  { "Prescott", { 1, 0, 0, 0, 0, 0, 0 }, NULL, NULL, NULL, NULL, NULL },
  { "NeoverseN1", AVX512, NULL, NULL, NULL, NULL, NULL },
  { NULL, AVX512, NULL, NULL, NULL, NULL, NULL },
  // A variable the user or the environment set always wins; opt-outs; the loop guard.
  { "Prescott", AVX512, "Prescott", NULL, NULL, NULL, NULL },
  { "Prescott", AVX512, "Haswell", "SkylakeX", NULL, NULL, NULL },
  { "Prescott", AVX512, NULL, "keep", NULL, NULL, NULL },
  { "Prescott", AVX512, NULL, "KEEP", NULL, NULL, NULL },
  { "Prescott", AVX512, NULL, NULL, "1", NULL, NULL },
  { "Prescott", AVX512, NULL, NULL, "0", NULL, "SkylakeX" },
  { "Prescott", AVX512, NULL, NULL, NULL, "1", NULL },
  { "Prescott", AVX512, "", "", "", "", "SkylakeX" },
  // An explicit kernel is honoured when the CPU has its instructions.
  { "Zen", AVX2, NULL, "Prescott", NULL, NULL, "Prescott" },
  { "Prescott", AVX512, NULL, "haswell", NULL, NULL, "Haswell" },
  { "Zen", AVX2, NULL, "SkylakeX", NULL, NULL, NULL },
  { "Prescott", SSE, NULL, "Haswell", NULL, NULL, NULL },
  { "Haswell", AVX2, NULL, "Haswell", NULL, NULL, NULL },
  { "Zen", AVX2, NULL, "NoSuchCore", NULL, NULL, NULL },
};

static void
test_decision_table (void)
{
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const Case *c = &cases[i];
      const char *got = peac_blas_choose_kernel (c->core, &c->cpu, c->coretype, c->kernel,
                                                 c->no_fix, c->guard);
      if (g_strcmp0 (got, c->want) != 0)
        g_error ("case %zu (core %s, CORETYPE %s, PEAC_BLAS_KERNEL %s, NO_FIX %s, guard %s): "
                 "got %s, want %s", i, c->core, c->coretype, c->kernel, c->no_fix, c->guard,
                 got ? got : "(keep)", c->want ? c->want : "(keep)");
    }
}

static void
test_best_kernel (void)
{
  PeacCpuFlags f = AVX512BF16;
  g_assert_cmpstr (peac_blas_best_kernel (&f), ==, "Cooperlake");
  f.avx512bf16 = 0;
  g_assert_cmpstr (peac_blas_best_kernel (&f), ==, "SkylakeX");
  f.avx512dq = 0;
  g_assert_cmpstr (peac_blas_best_kernel (&f), ==, "Haswell");
  f.fma = 0;
  g_assert_null (peac_blas_best_kernel (&f));
  // This CPU: whatever it offers must be consistent (AVX-512 implies AVX2 on every x86).
  PeacCpuFlags here;
  peac_cpu_flags (&here);
  if (here.avx512f)
    g_assert_true (here.avx2);
  g_test_message ("this CPU: best kernel %s, OpenBLAS runs %s",
                  peac_blas_best_kernel (&here), peac_blas_kernel ());
}

// Runs this program as `--child` with the given environment changes; returns its stdout.
static char *
run_child (const char *kernel, const char *coretype, char **err_out)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_assert_nonnull (self);
  char **env = g_get_environ ();
  env = g_environ_unsetenv (env, "OPENBLAS_CORETYPE");
  env = g_environ_unsetenv (env, "PEAC_BLAS_REEXEC");
  env = g_environ_unsetenv (env, "PEAC_NO_KERNEL_FIX");
  env = g_environ_setenv (env, "PEAC_VERBOSE", "1", TRUE);
  env = g_environ_setenv (env, "PEAC_BLAS_KERNEL", kernel, TRUE);
  if (coretype)
    env = g_environ_setenv (env, "OPENBLAS_CORETYPE", coretype, TRUE);
  char *argv[] = { self, "--child", NULL };
  char *out = NULL;
  int status = -1;
  GError *error = NULL;
  g_assert_true (g_spawn_sync (NULL, argv, env, G_SPAWN_DEFAULT, NULL, NULL, &out, err_out,
                               &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_strfreev (env);
  return out;
}

static void
test_reexec (void)
{
#if defined(__x86_64__)
  // The kernel OpenBLAS picks by itself, seen from a child without OPENBLAS_CORETYPE ("keep":
  // nothing re-executed). Not this process's kernel: the environment running the tests may
  // set OPENBLAS_CORETYPE (some machines force Haswell), and that choice is the user's.
  g_autofree char *err0 = NULL;
  g_autofree char *out0 = run_child ("keep", NULL, &err0);
  g_assert_true (g_str_has_prefix (out0, "kernel="));
  g_autofree char *own = g_strndup (out0 + 7, strcspn (out0 + 7, " "));
  g_test_message ("OpenBLAS picks %s by itself; this process runs %s", own, peac_blas_kernel ());
  // Ask for a kernel other than that one: Prescott (SSE3) runs on any x86-64; if OpenBLAS
  // already picks Prescott, ask for Core2.
  const char *want = g_ascii_strcasecmp (own, "Prescott") == 0 ? "Core2" : "Prescott";
  g_autofree char *err = NULL;
  g_autofree char *out = run_child (want, NULL, &err);
  g_test_message ("child stdout: %s; stderr: %s", out, err);
  g_autofree char *expect = g_strdup_printf ("kernel=%s reexec=1\n", want);
  g_assert_cmpstr (out, ==, expect);
  g_autofree char *note = g_strdup_printf ("restarting with OPENBLAS_CORETYPE=%s\n", want);
  g_assert_nonnull (strstr (err, note));
  g_assert_null (strstr (strstr (err, "restarting") + 1, "restarting"));   // once, no loop

  // A kernel the user set is left alone: no restart, no guard.
  g_autofree char *err2 = NULL;
  g_autofree char *out2 = run_child ("auto", want, &err2);
  g_autofree char *expect2 = g_strdup_printf ("kernel=%s reexec=0\n", want);
  g_assert_cmpstr (out2, ==, expect2);
  g_assert_null (strstr (err2, "restarting"));

  // The kernel OpenBLAS chose by itself is already the best CPUID allows (auto asks for
  // nothing better): no restart — the usual start-up costs no exec.
  g_autofree char *err3 = NULL;
  g_autofree char *out3 = run_child (own, NULL, &err3);
  g_autofree char *expect3 = g_strdup_printf ("kernel=%s reexec=0\n", own);
  g_assert_cmpstr (out3, ==, expect3);
  g_assert_null (strstr (err3, "restarting"));

  // keep: nothing changes.
  g_autofree char *err4 = NULL;
  g_autofree char *out4 = run_child ("keep", NULL, &err4);
  g_autofree char *expect4 = g_strdup_printf ("kernel=%s reexec=0\n", own);
  g_assert_cmpstr (out4, ==, expect4);
#else
  g_test_skip ("the kernel choice only applies to x86-64");
#endif
}

int
main (int argc, char **argv)
{
  if (argc > 1 && strcmp (argv[1], "--child") == 0)
    {
      peac_blas_select_kernel (argv, 0);
      const char *g = g_getenv ("PEAC_BLAS_REEXEC");
      printf ("kernel=%s reexec=%d\n", peac_blas_kernel (), g && *g ? 1 : 0);
      return 0;
    }
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/blas-kernel/decision-table", test_decision_table);
  g_test_add_func ("/blas-kernel/best-kernel", test_best_kernel);
  g_test_add_func ("/blas-kernel/reexec", test_reexec);
  return g_test_run ();
}
