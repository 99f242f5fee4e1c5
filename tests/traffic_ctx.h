/* traffic_ctx.h -- a report context over CSV text for the tests of the
 * traffic stages (quality, sessions, business, diagnostics).  Include after
 * testutil.h and the clickpath headers. */
#ifndef CLICKPATH_TRAFFIC_CTX_H
#define CLICKPATH_TRAFFIC_CTX_H

#include <dirent.h>
#include <sys/stat.h>

#include "clickpath/events.h"
#include "clickpath/report.h"
#include "report/table.h"
#include "util/values.h"

#define MS_H INT64_C(3600000)

typedef struct tctx {
    cp_run *run;
    cp_tz *tz;
    cp_report_options opt;
    cp_report_ctx ctx;
    char out[64];
} tctx;

/* SPEC defaults (R3.2, R4.2), set here so the tests state what they rely on. */
static inline void tctx_defaults(tctx *t, const char *tz) {
    memset(t, 0, sizeof *t);
    t->tz = cp_tz_open(tz);
    assert_non_null(t->tz);
    t->opt.tz = t->tz;
    t->opt.format = CP_FORMAT_CSV;
    t->opt.session_rule = CP_SESSION_FIXED;
    t->opt.session_ms = 24 * MS_H;
    t->opt.flood_clicks = 10;
    t->opt.flood_window_ms = MS_H;
    t->opt.dedup_window_ms = 72 * MS_H;
    t->opt.ads_window_ms = 7 * 24 * MS_H;
    t->opt.offsite_window_ms = 14 * 24 * MS_H;
    snprintf(t->out, sizeof t->out, "/tmp/cp_traffic_XXXXXX");
    assert_non_null(mkdtemp(t->out));
    t->opt.out_dir = t->out;
}

/* A context over t->run (cp_report_ctx_init: the stages index their
 * columns by the ranks of the non-impression rows, report.h). */
static inline void tctx_init(tctx *t) {
    cp_error err = {0};
    assert_int_equal(cp_report_ctx_init(&t->ctx, t->run, &t->opt, &err), CP_OK);
}

/* Loads the text and runs the quality and sessions stages. */
static inline void tctx_build(tctx *t, const char *text, const cp_ingest_options *io) {
    t->run = cp_test_run_text(text, io);
    tctx_init(t);
    cp_error err = {0};
    assert_int_equal(cp_quality_build(&t->ctx, &err), CP_OK);
    assert_int_equal(cp_sessions_build(&t->ctx, &err), CP_OK);
}

/* Frees the context (every stage's columns) and the run. */
static inline void tctx_free(tctx *t) {
    cp_report_ctx_free(&t->ctx);
    cp_run_free(t->run);
    cp_tz_free(t->tz);
    DIR *d = opendir(t->out);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", t->out, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(t->out);
}

/* Row of the event at input line `line` (1 input file). */
static inline uint32_t tctx_row(const tctx *t, uint32_t line) {
    for (size_t i = 0; i < t->ctx.ev->n; i++)
        if (t->ctx.ev->line[i] == line) return (uint32_t)i;
    fail_msg("no event at line %u", line);
    return CP_NONE;
}

/* The index of that event's entry in the per-sub-row columns (report.h);
 * it must not be an impression. */
static inline uint32_t tctx_sub(const tctx *t, uint32_t line) {
    uint32_t r = tctx_row(t, line);
    assert_int_not_equal(t->ctx.ev->type[r], CP_IMPRESSION);
    return cp_report_rank(&t->ctx, r);
}

static inline int tctx_status(const tctx *t, uint32_t line) {
    return t->ctx.status[tctx_row(t, line)];
}

/* The whole text of OUT/name into a static-lifetime heap buffer (caller frees). */
static inline char *tctx_read(const tctx *t, const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", t->out, name);
    return cp_test_read_file(p, NULL);
}

/* True when the summary JSON, with blanks and newlines removed, holds
 * `needle` (write it without blanks: "\"clicks\":3"). */
static inline int tctx_json_has(cp_summary *sum, const char *needle) {
    const char *j = cp_summary_json(sum);
    size_t n = strlen(j);
    char *c = malloc(n + 1);
    assert_non_null(c);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (j[i] != ' ' && j[i] != '\n') c[k++] = j[i];
    c[k] = '\0';
    int hit = strstr(c, needle) != NULL;
    if (!hit) print_message("summary: %s\n", c);
    free(c);
    return hit;
}

#endif
