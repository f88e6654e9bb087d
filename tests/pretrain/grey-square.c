// SPDX-License-Identifier: GPL-3.0-or-later
//
// grey-square: the oracle of test-pretrain-data. It loads images exactly as `peac train`
// does (train_load of cli-train-data.c: px_image_load, the default window, the whole image
// squeezed to side × side by peac_preprocess) and writes them as one float32 .npy of
// [n · side, side], so that the PyTorch trainer's decoder and resampler
// (tools/pretrain/peac_data.py) can be compared with the engine's. Files that cannot be
// loaded are reported on stderr and make the exit status 1.
//   grey-square SIDE OUT.npy IMAGE...
#include <stdlib.h>
#include <string.h>

#include "cli-train.h"
#include "npy.h"

int
main (int argc, char **argv)
{
  if (argc < 4)
    {
      fprintf (stderr, "usage: grey-square SIDE OUT.npy IMAGE...\n");
      return 2;
    }
  const int side = atoi (argv[1]);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  for (int i = 3; i < argc; i++)
    g_ptr_array_add (files, g_strdup (argv[i]));
  PeacGrey *g = NULL;
  const int n = side > 0 ? train_load (files, side, &g) : 0;
  int rc = n == (int) files->len && n > 0 ? 0 : 1;
  if (rc == 0)
    {
      float *all = malloc ((size_t) n * side * side * sizeof (float));
      for (int i = 0; i < n; i++)
        memcpy (all + (size_t) i * side * side, g[i].px, (size_t) side * side * sizeof (float));
      char err[512];
      if (npy_write_matrix (argv[2], all, n * side, side, err, sizeof err) != 0)
        fprintf (stderr, "grey-square: %s\n", err), rc = 1;
      free (all);
    }
  for (int i = 0; i < n; i++)
    free ((void *) g[i].px);
  free (g);
  g_ptr_array_unref (files);
  return rc;
}
