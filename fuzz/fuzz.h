// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz: what every harness shares. A harness defines LLVMFuzzerTestOneInput and is built
// twice: with clang's libFuzzer (-Dfuzzing=true) to search for crashes, and with any
// compiler against replay.c, which feeds it every file of the committed corpora as a
// meson test. Parsers that only take a path get the input through one memfd per process,
// named /proc/self/fd/N (a regular file to fstat, reopened at offset 0 by every open).
// FUZZ_CHECK states an invariant a successful parse must hold; breaking it aborts, so the
// replay tests fail on wrong results as well as on crashes.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                  \
  do                                                                                      \
    {                                                                                     \
      if (!(cond))                                                                        \
        {                                                                                 \
          fprintf (stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);  \
          abort ();                                                                       \
        }                                                                                 \
    }                                                                                     \
  while (0)

// Replaces the process's memfd contents with data[size]; returns its /proc path (static
// storage, valid until the next call). Aborts if the memfd cannot be written: that is
// the harness's environment failing, not the parser.
const char *fuzz_file (const uint8_t *data, size_t size);

// A NUL-terminated heap copy of data (for parsers that take a C string). Free with free().
char *fuzz_strdup (const uint8_t *data, size_t size);
