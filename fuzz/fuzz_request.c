/* fuzz_request.c -- the collector's request parsers (issue 9) on arbitrary
 * bytes: POST /events bodies (cp_batch_process, JSON Lines or CSV by the
 * first byte) and the redirect's tag, cookie and header handling.
 *
 * Invariants checked (abort on failure):
 *   - a 200 answer's accepted count equals the lines in the log, and the
 *     log reads back through the ingestion code with every line accepted
 *     and none rejected (the log never holds what a reader would reject);
 *   - the click record built from any header bytes is one line that reads
 *     back as exactly one accepted click. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static uint64_t count_lines(const char *p, size_t n) {
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++) k += p[i] == '\n';
    return k;
}

static void reread(const char *p, size_t n, uint64_t want) {
    cp_ingest_options o = {0};
    o.threads = 1;
    cp_run *run = cp_run_new(&o, NULL);
    if (!run) return;
    if (cp_run_load_buffer(run, "log", p, n, NULL) != CP_OK) abort();
    if (cp_run_accepted(run) != want || cp_run_rejected(run) != 0) abort();
    cp_run_free(run);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;

    if (mode & 0x80) {
        /* redirect: tag | user agent | referrer, split by the first two 0xff */
        const char *a = memchr(p, 0xff, n);
        size_t tag_len = a ? (size_t)(a - p) : n;
        const char *ua = a ? a + 1 : "";
        size_t rest = a ? n - tag_len - 1 : 0;
        const char *b = memchr(ua, 0xff, rest);
        size_t ua_len = b ? (size_t)(b - ua) : rest;
        const char *ref = b ? b + 1 : "";
        size_t ref_len = b ? rest - ua_len - 1 : 0;
        if (!cp_tag_is_valid(p, tag_len)) return 0;
        (void)cp_hex128_is_valid(ua, ua_len);
        cp_click c = {.ts_ms = INT64_C(1709294400000), .tag = p, .tag_len = tag_len,
                      .visitor = "0123456789abcdef0123456789abcdef",
                      .click_id = "fedcba9876543210fedcba9876543210", .ip = "::1",
                      .ua = ua, .ua_len = ua_len, .referrer = ref, .referrer_len = ref_len};
        char line[CP_CLICK_LINE_MAX];
        size_t len = cp_click_line(line, sizeof line, &c);
        if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1)) abort();
        reread(line, len, 1);
        return 0;
    }
    cp_batch b;
    cp_body_format fmt = (mode & 1) ? CP_BODY_CSV : CP_BODY_JSONL;
    if (cp_batch_process(p, n, fmt, &b) == CP_OK && b.http_status == 200) {
        if (b.answer == NULL) abort();
        if (count_lines(b.log, b.log_len) != b.accepted) abort();
        if (b.log_len) reread(b.log, b.log_len, b.accepted);
    }
    cp_batch_free(&b);
    return 0;
}
