// SPDX-License-Identifier: GPL-3.0-or-later
//
// peac-test-cli: what the tests that run the built `peac` as a real process share — run it
// with arguments and capture stdout, stderr and the exit status (or the JSON it printed),
// write the random-init
// ViT micro checkpoint the model-taking commands are run with, and clean up temporary trees.
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

typedef struct {
  char *out;
  char *err;
  int   status;
} PeacTestRun;

void  peac_test_run             (PeacTestRun        *r,
                                 const char         *peac_path,
                                 const char         *command,
                                 const char * const *args);
void  peac_test_run_clear       (PeacTestRun        *r);
// peac_test_run, which must exit 0, with its stdout parsed as JSON (free with json_decref).
json_t *peac_test_run_json      (const char         *peac_path,
                                 const char         *command,
                                 const char * const *args);
// text parsed as JSON; the test fails, showing the text, when it is not JSON.
json_t *peac_test_parse_json    (const char         *text);
char *peac_test_write_micro_vit (const char         *dir);
// $PEAC_SHARED_DIR/data/rel; the test fails (g_error) when it does not exist. Free with
// g_free.
char *peac_test_shared_path     (const char         *rel);
// $PEAC_SHARED_DIR/reference/name (the reference fixtures), failing the same way.
char *peac_test_reference_path  (const char         *name);
// Deletes path and everything below it (symbolic links themselves, never their targets).
void  peac_test_remove_tree     (const char         *path);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PeacTestRun, peac_test_run_clear)

G_END_DECLS
