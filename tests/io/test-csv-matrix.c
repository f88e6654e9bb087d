// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-csv-matrix: the CSV reader of `peac tsne --matrix` on small files written to a
// temporary folder: plain numbers, a header with a label column, a text label column
// without a header, quotes, comments, CRLF; and the refusals (ragged rows, non-finite or
// out-of-float-range numbers, no data, no numeric column, a missing file), each naming
// the file and, where there is one, the line.
#include <glib.h>
#include <string.h>

#include "px-csv-matrix.h"
#include "peac-test-cli.h"

static char *dir;

static char *
write_file (const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_numbers (void)
{
  g_autofree char *path = write_file ("n.csv", "0.5, 1,-2\n# a comment\n\n3,4e-3,5\n");
  PeacCsvMatrix m;
  char err[256];
  g_assert_cmpint (peac_csv_read_matrix (path, &m, err, sizeof err), ==, 0);
  g_assert_cmpint (m.N, ==, 2);
  g_assert_cmpint (m.D, ==, 3);
  g_assert_null (m.labels);
  const float want[6] = { 0.5f, 1, -2, 3, 4e-3f, 5 };
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (m.X[i], ==, want[i]);
  peac_csv_matrix_free (&m);
  g_assert_null (m.X);
}

static void
test_labels (void)
{
  const char *cases[][2] = {
    { "h.csv", "a,Label,b\n1,cat,2\n3,dog,4\n" },        // header, label column by name
    { "t.csv", "1,\"cat\",2\r\n3,'dog',4\r\n" },          // no header: the text column
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *path = write_file (cases[c][0], cases[c][1]);
      PeacCsvMatrix m;
      char err[256];
      g_assert_cmpint (peac_csv_read_matrix (path, &m, err, sizeof err), ==, 0);
      g_assert_cmpint (m.N, ==, 2);
      g_assert_cmpint (m.D, ==, 2);
      g_assert_nonnull (m.labels);
      g_assert_cmpstr (m.labels[0], ==, "cat");
      g_assert_cmpstr (m.labels[1], ==, "dog");
      for (int i = 0; i < 4; i++)
        g_assert_cmpfloat (m.X[i], ==, i + 1);
      peac_csv_matrix_free (&m);
    }
  // A header without a label column: all columns are numbers.
  g_autofree char *path = write_file ("x.csv", "x,y\n1,2\n");
  PeacCsvMatrix m;
  char err[256];
  g_assert_cmpint (peac_csv_read_matrix (path, &m, err, sizeof err), ==, 0);
  g_assert_cmpint (m.N, ==, 1);
  g_assert_cmpint (m.D, ==, 2);
  g_assert_null (m.labels);
  peac_csv_matrix_free (&m);
}

static void
test_refusals (void)
{
  const char *cases[][3] = {
    { "ragged.csv", "a,b\n1,2\n3\n", "ragged.csv:3: 1 field where the first row has 2" },
    { "nan.csv", "label,v\nx,1\ny,nan\n", "nan.csv:3: field 2 ('nan') is not a finite number" },
    { "big.csv", "1,1e39\n", "big.csv:1: field 2 ('1e39') is not a finite number" },
    { "empty.csv", "# nothing\n\n", "empty.csv: no data rows" },
    { "header.csv", "a,b\n", "header.csv: no data rows" },
    { "text.csv", "name\nfoo\n", "text.csv:1: no numeric columns" },
    { "word.csv", "1,2\n3,x\n", "word.csv:2: field 2 ('x') is not a finite number" },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *path = write_file (cases[c][0], cases[c][1]);
      PeacCsvMatrix m;
      char err[256] = "";
      g_assert_cmpint (peac_csv_read_matrix (path, &m, err, sizeof err), ==, -1);
      g_test_message ("%s", err);
      g_assert_nonnull (strstr (err, cases[c][2]));
      g_assert_true (g_str_has_prefix (err, path));
      g_assert_null (m.X);
      g_assert_null (m.labels);
      g_assert_cmpint (m.N, ==, 0);
    }
  g_autofree char *missing = g_build_filename (dir, "missing.csv", NULL);
  PeacCsvMatrix m;
  char err[256] = "";
  g_assert_cmpint (peac_csv_read_matrix (missing, &m, err, sizeof err), ==, -1);
  g_assert_nonnull (strstr (err, "missing.csv: No such file or directory"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("peac-csv-XXXXXX", NULL);
  g_test_add_func ("/csv-matrix/numbers", test_numbers);
  g_test_add_func ("/csv-matrix/labels", test_labels);
  g_test_add_func ("/csv-matrix/refusals", test_refusals);
  int rc = g_test_run ();
  peac_test_remove_tree (dir);
  g_free (dir);
  return rc;
}
