// SPDX-License-Identifier: GPL-3.0-or-later
//
// replay: the main() that stands in for libFuzzer when a harness is built without it
// (gcc, the normal test run, the sanitizer CI build). Every argument is a file or a
// directory; each file (directories: each regular file inside, sorted, not recursive) is
// read whole and passed once to LLVMFuzzerTestOneInput. Arguments prefixed with '?' may be
// missing (regression folders of harnesses without findings); any other missing path, or
// no input at all, fails the run so that a mistyped corpus path cannot pass silently.
// A crash or a FUZZ_CHECK abort in the harness ends the process, which fails the test.
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int
replay_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    {
      fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
      return -1;
    }
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc (cap);
  FUZZ_CHECK (buf != NULL);
  size_t got;
  while ((got = fread (buf + n, 1, cap - n, f)) > 0)
    {
      n += got;
      if (n == cap)
        {
          cap *= 2;
          buf = realloc (buf, cap);
          FUZZ_CHECK (buf != NULL);
        }
    }
  int bad = ferror (f);
  fclose (f);
  if (bad)
    {
      fprintf (stderr, "replay: %s: read error\n", path);
      free (buf);
      return -1;
    }
  // An exact-size copy, so that ASan sees reads past the input's end.
  uint8_t *exact = malloc (n ? n : 1);
  FUZZ_CHECK (exact != NULL);
  if (n)
    memcpy (exact, buf, n);
  free (buf);
  fprintf (stderr, "replay: %s (%zu bytes)\n", path, n);
  LLVMFuzzerTestOneInput (exact, n);
  free (exact);
  return 0;
}

static int
cmp_name (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

// Replays path (file or directory); adds the number of files run to *count.
static int
replay_path (const char *path, int optional, int *count)
{
  struct stat sb;
  if (stat (path, &sb) != 0)
    {
      if (optional && errno == ENOENT)
        return 0;
      fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
      return -1;
    }
  if (!S_ISDIR (sb.st_mode))
    {
      (*count)++;
      return replay_file (path);
    }
  DIR *d = opendir (path);
  if (!d)
    {
      fprintf (stderr, "replay: %s: %s\n", path, strerror (errno));
      return -1;
    }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.')
        continue;
      if (n == cap)
        {
          cap = cap ? 2 * cap : 64;
          names = realloc (names, cap * sizeof *names);
          FUZZ_CHECK (names != NULL);
        }
      names[n++] = strdup (e->d_name);
    }
  closedir (d);
  qsort (names, n, sizeof *names, cmp_name);
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    {
      size_t l = strlen (path) + strlen (names[i]) + 2;
      char *full = malloc (l);
      FUZZ_CHECK (full != NULL);
      snprintf (full, l, "%s/%s", path, names[i]);
      struct stat fb;
      if (stat (full, &fb) == 0 && S_ISREG (fb.st_mode))
        {
          (*count)++;
          if (replay_file (full) != 0)
            rc = -1;
        }
      free (full);
      free (names[i]);
    }
  free (names);
  return rc;
}

int
main (int argc, char **argv)
{
  int count = 0, rc = 0;
  for (int i = 1; i < argc; i++)
    {
      int optional = argv[i][0] == '?';
      if (replay_path (argv[i] + optional, optional, &count) != 0)
        rc = 1;
    }
  if (count == 0)
    {
      fprintf (stderr, "replay: no input files\n");
      return 1;
    }
  printf ("replayed %d inputs\n", count);
  return rc;
}
