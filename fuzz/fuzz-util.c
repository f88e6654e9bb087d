// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-util: the memfd that hands an input to path-taking parsers, and a C-string copy
// for parsers that take text. Shared by every harness, fuzzing and replay builds alike.
#include "fuzz.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

const char *
fuzz_file (const uint8_t *data, size_t size)
{
  static int fd = -1;
  static char path[64];
  if (fd < 0)
    {
      fd = memfd_create ("fuzz-input", MFD_CLOEXEC);
      FUZZ_CHECK (fd >= 0);
      snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
    }
  FUZZ_CHECK (ftruncate (fd, 0) == 0);
  size_t done = 0;
  while (done < size)
    {
      ssize_t w = pwrite (fd, data + done, size - done, (off_t) done);
      FUZZ_CHECK (w > 0);
      done += (size_t) w;
    }
  return path;
}

char *
fuzz_strdup (const uint8_t *data, size_t size)
{
  char *s = malloc (size + 1);
  FUZZ_CHECK (s != NULL);
  if (size)
    memcpy (s, data, size);
  s[size] = '\0';
  return s;
}
