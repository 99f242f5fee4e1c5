/* test_server.c -- the collector's parts without HTTP (issue 9): request
 * bodies validated by the ingestion code (R1.3, R1.4b), the click record of a
 * tracking redirect (R1.2, R5.1), and the durable log (group commit,
 * rotation, compression, crash recovery).  The HTTP side is covered by
 * tests/e2e/serve.sh on loopback. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server.h"

/* ---- helpers ----------------------------------------------------------------- */

/* Loads text as one input; returns accepted count, *rejected set. */
static uint64_t reread(const char *text, size_t len, uint64_t *rejected) {
    cp_ingest_options o = {0};
    cp_run *run = cp_run_new(&o, NULL);
    assert_non_null(run);
    assert_int_equal(cp_run_load_buffer(run, "t", text, len, NULL), CP_OK);
    uint64_t a = cp_run_accepted(run);
    if (rejected) *rejected = cp_run_rejected(run);
    cp_run_free(run);
    return a;
}

static char *mkdtemp_dir(void) {
    char *p = strdup("/tmp/cp_server_test_XXXXXX");
    assert_non_null(mkdtemp(p));
    return p;
}

static void rm_rf(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void write_file(const char *dir, const char *name, const char *text) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *dir, const char *name) {
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* ---- request bodies (R1.3, R1.4b) --------------------------------------------- */

static void r1_4b_jsonl_body_answers_each_rejected_line(void **state) {
    (void)state;
    /* line 1 valid page view; line 2 bad_ts; line 3 blank (skipped, R1.4b);
     * line 4 bad_json; line 5 a click with campaign and tag
     * (click_campaign_and_tag, R1.4b order); line 6 valid impression.
     * So accepted 2, rejected lines 2, 4, 5. */
    const char body[] =
        "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"page_view\",\"visitor\":\"v1\",\"asin\":\"B1\"}\n"
        "{\"ts\":\"2024-02-30T12:00:00Z\",\"type\":\"page_view\",\"visitor\":\"v1\",\"asin\":\"B1\"}\n"
        "\n"
        "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\n"
        "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"click\",\"visitor\":\"v\",\"campaign\":\"c\",\"tag\":\"t\"}\n"
        "{\"ts\":1709294400,\"type\":\"impression\",\"campaign\":\"c\"}";
    cp_batch b;
    assert_int_equal(cp_batch_process(body, sizeof body - 1, CP_BODY_JSONL, &b), CP_OK);
    assert_int_equal(b.http_status, 200);
    assert_int_equal(b.accepted, 2);
    assert_int_equal(b.rejected, 3);
    assert_string_equal(b.answer,
                        "{\"accepted\":2,\"rejected\":[{\"line\":2,\"reason\":\"bad_ts\",\"field\":\"ts\"},"
                        "{\"line\":4,\"reason\":\"bad_json\"},"
                        "{\"line\":5,\"reason\":\"click_campaign_and_tag\",\"field\":\"tag\"}]}\n");
    /* the log holds exactly lines 1 and 6, each ending in '\n' */
    const char want[] =
        "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"page_view\",\"visitor\":\"v1\",\"asin\":\"B1\"}\n"
        "{\"ts\":1709294400,\"type\":\"impression\",\"campaign\":\"c\"}\n";
    assert_int_equal(b.log_len, sizeof want - 1);
    assert_memory_equal(b.log, want, sizeof want - 1);
    assert_int_equal(b.by_reason[CP_R_BAD_TS], 1);
    assert_int_equal(b.by_reason[CP_R_BAD_JSON], 1);
    cp_batch_free(&b);
}

static void r1_4b_jsonl_body_with_bom_and_crlf_logs_clean_lines(void **state) {
    (void)state;
    /* R1.4b: BOM and CRLF accepted; the log gets the lines without them */
    const char body[] = "\xef\xbb\xbf{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"feedback\",\"customer\":\"c\","
                        "\"order\":\"o1\",\"rating\":5}\r\n\r\n";
    cp_batch b;
    assert_int_equal(cp_batch_process(body, sizeof body - 1, CP_BODY_JSONL, &b), CP_OK);
    assert_int_equal(b.accepted, 1);
    assert_int_equal(b.blank_lines, 1);
    const char want[] = "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"feedback\",\"customer\":\"c\","
                        "\"order\":\"o1\",\"rating\":5}\n";
    assert_int_equal(b.log_len, sizeof want - 1);
    assert_memory_equal(b.log, want, sizeof want - 1);
    cp_batch_free(&b);
}

static void r1_4b_empty_body_is_no_error(void **state) {
    (void)state;
    /* R1.4b: a file with nothing holds no events and is no error */
    cp_batch b;
    assert_int_equal(cp_batch_process(" \n\r\n", 4, CP_BODY_JSONL, &b), CP_OK);
    assert_int_equal(b.http_status, 200);
    assert_int_equal(b.accepted, 0);
    assert_int_equal(b.log_len, 0);
    assert_string_equal(b.answer, "{\"accepted\":0,\"rejected\":[]}\n");
    cp_batch_free(&b);
}

static void r1_1_body_of_another_format_than_declared_is_400(void **state) {
    (void)state;
    cp_batch b;
    /* JSON declared, CSV sent: R1.1 would read it as CSV, so refuse */
    assert_int_equal(cp_batch_process("ts,type\n1,click\n", 16, CP_BODY_JSONL, &b), CP_OK);
    assert_int_equal(b.http_status, 400);
    assert_int_equal(b.log_len, 0);
    assert_non_null(strstr(b.answer, "\"error\""));
    cp_batch_free(&b);
    const char j[] = "{\"ts\":1,\"type\":\"click\"}\n";
    assert_int_equal(cp_batch_process(j, sizeof j - 1, CP_BODY_CSV, &b), CP_OK);
    assert_int_equal(b.http_status, 400);
    cp_batch_free(&b);
}

static void r1_1_csv_body_is_logged_as_json_lines_that_read_back(void **state) {
    (void)state;
    /* header line 1; line 2 a purchase (accepted); line 3 without identity
     * (missing_identity); line 4 a quoted value with a comma and an empty
     * units (absent, R1.4b), accepted; duplicate column `asin`: the first
     * wins (B1, not X).  Accepted 2, rejected line 3. */
    const char body[] = "ts,type,visitor,asin,units,asin\n"
                        "2024-03-01T12:00:00Z,purchase,v1,B1,2,X\n"
                        "2024-03-01T12:00:00Z,purchase,,B1,2,X\n"
                        "\"2024-03-01 13:00:00\",purchase,\"v,\"\"2\"\"\",B1,,X\n";
    cp_batch b;
    assert_int_equal(cp_batch_process(body, sizeof body - 1, CP_BODY_CSV, &b), CP_OK);
    assert_int_equal(b.http_status, 200);
    assert_int_equal(b.accepted, 2);
    assert_string_equal(b.answer,
                        "{\"accepted\":2,\"rejected\":[{\"line\":3,\"reason\":\"missing_identity\",\"field\":\"visitor\"}]}\n");
    const char want[] =
        "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"purchase\",\"visitor\":\"v1\",\"asin\":\"B1\",\"units\":\"2\"}\n"
        "{\"ts\":\"2024-03-01 13:00:00\",\"type\":\"purchase\",\"visitor\":\"v,\\\"2\\\"\",\"asin\":\"B1\"}\n";
    assert_int_equal(b.log_len, sizeof want - 1);
    assert_memory_equal(b.log, want, sizeof want - 1);
    uint64_t rej;
    assert_int_equal(reread(b.log, b.log_len, &rej), 2);
    assert_int_equal(rej, 0);
    cp_batch_free(&b);
}

static void r1_1_csv_record_spanning_lines_is_counted_at_its_first_line(void **state) {
    (void)state;
    /* R1.4: a record is counted at the line of its first byte.  Record 1
     * spans lines 2-3 (a quoted newline in ua); the record at line 4 has a
     * bad type (bad_type). */
    const char body[] = "ts,type,visitor,tag,ua\n"
                        "2024-03-01T12:00:00Z,click,v1,t1,\"two\nlines\"\n"
                        "2024-03-01T12:00:00Z,clack,v1,t1,x\n";
    cp_batch b;
    assert_int_equal(cp_batch_process(body, sizeof body - 1, CP_BODY_CSV, &b), CP_OK);
    assert_int_equal(b.accepted, 1);
    assert_string_equal(b.answer,
                        "{\"accepted\":1,\"rejected\":[{\"line\":4,\"reason\":\"bad_type\",\"field\":\"type\"}]}\n");
    assert_non_null(strstr(b.log, "\"ua\":\"two\\u000alines\""));
    cp_batch_free(&b);
}

/* ---- clicks (R1.2, R1.3, R5.1) ------------------------------------------------- */

static void r5_1_tag_charset_blocks_traversal_and_long_tags(void **state) {
    (void)state;
    char t64[65], t65[66];
    memset(t64, 'a', 64); t64[64] = 0;
    memset(t65, 'a', 65); t65[65] = 0;
    assert_true(cp_tag_is_valid("goog-1_x.v2", 11));
    assert_true(cp_tag_is_valid(t64, 64));
    assert_false(cp_tag_is_valid(t65, 65));
    assert_false(cp_tag_is_valid("", 0));
    assert_false(cp_tag_is_valid("..", 2));
    assert_false(cp_tag_is_valid(".", 1));
    assert_false(cp_tag_is_valid("../etc", 6));
    assert_false(cp_tag_is_valid("a/b", 3));
    assert_false(cp_tag_is_valid("a%2f", 4));
    assert_false(cp_tag_is_valid("a b", 3));
}

static void r1_2_click_line_reads_back_as_an_offsite_click(void **state) {
    (void)state;
    /* ua with a quote, a control byte, invalid UTF-8 and a NUL; the record
     * must still be one accepted click (R1.3: tag and visitor present) */
    const char ua[] = "Mozilla \"x\"\x01 \xff\xfe ok\0tail";
    cp_click c = {.ts_ms = INT64_C(1709294400123), .tag = "goog-1", .tag_len = 6,
                  .visitor = "0123456789abcdef0123456789abcdef", .click_id = "fedcba9876543210fedcba9876543210",
                  .ip = "127.0.0.1", .ua = ua, .ua_len = sizeof ua - 1, .referrer = NULL};
    char line[CP_CLICK_LINE_MAX];
    size_t n = cp_click_line(line, sizeof line, &c);
    assert_true(n > 0);
    assert_int_equal(line[n - 1], '\n');
    assert_non_null(strstr(line, "\"ts\":\"2024-03-01T12:00:00.123Z\""));
    assert_non_null(strstr(line, "\"ua\":\"Mozilla \\\"x\\\"\\u0001 \xef\xbf\xbd\xef\xbf\xbd oktail\""));
    assert_null(strstr(line, "referrer")); /* absent, not empty */
    uint64_t rej;
    assert_int_equal(reread(line, n, &rej), 1);
    assert_int_equal(rej, 0);
}

static void r1_2_long_header_is_cut_at_a_character_boundary(void **state) {
    (void)state;
    /* 600 bytes of "é" (2 bytes each): cut to 512 bytes = 256 characters */
    char ref[600];
    for (int i = 0; i < 600; i += 2) { ref[i] = (char)0xc3; ref[i + 1] = (char)0xa9; }
    char out[2048];
    size_t n = cp_json_escape(out, sizeof out, ref, sizeof ref, CP_HEADER_VALUE_MAX);
    assert_int_equal(n, 512);
    /* an odd limit cuts inside a character: it becomes U+FFFD, never a torn byte */
    n = cp_json_escape(out, sizeof out, ref, sizeof ref, 511);
    assert_int_equal(n, 510 + 3);
    assert_memory_equal(out + 510, "\xef\xbf\xbd", 3);
}

static void r5_1_landing_url_comes_from_the_registry_only(void **state) {
    (void)state;
    char url[256];
    const char *id = "0123456789abcdef0123456789abcdef";
    int k = cp_landing_url(url, sizeof url, NULL, "B000000001", "goog-1", id);
    assert_true(k > 0);
    assert_string_equal(url, "https://www.amazon.com/dp/B000000001?tag=goog-1&click_id=0123456789abcdef0123456789abcdef");
    /* an ASIN that is not alphanumeric never reaches the URL */
    k = cp_landing_url(url, sizeof url, "https://www.amazon.de/", "../evil?x=", "t", id);
    assert_true(k > 0);
    assert_string_equal(url, "https://www.amazon.de/?tag=t&click_id=0123456789abcdef0123456789abcdef");
    assert_int_equal(cp_landing_url(url, 10, NULL, "B000000001", "t", id), -1);
}

/* ---- the durable log ------------------------------------------------------------ */

typedef struct waiters {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, failed;
} waiters;

static void on_done(void *user, void *waiter, bool ok) {
    waiters *w = user;
    (void)waiter;
    pthread_mutex_lock(&w->mu);
    if (ok) w->done++; else w->failed++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static uint64_t count_dir(const char *dir, uint64_t *rejected) {
    char **p;
    size_t n;
    assert_int_equal(cp_segments_list(dir, &p, &n, NULL), CP_OK);
    cp_ingest_options o = {0};
    cp_run *run = cp_run_new(&o, NULL);
    for (size_t i = 0; i < n; i++) assert_int_equal(cp_run_load(run, p[i], NULL), CP_OK);
    uint64_t a = cp_run_accepted(run);
    if (rejected) *rejected = cp_run_rejected(run);
    cp_run_free(run);
    cp_segments_free(p, n);
    return a;
}

typedef struct appender { cp_log *log; int base, n; } appender;

static void *append_thread(void *arg) {
    appender *a = arg;
    for (int i = 0; i < a->n; i++) {
        char line[160];
        int k = snprintf(line, sizeof line,
                         "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"click\",\"tag\":\"t\",\"visitor\":\"v%d\"}\n",
                         a->base + i);
        assert_true(cp_log_append(a->log, line, (size_t)k, 1, NULL));
    }
    return NULL;
}

static void log_group_commit_rotates_compresses_and_loses_nothing(void **state) {
    (void)state;
    char *dir = mkdtemp_dir();
    waiters w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    cp_log_options o = {.dir = dir, .segment_bytes = 4096, .done = on_done, .user = &w};
    cp_log *log = cp_log_open(&o, NULL);
    assert_non_null(log);
    /* 4 threads x 500 appends of ~80 bytes: 160 kB, ~40 segments of 4 kB */
    pthread_t t[4];
    appender a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (appender){log, i * 1000, 500};
        pthread_create(&t[i], NULL, append_thread, &a[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    cp_log_close(log);
    assert_int_equal(w.done, 2000); /* every append acknowledged after its sync */
    assert_int_equal(w.failed, 0);
    uint64_t rej;
    assert_int_equal(count_dir(dir, &rej), 2000);
    assert_int_equal(rej, 0);
    assert_true(exists(dir, "events-00000001.jsonl.zst"));
    assert_false(exists(dir, "events-00000001.jsonl"));
    rm_rf(dir);
    free(dir);
}

static void log_recovery_cuts_torn_tail_and_removes_half_compressed(void **state) {
    (void)state;
    char *dir = mkdtemp_dir();
    const char ok1[] = "{\"ts\":\"2024-03-01T12:00:00Z\",\"type\":\"click\",\"tag\":\"t\",\"visitor\":\"a\"}\n";
    /* segment 3: two complete records and a torn third (kill -9 mid-write) */
    char torn[512];
    snprintf(torn, sizeof torn, "%s%s{\"ts\":\"2024-03-01T12:0", ok1, ok1);
    write_file(dir, "events-00000003.jsonl", torn);
    /* segment 2: compressed and renamed, but the crash came before unlink:
     * the plain copy must go, or its event would count twice */
    write_file(dir, "events-00000002.jsonl", ok1);
    write_file(dir, "events-00000002.jsonl.zst", ""); /* an empty zstd file reads as nothing */
    write_file(dir, "events-00000004.jsonl.zst.tmp", "garbage");
    write_file(dir, "notes.txt", "not ours");
    waiters w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    cp_log_options o = {.dir = dir, .done = on_done, .user = &w, .no_compress = true};
    cp_log *log = cp_log_open(&o, NULL);
    assert_non_null(log);
    assert_false(exists(dir, "events-00000002.jsonl"));
    assert_false(exists(dir, "events-00000004.jsonl.zst.tmp"));
    assert_true(exists(dir, "notes.txt"));
    /* a second collector on the same DIR is refused */
    cp_error err = {0};
    assert_null(cp_log_open(&o, &err));
    assert_int_equal(err.code, CP_EUSAGE);
    /* new events go to a new segment after the highest number seen (4 -> 5) */
    assert_true(cp_log_append(log, ok1, sizeof ok1 - 1, 1, NULL));
    cp_log_close(log);
    assert_true(exists(dir, "events-00000005.jsonl"));
    uint64_t rej;
    /* 2 kept from segment 3 + 1 new; the torn record was cut, not rejected */
    assert_int_equal(count_dir(dir, &rej), 3);
    assert_int_equal(rej, 0);
    rm_rf(dir);
    free(dir);
}

static void log_segments_list_prefers_complete_zst_and_sorts(void **state) {
    (void)state;
    char *dir = mkdtemp_dir();
    write_file(dir, "events-00000010.jsonl", "");
    write_file(dir, "events-00000002.jsonl.zst", "");
    write_file(dir, "events-00000002.jsonl", "");
    write_file(dir, "events-00000001.jsonl.zst.tmp", "");
    write_file(dir, "events-1.jsonl", "");
    char **p;
    size_t n;
    assert_int_equal(cp_segments_list(dir, &p, &n, NULL), CP_OK);
    assert_int_equal(n, 2);
    assert_non_null(strstr(p[0], "/events-00000002.jsonl.zst"));
    assert_non_null(strstr(p[1], "/events-00000010.jsonl"));
    cp_segments_free(p, n);
    assert_int_equal(cp_segments_list("/nonexistent/cp", &p, &n, NULL), CP_EIO);
    rm_rf(dir);
    free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(r1_4b_jsonl_body_answers_each_rejected_line),
        cmocka_unit_test(r1_4b_jsonl_body_with_bom_and_crlf_logs_clean_lines),
        cmocka_unit_test(r1_4b_empty_body_is_no_error),
        cmocka_unit_test(r1_1_body_of_another_format_than_declared_is_400),
        cmocka_unit_test(r1_1_csv_body_is_logged_as_json_lines_that_read_back),
        cmocka_unit_test(r1_1_csv_record_spanning_lines_is_counted_at_its_first_line),
        cmocka_unit_test(r5_1_tag_charset_blocks_traversal_and_long_tags),
        cmocka_unit_test(r1_2_click_line_reads_back_as_an_offsite_click),
        cmocka_unit_test(r1_2_long_header_is_cut_at_a_character_boundary),
        cmocka_unit_test(r5_1_landing_url_comes_from_the_registry_only),
        cmocka_unit_test(log_group_commit_rotates_compresses_and_loses_nothing),
        cmocka_unit_test(log_recovery_cuts_torn_tail_and_removes_half_compressed),
        cmocka_unit_test(log_segments_list_prefers_complete_zst_and_sorts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
