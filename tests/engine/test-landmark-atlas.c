// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-landmark-atlas: the engine half of multi-reference propagation (landmark-atlas.h)
// against values worked out by hand in the comments — the unit mean token, the choice of
// the references most like a target (cosine, with one left out), the structure check
// between a reference and a target, the confirmation threshold, and a propagation from two
// references whose token grids are the target's own (so every point must come back where
// it was, whatever order the references list their points in).
#include <glib.h>
#include <math.h>
#include <string.h>

#include "landmark-atlas.h"

static void
test_global (void)
{
  // Tokens (1, 0) and (0, 2): mean (0.5, 1), length √1.25 → (0.4472…, 0.8944…).
  const float tok[4] = { 1, 0, 0, 2 };
  float g[2];
  peac_atlas_global (tok, 2, 2, g);
  g_assert_cmpfloat_with_epsilon (g[0], 0.5 / sqrt (1.25), 1e-6);
  g_assert_cmpfloat_with_epsilon (g[1], 1.0 / sqrt (1.25), 1e-6);
}

static void
test_pick (void)
{
  // Target (0.8, 0.6): cosines 0.8 (image 0), 0.6 (image 1), 0.48 + 0.48 = 0.96 (image 2).
  float g0[2] = { 1, 0 }, g1[2] = { 0, 1 }, g2[2] = { 0.6f, 0.8f };
  PeacAtlasImage img[3] = { { .global = g0 }, { .global = g1 }, { .global = g2 } };
  PeacAtlas a = { img, 3 };
  const float t[2] = { 0.8f, 0.6f };
  int out[3];
  g_assert_cmpint (peac_atlas_pick (&a, t, 2, -1, 3, out), ==, 3);
  g_assert_cmpint (out[0], ==, 2);
  g_assert_cmpint (out[1], ==, 0);
  g_assert_cmpint (out[2], ==, 1);
  // Image 2 left out (leave-one-out): never handed out.
  g_assert_cmpint (peac_atlas_pick (&a, t, 2, 2, 3, out), ==, 2);
  g_assert_cmpint (out[0], ==, 0);
  g_assert_cmpint (out[1], ==, 1);
  g_assert_cmpint (peac_atlas_pick (&a, t, 2, -1, 1, out), ==, 1);
  g_assert_cmpint (out[0], ==, 2);
}

static void
test_check_shared (void)
{
  char *rl2[2] = { "RL", "RL" }, *rl3[3] = { "RL", "RL", "RL" }, *h2[2] = { "H", "H" };
  char *mixed[3] = { "RL", "RL", "H" };
  PeacAtlasImage a = { .source = "a.json", .n = 2, .structure = rl2 };
  PeacAtlasImage b = { .source = "b.json", .n = 3, .structure = rl3 };
  PeacAtlasImage c = { .source = "c.json", .n = 2, .structure = h2 };
  PeacAtlasImage d = { .source = "d.json", .n = 3, .structure = mixed };
  PeacAtlasImage none = { .source = "e.json", .n = 0 };
  char err[256];

  g_assert_cmpint (peac_atlas_check_shared (&a, &d, err, sizeof err), ==, 0);
  g_assert_cmpint (peac_atlas_check_shared (&a, NULL, err, sizeof err), ==, 0);
  g_assert_cmpint (peac_atlas_check_shared (&a, &b, err, sizeof err), ==, -1);
  g_assert_cmpstr (err, ==, "a.json and b.json: structure RL has 2 points in one and 3 in the other");
  g_assert_cmpint (peac_atlas_check_shared (&a, &c, err, sizeof err), ==, -1);
  g_assert_cmpstr (err, ==, "a.json and c.json: no landmark structure in common");
  g_assert_cmpint (peac_atlas_check_shared (&none, &a, err, sizeof err), ==, -1);
  g_assert_cmpstr (err, ==, "e.json: no landmarks");
}

static void
test_confirmed (void)
{
  // 224-px input, 16-px patches: 14 cells; on a 2048-px image half a cell is
  // 0.5 · 2048 / 14 = 73.142… px.
  const PeacAtlasGrid g = { .side = 224, .patch = 16 };
  g_assert_true (peac_atlas_confirmed (73.1, 3, 0, 2048, &g));
  g_assert_false (peac_atlas_confirmed (73.2, 3, 3, 2048, &g));
  // One reference: no spread; the matcher's confirmation decides.
  g_assert_true (peac_atlas_confirmed (0, 1, 1, 2048, &g));
  g_assert_false (peac_atlas_confirmed (0, 1, 0, 2048, &g));
}

#define G 14
#define DIM 16
#define SIDE 224.0

static void
test_propagate_identity (void)
{
  // Random unit-ish tokens; both references and the target share them, so the registration
  // is the identity and every answer is the reference's own point.
  float *tok = g_new (float, G * G * DIM);
  GRand *rand = g_rand_new_with_seed (7);
  for (int i = 0; i < G * G * DIM; i++)
    tok[i] = (float) g_rand_double_range (rand, -1, 1);
  g_rand_free (rand);
  float global[DIM];
  peac_atlas_global (tok, G * G, DIM, global);
  // Cell centres of cells (4, 5), (7, 7), (9, 3) in pixel-centre landmark coordinates.
  char *names0[3] = { "P.0", "P.1", "P.2" }, *names1[3] = { "P.2", "P.0", "P.1" };
  char *structs[3] = { "P", "P", "P" };
  double xy0[6] = { 5.5 * 16 - 0.5, 4.5 * 16 - 0.5, 7.5 * 16 - 0.5, 7.5 * 16 - 0.5,
                    3.5 * 16 - 0.5, 9.5 * 16 - 0.5 };
  double xy1[6] = { xy0[4], xy0[5], xy0[0], xy0[1], xy0[2], xy0[3] };
  PeacAtlasImage img[2] = {
    { .source = "r0", .width = SIDE, .height = SIDE, .n = 3, .xy = xy0, .point = names0,
      .structure = structs, .tok = tok, .global = global },
    { .source = "r1", .width = SIDE, .height = SIDE, .n = 3, .xy = xy1, .point = names1,
      .structure = structs, .tok = tok, .global = global },
  };
  PeacAtlas a = { img, 2 };
  const PeacAtlasGrid g = { .side = 224, .patch = 16, .gh = G, .gw = G, .dim = DIM };
  const int cand[2] = { 0, 1 };
  double xy[6], spread[3], weight[2], mean[6];
  int found[3];
  char err[256];

  g_assert_cmpint (peac_atlas_propagate (&a, cand, 2, 2, &g, tok, SIDE, SIDE, NULL, xy, spread,
                                         found, weight, mean, err, sizeof err), ==, 0);
  for (int i = 0; i < 3; i++)
    {
      g_test_message ("P.%d: answer off by (%.3f, %.3f) px", i, xy[2 * i] - xy0[2 * i], xy[2 * i + 1] - xy0[2 * i + 1]);
      // Within a pixel (a sixteenth of a cell: the sub-cell peak of identical grids is off
      // by up to 0.3 px); the two answers agree, so no spread to speak of.
      g_assert_cmpfloat (fabs (xy[2 * i] - xy0[2 * i]), <, 1.0);
      g_assert_cmpfloat (fabs (xy[2 * i + 1] - xy0[2 * i + 1]), <, 1.0);
      g_assert_cmpfloat (spread[i], <, 1e-6);
      // The mean shape of two identical references is their point.
      g_assert_cmpfloat_with_epsilon (mean[2 * i], xy0[2 * i], 1e-9);
      g_assert_cmpfloat_with_epsilon (mean[2 * i + 1], xy0[2 * i + 1], 1e-9);
    }
  g_assert_cmpfloat (weight[0], >, 0);
  g_assert_cmpfloat (weight[1], >, 0);
  // Only one kept of two: the other weighs nothing.
  g_assert_cmpint (peac_atlas_propagate (&a, cand, 2, 1, &g, tok, SIDE, SIDE, NULL, xy, spread,
                                         found, weight, NULL, err, sizeof err), ==, 0);
  g_assert_true ((weight[0] > 0) != (weight[1] > 0));
  g_free (tok);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/landmark-atlas/global", test_global);
  g_test_add_func ("/landmark-atlas/pick", test_pick);
  g_test_add_func ("/landmark-atlas/check-shared", test_check_shared);
  g_test_add_func ("/landmark-atlas/confirmed", test_confirmed);
  g_test_add_func ("/landmark-atlas/propagate-identity", test_propagate_identity);
  return g_test_run ();
}
