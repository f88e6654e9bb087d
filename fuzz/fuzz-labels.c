// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-labels: the label-table parser of peac finetune and the Linear Probe page
// (finetune-labels.c: RFC 4180 CSV, an image column, 0/1 finding columns, an optional
// split column) on arbitrary text, with automatic and named classes and each split. An
// accepted table has n rows × k ≥ 1 classes of 0 or 1 with a path each, on increasing
// lines; a refusal names the file.
#include "fuzz.h"

#include <string.h>

#include "px-labels.h"

static void
check (const char *text, const char *classes, const char *split)
{
  PeacLabels l;
  char err[512] = "";
  memset (&l, 0, sizeof l);
  if (peac_labels_parse (&l, text, "fuzz.csv", NULL, classes, split, err, sizeof err) != 0)
    {
      FUZZ_CHECK (strstr (err, "fuzz.csv") != NULL);
      return;
    }
  FUZZ_CHECK (l.n >= 0 && l.k >= 1);
  for (int c = 0; c < l.k; c++)
    FUZZ_CHECK (l.names[c] != NULL);
  for (int i = 0; i < l.n; i++)
    {
      FUZZ_CHECK (l.paths[i] != NULL);
      FUZZ_CHECK (l.line[i] >= 2 && (i == 0 || l.line[i] > l.line[i - 1]));
      for (int c = 0; c < l.k; c++)
        FUZZ_CHECK (l.y[(size_t) i * l.k + c] == 0.0f || l.y[(size_t) i * l.k + c] == 1.0f);
    }
  peac_labels_free (&l);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_strdup (data, size);
  check (text, NULL, NULL);
  check (text, NULL, "train");
  check (text, NULL, "val");
  check (text, "Effusion,Mass", "test");
  free (text);
  return 0;
}
