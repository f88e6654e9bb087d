// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-csv: the one CSV reader (RFC 4180 as Python's csv module reads it): fields separated
// by commas, records by LF, CRLF or CR; a field that starts with '"' is quoted and may hold
// commas, line breaks and doubled quotes ("" for "); a leading UTF-8 byte-order mark is
// skipped; an empty line is a record of no fields. Text after a closing quote joins the
// field, and a quote inside an unquoted field is an ordinary character, as in Python. A
// quoted field still open at the end of the text is an error that names the file and the
// line the record starts on. Fields are not trimmed: callers decide what spaces mean.
// The writer quotes a field only when it has to.
#pragma once

#include <stddef.h>
#include <stdio.h>

typedef struct PxCsv PxCsv;

typedef struct {
  char **fields;  // [n] NUL-terminated, owned by the reader until the next call
  int    n;
  int    line;    // line (1-based) the record starts on
} PxCsvRecord;

// A reader over len bytes of text (not copied: text must outlive the reader); file names
// the source in messages. NULL only when out of memory.
PxCsv *px_csv_new (const char *text, size_t len, const char *file);
void   px_csv_free (PxCsv *r);
// The next record into rec. Returns 1, 0 at the end of the text, or −1 with err
// ("FILE:LINE: reason").
int    px_csv_next (PxCsv *r, PxCsvRecord *rec, char *err, size_t errlen);

// Writes s to f as one field that this reader (and Python's) reads back as s: quoted, with
// quotes doubled, when it holds a comma, a quote or a line break; as it is otherwise.
void   px_csv_write_field (FILE *f, const char *s);
