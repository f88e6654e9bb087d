// SPDX-License-Identifier: GPL-3.0-or-later
//
// fuzz-landmarks: the landmark readers of px-landmarks*.c on the same arbitrary bytes —
// our JSON format, the Shenzhen/Montgomery "x,y" CSV and the HybridGNet (N, 2) .npy — the
// three ways untrusted landmark files come in. An accepted JSON file gives named, finite
// points with unique names and a valid or absent colour; a refusal names the file.
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include "px-landmarks.h"

static void
check_set (const PxLandmarkSet *set, GError *error, const char *path, gboolean json)
{
  if (error)
    {
      FUZZ_CHECK (error->domain == PX_LANDMARKS_ERROR || error->domain == G_FILE_ERROR);
      FUZZ_CHECK (strstr (error->message, path) != NULL);
      return;
    }
  guint n = px_landmark_set_size (set);
  for (guint i = 0; i < n; i++)
    {
      const PxLandmark *p = px_landmark_set_get (set, i);
      FUZZ_CHECK (p->name && p->name[0] && isfinite (p->x) && isfinite (p->y));
      FUZZ_CHECK (p->index >= -1);
      FUZZ_CHECK (!p->color || (strlen (p->color) == 7 && p->color[0] == '#'));
      if (json)
        for (guint j = 0; j < i; j++)
          FUZZ_CHECK (strcmp (px_landmark_set_get (set, j)->name, p->name) != 0);
    }
  FUZZ_CHECK (set->image_width >= 0 && set->image_height >= 0);
  FUZZ_CHECK ((set->image_width == 0) == (set->image_height == 0));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_file (data, size);
  GError *error = NULL;
  PxLandmarkSet *set = px_landmarks_load_json (path, &error);
  FUZZ_CHECK ((set == NULL) == (error != NULL));
  check_set (set, error, path, TRUE);
  g_clear_error (&error);
  if (set)
    px_landmark_set_free (set);

  set = px_landmark_set_new ();
  gboolean ok = px_landmarks_add_csv (set, path, "RL", &error);
  FUZZ_CHECK (ok == (error == NULL));
  check_set (set, error, path, FALSE);
  g_clear_error (&error);

  set->image_width = 2048, set->image_height = 1536;
  ok = px_landmarks_add_npy (set, path, "LL", 1024, 1024, &error);
  FUZZ_CHECK (ok == (error == NULL));
  check_set (set, error, path, FALSE);
  g_clear_error (&error);
  px_landmark_set_free (set);
  return 0;
}
