// SPDX-License-Identifier: GPL-3.0-or-later
//
// test-csv: the CSV reader (px-csv.h) against hand-derived records (quoted fields, doubled
// quotes, CRLF and CR, a byte-order mark, line breaks inside quotes, empty lines and empty
// fields, the line an unclosed quote is reported on) and against Python's csv module as an
// independent oracle: seeded random texts made of those pieces are read by both, and the
// records must agree field by field. The writer's fields read back as themselves.
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "px-csv.h"

// The records of text as a JSON array of arrays of strings (or NULL with err).
static json_t *
read_all (const char *text, size_t len, char *err, size_t errlen)
{
  PxCsv *r = px_csv_new (text, len, "t.csv");
  PxCsvRecord rec;
  json_t *out = json_array ();
  int rc;
  while ((rc = px_csv_next (r, &rec, err, errlen)) == 1)
    {
      json_t *row = json_array ();
      for (int i = 0; i < rec.n; i++)
        json_array_append_new (row, json_string (rec.fields[i]));
      json_array_append_new (out, row);
    }
  px_csv_free (r);
  if (rc < 0)
    {
      json_decref (out);
      return NULL;
    }
  return out;
}

static void
expect (const char *text, const char *want_json)
{
  char err[256];
  json_t *got = read_all (text, strlen (text), err, sizeof err);
  if (!got)
    g_error ("%s: %s", text, err);
  json_t *want = json_loads (want_json, 0, NULL);
  g_assert_nonnull (want);
  if (!json_equal (got, want))
    {
      char *g = json_dumps (got, 0);
      g_error ("%s: got %s, want %s", text, g, want_json);
    }
  json_decref (got), json_decref (want);
}

static void
test_hand (void)
{
  expect ("a,b\nc,d\n", "[[\"a\",\"b\"],[\"c\",\"d\"]]");
  expect ("a,b\r\nc,d", "[[\"a\",\"b\"],[\"c\",\"d\"]]");
  expect ("a\rb\r", "[[\"a\"],[\"b\"]]");
  expect ("\xef\xbb\xbfimage,y\n", "[[\"image\",\"y\"]]");
  expect ("\"a,b\",\"say \"\"hi\"\"\"\n", "[[\"a,b\",\"say \\\"hi\\\"\"]]");
  expect ("\"two\nlines\",x\r\n\"crlf\r\ninside\"\n", "[[\"two\\nlines\",\"x\"],[\"crlf\\r\\ninside\"]]");
  expect ("a,,\n,\n", "[[\"a\",\"\",\"\"],[\"\",\"\"]]");
  expect ("\n\na\n", "[[],[],[\"a\"]]");
  expect ("\"\"\n", "[[\"\"]]");
  expect (" a , b \n", "[[\" a \",\" b \"]]");
  expect ("x\"y\",z\n", "[[\"x\\\"y\\\"\",\"z\"]]");
  expect ("\"ab\"c,d\n", "[[\"abc\",\"d\"]]");

  // Record lines, and an unclosed quote reported on the line its record starts.
  PxCsv *r = px_csv_new ("h\n\"a\nb\"\nc\n", 10, "t.csv");
  PxCsvRecord rec;
  char err[256];
  g_assert_cmpint (px_csv_next (r, &rec, err, sizeof err), ==, 1);
  g_assert_cmpint (rec.line, ==, 1);
  g_assert_cmpint (px_csv_next (r, &rec, err, sizeof err), ==, 1);
  g_assert_cmpint (rec.line, ==, 2);
  g_assert_cmpint (px_csv_next (r, &rec, err, sizeof err), ==, 1);
  g_assert_cmpint (rec.line, ==, 4);
  g_assert_cmpstr (rec.fields[0], ==, "c");
  g_assert_cmpint (px_csv_next (r, &rec, err, sizeof err), ==, 0);
  px_csv_free (r);
  const char *bad = "a,b\nc,\"d\ne,f\n";
  g_assert_null (read_all (bad, strlen (bad), err, sizeof err));
  g_assert_cmpstr (err, ==, "t.csv:2: a quoted field is not closed before the end of the file");
  g_assert_null (read_all ("a\0b", 3, err, sizeof err));
  g_assert_nonnull (strstr (err, "t.csv:1: a NUL byte"));
}

// Fields written by px_csv_write_field read back as themselves, quoted only when needed.
static void
test_write (void)
{
  static const char *const fields[] = { "plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", "" };
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&text, &len);
  for (size_t i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if (i)
        fputc (',', f);
      px_csv_write_field (f, fields[i]);
    }
  fputc ('\n', f);
  fclose (f);
  g_assert_cmpstr (text, ==, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",\n");
  char err[256];
  json_t *got = read_all (text, len, err, sizeof err);
  g_assert_nonnull (got);
  json_t *row = json_array_get (got, 0);
  g_assert_cmpuint (json_array_size (got), ==, 1);
  g_assert_cmpuint (json_array_size (row), ==, G_N_ELEMENTS (fields));
  for (size_t i = 0; i < G_N_ELEMENTS (fields); i++)
    g_assert_cmpstr (json_string_value (json_array_get (row, i)), ==, fields[i]);
  json_decref (got);
  free (text);
}

static void
test_python (void)
{
  static const char *const pieces[] = {
    "a", "bc", " sp ", "", ",", ",", ",", "\n", "\r\n", "\r", "\"q,q\"", "\"d\"\"q\"",
    "\"n\nl\"", "\"c\r\nr\"", "x\"y", "é", "\"\"",
  };
  enum { N_TEXTS = 200 };
  g_autofree char *dir = g_dir_make_tmp ("peac-csv-XXXXXX", NULL);
  GRand *rand = g_rand_new_with_seed (22);
  GString *texts[N_TEXTS];
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup ("python3"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup (
    "import csv, json, sys\n"
    "print(json.dumps([list(csv.reader(open(p, newline='', encoding='utf-8-sig')))"
    " for p in sys.argv[1:]]))"));
  for (int t = 0; t < N_TEXTS; t++)
    {
      GString *s = texts[t] = g_string_new (t % 7 == 0 ? "\xef\xbb\xbf" : "");
      const int n = g_rand_int_range (rand, 1, 40);
      for (int i = 0; i < n; i++)
        g_string_append (s, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      char *path = g_strdup_printf ("%s/t%d.csv", dir, t);
      g_assert_true (g_file_set_contents (path, s->str, (gssize) s->len, NULL));
      g_ptr_array_add (argv, path);
    }
  g_ptr_array_add (argv, NULL);
  g_autofree char *out = NULL;
  int status;
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL,
                               NULL, &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  json_t *all = json_loads (out, 0, NULL);
  g_assert_cmpuint (json_array_size (all), ==, N_TEXTS);
  for (int t = 0; t < N_TEXTS; t++)
    {
      json_t *want = json_array_get (all, (size_t) t);
      char err[256];
      json_t *got = read_all (texts[t]->str, texts[t]->len, err, sizeof err);
      if (!got || !json_equal (got, want))
        g_error ("text %s: python %s, ours %s", g_strescape (texts[t]->str, NULL),
                 json_dumps (want, 0), got ? json_dumps (got, 0) : err);
      json_decref (got);
      g_remove (argv->pdata[3 + t]);
      g_string_free (texts[t], TRUE);
    }
  json_decref (all);
  g_ptr_array_unref (argv);
  g_rand_free (rand);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/csv/hand", test_hand);
  g_test_add_func ("/csv/write", test_write);
  g_test_add_func ("/csv/python", test_python);
  return g_test_run ();
}
