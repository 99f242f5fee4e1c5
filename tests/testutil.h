/* testutil.h -- what every cmocka test of clickpath includes.
 * CP_SOURCE_DIR is the repository root (set by the Makefile), so tests find
 * tests/fixtures/ and ../shared/data/ wherever they are run from. */
#ifndef CLICKPATH_TESTUTIL_H
#define CLICKPATH_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#ifndef CP_SOURCE_DIR
#define CP_SOURCE_DIR "."
#endif

/* Path of a file under the repository root, in a static buffer per call site. */
static inline const char *cp_test_path(char *buf, size_t cap, const char *rel) {
    snprintf(buf, cap, "%s/%s", CP_SOURCE_DIR, rel);
    return buf;
}
#define CP_TEST_PATH(rel) cp_test_path((char[4096]){0}, 4096, (rel))

/* The real datasets beside the checkout (../shared/data, see its README). */
#define CP_SHARED_DATA(rel) cp_test_path((char[4096]){0}, 4096, "../shared/data/" rel)

/* Writes `text` to a fresh temporary file and returns its path in `path`
 * (cap >= 64).  Returns path, or NULL on failure. */
#include <unistd.h>
static inline const char *cp_test_tmpfile(char *path, size_t cap, const char *text) {
    snprintf(path, cap, "/tmp/cp_test_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) { close(fd); return NULL; }
    close(fd);
    return path;
}

/* The whole file at path, NUL-terminated, its length in *len (when not
 * NULL); fails the test when it cannot be read.  Free with free(). */
static inline char *cp_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    if (len) *len = (size_t)n;
    return b;
}

/* Removes a directory of plain files (a test's output directory). */
#include <dirent.h>
static inline void cp_test_remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

#ifdef CLICKPATH_EVENTS_H
/* Builds a finished run from CSV or JSONL text (default options when opt is
 * NULL).  Fails the test on any error.  Free with cp_run_free(). */
static inline cp_run *cp_test_run_text(const char *text, const cp_ingest_options *opt) {
    cp_ingest_options def = {0};
    cp_error err = {0};
    cp_run *run = cp_run_new(opt ? opt : &def, &err);
    assert_non_null(run);
    char path[64];
    assert_non_null(cp_test_tmpfile(path, sizeof path, text));
    assert_int_equal(cp_run_load(run, path, &err), CP_OK);
    unlink(path);
    assert_int_equal(cp_run_finish(run, &err), CP_OK);
    return run;
}
#endif

#endif
